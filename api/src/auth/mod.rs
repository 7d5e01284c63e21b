//! Who is calling, and may they call this route.
//!
//! Every route is registered with an [`Access`]; the [`authorize`] middleware runs before the
//! handler, authenticates the request (shared link, session token, then API key — Immich's order),
//! applies the route's admin / shared-link / permission rules and leaves an [`AuthContext`] for the
//! handler's [`Auth`] extractor. A handler cannot forget to check.

pub mod cache;
pub mod forward;
pub mod limiter;
pub mod tokens;
pub mod user_agent;

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::Response;
use chrono::{Duration, Utc};
use darkroom_storage::users::{User, UserFilter};
use darkroom_storage::{api_keys, sessions, shared_links, users};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::permission::{Permission, grants};
use crate::state::AppState;
use cache::Remembered;
use user_agent::ClientDetails;

pub const ACCESS_TOKEN_COOKIE: &str = "immich_access_token";
pub const AUTH_TYPE_COOKIE: &str = "immich_auth_type";
pub const IS_AUTHENTICATED_COOKIE: &str = "immich_is_authenticated";

/// What a route requires of its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No credentials needed.
    Public,
    /// Any authenticated caller; API keys need `permission` (`None` = no specific permission).
    Authenticated {
        permission: Option<Permission>,
        admin: bool,
        shared_link: bool,
    },
}

impl Access {
    pub const fn public() -> Self {
        Self::Public
    }

    /// Any signed-in caller, whatever its API key's permissions.
    pub const fn any() -> Self {
        Self::Authenticated {
            permission: None,
            admin: false,
            shared_link: false,
        }
    }

    pub const fn permission(permission: Permission) -> Self {
        Self::Authenticated {
            permission: Some(permission),
            admin: false,
            shared_link: false,
        }
    }

    /// Like [`Access::permission`], and open to shared-link guests too.
    pub const fn shared(permission: Permission) -> Self {
        Self::Authenticated {
            permission: Some(permission),
            admin: false,
            shared_link: true,
        }
    }

    /// Only for shared-link guests (any API key permission).
    pub const fn link_guest() -> Self {
        Self::Authenticated {
            permission: None,
            admin: false,
            shared_link: true,
        }
    }

    pub const fn admin(permission: Permission) -> Self {
        Self::Authenticated {
            permission: Some(permission),
            admin: true,
            shared_link: false,
        }
    }

    pub fn required_permission(self) -> Option<Permission> {
        match self {
            Self::Public => None,
            Self::Authenticated { permission, .. } => permission,
        }
    }

    pub fn is_admin_only(self) -> bool {
        matches!(self, Self::Authenticated { admin: true, .. })
    }
}

#[derive(Debug, Clone)]
pub struct AuthSession {
    pub id: Uuid,
    /// Unlocked with the PIN code (locked folder).
    pub has_elevated_permission: bool,
}

#[derive(Debug, Clone)]
pub struct AuthApiKey {
    pub id: Uuid,
    pub permissions: Vec<Permission>,
}

/// A shared link a guest came in with; the guest acts as the link's owner, within the link.
#[derive(Debug, Clone)]
pub struct AuthSharedLink {
    pub id: Uuid,
    pub album_id: Option<Uuid>,
    pub allow_upload: bool,
    pub allow_download: bool,
    pub show_exif: bool,
    pub password: Option<String>,
}

#[derive(Debug, Clone)]
pub struct AuthContext {
    pub user: User,
    pub session: Option<AuthSession>,
    pub api_key: Option<AuthApiKey>,
    pub shared_link: Option<AuthSharedLink>,
}

/// The caller of an authenticated route (put there by [`authorize`]).
pub struct Auth(pub AuthContext);

impl<S: Send + Sync> FromRequestParts<S> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<AuthContext>()
            .cloned()
            .map(Auth)
            .ok_or_else(|| ApiError::internal("route has no authentication requirement registered"))
    }
}

