//! The OpenID Connect provider the OAuth tests sign in through (`darkroom_tests::oidc`), checked
//! on its own, without Darkroom: discovery, a hand-built authorization request with state, nonce
//! and PKCE, the sign-in, the code exchange and the RS256 ID token, and back-channel logout.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use darkroom_tests::oidc::{OidcClient, OidcProvider, oidc_login};
use reqwest::{StatusCode, Url};
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::signature::Verifier;
use rsa::{BigUint, RsaPublicKey};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const CLIENT_ID: &str = "darkroom";
const SECRET: &str = "darkroom-secret";
const WEB_REDIRECT: &str = "http://127.0.0.1:2283/auth/login";
const MOBILE_REDIRECT: &str = "app.immich:///oauth-callback";

fn client() -> OidcClient {
    OidcClient::new(CLIENT_ID, SECRET, &[MOBILE_REDIRECT, WEB_REDIRECT])
}

/// One sign-in's request parameters and what came back.
struct SignIn {
    code: String,
    verifier: String,
    nonce: String,
}

/// Builds the authorization URL as a relying party would, signs `login` in and checks the
/// redirect back: the same `state`, the provider's `iss`, a `code`.
async fn sign_in(config: &Value, login: &str, redirect_uri: &str) -> SignIn {
    let verifier = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let state = uuid::Uuid::new_v4().to_string();
    let nonce = uuid::Uuid::new_v4().to_string();
    let url = Url::parse_with_params(
        config["authorization_endpoint"].as_str().unwrap(),
        [
            ("client_id", CLIENT_ID),
            ("response_type", "code"),
            ("scope", "openid email profile groups"),
            ("redirect_uri", redirect_uri),
            ("state", &state),
            ("nonce", &nonce),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    )
    .unwrap();
    let back = oidc_login(url.as_str(), login).await.unwrap();
    assert!(back.as_str().starts_with(redirect_uri), "{back}");
    let query: std::collections::HashMap<_, _> = back.query_pairs().into_owned().collect();
    assert_eq!(query.get("state"), Some(&state), "{back}");
    assert_eq!(query.get("iss").map(String::as_str), config["issuer"].as_str());
    SignIn {
        code: query.get("code").cloned().expect("a code"),
        verifier,
        nonce,
    }
}

/// The token request with the secret in the body (`client_secret_post`, Immich's default) or
/// as HTTP Basic.
async fn exchange(config: &Value, code: &str, verifier: &str, redirect_uri: &str, basic: bool) -> (StatusCode, Value) {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri),
        ("code_verifier", verifier),
    ];
    let mut request = reqwest::Client::new().post(config["token_endpoint"].as_str().unwrap());
    if basic {
        request = request.basic_auth(CLIENT_ID, Some(SECRET));
    } else {
        form.extend([("client_id", CLIENT_ID), ("client_secret", SECRET)]);
    }
    let response = request.form(&form).send().await.unwrap();
    (response.status(), response.json().await.unwrap())
}

fn jwt_part(token: &str, index: usize) -> Value {
    let part = token.split('.').nth(index).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// Checks the JWT's RS256 signature against the provider's published key with its `kid`.
async fn verify_rs256(config: &Value, token: &str) {
    let header = jwt_part(token, 0);
    assert_eq!(header["alg"], "RS256");
    let jwks: Value = reqwest::get(config["jwks_uri"].as_str().unwrap())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|key| key["kid"] == header["kid"])
        .expect("the signing key in the JWKS");
    let number = |name: &str| BigUint::from_bytes_be(&URL_SAFE_NO_PAD.decode(key[name].as_str().unwrap()).unwrap());
    let verifying = VerifyingKey::<Sha256>::new(RsaPublicKey::new(number("n"), number("e")).unwrap());
    let (signed, signature) = token.rsplit_once('.').unwrap();
    let signature = Signature::try_from(URL_SAFE_NO_PAD.decode(signature).unwrap().as_slice()).unwrap();
    verifying
        .verify(signed.as_bytes(), &signature)
        .expect("a valid RS256 signature");
}

