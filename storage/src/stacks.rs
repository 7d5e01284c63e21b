//! The `stack` table: a burst or RAW+JPEG pair shown as one asset (its primary).

use sqlx::PgPool;
use uuid::Uuid;

use crate::Result;

#[derive(Debug, Clone, Copy)]
pub struct Stack {
    pub id: Uuid,
    pub owner_id: Uuid,
    pub primary_asset_id: Uuid,
}

/// Stacks `assets` (the first is the primary) for `owner`. Stacks whose primary is among them
/// are merged in: their other live assets join, and they go.
pub async fn create(pool: &PgPool, owner: Uuid, assets: &[Uuid]) -> Result<Uuid> {
    let mut tx = pool.begin().await?;
    let merged: Vec<Uuid> = sqlx::query_scalar!(
        r#"SELECT id FROM stack WHERE "ownerId" = $1 AND "primaryAssetId" = ANY($2)"#,
        owner,
        assets
    )
    .fetch_all(&mut *tx)
    .await?;
    let joining: Vec<Uuid> = sqlx::query_scalar!(
        r#"SELECT id FROM asset WHERE "stackId" = ANY($1) AND "deletedAt" IS NULL"#,
        &merged
    )
    .fetch_all(&mut *tx)
    .await?;
    sqlx::query!(r#"DELETE FROM stack WHERE id = ANY($1)"#, &merged)
        .execute(&mut *tx)
        .await?;
    let id = sqlx::query_scalar!(
        r#"INSERT INTO stack ("ownerId", "primaryAssetId") VALUES ($1, $2) RETURNING id"#,
        owner,
        assets[0]
    )
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query!(
        r#"UPDATE asset SET "stackId" = $1 WHERE id = ANY($2) OR id = ANY($3)"#,
        id,
        assets,
        &joining
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn get(pool: &PgPool, id: Uuid) -> Result<Option<Stack>> {
    Ok(sqlx::query_as!(
        Stack,
        r#"SELECT id, "ownerId" AS owner_id, "primaryAssetId" AS primary_asset_id FROM stack WHERE id = $1"#,
        id
    )
    .fetch_optional(pool)
    .await?)
}

/// `owner`'s stacks, or the one with this primary asset.
pub async fn list(pool: &PgPool, owner: Uuid, primary: Option<Uuid>) -> Result<Vec<Stack>> {
    Ok(sqlx::query_as!(
        Stack,
        r#"SELECT id, "ownerId" AS owner_id, "primaryAssetId" AS primary_asset_id FROM stack
           WHERE "ownerId" = $1 AND ($2::uuid IS NULL OR "primaryAssetId" = $2) ORDER BY "createdAt""#,
        owner,
        primary
    )
    .fetch_all(pool)
    .await?)
}

/// Of `ids`, the stacks `owner` owns.
pub async fn owned(pool: &PgPool, owner: Uuid, ids: &[Uuid]) -> Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT id FROM stack WHERE "ownerId" = $1 AND id = ANY($2)"#,
        owner,
        ids
    )
    .fetch_all(pool)
    .await?)
}

/// The stack's shown assets (live, in the timeline or archive), its primary first.
pub async fn assets(pool: &PgPool, stack: &Stack) -> Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT a.id FROM asset a JOIN asset_exif e ON e."assetId" = a.id
           WHERE a."stackId" = $1 AND a."deletedAt" IS NULL AND a.visibility IN ('timeline', 'archive')
           ORDER BY a.id = $2 DESC, a."fileCreatedAt""#,
        stack.id,
        stack.primary_asset_id
    )
    .fetch_all(pool)
    .await?)
}

pub async fn set_primary(pool: &PgPool, id: Uuid, asset: Uuid) -> Result<()> {
    sqlx::query!(r#"UPDATE stack SET "primaryAssetId" = $2 WHERE id = $1"#, id, asset)
        .execute(pool)
        .await?;
    Ok(())
}

/// Removes stacks; their assets become single again.
pub async fn delete(pool: &PgPool, ids: &[Uuid]) -> Result<()> {
    sqlx::query!(r#"DELETE FROM stack WHERE id = ANY($1)"#, ids)
        .execute(pool)
        .await?;
    Ok(())
}

/// Takes `asset` out of its stack.
pub async fn remove_asset(pool: &PgPool, asset: Uuid) -> Result<()> {
    sqlx::query!(r#"UPDATE asset SET "stackId" = NULL WHERE id = $1"#, asset)
        .execute(pool)
        .await?;
    Ok(())
}

/// The stack an asset is in.
pub async fn of_asset(pool: &PgPool, asset: Uuid) -> Result<Option<Uuid>> {
    Ok(
        sqlx::query_scalar!(r#"SELECT "stackId" FROM asset WHERE id = $1"#, asset)
            .fetch_optional(pool)
            .await?
            .flatten(),
    )
}
