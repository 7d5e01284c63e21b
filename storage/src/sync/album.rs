//! Streams of albums: the albums themselves, their members, which assets they hold, and those
//! assets with their EXIF as they were added.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::albums::AlbumRole;
use crate::assets::AssetVisibility;

#[derive(Debug)]
pub struct Album {
    pub ack: Uuid,
    pub id: Uuid,
    /// Only when asked for (SyncAlbumV1 names the owner, SyncAlbumV2 does not).
    pub owner_id: Option<Uuid>,
    pub name: String,
    pub description: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub thumbnail_asset_id: Option<Uuid>,
    pub is_activity_enabled: bool,
    pub order: String,
}

sync_stream! {
    /// Albums `user` belongs to, with their owner's id if `with_owner`.
    albums(user: Uuid, with_owner: bool) -> Album on r#"al."updateId""#: r#"al.id,
                  CASE WHEN $6 THEN (SELECT o."userId" FROM album_user o WHERE o."albumId" = al.id AND o.role = 'owner' LIMIT 1) END AS owner_id,
                  al."albumName" AS name, al.description, al."createdAt" AS created_at, al."updatedAt" AS updated_at,
                  al."albumThumbnailAssetId" AS thumbnail_asset_id, al."isActivityEnabled" AS is_activity_enabled, al."order"
           FROM album al WHERE EXISTS (SELECT 1 FROM album_user m WHERE m."albumId" = al.id AND m."userId" = $5)"#
}

#[derive(Debug)]
pub struct AlbumDelete {
    pub ack: Uuid,
    pub album_id: Uuid,
}

sync_stream! {
    /// Albums gone for `user`, deleted or left.
    album_deletes(user: Uuid) -> AlbumDelete on "x.id": r#"x."albumId" AS album_id FROM album_audit x WHERE x."userId" = $5"#
}

#[derive(Debug)]
pub struct AlbumUser {
    pub ack: Uuid,
    pub album_id: Uuid,
    pub user_id: Uuid,
    pub role: AlbumRole,
}

sync_stream! {
    /// Members of `albums`.
    album_users(albums: &[Uuid]) -> AlbumUser on r#"m."updateId""#: r#"m."albumId" AS album_id, m."userId" AS user_id,
                  m.role AS "role: AlbumRole"
           FROM album_user m WHERE m."albumId" = ANY($5)"#
}

#[derive(Debug)]
pub struct AlbumUserDelete {
    pub ack: Uuid,
    pub album_id: Uuid,
    pub user_id: Uuid,
}

sync_stream! {
    /// Members who left `albums`.
    album_user_deletes(albums: &[Uuid]) -> AlbumUserDelete on "x.id": r#"x."albumId" AS album_id, x."userId" AS user_id
           FROM album_user_audit x WHERE x."albumId" = ANY($5)"#
}

/// An asset in an album (added, or taken out for the deletes).
#[derive(Debug)]
pub struct AlbumToAsset {
    pub ack: Uuid,
    pub album_id: Uuid,
    pub asset_id: Uuid,
}

sync_stream! {
    /// Which assets `albums` hold.
    album_to_assets(albums: &[Uuid]) -> AlbumToAsset on r#"aa."updateId""#: r#"aa."albumId" AS album_id, aa."assetId" AS asset_id
           FROM album_asset aa WHERE aa."albumId" = ANY($5)"#
}

sync_stream! {
    /// Assets taken out of `albums`.
    album_to_asset_deletes(albums: &[Uuid]) -> AlbumToAsset on "x.id": r#"x."albumId" AS album_id, x."assetId" AS asset_id
           FROM album_asset_audit x WHERE x."albumId" = ANY($5)"#
}

sync_stream! {
    /// The assets of `albums` as they were added (cursor: when added).
    album_assets(albums: &[Uuid], viewer: Uuid) -> asset on r#"aa."updateId""#: r#"FROM album_asset aa JOIN asset a ON a.id = aa."assetId"
           WHERE aa."albumId" = ANY($5)"#
}

sync_stream! {
    /// EXIF of the assets of `albums` as they were added (cursor: when added).
    album_asset_exifs(albums: &[Uuid]) -> exif on r#"aa."updateId""#: r#"FROM album_asset aa JOIN asset_exif e ON e."assetId" = aa."assetId"
           WHERE aa."albumId" = ANY($5)"#
}

sync_stream! {
    /// Changes to assets already in `albums` by `added_until`.
    album_asset_updates(albums: &[Uuid], viewer: Uuid, added_until: Uuid) -> asset on r#"a."updateId""#: r#"FROM asset a
           WHERE EXISTS (SELECT 1 FROM album_asset aa WHERE aa."assetId" = a.id AND aa."albumId" = ANY($5) AND aa."updateId" <= $7)"#
}

sync_stream! {
    /// Changes to the EXIF of assets already in `albums` by `added_until`.
    album_asset_exif_updates(albums: &[Uuid], added_until: Uuid) -> exif on r#"e."updateId""#: r#"FROM asset_exif e
           WHERE EXISTS (SELECT 1 FROM album_asset aa WHERE aa."assetId" = e."assetId" AND aa."albumId" = ANY($5) AND aa."updateId" <= $6)"#
}
