//! Recording uploads and finding what an owner already has by checksum.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use super::{AssetType, AssetVisibility};
use crate::{Result, StorageError};

/// An upload whose original (and sidecar) already sit in their final place.
#[derive(Debug, Clone)]
pub struct NewUpload {
    pub id: Uuid,
    pub owner_id: Uuid,
    pub asset_type: AssetType,
    pub original_path: String,
    pub original_file_name: String,
    pub checksum: Vec<u8>,
    pub file_size: i64,
    pub file_created_at: DateTime<Utc>,
    pub file_modified_at: DateTime<Utc>,
    pub is_favorite: bool,
    pub visibility: AssetVisibility,
    pub duration_ms: Option<i32>,
    pub live_photo_video_id: Option<Uuid>,
    pub sidecar_path: Option<String>,
    pub metadata: Vec<(String, serde_json::Value)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadOutcome {
    Created,
    /// The owner already has these bytes (possibly in the trash): that asset's id.
    Duplicate(Uuid),
    QuotaExceeded,
}

/// Records an upload in one transaction: the asset, its EXIF row (file size), sidecar and
/// metadata rows, the owner's quota usage, and the live-photo video turned hidden. The unique
/// `(ownerId, checksum)` index decides between two concurrent uploads of the same bytes.
pub async fn create_upload(pool: &PgPool, upload: &NewUpload) -> Result<UploadOutcome> {
    let mut tx = pool.begin().await?;
    let inserted = sqlx::query_scalar!(
        r#"INSERT INTO asset (id, "ownerId", type, "originalPath", "originalFileName", checksum, "checksumAlgorithm",
                              "fileCreatedAt", "fileModifiedAt", "localDateTime", "isFavorite", visibility, duration,
                              "livePhotoVideoId")
           VALUES ($1, $2, $3, $4, $5, $6, 'sha1', $7, $8, $7, $9, $10, $11, $12)
           ON CONFLICT ("ownerId", checksum) WHERE "libraryId" IS NULL DO NOTHING
           RETURNING id"#,
        upload.id,
        upload.owner_id,
        upload.asset_type.as_str(),
        upload.original_path,
        upload.original_file_name,
        upload.checksum,
        upload.file_created_at,
        upload.file_modified_at,
        upload.is_favorite,
        upload.visibility as AssetVisibility,
        upload.duration_ms,
        upload.live_photo_video_id,
    )
    .fetch_optional(&mut *tx)
    .await?;
    if inserted.is_none() {
        drop(tx);
        // The twin was committed by a concurrent upload; it can only be missing if it was
        // permanently deleted in between, which the client may simply retry.
        let (existing, _) =
            find_by_checksum(pool, upload.owner_id, &upload.checksum)
                .await?
                .ok_or(StorageError::Conflict(
                    "the duplicate of this upload was deleted meanwhile; retry",
                ))?;
        return Ok(UploadOutcome::Duplicate(existing));
    }
    let within_quota = sqlx::query_scalar!(
        r#"UPDATE "user" SET "quotaUsageInBytes" = "quotaUsageInBytes" + $2
           WHERE id = $1 AND ("quotaSizeInBytes" IS NULL OR "quotaUsageInBytes" + $2 <= "quotaSizeInBytes")
           RETURNING id"#,
        upload.owner_id,
        upload.file_size,
    )
    .fetch_optional(&mut *tx)
    .await?;
    if within_quota.is_none() {
        return Ok(UploadOutcome::QuotaExceeded);
    }
    sqlx::query!(
        r#"INSERT INTO asset_exif ("assetId", "fileSizeInByte") VALUES ($1, $2)"#,
        upload.id,
        upload.file_size
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(r#"INSERT INTO asset_job_status ("assetId") VALUES ($1)"#, upload.id)
        .execute(&mut *tx)
        .await?;
    if let Some(sidecar) = &upload.sidecar_path {
        sqlx::query!(
            r#"INSERT INTO asset_file ("assetId", type, path) VALUES ($1, 'sidecar', $2)"#,
            upload.id,
            sidecar
        )
        .execute(&mut *tx)
        .await?;
    }
    for (key, value) in &upload.metadata {
        sqlx::query!(
            r#"INSERT INTO asset_metadata ("assetId", key, value) VALUES ($1, $2, $3)
               ON CONFLICT ("assetId", key) DO UPDATE SET value = EXCLUDED.value"#,
            upload.id,
            key,
            value,
        )
        .execute(&mut *tx)
        .await?;
    }
    if let Some(video) = upload.live_photo_video_id {
        sqlx::query!(r#"UPDATE asset SET visibility = 'hidden' WHERE id = $1"#, video)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(UploadOutcome::Created)
}

/// The owner's uploaded (non-library) asset with this checksum, and whether it is in the trash.
pub async fn find_by_checksum(pool: &PgPool, owner_id: Uuid, checksum: &[u8]) -> Result<Option<(Uuid, bool)>> {
    let row = sqlx::query!(
        r#"SELECT id, "deletedAt" IS NOT NULL AS "trashed!" FROM asset
           WHERE "ownerId" = $1 AND checksum = $2 AND "libraryId" IS NULL"#,
        owner_id,
        checksum,
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| (r.id, r.trashed)))
}

/// For `bulk-upload-check`: every owned asset (external-library ones too, as in Immich)
/// matching one of `checksums`, in one query.
pub async fn find_by_checksums(
    pool: &PgPool,
    owner_id: Uuid,
    checksums: &[Vec<u8>],
) -> Result<Vec<(Vec<u8>, Uuid, bool)>> {
    let rows = sqlx::query!(
        r#"SELECT checksum, id, "deletedAt" IS NOT NULL AS "trashed!" FROM asset
           WHERE "ownerId" = $1 AND checksum = ANY($2)"#,
        owner_id,
        checksums,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| (r.checksum, r.id, r.trashed)).collect())
}
