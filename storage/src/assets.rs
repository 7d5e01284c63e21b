//! The `asset` table and its satellites (`asset_exif`, `asset_file`, …).

mod asset_metadata;
mod deletion;
mod edits;
mod files;
mod uploads;
mod usage;

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::Result;
use crate::exif::Exif;
use crate::exif::{exif_from_row, query_with_exif};

pub use asset_metadata::{MetadataEntry, delete_metadata, metadata, upsert_metadata};
pub use deletion::{PurgedAsset, empty_trash, purge_deleted, restore, trash};
pub use edits::{AssetEdit, ExifEdit, copy_relations, edit, edit_exif, set_visibility};
pub use files::{
    DownloadScope, Downloadable, downloadable, folders, ids_in_folder, originals, set_sidecar_path, sidecar_path,
};
pub use uploads::{NewUpload, UploadOutcome, create_upload, find_by_checksum, find_by_checksums};
pub use usage::{AssetCounts, LibraryTotals, StatisticsFilter, UserUsage, library_totals, statistics, usage_by_user};

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

/// What an asset is: Immich's `AssetTypeEnum`, stored as text in `asset.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum AssetType {
    Image,
    Video,
    Audio,
    Other,
}

impl AssetType {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "IMAGE" => Some(Self::Image),
            "VIDEO" => Some(Self::Video),
            "AUDIO" => Some(Self::Audio),
            "OTHER" => Some(Self::Other),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Image => "IMAGE",
            Self::Video => "VIDEO",
            Self::Audio => "AUDIO",
            Self::Other => "OTHER",
        }
    }
}

// `asset.type` is a varchar column, not a PostgreSQL enum: read and written as text.
impl sqlx::Type<sqlx::Postgres> for AssetType {
    fn type_info() -> sqlx::postgres::PgTypeInfo {
        <&str as sqlx::Type<sqlx::Postgres>>::type_info()
    }

    fn compatible(ty: &sqlx::postgres::PgTypeInfo) -> bool {
        <&str as sqlx::Type<sqlx::Postgres>>::compatible(ty)
    }
}

impl<'r> sqlx::Decode<'r, sqlx::Postgres> for AssetType {
    fn decode(value: sqlx::postgres::PgValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        let text = <&str as sqlx::Decode<sqlx::Postgres>>::decode(value)?;
        Self::parse(text).ok_or_else(|| format!("unknown asset type {text:?}").into())
    }
}

/// Type, owner and visibility of an asset: what upload checks of a live-photo video need.
#[derive(Debug, Clone)]
pub struct AssetSummary {
    pub id: Uuid,
    pub owner_id: Uuid,
    pub asset_type: AssetType,
    pub visibility: AssetVisibility,
}

pub async fn summary(pool: &PgPool, id: Uuid) -> Result<Option<AssetSummary>> {
    Ok(sqlx::query_as!(
        AssetSummary,
        r#"SELECT id, "ownerId" AS owner_id, type AS "asset_type: AssetType", visibility AS "visibility: AssetVisibility"
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
    pub asset_type: AssetType,
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

pub async fn get(pool: &PgPool, id: Uuid) -> Result<Option<Asset>> {
    Ok(get_many(pool, &[id]).await?.pop())
}

/// Assets by id, in the order of `ids` (unknown ids are left out).
pub async fn get_many(pool: &PgPool, ids: &[Uuid]) -> Result<Vec<Asset>> {
    let rows = query_with_exif!(
        r#"SELECT a.id, a."ownerId" AS owner_id, a."libraryId" AS library_id, a.type AS "asset_type: AssetType",
                  a."originalPath" AS original_path, a."originalFileName" AS original_file_name, a.checksum,
                  a.thumbhash, a."fileCreatedAt" AS file_created_at, a."fileModifiedAt" AS file_modified_at,
                  a."localDateTime" AS local_date_time, a."createdAt" AS created_at, a."updatedAt" AS updated_at,
                  a."deletedAt" AS deleted_at, a."isFavorite" AS is_favorite, a."isOffline" AS is_offline,
                  a."isEdited" AS is_edited, a.visibility AS "visibility: AssetVisibility", a.duration,
                  a."livePhotoVideoId" AS live_photo_video_id, a."stackId" AS stack_id, a."duplicateId" AS duplicate_id,
                  a.width, a.height, s."primaryAssetId" AS "stack_primary?",
                  (SELECT count(*) FROM asset m WHERE m."stackId" = a."stackId" AND m."deletedAt" IS NULL) AS "stack_count!",
                  e."assetId" IS NOT NULL AS "has_exif!", "#,
        r#"
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
            exif: r.has_exif.then(|| exif_from_row!(r)),
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
