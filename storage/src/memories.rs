//! The `memory` and `memory_asset` tables: "on this day" collections.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use crate::Result;

#[derive(Debug, Clone)]
pub struct Memory {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub owner_id: Uuid,
    pub memory_type: String,
    pub data: Value,
    pub is_saved: bool,
    pub memory_at: DateTime<Utc>,
    pub seen_at: Option<DateTime<Utc>>,
    pub show_at: Option<DateTime<Utc>>,
    pub hide_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default)]
pub struct MemoryFilter {
    /// Shown on this day (between `showAt` and `hideAt`).
    pub shown_at: Option<DateTime<Utc>>,
    pub trashed: bool,
    pub is_saved: Option<bool>,
    pub memory_type: Option<String>,
    /// `asc`, `desc` or `random`.
    pub order: String,
    pub limit: Option<i64>,
}

pub async fn list(pool: &PgPool, owner: Uuid, filter: &MemoryFilter) -> Result<Vec<Memory>> {
    Ok(sqlx::query_as!(
        Memory,
        r#"SELECT id, "createdAt" AS created_at, "updatedAt" AS updated_at, "deletedAt" AS deleted_at, "ownerId" AS owner_id,
                  type AS memory_type, data, "isSaved" AS is_saved, "memoryAt" AS memory_at, "seenAt" AS seen_at,
                  "showAt" AS show_at, "hideAt" AS hide_at
           FROM memory
           WHERE "ownerId" = $1
             AND ($2::timestamptz IS NULL OR (("showAt" IS NULL OR "showAt" <= $2) AND ("hideAt" IS NULL OR "hideAt" >= $2)))
             AND (CASE WHEN $3 THEN "deletedAt" IS NOT NULL ELSE "deletedAt" IS NULL END)
             AND ($4::bool IS NULL OR "isSaved" = $4) AND ($5::text IS NULL OR type = $5)
           ORDER BY CASE WHEN $6 = 'random' THEN random() END, CASE WHEN $6 = 'asc' THEN "memoryAt" END ASC, "memoryAt" DESC
           LIMIT $7"#,
        owner,
        filter.shown_at,
        filter.trashed,
        filter.is_saved,
        filter.memory_type,
        filter.order,
        filter.limit
    )
    .fetch_all(pool)
    .await?)
}

pub async fn get(pool: &PgPool, id: Uuid) -> Result<Option<Memory>> {
    Ok(sqlx::query_as!(
        Memory,
        r#"SELECT id, "createdAt" AS created_at, "updatedAt" AS updated_at, "deletedAt" AS deleted_at, "ownerId" AS owner_id,
                  type AS memory_type, data, "isSaved" AS is_saved, "memoryAt" AS memory_at, "seenAt" AS seen_at,
                  "showAt" AS show_at, "hideAt" AS hide_at
           FROM memory WHERE id = $1"#,
        id
    )
    .fetch_optional(pool)
    .await?)
}

/// Of `ids`, `owner`'s live memories.
pub async fn owned(pool: &PgPool, owner: Uuid, ids: &[Uuid]) -> Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT id FROM memory WHERE "ownerId" = $1 AND "deletedAt" IS NULL AND id = ANY($2)"#,
        owner,
        ids
    )
    .fetch_all(pool)
    .await?)
}

#[derive(Debug, Clone)]
pub struct NewMemory {
    pub owner_id: Uuid,
    pub memory_type: String,
    pub data: Value,
    pub memory_at: DateTime<Utc>,
    pub is_saved: bool,
    pub seen_at: Option<DateTime<Utc>>,
    pub show_at: Option<DateTime<Utc>>,
    pub hide_at: Option<DateTime<Utc>>,
    pub asset_ids: Vec<Uuid>,
}

