//! A real OpenID Connect provider for the OAuth tests: npm's oidc-provider, set up like Authelia
//! for Immich by `tests/node/oidc-provider.mjs` (code flow, PKCE S256, RS256 ID tokens, the fixed
//! accounts `alice`, `bob` (group `admins`), `mallory` (unverified `admin@immich.cloud`) and
//! `quinn` (Immich's quota, label and role claims)), and a browser that signs in through it.

use std::time::Duration;

use anyhow::{Context, bail};
use reqwest::Url;
use serde::Serialize;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Child;

/// A client registered at the provider; secrets are accepted by `client_secret_post` and
/// `client_secret_basic` alike. Custom-scheme redirect URIs (`app.immich:///oauth-callback`)
/// make it a native client, whose http redirect URIs must be loopback ones (any port matches).
#[derive(Clone, Debug, Serialize)]
pub struct OidcClient {
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uris: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backchannel_logout_uri: Option<String>,
}

impl OidcClient {
    pub fn new(client_id: &str, client_secret: &str, redirect_uris: &[&str]) -> Self {
        Self {
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            redirect_uris: redirect_uris.iter().map(|uri| (*uri).to_owned()).collect(),
            backchannel_logout_uri: None,
        }
    }

    /// Where the provider posts logout tokens (see [`OidcProvider::backchannel_logout`]).
    pub fn with_backchannel_logout(mut self, uri: &str) -> Self {
        self.backchannel_logout_uri = Some(uri.to_owned());
        self
    }
}

/// The running provider; it stops when dropped.
pub struct OidcProvider {
    /// `http://127.0.0.1:<port>`, as in its discovery document.
    pub issuer: String,
    _process: Child,
}

impl OidcProvider {
    pub async fn start(clients: &[OidcClient]) -> Self {
        Self::start_with(clients, &[]).await
    }

    /// With the script's extra options, e.g. `--userinfo-only`.
    pub async fn start_with(clients: &[OidcClient], options: &[&str]) -> Self {
        let clients = serde_json::to_string(clients).expect("clients as JSON");
        let mut process = tokio::process::Command::new(crate::node())
            .arg("oidc-provider.mjs")
            .args(["--clients", &clients])
            .args(options)
            .current_dir(crate::node_dir())
            // Kept open while the child lives: the script also exits when its stdin closes.
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start tests/node/oidc-provider.mjs");
        let stdout = process.stdout.take().expect("stdout");
        let line = tokio::time::timeout(Duration::from_secs(30), BufReader::new(stdout).lines().next_line())
            .await
            .expect("oidc-provider.mjs ready within 30 s")
            .expect("read its stdout")
            .expect("oidc-provider.mjs exited before it was ready (its stderr is above)");
        let issuer = line
            .strip_prefix("ready ")
            .unwrap_or_else(|| panic!("unexpected first line from oidc-provider.mjs: {line}"))
            .to_owned();
        Self {
            issuer,
            _process: process,
        }
    }

    /// The provider's discovery document.
    pub async fn discovery(&self) -> Value {
        get_json(&format!("{}/.well-known/openid-configuration", self.issuer)).await
    }

    /// The claims of a fixed test account by its login name (also its `sub`).
    pub async fn account(&self, login: &str) -> Value {
        get_json(&format!("{}/test/accounts/{login}", self.issuer)).await
    }

    /// Sends a logout token to every client with a back-channel logout URI that `login` signed
    /// in to (the `sid` of its latest sign-in there); one `{client_id, sid, ok, error?}` each.
    pub async fn backchannel_logout(&self, login: &str) -> Value {
        let response = reqwest::Client::new()
            .post(format!("{}/test/backchannel-logout/{login}", self.issuer))
            .send()
            .await
            .expect("back-channel logout request");
        assert!(
            response.status().is_success(),
            "back-channel logout: {}",
            response.status()
        );
        response.json().await.expect("JSON")
    }
}

impl OidcProvider {
    /// Makes the next token response's ID token carry `claims` (a null removes one),
    /// re-signed with the provider's key, or with a broken signature: a faulty or hostile
    /// provider, or a token meant for someone else.
    pub async fn tamper_next_id_token(&self, claims: Value, break_signature: bool) {
        let response = reqwest::Client::new()
            .post(format!("{}/test/tamper", self.issuer))
            .json(&serde_json::json!({ "claims": claims, "break_signature": break_signature }))
            .send()
            .await
            .expect("tamper request");
        assert!(response.status().is_success(), "tamper: {}", response.status());
    }
}

async fn get_json(url: &str) -> Value {
    let response = reqwest::get(url).await.expect(url);
    assert!(response.status().is_success(), "{url}: {}", response.status());
    response.json().await.expect("JSON")
}

/// Plays the browser: opens `authorize_url` (the provider's, with the client's parameters),
/// signs in as `login` on the provider's pages (any password) and consents, keeping cookies,
/// and returns the first redirect that leaves the provider — the client's redirect URI with
/// `code`, `state` and `iss`, or with `error` — without following it. An error page or an
/// unknown login is an `Err`.
pub async fn oidc_login(authorize_url: &str, login: &str) -> anyhow::Result<Url> {
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let mut url = Url::parse(authorize_url).context("authorization URL")?;
    let provider = url.origin();
    let mut form: Option<Vec<(&str, &str)>> = None;
    for _ in 0..20 {
        let request = match form.take() {
            Some(fields) => browser.post(url.clone()).form(&fields),
            None => browser.get(url.clone()),
        };
        let response = request.send().await?;
        let status = response.status();
        if status.is_redirection() {
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .context("redirect without Location")?
                .to_str()?;
            let next = url.join(location)?;
            if next.origin() != provider {
                return Ok(next);
            }
            url = next;
            continue;
        }
        let page = response.text().await?;
        if !status.is_success() {
            bail!("{status} from {url}: {page}");
        }
        // The built-in pages' forms post back to the page's own URL.
        form = Some(if page.contains(r#"name="prompt" value="login""#) {
            vec![("prompt", "login"), ("login", login), ("password", "any")]
        } else if page.contains(r#"name="prompt" value="consent""#) {
            vec![("prompt", "consent")]
        } else {
            bail!("unexpected page at {url}: {page}");
        });
    }
    bail!("more than 20 steps signing in at {authorize_url}")
}
