//! The server on the wire as real clients meet it: compressed answers for every encoding a
//! browser or the mobile app asks for, streamed bodies that survive compression, media that is
//! not compressed twice, refusals that reach a client still sending its upload, and the PATCH
//! aliases of Immich's PUT routes.

use std::time::Duration;

use darkroom_tests::{ACCEPT_ENCODING, TestServer, fixtures, raw_client};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn content_encoding(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get("content-encoding")
        .map(|v| v.to_str().expect("ascii").to_string())
}

async fn upload_png(server: &TestServer, token: &str, seed: u32) -> String {
    let path = std::env::temp_dir().join(format!("darkroom-wire-{}.png", uuid::Uuid::new_v4().simple()));
    fixtures::still(&path, seed);
    let bytes = std::fs::read(&path).expect("fixture");
    std::fs::remove_file(&path).expect("remove fixture");
    let reply = server.upload(token, "photo.png", &bytes, &[]).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body["id"].as_str().expect("id").to_string()
}

/// What each `Accept-Encoding` must get: the encoding chosen, then whether the body came whole.
const ENCODINGS: &[(&str, Option<&str>)] = &[
    ("identity", None),
    ("gzip", Some("gzip")),
    ("deflate", Some("deflate")),
    ("br", Some("br")),
    ("zstd", Some("zstd")),
    ("gzip, deflate, br", Some("br")),
    (ACCEPT_ENCODING, Some("zstd")),
];

/// The mobile app's sync stream, compressed each way and not at all: whole each time (it used
/// to end in a panic and a dropped connection under compression).
#[tokio::test(flavor = "multi_thread")]
async fn the_sync_stream_arrives_whole_under_every_encoding() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    // Every pass must see the same rows, so the workers are let finish with them first: an asset
    // changed within the stream's last millisecond is rightly left for the next stream.
    for seed in 0..3 {
        let id = upload_png(&server, &admin, 700 + seed).await;
        server.wait_until_processed(&admin, &id).await;
    }
    let raw = raw_client();
    let mut plain_lines = None;
    for (accept, expected) in ENCODINGS {
        let request = || {
            raw.post(format!("{}/api/sync/stream", server.url))
                .bearer_auth(&admin)
                .header("accept-encoding", *accept)
                .json(&json!({"types": ["AuthUsersV1", "AssetsV2", "AssetExifsV1"]}))
        };
        let response = request().send().await.expect("send");
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            content_encoding(&response).as_deref(),
            *expected,
            "Accept-Encoding: {accept}"
        );
        let compressed = response
            .bytes()
            .await
            .unwrap_or_else(|e| panic!("Accept-Encoding: {accept}: body cut off: {e}"));
        assert!(!compressed.is_empty());
        // The same stream through a decoding client (as Node's fetch and Dart decode it).
        let decoded = server
            .client
            .post(format!("{}/api/sync/stream", server.url))
            .bearer_auth(&admin)
            .header("accept-encoding", *accept)
            .json(&json!({"types": ["AuthUsersV1", "AssetsV2", "AssetExifsV1"]}))
            .send()
            .await
            .expect("send")
            .text()
            .await
            .unwrap_or_else(|e| panic!("Accept-Encoding: {accept}: body cut off: {e}"));
        let lines: Vec<Value> = decoded
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect();
        assert_eq!(
            lines.last().expect("lines")["type"],
            json!("SyncCompleteV1"),
            "{accept}"
        );
        assert_eq!(
            lines.iter().filter(|l| l["type"] == json!("AssetV2")).count(),
            3,
            "{accept}"
        );
        let types: Vec<Value> = lines.iter().map(|l| l["type"].clone()).collect();
        match &plain_lines {
            None => plain_lines = Some(types),
            Some(plain) => assert_eq!(&types, plain, "{accept}"),
        }
    }
    // The acks of a compressed stream are taken as any others.
    let lines = server
        .request(Method::POST, "/api/sync/stream")
        .bearer_auth(&admin)
        .json(&json!({"types": ["AssetsV2"]}))
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("whole");
    let acks: Vec<Value> = lines
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("line")["ack"].clone())
        .collect();
    let acked = server
        .call(Method::POST, "/api/sync/ack", Some(&admin), Some(json!({"acks": acks})))
        .await;
    assert_eq!(acked.status, StatusCode::NO_CONTENT, "{}", acked.body);
}

