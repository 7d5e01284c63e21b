//! Streams of a library: assets and their EXIF, stacks, metadata, edits and recognised text.

use chrono::{DateTime, Utc};
use serde_json::value::RawValue;
use sqlx::types::Json;
use uuid::Uuid;

use crate::assets::AssetVisibility;
use crate::exif::Exif;

/// One asset as every asset stream reads it (assets are the bulk of a first sync).
#[derive(Debug)]
pub struct Asset {
    pub ack: Uuid,
    pub id: Uuid,
    pub owner_id: Uuid,
    pub original_file_name: String,
    pub file_created_at: DateTime<Utc>,
    pub file_modified_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub local_date_time: DateTime<Utc>,
    pub asset_type: crate::assets::AssetType,
    pub deleted_at: Option<DateTime<Utc>>,
    /// The owner's favourite; never one for anyone else.
    pub is_favorite: bool,
    pub visibility: AssetVisibility,
    pub duration: Option<i32>,
    pub live_photo_video_id: Option<Uuid>,
    pub stack_id: Option<Uuid>,
    pub library_id: Option<Uuid>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub is_edited: bool,
    pub checksum: Vec<u8>,
    pub thumbhash: Option<Vec<u8>>,
    /// Gone from the viewer's sight though not deleted (a partner's asset moved to the locked
    /// folder): the viewer is told to delete it.
    pub removed: bool,
}

sync_stream! {
    /// Assets of `owners`.
    assets(owners: &[Uuid], viewer: Uuid) -> asset on r#"a."updateId""#: r#"FROM asset a WHERE a."ownerId" = ANY($5)"#
}

#[derive(Debug)]
pub struct AssetDelete {
    pub ack: Uuid,
    pub asset_id: Uuid,
}

sync_stream! {
    /// Assets of `owners` deleted for good.
    asset_deletes(owners: &[Uuid]) -> AssetDelete on "x.id": r#"x."assetId" AS asset_id
           FROM asset_audit x WHERE x."ownerId" = ANY($5)"#
}

/// One asset's EXIF as every EXIF stream reads it.
#[derive(Debug)]
pub struct AssetExif {
    pub ack: Uuid,
    pub asset_id: Uuid,
    pub exif: Exif,
}

sync_stream! {
    /// EXIF of the assets of `owners`; never of others' locked assets.
    asset_exifs(owners: &[Uuid], viewer: Uuid) -> exif on r#"e."updateId""#: r#"FROM asset_exif e JOIN asset a ON a.id = e."assetId"
           WHERE a."ownerId" = ANY($5) AND (a."ownerId" = $6 OR a.visibility <> 'locked')"#
}

#[derive(Debug)]
pub struct Stack {
    pub ack: Uuid,
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub primary_asset_id: Uuid,
    pub owner_id: Uuid,
}

sync_stream! {
    /// Stacks of `owners`.
    stacks(owners: &[Uuid]) -> Stack on r#"s."updateId""#: r#"s.id, s."createdAt" AS created_at, s."updatedAt" AS updated_at,
                  s."primaryAssetId" AS primary_asset_id, s."ownerId" AS owner_id
           FROM stack s WHERE s."ownerId" = ANY($5)"#
}

#[derive(Debug)]
pub struct StackDelete {
    pub ack: Uuid,
    pub stack_id: Uuid,
}

sync_stream! {
    /// Stacks of `owners` deleted.
    stack_deletes(owners: &[Uuid]) -> StackDelete on "x.id": r#"x."stackId" AS stack_id
           FROM stack_audit x WHERE x."userId" = ANY($5)"#
}

#[derive(Debug)]
pub struct AssetMetadata {
    pub ack: Uuid,
    pub asset_id: Uuid,
    pub key: String,
    /// As stored (jsonb's own text), so it goes out byte for byte.
    pub value: Json<Box<RawValue>>,
}

sync_stream! {
    /// Metadata of `user`'s assets.
    asset_metadata(user: Uuid) -> AssetMetadata on r#"m."updateId""#: r#"m."assetId" AS asset_id, m.key,
                  m.value AS "value: Json<Box<RawValue>>"
           FROM asset_metadata m JOIN asset a ON a.id = m."assetId" WHERE a."ownerId" = $5"#
}

#[derive(Debug)]
pub struct AssetMetadataDelete {
    pub ack: Uuid,
    pub asset_id: Uuid,
    pub key: String,
}

sync_stream! {
    /// Removed metadata of `user`'s assets.
    asset_metadata_deletes(user: Uuid) -> AssetMetadataDelete on "x.id": r#"x."assetId" AS asset_id, x.key
           FROM asset_metadata_audit x JOIN asset a ON a.id = x."assetId" WHERE a."ownerId" = $5"#
}

#[derive(Debug)]
pub struct AssetEdit {
    pub ack: Uuid,
    pub id: Uuid,
    pub asset_id: Uuid,
    pub action: String,
    /// As stored (jsonb's own text), so it goes out byte for byte.
    pub parameters: Json<Box<RawValue>>,
    pub sequence: i32,
}

sync_stream! {
    /// Edits of `user`'s assets.
    asset_edits(user: Uuid) -> AssetEdit on r#"e."updateId""#: r#"e.id, e."assetId" AS asset_id, e.action,
                  e.parameters AS "parameters: Json<Box<RawValue>>", e.sequence
           FROM asset_edit e JOIN asset a ON a.id = e."assetId" WHERE a."ownerId" = $5"#
}

#[derive(Debug)]
pub struct AssetEditDelete {
    pub ack: Uuid,
    pub edit_id: Uuid,
}

sync_stream! {
    /// Edits undone on `user`'s assets.
    asset_edit_deletes(user: Uuid) -> AssetEditDelete on "x.id": r#"x."editId" AS edit_id
           FROM asset_edit_audit x JOIN asset a ON a.id = x."assetId" WHERE a."ownerId" = $5"#
}

/// A box of text found in an asset, its corners and confidences (`real`s).
#[derive(Debug)]
pub struct AssetOcr {
    pub ack: Uuid,
    pub id: Uuid,
    pub asset_id: Uuid,
    pub x1: f32,
    pub y1: f32,
    pub x2: f32,
    pub y2: f32,
    pub x3: f32,
    pub y3: f32,
    pub x4: f32,
    pub y4: f32,
    pub box_score: f32,
    pub text_score: f32,
    pub text: String,
    pub is_visible: bool,
}

sync_stream! {
    /// Text found in `user`'s assets.
    asset_ocr(user: Uuid) -> AssetOcr on r#"o."updateId""#: r#"o.id, o."assetId" AS asset_id, o.x1, o.y1, o.x2, o.y2,
                  o.x3, o.y3, o.x4, o.y4, o."boxScore" AS box_score, o."textScore" AS text_score, o.text,
                  o."isVisible" AS is_visible
           FROM asset_ocr o JOIN asset a ON a.id = o."assetId" WHERE a."ownerId" = $5"#
}

/// A removed box of text; its `ack` is also its id.
#[derive(Debug)]
pub struct AssetOcrDelete {
    pub ack: Uuid,
    pub asset_id: Uuid,
    pub deleted_at: DateTime<Utc>,
}

sync_stream! {
    /// Text removed from `user`'s assets, one row per removed box naming the asset.
    asset_ocr_deletes(user: Uuid) -> AssetOcrDelete on "x.id": r#"x."assetId" AS asset_id, x."deletedAt" AS deleted_at
           FROM asset_ocr_audit x JOIN asset a ON a.id = x."assetId" WHERE a."ownerId" = $5"#
}
