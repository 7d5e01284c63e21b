//! Sign-in through an OpenID Connect provider (Authelia, Keycloak, …), as Immich does it: the
//! authorization code flow with state, PKCE and a nonce, the ID token verified here, users
//! found by their subject, linked by a verified e-mail or registered from the claims.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use reqwest::Url;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::system_config::sections::OauthConfig;

mod accounts;
pub mod jwt;
mod logout;
mod profile;
pub mod provider;

pub use accounts::{link, sign_in, unlink};
pub use logout::{backchannel_logout, logout_redirect};
pub use provider::Providers;

use jwt::{Expected, Jwt, JwtError};
use profile::Profile;
use provider::{Metadata, ProviderError, UserInfo};

/// Where the mobile app takes the provider's answer.
pub const MOBILE_REDIRECT: &str = "app.immich:///oauth-callback";
/// Where the web app goes after signing out, when the provider names no end-session page.
pub const LOGIN_URL: &str = "/auth/login?autoLaunch=0";
pub const STATE_COOKIE: &str = "immich_oauth_state";
pub const CODE_VERIFIER_COOKIE: &str = "immich_oauth_code_verifier";

/// The client credentials from the environment, which win over the system config's.
#[derive(Clone, Default)]
pub struct ClientOverride {
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

impl std::fmt::Debug for ClientOverride {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientOverride")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "<set>"))
            .finish()
    }
}

/// The `oauth` settings in force, with the environment's client credentials.
pub async fn settings(state: &AppState) -> ApiResult<OauthConfig> {
    Ok(with_client_override(
        state,
        state.system_config.typed(&state.db).await?.oauth,
    ))
}

fn with_client_override(state: &AppState, mut config: OauthConfig) -> OauthConfig {
    let client = &state.config.oauth_client;
    if let Some(id) = &client.client_id {
        config.client_id.clone_from(id);
    }
    if let Some(secret) = &client.client_secret {
        config.client_secret.clone_from(secret);
    }
    config
}

fn enabled(config: OauthConfig) -> ApiResult<OauthConfig> {
    if !config.enabled {
        return Err(ApiError::bad_request("OAuth is not enabled"));
    }
    Ok(config)
}

async fn enabled_settings(state: &AppState) -> ApiResult<OauthConfig> {
    enabled(settings(state).await?)
}

/// `host[:port]` of a URL, as a `Host` header names it.
fn authority(url: &Url) -> Option<String> {
    let host = url.host_str()?;
    Some(
        url.port()
            .map_or_else(|| host.to_owned(), |port| format!("{host}:{port}")),
    )
}

/// Where `GET /oauth/mobile-redirect` sends the browser: the app, with the provider's answer.
pub fn mobile_redirect(query: Option<&str>) -> String {
    format!("{MOBILE_REDIRECT}?{}", query.unwrap_or_default())
}

/// What follows the app's callback URI (`app.immich:` with any number of slashes, then
/// `oauth-callback`): its query, if any; `None` for any other URI.
fn after_app_callback(uri: &str) -> Option<&str> {
    uri.strip_prefix("app.immich:")?
        .trim_start_matches('/')
        .strip_prefix("oauth-callback")
}

/// With the mobile override, the app's redirect URI is replaced by the configured one (a
/// provider that refuses custom schemes redirects there, and that page forwards to the app).
fn resolve_redirect_uri(config: &OauthConfig, uri: &str) -> String {
    match after_app_callback(uri) {
        Some(tail) if config.mobile_override_enabled && !config.mobile_redirect_uri.is_empty() => {
            format!("{}{tail}", config.mobile_redirect_uri)
        }
        _ => uri.to_owned(),
    }
}

fn random_text() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn code_challenge(code_verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(code_verifier.as_bytes()))
}

/// The nonce of a sign-in, derived from its state and PKCE challenge: only the client holding
/// that sign-in's verifier can present an ID token carrying it, and nothing is stored here.
fn nonce(state: &str, code_challenge: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(format!("darkroom-oauth-nonce:{state}:{code_challenge}")))
}

