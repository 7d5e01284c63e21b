//! `/sync/stream` and `/sync/ack`: the official mobile app's sync protocol.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use darkroom_storage::sync as store;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::auth::{Auth, AuthContext};
use crate::error::{ApiError, ApiResult, ValidationIssue};
use crate::services::sync::{self as sync_service, Checkpoint, ENTITY_TYPES, Lines, REQUEST_ORDER, Sync};
use crate::state::AppState;
use crate::validation::{ValidJson, Validate};

/// Sync belongs to a device's login: API keys have no session to keep checkpoints in.
fn session_of(auth: &AuthContext) -> ApiResult<Uuid> {
    auth.session
        .as_ref()
        .map(|s| s.id)
        .ok_or_else(|| ApiError::forbidden("Sync endpoints cannot be used with API keys"))
}

fn one_of(issues: &mut Vec<ValidationIssue>, field: &str, index: usize, value: &str, allowed: &[&str]) {
    if !allowed.contains(&value) {
        issues.push(ValidationIssue {
            code: "invalid_value",
            path: vec![serde_json::json!(field), serde_json::json!(index)],
            message: format!(
                "Invalid option: expected one of {}",
                allowed.iter().map(|a| format!("\"{a}\"")).collect::<Vec<_>>().join("|")
            ),
        });
    }
}

#[derive(Debug, Deserialize)]
pub struct SyncStreamDto {
    types: Vec<String>,
    #[serde(default)]
    reset: bool,
}

impl Validate for SyncStreamDto {
    fn validate(&self) -> Vec<ValidationIssue> {
        let mut issues = Vec::new();
        for (index, kind) in self.types.iter().enumerate() {
            one_of(&mut issues, "types", index, kind, &REQUEST_ORDER);
        }
        issues
    }
}

const RESET_LINE: &str = "{\"type\":\"SyncResetV1\",\"data\":{},\"ack\":\"SyncResetV1|reset\"}\n";
/// Audit rows live 31 days: a client silent for longer than 30 starts over.
const MAX_SILENCE_MS: u64 = 30 * 24 * 3600 * 1000;

fn jsonlines(body: Body) -> Response {
    ([(header::CONTENT_TYPE, "application/jsonlines+json")], body).into_response()
}

/// `POST /sync/stream`.
pub async fn stream(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidJson(dto): ValidJson<SyncStreamDto>,
) -> ApiResult<Response> {
    let session = session_of(&auth)?;
    if let Some((old, new)) = dto
        .types
        .iter()
        .find_map(|t| sync_service::replacement(t).map(|r| (t.clone(), r)))
    {
        return Err(ApiError::bad_request(format!(
            "SyncRequestType.{old} is deprecated, use SyncRequestType.{new} instead"
        )));
    }
    if dto.reset {
        store::reset_progress(&state.db, session).await?;
    }
    if store::pending_reset(&state.db, session).await? {
        return Ok(jsonlines(Body::from(RESET_LINE)));
    }
    let checkpoints: sync_service::Checkpoints = store::checkpoints(&state.db, session)
        .await?
        .into_iter()
        .map(|(kind, ack)| (kind, Checkpoint::parse(&ack)))
        .collect();
    let now_ms = chrono::Utc::now().timestamp_millis().max(0) as u64;
    if checkpoints
        .get("SyncCompleteV1")
        .and_then(Checkpoint::timestamp_ms)
        .is_some_and(|at| at + MAX_SILENCE_MS < now_ms)
    {
        return Ok(jsonlines(Body::from(RESET_LINE)));
    }
    let now = store::now_id(&state.db).await?;
    let requested: Vec<&'static str> = REQUEST_ORDER
        .into_iter()
        .filter(|t| dto.types.iter().any(|r| r == t))
        .collect();
    let (sender, receiver) = mpsc::channel::<std::io::Result<bytes::Bytes>>(8);
    let user = auth.user.id;
    let span = tracing::Span::current();
    tokio::spawn(tracing::Instrument::instrument(
        async move {
            let mut sync = Sync {
                db: &state.db,
                session,
                user,
                now,
                checkpoints,
                lines: Lines::new(sender),
            };
            let mut outcome = Ok(());
            for request_type in requested {
                outcome = sync.request(request_type).await;
                if outcome.is_err() {
                    break;
                }
            }
            if outcome.is_ok() {
                outcome = sync
                    .lines
                    .line("SyncCompleteV1", "{}", &format!("SyncCompleteV1|{now}"))
                    .await;
            }
            match outcome.and(sync.lines.flush().await) {
                Ok(()) | Err(sync_service::StreamError::Gone) => {}
                // The client sees the stream end without SyncCompleteV1 and syncs again later.
                Err(error) => tracing::error!(%error, "sync stream stopped"),
            }
        },
        span,
    ));
    let body = futures::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|chunk| (chunk, receiver))
    });
    Ok(jsonlines(crate::panic_guard::stream_body(body)))
}

#[derive(Debug, Serialize)]
pub struct SyncAckDto {
    #[serde(rename = "type")]
    kind: String,
    ack: String,
}

/// `GET /sync/ack`: the session's checkpoints.
pub async fn get_acks(State(state): State<AppState>, Auth(auth): Auth) -> ApiResult<Json<Vec<SyncAckDto>>> {
    let session = session_of(&auth)?;
    let rows = store::checkpoints(&state.db, session).await?;
    Ok(Json(
        rows.into_iter().map(|(kind, ack)| SyncAckDto { kind, ack }).collect(),
    ))
}

#[derive(Debug, Deserialize)]
pub struct SyncAckSetDto {
    acks: Vec<String>,
}

impl Validate for SyncAckSetDto {
    fn validate(&self) -> Vec<ValidationIssue> {
        if self.acks.len() > 1000 {
            return vec![ValidationIssue::with_code(
                "too_big",
                &["acks"],
                "Too big: expected array to have <=1000 items",
            )];
        }
        Vec::new()
    }
}

/// `POST /sync/ack`: the client has stored everything up to these acks (the last per type
/// counts); a `SyncResetV1` ack starts the session's sync over instead.
pub async fn set_acks(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidJson(dto): ValidJson<SyncAckSetDto>,
) -> ApiResult<StatusCode> {
    let session = session_of(&auth)?;
    let mut latest: Vec<(String, String)> = Vec::new();
    for ack in dto.acks {
        let kind = ack.split('|').next().unwrap_or_default().to_string();
        if kind == "SyncResetV1" {
            store::reset_progress(&state.db, session).await?;
            return Ok(StatusCode::NO_CONTENT);
        }
        if !ENTITY_TYPES.contains(&kind.as_str()) {
            return Err(ApiError::bad_request(format!("Invalid ack type: {kind}")));
        }
        latest.retain(|(k, _)| *k != kind);
        latest.push((kind, ack));
    }
    if !latest.is_empty() {
        store::save_checkpoints(&state.db, session, &latest).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
pub struct SyncAckDeleteDto {
    types: Option<Vec<String>>,
}

impl Validate for SyncAckDeleteDto {
    fn validate(&self) -> Vec<ValidationIssue> {
        let mut issues = Vec::new();
        for (index, kind) in self.types.iter().flatten().enumerate() {
            one_of(&mut issues, "types", index, kind, &ENTITY_TYPES);
        }
        issues
    }
}

/// `DELETE /sync/ack`: forget the checkpoints of some types (all without `types`).
pub async fn delete_acks(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidJson(dto): ValidJson<SyncAckDeleteDto>,
) -> ApiResult<StatusCode> {
    let session = session_of(&auth)?;
    store::delete_checkpoints(&state.db, session, dto.types.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}
