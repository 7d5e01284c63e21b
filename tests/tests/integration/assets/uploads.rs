//! Uploads: stored, deduplicated and served back, and what refused, concurrent, abandoned and disk-full uploads leave.

use darkroom_tests::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{asset_rows, me, photo, sha1_base64};

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
