//! A library: assets and their EXIF, stacks, metadata, edits and recognised text.

use darkroom_storage::assets::{AssetType, AssetVisibility};
use darkroom_storage::sync as store;
use serde::Serialize;
use serde_json::value::RawValue;
use uuid::Uuid;

use super::{Base64, Data, Entry, Millis, real};

/// SyncAssetV2, as Immich sends it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncAssetV2 {
    id: Uuid,
    owner_id: Uuid,
    original_file_name: String,
    file_created_at: Millis,
    file_modified_at: Millis,
    created_at: Millis,
    local_date_time: Millis,
    #[serde(rename = "type")]
    asset_type: AssetType,
    deleted_at: Option<Millis>,
    is_favorite: bool,
    visibility: AssetVisibility,
    duration: Option<i32>,
    live_photo_video_id: Option<Uuid>,
    stack_id: Option<Uuid>,
    library_id: Option<Uuid>,
    width: Option<i32>,
    height: Option<i32>,
    is_edited: bool,
    checksum: Base64,
    thumbhash: Option<Base64>,
}

/// The asset, or a delete for one the viewer may no longer see.
impl From<store::Asset> for Entry {
    fn from(row: store::Asset) -> Self {
        let data = if row.removed {
            Data::AssetRemoved(SyncAssetDeleteV1 { asset_id: row.id })
        } else {
            Data::Asset(SyncAssetV2 {
                id: row.id,
                owner_id: row.owner_id,
                original_file_name: row.original_file_name,
                file_created_at: Millis(row.file_created_at),
                file_modified_at: Millis(row.file_modified_at),
                created_at: Millis(row.created_at),
                local_date_time: Millis(row.local_date_time),
                asset_type: row.asset_type,
                deleted_at: row.deleted_at.map(Millis),
                is_favorite: row.is_favorite,
                visibility: row.visibility,
                duration: row.duration,
                live_photo_video_id: row.live_photo_video_id,
                stack_id: row.stack_id,
                library_id: row.library_id,
                width: row.width,
                height: row.height,
                is_edited: row.is_edited,
                checksum: Base64(row.checksum),
                thumbhash: row.thumbhash.map(Base64),
            })
        };
        Entry { ack: row.ack, data }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncAssetDeleteV1 {
    asset_id: Uuid,
}

impl From<store::AssetDelete> for Entry {
    fn from(row: store::AssetDelete) -> Self {
        Entry {
            ack: row.ack,
            data: Data::AssetDelete(SyncAssetDeleteV1 { asset_id: row.asset_id }),
        }
    }
}

/// SyncAssetExifV1, as Immich sends it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncAssetExifV1 {
    asset_id: Uuid,
    description: String,
    exif_image_width: Option<i32>,
    exif_image_height: Option<i32>,
    file_size_in_byte: Option<i64>,
    orientation: Option<String>,
    date_time_original: Option<Millis>,
    modify_date: Option<Millis>,
    time_zone: Option<String>,
    latitude: Option<f64>,
    longitude: Option<f64>,
    projection_type: Option<String>,
    city: Option<String>,
    state: Option<String>,
    country: Option<String>,
    make: Option<String>,
    model: Option<String>,
    lens_model: Option<String>,
    f_number: Option<f64>,
    focal_length: Option<f64>,
    iso: Option<i32>,
    exposure_time: Option<String>,
    profile_description: Option<String>,
    rating: Option<i32>,
    fps: Option<f64>,
}

impl From<store::AssetExif> for Entry {
    fn from(row: store::AssetExif) -> Self {
        let exif = row.exif;
        let exif = SyncAssetExifV1 {
            asset_id: row.asset_id,
            description: exif.description,
            exif_image_width: exif.exif_image_width,
            exif_image_height: exif.exif_image_height,
            file_size_in_byte: exif.file_size_in_byte,
            orientation: exif.orientation,
            date_time_original: exif.date_time_original.map(Millis),
            modify_date: exif.modify_date.map(Millis),
            time_zone: exif.time_zone,
            latitude: exif.latitude,
            longitude: exif.longitude,
            projection_type: exif.projection_type,
            city: exif.city,
            state: exif.state,
            country: exif.country,
            make: exif.make,
            model: exif.model,
            lens_model: exif.lens_model,
            f_number: exif.f_number,
            focal_length: exif.focal_length,
            iso: exif.iso,
            exposure_time: exif.exposure_time,
            profile_description: exif.profile_description,
            rating: exif.rating,
            fps: exif.fps,
        };
        Entry {
            ack: row.ack,
            data: Data::AssetExif(exif),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncStackV1 {
    id: Uuid,
    created_at: Millis,
    updated_at: Millis,
    primary_asset_id: Uuid,
    owner_id: Uuid,
}

impl From<store::Stack> for Entry {
    fn from(row: store::Stack) -> Self {
        let stack = SyncStackV1 {
            id: row.id,
            created_at: Millis(row.created_at),
            updated_at: Millis(row.updated_at),
            primary_asset_id: row.primary_asset_id,
            owner_id: row.owner_id,
        };
        Entry {
            ack: row.ack,
            data: Data::Stack(stack),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncStackDeleteV1 {
    stack_id: Uuid,
}

impl From<store::StackDelete> for Entry {
    fn from(row: store::StackDelete) -> Self {
        Entry {
            ack: row.ack,
            data: Data::StackDelete(SyncStackDeleteV1 { stack_id: row.stack_id }),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncAssetMetadataV1 {
    asset_id: Uuid,
    key: String,
    value: Box<RawValue>,
}

impl From<store::AssetMetadata> for Entry {
    fn from(row: store::AssetMetadata) -> Self {
        let metadata = SyncAssetMetadataV1 {
            asset_id: row.asset_id,
            key: row.key,
            value: row.value.0,
        };
        Entry {
            ack: row.ack,
            data: Data::AssetMetadata(metadata),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncAssetMetadataDeleteV1 {
    asset_id: Uuid,
    key: String,
}

impl From<store::AssetMetadataDelete> for Entry {
    fn from(row: store::AssetMetadataDelete) -> Self {
        let metadata = SyncAssetMetadataDeleteV1 {
            asset_id: row.asset_id,
            key: row.key,
        };
        Entry {
            ack: row.ack,
            data: Data::AssetMetadataDelete(metadata),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncAssetEditV1 {
    id: Uuid,
    asset_id: Uuid,
    action: String,
    parameters: Box<RawValue>,
    sequence: i32,
}

impl From<store::AssetEdit> for Entry {
    fn from(row: store::AssetEdit) -> Self {
        let edit = SyncAssetEditV1 {
            id: row.id,
            asset_id: row.asset_id,
            action: row.action,
            parameters: row.parameters.0,
            sequence: row.sequence,
        };
        Entry {
            ack: row.ack,
            data: Data::AssetEdit(edit),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncAssetEditDeleteV1 {
    edit_id: Uuid,
}

impl From<store::AssetEditDelete> for Entry {
    fn from(row: store::AssetEditDelete) -> Self {
        Entry {
            ack: row.ack,
            data: Data::AssetEditDelete(SyncAssetEditDeleteV1 { edit_id: row.edit_id }),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncAssetOcrV1 {
    id: Uuid,
    asset_id: Uuid,
    #[serde(serialize_with = "real")]
    x1: f32,
    #[serde(serialize_with = "real")]
    y1: f32,
    #[serde(serialize_with = "real")]
    x2: f32,
    #[serde(serialize_with = "real")]
    y2: f32,
    #[serde(serialize_with = "real")]
    x3: f32,
    #[serde(serialize_with = "real")]
    y3: f32,
    #[serde(serialize_with = "real")]
    x4: f32,
    #[serde(serialize_with = "real")]
    y4: f32,
    #[serde(serialize_with = "real")]
    box_score: f32,
    #[serde(serialize_with = "real")]
    text_score: f32,
    text: String,
    is_visible: bool,
}

impl From<store::AssetOcr> for Entry {
    fn from(row: store::AssetOcr) -> Self {
        let ocr = SyncAssetOcrV1 {
            id: row.id,
            asset_id: row.asset_id,
            x1: row.x1,
            y1: row.y1,
            x2: row.x2,
            y2: row.y2,
            x3: row.x3,
            y3: row.y3,
            x4: row.x4,
            y4: row.y4,
            box_score: row.box_score,
            text_score: row.text_score,
            text: row.text,
            is_visible: row.is_visible,
        };
        Entry {
            ack: row.ack,
            data: Data::AssetOcr(ocr),
        }
    }
}

/// One removed box of text; its id is the audit row's.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncAssetOcrDeleteV1 {
    id: Uuid,
    asset_id: Uuid,
    deleted_at: Millis,
}

impl From<store::AssetOcrDelete> for Entry {
    fn from(row: store::AssetOcrDelete) -> Self {
        let ocr = SyncAssetOcrDeleteV1 {
            id: row.ack,
            asset_id: row.asset_id,
            deleted_at: Millis(row.deleted_at),
        };
        Entry {
            ack: row.ack,
            data: Data::AssetOcrDelete(ocr),
        }
    }
}
