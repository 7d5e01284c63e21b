//! The web timeline and partners: month buckets and columnar months, every filter's rules,
//! and what a partner, an album member and a shared link may see.

use darkroom_tests::{TestServer, fixtures};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn upload(server: &TestServer, token: &str, seed: u32, taken: &str) -> String {
    let path = std::env::temp_dir().join(format!("darkroom-timeline-{}.png", uuid::Uuid::new_v4().simple()));
    fixtures::still(&path, seed);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let reply = server
        .upload(
            token,
            "photo.png",
            &bytes,
            &[("fileCreatedAt", taken), ("fileModifiedAt", taken)],
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let id = reply.body["id"].as_str().unwrap().to_string();
    // The timeline shows assets once their metadata (and so their local time) is read.
    server.wait_until_processed(token, &id).await;
    id
}

async fn get(server: &TestServer, token: &str, path: &str) -> (StatusCode, Value) {
    let reply = server.call(Method::GET, path, Some(token), None).await;
    (reply.status, reply.body)
}

async fn user_id(server: &TestServer, token: &str) -> String {
    get(server, token, "/api/users/me").await.1["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn months_and_their_assets_as_columns() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let march_early = upload(&server, &admin, 1, "2024-03-02T10:00:00.000Z").await;
    let march_late = upload(&server, &admin, 2, "2024-03-20T08:30:00.000Z").await;
    let december = upload(&server, &admin, 3, "2023-12-31T23:00:00.000Z").await;

    let (status, buckets) = get(&server, &admin, "/api/timeline/buckets").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        buckets,
        json!([{"timeBucket": "2024-03-01", "count": 2}, {"timeBucket": "2023-12-01", "count": 1}])
    );
    let (_, ascending) = get(&server, &admin, "/api/timeline/buckets?order=asc").await;
    assert_eq!(ascending[0]["timeBucket"], json!("2023-12-01"));

    let (status, march) = get(&server, &admin, "/api/timeline/bucket?timeBucket=2024-03-01").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(march["id"], json!([march_late, march_early]), "newest first");
    assert_eq!(march["ratio"], json!([1.333, 1.333]));
    assert_eq!(march["isImage"], json!([true, true]));
    assert_eq!(march["isTrashed"], json!([false, false]));
    assert_eq!(march["visibility"], json!(["timeline", "timeline"]));
    assert_eq!(
        march["fileCreatedAt"],
        json!(["2024-03-20T08:30:00", "2024-03-02T10:00:00"])
    );
    assert_eq!(march["localOffsetHours"], json!([0.0, 0.0]));
    assert!(march["thumbhash"][0].is_string() && march["duration"] == json!([null, null]));
    assert!(march.get("latitude").is_none() && march.get("stack").is_none());
    let (_, with_extras) = get(
        &server,
        &admin,
        "/api/timeline/bucket?timeBucket=2024-03-01&withCoordinates=true&withStacked=true&order=asc",
    )
    .await;
    assert_eq!(with_extras["id"], json!([march_early, march_late]));
    assert_eq!(
        (with_extras["latitude"].clone(), with_extras["stack"].clone()),
        (json!([null, null]), json!([null, null]))
    );
    let (_, empty) = get(&server, &admin, "/api/timeline/bucket?timeBucket=2024-04-01").await;
    assert_eq!(empty["id"], json!([]));

    // Favourites, archive and trash.
    server
        .call(
            Method::PUT,
            &format!("/api/assets/{march_early}"),
            Some(&admin),
            Some(json!({"isFavorite": true})),
        )
        .await;
    server
        .call(
            Method::PUT,
            &format!("/api/assets/{march_late}"),
            Some(&admin),
            Some(json!({"visibility": "archive"})),
        )
        .await;
    server
        .call(
            Method::DELETE,
            "/api/assets",
            Some(&admin),
            Some(json!({"ids": [december]})),
        )
        .await;
    let (_, favourites) = get(&server, &admin, "/api/timeline/buckets?isFavorite=true").await;
    assert_eq!(favourites, json!([{"timeBucket": "2024-03-01", "count": 1}]));
    let (_, archived) = get(
        &server,
        &admin,
        "/api/timeline/bucket?timeBucket=2024-03-01&visibility=archive",
    )
    .await;
    assert_eq!(archived["id"], json!([march_late]));
    let (_, timeline_only) = get(&server, &admin, "/api/timeline/buckets?visibility=timeline").await;
    assert_eq!(timeline_only, json!([{"timeBucket": "2024-03-01", "count": 1}]));
    let (_, everything) = get(&server, &admin, "/api/timeline/buckets").await;
    assert_eq!(
        everything,
        json!([{"timeBucket": "2024-03-01", "count": 2}]),
        "archived shows by default; trashed does not"
    );
    let (_, trash) = get(
        &server,
        &admin,
        "/api/timeline/bucket?timeBucket=2023-12-01&isTrashed=true",
    )
    .await;
    assert_eq!(
        (trash["id"].clone(), trash["isTrashed"].clone()),
        (json!([december]), json!([true]))
    );

    // The rules.
    for (path, message) in [
        (
            "/api/timeline/buckets?withPartners=true",
            "withPartners is only supported for non-archived, non-trashed, non-favorited, non-locked assets",
        ),
        (
            "/api/timeline/buckets?withPartners=true&visibility=timeline&isFavorite=false",
            "withPartners is only supported for non-archived, non-trashed, non-favorited, non-locked assets",
        ),
        (
            "/api/timeline/buckets?tagId=4a4f4f7e-8c3b-4a5a-9b1e-2f6c1d0e9a11",
            "Not found or no tag.read access",
        ),
    ] {
        let reply = server.call(Method::GET, path, Some(&admin), None).await;
        assert_eq!(
            (reply.status, reply.message()),
            (StatusCode::BAD_REQUEST, message),
            "{path}"
        );
    }
    let locked = server
        .call(
            Method::GET,
            "/api/timeline/buckets?visibility=locked",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(
        (locked.status, locked.message()),
        (StatusCode::UNAUTHORIZED, "Elevated permission is required")
    );
    for path in [
        "/api/timeline/bucket",
        "/api/timeline/bucket?timeBucket=March",
        "/api/timeline/buckets?bbox=1,2,3",
        "/api/timeline/buckets?bbox=0,50,10,40",
        "/api/timeline/buckets?userId=nope",
        "/api/timeline/buckets?order=sideways",
    ] {
        assert_eq!(
            server.call(Method::GET, path, Some(&admin), None).await.status,
            StatusCode::BAD_REQUEST,
            "{path}"
        );
    }
    let (status, far_future) = get(&server, &admin, "/api/timeline/bucket?timeBucket=%2B12345-01-01").await;
    assert_eq!((status, far_future["id"].clone()), (StatusCode::OK, json!([])));
    assert_eq!(
        server
            .call(Method::GET, "/api/timeline/buckets", None, None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partners_share_timelines_but_not_favourites_or_archives() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let alice = server.user_token(&admin, "alice@example.com").await;
    let bob = server.user_token(&admin, "bob@example.com").await;
    let (alice_id, bob_id) = (user_id(&server, &alice).await, user_id(&server, &bob).await);
    let bobs_photo = upload(&server, &bob, 10, "2024-06-01T12:00:00.000Z").await;
    let bobs_secret = upload(&server, &bob, 11, "2024-06-02T12:00:00.000Z").await;
    server
        .call(
            Method::PUT,
            &format!("/api/assets/{bobs_photo}"),
            Some(&bob),
            Some(json!({"isFavorite": true})),
        )
        .await;
    server
        .call(
            Method::PUT,
            &format!("/api/assets/{bobs_secret}"),
            Some(&bob),
            Some(json!({"visibility": "archive"})),
        )
        .await;
    let alices_photo = upload(&server, &alice, 12, "2024-06-03T12:00:00.000Z").await;

    // Before sharing, Bob's library is closed to Alice.
    let closed = server
        .call(
            Method::GET,
            &format!("/api/timeline/buckets?userId={bob_id}"),
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(
        (closed.status, closed.message()),
        (StatusCode::BAD_REQUEST, "Not found or no timeline.read access")
    );
    assert_eq!(
        server
            .call(Method::GET, &format!("/api/assets/{bobs_photo}"), Some(&alice), None)
            .await
            .status,
        StatusCode::BAD_REQUEST
    );

    let shared = server
        .call(
            Method::POST,
            "/api/partners",
            Some(&bob),
            Some(json!({"sharedWithId": alice_id})),
        )
        .await;
    assert_eq!(shared.status, StatusCode::CREATED, "{}", shared.body);
    assert_eq!(
        (shared.body["id"].clone(), shared.body["inTimeline"].clone()),
        (json!(alice_id), json!(false))
    );
    let again = server
        .call(
            Method::POST,
            "/api/partners",
            Some(&bob),
            Some(json!({"sharedWithId": alice_id})),
        )
        .await;
    assert_eq!(
        (again.status, again.message()),
        (StatusCode::BAD_REQUEST, "Partner already exists")
    );
    let (_, by_bob) = get(&server, &bob, "/api/partners?direction=shared-by").await;
    assert_eq!(by_bob.as_array().unwrap().len(), 1);
    let (_, with_alice) = get(&server, &alice, "/api/partners?direction=shared-with").await;
    assert_eq!(
        (with_alice[0]["id"].clone(), with_alice[0]["email"].clone()),
        (json!(bob_id), json!("bob@example.com"))
    );
    let (_, by_alice) = get(&server, &alice, "/api/partners?direction=shared-by").await;
    assert_eq!(by_alice, json!([]));
    assert_eq!(
        server
            .call(Method::GET, "/api/partners", Some(&alice), None)
            .await
            .status,
        StatusCode::BAD_REQUEST,
        "direction is required"
    );

    // Alice sees Bob's timeline photos, not his archive, and his favourite is not hers.
    assert_eq!(
        server
            .call(Method::GET, &format!("/api/assets/{bobs_photo}"), Some(&alice), None)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        server
            .call(Method::GET, &format!("/api/assets/{bobs_secret}"), Some(&alice), None)
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    let update_theirs = server
        .call(
            Method::PUT,
            &format!("/api/assets/{bobs_photo}"),
            Some(&alice),
            Some(json!({"isFavorite": false})),
        )
        .await;
    assert_eq!(
        update_theirs.status,
        StatusCode::BAD_REQUEST,
        "partners look, they do not touch"
    );
    let (status, bobs) = get(
        &server,
        &alice,
        &format!("/api/timeline/bucket?timeBucket=2024-06-01&userId={bob_id}&visibility=timeline"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (bobs["id"].clone(), bobs["isFavorite"].clone()),
        (json!([bobs_photo]), json!([false]))
    );
    let archive = server
        .call(
            Method::GET,
            &format!("/api/timeline/buckets?userId={bob_id}&visibility=archive"),
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(
        (archive.status, archive.message()),
        (StatusCode::BAD_REQUEST, "Not found or no archive.read access")
    );

    // In her own timeline only once she asks for it.
    let mine_with_partners = "/api/timeline/bucket?timeBucket=2024-06-01&withPartners=true&visibility=timeline";
    assert_eq!(
        get(&server, &alice, mine_with_partners).await.1["id"],
        json!([alices_photo])
    );
    let not_hers = server
        .call(
            Method::PUT,
            &format!("/api/partners/{alice_id}"),
            Some(&bob),
            Some(json!({"inTimeline": true})),
        )
        .await;
    assert_eq!(
        (not_hers.status, not_hers.message()),
        (StatusCode::BAD_REQUEST, "Not found or no partner.update access")
    );
    let shown = server
        .call(
            Method::PUT,
            &format!("/api/partners/{bob_id}"),
            Some(&alice),
            Some(json!({"inTimeline": true})),
        )
        .await;
    assert_eq!(
        (shown.status, shown.body["inTimeline"].clone()),
        (StatusCode::OK, json!(true))
    );
    assert_eq!(
        get(&server, &alice, mine_with_partners).await.1["id"],
        json!([alices_photo, bobs_photo])
    );

    // Bob stops sharing: everything closes again.
    let wrong_side = server
        .call(Method::DELETE, &format!("/api/partners/{bob_id}"), Some(&alice), None)
        .await;
    assert_eq!(
        (wrong_side.status, wrong_side.message()),
        (StatusCode::BAD_REQUEST, "Partner not found")
    );
    assert_eq!(
        server
            .call(Method::DELETE, &format!("/api/partners/{alice_id}"), Some(&bob), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        get(&server, &alice, mine_with_partners).await.1["id"],
        json!([alices_photo])
    );
    assert_eq!(
        server
            .call(Method::GET, &format!("/api/assets/{bobs_photo}"), Some(&alice), None)
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    let audited: i64 = sqlx::query_scalar("SELECT count(*) FROM partner_audit")
        .fetch_one(&mut server.db().await)
        .await
        .unwrap();
    assert_eq!(audited, 1, "mobile clients learn of the end of the share");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn album_timelines_for_members_and_shared_links_only() {
    let server = TestServer::start().await;
    let owner = server.admin_token().await;
    let member = server.user_token(&owner, "member@example.com").await;
    let stranger = server.user_token(&owner, "stranger@example.com").await;
    let member_id = user_id(&server, &member).await;
    let photo = upload(&server, &owner, 20, "2022-08-15T09:00:00.000Z").await;
    upload(&server, &owner, 21, "2022-08-16T09:00:00.000Z").await;
    let album = server
        .call(Method::POST, "/api/albums", Some(&owner), Some(json!({"albumName": "Summer", "assetIds": [photo], "albumUsers": [{"userId": member_id, "role": "viewer"}]})))
        .await;
    let album_id = album.body["id"].as_str().unwrap().to_string();

    let path = format!("/api/timeline/buckets?albumId={album_id}");
    assert_eq!(
        get(&server, &member, &path).await.1,
        json!([{"timeBucket": "2022-08-01", "count": 1}])
    );
    let outsider = server.call(Method::GET, &path, Some(&stranger), None).await;
    assert_eq!(
        (outsider.status, outsider.message()),
        (StatusCode::BAD_REQUEST, "Not found or no album.read access")
    );

    let link = server
        .call(
            Method::POST,
            "/api/shared-links",
            Some(&owner),
            Some(json!({"type": "ALBUM", "albumId": album_id, "showMetadata": false})),
        )
        .await;
    let key = link.body["key"].as_str().unwrap().to_string();
    let guest = server
        .call(
            Method::GET,
            &format!("/api/timeline/bucket?timeBucket=2022-08-01&albumId={album_id}&key={key}&withCoordinates=true"),
            None,
            None,
        )
        .await;
    assert_eq!(guest.status, StatusCode::OK);
    assert_eq!(guest.body["id"], json!([photo]));
    assert!(
        guest.body.get("city").is_none() && guest.body.get("latitude").is_none(),
        "a link without metadata hides places"
    );
    let whole_library = server
        .call(Method::GET, &format!("/api/timeline/buckets?key={key}"), None, None)
        .await;
    assert_eq!(
        (whole_library.status, whole_library.message()),
        (StatusCode::BAD_REQUEST, "Not found or no timeline.read access")
    );
}

/// The month counts kept by trigger agree with counting the assets, through uploads,
/// favourites, archiving, stacks, trash, restore and deletion.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn month_counts_stay_true_to_the_assets() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let mut ids = Vec::new();
    for (seed, taken) in [
        (1, "2021-01-10T10:00:00.000Z"),
        (2, "2021-01-20T10:00:00.000Z"),
        (3, "2021-02-05T10:00:00.000Z"),
        (4, "2022-07-01T10:00:00.000Z"),
        (5, "2022-07-02T10:00:00.000Z"),
    ] {
        ids.push(upload(&server, &admin, seed, taken).await);
    }
    server
        .call(
            Method::PUT,
            "/api/assets",
            Some(&admin),
            Some(json!({"ids": [ids[0]], "isFavorite": true})),
        )
        .await;
    server
        .call(
            Method::PUT,
            &format!("/api/assets/{}", ids[1]),
            Some(&admin),
            Some(json!({"visibility": "archive"})),
        )
        .await;
    let stack = server
        .call(
            Method::POST,
            "/api/stacks",
            Some(&admin),
            Some(json!({"assetIds": [ids[3], ids[4]]})),
        )
        .await
        .body["id"]
        .clone();
    server
        .call(
            Method::DELETE,
            "/api/assets",
            Some(&admin),
            Some(json!({"ids": [ids[2]]})),
        )
        .await;
    server
        .call(
            Method::POST,
            "/api/trash/restore/assets",
            Some(&admin),
            Some(json!({"ids": [ids[2]]})),
        )
        .await;
    server
        .call(
            Method::DELETE,
            "/api/assets",
            Some(&admin),
            Some(json!({"ids": [ids[1]], "force": true})),
        )
        .await;

    let mut db = server.db().await;
    let counted: Vec<(String, i64)> = sqlx::query_as(
        r#"SELECT month::date::text, sum(count)::bigint FROM asset_month_count GROUP BY 1 HAVING sum(count) > 0 ORDER BY 1"#,
    )
    .fetch_all(&mut db)
    .await
    .unwrap();
    let scanned: Vec<(String, i64)> = sqlx::query_as(
        r#"SELECT date_trunc('MONTH', "localDateTime" AT TIME ZONE 'UTC')::date::text, count(*) FROM asset GROUP BY 1 ORDER BY 1"#,
    )
    .fetch_all(&mut db)
    .await
    .unwrap();
    assert_eq!(counted, scanned);
    let buckets = |query: &'static str| {
        let (server, admin) = (&server, &admin);
        async move { get(server, admin, &format!("/api/timeline/buckets{query}")).await.1 }
    };
    assert_eq!(
        buckets("").await,
        json!([{"timeBucket": "2022-07-01", "count": 2}, {"timeBucket": "2021-02-01", "count": 1}, {"timeBucket": "2021-01-01", "count": 1}])
    );
    assert_eq!(
        buckets("?withStacked=true").await[0],
        json!({"timeBucket": "2022-07-01", "count": 1}),
        "a stack counts once"
    );
    assert_eq!(
        buckets("?isFavorite=true").await,
        json!([{"timeBucket": "2021-01-01", "count": 1}])
    );
    // A stack shows as its primary asset, with how many it holds.
    let july = get(
        &server,
        &admin,
        "/api/timeline/bucket?timeBucket=2022-07-01&withStacked=true",
    )
    .await
    .1;
    assert_eq!(
        (july["id"].clone(), july["stack"].clone()),
        (json!([ids[3]]), json!([[stack, "2"]]))
    );
    let unstacked = get(&server, &admin, "/api/timeline/bucket?timeBucket=2022-07-01")
        .await
        .1;
    assert_eq!(
        unstacked["id"],
        json!([ids[4], ids[3]]),
        "newest first, each on its own"
    );
    // The same answers as counting the assets (an album-less upload-time order takes that path).
    let by_upload = buckets("?orderBy=createdAt").await;
    assert_eq!(
        by_upload
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["count"].as_i64().unwrap())
            .sum::<i64>(),
        4
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_month_follows_its_assets_new_date_and_place() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let moved = upload(&server, &admin, 1, "2021-03-10T10:00:00.000Z").await;
    let stays = upload(&server, &admin, 2, "2021-03-11T10:00:00.000Z").await;
    let edit = json!({"dateTimeOriginal": "2021-05-01T09:00:00.000+00:00", "latitude": 48.8566, "longitude": 2.3522});
    assert_eq!(
        server
            .call(Method::PUT, &format!("/api/assets/{moved}"), Some(&admin), Some(edit))
            .await
            .status,
        StatusCode::OK
    );

    // The new date reaches the asset's local time through the sidecar and a new metadata read.
    let mut may = json!(null);
    for _ in 0..200 {
        may = get(
            &server,
            &admin,
            "/api/timeline/bucket?timeBucket=2021-05-01&withCoordinates=true",
        )
        .await
        .1;
        if may["id"] == json!([moved]) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(may["id"], json!([moved]), "{may}");
    assert_eq!(
        (may["latitude"].clone(), may["longitude"].clone()),
        (json!([48.8566]), json!([2.3522]))
    );
    assert_eq!(
        get(&server, &admin, "/api/timeline/bucket?timeBucket=2021-03-01")
            .await
            .1["id"],
        json!([stays])
    );

    // The timeline's copy of the EXIF columns is what the assets and their EXIF say.
    let mut db = server.db().await;
    let stale: i64 = sqlx::query_scalar(
        r#"SELECT count(*) FROM asset_exif e JOIN asset a ON a.id = e."assetId" FULL JOIN timeline_exif t ON t."assetId" = e."assetId"
           WHERE t."assetId" IS NULL OR e."assetId" IS NULL OR t."ownerId" <> a."ownerId"
              OR t."localDay" <> (a."localDateTime" AT TIME ZONE 'UTC')::date
              OR (t.city, t.country, t."projectionType", t.latitude, t.longitude) IS DISTINCT FROM (e.city, e.country, e."projectionType", e.latitude, e.longitude)"#,
    )
    .fetch_one(&mut db)
    .await
    .unwrap();
    assert_eq!(stale, 0);
}
