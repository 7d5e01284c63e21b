//! Forward-auth (beyond Immich; off unless `DARKROOM_FORWARD_AUTH_ENABLED`): behind Traefik with
//! Authelia or TinyAuth, a request that the proxy vouches for with `Remote-User`,
//! `Remote-Email`, `Remote-Name` and `Remote-Groups` (or the header names configured) is signed
//! in as the user with that e-mail — registered on first sight if configured, an admin while in
//! the admin group if one is configured. Only a proxy listed in `IMMICH_TRUSTED_PROXIES` is
//! believed (loopback is not implied here); the same headers from anyone else are ignored and
//! logged. Tokens and API keys (the mobile app, the CLI) keep working beside it.

use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use darkroom_storage::users::{self, NewUser, User, UserChanges};

use crate::config::{ConfigError, EnvReader};
use crate::error::ApiResult;
use crate::state::AppState;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ForwardAuthConfig {
    pub enabled: bool,
    pub user_header: String,
    pub email_header: String,
    pub name_header: String,
    pub groups_header: String,
    /// Create an account for an e-mail seen for the first time.
    pub auto_register: bool,
    /// Members are admins, others are not (unset: admin rights are managed in Darkroom).
    pub admin_group: Option<String>,
}

impl ForwardAuthConfig {
    pub fn from_env(env: &EnvReader) -> Result<Self, ConfigError> {
        let name = |variable: &str, default: &str| -> Result<String, ConfigError> {
            Ok(env
                .get(variable)?
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| default.to_owned()))
        };
        Ok(Self {
            enabled: env.boolean("DARKROOM_FORWARD_AUTH_ENABLED", false)?,
            user_header: name("DARKROOM_FORWARD_AUTH_USER_HEADER", "Remote-User")?,
            email_header: name("DARKROOM_FORWARD_AUTH_EMAIL_HEADER", "Remote-Email")?,
            name_header: name("DARKROOM_FORWARD_AUTH_NAME_HEADER", "Remote-Name")?,
            groups_header: name("DARKROOM_FORWARD_AUTH_GROUPS_HEADER", "Remote-Groups")?,
            auto_register: env.boolean("DARKROOM_FORWARD_AUTH_AUTO_REGISTER", false)?,
            admin_group: env
                .get("DARKROOM_FORWARD_AUTH_ADMIN_GROUP")?
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty()),
        })
    }
}

/// A header as text; proxies pass names in UTF-8, which `to_str` would refuse.
fn text(headers: &HeaderMap, name: &str) -> Option<String> {
    let value = headers.get(name)?;
    let text = String::from_utf8_lossy(value.as_bytes()).trim().to_owned();
    (!text.is_empty()).then_some(text)
}

/// Whether the request came straight from a proxy listed in `IMMICH_TRUSTED_PROXIES`.
fn from_listed_proxy(state: &AppState, extensions: &axum::http::Extensions) -> bool {
    super::peer_ip(extensions).is_some_and(|ip| state.is_listed_proxy(ip))
}

/// The user the proxy vouches for, if forward-auth is on, the request carries its headers and
/// came from a listed proxy, and the user exists (or may be registered).
pub async fn vouched_user(state: &AppState, parts: &Parts) -> ApiResult<Option<User>> {
    let config = &state.config.forward_auth;
    if !config.enabled {
        return Ok(None);
    }
    let Some(email) = text(&parts.headers, &config.email_header) else {
        return Ok(None);
    };
    if !from_listed_proxy(state, &parts.extensions) {
        let client_ip = super::peer_ip(&parts.extensions)
            .map(|ip| ip.to_string())
            .unwrap_or_default();
        tracing::warn!(
            kind = "forward_auth_refused",
            client_ip,
            email,
            "forward-auth headers from an address that is not a trusted proxy were ignored"
        );
        return Ok(None);
    }
    let email = email.to_lowercase();
    let in_admin_group = config.admin_group.as_ref().map(|group| {
        text(&parts.headers, &config.groups_header)
            .is_some_and(|groups| groups.split([',', ' ']).any(|g| g.trim() == group))
    });
    match users::get_by_email(&state.db, &email, false).await? {
        Some(user) => match in_admin_group {
            Some(is_admin) if is_admin != user.is_admin => {
                tracing::info!(email, is_admin, "admin rights follow the forward-auth group");
                let changes = UserChanges {
                    is_admin: Some(is_admin),
                    ..Default::default()
                };
                Ok(Some(users::update(&state.db, user.id, &changes).await?))
            }
            _ => Ok(Some(user)),
        },
        None if config.auto_register => {
            let name = text(&parts.headers, &config.name_header)
                .or_else(|| text(&parts.headers, &config.user_header))
                .unwrap_or_else(|| email.split('@').next().unwrap_or_default().to_owned());
            // No password: this account signs in through the proxy (or OAuth) only.
            let new_user = NewUser {
                email: email.clone(),
                name,
                password_hash: String::new(),
                is_admin: in_admin_group.unwrap_or(false),
                should_change_password: false,
                storage_label: None,
                quota_size_in_bytes: None,
                avatar_color: None,
                oauth_id: String::new(),
            };
            let user = users::create(&state.db, &new_user).await?;
            tracing::info!(email, user = %user.id, "registered a user the forward-auth proxy vouched for");
            Ok(Some(user))
        }
        None => {
            tracing::warn!(email, "the forward-auth proxy vouched for an e-mail without an account");
            Ok(None)
        }
    }
}

/// Tells the web app it is signed in (the cookie it looks for before asking who it is), when
/// the proxy vouches for someone and the browser does not have the cookie yet.
pub async fn mark_signed_in(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let config = &state.config.forward_auth;
    let vouched = config.enabled
        && request.headers().contains_key(config.email_header.as_str())
        && crate::auth::cookie(request.headers(), super::IS_AUTHENTICATED_COOKIE).is_none()
        && from_listed_proxy(&state, request.extensions());
    let mut response = next.run(request).await;
    let cookie = format!("{}=true; Path=/; SameSite=Lax", super::IS_AUTHENTICATED_COOKIE);
    if vouched && let Ok(cookie) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}