/// A zip archive is sent as it is written and never compressed again, whatever the client
/// accepts; so are originals and thumbnails. JSON is compressed for those who ask.
#[tokio::test(flavor = "multi_thread")]
async fn archives_and_media_are_sent_whole_and_uncompressed() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let first = upload_png(&server, &admin, 11).await;
    let second = upload_png(&server, &admin, 12).await;
    server.wait_until_processed(&admin, &first).await;
    let picture = reqwest::multipart::Form::new().part(
        "file",
        darkroom_tests::streamed_part(&fixtures::png_bytes()).file_name("me.png"),
    );
    let me = server
        .send(
            server
                .request(Method::POST, "/api/users/profile-image")
                .bearer_auth(&admin)
                .multipart(picture),
        )
        .await;
    assert_eq!(me.status, StatusCode::CREATED, "{}", me.body);
    let me = me.body["userId"].as_str().expect("user id").to_string();
    let raw = raw_client();
    for (accept, _) in ENCODINGS {
        let response = raw
            .post(format!("{}/api/download/archive", server.url))
            .bearer_auth(&admin)
            .header("accept-encoding", *accept)
            .json(&json!({"assetIds": [first, second]}))
            .send()
            .await
            .expect("send");
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            content_encoding(&response),
            None,
            "a zip is not compressed again ({accept})"
        );
        let zip = response
            .bytes()
            .await
            .unwrap_or_else(|e| panic!("archive cut off ({accept}): {e}"));
        assert_eq!(zip_entries(&zip), 2, "a whole archive of both photos ({accept})");

        let files = [
            format!("/api/assets/{first}/original"),
            format!("/api/assets/{first}/thumbnail?size=preview"),
            format!("/api/users/{me}/profile-image"),
        ];
        for path in files {
            let response = raw
                .get(format!("{}{path}", server.url))
                .bearer_auth(&admin)
                .header("accept-encoding", *accept)
                .send()
                .await
                .expect("send");
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            assert_eq!(content_encoding(&response), None, "{path} ({accept})");
            response.bytes().await.expect("whole file");
        }
    }
    // JSON over a kilobyte is compressed, and the decoding client reads it as usual.
    let response = raw
        .get(format!("{}/api/system-config/defaults", server.url))
        .bearer_auth(&admin)
        .header("accept-encoding", "gzip")
        .send()
        .await
        .expect("send");
    assert_eq!(content_encoding(&response).as_deref(), Some("gzip"));
    let defaults = server
        .call(Method::GET, "/api/system-config/defaults", Some(&admin), None)
        .await;
    assert!(defaults.body["ffmpeg"].is_object(), "{}", defaults.body);
}

/// Entries counted from the end-of-central-directory record, after checking it is there.
fn zip_entries(zip: &[u8]) -> u16 {
    let end = zip
        .windows(4)
        .rposition(|w| w == b"PK\x05\x06")
        .expect("an end-of-central-directory record");
    u16::from_le_bytes([zip[end + 10], zip[end + 11]])
}

/// A request whose body the server will refuse before reading it: its head, then the body's
/// first bytes (a form's fields) and its last, with `filler` bytes of file between them.
struct Refused {
    head: String,
    opening: Vec<u8>,
    closing: Vec<u8>,
    filler: usize,
}

impl Refused {
    fn new(request_line: &str, headers: &[(&str, &str)], opening: Vec<u8>, filler: usize, closing: Vec<u8>) -> Self {
        let length = opening.len() + filler + closing.len();
        let mut head =
            format!("{request_line} HTTP/1.1\r\nAccept-Encoding: {ACCEPT_ENCODING}\r\nContent-Length: {length}\r\n");
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        Self {
            head,
            opening,
            closing,
            filler,
        }
    }

    /// `POST /api/assets` with a file of `filler` bytes.
    fn upload(credential: (&str, &str), filler: usize) -> Self {
        let boundary = "----darkroom-early-answer";
        let mut opening = Vec::new();
        for (name, value) in [
            ("fileCreatedAt", "2024-05-01T12:00:00.000Z"),
            ("fileModifiedAt", "2024-05-01T12:00:00.000Z"),
        ] {
            opening.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                    .as_bytes(),
            );
        }
        opening.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"assetData\"; filename=\"big.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n")
                .as_bytes(),
        );
        let content_type = format!("multipart/form-data; boundary={boundary}");
        let headers = [credential, ("Content-Type", content_type.as_str())];
        Self::new(
            "POST /api/assets",
            &headers,
            opening,
            filler,
            format!("\r\n--{boundary}--\r\n").into_bytes(),
        )
    }
}

/// Reads one HTTP/1.1 answer with a `Content-Length` body; returns its head and body.
async fn read_answer(stream: &mut tokio::net::tcp::OwnedReadHalf) -> (String, Vec<u8>) {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buffer[..end]).to_string();
            let length: usize = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse().expect("length"))
                })
                .unwrap_or(0);
            while buffer.len() < end + 4 + length {
                let n = stream.read(&mut chunk).await.expect("read the answer's body");
                assert!(n > 0, "connection closed inside the answer");
                buffer.extend_from_slice(&chunk[..n]);
            }
            return (head, buffer[end + 4..end + 4 + length].to_vec());
        }
        let n = stream.read(&mut chunk).await.expect("read the answer");
        assert!(
            n > 0,
            "connection closed before an answer: {}",
            String::from_utf8_lossy(&buffer)
        );
        buffer.extend_from_slice(&chunk[..n]);
    }
}

