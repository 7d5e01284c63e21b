//! Organising a library: stacks, duplicate groups and the map.

use darkroom_tests::{TestServer, fixtures};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn upload(server: &TestServer, token: &str, seed: u32, gps: bool) -> String {
    let path = std::env::temp_dir().join(format!("darkroom-organise-{}.jpg", uuid::Uuid::new_v4().simple()));
    if gps {
        fixtures::jpeg_with_exif(&path, seed)
    } else {
        fixtures::still(&path, seed)
    }
    let bytes = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let reply = server.upload(token, "photo.jpg", &bytes, &[]).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let id = reply.body["id"].as_str().unwrap().to_string();
    server.wait_until_processed(token, &id).await;
    id
}

fn asset_ids(stack: &Value) -> Vec<String> {
    stack["assets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stacks_merge_lead_and_come_apart_for_their_owner_only() {
    let server = TestServer::start().await;
    let owner = server.admin_token().await;
    let other = server.user_token(&owner, "other@example.com").await;
    let [a, b, c, d] = [
        upload(&server, &owner, 1, false).await,
        upload(&server, &owner, 2, false).await,
        upload(&server, &owner, 3, false).await,
        upload(&server, &owner, 4, false).await,
    ];
    let theirs = upload(&server, &other, 5, false).await;

    let too_few = server
        .call(
            Method::POST,
            "/api/stacks",
            Some(&owner),
            Some(json!({"assetIds": [a]})),
        )
        .await;
    assert_eq!(too_few.status, StatusCode::BAD_REQUEST);
    let foreign = server
        .call(
            Method::POST,
            "/api/stacks",
            Some(&owner),
            Some(json!({"assetIds": [a, theirs]})),
        )
        .await;
    assert_eq!(
        (foreign.status, foreign.message()),
        (StatusCode::BAD_REQUEST, "Not found or no asset.update access")
    );

    let first = server
        .call(
            Method::POST,
            "/api/stacks",
            Some(&owner),
            Some(json!({"assetIds": [a, b]})),
        )
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    assert_eq!(
        (first.body["primaryAssetId"].clone(), asset_ids(&first.body)),
        (json!(a), vec![a.clone(), b.clone()])
    );
    let first_id = first.body["id"].as_str().unwrap().to_string();
    assert_eq!(
        server
            .call(Method::GET, &format!("/api/assets/{b}"), Some(&owner), None)
            .await
            .body["stack"]["id"],
        json!(first_id)
    );

    // A stack whose primary joins another stack merges into it.
    let merged = server
        .call(
            Method::POST,
            "/api/stacks",
            Some(&owner),
            Some(json!({"assetIds": [c, a, d]})),
        )
        .await;
    let mut members = asset_ids(&merged.body);
    assert_eq!(members[0], c, "the first asset leads");
    members.sort();
    let mut all = vec![a.clone(), b.clone(), c.clone(), d.clone()];
    all.sort();
    assert_eq!(members, all);
    let stack_id = merged.body["id"].as_str().unwrap().to_string();
    assert_eq!(
        server
            .call(Method::GET, &format!("/api/stacks/{first_id}"), Some(&owner), None)
            .await
            .status,
        StatusCode::BAD_REQUEST,
        "the old stack is gone"
    );

    let not_member = server
        .call(
            Method::PUT,
            &format!("/api/stacks/{stack_id}"),
            Some(&owner),
            Some(json!({"primaryAssetId": theirs})),
        )
        .await;
    assert_eq!(not_member.message(), "Primary asset must be in the stack");
    let led = server
        .call(
            Method::PUT,
            &format!("/api/stacks/{stack_id}"),
            Some(&owner),
            Some(json!({"primaryAssetId": d})),
        )
        .await;
    assert_eq!(led.body["primaryAssetId"], json!(d));
    let listed = server
        .call(
            Method::GET,
            &format!("/api/stacks?primaryAssetId={d}"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(listed.body.as_array().unwrap().len(), 1);
    let primary_out = server
        .call(
            Method::DELETE,
            &format!("/api/stacks/{stack_id}/assets/{d}"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(primary_out.message(), "Cannot remove stack's primary asset");
    let stranger_out = server
        .call(
            Method::DELETE,
            &format!("/api/stacks/{stack_id}/assets/{theirs}"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(stranger_out.message(), "Asset not in stack");
    assert_eq!(
        server
            .call(
                Method::DELETE,
                &format!("/api/stacks/{stack_id}/assets/{b}"),
                Some(&owner),
                None
            )
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        asset_ids(
            &server
                .call(Method::GET, &format!("/api/stacks/{stack_id}"), Some(&owner), None)
                .await
                .body
        )
        .len(),
        3
    );

    // Nobody else sees or touches it.
    let peek = server
        .call(Method::GET, &format!("/api/stacks/{stack_id}"), Some(&other), None)
        .await;
    assert_eq!(
        (peek.status, peek.message()),
        (StatusCode::BAD_REQUEST, "Not found or no stack.read access")
    );
    assert_eq!(
        server
            .call(Method::DELETE, &format!("/api/stacks/{stack_id}"), Some(&other), None)
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        server.call(Method::GET, "/api/stacks", Some(&other), None).await.body,
        json!([])
    );

    assert_eq!(
        server
            .call(
                Method::DELETE,
                "/api/stacks",
                Some(&owner),
                Some(json!({"ids": [stack_id]}))
            )
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        server
            .call(Method::GET, &format!("/api/assets/{c}"), Some(&owner), None)
            .await
            .body["stack"],
        Value::Null
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_groups_suggest_the_best_and_can_be_dismissed() {
    let server = TestServer::start().await;
    let owner = server.admin_token().await;
    let other = server.user_token(&owner, "other@example.com").await;
    let rich = upload(&server, &owner, 1, true).await;
    let plain = upload(&server, &owner, 2, false).await;
    let alone = upload(&server, &owner, 3, false).await;
    let group = uuid::Uuid::new_v4();
    let lonely = uuid::Uuid::new_v4();
    let mut db = server.db().await;
    for (id, duplicate) in [(&rich, group), (&plain, group), (&alone, lonely)] {
        sqlx::query(r#"UPDATE asset SET "duplicateId" = $2 WHERE id = $1::uuid"#)
            .bind(id)
            .bind(duplicate)
            .execute(&mut db)
            .await
            .unwrap();
    }
    // Same size: the one with more EXIF is the keeper.
    sqlx::query(r#"UPDATE asset_exif SET "fileSizeInByte" = 1000 WHERE "assetId" IN ($1::uuid, $2::uuid)"#)
        .bind(&rich)
        .bind(&plain)
        .execute(&mut db)
        .await
        .unwrap();

    let groups = server
        .call(Method::GET, "/api/duplicates", Some(&owner), None)
        .await
        .body;
    assert_eq!(
        groups.as_array().unwrap().len(),
        1,
        "a group of one is no group: {groups}"
    );
    assert_eq!(
        (
            groups[0]["duplicateId"].clone(),
            groups[0]["suggestedKeepAssetIds"].clone()
        ),
        (json!(group), json!([rich]))
    );
    assert_eq!(groups[0]["assets"].as_array().unwrap().len(), 2);
    assert_eq!(
        server
            .call(Method::GET, &format!("/api/assets/{alone}"), Some(&owner), None)
            .await
            .body["duplicateId"],
        Value::Null,
        "dissolved"
    );

    let foreign = server
        .call(Method::DELETE, &format!("/api/duplicates/{group}"), Some(&other), None)
        .await;
    assert_eq!(
        (foreign.status, foreign.message()),
        (StatusCode::BAD_REQUEST, "Not found or no duplicate.delete access")
    );
    assert_eq!(
        server
            .call(Method::DELETE, &format!("/api/duplicates/{group}"), Some(&owner), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        server
            .call(Method::GET, "/api/duplicates", Some(&owner), None)
            .await
            .body,
        json!([])
    );
    assert_eq!(
        server
            .call(Method::GET, &format!("/api/assets/{plain}"), Some(&owner), None)
            .await
            .status,
        StatusCode::OK,
        "dismissing deletes nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_map_shows_positioned_photos_of_whom_it_should() {
    let server = TestServer::start().await;
    let owner = server.admin_token().await;
    let partner = server.user_token(&owner, "partner@example.com").await;
    let owner_id = server.call(Method::GET, "/api/users/me", Some(&owner), None).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let placed = upload(&server, &owner, 1, true).await;
    upload(&server, &owner, 2, false).await;
    let archived = upload(&server, &owner, 3, true).await;
    server
        .call(
            Method::PUT,
            &format!("/api/assets/{archived}"),
            Some(&owner),
            Some(json!({"visibility": "archive"})),
        )
        .await;
    let theirs = upload(&server, &partner, 4, true).await;
    server
        .call(
            Method::POST,
            "/api/partners",
            Some(&partner),
            Some(json!({"sharedWithId": owner_id})),
        )
        .await;

    let markers = server
        .call(Method::GET, "/api/map/markers", Some(&owner), None)
        .await
        .body;
    assert_eq!(markers.as_array().unwrap().len(), 1, "{markers}");
    assert_eq!(markers[0]["id"], json!(placed));
    assert!((markers[0]["lat"].as_f64().unwrap() - 48.8584).abs() < 1e-6 && markers[0]["city"].is_null());
    let with_archive = server
        .call(Method::GET, "/api/map/markers?isArchived=true", Some(&owner), None)
        .await
        .body;
    assert_eq!(with_archive.as_array().unwrap().len(), 2);
    let with_partners = server
        .call(Method::GET, "/api/map/markers?withPartners=true", Some(&owner), None)
        .await
        .body;
    assert!(
        with_partners
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == json!(theirs))
    );
    let nothing_later = server
        .call(
            Method::GET,
            "/api/map/markers?fileCreatedAfter=2030-01-01T00:00:00Z",
            Some(&owner),
            None,
        )
        .await
        .body;
    assert_eq!(nothing_later, json!([]));
    assert_eq!(
        server
            .call(
                Method::GET,
                "/api/map/markers?fileCreatedAfter=soon",
                Some(&owner),
                None
            )
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    let partner_view = server
        .call(Method::GET, "/api/map/markers?withPartners=true", Some(&partner), None)
        .await
        .body;
    assert_eq!(
        partner_view.as_array().unwrap().len(),
        1,
        "the owner shares nothing with the partner"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_locked_folder_takes_assets_out_of_albums_and_needs_the_pin() {
    let server = TestServer::start().await;
    let owner = server.admin_token().await;
    let photo = upload(&server, &owner, 1, false).await;
    let album = server
        .call(
            Method::POST,
            "/api/albums",
            Some(&owner),
            Some(json!({"albumName": "Shared", "assetIds": [photo]})),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    server
        .call(
            Method::PUT,
            &format!("/api/assets/{photo}"),
            Some(&owner),
            Some(json!({"visibility": "locked"})),
        )
        .await;
    let after = server
        .call(Method::GET, &format!("/api/albums/{album}"), Some(&owner), None)
        .await
        .body;
    assert_eq!(after["assetCount"], json!(0), "locked assets leave every album");
    let stats = server
        .call(
            Method::GET,
            "/api/assets/statistics?visibility=locked",
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(
        (stats.status, stats.message()),
        (StatusCode::UNAUTHORIZED, "Elevated permission is required")
    );
    let hidden = server
        .call(Method::GET, &format!("/api/assets/{photo}"), Some(&owner), None)
        .await;
    assert_eq!(
        hidden.status,
        StatusCode::BAD_REQUEST,
        "not even the owner sees it without the PIN"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolving_duplicates_keeps_one_with_what_the_others_had() {
    let server = TestServer::start().await;
    let owner = server.admin_token().await;
    let other = server.user_token(&owner, "other@example.com").await;
    let [keeper, favourite, described] = [
        upload(&server, &owner, 1, true).await,
        upload(&server, &owner, 2, true).await,
        upload(&server, &owner, 3, true).await,
    ];
    let [second_keeper, second_trashed] = [
        upload(&server, &owner, 4, false).await,
        upload(&server, &owner, 5, false).await,
    ];
    let (group, second) = (uuid::Uuid::new_v4().to_string(), uuid::Uuid::new_v4().to_string());
    let mut db = server.db().await;
    for (id, duplicate) in [
        (&keeper, &group),
        (&favourite, &group),
        (&described, &group),
        (&second_keeper, &second),
        (&second_trashed, &second),
    ] {
        sqlx::query(r#"UPDATE asset SET "duplicateId" = $2::uuid WHERE id = $1::uuid"#)
            .bind(id)
            .bind(duplicate)
            .execute(&mut db)
            .await
            .unwrap();
    }
    for (id, body) in [
        (
            &favourite,
            json!({"isFavorite": true, "rating": 4, "description": "Sunset\nBeach"}),
        ),
        (
            &described,
            json!({"description": "Beach\nWith Sam", "visibility": "archive"}),
        ),
    ] {
        assert_eq!(
            server
                .call(Method::PUT, &format!("/api/assets/{id}"), Some(&owner), Some(body))
                .await
                .status,
            StatusCode::OK
        );
    }
    let album = server
        .call(
            Method::POST,
            "/api/albums",
            Some(&owner),
            Some(json!({"albumName": "Holiday", "assetIds": [favourite]})),
        )
        .await;
    let album_id = album.body["id"].as_str().unwrap().to_string();
    let tag = server
        .call(Method::POST, "/api/tags", Some(&owner), Some(json!({"name": "sea"})))
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let tagged = server
        .call(
            Method::PUT,
            &format!("/api/tags/{tag}/assets"),
            Some(&owner),
            Some(json!({"ids": [described]})),
        )
        .await;
    assert_eq!(tagged.status, StatusCode::OK);

    // Every member must be placed, on one side only; ids outside the group are ignored.
    let server = &server;
    let resolve = |body: Value, token: String| async move {
        server
            .call(Method::POST, "/api/duplicates/resolve", Some(&token), Some(body))
            .await
    };
    let unplaced = resolve(
        json!({"groups": [{"duplicateId": group, "keepAssetIds": [keeper], "trashAssetIds": [favourite]}]}),
        owner.clone(),
    )
    .await;
    assert_eq!(
        unplaced.body,
        json!([{"id": group, "success": false, "error": "validation", "errorMessage": "Every asset must be in either keepAssetIds or trashAssetIds"}])
    );
    let both = resolve(json!({"groups": [{"duplicateId": group, "keepAssetIds": [keeper, favourite, described], "trashAssetIds": [favourite]}]}), owner.clone()).await;
    assert_eq!(
        both.body[0]["errorMessage"],
        json!("An asset cannot be in both keepAssetIds and trashAssetIds")
    );
    let foreign = resolve(
        json!({"groups": [{"duplicateId": group, "keepAssetIds": [], "trashAssetIds": []}]}),
        other.clone(),
    )
    .await;
    assert_eq!(
        (foreign.status, foreign.message()),
        (StatusCode::BAD_REQUEST, "Not found or no duplicate.delete access")
    );
    let empty = resolve(json!({"groups": []}), owner.clone()).await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    let malformed = resolve(
        json!({"groups": [{"duplicateId": group, "keepAssetIds": ["nope"], "trashAssetIds": []}]}),
        owner.clone(),
    )
    .await;
    assert_eq!(
        (malformed.status, malformed.body["errors"][0]["path"].clone()),
        (StatusCode::BAD_REQUEST, json!(["groups", 0, "keepAssetIds", 0]))
    );

    let stranger = uuid::Uuid::new_v4().to_string();
    let body = json!({"groups": [
        {"duplicateId": group, "keepAssetIds": [keeper, stranger], "trashAssetIds": [favourite, described]},
        {"duplicateId": second, "keepAssetIds": [second_keeper], "trashAssetIds": [second_trashed]},
    ]});
    let resolved = resolve(body, owner.clone()).await;
    assert_eq!(resolved.status, StatusCode::OK, "{}", resolved.body);
    assert_eq!(
        resolved.body,
        json!([{"id": group, "success": true}, {"id": second, "success": true}])
    );

    let kept = server
        .call(Method::GET, &format!("/api/assets/{keeper}"), Some(&owner), None)
        .await
        .body;
    assert_eq!(kept["duplicateId"], Value::Null);
    assert_eq!(
        (kept["isFavorite"].clone(), kept["visibility"].clone()),
        (json!(true), json!("archive")),
        "favourite, and as private as the most private"
    );
    assert_eq!(kept["exifInfo"]["rating"], json!(4));
    assert_eq!(
        kept["exifInfo"]["description"],
        json!("Sunset\nBeach\nWith Sam"),
        "each line once"
    );
    assert_eq!(
        kept["exifInfo"]["latitude"],
        json!(48.8584),
        "the group agreed on the position"
    );
    assert_eq!(kept["tags"][0]["id"], json!(tag));
    let albums_of_keeper = server
        .call(
            Method::GET,
            &format!("/api/albums?assetId={keeper}"),
            Some(&owner),
            None,
        )
        .await
        .body;
    assert_eq!(
        albums_of_keeper[0]["id"],
        json!(album_id),
        "the keeper joined the album: {albums_of_keeper}"
    );
    for gone in [&favourite, &described, &second_trashed] {
        let asset = server
            .call(Method::GET, &format!("/api/assets/{gone}"), Some(&owner), None)
            .await
            .body;
        assert_eq!(
            (asset["isTrashed"].clone(), asset["duplicateId"].clone()),
            (json!(true), Value::Null),
            "{gone} went to the trash"
        );
    }
    assert_eq!(
        server
            .call(Method::GET, &format!("/api/assets/{second_keeper}"), Some(&owner), None)
            .await
            .body["isFavorite"],
        json!(false)
    );
    assert_eq!(
        server
            .call(Method::GET, "/api/duplicates", Some(&owner), None)
            .await
            .body,
        json!([])
    );
    let again = resolve(
        json!({"groups": [{"duplicateId": group, "keepAssetIds": [keeper], "trashAssetIds": []}]}),
        owner.clone(),
    )
    .await;
    assert_eq!(
        (again.status, again.message()),
        (StatusCode::BAD_REQUEST, "Not found or no duplicate.delete access"),
        "a resolved group is gone"
    );
}
