//! `/sessions*`: a user's signed-in devices, and child sessions (e.g. for casting).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{Duration, Utc};
use darkroom_storage::sessions::{self, NewSession, Session};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::auth::{Auth, AuthContext, tokens};
use crate::dto::ids::SessionId;
use crate::dto::{serialize_iso, serialize_iso_opt};
use crate::error::{ApiError, ApiResult, Context, ValidationIssue};
use crate::state::AppState;
use crate::validation::{IdPath, ValidJson, Validate, rules};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionResponseDto {
    id: Uuid,
    #[serde(serialize_with = "serialize_iso")]
    created_at: chrono::DateTime<Utc>,
    #[serde(serialize_with = "serialize_iso")]
    updated_at: chrono::DateTime<Utc>,
    #[serde(serialize_with = "serialize_iso_opt", skip_serializing_if = "Option::is_none")]
    expires_at: Option<chrono::DateTime<Utc>>,
    current: bool,
    device_type: String,
    #[serde(rename = "deviceOS")]
    device_os: String,
    app_version: Option<String>,
    is_pending_sync_reset: bool,
}

pub fn session_dto(session: Session, current: Option<Uuid>) -> SessionResponseDto {
    SessionResponseDto {
        current: Some(session.id) == current,
        id: session.id,
        created_at: session.created_at,
        updated_at: session.updated_at,
        expires_at: session.expires_at,
        device_type: session.device_type,
        device_os: session.device_os,
        app_version: session.app_version,
        is_pending_sync_reset: session.is_pending_sync_reset,
    }
}

pub async fn list(State(state): State<AppState>, Auth(auth): Auth) -> ApiResult<Json<Vec<SessionResponseDto>>> {
    let current = auth.session.as_ref().map(|s| s.id);
    let rows = sessions::list_by_user(&state.db, auth.user.id).await?;
    Ok(Json(rows.into_iter().map(|s| session_dto(s, current)).collect()))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionCreateDto {
    duration: Option<i64>,
    device_type: Option<String>,
    #[serde(rename = "deviceOS")]
    device_os: Option<String>,
}

impl Validate for SessionCreateDto {
    fn validate(&self) -> Vec<ValidationIssue> {
        let mut issues = Vec::new();
        if let Some(duration) = self.duration {
            rules::min_number(&mut issues, &["duration"], duration, 1);
        }
        issues
    }
}

pub async fn create(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidJson(dto): ValidJson<SessionCreateDto>,
) -> ApiResult<Response> {
    let Some(parent) = &auth.session else {
        return Err(ApiError::bad_request(
            "This endpoint can only be used with a session token",
        ));
    };
    let token = tokens::generate();
    let session = sessions::create(
        &state.db,
        &NewSession {
            token_hash: tokens::hash(&token),
            user_id: auth.user.id,
            parent_id: Some(parent.id),
            device_type: dto.device_type.unwrap_or_default(),
            device_os: dto.device_os.unwrap_or_default(),
            expires_at: dto.duration.map(|secs| Utc::now() + Duration::seconds(secs)),
            ..Default::default()
        },
    )
    .await?;
    let mut body = serde_json::to_value(session_dto(session, None)).context("describing the session")?;
    body["token"] = json!(token);
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// The caller's own session `id`, or Immich's access error naming `permission`.
async fn require_own(state: &AppState, auth: &AuthContext, id: SessionId, permission: &str) -> ApiResult<Session> {
    match sessions::get(&state.db, id.0).await? {
        Some(session) if session.user_id == auth.user.id => Ok(session),
        _ => Err(ApiError::bad_request(format!("Not found or no {permission} access"))),
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionUpdateDto {
    is_pending_sync_reset: Option<bool>,
}

impl Validate for SessionUpdateDto {}

pub async fn update(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<SessionId>,
    ValidJson(dto): ValidJson<SessionUpdateDto>,
) -> ApiResult<Json<SessionResponseDto>> {
    require_own(&state, &auth, id, "session.update").await?;
    let Some(pending) = dto.is_pending_sync_reset else {
        return Err(ApiError::bad_request("No fields to update"));
    };
    sessions::set_pending_sync_reset(&state.db, id.0, pending).await?;
    let session = require_own(&state, &auth, id, "session.update").await?;
    Ok(Json(session_dto(session, None)))
}

pub async fn delete(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<SessionId>,
) -> ApiResult<StatusCode> {
    require_own(&state, &auth, id, "authDevice.delete").await?;
    sessions::delete(&state.db, id.0).await?;
    crate::events::sessions_deleted(&state, &[id.0]).await;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn delete_all(State(state): State<AppState>, Auth(auth): Auth) -> ApiResult<StatusCode> {
    let deleted = sessions::delete_all_except(&state.db, auth.user.id, auth.session.as_ref().map(|s| s.id)).await?;
    crate::events::sessions_deleted(&state, &deleted).await;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn lock(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<SessionId>,
) -> ApiResult<StatusCode> {
    require_own(&state, &auth, id, "session.lock").await?;
    sessions::set_pin_expires_at(&state.db, id.0, None).await?;
    Ok(StatusCode::NO_CONTENT)
}
