//! Errors in Immich's shape: unknown routes, correlation ids, oversized and malformed requests.

use darkroom_tests::{ADMIN_EMAIL, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn errors_keep_immichs_shape() {
    let server = TestServer::start().await;
    let unknown = server.call(Method::GET, "/api/nope", None, None).await;
    assert_eq!(
        (unknown.status, unknown.message()),
        (StatusCode::NOT_FOUND, "Cannot GET /api/nope")
    );
    let correlated = server
        .send(
            server
                .request(Method::GET, "/api/server/ping")
                .header("x-correlation-id", "abc-123"),
        )
        .await;
    assert_eq!(correlated.headers["x-correlation-id"], "abc-123");
    assert!(
        server
            .call(Method::GET, "/api/server/ping", None, None)
            .await
            .headers
            .contains_key("x-correlation-id")
    );
    let big = "x".repeat(11 * 1024 * 1024);
    let reply = server
        .send(
            server
                .request(Method::POST, "/api/auth/login")
                .header("content-type", "application/json")
                .body(big),
        )
        .await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    let broken = server
        .send(
            server
                .request(Method::POST, "/api/auth/login")
                .header("content-type", "application/json")
                .body("{not json"),
        )
        .await;
    assert_eq!(broken.status, StatusCode::BAD_REQUEST);
    let wrong_type = server
        .call(
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({"email": 5, "password": "x"})),
        )
        .await;
    assert_eq!(
        wrong_type.body["errors"][0]["message"],
        json!("Invalid input: expected string, received number")
    );
    let admin = server.admin_token().await;
    // No body where a DTO is expected is refused as a whole, as Immich 3 (Express 5 + zod) does.
    let bodiless = server
        .send(server.request(Method::POST, "/api/shared-links").bearer_auth(&admin))
        .await;
    assert_eq!(bodiless.status, StatusCode::BAD_REQUEST);
    assert_eq!(bodiless.body["errors"][0]["path"], json!([]));
    assert_eq!(
        bodiless.body["errors"][0]["message"],
        json!("Invalid input: expected object, received undefined")
    );
    // Optional fields may be left out but not set to null; the body is checked before the user is looked up.
    let nobody = format!("/api/admin/users/{}", uuid::Uuid::new_v4());
    for (field, message) in [
        ("password", "Invalid input: expected string, received null"),
        ("name", "Invalid input: expected string, received null"),
        ("shouldChangePassword", "Invalid input: expected boolean, received null"),
        ("email", "Invalid input: expected email, received object"),
    ] {
        let refused = server
            .call(Method::PUT, &nobody, Some(&admin), Some(json!({ field: null })))
            .await;
        assert_eq!(refused.message(), "Validation failed", "{field}");
        assert_eq!(
            (
                refused.body["errors"][0]["path"].clone(),
                refused.body["errors"][0]["message"].clone()
            ),
            (json!([field]), json!(message))
        );
    }
    let null_flag = server
        .call(
            Method::POST,
            "/api/admin/users",
            Some(&admin),
            Some(json!({"email": "n@immich.cloud", "password": "p", "name": "N", "shouldChangePassword": null})),
        )
        .await;
    assert_eq!(null_flag.body["errors"][0]["path"], json!(["shouldChangePassword"]));
    let numeric_email = server
        .call(
            Method::POST,
            "/api/admin/users",
            Some(&admin),
            Some(json!({"email": 7, "password": "p", "name": "N"})),
        )
        .await;
    assert_eq!(
        numeric_email.body["errors"][0]["message"],
        json!("Invalid input: expected email, received number")
    );
    // Express routes `/api/x/` as `/api/x`.
    let slashed = server.call(Method::GET, "/api/users/me/", Some(&admin), None).await;
    assert_eq!(
        (slashed.status, slashed.body["email"].clone()),
        (StatusCode::OK, json!(ADMIN_EMAIL))
    );
    let slashed_query = server
        .call(Method::GET, "/api/albums/?isOwned=true", Some(&admin), None)
        .await;
    assert_eq!(slashed_query.status, StatusCode::OK);
}

/// Every problem of a body comes back at once, each at its path, as zod reports them: bad ids
/// in lists, the shared search filters (read apart from each search's own fields), the shared
/// fields of an asset update, and a missing field with the type it takes.
#[tokio::test]
async fn every_issue_comes_back_at_its_path() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let good = "8a4c1c3e-2f1b-4d7e-9a7b-0c1d2e3f4a5b";
    let issues = |body: &serde_json::Value| -> Vec<(serde_json::Value, serde_json::Value)> {
        body["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .map(|issue| (issue["path"].clone(), issue["message"].clone()))
            .collect()
    };
    let albums = server
        .call(
            Method::POST,
            "/api/albums",
            Some(&admin),
            Some(json!({"albumName": "ü", "assetIds": [good, "x", good, "é"]})),
        )
        .await;
    assert_eq!(albums.status, StatusCode::BAD_REQUEST, "{}", albums.body);
    assert_eq!(
        issues(&albums.body),
        [
            (json!(["assetIds", 1]), json!("Invalid UUID")),
            (json!(["assetIds", 3]), json!("Invalid UUID")),
        ]
    );
    let search = server
        .call(
            Method::POST,
            "/api/search/metadata",
            Some(&admin),
            Some(json!({"albumIds": [good, "nope"], "visibility": "everywhere", "page": 0})),
        )
        .await;
    assert_eq!(search.status, StatusCode::BAD_REQUEST, "{}", search.body);
    assert_eq!(
        issues(&search.body),
        [
            (json!(["albumIds", 1]), json!("Invalid UUID")),
            (
                json!(["visibility"]),
                json!(r#"Invalid option: expected one of "archive"|"timeline"|"hidden"|"locked""#)
            ),
            (json!(["page"]), json!("Too small: expected number to be >=1")),
        ]
    );
    let update = server
        .call(
            Method::PUT,
            "/api/assets",
            Some(&admin),
            Some(json!({"ids": ["x"], "visibility": "everywhere"})),
        )
        .await;
    assert_eq!(update.status, StatusCode::BAD_REQUEST, "{}", update.body);
    assert_eq!(
        issues(&update.body),
        [
            (json!(["ids", 0]), json!("Invalid UUID")),
            (
                json!(["visibility"]),
                json!(r#"Invalid option: expected one of "archive"|"timeline"|"hidden"|"locked""#)
            ),
        ]
    );
    let partner = server
        .call(Method::POST, "/api/partners", Some(&admin), Some(json!({})))
        .await;
    assert_eq!(
        issues(&partner.body),
        [(
            json!(["sharedWithId"]),
            json!("Invalid input: expected string, received undefined")
        )]
    );
}
