//! What background jobs read and write about assets: which assets still lack an output (the
//! database, not the queue, is the truth), extracted metadata, and generated files.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::Result;
use crate::assets::AssetType;
use crate::exif::Exif;

/// Assets that need metadata extraction: all of them with `force`, else those never done.
pub async fn needing_metadata(pool: &PgPool, force: bool) -> Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT a.id FROM asset a LEFT JOIN asset_job_status s ON s."assetId" = a.id
           WHERE a."deletedAt" IS NULL AND ($1 OR s."metadataExtractedAt" IS NULL)
           ORDER BY a."createdAt""#,
        force
    )
    .fetch_all(pool)
    .await?)
}

/// Assets that need thumbnails: all of them with `force`, else those missing one.
pub async fn needing_thumbnails(pool: &PgPool, force: bool) -> Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT a.id FROM asset a
           WHERE a."deletedAt" IS NULL AND a.visibility <> 'hidden'
             AND ($1 OR a.thumbhash IS NULL
                  OR NOT EXISTS (SELECT 1 FROM asset_file f WHERE f."assetId" = a.id AND f.type = 'thumbnail' AND NOT f."isEdited")
                  OR NOT EXISTS (SELECT 1 FROM asset_file f WHERE f."assetId" = a.id AND f.type = 'preview' AND NOT f."isEdited"))
           ORDER BY a."createdAt""#,
        force
    )
    .fetch_all(pool)
    .await?)
}

/// What extraction decides for the asset row itself.
#[derive(Debug, Clone)]
pub struct ExtractedAsset {
    pub local_date_time: DateTime<Utc>,
    pub file_created_at: DateTime<Utc>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub duration_ms: Option<i32>,
}