/// A started sign-in: where to send the user, and what the web app keeps in cookies.
pub struct Authorization {
    pub url: String,
    pub state: String,
    /// `None` when the client brought its own PKCE challenge (the mobile app).
    pub code_verifier: Option<String>,
}

/// What a client may ask the provider to redirect to: the mobile app, the configured mobile
/// redirect page, or a page of this server's own (`hosts`: the names it is known by).
fn check_redirect_uri(config: &OauthConfig, uri: &str, hosts: &[String]) -> ApiResult<()> {
    let mobile = after_app_callback(uri) == Some("");
    if mobile || (!config.mobile_redirect_uri.is_empty() && uri == config.mobile_redirect_uri) {
        return Ok(());
    }
    let own_page = Url::parse(uri).ok().is_some_and(|url| {
        matches!(url.scheme(), "http" | "https")
            && authority(&url).is_some_and(|authority| hosts.iter().any(|h| h.eq_ignore_ascii_case(&authority)))
    });
    if own_page {
        Ok(())
    } else {
        tracing::warn!(
            kind = "oauth_redirect_refused",
            redirect_uri = uri,
            "refused an OAuth redirect URI"
        );
        Err(ApiError::bad_request("OAuth redirect URI is not this server's"))
    }
}

#[tracing::instrument(skip_all)]
pub async fn authorize(
    state: &AppState,
    redirect_uri: &str,
    client_state: Option<String>,
    client_challenge: Option<String>,
    mut hosts: Vec<String>,
) -> ApiResult<Authorization> {
    let system = state.system_config.typed(&state.db).await?;
    let config = enabled(with_client_override(state, system.oauth))?;
    hosts.extend(
        Url::parse(&system.server.external_domain)
            .ok()
            .as_ref()
            .and_then(authority),
    );
    check_redirect_uri(&config, redirect_uri, &hosts)?;
    let metadata = discover(state, &config).await?;
    let sign_in_state = client_state.filter(|s| !s.is_empty()).unwrap_or_else(random_text);
    let (challenge, code_verifier) = match client_challenge.filter(|c| !c.is_empty()) {
        Some(challenge) => (challenge, None),
        None => {
            let verifier = random_text();
            (code_challenge(&verifier), Some(verifier))
        }
    };
    let mut url = Url::parse(&metadata.authorization_endpoint)
        .map_err(|e| ApiError::internal_from("reading the provider's authorization endpoint", e))?;
    {
        let mut query = url.query_pairs_mut();
        query
            .append_pair("client_id", &config.client_id)
            .append_pair("response_type", "code")
            .append_pair("redirect_uri", &resolve_redirect_uri(&config, redirect_uri))
            .append_pair("scope", &config.scope)
            .append_pair("state", &sign_in_state)
            .append_pair("nonce", &nonce(&sign_in_state, &challenge))
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        if !config.prompt.is_empty() {
            query.append_pair("prompt", &config.prompt);
        }
    }
    Ok(Authorization {
        url: url.into(),
        state: sign_in_state,
        code_verifier,
    })
}

/// The provider's answer as the client hands it back: the URL it was redirected to, with the
/// state and PKCE verifier of its sign-in (from the body, else the web app's cookies).
pub struct Callback<'a> {
    pub url: &'a str,
    pub state: Option<&'a str>,
    pub code_verifier: Option<&'a str>,
}

impl Callback<'_> {
    fn checked(&self) -> ApiResult<(&str, &str)> {
        let state = self.state.filter(|s| !s.is_empty());
        let Some(state) = state else {
            return Err(ApiError::bad_request("OAuth state is missing"));
        };
        let Some(verifier) = self.code_verifier.filter(|v| !v.is_empty()) else {
            return Err(ApiError::bad_request("OAuth code verifier is missing"));
        };
        Ok((state, verifier))
    }
}

fn refused(reason: impl std::fmt::Display) -> ApiError {
    tracing::warn!(kind = "oauth_refused", %reason, "OAuth sign-in refused");
    ApiError::bad_request(format!("OAuth authentication failed: {reason}"))
}

