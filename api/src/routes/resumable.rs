//! Resumable uploads, which Immich lacks: tus 1.0 under `/api/upload/tus` and the IETF
//! resumable-upload draft (as Immich's proposed implementation speaks it) under `/api/upload`.
//! Both end like `POST /api/assets`: the same checks, the same de-duplication, the same answer.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use darkroom_storage::resumable::ResumableUpload;
use serde_json::json;
use uuid::Uuid;

use super::asset_media::upload_response;
use crate::auth::{Auth, AuthContext};
use crate::error::{ApiError, ApiResult};
use crate::services::resumable::{self, MAX_AGE_HOURS, NewUpload};
use crate::services::uploads::{self, UploadFields, UploadResult};
use crate::state::AppState;
use crate::structured_fields::{self, Item};
use crate::validation::IdPath;

const TUS_VERSION: &str = "1.0.0";
const TUS_EXTENSIONS: &str = "creation,creation-with-upload,termination,checksum,expiration";
const TUS_CONTENT_TYPE: &str = "application/offset+octet-stream";
const RUFH_CONTENT_TYPE: &str = "application/partial-upload";

fn header_text<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim)
}

fn header_number(headers: &HeaderMap, name: &str) -> ApiResult<Option<u64>> {
    match header_text(headers, name) {
        None => Ok(None),
        Some(text) => text
            .parse()
            .map(Some)
            .map_err(|_| ApiError::bad_request(format!("Invalid {name} header"))),
    }
}

fn set(response: &mut Response, name: &'static str, value: impl ToString) {
    if let Ok(value) = HeaderValue::from_str(&value.to_string()) {
        response.headers_mut().insert(HeaderName::from_static(name), value);
    }
}

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

// ---------------------------------------------------------------------------------------------
// tus 1.0

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
    IdPath(id): IdPath,
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
    IdPath(id): IdPath,
    headers: HeaderMap,
    body: Body,
) -> Response {
    tus(tus_patch_inner(&state, &auth, id, &headers, body).await)
}