/// Route middleware: authenticate, then enforce the route's [`Access`].
pub async fn authorize(
    State((state, access)): State<(AppState, Access)>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let changes_state = !matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if let Access::Authenticated {
        permission,
        admin,
        shared_link,
    } = access
    {
        let (mut parts, body) = request.into_parts();
        let context = authenticate(&state, &parts).await?;
        if context.shared_link.is_some() && !shared_link {
            return Err(ApiError::forbidden("Forbidden"));
        }
        // A password link opens nothing until its password was given (the token cookie), but
        // the two routes where a guest gives it and reads what the link is. Immich 3.0.3 guards
        // only the latter (its issue #29599: assets and albums readable with the key alone).
        if let Some(link) = &context.shared_link
            && permission.is_some()
            && !link_password_given(&parts, link)
        {
            return Err(ApiError::unauthorized("Password required"));
        }
        if admin && !context.user.is_admin {
            tracing::warn!(uri = %parts.uri.path(), "denied access to admin-only route");
            return Err(ApiError::forbidden("Forbidden"));
        }
        if let (Some(key), Some(permission)) = (&context.api_key, permission)
            && !grants(&key.permissions, permission)
        {
            return Err(ApiError::forbidden(format!(
                "Missing required permission: {permission}"
            )));
        }
        parts.extensions.insert(context);
        request = Request::from_parts(parts, body);
    }
    let response = next.run(request).await;
    if changes_state {
        // Logout, a lock, a deleted key, a changed user…: whatever it was, no remembered
        // authentication outlives it. The database's notice of the change says the same, but a
        // moment later; this makes it hold for this process's very next request.
        state.auth_cache.forget_everything();
    }
    Ok(response)
}

/// The cookie that keeps the passwords a guest gave to shared links.
pub const SHARED_LINK_TOKEN_COOKIE: &str = "immich_shared_link_token";

/// `base64(sha256("<id>-<password>"))`: what the cookie holds once a guest gave the password.
pub fn link_password_token(link_id: Uuid, password: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(format!("{link_id}-{password}").as_bytes()))
}

/// The tokens in the request's shared-link cookie (one per link, comma-separated).
pub fn link_password_tokens(headers: &HeaderMap) -> Vec<String> {
    percent_decode(cookie(headers, SHARED_LINK_TOKEN_COOKIE).unwrap_or(""))
        .split(',')
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

/// Whether the link has no password, or the request's cookie shows it was given.
pub fn link_password_given(parts: &Parts, link: &AuthSharedLink) -> bool {
    link.password
        .as_deref()
        .filter(|p| !p.is_empty())
        .is_none_or(|password| link_password_tokens(&parts.headers).contains(&link_password_token(link.id, password)))
}

/// The credentials a request carries, in the order Immich honours them.
enum Credential<'a> {
    ShareKey(&'a str),
    ShareSlug(&'a str),
    Session(&'a str),
    ApiKey(&'a str),
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
}

fn query_param<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts.uri.query()?.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key == name && !value.is_empty()).then_some(value)
    })
}

fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = header(headers, "authorization")?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
        .filter(|t| !t.is_empty())
}

pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim_matches('"'))
        .filter(|v| !v.is_empty())
}

fn credential(parts: &Parts) -> Option<Credential<'_>> {
    let headers = &parts.headers;
    if let Some(key) = header(headers, "x-immich-share-key").or_else(|| query_param(parts, "key")) {
        return Some(Credential::ShareKey(key));
    }
    if let Some(slug) = header(headers, "x-immich-share-slug").or_else(|| query_param(parts, "slug")) {
        return Some(Credential::ShareSlug(slug));
    }
    let session = header(headers, "x-immich-user-token")
        .or_else(|| header(headers, "x-immich-session-token"))
        .or_else(|| query_param(parts, "sessionKey"))
        .or_else(|| bearer_token(headers))
        .or_else(|| cookie(headers, ACCESS_TOKEN_COOKIE));
    if let Some(token) = session {
        return Some(Credential::Session(token));
    }
    header(headers, "x-api-key")
        .or_else(|| query_param(parts, "apiKey"))
        .map(Credential::ApiKey)
}

