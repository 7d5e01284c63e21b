//! The IETF resumable-upload draft under `/api/upload`, as Immich's proposed implementation
//! speaks it (interop versions 3 and later).

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use darkroom_storage::resumable::ResumableUpload;
use serde_json::json;

use super::{header_number, header_text, set};
use crate::auth::{Auth, AuthContext};
use crate::dto::ids::UploadId;
use crate::error::{ApiError, ApiResult};
use crate::routes::asset_media::upload_response;
use crate::services::resumable::{self, MAX_AGE_HOURS, NewUpload};
use crate::services::uploads::{self, UploadFields, UploadResult};
use crate::state::AppState;
use crate::structured_fields::{self, Item};
use crate::validation::IdPath;

const RUFH_CONTENT_TYPE: &str = "application/partial-upload";

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
    let upload = resumable::find(state, auth, upload.id.into()).await?;
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
    IdPath(id): IdPath<UploadId>,
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
                    None => darkroom_storage::resumable::set_length(&state.db, id.0, length as i64).await?,
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
    IdPath(id): IdPath<UploadId>,
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

pub async fn rufh_delete(State(state): State<AppState>, Auth(auth): Auth, IdPath(id): IdPath<UploadId>) -> Response {
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
