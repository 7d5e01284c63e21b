//! Server information, system config (round trips, validation, the read-only config file) and statistics.

use darkroom_tests::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn server_information() {
    let server = TestServer::start().await;
    assert_eq!(
        server.call(Method::GET, "/api/server/ping", None, None).await.body,
        json!({"res": "pong"})
    );
    assert_eq!(
        server.call(Method::GET, "/api/server/version", None, None).await.body,
        json!({"major": 3, "minor": 2, "patch": 2, "prerelease": null})
    );
    let history = server
        .call(Method::GET, "/api/server/version-history", None, None)
        .await;
    assert_eq!(history.body[0]["version"], json!("3.2.2"));
    for path in ["features", "config", "media-types"] {
        assert_eq!(
            server
                .call(Method::GET, &format!("/api/server/{path}"), None, None)
                .await
                .status,
            StatusCode::OK,
            "{path}"
        );
    }
    let types = server.call(Method::GET, "/api/server/media-types", None, None).await;
    assert_eq!(types.body["sidecar"], json!([".xmp"]));
    assert!(types.body["image"].as_array().unwrap().contains(&json!(".heic")));
    for path in ["about", "storage"] {
        assert_eq!(
            server
                .call(Method::GET, &format!("/api/server/{path}"), None, None)
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
    }
    let admin = server.admin_token().await;
    let user = server.user_token(&admin, "u@immich.cloud").await;
    let about = server.call(Method::GET, "/api/server/about", Some(&user), None).await;
    assert_eq!(
        (about.body["version"].clone(), about.body["licensed"].clone()),
        (json!("v3.2.2"), json!(false))
    );
    // The tool versions are always strings (the web's about box and Immich's own suite expect them),
    // empty for the tools Darkroom does not run.
    for tool in ["nodejs", "ffmpeg", "imagemagick", "libvips", "exiftool"] {
        assert!(about.body[tool].is_string(), "{tool}: {}", about.body);
    }
    assert!(
        about.body["exiftool"].as_str().unwrap().starts_with(char::is_numeric),
        "{}",
        about.body
    );
    let storage = server.call(Method::GET, "/api/server/storage", Some(&user), None).await;
    assert!(storage.body["diskSizeRaw"].as_u64().unwrap() > 0);
    assert_eq!(
        server
            .call(Method::GET, "/api/server/license", Some(&user), None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        server
            .call(Method::GET, "/api/server/license", Some(&admin), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        server
            .call(Method::DELETE, "/api/server/license", Some(&admin), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let bad = server
        .call(
            Method::PUT,
            "/api/server/license",
            Some(&admin),
            Some(json!({"licenseKey": "IMCL-AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG-HHHH", "activationKey": "x"})),
        )
        .await;
    assert_eq!(bad.message(), "Invalid license key");
    let malformed = server
        .call(
            Method::PUT,
            "/api/server/license",
            Some(&admin),
            Some(json!({"licenseKey": "nope", "activationKey": "x"})),
        )
        .await;
    assert_eq!(malformed.message(), "Validation failed");
    let links = server
        .call(Method::GET, "/api/server/apk-links", Some(&user), None)
        .await;
    assert!(links.body["universal"].as_str().unwrap().ends_with("app-release.apk"));
    assert_eq!(
        server
            .call(Method::GET, "/api/server/version-check", Some(&user), None)
            .await
            .body,
        json!({"checkedAt": null, "releaseVersion": null})
    );
    let discovery = server.call(Method::GET, "/.well-known/immich", None, None).await;
    assert_eq!(discovery.body, json!({"api": {"endpoint": "/api"}}));
}

#[tokio::test]
async fn system_config_round_trips_and_validates() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let defaults = server
        .call(Method::GET, "/api/system-config/defaults", Some(&admin), None)
        .await;
    let mut config = server
        .call(Method::GET, "/api/system-config", Some(&admin), None)
        .await
        .body;
    assert_eq!(config, defaults.body);
    config["trash"]["days"] = json!(10);
    config["theme"]["customCss"] = json!("body { color: red; }");
    config["server"]["publicUsers"] = json!(false);
    let saved = server
        .call(Method::PUT, "/api/system-config", Some(&admin), Some(config.clone()))
        .await;
    assert_eq!(saved.body["trash"]["days"], json!(10));
    assert_eq!(
        server.call(Method::GET, "/api/server/config", None, None).await.body["trashDays"],
        json!(10)
    );
    let css = server.send(server.request(Method::GET, "/custom.css")).await;
    assert_eq!(
        (css.headers["content-type"].to_str().unwrap(), css.bytes.as_slice()),
        ("text/css; charset=utf-8", b"body { color: red; }".as_slice())
    );
    let user = server.user_token(&admin, "u@immich.cloud").await;
    assert_eq!(
        server
            .call(Method::GET, "/api/users", Some(&user), None)
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        1,
        "publicUsers=false"
    );
    config["ffmpeg"]["transcode"] = json!("sometimes");
    let bad = server
        .call(Method::PUT, "/api/admin/config", Some(&admin), Some(config))
        .await;
    assert_eq!(bad.body["errors"][0]["path"], json!(["ffmpeg", "transcode"]));
    assert_eq!(
        server.call(Method::GET, "/api/public/config", None, None).await.body["theme"]["customCss"],
        json!("body { color: red; }")
    );
    assert_eq!(
        server.call(Method::GET, "/api/config", Some(&user), None).await.body["trash"]["days"],
        json!(10)
    );
    let options = server
        .call(
            Method::GET,
            "/api/system-config/storage-template-options",
            Some(&admin),
            None,
        )
        .await;
    assert!(options.body["presetOptions"].as_array().unwrap().len() > 10);
    // Templates are checked as Immich's strict Handlebars would render them: unknown variables,
    // unknown helpers and unclosed blocks are refused; the presets all pass.
    let mut with_template = server
        .call(Method::GET, "/api/system-config", Some(&admin), None)
        .await
        .body;
    for template in [
        "{{foo}}",
        "{{y}}/{{#if album}}{{album}}",
        "{{#lookup album}}{{/lookup}}/{{filename}}",
    ] {
        with_template["storageTemplate"] =
            json!({"enabled": true, "hashVerificationEnabled": true, "template": template});
        let refused = server
            .call(
                Method::PUT,
                "/api/system-config",
                Some(&admin),
                Some(with_template.clone()),
            )
            .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{template}");
        assert!(
            refused.message().starts_with("Invalid storage template"),
            "{template}: {}",
            refused.message()
        );
    }
    for preset in options.body["presetOptions"].as_array().unwrap() {
        with_template["storageTemplate"]["template"] = preset.clone();
        assert_eq!(
            server
                .call(
                    Method::PUT,
                    "/api/system-config",
                    Some(&admin),
                    Some(with_template.clone())
                )
                .await
                .status,
            StatusCode::OK,
            "{preset}"
        );
    }
    assert_eq!(
        server
            .call(Method::GET, "/api/system-metadata/admin-onboarding", Some(&admin), None)
            .await
            .body,
        json!({"isOnboarded": false})
    );
    assert_eq!(
        server
            .call(
                Method::POST,
                "/api/system-metadata/admin-onboarding",
                Some(&admin),
                Some(json!({"isOnboarded": true}))
            )
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        server.call(Method::GET, "/api/server/config", None, None).await.body["isOnboarded"],
        json!(true)
    );
}

#[tokio::test]
async fn config_file_makes_settings_read_only() {
    let file = std::env::temp_dir().join(format!("darkroom-config-{}.yaml", uuid::Uuid::new_v4()));
    std::fs::write(&file, "trash:\n  days: 3\n").unwrap();
    let server = TestServer::start_with(&[("IMMICH_CONFIG_FILE", file.to_str().unwrap())]).await;
    let admin = server.admin_token().await;
    let config = server
        .call(Method::GET, "/api/system-config", Some(&admin), None)
        .await
        .body;
    assert_eq!(config["trash"]["days"], json!(3));
    let refused = server
        .call(Method::PUT, "/api/system-config", Some(&admin), Some(config))
        .await;
    assert_eq!(
        refused.message(),
        "Cannot update configuration while IMMICH_CONFIG_FILE is in use"
    );
    assert_eq!(
        server.call(Method::GET, "/api/server/features", None, None).await.body["configFile"],
        json!(true)
    );
    std::fs::remove_file(file).unwrap();
}

/// Seeds one asset row (no upload endpoint is involved) and returns its id.
async fn seed_asset(db: &mut sqlx::PgConnection, owner: &str, kind: &str, size: i64, extra: &str) -> uuid::Uuid {
    let id = uuid::Uuid::new_v4();
    let sql = r#"INSERT INTO asset (id, "ownerId", type, "originalPath", "fileCreatedAt", "fileModifiedAt", "localDateTime",
                              checksum, "checksumAlgorithm", "originalFileName")
           VALUES ($1, $2::uuid, $3, '/upload/' || $1, now(), now(), now(), decode(md5($1::text), 'hex'), 'sha1', 'f')"#;
    sqlx::query(sql)
        .bind(id)
        .bind(owner)
        .bind(kind)
        .execute(&mut *db)
        .await
        .expect("seed asset");
    sqlx::query(r#"INSERT INTO asset_exif ("assetId", "fileSizeInByte") VALUES ($1, $2)"#)
        .bind(id)
        .bind(size)
        .execute(&mut *db)
        .await
        .expect("seed exif");
    if !extra.is_empty() {
        sqlx::query(&format!("UPDATE asset SET {extra} WHERE id = $1"))
            .bind(id)
            .execute(&mut *db)
            .await
            .expect("seed update");
    }
    id
}

#[tokio::test]
async fn statistics_count_like_immich() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let user = server.user_token(&admin, "stats@immich.cloud").await;
    let me = server.call(Method::GET, "/api/users/me", Some(&user), None).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let admin_id = server.call(Method::GET, "/api/users/me", Some(&admin), None).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();

    let mut db = server.db().await;
    seed_asset(&mut db, &me, "IMAGE", 100, "").await;
    seed_asset(&mut db, &me, "IMAGE", 200, r#""isFavorite" = true"#).await;
    seed_asset(&mut db, &me, "IMAGE", 300, "visibility = 'archive'").await;
    seed_asset(&mut db, &me, "VIDEO", 1000, "").await;
    seed_asset(&mut db, &me, "VIDEO", 50, "visibility = 'hidden'").await; // a live photo's motion part
    seed_asset(&mut db, &me, "IMAGE", 7, r#""deletedAt" = now(), status = 'trashed'"#).await;
    seed_asset(&mut db, &admin_id, "IMAGE", 5, "").await;

    let stats = |query: &'static str, token: String| {
        let server = &server;
        async move {
            server
                .call(
                    Method::GET,
                    &format!("/api/assets/statistics{query}"),
                    Some(&token),
                    None,
                )
                .await
        }
    };
    assert_eq!(
        stats("", user.clone()).await.body,
        json!({"images": 3, "videos": 1, "total": 4})
    );
    assert_eq!(
        stats("?isFavorite=true", user.clone()).await.body,
        json!({"images": 1, "videos": 0, "total": 1})
    );
    assert_eq!(
        stats("?visibility=archive", user.clone()).await.body,
        json!({"images": 1, "videos": 0, "total": 1})
    );
    assert_eq!(
        stats("?visibility=hidden", user.clone()).await.body,
        json!({"images": 0, "videos": 1, "total": 1})
    );
    assert_eq!(
        stats("?isTrashed=true", user.clone()).await.body,
        json!({"images": 1, "videos": 0, "total": 1})
    );
    assert_eq!(
        stats("?visibility=nope", user.clone()).await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        stats("", admin.clone()).await.body,
        json!({"images": 1, "videos": 0, "total": 1})
    );

    let as_admin = server
        .call(
            Method::GET,
            &format!("/api/admin/users/{me}/statistics?isFavorite=false"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(as_admin.body, json!({"images": 2, "videos": 1, "total": 3}));
    let forbidden = server
        .call(
            Method::GET,
            &format!("/api/admin/users/{me}/statistics"),
            Some(&user),
            None,
        )
        .await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);

    let server_stats = server
        .call(Method::GET, "/api/server/statistics", Some(&admin), None)
        .await;
    assert_eq!(
        server
            .call(Method::GET, "/api/server/statistics", Some(&user), None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let body = &server_stats.body;
    // Hidden and trashed assets are not counted; hidden ones still use space, trashed ones are left out.
    assert_eq!((body["photos"].clone(), body["videos"].clone()), (json!(4), json!(1)));
    assert_eq!(
        (
            body["usage"].clone(),
            body["usagePhotos"].clone(),
            body["usageVideos"].clone()
        ),
        (json!(1655), json!(605), json!(1050))
    );
    let per_user = body["usageByUser"].as_array().unwrap();
    assert_eq!(per_user.len(), 2);
    assert_eq!(per_user[0]["userId"], json!(admin_id), "oldest user first");
    assert_eq!(per_user[1]["photos"], json!(3));
    assert_eq!(per_user[1]["usage"], json!(1650));
    assert_eq!(per_user[1]["quotaSizeInBytes"], json!(null));
}
