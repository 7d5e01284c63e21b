//! The `activity` table: comments and likes in albums.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::Result;

#[derive(Debug, Clone)]
pub struct Activity {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub user_id: Uuid,
    pub asset_id: Option<Uuid>,
    pub comment: Option<String>,
    pub is_liked: bool,
}

#[derive(Debug, Clone, Default)]
pub struct ActivityFilter {
    pub album_id: Uuid,
    pub asset_id: Option<Uuid>,
    /// Only the album's own activity (no asset).
    pub album_level: bool,
    /// Likes (`true`) or comments (`false`).
    pub liked: Option<bool>,
    pub user_id: Option<Uuid>,
}

/// Oldest first; activity of deleted users or on trashed assets is left out.
pub async fn list(pool: &PgPool, filter: &ActivityFilter) -> Result<Vec<Activity>> {
    Ok(sqlx::query_as!(
        Activity,
        r#"SELECT a.id, a."createdAt" AS created_at, a."userId" AS user_id, a."assetId" AS asset_id, a.comment, a."isLiked" AS is_liked
           FROM activity a
           JOIN "user" u ON u.id = a."userId" AND u."deletedAt" IS NULL
           LEFT JOIN asset s ON s.id = a."assetId"
           WHERE a."albumId" = $1 AND s."deletedAt" IS NULL
             AND (CASE WHEN $3 THEN a."assetId" IS NULL ELSE ($2::uuid IS NULL OR a."assetId" = $2) END)
             AND ($4::bool IS NULL OR a."isLiked" = $4)
             AND ($5::uuid IS NULL OR a."userId" = $5)
           ORDER BY a."createdAt""#,
        filter.album_id,
        filter.asset_id,
        filter.album_level,
        filter.liked,
        filter.user_id
    )
    .fetch_all(pool)
    .await?)
}

/// Whether `user` may comment or like in the album: a member, activity enabled, album alive.
pub async fn may_create(pool: &PgPool, album: Uuid, user: Uuid) -> Result<bool> {
    Ok(sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM album al JOIN album_user m ON m."albumId" = al.id
           WHERE al.id = $1 AND m."userId" = $2 AND al."isActivityEnabled" AND al."deletedAt" IS NULL) AS "ok!""#,
        album,
        user
    )
    .fetch_one(pool)
    .await?)
}

/// `user`'s like on the album (or one of its assets), if they gave one.
pub async fn existing_like(pool: &PgPool, album: Uuid, asset: Option<Uuid>, user: Uuid) -> Result<Option<Activity>> {
    Ok(sqlx::query_as!(
        Activity,
        r#"SELECT id, "createdAt" AS created_at, "userId" AS user_id, "assetId" AS asset_id, comment, "isLiked" AS is_liked
           FROM activity WHERE "albumId" = $1 AND "assetId" IS NOT DISTINCT FROM $2 AND "userId" = $3 AND "isLiked""#,
        album,
        asset,
        user
    )
    .fetch_optional(pool)
    .await?)
}

/// Records a like or a comment; `None` when the asset is not in the album.
pub async fn create(
    pool: &PgPool,
    album: Uuid,
    asset: Option<Uuid>,
    user: Uuid,
    comment: Option<&str>,
) -> Result<Option<Activity>> {
    Ok(sqlx::query_as!(
        Activity,
        r#"INSERT INTO activity ("albumId", "assetId", "userId", comment, "isLiked")
           SELECT $1, $2, $3, $4, $4::text IS NULL
           WHERE $2::uuid IS NULL OR EXISTS (SELECT 1 FROM album_asset aa WHERE aa."albumId" = $1 AND aa."assetId" = $2)
           RETURNING id, "createdAt" AS created_at, "userId" AS user_id, "assetId" AS asset_id, comment, "isLiked" AS is_liked"#,
        album,
        asset,
        user,
        comment
    )
    .fetch_optional(pool)
    .await?)
}

/// (comments, likes) on the album, or on one asset of it.
pub async fn statistics(pool: &PgPool, album: Uuid, asset: Option<Uuid>) -> Result<(i64, i64)> {
    let row = sqlx::query!(
        r#"SELECT count(*) FILTER (WHERE NOT a."isLiked") AS "comments!", count(*) FILTER (WHERE a."isLiked") AS "likes!"
           FROM activity a
           JOIN "user" u ON u.id = a."userId" AND u."deletedAt" IS NULL
           LEFT JOIN asset s ON s.id = a."assetId"
           WHERE a."albumId" = $1 AND ($2::uuid IS NULL OR a."assetId" = $2)
             AND s."deletedAt" IS NULL AND (s.id IS NULL OR s.visibility <> 'locked')"#,
        album,
        asset
    )
    .fetch_one(pool)
    .await?;
    Ok((row.comments, row.likes))
}

/// Whether `user` may delete the activity: its author, or the album's owner.
pub async fn may_delete(pool: &PgPool, id: Uuid, user: Uuid) -> Result<bool> {
    Ok(sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM activity a WHERE a.id = $1 AND (a."userId" = $2 OR EXISTS (
             SELECT 1 FROM album_user m JOIN album al ON al.id = m."albumId"
             WHERE m."albumId" = a."albumId" AND m."userId" = $2 AND m.role = 'owner' AND al."deletedAt" IS NULL))) AS "ok!""#,
        id,
        user
    )
    .fetch_one(pool)
    .await?)
}

pub async fn delete(pool: &PgPool, id: Uuid) -> Result<()> {
    sqlx::query!(r#"DELETE FROM activity WHERE id = $1"#, id)
        .execute(pool)
        .await?;
    Ok(())
}
