//! Asset files: upload (`POST /assets`), the pre-upload duplicate check, and the original's bytes.

use axum::Json;
use axum::extract::multipart::{Multipart, MultipartError, MultipartRejection};
use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use darkroom_storage::assets::AssetType;
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::auth::Auth;
use crate::dto::ids::AssetId;
use crate::error::{ApiError, ApiResult};
use crate::permission::Permission;
use crate::services::incoming::IncomingFile;
use crate::services::uploads::{self, NamedFile, UploadFields, UploadResult};
use crate::state::AppState;
use crate::validation::{IdPath, ValidJson, ValidQuery, Validate};
use crate::{access, file_serving};

/// Longest text field accepted, as busboy's default.
const MAX_FIELD_BYTES: usize = 1024 * 1024;

fn multipart_error(error: MultipartError) -> ApiError {
    error.into()
}

pub fn upload_response(result: UploadResult) -> Response {
    match result {
        UploadResult::Created(id) => {
            (StatusCode::CREATED, Json(json!({ "id": id, "status": "created" }))).into_response()
        }
        UploadResult::Duplicate(id) => {
            (StatusCode::OK, Json(json!({ "id": id, "status": "duplicate" }))).into_response()
        }
    }
}

/// `POST /assets`. The checksum header answers duplicates before the body is read; otherwise
/// the files stream to disk (hashed on the way) and the fields are checked once all arrived.
pub async fn upload(
    State(state): State<AppState>,
    Auth(auth): Auth,
    headers: HeaderMap,
    request: Request,
) -> ApiResult<Response> {
    if auth.shared_link.as_ref().is_some_and(|link| !link.allow_upload) {
        return Err(ApiError::unauthorized("Unauthorized"));
    }
    if let Some(checksum) = headers
        .get("x-immich-checksum")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        && let Some((id, _)) = uploads::find_by_client_checksum(&state, auth.user.id, checksum).await?
    {
        return Ok(upload_response(UploadResult::Duplicate(id)));
    }
    let mut fields = UploadFields::new();
    let mut asset: Option<NamedFile> = None;
    let mut sidecar: Option<NamedFile> = None;
    // A body that is not multipart carries no fields: validation then names what is missing.
    if let Ok(mut multipart) = Multipart::from_request(request, &state)
        .await
        .map_err(|_: MultipartRejection| ())
    {
        while let Some(field) = multipart.next_field().await? {
            let name = field.name().unwrap_or("").to_string();
            let Some(file_name) = field.file_name().map(str::to_string) else {
                let value = read_text(field).await?;
                fields.entry(name).or_insert(value);
                continue;
            };
            if file_name.is_empty() {
                continue; // like multer: a file part without a name is skipped
            }
            let slot = match name.as_str() {
                "assetData" if asset.is_none() => &mut asset,
                "sidecarData" if sidecar.is_none() => &mut sidecar,
                _ => return Err(ApiError::bad_request("Unexpected field")),
            };
            // Refuse a wrong type before storing a byte of it.
            if name == "assetData" {
                let type_name = fields.get("filename").filter(|n| !n.is_empty()).unwrap_or(&file_name);
                if uploads::asset_extension(type_name).is_none() {
                    return Err(uploads::unsupported(type_name));
                }
            } else if !uploads::is_sidecar(&file_name) {
                return Err(uploads::unsupported(&file_name));
            }
            let file = IncomingFile::receive(&state.layout, field.map_err(multipart_error)).await?;
            *slot = Some(NamedFile { file, name: file_name });
        }
    }
    let result = uploads::create_asset(&state, &auth, &fields, asset, sidecar).await?;
    Ok(upload_response(result))
}

async fn read_text(mut field: axum::extract::multipart::Field<'_>) -> ApiResult<String> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await? {
        bytes.extend_from_slice(&chunk);
        if bytes.len() > MAX_FIELD_BYTES {
            return Err(ApiError::bad_request("Field value too long"));
        }
    }
    String::from_utf8(bytes).map_err(|_| ApiError::bad_request("Field values must be UTF-8 text"))
}

#[derive(Debug, Deserialize)]
pub struct BulkUploadCheckItem {
    id: String,
    checksum: String,
}

