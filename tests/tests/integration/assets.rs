//! Uploading, reading, downloading and deleting assets, and what bad uploads must not leave behind.

use base64::Engine;
use darkroom_tests::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
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

#[tokio::test]
async fn an_upload_is_stored_deduplicated_and_served_back_byte_for_byte() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let bytes = photo("first");

    let created = server
        .upload(
            &admin,
            "IMG_0001.JPG",
            &bytes,
            &[
                ("fileModifiedAt", "2024-05-02T08:30:00.000Z"),
                ("isFavorite", "true"),
                ("deviceAssetId", "ignored"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["status"], json!("created"));
    let id = created.body["id"].as_str().unwrap().to_string();

    let again = server.upload(&admin, "copy.jpg", &bytes, &[]).await;
    assert_eq!(
        (again.status, again.body.clone()),
        (StatusCode::OK, json!({"id": id, "status": "duplicate"}))
    );
    // With the checksum header the server answers before reading the body.
    let early = server
        .send(
            server
                .request(Method::POST, "/api/assets")
                .bearer_auth(&admin)
                .header("x-immich-checksum", sha1_base64(&bytes))
                .body("not even multipart"),
        )
        .await;
    assert_eq!((early.status, early.body["id"].clone()), (StatusCode::OK, json!(id)));
    assert_eq!(asset_rows(&server).await, 1);

    let asset = server
        .call(Method::GET, &format!("/api/assets/{id}"), Some(&admin), None)
        .await;
    assert_eq!(asset.status, StatusCode::OK);
    let body = &asset.body;
    assert_eq!(body["originalFileName"], json!("IMG_0001.JPG"));
    assert_eq!(body["originalMimeType"], json!("image/jpeg"));
    assert_eq!(body["type"], json!("IMAGE"));
    assert_eq!(body["checksum"], json!(sha1_base64(&bytes)));
    assert_eq!(body["isFavorite"], json!(true));
    assert_eq!(body["visibility"], json!("timeline"));
    assert_eq!(body["fileCreatedAt"], json!("2024-05-01T12:00:00.000Z"));
    assert_eq!(body["localDateTime"], json!("2024-05-01T12:00:00.000Z"));
    assert_eq!(body["fileModifiedAt"], json!("2024-05-02T08:30:00.000Z"));
    assert_eq!(body["exifInfo"]["fileSizeInByte"], json!(bytes.len()));
    assert_eq!(body["owner"]["email"], json!(darkroom_tests::ADMIN_EMAIL));

    // On disk: upload/<user>/<xx>/<yy>/<uuid>.JPG (case kept), mtime = fileModifiedAt.
    let files = server.uploaded_files();
    assert_eq!(files.len(), 1, "{files:?}");
    let path = &files[0];
    assert_eq!(body["originalPath"], json!(path.to_str().unwrap()));
    let user_id = me(&server, &admin).await["id"].as_str().unwrap().to_string();
    let relative = path.strip_prefix(server.media.join("upload").join(&user_id)).unwrap();
    let parts: Vec<&str> = relative.iter().map(|p| p.to_str().unwrap()).collect();
    assert_eq!(parts.len(), 3);
    assert!(
        parts[2].starts_with(&format!("{}{}", parts[0], parts[1])) && parts[2].ends_with(".JPG"),
        "{parts:?}"
    );
    let modified = std::fs::metadata(path).unwrap().modified().unwrap();
    assert_eq!(httpdate::fmt_http_date(modified), "Thu, 02 May 2024 08:30:00 GMT");
    assert_eq!(me(&server, &admin).await["quotaUsageInBytes"], json!(bytes.len()));

    let original = server
        .send(
            server
                .request(Method::GET, &format!("/api/assets/{id}/original"))
                .bearer_auth(&admin),
        )
        .await;
    assert_eq!(original.status, StatusCode::OK);
    assert_eq!(original.bytes, bytes);
    let header = |reply: &darkroom_tests::Reply, name: &str| {
        reply
            .headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    };
    assert_eq!(header(&original, "content-type"), "image/jpeg");
    assert_eq!(
        header(&original, "content-disposition"),
        "inline; filename*=UTF-8''IMG_0001.JPG"
    );
    assert_eq!(
        header(&original, "cache-control"),
        "private, max-age=86400, no-transform, stale-while-revalidate=2592000, stale-if-error=2592000"
    );
    assert_eq!(header(&original, "last-modified"), "Thu, 02 May 2024 08:30:00 GMT");
    assert_eq!(header(&original, "accept-ranges"), "bytes");
    let etag = header(&original, "etag");
    assert!(etag.starts_with("W/\""), "{etag}");

    let ranged = server
        .send(
            server
                .request(Method::GET, &format!("/api/assets/{id}/original"))
                .bearer_auth(&admin)
                .header("range", "bytes=10-19"),
        )
        .await;
    assert_eq!(ranged.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(ranged.bytes, bytes[10..20]);
    assert_eq!(header(&ranged, "content-range"), format!("bytes 10-19/{}", bytes.len()));
    let cached = server
        .send(
            server
                .request(Method::GET, &format!("/api/assets/{id}/original"))
                .bearer_auth(&admin)
                .header("if-none-match", &etag),
        )
        .await;
    assert_eq!(cached.status, StatusCode::NOT_MODIFIED);
    let beyond = server
        .send(
            server
                .request(Method::GET, &format!("/api/assets/{id}/original"))
                .bearer_auth(&admin)
                .header("range", "bytes=999999-"),
        )
        .await;
    assert_eq!(beyond.status, StatusCode::RANGE_NOT_SATISFIABLE);
}

#[tokio::test]
async fn other_users_cannot_touch_my_assets() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let other = server.user_token(&admin, "other@immich.cloud").await;
    let id = server.upload(&admin, "mine.png", &photo("mine"), &[]).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();

    let read = server
        .call(Method::GET, &format!("/api/assets/{id}"), Some(&other), None)
        .await;
    assert_eq!(
        (read.status, read.message()),
        (StatusCode::BAD_REQUEST, "Not found or no asset.read access")
    );
    let download = server
        .call(Method::GET, &format!("/api/assets/{id}/original"), Some(&other), None)
        .await;
    assert_eq!(
        (download.status, download.message()),
        (StatusCode::NOT_FOUND, "Not Found")
    );
    let delete = server
        .call(Method::DELETE, "/api/assets", Some(&other), Some(json!({"ids": [id]})))
        .await;
    assert_eq!(
        (delete.status, delete.message()),
        (StatusCode::BAD_REQUEST, "Not found or no asset.delete access")
    );
    let restore = server
        .call(
            Method::POST,
            "/api/trash/restore/assets",
            Some(&other),
            Some(json!({"ids": [id]})),
        )
        .await;
    assert_eq!(restore.message(), "Not found or no asset.delete access");
    let unknown = server
        .call(
            Method::GET,
            &format!("/api/assets/{}", uuid::Uuid::new_v4()),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(unknown.message(), "Not found or no asset.read access");
    let bad_id = server
        .call(Method::GET, "/api/assets/not-a-uuid", Some(&admin), None)
        .await;
    assert_eq!(
        (bad_id.status, bad_id.message()),
        (StatusCode::BAD_REQUEST, "Validation failed")
    );
    // The same bytes are a new asset for another user.
    let theirs = server.upload(&other, "mine.png", &photo("mine"), &[]).await;
    assert_eq!(theirs.status, StatusCode::CREATED);
    assert_eq!(
        server
            .call(Method::GET, &format!("/api/assets/{id}"), Some(&admin), None)
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn trash_restore_and_permanent_delete() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let first = photo("one");
    let second = photo("two");
    let a = server.upload(&admin, "a.jpg", &first, &[]).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let b = server
        .upload(&admin, "b.mp4", &second, &[("duration", "1500")])
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let video = server
        .call(Method::GET, &format!("/api/assets/{b}"), Some(&admin), None)
        .await;
    assert_eq!(
        (video.body["type"].clone(), video.body["duration"].clone()),
        (json!("VIDEO"), json!(1500))
    );

    let trashed = server
        .call(Method::DELETE, "/api/assets", Some(&admin), Some(json!({"ids": [a]})))
        .await;
    assert_eq!(trashed.status, StatusCode::NO_CONTENT);
    assert_eq!(
        server
            .call(Method::GET, &format!("/api/assets/{a}"), Some(&admin), None)
            .await
            .body["isTrashed"],
        json!(true)
    );
    let check = server
        .call(
            Method::POST,
            "/api/assets/bulk-upload-check",
            Some(&admin),
            Some(json!({"assets": [
                {"id": "x", "checksum": sha1_base64(&first)},
                {"id": "y", "checksum": hex(&Sha1::digest(&second))},
                {"id": "z", "checksum": sha1_base64(b"new")},
                {"id": "w", "checksum": "garbage"},
            ]})),
        )
        .await;
    assert_eq!(
        check.body["results"],
        json!([
            {"id": "x", "action": "reject", "reason": "duplicate", "assetId": a, "isTrashed": true},
            {"id": "y", "action": "reject", "reason": "duplicate", "assetId": b, "isTrashed": false},
            {"id": "z", "action": "accept"},
            {"id": "w", "action": "accept"},
        ])
    );
    let restored = server
        .call(
            Method::POST,
            "/api/trash/restore/assets",
            Some(&admin),
            Some(json!({"ids": [a]})),
        )
        .await;
    assert_eq!(restored.body, json!({"count": 1}));
    assert_eq!(
        server
            .call(Method::GET, &format!("/api/assets/{a}"), Some(&admin), None)
            .await
            .body["isTrashed"],
        json!(false)
    );

    server
        .call(
            Method::DELETE,
            "/api/assets",
            Some(&admin),
            Some(json!({"ids": [a, b]})),
        )
        .await;
    assert_eq!(
        server
            .call(Method::POST, "/api/trash/restore", Some(&admin), None)
            .await
            .body,
        json!({"count": 2})
    );
    server
        .call(Method::DELETE, "/api/assets", Some(&admin), Some(json!({"ids": [a]})))
        .await;
    let emptied = server.call(Method::POST, "/api/trash/empty", Some(&admin), None).await;
    assert_eq!(emptied.body, json!({"count": 1}));
    assert_eq!(
        server
            .call(Method::GET, &format!("/api/assets/{a}"), Some(&admin), None)
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(server.uploaded_files().len(), 1, "the emptied asset's file is gone");
    assert_eq!(me(&server, &admin).await["quotaUsageInBytes"], json!(second.len()));

    let forced = server
        .call(
            Method::DELETE,
            "/api/assets",
            Some(&admin),
            Some(json!({"ids": [b], "force": true})),
        )
        .await;
    assert_eq!(forced.status, StatusCode::NO_CONTENT);
    assert_eq!(asset_rows(&server).await, 0);
    assert!(server.uploaded_files().is_empty());
    assert_eq!(me(&server, &admin).await["quotaUsageInBytes"], json!(0));
    let mut db = server.db().await;
    let audited: i64 = sqlx::query_scalar("SELECT count(*) FROM asset_audit")
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert_eq!(audited, 2, "deletions are recorded for mobile sync");
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn quotas_are_exact() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let body = json!({"email": "q@immich.cloud", "password": "password", "name": "Q", "quotaSizeInBytes": 3000});
    server
        .call(Method::POST, "/api/admin/users", Some(&admin), Some(body))
        .await;
    let user = server.login("q@immich.cloud", "password").await;
    let fits = photo("fits"); // 2,068 bytes
    assert_eq!(
        server.upload(&user, "a.jpg", &fits, &[]).await.status,
        StatusCode::CREATED
    );
    let over = server.upload(&user, "b.jpg", &photo("over"), &[]).await;
    assert_eq!(
        (over.status, over.message()),
        (StatusCode::BAD_REQUEST, "Quota has been exceeded!")
    );
    assert_eq!(server.uploaded_files().len(), 1, "the refused file is not kept");
    assert_eq!(me(&server, &user).await["quotaUsageInBytes"], json!(fits.len()));
}

#[tokio::test]
async fn sidecars_metadata_and_live_photos() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let other = server.user_token(&admin, "other@immich.cloud").await;
    let video = server.upload(&admin, "IMG_0002.MOV", &photo("motion"), &[]).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let theirs = server.upload(&other, "v.mp4", &photo("theirs"), &[]).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let still = server
        .upload(&admin, "still.jpg", &photo("not a video"), &[])
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();

    let not_video = server
        .upload(
            &admin,
            "IMG_0002.HEIC",
            &photo("still"),
            &[("livePhotoVideoId", &still)],
        )
        .await;
    assert_eq!(not_video.message(), "Live photo video must be a video");
    let foreign = server
        .upload(
            &admin,
            "IMG_0002.HEIC",
            &photo("still"),
            &[("livePhotoVideoId", &theirs)],
        )
        .await;
    assert_eq!(foreign.message(), "Live photo video does not belong to the user");
    let missing = server
        .upload(
            &admin,
            "IMG_0002.HEIC",
            &photo("still"),
            &[("livePhotoVideoId", &uuid::Uuid::new_v4().to_string())],
        )
        .await;
    assert_eq!(missing.message(), "Live photo video not found");

    let metadata = r#"[{"key": "mobile-app", "value": {"cloudId": "abc"}}]"#;
    let form = reqwest::multipart::Form::new()
        .text("fileCreatedAt", "2024-05-01T12:00:00.000Z")
        .text("fileModifiedAt", "2024-05-01T12:00:00.000Z")
        .text("livePhotoVideoId", video.clone())
        .text("metadata", metadata)
        .part(
            "assetData",
            reqwest::multipart::Part::bytes(photo("still")).file_name("IMG_0002.HEIC"),
        )
        .part(
            "sidecarData",
            reqwest::multipart::Part::bytes(b"<x:xmpmeta/>".to_vec()).file_name("IMG_0002.xmp"),
        );
    let created = server
        .send(
            server
                .request(Method::POST, "/api/assets")
                .bearer_auth(&admin)
                .multipart(form),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_str().unwrap();
    let asset = server
        .call(Method::GET, &format!("/api/assets/{id}"), Some(&admin), None)
        .await
        .body;
    assert_eq!(asset["livePhotoVideoId"], json!(video));
    let motion = server
        .call(Method::GET, &format!("/api/assets/{video}"), Some(&admin), None)
        .await
        .body;
    assert_eq!(motion["visibility"], json!("hidden"));

    let mut db = server.db().await;
    let sidecar: String =
        sqlx::query_scalar(r#"SELECT path FROM asset_file WHERE "assetId" = $1::uuid AND type = 'sidecar'"#)
            .bind(id)
            .fetch_one(&mut db)
            .await
            .unwrap();
    assert!(sidecar.ends_with(".xmp"));
    assert_eq!(std::fs::read(&sidecar).unwrap(), b"<x:xmpmeta/>");
    let value: Value =
        sqlx::query_scalar(r#"SELECT value FROM asset_metadata WHERE "assetId" = $1::uuid AND key = 'mobile-app'"#)
            .bind(id)
            .fetch_one(&mut db)
            .await
            .unwrap();
    assert_eq!(value, json!({"cloudId": "abc"}));
}

/// Every refused upload: a 4xx in Immich's shape, and neither a file nor a row left behind.
#[tokio::test]
async fn bad_uploads_leave_nothing_behind() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let other = server.user_token(&admin, "other@immich.cloud").await;
    let foreign_video = server.upload(&other, "v.mp4", &photo("v"), &[]).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let files_before = server.uploaded_files();
    let rows_before = asset_rows(&server).await;
    let good = photo("good");

    let cases: Vec<(&str, darkroom_tests::Reply, &str)> = vec![
        (
            "empty file",
            server.upload(&admin, "a.jpg", b"", &[]).await,
            "Field(s) assetData should not be empty",
        ),
        (
            "unsupported type",
            server.upload(&admin, "notes.txt", &good, &[]).await,
            "Unsupported file type notes.txt",
        ),
        (
            "no extension",
            server.upload(&admin, "README", &good, &[]).await,
            "Unsupported file type README",
        ),
        (
            "bad date",
            server
                .upload(&admin, "a.jpg", &good, &[("fileCreatedAt", "yesterday")])
                .await,
            "Validation failed",
        ),
        (
            "date without zone",
            server
                .upload(&admin, "a.jpg", &good, &[("fileModifiedAt", "2024-05-01T12:00:00")])
                .await,
            "Validation failed",
        ),
        (
            "bad duration",
            server
                .upload(&admin, "a.mp4", &good, &[("duration", "0:00:05.000")])
                .await,
            "Validation failed",
        ),
        (
            "bad favourite",
            server.upload(&admin, "a.jpg", &good, &[("isFavorite", "yes")]).await,
            "Validation failed",
        ),
        (
            "bad visibility",
            server.upload(&admin, "a.jpg", &good, &[("visibility", "public")]).await,
            "Validation failed",
        ),
        (
            "bad live id",
            server
                .upload(&admin, "a.jpg", &good, &[("livePhotoVideoId", "123")])
                .await,
            "Validation failed",
        ),
        (
            "bad metadata",
            server.upload(&admin, "a.jpg", &good, &[("metadata", "{nope")]).await,
            "Validation failed",
        ),
        (
            "foreign live video",
            server
                .upload(&admin, "a.jpg", &good, &[("livePhotoVideoId", &foreign_video)])
                .await,
            "Live photo video does not belong to the user",
        ),
        (
            "NUL in name",
            server.upload(&admin, "a.jpg", &good, &[("filename", "a\0b.jpg")]).await,
            "Invalid file name a\\0b.jpg",
        ),
    ];
    for (case, reply, message) in &cases {
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{case}: {}", reply.body);
        assert_eq!(reply.message(), *message, "{case}");
    }
    let missing_dates = server
        .send(
            server
                .request(Method::POST, "/api/assets")
                .bearer_auth(&admin)
                .multipart(reqwest::multipart::Form::new().part(
                    "assetData",
                    reqwest::multipart::Part::bytes(good.clone()).file_name("a.jpg"),
                )),
        )
        .await;
    let paths: Vec<Value> = missing_dates.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].clone())
        .collect();
    assert_eq!(paths, vec![json!(["fileCreatedAt"]), json!(["fileModifiedAt"])]);

    let no_file = server
        .send(
            server
                .request(Method::POST, "/api/assets")
                .bearer_auth(&admin)
                .multipart(
                    reqwest::multipart::Form::new()
                        .text("fileCreatedAt", "2024-05-01T12:00:00Z")
                        .text("fileModifiedAt", "2024-05-01T12:00:00Z"),
                ),
        )
        .await;
    assert_eq!(no_file.message(), "File is required");
    let unexpected = server
        .send(
            server
                .request(Method::POST, "/api/assets")
                .bearer_auth(&admin)
                .multipart(
                    reqwest::multipart::Form::new()
                        .text("fileCreatedAt", "2024-05-01T12:00:00Z")
                        .text("fileModifiedAt", "2024-05-01T12:00:00Z")
                        .part(
                            "assetData",
                            reqwest::multipart::Part::bytes(good.clone()).file_name("a.jpg"),
                        )
                        .part(
                            "other",
                            reqwest::multipart::Part::bytes(good.clone()).file_name("b.jpg"),
                        ),
                ),
        )
        .await;
    assert_eq!(unexpected.message(), "Unexpected field");
    let json_body = server
        .call(
            Method::POST,
            "/api/assets",
            Some(&admin),
            Some(json!({"fileCreatedAt": "x"})),
        )
        .await;
    assert_eq!(
        (json_body.status, json_body.message()),
        (StatusCode::BAD_REQUEST, "Validation failed")
    );
    let bad_sidecar = server
        .send(
            server
                .request(Method::POST, "/api/assets")
                .bearer_auth(&admin)
                .multipart(
                    reqwest::multipart::Form::new()
                        .text("fileCreatedAt", "2024-05-01T12:00:00Z")
                        .text("fileModifiedAt", "2024-05-01T12:00:00Z")
                        .part(
                            "assetData",
                            reqwest::multipart::Part::bytes(good.clone()).file_name("a.jpg"),
                        )
                        .part(
                            "sidecarData",
                            reqwest::multipart::Part::bytes(b"x".to_vec()).file_name("a.txt"),
                        ),
                ),
        )
        .await;
    assert_eq!(bad_sidecar.message(), "Unsupported file type a.txt");

    // A body cut off in the middle of the file.
    let boundary = "darkroom-boundary";
    let truncated = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"fileCreatedAt\"\r\n\r\n2024-05-01T12:00:00Z\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"fileModifiedAt\"\r\n\r\n2024-05-01T12:00:00Z\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"assetData\"; filename=\"cut.jpg\"\r\n\r\nhalf of a fi"
    );
    let cut = server
        .send(
            server
                .request(Method::POST, "/api/assets")
                .bearer_auth(&admin)
                .header("content-type", format!("multipart/form-data; boundary={boundary}"))
                .body(truncated),
        )
        .await;
    assert_eq!(cut.status, StatusCode::BAD_REQUEST, "{}", cut.body);

    assert_eq!(server.uploaded_files(), files_before, "no refused upload left a file");
    assert_eq!(asset_rows(&server).await, rows_before, "no refused upload left a row");

    // Path tricks only ever name the asset; the file lands under the server's own name.
    let tricky = server
        .upload(&admin, "x.jpg", &good, &[("filename", "../../../etc/evil.jpg")])
        .await;
    assert_eq!(tricky.status, StatusCode::CREATED, "{}", tricky.body);
    let id = tricky.body["id"].as_str().unwrap();
    let asset = server
        .call(Method::GET, &format!("/api/assets/{id}"), Some(&admin), None)
        .await
        .body;
    assert_eq!(asset["originalFileName"], json!("evil.jpg"));
    assert!(
        asset["originalPath"]
            .as_str()
            .unwrap()
            .starts_with(server.media.join("upload").to_str().unwrap())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_uploads_of_the_same_bytes_make_one_asset() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let bytes = photo("race");
    let uploads = (0..6).map(|_| server.upload(&admin, "race.jpg", &bytes, &[]));
    let replies = futures::future::join_all(uploads).await;
    let statuses: Vec<StatusCode> = replies.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::CREATED).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        5,
        "{statuses:?}"
    );
    let ids: std::collections::HashSet<&Value> = replies.iter().map(|r| &r.body["id"]).collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(asset_rows(&server).await, 1);
    assert_eq!(server.uploaded_files().len(), 1);
    assert_eq!(me(&server, &admin).await["quotaUsageInBytes"], json!(bytes.len()));
}

#[tokio::test]
async fn owners_edit_assets_one_at_a_time_and_in_bulk() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let other = server.user_token(&admin, "other@immich.cloud").await;
    let a = server.upload(&admin, "a.jpg", &photo("edit-a"), &[]).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let b = server.upload(&admin, "b.jpg", &photo("edit-b"), &[]).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let video = server.upload(&admin, "b.mov", &photo("edit-video"), &[]).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();

    let edit = json!({
        "isFavorite": true, "visibility": "archive", "description": "At the beach",
        "dateTimeOriginal": "2023-11-19T18:11:00.000-07:00", "latitude": 48.85, "longitude": 2.35, "rating": -1,
    });
    let updated = server
        .call(Method::PUT, &format!("/api/assets/{a}"), Some(&admin), Some(edit))
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    let body = &updated.body;
    assert_eq!(
        (
            body["isFavorite"].clone(),
            body["isArchived"].clone(),
            body["visibility"].clone()
        ),
        (json!(true), json!(true), json!("archive"))
    );
    assert_eq!(body["exifInfo"]["dateTimeOriginal"], json!("2023-11-20T01:11:00+00:00"));
    assert_eq!(body["exifInfo"]["timeZone"], json!("UTC-7"));
    assert_eq!(
        (body["exifInfo"]["latitude"].clone(), body["exifInfo"]["rating"].clone()),
        (json!(48.85), json!(-1))
    );
    assert_eq!(body["exifInfo"]["description"], json!("At the beach"));
    assert!(
        body.get("owner").is_none() && body.get("stack").is_none(),
        "update answers without relations"
    );
    let mut db = server.db().await;
    let locked: Vec<String> = sqlx::query_scalar(
        r#"SELECT unnest("lockedProperties") FROM asset_exif WHERE "assetId" = $1::uuid ORDER BY 1"#,
    )
    .bind(&a)
    .fetch_all(&mut db)
    .await
    .unwrap();
    assert_eq!(
        locked,
        [
            "dateTimeOriginal",
            "description",
            "latitude",
            "longitude",
            "rating",
            "timeZone"
        ]
    );

    // PATCH is the same route; an empty body changes nothing.
    let unchanged = server
        .call(
            Method::PATCH,
            &format!("/api/assets/{a}"),
            Some(&admin),
            Some(json!({})),
        )
        .await;
    assert_eq!(unchanged.body["exifInfo"]["description"], json!("At the beach"));

    let link = server
        .call(
            Method::PUT,
            &format!("/api/assets/{b}"),
            Some(&admin),
            Some(json!({"livePhotoVideoId": video})),
        )
        .await;
    assert_eq!(link.body["livePhotoVideoId"], json!(video));
    assert_eq!(
        server
            .call(Method::GET, &format!("/api/assets/{video}"), Some(&admin), None)
            .await
            .body["visibility"],
        json!("hidden")
    );
    let unlink = server
        .call(
            Method::PUT,
            &format!("/api/assets/{b}"),
            Some(&admin),
            Some(json!({"livePhotoVideoId": null})),
        )
        .await;
    assert_eq!(unlink.body["livePhotoVideoId"], json!(null));
    assert_eq!(
        server
            .call(Method::GET, &format!("/api/assets/{video}"), Some(&admin), None)
            .await
            .body["visibility"],
        json!("timeline")
    );

    let bad = [
        (
            json!({"rating": 0}),
            "Rating must be -1 (rejected), 1–5 (starred), or null (unrated); 0 is not valid",
        ),
        (json!({"rating": 6}), "Too big: expected number to be <=5"),
        (
            json!({"latitude": 91, "longitude": 0}),
            "Too big: expected number to be <=90",
        ),
        (
            json!({"latitude": 10}),
            "Latitude and longitude must be provided together",
        ),
        (
            json!({"dateTimeOriginal": "soon"}),
            "Invalid input: expected ISO 8601 datetime string, received string",
        ),
        (
            json!({"isFavorite": "true"}),
            "Invalid input: expected boolean, received string",
        ),
    ];
    for (body, message) in bad {
        let reply = server
            .call(
                Method::PUT,
                &format!("/api/assets/{a}"),
                Some(&admin),
                Some(body.clone()),
            )
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(reply.body["errors"][0]["message"], json!(message), "{body}");
    }
    let foreign = server
        .call(
            Method::PUT,
            &format!("/api/assets/{a}"),
            Some(&other),
            Some(json!({"isFavorite": false})),
        )
        .await;
    assert_eq!(foreign.message(), "Not found or no asset.update access");

    // Bulk: shift dates by −1 day −1 minute, set the zone, unfavourite.
    let bulk = json!({"ids": [a, b], "dateTimeRelative": -1441, "timeZone": "Europe/Paris", "isFavorite": false});
    let reply = server.call(Method::PUT, "/api/assets", Some(&admin), Some(bulk)).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    let shifted = server
        .call(Method::GET, &format!("/api/assets/{a}"), Some(&admin), None)
        .await
        .body;
    assert_eq!(
        shifted["exifInfo"]["dateTimeOriginal"],
        json!("2023-11-19T01:10:00+00:00")
    );
    assert_eq!(
        (shifted["exifInfo"]["timeZone"].clone(), shifted["isFavorite"].clone()),
        (json!("Europe/Paris"), json!(false))
    );
    let both = server
        .call(
            Method::PUT,
            "/api/assets",
            Some(&admin),
            Some(json!({"ids": [a], "dateTimeRelative": 5, "dateTimeOriginal": "2023-01-01T00:00:00Z"})),
        )
        .await;
    assert_eq!(
        both.body["errors"][0]["message"],
        json!("dateTimeRelative cannot exist alongside dateTimeOriginal")
    );
    let foreign_bulk = server
        .call(
            Method::PATCH,
            "/api/assets",
            Some(&other),
            Some(json!({"ids": [a], "isFavorite": true})),
        )
        .await;
    assert_eq!(foreign_bulk.message(), "Not found or no asset.update access");
}

