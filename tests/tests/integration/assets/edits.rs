//! Editing assets one at a time and in bulk, per-key asset metadata, sidecars and live photos.

use darkroom_tests::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::photo;

#[tokio::test]
async fn sidecars_metadata_and_live_photos() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let other = server.user_token(&admin, "other@immich.cloud").await;
    let video = server.upload(&admin, "IMG_0002.MOV", &photo("motion"), &[]).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let theirs = server.upload(&other, "v.mp4", &photo("theirs"), &[]).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let still = server
        .upload(&admin, "still.jpg", &photo("not a video"), &[])
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();

    let not_video = server
        .upload(
            &admin,
            "IMG_0002.HEIC",
            &photo("still"),
            &[("livePhotoVideoId", &still)],
        )
        .await;
    assert_eq!(not_video.message(), "Live photo video must be a video");
    let foreign = server
        .upload(
            &admin,
            "IMG_0002.HEIC",
            &photo("still"),
            &[("livePhotoVideoId", &theirs)],
        )
        .await;
    assert_eq!(foreign.message(), "Live photo video does not belong to the user");
    let missing = server
        .upload(
            &admin,
            "IMG_0002.HEIC",
            &photo("still"),
            &[("livePhotoVideoId", &uuid::Uuid::new_v4().to_string())],
        )
        .await;
    assert_eq!(missing.message(), "Live photo video not found");

    let metadata = r#"[{"key": "mobile-app", "value": {"cloudId": "abc"}}]"#;
    let form = reqwest::multipart::Form::new()
        .text("fileCreatedAt", "2024-05-01T12:00:00.000Z")
        .text("fileModifiedAt", "2024-05-01T12:00:00.000Z")
        .text("livePhotoVideoId", video.clone())
        .text("metadata", metadata)
        .part(
            "assetData",
            reqwest::multipart::Part::bytes(photo("still")).file_name("IMG_0002.HEIC"),
        )
        .part(
            "sidecarData",
            reqwest::multipart::Part::bytes(b"<x:xmpmeta/>".to_vec()).file_name("IMG_0002.xmp"),
        );
    let created = server
        .send(
            server
                .request(Method::POST, "/api/assets")
                .bearer_auth(&admin)
                .multipart(form),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_str().unwrap();
    let asset = server
        .call(Method::GET, &format!("/api/assets/{id}"), Some(&admin), None)
        .await
        .body;
    assert_eq!(asset["livePhotoVideoId"], json!(video));
    let motion = server
        .call(Method::GET, &format!("/api/assets/{video}"), Some(&admin), None)
        .await
        .body;
    assert_eq!(motion["visibility"], json!("hidden"));

    let mut db = server.db().await;
    let sidecar: String =
        sqlx::query_scalar(r#"SELECT path FROM asset_file WHERE "assetId" = $1::uuid AND type = 'sidecar'"#)
            .bind(id)
            .fetch_one(&mut db)
            .await
            .unwrap();
    assert!(sidecar.ends_with(".xmp"));
    assert_eq!(std::fs::read(&sidecar).unwrap(), b"<x:xmpmeta/>");
    let value: Value =
        sqlx::query_scalar(r#"SELECT value FROM asset_metadata WHERE "assetId" = $1::uuid AND key = 'mobile-app'"#)
            .bind(id)
            .fetch_one(&mut db)
            .await
            .unwrap();
    assert_eq!(value, json!({"cloudId": "abc"}));
}

#[tokio::test]
async fn owners_edit_assets_one_at_a_time_and_in_bulk() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let other = server.user_token(&admin, "other@immich.cloud").await;
    let a = server.upload(&admin, "a.jpg", &photo("edit-a"), &[]).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let b = server.upload(&admin, "b.jpg", &photo("edit-b"), &[]).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let video = server.upload(&admin, "b.mov", &photo("edit-video"), &[]).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();

    let edit = json!({
        "isFavorite": true, "visibility": "archive", "description": "At the beach",
        "dateTimeOriginal": "2023-11-19T18:11:00.000-07:00", "latitude": 48.85, "longitude": 2.35, "rating": -1,
    });
    let updated = server
        .call(Method::PUT, &format!("/api/assets/{a}"), Some(&admin), Some(edit))
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    let body = &updated.body;
    assert_eq!(
        (
            body["isFavorite"].clone(),
            body["isArchived"].clone(),
            body["visibility"].clone()
        ),
        (json!(true), json!(true), json!("archive"))
    );
    assert_eq!(body["exifInfo"]["dateTimeOriginal"], json!("2023-11-20T01:11:00+00:00"));
    assert_eq!(body["exifInfo"]["timeZone"], json!("UTC-7"));
    assert_eq!(
        (body["exifInfo"]["latitude"].clone(), body["exifInfo"]["rating"].clone()),
        (json!(48.85), json!(-1))
    );
    assert_eq!(body["exifInfo"]["description"], json!("At the beach"));
    assert!(
        body.get("owner").is_none() && body.get("stack").is_none(),
        "update answers without relations"
    );
    let mut db = server.db().await;
    let locked: Vec<String> = sqlx::query_scalar(
        r#"SELECT unnest("lockedProperties") FROM asset_exif WHERE "assetId" = $1::uuid ORDER BY 1"#,
    )
    .bind(&a)
    .fetch_all(&mut db)
    .await
    .unwrap();
    assert_eq!(
        locked,
        [
            "dateTimeOriginal",
            "description",
            "latitude",
            "longitude",
            "rating",
            "timeZone"
        ]
    );

    // PATCH is the same route; an empty body changes nothing.
    let unchanged = server
        .call(
            Method::PATCH,
            &format!("/api/assets/{a}"),
            Some(&admin),
            Some(json!({})),
        )
        .await;
    assert_eq!(unchanged.body["exifInfo"]["description"], json!("At the beach"));

    let link = server
        .call(
            Method::PUT,
            &format!("/api/assets/{b}"),
            Some(&admin),
            Some(json!({"livePhotoVideoId": video})),
        )
        .await;
    assert_eq!(link.body["livePhotoVideoId"], json!(video));
    assert_eq!(
        server
            .call(Method::GET, &format!("/api/assets/{video}"), Some(&admin), None)
            .await
            .body["visibility"],
        json!("hidden")
    );
    let unlink = server
        .call(
            Method::PUT,
            &format!("/api/assets/{b}"),
            Some(&admin),
            Some(json!({"livePhotoVideoId": null})),
        )
        .await;
    assert_eq!(unlink.body["livePhotoVideoId"], json!(null));
    assert_eq!(
        server
            .call(Method::GET, &format!("/api/assets/{video}"), Some(&admin), None)
            .await
            .body["visibility"],
        json!("timeline")
    );

    let bad = [
        (
            json!({"rating": 0}),
            "Rating must be -1 (rejected), 1–5 (starred), or null (unrated); 0 is not valid",
        ),
        (json!({"rating": 6}), "Too big: expected number to be <=5"),
        (
            json!({"latitude": 91, "longitude": 0}),
            "Too big: expected number to be <=90",
        ),
        (
            json!({"latitude": 10}),
            "Latitude and longitude must be provided together",
        ),
        (
            json!({"dateTimeOriginal": "soon"}),
            "Invalid input: expected ISO 8601 datetime string, received string",
        ),
        (
            json!({"isFavorite": "true"}),
            "Invalid input: expected boolean, received string",
        ),
    ];
    for (body, message) in bad {
        let reply = server
            .call(
                Method::PUT,
                &format!("/api/assets/{a}"),
                Some(&admin),
                Some(body.clone()),
            )
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(reply.body["errors"][0]["message"], json!(message), "{body}");
    }
    let foreign = server
        .call(
            Method::PUT,
            &format!("/api/assets/{a}"),
            Some(&other),
            Some(json!({"isFavorite": false})),
        )
        .await;
    assert_eq!(foreign.message(), "Not found or no asset.update access");

    // Bulk: shift dates by −1 day −1 minute, set the zone, unfavourite.
    let bulk = json!({"ids": [a, b], "dateTimeRelative": -1441, "timeZone": "Europe/Paris", "isFavorite": false});
    let reply = server.call(Method::PUT, "/api/assets", Some(&admin), Some(bulk)).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    let shifted = server
        .call(Method::GET, &format!("/api/assets/{a}"), Some(&admin), None)
        .await
        .body;
    assert_eq!(
        shifted["exifInfo"]["dateTimeOriginal"],
        json!("2023-11-19T01:10:00+00:00")
    );
    assert_eq!(
        (shifted["exifInfo"]["timeZone"].clone(), shifted["isFavorite"].clone()),
        (json!("Europe/Paris"), json!(false))
    );
    let both = server
        .call(
            Method::PUT,
            "/api/assets",
            Some(&admin),
            Some(json!({"ids": [a], "dateTimeRelative": 5, "dateTimeOriginal": "2023-01-01T00:00:00Z"})),
        )
        .await;
    assert_eq!(
        both.body["errors"][0]["message"],
        json!("dateTimeRelative cannot exist alongside dateTimeOriginal")
    );
    let foreign_bulk = server
        .call(
            Method::PATCH,
            "/api/assets",
            Some(&other),
            Some(json!({"ids": [a], "isFavorite": true})),
        )
        .await;
    assert_eq!(foreign_bulk.message(), "Not found or no asset.update access");
}

#[tokio::test]
async fn asset_metadata_is_kept_per_key() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let other = server.user_token(&admin, "other@immich.cloud").await;
    let id = server.upload(&admin, "a.jpg", &photo("meta"), &[]).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/api/assets/{id}/metadata");

    let put = server
        .call(
            Method::PUT,
            &path,
            Some(&admin),
            Some(json!({"items": [{"key": "mobile-app", "value": {"iCloudId": "x"}}, {"key": "note", "value": {}}]})),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    assert_eq!(
        put.body
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["key"].clone())
            .collect::<Vec<_>>(),
        [json!("mobile-app"), json!("note")]
    );
    let one = server
        .call(Method::GET, &format!("{path}/mobile-app"), Some(&admin), None)
        .await;
    assert_eq!(one.body["value"], json!({"iCloudId": "x"}));
    let missing = server
        .call(Method::GET, &format!("{path}/nope"), Some(&admin), None)
        .await;
    assert_eq!(
        missing.message(),
        format!(r#"Metadata with key "nope" not found for asset with id "{id}""#)
    );
    let twice = server
        .call(
            Method::PUT,
            &path,
            Some(&admin),
            Some(json!({"items": [{"key": "k", "value": {}}, {"key": "k", "value": {}}]})),
        )
        .await;
    assert_eq!(twice.message(), r#"Duplicate items are not allowed: "k""#);
    let not_object = server
        .call(
            Method::PUT,
            &path,
            Some(&admin),
            Some(json!({"items": [{"key": "k", "value": 5}]})),
        )
        .await;
    assert_eq!(not_object.message(), "Validation failed");
    assert_eq!(
        server.call(Method::GET, &path, Some(&other), None).await.message(),
        "Not found or no asset.read access"
    );

    let bulk = server
        .call(
            Method::PUT,
            "/api/assets/metadata",
            Some(&admin),
            Some(json!({"items": [{"assetId": id, "key": "note", "value": {"text": "hi"}}]})),
        )
        .await;
    assert_eq!(
        (bulk.body[0]["assetId"].clone(), bulk.body[0]["value"].clone()),
        (json!(id), json!({"text": "hi"}))
    );
    let foreign = server
        .call(
            Method::PUT,
            "/api/assets/metadata",
            Some(&other),
            Some(json!({"items": [{"assetId": id, "key": "x", "value": {}}]})),
        )
        .await;
    assert_eq!(foreign.message(), "Not found or no asset.update access");
    assert_eq!(
        server
            .call(Method::DELETE, &format!("{path}/note"), Some(&admin), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let deleted = server
        .call(
            Method::DELETE,
            "/api/assets/metadata",
            Some(&admin),
            Some(json!({"items": [{"assetId": id, "key": "mobile-app"}]})),
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(
        server.call(Method::GET, &path, Some(&admin), None).await.body,
        json!([])
    );
    let mut db = server.db().await;
    let audited: i64 = sqlx::query_scalar("SELECT count(*) FROM asset_metadata_audit")
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert_eq!(audited, 2);
}
