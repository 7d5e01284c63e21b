//! The mobile app's sync protocol, after Immich's own sync tests: every entity's create,
//! update and delete arrives exactly once and never again after its ack; nobody sees what is
//! not theirs; new shares are backfilled; API keys are refused.

mod faces;
mod sharing;
mod stream;

use std::time::Duration;

use darkroom_tests::{TestServer, fixtures};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// One stream: its lines, `SyncCompleteV1` last.
async fn sync(server: &TestServer, token: &str, types: &[&str]) -> Vec<Value> {
    // A stream covers changes older than a millisecond (younger ones may still be committing);
    // the tests' changes must be at least that old to be due.
    tokio::time::sleep(Duration::from_millis(5)).await;
    let reply = server
        .request(Method::POST, "/api/sync/stream")
        .bearer_auth(token)
        .header("accept", "application/jsonlines+json")
        .json(&json!({ "types": types }))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::OK);
    assert_eq!(reply.headers()["content-type"], "application/jsonlines+json");
    let text = reply.text().await.unwrap();
    text.lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}

/// The lines' types, `SyncCompleteV1` left out.
fn kinds(lines: &[Value]) -> Vec<String> {
    lines
        .iter()
        .map(|l| l["type"].as_str().unwrap().to_string())
        .filter(|t| t != "SyncCompleteV1")
        .collect()
}

async fn ack(server: &TestServer, token: &str, lines: &[Value]) {
    let acks: Vec<&Value> = lines.iter().map(|l| &l["ack"]).collect();
    let reply = server
        .call(
            Method::POST,
            "/api/sync/ack",
            Some(token),
            Some(json!({ "acks": acks })),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
}

/// Syncs, checks the types that arrived, acks them all, and checks nothing comes again.
pub(crate) async fn expect_once(server: &TestServer, token: &str, types: &[&str], expected: &[&str]) -> Vec<Value> {
    let lines = sync(server, token, types).await;
    assert_eq!(lines.last().unwrap()["type"], json!("SyncCompleteV1"), "{lines:?}");
    assert_eq!(kinds(&lines), expected, "{lines:#?}");
    ack(server, token, &lines).await;
    let again = sync(server, token, types).await;
    assert_eq!(kinds(&again), Vec::<String>::new(), "nothing twice: {again:#?}");
    ack(server, token, &again).await;
    lines
}

async fn upload(server: &TestServer, token: &str, seed: u32) -> String {
    let path = std::env::temp_dir().join(format!("darkroom-sync-{}.png", uuid::Uuid::new_v4().simple()));
    fixtures::still(&path, seed);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let reply = server.upload(token, "photo.png", &bytes, &[]).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let id = reply.body["id"].as_str().unwrap().to_string();
    server.wait_until_processed(token, &id).await;
    id
}

/// Waits until no job is queued or running, so assets stop changing under the test.
pub(crate) async fn settle(server: &TestServer, admin: &str) {
    // The queues are read one after another, so one look can miss a job that a finishing job
    // (sidecar write → metadata) hands on; only several quiet looks in a row mean quiet.
    let mut quiet_looks = 0;
    for _ in 0..400 {
        let jobs = server.call(Method::GET, "/api/jobs", Some(admin), None).await.body;
        let busy = jobs
            .as_object()
            .unwrap()
            .values()
            .any(|q| q["jobCounts"]["active"] != json!(0) || q["jobCounts"]["waiting"] != json!(0));
        quiet_looks = if busy { 0 } else { quiet_looks + 1 };
        if quiet_looks == 3 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the job queues never went quiet");
}

pub(crate) async fn user_id(server: &TestServer, token: &str) -> String {
    server.call(Method::GET, "/api/users/me", Some(token), None).await.body["id"]
        .as_str()
        .unwrap()
        .to_string()
}
