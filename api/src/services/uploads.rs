//! Turning an upload (multipart today, resumable uploads too) into an asset: the form's rules,
//! the file's place in `upload/`, and one transaction for the rows. Whatever fails on the way
//! removes the files this upload wrote.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use darkroom_media::MediaKind;
use darkroom_storage::assets::{self, AssetType, AssetVisibility, NewUpload, UploadOutcome};
use serde_json::Value;
use uuid::Uuid;

use crate::auth::AuthContext;
use crate::error::{ApiError, ApiResult, Context, ValidationIssue};
use crate::services::incoming::IncomingFile;
use crate::state::AppState;
use crate::validation::{invalid_uuid, parse_uuid_v4};

/// The text fields of an upload (`AssetMediaCreateDto`), as received.
pub type UploadFields = HashMap<String, String>;

/// A received file and the name the client gave it.
#[derive(Debug)]
pub struct NamedFile {
    pub file: IncomingFile,
    pub name: String,
}

/// What the server answers an upload with: 201 `created` or 200 `duplicate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadResult {
    Created(Uuid),
    Duplicate(Uuid),
}

/// The form fields, checked as Immich's `AssetMediaCreateDto` is.
#[derive(Debug)]
struct UploadForm {
    file_created_at: DateTime<Utc>,
    file_modified_at: DateTime<Utc>,
    filename: Option<String>,
    duration_ms: Option<i32>,
    is_favorite: bool,
    visibility: AssetVisibility,
    live_photo_video_id: Option<Uuid>,
    metadata: Vec<(String, Value)>,
}

/// The extension (with its dot, case kept) when `name` is a photo or video Immich accepts.
pub fn asset_extension(name: &str) -> Option<&str> {
    let media = darkroom_media::lookup(name)?;
    (media.kind != MediaKind::Sidecar).then(|| &name[name.rfind('.').unwrap_or(0)..])
}

pub fn unsupported(name: &str) -> ApiError {
    ApiError::bad_request(format!("Unsupported file type {name}"))
}

pub fn is_sidecar(name: &str) -> bool {
    darkroom_media::lookup(name).is_some_and(|media| media.kind == MediaKind::Sidecar)
}

/// A file name as stored in `originalFileName`: its last path component, never empty, `.`,
/// `..` or containing NUL (PostgreSQL text cannot hold it).
fn clean_file_name(name: &str) -> ApiResult<String> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    if base.is_empty() || base == "." || base == ".." || base.contains('\0') {
        return Err(ApiError::bad_request(format!(
            "Invalid file name {}",
            name.replace('\0', "\\0")
        )));
    }
    Ok(base.to_string())
}

/// `z.iso.datetime({offset: true})`: `YYYY-MM-DDTHH:MM[:SS[.fff…]]` then `Z` or `±HH:MM`.
fn parse_iso_datetime(text: &str) -> Option<DateTime<Utc>> {
    let bytes = text.as_bytes();
    let shape_ok = bytes.len() >= 17
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes[10] == b'T'
        && bytes[13] == b':'
        && [0..4, 5..7, 8..10, 11..13, 14..16]
            .iter()
            .all(|r| bytes[r.clone()].iter().all(u8::is_ascii_digit));
    if !shape_ok {
        return None;
    }
    // Seconds are optional in zod's grammar but required by RFC 3339.
    let normalised = if bytes[16] == b':' {
        text.to_string()
    } else {
        format!("{}:00{}", &text[..16], &text[16..])
    };
    // Byte positions, never string slices: the text is the client's and may hold any character.
    let zone_ok = normalised.ends_with('Z') || {
        let zone = &normalised.as_bytes()[normalised.len().saturating_sub(6)..];
        zone.len() == 6 && matches!(zone[0], b'+' | b'-') && zone[3] == b':'
    };
    if !zone_ok {
        return None;
    }
    DateTime::parse_from_rfc3339(&normalised)
        .ok()
        .map(|date| date.with_timezone(&Utc))
}

fn datetime_field(issues: &mut Vec<ValidationIssue>, fields: &UploadFields, name: &str) -> Option<DateTime<Utc>> {
    match fields.get(name) {
        None => {
            issues.push(ValidationIssue::with_code(
                "invalid_type",
                &[name],
                "Invalid input: expected ISO 8601 datetime string, received undefined",
            ));
            None
        }
        Some(text) => {
            let parsed = parse_iso_datetime(text);
            if parsed.is_none() {
                issues.push(ValidationIssue::with_code(
                    "invalid_format",
                    &[name],
                    "Invalid input: expected ISO 8601 datetime string, received string",
                ));
            }
            parsed
        }
    }
}

