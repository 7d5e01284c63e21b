//! The `resumable_upload` table: uploads in progress over tus or the IETF resumable-upload draft.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::Result;

#[derive(Debug, Clone)]
pub struct ResumableUpload {
    pub id: Uuid,
    pub owner_id: Uuid,
    pub protocol: String,
    pub upload_length: Option<i64>,
    pub fields: HashMap<String, String>,
    pub raw_metadata: Option<String>,
    pub checksum: Option<Vec<u8>>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// Once complete: the asset and whether it was `created` or a `duplicate`.
    pub asset: Option<(Uuid, String)>,
}

pub struct NewResumableUpload<'a> {
    pub owner_id: Uuid,
    pub protocol: &'static str,
    pub upload_length: Option<i64>,
    pub fields: &'a HashMap<String, String>,
    pub raw_metadata: Option<&'a str>,
    pub checksum: Option<&'a [u8]>,
    pub expires_at: DateTime<Utc>,
}

pub async fn create(pool: &PgPool, upload: &NewResumableUpload<'_>) -> Result<Uuid> {
    let fields = serde_json::to_value(upload.fields).unwrap_or_default();
    Ok(sqlx::query_scalar!(
        r#"INSERT INTO resumable_upload ("ownerId", protocol, "uploadLength", fields, "rawMetadata", checksum, "expiresAt")
           VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id"#,
        upload.owner_id,
        upload.protocol,
        upload.upload_length,
        fields,
        upload.raw_metadata,
        upload.checksum,
        upload.expires_at,
    )
    .fetch_one(pool)
    .await?)
}

/// The upload `id` if `owner_id` started it.
pub async fn get(pool: &PgPool, id: Uuid, owner_id: Uuid) -> Result<Option<ResumableUpload>> {
    let row = sqlx::query!(
        r#"SELECT id, "ownerId" AS owner_id, protocol, "uploadLength" AS upload_length, fields, "rawMetadata" AS raw_metadata,
                  checksum, "createdAt" AS created_at, "expiresAt" AS expires_at, "assetId" AS asset_id,
                  "assetStatus" AS asset_status
           FROM resumable_upload WHERE id = $1 AND "ownerId" = $2"#,
        id,
        owner_id
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| ResumableUpload {
        id: r.id,
        owner_id: r.owner_id,
        protocol: r.protocol,
        upload_length: r.upload_length,
        fields: serde_json::from_value(r.fields).unwrap_or_default(),
        raw_metadata: r.raw_metadata,
        checksum: r.checksum,
        created_at: r.created_at,
        expires_at: r.expires_at,
        asset: r.asset_id.zip(r.asset_status),
    }))
}

/// Fixes the total length of an upload that did not declare it at first.
pub async fn set_length(pool: &PgPool, id: Uuid, length: i64) -> Result<()> {
    sqlx::query!(
        r#"UPDATE resumable_upload SET "uploadLength" = $2 WHERE id = $1"#,
        id,
        length
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Records what the completed upload became; the row stays until it expires so that a client
/// that missed the last answer can still ask.
pub async fn complete(pool: &PgPool, id: Uuid, length: i64, asset_id: Uuid, status: &str) -> Result<()> {
    sqlx::query!(
        r#"UPDATE resumable_upload SET "uploadLength" = $2, "assetId" = $3, "assetStatus" = $4 WHERE id = $1"#,
        id,
        length,
        asset_id,
        status
    )
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn delete(pool: &PgPool, id: Uuid) -> Result<()> {
    sqlx::query!("DELETE FROM resumable_upload WHERE id = $1", id)
        .execute(pool)
        .await?;
    Ok(())
}

/// Removes every upload past its expiry and returns their ids (their files go next).
pub async fn delete_expired(pool: &PgPool) -> Result<Vec<Uuid>> {
    Ok(
        sqlx::query_scalar!(r#"DELETE FROM resumable_upload WHERE "expiresAt" < now() RETURNING id"#)
            .fetch_all(pool)
            .await?,
    )
}

/// Ids of every upload in progress (to find files that lost their row).
pub async fn all_ids(pool: &PgPool) -> Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar!("SELECT id FROM resumable_upload")
        .fetch_all(pool)
        .await?)
}
