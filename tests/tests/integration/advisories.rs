//! Every published Immich authentication advisory, replayed: the request that once worked is
//! refused. Where Immich 3.0.3 itself still answers the old way, the test says so.

use darkroom_tests::{Reply, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn post(server: &TestServer, token: &str, path: &str, body: Value) -> Reply {
    server.call(Method::POST, path, Some(token), Some(body)).await
}

/// GHSA-237r-x578-h5mv (CVE-2026-23896): a limited API key updated itself to `all`.
#[tokio::test]
async fn an_api_key_cannot_widen_its_own_permissions() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let limited = server.api_key(&admin, &["apiKey.read", "apiKey.update"]).await;
    let as_key = |method: Method, path: String, body: Value| {
        server.send(server.request(method, &path).header("x-api-key", &limited).json(&body))
    };
    let me = server
        .send(
            server
                .request(Method::GET, "/api/api-keys/me")
                .header("x-api-key", &limited),
        )
        .await;
    let id = me.body["id"].as_str().unwrap().to_owned();
    for method in [Method::PUT, Method::PATCH] {
        for wider in [json!(["all"]), json!(["apiKey.read", "apiKey.update", "album.create"])] {
            let escalated = as_key(
                method.clone(),
                format!("/api/api-keys/{id}"),
                json!({"permissions": wider}),
            )
            .await;
            assert_eq!(
                (escalated.status, escalated.message()),
                (StatusCode::BAD_REQUEST, "Cannot grant permissions you do not have"),
                "{method} {wider}"
            );
        }
    }
    let album = as_key(Method::POST, "/api/albums".into(), json!({"albumName": "x"})).await;
    assert_eq!(
        (album.status, album.message()),
        (StatusCode::FORBIDDEN, "Missing required permission: album.create")
    );
    let renamed = as_key(Method::PUT, format!("/api/api-keys/{id}"), json!({"name": "renamed"})).await;
    assert_eq!(renamed.status, StatusCode::OK);
    assert_eq!(renamed.body["permissions"], json!(["apiKey.read", "apiKey.update"]));
}

/// GHSA-78x4-6x83-jx75 (CVE-2026-25118): a link's password travelled in the query; and Immich
/// issue #29599 (no advisory, still in 3.0.3): a password link's assets opened with its key
/// alone. Here only the cookie that `POST /shared-links/login` sets opens it.
#[tokio::test]
async fn a_link_password_opens_nothing_from_the_query_nor_without_it() {
    let server = TestServer::start().await;
    let owner = server.admin_token().await;
    let asset = server.upload_stand_in(&owner, "guarded").await;
    let link = post(
        &server,
        &owner,
        "/api/shared-links",
        json!({"type": "INDIVIDUAL", "assetIds": [asset], "password": "secret"}),
    )
    .await;
    let key = link.body["key"].as_str().unwrap().to_owned();
    for path in [
        "/api/shared-links/me?password=secret".to_owned(),
        format!("/api/assets/{asset}?password=secret"),
        format!("/api/assets/{asset}/thumbnail"),
        format!("/api/assets/{asset}/original"),
    ] {
        let refused = server.as_link_guest(Method::GET, &path, &key, None).await;
        assert_eq!(
            (refused.status, refused.message()),
            (StatusCode::UNAUTHORIZED, "Password required"),
            "{path}"
        );
    }
}

/// GHSA-hvq7-hq9r-8gjr: a link's holder added the owner's other assets to the link.
#[tokio::test]
async fn a_link_holder_cannot_add_the_owners_other_assets() {
    let server = TestServer::start().await;
    let owner = server.admin_token().await;
    let shared = server.upload_stand_in(&owner, "shared").await;
    let private = server.upload_stand_in(&owner, "private").await;
    let link = post(
        &server,
        &owner,
        "/api/shared-links",
        json!({"type": "INDIVIDUAL", "assetIds": [shared]}),
    )
    .await;
    let (id, key) = (link.body["id"].as_str().unwrap(), link.body["key"].as_str().unwrap());
    let added = server
        .as_link_guest(
            Method::PUT,
            &format!("/api/shared-links/{id}/assets"),
            key,
            Some(json!({"assetIds": [private]})),
        )
        .await;
    assert_eq!((added.status, added.message()), (StatusCode::FORBIDDEN, "Forbidden"));
    let removed = server
        .as_link_guest(
            Method::DELETE,
            &format!("/api/shared-links/{id}/assets"),
            key,
            Some(json!({"assetIds": [shared]})),
        )
        .await;
    assert_eq!(removed.status, StatusCode::FORBIDDEN);
    let peek = server
        .as_link_guest(Method::GET, &format!("/api/assets/{private}"), key, None)
        .await;
    assert_ne!(peek.status, StatusCode::OK);
    let still = server
        .as_link_guest(Method::GET, &format!("/api/assets/{shared}"), key, None)
        .await;
    assert_eq!(still.status, StatusCode::OK);
}