async fn tus_patch_inner(
    state: &AppState,
    auth: &AuthContext,
    id: Uuid,
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
    IdPath(id): IdPath,
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
pub async fn tus_override(state: State<AppState>, auth: Auth, id: IdPath, headers: HeaderMap, body: Body) -> Response {
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

// ---------------------------------------------------------------------------------------------
// IETF resumable-upload draft

const UPLOAD_LIMIT: &str = "min-size=1, max-age=259200";
const _: () = assert!(
    MAX_AGE_HOURS * 3600 == 259_200,
    "Upload-Limit's max-age follows MAX_AGE_HOURS"
);

/// `Upload-Draft-Interop-Version`; 3 (draft 01) is the oldest spoken, by iOS 17.
fn interop_version(headers: &HeaderMap) -> ApiResult<Option<u32>> {
    match header_text(headers, "upload-draft-interop-version") {
        None => Ok(None),
        Some(text) => match text.parse::<u32>() {
            Ok(version) if version >= 3 => Ok(Some(version)),
            _ => Err(ApiError::bad_request("Upload-Draft-Interop-Version must be 3 or later")),
        },
    }
}

/// `Upload-Complete`, or draft 01's inverted `Upload-Incomplete`.
fn upload_complete(headers: &HeaderMap) -> ApiResult<Option<bool>> {
    let parse = |name: &str| -> ApiResult<Option<bool>> {
        header_text(headers, name)
            .map(|text| {
                structured_fields::boolean(text)
                    .ok_or_else(|| ApiError::bad_request(format!("{name} must be ?0 or ?1")))
            })
            .transpose()
    };
    match parse("upload-complete")? {
        Some(complete) => Ok(Some(complete)),
        None => Ok(parse("upload-incomplete")?.map(|incomplete| !incomplete)),
    }
}

fn set_complete(response: &mut Response, version: Option<u32>, complete: bool) {
    let sf = |b: bool| if b { "?1" } else { "?0" };
    match version {
        Some(v) if v <= 3 => set(response, "upload-incomplete", sf(!complete)),
        _ => set(response, "upload-complete", sf(complete)),
    }
}

/// An `application/problem+json` answer with the draft's problem types.
fn problem(status: StatusCode, kind: &str, title: &str, extra: serde_json::Value) -> Response {
    let mut body = json!({ "type": format!("https://iana.org/assignments/http-problem-types#{kind}"), "title": title, "message": title });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    let mut response = (status, Json(body)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response
}

fn completed_problem() -> Response {
    problem(
        StatusCode::BAD_REQUEST,
        "completed-upload",
        "upload is already completed",
        json!({}),
    )
}

fn rufh(version: Option<u32>, result: ApiResult<Response>) -> Response {
    match result {
        Ok(response) => response,
        Err(ApiError::OffsetMismatch { expected, provided }) => {
            let mut response = problem(
                StatusCode::CONFLICT,
                "mismatching-upload-offset",
                "offset from request does not match offset of resource",
                json!({ "expected-offset": expected, "provided-offset": provided }),
            );
            set(&mut response, "upload-offset", expected);
            set_complete(&mut response, version, false);
            response
        }
        Err(error) => error.into_response(),
    }
}

/// `X-Immich-Asset-Data`, a structured dictionary, into the upload's form fields.
fn asset_data(headers: &HeaderMap) -> ApiResult<UploadFields> {
    let invalid = || ApiError::bad_request("Missing or invalid X-Immich-Asset-Data header");
    let dict = header_text(headers, "x-immich-asset-data")
        .and_then(structured_fields::dictionary)
        .ok_or_else(invalid)?;
    let mut fields = UploadFields::new();
    let names = [
        ("filename", "filename"),
        ("file-created-at", "fileCreatedAt"),
        ("file-modified-at", "fileModifiedAt"),
        ("live-photo-video-id", "livePhotoVideoId"),
        ("visibility", "visibility"),
    ];
    for (key, field) in names {
        match dict.get(key) {
            Some(Item::String(value) | Item::Token(value)) => {
                fields.insert(field.into(), value.clone());
            }
            Some(_) => {
                return Err(ApiError::bad_request(format!(
                    "X-Immich-Asset-Data: {key} must be a string"
                )));
            }
            None => {}
        }
    }
    match dict.get("is-favorite") {
        Some(Item::Boolean(favorite)) => {
            fields.insert("isFavorite".into(), favorite.to_string());
        }
        Some(_) => {
            return Err(ApiError::bad_request(
                "X-Immich-Asset-Data: is-favorite must be a boolean",
            ));
        }
        None => {}
    }
    if let Some(Item::Integer(duration)) = dict.get("duration") {
        fields.insert("duration".into(), duration.to_string());
    }
    if let Some(Item::String(cloud_id)) = dict.get("icloud-id") {
        fields.insert(
            "metadata".into(),
            json!([{ "key": "mobile-app", "value": { "iCloudId": cloud_id } }]).to_string(),
        );
    }
    Ok(fields)
}

/// `Repr-Digest: sha=:<base64 SHA-1>:`.
fn repr_digest(headers: &HeaderMap) -> ApiResult<[u8; 20]> {
    let invalid = || ApiError::bad_request("Invalid repr-digest header");
    let dict = header_text(headers, "repr-digest")
        .and_then(structured_fields::dictionary)
        .ok_or_else(invalid)?;
    match dict.get("sha") {
        Some(Item::Bytes(bytes)) => bytes.clone().try_into().map_err(|_| invalid()),
        _ => Err(invalid()),
    }
}

pub async fn rufh_options() -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    set(&mut response, "accept-patch", RUFH_CONTENT_TYPE);
    set(&mut response, "upload-limit", UPLOAD_LIMIT);
    response
}

/// After the last byte: the upload becomes an asset and gets `POST /assets`'s answer.
async fn rufh_finish(
    state: &AppState,
    auth: &AuthContext,
    upload: &ResumableUpload,
    received: u64,
    version: Option<u32>,
) -> ApiResult<Response> {
    if upload.upload_length.is_none() {
        darkroom_storage::resumable::set_length(&state.db, upload.id, received as i64).await?;
    }
    let upload = resumable::find(state, auth, upload.id).await?;
    let result = resumable::complete(state, auth, &upload).await?;
    let mut response = upload_response(result);
    set_complete(&mut response, version, true);
    Ok(response)
}

pub async fn rufh_create(State(state): State<AppState>, Auth(auth): Auth, headers: HeaderMap, body: Body) -> Response {
    let version = interop_version(&headers).ok().flatten();
    rufh(
        version,
        async {
            let version = interop_version(&headers)?;
            let complete = upload_complete(&headers)?.unwrap_or(true);
            let fields = asset_data(&headers)?;
            let checksum = repr_digest(&headers)?;
            // Bytes the user already has are not read at all.
            if let Some((id, _)) = uploads::find_by_client_checksum(
                &state,
                auth.user.id,
                &base64::engine::general_purpose::STANDARD.encode(checksum),
            )
            .await?
            {
                let mut response = upload_response(UploadResult::Duplicate(id));
                set_complete(&mut response, version, true);
                return Ok(response);
            }
            let length = header_number(&headers, "upload-length")?.or(if complete {
                header_number(&headers, "content-length")?
            } else {
                None
            });
            let new = NewUpload {
                protocol: "rufh",
                length,
                fields,
                raw_metadata: None,
                checksum: Some(checksum),
            };
            let upload = resumable::start(&state, &auth, new).await?;
            let received = resumable::append(&state, &upload, 0, body.into_data_stream(), None).await?;
            if complete {
                return rufh_finish(&state, &auth, &upload, received, version).await;
            }
            let mut response = StatusCode::CREATED.into_response();
            set(&mut response, "location", format!("/api/upload/{}", upload.id));
            set(&mut response, "upload-offset", received);
            set(&mut response, "upload-limit", UPLOAD_LIMIT);
            set_complete(&mut response, version, false);
            Ok(response)
        }
        .await,
    )
}

fn require_version(headers: &HeaderMap) -> ApiResult<Option<u32>> {
    interop_version(headers)?
        .ok_or_else(|| ApiError::bad_request("Upload-Draft-Interop-Version is required"))
        .map(Some)
}

pub async fn rufh_patch(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let version = interop_version(&headers).ok().flatten();
    rufh(
        version,
        async {
            let version = require_version(&headers)?;
            let offset = header_number(&headers, "upload-offset")?
                .ok_or_else(|| ApiError::bad_request("Upload-Offset is required"))?;
            let complete =
                upload_complete(&headers)?.ok_or_else(|| ApiError::bad_request("upload-complete is required"))?;
            if version.is_some_and(|v| v >= 6) && header_text(&headers, "content-type") != Some(RUFH_CONTENT_TYPE) {
                return Err(ApiError::bad_request(format!(
                    "Content-Type must be equal to {RUFH_CONTENT_TYPE}"
                )));
            }
            let upload = resumable::find(&state, &auth, id).await?;
            if upload.asset.is_some() {
                return Ok(completed_problem());
            }
            if let Some(length) = header_number(&headers, "upload-length")? {
                match upload.upload_length {
                    Some(known) if known as u64 != length => {
                        return Ok(problem(
                            StatusCode::BAD_REQUEST,
                            "inconsistent-upload-length",
                            "inconsistent length values for upload",
                            json!({}),
                        ));
                    }
                    Some(_) => {}
                    None => darkroom_storage::resumable::set_length(&state.db, id, length as i64).await?,
                }
            }
            let upload = resumable::find(&state, &auth, id).await?;
            let received = resumable::append(&state, &upload, offset, body.into_data_stream(), None).await?;
            if complete {
                return rufh_finish(&state, &auth, &upload, received, version).await;
            }
            let mut response = StatusCode::NO_CONTENT.into_response();
            set(&mut response, "upload-offset", received);
            set_complete(&mut response, version, false);
            Ok(response)
        }
        .await,
    )
}

pub async fn rufh_head(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath,
    headers: HeaderMap,
) -> Response {
    let version = interop_version(&headers).ok().flatten();
    rufh(
        version,
        async {
            let version = require_version(&headers)?;
            let upload = resumable::find(&state, &auth, id).await?;
            let mut response = StatusCode::NO_CONTENT.into_response();
            set(
                &mut response,
                "upload-offset",
                resumable::offset(&state, &upload).await?,
            );
            if let Some(length) = upload.upload_length {
                set(&mut response, "upload-length", length);
            }
            set(&mut response, "upload-limit", UPLOAD_LIMIT);
            set(&mut response, "cache-control", "no-store");
            set_complete(&mut response, version, upload.asset.is_some());
            Ok(response)
        }
        .await,
    )
}

pub async fn rufh_delete(State(state): State<AppState>, Auth(auth): Auth, IdPath(id): IdPath) -> Response {
    rufh(
        None,
        async {
            let upload = resumable::find(&state, &auth, id).await?;
            if upload.asset.is_some() {
                return Ok(completed_problem());
            }
            resumable::discard(&state, id).await?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        .await,
    )
}

/// The resumable-upload routes (not part of Immich's API, so not in its route table).
pub fn routes(state: &AppState) -> axum::Router<AppState> {
    use crate::auth::Access;
    use crate::permission::Permission as P;
    use axum::routing::{MethodFilter, MethodRouter, on};
    let upload = Access::permission(P::AssetUpload);
    let guarded = |router: MethodRouter<AppState>| {
        router.layer(axum::middleware::from_fn_with_state(
            (state.clone(), upload),
            crate::auth::authorize,
        ))
    };
    axum::Router::new()
        .route(
            "/upload",
            guarded(on(MethodFilter::POST, rufh_create)).merge(on(MethodFilter::OPTIONS, rufh_options)),
        )
        .route(
            "/upload/{id}",
            guarded(
                on(MethodFilter::PATCH, rufh_patch)
                    .on(MethodFilter::HEAD, rufh_head)
                    .on(MethodFilter::DELETE, rufh_delete),
            ),
        )
        .route(
            "/upload/tus",
            guarded(on(MethodFilter::POST, tus_create)).merge(on(MethodFilter::OPTIONS, tus_options)),
        )
        .route(
            "/upload/tus/{id}",
            guarded(
                on(MethodFilter::PATCH, tus_patch)
                    .on(MethodFilter::HEAD, tus_head)
                    .on(MethodFilter::DELETE, tus_delete)
                    .on(MethodFilter::POST, tus_override),
            ),
        )
}
