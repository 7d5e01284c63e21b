//! `/oauth/*` and `/admin/auth/unlink-all`: sign-in through an OpenID provider.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use darkroom_storage::users;
use serde::Deserialize;
use serde_json::json;

use super::auth::{SignIn, set_cookies, signed_in};
use crate::auth::{self as authn, Auth};
use crate::dto::UserAdminResponseDto;
use crate::error::{ApiError, ApiResult, ValidationIssue};
use crate::oauth::{self, CODE_VERIFIER_COOKIE, Callback, STATE_COOKIE};
use crate::services::users as user_service;
use crate::state::AppState;
use crate::validation::{ValidJson, Validate, rules};

/// The sign-in's cookies live as long as Immich's login cookies.
const COOKIE_MAX_AGE_SECS: i64 = 34_560_000;

/// `GET /oauth/mobile-redirect`: hands the provider's answer to the mobile app.
pub async fn mobile_redirect(RawQuery(query): RawQuery) -> Response {
    let location = oauth::mobile_redirect(query.as_deref());
    (StatusCode::TEMPORARY_REDIRECT, [(header::LOCATION, location)]).into_response()
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OAuthConfigDto {
    redirect_uri: String,
    state: Option<String>,
    code_challenge: Option<String>,
}

impl Validate for OAuthConfigDto {
    fn validate(&self) -> Vec<ValidationIssue> {
        Vec::new()
    }
}

/// The names the request reached this server by: its host (or HTTP/2 authority), and the one
/// a trusted proxy forwarded.
fn request_hosts(state: &AppState, parts: &Parts) -> Vec<String> {
    let mut hosts = Vec::new();
    let text = |name| parts.headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    hosts.extend(text(header::HOST).map(str::to_owned));
    hosts.extend(parts.uri.authority().map(|authority| authority.to_string()));
    let from_proxy = authn::peer_ip(&parts.extensions).is_some_and(|ip| state.is_trusted_proxy(ip));
    if from_proxy && let Some(forwarded) = text(header::HeaderName::from_static("x-forwarded-host")) {
        hosts.extend(forwarded.split(',').map(|h| h.trim().to_owned()));
    }
    hosts
}

pub async fn authorize(
    State(state): State<AppState>,
    parts: Parts,
    ValidJson(dto): ValidJson<OAuthConfigDto>,
) -> ApiResult<Response> {
    let hosts = request_hosts(&state, &parts);
    let started = oauth::authorize(&state, &dto.redirect_uri, dto.state, dto.code_challenge, hosts).await?;
    let mut response = (StatusCode::CREATED, Json(json!({ "url": started.url }))).into_response();
    // A client's own state goes into the cookie only as plain text (never cookie attributes);
    // such a client sends it back in the body anyway.
    let plain = |text: &str| text.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    let mut cookies = Vec::new();
    if plain(&started.state) {
        cookies.push((STATE_COOKIE, started.state.as_str(), true));
    }
    if let Some(verifier) = &started.code_verifier {
        cookies.push((CODE_VERIFIER_COOKIE, verifier.as_str(), true));
    }
    set_cookies(
        response.headers_mut(),
        &cookies,
        authn::is_secure(&state, &parts),
        COOKIE_MAX_AGE_SECS,
    );
    Ok(response)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OAuthCallbackDto {
    url: String,
    state: Option<String>,
    code_verifier: Option<String>,
}

impl Validate for OAuthCallbackDto {
    fn validate(&self) -> Vec<ValidationIssue> {
        let mut issues = Vec::new();
        rules::min_length(&mut issues, &["url"], &self.url, 1);
        issues
    }
}

impl OAuthCallbackDto {
    /// The body's state and verifier, else the web app's cookies.
    fn callback<'a>(&'a self, headers: &'a HeaderMap) -> Callback<'a> {
        Callback {
            url: &self.url,
            state: self.state.as_deref().or_else(|| authn::cookie(headers, STATE_COOKIE)),
            code_verifier: self
                .code_verifier
                .as_deref()
                .or_else(|| authn::cookie(headers, CODE_VERIFIER_COOKIE)),
        }
    }
}

pub async fn callback(
    State(state): State<AppState>,
    parts: Parts,
    ValidJson(dto): ValidJson<OAuthCallbackDto>,
) -> ApiResult<Response> {
    let (user, sid) = oauth::sign_in(&state, &dto.callback(&parts.headers)).await?;
    let mut response = signed_in(&state, &parts, &user, SignIn::Oauth { sid }).await?;
    let spent = [(STATE_COOKIE, "", true), (CODE_VERIFIER_COOKIE, "", true)];
    set_cookies(response.headers_mut(), &spent, false, 0);
    Ok(response)
}

pub async fn link(
    State(state): State<AppState>,
    parts: Parts,
    Auth(auth): Auth,
    ValidJson(dto): ValidJson<OAuthCallbackDto>,
) -> ApiResult<Json<UserAdminResponseDto>> {
    let user = oauth::link(&state, &auth, &dto.callback(&parts.headers)).await?;
    Ok(Json(user_service::admin_dto(&state.db, &user).await?))
}

pub async fn unlink(State(state): State<AppState>, Auth(auth): Auth) -> ApiResult<Json<UserAdminResponseDto>> {
    let user = oauth::unlink(&state, &auth).await?;
    Ok(Json(user_service::admin_dto(&state.db, &user).await?))
}

#[derive(Debug, Deserialize)]
struct LogoutTokenDto {
    logout_token: Option<String>,
}

/// `POST /oauth/backchannel-logout`: the provider posts a form (`logout_token=…`); JSON is
/// taken too, as Immich takes it.
pub async fn backchannel_logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let dto: Option<LogoutTokenDto> = if is_json {
        serde_json::from_slice(&body).ok()
    } else {
        serde_urlencoded::from_bytes(&body).ok()
    };
    let Some(token) = dto.and_then(|dto| dto.logout_token) else {
        return Err(ApiError::Validation(vec![ValidationIssue::with_code(
            "invalid_type",
            &["logout_token"],
            "Invalid input: expected string, received undefined",
        )]));
    };
    let ended = oauth::backchannel_logout(&state, &token).await?;
    crate::events::sessions_deleted(&state, &ended).await;
    Ok(StatusCode::OK)
}

/// `POST /admin/auth/unlink-all`: every account forgets its OAuth subject.
pub async fn unlink_all(State(state): State<AppState>) -> ApiResult<StatusCode> {
    users::unlink_all_oauth(&state.db).await?;
    tracing::info!("unlinked every account from OAuth");
    Ok(StatusCode::NO_CONTENT)
}
