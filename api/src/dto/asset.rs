//! `AssetResponseDto`: how Immich describes an asset to its owner.

use base64::Engine;
use chrono::{DateTime, Utc};
use darkroom_storage::assets::{Asset, AssetType, AssetVisibility};
use darkroom_storage::exif::Exif;
use darkroom_storage::users::User;
use serde::Serialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::person::PersonResponseDto;
use super::{UserResponseDto, serialize_iso};

/// Dates inside `exifInfo` are written by PostgreSQL's `to_json`, not JavaScript:
/// `2023-11-20T01:11:00+00:00`, with a fraction only when there is one.
fn postgres_json_date(date: &DateTime<Utc>) -> String {
    let micros = date.timestamp_subsec_micros();
    let fraction = if micros == 0 {
        String::new()
    } else {
        format!(".{micros:06}").trim_end_matches('0').to_string()
    };
    format!("{}{fraction}+00:00", date.format("%Y-%m-%dT%H:%M:%S"))
}

fn serialize_pg_date<S: serde::Serializer>(date: &Option<DateTime<Utc>>, serializer: S) -> Result<S::Ok, S::Error> {
    match date {
        Some(date) => serializer.serialize_str(&postgres_json_date(date)),
        None => serializer.serialize_none(),
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExifResponseDto {
    make: Option<String>,
    model: Option<String>,
    exif_image_width: Option<i32>,
    exif_image_height: Option<i32>,
    file_size_in_byte: Option<i64>,
    orientation: Option<String>,
    #[serde(serialize_with = "serialize_pg_date")]
    date_time_original: Option<DateTime<Utc>>,
    #[serde(serialize_with = "serialize_pg_date")]
    modify_date: Option<DateTime<Utc>>,
    time_zone: Option<String>,
    lens_model: Option<String>,
    f_number: Option<f64>,
    focal_length: Option<f64>,
    iso: Option<i32>,
    exposure_time: Option<String>,
    latitude: Option<f64>,
    longitude: Option<f64>,
    city: Option<String>,
    state: Option<String>,
    country: Option<String>,
    description: Option<String>,
    projection_type: Option<String>,
    rating: Option<i32>,
}

impl From<Exif> for ExifResponseDto {
    fn from(exif: Exif) -> Self {
        Self {
            make: exif.make,
            model: exif.model,
            exif_image_width: exif.exif_image_width,
            exif_image_height: exif.exif_image_height,
            // Immich maps a zero size to null.
            file_size_in_byte: exif.file_size_in_byte.filter(|&size| size != 0),
            orientation: exif.orientation,
            date_time_original: exif.date_time_original,
            modify_date: exif.modify_date,
            time_zone: exif.time_zone,
            lens_model: exif.lens_model,
            f_number: exif.f_number,
            focal_length: exif.focal_length,
            iso: exif.iso,
            exposure_time: exif.exposure_time,
            latitude: exif.latitude,
            longitude: exif.longitude,
            city: exif.city,
            state: exif.state,
            country: exif.country,
            description: Some(exif.description),
            projection_type: exif.projection_type,
            rating: exif.rating,
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AssetResponseDto {
    id: Uuid,
    #[serde(serialize_with = "serialize_iso")]
    created_at: DateTime<Utc>,
    owner_id: Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    owner: Option<UserResponseDto>,
    library_id: Option<Uuid>,
    #[serde(rename = "type")]
    asset_type: AssetType,
    original_path: String,
    original_file_name: String,
    original_mime_type: &'static str,
    thumbhash: Option<String>,
    #[serde(serialize_with = "serialize_iso")]
    file_created_at: DateTime<Utc>,
    #[serde(serialize_with = "serialize_iso")]
    file_modified_at: DateTime<Utc>,
    #[serde(serialize_with = "serialize_iso")]
    local_date_time: DateTime<Utc>,
    #[serde(serialize_with = "serialize_iso")]
    updated_at: DateTime<Utc>,
    is_favorite: bool,
    is_archived: bool,
    is_trashed: bool,
    visibility: AssetVisibility,
    duration: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exif_info: Option<ExifResponseDto>,
    live_photo_video_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tags: Option<Vec<Value>>,
    people: Vec<PersonResponseDto>,
    checksum: String,
    /// `Some(None)` is `null` (no stack); `None` leaves the key out, as Immich's update does.
    #[serde(skip_serializing_if = "Option::is_none")]
    stack: Option<Option<Value>>,
    is_offline: bool,
    has_metadata: bool,
    duplicate_id: Option<Uuid>,
    resized: bool,
    width: Option<i32>,
    height: Option<i32>,
    is_edited: bool,
}

impl AssetResponseDto {
    /// The people on the asset, which only its owner is shown.
    pub fn with_people(mut self, people: Vec<darkroom_storage::people::Person>) -> Self {
        self.people = people.into_iter().map(PersonResponseDto::from).collect();
        self
    }

    /// Shown without the viewer's own marks (Immich's city list).
    pub fn clear_favorite(&mut self) {
        self.is_favorite = false;
    }

    pub fn created_at_iso(&self) -> String {
        crate::dto::iso(&self.created_at)
    }

    /// The asset as `viewer` sees it; `owner` is the owner's user row when it should be shown.
    pub fn new(asset: Asset, viewer: Uuid, owner: Option<&User>) -> Self {
        let base64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
        Self {
            id: asset.id,
            created_at: asset.created_at,
            owner_id: asset.owner_id,
            owner: owner.map(UserResponseDto::from),
            library_id: asset.library_id,
            original_mime_type: darkroom_media::mime_type_of(&asset.original_file_name),
            asset_type: asset.asset_type,
            original_path: asset.original_path,
            original_file_name: asset.original_file_name,
            thumbhash: asset.thumbhash.as_deref().map(base64),
            file_created_at: asset.file_created_at,
            file_modified_at: asset.file_modified_at,
            local_date_time: asset.local_date_time,
            updated_at: asset.updated_at,
            // Favourites are personal: others never see them.
            is_favorite: asset.owner_id == viewer && asset.is_favorite,
            is_archived: asset.visibility == AssetVisibility::Archive,
            is_trashed: asset.deleted_at.is_some(),
            visibility: asset.visibility,
            duration: asset.duration,
            exif_info: asset.exif.map(ExifResponseDto::from),
            live_photo_video_id: asset.live_photo_video_id,
            tags: Some(Vec::new()),
            people: Vec::new(),
            checksum: base64(&asset.checksum),
            stack: Some(
                asset
                    .stack_id
                    .zip(asset.stack)
                    .map(|(id, (primary, count))| json!({ "id": id, "primaryAssetId": primary, "assetCount": count })),
            ),
            is_offline: asset.is_offline,
            has_metadata: true,
            duplicate_id: asset.duplicate_id,
            resized: true,
            width: asset.width,
            height: asset.height,
            is_edited: asset.is_edited,
        }
    }
}

/// `AssetUploadReadyV2`'s payload: the asset and its EXIF as mobile sync describes them.
pub fn upload_ready(asset: &Asset) -> Value {
    let base64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let iso = crate::dto::iso;
    let exif = asset.exif.clone().unwrap_or_default();
    serde_json::json!({
        "asset": {
            "id": asset.id,
            "ownerId": asset.owner_id,
            "originalFileName": asset.original_file_name,
            "thumbhash": asset.thumbhash.as_deref().map(base64),
            "checksum": base64(&asset.checksum),
            "fileCreatedAt": iso(&asset.file_created_at),
            "fileModifiedAt": iso(&asset.file_modified_at),
            "createdAt": iso(&asset.created_at),
            "localDateTime": iso(&asset.local_date_time),
            "duration": asset.duration,
            "type": asset.asset_type,
            "deletedAt": asset.deleted_at.as_ref().map(iso),
            "isFavorite": asset.is_favorite,
            "visibility": asset.visibility,
            "livePhotoVideoId": asset.live_photo_video_id,
            "stackId": asset.stack_id,
            "libraryId": asset.library_id,
            "width": asset.width,
            "height": asset.height,
            "isEdited": asset.is_edited,
        },
        "exif": {
            "assetId": asset.id,
            "description": exif.description,
            "exifImageWidth": exif.exif_image_width,
            "exifImageHeight": exif.exif_image_height,
            "fileSizeInByte": exif.file_size_in_byte,
            "orientation": exif.orientation,
            "dateTimeOriginal": exif.date_time_original.as_ref().map(iso),
            "modifyDate": exif.modify_date.as_ref().map(iso),
            "timeZone": exif.time_zone,
            "latitude": exif.latitude,
            "longitude": exif.longitude,
            "projectionType": exif.projection_type,
            "city": exif.city,
            "state": exif.state,
            "country": exif.country,
            "make": exif.make,
            "model": exif.model,
            "lensModel": exif.lens_model,
            "fNumber": exif.f_number,
            "focalLength": exif.focal_length,
            "iso": exif.iso,
            "exposureTime": exif.exposure_time,
            "profileDescription": exif.profile_description,
            "rating": exif.rating,
            "fps": exif.fps,
        },
    })
}

impl AssetResponseDto {
    /// What guests of a link that hides metadata see of an asset (Immich's
    /// `SanitizedAssetResponseDto`).
    pub fn sanitized(asset: &Asset) -> Value {
        let base64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
        serde_json::json!({
            "id": asset.id,
            "type": asset.asset_type,
            "originalMimeType": darkroom_media::mime_type_of(&asset.original_file_name),
            "thumbhash": asset.thumbhash.as_deref().map(base64),
            "localDateTime": crate::dto::iso(&asset.local_date_time),
            "duration": asset.duration,
            "livePhotoVideoId": asset.live_photo_video_id,
            "hasMetadata": false,
            "width": asset.width,
            "height": asset.height,
        })
    }

    /// What Immich's update answers: the asset without owner, tags and stack.
    pub fn without_relations(mut self) -> Self {
        self.owner = None;
        self.tags = None;
        self.stack = None;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exif_dates_read_like_postgres_json() {
        let date = DateTime::parse_from_rfc3339("2023-11-20T01:11:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(postgres_json_date(&date), "2023-11-20T01:11:00+00:00");
        let date = DateTime::parse_from_rfc3339("2023-11-20T01:11:00.120Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(postgres_json_date(&date), "2023-11-20T01:11:00.12+00:00");
    }
}
