//! The `asset` table and its satellites (`asset_exif`, `asset_file`, …).

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::{Result, StorageError};

/// Who may see an asset in lists: Immich's `asset_visibility_enum`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type, serde::Deserialize, serde::Serialize)]
#[sqlx(type_name = "asset_visibility_enum", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum AssetVisibility {
    Archive,
    Timeline,
    Hidden,
    Locked,
}

impl AssetVisibility {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "archive" => Some(Self::Archive),
            "timeline" => Some(Self::Timeline),
            "hidden" => Some(Self::Hidden),
            "locked" => Some(Self::Locked),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Archive => "archive",
            Self::Timeline => "timeline",
            Self::Hidden => "hidden",
            Self::Locked => "locked",
        }
    }
}

/// Filters of `GET /assets/statistics` and `GET /admin/users/{id}/statistics`.
#[derive(Debug, Clone, Copy, Default)]
pub struct StatisticsFilter {
    /// `None` counts what the timeline and the archive show.
    pub visibility: Option<AssetVisibility>,
    pub is_favorite: Option<bool>,
    /// `true` counts the trash instead of the library.
    pub is_trashed: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AssetCounts {
    pub images: i64,
    pub videos: i64,
    pub audio: i64,
    pub other: i64,
}

impl AssetCounts {
    pub fn total(&self) -> i64 {
        self.images + self.videos + self.audio + self.other
    }
}

/// Counts of one owner's assets by type.
pub async fn statistics(pool: &PgPool, owner_id: Uuid, filter: StatisticsFilter) -> Result<AssetCounts> {
    let row = sqlx::query!(
        r#"SELECT count(*) FILTER (WHERE type = 'IMAGE') AS "images!",
                  count(*) FILTER (WHERE type = 'VIDEO') AS "videos!",
                  count(*) FILTER (WHERE type = 'AUDIO') AS "audio!",
                  count(*) FILTER (WHERE type = 'OTHER') AS "other!"
           FROM asset
           WHERE "ownerId" = $1
             AND CASE WHEN $2::asset_visibility_enum IS NULL THEN visibility IN ('archive', 'timeline')
                      ELSE visibility = $2 END
             AND ($3::boolean IS NULL OR "isFavorite" = $3)
             AND CASE WHEN $4 THEN "deletedAt" IS NOT NULL AND status <> 'deleted'
                      ELSE "deletedAt" IS NULL END"#,
        owner_id,
        filter.visibility as Option<AssetVisibility>,
        filter.is_favorite,
        filter.is_trashed,
    )
    .fetch_one(pool)
    .await?;
    Ok(AssetCounts {
        images: row.images,
        videos: row.videos,
        audio: row.audio,
        other: row.other,
    })
}

/// One user's share of the server: what `/server/statistics` lists per user.
#[derive(Debug, Clone)]
pub struct UserUsage {
    pub user_id: Uuid,
    pub user_name: String,
    pub quota_size_in_bytes: Option<i64>,
    pub photos: i64,
    pub videos: i64,
    /// Bytes of uploaded originals; external-library files cost the server nothing.
    pub usage: i64,
    pub usage_photos: i64,
    pub usage_videos: i64,
}

/// Per-user counts (hidden and trashed assets excluded) and storage use, oldest user first.
pub async fn usage_by_user(pool: &PgPool) -> Result<Vec<UserUsage>> {
    Ok(sqlx::query_as!(
        UserUsage,
        r#"SELECT u.id AS user_id, u.name AS user_name, u."quotaSizeInBytes" AS quota_size_in_bytes,
                  count(*) FILTER (WHERE a.type = 'IMAGE' AND a.visibility <> 'hidden') AS "photos!",
                  count(*) FILTER (WHERE a.type = 'VIDEO' AND a.visibility <> 'hidden') AS "videos!",
                  coalesce(sum(e."fileSizeInByte") FILTER (WHERE a."libraryId" IS NULL), 0)::bigint AS "usage!",
                  coalesce(sum(e."fileSizeInByte") FILTER (WHERE a."libraryId" IS NULL AND a.type = 'IMAGE'), 0)::bigint
                    AS "usage_photos!",
                  coalesce(sum(e."fileSizeInByte") FILTER (WHERE a."libraryId" IS NULL AND a.type = 'VIDEO'), 0)::bigint
                    AS "usage_videos!"
           FROM "user" u
           LEFT JOIN asset a ON a."ownerId" = u.id AND a."deletedAt" IS NULL
           LEFT JOIN asset_exif e ON e."assetId" = a.id
           GROUP BY u.id
           ORDER BY u."createdAt""#
    )
    .fetch_all(pool)
    .await?)
}

/// An upload whose original (and sidecar) already sit in their final place.
#[derive(Debug, Clone)]
pub struct NewUpload {
    pub id: Uuid,
    pub owner_id: Uuid,
    /// `IMAGE` or `VIDEO`.
    pub asset_type: &'static str,
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
        upload.asset_type,
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

/// Type, owner and visibility of an asset: what upload checks of a live-photo video need.
#[derive(Debug, Clone)]
pub struct AssetSummary {
    pub id: Uuid,
    pub owner_id: Uuid,
    pub asset_type: String,
    pub visibility: AssetVisibility,
}

pub async fn summary(pool: &PgPool, id: Uuid) -> Result<Option<AssetSummary>> {
    Ok(sqlx::query_as!(
        AssetSummary,
        r#"SELECT id, "ownerId" AS owner_id, type AS asset_type, visibility AS "visibility: AssetVisibility"
           FROM asset WHERE id = $1"#,
        id
    )
    .fetch_optional(pool)
    .await?)
}

/// An asset row with its EXIF row, as the asset API shows it.
#[derive(Debug, Clone)]
pub struct Asset {
    pub id: Uuid,
    pub owner_id: Uuid,
    pub library_id: Option<Uuid>,
    pub asset_type: String,
    pub original_path: String,
    pub original_file_name: String,
    pub checksum: Vec<u8>,
    pub thumbhash: Option<Vec<u8>>,
    pub file_created_at: DateTime<Utc>,
    pub file_modified_at: DateTime<Utc>,
    pub local_date_time: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub is_favorite: bool,
    pub is_offline: bool,
    pub is_edited: bool,
    pub visibility: AssetVisibility,
    pub duration: Option<i32>,
    pub live_photo_video_id: Option<Uuid>,
    pub stack_id: Option<Uuid>,
    /// The stack's primary asset and how many live assets it holds.
    pub stack: Option<(Uuid, i64)>,
    pub duplicate_id: Option<Uuid>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub exif: Option<Exif>,
}

#[derive(Debug, Clone, Default)]
pub struct Exif {
    pub make: Option<String>,
    pub model: Option<String>,
    pub exif_image_width: Option<i32>,
    pub exif_image_height: Option<i32>,
    pub file_size_in_byte: Option<i64>,
    pub orientation: Option<String>,
    pub date_time_original: Option<DateTime<Utc>>,
    pub modify_date: Option<DateTime<Utc>>,
    pub time_zone: Option<String>,
    pub lens_model: Option<String>,
    pub f_number: Option<f64>,
    pub focal_length: Option<f64>,
    pub iso: Option<i32>,
    pub exposure_time: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub country: Option<String>,
    pub description: String,
    pub projection_type: Option<String>,
    pub rating: Option<i32>,
    pub profile_description: Option<String>,
    pub fps: Option<f64>,
}

pub async fn get(pool: &PgPool, id: Uuid) -> Result<Option<Asset>> {
    Ok(get_many(pool, &[id]).await?.pop())
}

/// Assets by id, in the order of `ids` (unknown ids are left out).
pub async fn get_many(pool: &PgPool, ids: &[Uuid]) -> Result<Vec<Asset>> {
    let rows = sqlx::query!(
        r#"SELECT a.id, a."ownerId" AS owner_id, a."libraryId" AS library_id, a.type AS asset_type,
                  a."originalPath" AS original_path, a."originalFileName" AS original_file_name, a.checksum,
                  a.thumbhash, a."fileCreatedAt" AS file_created_at, a."fileModifiedAt" AS file_modified_at,
                  a."localDateTime" AS local_date_time, a."createdAt" AS created_at, a."updatedAt" AS updated_at,
                  a."deletedAt" AS deleted_at, a."isFavorite" AS is_favorite, a."isOffline" AS is_offline,
                  a."isEdited" AS is_edited, a.visibility AS "visibility: AssetVisibility", a.duration,
                  a."livePhotoVideoId" AS live_photo_video_id, a."stackId" AS stack_id, a."duplicateId" AS duplicate_id,
                  a.width, a.height,
                  e."assetId" IS NOT NULL AS "has_exif!", e.make, e.model, e."exifImageWidth" AS exif_image_width,
                  e."exifImageHeight" AS exif_image_height, e."fileSizeInByte" AS file_size_in_byte, e.orientation,
                  e."dateTimeOriginal" AS date_time_original, e."modifyDate" AS modify_date, e."timeZone" AS time_zone,
                  e."lensModel" AS lens_model, e."fNumber" AS f_number, e."focalLength" AS focal_length, e.iso,
                  e."exposureTime" AS exposure_time, e.latitude, e.longitude, e.city, e.state, e.country,
                  e.description AS "description?", e."projectionType" AS projection_type, e.rating,
                  e."profileDescription" AS profile_description, e.fps,
                  s."primaryAssetId" AS "stack_primary?",
                  (SELECT count(*) FROM asset m WHERE m."stackId" = a."stackId" AND m."deletedAt" IS NULL) AS "stack_count!"
           FROM asset a LEFT JOIN asset_exif e ON e."assetId" = a.id LEFT JOIN stack s ON s.id = a."stackId"
           WHERE a.id = ANY($1)"#,
        ids
    )
    .fetch_all(pool)
    .await?;
    let mut assets: Vec<Asset> = rows
        .into_iter()
        .map(|r| Asset {
            id: r.id,
            owner_id: r.owner_id,
            library_id: r.library_id,
            asset_type: r.asset_type,
            original_path: r.original_path,
            original_file_name: r.original_file_name,
            checksum: r.checksum,
            thumbhash: r.thumbhash,
            file_created_at: r.file_created_at,
            file_modified_at: r.file_modified_at,
            local_date_time: r.local_date_time,
            created_at: r.created_at,
            updated_at: r.updated_at,
            deleted_at: r.deleted_at,
            is_favorite: r.is_favorite,
            is_offline: r.is_offline,
            is_edited: r.is_edited,
            visibility: r.visibility,
            duration: r.duration,
            live_photo_video_id: r.live_photo_video_id,
            stack_id: r.stack_id,
            stack: r.stack_primary.map(|primary| (primary, r.stack_count)),
            duplicate_id: r.duplicate_id,
            width: r.width,
            height: r.height,
            exif: r.has_exif.then(|| Exif {
                make: r.make,
                model: r.model,
                exif_image_width: r.exif_image_width,
                exif_image_height: r.exif_image_height,
                file_size_in_byte: r.file_size_in_byte,
                orientation: r.orientation,
                date_time_original: r.date_time_original,
                modify_date: r.modify_date,
                time_zone: r.time_zone,
                lens_model: r.lens_model,
                f_number: r.f_number,
                focal_length: r.focal_length,
                iso: r.iso,
                exposure_time: r.exposure_time,
                latitude: r.latitude,
                longitude: r.longitude,
                city: r.city,
                state: r.state,
                country: r.country,
                description: r.description.unwrap_or_default(),
                projection_type: r.projection_type,
                rating: r.rating,
                profile_description: r.profile_description,
                fps: r.fps,
            }),
        })
        .collect();
    let order: std::collections::HashMap<Uuid, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    assets.sort_by_key(|asset| order.get(&asset.id).copied());
    Ok(assets)
}

/// Of `ids`, those owned by `owner_id` (locked ones only with `include_locked`): the owner rule
/// of access control.
pub async fn owned_ids(pool: &PgPool, owner_id: Uuid, ids: &[Uuid], include_locked: bool) -> Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT id FROM asset WHERE id = ANY($1) AND "ownerId" = $2 AND ($3 OR visibility <> 'locked')"#,
        ids,
        owner_id,
        include_locked
    )
    .fetch_all(pool)
    .await?)
}

