//! `/admin/database-backups*` and a restore: back up, wipe, restore, and find everyone and
//! everything as it was.

use darkroom_tests::{Reply, TestServer, fixtures};
use reqwest::{Method, StatusCode};
use serde_json::json;

use super::back_up_now;

async fn listed(server: &TestServer, admin: &str) -> Vec<(String, u64)> {
    let list = server
        .call(Method::GET, "/api/admin/database-backups", Some(admin), None)
        .await;
    assert_eq!(list.status, StatusCode::OK, "{:?}", list.body);
    list.body["backups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            assert!(b["timezone"].is_string());
            (
                b["filename"].as_str().unwrap().to_owned(),
                b["filesize"].as_u64().unwrap(),
            )
        })
        .collect()
}

async fn upload(server: &TestServer, admin: &str, file_name: &'static str, bytes: Vec<u8>) -> Reply {
    // As clients send files: in chunks, so the server may answer while they still arrive.
    let part = darkroom_tests::streamed_part(&bytes).file_name(file_name);
    server
        .send(
            server
                .request(Method::POST, "/api/admin/database-backups/upload")
                .bearer_auth(admin)
                .multipart(reqwest::multipart::Form::new().part("file", part)),
        )
        .await
}

#[tokio::test(flavor = "multi_thread")]
async fn backups_are_listed_downloaded_uploaded_deleted_and_restored() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let user = server.user_token(&admin, "restorer@example.com").await;
    let dir = tempfile::tempdir().unwrap();
    let photo = dir.path().join("photo.jpg");
    fixtures::jpeg_with_exif(&photo, 3);
    let asset = server
        .upload(&user, "photo.jpg", &std::fs::read(&photo).unwrap(), &[])
        .await;
    let asset = asset.body["id"].as_str().unwrap().to_owned();
    let album = server
        .call(
            Method::POST,
            "/api/albums",
            Some(&user),
            Some(json!({"albumName": "Été", "assetIds": [asset]})),
        )
        .await;
    assert_eq!(album.status, StatusCode::CREATED);
    let album = album.body["id"].as_str().unwrap().to_owned();
    assert!(listed(&server, &admin).await.is_empty());

    back_up_now(&server, &admin).await;
    let backups = listed(&server, &admin).await;
    assert_eq!(backups.len(), 1, "{backups:?}");
    let (name, size) = backups[0].clone();

    // Download: the file as it is, gzip.
    let download = server
        .send(
            server
                .request(Method::GET, &format!("/api/admin/database-backups/{name}"))
                .bearer_auth(&admin),
        )
        .await;
    assert_eq!(download.status, StatusCode::OK);
    assert_eq!(download.headers["content-type"], "application/gzip");
    assert_eq!(download.bytes.len() as u64, size);
    assert_eq!(&download.bytes[..2], &[0x1f, 0x8b]);

    // Upload it back under another name; uploaded backups come after the server's own.
    let uploaded = upload(&server, &admin, "from-the-nas.sql.gz", download.bytes.clone()).await;
    assert_eq!(uploaded.status, StatusCode::CREATED, "{:?}", uploaded.body);
    let names: Vec<String> = listed(&server, &admin).await.into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, vec![name.clone(), "uploaded-from-the-nas.sql.gz".to_owned()]);

    // Bad names and other users are refused, and nothing is deleted.
    for bad in ["../../etc/passwd.sql", "notes.txt"] {
        let refused = server
            .call(
                Method::DELETE,
                "/api/admin/database-backups",
                Some(&admin),
                Some(json!({"backups": [name, bad]})),
            )
            .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{bad}");
    }
    let refused = upload(&server, &admin, "evil.sh", b"SELECT 1;".to_vec()).await;
    assert_eq!(
        (refused.status, refused.message()),
        (StatusCode::BAD_REQUEST, "Invalid backup name!")
    );
    // A name Immich refuses too (JavaScript's `\w` is ASCII), on a large body the server
    // answers before it has all arrived; the next request still gets through.
    let big = vec![b'-'; 8 * 1024 * 1024];
    let refused = upload(&server, &admin, "sauvegarde-été.sql.gz", big).await;
    assert_eq!(
        (refused.status, refused.message()),
        (StatusCode::BAD_REQUEST, "Invalid backup name!")
    );
    let forbidden = server
        .call(Method::GET, "/api/admin/database-backups", Some(&user), None)
        .await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    let missing = server
        .call(
            Method::GET,
            "/api/admin/database-backups/immich-db-backup-1.sql.gz",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(listed(&server, &admin).await.len(), 2);

    // After the backup: a new album, then the whole schema gone.
    let later = server
        .call(
            Method::POST,
            "/api/albums",
            Some(&user),
            Some(json!({"albumName": "after"})),
        )
        .await;
    assert_eq!(later.status, StatusCode::CREATED);
    let mut db = server.db().await;
    sqlx::raw_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        .execute(&mut db)
        .await
        .unwrap();
    drop(db);

    darkroom_api::services::database_backups::restore(server.state(), "uploaded-from-the-nas.sql.gz", &|_, _| {})
        .await
        .unwrap();

    // Everyone and everything as at the backup, sessions included: the user's token still works.
    let me = server.call(Method::GET, "/api/users/me", Some(&user), None).await;
    assert_eq!(
        (me.status, me.body["email"].as_str()),
        (StatusCode::OK, Some("restorer@example.com"))
    );
    let albums = server.call(Method::GET, "/api/albums", Some(&user), None).await;
    let names: Vec<&str> = albums
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["albumName"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["Été"]);
    let restored = server
        .call(Method::GET, &format!("/api/albums/{album}"), Some(&user), None)
        .await;
    assert_eq!(restored.body["assetCount"], json!(1), "{:?}", restored.body);
    let restored = server
        .call(Method::GET, &format!("/api/assets/{asset}"), Some(&user), None)
        .await;
    assert_eq!(restored.body["originalFileName"], "photo.jpg");
    let original = server
        .send(
            server
                .request(Method::GET, &format!("/api/assets/{asset}/original"))
                .bearer_auth(&user),
        )
        .await;
    assert_eq!(original.bytes, std::fs::read(&photo).unwrap());
    assert_eq!(
        server
            .call(Method::GET, "/api/users/me", Some(&admin), None)
            .await
            .status,
        StatusCode::OK
    );

    // A restore point was written first; a backup that is not SQL leaves the database alone.
    let names: Vec<String> = listed(&server, &admin).await.into_iter().map(|(n, _)| n).collect();
    assert!(
        names.iter().any(|n| n.starts_with("restore-point-immich-db-backup-")),
        "{names:?}"
    );
    std::fs::write(server.media.join("backups/uploaded-broken.sql"), "THIS IS NOT SQL;").unwrap();
    let error = darkroom_api::services::database_backups::restore(server.state(), "uploaded-broken.sql", &|_, _| {})
        .await
        .unwrap_err();
    assert!(error.to_string().contains("could not be restored"), "{error}");
    assert_eq!(
        server
            .call(Method::GET, "/api/albums", Some(&user), None)
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let deleted = server
        .call(
            Method::DELETE,
            "/api/admin/database-backups",
            Some(&admin),
            Some(json!({"backups": ["uploaded-broken.sql", name]})),
        )
        .await;
    assert_eq!(deleted.status, StatusCode::OK);
    assert!(
        !listed(&server, &admin)
            .await
            .iter()
            .any(|(n, _)| *n == name || n == "uploaded-broken.sql")
    );
}
