//! Tags: a hierarchy per user, on assets, in the timeline and in search; nobody else's.

use darkroom_tests::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn photo(server: &TestServer, token: &str, seed: u8) -> String {
    let bytes = [b"\x89PNG\r\n\x1a\n".as_slice(), &[seed; 16]].concat();
    server.upload(token, "p.png", &bytes, &[]).await.body["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hierarchy_of_tags_on_assets_owner_only() {
    let server = TestServer::start().await;
    let owner = server.admin_token().await;
    let other = server.user_token(&owner, "other@example.com").await;
    let [beach, city] = [photo(&server, &owner, 1).await, photo(&server, &owner, 2).await];
    let theirs = photo(&server, &other, 3).await;

    let travel = server
        .call(
            Method::POST,
            "/api/tags",
            Some(&owner),
            Some(json!({"name": "Travel", "color": "f00"})),
        )
        .await;
    assert_eq!(travel.status, StatusCode::CREATED, "{}", travel.body);
    assert_eq!(
        (travel.body["value"].clone(), travel.body["color"].clone()),
        (json!("Travel"), json!("#f00"))
    );
    let travel_id = travel.body["id"].as_str().unwrap().to_string();
    let france = server
        .call(
            Method::POST,
            "/api/tags",
            Some(&owner),
            Some(json!({"name": "France", "parentId": travel_id})),
        )
        .await
        .body;
    assert_eq!(
        (
            france["name"].clone(),
            france["value"].clone(),
            france["parentId"].clone()
        ),
        (json!("France"), json!("Travel/France"), json!(travel_id))
    );
    let again = server
        .call(Method::POST, "/api/tags", Some(&owner), Some(json!({"name": "Travel"})))
        .await;
    assert_eq!(
        (again.status, again.message()),
        (StatusCode::BAD_REQUEST, "A tag with that name already exists")
    );
    assert_eq!(
        server
            .call(
                Method::POST,
                "/api/tags",
                Some(&owner),
                Some(json!({"name": "X", "color": "blue"}))
            )
            .await
            .status,
        StatusCode::BAD_REQUEST
    );

    // Paths make every level; the leaves come back.
    let upserted = server
        .call(
            Method::PUT,
            "/api/tags",
            Some(&owner),
            Some(json!({"tags": ["Travel/France/Paris", "People//Family"]})),
        )
        .await
        .body;
    assert_eq!(
        upserted
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["value"].clone())
            .collect::<Vec<_>>(),
        [json!("Travel/France/Paris"), json!("People/Family")]
    );
    let all: Vec<Value> = server
        .call(Method::GET, "/api/tags", Some(&owner), None)
        .await
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["value"].clone())
        .collect();
    assert_eq!(
        all,
        [
            json!("People"),
            json!("People/Family"),
            json!("Travel"),
            json!("Travel/France"),
            json!("Travel/France/Paris")
        ]
    );
    let paris = upserted[0]["id"].as_str().unwrap().to_string();

    // Tagging.
    let added = server
        .call(
            Method::PUT,
            &format!("/api/tags/{paris}/assets"),
            Some(&owner),
            Some(json!({"ids": [beach, beach, theirs]})),
        )
        .await
        .body;
    assert_eq!(
        added,
        json!([{"id": beach, "success": true}, {"id": beach, "success": false, "error": "duplicate"}, {"id": theirs, "success": false, "error": "no_permission"}])
    );
    let shown = server
        .call(Method::GET, &format!("/api/assets/{beach}"), Some(&owner), None)
        .await
        .body;
    assert_eq!(
        (shown["tags"][0]["value"].clone(), shown["tags"][0]["name"].clone()),
        (json!("Travel/France/Paris"), json!("Paris"))
    );
    let bulk = server
        .call(
            Method::PUT,
            "/api/tags/assets",
            Some(&owner),
            Some(json!({"tagIds": [travel_id], "assetIds": [city, theirs]})),
        )
        .await
        .body;
    assert_eq!(bulk, json!({"count": 1}), "only the owner's asset");

    // A tag finds its own assets and those of every tag below it.
    let ids = |found: &Value| {
        let mut ids: Vec<String> = found["assets"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].as_str().unwrap().to_string())
            .collect();
        ids.sort();
        ids
    };
    let mut both = vec![beach.clone(), city.clone()];
    both.sort();
    assert_eq!(
        ids(&server
            .call(
                Method::POST,
                "/api/search/metadata",
                Some(&owner),
                Some(json!({"tagIds": [travel_id]}))
            )
            .await
            .body),
        both
    );
    assert_eq!(
        ids(&server
            .call(
                Method::POST,
                "/api/search/metadata",
                Some(&owner),
                Some(json!({"tagIds": [paris]}))
            )
            .await
            .body),
        vec![beach.clone()]
    );
    let buckets = server
        .call(
            Method::GET,
            &format!("/api/timeline/buckets?tagId={paris}"),
            Some(&owner),
            None,
        )
        .await
        .body;
    assert_eq!(buckets, json!([{"timeBucket": "2024-05-01", "count": 1}]));
    let foreign = server
        .call(
            Method::GET,
            &format!("/api/timeline/buckets?tagId={paris}"),
            Some(&other),
            None,
        )
        .await;
    assert_eq!(
        (foreign.status, foreign.message()),
        (StatusCode::BAD_REQUEST, "Not found or no tag.read access")
    );

    let removed = server
        .call(
            Method::DELETE,
            &format!("/api/tags/{paris}/assets"),
            Some(&owner),
            Some(json!({"ids": [beach, city]})),
        )
        .await
        .body;
    assert_eq!(
        removed,
        json!([{"id": beach, "success": true}, {"id": city, "success": false, "error": "not_found"}])
    );

    // Colour, privacy, deleting a branch, cleaning up.
    let recoloured = server
        .call(
            Method::PUT,
            &format!("/api/tags/{travel_id}"),
            Some(&owner),
            Some(json!({"color": "#00ff00"})),
        )
        .await
        .body;
    assert_eq!(recoloured["color"], json!("#00ff00"));
    assert_eq!(
        server
            .call(Method::GET, &format!("/api/tags/{travel_id}"), Some(&other), None)
            .await
            .message(),
        "Not found or no tag.read access"
    );
    assert_eq!(
        server.call(Method::GET, "/api/tags", Some(&other), None).await.body,
        json!([])
    );
    let people = all_ids(&server, &owner, "People").await;
    assert_eq!(
        server
            .call(Method::DELETE, &format!("/api/tags/{people}"), Some(&owner), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert!(
        all_ids(&server, &owner, "People/Family").await.is_empty(),
        "children go with their parent"
    );
    let cleanup = server
        .call(
            Method::POST,
            "/api/jobs",
            Some(&owner),
            Some(json!({"name": "tag-cleanup"})),
        )
        .await;
    assert_eq!(cleanup.status, StatusCode::NO_CONTENT);
    for _ in 0..100 {
        if all_ids(&server, &owner, "Travel/France/Paris").await.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let left: Vec<Value> = server
        .call(Method::GET, "/api/tags", Some(&owner), None)
        .await
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["value"].clone())
        .collect();
    assert_eq!(left, [json!("Travel")], "only tags on assets (or above them) stay");
}

/// The id of the caller's tag with this path (empty when there is none).
async fn all_ids(server: &TestServer, token: &str, value: &str) -> String {
    let tags = server.call(Method::GET, "/api/tags", Some(token), None).await.body;
    tags.as_array()
        .unwrap()
        .iter()
        .find(|t| t["value"] == json!(value))
        .map(|t| t["id"].as_str().unwrap().to_string())
        .unwrap_or_default()
}