/// Moves assets to the trash (`force`: marks them for permanent deletion).
pub async fn trash(pool: &PgPool, ids: &[Uuid], force: bool) -> Result<u64> {
    let status = if force { "deleted" } else { "trashed" };
    Ok(sqlx::query!(
        r#"UPDATE asset SET "deletedAt" = now(), status = $2::text::assets_status_enum WHERE id = ANY($1)"#,
        ids,
        status
    )
    .execute(pool)
    .await?
    .rows_affected())
}

/// Restores trashed assets (`ids`, or every trashed asset of `owner_id`).
pub async fn restore(pool: &PgPool, owner_id: Uuid, ids: Option<&[Uuid]>) -> Result<u64> {
    Ok(sqlx::query!(
        r#"UPDATE asset SET status = 'active', "deletedAt" = NULL
           WHERE status = 'trashed' AND CASE WHEN $2::uuid[] IS NULL THEN "ownerId" = $1 ELSE id = ANY($2) END"#,
        owner_id,
        ids
    )
    .execute(pool)
    .await?
    .rows_affected())
}

/// Marks the owner's whole trash for permanent deletion.
pub async fn empty_trash(pool: &PgPool, owner_id: Uuid) -> Result<u64> {
    Ok(sqlx::query!(
        r#"UPDATE asset SET status = 'deleted' WHERE "ownerId" = $1 AND status = 'trashed'"#,
        owner_id
    )
    .execute(pool)
    .await?
    .rows_affected())
}

