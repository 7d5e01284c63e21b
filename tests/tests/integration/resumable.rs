//! Resumable uploads over raw HTTP: tus 1.0 at /api/upload/tus and the IETF draft at /api/upload.
//! (These routes are Darkroom's own, so their answers are not checked against Immich's spec.)

use base64::Engine;
use darkroom_tests::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha1::{Digest, Sha1};

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn metadata(filename: &str) -> String {
    format!(
        "filename {},fileCreatedAt {},fileModifiedAt {}",
        b64(filename.as_bytes()),
        b64(b"2024-06-01T10:00:00.000Z"),
        b64(b"2024-06-01T10:00:00.000Z")
    )
}

struct Raw {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

impl Raw {
    fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    }
}

async fn raw(request: reqwest::RequestBuilder) -> Raw {
    let response = request.send().await.expect("send");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.unwrap();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Raw { status, headers, body }
}

fn tus(server: &TestServer, method: Method, path: &str, token: &str) -> reqwest::RequestBuilder {
    server
        .request(method, path)
        .bearer_auth(token)
        .header("tus-resumable", "1.0.0")
}

async fn create_tus(server: &TestServer, token: &str, length: usize, filename: &str) -> String {
    let created = raw(tus(server, Method::POST, "/api/upload/tus", token)
        .header("upload-length", length)
        .header("upload-metadata", metadata(filename)))
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    created.header("location")
}

async fn patch(server: &TestServer, token: &str, location: &str, offset: usize, bytes: &[u8]) -> Raw {
    raw(tus(server, Method::PATCH, location, token)
        .header("upload-offset", offset)
        .header("content-type", "application/offset+octet-stream")
        .body(bytes.to_vec()))
    .await
}

