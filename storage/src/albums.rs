//! The `album`, `album_user` and `album_asset` tables. An album's owner is its `album_user` row
//! with role `owner`, as in Immich 3.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::Result;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, sqlx::Type, serde::Deserialize, serde::Serialize)]
#[sqlx(type_name = "album_user_role_enum", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum AlbumRole {
    Owner,
    Editor,
    Viewer,
}

#[derive(Debug, Clone)]
pub struct Album {
    pub id: Uuid,
    pub album_name: String,
    pub description: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub album_thumbnail_asset_id: Option<Uuid>,
    pub is_activity_enabled: bool,
    pub order: String,
}

/// A member of an album with what the API shows of them.
#[derive(Debug, Clone)]
pub struct Member {
    pub album_id: Uuid,
    pub role: AlbumRole,
    pub user_id: Uuid,
    pub email: String,
    pub name: String,
    pub profile_image_path: String,
    pub avatar_color: Option<String>,
    pub profile_changed_at: DateTime<Utc>,
}

/// What an album's visible assets (not trashed; timeline or archive) add up to.
#[derive(Debug, Clone)]
pub struct AlbumStats {
    pub album_id: Uuid,
    pub asset_count: i64,
    pub start_date: Option<DateTime<Utc>>,
    pub end_date: Option<DateTime<Utc>>,
    pub last_modified_asset_timestamp: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct AlbumFilter {
    pub id: Option<Uuid>,
    pub is_owned: Option<bool>,
    /// Shared: it has a member besides its owner, or a shared link.
    pub is_shared: Option<bool>,
}

pub struct NewAlbum<'a> {
    pub owner_id: Uuid,
    pub album_name: &'a str,
    pub description: &'a str,
    pub order: &'a str,
    pub members: &'a [(Uuid, AlbumRole)],
    pub asset_ids: &'a [Uuid],
}

