//! Queues watched, paused and refilled, a dead worker's job taken over, and broken or hostile files failing.

use std::time::Duration;

use darkroom_tests::{TestServer, fixtures};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{queue, temp_dir, upload_file, wait_for};

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
            "/api/jobs/library",
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

/// Entries a worker cannot read as one of its jobs (not JSON, an unknown kind, a payload that
/// does not fit, a kind on the wrong queue) are set aside with their reason in
/// `<queue>:unreadable`, not retried nor left pending to be taken over forever (nor listed among
/// failed jobs, whose names the API restricts to Immich's); the jobs around them still run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreadable_jobs_are_set_aside_with_their_reason() {
    let server = TestServer::start_with(&[("DARKROOM_JOB_RECLAIM_SECONDS", "1")]).await;
    let admin = server.admin_token().await;
    let client = redis::Client::open("redis://127.0.0.1:6379/0").unwrap();
    let mut redis = client.get_multiplexed_async_connection().await.unwrap();
    // The group exists once the server has looked at the queue.
    queue(&server, &admin, "sidecar").await;
    let stream = format!("{}:sidecar:stream", server.database);
    let stored =
        |name: &str, data: Value| json!({"name": name, "data": data, "attempts": 0, "timestamp": 0}).to_string();
    let entries = [
        "not json at all".to_string(),
        stored("NoSuchJob", json!({})),
        stored("SidecarWrite", json!({"id": "not-a-uuid"})),
        stored("DatabaseBackup", json!({})),
    ];
    for entry in &entries {
        let _: String = redis::cmd("XADD")
            .arg(&stream)
            .arg("*")
            .arg("job")
            .arg(entry)
            .query_async(&mut redis)
            .await
            .unwrap();
    }
    let unreadable_key = format!("{}:sidecar:unreadable", server.database);
    let mut unreadable: Vec<String> = Vec::new();
    for _ in 0..100 {
        unreadable = redis::cmd("LRANGE")
            .arg(&unreadable_key)
            .arg(0)
            .arg(-1)
            .query_async(&mut redis)
            .await
            .unwrap();
        if unreadable.len() == entries.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(unreadable.len(), entries.len(), "{unreadable:?}");
    let reasons: Vec<Value> = unreadable
        .iter()
        .map(|text| serde_json::from_str(text).unwrap())
        .collect();
    assert!(
        reasons.iter().any(|r| r["error"]
            .as_str()
            .unwrap()
            .contains("belongs on the backupDatabase queue")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r["data"] == json!("not json at all")),
        "the text is kept: {reasons:?}"
    );
    let statistics = queue(&server, &admin, "sidecar").await["statistics"].clone();
    assert_eq!(
        (
            statistics["failed"].clone(),
            statistics["active"].clone(),
            statistics["waiting"].clone()
        ),
        (json!(0), json!(0), json!(0)),
        "{statistics}"
    );
    // The queues still work.
    let jpeg = temp_dir().join("after.jpg");
    fixtures::jpeg_with_exif(&jpeg, 41);
    let id = upload_file(&server, &admin, &jpeg).await;
    wait_for(&server, &admin, &id, |a| a["thumbhash"].is_string()).await;
}
