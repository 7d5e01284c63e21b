//! The `user` and `user_metadata` tables.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use crate::{Result, StorageError};

#[derive(Debug, Clone, Default)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    /// bcrypt hash; empty for users that only log in through OAuth.
    pub password: String,
    pub pin_code: Option<String>,
    pub is_admin: bool,
    pub should_change_password: bool,
    pub avatar_color: Option<String>,
    pub profile_image_path: String,
    pub profile_changed_at: DateTime<Utc>,
    pub oauth_id: String,
    pub storage_label: Option<String>,
    pub quota_size_in_bytes: Option<i64>,
    pub quota_usage_in_bytes: i64,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

/// Which users a lookup considers.
#[derive(Debug, Clone, Copy, Default)]
pub struct UserFilter<'a> {
    pub id: Option<Uuid>,
    pub email: Option<&'a str>,
    pub storage_label: Option<&'a str>,
    pub admin_only: bool,
    pub with_deleted: bool,
    /// The user of the session with this token hash.
    pub session_token: Option<&'a [u8]>,
    /// The user of the API key with this hash.
    pub api_key: Option<&'a [u8]>,
    /// The user linked to this OpenID subject (`oauthId`).
    pub oauth_id: Option<&'a str>,
}

#[derive(Debug, Clone, Default)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub is_admin: bool,
    pub should_change_password: bool,
    pub storage_label: Option<String>,
    pub quota_size_in_bytes: Option<i64>,
    pub avatar_color: Option<String>,
    /// The OpenID subject the account signs in as; empty for none.
    pub oauth_id: String,
}

/// A partial update: `None` leaves the column alone; `Some(None)` on a nullable column clears it.
#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    pub email: Option<String>,
    pub name: Option<String>,
    pub password_hash: Option<String>,
    pub pin_code_hash: Option<Option<String>>,
    pub is_admin: Option<bool>,
    pub should_change_password: Option<bool>,
    pub avatar_color: Option<Option<String>>,
    pub storage_label: Option<Option<String>>,
    pub quota_size_in_bytes: Option<Option<i64>>,
    pub profile_image_path: Option<String>,
    /// The OpenID subject; `Some("")` unlinks.
    pub oauth_id: Option<String>,
}

pub async fn find(pool: &PgPool, filter: UserFilter<'_>) -> Result<Vec<User>> {
    let rows = sqlx::query_as!(
        User,
        r#"SELECT id, email, name, password, "pinCode" AS pin_code, "isAdmin" AS is_admin,
                  "shouldChangePassword" AS should_change_password, "avatarColor" AS avatar_color,
                  "profileImagePath" AS profile_image_path, "profileChangedAt" AS profile_changed_at,
                  "oauthId" AS oauth_id, "storageLabel" AS storage_label,
                  "quotaSizeInBytes" AS quota_size_in_bytes, "quotaUsageInBytes" AS quota_usage_in_bytes,
                  status, "createdAt" AS created_at, "updatedAt" AS updated_at, "deletedAt" AS deleted_at
           FROM "user"
           WHERE ($1::uuid IS NULL OR id = $1)
             AND ($2::text IS NULL OR email = $2)
             AND ($3::text IS NULL OR "storageLabel" = $3)
             AND (NOT $4 OR "isAdmin")
             AND ($5 OR "deletedAt" IS NULL)
             AND ($6::bytea IS NULL OR id = (SELECT s."userId" FROM session s WHERE s.token = $6))
             AND ($7::bytea IS NULL OR id = (SELECT k."userId" FROM api_key k WHERE k.key = $7))
             AND ($8::text IS NULL OR "oauthId" = $8)
           ORDER BY "createdAt""#,
        filter.id,
        filter.email,
        filter.storage_label,
        filter.admin_only,
        filter.with_deleted,
        filter.session_token,
        filter.api_key,
        filter.oauth_id,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows)
}

pub async fn find_one(pool: &PgPool, filter: UserFilter<'_>) -> Result<Option<User>> {
    Ok(find(pool, filter).await?.into_iter().next())
}

pub async fn get(pool: &PgPool, id: Uuid, with_deleted: bool) -> Result<Option<User>> {
    find_one(
        pool,
        UserFilter {
            id: Some(id),
            with_deleted,
            ..Default::default()
        },
    )
    .await
}

pub async fn get_by_email(pool: &PgPool, email: &str, with_deleted: bool) -> Result<Option<User>> {
    find_one(
        pool,
        UserFilter {
            email: Some(email),
            with_deleted,
            ..Default::default()
        },
    )
    .await
}

/// The user linked to the OpenID subject `oauth_id` (never matches the empty "not linked").
pub async fn get_by_oauth_id(pool: &PgPool, oauth_id: &str) -> Result<Option<User>> {
    if oauth_id.is_empty() {
        return Ok(None);
    }
    find_one(
        pool,
        UserFilter {
            oauth_id: Some(oauth_id),
            ..Default::default()
        },
    )
    .await
}

