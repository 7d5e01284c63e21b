//! `/auth/*`: sign-up, login, logout, passwords, PIN codes and session locking.

use axum::Json;
use axum::extract::State;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{Duration, Utc};
use darkroom_storage::users::{self, UserChanges};
use darkroom_storage::{sessions, system_metadata};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::user_agent::ClientDetails;
use crate::auth::{
    self as authn, ACCESS_TOKEN_COOKIE, AUTH_TYPE_COOKIE, Auth, AuthContext, IS_AUTHENTICATED_COOKIE, tokens,
};
use crate::error::{ApiError, ApiResult, ValidationIssue};
use crate::services::users::{self as user_service, CreateUser};
use crate::state::AppState;
use crate::validation::{ValidJson, Validate, rules};

/// 400 days, as Immich's cookies.
const COOKIE_MAX_AGE_SECS: i64 = 34_560_000;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignUpDto {
    email: String,
    password: String,
    name: String,
}

impl Validate for SignUpDto {
    fn validate(&self) -> Vec<ValidationIssue> {
        let mut issues = Vec::new();
        rules::email(&mut issues, &["email"], &self.email);
        issues
    }
}

pub async fn sign_up_admin(State(state): State<AppState>, ValidJson(dto): ValidJson<SignUpDto>) -> ApiResult<Response> {
    if !state.config.allow_setup {
        return Err(ApiError::bad_request("Admin setup is disabled"));
    }
    if users::get_admin(&state.db).await?.is_some() {
        return Err(ApiError::bad_request("The server already has an admin"));
    }
    let admin = user_service::create(
        &state.db,
        CreateUser {
            email: dto.email.to_lowercase(),
            name: dto.name,
            password: Some(dto.password),
            is_admin: true,
            storage_label: Some("admin".into()),
            quota_size_in_bytes: None,
            should_change_password: None,
            avatar_color: None,
            pin_code: None,
            oauth_id: String::new(),
        },
    )
    .await?;
    let body = user_service::admin_dto(&state.db, &admin).await?;
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginCredentialDto {
    email: String,
    password: String,
}

impl Validate for LoginCredentialDto {
    fn validate(&self) -> Vec<ValidationIssue> {
        let mut issues = Vec::new();
        rules::email(&mut issues, &["email"], &self.email);
        issues
    }
}

pub async fn login(
    State(state): State<AppState>,
    parts: Parts,
    ValidJson(dto): ValidJson<LoginCredentialDto>,
) -> ApiResult<Response> {
    if !state.system_config.typed(&state.db).await?.password_login.enabled {
        return Err(ApiError::unauthorized("Password login has been disabled"));
    }
    let email = dto.email.to_lowercase();
    let ip = authn::client_ip(&state, &parts);
    if let Err(retry_after_secs) = state.login_limiter.check(&state.jobs, ip, &email).await {
        tracing::warn!(kind = "login_throttled", client_ip = %ip, email, "login throttled after repeated failures");
        return Err(ApiError::TooManyRequests { retry_after_secs });
    }

    let user = users::get_by_email(&state.db, &email, false).await?;
    // Always run bcrypt, so an unknown e-mail takes as long as a wrong password.
    let hash = user.as_ref().map_or(tokens::DUMMY_HASH, |u| u.password.as_str());
    let matches = user_service::verify(&dto.password, hash).await?;
    let Some(user) = user.filter(|u| matches && !u.password.is_empty()) else {
        state.login_limiter.record_failure(&state.jobs, ip, &email).await;
        // Immich's words, so log parsers written for Immich (CrowdSec's) read ours too.
        tracing::warn!(
            kind = "login_failed",
            client_ip = %ip,
            email,
            "Failed login attempt for user {email} from ip address {ip}"
        );
        return Err(ApiError::unauthorized("Incorrect email or password"));
    };
    state.login_limiter.record_success(&state.jobs, ip, &email).await;

    signed_in(&state, &parts, &user, SignIn::Password).await
}

/// How a user signed in; the web app keeps it in `immich_auth_type` to know where signing out goes.
pub(super) enum SignIn {
    Password,
    /// Through the OpenID provider, with its session id when it sent one.
    Oauth {
        sid: Option<String>,
    },
}

/// A new session for `user`: Immich's login response, with the three login cookies.
pub(super) async fn signed_in(state: &AppState, parts: &Parts, user: &users::User, how: SignIn) -> ApiResult<Response> {
    let client = ClientDetails::from_headers(&parts.headers);
    let token = tokens::generate();
    let (auth_type, oauth_sid) = match how {
        SignIn::Password => ("password", None),
        SignIn::Oauth { sid } => ("oauth", sid),
    };
    sessions::create(
        &state.db,
        &sessions::NewSession {
            token_hash: tokens::hash(&token),
            user_id: user.id,
            device_type: client.device_type,
            device_os: client.device_os,
            app_version: client.app_version,
            oauth_sid,
            ..Default::default()
        },
    )
    .await?;

    let onboarding = users::metadata_value(&state.db, user.id, user_service::ONBOARDING_KEY).await?;
    let body = json!({
        "accessToken": token,
        "userId": user.id,
        "userEmail": user.email,
        "name": user.name,
        "isAdmin": user.is_admin,
        "profileImagePath": user.profile_image_path,
        "shouldChangePassword": user.should_change_password,
        "isOnboarded": onboarding.and_then(|o| o["isOnboarded"].as_bool()).unwrap_or(false),
    });
    let secure = authn::is_secure(state, parts);
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    set_cookies(
        response.headers_mut(),
        &[
            (ACCESS_TOKEN_COOKIE, &token, true),
            (AUTH_TYPE_COOKIE, auth_type, true),
            (IS_AUTHENTICATED_COOKIE, "true", false),
        ],
        secure,
        COOKIE_MAX_AGE_SECS,
    );
    Ok(response)
}

/// Sets cookies `(name, value, http_only)` for `max_age` seconds (0 expires them).
pub(super) fn set_cookies(headers: &mut HeaderMap, cookies: &[(&str, &str, bool)], secure: bool, max_age: i64) {
    let expires = (Utc::now() + Duration::seconds(max_age)).format("%a, %d %b %Y %H:%M:%S GMT");
    for (name, value, http_only) in cookies {
        let mut cookie = format!("{name}={value}; Max-Age={max_age}; Path=/; Expires={expires};");
        if *http_only {
            cookie.push_str(" HttpOnly;");
        }
        if secure {
            cookie.push_str(" Secure;");
        }
        cookie.push_str(" SameSite=Lax");
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            headers.append(header::SET_COOKIE, value);
        }
    }
}