/// Files of an asset removed for good: its original and everything generated from it.
#[derive(Debug, Clone)]
pub struct PurgedAsset {
    pub id: Uuid,
    pub owner_id: Uuid,
    pub files: Vec<String>,
}

/// Deletes assets marked `deleted` (of `owner_id`, or everyone's), with their rows, in one
/// transaction that also gives the owners their quota back and takes along live-photo videos
/// no other asset uses. Returns the files to remove from disk once committed.
pub async fn purge_deleted(pool: &PgPool, owner_id: Option<Uuid>) -> Result<Vec<PurgedAsset>> {
    let mut tx = pool.begin().await?;
    let rows = sqlx::query!(
        r#"WITH doomed AS (
             SELECT a.id FROM asset a
             WHERE a.status = 'deleted' AND ($1::uuid IS NULL OR a."ownerId" = $1)
             FOR UPDATE
           ), videos AS (
             SELECT v.id FROM asset v
             WHERE v.id IN (SELECT a."livePhotoVideoId" FROM asset a WHERE a.id IN (SELECT id FROM doomed))
               AND NOT EXISTS (SELECT 1 FROM asset o WHERE o."livePhotoVideoId" = v.id AND o.id NOT IN (SELECT id FROM doomed))
           )
           SELECT a.id, a."ownerId" AS owner_id, a."libraryId" AS library_id, a."isOffline" AS is_offline,
                  a."originalPath" AS original_path, coalesce(e."fileSizeInByte", 0) AS "size!",
                  coalesce(array_agg(f.path) FILTER (WHERE f.path IS NOT NULL), '{}') AS "files!"
           FROM asset a
           LEFT JOIN asset_exif e ON e."assetId" = a.id
           LEFT JOIN asset_file f ON f."assetId" = a.id
           WHERE a.id IN (SELECT id FROM doomed UNION SELECT id FROM videos)
           GROUP BY a.id, e."fileSizeInByte""#,
        owner_id
    )
    .fetch_all(&mut *tx)
    .await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    // Stacks whose primary goes: the stack goes too (its other members stay as single assets).
    sqlx::query!(r#"DELETE FROM stack WHERE "primaryAssetId" = ANY($1)"#, &ids)
        .execute(&mut *tx)
        .await?;
    sqlx::query!(r#"DELETE FROM asset WHERE id = ANY($1)"#, &ids)
        .execute(&mut *tx)
        .await?;
    for row in rows.iter().filter(|r| r.library_id.is_none() && r.size > 0) {
        sqlx::query!(
            r#"UPDATE "user" SET "quotaUsageInBytes" = greatest("quotaUsageInBytes" - $2, 0) WHERE id = $1"#,
            row.owner_id,
            row.size
        )
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let mut files = row.files;
            if !row.is_offline && row.library_id.is_none() {
                files.push(row.original_path);
            }
            PurgedAsset {
                id: row.id,
                owner_id: row.owner_id,
                files,
            }
        })
        .collect())
}

