//! Scheduled maintenance: the nightly clean-up of trash, users, sessions, audit rows and quotas, and database backups.

use std::time::Duration;

use darkroom_tests::{TestServer, fixtures};
use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{back_up_now, temp_dir, upload_file, wait_for_queue_idle};

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
    let config = state.system_config.typed(&state.db).await.unwrap();
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
    back_up_now(&server, &admin).await;
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
