//! Shared things: partners' assets and albums' assets reaching members with backfill, and albums for older apps.

use darkroom_tests::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{ack, expect_once, kinds, sync, upload, user_id};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partners_are_backfilled_and_their_locked_assets_never_appear() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let alice = server.user_token(&admin, "alice@example.com").await;
    let bob = server.user_token(&admin, "bob@example.com").await;
    let (alice_id, bob_id) = (user_id(&server, &alice).await, user_id(&server, &bob).await);
    let types = ["PartnersV1", "PartnerAssetsV2", "PartnerAssetExifsV1"];
    // Bob's library predates Alice's last sync (of Carol's share), so when he shares it comes
    // to her as a backfill.
    let old_photo = upload(&server, &bob, 1).await;
    let locked = upload(&server, &bob, 2).await;
    server
        .call(
            Method::PUT,
            &format!("/api/assets/{locked}"),
            Some(&bob),
            Some(json!({"visibility": "locked"})),
        )
        .await;
    let carol = server.user_token(&admin, "carol@example.com").await;
    server
        .call(
            Method::POST,
            "/api/partners",
            Some(&carol),
            Some(json!({"sharedWithId": alice_id})),
        )
        .await;
    upload(&server, &carol, 5).await;
    expect_once(
        &server,
        &alice,
        &types,
        &["PartnerV1", "PartnerAssetV2", "PartnerAssetExifV1"],
    )
    .await;

    server
        .call(
            Method::POST,
            "/api/partners",
            Some(&bob),
            Some(json!({"sharedWithId": alice_id})),
        )
        .await;
    // Bob's older photo comes as a backfill, his locked one not at all.
    let shared = expect_once(
        &server,
        &alice,
        &types,
        &[
            "PartnerV1",
            "PartnerAssetBackfillV2",
            "SyncAckV1",
            "PartnerAssetExifBackfillV1",
            "SyncAckV1",
        ],
    )
    .await;
    assert_eq!(
        shared[0]["data"],
        json!({"sharedById": bob_id, "sharedWithId": alice_id, "inTimeline": false})
    );
    assert_eq!(
        (shared[1]["data"]["id"].clone(), shared[1]["data"]["isFavorite"].clone()),
        (json!(old_photo), json!(false))
    );
    assert!(shared[2]["ack"].as_str().unwrap().ends_with("|complete"));
    assert!(!serde_json::to_string(&shared).unwrap().contains(&locked));

    // New photos come as upserts; one moved to the locked folder is taken away.
    let new_photo = upload(&server, &bob, 3).await;
    let fresh = expect_once(&server, &alice, &types, &["PartnerAssetV2", "PartnerAssetExifV1"]).await;
    assert_eq!(fresh[0]["data"]["id"], json!(new_photo));
    server
        .call(
            Method::PUT,
            &format!("/api/assets/{new_photo}"),
            Some(&bob),
            Some(json!({"visibility": "locked"})),
        )
        .await;
    let hidden = expect_once(&server, &alice, &types, &["PartnerAssetDeleteV1"]).await;
    assert_eq!(hidden[0]["data"], json!({"assetId": new_photo}));

    // Bob deletes a photo, then stops sharing.
    server
        .call(
            Method::DELETE,
            "/api/assets",
            Some(&bob),
            Some(json!({"ids": [old_photo], "force": true})),
        )
        .await;
    expect_once(&server, &alice, &types, &["PartnerAssetDeleteV1"]).await;
    let unshared = server
        .call(Method::DELETE, &format!("/api/partners/{alice_id}"), Some(&bob), None)
        .await;
    assert_eq!(unshared.status, StatusCode::NO_CONTENT, "{}", unshared.body);
    let ended = expect_once(&server, &alice, &types, &["PartnerDeleteV1"]).await;
    assert_eq!(
        ended[0]["data"],
        json!({"sharedById": bob_id, "sharedWithId": alice_id})
    );
    // Bob never saw anything of Alice's: she shares nothing.
    assert!(kinds(&sync(&server, &bob, &["PartnerAssetsV2"]).await).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn albums_and_their_assets_reach_members_with_backfill() {
    let server = TestServer::start().await;
    let owner = server.admin_token().await;
    let member = server.user_token(&owner, "member@example.com").await;
    let member_id = user_id(&server, &member).await;
    let types = [
        "AlbumsV2",
        "AlbumUsersV1",
        "AlbumToAssetsV1",
        "AlbumAssetsV2",
        "AlbumAssetExifsV1",
    ];
    // The owner's album predates the member's last sync (of an album of their own), so when it
    // is shared it comes to them as a backfill.
    let photo = upload(&server, &owner, 1).await;
    let album = server
        .call(
            Method::POST,
            "/api/albums",
            Some(&owner),
            Some(json!({"albumName": "Trip", "assetIds": [photo]})),
        )
        .await
        .body;
    let album_id = album["id"].as_str().unwrap().to_string();
    let own_photo = upload(&server, &member, 9).await;
    server
        .call(
            Method::POST,
            "/api/albums",
            Some(&member),
            Some(json!({"albumName": "Mine", "assetIds": [own_photo]})),
        )
        .await;
    let first = expect_once(
        &server,
        &member,
        &types,
        &[
            "SyncAckV1",
            "AlbumAssetCreateV2",
            "AlbumV2",
            "AlbumUserV1",
            "AlbumToAssetV1",
            "SyncAckV1",
            "AlbumAssetExifCreateV1",
        ],
    )
    .await;
    assert_eq!(
        (first[1]["data"]["id"].clone(), first[1]["data"]["isFavorite"].clone()),
        (json!(own_photo), json!(false))
    );

    server
        .call(
            Method::PUT,
            &format!("/api/albums/{album_id}/users"),
            Some(&owner),
            Some(json!({"albumUsers": [{"userId": member_id, "role": "viewer"}]})),
        )
        .await;
    let joined = expect_once(
        &server,
        &member,
        &types,
        &[
            "AlbumAssetBackfillV2",
            "SyncAckV1",
            "AlbumV2",
            "AlbumUserBackfillV1",
            "SyncAckV1",
            "AlbumUserV1",
            "AlbumToAssetBackfillV1",
            "SyncAckV1",
            "AlbumAssetExifBackfillV1",
            "SyncAckV1",
        ],
    )
    .await;
    assert_eq!(
        (joined[0]["data"]["id"].clone(), joined[0]["data"]["isFavorite"].clone()),
        (json!(photo), json!(false))
    );
    assert!(joined[1]["ack"].as_str().unwrap().ends_with("|complete"));
    assert_eq!(joined[2]["data"]["name"], json!("Trip"));
    let mut fields: Vec<&str> = joined[2]["data"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "createdAt",
            "description",
            "id",
            "isActivityEnabled",
            "name",
            "order",
            "thumbnailAssetId",
            "updatedAt"
        ],
        "SyncAlbumV2 has no owner"
    );
    assert_eq!(joined[3]["data"]["role"], json!("owner"));
    assert_eq!(
        (joined[5]["data"]["userId"].clone(), joined[5]["data"]["role"].clone()),
        (json!(member_id), json!("viewer"))
    );

    // More photos arrive as creates; changes to known ones as updates; removal as a delete.
    let second = upload(&server, &owner, 2).await;
    server
        .call(
            Method::PUT,
            &format!("/api/albums/{album_id}/assets"),
            Some(&owner),
            Some(json!({"ids": [second]})),
        )
        .await;
    let added = sync(&server, &member, &types).await;
    assert!(
        added
            .iter()
            .any(|l| l["type"] == "AlbumAssetCreateV2" && l["data"]["id"] == json!(second)),
        "{added:#?}"
    );
    assert!(
        added
            .iter()
            .any(|l| l["type"] == "AlbumToAssetV1" && l["data"]["assetId"] == json!(second))
    );
    assert!(
        added
            .iter()
            .any(|l| l["type"] == "AlbumAssetExifCreateV1" && l["data"]["assetId"] == json!(second))
    );
    ack(&server, &member, &added).await;
    server
        .call(
            Method::PUT,
            &format!("/api/assets/{photo}"),
            Some(&owner),
            Some(json!({"isFavorite": true})),
        )
        .await;
    let changed = expect_once(&server, &member, &types, &["AlbumAssetUpdateV2"]).await;
    assert_eq!(
        (
            changed[0]["data"]["id"].clone(),
            changed[0]["data"]["isFavorite"].clone()
        ),
        (json!(photo), json!(false)),
        "the owner's favourite is not the member's"
    );
    server
        .call(
            Method::DELETE,
            &format!("/api/albums/{album_id}/assets"),
            Some(&owner),
            Some(json!({"ids": [second]})),
        )
        .await;
    let removed = sync(&server, &member, &types).await;
    assert!(
        removed.iter().any(
            |l| l["type"] == "AlbumToAssetDeleteV1" && l["data"] == json!({"assetId": second, "albumId": album_id})
        ),
        "{removed:#?}"
    );
    ack(&server, &member, &removed).await;

    // The album is deleted: gone for the member, who never hears of other people's albums.
    server
        .call(Method::DELETE, &format!("/api/albums/{album_id}"), Some(&owner), None)
        .await;
    let gone = expect_once(&server, &member, &types, &["AlbumDeleteV1"]).await;
    assert_eq!(gone[0]["data"], json!({"albumId": album_id}));
    let stranger = server.user_token(&owner, "stranger@example.com").await;
    assert!(kinds(&sync(&server, &stranger, &types).await).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn older_apps_get_albums_with_their_owner() {
    let server = TestServer::start().await;
    let owner = server.admin_token().await;
    let member = server.user_token(&owner, "member@example.com").await;
    let (owner_id, member_id) = (user_id(&server, &owner).await, user_id(&server, &member).await);
    let album = json!({"albumName": "Trip", "albumUsers": [{"userId": member_id, "role": "viewer"}]});
    let album_id = server
        .call(Method::POST, "/api/albums", Some(&owner), Some(album))
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let lines = expect_once(&server, &member, &["AlbumsV1"], &["AlbumV1"]).await;
    let data = &lines[0]["data"];
    assert_eq!(
        (data["id"].clone(), data["ownerId"].clone(), data["name"].clone()),
        (json!(album_id), json!(owner_id), json!("Trip"))
    );
    assert_eq!(
        data.as_object().unwrap().len(),
        9,
        "SyncAlbumV2's eight fields and the owner: {data}"
    );
    assert_eq!(
        server
            .call(Method::DELETE, &format!("/api/albums/{album_id}"), Some(&owner), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    expect_once(&server, &member, &["AlbumsV1"], &["AlbumDeleteV1"]).await;
}