/// User edits of EXIF fields. Each edited field joins `lockedProperties`, so metadata
/// extraction never overwrites what the user chose.
#[derive(Debug, Clone, Default)]
pub struct ExifEdit {
    pub description: Option<String>,
    pub date_time_original: Option<DateTime<Utc>>,
    /// Shift `dateTimeOriginal` by this many minutes (bulk edits).
    pub shift_minutes: Option<i32>,
    pub time_zone: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// `Some(None)`: unrated.
    pub rating: Option<Option<i32>>,
}

impl ExifEdit {
    fn locked_properties(&self) -> Vec<String> {
        let shifted = self.shift_minutes.is_some_and(|m| m != 0);
        [
            ("description", self.description.is_some()),
            ("dateTimeOriginal", self.date_time_original.is_some() || shifted),
            ("timeZone", self.time_zone.is_some() || shifted),
            ("latitude", self.latitude.is_some()),
            ("longitude", self.longitude.is_some()),
            ("rating", self.rating.is_some()),
        ]
        .into_iter()
        .filter(|(_, edited)| *edited)
        .map(|(name, _)| name.to_string())
        .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.locked_properties().is_empty()
    }
}

/// Applies `edit` to the EXIF rows of `ids` (creating missing rows).
pub async fn edit_exif(pool: &PgPool, ids: &[Uuid], edit: &ExifEdit) -> Result<()> {
    if edit.is_empty() || ids.is_empty() {
        return Ok(());
    }
    let rating = edit.rating.flatten();
    sqlx::query!(
        r#"INSERT INTO asset_exif ("assetId", description, "dateTimeOriginal", "timeZone", latitude, longitude, rating,
                                   "lockedProperties")
           SELECT id, coalesce($2, ''), $3, $5, $6, $7, $9, $10::varchar[] FROM unnest($1::uuid[]) AS id
           ON CONFLICT ("assetId") DO UPDATE SET
             description = coalesce($2, asset_exif.description),
             "dateTimeOriginal" = coalesce($3, asset_exif."dateTimeOriginal") + make_interval(mins => coalesce($4, 0)),
             "timeZone" = coalesce($5, asset_exif."timeZone"),
             latitude = CASE WHEN $6::float8 IS NULL THEN asset_exif.latitude ELSE $6 END,
             longitude = CASE WHEN $7::float8 IS NULL THEN asset_exif.longitude ELSE $7 END,
             rating = CASE WHEN $8 THEN $9 ELSE asset_exif.rating END,
             "lockedProperties" = (SELECT array_agg(DISTINCT property ORDER BY property)
                                   FROM unnest(coalesce(asset_exif."lockedProperties", '{}') || $10::varchar[]) AS property)"#,
        ids,
        edit.description,
        edit.date_time_original,
        edit.shift_minutes,
        edit.time_zone,
        edit.latitude,
        edit.longitude,
        edit.rating.is_some(),
        rating,
        &edit.locked_properties() as &[String],
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Asset columns a user may change.
#[derive(Debug, Clone, Default)]
pub struct AssetEdit {
    pub is_favorite: Option<bool>,
    pub visibility: Option<AssetVisibility>,
    /// `Some(None)` unlinks.
    pub live_photo_video_id: Option<Option<Uuid>>,
    pub duplicate_id: Option<Option<Uuid>>,
}

pub async fn edit(pool: &PgPool, ids: &[Uuid], edit: &AssetEdit) -> Result<()> {
    if ids.is_empty()
        || (edit.is_favorite.is_none()
            && edit.visibility.is_none()
            && edit.live_photo_video_id.is_none()
            && edit.duplicate_id.is_none())
    {
        return Ok(());
    }
    sqlx::query!(
        r#"UPDATE asset SET
             "isFavorite" = coalesce($2, "isFavorite"),
             visibility = coalesce($3, visibility),
             "livePhotoVideoId" = CASE WHEN $4 THEN $5 ELSE "livePhotoVideoId" END,
             "duplicateId" = CASE WHEN $6 THEN $7 ELSE "duplicateId" END
           WHERE id = ANY($1)"#,
        ids,
        edit.is_favorite,
        edit.visibility as Option<AssetVisibility>,
        edit.live_photo_video_id.is_some(),
        edit.live_photo_video_id.flatten(),
        edit.duplicate_id.is_some(),
        edit.duplicate_id.flatten(),
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Shows or hides a live photo's video part.
pub async fn set_visibility(pool: &PgPool, id: Uuid, visibility: AssetVisibility) -> Result<()> {
    sqlx::query!(
        "UPDATE asset SET visibility = $2 WHERE id = $1",
        id,
        visibility as AssetVisibility
    )
    .execute(pool)
    .await?;
    Ok(())
}

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

/// Size and files of assets for downloads: what `download/info` counts and `download/archive`
/// zips. Trashed assets and assets without an EXIF row are not downloadable (as in Immich).
#[derive(Debug, Clone)]
pub struct Downloadable {
    pub id: Uuid,
    pub size: i64,
    pub live_photo_video_id: Option<Uuid>,
    pub original_path: String,
    pub original_file_name: String,
}

#[derive(Debug, Clone, Copy)]
pub enum DownloadScope<'a> {
    Assets(&'a [Uuid]),
    Album(Uuid),
    /// Everything a user's timeline and archive show.
    Owner(Uuid),
}

pub async fn downloadable(pool: &PgPool, scope: DownloadScope<'_>) -> Result<Vec<Downloadable>> {
    let (ids, album, owner): (Option<&[Uuid]>, Option<Uuid>, Option<Uuid>) = match scope {
        DownloadScope::Assets(ids) => (Some(ids), None, None),
        DownloadScope::Album(album) => (None, Some(album), None),
        DownloadScope::Owner(owner) => (None, None, Some(owner)),
    };
    Ok(sqlx::query_as!(
        Downloadable,
        r#"SELECT a.id, coalesce(e."fileSizeInByte", 0) AS "size!", a."livePhotoVideoId" AS live_photo_video_id,
                  a."originalPath" AS original_path, a."originalFileName" AS original_file_name
           FROM asset a JOIN asset_exif e ON e."assetId" = a.id
           WHERE a."deletedAt" IS NULL
             AND ($1::uuid[] IS NULL OR a.id = ANY($1))
             AND ($2::uuid IS NULL OR a.id IN (SELECT "assetId" FROM album_asset WHERE "albumId" = $2))
             AND ($3::uuid IS NULL OR (a."ownerId" = $3 AND a.visibility <> 'hidden'))
           ORDER BY a."fileCreatedAt", a.id"#,
        ids,
        album,
        owner,
    )
    .fetch_all(pool)
    .await?)
}

/// Original names and paths of `ids` (trashed included), for zipping.
pub async fn originals(pool: &PgPool, ids: &[Uuid]) -> Result<Vec<(Uuid, String, String)>> {
    let rows = sqlx::query!(
        r#"SELECT id, "originalFileName" AS original_file_name, "originalPath" AS original_path FROM asset WHERE id = ANY($1)"#,
        ids
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.id, r.original_file_name, r.original_path))
        .collect())
}

/// The folders holding the owner's timeline assets (as stored: absolute paths).
pub async fn folders(pool: &PgPool, owner_id: Uuid) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT DISTINCT substring("originalPath", '^(.*)/[^/]*$') AS "folder!" FROM asset
           WHERE "ownerId" = $1 AND visibility = 'timeline' AND "deletedAt" IS NULL
             AND substring("originalPath", '^(.*)/[^/]*$') IS NOT NULL
           ORDER BY 1"#,
        owner_id
    )
    .fetch_all(pool)
    .await?)
}

