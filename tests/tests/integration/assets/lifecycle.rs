//! Whose assets are whose, trash, restore and permanent delete, quotas, and copying one asset onto another.

use darkroom_tests::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::json;
use sha1::{Digest, Sha1};

use super::{asset_rows, me, photo, sha1_base64};

#[tokio::test]
async fn other_users_cannot_touch_my_assets() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let other = server.user_token(&admin, "other@immich.cloud").await;
    let id = server.upload(&admin, "mine.png", &photo("mine"), &[]).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();

    let read = server
        .call(Method::GET, &format!("/api/assets/{id}"), Some(&other), None)
        .await;
    assert_eq!(
        (read.status, read.message()),
        (StatusCode::BAD_REQUEST, "Not found or no asset.read access")
    );
    let download = server
        .call(Method::GET, &format!("/api/assets/{id}/original"), Some(&other), None)
        .await;
    assert_eq!(
        (download.status, download.message()),
        (StatusCode::NOT_FOUND, "Not Found")
    );
    let delete = server
        .call(Method::DELETE, "/api/assets", Some(&other), Some(json!({"ids": [id]})))
        .await;
    assert_eq!(
        (delete.status, delete.message()),
        (StatusCode::BAD_REQUEST, "Not found or no asset.delete access")
    );
    let restore = server
        .call(
            Method::POST,
            "/api/trash/restore/assets",
            Some(&other),
            Some(json!({"ids": [id]})),
        )
        .await;
    assert_eq!(restore.message(), "Not found or no asset.delete access");
    let unknown = server
        .call(
            Method::GET,
            &format!("/api/assets/{}", uuid::Uuid::new_v4()),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(unknown.message(), "Not found or no asset.read access");
    let bad_id = server
        .call(Method::GET, "/api/assets/not-a-uuid", Some(&admin), None)
        .await;
    assert_eq!(
        (bad_id.status, bad_id.message()),
        (StatusCode::BAD_REQUEST, "Validation failed")
    );
    // The same bytes are a new asset for another user.
    let theirs = server.upload(&other, "mine.png", &photo("mine"), &[]).await;
    assert_eq!(theirs.status, StatusCode::CREATED);
    assert_eq!(
        server
            .call(Method::GET, &format!("/api/assets/{id}"), Some(&admin), None)
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn trash_restore_and_permanent_delete() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let first = photo("one");
    let second = photo("two");
    let a = server.upload(&admin, "a.jpg", &first, &[]).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let b = server
        .upload(&admin, "b.mp4", &second, &[("duration", "1500")])
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let video = server
        .call(Method::GET, &format!("/api/assets/{b}"), Some(&admin), None)
        .await;
    assert_eq!(
        (video.body["type"].clone(), video.body["duration"].clone()),
        (json!("VIDEO"), json!(1500))
    );

    let trashed = server
        .call(Method::DELETE, "/api/assets", Some(&admin), Some(json!({"ids": [a]})))
        .await;
    assert_eq!(trashed.status, StatusCode::NO_CONTENT);
    assert_eq!(
        server
            .call(Method::GET, &format!("/api/assets/{a}"), Some(&admin), None)
            .await
            .body["isTrashed"],
        json!(true)
    );
    let check = server
        .call(
            Method::POST,
            "/api/assets/bulk-upload-check",
            Some(&admin),
            Some(json!({"assets": [
                {"id": "x", "checksum": sha1_base64(&first)},
                {"id": "y", "checksum": hex(&Sha1::digest(&second))},
                {"id": "z", "checksum": sha1_base64(b"new")},
                {"id": "w", "checksum": "garbage"},
            ]})),
        )
        .await;
    assert_eq!(
        check.body["results"],
        json!([
            {"id": "x", "action": "reject", "reason": "duplicate", "assetId": a, "isTrashed": true},
            {"id": "y", "action": "reject", "reason": "duplicate", "assetId": b, "isTrashed": false},
            {"id": "z", "action": "accept"},
            {"id": "w", "action": "accept"},
        ])
    );
    let restored = server
        .call(
            Method::POST,
            "/api/trash/restore/assets",
            Some(&admin),
            Some(json!({"ids": [a]})),
        )
        .await;
    assert_eq!(restored.body, json!({"count": 1}));
    assert_eq!(
        server
            .call(Method::GET, &format!("/api/assets/{a}"), Some(&admin), None)
            .await
            .body["isTrashed"],
        json!(false)
    );

    server
        .call(
            Method::DELETE,
            "/api/assets",
            Some(&admin),
            Some(json!({"ids": [a, b]})),
        )
        .await;
    assert_eq!(
        server
            .call(Method::POST, "/api/trash/restore", Some(&admin), None)
            .await
            .body,
        json!({"count": 2})
    );
    server
        .call(Method::DELETE, "/api/assets", Some(&admin), Some(json!({"ids": [a]})))
        .await;
    let emptied = server.call(Method::POST, "/api/trash/empty", Some(&admin), None).await;
    assert_eq!(emptied.body, json!({"count": 1}));
    assert_eq!(
        server
            .call(Method::GET, &format!("/api/assets/{a}"), Some(&admin), None)
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(server.uploaded_files().len(), 1, "the emptied asset's file is gone");
    assert_eq!(me(&server, &admin).await["quotaUsageInBytes"], json!(second.len()));

    let forced = server
        .call(
            Method::DELETE,
            "/api/assets",
            Some(&admin),
            Some(json!({"ids": [b], "force": true})),
        )
        .await;
    assert_eq!(forced.status, StatusCode::NO_CONTENT);
    assert_eq!(asset_rows(&server).await, 0);
    assert!(server.uploaded_files().is_empty());
    assert_eq!(me(&server, &admin).await["quotaUsageInBytes"], json!(0));
    let mut db = server.db().await;
    let audited: i64 = sqlx::query_scalar("SELECT count(*) FROM asset_audit")
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert_eq!(audited, 2, "deletions are recorded for mobile sync");
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn quotas_are_exact() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let body = json!({"email": "q@immich.cloud", "password": "password", "name": "Q", "quotaSizeInBytes": 3000});
    server
        .call(Method::POST, "/api/admin/users", Some(&admin), Some(body))
        .await;
    let user = server.login("q@immich.cloud", "password").await;
    let fits = photo("fits"); // 2,068 bytes
    assert_eq!(
        server.upload(&user, "a.jpg", &fits, &[]).await.status,
        StatusCode::CREATED
    );
    let over = server.upload(&user, "b.jpg", &photo("over"), &[]).await;
    assert_eq!(
        (over.status, over.message()),
        (StatusCode::BAD_REQUEST, "Quota has been exceeded!")
    );
    assert_eq!(server.uploaded_files().len(), 1, "the refused file is not kept");
    assert_eq!(me(&server, &user).await["quotaUsageInBytes"], json!(fits.len()));
}

#[tokio::test]
async fn copy_moves_albums_favourite_and_sidecar_to_the_new_asset() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let form = reqwest::multipart::Form::new()
        .text("fileCreatedAt", "2024-05-01T12:00:00.000Z")
        .text("fileModifiedAt", "2024-05-01T12:00:00.000Z")
        .text("isFavorite", "true")
        .part(
            "assetData",
            reqwest::multipart::Part::bytes(photo("source")).file_name("source.jpg"),
        )
        .part(
            "sidecarData",
            reqwest::multipart::Part::bytes(b"<xmp/>".to_vec()).file_name("source.xmp"),
        );
    let source = server
        .send(
            server
                .request(Method::POST, "/api/assets")
                .bearer_auth(&admin)
                .multipart(form),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let target = server.upload(&admin, "edited.jpg", &photo("edited"), &[]).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let album = server
        .call(
            Method::POST,
            "/api/albums",
            Some(&admin),
            Some(json!({"albumName": "A", "assetIds": [source]})),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();

    let same = server
        .call(
            Method::PUT,
            "/api/assets/copy",
            Some(&admin),
            Some(json!({"sourceId": source, "targetId": source})),
        )
        .await;
    assert_eq!(same.message(), "Source and target id must be distinct");
    let copied = server
        .call(
            Method::PUT,
            "/api/assets/copy",
            Some(&admin),
            Some(json!({"sourceId": source, "targetId": target})),
        )
        .await;
    assert_eq!(copied.status, StatusCode::NO_CONTENT, "{}", copied.body);
    assert_eq!(
        server
            .call(Method::GET, &format!("/api/assets/{target}"), Some(&admin), None)
            .await
            .body["isFavorite"],
        json!(true)
    );
    assert_eq!(
        server
            .call(Method::GET, &format!("/api/albums/{album}"), Some(&admin), None)
            .await
            .body["assetCount"],
        json!(2)
    );
    let mut db = server.db().await;
    let sidecar: String =
        sqlx::query_scalar(r#"SELECT path FROM asset_file WHERE "assetId" = $1::uuid AND type = 'sidecar'"#)
            .bind(&target)
            .fetch_one(&mut db)
            .await
            .unwrap();
    assert_eq!(std::fs::read(&sidecar).unwrap(), b"<xmp/>");
    let other = server.user_token(&admin, "other@immich.cloud").await;
    let foreign = server
        .call(
            Method::PUT,
            "/api/assets/copy",
            Some(&other),
            Some(json!({"sourceId": source, "targetId": target})),
        )
        .await;
    assert_eq!(foreign.message(), "Not found or no asset.copy access");
}
