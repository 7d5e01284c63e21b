//! API keys and permissions: keys never exceed their holder, each route's permission, the route table against the spec.

use darkroom_tests::{ADMIN_EMAIL, TestServer, spec};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn api_keys_never_exceed_their_holder() {
    let server = TestServer::start().await;
    let token = server.admin_token().await;
    let create = server
        .call(
            Method::POST,
            "/api/api-keys",
            Some(&token),
            Some(json!({"permissions": ["all"]})),
        )
        .await;
    assert_eq!(create.status, StatusCode::CREATED);
    assert_eq!(create.body["apiKey"]["name"], json!("API Key"));
    // The secret and the key, nothing else at the top level (Immich's ApiKeyCreateResponseDto).
    let mut top_level: Vec<_> = create.body.as_object().unwrap().keys().cloned().collect();
    top_level.sort();
    assert_eq!(top_level, ["apiKey", "secret"]);
    let empty = server
        .call(
            Method::POST,
            "/api/api-keys",
            Some(&token),
            Some(json!({"permissions": []})),
        )
        .await;
    assert_eq!(
        empty.body["errors"][0]["message"],
        json!("Too small: expected array to have >=1 items")
    );

    let limited = server.api_key(&token, &["apiKey.create", "user.read"]).await;
    let as_key = |method, path: &str, body| {
        let mut request = server.request(method, path).header("x-api-key", &limited);
        if let Some(body) = body {
            request = request.json(&body);
        }
        server.send(request)
    };
    let escalate = as_key(Method::POST, "/api/api-keys", Some(json!({"permissions": ["all"]}))).await;
    assert_eq!(
        (escalate.status, escalate.message()),
        (StatusCode::BAD_REQUEST, "Cannot grant permissions you do not have")
    );
    let wider = as_key(
        Method::POST,
        "/api/api-keys",
        Some(json!({"permissions": ["user.read", "asset.read"]})),
    )
    .await;
    assert_eq!(wider.message(), "Cannot grant permissions you do not have");
    let narrower = as_key(
        Method::POST,
        "/api/api-keys",
        Some(json!({"permissions": ["user.read"]})),
    )
    .await;
    assert_eq!(narrower.status, StatusCode::CREATED);
    let missing = as_key(Method::GET, "/api/api-keys", None).await;
    assert_eq!(
        (missing.status, missing.message()),
        (StatusCode::FORBIDDEN, "Missing required permission: apiKey.read")
    );
    let me = as_key(Method::GET, "/api/api-keys/me", None).await;
    assert_eq!(me.body["permissions"], json!(["apiKey.create", "user.read"]));
    let query = server
        .call(Method::GET, &format!("/api/users/me?apiKey={limited}"), None, None)
        .await;
    assert_eq!(query.body["email"], json!(ADMIN_EMAIL));
    let not_key = server.call(Method::GET, "/api/api-keys/me", Some(&token), None).await;
    assert_eq!(
        (not_key.status, not_key.message()),
        (StatusCode::FORBIDDEN, "Not authenticated with an API Key")
    );
    let bad = server
        .send(server.request(Method::GET, "/api/users/me").header("x-api-key", "nope"))
        .await;
    assert_eq!(
        (bad.status, bad.message()),
        (StatusCode::UNAUTHORIZED, "Invalid API key")
    );

    // Update, rotate, delete; other users' keys stay invisible.
    let id = create.body["apiKey"]["id"].as_str().unwrap().to_string();
    let renamed = server
        .call(
            Method::PATCH,
            &format!("/api/api-keys/{id}"),
            Some(&token),
            Some(json!({"name": "renamed"})),
        )
        .await;
    assert_eq!(renamed.body["name"], json!("renamed"));
    let rotated = server
        .call(Method::POST, &format!("/api/api-keys/{id}/rotate"), Some(&token), None)
        .await;
    assert_eq!(
        (rotated.body["id"].clone(), rotated.body["apiKey"]["id"].clone()),
        (json!(id), json!(id))
    );
    let old = create.body["secret"].as_str().unwrap();
    assert_eq!(
        server
            .send(server.request(Method::GET, "/api/users/me").header("x-api-key", old))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let new = rotated.body["secret"].as_str().unwrap();
    assert_eq!(
        server
            .send(server.request(Method::GET, "/api/users/me").header("x-api-key", new))
            .await
            .status,
        StatusCode::OK
    );
    let user = server.user_token(&token, "user@immich.cloud").await;
    let foreign = server
        .call(Method::GET, &format!("/api/api-keys/{id}"), Some(&user), None)
        .await;
    assert_eq!(
        (foreign.status, foreign.message()),
        (StatusCode::BAD_REQUEST, "API Key not found")
    );
    assert_eq!(
        server
            .call(Method::DELETE, &format!("/api/api-keys/{id}"), Some(&token), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        server
            .call(Method::DELETE, &format!("/api/api-keys/{id}"), Some(&token), None)
            .await
            .message(),
        "API Key not found"
    );
}

/// Every registered route with a permission refuses a key that lacks it, and lets one that has it
/// past the permission check; admin routes refuse non-admins.
#[tokio::test]
async fn permission_matrix_covers_every_route() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    server.user_token(&admin, "user@immich.cloud").await;
    // A key with one permission, and another for the routes that need exactly that one.
    let (unrelated, other_unrelated) = (
        server.api_key(&admin, &["activity.read"]).await,
        server.api_key(&admin, &["tag.read"]).await,
    );
    for route in darkroom_api::routes::route_table() {
        let path = route.path.replace("{id}", &uuid::Uuid::new_v4().to_string());
        let method: Method = route.method.parse().unwrap();
        let url = format!("/api{path}");
        match route.access.required_permission() {
            Some(permission) if route.access != darkroom_api::auth::Access::public() => {
                let lacking = if permission.as_str() == "activity.read" {
                    &other_unrelated
                } else {
                    &unrelated
                };
                let reply = server
                    .send(
                        server
                            .request(method.clone(), &url)
                            .header("x-api-key", lacking)
                            .json(&json!({})),
                    )
                    .await;
                assert_eq!(reply.status, StatusCode::FORBIDDEN, "{} {}", route.method, route.path);
                assert_eq!(
                    reply.message(),
                    format!("Missing required permission: {permission}"),
                    "{} {}",
                    route.method,
                    route.path
                );
                // A fresh login: the route just called may have ended every session (DELETE /sessions).
                let fresh = server.login(ADMIN_EMAIL, darkroom_tests::ADMIN_PASSWORD).await;
                let granted = server.api_key(&fresh, &[permission.as_str()]).await;
                let reply = server
                    .send(
                        server
                            .request(method.clone(), &url)
                            .header("x-api-key", &granted)
                            .json(&json!({})),
                    )
                    .await;
                assert!(
                    !reply.message().starts_with("Missing required permission"),
                    "{} {}: {}",
                    route.method,
                    route.path,
                    reply.body
                );
            }
            _ => {}
        }
        if route.access.is_admin_only() {
            let user = server.login("user@immich.cloud", "password").await;
            let reply = server.call(method.clone(), &url, Some(&user), Some(json!({}))).await;
            assert_eq!(
                (reply.status, reply.message()),
                (StatusCode::FORBIDDEN, "Forbidden"),
                "{} {}",
                route.method,
                route.path
            );
        }
        if route.access != darkroom_api::auth::Access::public() {
            let reply = server.call(method, &url, None, None).await;
            assert_eq!(
                reply.status,
                StatusCode::UNAUTHORIZED,
                "{} {}",
                route.method,
                route.path
            );
        }
    }
}

/// Our route table is Immich's: every route exists in the contract with the same permission and
/// admin flag, and PATCH only aliases a PUT.
#[test]
fn route_table_matches_the_spec() {
    use darkroom_api::permission::Permission;
    for route in darkroom_api::routes::route_table() {
        let op = spec::operation(route.method, route.path)
            .or_else(|| {
                (route.method == "PATCH")
                    .then(|| spec::operation("PUT", route.path))
                    .flatten()
            })
            .unwrap_or_else(|| panic!("{} {} is not in Immich's API", route.method, route.path));
        let expected = op.get("x-immich-permission").and_then(|p| p.as_str());
        let ours = route.access.required_permission();
        match (expected, ours) {
            (Some(name), Some(p)) => assert_eq!(p.as_str(), name, "{} {}", route.method, route.path),
            (None, Some(Permission::All)) | (None, None) => {}
            other => panic!("{} {}: permission mismatch {other:?}", route.method, route.path),
        }
        let admin = op.get("x-immich-admin-only").and_then(|a| a.as_bool()).unwrap_or(false);
        assert_eq!(
            admin,
            route.access.is_admin_only(),
            "{} {} admin flag",
            route.method,
            route.path
        );
    }
}