/// Ids of the owner's timeline assets directly inside `folder`, by file name.
pub async fn ids_in_folder(pool: &PgPool, owner_id: Uuid, folder: &str) -> Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT id FROM asset
           WHERE "ownerId" = $1 AND visibility = 'timeline' AND "deletedAt" IS NULL
             AND substring("originalPath", '^(.*)/[^/]*$') = $2
           ORDER BY regexp_replace("originalPath", '.*/(.+)', '\1'), id"#,
        owner_id,
        folder
    )
    .fetch_all(pool)
    .await?)
}

/// Copies what belongs to one asset onto another (a re-uploaded edit replacing the original):
/// album memberships, stack, favourite flag.
pub async fn copy_relations(
    pool: &PgPool,
    source: Uuid,
    target: Uuid,
    albums: bool,
    stack: bool,
    favorite: bool,
) -> Result<()> {
    let mut tx = pool.begin().await?;
    if albums {
        sqlx::query!(
            r#"INSERT INTO album_asset ("albumId", "assetId") SELECT "albumId", $2 FROM album_asset WHERE "assetId" = $1
               ON CONFLICT DO NOTHING"#,
            source,
            target
        )
        .execute(&mut *tx)
        .await?;
    }
    if stack {
        let stacks = sqlx::query!(
            r#"SELECT (SELECT "stackId" FROM asset WHERE id = $1) AS source_stack, (SELECT "stackId" FROM asset WHERE id = $2) AS target_stack"#,
            source,
            target
        )
        .fetch_one(&mut *tx)
        .await?;
        match (stacks.source_stack, stacks.target_stack) {
            (Some(source_stack), Some(target_stack)) if source_stack != target_stack => {
                sqlx::query!(
                    r#"UPDATE asset SET "stackId" = $2 WHERE "stackId" = $1"#,
                    source_stack,
                    target_stack
                )
                .execute(&mut *tx)
                .await?;
                sqlx::query!("DELETE FROM stack WHERE id = $1", source_stack)
                    .execute(&mut *tx)
                    .await?;
            }
            (Some(source_stack), None) => {
                sqlx::query!(r#"UPDATE asset SET "stackId" = $2 WHERE id = $1"#, target, source_stack)
                    .execute(&mut *tx)
                    .await?;
            }
            _ => {}
        }
    }
    if favorite {
        sqlx::query!(
            r#"UPDATE asset SET "isFavorite" = (SELECT "isFavorite" FROM asset WHERE id = $1) WHERE id = $2"#,
            source,
            target
        )
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The sidecar file of an asset, if it has one.
pub async fn sidecar_path(pool: &PgPool, asset_id: Uuid) -> Result<Option<String>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT path FROM asset_file WHERE "assetId" = $1 AND type = 'sidecar' AND NOT "isEdited""#,
        asset_id
    )
    .fetch_optional(pool)
    .await?)
}

pub async fn set_sidecar_path(pool: &PgPool, asset_id: Uuid, path: &str) -> Result<()> {
    crate::asset_jobs::set_generated_file(pool, asset_id, "sidecar", path).await
}
