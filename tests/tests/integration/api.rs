//! API keys and their permission model, users, admin users, server information and config.

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

#[tokio::test]
async fn users_and_admin_users() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let user = server.user_token(&admin, "user1@immich.cloud").await;
    let me = server.call(Method::GET, "/api/users/me", Some(&user), None).await;
    let user_id = me.body["id"].as_str().unwrap().to_string();
    assert_eq!(me.body["isAdmin"], json!(false));
    let taken = server
        .call(
            Method::PUT,
            "/api/users/me",
            Some(&user),
            Some(json!({"email": ADMIN_EMAIL})),
        )
        .await;
    assert_eq!(
        (taken.status, taken.message()),
        (StatusCode::BAD_REQUEST, "Email is not available")
    );
    let renamed = server
        .call(
            Method::PATCH,
            "/api/users/me",
            Some(&user),
            Some(json!({"name": "New Name", "avatarColor": "pink", "password": "password2"})),
        )
        .await;
    assert_eq!(
        (
            renamed.body["name"].clone(),
            renamed.body["avatarColor"].clone(),
            renamed.body["shouldChangePassword"].clone()
        ),
        (json!("New Name"), json!("pink"), json!(false))
    );
    let prefs = server
        .call(
            Method::PUT,
            "/api/users/me/preferences",
            Some(&user),
            Some(json!({"download": {"archiveSize": 1.5}})),
        )
        .await;
    assert_eq!(prefs.body["errors"][0]["path"], json!(["download", "archiveSize"]));
    assert_eq!(
        prefs.body["errors"][0]["message"],
        json!("Invalid input: expected int, received number")
    );
    let prefs = server
        .call(
            Method::PUT,
            "/api/users/me/preferences",
            Some(&user),
            Some(json!({"memories": {"enabled": false}})),
        )
        .await;
    assert_eq!(prefs.body["memories"], json!({"enabled": false, "duration": 5}));
    assert_eq!(
        server
            .call(Method::GET, "/api/users/me/preferences", Some(&user), None)
            .await
            .body["memories"]["enabled"],
        json!(false)
    );
    assert_eq!(
        server
            .call(Method::GET, "/api/users/me/onboarding", Some(&user), None)
            .await
            .body,
        json!({"isOnboarded": false})
    );
    assert_eq!(
        server
            .call(
                Method::PUT,
                "/api/users/me/onboarding",
                Some(&user),
                Some(json!({"isOnboarded": true}))
            )
            .await
            .body,
        json!({"isOnboarded": true})
    );
    assert_eq!(
        server
            .call(Method::GET, "/api/users/me/license", Some(&user), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let bad_license = server
        .call(
            Method::PUT,
            "/api/users/me/license",
            Some(&user),
            Some(json!({"licenseKey": "IMCL-AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG-HHHH", "activationKey": "abc"})),
        )
        .await;
    assert_eq!(bad_license.message(), "Invalid license key");
    let users = server.call(Method::GET, "/api/users", Some(&user), None).await;
    assert_eq!(users.body.as_array().unwrap().len(), 2);
    assert_eq!(
        server
            .call(Method::GET, &format!("/api/users/{user_id}"), Some(&admin), None)
            .await
            .body["name"],
        json!("New Name")
    );
    assert_eq!(
        server
            .call(
                Method::GET,
                &format!("/api/users/{}", uuid::Uuid::new_v4()),
                Some(&admin),
                None
            )
            .await
            .message(),
        "User not found"
    );

    // Admin: non-admins are refused, self-deletion too; deletion and restore round-trip.
    let refused = server.call(Method::GET, "/api/admin/users", Some(&user), None).await;
    assert_eq!(
        (refused.status, refused.message()),
        (StatusCode::FORBIDDEN, "Forbidden")
    );
    let admin_id = server.call(Method::GET, "/api/users/me", Some(&admin), None).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let own = server
        .call(
            Method::DELETE,
            &format!("/api/admin/users/{admin_id}"),
            Some(&admin),
            Some(json!({})),
        )
        .await;
    assert_eq!(
        (own.status, own.message()),
        (StatusCode::FORBIDDEN, "Cannot delete your own account")
    );
    let demote = server
        .call(
            Method::PUT,
            &format!("/api/admin/users/{admin_id}"),
            Some(&admin),
            Some(json!({"isAdmin": false})),
        )
        .await;
    assert_eq!(demote.message(), "Admin status can only be changed by another admin");
    let quota = server
        .call(
            Method::PUT,
            &format!("/api/admin/users/{user_id}"),
            Some(&admin),
            Some(json!({"quotaSizeInBytes": 1024, "storageLabel": "admin"})),
        )
        .await;
    assert_eq!(quota.message(), "Storage label already in use by another account");
    let quota = server
        .call(
            Method::PUT,
            &format!("/api/admin/users/{user_id}"),
            Some(&admin),
            Some(json!({"quotaSizeInBytes": 1024})),
        )
        .await;
    assert_eq!(quota.body["quotaSizeInBytes"], json!(1024));
    let deleted = server
        .call(
            Method::DELETE,
            &format!("/api/admin/users/{user_id}"),
            Some(&admin),
            Some(json!({})),
        )
        .await;
    assert_eq!(
        (deleted.status, deleted.body["status"].clone()),
        (StatusCode::OK, json!("deleted"))
    );
    assert_eq!(
        server
            .call(Method::GET, "/api/users/me", Some(&user), None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        server
            .call(Method::GET, "/api/admin/users", Some(&admin), None)
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        server
            .call(Method::GET, "/api/admin/users?withDeleted=true", Some(&admin), None)
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let restored = server
        .call(
            Method::POST,
            &format!("/api/admin/users/{user_id}/restore"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(restored.body["status"], json!("active"));
    assert_eq!(
        server
            .call(
                Method::GET,
                &format!("/api/admin/users/{user_id}/preferences"),
                Some(&admin),
                None
            )
            .await
            .body["memories"]["enabled"],
        json!(false)
    );
    assert_eq!(
        server
            .call(
                Method::GET,
                &format!("/api/admin/users/{user_id}/sessions"),
                Some(&admin),
                None
            )
            .await
            .body,
        json!([])
    );
}

#[tokio::test]
async fn profile_images_upload_serve_and_delete() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let me = server.call(Method::GET, "/api/users/me", Some(&admin), None).await;
    let id = me.body["id"].as_str().unwrap();
    let missing = server
        .call(
            Method::GET,
            &format!("/api/users/{id}/profile-image"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let bytes = b"\x89PNG\r\n\x1a\nnot-really-a-png".to_vec();
    let wrong = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(bytes.clone()).file_name("evil.exe"),
    );
    let reply = server
        .send(
            server
                .request(Method::POST, "/api/users/profile-image")
                .bearer_auth(&admin)
                .multipart(wrong),
        )
        .await;
    assert_eq!(
        (reply.status, reply.message()),
        (StatusCode::BAD_REQUEST, "Unsupported file type evil.exe")
    );
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(bytes.clone()).file_name("me.png"),
    );
    let reply = server
        .send(
            server
                .request(Method::POST, "/api/users/profile-image")
                .bearer_auth(&admin)
                .multipart(form),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    let path = reply.body["profileImagePath"].as_str().unwrap().to_string();
    assert!(path.starts_with(server.media.join("profile").to_str().unwrap()) && path.ends_with(".png"));
    let image = server
        .send(
            server
                .request(Method::GET, &format!("/api/users/{id}/profile-image"))
                .bearer_auth(&admin),
        )
        .await;
    assert_eq!(
        (image.status, image.headers["content-type"].to_str().unwrap()),
        (StatusCode::OK, "image/png")
    );
    assert_eq!(image.bytes, bytes);
    assert_eq!(
        server
            .call(Method::DELETE, "/api/users/profile-image", Some(&admin), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert!(!std::path::Path::new(&path).exists(), "the old file is removed");
    let again = server
        .call(Method::DELETE, "/api/users/profile-image", Some(&admin), None)
        .await;
    assert_eq!(again.message(), "Can't delete a missing profile Image");
}

#[tokio::test]
async fn server_information() {
    let server = TestServer::start().await;
    assert_eq!(
        server.call(Method::GET, "/api/server/ping", None, None).await.body,
        json!({"res": "pong"})
    );
    assert_eq!(
        server.call(Method::GET, "/api/server/version", None, None).await.body,
        json!({"major": 3, "minor": 2, "patch": 2, "prerelease": null})
    );
    let history = server
        .call(Method::GET, "/api/server/version-history", None, None)
        .await;
    assert_eq!(history.body[0]["version"], json!("3.2.2"));
    for path in ["features", "config", "media-types"] {
        assert_eq!(
            server
                .call(Method::GET, &format!("/api/server/{path}"), None, None)
                .await
                .status,
            StatusCode::OK,
            "{path}"
        );
    }
    let types = server.call(Method::GET, "/api/server/media-types", None, None).await;
    assert_eq!(types.body["sidecar"], json!([".xmp"]));
    assert!(types.body["image"].as_array().unwrap().contains(&json!(".heic")));
    for path in ["about", "storage"] {
        assert_eq!(
            server
                .call(Method::GET, &format!("/api/server/{path}"), None, None)
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
    }
    let admin = server.admin_token().await;
    let user = server.user_token(&admin, "u@immich.cloud").await;
    let about = server.call(Method::GET, "/api/server/about", Some(&user), None).await;
    assert_eq!(
        (about.body["version"].clone(), about.body["licensed"].clone()),
        (json!("v3.2.2"), json!(false))
    );
    // The tool versions are always strings (the web's about box and Immich's own suite expect them),
    // empty for the tools Darkroom does not run.
    for tool in ["nodejs", "ffmpeg", "imagemagick", "libvips", "exiftool"] {
        assert!(about.body[tool].is_string(), "{tool}: {}", about.body);
    }
    assert!(
        about.body["exiftool"].as_str().unwrap().starts_with(char::is_numeric),
        "{}",
        about.body
    );
    let storage = server.call(Method::GET, "/api/server/storage", Some(&user), None).await;
    assert!(storage.body["diskSizeRaw"].as_u64().unwrap() > 0);
    assert_eq!(
        server
            .call(Method::GET, "/api/server/license", Some(&user), None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        server
            .call(Method::GET, "/api/server/license", Some(&admin), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        server
            .call(Method::DELETE, "/api/server/license", Some(&admin), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let bad = server
        .call(
            Method::PUT,
            "/api/server/license",
            Some(&admin),
            Some(json!({"licenseKey": "IMCL-AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG-HHHH", "activationKey": "x"})),
        )
        .await;
    assert_eq!(bad.message(), "Invalid license key");
    let malformed = server
        .call(
            Method::PUT,
            "/api/server/license",
            Some(&admin),
            Some(json!({"licenseKey": "nope", "activationKey": "x"})),
        )
        .await;
    assert_eq!(malformed.message(), "Validation failed");
    let links = server
        .call(Method::GET, "/api/server/apk-links", Some(&user), None)
        .await;
    assert!(links.body["universal"].as_str().unwrap().ends_with("app-release.apk"));
    assert_eq!(
        server
            .call(Method::GET, "/api/server/version-check", Some(&user), None)
            .await
            .body,
        json!({"checkedAt": null, "releaseVersion": null})
    );
    let discovery = server.call(Method::GET, "/.well-known/immich", None, None).await;
    assert_eq!(discovery.body, json!({"api": {"endpoint": "/api"}}));
}

#[tokio::test]
async fn system_config_round_trips_and_validates() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let defaults = server
        .call(Method::GET, "/api/system-config/defaults", Some(&admin), None)
        .await;
    let mut config = server
        .call(Method::GET, "/api/system-config", Some(&admin), None)
        .await
        .body;
    assert_eq!(config, defaults.body);
    config["trash"]["days"] = json!(10);
    config["theme"]["customCss"] = json!("body { color: red; }");
    config["server"]["publicUsers"] = json!(false);
    let saved = server
        .call(Method::PUT, "/api/system-config", Some(&admin), Some(config.clone()))
        .await;
    assert_eq!(saved.body["trash"]["days"], json!(10));
    assert_eq!(
        server.call(Method::GET, "/api/server/config", None, None).await.body["trashDays"],
        json!(10)
    );
    let css = server.send(server.request(Method::GET, "/custom.css")).await;
    assert_eq!(
        (css.headers["content-type"].to_str().unwrap(), css.bytes.as_slice()),
        ("text/css; charset=utf-8", b"body { color: red; }".as_slice())
    );
    let user = server.user_token(&admin, "u@immich.cloud").await;
    assert_eq!(
        server
            .call(Method::GET, "/api/users", Some(&user), None)
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        1,
        "publicUsers=false"
    );
    config["ffmpeg"]["transcode"] = json!("sometimes");
    let bad = server
        .call(Method::PUT, "/api/admin/config", Some(&admin), Some(config))
        .await;
    assert_eq!(bad.body["errors"][0]["path"], json!(["ffmpeg", "transcode"]));
    assert_eq!(
        server.call(Method::GET, "/api/public/config", None, None).await.body["theme"]["customCss"],
        json!("body { color: red; }")
    );
    assert_eq!(
        server.call(Method::GET, "/api/config", Some(&user), None).await.body["trash"]["days"],
        json!(10)
    );
    let options = server
        .call(
            Method::GET,
            "/api/system-config/storage-template-options",
            Some(&admin),
            None,
        )
        .await;
    assert!(options.body["presetOptions"].as_array().unwrap().len() > 10);
    // Templates are checked as Immich's strict Handlebars would render them: unknown variables,
    // unknown helpers and unclosed blocks are refused; the presets all pass.
    let mut with_template = server
        .call(Method::GET, "/api/system-config", Some(&admin), None)
        .await
        .body;
    for template in [
        "{{foo}}",
        "{{y}}/{{#if album}}{{album}}",
        "{{#lookup album}}{{/lookup}}/{{filename}}",
    ] {
        with_template["storageTemplate"] =
            json!({"enabled": true, "hashVerificationEnabled": true, "template": template});
        let refused = server
            .call(
                Method::PUT,
                "/api/system-config",
                Some(&admin),
                Some(with_template.clone()),
            )
            .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{template}");
        assert!(
            refused.message().starts_with("Invalid storage template"),
            "{template}: {}",
            refused.message()
        );
    }
    for preset in options.body["presetOptions"].as_array().unwrap() {
        with_template["storageTemplate"]["template"] = preset.clone();
        assert_eq!(
            server
                .call(
                    Method::PUT,
                    "/api/system-config",
                    Some(&admin),
                    Some(with_template.clone())
                )
                .await
                .status,
            StatusCode::OK,
            "{preset}"
        );
    }
    assert_eq!(
        server
            .call(Method::GET, "/api/system-metadata/admin-onboarding", Some(&admin), None)
            .await
            .body,
        json!({"isOnboarded": false})
    );
    assert_eq!(
        server
            .call(
                Method::POST,
                "/api/system-metadata/admin-onboarding",
                Some(&admin),
                Some(json!({"isOnboarded": true}))
            )
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        server.call(Method::GET, "/api/server/config", None, None).await.body["isOnboarded"],
        json!(true)
    );
}

#[tokio::test]
async fn config_file_makes_settings_read_only() {
    let file = std::env::temp_dir().join(format!("darkroom-config-{}.yaml", uuid::Uuid::new_v4()));
    std::fs::write(&file, "trash:\n  days: 3\n").unwrap();
    let server = TestServer::start_with(&[("IMMICH_CONFIG_FILE", file.to_str().unwrap())]).await;
    let admin = server.admin_token().await;
    let config = server
        .call(Method::GET, "/api/system-config", Some(&admin), None)
        .await
        .body;
    assert_eq!(config["trash"]["days"], json!(3));
    let refused = server
        .call(Method::PUT, "/api/system-config", Some(&admin), Some(config))
        .await;
    assert_eq!(
        refused.message(),
        "Cannot update configuration while IMMICH_CONFIG_FILE is in use"
    );
    assert_eq!(
        server.call(Method::GET, "/api/server/features", None, None).await.body["configFile"],
        json!(true)
    );
    std::fs::remove_file(file).unwrap();
}

#[tokio::test]
async fn errors_keep_immichs_shape() {
    let server = TestServer::start().await;
    let unknown = server.call(Method::GET, "/api/nope", None, None).await;
    assert_eq!(
        (unknown.status, unknown.message()),
        (StatusCode::NOT_FOUND, "Cannot GET /api/nope")
    );
    let correlated = server
        .send(
            server
                .request(Method::GET, "/api/server/ping")
                .header("x-correlation-id", "abc-123"),
        )
        .await;
    assert_eq!(correlated.headers["x-correlation-id"], "abc-123");
    assert!(
        server
            .call(Method::GET, "/api/server/ping", None, None)
            .await
            .headers
            .contains_key("x-correlation-id")
    );
    let big = "x".repeat(11 * 1024 * 1024);
    let reply = server
        .send(
            server
                .request(Method::POST, "/api/auth/login")
                .header("content-type", "application/json")
                .body(big),
        )
        .await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    let broken = server
        .send(
            server
                .request(Method::POST, "/api/auth/login")
                .header("content-type", "application/json")
                .body("{not json"),
        )
        .await;
    assert_eq!(broken.status, StatusCode::BAD_REQUEST);
    let wrong_type = server
        .call(
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({"email": 5, "password": "x"})),
        )
        .await;
    assert_eq!(
        wrong_type.body["errors"][0]["message"],
        json!("Invalid input: expected string, received number")
    );
    let admin = server.admin_token().await;
    // No body where a DTO is expected is refused as a whole, as Immich 3 (Express 5 + zod) does.
    let bodiless = server
        .send(server.request(Method::POST, "/api/shared-links").bearer_auth(&admin))
        .await;
    assert_eq!(bodiless.status, StatusCode::BAD_REQUEST);
    assert_eq!(bodiless.body["errors"][0]["path"], json!([]));
    assert_eq!(
        bodiless.body["errors"][0]["message"],
        json!("Invalid input: expected object, received undefined")
    );
    // Optional fields may be left out but not set to null; the body is checked before the user is looked up.
    let nobody = format!("/api/admin/users/{}", uuid::Uuid::new_v4());
    for (field, message) in [
        ("password", "Invalid input: expected string, received null"),
        ("name", "Invalid input: expected string, received null"),
        ("shouldChangePassword", "Invalid input: expected boolean, received null"),
        ("email", "Invalid input: expected email, received object"),
    ] {
        let refused = server
            .call(Method::PUT, &nobody, Some(&admin), Some(json!({ field: null })))
            .await;
        assert_eq!(refused.message(), "Validation failed", "{field}");
        assert_eq!(
            (
                refused.body["errors"][0]["path"].clone(),
                refused.body["errors"][0]["message"].clone()
            ),
            (json!([field]), json!(message))
        );
    }
    let null_flag = server
        .call(
            Method::POST,
            "/api/admin/users",
            Some(&admin),
            Some(json!({"email": "n@immich.cloud", "password": "p", "name": "N", "shouldChangePassword": null})),
        )
        .await;
    assert_eq!(null_flag.body["errors"][0]["path"], json!(["shouldChangePassword"]));
    let numeric_email = server
        .call(
            Method::POST,
            "/api/admin/users",
            Some(&admin),
            Some(json!({"email": 7, "password": "p", "name": "N"})),
        )
        .await;
    assert_eq!(
        numeric_email.body["errors"][0]["message"],
        json!("Invalid input: expected email, received number")
    );
    // Express routes `/api/x/` as `/api/x`.
    let slashed = server.call(Method::GET, "/api/users/me/", Some(&admin), None).await;
    assert_eq!(
        (slashed.status, slashed.body["email"].clone()),
        (StatusCode::OK, json!(ADMIN_EMAIL))
    );
    let slashed_query = server
        .call(Method::GET, "/api/albums/?isOwned=true", Some(&admin), None)
        .await;
    assert_eq!(slashed_query.status, StatusCode::OK);
}

/// Seeds one asset row (no upload endpoint is involved) and returns its id.
async fn seed_asset(db: &mut sqlx::PgConnection, owner: &str, kind: &str, size: i64, extra: &str) -> uuid::Uuid {
    let id = uuid::Uuid::new_v4();
    let sql = r#"INSERT INTO asset (id, "ownerId", type, "originalPath", "fileCreatedAt", "fileModifiedAt", "localDateTime",
                              checksum, "checksumAlgorithm", "originalFileName")
           VALUES ($1, $2::uuid, $3, '/upload/' || $1, now(), now(), now(), decode(md5($1::text), 'hex'), 'sha1', 'f')"#;
    sqlx::query(sql)
        .bind(id)
        .bind(owner)
        .bind(kind)
        .execute(&mut *db)
        .await
        .expect("seed asset");
    sqlx::query(r#"INSERT INTO asset_exif ("assetId", "fileSizeInByte") VALUES ($1, $2)"#)
        .bind(id)
        .bind(size)
        .execute(&mut *db)
        .await
        .expect("seed exif");
    if !extra.is_empty() {
        sqlx::query(&format!("UPDATE asset SET {extra} WHERE id = $1"))
            .bind(id)
            .execute(&mut *db)
            .await
            .expect("seed update");
    }
    id
}

#[tokio::test]
async fn statistics_count_like_immich() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let user = server.user_token(&admin, "stats@immich.cloud").await;
    let me = server.call(Method::GET, "/api/users/me", Some(&user), None).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let admin_id = server.call(Method::GET, "/api/users/me", Some(&admin), None).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();

    let mut db = server.db().await;
    seed_asset(&mut db, &me, "IMAGE", 100, "").await;
    seed_asset(&mut db, &me, "IMAGE", 200, r#""isFavorite" = true"#).await;
    seed_asset(&mut db, &me, "IMAGE", 300, "visibility = 'archive'").await;
    seed_asset(&mut db, &me, "VIDEO", 1000, "").await;
    seed_asset(&mut db, &me, "VIDEO", 50, "visibility = 'hidden'").await; // a live photo's motion part
    seed_asset(&mut db, &me, "IMAGE", 7, r#""deletedAt" = now(), status = 'trashed'"#).await;
    seed_asset(&mut db, &admin_id, "IMAGE", 5, "").await;

    let stats = |query: &'static str, token: String| {
        let server = &server;
        async move {
            server
                .call(
                    Method::GET,
                    &format!("/api/assets/statistics{query}"),
                    Some(&token),
                    None,
                )
                .await
        }
    };
    assert_eq!(
        stats("", user.clone()).await.body,
        json!({"images": 3, "videos": 1, "total": 4})
    );
    assert_eq!(
        stats("?isFavorite=true", user.clone()).await.body,
        json!({"images": 1, "videos": 0, "total": 1})
    );
    assert_eq!(
        stats("?visibility=archive", user.clone()).await.body,
        json!({"images": 1, "videos": 0, "total": 1})
    );
    assert_eq!(
        stats("?visibility=hidden", user.clone()).await.body,
        json!({"images": 0, "videos": 1, "total": 1})
    );
    assert_eq!(
        stats("?isTrashed=true", user.clone()).await.body,
        json!({"images": 1, "videos": 0, "total": 1})
    );
    assert_eq!(
        stats("?visibility=nope", user.clone()).await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        stats("", admin.clone()).await.body,
        json!({"images": 1, "videos": 0, "total": 1})
    );

    let as_admin = server
        .call(
            Method::GET,
            &format!("/api/admin/users/{me}/statistics?isFavorite=false"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(as_admin.body, json!({"images": 2, "videos": 1, "total": 3}));
    let forbidden = server
        .call(
            Method::GET,
            &format!("/api/admin/users/{me}/statistics"),
            Some(&user),
            None,
        )
        .await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);

    let server_stats = server
        .call(Method::GET, "/api/server/statistics", Some(&admin), None)
        .await;
    assert_eq!(
        server
            .call(Method::GET, "/api/server/statistics", Some(&user), None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let body = &server_stats.body;
    // Hidden and trashed assets are not counted; hidden ones still use space, trashed ones are left out.
    assert_eq!((body["photos"].clone(), body["videos"].clone()), (json!(4), json!(1)));
    assert_eq!(
        (
            body["usage"].clone(),
            body["usagePhotos"].clone(),
            body["usageVideos"].clone()
        ),
        (json!(1655), json!(605), json!(1050))
    );
    let per_user = body["usageByUser"].as_array().unwrap();
    assert_eq!(per_user.len(), 2);
    assert_eq!(per_user[0]["userId"], json!(admin_id), "oldest user first");
    assert_eq!(per_user[1]["photos"], json!(3));
    assert_eq!(per_user[1]["usage"], json!(1650));
    assert_eq!(per_user[1]["quotaSizeInBytes"], json!(null));
}
