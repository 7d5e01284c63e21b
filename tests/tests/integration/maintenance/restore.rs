//! Restores through maintenance mode: a backup put back with its progress on the socket, a
//! corrupt one and one without an admin refused with the database as it was, and an empty
//! server restoring another's backup from its setup screen.

use darkroom_tests::{Reply, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};

use super::{enter_maintenance, maintenance_cookie, wait_for_mode, wait_for_status, with_cookie};
use crate::jobs::back_up_now;

async fn album_names(server: &TestServer, token: &str) -> Vec<String> {
    let albums = server.call(Method::GET, "/api/albums", Some(token), None).await;
    assert_eq!(albums.status, StatusCode::OK, "{}", albums.body);
    let mut names: Vec<String> = albums
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["albumName"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

async fn new_album(server: &TestServer, token: &str, name: &str) {
    let album = server
        .call(
            Method::POST,
            "/api/albums",
            Some(token),
            Some(json!({"albumName": name})),
        )
        .await;
    assert_eq!(album.status, StatusCode::CREATED);
}

/// The newest backup the server wrote.
async fn newest_backup(server: &TestServer, admin: &str) -> String {
    let list = server
        .call(Method::GET, "/api/admin/database-backups", Some(admin), None)
        .await;
    list.body["backups"][0]["filename"].as_str().unwrap().to_owned()
}

/// Uploads a backup as clients send files: in chunks, so the server may answer early.
async fn upload(server: &TestServer, credential: Credential<'_>, name: &'static str, bytes: Vec<u8>) -> Reply {
    let part = darkroom_tests::streamed_part(&bytes).file_name(name);
    let request = server
        .request(Method::POST, "/api/admin/database-backups/upload")
        .multipart(reqwest::multipart::Form::new().part("file", part));
    let request = match credential {
        Credential::Bearer(token) => request.bearer_auth(token),
        Credential::Cookie(cookie) => request.header("cookie", cookie),
    };
    server.send(request).await
}

enum Credential<'a> {
    Bearer(&'a str),
    Cookie(&'a str),
}

/// Asks for a restore of `name` from inside maintenance mode.
async fn restore(server: &TestServer, cookie: &str, name: &str) {
    let asked = with_cookie(
        server,
        Method::POST,
        "/api/admin/maintenance",
        cookie,
        Some(json!({"action": "restore_database", "restoreBackupFilename": name})),
    )
    .await;
    assert_eq!(asked.status, StatusCode::CREATED, "{}", asked.body);
}

/// Waits for a restore to fail; returns the error as the public and the signed-in admin see it.
async fn failure(server: &TestServer, cookie: &str) -> (String, String) {
    let failed = |status: &Value| status["task"] == "error";
    let public = wait_for_status(&server.url, None, failed).await;
    assert_eq!(public["action"], "restore_database");
    let private = wait_for_status(&server.url, Some(cookie), failed).await;
    (
        public["error"].as_str().unwrap().to_owned(),
        private["error"].as_str().unwrap().to_owned(),
    )
}

async fn leave(server: &TestServer, cookie: &str) {
    let ended = with_cookie(
        server,
        Method::POST,
        "/api/admin/maintenance",
        cookie,
        Some(json!({"action": "end"})),
    )
    .await;
    assert_eq!(ended.status, StatusCode::CREATED);
    wait_for_mode(&server.url, false).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_backup_is_restored_from_maintenance_mode_and_a_bad_one_changes_nothing() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let user = server.user_token(&admin, "restorer@example.com").await;
    new_album(&server, &user, "Été").await;
    back_up_now(&server, &admin).await;
    let backup = newest_backup(&server, &admin).await;
    new_album(&server, &user, "after").await;
    let other = server.sibling(&[]).await;
    let other_url = other.url.clone().unwrap();

    let cookie = enter_maintenance(&server, &admin).await;
    // The maintenance page, signed in, follows the restore on its socket.
    let mut listener = darkroom_tests::listen_to_events(&server.url, &format!("cookie:{cookie}"), 60, "AppRestartV1");
    let mut heard = BufReader::new(listener.stdout.take().unwrap()).lines();
    assert_eq!(heard.next_line().await.unwrap().unwrap(), "connected {}");
    restore(&server, &cookie, &backup).await;
    wait_for_mode(&server.url, false).await;
    let mut tasks = Vec::new();
    while let Some(line) = heard.next_line().await.unwrap() {
        let event: Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("{line} after {tasks:?}"));
        if event["event"] == "AppRestartV1" {
            assert_eq!(event["args"][0], json!({"isMaintenanceMode": false}));
            break;
        }
        assert_eq!(event["event"], "MaintenanceStatusV1", "{line}");
        let status = &event["args"][0];
        assert_eq!(
            (status["active"].as_bool(), status["action"].as_str()),
            (Some(true), Some("restore_database"))
        );
        // The first says only which action began.
        if let Some(task) = status["task"].as_str()
            && tasks.last().is_none_or(|last| last != task)
        {
            tasks.push(task.to_owned());
        }
    }
    let order = ["ready", "backup", "restore", "migrations"];
    let positions: Vec<usize> = tasks
        .iter()
        .map(|t| order.iter().position(|o| o == t).unwrap())
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]) && tasks.contains(&"restore".to_owned()),
        "{tasks:?}"
    );

    // As at the backup: the later album is gone, the user's session still works, in the other
    // API process too.
    assert_eq!(album_names(&server, &user).await, ["Été"]);
    wait_for_mode(&other_url, false).await;
    let seen_there: Value = darkroom_tests::browser_like_client()
        .get(format!("{other_url}/api/albums"))
        .bearer_auth(&user)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(seen_there[0]["albumName"], "Été", "{seen_there}");
    assert_eq!(seen_there.as_array().unwrap().len(), 1);

    // A backup that is not SQL: the public sees that it failed, the admin why.
    let uploaded = upload(
        &server,
        Credential::Bearer(&admin),
        "corrupted.sql",
        b"IM CORRUPTED;".to_vec(),
    )
    .await;
    assert_eq!(uploaded.status, StatusCode::CREATED);
    let asked = server
        .call(
            Method::POST,
            "/api/admin/maintenance",
            Some(&admin),
            Some(json!({"action": "restore_database", "restoreBackupFilename": "uploaded-corrupted.sql"})),
        )
        .await;
    assert_eq!(asked.status, StatusCode::CREATED);
    let cookie = maintenance_cookie(&asked);
    let (public, private) = failure(&server, &cookie).await;
    assert_eq!(public, "Something went wrong, see logs!");
    assert!(private.contains("IM CORRUPTED"), "{private}");
    leave(&server, &cookie).await;
    assert_eq!(album_names(&server, &user).await, ["Été"]);

    // A backup without an admin (uploaded in maintenance mode) is rolled back.
    let cookie = enter_maintenance(&server, &admin).await;
    let uploaded = upload(
        &server,
        Credential::Cookie(&cookie),
        "empty.sql",
        b"SELECT 1;\n".to_vec(),
    )
    .await;
    assert_eq!(uploaded.status, StatusCode::CREATED, "{}", uploaded.body);
    restore(&server, &cookie, "uploaded-empty.sql").await;
    let (_, private) = failure(&server, &cookie).await;
    assert!(
        private.contains("Server health check failed, no admin exists."),
        "{private}"
    );
    leave(&server, &cookie).await;
    assert_eq!(album_names(&server, &user).await, ["Été"]);
    let me = server.call(Method::GET, "/api/users/me", Some(&admin), None).await;
    assert_eq!(me.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_empty_server_restores_another_servers_backup_from_its_setup_screen() {
    let old = TestServer::start().await;
    let admin = old.admin_token().await;
    let user = old.user_token(&admin, "moving@example.com").await;
    new_album(&old, &user, "Umzug 🚚").await;
    back_up_now(&old, &admin).await;
    let backup = newest_backup(&old, &admin).await;
    let download = old
        .send(
            old.request(Method::GET, &format!("/api/admin/database-backups/{backup}"))
                .bearer_auth(&admin),
        )
        .await;
    assert_eq!(download.status, StatusCode::OK);
    let configured = old
        .call(Method::POST, "/api/admin/database-backups/start-restore", None, None)
        .await;
    assert_eq!(
        (configured.status, configured.message()),
        (StatusCode::BAD_REQUEST, "The server already has an admin")
    );

    let fresh = TestServer::start().await;
    let started = fresh
        .call(Method::POST, "/api/admin/database-backups/start-restore", None, None)
        .await;
    assert_eq!(started.status, StatusCode::CREATED);
    let cookie = maintenance_cookie(&started);
    wait_for_mode(&fresh.url, true).await;
    let status = fresh
        .call(Method::GET, "/api/admin/maintenance/status", None, None)
        .await;
    assert_eq!(
        status.body,
        json!({"active": true, "action": "select_database_restore"})
    );
    let uploaded = upload(
        &fresh,
        Credential::Cookie(&cookie),
        "from-the-old-server.sql.gz",
        download.bytes,
    )
    .await;
    assert_eq!(uploaded.status, StatusCode::CREATED, "{}", uploaded.body);
    let listed = with_cookie(&fresh, Method::GET, "/api/admin/database-backups", &cookie, None).await;
    assert_eq!(
        listed.body["backups"][0]["filename"],
        "uploaded-from-the-old-server.sql.gz"
    );
    restore(&fresh, &cookie, "uploaded-from-the-old-server.sql.gz").await;
    wait_for_mode(&fresh.url, false).await;

    // The admin signs in with their password; the user's session came along.
    fresh
        .login(darkroom_tests::ADMIN_EMAIL, darkroom_tests::ADMIN_PASSWORD)
        .await;
    assert_eq!(album_names(&fresh, &user).await, ["Umzug 🚚"]);
}
