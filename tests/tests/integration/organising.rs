//! Organising a library: stacks, duplicate groups and the map.

mod duplicates;
mod locked_folder;
mod map;
mod stacks;

use darkroom_tests::{TestServer, fixtures};
use reqwest::StatusCode;

async fn upload(server: &TestServer, token: &str, seed: u32, gps: bool) -> String {
    let path = std::env::temp_dir().join(format!("darkroom-organise-{}.jpg", uuid::Uuid::new_v4().simple()));
    if gps {
        fixtures::jpeg_with_exif(&path, seed)
    } else {
        fixtures::still(&path, seed)
    }
    let bytes = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let reply = server.upload(token, "photo.jpg", &bytes, &[]).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let id = reply.body["id"].as_str().unwrap().to_string();
    server.wait_until_processed(token, &id).await;
    id
}