/// Creates an album with its owner, members and assets in one transaction; its thumbnail is
/// the first asset.
pub async fn create(pool: &PgPool, album: &NewAlbum<'_>) -> Result<Uuid> {
    let mut tx = pool.begin().await?;
    let id = sqlx::query_scalar!(
        r#"INSERT INTO album ("albumName", description, "order", "albumThumbnailAssetId") VALUES ($1, $2, $3, $4) RETURNING id"#,
        album.album_name,
        album.description,
        album.order,
        album.asset_ids.first().copied(),
    )
    .fetch_one(&mut *tx)
    .await?;
    let (mut users, mut roles) = (vec![album.owner_id], vec![AlbumRole::Owner]);
    for (user, role) in album.members {
        users.push(*user);
        roles.push(*role);
    }
    sqlx::query!(
        r#"INSERT INTO album_user ("albumId", "userId", role) SELECT $1, * FROM unnest($2::uuid[], $3::album_user_role_enum[])"#,
        id,
        &users,
        &roles as &[AlbumRole],
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        r#"INSERT INTO album_asset ("albumId", "assetId") SELECT $1, unnest($2::uuid[]) ON CONFLICT DO NOTHING"#,
        id,
        album.asset_ids
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// The user's albums (owned or shared with them), newest first.
pub async fn list(pool: &PgPool, user_id: Uuid, name: Option<&str>, filter: AlbumFilter) -> Result<Vec<Album>> {
    Ok(sqlx::query_as!(
        Album,
        r#"SELECT a.id, a."albumName" AS album_name, a.description, a."createdAt" AS created_at, a."updatedAt" AS updated_at,
                  a."albumThumbnailAssetId" AS album_thumbnail_asset_id, a."isActivityEnabled" AS is_activity_enabled, a."order"
           FROM album a JOIN album_user me ON me."albumId" = a.id AND me."userId" = $1
           WHERE a."deletedAt" IS NULL
             AND ($2::uuid IS NULL OR a.id = $2)
             AND ($3::text IS NULL OR a."albumName" = $3)
             AND ($4::boolean IS NULL OR (me.role = 'owner') = $4)
             AND ($5::boolean IS NULL OR (EXISTS (SELECT 1 FROM album_user o WHERE o."albumId" = a.id AND o.role <> 'owner')
                                         OR EXISTS (SELECT 1 FROM shared_link l WHERE l."albumId" = a.id)) = $5)
           ORDER BY a."createdAt" DESC"#,
        user_id,
        filter.id,
        name,
        filter.is_owned,
        filter.is_shared,
    )
    .fetch_all(pool)
    .await?)
}

/// The user's albums that contain `asset_id`.
pub async fn list_with_asset(pool: &PgPool, user_id: Uuid, asset_id: Uuid) -> Result<Vec<Album>> {
    Ok(sqlx::query_as!(
        Album,
        r#"SELECT a.id, a."albumName" AS album_name, a.description, a."createdAt" AS created_at, a."updatedAt" AS updated_at,
                  a."albumThumbnailAssetId" AS album_thumbnail_asset_id, a."isActivityEnabled" AS is_activity_enabled, a."order"
           FROM album a
           JOIN album_user me ON me."albumId" = a.id AND me."userId" = $1
           JOIN album_asset aa ON aa."albumId" = a.id AND aa."assetId" = $2
           WHERE a."deletedAt" IS NULL
           ORDER BY a."createdAt" DESC"#,
        user_id,
        asset_id,
    )
    .fetch_all(pool)
    .await?)
}

pub async fn get(pool: &PgPool, id: Uuid) -> Result<Option<Album>> {
    Ok(sqlx::query_as!(
        Album,
        r#"SELECT id, "albumName" AS album_name, description, "createdAt" AS created_at, "updatedAt" AS updated_at,
                  "albumThumbnailAssetId" AS album_thumbnail_asset_id, "isActivityEnabled" AS is_activity_enabled, "order"
           FROM album WHERE id = $1 AND "deletedAt" IS NULL"#,
        id
    )
    .fetch_optional(pool)
    .await?)
}

/// Members of `album_ids`: owner first, then `viewer_id`, then by name.
pub async fn members(pool: &PgPool, album_ids: &[Uuid], viewer_id: Uuid) -> Result<Vec<Member>> {
    Ok(sqlx::query_as!(
        Member,
        r#"SELECT au."albumId" AS album_id, au.role AS "role: AlbumRole", u.id AS user_id, u.email, u.name,
                  u."profileImagePath" AS profile_image_path, u."avatarColor" AS avatar_color,
                  u."profileChangedAt" AS profile_changed_at
           FROM album_user au JOIN "user" u ON u.id = au."userId"
           WHERE au."albumId" = ANY($1)
           ORDER BY au.role, (au."userId" = $2) DESC, u.name"#,
        album_ids,
        viewer_id
    )
    .fetch_all(pool)
    .await?)
}

/// The role of `user_id` in each of `album_ids` it belongs to (live albums, live user).
/// Albums (not deleted) `user` belongs to, in any role.
pub async fn member_album_ids(pool: &PgPool, user: Uuid) -> Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT m."albumId" FROM album_user m JOIN album a ON a.id = m."albumId" WHERE m."userId" = $1 AND a."deletedAt" IS NULL"#,
        user
    )
    .fetch_all(pool)
    .await?)
}

pub async fn roles(pool: &PgPool, user_id: Uuid, album_ids: &[Uuid]) -> Result<Vec<(Uuid, AlbumRole)>> {
    let rows = sqlx::query!(
        r#"SELECT au."albumId" AS album_id, au.role AS "role: AlbumRole"
           FROM album_user au JOIN album a ON a.id = au."albumId" JOIN "user" u ON u.id = au."userId"
           WHERE au."userId" = $1 AND au."albumId" = ANY($2) AND a."deletedAt" IS NULL AND u."deletedAt" IS NULL"#,
        user_id,
        album_ids
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| (r.album_id, r.role)).collect())
}

