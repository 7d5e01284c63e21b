//! Background jobs on Redis: uploads get their metadata and thumbnails, queues can be watched
//! and steered, a dead worker's job is done by another, and bad files fail with a reason.

mod backups;
mod maintenance;
mod photos;
mod queues;
mod video;

use std::time::Duration;

use darkroom_tests::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn temp_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("darkroom-jobs-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn upload_file(server: &TestServer, token: &str, path: &std::path::Path) -> String {
    let bytes = std::fs::read(path).unwrap();
    let name = path.file_name().unwrap().to_str().unwrap();
    let reply = server.upload(token, name, &bytes, &[]).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body["id"].as_str().unwrap().to_string()
}

/// Polls the asset until `done` holds (jobs run in the background).
async fn wait_for(server: &TestServer, token: &str, id: &str, done: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..200 {
        let asset = server
            .call(Method::GET, &format!("/api/assets/{id}"), Some(token), None)
            .await
            .body;
        if done(&asset) {
            return asset;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("asset {id} never reached the expected state");
}

async fn queue(server: &TestServer, token: &str, name: &str) -> Value {
    server
        .call(Method::GET, &format!("/api/queues/{name}"), Some(token), None)
        .await
        .body
}

/// Presses "Create Database Dump" and waits until it is written.
pub(crate) async fn back_up_now(server: &TestServer, admin: &str) {
    let created = server
        .call(
            Method::POST,
            "/api/jobs",
            Some(admin),
            Some(json!({"name": "backup-database"})),
        )
        .await;
    assert_eq!(created.status, StatusCode::NO_CONTENT);
    wait_for_queue_idle(server, admin, "backupDatabase", 1).await;
}

async fn wait_for_queue_idle(server: &TestServer, token: &str, queue_name: &str, completed: u64) {
    for _ in 0..400 {
        let stats = queue(server, token, queue_name).await["statistics"].clone();
        if stats["completed"].as_u64().unwrap_or(0) + stats["failed"].as_u64().unwrap_or(0) >= completed
            && stats["active"] == json!(0)
            && stats["waiting"] == json!(0)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{queue_name} did not finish");
}
