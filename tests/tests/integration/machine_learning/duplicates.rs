//! Duplicate detection: copies of a photo (the same pixels, other metadata) uploaded apart end
//! up in one group on the `/duplicates` page; a different photo stays out.

use darkroom_tests::ml::{MlService, only};
use darkroom_tests::{TestServer, fixtures};
use reqwest::{Method, StatusCode};
use serde_json::json;

/// A photo and `copies` re-tagged copies of it (other bytes, same pixels).
fn photo_with_copies(seed: u32, copies: usize) -> Vec<Vec<u8>> {
    let path = std::env::temp_dir().join(format!("darkroom-dup-{}.jpg", uuid::Uuid::new_v4().simple()));
    fixtures::jpeg_with_exif(&path, seed);
    let mut files = vec![std::fs::read(&path).unwrap()];
    for copy in 0..copies {
        let status = std::process::Command::new("exiftool")
            .args(["-q", "-overwrite_original", &format!("-Model=Copy {copy}")])
            .arg(&path)
            .status()
            .unwrap();
        assert!(status.success());
        files.push(std::fs::read(&path).unwrap());
    }
    std::fs::remove_file(&path).unwrap();
    files
}

async fn upload(server: &TestServer, token: &str, name: &str, bytes: &[u8]) -> String {
    let reply = server.upload(token, name, bytes, &[]).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body["id"].as_str().unwrap().to_string()
}

async fn wait_for_detection(server: &TestServer, ml: &MlService, count: i64) {
    let mut db = server.db().await;
    for _ in 0..600 {
        let done: i64 =
            sqlx::query_scalar(r#"SELECT count(*) FROM asset_job_status WHERE "duplicatesDetectedAt" IS NOT NULL"#)
                .fetch_one(&mut db)
                .await
                .unwrap();
        if done >= count {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!(
        "duplicates were never looked for on {count} assets; darkroom-ml said:\n{}",
        ml.log_text()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn copies_of_a_photo_form_one_group() {
    let ml = MlService::start();
    let server = TestServer::start_with(&[("IMMICH_MACHINE_LEARNING_URL", &ml.url)]).await;
    let admin = server.admin_token().await;
    server
        .update_config(&admin, |config| only(config, &["clip", "duplicates"]))
        .await;
    let files = photo_with_copies(21, 2);
    let original = upload(&server, &admin, "original.jpg", &files[0]).await;
    let other = upload(&server, &admin, "other.jpg", &photo_with_copies(99, 0)[0]).await;
    wait_for_detection(&server, &ml, 2).await;
    let first_copy = upload(&server, &admin, "copy-1.jpg", &files[1]).await;
    let second_copy = upload(&server, &admin, "copy-2.jpg", &files[2]).await;
    wait_for_detection(&server, &ml, 4).await;

    let features = server.call(Method::GET, "/api/server/features", None, None).await.body;
    assert_eq!(features["duplicateDetection"], json!(true), "{features}");
    let groups = server.call(Method::GET, "/api/duplicates", Some(&admin), None).await;
    assert_eq!(groups.status, StatusCode::OK, "{}", groups.body);
    let groups = groups.body.as_array().unwrap().clone();
    assert_eq!(groups.len(), 1, "{groups:?}");
    let mut members: Vec<String> = groups[0]["assets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|asset| asset["id"].as_str().unwrap().to_string())
        .collect();
    members.sort();
    let mut expected = vec![original, first_copy, second_copy];
    expected.sort();
    assert_eq!(members, expected);
    assert!(!members.contains(&other));

    // Looking again ("all" on the jobs page) finds the same group.
    let started = server
        .call(
            Method::PUT,
            "/api/jobs/duplicateDetection",
            Some(&admin),
            Some(json!({"command": "start", "force": true})),
        )
        .await;
    assert!(started.status.is_success(), "{}", started.body);
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let again = server
        .call(Method::GET, "/api/duplicates", Some(&admin), None)
        .await
        .body;
    assert_eq!(again.as_array().unwrap().len(), 1, "{again}");
    assert_eq!(again[0]["duplicateId"], groups[0]["duplicateId"]);
}