pub async fn stats(pool: &PgPool, album_ids: &[Uuid]) -> Result<Vec<AlbumStats>> {
    Ok(sqlx::query_as!(
        AlbumStats,
        r#"SELECT aa."albumId" AS "album_id!",
                  count(a.id) AS "asset_count!",
                  min((a."localDateTime" AT TIME ZONE 'UTC')::date)::timestamp AT TIME ZONE 'UTC' AS start_date,
                  max((a."localDateTime" AT TIME ZONE 'UTC')::date)::timestamp AT TIME ZONE 'UTC' AS end_date,
                  max(a."updatedAt") AS last_modified_asset_timestamp
           FROM album_asset aa
           JOIN asset a ON a.id = aa."assetId" AND a."deletedAt" IS NULL AND a.visibility IN ('archive', 'timeline')
           WHERE aa."albumId" = ANY($1)
           GROUP BY aa."albumId""#,
        album_ids
    )
    .fetch_all(pool)
    .await?)
}

/// Assets per contributor (not trashed, any visibility), most first.
pub async fn contributor_counts(pool: &PgPool, album_id: Uuid) -> Result<Vec<(Uuid, i64)>> {
    let rows = sqlx::query!(
        r#"SELECT a."ownerId" AS owner_id, count(*) AS "count!"
           FROM album_asset aa JOIN asset a ON a.id = aa."assetId" AND a."deletedAt" IS NULL
           WHERE aa."albumId" = $1 GROUP BY a."ownerId" ORDER BY 2 DESC"#,
        album_id
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| (r.owner_id, r.count)).collect())
}

#[derive(Debug, Clone, Default)]
pub struct AlbumChanges {
    pub album_name: Option<String>,
    pub description: Option<String>,
    pub album_thumbnail_asset_id: Option<Uuid>,
    pub is_activity_enabled: Option<bool>,
    pub order: Option<String>,
}

pub async fn update(pool: &PgPool, id: Uuid, changes: &AlbumChanges) -> Result<()> {
    sqlx::query!(
        r#"UPDATE album SET "albumName" = coalesce($2, "albumName"), description = coalesce($3, description),
                            "albumThumbnailAssetId" = coalesce($4, "albumThumbnailAssetId"),
                            "isActivityEnabled" = coalesce($5, "isActivityEnabled"), "order" = coalesce($6, "order")
           WHERE id = $1"#,
        id,
        changes.album_name,
        changes.description,
        changes.album_thumbnail_asset_id,
        changes.is_activity_enabled,
        changes.order,
    )
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn delete(pool: &PgPool, id: Uuid) -> Result<()> {
    sqlx::query!("DELETE FROM album WHERE id = $1", id)
        .execute(pool)
        .await?;
    Ok(())
}

/// Which of `asset_ids` are in the album.
pub async fn asset_ids_in(pool: &PgPool, album_id: Uuid, asset_ids: &[Uuid]) -> Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT "assetId" FROM album_asset WHERE "albumId" = $1 AND "assetId" = ANY($2)"#,
        album_id,
        asset_ids
    )
    .fetch_all(pool)
    .await?)
}

