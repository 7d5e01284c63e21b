//! The official Immich JavaScript clients (from npm, run on Node 22) against a real server.

use std::path::{Path, PathBuf};
use std::process::Output;

use darkroom_tests::{TestServer, fixtures, node, node_dir};
use reqwest::{Method, StatusCode};
use serde_json::json;

/// Runs a script in `tests/node`; returns its standard output, failing on a non-zero exit.
pub(crate) async fn run_script(script: &str, args: &[&str]) -> String {
    let output = tokio::process::Command::new(node())
        .arg(script)
        .args(args)
        .current_dir(node_dir())
        .output()
        .await
        .expect("run node");
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{script} failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    stdout
}

#[tokio::test(flavor = "multi_thread")]
async fn official_sdk_signs_up_logs_in_and_manages_api_keys() {
    let server = TestServer::start().await;
    run_script("sdk-foundation.mjs", &[&server.url]).await;
}

/// The socket.io client the apps use: greeted with the version, then told about uploads (done
/// by a workers-only process, relayed through Redis), trash, restores, deletions, settings and
/// its own session's end; unauthenticated clients are refused.
#[tokio::test(flavor = "multi_thread")]
async fn live_events_reach_socket_io_clients_across_processes() {
    let server = TestServer::start_with(&[("IMMICH_WORKERS_EXCLUDE", "microservices")]).await;
    let _workers = server
        .sibling(&[
            ("IMMICH_WORKERS_INCLUDE", "microservices"),
            ("IMMICH_WORKERS_EXCLUDE", ""),
        ])
        .await;
    let admin = server.admin_token().await;
    let listener_token = server
        .login(darkroom_tests::ADMIN_EMAIL, darkroom_tests::ADMIN_PASSWORD)
        .await;

    let refused = run_script("socket-events.mjs", &[&server.url, "-", "5"]).await;
    assert!(
        refused.contains("refused") || refused.contains("disconnected"),
        "{refused}"
    );

    let mut listener = darkroom_tests::listen_to_events(&server.url, &listener_token, 30, "on_session_delete");
    use tokio::io::AsyncBufReadExt;
    let mut lines = tokio::io::BufReader::new(listener.stdout.take().unwrap()).lines();
    let greeting = lines.next_line().await.unwrap().unwrap_or_default();
    assert!(
        greeting.starts_with("connected ")
            && greeting.contains("\"major\":3")
            && greeting.contains("\"prerelease\":null"),
        "{greeting}"
    );

    let dir = std::env::temp_dir().join(format!("darkroom-events-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let png = dir.join("event.png");
    fixtures::still(&png, 77);
    let id = server
        .upload(&admin, "event.png", &std::fs::read(&png).unwrap(), &[])
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut events: Vec<serde_json::Value> = Vec::new();
    let mut next_event = async |events: &mut Vec<serde_json::Value>, name: &str| {
        while let Ok(Some(line)) = lines.next_line().await {
            let event: serde_json::Value = serde_json::from_str(&line).unwrap_or(json!({"event": line}));
            events.push(event.clone());
            if event["event"] == json!(name) {
                return event;
            }
        }
        panic!("no {name} event; got {events:?}");
    };
    let uploaded = next_event(&mut events, "on_upload_success").await;
    assert_eq!(uploaded["args"][0]["id"], json!(id));
    let ready = next_event(&mut events, "AssetUploadReadyV2").await;
    assert_eq!(ready["args"][0]["asset"]["id"], json!(id));
    assert!(ready["args"][0]["asset"]["thumbhash"].is_string());
    // A still uploaded with its motion part hides that video, and clients are told so.
    let video = server.upload(&admin, "IMG_0009.MOV", b"motion part", &[]).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let still = server
        .upload(&admin, "IMG_0009.HEIC", b"still part", &[("livePhotoVideoId", &video)])
        .await;
    assert_eq!(still.status, StatusCode::CREATED, "{}", still.body);
    assert_eq!(
        next_event(&mut events, "on_asset_hidden").await["args"][0],
        json!(video)
    );

    server
        .call(Method::DELETE, "/api/assets", Some(&admin), Some(json!({"ids": [id]})))
        .await;
    assert_eq!(next_event(&mut events, "on_asset_trash").await["args"][0], json!([id]));
    server
        .call(
            Method::POST,
            "/api/trash/restore/assets",
            Some(&admin),
            Some(json!({"ids": [id]})),
        )
        .await;
    assert_eq!(
        next_event(&mut events, "on_asset_restore").await["args"][0],
        json!([id])
    );
    server
        .call(
            Method::DELETE,
            "/api/assets",
            Some(&admin),
            Some(json!({"ids": [id], "force": true})),
        )
        .await;
    assert_eq!(next_event(&mut events, "on_asset_delete").await["args"][0], json!(id));
    let config = server
        .call(Method::GET, "/api/system-config", Some(&admin), None)
        .await
        .body;
    server
        .call(Method::PUT, "/api/system-config", Some(&admin), Some(config))
        .await;
    next_event(&mut events, "on_config_update").await;
    // Signing out everywhere else ends the listener's session.
    server.call(Method::DELETE, "/api/sessions", Some(&admin), None).await;
    let ended = next_event(&mut events, "on_session_delete").await;
    assert!(ended["args"][0].is_string());
    let _ = listener.wait().await;
    std::fs::remove_dir_all(dir).unwrap();
}

/// tus-js-client uploads a file in chunks; the server restarts between two of them and the
/// upload resumes at the offset the server kept.
#[tokio::test(flavor = "multi_thread")]
async fn tus_js_client_resumes_across_a_server_restart() {
    let mut server = TestServer::start().await;
    let admin = server.admin_token().await;
    let key = server.api_key(&admin, &["asset.upload"]).await;
    let dir = std::env::temp_dir().join(format!("darkroom-tus-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("holiday.mp4");
    let bytes: Vec<u8> = (0..3_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&file, &bytes).unwrap();
    let chunk = (1024 * 1024).to_string();

    let started = run_script(
        "tus-resume.mjs",
        &["start", &server.url, &key, file.to_str().unwrap(), &chunk],
    )
    .await;
    let started: serde_json::Value = serde_json::from_str(started.trim()).unwrap();
    let upload_path = started["uploadPath"].as_str().unwrap().to_string();
    assert!(upload_path.starts_with("/api/upload/tus/"), "{started}");

    server.restart().await.expect("restart");
    let resumed = run_script(
        "tus-resume.mjs",
        &[
            "resume",
            &server.url,
            &key,
            file.to_str().unwrap(),
            &chunk,
            &upload_path,
        ],
    )
    .await;
    let resumed: serde_json::Value = serde_json::from_str(resumed.trim()).unwrap();
    assert_eq!(resumed["uploadPath"], json!(upload_path), "the same upload continued");
    assert_eq!(resumed["status"], json!("created"));
    let id = resumed["assetId"].as_str().unwrap();
    let original = server
        .send(
            server
                .request(Method::GET, &format!("/api/assets/{id}/original"))
                .bearer_auth(&admin),
        )
        .await;
    assert!(original.bytes == bytes, "the asset holds exactly the uploaded bytes");
    let asset = server
        .call(Method::GET, &format!("/api/assets/{id}"), Some(&admin), None)
        .await
        .body;
    assert_eq!(
        (asset["originalFileName"].clone(), asset["type"].clone()),
        (json!("holiday.mp4"), json!("VIDEO"))
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// The `immich` command of `@immich/cli`, with its configuration in `config_dir`.
struct Cli {
    config_dir: PathBuf,
}

impl Cli {
    async fn run(&self, args: &[&str]) -> Output {
        tokio::process::Command::new(node())
            .arg(node_dir().join("node_modules/@immich/cli/dist/index.js"))
            .args(args)
            .env("IMMICH_CONFIG_DIR", &self.config_dir)
            .env_remove("IMMICH_INSTANCE_URL")
            .env_remove("IMMICH_API_KEY")
            .output()
            .await
            .expect("run immich")
    }

    /// Runs a command that must succeed; returns its standard output.
    async fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args).await;
        let stdout = String::from_utf8_lossy(&output.stdout).to_string();
        assert!(
            output.status.success(),
            "immich {args:?} failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        stdout
    }
}

/// root/{2023/{beach.jpg, pool.png, clip.mp4}, 2024/{city.webp, night.heic}, notes.txt}
fn media_tree(root: &Path) {
    let y2023 = root.join("2023");
    let y2024 = root.join("2024");
    std::fs::create_dir_all(&y2023).unwrap();
    std::fs::create_dir_all(&y2024).unwrap();
    fixtures::jpeg_with_exif(&y2023.join("beach.jpg"), 10);
    fixtures::still(&y2023.join("pool.png"), 20);
    fixtures::mp4(&y2023.join("clip.mp4"), 30);
    fixtures::still(&y2024.join("city.webp"), 40);
    fixtures::heic(&y2024.join("night.heic"), 50);
    std::fs::write(root.join("notes.txt"), "not a photo").unwrap();
}

async fn statistics(server: &TestServer, token: &str) -> serde_json::Value {
    server
        .call(Method::GET, "/api/assets/statistics", Some(token), None)
        .await
        .body
}

#[tokio::test(flavor = "multi_thread")]
async fn immich_cli_logs_in_and_uploads_a_folder_tree() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let key = server.api_key(&admin, &["all"]).await;
    let work = std::env::temp_dir().join(format!("darkroom-cli-{}", uuid::Uuid::new_v4().simple()));
    let root = work.join("photos");
    media_tree(&root);
    let cli = Cli {
        config_dir: work.join("config"),
    };

    // The URL without /api: the CLI finds the API through /.well-known/immich.
    let login = cli.ok(&["login", &server.url, &key]).await;
    assert!(login.contains("Logged in as admin@immich.cloud"), "{login}");
    let auth_file = cli.config_dir.join("auth.yml");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&auth_file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let bad_key = cli.run(&["login", &server.url, "not-a-key"]).await;
    assert!(!bad_key.status.success());

    let root_arg = root.to_str().unwrap();
    let dry = cli
        .ok(&["upload", "--recursive", "--dry-run", "--no-progress", root_arg])
        .await;
    assert!(dry.contains("Found 5 new files and 0 duplicates"), "{dry}");
    assert_eq!(
        statistics(&server, &admin).await,
        json!({"images": 0, "videos": 0, "total": 0}),
        "a dry run uploads nothing"
    );

    let first = cli
        .ok(&["upload", "--recursive", "--concurrency", "4", "--no-progress", root_arg])
        .await;
    assert!(first.contains("Found 5 new files and 0 duplicates"), "{first}");
    assert!(first.contains("Successfully uploaded 5 new assets"), "{first}");
    assert_eq!(
        statistics(&server, &admin).await,
        json!({"images": 4, "videos": 1, "total": 5})
    );
    let ids = server
        .call(
            Method::POST,
            "/api/assets/bulk-upload-check",
            Some(&admin),
            Some(json!({"assets": []})),
        )
        .await;
    assert_eq!(ids.body, json!({"results": []}));

    let second = cli.ok(&["upload", "--recursive", "--no-progress", root_arg]).await;
    assert!(second.contains("Found 0 new files and 5 duplicates"), "{second}");

    // Without hashing, the server recognises the duplicates itself.
    let unhashed = cli
        .ok(&["upload", "--recursive", "--skip-hash", "--no-progress", root_arg])
        .await;
    assert!(unhashed.contains("Skipped 5 duplicate assets"), "{unhashed}");
    assert_eq!(statistics(&server, &admin).await["total"], json!(5));

    // Every byte came back.
    let beach = std::fs::read(root.join("2023/beach.jpg")).unwrap();
    let check = server
        .call(
            Method::POST,
            "/api/assets/bulk-upload-check",
            Some(&admin),
            Some(json!({"assets": [
                {"id": "beach", "checksum": sha1_hex(&beach)}
            ]})),
        )
        .await;
    let beach_id = check.body["results"][0]["assetId"].as_str().unwrap().to_string();
    let original = server
        .send(
            server
                .request(Method::GET, &format!("/api/assets/{beach_id}/original"))
                .bearer_auth(&admin),
        )
        .await;
    assert_eq!(original.bytes, beach);

    // Albums from folder names, then all into one named album; existing assets are added too.
    let by_folder = cli
        .ok(&["upload", "--recursive", "--album", "--no-progress", root_arg])
        .await;
    assert!(by_folder.contains("Successfully created 2 new albums"), "{by_folder}");
    let albums = server.call(Method::GET, "/api/albums", Some(&admin), None).await.body;
    let mut counts: Vec<(String, i64)> = albums
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["albumName"].as_str().unwrap().to_string(),
                a["assetCount"].as_i64().unwrap(),
            )
        })
        .collect();
    counts.sort();
    assert_eq!(counts, [("2023".to_string(), 3), ("2024".to_string(), 2)]);
    let named = cli
        .ok(&[
            "upload",
            "--recursive",
            "--album-name",
            "Everything",
            "--no-progress",
            root_arg,
        ])
        .await;
    assert!(named.contains("Successfully created 1 new album"), "{named}");
    let everything = server
        .call(Method::GET, "/api/albums?name=Everything", Some(&admin), None)
        .await
        .body;
    assert_eq!(everything[0]["assetCount"], json!(5));
    let again = cli
        .ok(&[
            "upload",
            "--recursive",
            "--album-name",
            "Everything",
            "--no-progress",
            root_arg,
        ])
        .await;
    assert!(again.contains("Successfully created 0 new albums"), "{again}");

    let deleted = cli
        .ok(&[
            "upload",
            "--recursive",
            "--delete-duplicates",
            "--no-progress",
            root_arg,
        ])
        .await;
    assert!(deleted.contains("Found 0 new files and 5 duplicates"), "{deleted}");
    assert!(!root.join("2023/beach.jpg").exists(), "duplicates deleted locally");
    assert!(root.join("notes.txt").exists(), "unsupported files are left alone");

    let info = cli.ok(&["server-info"]).await;
    assert!(
        info.contains("3.2.2") && info.contains("Images: 4") && info.contains("Videos: 1"),
        "{info}"
    );
    std::fs::remove_dir_all(work).unwrap();
}

fn sha1_hex(bytes: &[u8]) -> String {
    use sha1::Digest;
    sha1::Sha1::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// `@immich/sdk` on Node 22's fetch, which asks for compressed answers and streams request
/// bodies: 20 MB uploads refused for want of `asset.upload` (a hand-built streamed multipart,
/// a FormData with a Blob, the SDK's `uploadAsset`) come back as Immich's 403 with its message,
/// read by the client rather than lost to a closed connection; then two uploads, the mobile
/// sync stream and its acks, and a zip of both.
#[tokio::test(flavor = "multi_thread")]
async fn official_sdk_real_client_refused_uploads_sync_and_zip() {
    let server = TestServer::start().await;
    let dir = std::env::temp_dir().join(format!("darkroom-sdk-real-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let (first, second) = (dir.join("harbour.png"), dir.join("lighthouse.png"));
    fixtures::still(&first, 61);
    fixtures::still(&second, 62);
    let output = run_script(
        "sdk-real-client.mjs",
        &[&server.url, first.to_str().unwrap(), second.to_str().unwrap()],
    )
    .await;
    println!("{output}");
    assert!(output.contains("sdk-real-client: all checks passed"), "{output}");
    std::fs::remove_dir_all(dir).unwrap();
}