/// Unlinks every account from its OpenID subject.
pub async fn unlink_all_oauth(pool: &PgPool) -> Result<()> {
    sqlx::query!(r#"UPDATE "user" SET "oauthId" = '' WHERE "oauthId" <> ''"#)
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn get_admin(pool: &PgPool) -> Result<Option<User>> {
    find_one(
        pool,
        UserFilter {
            admin_only: true,
            ..Default::default()
        },
    )
    .await
}

pub async fn create(pool: &PgPool, user: &NewUser) -> Result<User> {
    let id = sqlx::query_scalar!(
        r#"INSERT INTO "user" (email, name, password, "isAdmin", "shouldChangePassword", "storageLabel",
                               "quotaSizeInBytes", "avatarColor", "oauthId")
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           RETURNING id"#,
        user.email,
        user.name,
        user.password_hash,
        user.is_admin,
        user.should_change_password,
        user.storage_label,
        user.quota_size_in_bytes,
        user.avatar_color,
        user.oauth_id,
    )
    .fetch_one(pool)
    .await?;
    get(pool, id, true)
        .await?
        .ok_or(StorageError::NotFound("User not found"))
}

pub async fn update(pool: &PgPool, id: Uuid, changes: &UserChanges) -> Result<User> {
    sqlx::query!(
        r#"UPDATE "user" SET
             email = COALESCE($2, email),
             name = COALESCE($3, name),
             password = COALESCE($4, password),
             "pinCode" = CASE WHEN $5 THEN $6 ELSE "pinCode" END,
             "isAdmin" = COALESCE($7, "isAdmin"),
             "shouldChangePassword" = COALESCE($8, "shouldChangePassword"),
             "avatarColor" = CASE WHEN $9 THEN $10 ELSE "avatarColor" END,
             "storageLabel" = CASE WHEN $11 THEN $12 ELSE "storageLabel" END,
             "quotaSizeInBytes" = CASE WHEN $13 THEN $14 ELSE "quotaSizeInBytes" END,
             "profileImagePath" = COALESCE($15, "profileImagePath"),
             "profileChangedAt" = CASE WHEN $15::text IS NULL THEN "profileChangedAt" ELSE now() END,
             "oauthId" = COALESCE($16, "oauthId")
           WHERE id = $1"#,
        id,
        changes.email,
        changes.name,
        changes.password_hash,
        changes.pin_code_hash.is_some(),
        changes.pin_code_hash.clone().flatten(),
        changes.is_admin,
        changes.should_change_password,
        changes.avatar_color.is_some(),
        changes.avatar_color.clone().flatten(),
        changes.storage_label.is_some(),
        changes.storage_label.clone().flatten(),
        changes.quota_size_in_bytes.is_some(),
        changes.quota_size_in_bytes.flatten(),
        changes.profile_image_path,
        changes.oauth_id,
    )
    .execute(pool)
    .await?;
    get(pool, id, true)
        .await?
        .ok_or(StorageError::NotFound("User not found"))
}

/// Marks a user deleted; their data stays until the deletion job removes it.
pub async fn soft_delete(pool: &PgPool, id: Uuid, status: &str) -> Result<()> {
    sqlx::query!(
        r#"UPDATE "user" SET "deletedAt" = now(), status = $2 WHERE id = $1"#,
        id,
        status
    )
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn restore(pool: &PgPool, id: Uuid) -> Result<()> {
    sqlx::query!(
        r#"UPDATE "user" SET "deletedAt" = NULL, status = 'active' WHERE id = $1"#,
        id
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Removes the row for good (sessions, keys and metadata go with it by cascade).
pub async fn hard_delete(pool: &PgPool, id: Uuid) -> Result<()> {
    sqlx::query!(r#"DELETE FROM "user" WHERE id = $1"#, id)
        .execute(pool)
        .await?;
    Ok(())
}

/// Users soft-deleted before `cutoff`, oldest first: the ones the deletion job may remove.
pub async fn deleted_before(pool: &PgPool, cutoff: DateTime<Utc>) -> Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT id FROM "user" WHERE "deletedAt" IS NOT NULL AND "deletedAt" < $1 ORDER BY "deletedAt""#,
        cutoff
    )
    .fetch_all(pool)
    .await?)
}

pub async fn metadata(pool: &PgPool, user_id: Uuid) -> Result<Vec<(String, Value)>> {
    let rows = sqlx::query!(r#"SELECT key, value FROM user_metadata WHERE "userId" = $1"#, user_id)
        .fetch_all(pool)
        .await?;
    Ok(rows.into_iter().map(|row| (row.key, row.value)).collect())
}

pub async fn metadata_value(pool: &PgPool, user_id: Uuid, key: &str) -> Result<Option<Value>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT value FROM user_metadata WHERE "userId" = $1 AND key = $2"#,
        user_id,
        key
    )
    .fetch_optional(pool)
    .await?)
}

/// The `key` entry of each of `user_ids` that has one, in one query.
pub async fn metadata_values(pool: &PgPool, user_ids: &[Uuid], key: &str) -> Result<Vec<(Uuid, Value)>> {
    let rows = sqlx::query!(
        r#"SELECT "userId" AS user_id, value FROM user_metadata WHERE "userId" = ANY($1) AND key = $2"#,
        user_ids,
        key
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|row| (row.user_id, row.value)).collect())
}

pub async fn set_metadata(pool: &PgPool, user_id: Uuid, key: &str, value: &Value) -> Result<()> {
    sqlx::query!(
        r#"INSERT INTO user_metadata ("userId", key, value) VALUES ($1, $2, $3)
           ON CONFLICT ("userId", key) DO UPDATE SET value = EXCLUDED.value"#,
        user_id,
        key,
        value
    )
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn delete_metadata(pool: &PgPool, user_id: Uuid, key: &str) -> Result<()> {
    sqlx::query!(
        r#"DELETE FROM user_metadata WHERE "userId" = $1 AND key = $2"#,
        user_id,
        key
    )
    .execute(pool)
    .await?;
    Ok(())
}