#[tokio::test(flavor = "multi_thread")]
async fn discovery_describes_an_authelia_like_provider() {
    let provider = OidcProvider::start(&[client()]).await;
    let config = provider.discovery().await;
    assert_eq!(config["issuer"], provider.issuer.as_str());
    assert_eq!(config["response_types_supported"], json!(["code"]));
    assert_eq!(config["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(config["id_token_signing_alg_values_supported"], json!(["RS256"]));
    assert_eq!(
        config["token_endpoint_auth_methods_supported"],
        json!(["client_secret_basic", "client_secret_post"])
    );
    assert_eq!(
        config["scopes_supported"],
        json!(["openid", "email", "profile", "groups"])
    );
    assert_eq!(config["backchannel_logout_supported"], true);
    assert!(config["userinfo_endpoint"].is_string());

    let mallory = provider.account("mallory").await;
    assert_eq!(mallory["email"], darkroom_tests::ADMIN_EMAIL);
    assert_eq!(mallory["email_verified"], false);
}

#[tokio::test(flavor = "multi_thread")]
async fn alice_signs_in_with_pkce_and_gets_an_rs256_id_token_once() {
    let provider = OidcProvider::start(&[client()]).await;
    let config = provider.discovery().await;
    let alice = sign_in(&config, "alice", WEB_REDIRECT).await;

    let (status, tokens) = exchange(&config, &alice.code, &alice.verifier, WEB_REDIRECT, false).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let id_token = tokens["id_token"].as_str().unwrap();
    verify_rs256(&config, id_token).await;
    let claims = jwt_part(id_token, 1);
    assert_eq!(claims["iss"], provider.issuer.as_str());
    assert_eq!(claims["aud"], CLIENT_ID);
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["nonce"], alice.nonce.as_str());
    assert_eq!(claims["email"], "alice@example.com");
    assert_eq!(claims["email_verified"], true);
    assert_eq!(claims["name"], "Alice Liddell");
    assert_eq!(claims["preferred_username"], "alice");
    assert_eq!(claims["groups"], json!(["users"]));

    let userinfo: Value = reqwest::Client::new()
        .get(config["userinfo_endpoint"].as_str().unwrap())
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(userinfo["email"], "alice@example.com");

    let (status, again) = exchange(&config, &alice.code, &alice.verifier, WEB_REDIRECT, false).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(again["error"], "invalid_grant");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_code_verifier_or_an_unknown_login_gets_nothing() {
    let provider = OidcProvider::start(&[client()]).await;
    let config = provider.discovery().await;
    let alice = sign_in(&config, "alice", WEB_REDIRECT).await;
    let wrong = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
    let (status, refused) = exchange(&config, &alice.code, &wrong, WEB_REDIRECT, false).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(refused["error"], "invalid_grant");

    let authorize = format!(
        "{}?client_id={CLIENT_ID}&response_type=code&scope=openid&redirect_uri={WEB_REDIRECT}\
         &code_challenge={}&code_challenge_method=S256",
        config["authorization_endpoint"].as_str().unwrap(),
        URL_SAFE_NO_PAD.encode(Sha256::digest(b"verifier-verifier-verifier-verifier-verifier"))
    );
    let error = oidc_login(&authorize, "nobody").await.unwrap_err();
    assert!(error.to_string().contains("unknown test account"), "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_mobile_redirect_basic_auth_and_immich_claims() {
    let provider = OidcProvider::start(&[client()]).await;
    let config = provider.discovery().await;

    let bob = sign_in(&config, "bob", MOBILE_REDIRECT).await;
    let (status, tokens) = exchange(&config, &bob.code, &bob.verifier, MOBILE_REDIRECT, true).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let claims = jwt_part(tokens["id_token"].as_str().unwrap(), 1);
    assert_eq!(claims["groups"], json!(["users", "admins"]));
    assert_eq!(claims["immich_role"], "admin");

    let quinn = sign_in(&config, "quinn", WEB_REDIRECT).await;
    let (_, tokens) = exchange(&config, &quinn.code, &quinn.verifier, WEB_REDIRECT, true).await;
    let claims = jwt_part(tokens["id_token"].as_str().unwrap(), 1);
    assert_eq!(claims["immich_quota"], 1);
    assert_eq!(claims["immich_label"], "quinn-label");

    let mallory = sign_in(&config, "mallory", WEB_REDIRECT).await;
    let (_, tokens) = exchange(&config, &mallory.code, &mallory.verifier, WEB_REDIRECT, false).await;
    let claims = jwt_part(tokens["id_token"].as_str().unwrap(), 1);
    assert_eq!(claims["email"], darkroom_tests::ADMIN_EMAIL);
    assert_eq!(claims["email_verified"], false);
}

#[tokio::test(flavor = "multi_thread")]
async fn userinfo_only_keeps_the_id_token_minimal() {
    let provider = OidcProvider::start_with(&[client()], &["--userinfo-only"]).await;
    let config = provider.discovery().await;
    let alice = sign_in(&config, "alice", WEB_REDIRECT).await;
    let (_, tokens) = exchange(&config, &alice.code, &alice.verifier, WEB_REDIRECT, false).await;
    let claims = jwt_part(tokens["id_token"].as_str().unwrap(), 1);
    assert_eq!(claims["sub"], "alice");
    assert!(claims.get("email").is_none(), "{claims}");
}

/// Answers one HTTP request with 200 and hands back its body.
async fn receive_one_post(listener: tokio::net::TcpListener) -> String {
    let (mut socket, _) = listener.accept().await.unwrap();
    let mut received = Vec::new();
    let mut buffer = [0_u8; 4096];
    loop {
        let read = socket.read(&mut buffer).await.unwrap();
        assert!(read > 0, "connection closed early");
        received.extend_from_slice(&buffer[..read]);
        let text = String::from_utf8_lossy(&received).into_owned();
        let Some((head, body)) = text.split_once("\r\n\r\n") else {
            continue;
        };
        let length: usize = head
            .lines()
            .find_map(|line| {
                line.to_ascii_lowercase()
                    .strip_prefix("content-length:")
                    .map(|v| v.trim().to_owned())
            })
            .map_or(0, |value| value.parse().unwrap());
        if body.len() >= length {
            socket
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                .await
                .unwrap();
            return body.to_owned();
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn backchannel_logout_sends_the_session_s_logout_token() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let logout_uri = format!("http://{}/api/oauth/backchannel-logout", listener.local_addr().unwrap());
    let receiver = tokio::spawn(receive_one_post(listener));
    let provider = OidcProvider::start(&[client().with_backchannel_logout(&logout_uri)]).await;
    let config = provider.discovery().await;
    let alice = sign_in(&config, "alice", WEB_REDIRECT).await;
    let (_, tokens) = exchange(&config, &alice.code, &alice.verifier, WEB_REDIRECT, false).await;
    let sid = jwt_part(tokens["id_token"].as_str().unwrap(), 1)["sid"].clone();
    assert!(sid.is_string());

    let results = provider.backchannel_logout("alice").await;
    assert_eq!(results, json!([{ "client_id": CLIENT_ID, "sid": sid, "ok": true }]));
    let body = receiver.await.unwrap();
    let form: std::collections::HashMap<_, _> = url_form(&body);
    let token = form.get("logout_token").expect("a logout_token");
    verify_rs256(&config, token).await;
    let claims = jwt_part(token, 1);
    assert_eq!(claims["iss"], provider.issuer.as_str());
    assert_eq!(claims["aud"], CLIENT_ID);
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["sid"], sid);
    assert!(claims["events"]["http://schemas.openid.net/event/backchannel-logout"].is_object());

    // Nothing is left to log out.
    assert_eq!(provider.backchannel_logout("alice").await, json!([]));
}

fn url_form(body: &str) -> std::collections::HashMap<String, String> {
    Url::parse(&format!("http://form/?{body}"))
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}
