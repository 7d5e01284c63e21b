//! Sign-in through a real OpenID provider (`darkroom_tests::oidc`, set up like Authelia): the
//! web app's flow with its cookies, the mobile app's with its own PKCE, registration from the
//! claims, linking and unlinking, back-channel logout; refusals are in `oauth/refusals.rs`.

use darkroom_tests::oidc::{OidcClient, OidcProvider, oidc_login};
use darkroom_tests::{Reply, TestServer};
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Method, StatusCode, Url};
use serde_json::{Value, json};

mod refusals;

pub(crate) const CLIENT_ID: &str = "darkroom";
const SECRET: &str = "darkroom-secret";
pub(crate) const APP_REDIRECT: &str = "app.immich:///oauth-callback";

/// Darkroom with OAuth enabled against a provider that knows it as a client.
pub(crate) struct Sso {
    pub server: TestServer,
    pub provider: OidcProvider,
    pub admin: String,
}

impl Sso {
    /// `change` adjusts the `oauth` settings after the defaults of these tests.
    pub async fn start(change: impl FnOnce(&mut Value)) -> Self {
        Self::start_with(&[], &[], change).await
    }

    /// With the server's extra environment and the provider script's options.
    pub async fn start_with(env: &[(&str, &str)], options: &[&str], change: impl FnOnce(&mut Value)) -> Self {
        let server = TestServer::start_with(env).await;
        let admin = server.admin_token().await;
        let url = &server.url;
        let redirects = [
            format!("{url}/auth/login"),
            format!("{url}/user-settings"),
            format!("{url}/api/oauth/mobile-redirect"),
            APP_REDIRECT.to_owned(),
        ];
        let redirects: Vec<&str> = redirects.iter().map(String::as_str).collect();
        let client = OidcClient::new(CLIENT_ID, SECRET, &redirects)
            .with_backchannel_logout(&format!("{url}/api/oauth/backchannel-logout"));
        let provider = OidcProvider::start_with(&[client], options).await;
        let sso = Self {
            server,
            provider,
            admin,
        };
        sso.configure(change).await;
        sso
    }

    pub async fn configure(&self, change: impl FnOnce(&mut Value)) {
        let issuer = self.provider.issuer.clone();
        self.server
            .update_config(&self.admin, |config| {
                let oauth = &mut config["oauth"];
                oauth["enabled"] = json!(true);
                oauth["issuerUrl"] = json!(issuer);
                oauth["clientId"] = json!(CLIENT_ID);
                oauth["clientSecret"] = json!(SECRET);
                oauth["scope"] = json!("openid email profile groups");
                oauth["storageLabelClaim"] = json!("immich_label");
                // The provider listens on loopback http.
                oauth["allowInsecureRequests"] = json!(true);
                change(oauth);
            })
            .await;
    }

    /// `POST /api/oauth/authorize` for `redirect_uri` (with a client's own state and PKCE
    /// challenge, as the mobile app sends them); the reply and the cookies it set.
    pub async fn authorize(&self, body: Value) -> (Reply, String) {
        let reply = self
            .server
            .send(self.server.request(Method::POST, "/api/oauth/authorize").json(&body))
            .await;
        let cookies = cookies_set(&reply);
        (reply, cookies)
    }

    /// The web app's start on `page` (`/auth/login`, `/user-settings`), and `login` signing
    /// in at the provider: the URL the browser came back to and the web app's cookies.
    pub async fn web_sign_in(&self, page: &str, login: &str) -> (String, String) {
        let (reply, cookies) = self
            .authorize(json!({ "redirectUri": format!("{}{page}", self.server.url) }))
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        let back = oidc_login(reply.body["url"].as_str().unwrap(), login).await.unwrap();
        (back.to_string(), cookies)
    }

    /// `POST /api/oauth/<step>` (`callback` or `link`) with `body`, the cookies and a token.
    pub async fn finish(&self, step: &str, body: Value, cookies: &str, token: Option<&str>) -> Reply {
        let mut request = self
            .server
            .request(Method::POST, &format!("/api/oauth/{step}"))
            .json(&body);
        if !cookies.is_empty() {
            request = request.header(COOKIE, cookies);
        }
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        self.server.send(request).await
    }

    /// The whole web sign-in of `login`; the callback's reply.
    pub async fn web_login(&self, login: &str) -> Reply {
        let (url, cookies) = self.web_sign_in("/auth/login", login).await;
        self.finish("callback", json!({ "url": url }), &cookies, None).await
    }

    pub async fn me(&self, token: &str) -> Value {
        let reply = self.server.call(Method::GET, "/api/users/me", Some(token), None).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply.body
    }
}

