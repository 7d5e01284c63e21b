//! The `api_key` table. Secrets are stored only as SHA-256 hashes.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::Result;

#[derive(Debug, Clone)]
pub struct ApiKey {
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    pub permissions: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

async fn find(pool: &PgPool, user_id: Option<Uuid>, id: Option<Uuid>, key_hash: Option<&[u8]>) -> Result<Vec<ApiKey>> {
    Ok(sqlx::query_as!(
        ApiKey,
        r#"SELECT id, "userId" AS user_id, name, permissions, "createdAt" AS created_at, "updatedAt" AS updated_at
           FROM api_key
           WHERE ($1::uuid IS NULL OR "userId" = $1)
             AND ($2::uuid IS NULL OR id = $2)
             AND ($3::bytea IS NULL OR key = $3)
           ORDER BY "createdAt" DESC"#,
        user_id,
        id,
        key_hash
    )
    .fetch_all(pool)
    .await?)
}

pub async fn list_by_user(pool: &PgPool, user_id: Uuid) -> Result<Vec<ApiKey>> {
    find(pool, Some(user_id), None, None).await
}

pub async fn get(pool: &PgPool, user_id: Uuid, id: Uuid) -> Result<Option<ApiKey>> {
    Ok(find(pool, Some(user_id), Some(id), None).await?.into_iter().next())
}

pub async fn find_by_key(pool: &PgPool, key_hash: &[u8]) -> Result<Option<ApiKey>> {
    Ok(find(pool, None, None, Some(key_hash)).await?.into_iter().next())
}

pub async fn create(
    pool: &PgPool,
    user_id: Uuid,
    name: &str,
    key_hash: &[u8],
    permissions: &[String],
) -> Result<ApiKey> {
    let id = sqlx::query_scalar!(
        r#"INSERT INTO api_key ("userId", name, key, permissions) VALUES ($1, $2, $3, $4) RETURNING id"#,
        user_id,
        name,
        key_hash,
        permissions
    )
    .fetch_one(pool)
    .await?;
    Ok(find(pool, None, Some(id), None).await?.remove(0))
}

/// Changes name and/or permissions; `None` keeps the current value.
pub async fn update(
    pool: &PgPool,
    user_id: Uuid,
    id: Uuid,
    name: Option<&str>,
    permissions: Option<&[String]>,
) -> Result<Option<ApiKey>> {
    sqlx::query!(
        r#"UPDATE api_key SET name = COALESCE($3, name), permissions = COALESCE($4, permissions)
           WHERE id = $1 AND "userId" = $2"#,
        id,
        user_id,
        name,
        permissions
    )
    .execute(pool)
    .await?;
    get(pool, user_id, id).await
}

/// Replaces the secret of a key, keeping its id, name and permissions.
pub async fn rotate(pool: &PgPool, user_id: Uuid, id: Uuid, key_hash: &[u8]) -> Result<Option<ApiKey>> {
    sqlx::query!(
        r#"UPDATE api_key SET key = $3 WHERE id = $1 AND "userId" = $2"#,
        id,
        user_id,
        key_hash
    )
    .execute(pool)
    .await?;
    get(pool, user_id, id).await
}

/// Returns whether a key was deleted.
pub async fn delete(pool: &PgPool, user_id: Uuid, id: Uuid) -> Result<bool> {
    let result = sqlx::query!(r#"DELETE FROM api_key WHERE id = $1 AND "userId" = $2"#, id, user_id)
        .execute(pool)
        .await?;
    Ok(result.rows_affected() > 0)
}
