//! Sign-up, login, logout, tokens, passwords, PIN codes and sessions against a real server.

use darkroom_tests::{ADMIN_EMAIL, ADMIN_PASSWORD, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn admin_sign_up_happens_once() {
    let server = TestServer::start().await;
    let body = json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "name": "Immich Admin"});
    let first = server
        .call(Method::POST, "/api/auth/admin-sign-up", None, Some(body.clone()))
        .await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!(first.body["isAdmin"], json!(true));
    assert_eq!(first.body["storageLabel"], json!("admin"));
    assert_eq!(first.body["shouldChangePassword"], json!(true));
    let second = server
        .call(Method::POST, "/api/auth/admin-sign-up", None, Some(body))
        .await;
    assert_eq!(
        (second.status, second.message()),
        (StatusCode::BAD_REQUEST, "The server already has an admin")
    );
    let config = server.call(Method::GET, "/api/server/config", None, None).await;
    assert_eq!(config.body["isInitialized"], json!(true));
}

#[tokio::test]
async fn sign_up_can_be_disabled_and_validates_email() {
    let server = TestServer::start_with(&[("IMMICH_ALLOW_SETUP", "false")]).await;
    let body = json!({"email": ADMIN_EMAIL, "password": "x", "name": "A"});
    let reply = server
        .call(Method::POST, "/api/auth/admin-sign-up", None, Some(body))
        .await;
    assert_eq!(
        (reply.status, reply.message()),
        (StatusCode::BAD_REQUEST, "Admin setup is disabled")
    );
    let server = TestServer::start().await;
    let reply = server
        .call(
            Method::POST,
            "/api/auth/admin-sign-up",
            None,
            Some(json!({"email": "nope", "password": "x", "name": "A"})),
        )
        .await;
    assert_eq!(
        (reply.status, reply.message()),
        (StatusCode::BAD_REQUEST, "Validation failed")
    );
    assert_eq!(reply.body["errors"][0]["path"], json!(["email"]));
    let reply = server
        .call(
            Method::POST,
            "/api/auth/admin-sign-up",
            None,
            Some(json!({"email": ADMIN_EMAIL})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn login_sets_immichs_cookies_and_rejects_bad_passwords() {
    let server = TestServer::start().await;
    server.admin_token().await;
    let wrong = server
        .call(
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({"email": ADMIN_EMAIL, "password": "wrong"})),
        )
        .await;
    assert_eq!(
        (wrong.status, wrong.message()),
        (StatusCode::UNAUTHORIZED, "Incorrect email or password")
    );
    let unknown = server
        .call(
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({"email": "who@x.io", "password": "x"})),
        )
        .await;
    assert_eq!(unknown.message(), "Incorrect email or password");

    let reply = server
        .call(
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({"email": "ADMIN@immich.cloud", "password": ADMIN_PASSWORD})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    let cookies: Vec<&str> = reply
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(cookies.len(), 3);
    let token = reply.body["accessToken"].as_str().unwrap();
    assert!(cookies[0].starts_with(&format!("immich_access_token={token};")));
    assert!(cookies[1].starts_with("immich_auth_type=password;"));
    assert!(cookies[2].starts_with("immich_is_authenticated=true;"));
    for cookie in &cookies {
        assert!(
            cookie.contains("Max-Age=34560000")
                && cookie.contains("Path=/")
                && cookie.contains("SameSite=Lax")
                && cookie.contains("Expires=")
        );
        assert!(!cookie.contains("Secure"), "plain HTTP from loopback is not secure");
    }
    assert!(cookies[0].contains("HttpOnly") && cookies[1].contains("HttpOnly") && !cookies[2].contains("HttpOnly"));

    // Behind a trusted proxy speaking HTTPS the cookies are Secure.
    let reply = server
        .send(
            server
                .request(Method::POST, "/api/auth/login")
                .header("x-forwarded-proto", "https")
                .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})),
        )
        .await;
    assert!(
        reply
            .headers
            .get_all("set-cookie")
            .iter()
            .all(|v| v.to_str().unwrap().contains("Secure"))
    );

    // The cookie alone authenticates.
    let me = server
        .send(
            server
                .request(Method::GET, "/api/users/me")
                .header("cookie", format!("immich_access_token={token}")),
        )
        .await;
    assert_eq!(me.body["email"], json!(ADMIN_EMAIL));
}