/// A failure talking to the provider: its refusal of `what` the client brought (a code used,
/// expired, for another client, with the wrong verifier) is the client's 400; anything else
/// is a server error, logged with what was being done.
fn provider_failure(doing: &'static str, what: &str, error: ProviderError) -> ApiError {
    match error {
        ProviderError::Refused { status, body, .. } if (400..500).contains(&status) => {
            refused(format!("the provider refused {what}: {body}"))
        }
        other => ApiError::internal_from(doing, other),
    }
}

async fn discover(state: &AppState, config: &OauthConfig) -> ApiResult<std::sync::Arc<Metadata>> {
    state
        .oauth_providers
        .metadata(config)
        .await
        .map_err(|e| ApiError::internal_from("in OAuth discovery", e))
}

/// What a token from the provider is, and so what its claims must say.
#[derive(Debug, Clone, Copy)]
enum TokenKind<'a> {
    /// An ID token of the sign-in with this nonce.
    Id { nonce: &'a str },
    /// A back-channel logout token: recent, and without a nonce.
    Logout,
    /// Signed userinfo: its signature only (it came over TLS for the access token).
    UserInfo,
}

/// How old a back-channel logout token may be (as Immich).
const LOGOUT_TOKEN_MAX_AGE_SECS: i64 = 120;

/// Verifies a JWT from the provider with its keys (fetched again once for an unknown key id),
/// then the claims its kind must carry.
async fn verify_token(
    state: &AppState,
    config: &OauthConfig,
    metadata: &Metadata,
    token: &str,
    kind: TokenKind<'_>,
) -> ApiResult<Result<Map<String, Value>, JwtError>> {
    let jwt = match Jwt::parse(token) {
        Ok(jwt) => jwt,
        Err(e) => return Ok(Err(e)),
    };
    let keys = state
        .oauth_providers
        .keys(config, metadata, jwt.key_id())
        .await
        .map_err(|e| ApiError::internal_from("fetching the provider's signing keys", e))?;
    let algorithm = match (kind, config.profile_signing_algorithm.as_str()) {
        (TokenKind::UserInfo, profile) if profile != "none" => profile,
        _ => config.signing_algorithm.as_str(),
    };
    let expected = |nonce, requires_expiry, max_age_secs| Expected {
        issuer: &metadata.issuer,
        audience: &config.client_id,
        nonce,
        requires_expiry,
        max_age_secs,
        now: chrono::Utc::now().timestamp(),
    };
    let expected = match kind {
        TokenKind::Id { nonce } => Some(expected(Some(nonce), true, None)),
        TokenKind::Logout => Some(expected(None, false, Some(LOGOUT_TOKEN_MAX_AGE_SECS))),
        TokenKind::UserInfo => None,
    };
    Ok(jwt.verify(algorithm, &keys, &config.client_secret).and_then(|claims| {
        expected
            .map_or(Ok(()), |expected| jwt::check_claims(&claims, expected))
            .map(|()| claims)
    }))
}

