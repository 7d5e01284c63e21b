//! Shared links: creating and managing them, guests reading through them, passwords, and
//! uploads into a link.

use darkroom_tests::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[tokio::test]
async fn owners_manage_links_and_guests_see_only_what_they_open() {
    let server = TestServer::start().await;
    let owner = server.admin_token().await;
    let other = server.user_token(&owner, "other@immich.cloud").await;
    let shown = server.upload_stand_in(&owner, "shown").await;
    let hidden = server.upload_stand_in(&owner, "hidden").await;
    let theirs = server.upload_stand_in(&other, "theirs").await;

    let missing = server
        .call(
            Method::POST,
            "/api/shared-links",
            Some(&owner),
            Some(json!({"type": "INDIVIDUAL"})),
        )
        .await;
    assert_eq!(missing.message(), "Invalid assetIds");
    let foreign = server
        .call(
            Method::POST,
            "/api/shared-links",
            Some(&owner),
            Some(json!({"type": "INDIVIDUAL", "assetIds": [theirs]})),
        )
        .await;
    assert_eq!(foreign.message(), "Not found or no asset.share access");
    let no_album = server
        .call(
            Method::POST,
            "/api/shared-links",
            Some(&owner),
            Some(json!({"type": "ALBUM"})),
        )
        .await;
    assert_eq!(no_album.message(), "Invalid albumId");

    let created = server
        .call(
            Method::POST,
            "/api/shared-links",
            Some(&owner),
            Some(json!({"type": "INDIVIDUAL", "assetIds": [shown], "description": "", "slug": "beach-day"})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let link = &created.body;
    let (id, key) = (
        link["id"].as_str().unwrap().to_string(),
        link["key"].as_str().unwrap().to_string(),
    );
    assert_eq!(key.len(), 67, "50 random bytes in base64url");
    assert_eq!(
        (
            link["allowUpload"].clone(),
            link["allowDownload"].clone(),
            link["showMetadata"].clone()
        ),
        (json!(true), json!(true), json!(true))
    );
    assert_eq!(
        (link["description"].clone(), link["slug"].clone()),
        (json!(null), json!("beach-day"))
    );
    assert_eq!(link["assets"][0]["id"], json!(shown));
    let taken = server
        .call(
            Method::POST,
            "/api/shared-links",
            Some(&owner),
            Some(json!({"type": "INDIVIDUAL", "assetIds": [hidden], "slug": "beach-day"})),
        )
        .await;
    assert_eq!(taken.message(), "Failed to save shared link");

    // Guests: the linked asset, nothing else, and no owner routes.
    assert_eq!(
        server
            .as_link_guest(Method::GET, &format!("/api/assets/{shown}"), &key, None)
            .await
            .status,
        StatusCode::OK
    );
    let guest_asset = server
        .as_link_guest(Method::GET, &format!("/api/assets/{shown}"), &key, None)
        .await;
    assert!(guest_asset.body.get("owner").is_none());
    assert_eq!(
        server
            .as_link_guest(Method::GET, &format!("/api/assets/{hidden}"), &key, None)
            .await
            .message(),
        "Not found or no asset.read access"
    );
    let original = server
        .send(server.request(Method::GET, &format!("/api/assets/{shown}/original?key={key}")))
        .await;
    assert_eq!(original.status, StatusCode::OK);
    assert_eq!(
        server
            .as_link_guest(Method::GET, "/api/users/me", &key, None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let by_slug = server
        .send(server.request(Method::GET, "/api/shared-links/me?slug=beach-day"))
        .await;
    assert_eq!(by_slug.body["id"], json!(id));
    let me = server
        .as_link_guest(Method::GET, "/api/shared-links/me", &key, None)
        .await;
    assert_eq!(me.body["assets"].as_array().unwrap().len(), 1);
    assert_eq!(
        server
            .send(server.request(Method::GET, "/api/shared-links/me?key=nope"))
            .await
            .message(),
        "Invalid share key"
    );
    assert_eq!(
        server
            .send(server.request(Method::GET, "/api/shared-links/me?slug=nope"))
            .await
            .message(),
        "Invalid share slug"
    );
    assert_eq!(
        server
            .call(Method::GET, "/api/shared-links/me", Some(&owner), None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    // Owner management.
    assert_eq!(
        server
            .call(Method::GET, "/api/shared-links", Some(&owner), None)
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        server
            .call(Method::GET, &format!("/api/shared-links/{id}"), Some(&other), None)
            .await
            .message(),
        "Shared link not found"
    );
    let added = server
        .call(
            Method::PUT,
            &format!("/api/shared-links/{id}/assets"),
            Some(&owner),
            Some(json!({"assetIds": [hidden, shown, theirs]})),
        )
        .await;
    assert_eq!(
        added.body,
        json!([
            {"assetId": hidden, "success": true},
            {"assetId": shown, "success": false, "error": "duplicate"},
            {"assetId": theirs, "success": false, "error": "no_permission"},
        ])
    );
    assert_eq!(
        server
            .as_link_guest(Method::GET, &format!("/api/assets/{hidden}"), &key, None)
            .await
            .status,
        StatusCode::OK
    );
    let removed = server
        .call(
            Method::DELETE,
            &format!("/api/shared-links/{id}/assets"),
            Some(&owner),
            Some(json!({"assetIds": [hidden, theirs]})),
        )
        .await;
    assert_eq!(
        removed.body,
        json!([{"assetId": hidden, "success": true}, {"assetId": theirs, "success": false, "error": "not_found"}])
    );
    let edited = server
        .call(
            Method::PATCH,
            &format!("/api/shared-links/{id}"),
            Some(&owner),
            Some(json!({"allowDownload": false, "description": "Summer"})),
        )
        .await;
    assert_eq!(
        (
            edited.body["allowDownload"].clone(),
            edited.body["description"].clone(),
            edited.body["slug"].clone()
        ),
        (json!(false), json!("Summer"), json!(null))
    );
    let refused = server
        .send(server.request(Method::GET, &format!("/api/assets/{shown}/original?key={key}")))
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "downloads are off");
    let expired = server
        .call(
            Method::PATCH,
            &format!("/api/shared-links/{id}"),
            Some(&owner),
            Some(json!({"expiresAt": "2020-01-01T00:00:00.000Z"})),
        )
        .await;
    assert_eq!(expired.status, StatusCode::OK);
    assert_eq!(
        server
            .as_link_guest(Method::GET, &format!("/api/assets/{shown}"), &key, None)
            .await
            .message(),
        "Invalid share key"
    );
    assert_eq!(
        server
            .call(Method::DELETE, &format!("/api/shared-links/{id}"), Some(&owner), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert!(
        server
            .call(Method::GET, "/api/shared-links", Some(&owner), None)
            .await
            .body
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn album_links_with_passwords_uploads_and_hidden_metadata() {
    let mut server = TestServer::start().await;
    let owner = server.admin_token().await;
    let inside = server.upload_stand_in(&owner, "inside").await;
    let album = server
        .call(
            Method::POST,
            "/api/albums",
            Some(&owner),
            Some(json!({"albumName": "Party", "assetIds": [inside]})),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let link = server
        .call(
            Method::POST,
            "/api/shared-links",
            Some(&owner),
            Some(json!({"type": "ALBUM", "albumId": album, "password": "secret", "showMetadata": false})),
        )
        .await
        .body;
    let key = link["key"].as_str().unwrap().to_string();
    assert_eq!(
        link["allowDownload"],
        json!(false),
        "hiding metadata hides the originals"
    );
    assert_eq!(link["album"]["albumName"], json!("Party"));
    assert_eq!(
        server
            .call(Method::GET, &format!("/api/albums/{album}"), Some(&owner), None)
            .await
            .body["hasSharedLink"],
        json!(true)
    );

    // Until the password is given, the key alone opens neither the link's page nor its assets
    // (Immich 3.0.3 guards only the page: its issue #29599).
    for path in [format!("/api/assets/{inside}"), format!("/api/albums/{album}")] {
        let locked = server.as_link_guest(Method::GET, &path, &key, None).await;
        assert_eq!(
            (locked.status, locked.message()),
            (StatusCode::UNAUTHORIZED, "Password required"),
            "{path}"
        );
    }
    assert_eq!(
        server
            .as_link_guest(Method::GET, "/api/shared-links/me", &key, None)
            .await
            .message(),
        "Password required"
    );
    let wrong = server
        .as_link_guest(
            Method::POST,
            "/api/shared-links/login",
            &key,
            Some(json!({"password": "guess"})),
        )
        .await;
    assert_eq!(
        (wrong.status, wrong.message()),
        (StatusCode::UNAUTHORIZED, "Invalid password")
    );
    let login = server
        .client
        .post(format!("{}/api/shared-links/login?key={key}", server.url))
        .json(&json!({"password": "secret"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::CREATED);
    let cookie = login.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.starts_with("immich_shared_link_token=") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    let token = cookie.split(';').next().unwrap().to_string();
    let me = server
        .client
        .get(format!("{}/api/shared-links/me?key={key}", server.url))
        .header("cookie", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    let me: Value = me.json().await.unwrap();
    assert_eq!(me["album"]["id"], json!(album));
    // From here on the guest's browser sends the cookie with every request, as browsers do.
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("cookie", token.parse().unwrap());
    headers.insert("accept-encoding", darkroom_tests::ACCEPT_ENCODING.parse().unwrap());
    server.client = reqwest::Client::builder().default_headers(headers).build().unwrap();
    // Metadata hidden: guests get the sanitized asset.
    let asset: Value = server
        .client
        .get(format!("{}/api/assets/{inside}?key={key}", server.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(asset["hasMetadata"], json!(false));
    assert!(asset.get("originalFileName").is_none() && asset.get("exifInfo").is_none());
    assert_eq!(
        server
            .as_link_guest(Method::GET, &format!("/api/albums/{album}"), &key, None)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        server
            .as_link_guest(Method::GET, &format!("/api/albums/{album}/map-markers"), &key, None)
            .await
            .status,
        StatusCode::OK
    );

    // Guests upload into the album.
    let form = reqwest::multipart::Form::new()
        .text("fileCreatedAt", "2024-05-01T12:00:00.000Z")
        .text("fileModifiedAt", "2024-05-01T12:00:00.000Z")
        .part(
            "assetData",
            reqwest::multipart::Part::bytes(b"guest photo bytes".to_vec()).file_name("guest.jpg"),
        );
    let uploaded = server
        .send(
            server
                .request(Method::POST, &format!("/api/assets?key={key}"))
                .multipart(form),
        )
        .await;
    assert_eq!(uploaded.status, StatusCode::CREATED, "{}", uploaded.body);
    let stats = server
        .call(Method::GET, &format!("/api/albums/{album}"), Some(&owner), None)
        .await
        .body;
    assert_eq!(stats["assetCount"], json!(2));

    // Without allowUpload, no uploads; a link never reaches owner routes.
    let link_id = link["id"].as_str().unwrap();
    server
        .call(
            Method::PATCH,
            &format!("/api/shared-links/{link_id}"),
            Some(&owner),
            Some(json!({"allowUpload": false})),
        )
        .await;
    let form = reqwest::multipart::Form::new()
        .text("fileCreatedAt", "2024-05-01T12:00:00.000Z")
        .text("fileModifiedAt", "2024-05-01T12:00:00.000Z")
        .part(
            "assetData",
            reqwest::multipart::Part::bytes(b"another".to_vec()).file_name("no.jpg"),
        );
    let refused = server
        .send(
            server
                .request(Method::POST, &format!("/api/assets?key={key}"))
                .multipart(form),
        )
        .await;
    assert_eq!(
        (refused.status, refused.message()),
        (StatusCode::UNAUTHORIZED, "Unauthorized")
    );
    assert_eq!(
        server
            .as_link_guest(Method::DELETE, "/api/assets", &key, Some(json!({"ids": [inside]})))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        server
            .as_link_guest(Method::POST, "/api/upload/tus", &key, None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert!(server.uploaded_files().len() == 2, "the refused upload left nothing");
}
