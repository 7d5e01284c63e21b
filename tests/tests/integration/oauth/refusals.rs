//! What the OAuth sign-in refuses, each with a clear 4xx and nothing written: a tampered
//! state, a replayed code, a wrong verifier, another issuer, an expired or forged ID token, a
//! token meant for another client, a redirect to someone else's site.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{CLIENT_ID, Sso};

/// How many users and sessions exist: a refused sign-in must leave both as they were.
async fn rows(sso: &Sso) -> (i64, i64) {
    let mut db = sso.server.db().await;
    let count = |table: &'static str| format!(r#"SELECT count(*) FROM "{table}""#);
    let users: i64 = sqlx::query_scalar(&count("user")).fetch_one(&mut db).await.unwrap();
    let sessions: i64 = sqlx::query_scalar(&count("session")).fetch_one(&mut db).await.unwrap();
    (users, sessions)
}

/// Replaces (or adds) query parameter `name` of `url`.
fn with_param(url: &str, name: &str, value: &str) -> String {
    let mut parsed = reqwest::Url::parse(url).unwrap();
    let pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .into_owned()
        .filter(|(key, _)| key != name)
        .chain([(name.to_owned(), value.to_owned())])
        .collect();
    parsed.query_pairs_mut().clear().extend_pairs(pairs);
    parsed.to_string()
}

/// Asserts a 400 whose message contains `words`.
fn refused(reply: &darkroom_tests::Reply, words: &str) {
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert!(reply.message().contains(words), "expected {words:?} in {}", reply.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn forged_replayed_and_foreign_answers_are_refused_and_change_nothing() {
    let sso = Sso::start(|_| {}).await;
    let before = rows(&sso).await;

    // The body's fields are checked first, as Immich checks them.
    let no_uri = sso.authorize(json!({})).await.0;
    assert_eq!(
        no_uri.body["errors"][0]["path"],
        json!(["redirectUri"]),
        "{}",
        no_uri.body
    );
    let empty = sso.finish("callback", json!({ "url": "" }), "", None).await;
    assert_eq!(empty.body["errors"][0]["path"], json!(["url"]), "{}", empty.body);

    // A redirect to another site is not sent to the provider.
    let foreign = sso
        .authorize(json!({ "redirectUri": "https://evil.example/auth/login" }))
        .await
        .0;
    refused(&foreign, "redirect URI");

    let (url, cookies) = sso.web_sign_in("/auth/login", "alice").await;
    let state = cookies
        .split("; ")
        .find_map(|c| c.strip_prefix("immich_oauth_state="))
        .unwrap()
        .to_owned();
    refused(
        &sso.finish("callback", json!({ "url": url }), "", None).await,
        "OAuth state is missing",
    );
    refused(
        &sso.finish("callback", json!({ "url": url, "state": state }), "", None)
            .await,
        "OAuth code verifier is missing",
    );

    // The answer's state must be the one this browser started with.
    let other_state = with_param(&url, "state", "forged-state");
    refused(
        &sso.finish("callback", json!({ "url": other_state }), &cookies, None)
            .await,
        "state",
    );
    // An answer claiming another issuer is a mix-up.
    let other_issuer = with_param(&url, "iss", "https://evil.example");
    refused(
        &sso.finish("callback", json!({ "url": other_issuer }), &cookies, None)
            .await,
        "issuer",
    );
    // A verifier that does not match the challenge: the provider refuses the code.
    let wrong_verifier = cookies.replace("immich_oauth_code_verifier=", "immich_oauth_code_verifier=x");
    refused(
        &sso.finish("callback", json!({ "url": url }), &wrong_verifier, None)
            .await,
        "refused the code",
    );
    assert_eq!(rows(&sso).await, before);

    // A code is good once.
    let (url, cookies) = sso.web_sign_in("/auth/login", "alice").await;
    let first = sso.finish("callback", json!({ "url": url }), &cookies, None).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let after_first = rows(&sso).await;
    refused(
        &sso.finish("callback", json!({ "url": url }), &cookies, None).await,
        "refused the code",
    );
    assert_eq!(rows(&sso).await, after_first);
}

#[tokio::test(flavor = "multi_thread")]
async fn id_tokens_from_another_issuer_for_another_client_expired_or_forged_are_refused() {
    let sso = Sso::start(|_| {}).await;
    let before = rows(&sso).await;
    let now = chrono::Utc::now().timestamp();
    let cases: [(Value, bool, &str); 6] = [
        (
            json!({ "iss": "https://evil.example" }),
            false,
            "issued by https://evil.example",
        ),
        (json!({ "aud": "another-client" }), false, "another client"),
        (
            json!({ "aud": [CLIENT_ID, "another-client"], "azp": "another-client" }),
            false,
            "another client",
        ),
        (json!({ "exp": now - 600, "iat": now - 900 }), false, "expired"),
        (json!({ "nonce": "someone-elses-sign-in" }), false, "nonce"),
        (json!({}), true, "signature"),
    ];
    for (claims, break_signature, words) in cases {
        let (url, cookies) = sso.web_sign_in("/auth/login", "alice").await;
        sso.provider.tamper_next_id_token(claims.clone(), break_signature).await;
        let reply = sso.finish("callback", json!({ "url": url }), &cookies, None).await;
        assert!(reply.message().contains("ID token"), "{claims}: {}", reply.body);
        refused(&reply, words);
    }
    assert_eq!(rows(&sso).await, before, "no user and no session from a refused token");

    // A token signed otherwise than configured (HS256 with the secret) is refused too.
    sso.configure(|oauth| oauth["signingAlgorithm"] = json!("HS256")).await;
    let reply = sso.web_login("alice").await;
    refused(&reply, "RS256");

    // Over plain http only when allowed; discovery fails as in Immich (a server error).
    sso.configure(|oauth| oauth["allowInsecureRequests"] = json!(false))
        .await;
    let insecure = sso
        .authorize(json!({ "redirectUri": format!("{}/auth/login", sso.server.url) }))
        .await
        .0;
    assert_eq!(insecure.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", insecure.body);

    sso.configure(|oauth| oauth["enabled"] = json!(false)).await;
    let disabled = sso
        .authorize(json!({ "redirectUri": format!("{}/auth/login", sso.server.url) }))
        .await
        .0;
    assert_eq!(
        (disabled.status, disabled.message()),
        (StatusCode::BAD_REQUEST, "OAuth is not enabled")
    );
    let features = sso.server.call(Method::GET, "/api/server/features", None, None).await;
    assert_eq!(features.body["oauth"], json!(false));
    assert_eq!(rows(&sso).await, before);
}