/// `z.coerce.number().int().min(0)`, in milliseconds.
fn duration_field(issues: &mut Vec<ValidationIssue>, text: &str) -> Option<i32> {
    let number: f64 = if text.trim().is_empty() {
        0.0
    } else {
        text.trim().parse().unwrap_or(f64::NAN)
    };
    let issue = |code, message: &str| ValidationIssue::with_code(code, &["duration"], message);
    if number.is_nan() {
        issues.push(issue("invalid_type", "Invalid input: expected number, received NaN"));
    } else if number.fract() != 0.0 || number.is_infinite() {
        issues.push(issue("invalid_type", "Invalid input: expected int, received number"));
    } else if number < 0.0 {
        issues.push(issue("too_small", "Too small: expected number to be >=0"));
    } else if number > f64::from(i32::MAX) {
        issues.push(issue("too_big", "Too big: expected int to be <=2147483647"));
    } else {
        return Some(number as i32);
    }
    None
}

fn metadata_field(issues: &mut Vec<ValidationIssue>, text: &str) -> Vec<(String, Value)> {
    let Ok(value) = serde_json::from_str::<Value>(text) else {
        issues.push(ValidationIssue::with_code(
            "custom",
            &["metadata"],
            "Invalid input: expected JSON string, received string",
        ));
        return Vec::new();
    };
    let Some(items) = value.as_array() else {
        let received = if value.is_object() { "object" } else { "string" };
        issues.push(ValidationIssue::with_code(
            "invalid_type",
            &["metadata"],
            format!("Invalid input: expected array, received {received}"),
        ));
        return Vec::new();
    };
    let mut entries = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let path = |field: &str| ValidationIssue {
            code: "invalid_type",
            path: vec![
                serde_json::json!("metadata"),
                serde_json::json!(index),
                serde_json::json!(field),
            ],
            message: String::new(),
        };
        match (item["key"].as_str(), item.get("value").filter(|v| v.is_object())) {
            (Some(key), Some(value)) => entries.push((key.to_string(), value.clone())),
            (None, _) => issues.push(ValidationIssue {
                message: "Invalid input: expected string, received undefined".into(),
                ..path("key")
            }),
            (_, None) => issues.push(ValidationIssue {
                message: "Invalid input: expected record, received undefined".into(),
                ..path("value")
            }),
        }
    }
    entries
}

fn parse_form(fields: &UploadFields) -> ApiResult<UploadForm> {
    let mut issues = Vec::new();
    let file_created_at = datetime_field(&mut issues, fields, "fileCreatedAt");
    let file_modified_at = datetime_field(&mut issues, fields, "fileModifiedAt");
    let duration_ms = fields
        .get("duration")
        .and_then(|text| duration_field(&mut issues, text));
    let is_favorite = match fields.get("isFavorite").map(String::as_str) {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            issues.push(ValidationIssue::with_code(
                "invalid_value",
                &["isFavorite"],
                r#"Invalid option: expected one of "true"|"false""#,
            ));
            false
        }
    };
    let visibility = match fields.get("visibility").map(String::as_str) {
        None => AssetVisibility::Timeline,
        Some(text) => AssetVisibility::parse(text).unwrap_or_else(|| {
            issues.push(ValidationIssue::with_code(
                "invalid_value",
                &["visibility"],
                r#"Invalid option: expected one of "archive"|"timeline"|"hidden"|"locked""#,
            ));
            AssetVisibility::Timeline
        }),
    };
    let live_photo_video_id = fields.get("livePhotoVideoId").and_then(|text| {
        let id = parse_uuid_v4(text);
        if id.is_none() {
            issues.push(invalid_uuid(&["livePhotoVideoId"]));
        }
        id
    });
    let metadata = fields
        .get("metadata")
        .map(|text| metadata_field(&mut issues, text))
        .unwrap_or_default();
    match (file_created_at, file_modified_at) {
        (Some(file_created_at), Some(file_modified_at)) if issues.is_empty() => Ok(UploadForm {
            file_created_at,
            file_modified_at,
            filename: fields.get("filename").filter(|name| !name.is_empty()).cloned(),
            duration_ms,
            is_favorite,
            visibility,
            live_photo_video_id,
            metadata,
        }),
        _ => Err(ApiError::Validation(issues)),
    }
}

