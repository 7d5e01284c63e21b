//! The locked folder: assets taken out of albums, and the PIN it needs.

use darkroom_tests::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::json;

use super::upload;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_locked_folder_takes_assets_out_of_albums_and_needs_the_pin() {
    let server = TestServer::start().await;
    let owner = server.admin_token().await;
    let photo = upload(&server, &owner, 1, false).await;
    let album = server
        .call(
            Method::POST,
            "/api/albums",
            Some(&owner),
            Some(json!({"albumName": "Shared", "assetIds": [photo]})),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    server
        .call(
            Method::PUT,
            &format!("/api/assets/{photo}"),
            Some(&owner),
            Some(json!({"visibility": "locked"})),
        )
        .await;
    let after = server
        .call(Method::GET, &format!("/api/albums/{album}"), Some(&owner), None)
        .await
        .body;
    assert_eq!(after["assetCount"], json!(0), "locked assets leave every album");
    let stats = server
        .call(
            Method::GET,
            "/api/assets/statistics?visibility=locked",
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(
        (stats.status, stats.message()),
        (StatusCode::UNAUTHORIZED, "Elevated permission is required")
    );
    let hidden = server
        .call(Method::GET, &format!("/api/assets/{photo}"), Some(&owner), None)
        .await;
    assert_eq!(
        hidden.status,
        StatusCode::BAD_REQUEST,
        "not even the owner sees it without the PIN"
    );
}
