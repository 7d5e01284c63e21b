//! tus 1.0 under `/api/upload/tus`: creation (with upload), offsets, appends with checksums,
//! termination and expiration.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use darkroom_storage::resumable::ResumableUpload;

use super::{header_number, header_text, set};
use crate::auth::{Auth, AuthContext};
use crate::dto::ids::UploadId;
use crate::error::{ApiError, ApiResult};
use crate::services::resumable::{self, NewUpload};
use crate::services::uploads::{UploadFields, UploadResult};
use crate::state::AppState;
use crate::validation::IdPath;

const TUS_VERSION: &str = "1.0.0";
const TUS_EXTENSIONS: &str = "creation,creation-with-upload,termination,checksum,expiration";
const TUS_CONTENT_TYPE: &str = "application/offset+octet-stream";

fn expires(upload: &ResumableUpload) -> String {
    httpdate::fmt_http_date(upload.expires_at.into())
}

/// Where a completed upload went: `X-Immich-Asset-Id` and `X-Immich-Asset-Status`
/// (`created`/`duplicate`), since a tus 204 has no body.
fn set_asset(response: &mut Response, result: UploadResult) {
    let (id, status) = match result {
        UploadResult::Created(id) => (id, "created"),
        UploadResult::Duplicate(id) => (id, "duplicate"),
    };
    set(response, "x-immich-asset-id", id);
    set(response, "x-immich-asset-status", status);
}

fn stored_result(upload: &ResumableUpload) -> Option<UploadResult> {
    upload.asset.as_ref().map(|(id, status)| {
        if status == "created" {
            UploadResult::Created(*id)
        } else {
            UploadResult::Duplicate(*id)
        }
    })
}

/// Every tus response names the protocol version; a 412 also lists the supported ones.
fn tus(result: ApiResult<Response>) -> Response {
    let mut response = result.unwrap_or_else(IntoResponse::into_response);
    set(&mut response, "tus-resumable", TUS_VERSION);
    if response.status() == StatusCode::PRECONDITION_FAILED {
        set(&mut response, "tus-version", TUS_VERSION);
    }
    response
}

fn check_tus_version(headers: &HeaderMap) -> ApiResult<()> {
    match header_text(headers, "tus-resumable") {
        Some(TUS_VERSION) => Ok(()),
        _ => Err(ApiError::PreconditionFailed(format!(
            "Tus-Resumable must be {TUS_VERSION}"
        ))),
    }
}

/// `Upload-Metadata`: `key base64,key base64,…` into the upload's form fields. `name` is taken
/// for `filename` when that is missing (Uppy sends it).
fn tus_metadata(raw: Option<&str>) -> ApiResult<UploadFields> {
    let mut fields = UploadFields::new();
    let invalid = || ApiError::bad_request("Invalid Upload-Metadata header");
    for pair in raw.unwrap_or("").split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once(' ').unwrap_or((pair, ""));
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(value.trim())
            .map_err(|_| invalid())?;
        let value = String::from_utf8(bytes).map_err(|_| invalid())?;
        if key.is_empty() || fields.insert(key.to_string(), value).is_some() {
            return Err(invalid());
        }
    }
    if !fields.contains_key("filename")
        && let Some(name) = fields.get("name").cloned()
    {
        fields.insert("filename".into(), name);
    }
    Ok(fields)
}

/// `Upload-Checksum: sha1 <base64>` for the bytes of this request.
fn tus_checksum(headers: &HeaderMap) -> ApiResult<Option<[u8; 20]>> {
    let Some(value) = header_text(headers, "upload-checksum") else {
        return Ok(None);
    };
    let (algorithm, digest) = value
        .split_once(' ')
        .ok_or_else(|| ApiError::bad_request("Invalid Upload-Checksum header"))?;
    if algorithm != "sha1" {
        return Err(ApiError::bad_request(format!(
            "Unsupported checksum algorithm {algorithm}"
        )));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(digest.trim())
        .map_err(|_| ApiError::bad_request("Invalid Upload-Checksum header"))?;
    bytes
        .try_into()
        .map(Some)
        .map_err(|_| ApiError::bad_request("Invalid Upload-Checksum header"))
}

pub async fn tus_options() -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    set(&mut response, "tus-version", TUS_VERSION);
    set(&mut response, "tus-extension", TUS_EXTENSIONS);
    set(&mut response, "tus-checksum-algorithm", "sha1");
    tus(Ok(response))
}

