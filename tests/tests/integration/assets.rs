//! Uploading, reading, downloading and deleting assets, and what bad uploads must not leave behind.

mod downloads;
mod edits;
mod lifecycle;
mod uploads;

use base64::Engine;
use darkroom_tests::TestServer;
use reqwest::Method;
use serde_json::Value;
use sha1::{Digest, Sha1};

fn sha1_base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha1::digest(bytes))
}

async fn asset_rows(server: &TestServer) -> i64 {
    let mut db = server.db().await;
    sqlx::query_scalar("SELECT count(*) FROM asset")
        .fetch_one(&mut db)
        .await
        .expect("count")
}

async fn me(server: &TestServer, token: &str) -> Value {
    server.call(Method::GET, "/api/users/me", Some(token), None).await.body
}

/// Bytes that differ per call site, so each test controls its duplicates.
fn photo(seed: &str) -> Vec<u8> {
    let mut bytes = b"\xFF\xD8\xFF\xE0 not really a JPEG: ".to_vec();
    bytes.extend(seed.as_bytes().iter().cycle().take(2048));
    bytes
}