/// Completes the code flow and returns who the provider says signed in, and its session id.
#[tracing::instrument(skip_all)]
async fn finish(state: &AppState, config: &OauthConfig, callback: &Callback<'_>) -> ApiResult<Profile> {
    let (expected_state, verifier) = callback.checked()?;
    let url = resolve_redirect_uri(config, callback.url);
    let parsed = Url::parse(&url).map_err(|_| ApiError::bad_request("OAuth callback URL is invalid"))?;
    let param = |name: &str| {
        parsed
            .query_pairs()
            .find(|(key, _)| key == name)
            .map(|(_, v)| v.into_owned())
    };
    if let Some(error) = param("error") {
        let description = param("error_description").unwrap_or_default();
        return Err(refused(
            format!("the provider answered {error} {description}").trim_end(),
        ));
    }
    // The state ties the answer to the sign-in this client started (login CSRF, GHSA-3832-6r8h-9cfm).
    if param("state").as_deref() != Some(expected_state) {
        return Err(refused("the state does not match this sign-in"));
    }
    let code = param("code").ok_or_else(|| refused("the callback URL has no code"))?;
    let metadata = discover(state, config).await?;
    // RFC 9207: an answer naming another issuer is a mix-up.
    if let Some(issuer) = param("iss")
        && issuer != metadata.issuer
    {
        return Err(refused(format!("the answer comes from issuer {issuer}")));
    }
    let mut redirect_uri = parsed.clone();
    redirect_uri.set_query(None);
    redirect_uri.set_fragment(None);
    let tokens = state
        .oauth_providers
        .exchange_code(config, &metadata, &code, redirect_uri.as_str(), verifier)
        .await
        .map_err(|e| provider_failure("exchanging the OAuth code", "the code", e))?;
    let id_token = tokens
        .id_token
        .as_deref()
        .ok_or_else(|| refused("the provider sent no ID token"))?;
    let expected_nonce = nonce(expected_state, &code_challenge(verifier));
    let id_claims = verify_token(
        state,
        config,
        &metadata,
        id_token,
        TokenKind::Id { nonce: &expected_nonce },
    )
    .await?
    .map_err(|e| refused(format!("the ID token is invalid: {e}")))?;
    let mut profile = Profile::from_id_token(id_claims).map_err(refused)?;
    if !profile.has_email() {
        let info = state
            .oauth_providers
            .user_info(config, &metadata, &tokens.access_token)
            .await
            .map_err(|e| provider_failure("fetching the OAuth user info", "the access token", e))?;
        let claims = match info {
            UserInfo::Claims(claims) => claims,
            UserInfo::Signed(token) => verify_token(state, config, &metadata, &token, TokenKind::UserInfo)
                .await?
                .map_err(|e| refused(format!("the signed user info is invalid: {e}")))?,
        };
        profile.add_user_info(claims).map_err(refused)?;
    }
    Ok(profile)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(override_uri: &str) -> OauthConfig {
        let mut config = crate::system_config::SystemConfig::default().oauth;
        config.mobile_override_enabled = !override_uri.is_empty();
        config.mobile_redirect_uri = override_uri.to_owned();
        config
    }

    #[test]
    fn the_mobile_redirect_is_replaced_only_with_the_override() {
        let uri = "app.immich:///oauth-callback?code=c&state=s";
        assert_eq!(resolve_redirect_uri(&config(""), uri), uri);
        assert_eq!(
            resolve_redirect_uri(&config("https://photos.example.com/api/oauth/mobile-redirect"), uri),
            "https://photos.example.com/api/oauth/mobile-redirect?code=c&state=s"
        );
        assert_eq!(
            resolve_redirect_uri(&config("https://x"), "https://a/auth/login"),
            "https://a/auth/login"
        );
    }

    #[test]
    fn redirect_uris_must_lead_back_to_this_server_or_the_app() {
        let hosts = vec!["photos.example.com".to_owned(), "127.0.0.1:2283".to_owned()];
        let check = |uri: &str| check_redirect_uri(&config(""), uri, &hosts).is_ok();
        assert!(check("app.immich:///oauth-callback"));
        assert!(check("https://photos.example.com/auth/login"));
        assert!(check("http://127.0.0.1:2283/user-settings"));
        assert!(!check("https://evil.example/auth/login"));
        assert!(!check("https://photos.example.com.evil.example/auth/login"));
        assert!(!check("javascript:alert(1)"));
        assert!(!check("app.immich:///elsewhere"));
    }

    #[test]
    fn the_nonce_depends_on_state_and_verifier() {
        let verifier = random_text();
        assert_eq!(verifier.len(), 43);
        let challenge = code_challenge(&verifier);
        assert_eq!(nonce("s", &challenge), nonce("s", &code_challenge(&verifier)));
        assert_ne!(nonce("s", &challenge), nonce("t", &challenge));
        assert_ne!(nonce("s", &challenge), nonce("s", &code_challenge(&random_text())));
    }
}
