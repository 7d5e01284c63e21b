//! The `asset_metadata` key-value rows of an asset.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::Result;

/// A row of `asset_metadata`.
#[derive(Debug, Clone)]
pub struct MetadataEntry {
    pub asset_id: Uuid,
    pub key: String,
    pub value: serde_json::Value,
    pub updated_at: DateTime<Utc>,
}

pub async fn metadata(pool: &PgPool, asset_id: Uuid, key: Option<&str>) -> Result<Vec<MetadataEntry>> {
    Ok(sqlx::query_as!(
        MetadataEntry,
        r#"SELECT "assetId" AS asset_id, key, value, "updatedAt" AS updated_at FROM asset_metadata
           WHERE "assetId" = $1 AND ($2::text IS NULL OR key = $2)"#,
        asset_id,
        key
    )
    .fetch_all(pool)
    .await?)
}

/// Upserts `(assetId, key, value)` rows in one statement, answering them in the given order.
pub async fn upsert_metadata(pool: &PgPool, items: &[(Uuid, String, serde_json::Value)]) -> Result<Vec<MetadataEntry>> {
    let asset_ids: Vec<Uuid> = items.iter().map(|(id, _, _)| *id).collect();
    let keys: Vec<String> = items.iter().map(|(_, key, _)| key.clone()).collect();
    let values: Vec<serde_json::Value> = items.iter().map(|(_, _, value)| value.clone()).collect();
    let mut rows = sqlx::query_as!(
        MetadataEntry,
        r#"INSERT INTO asset_metadata ("assetId", key, value)
           SELECT * FROM unnest($1::uuid[], $2::text[], $3::jsonb[])
           ON CONFLICT ("assetId", key) DO UPDATE SET value = EXCLUDED.value
           RETURNING "assetId" AS asset_id, key, value, "updatedAt" AS updated_at"#,
        &asset_ids,
        &keys,
        &values,
    )
    .fetch_all(pool)
    .await?;
    rows.sort_by_key(|row| {
        items
            .iter()
            .position(|(id, key, _)| *id == row.asset_id && *key == row.key)
    });
    Ok(rows)
}

pub async fn delete_metadata(pool: &PgPool, items: &[(Uuid, String)]) -> Result<()> {
    let asset_ids: Vec<Uuid> = items.iter().map(|(id, _)| *id).collect();
    let keys: Vec<String> = items.iter().map(|(_, key)| key.clone()).collect();
    sqlx::query!(
        r#"DELETE FROM asset_metadata m USING unnest($1::uuid[], $2::text[]) AS doomed(asset_id, key)
           WHERE m."assetId" = doomed.asset_id AND m.key = doomed.key"#,
        &asset_ids,
        &keys
    )
    .execute(pool)
    .await?;
    Ok(())
}
