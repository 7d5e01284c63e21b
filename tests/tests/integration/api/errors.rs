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