pub async fn create(pool: &PgPool, memory: &NewMemory) -> Result<Uuid> {
    let mut tx = pool.begin().await?;
    let id = sqlx::query_scalar!(
        r#"INSERT INTO memory ("ownerId", type, data, "memoryAt", "isSaved", "seenAt", "showAt", "hideAt")
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id"#,
        memory.owner_id,
        memory.memory_type,
        memory.data,
        memory.memory_at,
        memory.is_saved,
        memory.seen_at,
        memory.show_at,
        memory.hide_at
    )
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query!(r#"INSERT INTO memory_asset ("memoriesId", "assetId") SELECT $1, a FROM unnest($2::uuid[]) a ON CONFLICT DO NOTHING"#, id, &memory.asset_ids)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn update(
    pool: &PgPool,
    id: Uuid,
    is_saved: Option<bool>,
    seen_at: Option<DateTime<Utc>>,
    memory_at: Option<DateTime<Utc>>,
) -> Result<()> {
    sqlx::query!(
        r#"UPDATE memory SET "isSaved" = coalesce($2, "isSaved"), "seenAt" = coalesce($3, "seenAt"), "memoryAt" = coalesce($4, "memoryAt") WHERE id = $1"#,
        id,
        is_saved,
        seen_at,
        memory_at
    )
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn delete(pool: &PgPool, id: Uuid) -> Result<()> {
    sqlx::query!(r#"DELETE FROM memory WHERE id = $1"#, id)
        .execute(pool)
        .await?;
    Ok(())
}

/// The memory's shown assets (live, in the timeline), oldest first.
pub async fn asset_ids(pool: &PgPool, id: Uuid) -> Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT a.id FROM memory_asset m JOIN asset a ON a.id = m."assetId"
           WHERE m."memoriesId" = $1 AND a.visibility = 'timeline' AND a."deletedAt" IS NULL ORDER BY a."fileCreatedAt""#,
        id
    )
    .fetch_all(pool)
    .await?)
}

/// Of `assets`, those in the memory.
pub async fn contains(pool: &PgPool, id: Uuid, assets: &[Uuid]) -> Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT "assetId" FROM memory_asset WHERE "memoriesId" = $1 AND "assetId" = ANY($2)"#,
        id,
        assets
    )
    .fetch_all(pool)
    .await?)
}

/// Adds and removes assets, and marks the memory changed when anything did.
pub async fn change_assets(pool: &PgPool, id: Uuid, add: &[Uuid], remove: &[Uuid]) -> Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query!(r#"INSERT INTO memory_asset ("memoriesId", "assetId") SELECT $1, a FROM unnest($2::uuid[]) a ON CONFLICT DO NOTHING"#, id, add).execute(&mut *tx).await?;
    sqlx::query!(
        r#"DELETE FROM memory_asset WHERE "memoriesId" = $1 AND "assetId" = ANY($2)"#,
        id,
        remove
    )
    .execute(&mut *tx)
    .await?;
    if !add.is_empty() || !remove.is_empty() {
        sqlx::query!(r#"UPDATE memory SET "updatedAt" = now() WHERE id = $1"#, id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// `owner`'s timeline photos and videos (with a preview) taken on this month and day in
/// earlier years than `before_year`: (year, up to 20 assets), newest year first.
pub async fn on_this_day(
    pool: &PgPool,
    owner: Uuid,
    month: i32,
    day: i32,
    before_year: i32,
) -> Result<Vec<(i32, Vec<Uuid>)>> {
    let rows = sqlx::query!(
        r#"SELECT year AS "year!", ids AS "ids!" FROM (
             SELECT extract(year FROM a."localDateTime" AT TIME ZONE 'UTC')::int AS year,
                    (array_agg(a.id ORDER BY a."localDateTime"))[1:20] AS ids
             FROM asset a
             WHERE a."ownerId" = $1 AND a.visibility = 'timeline' AND a."deletedAt" IS NULL
               AND extract(month FROM a."localDateTime" AT TIME ZONE 'UTC') = $2
               AND extract(day FROM a."localDateTime" AT TIME ZONE 'UTC') = $3
               AND extract(year FROM a."localDateTime" AT TIME ZONE 'UTC') < $4
               AND EXISTS (SELECT 1 FROM asset_file f WHERE f."assetId" = a.id AND f.type = 'preview')
             GROUP BY 1
           ) years ORDER BY year DESC"#,
        owner,
        month as f64,
        day as f64,
        before_year as f64
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| (r.year, r.ids)).collect())
}

/// Unsaved memories older than 30 days go, and assets no longer in the timeline leave memories.
pub async fn cleanup(pool: &PgPool) -> Result<u64> {
    sqlx::query!(r#"DELETE FROM memory_asset m USING asset a WHERE a.id = m."assetId" AND a.visibility <> 'timeline'"#)
        .execute(pool)
        .await?;
    Ok(
        sqlx::query!(r#"DELETE FROM memory WHERE "createdAt" < now() - interval '30 days' AND NOT "isSaved""#)
            .execute(pool)
            .await?
            .rows_affected(),
    )
}

/// Every user not deleted (the nightly job makes memories for each).
pub async fn active_users(pool: &PgPool) -> Result<Vec<Uuid>> {
    Ok(
        sqlx::query_scalar!(r#"SELECT id FROM "user" WHERE "deletedAt" IS NULL"#)
            .fetch_all(pool)
            .await?,
    )
}