/// Stores what extraction found; fields the user edited (`lockedProperties`) keep their value,
/// and `fileSizeInByte` (the upload's) is left alone.
pub async fn save_metadata(pool: &PgPool, id: Uuid, exif: &Exif, asset: &ExtractedAsset) -> Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query!(
        r#"INSERT INTO asset_exif ("assetId") VALUES ($1) ON CONFLICT DO NOTHING"#,
        id
    )
    .execute(&mut *tx)
    .await?;
    // `kept(name)`: the user edited this field, so extraction leaves it alone.
    sqlx::query!(
        r#"UPDATE asset_exif e SET
             make = $2, model = $3, "lensModel" = $4, "exifImageWidth" = $5, "exifImageHeight" = $6, orientation = $7,
             "dateTimeOriginal" = CASE WHEN 'dateTimeOriginal' = ANY(coalesce(e."lockedProperties", '{}')) THEN e."dateTimeOriginal" ELSE $8 END,
             "modifyDate" = $9,
             "timeZone" = CASE WHEN 'timeZone' = ANY(coalesce(e."lockedProperties", '{}')) THEN e."timeZone" ELSE $10 END,
             "fNumber" = $11, "focalLength" = $12, iso = $13, "exposureTime" = $14,
             latitude = CASE WHEN 'latitude' = ANY(coalesce(e."lockedProperties", '{}')) THEN e.latitude ELSE $15 END,
             longitude = CASE WHEN 'longitude' = ANY(coalesce(e."lockedProperties", '{}')) THEN e.longitude ELSE $16 END,
             description = CASE WHEN 'description' = ANY(coalesce(e."lockedProperties", '{}')) THEN e.description ELSE coalesce($17, '') END,
             rating = CASE WHEN 'rating' = ANY(coalesce(e."lockedProperties", '{}')) THEN e.rating ELSE $18 END,
             "projectionType" = $19, "profileDescription" = $20, colorspace = $21, "bitsPerSample" = $22, fps = $23,
             "livePhotoCID" = $24, city = $25, state = $26, country = $27
           WHERE e."assetId" = $1"#,
        id,
        exif.make,
        exif.model,
        exif.lens_model,
        exif.exif_image_width,
        exif.exif_image_height,
        exif.orientation,
        exif.date_time_original,
        exif.modify_date,
        exif.time_zone,
        exif.f_number,
        exif.focal_length,
        exif.iso,
        exif.exposure_time,
        exif.latitude,
        exif.longitude,
        exif.description,
        exif.rating,
        exif.projection_type,
        exif.profile_description,
        exif.colorspace,
        exif.bits_per_sample,
        exif.fps,
        exif.live_photo_cid,
        exif.city,
        exif.state,
        exif.country,
    )
    .execute(&mut *tx)
    .await?;
    // A user-set date wins over the file's.
    sqlx::query!(
        r#"UPDATE asset a SET
             "localDateTime" = CASE WHEN 'dateTimeOriginal' = ANY(coalesce(e."lockedProperties", '{}')) THEN a."localDateTime" ELSE $2 END,
             "fileCreatedAt" = CASE WHEN 'dateTimeOriginal' = ANY(coalesce(e."lockedProperties", '{}')) THEN a."fileCreatedAt" ELSE $3 END,
             width = $4, height = $5, duration = coalesce($6, a.duration)
           FROM asset_exif e WHERE a.id = $1 AND e."assetId" = a.id"#,
        id,
        asset.local_date_time,
        asset.file_created_at,
        asset.width,
        asset.height,
        asset.duration_ms,
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        r#"INSERT INTO asset_job_status ("assetId", "metadataExtractedAt") VALUES ($1, now())
           ON CONFLICT ("assetId") DO UPDATE SET "metadataExtractedAt" = now()"#,
        id
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Pairs a live photo's still and video by their shared content id (same owner), the video
/// hidden behind the still. Returns the video that was hidden, if a pair was made.
pub async fn link_live_photo(pool: &PgPool, id: Uuid) -> Result<Option<Uuid>> {
    let pair = sqlx::query!(
        r#"SELECT still.id AS still_id, video.id AS video_id
           FROM asset me JOIN asset_exif mine ON mine."assetId" = me.id
           JOIN asset_exif theirs ON theirs."livePhotoCID" = mine."livePhotoCID" AND theirs."assetId" <> me.id
           JOIN asset other ON other.id = theirs."assetId" AND other."ownerId" = me."ownerId" AND other."deletedAt" IS NULL
           CROSS JOIN LATERAL (SELECT CASE WHEN me.type = 'VIDEO' THEN other.id ELSE me.id END AS id) still
           CROSS JOIN LATERAL (SELECT CASE WHEN me.type = 'VIDEO' THEN me.id ELSE other.id END AS id) video
           WHERE me.id = $1 AND mine."livePhotoCID" IS NOT NULL AND me.type <> other.type
           LIMIT 1"#,
        id
    )
    .fetch_optional(pool)
    .await?;
    let Some(pair) = pair else { return Ok(None) };
    let (Some(still), Some(video)) = (pair.still_id, pair.video_id) else {
        return Ok(None);
    };
    let mut tx = pool.begin().await?;
    sqlx::query!(
        r#"UPDATE asset SET "livePhotoVideoId" = $2 WHERE id = $1"#,
        still,
        video
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(r#"UPDATE asset SET visibility = 'hidden' WHERE id = $1"#, video)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Some(video))
}

/// What thumbnail generation needs to know about an asset.
#[derive(Debug, Clone)]
pub struct ThumbnailSource {
    pub id: Uuid,
    pub owner_id: Uuid,
    pub asset_type: AssetType,
    pub original_path: String,
    pub orientation: Option<String>,
}

pub async fn thumbnail_source(pool: &PgPool, id: Uuid) -> Result<Option<ThumbnailSource>> {
    Ok(sqlx::query_as!(
        ThumbnailSource,
        r#"SELECT a.id, a."ownerId" AS owner_id, a.type AS "asset_type: AssetType", a."originalPath" AS original_path, e.orientation AS "orientation?"
           FROM asset a LEFT JOIN asset_exif e ON e."assetId" = a.id WHERE a.id = $1"#,
        id
    )
    .fetch_optional(pool)
    .await?)
}

/// Records generated files and the thumbhash in one transaction.
pub async fn save_thumbnails(pool: &PgPool, id: Uuid, preview: &str, thumbnail: &str, thumbhash: &[u8]) -> Result<()> {
    let mut tx = pool.begin().await?;
    for (kind, path) in [("preview", preview), ("thumbnail", thumbnail)] {
        upsert_file(&mut tx, id, kind, path).await?;
    }
    sqlx::query!("UPDATE asset SET thumbhash = $2 WHERE id = $1", id, thumbhash)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The path of an asset's generated file of `kind` (`thumbnail`, `preview`, `fullsize`, …).
pub async fn file_path(pool: &PgPool, id: Uuid, kind: &str) -> Result<Option<String>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT path FROM asset_file WHERE "assetId" = $1 AND type = $2 AND NOT "isEdited""#,
        id,
        kind
    )
    .fetch_optional(pool)
    .await?)
}

/// Videos that may need converting: all with `force`, else those without a converted file.
pub async fn needing_video_conversion(pool: &PgPool, force: bool) -> Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT a.id FROM asset a
           WHERE a.type = 'VIDEO' AND a."deletedAt" IS NULL
             AND ($1 OR NOT EXISTS (SELECT 1 FROM asset_file f WHERE f."assetId" = a.id AND f.type = 'encoded_video'))
           ORDER BY a."createdAt""#,
        force
    )
    .fetch_all(pool)
    .await?)
}