/// Checks a resumable upload's fields before its bytes arrive; returns the file name.
pub fn check_fields(fields: &UploadFields) -> ApiResult<String> {
    let form = parse_form(fields)?;
    let name = form.filename.ok_or_else(|| {
        ApiError::Validation(vec![ValidationIssue::with_code(
            "invalid_type",
            &["filename"],
            "Invalid input: expected string, received undefined",
        )])
    })?;
    asset_extension(&name).ok_or_else(|| unsupported(&name))?;
    clean_file_name(&name)?;
    Ok(name)
}

/// Immich's quota rule: the upload must fit in what is left.
pub fn check_quota(auth: &AuthContext, size: i64) -> ApiResult<()> {
    match auth.user.quota_size_in_bytes {
        Some(quota) if quota < auth.user.quota_usage_in_bytes + size => {
            Err(ApiError::bad_request("Quota has been exceeded!"))
        }
        _ => Ok(()),
    }
}

/// Immich's checks of `livePhotoVideoId`, in its order.
async fn check_live_photo_video(state: &AppState, owner: Uuid, id: Uuid) -> ApiResult<()> {
    let video = assets::summary(&state.db, id)
        .await?
        .ok_or_else(|| ApiError::bad_request("Live photo video not found"))?;
    if video.asset_type != AssetType::Video {
        return Err(ApiError::bad_request("Live photo video must be a video"));
    }
    if video.owner_id != owner {
        return Err(ApiError::bad_request("Live photo video does not belong to the user"));
    }
    Ok(())
}

/// The asset a client's checksum (base64 of 28 characters, else hex) names, if the user has it.
pub async fn find_by_client_checksum(state: &AppState, owner: Uuid, checksum: &str) -> ApiResult<Option<(Uuid, bool)>> {
    match decode_checksum(checksum) {
        Some(bytes) => Ok(assets::find_by_checksum(&state.db, owner, &bytes).await?),
        None => Ok(None),
    }
}

/// Like Immich, a malformed checksum is not an error: it just matches nothing.
pub fn decode_checksum(text: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    let bytes = if text.len() == 28 {
        base64::engine::general_purpose::STANDARD.decode(text).ok()?
    } else {
        (0..text.len() / 2)
            .map(|i| {
                text.get(i * 2..i * 2 + 2)
                    .and_then(|pair| u8::from_str_radix(pair, 16).ok())
            })
            .collect::<Option<Vec<u8>>>()?
    };
    (bytes.len() == 20).then_some(bytes)
}

