//! `/admin/maintenance*` and `/admin/database-backups/start-restore`, and the small API that
//! answers while the server is in maintenance mode (Immich's maintenance worker): the server's
//! identity, the backups, and the maintenance routes, signed in with the maintenance cookie.

use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{database_backups, server};
use crate::auth::{self as authn, Auth};
use crate::error::{ApiResult, ValidationIssue};
use crate::maintenance::{
    self, FolderReport, MaintenanceAction, MaintenanceStatus, SetMaintenanceMode, TOKEN_COOKIE, token_cookie,
};
use crate::state::AppState;
use crate::validation::{ValidJson, Validate};

/// The maintenance cookie lasts a day; the token in it four hours.
const COOKIE_MAX_AGE_SECS: i64 = 24 * 60 * 60;

impl Validate for SetMaintenanceMode {
    fn refine(&self) -> Vec<ValidationIssue> {
        let named = self
            .restore_backup_filename
            .as_deref()
            .is_some_and(|name| !name.is_empty());
        if self.action == MaintenanceAction::RestoreDatabase && !named {
            return vec![ValidationIssue::with_code(
                "custom",
                &["restoreBackupFilename"],
                "Backup filename is required when action is restore_database",
            )];
        }
        Vec::new()
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct MaintenanceLoginDto {
    #[serde(default)]
    token: Option<String>,
}

impl Validate for MaintenanceLoginDto {}

/// 201 with the maintenance cookie set to `token`.
fn with_token_cookie(state: &AppState, parts: &Parts, token: &str, body: Response) -> Response {
    let mut response = body;
    *response.status_mut() = StatusCode::CREATED;
    let secure = authn::is_secure(state, parts);
    super::auth::set_cookies(
        response.headers_mut(),
        &[(TOKEN_COOKIE, token, true)],
        secure,
        COOKIE_MAX_AGE_SECS,
    );
    response
}

pub async fn status(State(state): State<AppState>, headers: HeaderMap) -> Json<MaintenanceStatus> {
    Json(maintenance::status(&state, token_cookie(&headers)))
}

#[derive(serde::Serialize)]
pub struct MaintenanceDetectInstallResponseDto {
    storage: Vec<FolderReport>,
}

pub async fn detect_install(State(state): State<AppState>) -> Json<MaintenanceDetectInstallResponseDto> {
    Json(MaintenanceDetectInstallResponseDto {
        storage: maintenance::detect_install(&state).await,
    })
}

/// Signs in to maintenance mode with the token from the link (or the cookie), and keeps it
/// in the cookie.
pub async fn login(
    State(state): State<AppState>,
    parts: Parts,
    ValidJson(dto): ValidJson<MaintenanceLoginDto>,
) -> ApiResult<Response> {
    let token = dto.token.as_deref().or_else(|| token_cookie(&parts.headers));
    let username = maintenance::login(&state, token)?;
    let token = token.unwrap_or_default().to_owned();
    let body = Json(json!({ "username": username })).into_response();
    Ok(with_token_cookie(&state, &parts, &token, body))
}

/// Outside maintenance mode, for a signed-in admin: enters it (setting the maintenance
/// cookie) for any action but `end`, which has nothing to end.
pub async fn enter(
    State(state): State<AppState>,
    Auth(auth): Auth,
    parts: Parts,
    ValidJson(dto): ValidJson<SetMaintenanceMode>,
) -> ApiResult<Response> {
    if dto.action == MaintenanceAction::End {
        return Ok(StatusCode::CREATED.into_response());
    }
    let token = maintenance::start(&state, dto, &auth.user.name).await?;
    Ok(with_token_cookie(&state, &parts, &token, ().into_response()))
}

/// Inside maintenance mode: runs the action (`end` leaves it).
pub async fn act(State(state): State<AppState>, ValidJson(dto): ValidJson<SetMaintenanceMode>) -> StatusCode {
    maintenance::set_action(&state, dto);
    StatusCode::CREATED
}

/// On a server nobody has set up: enters maintenance mode to restore a backup.
pub async fn start_restore(State(state): State<AppState>, parts: Parts) -> ApiResult<Response> {
    let token = maintenance::start_restore_flow(&state).await?;
    Ok(with_token_cookie(&state, &parts, &token, ().into_response()))
}

/// `GET /server/config` in maintenance mode: the one thing the apps need to know.
async fn maintenance_config() -> Json<Value> {
    Json(json!({ "maintenanceMode": true }))
}

/// Lets through requests that carry a valid maintenance cookie.
async fn require_login(State(state): State<AppState>, request: Request, next: Next) -> ApiResult<Response> {
    maintenance::login(&state, token_cookie(request.headers()))?;
    Ok(next.run(request).await)
}

/// Every route that answers under `/api` in maintenance mode.
pub fn router(state: &AppState) -> Router<AppState> {
    let signed_in = Router::new()
        .route(
            "/admin/database-backups",
            get(database_backups::list).delete(database_backups::delete),
        )
        .route("/admin/database-backups/upload", post(database_backups::upload))
        .route("/admin/database-backups/{filename}", get(database_backups::download))
        .route("/admin/maintenance", post(act))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_login));
    Router::new()
        .route("/server/config", get(maintenance_config))
        .route("/server/ping", get(server::ping))
        .route("/server/version", get(server::version))
        .route("/admin/maintenance/status", get(status))
        .route("/admin/maintenance/detect-install", get(detect_install))
        .route("/admin/maintenance/login", post(login))
        .merge(signed_in)
}