#[tokio::test]
async fn tokens_validate_and_logout_revokes() {
    let server = TestServer::start().await;
    let token = server.admin_token().await;
    let bad = server
        .call(Method::POST, "/api/auth/validateToken", Some("123"), None)
        .await;
    assert_eq!(
        (bad.status, bad.message()),
        (StatusCode::UNAUTHORIZED, "Invalid user token")
    );
    let none = server.call(Method::POST, "/api/auth/logout", None, None).await;
    assert_eq!(
        (none.status, none.message()),
        (StatusCode::UNAUTHORIZED, "Authentication required")
    );
    let ok = server
        .call(Method::POST, "/api/auth/validateToken", Some(&token), None)
        .await;
    assert_eq!(
        (ok.status, ok.body.clone()),
        (StatusCode::OK, json!({"authStatus": true}))
    );
    for header in ["x-immich-user-token", "x-immich-session-token"] {
        let reply = server
            .send(
                server
                    .request(Method::POST, "/api/auth/validateToken")
                    .header(header, &token),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{header}");
    }
    let reply = server
        .call(
            Method::POST,
            &format!("/api/auth/validateToken?sessionKey={token}"),
            None,
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    // Read once, so that an authentication the server remembers is in play.
    assert_eq!(
        server
            .call(Method::GET, "/api/users/me", Some(&token), None)
            .await
            .status,
        StatusCode::OK
    );
    let out = server.call(Method::POST, "/api/auth/logout", Some(&token), None).await;
    assert_eq!(
        (out.status, out.body.clone()),
        (
            StatusCode::OK,
            json!({"successful": true, "redirectUri": "/auth/login?autoLaunch=0"})
        )
    );
    let after = server.call(Method::GET, "/api/users/me", Some(&token), None).await;
    assert_eq!(
        (after.status, after.message()),
        (StatusCode::UNAUTHORIZED, "Invalid user token")
    );
    let share = server.call(Method::GET, "/api/users/me?key=abc", None, None).await;
    assert_eq!(
        (share.status, share.message()),
        (StatusCode::UNAUTHORIZED, "Invalid share key")
    );
}

#[tokio::test]
async fn change_password_checks_the_current_one() {
    let server = TestServer::start().await;
    let token = server.admin_token().await;
    let other = server.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(
        server
            .call(Method::GET, "/api/users/me", Some(&other), None)
            .await
            .status,
        StatusCode::OK
    );
    let wrong = server
        .call(
            Method::POST,
            "/api/auth/change-password",
            Some(&token),
            Some(json!({"password": "nope", "newPassword": "new-password"})),
        )
        .await;
    assert_eq!(
        (wrong.status, wrong.message()),
        (StatusCode::BAD_REQUEST, "Wrong password")
    );
    let short = server
        .call(
            Method::POST,
            "/api/auth/change-password",
            Some(&token),
            Some(json!({"password": ADMIN_PASSWORD, "newPassword": "short"})),
        )
        .await;
    assert_eq!(
        short.body["errors"][0]["message"],
        json!("Too small: expected string to have >=8 characters")
    );
    let ok = server
        .call(
            Method::POST,
            "/api/auth/change-password",
            Some(&token),
            Some(json!({"password": ADMIN_PASSWORD, "newPassword": "new-password", "invalidateSessions": true})),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(
        server
            .call(Method::GET, "/api/users/me", Some(&other), None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        server
            .call(Method::GET, "/api/users/me", Some(&token), None)
            .await
            .status,
        StatusCode::OK
    );
    server.login(ADMIN_EMAIL, "new-password").await;
}

#[tokio::test]
async fn pin_code_locks_and_unlocks_sessions() {
    let server = TestServer::start().await;
    let token = server.admin_token().await;
    let status = server.call(Method::GET, "/api/auth/status", Some(&token), None).await;
    assert_eq!(
        status.body,
        json!({"pinCode": false, "password": true, "isElevated": false})
    );
    let bad = server
        .call(
            Method::POST,
            "/api/auth/pin-code",
            Some(&token),
            Some(json!({"pinCode": "12ab"})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let set = server
        .call(
            Method::POST,
            "/api/auth/pin-code",
            Some(&token),
            Some(json!({"pinCode": "123456"})),
        )
        .await;
    assert_eq!(set.status, StatusCode::NO_CONTENT);
    let again = server
        .call(
            Method::POST,
            "/api/auth/pin-code",
            Some(&token),
            Some(json!({"pinCode": "123456"})),
        )
        .await;
    assert_eq!(again.message(), "User already has a PIN code");
    let wrong = server
        .call(
            Method::POST,
            "/api/auth/session/unlock",
            Some(&token),
            Some(json!({"pinCode": "654321"})),
        )
        .await;
    assert_eq!(wrong.message(), "Wrong PIN code");
    let unlock = server
        .call(
            Method::POST,
            "/api/auth/session/unlock",
            Some(&token),
            Some(json!({"pinCode": "123456"})),
        )
        .await;
    assert_eq!(unlock.status, StatusCode::NO_CONTENT);
    let status = server.call(Method::GET, "/api/auth/status", Some(&token), None).await;
    assert_eq!(status.body["isElevated"], json!(true));
    assert!(status.body["pinExpiresAt"].is_string());
    server
        .call(Method::POST, "/api/auth/session/lock", Some(&token), None)
        .await;
    let status = server.call(Method::GET, "/api/auth/status", Some(&token), None).await;
    assert_eq!(status.body["isElevated"], json!(false));
    let change = server
        .call(
            Method::PUT,
            "/api/auth/pin-code",
            Some(&token),
            Some(json!({"pinCode": "123456", "newPinCode": "111111"})),
        )
        .await;
    assert_eq!(change.status, StatusCode::NO_CONTENT);
    let neither = server
        .call(Method::DELETE, "/api/auth/pin-code", Some(&token), Some(json!({})))
        .await;
    assert_eq!(neither.message(), "Either password or pinCode is required");
    let reset = server
        .call(
            Method::DELETE,
            "/api/auth/pin-code",
            Some(&token),
            Some(json!({"password": ADMIN_PASSWORD})),
        )
        .await;
    assert_eq!(reset.status, StatusCode::NO_CONTENT);
    let key = server.api_key(&token, &["all"]).await;
    let with_key = server
        .send(
            server
                .request(Method::POST, "/api/auth/session/lock")
                .header("x-api-key", key),
        )
        .await;
    assert_eq!(
        with_key.message(),
        "This endpoint can only be used with a session token"
    );
}

#[tokio::test]
async fn sessions_list_delete_and_children() {
    let server = TestServer::start().await;
    let token = server.admin_token().await;
    let second = server.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let list = server.call(Method::GET, "/api/sessions", Some(&token), None).await;
    assert_eq!(list.body.as_array().unwrap().len(), 2);
    assert_eq!(
        list.body
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["current"] == json!(true))
            .count(),
        1
    );
    let child = server
        .call(
            Method::POST,
            "/api/sessions",
            Some(&token),
            Some(json!({"duration": 60, "deviceOS": "Cast", "deviceType": "TV"})),
        )
        .await;
    assert_eq!(child.status, StatusCode::CREATED);
    assert!(child.body["token"].is_string() && child.body["expiresAt"].is_string());
    let unknown = server
        .call(
            Method::DELETE,
            &format!("/api/sessions/{}", uuid::Uuid::new_v4()),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(
        (unknown.status, unknown.message()),
        (StatusCode::BAD_REQUEST, "Not found or no authDevice.delete access")
    );
    let bad_id = server
        .call(Method::DELETE, "/api/sessions/not-a-uuid", Some(&token), None)
        .await;
    assert_eq!(bad_id.body["errors"][0]["message"], json!("Invalid UUID"));
    let update = server
        .call(
            Method::PUT,
            &format!("/api/sessions/{}", child.body["id"].as_str().unwrap()),
            Some(&token),
            Some(json!({"isPendingSyncReset": true})),
        )
        .await;
    assert_eq!(update.body["isPendingSyncReset"], json!(true));
    let all = server.call(Method::DELETE, "/api/sessions", Some(&token), None).await;
    assert_eq!(all.status, StatusCode::NO_CONTENT);
    assert_eq!(
        server
            .call(Method::GET, "/api/users/me", Some(&second), None)
            .await
            .message(),
        "Invalid user token"
    );
    assert_eq!(
        server
            .call(Method::GET, "/api/users/me", Some(&token), None)
            .await
            .status,
        StatusCode::OK
    );
}

/// Logs in as `email` from the local address `from` (the whole of 127.0.0.0/8 is loopback);
/// returns the status and `Retry-After`.
async fn login_from(url: &str, from: &str, email: &str, password: &str) -> (StatusCode, Option<u64>) {
    let client = reqwest::Client::builder()
        .local_address(from.parse::<std::net::IpAddr>().unwrap())
        .build()
        .unwrap();
    let response = client
        .post(format!("{url}/api/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse().unwrap());
    (response.status(), retry_after)
}

/// A stranger guessing the admin's password is slowed down; the admin, from their own address,
/// still signs in. Every API process sees the same counts.
#[tokio::test(flavor = "multi_thread")]
async fn failed_logins_slow_the_guessing_address_and_never_lock_the_owner_out() {
    let server = TestServer::start_with(&[
        ("DARKROOM_LOGIN_FAILURES_PER_ADDRESS", "5"),
        ("DARKROOM_LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS", "3"),
        ("DARKROOM_LOGIN_FAILURE_WINDOW_SECONDS", "600"),
    ])
    .await;
    let admin = server.admin_token().await;
    server.user_token(&admin, "other@example.com").await;
    let other_process = server.sibling(&[]).await;
    let other_url = other_process.url.clone().unwrap();
    let (stranger, owner) = ("127.0.0.2", "127.0.0.3");

    for _ in 0..3 {
        let (status, _) = login_from(&server.url, stranger, ADMIN_EMAIL, "guess").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    // The guessing address waits, even with the right password, on either process.
    for url in [&server.url, &other_url] {
        let (status, retry_after) = login_from(url, stranger, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert!(retry_after.is_some_and(|s| (1..=600).contains(&s)), "{retry_after:?}");
    }
    // The owner, from their own address, is let in; a typo of theirs changes nothing.
    let (status, _) = login_from(&server.url, owner, ADMIN_EMAIL, "typo").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = login_from(&other_url, owner, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(status, StatusCode::CREATED);

    // Spraying other accounts from the stranger's address: past 5 failures it waits for all.
    for _ in 0..2 {
        let (status, _) = login_from(&other_url, stranger, "other@example.com", "guess").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, retry_after) = login_from(&server.url, stranger, "other@example.com", "password").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(retry_after.is_some());
    let (status, _) = login_from(&server.url, owner, "other@example.com", "password").await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn a_revoked_key_session_or_user_is_refused_at_once() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let me = |credential: (&'static str, String)| {
        let server = &server;
        async move {
            server
                .send(
                    server
                        .request(Method::GET, "/api/users/me")
                        .header(credential.0, credential.1),
                )
                .await
                .status
        }
    };

    let key = server
        .call(
            Method::POST,
            "/api/api-keys",
            Some(&admin),
            Some(json!({"name": "k", "permissions": ["all"]})),
        )
        .await
        .body;
    let secret = ("x-api-key", key["secret"].as_str().unwrap().to_string());
    assert_eq!(me(secret.clone()).await, StatusCode::OK);
    let narrowed = json!({"permissions": ["asset.read"]});
    server
        .call(
            Method::PUT,
            &format!("/api/api-keys/{}", key["apiKey"]["id"].as_str().unwrap()),
            Some(&admin),
            Some(narrowed),
        )
        .await;
    assert_eq!(
        me(secret.clone()).await,
        StatusCode::FORBIDDEN,
        "the narrowed key lost user.read"
    );
    server
        .call(
            Method::DELETE,
            &format!("/api/api-keys/{}", key["apiKey"]["id"].as_str().unwrap()),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(me(secret).await, StatusCode::UNAUTHORIZED);

    let phone = server.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let bearer = |token: &str| ("authorization", format!("Bearer {token}"));
    assert_eq!(me(bearer(&phone)).await, StatusCode::OK);
    let sessions = server.call(Method::GET, "/api/sessions", Some(&phone), None).await.body;
    let phone_id = sessions
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == json!(true))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        server
            .call(Method::DELETE, &format!("/api/sessions/{phone_id}"), Some(&admin), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(me(bearer(&phone)).await, StatusCode::UNAUTHORIZED);

    let user = server.user_token(&admin, "leaving@example.com").await;
    let user_id = server.call(Method::GET, "/api/users/me", Some(&user), None).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(me(bearer(&user)).await, StatusCode::OK);
    server
        .call(
            Method::DELETE,
            &format!("/api/admin/users/{user_id}"),
            Some(&admin),
            Some(json!({})),
        )
        .await;
    assert_eq!(me(bearer(&user)).await, StatusCode::UNAUTHORIZED);
}