#[derive(Debug, Deserialize)]
pub struct BulkUploadCheckDto {
    assets: Vec<BulkUploadCheckItem>,
}

impl Validate for BulkUploadCheckDto {}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkUploadCheckResult {
    id: String,
    action: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    asset_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    is_trashed: Option<bool>,
}

/// `POST /assets/bulk-upload-check`: which of the client's files the server already has,
/// answered with one query however many checksums arrive.
pub async fn bulk_upload_check(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidJson(dto): ValidJson<BulkUploadCheckDto>,
) -> ApiResult<Json<serde_json::Value>> {
    let decoded: Vec<Option<Vec<u8>>> = dto
        .assets
        .iter()
        .map(|item| uploads::decode_checksum(&item.checksum))
        .collect();
    let wanted: Vec<Vec<u8>> = decoded.iter().flatten().cloned().collect();
    let known: std::collections::HashMap<Vec<u8>, (Uuid, bool)> = if wanted.is_empty() {
        Default::default()
    } else {
        darkroom_storage::assets::find_by_checksums(&state.db, auth.user.id, &wanted)
            .await?
            .into_iter()
            .map(|(checksum, id, trashed)| (checksum, (id, trashed)))
            .collect()
    };
    let results: Vec<BulkUploadCheckResult> = dto
        .assets
        .into_iter()
        .zip(decoded)
        .map(|(item, checksum)| match checksum.and_then(|c| known.get(&c).copied()) {
            Some((asset_id, trashed)) => BulkUploadCheckResult {
                id: item.id,
                action: "reject",
                reason: Some("duplicate"),
                asset_id: Some(asset_id),
                is_trashed: Some(trashed),
            },
            None => BulkUploadCheckResult {
                id: item.id,
                action: "accept",
                reason: None,
                asset_id: None,
                is_trashed: None,
            },
        })
        .collect();
    Ok(Json(json!({ "results": results })))
}

#[derive(Debug, Deserialize)]
pub struct OriginalQuery {
    #[serde(default)]
    #[allow(dead_code)]
    edited: bool,
}

impl Validate for OriginalQuery {}

/// `GET /assets/{id}/original`: the uploaded bytes, named after the original file. Like
/// Immich, every failure here — access included — is a plain 404.
pub async fn download_original(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<AssetId>,
    ValidQuery(_query): ValidQuery<OriginalQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    access::require_assets(&state, &auth, Permission::AssetDownload, &[id.0])
        .await
        .map_err(|_| file_serving::not_found())?;
    let asset = darkroom_storage::assets::get(&state.db, id.0)
        .await?
        .ok_or_else(file_serving::not_found)?;
    let path = std::path::Path::new(&asset.original_path);
    if asset.library_id.is_none() && !state.layout.contains(path) {
        return Err(file_serving::not_found());
    }
    let stem = asset
        .original_file_name
        .rsplit_once('.')
        .map_or(asset.original_file_name.as_str(), |(stem, _)| stem);
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| format!(".{e}"))
        .unwrap_or_default();
    let download_name = format!("{stem}{extension}");
    file_serving::send_file(
        &headers,
        file_serving::FileReply {
            path,
            content_type: darkroom_media::mime_type_of(&asset.original_path),
            download_name: Some(&download_name),
            cache_control: file_serving::PRIVATE_CACHE,
        },
    )
    .await
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ThumbnailSize {
    Thumbnail,
    Preview,
    Fullsize,
    Original,
}

#[derive(Debug, Deserialize)]
pub struct ThumbnailQuery {
    size: Option<ThumbnailSize>,
    #[serde(default)]
    #[allow(dead_code)]
    edited: bool,
}

impl Validate for ThumbnailQuery {}

/// Formats a browser shows as they are: their full size is the original itself.
const WEB_VIEWABLE: [&str; 7] = [".avif", ".bmp", ".gif", ".jpeg", ".jpg", ".png", ".webp"];

fn redirect(to: String) -> Response {
    (StatusCode::FOUND, [(axum::http::header::LOCATION, to)]).into_response()
}

