//! The map: positioned photos, shown to whom they should be.

use darkroom_tests::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::json;

use super::upload;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_map_shows_positioned_photos_of_whom_it_should() {
    let server = TestServer::start().await;
    let owner = server.admin_token().await;
    let partner = server.user_token(&owner, "partner@example.com").await;
    let owner_id = server.call(Method::GET, "/api/users/me", Some(&owner), None).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let placed = upload(&server, &owner, 1, true).await;
    upload(&server, &owner, 2, false).await;
    let archived = upload(&server, &owner, 3, true).await;
    server
        .call(
            Method::PUT,
            &format!("/api/assets/{archived}"),
            Some(&owner),
            Some(json!({"visibility": "archive"})),
        )
        .await;
    let theirs = upload(&server, &partner, 4, true).await;
    server
        .call(
            Method::POST,
            "/api/partners",
            Some(&partner),
            Some(json!({"sharedWithId": owner_id})),
        )
        .await;

    let markers = server
        .call(Method::GET, "/api/map/markers", Some(&owner), None)
        .await
        .body;
    assert_eq!(markers.as_array().unwrap().len(), 1, "{markers}");
    assert_eq!(markers[0]["id"], json!(placed));
    assert!((markers[0]["lat"].as_f64().unwrap() - 48.8584).abs() < 1e-6 && markers[0]["city"].is_null());
    let with_archive = server
        .call(Method::GET, "/api/map/markers?isArchived=true", Some(&owner), None)
        .await
        .body;
    assert_eq!(with_archive.as_array().unwrap().len(), 2);
    let with_partners = server
        .call(Method::GET, "/api/map/markers?withPartners=true", Some(&owner), None)
        .await
        .body;
    assert!(
        with_partners
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == json!(theirs))
    );
    let nothing_later = server
        .call(
            Method::GET,
            "/api/map/markers?fileCreatedAfter=2030-01-01T00:00:00Z",
            Some(&owner),
            None,
        )
        .await
        .body;
    assert_eq!(nothing_later, json!([]));
    assert_eq!(
        server
            .call(
                Method::GET,
                "/api/map/markers?fileCreatedAfter=soon",
                Some(&owner),
                None
            )
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    let partner_view = server
        .call(Method::GET, "/api/map/markers?withPartners=true", Some(&partner), None)
        .await
        .body;
    assert_eq!(
        partner_view.as_array().unwrap().len(),
        1,
        "the owner shares nothing with the partner"
    );
}
