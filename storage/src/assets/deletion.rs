//! The trash: moving assets there, restoring them, and deleting them for good.

use sqlx::PgPool;
use uuid::Uuid;

use crate::Result;

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
