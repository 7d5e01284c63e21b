//! What a partner, an album member and a shared link may see of a timeline.

use darkroom_tests::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{get, upload, user_id};

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