/// CVE-2026-82272 (still in Immich 3.0.3): an asset locked on its own stayed readable through
/// the albums and links it was in; and the locked folder leaked through `POST /search/random`
/// (fixed in 3.0.3).
#[tokio::test(flavor = "multi_thread")]
async fn a_locked_asset_is_seen_by_nobody_else_and_found_by_no_search() {
    let server = TestServer::start().await;
    let owner = server.admin_token().await;
    let friend = server.user_token(&owner, "friend@example.com").await;
    let friend_id = server
        .call(Method::GET, "/api/users/me", Some(&friend), None)
        .await
        .body["id"]
        .clone();
    let secret = server.upload_stand_in(&owner, "secret").await;
    let album = post(
        &server,
        &owner,
        "/api/albums",
        json!({"albumName": "Shared", "assetIds": [secret], "albumUsers": [{"userId": friend_id, "role": "viewer"}]}),
    )
    .await;
    let album = album.body["id"].as_str().unwrap().to_owned();
    let link = post(
        &server,
        &owner,
        "/api/shared-links",
        json!({"type": "INDIVIDUAL", "assetIds": [secret]}),
    )
    .await;
    let key = link.body["key"].as_str().unwrap().to_owned();
    let asset_path = format!("/api/assets/{secret}");
    assert_eq!(
        server.call(Method::GET, &asset_path, Some(&friend), None).await.status,
        StatusCode::OK
    );

    post(&server, &owner, "/api/auth/pin-code", json!({"pinCode": "123456"})).await;
    post(
        &server,
        &owner,
        "/api/auth/session/unlock",
        json!({"pinCode": "123456"}),
    )
    .await;
    let locked = server
        .call(
            Method::PUT,
            &asset_path,
            Some(&owner),
            Some(json!({"visibility": "locked"})),
        )
        .await;
    assert_eq!(locked.status, StatusCode::OK, "{}", locked.body);
    post(&server, &owner, "/api/auth/session/lock", json!({})).await;

    for (who, reply) in [
        (
            "album member",
            server.call(Method::GET, &asset_path, Some(&friend), None).await,
        ),
        (
            "link guest",
            server.as_link_guest(Method::GET, &asset_path, &key, None).await,
        ),
        (
            "link guest's thumbnail",
            server
                .as_link_guest(Method::GET, &format!("{asset_path}/thumbnail"), &key, None)
                .await,
        ),
    ] {
        assert_ne!(reply.status, StatusCode::OK, "{who} still sees the locked asset");
    }
    let in_album = server
        .call(Method::GET, &format!("/api/albums/{album}"), Some(&friend), None)
        .await;
    assert!(!in_album.body.to_string().contains(&secret), "{}", in_album.body);

    let random = post(&server, &owner, "/api/search/random", json!({"size": 1000})).await;
    assert_eq!(random.status, StatusCode::OK);
    assert!(!random.body.to_string().contains(&secret), "{}", random.body);
    let asked = post(&server, &owner, "/api/search/random", json!({"visibility": "locked"})).await;
    assert_eq!(
        (asked.status, asked.message()),
        (StatusCode::UNAUTHORIZED, "Elevated permission is required")
    );
}

/// GHSA-3832-6r8h-9cfm: the OAuth callback did not check `state`, so an attacker's answer
/// (their own code) could be slipped into a victim's browser, signing the victim in as the
/// attacker (login CSRF).
#[tokio::test(flavor = "multi_thread")]
async fn an_oauth_answer_from_another_sign_in_is_refused() {
    let sso = crate::oauth::Sso::start(|_| {}).await;
    // The attacker's own sign-in, stopped before the callback.
    let (attackers_answer, _) = sso.web_sign_in("/auth/login", "bob").await;
    // The victim's browser, with the state of the sign-in it started, is given that answer.
    let (_, victims_cookies) = sso.web_sign_in("/auth/login", "alice").await;
    let slipped = sso
        .finish("callback", json!({ "url": attackers_answer }), &victims_cookies, None)
        .await;
    assert_eq!(slipped.status, StatusCode::BAD_REQUEST, "{}", slipped.body);
    assert!(slipped.message().contains("state"), "{}", slipped.body);
    // Nor without any state of its own.
    let bare = sso
        .finish("callback", json!({ "url": attackers_answer }), "", None)
        .await;
    assert_eq!(bare.message(), "OAuth state is missing");
}

/// OAuth account takeover by e-mail: a provider account claiming the admin's e-mail, which the
/// provider never verified, was linked to the admin's account on first sign-in. Immich 3.0.3
/// still links by any e-mail; here only a verified one finds an account.
#[tokio::test(flavor = "multi_thread")]
async fn an_unverified_oauth_email_does_not_take_over_the_matching_account() {
    let sso = crate::oauth::Sso::start(|_| {}).await;
    let mallory = sso.web_login("mallory").await;
    assert_eq!(
        (mallory.status, mallory.message()),
        (StatusCode::BAD_REQUEST, "OAuth authentication failed")
    );
    let admin = sso
        .server
        .call(Method::GET, "/api/users/me", Some(&sso.admin), None)
        .await;
    assert_eq!(admin.body["oauthId"], "", "the admin's account stays unlinked");
    let sessions = sso
        .server
        .call(Method::GET, "/api/sessions", Some(&sso.admin), None)
        .await;
    assert_eq!(
        sessions.body.as_array().map(Vec::len),
        Some(1),
        "only the admin's own session"
    );
}
