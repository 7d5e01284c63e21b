//! The `shared_link` and `shared_link_asset` tables.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::Result;

#[derive(Debug, Clone)]
pub struct SharedLink {
    pub id: Uuid,
    pub description: Option<String>,
    pub user_id: Uuid,
    pub key: Vec<u8>,
    pub link_type: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub allow_upload: bool,
    pub album_id: Option<Uuid>,
    pub allow_download: bool,
    pub show_exif: bool,
    pub password: Option<String>,
    pub slug: Option<String>,
}

pub struct NewSharedLink<'a> {
    pub user_id: Uuid,
    pub key: &'a [u8],
    pub link_type: &'a str,
    pub album_id: Option<Uuid>,
    pub description: Option<&'a str>,
    pub password: Option<&'a str>,
    pub slug: Option<&'a str>,
    pub expires_at: Option<DateTime<Utc>>,
    pub allow_upload: bool,
    pub allow_download: bool,
    pub show_exif: bool,
    pub asset_ids: &'a [Uuid],
}

/// Creates a link and its assets in one transaction.
pub async fn create(pool: &PgPool, link: &NewSharedLink<'_>) -> Result<Uuid> {
    let mut tx = pool.begin().await?;
    let id = sqlx::query_scalar!(
        r#"INSERT INTO shared_link ("userId", key, type, "albumId", description, password, slug, "expiresAt",
                                    "allowUpload", "allowDownload", "showExif")
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id"#,
        link.user_id,
        link.key,
        link.link_type,
        link.album_id,
        link.description,
        link.password,
        link.slug,
        link.expires_at,
        link.allow_upload,
        link.allow_download,
        link.show_exif,
    )
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query!(
        r#"INSERT INTO shared_link_asset ("sharedLinkId", "assetId") SELECT $1, unnest($2::uuid[]) ON CONFLICT DO NOTHING"#,
        id,
        link.asset_ids
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// The owner's links (optionally one id or one album's), newest first. Links of albums that
/// are gone (or whose owner was deleted) are left out.
pub async fn list(pool: &PgPool, user_id: Uuid, id: Option<Uuid>, album_id: Option<Uuid>) -> Result<Vec<SharedLink>> {
    Ok(sqlx::query_as!(
        SharedLink,
        r#"SELECT l.id, l.description, l."userId" AS user_id, l.key, l.type AS link_type, l."createdAt" AS created_at,
                  l."expiresAt" AS expires_at, l."allowUpload" AS allow_upload, l."albumId" AS album_id,
                  l."allowDownload" AS allow_download, l."showExif" AS show_exif, l.password, l.slug
           FROM shared_link l LEFT JOIN album a ON a.id = l."albumId"
           WHERE l."userId" = $1 AND ($2::uuid IS NULL OR l.id = $2) AND ($3::uuid IS NULL OR l."albumId" = $3)
             AND (l."albumId" IS NULL OR a."deletedAt" IS NULL)
           ORDER BY l."createdAt" DESC"#,
        user_id,
        id,
        album_id
    )
    .fetch_all(pool)
    .await?)
}

pub async fn get(pool: &PgPool, id: Uuid, user_id: Uuid) -> Result<Option<SharedLink>> {
    Ok(list(pool, user_id, Some(id), None).await?.pop())
}

/// A link that can be used: found by key or slug, not expired, its album (if any) alive.
pub async fn find_usable(pool: &PgPool, key: Option<&[u8]>, slug: Option<&str>) -> Result<Option<SharedLink>> {
    Ok(sqlx::query_as!(
        SharedLink,
        r#"SELECT l.id, l.description, l."userId" AS user_id, l.key, l.type AS link_type, l."createdAt" AS created_at,
                  l."expiresAt" AS expires_at, l."allowUpload" AS allow_upload, l."albumId" AS album_id,
                  l."allowDownload" AS allow_download, l."showExif" AS show_exif, l.password, l.slug
           FROM shared_link l LEFT JOIN album a ON a.id = l."albumId" AND a."deletedAt" IS NULL
           WHERE (($1::bytea IS NOT NULL AND l.key = $1) OR ($2::text IS NOT NULL AND l.slug = $2))
             AND (l.type = 'INDIVIDUAL' OR a.id IS NOT NULL)
             AND (l."expiresAt" IS NULL OR l."expiresAt" > now())"#,
        key,
        slug
    )
    .fetch_optional(pool)
    .await?)
}

#[derive(Debug, Clone, Default)]
pub struct SharedLinkChanges {
    pub description: Option<Option<String>>,
    pub password: Option<Option<String>>,
    /// Always written, as Immich does: a change without a slug clears it.
    pub slug: Option<String>,
    pub expires_at: Option<Option<DateTime<Utc>>>,
    pub allow_upload: Option<bool>,
    pub allow_download: Option<bool>,
    pub show_exif: Option<bool>,
}

pub async fn update(pool: &PgPool, id: Uuid, changes: &SharedLinkChanges) -> Result<()> {
    sqlx::query!(
        r#"UPDATE shared_link SET
             description = CASE WHEN $2 THEN $3 ELSE description END,
             password = CASE WHEN $4 THEN $5 ELSE password END,
             slug = $6,
             "expiresAt" = CASE WHEN $7 THEN $8 ELSE "expiresAt" END,
             "allowUpload" = coalesce($9, "allowUpload"),
             "allowDownload" = coalesce($10, "allowDownload"),
             "showExif" = coalesce($11, "showExif")
           WHERE id = $1"#,
        id,
        changes.description.is_some(),
        changes.description.clone().flatten(),
        changes.password.is_some(),
        changes.password.clone().flatten(),
        changes.slug,
        changes.expires_at.is_some(),
        changes.expires_at.flatten(),
        changes.allow_upload,
        changes.allow_download,
        changes.show_exif,
    )
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn delete(pool: &PgPool, id: Uuid) -> Result<()> {
    sqlx::query!("DELETE FROM shared_link WHERE id = $1", id)
        .execute(pool)
        .await?;
    Ok(())
}

/// The link's own assets (not its album's), trashed ones included when `with_trashed`; never
/// locked ones (CVE-2026-82272: locking an asset takes it out of every link).
pub async fn asset_ids(pool: &PgPool, link_id: Uuid, with_trashed: bool) -> Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT a.id FROM shared_link_asset sa JOIN asset a ON a.id = sa."assetId"
           WHERE sa."sharedLinkId" = $1 AND ($2 OR a."deletedAt" IS NULL) AND a.visibility <> 'locked'
           ORDER BY a."fileCreatedAt", a.id"#,
        link_id,
        with_trashed
    )
    .fetch_all(pool)
    .await?)
}

