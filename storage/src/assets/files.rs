//! Files and folders of assets: downloads, the folder view and sidecars.

use sqlx::PgPool;
use uuid::Uuid;

use crate::Result;

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
