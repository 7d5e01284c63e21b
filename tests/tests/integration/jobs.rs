//! Background jobs on Redis: uploads get their metadata and thumbnails, queues can be watched
//! and steered, a dead worker's job is done by another, and bad files fail with a reason.

use std::time::Duration;

use darkroom_tests::{TestServer, fixtures};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn temp_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("darkroom-jobs-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn upload_file(server: &TestServer, token: &str, path: &std::path::Path) -> String {
    let bytes = std::fs::read(path).unwrap();
    let name = path.file_name().unwrap().to_str().unwrap();
    let reply = server.upload(token, name, &bytes, &[]).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body["id"].as_str().unwrap().to_string()
}

/// Polls the asset until `done` holds (jobs run in the background).
async fn wait_for(server: &TestServer, token: &str, id: &str, done: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..200 {
        let asset = server
            .call(Method::GET, &format!("/api/assets/{id}"), Some(token), None)
            .await
            .body;
        if done(&asset) {
            return asset;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("asset {id} never reached the expected state");
}

async fn queue(server: &TestServer, token: &str, name: &str) -> Value {
    server
        .call(Method::GET, &format!("/api/queues/{name}"), Some(token), None)
        .await
        .body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_get_metadata_and_thumbnails() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let dir = temp_dir();
    let jpeg = dir.join("beach.jpg");
    fixtures::jpeg_with_exif(&jpeg, 10);
    let id = upload_file(&server, &admin, &jpeg).await;

    let asset = wait_for(&server, &admin, &id, |a| a["thumbhash"].is_string()).await;
    let exif = &asset["exifInfo"];
    assert_eq!(
        (exif["make"].clone(), exif["model"].clone()),
        (json!("Darkroom"), json!("TestCam"))
    );
    assert_eq!(exif["dateTimeOriginal"], json!("2023-07-14T08:20:30+00:00"));
    assert_eq!(exif["timeZone"], json!("UTC+2"));
    assert!((exif["latitude"].as_f64().unwrap() - 48.8584).abs() < 1e-6);
    assert_eq!(asset["localDateTime"], json!("2023-07-14T10:20:30.000Z"));
    assert_eq!(asset["fileCreatedAt"], json!("2023-07-14T08:20:30.000Z"));
    assert_eq!(
        (asset["width"].clone(), asset["height"].clone()),
        (json!(320), json!(240))
    );

    let thumbnail = server
        .send(
            server
                .request(Method::GET, &format!("/api/assets/{id}/thumbnail"))
                .bearer_auth(&admin),
        )
        .await;
    assert_eq!(thumbnail.status, StatusCode::OK);
    assert_eq!(thumbnail.headers["content-type"], "image/webp");
    assert!(thumbnail.bytes.starts_with(b"RIFF") && thumbnail.bytes[8..12] == *b"WEBP");
    assert_eq!(
        thumbnail.headers["content-disposition"],
        "inline; filename*=UTF-8''beach_thumbnail.webp"
    );
    let preview = server
        .send(
            server
                .request(Method::GET, &format!("/api/assets/{id}/thumbnail?size=preview"))
                .bearer_auth(&admin),
        )
        .await;
    assert_eq!(preview.headers["content-type"], "image/jpeg");
    assert!(preview.bytes.starts_with(&[0xFF, 0xD8]));
    assert!(
        !preview.bytes.windows(4).any(|w| w == b"Exif"),
        "generated images carry no EXIF (and so no GPS)"
    );
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let full = no_redirects
        .get(format!("{}/api/assets/{id}/thumbnail?size=fullsize", server.url))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(full.status(), StatusCode::FOUND);
    assert_eq!(full.headers()["location"], format!("/api/assets/{id}/original"));
    let thumbs = server.media.join("thumbs");
    let owner = server.call(Method::GET, "/api/users/me", Some(&admin), None).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        thumbs
            .join(&owner)
            .join(&id[0..2])
            .join(&id[2..4])
            .join(format!("{id}_preview.jpeg"))
            .exists()
    );

    // A rotated photo is turned upright.
    let rotated = dir.join("rotated.jpg");
    fixtures::still(&rotated, 20);
    let status = std::process::Command::new("exiftool")
        .args([
            "-q",
            "-overwrite_original",
            "-Orientation#=6",
            rotated.to_str().unwrap(),
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let rotated_id = upload_file(&server, &admin, &rotated).await;
    let rotated_asset = wait_for(&server, &admin, &rotated_id, |a| a["thumbhash"].is_string()).await;
    assert_eq!(
        (rotated_asset["width"].clone(), rotated_asset["height"].clone()),
        (json!(240), json!(320))
    );

    let stats = queue(&server, &admin, "thumbnailGeneration").await;
    assert_eq!(stats["statistics"]["completed"], json!(2));

    // Other formats in the settings: regenerated files follow, the old ones go.
    server
        .update_config(&admin, |config| {
            config["image"]["preview"]["format"] = json!("webp");
            config["image"]["thumbnail"]["format"] = json!("jpeg");
        })
        .await;
    let regenerate = server
        .call(
            Method::POST,
            "/api/assets/jobs",
            Some(&admin),
            Some(json!({"assetIds": [id], "name": "regenerate-thumbnail"})),
        )
        .await;
    assert_eq!(regenerate.status, StatusCode::NO_CONTENT);
    wait_for_queue_idle(&server, &admin, "thumbnailGeneration", 3).await;
    let folder = thumbs.join(&owner).join(&id[0..2]).join(&id[2..4]);
    assert!(folder.join(format!("{id}_preview.webp")).exists() && !folder.join(format!("{id}_preview.jpeg")).exists());
    assert!(
        folder.join(format!("{id}_thumbnail.jpeg")).exists() && !folder.join(format!("{id}_thumbnail.webp")).exists()
    );
    let preview = server
        .send(
            server
                .request(Method::GET, &format!("/api/assets/{id}/thumbnail?size=preview"))
                .bearer_auth(&admin),
        )
        .await;
    assert_eq!(
        (preview.headers["content-type"].to_str().unwrap(), &preview.bytes[8..12]),
        ("image/webp", &b"WEBP"[..])
    );
    let thumbnail = server
        .send(
            server
                .request(Method::GET, &format!("/api/assets/{id}/thumbnail"))
                .bearer_auth(&admin),
        )
        .await;
    assert_eq!(thumbnail.headers["content-type"], "image/jpeg");
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queues_are_watched_paused_and_refilled_from_the_database() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let user = server.user_token(&admin, "user@immich.cloud").await;
    let dir = temp_dir();
    let png = dir.join("pool.png");
    fixtures::still(&png, 30);

    let legacy = server.call(Method::GET, "/api/jobs", Some(&admin), None).await.body;
    assert_eq!(legacy.as_object().unwrap().len(), 19);
    assert_eq!(
        legacy["metadataExtraction"]["queueStatus"],
        json!({"isActive": false, "isPaused": false})
    );
    assert_eq!(
        server.call(Method::GET, "/api/jobs", Some(&user), None).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        server
            .call(Method::GET, "/api/queues", Some(&admin), None)
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        19
    );
    let unknown = server.call(Method::GET, "/api/queues/nope", Some(&admin), None).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);

    // Paused: uploads wait.
    let paused = server
        .call(
            Method::PUT,
            "/api/jobs/metadataExtraction",
            Some(&admin),
            Some(json!({"command": "pause"})),
        )
        .await;
    assert_eq!(paused.body["queueStatus"]["isPaused"], json!(true));
    let id = upload_file(&server, &admin, &png).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let waiting = queue(&server, &admin, "metadataExtraction").await;
    assert_eq!(waiting["statistics"]["paused"], json!(1), "{waiting}");
    let listed = server
        .call(
            Method::GET,
            "/api/queues/metadataExtraction/jobs?status=waiting",
            Some(&admin),
            None,
        )
        .await
        .body;
    assert_eq!(listed[0]["name"], json!("AssetExtractMetadata"));
    assert_eq!(listed[0]["data"]["id"], json!(id));
    // Emptied: the job is gone, the asset is not.
    assert_eq!(
        server
            .call(
                Method::DELETE,
                "/api/queues/metadataExtraction/jobs",
                Some(&admin),
                Some(json!({}))
            )
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        queue(&server, &admin, "metadataExtraction").await["statistics"]["paused"],
        json!(0)
    );
    // Start (force: false) finds what is missing from the database and queues it again.
    let resumed = server
        .call(
            Method::PUT,
            "/api/queues/metadataExtraction",
            Some(&admin),
            Some(json!({"isPaused": false})),
        )
        .await;
    assert_eq!(resumed.body["isPaused"], json!(false));
    server
        .call(
            Method::PUT,
            "/api/jobs/metadataExtraction",
            Some(&admin),
            Some(json!({"command": "start", "force": false})),
        )
        .await;
    wait_for(&server, &admin, &id, |a| a["thumbhash"].is_string()).await;

    // Regenerate on request.
    let mut db = server.db().await;
    sqlx::query(r#"DELETE FROM asset_file WHERE "assetId" = $1::uuid"#)
        .bind(&id)
        .execute(&mut db)
        .await
        .unwrap();
    sqlx::query("UPDATE asset SET thumbhash = NULL WHERE id = $1::uuid")
        .bind(&id)
        .execute(&mut db)
        .await
        .unwrap();
    let again = server
        .call(
            Method::POST,
            "/api/assets/jobs",
            Some(&admin),
            Some(json!({"assetIds": [id], "name": "regenerate-thumbnail"})),
        )
        .await;
    assert_eq!(again.status, StatusCode::NO_CONTENT);
    wait_for(&server, &admin, &id, |a| a["thumbhash"].is_string()).await;
    let not_yours = server
        .call(
            Method::POST,
            "/api/assets/jobs",
            Some(&user),
            Some(json!({"assetIds": [id], "name": "refresh-metadata"})),
        )
        .await;
    assert_eq!(not_yours.message(), "Not found or no asset.update access");
    let not_yet = server
        .call(
            Method::PUT,
            "/api/jobs/smartSearch",
            Some(&admin),
            Some(json!({"command": "start"})),
        )
        .await;
    assert_eq!(not_yet.status, StatusCode::BAD_REQUEST);
    let background = server
        .call(
            Method::PUT,
            "/api/jobs/backgroundTask",
            Some(&admin),
            Some(json!({"command": "pause"})),
        )
        .await;
    assert_eq!(background.message(), "The BackgroundTask queue cannot be paused");
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_taken_by_a_worker_that_died_is_done_by_another() {
    let server = TestServer::start_with(&[("DARKROOM_JOB_RECLAIM_SECONDS", "1")]).await;
    let admin = server.admin_token().await;
    let dir = temp_dir();
    let jpeg = dir.join("ghost.jpg");
    fixtures::jpeg_with_exif(&jpeg, 40);
    server
        .call(
            Method::PUT,
            "/api/jobs/metadataExtraction",
            Some(&admin),
            Some(json!({"command": "pause"})),
        )
        .await;
    let id = upload_file(&server, &admin, &jpeg).await;

    // Another worker takes the job and dies without finishing it.
    let client = redis::Client::open("redis://127.0.0.1:6379/0").unwrap();
    let mut redis = client.get_multiplexed_async_connection().await.unwrap();
    let stream = format!("{}:metadataExtraction:stream", server.database);
    let taken: redis::Value = redis::cmd("XREADGROUP")
        .arg("GROUP")
        .arg("workers")
        .arg("ghost")
        .arg("COUNT")
        .arg(1)
        .arg("STREAMS")
        .arg(&stream)
        .arg(">")
        .query_async(&mut redis)
        .await
        .unwrap();
    assert!(!matches!(taken, redis::Value::Nil), "the ghost took the job");
    server
        .call(
            Method::PUT,
            "/api/jobs/metadataExtraction",
            Some(&admin),
            Some(json!({"command": "resume"})),
        )
        .await;
    assert_eq!(
        queue(&server, &admin, "metadataExtraction").await["statistics"]["active"],
        json!(1)
    );

    let asset = wait_for(&server, &admin, &id, |a| a["exifInfo"]["make"] == json!("Darkroom")).await;
    assert_eq!(asset["exifInfo"]["model"], json!("TestCam"));
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_files_fail_with_a_reason_and_the_asset_stays() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let broken = server
        .upload(&admin, "broken.jpg", b"\xFF\xD8\xFF\xE0 this is not a JPEG at all", &[])
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let dir = temp_dir();
    let good = dir.join("fine.png");
    fixtures::still(&good, 50);
    let fine = upload_file(&server, &admin, &good).await;
    wait_for(&server, &admin, &fine, |a| a["thumbhash"].is_string()).await;
    for _ in 0..100 {
        if queue(&server, &admin, "thumbnailGeneration").await["statistics"]["failed"] == json!(1) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        queue(&server, &admin, "thumbnailGeneration").await["statistics"]["failed"],
        json!(1)
    );
    let failed = server
        .call(
            Method::GET,
            "/api/queues/thumbnailGeneration/jobs?status=failed",
            Some(&admin),
            None,
        )
        .await
        .body;
    assert_eq!(failed[0]["data"]["id"], json!(broken));
    let asset = server
        .call(Method::GET, &format!("/api/assets/{broken}"), Some(&admin), None)
        .await;
    assert_eq!(
        (asset.status, asset.body["thumbhash"].clone()),
        (StatusCode::OK, json!(null))
    );
    let missing = server
        .call(
            Method::GET,
            &format!("/api/assets/{broken}/thumbnail"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(
        (missing.status, missing.message()),
        (StatusCode::NOT_FOUND, "Asset media not found")
    );
    let cleared = server
        .call(
            Method::PUT,
            "/api/jobs/thumbnailGeneration",
            Some(&admin),
            Some(json!({"command": "clear-failed"})),
        )
        .await;
    assert_eq!(cleared.body["jobCounts"]["failed"], json!(0));
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heic_and_video_get_thumbnails_and_videos_play_in_ranges() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let dir = temp_dir();
    let heic = dir.join("night.heic");
    fixtures::heic(&heic, 60);
    let mp4 = dir.join("clip.mp4");
    fixtures::mp4(&mp4, 70);
    let heic_id = upload_file(&server, &admin, &heic).await;
    let video_id = upload_file(&server, &admin, &mp4).await;

    let photo = wait_for(&server, &admin, &heic_id, |a| a["thumbhash"].is_string()).await;
    assert_eq!(
        (photo["width"].clone(), photo["height"].clone()),
        (json!(320), json!(240))
    );
    let video = wait_for(&server, &admin, &video_id, |a| a["thumbhash"].is_string()).await;
    assert_eq!(video["type"], json!("VIDEO"));
    assert!(video["duration"].as_i64().unwrap() >= 900, "{}", video["duration"]);
    let thumbnail = server
        .send(
            server
                .request(Method::GET, &format!("/api/assets/{video_id}/thumbnail"))
                .bearer_auth(&admin),
        )
        .await;
    assert_eq!(thumbnail.headers["content-type"], "image/webp");

    let bytes = std::fs::read(&mp4).unwrap();
    let ranged = server
        .send(
            server
                .request(Method::GET, &format!("/api/assets/{video_id}/video/playback"))
                .bearer_auth(&admin)
                .header("range", "bytes=0-99"),
        )
        .await;
    assert_eq!(ranged.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(ranged.bytes, bytes[..100]);
    assert_eq!(ranged.headers["content-type"], "video/mp4");
    let not_video = server
        .call(
            Method::GET,
            &format!("/api/assets/{heic_id}/video/playback"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(not_video.message(), "Asset not found or asset is not a video");

    // Filmed with the phone upright: stored 320×240 with a display matrix turning it a quarter
    // clockwise (as phones write it, exiftool Rotation 90), shown 240×320.
    let upright = dir.join("upright.mp4");
    let turned = std::process::Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-y",
            "-i",
            mp4.to_str().unwrap(),
            "-c",
            "copy",
            "-metadata:s:v:0",
            "rotate=270",
            upright.to_str().unwrap(),
        ])
        .status()
        .unwrap();
    assert!(turned.success());
    let upright_id = upload_file(&server, &admin, &upright).await;
    let upright = wait_for(&server, &admin, &upright_id, |a| a["thumbhash"].is_string()).await;
    assert_eq!(
        (
            upright["width"].clone(),
            upright["height"].clone(),
            upright["exifInfo"]["orientation"].clone()
        ),
        (json!(240), json!(320), json!("6"))
    );
    let preview = server
        .send(
            server
                .request(Method::GET, &format!("/api/assets/{upright_id}/thumbnail?size=preview"))
                .bearer_auth(&admin),
        )
        .await;
    let picture = image::load_from_memory(&preview.bytes).unwrap();
    assert_eq!(
        (picture.width(), picture.height()),
        (240, 320),
        "the preview stands upright too"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_files_fail_their_jobs_without_hurting_the_worker() {
    let server = TestServer::start_with(&[
        ("DARKROOM_MEDIA_TOOL_TIMEOUT_SECONDS", "2"),
        ("DARKROOM_MAX_IMAGE_PIXELS", "50000000"),
    ])
    .await;
    let admin = server.admin_token().await;
    let dir = temp_dir();

    // A decompression bomb: a PNG header claiming 100,000 × 100,000 pixels.
    let mut bomb = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR".to_vec();
    bomb.extend(100_000u32.to_be_bytes());
    bomb.extend(100_000u32.to_be_bytes());
    bomb.extend([8, 2, 0, 0, 0]);
    let crc = crc32(&bomb[12..]);
    bomb.extend(crc.to_be_bytes());
    bomb.extend(b"\x00\x00\x00\x00IEND\xaeB`\x82");
    let bomb_id = server.upload(&admin, "bomb.png", &bomb, &[]).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();

    // A truncated JPEG, and a video whose file never delivers a byte (a FIFO): its tools hang.
    let jpeg = dir.join("whole.jpg");
    fixtures::jpeg_with_exif(&jpeg, 80);
    let whole = std::fs::read(&jpeg).unwrap();
    let truncated_id = server
        .upload(&admin, "truncated.jpg", &whole[..whole.len() / 3], &[])
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    server
        .call(
            Method::PUT,
            "/api/jobs/metadataExtraction",
            Some(&admin),
            Some(json!({"command": "pause"})),
        )
        .await;
    let mp4 = dir.join("hang.mp4");
    fixtures::mp4(&mp4, 90);
    let hang_id = upload_file(&server, &admin, &mp4).await;
    let stored = server
        .call(Method::GET, &format!("/api/assets/{hang_id}"), Some(&admin), None)
        .await
        .body["originalPath"]
        .as_str()
        .unwrap()
        .to_string();
    std::fs::remove_file(&stored).unwrap();
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&stored)
            .status()
            .unwrap()
            .success()
    );
    server
        .call(
            Method::PUT,
            "/api/jobs/metadataExtraction",
            Some(&admin),
            Some(json!({"command": "resume"})),
        )
        .await;

    // The hang is cut off and the worker goes on with the next file.
    let mut reasons = Vec::new();
    for _ in 0..200 {
        let failed: Vec<Value> = server
            .call(
                Method::GET,
                "/api/queues/metadataExtraction/jobs?status=failed",
                Some(&admin),
                None,
            )
            .await
            .body
            .as_array()
            .unwrap()
            .clone();
        if failed.iter().any(|job| job["data"]["id"] == json!(hang_id)) {
            reasons = failed;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!reasons.is_empty(), "the hanging file's job failed");
    let png = dir.join("after.png");
    fixtures::still(&png, 95);
    let after = upload_file(&server, &admin, &png).await;
    wait_for(&server, &admin, &after, |a| a["thumbhash"].is_string()).await;

    // Bomb and truncated file: failed or (for what a decoder could read) done, never a crash.
    for _ in 0..100 {
        let failed = queue(&server, &admin, "thumbnailGeneration").await["statistics"]["failed"]
            .as_u64()
            .unwrap();
        if failed >= 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let failed = server
        .call(
            Method::GET,
            "/api/queues/thumbnailGeneration/jobs?status=failed",
            Some(&admin),
            None,
        )
        .await
        .body;
    assert!(
        failed
            .as_array()
            .unwrap()
            .iter()
            .any(|job| job["data"]["id"] == json!(bomb_id)),
        "{failed}"
    );
    for id in [&bomb_id, &truncated_id, &hang_id] {
        assert_eq!(
            server
                .call(Method::GET, &format!("/api/assets/{id}"), Some(&admin), None)
                .await
                .status,
            StatusCode::OK,
            "the asset stays visible"
        );
    }
    let _ = std::fs::remove_file(&stored);
    std::fs::remove_dir_all(dir).unwrap();
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for byte in bytes {
        crc ^= *byte as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn ffprobe_codec_and_size(path: &std::path::Path) -> (String, u64, u64) {
    let output = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=codec_name,width,height",
            "-of",
            "json",
        ])
        .arg(path)
        .output()
        .unwrap();
    let probe: Value = serde_json::from_slice(&output.stdout).unwrap();
    let stream = &probe["streams"][0];
    (
        stream["codec_name"].as_str().unwrap_or("").to_string(),
        stream["width"].as_u64().unwrap_or(0),
        stream["height"].as_u64().unwrap_or(0),
    )
}

async fn encoded_path(server: &TestServer, id: &str) -> Option<String> {
    let mut db = server.db().await;
    sqlx::query_scalar(r#"SELECT path FROM asset_file WHERE "assetId" = $1::uuid AND type = 'encoded_video'"#)
        .bind(id)
        .fetch_optional(&mut db)
        .await
        .unwrap()
}

async fn wait_for_queue_idle(server: &TestServer, token: &str, queue_name: &str, completed: u64) {
    for _ in 0..400 {
        let stats = queue(server, token, queue_name).await["statistics"].clone();
        if stats["completed"].as_u64().unwrap_or(0) + stats["failed"].as_u64().unwrap_or(0) >= completed
            && stats["active"] == json!(0)
            && stats["waiting"] == json!(0)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{queue_name} did not finish");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn videos_are_converted_as_the_policy_says() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let dir = temp_dir();
    // MPEG-4 Part 2 with PCM sound is not accepted: it must become H.264 with AAC.
    let old = dir.join("old.mov");
    let status = std::process::Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=640x480:rate=10",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440",
            "-t",
            "1",
            "-c:v",
            "mpeg4",
            "-c:a",
            "pcm_s16le",
        ])
        .arg(&old)
        .status()
        .unwrap();
    assert!(status.success());
    // H.264 in MP4 at 1080p is fine as it is under `required`.
    let modern = dir.join("modern.mp4");
    let status = std::process::Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=1920x1080:rate=10",
            "-t",
            "1",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
        ])
        .arg(&modern)
        .status()
        .unwrap();
    assert!(status.success());
    let old_id = upload_file(&server, &admin, &old).await;
    let modern_id = upload_file(&server, &admin, &modern).await;
    wait_for_queue_idle(&server, &admin, "videoConversion", 2).await;

    let converted = encoded_path(&server, &old_id)
        .await
        .expect("the mpeg4 video was converted");
    assert!(
        converted.contains("/encoded-video/") && converted.ends_with(&format!("{old_id}.mp4")),
        "{converted}"
    );
    assert_eq!(
        ffprobe_codec_and_size(std::path::Path::new(&converted)),
        ("h264".to_string(), 640, 480)
    );
    let audio = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "a:0",
            "-show_entries",
            "stream=codec_name",
            "-of",
            "csv=p=0",
            &converted,
        ])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&audio.stdout).trim(),
        "aac",
        "the sound comes along"
    );
    assert!(
        encoded_path(&server, &modern_id).await.is_none(),
        "accepted codec and container: left alone"
    );
    // Playback serves the conversion.
    let played = server
        .send(
            server
                .request(Method::GET, &format!("/api/assets/{old_id}/video/playback"))
                .bearer_auth(&admin),
        )
        .await;
    assert_eq!(played.bytes, std::fs::read(&converted).unwrap());

    // Under `optimal`, the 1080p video is scaled to 720p.
    server
        .update_config(&admin, |config| config["ffmpeg"]["transcode"] = json!("optimal"))
        .await;
    let done_before = queue(&server, &admin, "videoConversion").await["statistics"]["completed"]
        .as_u64()
        .unwrap();
    server
        .call(
            Method::PUT,
            "/api/jobs/videoConversion",
            Some(&admin),
            Some(json!({"command": "start", "force": false})),
        )
        .await;
    wait_for_queue_idle(&server, &admin, "videoConversion", done_before + 1).await;
    let scaled = encoded_path(&server, &modern_id).await.expect("scaled under optimal");
    assert_eq!(
        ffprobe_codec_and_size(std::path::Path::new(&scaled)),
        ("h264".to_string(), 1280, 720)
    );
    let silent = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "a",
            "-show_entries",
            "stream=index",
            "-of",
            "csv=p=0",
            &scaled,
        ])
        .output()
        .unwrap();
    assert!(silent.stdout.is_empty(), "a video without sound stays without");
    std::fs::remove_dir_all(dir).unwrap();
}

fn exiftool_json(path: &str) -> Value {
    let output = std::process::Command::new("exiftool")
        .args(["-j", "-n", path])
        .output()
        .unwrap();
    serde_json::from_slice::<Value>(&output.stdout).unwrap()[0].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_go_to_xmp_sidecars_and_survive_re_extraction() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let dir = temp_dir();
    let jpeg = dir.join("edit.jpg");
    fixtures::jpeg_with_exif(&jpeg, 33);
    let id = upload_file(&server, &admin, &jpeg).await;
    wait_for(&server, &admin, &id, |a| a["thumbhash"].is_string()).await;

    let edit = json!({"description": "Sunset", "rating": 4, "latitude": -33.8568, "longitude": 151.2153, "dateTimeOriginal": "2022-02-02T10:00:00.000+05:30"});
    assert_eq!(
        server
            .call(Method::PUT, &format!("/api/assets/{id}"), Some(&admin), Some(edit))
            .await
            .status,
        StatusCode::OK
    );
    let original = server
        .call(Method::GET, &format!("/api/assets/{id}"), Some(&admin), None)
        .await
        .body["originalPath"]
        .as_str()
        .unwrap()
        .to_string();
    let sidecar = format!("{original}.xmp");
    for _ in 0..200 {
        if std::path::Path::new(&sidecar).exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The sidecar is written, then read back: the asset shows what it says.
    let asset = wait_for(&server, &admin, &id, |a| {
        a["localDateTime"] == json!("2022-02-02T10:00:00.000Z")
    })
    .await;
    let tags = exiftool_json(&sidecar);
    assert_eq!(
        (tags["Description"].clone(), tags["Rating"].clone()),
        (json!("Sunset"), json!(4))
    );
    assert_eq!(tags["DateTimeOriginal"], json!("2022:02:02 10:00:00+05:30"));
    assert_eq!(
        (
            asset["exifInfo"]["description"].clone(),
            asset["exifInfo"]["rating"].clone()
        ),
        (json!("Sunset"), json!(4))
    );
    assert_eq!(asset["exifInfo"]["timeZone"], json!("UTC+5:30"));
    assert_eq!(asset["exifInfo"]["latitude"], json!(-33.8568));
    // A fresh extraction from the file keeps the user's values.
    server
        .call(
            Method::POST,
            "/api/assets/jobs",
            Some(&admin),
            Some(json!({"assetIds": [id], "name": "refresh-metadata"})),
        )
        .await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let refreshed = server
        .call(Method::GET, &format!("/api/assets/{id}"), Some(&admin), None)
        .await
        .body;
    assert_eq!(
        (
            refreshed["exifInfo"]["description"].clone(),
            refreshed["exifInfo"]["make"].clone()
        ),
        (json!("Sunset"), json!("Darkroom"))
    );

    // A sidecar put next to another original is found by the sidecar queue.
    let other = dir.join("other.jpg");
    fixtures::jpeg_with_exif(&other, 44);
    let other_id = upload_file(&server, &admin, &other).await;
    wait_for(&server, &admin, &other_id, |a| a["thumbhash"].is_string()).await;
    let other_path = server
        .call(Method::GET, &format!("/api/assets/{other_id}"), Some(&admin), None)
        .await
        .body["originalPath"]
        .as_str()
        .unwrap()
        .to_string();
    let status = std::process::Command::new("exiftool")
        .args(["-q", "-XMP-dc:Description=From a sidecar"])
        .arg(format!("{other_path}.xmp"))
        .status()
        .unwrap();
    assert!(status.success());
    server
        .call(
            Method::PUT,
            "/api/jobs/sidecar",
            Some(&admin),
            Some(json!({"command": "start", "force": false})),
        )
        .await;
    wait_for(&server, &admin, &other_id, |a| {
        a["exifInfo"]["description"] == json!("From a sidecar")
    })
    .await;
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn motion_photos_give_up_their_video() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let dir = temp_dir();
    let photo = dir.join("PXL_20240101_motion.jpg");
    let video = fixtures::motion_photo(&photo, 12);
    let id = upload_file(&server, &admin, &photo).await;
    let still = wait_for(&server, &admin, &id, |a| {
        a["livePhotoVideoId"].is_string() && a["thumbhash"].is_string()
    })
    .await;
    let video_id = still["livePhotoVideoId"].as_str().unwrap().to_string();
    let motion = server
        .call(Method::GET, &format!("/api/assets/{video_id}"), Some(&admin), None)
        .await
        .body;
    assert_eq!(
        (motion["type"].clone(), motion["visibility"].clone()),
        (json!("VIDEO"), json!("hidden"))
    );
    assert_eq!(motion["originalFileName"], json!("PXL_20240101_motion.mp4"));
    assert!(
        motion["originalPath"].as_str().unwrap().contains("/encoded-video/")
            && motion["originalPath"].as_str().unwrap().ends_with("-MP.mp4")
    );
    let played = server
        .send(
            server
                .request(Method::GET, &format!("/api/assets/{video_id}/video/playback"))
                .bearer_auth(&admin),
        )
        .await;
    assert!(played.bytes == video, "the embedded video, byte for byte");
    let stats = server
        .call(Method::GET, "/api/assets/statistics", Some(&admin), None)
        .await
        .body;
    assert_eq!(
        stats,
        json!({"images": 1, "videos": 0, "total": 1}),
        "the motion part stays out of the timeline"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_still_format_gets_thumbnails_and_full_size_when_enabled() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    server
        .update_config(&admin, |config| config["image"]["fullsize"]["enabled"] = json!(true))
        .await;
    let dir = temp_dir();
    let mut ids = Vec::new();
    // 16-bit PNG, GIF (first frame), TIFF, BMP, WebP, JPEG XL (through ffmpeg), and HEIC
    // (which gets a full-size JPEG).
    for (name, pixel_format) in [
        ("deep.png", Some("rgb48be")),
        ("anim.gif", None),
        ("scan.tiff", None),
        ("old.bmp", None),
        ("web.webp", None),
        ("new.jxl", None),
    ] {
        let path = dir.join(name);
        let mut args = vec![
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x240:rate=5",
            "-frames:v",
            if name.ends_with(".gif") { "3" } else { "1" },
        ];
        if let Some(format) = pixel_format {
            args.extend(["-pix_fmt", format]);
        }
        let path_text = path.to_str().unwrap().to_string();
        args.push(&path_text);
        assert!(
            std::process::Command::new("ffmpeg")
                .args(&args)
                .status()
                .unwrap()
                .success(),
            "{name}"
        );
        ids.push((name, upload_file(&server, &admin, &path).await));
    }
    let heic = dir.join("phone.heic");
    fixtures::heic(&heic, 5);
    let heic_id = upload_file(&server, &admin, &heic).await;
    for (name, id) in &ids {
        let asset = wait_for(&server, &admin, id, |a| a["thumbhash"].is_string()).await;
        assert_eq!(asset["type"], json!("IMAGE"), "{name}");
    }
    wait_for(&server, &admin, &heic_id, |a| a["thumbhash"].is_string()).await;
    let full = server
        .send(
            server
                .request(Method::GET, &format!("/api/assets/{heic_id}/thumbnail?size=fullsize"))
                .bearer_auth(&admin),
        )
        .await;
    assert_eq!(
        (full.status, full.headers["content-type"].to_str().unwrap()),
        (StatusCode::OK, "image/jpeg")
    );
    assert!(full.bytes.starts_with(&[0xFF, 0xD8]));
    std::fs::remove_dir_all(dir).unwrap();
}

/// The colour of the middle pixel of a generated JPEG or WebP.
fn middle_pixel(bytes: &[u8]) -> [u8; 3] {
    let picture = image::load_from_memory(bytes).unwrap().into_rgb8();
    picture.get_pixel(picture.width() / 2, picture.height() / 2).0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wide_gamut_photos_keep_p3_or_become_srgb_as_configured() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let dir = temp_dir();
    // A flat green, tagged Display P3: more saturated than any sRGB green.
    let photo = dir.join("wide.jpg");
    let made = std::process::Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "color=c=0x28C83C:size=64x48",
            "-frames:v",
            "1",
            "-q:v",
            "1",
        ])
        .arg(&photo)
        .status()
        .unwrap();
    assert!(made.success());
    let profile = dir.join("p3.icc");
    std::fs::write(&profile, darkroom_media::color::display_p3_profile().unwrap()).unwrap();
    let tagged = std::process::Command::new("exiftool")
        .args([
            "-q",
            "-overwrite_original",
            &format!("-ICC_Profile<={}", profile.display()),
        ])
        .arg(&photo)
        .status()
        .unwrap();
    assert!(tagged.success());
    let id = upload_file(&server, &admin, &photo).await;
    wait_for(&server, &admin, &id, |a| a["thumbhash"].is_string()).await;
    let described: Option<String> =
        sqlx::query_scalar(r#"SELECT "profileDescription" FROM asset_exif WHERE "assetId" = $1::uuid"#)
            .bind(&id)
            .fetch_one(&mut server.db().await)
            .await
            .unwrap();
    assert_eq!(described.as_deref(), Some("Display P3"));

    let fetch = |size: &'static str| {
        let (server, admin, id) = (&server, &admin, &id);
        async move {
            server
                .send(
                    server
                        .request(Method::GET, &format!("/api/assets/{id}/thumbnail?size={size}"))
                        .bearer_auth(admin),
                )
                .await
                .bytes
        }
    };
    // Default `p3`: the pixels stay, and both outputs say they are P3.
    let preview = fetch("preview").await;
    let profile_bytes = std::fs::read(&profile).unwrap();
    assert!(
        preview.windows(12).any(|w| w == b"ICC_PROFILE\0"),
        "the preview carries the profile"
    );
    let [r, g, b] = middle_pixel(&preview);
    assert!(
        r.abs_diff(40) < 8 && g.abs_diff(200) < 8 && b.abs_diff(60) < 8,
        "P3 pixels are kept: {r} {g} {b}"
    );
    let thumbnail = fetch("thumbnail").await;
    let icc_at = thumbnail
        .windows(4)
        .position(|w| w == b"ICCP")
        .expect("the WebP thumbnail carries the profile");
    assert_eq!(
        &thumbnail[icc_at + 8..icc_at + 8 + profile_bytes.len()],
        profile_bytes.as_slice()
    );

    // `srgb`: converted, untagged.
    server
        .update_config(&admin, |config| config["image"]["colorspace"] = json!("srgb"))
        .await;
    let regenerate = server
        .call(
            Method::POST,
            "/api/assets/jobs",
            Some(&admin),
            Some(json!({"assetIds": [id], "name": "regenerate-thumbnail"})),
        )
        .await;
    assert_eq!(regenerate.status, StatusCode::NO_CONTENT);
    let mut converted = Vec::new();
    for _ in 0..200 {
        converted = fetch("preview").await;
        if !converted.windows(12).any(|w| w == b"ICC_PROFILE\0") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        !converted.windows(12).any(|w| w == b"ICC_PROFILE\0"),
        "an sRGB preview needs no profile"
    );
    let [r, g, _] = middle_pixel(&converted);
    assert!(
        r < 20 && g >= 200,
        "P3 green seen in sRGB: red gone, green as strong or stronger ({r} {g})"
    );
    assert!(!fetch("thumbnail").await.windows(4).any(|w| w == b"ICCP"));
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_photos_pair_whichever_part_arrives_first() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let dir = temp_dir();
    let mut pairs = Vec::new();
    for (index, still_first) in [(1u32, true), (2, false)] {
        let (still, video) = (
            dir.join(format!("IMG_000{index}.JPG")),
            dir.join(format!("IMG_000{index}.MOV")),
        );
        fixtures::live_photo(
            &still,
            &video,
            &format!("5A0B6C1D-0000-4000-8000-00000000000{index}"),
            index * 40,
        );
        let (still_id, video_id) = if still_first {
            let still_id = upload_file(&server, &admin, &still).await;
            wait_for(&server, &admin, &still_id, |a| a["thumbhash"].is_string()).await;
            (still_id, upload_file(&server, &admin, &video).await)
        } else {
            let video_id = upload_file(&server, &admin, &video).await;
            wait_for(&server, &admin, &video_id, |a| a["thumbhash"].is_string()).await;
            (upload_file(&server, &admin, &still).await, video_id)
        };
        pairs.push((still_id, video_id));
    }
    for (still_id, video_id) in &pairs {
        let still = wait_for(&server, &admin, still_id, |a| a["livePhotoVideoId"].is_string()).await;
        assert_eq!(&still["livePhotoVideoId"], &json!(video_id));
        let video = wait_for(&server, &admin, video_id, |a| a["visibility"] == json!("hidden")).await;
        assert_eq!(video["type"], json!("VIDEO"));
    }
    let stats = server
        .call(Method::GET, "/api/assets/statistics", Some(&admin), None)
        .await
        .body;
    assert_eq!(
        stats,
        json!({"images": 2, "videos": 0, "total": 2}),
        "the moving parts stay out of the timeline"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_files_show_the_preview_the_camera_embedded() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let dir = temp_dir();
    let dng = dir.join("DSC_0001.dng");
    fixtures::dng(&dng, 7);
    let id = upload_file(&server, &admin, &dng).await;
    let asset = wait_for(&server, &admin, &id, |a| a["thumbhash"].is_string()).await;
    assert_eq!(
        (asset["originalMimeType"].clone(), asset["exifInfo"]["make"].clone()),
        (json!("image/dng"), json!("Darkroom"))
    );
    let preview = server
        .send(
            server
                .request(Method::GET, &format!("/api/assets/{id}/thumbnail?size=preview"))
                .bearer_auth(&admin),
        )
        .await;
    assert_eq!(preview.status, StatusCode::OK);
    let picture = image::load_from_memory(&preview.bytes).unwrap();
    assert_eq!(
        (picture.width(), picture.height()),
        (640, 480),
        "the embedded 640×480 preview, not the 16×16 raw"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hdr_video_is_tone_mapped_to_sdr() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let dir = temp_dir();
    let hdr = dir.join("hdr10.mp4");
    fixtures::hdr10_video(&hdr);
    let id = upload_file(&server, &admin, &hdr).await;
    wait_for(&server, &admin, &id, |a| a["thumbhash"].is_string()).await;
    wait_for_queue_idle(&server, &admin, "videoConversion", 1).await;
    let converted = encoded_path(&server, &id)
        .await
        .expect("10-bit HEVC is converted under the default policy");
    let output = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=codec_name,pix_fmt,color_transfer,color_primaries",
            "-of",
            "json",
            &converted,
        ])
        .output()
        .unwrap();
    let stream = serde_json::from_slice::<Value>(&output.stdout).unwrap()["streams"][0].clone();
    assert_eq!(stream["codec_name"], json!("h264"));
    assert_eq!(stream["pix_fmt"], json!("yuv420p"), "8-bit SDR");
    assert_eq!(
        (stream["color_transfer"].clone(), stream["color_primaries"].clone()),
        (json!("bt709"), json!("bt709")),
        "{stream}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

async fn user_id(server: &TestServer, token: &str) -> String {
    server.call(Method::GET, "/api/users/me", Some(token), None).await.body["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn count(server: &TestServer, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&mut server.db().await).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nightly_tasks_clean_up_trash_users_sessions_audit_rows_and_quotas() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let admin_id = user_id(&server, &admin).await;
    let dir = temp_dir();
    let (old, recent) = (dir.join("old.jpg"), dir.join("recent.jpg"));
    fixtures::still(&old, 1);
    fixtures::still(&recent, 2);
    let (old_id, recent_id) = (
        upload_file(&server, &admin, &old).await,
        upload_file(&server, &admin, &recent).await,
    );
    let old_file = server
        .call(Method::GET, &format!("/api/assets/{old_id}"), Some(&admin), None)
        .await
        .body["originalPath"]
        .as_str()
        .unwrap()
        .to_string();
    let trashed = server
        .call(
            Method::DELETE,
            "/api/assets",
            Some(&admin),
            Some(json!({"ids": [old_id, recent_id]})),
        )
        .await;
    assert_eq!(trashed.status, StatusCode::NO_CONTENT);
    // A user deleted ten days ago (past the 7-day delay), one deleted yesterday, and their photos.
    let long_gone = server.user_token(&admin, "gone@example.com").await;
    let long_gone_id = user_id(&server, &long_gone).await;
    let photo = dir.join("theirs.jpg");
    fixtures::still(&photo, 3);
    upload_file(&server, &long_gone, &photo).await;
    let yesterday = server.user_token(&admin, "yesterday@example.com").await;
    let yesterday_id = user_id(&server, &yesterday).await;
    for id in [&long_gone_id, &yesterday_id] {
        assert_eq!(
            server
                .call(
                    Method::DELETE,
                    &format!("/api/admin/users/{id}"),
                    Some(&admin),
                    Some(json!({}))
                )
                .await
                .status,
            StatusCode::OK
        );
    }
    let mut db = server.db().await;
    for (sql, id) in [
        (
            r#"UPDATE asset SET "deletedAt" = now() - interval '40 days' WHERE id = $1::uuid"#,
            &old_id,
        ),
        (
            r#"UPDATE "user" SET "deletedAt" = now() - interval '10 days' WHERE id = $1::uuid"#,
            &long_gone_id,
        ),
        (
            r#"UPDATE "user" SET "deletedAt" = now() - interval '1 day' WHERE id = $1::uuid"#,
            &yesterday_id,
        ),
        // A session past its expiry, a quota that drifted, an audit row older than 31 days.
        (
            r#"UPDATE session SET "expiresAt" = now() - interval '1 minute' WHERE id = (SELECT id FROM session WHERE "userId" = $1::uuid LIMIT 1)"#,
            &admin_id,
        ),
        (
            r#"UPDATE "user" SET "quotaUsageInBytes" = 1 WHERE id = $1::uuid"#,
            &admin_id,
        ),
        (
            r#"INSERT INTO asset_audit ("assetId", "ownerId", "deletedAt") VALUES (gen_random_uuid(), $1::uuid, now() - interval '40 days')"#,
            &admin_id,
        ),
    ] {
        sqlx::query(sql).bind(id).execute(&mut db).await.unwrap();
    }
    let admin = server
        .login(darkroom_tests::ADMIN_EMAIL, darkroom_tests::ADMIN_PASSWORD)
        .await;

    let state = server.state();
    let config = state.system_config.get(&state.db).await.unwrap();
    darkroom_api::jobs::schedule::queue_nightly(state, &config).await;
    // Five checks, one user removal, and the thumbnails nothing lacks.
    wait_for_queue_idle(&server, &admin, "backgroundTask", 6).await;

    assert_eq!(
        server
            .call(Method::GET, &format!("/api/assets/{old_id}"), Some(&admin), None)
            .await
            .status,
        StatusCode::BAD_REQUEST,
        "past trash.days: gone"
    );
    assert!(!std::path::Path::new(&old_file).exists(), "and its file too");
    assert_eq!(
        server
            .call(Method::GET, &format!("/api/assets/{recent_id}"), Some(&admin), None)
            .await
            .body["isTrashed"],
        json!(true)
    );
    assert_eq!(
        count(
            &server,
            &format!(r#"SELECT count(*) FROM "user" WHERE id = '{long_gone_id}'"#)
        )
        .await,
        0,
        "past user.deleteDelay: gone"
    );
    assert!(
        !server.media.join("upload").join(&long_gone_id).exists(),
        "with their files"
    );
    assert_eq!(
        count(
            &server,
            &format!(r#"SELECT count(*) FROM "user" WHERE id = '{yesterday_id}'"#)
        )
        .await,
        1,
        "still restorable"
    );
    assert_eq!(
        count(&server, r#"SELECT count(*) FROM session WHERE "expiresAt" <= now()"#).await,
        0
    );
    assert_eq!(
        count(
            &server,
            r#"SELECT count(*) FROM asset_audit WHERE "deletedAt" < now() - interval '31 days'"#
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &server,
            &format!(r#"SELECT count(*) FROM asset_audit WHERE "assetId" = '{old_id}'"#)
        )
        .await,
        1,
        "recent deletions stay for mobile sync"
    );
    assert_eq!(
        count(
            &server,
            &format!(r#"SELECT count(*) FROM user_audit WHERE "userId" = '{long_gone_id}'"#)
        )
        .await,
        1
    );
    let usage = count(
        &server,
        &format!(r#"SELECT "quotaUsageInBytes" FROM "user" WHERE id = '{admin_id}'"#),
    )
    .await;
    assert_eq!(
        usage,
        std::fs::metadata(&recent).unwrap().len() as i64,
        "recounted: the trashed photo still counts"
    );

    // A forced delete removes the user at once.
    let forced = server.user_token(&admin, "forced@example.com").await;
    let forced_id = user_id(&server, &forced).await;
    let deleted = server
        .call(
            Method::DELETE,
            &format!("/api/admin/users/{forced_id}"),
            Some(&admin),
            Some(json!({"force": true})),
        )
        .await;
    assert_eq!(deleted.status, StatusCode::OK);
    for _ in 0..200 {
        if count(
            &server,
            &format!(r#"SELECT count(*) FROM "user" WHERE id = '{forced_id}'"#),
        )
        .await
            == 0
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        count(
            &server,
            &format!(r#"SELECT count(*) FROM "user" WHERE id = '{forced_id}'"#)
        )
        .await,
        0
    );
    std::fs::remove_dir_all(dir).unwrap();
}

fn backups(server: &TestServer) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(server.media.join("backups"))
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().to_string())
                .filter(|n| n.starts_with("immich-db-backup-"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_backups_by_hand_and_on_schedule() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let created = server
        .call(
            Method::POST,
            "/api/jobs",
            Some(&admin),
            Some(json!({"name": "backup-database"})),
        )
        .await;
    assert_eq!(created.status, StatusCode::NO_CONTENT);
    wait_for_queue_idle(&server, &admin, "backupDatabase", 1).await;
    let first = backups(&server);
    assert_eq!(first.len(), 1, "{first:?}");
    let name = &first[0];
    assert!(name.ends_with(".sql.gz") && name.contains("-v3.2.2-pg"), "{name}");
    let dump = std::process::Command::new("gzip")
        .arg("-dc")
        .arg(server.media.join("backups").join(name))
        .output()
        .unwrap();
    assert!(dump.status.success());
    let sql = String::from_utf8_lossy(&dump.stdout);
    assert!(
        sql.contains("CREATE TABLE public.asset ") && sql.contains("admin@immich.cloud"),
        "a full dump with the data"
    );

    // Jobs Darkroom does not have, and queues nobody starts by name.
    for name in ["person-cleanup", "integrity-missing-files"] {
        assert_eq!(
            server
                .call(Method::POST, "/api/jobs", Some(&admin), Some(json!({ "name": name })))
                .await
                .status,
            StatusCode::BAD_REQUEST
        );
    }
    assert_eq!(
        server
            .call(
                Method::POST,
                "/api/jobs",
                Some(&admin),
                Some(json!({"name": "format-disk"}))
            )
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    let background = server
        .call(
            Method::PUT,
            "/api/jobs/backgroundTask",
            Some(&admin),
            Some(json!({"command": "start"})),
        )
        .await;
    assert_eq!(
        (background.status, background.body["message"].clone()),
        (StatusCode::BAD_REQUEST, json!("Invalid job name: backgroundTask"))
    );

    // Every minute, keeping one: the clock queues the next and the old one goes.
    server
        .update_config(&admin, |config| {
            config["backup"]["database"]["cronExpression"] = json!("* * * * *");
            config["backup"]["database"]["keepLastAmount"] = json!(1);
        })
        .await;
    let mut current = first.clone();
    for _ in 0..150 {
        current = backups(&server);
        if current.len() == 1 && current != first {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(
        current.len() == 1 && current != first,
        "a scheduled backup replaced the first: {current:?}"
    );
}