/// `GET /assets/{id}/thumbnail?size=thumbnail|preview|fullsize`: the generated images.
pub async fn thumbnail(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<AssetId>,
    ValidQuery(query): ValidQuery<ThumbnailQuery>,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> ApiResult<Response> {
    access::require_assets(&state, &auth, Permission::AssetView, &[id.0])
        .await
        .map_err(|_| file_serving::not_found())?;
    let asset = darkroom_storage::assets::get(&state.db, id.0)
        .await?
        .ok_or_else(file_serving::not_found)?;
    // Redirects keep the query (a shared link's key among it).
    let with_query = |path: String, size: Option<&str>| {
        let mut pairs: Vec<String> = uri
            .query()
            .unwrap_or("")
            .split('&')
            .filter(|p| !p.is_empty() && !p.starts_with("size="))
            .map(str::to_string)
            .collect();
        if let Some(size) = size {
            pairs.push(format!("size={size}"));
        }
        if pairs.is_empty() {
            path
        } else {
            format!("{path}?{}", pairs.join("&"))
        }
    };
    let kind = match query.size.unwrap_or(ThumbnailSize::Thumbnail) {
        ThumbnailSize::Original => return Ok(redirect(with_query(format!("/api/assets/{id}/original"), None))),
        ThumbnailSize::Fullsize => {
            let extension = darkroom_media::extension_of(&asset.original_file_name).unwrap_or_default();
            if WEB_VIEWABLE.contains(&extension.as_str()) {
                return Ok(redirect(with_query(format!("/api/assets/{id}/original"), None)));
            }
            if darkroom_storage::asset_jobs::file_path(&state.db, id.0, "fullsize")
                .await?
                .is_none()
            {
                return Ok(redirect(with_query(
                    format!("/api/assets/{id}/thumbnail"),
                    Some("preview"),
                )));
            }
            "fullsize"
        }
        ThumbnailSize::Preview => "preview",
        ThumbnailSize::Thumbnail => "thumbnail",
    };
    let path = darkroom_storage::asset_jobs::file_path(&state.db, id.0, kind)
        .await?
        .ok_or_else(|| ApiError::not_found("Asset media not found"))?;
    let path = std::path::PathBuf::from(path);
    if !state.layout.contains(&path) {
        return Err(file_serving::not_found());
    }
    let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_string();
    // Guests of a link that hides metadata do not learn the file's name.
    let hide_name = auth.shared_link.as_ref().is_some_and(|link| !link.show_exif);
    let stem = if hide_name {
        id.to_string()
    } else {
        asset
            .original_file_name
            .rsplit_once('.')
            .map_or(asset.original_file_name.clone(), |(stem, _)| stem.to_string())
    };
    let name = format!("{stem}_{kind}.{extension}");
    file_serving::send_file(
        &headers,
        file_serving::FileReply {
            path: &path,
            content_type: darkroom_media::mime_type_of(&path.to_string_lossy()),
            download_name: Some(&name),
            cache_control: file_serving::PRIVATE_CACHE,
        },
    )
    .await
}

/// `GET /assets/{id}/video/playback`: the transcoded video when there is one, else the
/// original, with byte ranges for seeking.
pub async fn video_playback(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<AssetId>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    access::require_assets(&state, &auth, Permission::AssetView, &[id.0])
        .await
        .map_err(|_| file_serving::not_found())?;
    let asset = darkroom_storage::assets::get(&state.db, id.0)
        .await?
        .ok_or_else(file_serving::not_found)?;
    if asset.asset_type != AssetType::Video {
        return Err(ApiError::not_found("Asset not found or asset is not a video"));
    }
    let encoded = darkroom_storage::asset_jobs::file_path(&state.db, id.0, "encoded_video").await?;
    let path = std::path::PathBuf::from(encoded.unwrap_or(asset.original_path));
    if asset.library_id.is_none() && !state.layout.contains(&path) {
        return Err(file_serving::not_found());
    }
    file_serving::send_file(
        &headers,
        file_serving::FileReply {
            path: &path,
            content_type: darkroom_media::mime_type_of(&path.to_string_lossy()),
            download_name: None,
            cache_control: file_serving::PRIVATE_CACHE,
        },
    )
    .await
}