/// Adds assets; the album gets a thumbnail if it had none. Returns whether anything was added.
pub async fn add_assets(pool: &PgPool, album_id: Uuid, asset_ids: &[Uuid]) -> Result<bool> {
    if asset_ids.is_empty() {
        return Ok(false);
    }
    let mut tx = pool.begin().await?;
    let added = sqlx::query!(
        r#"INSERT INTO album_asset ("albumId", "assetId") SELECT $1, unnest($2::uuid[]) ON CONFLICT DO NOTHING"#,
        album_id,
        asset_ids
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if added > 0 {
        sqlx::query!(
            r#"UPDATE album SET "updatedAt" = now(), "albumThumbnailAssetId" = coalesce("albumThumbnailAssetId", $2) WHERE id = $1"#,
            album_id,
            asset_ids[0]
        )
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(added > 0)
}

/// Takes assets out of every album (they moved to the locked folder).
pub async fn remove_assets_from_all(pool: &PgPool, asset_ids: &[Uuid]) -> Result<()> {
    sqlx::query!(r#"DELETE FROM album_asset WHERE "assetId" = ANY($1)"#, asset_ids)
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn remove_assets(pool: &PgPool, album_id: Uuid, asset_ids: &[Uuid]) -> Result<()> {
    sqlx::query!(
        r#"DELETE FROM album_asset WHERE "albumId" = $1 AND "assetId" = ANY($2)"#,
        album_id,
        asset_ids
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Points every album without a valid thumbnail at its newest asset (or at none).
pub async fn refresh_thumbnails(pool: &PgPool) -> Result<()> {
    sqlx::query!(
        r#"UPDATE album SET "albumThumbnailAssetId" = (
             SELECT aa."assetId" FROM album_asset aa JOIN asset a ON a.id = aa."assetId" AND a."deletedAt" IS NULL
             WHERE aa."albumId" = album.id ORDER BY a."fileCreatedAt" DESC LIMIT 1)
           WHERE ("albumThumbnailAssetId" IS NULL AND EXISTS (
                    SELECT 1 FROM album_asset aa JOIN asset a ON a.id = aa."assetId" AND a."deletedAt" IS NULL
                    WHERE aa."albumId" = album.id))
              OR ("albumThumbnailAssetId" IS NOT NULL AND NOT EXISTS (
                    SELECT 1 FROM album_asset aa JOIN asset a ON a.id = aa."assetId" AND a."deletedAt" IS NULL
                    WHERE aa."albumId" = album.id AND aa."assetId" = album."albumThumbnailAssetId"))"#
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Adds a member; false when they already are one.
pub async fn add_member(pool: &PgPool, album_id: Uuid, user_id: Uuid, role: AlbumRole) -> Result<bool> {
    Ok(sqlx::query!(
        r#"INSERT INTO album_user ("albumId", "userId", role) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"#,
        album_id,
        user_id,
        role as AlbumRole
    )
    .execute(pool)
    .await?
    .rows_affected()
        > 0)
}

pub async fn set_role(pool: &PgPool, album_id: Uuid, user_id: Uuid, role: AlbumRole) -> Result<()> {
    sqlx::query!(
        r#"UPDATE album_user SET role = $3 WHERE "albumId" = $1 AND "userId" = $2"#,
        album_id,
        user_id,
        role as AlbumRole
    )
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn remove_member(pool: &PgPool, album_id: Uuid, user_id: Uuid) -> Result<()> {
    sqlx::query!(
        r#"DELETE FROM album_user WHERE "albumId" = $1 AND "userId" = $2"#,
        album_id,
        user_id
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Hides (or shows again) the albums a user owns, when that user is soft-deleted (or restored).
pub async fn set_owner_deleted(pool: &PgPool, owner_id: Uuid, deleted: bool) -> Result<()> {
    sqlx::query!(
        r#"UPDATE album SET "deletedAt" = CASE WHEN $2 THEN now() END
           WHERE id IN (SELECT "albumId" FROM album_user WHERE "userId" = $1 AND role = 'owner')"#,
        owner_id,
        deleted
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Of `asset_ids`, those in a live album `user_id` belongs to (not trashed), with their
/// live-photo videos: what album members may see.
pub async fn asset_ids_shared_with(pool: &PgPool, user_id: Uuid, asset_ids: &[Uuid]) -> Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT DISTINCT shared.id AS "id!" FROM (
             SELECT a.id, a."livePhotoVideoId" FROM asset a
             JOIN album_asset aa ON aa."assetId" = a.id
             JOIN album al ON al.id = aa."albumId" AND al."deletedAt" IS NULL
             JOIN album_user au ON au."albumId" = al.id AND au."userId" = $1
             WHERE a."deletedAt" IS NULL
           ) visible
           CROSS JOIN LATERAL (VALUES (visible.id), (visible."livePhotoVideoId")) AS shared(id)
           WHERE shared.id = ANY($2)"#,
        user_id,
        asset_ids
    )
    .fetch_all(pool)
    .await?)
}

/// Which of `album_ids` have a shared link.
pub async fn with_shared_links(pool: &PgPool, album_ids: &[Uuid]) -> Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT DISTINCT "albumId" AS "id!" FROM shared_link WHERE "albumId" = ANY($1)"#,
        album_ids
    )
    .fetch_all(pool)
    .await?)
}