#[tokio::test]
async fn asset_metadata_is_kept_per_key() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let other = server.user_token(&admin, "other@immich.cloud").await;
    let id = server.upload(&admin, "a.jpg", &photo("meta"), &[]).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/api/assets/{id}/metadata");

    let put = server
        .call(
            Method::PUT,
            &path,
            Some(&admin),
            Some(json!({"items": [{"key": "mobile-app", "value": {"iCloudId": "x"}}, {"key": "note", "value": {}}]})),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    assert_eq!(
        put.body
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["key"].clone())
            .collect::<Vec<_>>(),
        [json!("mobile-app"), json!("note")]
    );
    let one = server
        .call(Method::GET, &format!("{path}/mobile-app"), Some(&admin), None)
        .await;
    assert_eq!(one.body["value"], json!({"iCloudId": "x"}));
    let missing = server
        .call(Method::GET, &format!("{path}/nope"), Some(&admin), None)
        .await;
    assert_eq!(
        missing.message(),
        format!(r#"Metadata with key "nope" not found for asset with id "{id}""#)
    );
    let twice = server
        .call(
            Method::PUT,
            &path,
            Some(&admin),
            Some(json!({"items": [{"key": "k", "value": {}}, {"key": "k", "value": {}}]})),
        )
        .await;
    assert_eq!(twice.message(), r#"Duplicate items are not allowed: "k""#);
    let not_object = server
        .call(
            Method::PUT,
            &path,
            Some(&admin),
            Some(json!({"items": [{"key": "k", "value": 5}]})),
        )
        .await;
    assert_eq!(not_object.message(), "Validation failed");
    assert_eq!(
        server.call(Method::GET, &path, Some(&other), None).await.message(),
        "Not found or no asset.read access"
    );

    let bulk = server
        .call(
            Method::PUT,
            "/api/assets/metadata",
            Some(&admin),
            Some(json!({"items": [{"assetId": id, "key": "note", "value": {"text": "hi"}}]})),
        )
        .await;
    assert_eq!(
        (bulk.body[0]["assetId"].clone(), bulk.body[0]["value"].clone()),
        (json!(id), json!({"text": "hi"}))
    );
    let foreign = server
        .call(
            Method::PUT,
            "/api/assets/metadata",
            Some(&other),
            Some(json!({"items": [{"assetId": id, "key": "x", "value": {}}]})),
        )
        .await;
    assert_eq!(foreign.message(), "Not found or no asset.update access");
    assert_eq!(
        server
            .call(Method::DELETE, &format!("{path}/note"), Some(&admin), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let deleted = server
        .call(
            Method::DELETE,
            "/api/assets/metadata",
            Some(&admin),
            Some(json!({"items": [{"assetId": id, "key": "mobile-app"}]})),
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(
        server.call(Method::GET, &path, Some(&admin), None).await.body,
        json!([])
    );
    let mut db = server.db().await;
    let audited: i64 = sqlx::query_scalar("SELECT count(*) FROM asset_metadata_audit")
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert_eq!(audited, 2);
}

#[tokio::test]
async fn copy_moves_albums_favourite_and_sidecar_to_the_new_asset() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let form = reqwest::multipart::Form::new()
        .text("fileCreatedAt", "2024-05-01T12:00:00.000Z")
        .text("fileModifiedAt", "2024-05-01T12:00:00.000Z")
        .text("isFavorite", "true")
        .part(
            "assetData",
            reqwest::multipart::Part::bytes(photo("source")).file_name("source.jpg"),
        )
        .part(
            "sidecarData",
            reqwest::multipart::Part::bytes(b"<xmp/>".to_vec()).file_name("source.xmp"),
        );
    let source = server
        .send(
            server
                .request(Method::POST, "/api/assets")
                .bearer_auth(&admin)
                .multipart(form),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let target = server.upload(&admin, "edited.jpg", &photo("edited"), &[]).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let album = server
        .call(
            Method::POST,
            "/api/albums",
            Some(&admin),
            Some(json!({"albumName": "A", "assetIds": [source]})),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();

    let same = server
        .call(
            Method::PUT,
            "/api/assets/copy",
            Some(&admin),
            Some(json!({"sourceId": source, "targetId": source})),
        )
        .await;
    assert_eq!(same.message(), "Source and target id must be distinct");
    let copied = server
        .call(
            Method::PUT,
            "/api/assets/copy",
            Some(&admin),
            Some(json!({"sourceId": source, "targetId": target})),
        )
        .await;
    assert_eq!(copied.status, StatusCode::NO_CONTENT, "{}", copied.body);
    assert_eq!(
        server
            .call(Method::GET, &format!("/api/assets/{target}"), Some(&admin), None)
            .await
            .body["isFavorite"],
        json!(true)
    );
    assert_eq!(
        server
            .call(Method::GET, &format!("/api/albums/{album}"), Some(&admin), None)
            .await
            .body["assetCount"],
        json!(2)
    );
    let mut db = server.db().await;
    let sidecar: String =
        sqlx::query_scalar(r#"SELECT path FROM asset_file WHERE "assetId" = $1::uuid AND type = 'sidecar'"#)
            .bind(&target)
            .fetch_one(&mut db)
            .await
            .unwrap();
    assert_eq!(std::fs::read(&sidecar).unwrap(), b"<xmp/>");
    let other = server.user_token(&admin, "other@immich.cloud").await;
    let foreign = server
        .call(
            Method::PUT,
            "/api/assets/copy",
            Some(&other),
            Some(json!({"sourceId": source, "targetId": target})),
        )
        .await;
    assert_eq!(foreign.message(), "Not found or no asset.copy access");
}

#[tokio::test]
async fn downloads_are_split_into_archives_and_streamed_as_zips() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let other = server.user_token(&admin, "other@immich.cloud").await;
    let a = photo("zip-a");
    let b = photo("zip-b");
    let video = photo("zip-video");
    let video_id = server.upload(&admin, "clip.mov", &video, &[]).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let a_id = server
        .upload(&admin, "same.jpg", &a, &[("livePhotoVideoId", &video_id)])
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let b_id = server.upload(&admin, "same.jpg", &b, &[]).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();

    let info = server
        .call(
            Method::POST,
            "/api/download/info",
            Some(&admin),
            Some(json!({"assetIds": [a_id, b_id], "archiveSize": 3000})),
        )
        .await;
    assert_eq!(info.status, StatusCode::CREATED);
    let archives = info.body["archives"].as_array().unwrap();
    assert_eq!(info.body["totalSize"], json!(a.len() + b.len() + video.len()));
    assert_eq!(
        archives.len(),
        2,
        "each archive closes once it passes 3,000 bytes: {}",
        info.body
    );
    assert!(
        archives
            .iter()
            .flat_map(|a| a["assetIds"].as_array().unwrap())
            .any(|id| *id == json!(video_id)),
        "the live photo's video comes along"
    );
    let mine = server
        .call(
            Method::POST,
            "/api/download/info",
            Some(&admin),
            Some(json!({"userId": server.call(Method::GET, "/api/users/me", Some(&admin), None).await.body["id"]})),
        )
        .await;
    let timeline = mine.body["archives"][0]["assetIds"].as_array().unwrap();
    assert_eq!(
        timeline.len(),
        3,
        "the two photos, and the hidden video once, as the live photo's motion"
    );
    assert_eq!(timeline.iter().filter(|id| **id == json!(video_id)).count(), 1);
    assert_eq!(
        server
            .call(Method::POST, "/api/download/info", Some(&admin), Some(json!({})))
            .await
            .message(),
        "assetIds, albumId, or userId is required"
    );
    let foreign = server
        .call(
            Method::POST,
            "/api/download/info",
            Some(&other),
            Some(json!({"assetIds": [a_id]})),
        )
        .await;
    assert_eq!(foreign.message(), "Not found or no asset.download access");

    let zip = server
        .send(
            server
                .request(Method::POST, "/api/download/archive")
                .bearer_auth(&admin)
                .json(&json!({"assetIds": [a_id, b_id, video_id]})),
        )
        .await;
    assert_eq!(zip.status, StatusCode::OK);
    assert_eq!(zip.headers["content-type"], "application/octet-stream");
    let dir = std::env::temp_dir().join(format!("darkroom-zip-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("download.zip"), &zip.bytes).unwrap();
    let check = std::process::Command::new("python3")
        .arg("-c")
        .arg("import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; print('\\n'.join(i.filename + ' ' + str(i.file_size) for i in z.infolist()))")
        .arg(dir.join("download.zip"))
        .output()
        .unwrap();
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stderr));
    let listing = String::from_utf8_lossy(&check.stdout).to_string();
    assert_eq!(
        listing.trim(),
        format!("same.jpg {}\nsame+1.jpg {}\nclip.mov {}", a.len(), b.len(), video.len())
    );
    let extract = std::process::Command::new("python3")
        .arg("-c")
        .arg("import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])")
        .arg(dir.join("download.zip"))
        .arg(&dir)
        .status()
        .unwrap();
    assert!(extract.success());
    assert_eq!(std::fs::read(dir.join("same+1.jpg")).unwrap(), b);
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn folders_list_where_the_timeline_lives() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let id = server.upload(&admin, "a.jpg", &photo("folder"), &[]).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    server
        .upload(&admin, "b.jpg", &photo("archived"), &[("visibility", "archive")])
        .await;
    let paths = server
        .call(Method::GET, "/api/view/folder/unique-paths", Some(&admin), None)
        .await
        .body;
    let asset = server
        .call(Method::GET, &format!("/api/assets/{id}"), Some(&admin), None)
        .await
        .body;
    let original = asset["originalPath"].as_str().unwrap();
    let folder = &original[..original.rfind('/').unwrap()];
    assert_eq!(paths, json!([folder]));
    let listed = server
        .call(
            Method::GET,
            &format!("/api/view/folder?path={folder}"),
            Some(&admin),
            None,
        )
        .await
        .body;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["id"], json!(id));
    let other = server.user_token(&admin, "other@immich.cloud").await;
    assert_eq!(
        server
            .call(Method::GET, "/api/view/folder/unique-paths", Some(&other), None)
            .await
            .body,
        json!([])
    );
}

#[tokio::test]
async fn a_client_hanging_up_mid_upload_leaves_nothing() {
    use tokio::io::AsyncWriteExt;
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let boundary = "cut-here";
    let head = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"fileCreatedAt\"\r\n\r\n2024-05-01T12:00:00Z\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"fileModifiedAt\"\r\n\r\n2024-05-01T12:00:00Z\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"assetData\"; filename=\"big.mp4\"\r\n\r\n"
    );
    let address = server.url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let request = format!(
        "POST /api/assets HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {admin}\r\n\
         Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: 50000000\r\n\r\n{head}"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    stream.write_all(&vec![7u8; 2_000_000]).await.unwrap();
    stream.flush().await.unwrap();
    // Wait until the bytes reached the incoming folder, then hang up.
    let incoming = server.media.join("upload/.darkroom-incoming");
    for _ in 0..100 {
        if std::fs::read_dir(&incoming).map(|d| d.count()).unwrap_or(0) > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    drop(stream);
    let mut left = usize::MAX;
    for _ in 0..100 {
        left = server.uploaded_files().len();
        if left == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(left, 0, "the half-received file is removed");
    assert_eq!(asset_rows(&server).await, 0);
    assert_eq!(
        server.upload(&admin, "after.jpg", &photo("after"), &[]).await.status,
        StatusCode::CREATED,
        "the server carries on"
    );
}

/// The media volume runs full mid-upload: a 4xx, the partial file gone, and room for the next.
/// Needs root to mount a small tmpfs over the test's media folder (the CI machine is root).
#[tokio::test]
async fn a_full_disk_refuses_the_upload_cleanly() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let media = server.media.to_str().unwrap().to_string();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs", &media])
        .status()
        .expect("run mount");
    assert!(
        mounted.success(),
        "this test mounts a 1 MiB tmpfs and needs root (or CAP_SYS_ADMIN)"
    );
    let unmount = scopeguard(media.clone());

    let too_big = server.upload(&admin, "big.jpg", &vec![1u8; 3 * 1024 * 1024], &[]).await;
    assert_eq!(too_big.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", too_big.body);
    assert_eq!(too_big.message(), "Not enough free space on the server");
    assert!(server.uploaded_files().is_empty(), "{:?}", server.uploaded_files());
    assert_eq!(asset_rows(&server).await, 0);
    let small = server.upload(&admin, "small.jpg", &photo("fits"), &[]).await;
    assert_eq!(small.status, StatusCode::CREATED);
    drop(unmount);
}

/// Unmounts the tmpfs when the test ends, however it ends.
fn scopeguard(path: String) -> impl Drop {
    struct Unmount(String);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg("-l").arg(&self.0).status();
        }
    }
    Unmount(path)
}