pub async fn add_assets(pool: &PgPool, link_id: Uuid, asset_ids: &[Uuid]) -> Result<()> {
    sqlx::query!(
        r#"INSERT INTO shared_link_asset ("sharedLinkId", "assetId") SELECT $1, unnest($2::uuid[]) ON CONFLICT DO NOTHING"#,
        link_id,
        asset_ids
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Removes assets from a link; returns the ids that were in it.
pub async fn remove_assets(pool: &PgPool, link_id: Uuid, asset_ids: &[Uuid]) -> Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar!(
        r#"DELETE FROM shared_link_asset WHERE "sharedLinkId" = $1 AND "assetId" = ANY($2) RETURNING "assetId""#,
        link_id,
        asset_ids
    )
    .fetch_all(pool)
    .await?)
}

/// Of `ids`, those a link opens: its own assets and its album's (not trashed, not locked), and
/// their live-photo videos.
pub async fn visible_asset_ids(pool: &PgPool, link_id: Uuid, ids: &[Uuid]) -> Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar!(
        r#"WITH opened AS (
             SELECT a.id, a."livePhotoVideoId" FROM shared_link_asset sa JOIN asset a ON a.id = sa."assetId"
             WHERE sa."sharedLinkId" = $1 AND a."deletedAt" IS NULL AND a.visibility <> 'locked'
             UNION
             SELECT a.id, a."livePhotoVideoId" FROM shared_link l
             JOIN album al ON al.id = l."albumId" AND al."deletedAt" IS NULL
             JOIN album_asset aa ON aa."albumId" = al.id
             JOIN asset a ON a.id = aa."assetId" AND a."deletedAt" IS NULL AND a.visibility <> 'locked'
             WHERE l.id = $1
           )
           SELECT DISTINCT shared.id AS "id!" FROM opened CROSS JOIN LATERAL (VALUES (opened.id), (opened."livePhotoVideoId")) AS shared(id)
           WHERE shared.id = ANY($2)"#,
        link_id,
        ids
    )
    .fetch_all(pool)
    .await?)
}

/// What a link's preview card shows: the album's name (album links), the picture (the album's
/// thumbnail or the first shared asset) and how many assets it shares.
#[derive(Debug, Clone)]
pub struct LinkPreview {
    pub album_name: Option<String>,
    pub picture: Option<Uuid>,
    pub asset_count: i64,
}

pub async fn preview(pool: &PgPool, link: &SharedLink) -> Result<LinkPreview> {
    Ok(sqlx::query_as!(
        LinkPreview,
        r#"SELECT al."albumName" AS "album_name?",
                  coalesce(al."albumThumbnailAssetId",
                           (SELECT sa."assetId" FROM shared_link_asset sa WHERE sa."sharedLinkId" = $1 LIMIT 1),
                           (SELECT aa."assetId" FROM album_asset aa WHERE aa."albumId" = $2 LIMIT 1)) AS picture,
                  CASE WHEN $2::uuid IS NULL THEN (SELECT count(*) FROM shared_link_asset sa WHERE sa."sharedLinkId" = $1)
                       ELSE (SELECT count(*) FROM album_asset aa WHERE aa."albumId" = $2) END AS "asset_count!"
           FROM (SELECT 1) one LEFT JOIN album al ON al.id = $2"#,
        link.id,
        link.album_id
    )
    .fetch_one(pool)
    .await?)
}
