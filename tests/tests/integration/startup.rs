//! Start-up: configuration errors, media-folder mount checks, and the web app beside the API.

use darkroom_tests::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::json;

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("darkroom-{name}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn startup_error(started: Result<TestServer, String>) -> String {
    match started {
        Ok(_) => panic!("start-up must fail"),
        Err(error) => error,
    }
}

#[tokio::test]
async fn a_broken_config_file_stops_start_up_with_one_clear_line() {
    let dir = temp_dir("config");
    let file = dir.join("immich.json");
    std::fs::write(&file, "{ \"ffmpeg\": { \"crf\": ").unwrap();
    let error = startup_error(TestServer::try_start_with(&[("IMMICH_CONFIG_FILE", file.to_str().unwrap())]).await);
    assert!(error.starts_with("IMMICH_CONFIG_FILE: "), "{error}");
    assert!(error.contains(file.to_str().unwrap()), "{error}");
    assert!(!error.contains('\n'), "one line: {error}");

    std::fs::write(&file, r#"{"ffmpeg": {"crf": "high"}}"#).unwrap();
    let error = startup_error(TestServer::try_start_with(&[("IMMICH_CONFIG_FILE", file.to_str().unwrap())]).await);
    assert!(error.contains("ffmpeg.crf"), "names the bad setting: {error}");

    let missing = dir.join("missing.yaml");
    let error = startup_error(TestServer::try_start_with(&[("IMMICH_CONFIG_FILE", missing.to_str().unwrap())]).await);
    assert!(error.contains("cannot read"), "{error}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn bad_environment_values_are_named() {
    let error = startup_error(TestServer::try_start_with(&[("IMMICH_PORT", "http")]).await);
    assert!(error.contains("IMMICH_PORT"), "{error}");
    let error = startup_error(TestServer::try_start_with(&[("REDIS_PASSWORD_FILE", "/nonexistent/secret")]).await);
    assert!(
        error.contains("REDIS_PASSWORD_FILE") && error.contains("/nonexistent/secret"),
        "{error}"
    );
}

#[tokio::test]
async fn db_url_from_a_file_wins_over_the_parts() {
    let mut server = TestServer::start().await;
    let dir = temp_dir("secrets");
    let url_file = dir.join("db_url");
    std::fs::write(
        &url_file,
        format!("postgres://postgres:postgres@127.0.0.1:5432/{}\n", server.database),
    )
    .unwrap();
    server.set_env("DB_HOSTNAME", "db.invalid");
    server.set_env("DB_URL_FILE", url_file.to_str().unwrap());
    server.restart().await.expect("DB_URL_FILE names the database");
    assert_eq!(
        server.call(Method::GET, "/api/server/ping", None, None).await.status,
        StatusCode::OK
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn an_unmounted_media_folder_stops_start_up() {
    let mut server = TestServer::start().await;
    let marker = server.media.join("upload/.immich");
    assert!(marker.exists(), "first start writes the markers");
    std::fs::remove_file(&marker).unwrap();

    let error = server
        .restart()
        .await
        .expect_err("a folder seen before lost its marker");
    assert!(error.contains("media folder check failed"), "{error}");
    assert!(error.contains("upload"), "{error}");

    server.set_env("IMMICH_IGNORE_MOUNT_CHECK_ERRORS", "true");
    server.restart().await.expect("ignored on request");
    let ping = server.call(Method::GET, "/api/server/ping", None, None).await;
    assert_eq!(ping.status, StatusCode::OK);
}

#[tokio::test]
async fn the_web_app_is_served_beside_the_api() {
    let build = temp_dir("build");
    let www = build.join("www");
    let immutable = www.join("_app/immutable/entry");
    std::fs::create_dir_all(&immutable).unwrap();
    std::fs::write(www.join("index.html"), "<!doctype html><title>Immich</title>").unwrap();
    std::fs::write(immutable.join("app.3f2a.js"), "console.log('plain')").unwrap();
    std::fs::write(immutable.join("app.3f2a.js.br"), "brotli bytes").unwrap();
    std::fs::write(immutable.join("app.3f2a.js.gz"), "gzip bytes").unwrap();
    std::fs::write(www.join("favicon.ico"), [0u8, 0, 1, 0]).unwrap();
    let server = TestServer::start_with(&[("IMMICH_BUILD_DATA", build.to_str().unwrap())]).await;

    // Precompressed files must arrive as they are on disk: a client that decodes nothing.
    let raw = darkroom_tests::raw_client();
    let get = |path: &'static str, encoding: Option<&'static str>| {
        let mut request = raw.get(format!("{}{path}", server.url));
        if let Some(encoding) = encoding {
            request = request.header("accept-encoding", encoding);
        }
        async move {
            let response = request.send().await.expect("send");
            let (status, headers) = (response.status(), response.headers().clone());
            let bytes = response.bytes().await.expect("body").to_vec();
            let body = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
            darkroom_tests::Reply {
                status,
                headers,
                body,
                bytes,
            }
        }
    };
    let header = |reply: &darkroom_tests::Reply, name: &str| {
        reply
            .headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    };

    for deep_link in [
        "/",
        "/photos/5b2f1b8a-8b6c-4f0e-9a53-1f6d2a0c9e11",
        "/albums",
        "/auth/login",
    ] {
        let page = get(deep_link, None).await;
        assert_eq!(page.status, StatusCode::OK, "{deep_link}");
        assert_eq!(page.bytes, b"<!doctype html><title>Immich</title>", "{deep_link}");
        assert!(header(&page, "content-type").starts_with("text/html"), "{deep_link}");
        assert_eq!(header(&page, "cache-control"), "no-cache", "{deep_link}");
    }

    let brotli = get("/_app/immutable/entry/app.3f2a.js", Some("br, gzip")).await;
    assert_eq!(
        (brotli.bytes.as_slice(), header(&brotli, "content-encoding")),
        (&b"brotli bytes"[..], "br".to_string())
    );
    assert_eq!(header(&brotli, "cache-control"), "public, max-age=31536000, immutable");
    assert!(header(&brotli, "content-type").contains("javascript"));
    let gzip = get("/_app/immutable/entry/app.3f2a.js", Some("gzip")).await;
    assert_eq!(
        (gzip.bytes.as_slice(), header(&gzip, "content-encoding")),
        (&b"gzip bytes"[..], "gzip".to_string())
    );
    let plain = get("/_app/immutable/entry/app.3f2a.js", None).await;
    assert_eq!(plain.bytes, b"console.log('plain')");
    assert_eq!(header(&plain, "content-encoding"), "");

    let missing_asset = get("/_app/immutable/entry/gone.0000.js", None).await;
    assert_eq!(
        missing_asset.status,
        StatusCode::NOT_FOUND,
        "never index.html under an immutable name"
    );
    let icon = get("/favicon.ico", None).await;
    assert_eq!(icon.bytes, [0u8, 0, 1, 0]);

    // The API keeps its own answers.
    let unknown = get("/api/nothing-here", None).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.body["message"], json!("Cannot GET /api/nothing-here"));
    assert_eq!(get("/api/server/ping", None).await.body, json!({"res": "pong"}));
    assert_eq!(
        get("/.well-known/immich", None).await.body,
        json!({"api": {"endpoint": "/api"}})
    );
    drop(server);
    std::fs::remove_dir_all(build).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_link_pages_carry_their_preview_card() {
    let build = temp_dir("build");
    let www = build.join("www");
    std::fs::create_dir_all(&www).unwrap();
    std::fs::write(
        www.join("index.html"),
        "<!doctype html><head><!-- metadata:tags --></head>",
    )
    .unwrap();
    let server = TestServer::start_with(&[("IMMICH_BUILD_DATA", build.to_str().unwrap())]).await;
    let owner = server.admin_token().await;
    let photo = server
        .upload(&owner, "a.png", b"\x89PNG\r\n\x1a\n not really", &[])
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let album = server
        .call(
            Method::POST,
            "/api/albums",
            Some(&owner),
            Some(json!({"albumName": "Ski <trip>", "assetIds": [photo]})),
        )
        .await
        .body["id"]
        .clone();
    let link = server
        .call(
            Method::POST,
            "/api/shared-links",
            Some(&owner),
            Some(json!({"type": "ALBUM", "albumId": album, "slug": "ski"})),
        )
        .await
        .body;
    let key = link["key"].as_str().unwrap().to_string();
    let page = |path: String| {
        let server = &server;
        async move {
            server
                .send(server.request(Method::GET, &path).header("host", "photos.example.com"))
                .await
        }
    };

    let card = page(format!("/share/{key}")).await;
    assert_eq!(card.status, StatusCode::OK);
    let html = String::from_utf8(card.bytes.clone()).unwrap();
    assert!(
        html.contains(r#"<meta property="og:title" content="Ski &lt;trip&gt;" />"#),
        "{html}"
    );
    assert!(
        html.contains(r#"<meta property="og:description" content="1 shared photos &amp; videos" />"#),
        "{html}"
    );
    assert!(
        html.contains(&format!(
            r#"content="http://photos.example.com/api/assets/{photo}/thumbnail?key={key}""#
        )),
        "{html}"
    );
    assert_eq!(card.headers["cache-control"], "no-store");
    assert_eq!(page("/s/ski".to_string()).await.bytes, card.bytes, "by slug alike");
    // An empty Host header leaves no domain to point at: the card falls back to Immich's public site.
    let hostless = server
        .send(server.request(Method::GET, &format!("/share/{key}")).header("host", ""))
        .await;
    let html = String::from_utf8(hostless.bytes).unwrap();
    assert!(
        html.contains(&format!(
            r#"<meta property="og:image" content="https://my.immich.app/api/assets/{photo}/thumbnail?key={key}""#
        )),
        "{html}"
    );
    assert_eq!(page("/share/not-a-key".to_string()).await.status, StatusCode::NOT_FOUND);

    let guarded = server
        .call(
            Method::POST,
            "/api/shared-links",
            Some(&owner),
            Some(json!({"type": "ALBUM", "albumId": album, "password": "secret"})),
        )
        .await
        .body;
    let private = page(format!("/share/{}", guarded["key"].as_str().unwrap())).await;
    assert_eq!(private.status, StatusCode::OK);
    assert!(
        !String::from_utf8_lossy(&private.bytes).contains("og:"),
        "a password-protected link shows no card"
    );
    // GHSA-24fq-72x8-v7hm (CVE-2026-40096): a quote in an album's name cannot add an attribute
    // to the card, such as a refresh to another site.
    let renamed = server
        .call(
            Method::PATCH,
            &format!("/api/albums/{}", album.as_str().unwrap()),
            Some(&owner),
            Some(json!({"albumName": r#"0;url=https://example.com" http-equiv="refresh"#})),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK);
    let html = String::from_utf8(page(format!("/share/{key}")).await.bytes).unwrap();
    assert!(
        html.contains(r#"content="0;url=https://example.com&quot; http-equiv=&quot;refresh" />"#),
        "{html}"
    );
    assert!(!html.contains(r#"" http-equiv="refresh"#), "{html}");
    drop(server);
    std::fs::remove_dir_all(build).unwrap();
}

#[tokio::test]
async fn without_a_web_build_other_paths_are_json_404s() {
    let server = TestServer::start().await;
    let reply = server.call(Method::GET, "/photos/abc", None, None).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.body["message"], json!("Cannot GET /photos/abc"));
}

#[tokio::test]
async fn start_up_sweeps_what_interrupted_uploads_left() {
    let mut server = TestServer::start().await;
    let incoming = server.media.join("upload/.darkroom-incoming");
    std::fs::create_dir_all(&incoming).unwrap();
    std::fs::write(incoming.join("crashed.part"), vec![0u8; 1000]).unwrap();
    let orphan = server.media.join("upload/.darkroom-resumable");
    std::fs::create_dir_all(&orphan).unwrap();
    std::fs::write(
        orphan.join(format!("{}.part", uuid::Uuid::new_v4())),
        b"no row knows me",
    )
    .unwrap();
    server.restart().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(std::fs::read_dir(&incoming).unwrap().count(), 0);
    assert_eq!(std::fs::read_dir(&orphan).unwrap().count(), 0);
}

/// A newer Darkroom migrates an older one's database in place, from the repository's first
/// schema on; an older Darkroom than its database stops before writing anything.
#[tokio::test(flavor = "multi_thread")]
async fn an_older_schema_is_migrated_in_place_and_a_newer_one_refused() {
    let mut server = TestServer::start().await;
    let mut db = server.db().await;
    sqlx::raw_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public; CREATE EXTENSION IF NOT EXISTS vector;")
        .execute(&mut db)
        .await
        .unwrap();
    let mut oldest = sqlx::migrate!("../migrations");
    oldest.migrations = std::borrow::Cow::Owned(oldest.migrations[..1].to_vec());
    oldest.run(&mut db).await.unwrap();
    let password = darkroom_api::services::users::hash("Schöne alte Zeit").await.unwrap();
    sqlx::query(
        r#"INSERT INTO "user" (email, name, password, "isAdmin", "shouldChangePassword")
           VALUES ('old@example.com', 'Ältester Nutzer', $1, true, false)"#,
    )
    .bind(password)
    .execute(&mut db)
    .await
    .unwrap();

    server.restart().await.unwrap();
    let token = server.login("old@example.com", "Schöne alte Zeit").await;
    let me = server.call(Method::GET, "/api/users/me", Some(&token), None).await;
    assert_eq!(me.body["name"], "Ältester Nutzer");
    let albums = server.call(Method::GET, "/api/albums", Some(&token), None).await;
    assert_eq!(albums.status, StatusCode::OK, "the later tables exist");

    let count = "SELECT count(*) FROM _sqlx_migrations";
    let before: i64 = sqlx::query_scalar(count).fetch_one(&mut db).await.unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (99991231000000, 'from the future', true, '\\x00', 0)",
    )
    .execute(&mut db)
    .await
    .unwrap();
    let refused = server.restart().await.unwrap_err();
    assert!(
        refused.contains("newer schema than this Darkroom knows") && refused.contains("from the future"),
        "{refused}"
    );
    let after: i64 = sqlx::query_scalar(count).fetch_one(&mut db).await.unwrap();
    assert_eq!(after, before + 1, "nothing was migrated");
}
