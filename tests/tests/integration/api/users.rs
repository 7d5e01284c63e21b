//! Users and admin users, and profile images uploaded, served and deleted.

use darkroom_tests::{ADMIN_EMAIL, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::json;

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