/// Stores a received upload as an asset of `auth`'s user.
#[tracing::instrument(skip_all, fields(user = %auth.user.id))]
pub async fn create_asset(
    state: &AppState,
    auth: &AuthContext,
    fields: &UploadFields,
    asset: Option<NamedFile>,
    sidecar: Option<NamedFile>,
) -> ApiResult<UploadResult> {
    let form = parse_form(fields)?;
    let Some(asset) = asset else {
        let message = if sidecar.is_some() {
            "Field(s) assetData should not be empty"
        } else {
            "File is required"
        };
        return Err(ApiError::bad_request(message));
    };
    if asset.file.size() == 0 {
        return Err(ApiError::bad_request("Field(s) assetData should not be empty"));
    }
    let type_name = form.filename.clone().unwrap_or_else(|| asset.name.clone());
    let extension = asset_extension(&type_name)
        .ok_or_else(|| unsupported(&type_name))?
        .to_string();
    let original_file_name = clean_file_name(&type_name)?;
    let media = darkroom_media::lookup(&type_name).ok_or_else(|| unsupported(&type_name))?;
    let owner = auth.user.id;
    let size = i64::try_from(asset.file.size()).context("reading the upload's size")?;
    check_quota(auth, size)?;
    if let Some(video) = form.live_photo_video_id {
        check_live_photo_video(state, owner, video).await?;
    }

    let modified = std::time::SystemTime::from(form.file_modified_at);
    asset.file.set_modified(modified)?;
    let checksum = asset.file.sha1().to_vec();
    let original = asset
        .file
        .persist(&state.layout.upload_path(owner, Uuid::new_v4(), &extension))
        .await?;
    let sidecar = match sidecar {
        Some(sidecar) => {
            sidecar.file.set_modified(modified)?;
            Some(
                sidecar
                    .file
                    .persist(&state.layout.upload_path(owner, Uuid::new_v4(), ".xmp"))
                    .await?,
            )
        }
        None => None,
    };
    let id = Uuid::new_v4();
    let upload = NewUpload {
        id,
        owner_id: owner,
        asset_type: if media.kind == MediaKind::Video {
            AssetType::Video
        } else {
            AssetType::Image
        },
        original_path: original.path_text(),
        original_file_name,
        checksum,
        file_size: size,
        file_created_at: form.file_created_at,
        file_modified_at: form.file_modified_at,
        is_favorite: form.is_favorite,
        visibility: form.visibility,
        duration_ms: form.duration_ms.filter(|&ms| ms > 0),
        live_photo_video_id: form.live_photo_video_id,
        sidecar_path: sidecar.as_ref().map(|placed| placed.path_text()),
        metadata: form.metadata,
    };
    // Until `commit`, dropping `original` and `sidecar` removes the files again.
    let result = match assets::create_upload(&state.db, &upload).await? {
        UploadOutcome::Created => {
            original.commit();
            if let Some(sidecar) = sidecar {
                sidecar.commit();
            }
            tracing::info!(asset = %id, size, "asset uploaded");
            state.metrics.uploaded(size.unsigned_abs());
            if let Some(video) = upload.live_photo_video_id {
                // The video became the still's motion part: clients drop it from their timelines.
                crate::events::send(state, owner, "on_asset_hidden", serde_json::json!(video)).await;
            }
            crate::jobs::asset_uploaded(state, id).await;
            UploadResult::Created(id)
        }
        UploadOutcome::Duplicate(existing) => UploadResult::Duplicate(existing),
        UploadOutcome::QuotaExceeded => return Err(ApiError::bad_request("Quota has been exceeded!")),
    };
    add_to_shared_link(state, auth, result).await?;
    Ok(result)
}

/// A guest's upload lands in the link's album, or among the link's assets.
async fn add_to_shared_link(state: &AppState, auth: &AuthContext, result: UploadResult) -> ApiResult<()> {
    let Some(link) = &auth.shared_link else { return Ok(()) };
    let (UploadResult::Created(id) | UploadResult::Duplicate(id)) = result;
    match link.album_id {
        Some(album) => {
            darkroom_storage::albums::add_assets(&state.db, album, &[id]).await?;
        }
        None => darkroom_storage::shared_links::add_assets(&state.db, link.id, &[id]).await?,
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetimes_follow_zods_iso_rule() {
        for good in [
            "2024-05-01T12:34:56.789Z",
            "2024-05-01T12:34Z",
            "2024-05-01T12:34:56+02:00",
            "2024-02-29T00:00:00.123456-07:00",
        ] {
            assert!(parse_iso_datetime(good).is_some(), "{good}");
        }
        for bad in [
            "2024-05-01",
            "2024-05-01T12:34:56",
            "2024-05-01T12:34:56+0200",
            "2024-05-01 12:34:56Z",
            "2023-02-29T00:00:00Z",
            "x",
        ] {
            assert!(parse_iso_datetime(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn checksums_are_hex_or_base64() {
        let hex = "a9993e364706816aba3e25717850c26c9cd0d89d";
        let base64 = "qZk+NkcGgWq6PiVxeFDCbJzQ2J0=";
        assert_eq!(decode_checksum(hex), decode_checksum(base64));
        assert!(decode_checksum(hex).is_some());
        assert_eq!(decode_checksum("zz"), None);
        assert_eq!(decode_checksum(""), None);
    }

    #[test]
    fn file_names_lose_their_folders() {
        assert_eq!(clean_file_name("../../etc/passwd.jpg").unwrap(), "passwd.jpg");
        assert_eq!(clean_file_name("a/b.jpg").unwrap(), "b.jpg");
        assert!(clean_file_name("a\0.jpg").is_err());
        assert!(clean_file_name("photos/").is_err());
        assert_eq!(asset_extension("IMG_1.JPG"), Some(".JPG"));
        assert_eq!(asset_extension("notes.txt"), None);
        assert_eq!(asset_extension("x.xmp"), None);
    }
}