/// Records a generated file of `kind` (e.g. `fullsize`).
pub async fn set_generated_file(pool: &PgPool, id: Uuid, kind: &str, path: &str) -> Result<()> {
    upsert_file(&mut *pool.acquire().await?, id, kind, path).await
}

/// The one `asset_file` row of each kind: a new file replaces the old one's path.
async fn upsert_file(conn: &mut sqlx::PgConnection, id: Uuid, kind: &str, path: &str) -> Result<()> {
    sqlx::query!(
        r#"INSERT INTO asset_file ("assetId", type, path) VALUES ($1, $2, $3)
           ON CONFLICT ("assetId", type, "isEdited") DO UPDATE SET path = EXCLUDED.path"#,
        id,
        kind,
        path
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Records (or, with `None`, forgets) an asset's converted video.
pub async fn set_encoded_video(pool: &PgPool, id: Uuid, path: Option<&str>) -> Result<()> {
    match path {
        Some(path) => set_generated_file(pool, id, "encoded_video", path).await?,
        None => {
            sqlx::query!(
                r#"DELETE FROM asset_file WHERE "assetId" = $1 AND type = 'encoded_video'"#,
                id
            )
            .execute(pool)
            .await?;
        }
    }
    Ok(())
}

/// The EXIF fields a user edited and that are not yet in the asset's sidecar.
pub async fn locked_properties(pool: &PgPool, id: Uuid) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT coalesce("lockedProperties", '{}') AS "locked!" FROM asset_exif WHERE "assetId" = $1"#,
        id
    )
    .fetch_optional(pool)
    .await?
    .unwrap_or_default())
}

/// Once written to the sidecar, edits live there; the locks go.
pub async fn unlock_properties(pool: &PgPool, id: Uuid, properties: &[String]) -> Result<()> {
    sqlx::query!(
        r#"UPDATE asset_exif SET "lockedProperties" = nullif(
             ARRAY(SELECT p FROM unnest(coalesce("lockedProperties", '{}')) AS p WHERE p <> ALL($2::varchar[])), '{}')
           WHERE "assetId" = $1"#,
        id,
        properties as &[String]
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Assets for the sidecar check: all with `force`, else those without a known sidecar.
pub async fn needing_sidecar_check(pool: &PgPool, force: bool) -> Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT a.id FROM asset a
           WHERE a."deletedAt" IS NULL
             AND ($1 OR NOT EXISTS (SELECT 1 FROM asset_file f WHERE f."assetId" = a.id AND f.type = 'sidecar'))
           ORDER BY a."createdAt""#,
        force
    )
    .fetch_all(pool)
    .await?)
}

/// Forgets a sidecar that is gone from disk.
pub async fn remove_sidecar(pool: &PgPool, id: Uuid) -> Result<()> {
    sqlx::query!(
        r#"DELETE FROM asset_file WHERE "assetId" = $1 AND type = 'sidecar'"#,
        id
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Assets CLIP should look at: all of them with `force`, else those without an embedding. Only
/// assets with a preview (CLIP reads it) and not hidden (a live photo's video part).
pub async fn needing_clip(pool: &PgPool, force: bool) -> Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT a.id FROM asset a
           WHERE a."deletedAt" IS NULL AND a.visibility <> 'hidden'
             AND EXISTS (SELECT 1 FROM asset_file f WHERE f."assetId" = a.id AND f.type = 'preview' AND NOT f."isEdited")
             AND ($1 OR NOT EXISTS (SELECT 1 FROM smart_search s WHERE s."assetId" = a.id))
           ORDER BY a."createdAt""#,
        force
    )
    .fetch_all(pool)
    .await?)
}

/// What a machine-learning job sends: the asset's preview, unless the asset is hidden.
#[derive(Debug, Clone)]
pub struct PreviewSource {
    pub owner_id: Uuid,
    pub is_hidden: bool,
    pub preview_path: Option<String>,
}

pub async fn preview_source(pool: &PgPool, id: Uuid) -> Result<Option<PreviewSource>> {
    Ok(sqlx::query_as!(
        PreviewSource,
        r#"SELECT a."ownerId" AS owner_id, a.visibility = 'hidden' AS "is_hidden!",
                  (SELECT f.path FROM asset_file f WHERE f."assetId" = a.id AND f.type = 'preview' AND NOT f."isEdited") AS preview_path
           FROM asset a WHERE a.id = $1 AND a."deletedAt" IS NULL"#,
        id
    )
    .fetch_optional(pool)
    .await?)
}
