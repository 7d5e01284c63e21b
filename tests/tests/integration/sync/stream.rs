//! The stream itself: acks, checkpoints, resets and refusals, and a user's own assets arriving once per change.

use darkroom_tests::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{ack, expect_once, kinds, settle, sync, upload};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acks_checkpoints_resets_and_refusals() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let key = server.api_key(&admin, &["all"]).await;
    let refused = server
        .request(Method::POST, "/api/sync/stream")
        .header("x-api-key", &key)
        .json(&json!({"types": ["UsersV1"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        refused.json::<Value>().await.unwrap()["message"],
        json!("Sync endpoints cannot be used with API keys")
    );
    let deprecated = server
        .call(
            Method::POST,
            "/api/sync/stream",
            Some(&admin),
            Some(json!({"types": ["AssetsV1"]})),
        )
        .await;
    assert_eq!(
        deprecated.message(),
        "SyncRequestType.AssetsV1 is deprecated, use SyncRequestType.AssetsV2 instead"
    );
    assert_eq!(
        server
            .call(
                Method::POST,
                "/api/sync/stream",
                Some(&admin),
                Some(json!({"types": ["Nonsense"]}))
            )
            .await
            .status,
        StatusCode::BAD_REQUEST
    );

    let lines = sync(&server, &admin, &["AuthUsersV1", "UsersV1"]).await;
    assert_eq!(kinds(&lines), ["AuthUserV1", "UserV1"]);
    let me = &lines[0]["data"];
    assert_eq!(
        (
            me["email"].clone(),
            me["isAdmin"].clone(),
            me["hasProfileImage"].clone()
        ),
        (json!("admin@immich.cloud"), json!(true), json!(false))
    );
    assert!(
        me["profileChangedAt"].as_str().unwrap().ends_with('Z')
            && lines[0]["ack"].as_str().unwrap().starts_with("AuthUserV1|")
    );
    assert!(
        lines.last().unwrap()["ack"]
            .as_str()
            .unwrap()
            .starts_with("SyncCompleteV1|")
    );
    ack(&server, &admin, &lines).await;
    let stored = server.call(Method::GET, "/api/sync/ack", Some(&admin), None).await.body;
    assert_eq!(stored.as_array().unwrap().len(), 3, "{stored}");
    assert!(kinds(&sync(&server, &admin, &["AuthUsersV1", "UsersV1"]).await).is_empty());

    let bad = server
        .call(
            Method::POST,
            "/api/sync/ack",
            Some(&admin),
            Some(json!({"acks": ["Bogus|x"]})),
        )
        .await;
    assert_eq!(
        (bad.status, bad.message()),
        (StatusCode::BAD_REQUEST, "Invalid ack type: Bogus")
    );
    // Forgetting a type sends it again; a reset starts everything over.
    assert_eq!(
        server
            .call(
                Method::DELETE,
                "/api/sync/ack",
                Some(&admin),
                Some(json!({"types": ["UserV1"]}))
            )
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        kinds(&sync(&server, &admin, &["AuthUsersV1", "UsersV1"]).await),
        ["UserV1"]
    );
    let reset = server
        .request(Method::POST, "/api/sync/stream")
        .bearer_auth(&admin)
        .json(&json!({"types": ["AuthUsersV1"], "reset": true}))
        .send()
        .await
        .unwrap();
    assert!(reset.text().await.unwrap().contains("AuthUserV1"));

    // A pending reset (set from another device) is all the next stream says.
    let session = server.call(Method::GET, "/api/sessions", Some(&admin), None).await.body[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    server
        .call(
            Method::PUT,
            &format!("/api/sessions/{session}"),
            Some(&admin),
            Some(json!({"isPendingSyncReset": true})),
        )
        .await;
    let pending = sync(&server, &admin, &["AuthUsersV1"]).await;
    assert_eq!(
        pending,
        vec![json!({"type": "SyncResetV1", "data": {}, "ack": "SyncResetV1|reset"})]
    );
    ack(&server, &admin, &pending).await;
    assert_eq!(kinds(&sync(&server, &admin, &["AuthUsersV1"]).await), ["AuthUserV1"]);
    assert_eq!(
        server.call(Method::GET, "/api/sync/ack", Some(&admin), None).await.body,
        json!([])
    );

    // Silent for more than 30 days: the audit trail may be gone, so the device starts over.
    let long_ago: uuid::Uuid = sqlx::query_scalar("SELECT immich_uuid_v7(now() - interval '40 days')")
        .fetch_one(&mut server.db().await)
        .await
        .unwrap();
    let stale = server
        .call(
            Method::POST,
            "/api/sync/ack",
            Some(&admin),
            Some(json!({"acks": [format!("SyncCompleteV1|{long_ago}")]})),
        )
        .await;
    assert_eq!(stale.status, StatusCode::NO_CONTENT);
    assert_eq!(kinds(&sync(&server, &admin, &["AuthUsersV1"]).await), ["SyncResetV1"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn own_assets_arrive_once_per_change_and_nobody_elses() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let other = server.user_token(&admin, "other@example.com").await;
    upload(&server, &other, 99).await;
    let types = ["AssetsV2", "AssetExifsV1"];
    let id = upload(&server, &admin, 1).await;
    settle(&server, &admin).await;

    let created = expect_once(&server, &admin, &types, &["AssetV2", "AssetExifV1"]).await;
    let asset = &created[0]["data"];
    let original = server
        .call(Method::GET, &format!("/api/assets/{id}"), Some(&admin), None)
        .await
        .body;
    assert_eq!(
        (
            asset["id"].clone(),
            asset["checksum"].clone(),
            asset["thumbhash"].clone()
        ),
        (json!(id), original["checksum"].clone(), original["thumbhash"].clone())
    );
    assert_eq!(
        (
            asset["type"].clone(),
            asset["visibility"].clone(),
            asset["isFavorite"].clone()
        ),
        (json!("IMAGE"), json!("timeline"), json!(false))
    );
    assert_eq!(asset["fileCreatedAt"], json!("2024-05-01T12:00:00.000Z"));
    assert_eq!(
        (
            created[1]["data"]["assetId"].clone(),
            created[1]["data"]["exifImageWidth"].clone()
        ),
        (json!(id), json!(320))
    );

    server
        .call(
            Method::PUT,
            &format!("/api/assets/{id}"),
            Some(&admin),
            Some(json!({"isFavorite": true})),
        )
        .await;
    let updated = expect_once(&server, &admin, &types, &["AssetV2"]).await;
    assert_eq!(updated[0]["data"]["isFavorite"], json!(true));
    server
        .call(
            Method::PUT,
            &format!("/api/assets/{id}"),
            Some(&admin),
            Some(json!({"description": "at the beach"})),
        )
        .await;
    // The edit goes into an XMP sidecar, which is read back (touching the asset too): wait
    // for that to finish.
    settle(&server, &admin).await;
    let described = expect_once(&server, &admin, &types, &["AssetV2", "AssetExifV1"]).await;
    assert_eq!(described[1]["data"]["description"], json!("at the beach"));

    server
        .call(
            Method::DELETE,
            "/api/assets",
            Some(&admin),
            Some(json!({"ids": [id], "force": true})),
        )
        .await;
    let deleted = expect_once(&server, &admin, &types, &["AssetDeleteV1"]).await;
    assert_eq!(deleted[0]["data"], json!({"assetId": id}));
}
