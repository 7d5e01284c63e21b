//! Talking to the OpenID provider: discovery, its signing keys, the token and userinfo
//! endpoints. TLS is always verified (public roots and the system's); plain http only where
//! `oauth.allowInsecureRequests` allows it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use darkroom_media::MediaType;
use reqwest::{Client, Url, redirect};
use serde::Deserialize;
use serde_json::{Map, Value};
use thiserror::Error;

use super::jwt::JwkSet;
use crate::system_config::sections::{OauthConfig, TokenEndpointAuthMethod};

/// The largest profile picture taken from the provider.
const MAX_PICTURE_BYTES: usize = 10 << 20;

/// How long a discovery document and a key set are trusted before being fetched again.
const CACHE_FOR: Duration = Duration::from_secs(3600);
/// Keys are fetched again for an unknown key id at most this often (key rotation).
const KEY_REFRESH_AT_MOST_EVERY: Duration = Duration::from_secs(10);

#[derive(Debug, Error)]
pub enum ProviderError {
    #[error("{0} is not an https URL (allow insecure requests to use http)")]
    Insecure(String),
    #[error("{0} is not a valid URL")]
    BadUrl(String),
    #[error("cannot reach {url}")]
    Unreachable {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("{url} answered {status}: {body}")]
    Refused { url: String, status: u16, body: String },
    #[error("unexpected answer from {url}: {reason}")]
    Unexpected { url: String, reason: String },
    #[error("the discovery document names issuer {found}, but {expected} is configured")]
    IssuerMismatch { expected: String, found: String },
}

type Result<T> = std::result::Result<T, ProviderError>;

/// The parts of the discovery document Darkroom uses.
#[derive(Debug, Clone, Deserialize)]
pub struct Metadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub userinfo_endpoint: Option<String>,
    pub jwks_uri: Option<String>,
    pub end_session_endpoint: Option<String>,
}

/// What the token endpoint gave for an authorization code.
#[derive(Debug, Deserialize)]
pub struct Tokens {
    pub access_token: String,
    pub id_token: Option<String>,
}

/// A userinfo answer: JSON claims, or a JWT when the provider signs them.
pub enum UserInfo {
    Claims(Map<String, Value>),
    Signed(String),
}

struct Cached<T> {
    value: Arc<T>,
    fetched: Instant,
}

/// HTTP clients for the provider and what they fetched; one per server process.
pub struct Providers {
    https_only: Client,
    any_scheme: Client,
    metadata: Mutex<HashMap<String, Cached<Metadata>>>,
    keys: Mutex<HashMap<String, Cached<JwkSet>>>,
}

impl Default for Providers {
    fn default() -> Self {
        let build = |https_only: bool| {
            Client::builder()
                .user_agent(concat!("darkroom/", env!("CARGO_PKG_VERSION")))
                // A redirect must not leave https behind either.
                .https_only(https_only)
                .redirect(redirect::Policy::limited(5))
                .build()
                .unwrap_or_else(|error| {
                    // Only when the TLS set-up itself fails; the scheme check below still holds.
                    tracing::error!(%error, "cannot build the OAuth HTTP client; using the default one");
                    Client::new()
                })
        };
        Self {
            https_only: build(true),
            any_scheme: build(false),
            metadata: Mutex::default(),
            keys: Mutex::default(),
        }
    }
}

impl Providers {
    fn client(&self, config: &OauthConfig, url: &str) -> Result<(&Client, Url)> {
        let parsed = Url::parse(url).map_err(|_| ProviderError::BadUrl(url.to_owned()))?;
        if config.allow_insecure_requests {
            return Ok((&self.any_scheme, parsed));
        }
        if parsed.scheme() != "https" {
            return Err(ProviderError::Insecure(url.to_owned()));
        }
        Ok((&self.https_only, parsed))
    }

    /// The provider's discovery document. `issuerUrl` may be the issuer or its discovery URL;
    /// given the issuer, the document must name that same issuer.
    pub async fn metadata(&self, config: &OauthConfig) -> Result<Arc<Metadata>> {
        let configured = config.issuer_url.trim();
        let url = if configured.contains("/.well-known/") {
            configured.to_owned()
        } else {
            format!("{}/.well-known/openid-configuration", configured.trim_end_matches('/'))
        };
        // Checked before the cache: turning insecure requests off takes effect at once.
        let (client, parsed) = self.client(config, &url)?;
        if let Some(hit) = fresh(&self.metadata, configured) {
            return Ok(hit);
        }
        let metadata: Metadata = read_json(&url, client.get(parsed).timeout(timeout(config)).send().await).await?;
        if !configured.contains("/.well-known/")
            && metadata.issuer.trim_end_matches('/') != configured.trim_end_matches('/')
        {
            return Err(ProviderError::IssuerMismatch {
                expected: configured.to_owned(),
                found: metadata.issuer,
            });
        }
        for endpoint in [&metadata.authorization_endpoint, &metadata.token_endpoint] {
            self.client(config, endpoint)?;
        }
        Ok(store(&self.metadata, configured, metadata))
    }

    /// The provider's signing keys; fetched again when a token names a key not among them.
    pub async fn keys(
        &self,
        config: &OauthConfig,
        metadata: &Metadata,
        wanted_kid: Option<&str>,
    ) -> Result<Arc<JwkSet>> {
        let Some(url) = metadata.jwks_uri.as_deref() else {
            return Ok(Arc::default());
        };
        let cached = {
            let cache = self.keys.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            cache
                .get(url)
                .map(|entry| (entry.value.clone(), entry.fetched.elapsed()))
        };
        if let Some((keys, age)) = cached {
            let missing = wanted_kid.is_some_and(|kid| !keys.has_key(kid));
            if age < CACHE_FOR && (!missing || age < KEY_REFRESH_AT_MOST_EVERY) {
                return Ok(keys);
            }
        }
        let (client, parsed) = self.client(config, url)?;
        let keys: JwkSet = read_json(url, client.get(parsed).timeout(timeout(config)).send().await).await?;
        Ok(store(&self.keys, url, keys))
    }