/// A client still sending 20 MB gets the refusal the server gave before reading them — a
/// missing permission, a bad token, an unknown resumable upload, a JSON body too large — reads
/// it, finishes sending without a broken pipe, and the same connection then serves the next
/// request.
#[tokio::test(flavor = "multi_thread")]
async fn an_early_refusal_reaches_a_client_still_sending_its_upload() {
    const FILE: usize = 20 * 1024 * 1024;
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let read_only = server.api_key(&admin, &["asset.read"]).await;
    let host = server.url.trim_start_matches("http://").to_string();
    let bearer = format!("Bearer {admin}");
    let octets = ("Content-Type", "application/offset+octet-stream");
    let cases = [
        (
            Refused::upload(("x-api-key", &read_only), FILE),
            403,
            "Missing required permission: asset.upload",
        ),
        (
            Refused::upload(("Authorization", "Bearer not-a-session"), FILE),
            401,
            "Invalid user token",
        ),
        (
            Refused::new(
                &format!("PATCH /api/upload/tus/{}", uuid::Uuid::new_v4()),
                &[
                    ("Authorization", &bearer),
                    ("Tus-Resumable", "1.0.0"),
                    ("Upload-Offset", "0"),
                    octets,
                ],
                Vec::new(),
                FILE,
                Vec::new(),
            ),
            404,
            "",
        ),
        (
            Refused::new(
                "POST /api/upload",
                &[
                    ("x-api-key", &read_only),
                    ("Upload-Draft-Interop-Version", "8"),
                    ("Upload-Complete", "?1"),
                    octets,
                ],
                Vec::new(),
                FILE,
                Vec::new(),
            ),
            403,
            "Missing required permission: asset.upload",
        ),
        (
            Refused::new(
                "POST /api/albums",
                &[("Authorization", &bearer), ("Content-Type", "application/json")],
                b"{\"albumName\":\"".to_vec(),
                FILE,
                b"\"}".to_vec(),
            ),
            413,
            "",
        ),
    ];
    for (request, status, message) in cases {
        let stream = tokio::net::TcpStream::connect(&host).await.expect("connect");
        let (mut reader, mut writer) = stream.into_split();
        let what = request.head.lines().next().unwrap_or_default().to_string();
        let end_of_head = format!("Host: {host}\r\n\r\n");
        let sending = tokio::spawn(async move {
            writer.write_all(request.head.as_bytes()).await?;
            writer.write_all(end_of_head.as_bytes()).await?;
            writer.write_all(&request.opening).await?;
            let chunk = vec![0x5a_u8; 256 * 1024];
            for _ in 0..request.filler / chunk.len() {
                writer.write_all(&chunk).await?;
            }
            writer.write_all(&request.closing).await?;
            Ok::<_, std::io::Error>(writer)
        });
        let (answer, body) = tokio::time::timeout(Duration::from_secs(60), read_answer(&mut reader))
            .await
            .expect("an answer in time");
        assert!(answer.starts_with(&format!("HTTP/1.1 {status}")), "{what}: {answer}");
        let body: Value = serde_json::from_slice(&body).expect("JSON error body");
        if message.is_empty() {
            assert!(body["message"].is_string(), "{what}: {body}");
        } else {
            assert_eq!(body["message"], json!(message), "{what}");
        }
        let mut writer = sending
            .await
            .expect("sender")
            .unwrap_or_else(|e| panic!("{what}: broke off while sending: {e}"));
        // The connection is still good for the next request.
        writer
            .write_all(format!("GET /api/server/ping HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes())
            .await
            .expect("reuse");
        let (answer, body) = tokio::time::timeout(Duration::from_secs(30), read_answer(&mut reader))
            .await
            .expect("ping in time");
        assert!(answer.starts_with("HTTP/1.1 200"), "{what}, then: {answer}");
        assert_eq!(
            serde_json::from_slice::<Value>(&body).expect("json"),
            json!({"res": "pong"})
        );
    }
}

/// The same through reqwest with a streamed body, as Node's `fetch` and Dart send uploads; and
/// a resumable upload refused before its bytes are read.
#[tokio::test(flavor = "multi_thread")]
async fn streamed_uploads_read_their_refusal() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let read_only = server.api_key(&admin, &["asset.read"]).await;
    let big = vec![0x42_u8; 20 * 1024 * 1024];
    let form = reqwest::multipart::Form::new()
        .text("fileCreatedAt", "2024-05-01T12:00:00.000Z")
        .text("fileModifiedAt", "2024-05-01T12:00:00.000Z")
        .part("assetData", darkroom_tests::streamed_part(&big).file_name("big.jpg"));
    let refused = server
        .send(
            server
                .request(Method::POST, "/api/assets")
                .header("x-api-key", &read_only)
                .multipart(form),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.message(), "Missing required permission: asset.upload");

    let chunks: Vec<Result<bytes::Bytes, std::io::Error>> = big
        .chunks(1 << 16)
        .map(|c| Ok(bytes::Bytes::copy_from_slice(c)))
        .collect();
    let tus = server
        .request(Method::POST, "/api/upload/tus")
        .header("x-api-key", &read_only)
        .header("tus-resumable", "1.0.0")
        .header("upload-length", big.len().to_string())
        .header("content-type", "application/offset+octet-stream")
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await
        .expect("the refusal, not a broken pipe");
    assert_eq!(tus.status(), StatusCode::FORBIDDEN);
    // A JSON body refused for its size is read to its end all the same.
    let huge = format!("{{\"albumName\":\"{}\"}}", "x".repeat(12 * 1024 * 1024));
    let too_big = server
        .request(Method::POST, "/api/albums")
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await;
    assert_eq!(
        too_big.expect("the refusal, not a broken pipe").status(),
        StatusCode::PAYLOAD_TOO_LARGE
    );
}

/// Immich takes PATCH wherever it takes PUT on a resource; so must we.
#[tokio::test(flavor = "multi_thread")]
async fn patch_is_accepted_beside_put() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let asset = upload_png(&server, &admin, 21).await;
    let other = upload_png(&server, &admin, 22).await;
    let tag = server
        .call(Method::POST, "/api/tags", Some(&admin), Some(json!({"name": "before"})))
        .await
        .body["id"]
        .as_str()
        .expect("tag")
        .to_string();
    let tagged = server
        .call(
            Method::PATCH,
            &format!("/api/tags/{tag}"),
            Some(&admin),
            Some(json!({"color": "#ff0000"})),
        )
        .await;
    assert_eq!(
        (tagged.status, tagged.body["color"].clone()),
        (StatusCode::OK, json!("#ff0000")),
        "{}",
        tagged.body
    );

    let memory = server
        .call(
            Method::POST,
            "/api/memories",
            Some(&admin),
            Some(json!({"type": "on_this_day", "data": {"year": 2020}, "memoryAt": "2024-05-01T00:00:00.000Z", "assetIds": [asset]})),
        )
        .await
        .body["id"]
        .as_str()
        .expect("memory")
        .to_string();
    let saved = server
        .call(
            Method::PATCH,
            &format!("/api/memories/{memory}"),
            Some(&admin),
            Some(json!({"isSaved": true})),
        )
        .await;
    assert_eq!(
        (saved.status, saved.body["isSaved"].clone()),
        (StatusCode::OK, json!(true)),
        "{}",
        saved.body
    );

    let stack = server
        .call(
            Method::POST,
            "/api/stacks",
            Some(&admin),
            Some(json!({"assetIds": [asset, other]})),
        )
        .await
        .body["id"]
        .as_str()
        .expect("stack")
        .to_string();
    let restacked = server
        .call(
            Method::PATCH,
            &format!("/api/stacks/{stack}"),
            Some(&admin),
            Some(json!({"primaryAssetId": other})),
        )
        .await;
    assert_eq!(
        (restacked.status, restacked.body["primaryAssetId"].clone()),
        (StatusCode::OK, json!(other)),
        "{}",
        restacked.body
    );
}

/// What `/server/features` says the web and mobile apps may show exists: machine learning's
/// screens only while it is on (and answers: see the machine_learning tests); nothing of face
/// import, OAuth or real-time transcoding yet, whatever the settings say.
#[tokio::test(flavor = "multi_thread")]
async fn features_only_claim_what_exists() {
    let server = TestServer::start_with(&[("IMMICH_MACHINE_LEARNING_ENABLED", "false")]).await;
    // Immich's defaults switch machine learning on; the environment switched it off.
    let features = server.call(Method::GET, "/api/server/features", None, None).await.body;
    for absent in [
        "smartSearch",
        "facialRecognition",
        "duplicateDetection",
        "ocr",
        "importFaces",
        "oauth",
        "oauthAutoLaunch",
        "realtimeTranscoding",
    ] {
        assert_eq!(features[absent], json!(false), "{absent}: {features}");
    }
    for present in ["map", "reverseGeocoding", "trash", "search", "sidecar", "passwordLogin"] {
        assert_eq!(features[present], json!(true), "{present}: {features}");
    }
}
