//! Memories: the nightly "on this day", memories made by hand, their assets, privacy and sync.

use std::time::Duration;

use chrono::{Datelike, Utc};
use darkroom_tests::{TestServer, fixtures};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn upload_taken(server: &TestServer, token: &str, seed: u32, taken: &str) -> String {
    let path = std::env::temp_dir().join(format!("darkroom-memory-{}.png", uuid::Uuid::new_v4().simple()));
    fixtures::still(&path, seed);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let reply = server
        .upload(
            token,
            "day.png",
            &bytes,
            &[("fileCreatedAt", taken), ("fileModifiedAt", taken)],
        )
        .await;
    let id = reply.body["id"].as_str().unwrap().to_string();
    server.wait_until_processed(token, &id).await;
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_this_day_and_hand_made_memories() {
    let server = TestServer::start().await;
    let owner = server.admin_token().await;
    let other = server.user_token(&owner, "other@example.com").await;
    let today = Utc::now().date_naive();
    let taken = format!("2020-{:02}-{:02}T12:00:00.000Z", today.month(), today.day());
    let old = upload_taken(&server, &owner, 1, &taken).await;
    let recent = upload_taken(&server, &owner, 2, "2024-01-15T12:00:00.000Z").await;

    assert_eq!(
        server
            .call(
                Method::POST,
                "/api/jobs",
                Some(&owner),
                Some(json!({"name": "memory-create"}))
            )
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let mut found = Value::Null;
    for _ in 0..200 {
        found = server
            .call(
                Method::GET,
                &format!("/api/memories?for={}T12:00:00.000Z", today),
                Some(&owner),
                None,
            )
            .await
            .body;
        if found.as_array().is_some_and(|m| !m.is_empty()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let memories = found.as_array().unwrap();
    assert_eq!(memories.len(), 1, "{found}");
    let memory = &memories[0];
    assert_eq!(
        (
            memory["type"].clone(),
            memory["data"].clone(),
            memory["isSaved"].clone()
        ),
        (json!("on_this_day"), json!({"year": 2020}), json!(false))
    );
    assert_eq!(
        memory["assets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].clone())
            .collect::<Vec<_>>(),
        [json!(old)]
    );
    assert!(
        memory["memoryAt"]
            .as_str()
            .unwrap()
            .starts_with(&format!("2020-{:02}-{:02}", today.month(), today.day()))
    );
    // Running it again makes nothing twice.
    server
        .call(
            Method::POST,
            "/api/jobs",
            Some(&owner),
            Some(json!({"name": "memory-create"})),
        )
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        server
            .call(Method::GET, "/api/memories/statistics", Some(&owner), None)
            .await
            .body,
        json!({"total": 1})
    );

    // By hand.
    let made = server
        .call(Method::POST, "/api/memories", Some(&owner), Some(json!({"type": "on_this_day", "data": {"year": 2024}, "memoryAt": "2024-01-15T00:00:00.000Z", "assetIds": [recent]})))
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let id = made.body["id"].as_str().unwrap().to_string();
    let saved = server
        .call(
            Method::PUT,
            &format!("/api/memories/{id}"),
            Some(&owner),
            Some(json!({"isSaved": true, "seenAt": "2024-02-01T00:00:00.000Z"})),
        )
        .await
        .body;
    assert_eq!(
        (saved["isSaved"].clone(), saved["seenAt"].clone()),
        (json!(true), json!("2024-02-01T00:00:00.000Z"))
    );
    let added = server
        .call(
            Method::PUT,
            &format!("/api/memories/{id}/assets"),
            Some(&owner),
            Some(json!({"ids": [old, recent]})),
        )
        .await
        .body;
    assert_eq!(
        added,
        json!([{"id": old, "success": true}, {"id": recent, "success": false, "error": "duplicate"}])
    );
    let removed = server
        .call(
            Method::DELETE,
            &format!("/api/memories/{id}/assets"),
            Some(&owner),
            Some(json!({"ids": [old]})),
        )
        .await
        .body;
    assert_eq!(removed, json!([{"id": old, "success": true}]));
    assert_eq!(
        server
            .call(Method::GET, "/api/memories?isSaved=true", Some(&owner), None)
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let bad = server
        .call(
            Method::POST,
            "/api/memories",
            Some(&owner),
            Some(json!({"type": "on_this_day", "data": {"year": 12}, "memoryAt": "2024-01-15T00:00:00.000Z"})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    // Private, and synced to the owner's devices.
    let peek = server
        .call(Method::GET, &format!("/api/memories/{id}"), Some(&other), None)
        .await;
    assert_eq!(
        (peek.status, peek.message()),
        (StatusCode::BAD_REQUEST, "Not found or no memory.read access")
    );
    assert_eq!(
        server.call(Method::GET, "/api/memories", Some(&other), None).await.body,
        json!([])
    );
    tokio::time::sleep(Duration::from_millis(5)).await;
    let lines = server
        .request(Method::POST, "/api/sync/stream")
        .bearer_auth(&owner)
        .json(&json!({"types": ["MemoriesV1", "MemoryToAssetsV1"]}))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let kinds: Vec<String> = lines
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["type"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(kinds.iter().filter(|k| *k == "MemoryV1").count(), 2, "{lines}");
    assert_eq!(kinds.iter().filter(|k| *k == "MemoryToAssetV1").count(), 2);
    assert_eq!(
        kinds.iter().filter(|k| *k == "MemoryToAssetDeleteV1").count(),
        1,
        "the asset taken out"
    );

    assert_eq!(
        server
            .call(Method::DELETE, &format!("/api/memories/{id}"), Some(&owner), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        server
            .call(Method::GET, &format!("/api/memories/{id}"), Some(&owner), None)
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
}