fn data(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

#[tokio::test]
async fn tus_uploads_in_chunks_with_checks_at_every_step() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let other = server.user_token(&admin, "other@immich.cloud").await;
    let bytes = data(300_000, 1);

    let options = raw(server.request(Method::OPTIONS, "/api/upload/tus")).await;
    assert_eq!(options.status, StatusCode::NO_CONTENT);
    assert_eq!(options.header("tus-version"), "1.0.0");
    assert!(options.header("tus-extension").contains("creation-with-upload"));
    assert_eq!(options.header("tus-checksum-algorithm"), "sha1");

    let location = create_tus(&server, &admin, bytes.len(), "video.mp4").await;
    assert!(location.starts_with("/api/upload/tus/"));
    let head = raw(tus(&server, Method::HEAD, &location, &admin)).await;
    assert_eq!(
        (head.header("upload-offset"), head.header("upload-length")),
        ("0".to_string(), "300000".to_string())
    );
    assert_eq!(head.header("cache-control"), "no-store");
    assert!(head.header("upload-metadata").starts_with("filename "));
    assert!(head.header("upload-expires").ends_with("GMT"));

    let first = patch(&server, &admin, &location, 0, &bytes[..100_000]).await;
    assert_eq!(
        (first.status, first.header("upload-offset")),
        (StatusCode::NO_CONTENT, "100000".to_string())
    );
    let stale = patch(&server, &admin, &location, 0, &bytes[..100_000]).await;
    assert_eq!(
        (stale.status, stale.header("upload-offset")),
        (StatusCode::CONFLICT, "100000".to_string())
    );
    let wrong_type = raw(tus(&server, Method::PATCH, &location, &admin)
        .header("upload-offset", 100_000)
        .body(vec![1, 2, 3]))
    .await;
    assert_eq!(wrong_type.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let old_protocol = raw(server
        .request(Method::PATCH, &location)
        .bearer_auth(&admin)
        .header("tus-resumable", "0.2.2"))
    .await;
    assert_eq!(
        (old_protocol.status, old_protocol.header("tus-version")),
        (StatusCode::PRECONDITION_FAILED, "1.0.0".to_string())
    );
    let bad_checksum = raw(tus(&server, Method::PATCH, &location, &admin)
        .header("upload-offset", 100_000)
        .header("content-type", "application/offset+octet-stream")
        .header(
            "upload-checksum",
            format!("sha1 {}", b64(&Sha1::digest(b"something else"))),
        )
        .body(bytes[100_000..200_000].to_vec()))
    .await;
    assert_eq!(bad_checksum.status.as_u16(), 460);
    let md5 = raw(tus(&server, Method::PATCH, &location, &admin)
        .header("upload-offset", 100_000)
        .header("content-type", "application/offset+octet-stream")
        .header("upload-checksum", "md5 AAAA")
        .body(vec![0]))
    .await;
    assert_eq!(md5.status, StatusCode::BAD_REQUEST);
    let after_refusals = raw(tus(&server, Method::HEAD, &location, &admin)).await;
    assert_eq!(
        after_refusals.header("upload-offset"),
        "100000",
        "refused bytes never count"
    );

    let foreign = patch(&server, &other, &location, 100_000, &bytes[100_000..]).await;
    assert_eq!(
        foreign.status,
        StatusCode::NOT_FOUND,
        "another user's upload does not exist for them"
    );
    let too_much = patch(&server, &admin, &location, 100_000, &data(250_000, 2)).await;
    assert_eq!(
        too_much.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "data beyond Upload-Length"
    );

    let second = raw(tus(&server, Method::PATCH, &location, &admin)
        .header("upload-offset", 100_000)
        .header("content-type", "application/offset+octet-stream")
        .header(
            "upload-checksum",
            format!("sha1 {}", b64(&Sha1::digest(&bytes[100_000..]))),
        )
        .body(bytes[100_000..].to_vec()))
    .await;
    assert_eq!(
        (second.status, second.header("upload-offset")),
        (StatusCode::NO_CONTENT, "300000".to_string())
    );
    assert_eq!(second.header("x-immich-asset-status"), "created");
    let id = second.header("x-immich-asset-id");
    let original = server
        .send(
            server
                .request(Method::GET, &format!("/api/assets/{id}/original"))
                .bearer_auth(&admin),
        )
        .await;
    assert!(original.bytes == bytes);
    // Asking again tells the same.
    let done = raw(tus(&server, Method::HEAD, &location, &admin)).await;
    assert_eq!(
        (done.header("upload-offset"), done.header("x-immich-asset-id")),
        ("300000".to_string(), id.clone())
    );

    // The same bytes again, in one creation-with-upload request: a duplicate.
    let again = raw(tus(&server, Method::POST, "/api/upload/tus", &admin)
        .header("upload-length", bytes.len())
        .header("upload-metadata", metadata("copy.mp4"))
        .header("content-type", "application/offset+octet-stream")
        .body(bytes.clone()))
    .await;
    assert_eq!(
        (again.status, again.header("upload-offset")),
        (StatusCode::CREATED, "300000".to_string())
    );
    assert_eq!(
        (again.header("x-immich-asset-status"), again.header("x-immich-asset-id")),
        ("duplicate".to_string(), id.clone())
    );

    // Termination.
    let doomed = create_tus(&server, &admin, 10, "x.jpg").await;
    patch(&server, &admin, &doomed, 0, b"12345").await;
    assert_eq!(
        raw(tus(&server, Method::DELETE, &doomed, &admin)).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        raw(tus(&server, Method::HEAD, &doomed, &admin)).await.status,
        StatusCode::NOT_FOUND
    );
    // Clients behind PATCH-less proxies.
    let overridden = create_tus(&server, &admin, 4, "y.jpg").await;
    let via_post = raw(tus(&server, Method::POST, &overridden, &admin)
        .header("x-http-method-override", "PATCH")
        .header("upload-offset", 0)
        .header("content-type", "application/offset+octet-stream")
        .body(b"abcd".to_vec()))
    .await;
    assert_eq!(via_post.header("x-immich-asset-status"), "created");
    let listed = server
        .call(Method::GET, "/api/assets/statistics", Some(&admin), None)
        .await;
    assert_eq!(listed.body, json!({"images": 1, "videos": 1, "total": 2}));
    let leftovers: Vec<_> = std::fs::read_dir(server.media.join("upload/.darkroom-resumable"))
        .unwrap()
        .flatten()
        .collect();
    assert!(leftovers.is_empty(), "no partial files remain: {leftovers:?}");
}

#[tokio::test]
async fn tus_refuses_bad_uploads_before_any_byte() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let create = |meta: String, length: &str| {
        raw(tus(&server, Method::POST, "/api/upload/tus", &admin)
            .header("upload-length", length.to_string())
            .header("upload-metadata", meta))
    };
    let no_dates = create(format!("filename {}", b64(b"a.jpg")), "10").await;
    assert_eq!(
        (no_dates.status, no_dates.body["message"].clone()),
        (StatusCode::BAD_REQUEST, json!("Validation failed"))
    );
    let text = create(metadata("notes.txt"), "10").await;
    assert_eq!(text.body["message"], json!("Unsupported file type notes.txt"));
    let garbage = create("filename ***".to_string(), "10").await;
    assert_eq!(garbage.body["message"], json!("Invalid Upload-Metadata header"));
    let empty = create(metadata("a.jpg"), "0").await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    let no_length =
        raw(tus(&server, Method::POST, "/api/upload/tus", &admin).header("upload-metadata", metadata("a.jpg"))).await;
    assert_eq!(no_length.body["message"], json!("Upload-Length is required"));
    let unauthenticated = raw(server
        .request(Method::POST, "/api/upload/tus")
        .header("tus-resumable", "1.0.0"))
    .await;
    assert_eq!(unauthenticated.status, StatusCode::UNAUTHORIZED);

    let body = json!({"email": "q@immich.cloud", "password": "password", "name": "Q", "quotaSizeInBytes": 100});
    server
        .call(Method::POST, "/api/admin/users", Some(&admin), Some(body))
        .await;
    let limited = server.login("q@immich.cloud", "password").await;
    let over = raw(tus(&server, Method::POST, "/api/upload/tus", &limited)
        .header("upload-length", 101)
        .header("upload-metadata", metadata("a.jpg")))
    .await;
    assert_eq!(over.body["message"], json!("Quota has been exceeded!"));
    let mut db = server.db().await;
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM resumable_upload")
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert_eq!(rows, 0, "nothing was opened");
}