/// The `name=value` pairs a reply set, as a `Cookie` header would send them back.
pub(crate) fn cookies_set(reply: &Reply) -> String {
    reply
        .headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|cookie| cookie.split(';').next())
        .filter(|pair| !pair.ends_with('='))
        .collect::<Vec<_>>()
        .join("; ")
}

fn query(url: &str) -> std::collections::HashMap<String, String> {
    Url::parse(url).unwrap().query_pairs().into_owned().collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn new_users_sign_in_through_the_provider_and_are_registered_from_its_claims() {
    let sso = Sso::start(|_| {}).await;
    let features = sso.server.call(Method::GET, "/api/server/features", None, None).await;
    assert_eq!(
        (
            features.body["oauth"].as_bool(),
            features.body["oauthAutoLaunch"].as_bool()
        ),
        (Some(true), Some(false))
    );

    // The authorization request carries state, nonce and PKCE, and the cookies keep them.
    let (started, cookies) = sso
        .authorize(json!({ "redirectUri": format!("{}/auth/login", sso.server.url) }))
        .await;
    assert_eq!(started.status, StatusCode::CREATED, "{}", started.body);
    let params = query(started.body["url"].as_str().unwrap());
    for name in ["state", "nonce", "code_challenge"] {
        assert!(params.get(name).is_some_and(|v| v.len() >= 43), "{name}: {params:?}");
    }
    assert_eq!(params["code_challenge_method"], "S256");
    assert_eq!(params["client_id"], CLIENT_ID);
    assert!(
        cookies.contains(&format!("immich_oauth_state={}", params["state"])),
        "{cookies}"
    );
    assert!(cookies.contains("immich_oauth_code_verifier="), "{cookies}");
    // The external domain's pages are this server's too (reached through another name).
    sso.server
        .update_config(&sso.admin, |config| {
            config["server"]["externalDomain"] = json!("https://photos.example.com")
        })
        .await;
    let external = sso
        .authorize(json!({ "redirectUri": "https://photos.example.com/auth/login" }))
        .await
        .0;
    assert_eq!(external.status, StatusCode::CREATED, "{}", external.body);

    // Quinn is registered with the quota (GiB) and storage label the claims give.
    let quinn = sso.web_login("quinn").await;
    assert_eq!(quinn.status, StatusCode::CREATED, "{}", quinn.body);
    assert_eq!(
        (
            quinn.body["userEmail"].as_str(),
            quinn.body["name"].as_str(),
            quinn.body["isAdmin"].as_bool()
        ),
        (Some("quinn@example.com"), Some("Quinn Quota"), Some(false))
    );
    let set = cookies_set(&quinn);
    assert!(
        set.contains("immich_auth_type=oauth") && set.contains("immich_is_authenticated=true"),
        "{set}"
    );
    let token = quinn.body["accessToken"].as_str().unwrap().to_owned();
    let me = sso.me(&token).await;
    assert_eq!(
        (
            me["quotaSizeInBytes"].as_i64(),
            me["storageLabel"].as_str(),
            me["oauthId"].as_str()
        ),
        (Some(1 << 30), Some("quinn-label"), Some("quinn"))
    );
    assert_eq!(
        sso.web_login("quinn").await.body["userId"],
        quinn.body["userId"],
        "the same account again"
    );
    // And the picture the provider has for Quinn.
    let picture_path = format!("/api/users/{}/profile-image", me["id"].as_str().unwrap());
    let picture = sso.server.call(Method::GET, &picture_path, Some(&token), None).await;
    assert_eq!(picture.status, StatusCode::OK);
    assert!(picture.bytes.starts_with(b"\x89PNG"), "{:?}", picture.headers);

    // Bob's role claim makes him an admin; Zoë keeps her name, her e-mail is lower-cased.
    let bob = sso.web_login("bob").await;
    assert_eq!(bob.body["isAdmin"], json!(true), "{}", bob.body);
    let zoe = sso.web_login("zoe").await;
    assert_eq!(
        (zoe.body["name"].as_str(), zoe.body["userEmail"].as_str()),
        (Some("Zoë Ångström"), Some("zoe@example.com"))
    );

    // Signing out of an OAuth session leads to the provider's end-session page.
    let logout = sso
        .server
        .send(
            sso.server
                .request(Method::POST, "/api/auth/logout")
                .bearer_auth(&token)
                .header(COOKIE, "immich_auth_type=oauth"),
        )
        .await;
    let end_session = sso.provider.discovery().await["end_session_endpoint"].clone();
    assert_eq!(logout.body["redirectUri"], end_session);

    // Without auto-registering, strangers stay out.
    sso.configure(|oauth| oauth["autoRegister"] = json!(false)).await;
    let alice = sso.web_login("alice").await;
    assert_eq!(
        (alice.status, alice.message()),
        (StatusCode::BAD_REQUEST, "OAuth authentication failed")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_existing_user_links_unlinks_and_is_found_by_a_verified_email() {
    let sso = Sso::start(|oauth| oauth["autoRegister"] = json!(false)).await;
    let alice = sso.server.user_token(&sso.admin, "alice@example.com").await;
    let other = sso.server.user_token(&sso.admin, "other@example.com").await;

    // Alice links her account from the user settings page.
    let (url, cookies) = sso.web_sign_in("/user-settings", "alice").await;
    let linked = sso.finish("link", json!({ "url": url }), &cookies, Some(&alice)).await;
    assert_eq!(linked.status, StatusCode::OK, "{}", linked.body);
    assert_eq!(linked.body["oauthId"], "alice");
    let signed_in = sso.web_login("alice").await;
    assert_eq!(signed_in.body["userEmail"], "alice@example.com", "{}", signed_in.body);

    // Nobody else can link the same provider account.
    let (url, cookies) = sso.web_sign_in("/user-settings", "alice").await;
    let taken = sso.finish("link", json!({ "url": url }), &cookies, Some(&other)).await;
    assert_eq!(
        (taken.status, taken.message()),
        (
            StatusCode::BAD_REQUEST,
            "This OAuth account has already been linked to another user."
        )
    );

    let unlinked = sso
        .server
        .call(Method::POST, "/api/oauth/unlink", Some(&alice), None)
        .await;
    assert_eq!(
        (unlinked.status, unlinked.body["oauthId"].as_str()),
        (StatusCode::OK, Some(""))
    );

    // Unlinked, Alice's verified e-mail finds her account again (registration is off).
    let by_email = sso.web_login("alice").await;
    assert_eq!(by_email.status, StatusCode::CREATED, "{}", by_email.body);
    assert_eq!(
        sso.me(by_email.body["accessToken"].as_str().unwrap()).await["oauthId"],
        "alice"
    );

    // The admin can unlink everyone at once.
    let all = sso
        .server
        .call(Method::POST, "/api/admin/auth/unlink-all", Some(&sso.admin), None)
        .await;
    assert_eq!(all.status, StatusCode::NO_CONTENT);
    assert_eq!(sso.me(&alice).await["oauthId"], "");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_mobile_app_signs_in_with_its_own_pkce_directly_and_through_the_override_page() {
    let sso = Sso::start(|_| {}).await;
    let mobile = |redirect: &str| {
        let verifier = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
        let challenge = {
            use base64::Engine;
            use sha2::Digest;
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()))
        };
        let state = uuid::Uuid::new_v4().simple().to_string();
        (
            json!({ "redirectUri": redirect, "state": state, "codeChallenge": challenge }),
            state,
            verifier,
        )
    };

    // The app's own redirect URI, state and challenge; no cookies on the way back.
    let (body, state, verifier) = mobile(APP_REDIRECT);
    let (started, cookies) = sso.authorize(body).await;
    assert!(
        !cookies.contains("immich_oauth_code_verifier"),
        "the app keeps its own verifier"
    );
    let params = query(started.body["url"].as_str().unwrap());
    assert_eq!(
        (params["redirect_uri"].as_str(), params["state"].as_str()),
        (APP_REDIRECT, state.as_str())
    );
    let back = oidc_login(started.body["url"].as_str().unwrap(), "alice")
        .await
        .unwrap();
    assert!(back.as_str().starts_with(APP_REDIRECT), "{back}");
    let reply = sso
        .finish(
            "callback",
            json!({ "url": back.as_str(), "state": state, "codeVerifier": verifier }),
            "",
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);

    // A state that is not plain text never reaches a cookie (no attributes smuggled in).
    let odd = json!({ "redirectUri": APP_REDIRECT, "state": "x; Domain=evil.example", "codeChallenge": "c" });
    let (started, cookies) = sso.authorize(odd).await;
    assert_eq!(started.status, StatusCode::CREATED, "{}", started.body);
    assert!(!cookies.contains("immich_oauth_state"), "{cookies}");
    assert!(
        started
            .headers
            .get_all(SET_COOKIE)
            .iter()
            .all(|c| !c.to_str().unwrap().contains("evil")),
        "{:?}",
        started.headers
    );

    // With the override, the provider sends the browser to Darkroom's page, which hands the
    // answer to the app.
    let page = format!("{}/api/oauth/mobile-redirect", sso.server.url);
    let page_for_config = page.clone();
    sso.configure(move |oauth| {
        oauth["mobileOverrideEnabled"] = json!(true);
        oauth["mobileRedirectUri"] = json!(page_for_config);
    })
    .await;
    let (body, state, verifier) = mobile(APP_REDIRECT);
    let (started, _) = sso.authorize(body).await;
    assert_eq!(query(started.body["url"].as_str().unwrap())["redirect_uri"], page);
    let back = oidc_login(started.body["url"].as_str().unwrap(), "alice")
        .await
        .unwrap();
    assert!(back.as_str().starts_with(&page), "{back}");
    let no_follow = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let handed = no_follow.get(back.as_str()).send().await.unwrap();
    assert_eq!(handed.status(), StatusCode::TEMPORARY_REDIRECT);
    let to_app = handed.headers()[LOCATION].to_str().unwrap().to_owned();
    assert_eq!(to_app, format!("{APP_REDIRECT}?{}", back.query().unwrap()));
    let reply = sso
        .finish(
            "callback",
            json!({ "url": to_app, "state": state, "codeVerifier": verifier }),
            "",
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(reply.body["userEmail"], "alice@example.com");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_back_channel_logout_ends_the_sessions_of_that_provider_session() {
    let sso = Sso::start(|_| {}).await;
    // Two sign-ins from two browsers: two provider sessions, two Darkroom sessions.
    let first = sso.web_login("bob").await.body["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let second = sso.web_login("bob").await.body["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let sessions = |token: String| {
        let server = &sso.server;
        async move {
            server
                .call(Method::GET, "/api/sessions", Some(&token), None)
                .await
                .status
        }
    };

    // The provider logs out the latest: that session ends, the other stays.
    let sent = sso.provider.backchannel_logout("bob").await;
    assert_eq!(sent[0]["ok"], json!(true), "{sent}");
    assert_eq!(sessions(second).await, StatusCode::UNAUTHORIZED);
    assert_eq!(sessions(first).await, StatusCode::OK);

    // Tokens that are not the provider's are refused with Immich's errors.
    let post = |body: Value| {
        let server = &sso.server;
        async move {
            server
                .send(
                    server
                        .request(Method::POST, "/api/oauth/backchannel-logout")
                        .json(&body),
                )
                .await
        }
    };
    let missing = post(json!({})).await;
    assert_eq!(
        missing.body["errors"][0]["path"],
        json!(["logout_token"]),
        "{}",
        missing.body
    );
    let invalid = post(json!({ "logout_token": "invalid token" })).await;
    assert_eq!(
        (invalid.status, invalid.message()),
        (
            StatusCode::BAD_REQUEST,
            "Error backchannel logout: token validation failed"
        )
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn claims_come_from_the_userinfo_endpoint_plain_or_signed_and_credentials_from_files() {
    // The client secret comes from a file (a container secret); the settings' one is wrong.
    let secrets = tempfile::tempdir().unwrap();
    let secret_file = secrets.path().join("oauth-client-secret");
    std::fs::write(&secret_file, format!("{SECRET}\n")).unwrap();
    let env = [("DARKROOM_OAUTH_CLIENT_SECRET_FILE", secret_file.to_str().unwrap())];
    let account_page = "https://sso.example.com/account/Zoë";
    let sso = Sso::start_with(&env, &["--userinfo-only"], |oauth| {
        oauth["clientSecret"] = json!("not-the-secret");
        oauth["tokenEndpointAuthMethod"] = json!("client_secret_basic");
        oauth["accountManagementUrl"] = json!(account_page);
    })
    .await;
    let zoe = sso.web_login("zoe").await;
    assert_eq!(zoe.status, StatusCode::CREATED, "{}", zoe.body);
    assert_eq!(
        zoe.body["name"], "Zoë Ångström",
        "the name came from the userinfo endpoint"
    );

    // Immich 3.2's link to the provider's account page.
    let config = sso.server.call(Method::GET, "/api/server/config", None, None).await;
    assert_eq!(config.body["oauthAccountManagementUrl"], account_page);

    // Signed userinfo (application/jwt), verified with the provider's key.
    let signed = Sso::start_with(&[], &["--userinfo-only", "--signed-userinfo"], |oauth| {
        oauth["profileSigningAlgorithm"] = json!("RS256");
    })
    .await;
    let quinn = signed.web_login("quinn").await;
    assert_eq!(quinn.status, StatusCode::CREATED, "{}", quinn.body);
    let me = signed.me(quinn.body["accessToken"].as_str().unwrap()).await;
    assert_eq!(me["storageLabel"], "quinn-label");
}

/// The official SDK (Node 22's fetch) through the whole flow with its own PKCE, then linking.
#[tokio::test(flavor = "multi_thread")]
async fn the_official_sdk_signs_in_links_and_unlinks() {
    let sso = Sso::start(|_| {}).await;
    let out = crate::clients::run_script("sdk-oauth.mjs", &[&sso.server.url, "zoe"]).await;
    assert!(
        out.contains(r#"{"name":"Zoë Ångström","email":"zoe@example.com"}"#),
        "{out}"
    );
}
