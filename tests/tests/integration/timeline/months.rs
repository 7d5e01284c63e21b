//! Month buckets and columnar months, their counts kept true, and a month following its assets' date and place.

use darkroom_tests::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{get, upload};

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
