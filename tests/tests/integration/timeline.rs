//! The web timeline and partners: month buckets and columnar months, every filter's rules,
//! and what a partner, an album member and a shared link may see.

mod months;
mod sharing;

use darkroom_tests::{TestServer, fixtures};
use reqwest::{Method, StatusCode};
use serde_json::Value;

async fn upload(server: &TestServer, token: &str, seed: u32, taken: &str) -> String {
    let path = std::env::temp_dir().join(format!("darkroom-timeline-{}.png", uuid::Uuid::new_v4().simple()));
    fixtures::still(&path, seed);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let reply = server
        .upload(
            token,
            "photo.png",
            &bytes,
            &[("fileCreatedAt", taken), ("fileModifiedAt", taken)],
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let id = reply.body["id"].as_str().unwrap().to_string();
    // The timeline shows assets once their metadata (and so their local time) is read.
    server.wait_until_processed(token, &id).await;
    id
}

async fn get(server: &TestServer, token: &str, path: &str) -> (StatusCode, Value) {
    let reply = server.call(Method::GET, path, Some(token), None).await;
    (reply.status, reply.body)
}

async fn user_id(server: &TestServer, token: &str) -> String {
    get(server, token, "/api/users/me").await.1["id"]
        .as_str()
        .unwrap()
        .to_string()
}