#[tokio::test]
async fn expired_uploads_answer_gone_and_are_swept() {
    let mut server = TestServer::start().await;
    let admin = server.admin_token().await;
    let first = create_tus(&server, &admin, 10, "a.jpg").await;
    let second = create_tus(&server, &admin, 10, "b.jpg").await;
    patch(&server, &admin, &first, 0, b"12345").await;
    patch(&server, &admin, &second, 0, b"12345").await;
    let mut db = server.db().await;
    sqlx::query(r#"UPDATE resumable_upload SET "expiresAt" = now() - interval '1 minute'"#)
        .execute(&mut db)
        .await
        .unwrap();
    assert_eq!(
        raw(tus(&server, Method::HEAD, &first, &admin)).await.status,
        StatusCode::GONE
    );
    // The other one goes with the sweep that runs at start-up.
    server.restart().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM resumable_upload")
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert_eq!(rows, 0);
    let files: Vec<_> = std::fs::read_dir(server.media.join("upload/.darkroom-resumable"))
        .unwrap()
        .flatten()
        .collect();
    assert!(files.is_empty(), "{files:?}");
}

fn asset_data(filename: &str) -> String {
    format!(
        r#"filename="{filename}", device-asset-id="rufh", device-id="test", file-created-at="2025-01-02T00:00:00.000Z", file-modified-at="2025-01-01T00:00:00.000Z", is-favorite"#
    )
}

fn digest(bytes: &[u8]) -> String {
    format!("sha=:{}:", b64(&Sha1::digest(bytes)))
}

fn rufh(server: &TestServer, method: Method, path: &str, token: &str, version: u32) -> reqwest::RequestBuilder {
    server
        .request(method, path)
        .bearer_auth(token)
        .header("upload-draft-interop-version", version)
}

#[tokio::test]
async fn ietf_draft_uploads_resume_and_complete_like_post_assets() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let bytes = data(200_000, 7);

    let options = raw(server.request(Method::OPTIONS, "/api/upload")).await;
    assert_eq!(options.header("accept-patch"), "application/partial-upload");

    // Whole file in one request.
    let small = data(1000, 9);
    let whole = raw(rufh(&server, Method::POST, "/api/upload", &admin, 8)
        .header("upload-complete", "?1")
        .header("x-immich-asset-data", asset_data("one.jpg"))
        .header("repr-digest", digest(&small))
        .body(small.clone()))
    .await;
    assert_eq!(
        (whole.status, whole.body["status"].clone()),
        (StatusCode::CREATED, json!("created"))
    );
    assert_eq!(whole.header("upload-complete"), "?1");
    let asset = server
        .call(
            Method::GET,
            &format!("/api/assets/{}", whole.body["id"].as_str().unwrap()),
            Some(&admin),
            None,
        )
        .await
        .body;
    assert_eq!(
        (asset["isFavorite"].clone(), asset["originalFileName"].clone()),
        (json!(true), json!("one.jpg"))
    );

    // In pieces: create with the first part, then PATCH the rest.
    let created = raw(rufh(&server, Method::POST, "/api/upload", &admin, 6)
        .header("upload-complete", "?0")
        .header("upload-length", bytes.len())
        .header("x-immich-asset-data", asset_data("two.jpg"))
        .header("repr-digest", digest(&bytes))
        .body(bytes[..50_000].to_vec()))
    .await;
    assert_eq!(
        (created.status, created.header("upload-offset")),
        (StatusCode::CREATED, "50000".to_string())
    );
    assert_eq!(created.header("upload-complete"), "?0");
    let location = created.header("location");
    assert!(location.starts_with("/api/upload/"), "{location}");

    let head = raw(rufh(&server, Method::HEAD, &location, &admin, 6)).await;
    assert_eq!(
        (head.status, head.header("upload-offset"), head.header("upload-length")),
        (StatusCode::NO_CONTENT, "50000".to_string(), "200000".to_string())
    );
    let wrong_type = raw(rufh(&server, Method::PATCH, &location, &admin, 6)
        .header("upload-offset", 50_000)
        .header("upload-complete", "?0")
        .body(vec![1]))
    .await;
    assert_eq!(
        wrong_type.status,
        StatusCode::BAD_REQUEST,
        "drafts from 6 on need application/partial-upload"
    );
    let mismatch = raw(rufh(&server, Method::PATCH, &location, &admin, 6)
        .header("upload-offset", 10)
        .header("upload-complete", "?0")
        .header("content-type", "application/partial-upload")
        .body(vec![1]))
    .await;
    assert_eq!(mismatch.status, StatusCode::CONFLICT);
    assert_eq!(
        (
            mismatch.body["expected-offset"].clone(),
            mismatch.header("upload-offset")
        ),
        (json!(50_000), "50000".to_string())
    );
    let middle = raw(rufh(&server, Method::PATCH, &location, &admin, 6)
        .header("upload-offset", 50_000)
        .header("upload-complete", "?0")
        .header("content-type", "application/partial-upload")
        .body(bytes[50_000..120_000].to_vec()))
    .await;
    assert_eq!(
        (middle.status, middle.header("upload-offset")),
        (StatusCode::NO_CONTENT, "120000".to_string())
    );
    let last = raw(rufh(&server, Method::PATCH, &location, &admin, 6)
        .header("upload-offset", 120_000)
        .header("upload-complete", "?1")
        .header("content-type", "application/partial-upload")
        .body(bytes[120_000..].to_vec()))
    .await;
    assert_eq!(
        (last.status, last.body["status"].clone()),
        (StatusCode::CREATED, json!("created"))
    );
    let id = last.body["id"].as_str().unwrap().to_string();
    let original = server
        .send(
            server
                .request(Method::GET, &format!("/api/assets/{id}/original"))
                .bearer_auth(&admin),
        )
        .await;
    assert!(original.bytes == bytes);
    let completed = raw(rufh(&server, Method::PATCH, &location, &admin, 6)
        .header("upload-offset", 200_000)
        .header("upload-complete", "?1")
        .header("content-type", "application/partial-upload"))
    .await;
    assert_eq!(
        completed.body["type"],
        json!("https://iana.org/assignments/http-problem-types#completed-upload")
    );

    // Known bytes are answered from the digest alone, like x-immich-checksum.
    let duplicate = raw(rufh(&server, Method::POST, "/api/upload", &admin, 8)
        .header("upload-complete", "?1")
        .header("x-immich-asset-data", asset_data("again.jpg"))
        .header("repr-digest", digest(&bytes)))
    .await;
    assert_eq!(
        (duplicate.status, duplicate.body.clone()),
        (StatusCode::OK, json!({"id": id, "status": "duplicate"}))
    );

    // Draft 01 (iOS 17) speaks Upload-Incomplete.
    let ios = raw(rufh(&server, Method::POST, "/api/upload", &admin, 3)
        .header("upload-incomplete", "?1")
        .header("upload-length", 10)
        .header("x-immich-asset-data", asset_data("ios.heic"))
        .header("repr-digest", digest(b"0123456789"))
        .body(b"01234".to_vec()))
    .await;
    assert_eq!(
        (ios.status, ios.header("upload-incomplete")),
        (StatusCode::CREATED, "?1".to_string())
    );

    // A digest that does not match what arrived: the upload is refused and forgotten.
    let lying = raw(rufh(&server, Method::POST, "/api/upload", &admin, 8)
        .header("upload-complete", "?1")
        .header("x-immich-asset-data", asset_data("lie.jpg"))
        .header("repr-digest", digest(b"other bytes"))
        .body(b"these bytes".to_vec()))
    .await;
    assert_eq!(lying.status.as_u16(), 460);

    let missing_data = raw(rufh(&server, Method::POST, "/api/upload", &admin, 8)
        .header("upload-complete", "?1")
        .header("repr-digest", digest(b"x"))
        .body(b"x".to_vec()))
    .await;
    assert_eq!(missing_data.status, StatusCode::BAD_REQUEST);
    let no_digest = raw(rufh(&server, Method::POST, "/api/upload", &admin, 8)
        .header("upload-complete", "?1")
        .header("x-immich-asset-data", asset_data("z.jpg"))
        .body(b"x".to_vec()))
    .await;
    assert_eq!(no_digest.body["message"], json!("Invalid repr-digest header"));
    let old = raw(rufh(&server, Method::HEAD, &location, &admin, 2)).await;
    assert_eq!(old.status, StatusCode::BAD_REQUEST);

    let cancelled = raw(rufh(&server, Method::POST, "/api/upload", &admin, 8)
        .header("upload-complete", "?0")
        .header("x-immich-asset-data", asset_data("cancel.jpg"))
        .header("repr-digest", digest(b"abc"))
        .body(b"a".to_vec()))
    .await;
    let cancel_location = cancelled.header("location");
    assert_eq!(
        raw(server.request(Method::DELETE, &cancel_location).bearer_auth(&admin))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        raw(rufh(&server, Method::HEAD, &cancel_location, &admin, 8))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        server
            .call(Method::GET, "/api/assets/statistics", Some(&admin), None)
            .await
            .body["total"],
        json!(2)
    );
}