pub async fn logout(State(state): State<AppState>, parts: Parts, Auth(auth): Auth) -> ApiResult<Response> {
    if let Some(session) = &auth.session {
        sessions::delete(&state.db, session.id).await?;
        crate::events::sessions_deleted(&state, &[session.id]).await;
    }
    let redirect_uri = if authn::cookie(&parts.headers, AUTH_TYPE_COOKIE) == Some("oauth") {
        crate::oauth::logout_redirect(&state).await
    } else {
        crate::oauth::LOGIN_URL.to_owned()
    };
    let body = json!({ "successful": true, "redirectUri": redirect_uri });
    let mut response = (StatusCode::OK, Json(body)).into_response();
    // Expire the three login cookies.
    let cleared = [
        (ACCESS_TOKEN_COOKIE, "", true),
        (AUTH_TYPE_COOKIE, "", true),
        (IS_AUTHENTICATED_COOKIE, "", false),
    ];
    set_cookies(response.headers_mut(), &cleared, false, 0);
    Ok(response)
}

pub async fn validate_token(Auth(_): Auth) -> Json<Value> {
    Json(json!({ "authStatus": true }))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangePasswordDto {
    password: String,
    new_password: String,
    #[serde(default)]
    invalidate_sessions: bool,
}

impl Validate for ChangePasswordDto {
    fn validate(&self) -> Vec<ValidationIssue> {
        let mut issues = Vec::new();
        rules::min_length(&mut issues, &["newPassword"], &self.new_password, 8);
        issues
    }
}

pub async fn change_password(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidJson(dto): ValidJson<ChangePasswordDto>,
) -> ApiResult<Json<crate::dto::UserAdminResponseDto>> {
    if !user_service::verify(&dto.password, &auth.user.password).await? {
        return Err(ApiError::bad_request("Wrong password"));
    }
    let changes = UserChanges {
        password_hash: Some(user_service::hash(&dto.new_password).await?),
        ..Default::default()
    };
    let user = users::update(&state.db, auth.user.id, &changes).await?;
    // Immich 3.0 signs out every other session here whatever `invalidateSessions` says;
    // we honour the flag the API documents.
    if dto.invalidate_sessions {
        let deleted = sessions::delete_all_except(&state.db, user.id, auth.session.as_ref().map(|s| s.id)).await?;
        crate::events::sessions_deleted(&state, &deleted).await;
    }
    Ok(Json(user_service::admin_dto(&state.db, &user).await?))
}

pub async fn status(State(state): State<AppState>, Auth(auth): Auth) -> ApiResult<Json<Value>> {
    let mut body = json!({
        "pinCode": auth.user.pin_code.is_some(),
        "password": !auth.user.password.is_empty(),
        "isElevated": auth.session.as_ref().is_some_and(|s| s.has_elevated_permission),
    });
    if let Some(session) = &auth.session
        && let Some(row) = sessions::get(&state.db, session.id).await?
    {
        if let Some(expires) = row.expires_at {
            body["expiresAt"] = json!(crate::dto::iso(&expires));
        }
        if let Some(pin_expires) = row.pin_expires_at {
            body["pinExpiresAt"] = json!(crate::dto::iso(&pin_expires));
        }
    }
    Ok(Json(body))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PinCodeSetupDto {
    pin_code: String,
}

impl Validate for PinCodeSetupDto {
    fn validate(&self) -> Vec<ValidationIssue> {
        let mut issues = Vec::new();
        rules::pin_code(&mut issues, &["pinCode"], &self.pin_code);
        issues
    }
}

/// Proof of identity for PIN changes: the current PIN or the password.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PinCodeProofDto {
    pin_code: Option<String>,
    password: Option<String>,
    new_pin_code: Option<String>,
}

impl Validate for PinCodeProofDto {
    fn validate(&self) -> Vec<ValidationIssue> {
        let mut issues = Vec::new();
        if let Some(pin) = &self.pin_code {
            rules::pin_code(&mut issues, &["pinCode"], pin);
        }
        if let Some(pin) = &self.new_pin_code {
            rules::pin_code(&mut issues, &["newPinCode"], pin);
        }
        issues
    }
}

async fn check_pin_proof(auth: &AuthContext, proof: &PinCodeProofDto, allow_password: bool) -> ApiResult<()> {
    let Some(pin_hash) = &auth.user.pin_code else {
        return Err(ApiError::bad_request("User does not have a PIN code"));
    };
    match (
        proof.password.as_deref().filter(|p| allow_password && !p.is_empty()),
        proof.pin_code.as_deref(),
    ) {
        (Some(password), _) => {
            if !user_service::verify(password, &auth.user.password).await? {
                return Err(ApiError::bad_request("Wrong password"));
            }
        }
        (None, Some(pin)) if !pin.is_empty() => {
            if !user_service::verify(pin, pin_hash).await? {
                return Err(ApiError::bad_request("Wrong PIN code"));
            }
        }
        _ => return Err(ApiError::bad_request("Either password or pinCode is required")),
    }
    Ok(())
}

pub async fn setup_pin_code(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidJson(dto): ValidJson<PinCodeSetupDto>,
) -> ApiResult<StatusCode> {
    if auth.user.pin_code.is_some() {
        return Err(ApiError::bad_request("User already has a PIN code"));
    }
    let changes = UserChanges {
        pin_code_hash: Some(Some(user_service::hash(&dto.pin_code).await?)),
        ..Default::default()
    };
    users::update(&state.db, auth.user.id, &changes).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn change_pin_code(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidJson(dto): ValidJson<PinCodeProofDto>,
) -> ApiResult<StatusCode> {
    let Some(new_pin) = dto.new_pin_code.as_deref() else {
        return Err(ApiError::Validation(vec![ValidationIssue::with_code(
            "invalid_type",
            &["newPinCode"],
            "Invalid input: expected string, received undefined",
        )]));
    };
    check_pin_proof(&auth, &dto, true).await?;
    let changes = UserChanges {
        pin_code_hash: Some(Some(user_service::hash(new_pin).await?)),
        ..Default::default()
    };
    users::update(&state.db, auth.user.id, &changes).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn reset_pin_code(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidJson(dto): ValidJson<PinCodeProofDto>,
) -> ApiResult<StatusCode> {
    check_pin_proof(&auth, &dto, true).await?;
    users::update(
        &state.db,
        auth.user.id,
        &UserChanges {
            pin_code_hash: Some(None),
            ..Default::default()
        },
    )
    .await?;
    sessions::lock_all(&state.db, auth.user.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn session_only(auth: &AuthContext) -> ApiResult<uuid::Uuid> {
    auth.session
        .as_ref()
        .map(|s| s.id)
        .ok_or_else(|| ApiError::bad_request("This endpoint can only be used with a session token"))
}

pub async fn unlock_session(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidJson(dto): ValidJson<PinCodeProofDto>,
) -> ApiResult<StatusCode> {
    let session_id = session_only(&auth)?;
    // Like Immich, unlocking takes the PIN code only.
    check_pin_proof(&auth, &dto, false).await?;
    sessions::set_pin_expires_at(&state.db, session_id, Some(Utc::now() + Duration::minutes(15))).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn lock_session(State(state): State<AppState>, Auth(auth): Auth) -> ApiResult<StatusCode> {
    let session_id = session_only(&auth)?;
    sessions::set_pin_expires_at(&state.db, session_id, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Admin onboarding is marked done when a config file manages the server (nothing to set up).
pub async fn mark_onboarded_when_config_file(state: &AppState) -> ApiResult<()> {
    if state.system_config.is_read_only() {
        system_metadata::set(&state.db, "admin-onboarding", &json!({ "isOnboarded": true })).await?;
    }
    Ok(())
}
