//! The mobile app's sync protocol, after Immich's own sync tests: every entity's create,
//! update and delete arrives exactly once and never again after its ack; nobody sees what is
//! not theirs; new shares are backfilled; API keys are refused.

use std::time::Duration;

use darkroom_tests::{TestServer, fixtures};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// One stream: its lines, `SyncCompleteV1` last.
async fn sync(server: &TestServer, token: &str, types: &[&str]) -> Vec<Value> {
    // A stream covers changes older than a millisecond (younger ones may still be committing);
    // the tests' changes must be at least that old to be due.
    tokio::time::sleep(Duration::from_millis(5)).await;
    let reply = server
        .request(Method::POST, "/api/sync/stream")
        .bearer_auth(token)
        .header("accept", "application/jsonlines+json")
        .json(&json!({ "types": types }))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::OK);
    assert_eq!(reply.headers()["content-type"], "application/jsonlines+json");
    let text = reply.text().await.unwrap();
    text.lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}

/// The lines' types, `SyncCompleteV1` left out.
fn kinds(lines: &[Value]) -> Vec<String> {
    lines
        .iter()
        .map(|l| l["type"].as_str().unwrap().to_string())
        .filter(|t| t != "SyncCompleteV1")
        .collect()
}

async fn ack(server: &TestServer, token: &str, lines: &[Value]) {
    let acks: Vec<&Value> = lines.iter().map(|l| &l["ack"]).collect();
    let reply = server
        .call(
            Method::POST,
            "/api/sync/ack",
            Some(token),
            Some(json!({ "acks": acks })),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
}

/// Syncs, checks the types that arrived, acks them all, and checks nothing comes again.
async fn expect_once(server: &TestServer, token: &str, types: &[&str], expected: &[&str]) -> Vec<Value> {
    let lines = sync(server, token, types).await;
    assert_eq!(lines.last().unwrap()["type"], json!("SyncCompleteV1"), "{lines:?}");
    assert_eq!(kinds(&lines), expected, "{lines:#?}");
    ack(server, token, &lines).await;
    let again = sync(server, token, types).await;
    assert_eq!(kinds(&again), Vec::<String>::new(), "nothing twice: {again:#?}");
    ack(server, token, &again).await;
    lines
}

async fn upload(server: &TestServer, token: &str, seed: u32) -> String {
    let path = std::env::temp_dir().join(format!("darkroom-sync-{}.png", uuid::Uuid::new_v4().simple()));
    fixtures::still(&path, seed);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let reply = server.upload(token, "photo.png", &bytes, &[]).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let id = reply.body["id"].as_str().unwrap().to_string();
    server.wait_until_processed(token, &id).await;
    id
}

/// Waits until no job is queued or running, so assets stop changing under the test.
async fn settle(server: &TestServer, admin: &str) {
    // The queues are read one after another, so one look can miss a job that a finishing job
    // (sidecar write → metadata) hands on; only several quiet looks in a row mean quiet.
    let mut quiet_looks = 0;
    for _ in 0..400 {
        let jobs = server.call(Method::GET, "/api/jobs", Some(admin), None).await.body;
        let busy = jobs
            .as_object()
            .unwrap()
            .values()
            .any(|q| q["jobCounts"]["active"] != json!(0) || q["jobCounts"]["waiting"] != json!(0));
        quiet_looks = if busy { 0 } else { quiet_looks + 1 };
        if quiet_looks == 3 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the job queues never went quiet");
}

async fn user_id(server: &TestServer, token: &str) -> String {
    server.call(Method::GET, "/api/users/me", Some(token), None).await.body["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acks_checkpoints_resets_and_refusals() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let key = server.api_key(&admin, &["all"]).await;
    let refused = server
        .request(Method::POST, "/api/sync/stream")
        .header("x-api-key", &key)
        .json(&json!({"types": ["UsersV1"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        refused.json::<Value>().await.unwrap()["message"],
        json!("Sync endpoints cannot be used with API keys")
    );
    let deprecated = server
        .call(
            Method::POST,
            "/api/sync/stream",
            Some(&admin),
            Some(json!({"types": ["AssetsV1"]})),
        )
        .await;
    assert_eq!(
        deprecated.message(),
        "SyncRequestType.AssetsV1 is deprecated, use SyncRequestType.AssetsV2 instead"
    );
    assert_eq!(
        server
            .call(
                Method::POST,
                "/api/sync/stream",
                Some(&admin),
                Some(json!({"types": ["Nonsense"]}))
            )
            .await
            .status,
        StatusCode::BAD_REQUEST
    );

    let lines = sync(&server, &admin, &["AuthUsersV1", "UsersV1"]).await;
    assert_eq!(kinds(&lines), ["AuthUserV1", "UserV1"]);
    let me = &lines[0]["data"];
    assert_eq!(
        (
            me["email"].clone(),
            me["isAdmin"].clone(),
            me["hasProfileImage"].clone()
        ),
        (json!("admin@immich.cloud"), json!(true), json!(false))
    );
    assert!(
        me["profileChangedAt"].as_str().unwrap().ends_with('Z')
            && lines[0]["ack"].as_str().unwrap().starts_with("AuthUserV1|")
    );
    assert!(
        lines.last().unwrap()["ack"]
            .as_str()
            .unwrap()
            .starts_with("SyncCompleteV1|")
    );
    ack(&server, &admin, &lines).await;
    let stored = server.call(Method::GET, "/api/sync/ack", Some(&admin), None).await.body;
    assert_eq!(stored.as_array().unwrap().len(), 3, "{stored}");
    assert!(kinds(&sync(&server, &admin, &["AuthUsersV1", "UsersV1"]).await).is_empty());

    let bad = server
        .call(
            Method::POST,
            "/api/sync/ack",
            Some(&admin),
            Some(json!({"acks": ["Bogus|x"]})),
        )
        .await;
    assert_eq!(
        (bad.status, bad.message()),
        (StatusCode::BAD_REQUEST, "Invalid ack type: Bogus")
    );
    // Forgetting a type sends it again; a reset starts everything over.
    assert_eq!(
        server
            .call(
                Method::DELETE,
                "/api/sync/ack",
                Some(&admin),
                Some(json!({"types": ["UserV1"]}))
            )
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        kinds(&sync(&server, &admin, &["AuthUsersV1", "UsersV1"]).await),
        ["UserV1"]
    );
    let reset = server
        .request(Method::POST, "/api/sync/stream")
        .bearer_auth(&admin)
        .json(&json!({"types": ["AuthUsersV1"], "reset": true}))
        .send()
        .await
        .unwrap();
    assert!(reset.text().await.unwrap().contains("AuthUserV1"));

    // A pending reset (set from another device) is all the next stream says.
    let session = server.call(Method::GET, "/api/sessions", Some(&admin), None).await.body[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    server
        .call(
            Method::PUT,
            &format!("/api/sessions/{session}"),
            Some(&admin),
            Some(json!({"isPendingSyncReset": true})),
        )
        .await;
    let pending = sync(&server, &admin, &["AuthUsersV1"]).await;
    assert_eq!(
        pending,
        vec![json!({"type": "SyncResetV1", "data": {}, "ack": "SyncResetV1|reset"})]
    );
    ack(&server, &admin, &pending).await;
    assert_eq!(kinds(&sync(&server, &admin, &["AuthUsersV1"]).await), ["AuthUserV1"]);
    assert_eq!(
        server.call(Method::GET, "/api/sync/ack", Some(&admin), None).await.body,
        json!([])
    );

    // Silent for more than 30 days: the audit trail may be gone, so the device starts over.
    let long_ago: uuid::Uuid = sqlx::query_scalar("SELECT immich_uuid_v7(now() - interval '40 days')")
        .fetch_one(&mut server.db().await)
        .await
        .unwrap();
    let stale = server
        .call(
            Method::POST,
            "/api/sync/ack",
            Some(&admin),
            Some(json!({"acks": [format!("SyncCompleteV1|{long_ago}")]})),
        )
        .await;
    assert_eq!(stale.status, StatusCode::NO_CONTENT);
    assert_eq!(kinds(&sync(&server, &admin, &["AuthUsersV1"]).await), ["SyncResetV1"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn own_assets_arrive_once_per_change_and_nobody_elses() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let other = server.user_token(&admin, "other@example.com").await;
    upload(&server, &other, 99).await;
    let types = ["AssetsV2", "AssetExifsV1"];
    let id = upload(&server, &admin, 1).await;
    settle(&server, &admin).await;

    let created = expect_once(&server, &admin, &types, &["AssetV2", "AssetExifV1"]).await;
    let asset = &created[0]["data"];
    let original = server
        .call(Method::GET, &format!("/api/assets/{id}"), Some(&admin), None)
        .await
        .body;
    assert_eq!(
        (
            asset["id"].clone(),
            asset["checksum"].clone(),
            asset["thumbhash"].clone()
        ),
        (json!(id), original["checksum"].clone(), original["thumbhash"].clone())
    );
    assert_eq!(
        (
            asset["type"].clone(),
            asset["visibility"].clone(),
            asset["isFavorite"].clone()
        ),
        (json!("IMAGE"), json!("timeline"), json!(false))
    );
    assert_eq!(asset["fileCreatedAt"], json!("2024-05-01T12:00:00.000Z"));
    assert_eq!(
        (
            created[1]["data"]["assetId"].clone(),
            created[1]["data"]["exifImageWidth"].clone()
        ),
        (json!(id), json!(320))
    );

    server
        .call(
            Method::PUT,
            &format!("/api/assets/{id}"),
            Some(&admin),
            Some(json!({"isFavorite": true})),
        )
        .await;
    let updated = expect_once(&server, &admin, &types, &["AssetV2"]).await;
    assert_eq!(updated[0]["data"]["isFavorite"], json!(true));
    server
        .call(
            Method::PUT,
            &format!("/api/assets/{id}"),
            Some(&admin),
            Some(json!({"description": "at the beach"})),
        )
        .await;
    // The edit goes into an XMP sidecar, which is read back (touching the asset too): wait
    // for that to finish.
    settle(&server, &admin).await;
    let described = expect_once(&server, &admin, &types, &["AssetV2", "AssetExifV1"]).await;
    assert_eq!(described[1]["data"]["description"], json!("at the beach"));

    server
        .call(
            Method::DELETE,
            "/api/assets",
            Some(&admin),
            Some(json!({"ids": [id], "force": true})),
        )
        .await;
    let deleted = expect_once(&server, &admin, &types, &["AssetDeleteV1"]).await;
    assert_eq!(deleted[0]["data"], json!({"assetId": id}));
}

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
async fn people_of_an_immich_database_reach_their_owners_phone() {
    let server = TestServer::start().await;
    let owner = server.admin_token().await;
    let other = server.user_token(&owner, "other@example.com").await;
    let me = server.call(Method::GET, "/api/users/me", Some(&owner), None).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    // People come from a database Immich filled: Darkroom recognises no faces yet.
    let person: String = sqlx::query_scalar(r#"INSERT INTO person ("ownerId", name, "birthDate") VALUES ($1::uuid, 'Sam', '1990-02-03') RETURNING id::text"#)
        .bind(&me)
        .fetch_one(&mut server.db().await)
        .await
        .unwrap();
    let lines = expect_once(&server, &owner, &["PeopleV1"], &["PersonV1"]).await;
    let data = &lines[0]["data"];
    assert_eq!(
        (data["id"].clone(), data["name"].clone(), data["ownerId"].clone()),
        (json!(person), json!("Sam"), json!(me))
    );
    assert_eq!(
        (
            data["birthDate"].clone(),
            data["faceAssetId"].clone(),
            data["isHidden"].clone()
        ),
        (json!("1990-02-03T00:00:00.000Z"), Value::Null, json!(false))
    );
    expect_once(&server, &other, &["PeopleV1"], &[]).await;

    sqlx::query(r#"UPDATE person SET name = 'Samantha' WHERE id = $1::uuid"#)
        .bind(&person)
        .execute(&mut server.db().await)
        .await
        .unwrap();
    let renamed = expect_once(&server, &owner, &["PeopleV1"], &["PersonV1"]).await;
    assert_eq!(renamed[0]["data"]["name"], json!("Samantha"));
    sqlx::query(r#"DELETE FROM person WHERE id = $1::uuid"#)
        .bind(&person)
        .execute(&mut server.db().await)
        .await
        .unwrap();
    let gone = expect_once(&server, &owner, &["PeopleV1"], &["PersonDeleteV1"]).await;
    assert_eq!(gone[0]["data"], json!({"personId": person}));
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faces_text_and_edits_of_an_immich_database_reach_their_owners_phone() {
    let server = TestServer::start().await;
    let owner = server.admin_token().await;
    let other = server.user_token(&owner, "other@example.com").await;
    let me = user_id(&server, &owner).await;
    let asset = upload(&server, &owner, 41).await;
    settle(&server, &owner).await;
    let types = ["AssetFacesV2", "AssetOcrV1", "AssetEditsV1"];
    expect_once(&server, &owner, &types, &[]).await;
    expect_once(&server, &owner, &["AssetsV2"], &["AssetV2"]).await;

    // Faces, text and edits come from a database Immich filled: Darkroom makes none yet.
    let mut db = server.db().await;
    let person: String =
        sqlx::query_scalar(r#"INSERT INTO person ("ownerId", name) VALUES ($1::uuid, 'Sam') RETURNING id::text"#)
            .bind(&me)
            .fetch_one(&mut db)
            .await
            .unwrap();
    let face: String = sqlx::query_scalar(
        r#"INSERT INTO asset_face ("assetId", "personId", "imageWidth", "imageHeight", "boundingBoxX1", "boundingBoxY1", "boundingBoxX2", "boundingBoxY2")
           VALUES ($1::uuid, $2::uuid, 640, 480, 10, 20, 110, 140) RETURNING id::text"#,
    )
    .bind(&asset)
    .bind(&person)
    .fetch_one(&mut db)
    .await
    .unwrap();
    let ocr: String = sqlx::query_scalar(
        r#"INSERT INTO asset_ocr ("assetId", x1, y1, x2, y2, x3, y3, x4, y4, "boxScore", "textScore", text)
           VALUES ($1::uuid, 0.25, 0.5, 0.75, 0.5, 0.75, 0.625, 0.25, 0.625, 0.875, 0.5, 'EXIT') RETURNING id::text"#,
    )
    .bind(&asset)
    .fetch_one(&mut db)
    .await
    .unwrap();
    let edit: String = sqlx::query_scalar(
        r#"INSERT INTO asset_edit ("assetId", action, parameters, sequence) VALUES ($1::uuid, 'rotate', '{"angle": 90}', 0) RETURNING id::text"#,
    )
    .bind(&asset)
    .fetch_one(&mut db)
    .await
    .unwrap();

    let lines = expect_once(&server, &owner, &types, &["AssetOcrV1", "AssetFaceV2", "AssetEditV1"]).await;
    let by_kind = |kind: &str| lines.iter().find(|l| l["type"] == json!(kind)).unwrap()["data"].clone();
    assert_eq!(
        by_kind("AssetFaceV2"),
        json!({"id": face, "assetId": asset, "personId": person, "imageWidth": 640, "imageHeight": 480, "boundingBoxX1": 10, "boundingBoxY1": 20,
               "boundingBoxX2": 110, "boundingBoxY2": 140, "sourceType": "machine-learning", "deletedAt": null, "isVisible": true})
    );
    assert_eq!(
        by_kind("AssetOcrV1"),
        json!({"id": ocr, "assetId": asset, "x1": 0.25, "y1": 0.5, "x2": 0.75, "y2": 0.5, "x3": 0.75, "y3": 0.625, "x4": 0.25, "y4": 0.625,
               "boxScore": 0.875, "textScore": 0.5, "text": "EXIT", "isVisible": true})
    );
    assert_eq!(
        by_kind("AssetEditV1"),
        json!({"id": edit, "assetId": asset, "action": "rotate", "parameters": {"angle": 90}, "sequence": 0})
    );
    // An edit marks its asset edited, which the phone hears as a change of the asset.
    let edited = expect_once(&server, &owner, &["AssetsV2"], &["AssetV2"]).await;
    assert_eq!(edited[0]["data"]["isEdited"], json!(true));
    expect_once(&server, &other, &types, &[]).await;

    sqlx::query(r#"UPDATE asset_face SET "personId" = NULL WHERE id = $1::uuid"#)
        .bind(&face)
        .execute(&mut db)
        .await
        .unwrap();
    let unassigned = expect_once(&server, &owner, &types, &["AssetFaceV2"]).await;
    assert_eq!(unassigned[0]["data"]["personId"], Value::Null);

    sqlx::query(r#"DELETE FROM asset_face WHERE id = $1::uuid"#)
        .bind(&face)
        .execute(&mut db)
        .await
        .unwrap();
    sqlx::query(r#"DELETE FROM asset_ocr WHERE id = $1::uuid"#)
        .bind(&ocr)
        .execute(&mut db)
        .await
        .unwrap();
    sqlx::query(r#"DELETE FROM asset_edit WHERE id = $1::uuid"#)
        .bind(&edit)
        .execute(&mut db)
        .await
        .unwrap();
    let gone = expect_once(
        &server,
        &owner,
        &types,
        &["AssetOcrDeleteV1", "AssetFaceDeleteV1", "AssetEditDeleteV1"],
    )
    .await;
    let by_kind = |kind: &str| gone.iter().find(|l| l["type"] == json!(kind)).unwrap()["data"].clone();
    assert_eq!(by_kind("AssetFaceDeleteV1"), json!({"assetFaceId": face}));
    assert_eq!(by_kind("AssetEditDeleteV1"), json!({"editId": edit}));
    let text_gone = by_kind("AssetOcrDeleteV1");
    assert_eq!(text_gone["assetId"], json!(asset));
    assert!(
        text_gone["id"].is_string() && text_gone["deletedAt"].as_str().unwrap().ends_with('Z'),
        "{text_gone}"
    );
    let unedited = expect_once(&server, &owner, &["AssetsV2"], &["AssetV2"]).await;
    assert_eq!(unedited[0]["data"]["isEdited"], json!(false));

    // What goes with its asset is told by the asset's own delete, not one line per face.
    sqlx::query(r#"INSERT INTO asset_face ("assetId") VALUES ($1::uuid)"#)
        .bind(&asset)
        .execute(&mut db)
        .await
        .unwrap();
    expect_once(&server, &owner, &types, &["AssetFaceV2"]).await;
    sqlx::query(r#"DELETE FROM asset WHERE id = $1::uuid"#)
        .bind(&asset)
        .execute(&mut db)
        .await
        .unwrap();
    expect_once(&server, &owner, &types, &[]).await;
    expect_once(&server, &owner, &["AssetsV2"], &["AssetDeleteV1"]).await;
}