pub async fn authenticate(state: &AppState, parts: &Parts) -> ApiResult<AuthContext> {
    match credential(parts) {
        None => match forward::vouched_user(state, parts).await? {
            Some(user) => Ok(AuthContext {
                user,
                session: None,
                api_key: None,
                shared_link: None,
            }),
            None => Err(ApiError::unauthorized("Authentication required")),
        },
        Some(Credential::ShareKey(key)) => {
            let key = decode_share_key(&percent_decode(key));
            let link = shared_links::find_usable(&state.db, Some(&key), None).await?;
            link_context(state, link)
                .await?
                .ok_or_else(|| ApiError::unauthorized("Invalid share key"))
        }
        Some(Credential::ShareSlug(slug)) => {
            let link = shared_links::find_usable(&state.db, None, Some(&percent_decode(slug))).await?;
            link_context(state, link)
                .await?
                .ok_or_else(|| ApiError::unauthorized("Invalid share slug"))
        }
        Some(Credential::Session(token)) => authenticate_session(state, token, &parts.headers).await,
        Some(Credential::ApiKey(secret)) => authenticate_api_key(state, secret).await,
    }
}

/// A link key as clients send it: 100 hex digits, or base64url (padding and the standard
/// alphabet tolerated, as Node's decoder does).
pub fn decode_share_key(text: &str) -> Vec<u8> {
    use base64::Engine;
    if text.len() == 100 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return (0..50)
            .filter_map(|i| u8::from_str_radix(&text[i * 2..i * 2 + 2], 16).ok())
            .collect();
    }
    let normalised: String = text
        .trim_end_matches('=')
        .chars()
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            c => c,
        })
        .collect();
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(normalised)
        .unwrap_or_default()
}

/// `%XX` in query values (keys and slugs may arrive encoded).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(byte) = text.get(i + 1..i + 3).and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn link_context(state: &AppState, link: Option<shared_links::SharedLink>) -> ApiResult<Option<AuthContext>> {
    let Some(link) = link else { return Ok(None) };
    // Like Immich, the owner's soft deletion alone does not close an individual link.
    let Some(user) = users::get(&state.db, link.user_id, true).await? else {
        return Ok(None);
    };
    Ok(Some(AuthContext {
        user,
        session: None,
        api_key: None,
        shared_link: Some(AuthSharedLink {
            id: link.id,
            album_id: link.album_id,
            allow_upload: link.allow_upload,
            allow_download: link.allow_download,
            show_exif: link.show_exif,
            password: link.password,
        }),
    }))
}