    /// Trades an authorization code (with its PKCE verifier) for tokens.
    pub async fn exchange_code(
        &self,
        config: &OauthConfig,
        metadata: &Metadata,
        code: &str,
        redirect_uri: &str,
        code_verifier: &str,
    ) -> Result<Tokens> {
        let url = &metadata.token_endpoint;
        let (client, parsed) = self.client(config, url)?;
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", code_verifier),
        ];
        let mut request = client.post(parsed).timeout(timeout(config));
        let secret = config.client_secret.as_str();
        match config.token_endpoint_auth_method {
            _ if secret.is_empty() => form.push(("client_id", &config.client_id)),
            TokenEndpointAuthMethod::ClientSecretPost => {
                form.push(("client_id", &config.client_id));
                form.push(("client_secret", secret));
            }
            TokenEndpointAuthMethod::ClientSecretBasic => {
                // RFC 6749 2.3.1: both are form-encoded before they are joined.
                let encode = |text: &str| serde_urlencoded::to_string([("", text)]).unwrap_or_default()[1..].to_owned();
                request = request.basic_auth(encode(&config.client_id), Some(encode(secret)));
            }
        }
        read_json(url, request.form(&form).send().await).await
    }

    pub async fn user_info(&self, config: &OauthConfig, metadata: &Metadata, access_token: &str) -> Result<UserInfo> {
        let Some(url) = metadata.userinfo_endpoint.as_deref() else {
            return Err(ProviderError::Unexpected {
                url: config.issuer_url.clone(),
                reason: "the provider has no userinfo endpoint and the ID token carries no e-mail".into(),
            });
        };
        let (client, parsed) = self.client(config, url)?;
        let response = client
            .get(parsed)
            .timeout(timeout(config))
            .bearer_auth(access_token)
            .send()
            .await;
        let response = successful(url, response).await?;
        let is_jwt = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.starts_with("application/jwt"));
        let body = response.text().await.map_err(|source| ProviderError::Unreachable {
            url: url.to_owned(),
            source,
        })?;
        if is_jwt {
            return Ok(UserInfo::Signed(body));
        }
        serde_json::from_str(&body)
            .map(UserInfo::Claims)
            .map_err(|e| ProviderError::Unexpected {
                url: url.to_owned(),
                reason: e.to_string(),
            })
    }
}

impl Providers {
    /// The user's picture from the `picture` claim, if it is an image type a profile may have
    /// (not SVG, which could carry scripts) and not too large.
    pub async fn picture(&self, config: &OauthConfig, url: &str) -> Result<(Bytes, &'static MediaType)> {
        let (client, parsed) = self.client(config, url)?;
        let mut response = successful(url, client.get(parsed).timeout(timeout(config)).send().await).await?;
        let unexpected = |reason: String| ProviderError::Unexpected {
            url: url.to_owned(),
            reason,
        };
        let mime = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .map(|value| value.trim().to_ascii_lowercase())
            .unwrap_or_default();
        let media_type = darkroom_media::media_types()
            .iter()
            .find(|t| t.profile && !t.extension.contains("svg") && t.mime_types.contains(&mime.as_str()))
            .ok_or_else(|| unexpected(format!("a picture of type {mime:?}")))?;
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|source| ProviderError::Unreachable {
            url: url.to_owned(),
            source,
        })? {
            if bytes.len() + chunk.len() > MAX_PICTURE_BYTES {
                return Err(unexpected(format!("a picture over {MAX_PICTURE_BYTES} bytes")));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok((Bytes::from(bytes), media_type))
    }
}

fn timeout(config: &OauthConfig) -> Duration {
    Duration::from_millis(config.timeout.clamp(1, 600_000) as u64)
}

fn fresh<T>(cache: &Mutex<HashMap<String, Cached<T>>>, key: &str) -> Option<Arc<T>> {
    let cache = cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    cache
        .get(key)
        .filter(|entry| entry.fetched.elapsed() < CACHE_FOR)
        .map(|entry| entry.value.clone())
}

fn store<T>(cache: &Mutex<HashMap<String, Cached<T>>>, key: &str, value: T) -> Arc<T> {
    let value = Arc::new(value);
    let entry = Cached {
        value: value.clone(),
        fetched: Instant::now(),
    };
    cache
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .insert(key.to_owned(), entry);
    value
}

async fn successful(
    url: &str,
    response: std::result::Result<reqwest::Response, reqwest::Error>,
) -> Result<reqwest::Response> {
    let response = response.map_err(|source| ProviderError::Unreachable {
        url: url.to_owned(),
        source,
    })?;
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let body = response.text().await.unwrap_or_default();
    Err(ProviderError::Refused {
        url: url.to_owned(),
        status: status.as_u16(),
        body: body.chars().take(500).collect(),
    })
}

async fn read_json<T: serde::de::DeserializeOwned>(
    url: &str,
    response: std::result::Result<reqwest::Response, reqwest::Error>,
) -> Result<T> {
    successful(url, response)
        .await?
        .json()
        .await
        .map_err(|e| ProviderError::Unexpected {
            url: url.to_owned(),
            reason: e.to_string(),
        })
}
