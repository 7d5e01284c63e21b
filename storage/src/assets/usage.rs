//! Counts of assets and the storage they use, per owner and per user of the server.

use sqlx::PgPool;
use uuid::Uuid;

use super::AssetVisibility;
use crate::Result;

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

/// The whole library at a glance, cheap enough for every metrics scrape: users, assets not
/// deleted, and the bytes users' uploads take (their quota use).
#[derive(Debug, Clone, Copy, Default)]
pub struct LibraryTotals {
    pub users: i64,
    pub assets: i64,
    pub bytes: i64,
}

pub async fn library_totals(pool: &PgPool) -> Result<LibraryTotals> {
    Ok(sqlx::query_as!(
        LibraryTotals,
        r#"SELECT count(*) AS "users!", coalesce(sum("quotaUsageInBytes"), 0)::bigint AS "bytes!",
                  (SELECT count(*) FROM asset WHERE "deletedAt" IS NULL) AS "assets!"
           FROM "user" WHERE "deletedAt" IS NULL"#
    )
    .fetch_one(pool)
    .await?)
}
