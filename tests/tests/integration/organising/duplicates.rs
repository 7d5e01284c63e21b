//! Duplicate groups: the best suggested, dismissed, and resolved keeping what the others had.

use darkroom_tests::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::upload;

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