/// Appends the request's bytes and, once all arrived, completes the upload.
async fn tus_write(
    state: &AppState,
    auth: &AuthContext,
    upload: &ResumableUpload,
    offset: u64,
    headers: &HeaderMap,
    body: Body,
) -> ApiResult<(u64, Option<UploadResult>)> {
    let checksum = tus_checksum(headers)?;
    let new_offset = resumable::append(state, upload, offset, body.into_data_stream(), checksum).await?;
    if upload.upload_length == Some(new_offset as i64) {
        let result = resumable::complete(state, auth, upload).await?;
        return Ok((new_offset, Some(result)));
    }
    Ok((new_offset, None))
}

pub async fn tus_create(State(state): State<AppState>, Auth(auth): Auth, headers: HeaderMap, body: Body) -> Response {
    tus(async {
        check_tus_version(&headers)?;
        if headers.contains_key("upload-defer-length") {
            return Err(ApiError::bad_request(
                "Upload-Defer-Length is not supported: send Upload-Length",
            ));
        }
        let length = header_number(&headers, "upload-length")?
            .ok_or_else(|| ApiError::bad_request("Upload-Length is required"))?;
        let raw_metadata = header_text(&headers, "upload-metadata");
        let new = NewUpload {
            protocol: "tus",
            length: Some(length),
            fields: tus_metadata(raw_metadata)?,
            raw_metadata,
            checksum: None,
        };
        let upload = resumable::start(&state, &auth, new).await?;
        // creation-with-upload: the first bytes may come with the creation request.
        let with_data = header_text(&headers, "content-type") == Some(TUS_CONTENT_TYPE);
        let (offset, result) = if with_data {
            tus_write(&state, &auth, &upload, 0, &headers, body).await?
        } else {
            (0, None)
        };
        let mut response = StatusCode::CREATED.into_response();
        set(&mut response, "location", format!("/api/upload/tus/{}", upload.id));
        set(&mut response, "upload-offset", offset);
        set(&mut response, "upload-expires", expires(&upload));
        if let Some(result) = result {
            set_asset(&mut response, result);
        }
        Ok(response)
    }
    .await)
}

pub async fn tus_head(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<UploadId>,
    headers: HeaderMap,
) -> Response {
    tus(async {
        check_tus_version(&headers)?;
        let upload = resumable::find(&state, &auth, id).await?;
        let mut response = StatusCode::OK.into_response();
        set(
            &mut response,
            "upload-offset",
            resumable::offset(&state, &upload).await?,
        );
        if let Some(length) = upload.upload_length {
            set(&mut response, "upload-length", length);
        }
        if let Some(metadata) = &upload.raw_metadata {
            set(&mut response, "upload-metadata", metadata);
        }
        set(&mut response, "upload-expires", expires(&upload));
        set(&mut response, "cache-control", "no-store");
        if let Some(result) = stored_result(&upload) {
            set_asset(&mut response, result);
        }
        Ok(response)
    }
    .await)
}

pub async fn tus_patch(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<UploadId>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    tus(tus_patch_inner(&state, &auth, id, &headers, body).await)
}

async fn tus_patch_inner(
    state: &AppState,
    auth: &AuthContext,
    id: UploadId,
    headers: &HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    check_tus_version(headers)?;
    if header_text(headers, "content-type") != Some(TUS_CONTENT_TYPE) {
        return Err(ApiError::UnsupportedMediaType(format!(
            "Content-Type must be {TUS_CONTENT_TYPE}"
        )));
    }
    let offset =
        header_number(headers, "upload-offset")?.ok_or_else(|| ApiError::bad_request("Upload-Offset is required"))?;
    let upload = resumable::find(state, auth, id).await?;
    let (offset, result) = tus_write(state, auth, &upload, offset, headers, body).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    set(&mut response, "upload-offset", offset);
    set(&mut response, "upload-expires", expires(&upload));
    if let Some(result) = result.or_else(|| stored_result(&upload)) {
        set_asset(&mut response, result);
    }
    Ok(response)
}

pub async fn tus_delete(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<UploadId>,
    headers: HeaderMap,
) -> Response {
    tus(async {
        check_tus_version(&headers)?;
        resumable::find(&state, &auth, id).await?;
        resumable::discard(&state, id).await?;
        Ok(StatusCode::NO_CONTENT.into_response())
    }
    .await)
}

/// `POST` with `X-HTTP-Method-Override`, for clients behind proxies that drop PATCH.
pub async fn tus_override(
    state: State<AppState>,
    auth: Auth,
    id: IdPath<UploadId>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match header_text(&headers, "x-http-method-override")
        .map(str::to_ascii_uppercase)
        .as_deref()
    {
        Some("PATCH") => tus_patch(state, auth, id, headers, body).await,
        Some("DELETE") => tus_delete(state, auth, id, headers).await,
        Some("HEAD") => tus_head(state, auth, id, headers).await,
        _ => tus(Err(ApiError::bad_request(
            "POST to an upload needs X-HTTP-Method-Override",
        ))),
    }
}