async fn authenticate_session(state: &AppState, token: &str, headers: &HeaderMap) -> ApiResult<AuthContext> {
    let invalid = || ApiError::unauthorized("Invalid user token");
    let hash = tokens::hash(token);
    let now = Utc::now();
    if let Some(Remembered {
        mut context,
        pin_expires_at,
    }) = state.auth_cache.get(&hash)
    {
        if let Some(session) = &mut context.session {
            session.has_elevated_permission = pin_expires_at.is_some_and(|expires| expires > now);
        }
        return Ok(context);
    }
    let generation = state.auth_cache.generation();
    // Session and user are read side by side: every request pays one round trip, not two.
    let by_session = UserFilter {
        session_token: Some(&hash),
        ..UserFilter::default()
    };
    let (session, user) = tokio::try_join!(
        sessions::find_by_token(&state.db, &hash),
        users::find_one(&state.db, by_session)
    )?;
    let session = session.ok_or_else(invalid)?;
    let user = user.filter(|user| user.id == session.user_id).ok_or_else(invalid)?;

    let client = ClientDetails::from_headers(headers);
    if now - session.updated_at > Duration::hours(1) || client.app_version != session.app_version {
        sessions::touch(
            &state.db,
            session.id,
            &client.device_type,
            &client.device_os,
            client.app_version.as_deref(),
        )
        .await?;
    }

    // An unlocked session stays unlocked while it is used: each request near the end adds 5 minutes.
    let has_elevated_permission = session.pin_expires_at.is_some_and(|expires| expires > now);
    let mut pin_expires_at = session.pin_expires_at;
    if let Some(expires) = session.pin_expires_at
        && has_elevated_permission
        && now + Duration::minutes(5) > expires
    {
        pin_expires_at = Some(now + Duration::minutes(5));
        sessions::set_pin_expires_at(&state.db, session.id, pin_expires_at).await?;
    }

    let context = AuthContext {
        user,
        session: Some(AuthSession {
            id: session.id,
            has_elevated_permission,
        }),
        api_key: None,
        shared_link: None,
    };
    state.auth_cache.put(
        hash,
        generation,
        Remembered {
            context: context.clone(),
            pin_expires_at,
        },
    );
    Ok(context)
}

async fn authenticate_api_key(state: &AppState, secret: &str) -> ApiResult<AuthContext> {
    let invalid = || ApiError::unauthorized("Invalid API key");
    let hash = tokens::hash(secret);
    if let Some(remembered) = state.auth_cache.get(&hash) {
        return Ok(remembered.context);
    }
    let generation = state.auth_cache.generation();
    let by_key = UserFilter {
        api_key: Some(&hash),
        ..UserFilter::default()
    };
    let (key, user) = tokio::try_join!(
        api_keys::find_by_key(&state.db, &hash),
        users::find_one(&state.db, by_key)
    )?;
    let key = key.ok_or_else(invalid)?;
    let user = user.filter(|user| user.id == key.user_id).ok_or_else(invalid)?;
    let permissions = key.permissions.iter().filter_map(|p| p.parse().ok()).collect();
    let context = AuthContext {
        user,
        session: None,
        api_key: Some(AuthApiKey {
            id: key.id,
            permissions,
        }),
        shared_link: None,
    };
    state.auth_cache.put(
        hash,
        generation,
        Remembered {
            context: context.clone(),
            pin_expires_at: None,
        },
    );
    Ok(context)
}

/// The address the connection came from (IPv4 as IPv4, not `::ffff:…`), when known.
pub fn peer_ip(extensions: &axum::http::Extensions) -> Option<IpAddr> {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_canonical())
}

/// The client's address: the socket peer, or the first untrusted hop of `X-Forwarded-For` when the
/// peer is a trusted proxy (loopback always is, like Immich's `trust proxy`).
pub fn client_ip(state: &AppState, parts: &Parts) -> IpAddr {
    // Listening on `[::]`, an IPv4 client arrives as `::ffff:a.b.c.d`; logs and limits name it
    // as it is known.
    let peer = peer_ip(&parts.extensions).unwrap_or(IpAddr::from([127, 0, 0, 1]));
    if !state.is_trusted_proxy(peer) {
        return peer;
    }
    let forwarded: Vec<IpAddr> = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|hop| hop.trim().parse::<IpAddr>().ok())
        .map(|hop| hop.to_canonical())
        .collect();
    forwarded
        .into_iter()
        .rev()
        .find(|hop| !state.is_trusted_proxy(*hop))
        .unwrap_or(peer)
}

/// Whether the client reached us over HTTPS (directly impossible here, so: via a trusted proxy).
pub fn is_secure(state: &AppState, parts: &Parts) -> bool {
    let peer = peer_ip(&parts.extensions);
    peer.is_some_and(|ip| state.is_trusted_proxy(ip))
        && header(&parts.headers, "x-forwarded-proto")
            .and_then(|v| v.split(',').next())
            .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"))
}
