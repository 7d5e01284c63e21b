//! Albums created, listed, shared with roles, filled, emptied and deleted, and hidden with a deleted owner.

use darkroom_tests::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{ids, upload, user_id};

#[tokio::test]
async fn albums_are_created_listed_shared_and_deleted() {
    let server = TestServer::start().await;
    let owner = server.admin_token().await;
    let editor = server.user_token(&owner, "editor@immich.cloud").await;
    let viewer = server.user_token(&owner, "viewer@immich.cloud").await;
    let stranger = server.user_token(&owner, "stranger@immich.cloud").await;
    let (editor_id, viewer_id) = (user_id(&server, &editor).await, user_id(&server, &viewer).await);
    let a = upload(&server, &owner, "a").await;
    let b = upload(&server, &owner, "b").await;
    let theirs = upload(&server, &stranger, "s").await;

    let empty = server
        .call(
            Method::POST,
            "/api/albums",
            Some(&owner),
            Some(json!({"albumName": "Empty"})),
        )
        .await;
    assert_eq!(empty.status, StatusCode::CREATED);
    assert_eq!(empty.body["assetCount"], json!(0));
    assert_eq!(empty.body["albumUsers"][0]["role"], json!("owner"));
    assert_eq!(
        (empty.body["shared"].clone(), empty.body["order"].clone()),
        (json!(false), json!("desc"))
    );

    let trip = server
        .call(
            Method::POST,
            "/api/albums",
            Some(&owner),
            Some(json!({
                "albumName": "Trip", "description": "Summer",
                "assetIds": [a, theirs],
                "albumUsers": [{"userId": editor_id, "role": "editor"}, {"userId": viewer_id, "role": "viewer"}],
            })),
        )
        .await;
    assert_eq!(trip.status, StatusCode::CREATED, "{}", trip.body);
    let trip_id = trip.body["id"].as_str().unwrap().to_string();
    assert_eq!(trip.body["assetCount"], json!(1), "someone else's asset is left out");
    assert_eq!(trip.body["albumThumbnailAssetId"], json!(a));
    let roles: Vec<&Value> = trip.body["albumUsers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| &u["role"])
        .collect();
    assert_eq!(roles, [&json!("owner"), &json!("editor"), &json!("viewer")]);
    assert_eq!(trip.body["shared"], json!(true));

    let invalid = server
        .call(
            Method::POST,
            "/api/albums",
            Some(&owner),
            Some(json!({"albumName": "x", "albumUsers": [{"userId": uuid::Uuid::new_v4(), "role": "viewer"}]})),
        )
        .await;
    assert_eq!(invalid.message(), "Invalid user");
    let nameless = server
        .call(Method::POST, "/api/albums", Some(&owner), Some(json!({})))
        .await;
    assert_eq!(nameless.message(), "Validation failed");

    let mine = server.call(Method::GET, "/api/albums", Some(&owner), None).await;
    assert_eq!(ids(&mine.body).len(), 2);
    let shared_with_viewer = server.call(Method::GET, "/api/albums", Some(&viewer), None).await;
    assert_eq!(ids(&shared_with_viewer.body), std::slice::from_ref(&trip_id));
    assert!(shared_with_viewer.body[0]["lastModifiedAssetTimestamp"].is_string());
    let owned_not_shared = server
        .call(
            Method::GET,
            "/api/albums?isOwned=true&isShared=false",
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(owned_not_shared.body[0]["albumName"], json!("Empty"));
    let by_asset = server
        .call(Method::GET, &format!("/api/albums?assetId={a}"), Some(&owner), None)
        .await;
    assert_eq!(ids(&by_asset.body), std::slice::from_ref(&trip_id));
    let stats = server
        .call(Method::GET, "/api/albums/statistics", Some(&owner), None)
        .await;
    assert_eq!(stats.body, json!({"owned": 2, "shared": 1, "notShared": 1}));
    assert_eq!(
        server
            .call(Method::GET, "/api/albums?isOwned=yes", Some(&owner), None)
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    // A shared link shares an album as much as a member does: it moves from "not shared" to "shared".
    let empty_id = owned_not_shared.body[0]["id"].clone();
    let link = server
        .call(
            Method::POST,
            "/api/shared-links",
            Some(&owner),
            Some(json!({"type": "ALBUM", "albumId": empty_id})),
        )
        .await;
    assert_eq!(link.status, StatusCode::CREATED);
    let stats = server
        .call(Method::GET, "/api/albums/statistics", Some(&owner), None)
        .await;
    assert_eq!(stats.body, json!({"owned": 2, "shared": 2, "notShared": 0}));
    let shared = server
        .call(Method::GET, "/api/albums?isShared=true", Some(&owner), None)
        .await;
    assert_eq!(ids(&shared.body).len(), 2);
    assert!(
        server
            .call(
                Method::GET,
                "/api/albums?isOwned=true&isShared=false",
                Some(&owner),
                None
            )
            .await
            .body
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        server
            .call(
                Method::DELETE,
                &format!("/api/shared-links/{}", link.body["id"].as_str().unwrap()),
                Some(&owner),
                None
            )
            .await
            .status,
        StatusCode::NO_CONTENT
    );

    // Members see the album and its assets; strangers see neither.
    let read = server
        .call(Method::GET, &format!("/api/albums/{trip_id}"), Some(&viewer), None)
        .await;
    assert_eq!(
        read.body["contributorCounts"],
        json!([{"userId": user_id(&server, &owner).await, "assetCount": 1}])
    );
    assert_eq!(
        server
            .call(Method::GET, &format!("/api/assets/{a}"), Some(&viewer), None)
            .await
            .status,
        StatusCode::OK
    );
    let foreign = server
        .call(Method::GET, &format!("/api/albums/{trip_id}"), Some(&stranger), None)
        .await;
    assert_eq!(foreign.message(), "Not found or no album.read access");
    assert_eq!(
        server
            .call(Method::GET, &format!("/api/assets/{a}"), Some(&stranger), None)
            .await
            .message(),
        "Not found or no asset.read access"
    );
    let viewer_edit = server
        .call(
            Method::PATCH,
            &format!("/api/albums/{trip_id}"),
            Some(&viewer),
            Some(json!({"albumName": "Mine now"})),
        )
        .await;
    assert_eq!(viewer_edit.message(), "Not found or no album.update access");
    let viewer_add = server
        .call(
            Method::PUT,
            &format!("/api/albums/{trip_id}/assets"),
            Some(&viewer),
            Some(json!({"ids": [b]})),
        )
        .await;
    assert_eq!(viewer_add.message(), "Not found or no albumAsset.create access");
    assert_eq!(viewer_edit.status, StatusCode::BAD_REQUEST);

    let renamed = server
        .call(
            Method::PATCH,
            &format!("/api/albums/{trip_id}"),
            Some(&editor),
            Some(json!({"albumName": "Trip 2024", "order": "asc", "isActivityEnabled": false})),
        )
        .await;
    assert_eq!(
        (renamed.body["albumName"].clone(), renamed.body["order"].clone()),
        (json!("Trip 2024"), json!("asc"))
    );
    let bad_thumb = server
        .call(
            Method::PATCH,
            &format!("/api/albums/{trip_id}"),
            Some(&owner),
            Some(json!({"albumThumbnailAssetId": b})),
        )
        .await;
    assert_eq!(bad_thumb.message(), "Invalid album thumbnail");

    let added = server
        .call(
            Method::PUT,
            &format!("/api/albums/{trip_id}/assets"),
            Some(&owner),
            Some(json!({"ids": [b, a, b, theirs]})),
        )
        .await;
    assert_eq!(
        added.body,
        json!([
            {"id": b, "success": true},
            {"id": a, "success": false, "error": "duplicate"},
            {"id": b, "success": false, "error": "duplicate"},
            {"id": theirs, "success": false, "error": "no_permission"},
        ])
    );
    let removed = server
        .call(
            Method::DELETE,
            &format!("/api/albums/{trip_id}/assets"),
            Some(&owner),
            Some(json!({"ids": [a, a, theirs]})),
        )
        .await;
    assert_eq!(
        removed.body,
        json!([
            {"id": a, "success": true},
            {"id": a, "success": false, "error": "not_found"},
            {"id": theirs, "success": false, "error": "not_found"},
        ])
    );
    let after = server
        .call(Method::GET, &format!("/api/albums/{trip_id}"), Some(&owner), None)
        .await;
    assert_eq!(
        (
            after.body["assetCount"].clone(),
            after.body["albumThumbnailAssetId"].clone()
        ),
        (json!(1), json!(b))
    );
    let bulk = server
        .call(
            Method::PUT,
            "/api/albums/assets",
            Some(&owner),
            Some(json!({"albumIds": [trip_id], "assetIds": [a]})),
        )
        .await;
    assert_eq!(bulk.body, json!({"success": true}));
    let again = server
        .call(
            Method::PUT,
            "/api/albums/assets",
            Some(&owner),
            Some(json!({"albumIds": [trip_id], "assetIds": [a]})),
        )
        .await;
    assert_eq!(again.body, json!({"success": false, "error": "duplicate"}));

    // Roles and members.
    let stranger_id = user_id(&server, &stranger).await;
    let shared = server
        .call(
            Method::PUT,
            &format!("/api/albums/{trip_id}/users"),
            Some(&owner),
            Some(json!({"albumUsers": [{"userId": stranger_id}]})),
        )
        .await;
    assert_eq!(shared.body["albumUsers"].as_array().unwrap().len(), 4);
    let second_owner = server
        .call(
            Method::PUT,
            &format!("/api/albums/{trip_id}/users"),
            Some(&owner),
            Some(json!({"albumUsers": [{"userId": stranger_id, "role": "owner"}]})),
        )
        .await;
    assert_eq!(second_owner.message(), "Cannot add another owner");
    let promoted = server
        .call(
            Method::PUT,
            &format!("/api/albums/{trip_id}/user/{viewer_id}"),
            Some(&owner),
            Some(json!({"role": "editor"})),
        )
        .await;
    assert_eq!(promoted.status, StatusCode::NO_CONTENT);
    let owner_id = user_id(&server, &owner).await;
    // CVE-2026-59258 (Immich before 3.0.3): an editor can neither demote nor remove the owner.
    let demote_owner = server
        .call(
            Method::PUT,
            &format!("/api/albums/{trip_id}/user/{owner_id}"),
            Some(&editor),
            Some(json!({"role": "viewer"})),
        )
        .await;
    assert_eq!(
        (demote_owner.status, demote_owner.message()),
        (StatusCode::BAD_REQUEST, "User is owner")
    );
    let remove_owner = server
        .call(
            Method::DELETE,
            &format!("/api/albums/{trip_id}/user/{owner_id}"),
            Some(&editor),
            None,
        )
        .await;
    assert_eq!(
        (remove_owner.status, remove_owner.message()),
        (StatusCode::BAD_REQUEST, "Cannot remove the last album owner")
    );
    let roles = server
        .call(Method::GET, &format!("/api/albums/{trip_id}"), Some(&owner), None)
        .await
        .body["albumUsers"]
        .clone();
    assert!(
        roles
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["user"]["id"] == json!(owner_id) && u["role"] == json!("owner")),
        "{roles}"
    );
    let leave = server
        .call(
            Method::DELETE,
            &format!("/api/albums/{trip_id}/user/me"),
            Some(&stranger),
            None,
        )
        .await;
    assert_eq!(leave.status, StatusCode::NO_CONTENT);
    let gone = server
        .call(
            Method::DELETE,
            &format!("/api/albums/{trip_id}/user/{stranger_id}"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(gone.message(), "Album not shared with user");
    let last_owner = server
        .call(
            Method::DELETE,
            &format!("/api/albums/{trip_id}/user/{owner_id}"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(last_owner.message(), "Cannot remove the last album owner");
    let bad_member = server
        .call(
            Method::DELETE,
            &format!("/api/albums/{trip_id}/user/someone"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(bad_member.message(), "Validation failed");

    // Only the owner deletes; members then learn it is gone.
    let by_editor = server
        .call(Method::DELETE, &format!("/api/albums/{trip_id}"), Some(&editor), None)
        .await;
    assert_eq!(by_editor.message(), "Not found or no album.delete access");
    assert_eq!(
        server
            .call(Method::DELETE, &format!("/api/albums/{trip_id}"), Some(&owner), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        server
            .call(Method::GET, &format!("/api/albums/{trip_id}"), Some(&owner), None)
            .await
            .message(),
        "Not found or no album.read access"
    );
    let mut db = server.db().await;
    let audited: i64 = sqlx::query_scalar(r#"SELECT count(*) FROM album_audit WHERE "albumId" = $1::uuid"#)
        .bind(&trip_id)
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert_eq!(audited, 4, "the owner, the editor, the viewer and the member who left");
    let missing = server
        .call(
            Method::PUT,
            &format!("/api/albums/{trip_id}/assets"),
            Some(&owner),
            Some(json!({"ids": [a]})),
        )
        .await;
    assert_eq!(missing.message(), "Album not found");
}

#[tokio::test]
async fn a_deleted_owner_hides_their_albums_until_restored() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let user = server.user_token(&admin, "owner@immich.cloud").await;
    let user_uuid = user_id(&server, &user).await;
    let admin_uuid = user_id(&server, &admin).await;
    let album = server
        .call(
            Method::POST,
            "/api/albums",
            Some(&user),
            Some(json!({"albumName": "Shared", "albumUsers": [{"userId": admin_uuid, "role": "viewer"}]})),
        )
        .await;
    assert_eq!(
        server
            .call(Method::GET, "/api/albums", Some(&admin), None)
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        1
    );
    server
        .call(
            Method::DELETE,
            &format!("/api/admin/users/{user_uuid}"),
            Some(&admin),
            Some(json!({})),
        )
        .await;
    assert_eq!(
        server.call(Method::GET, "/api/albums", Some(&admin), None).await.body,
        json!([])
    );
    server
        .call(
            Method::POST,
            &format!("/api/admin/users/{user_uuid}/restore"),
            Some(&admin),
            None,
        )
        .await;
    let back = server.call(Method::GET, "/api/albums", Some(&admin), None).await;
    assert_eq!(back.body[0]["id"], album.body["id"]);
}
