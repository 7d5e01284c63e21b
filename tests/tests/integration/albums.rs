//! Albums: creating, listing, sharing with roles, adding and removing assets.

mod activity;
mod lifecycle;

use darkroom_tests::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::Value;

async fn upload(server: &TestServer, token: &str, seed: &str) -> String {
    let bytes: Vec<u8> = seed.bytes().cycle().take(1024).collect();
    let reply = server.upload(token, &format!("{seed}.jpg"), &bytes, &[]).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body["id"].as_str().unwrap().to_string()
}

async fn user_id(server: &TestServer, token: &str) -> String {
    server.call(Method::GET, "/api/users/me", Some(token), None).await.body["id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn ids(body: &Value) -> Vec<String> {
    body.as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_string())
        .collect()
}
