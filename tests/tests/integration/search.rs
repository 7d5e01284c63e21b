//! Searching by metadata: every filter family, paging, counts, random picks, large files,
//! suggestions and places; partners only when shown in the timeline; locked needs the PIN.

use darkroom_tests::{TestServer, fixtures};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn upload(server: &TestServer, token: &str, name: &str, exif: bool, seed: u32) -> String {
    let path = std::env::temp_dir().join(format!("darkroom-search-{}-{name}", uuid::Uuid::new_v4().simple()));
    if exif {
        fixtures::jpeg_with_exif(&path, seed)
    } else {
        fixtures::still(&path, seed)
    }
    let bytes = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let reply = server.upload(token, name, &bytes, &[]).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let id = reply.body["id"].as_str().unwrap().to_string();
    server.wait_until_processed(token, &id).await;
    id
}

async fn search(server: &TestServer, token: &str, body: Value) -> Value {
    let reply = server
        .call(Method::POST, "/api/search/metadata", Some(token), Some(body.clone()))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{body} → {}", reply.body);
    reply.body
}

fn ids(found: &Value) -> Vec<String> {
    found["assets"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_search_filters_pages_and_counts() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let beach = upload(&server, &admin, "beach.jpg", true, 1).await;
    let harbour = upload(&server, &admin, "harbour.jpg", true, 2).await;
    let plain = upload(&server, &admin, "Plain.png", false, 3).await;
    sqlx::query(r#"UPDATE asset_exif SET city = 'Paris', country = 'France', state = 'Île-de-France' WHERE "assetId" = $1::uuid"#)
        .bind(&beach)
        .execute(&mut server.db().await)
        .await
        .unwrap();

    let everything = search(&server, &admin, json!({})).await;
    assert_eq!(
        ids(&everything)[0],
        plain,
        "newest first: the PNG was taken 2024, the JPEGs 2023"
    );
    assert_eq!(
        (
            everything["assets"]["count"].clone(),
            everything["assets"]["nextPage"].clone()
        ),
        (json!(3), Value::Null)
    );
    assert_eq!(
        everything["albums"],
        json!({"total": 0, "count": 0, "items": [], "facets": []})
    );
    assert!(
        everything["assets"]["items"][0].get("exifInfo").is_none(),
        "EXIF only when asked for"
    );
    assert!(search(&server, &admin, json!({"withExif": true})).await["assets"]["items"][0]["exifInfo"].is_object());

    let mut by_camera = ids(&search(&server, &admin, json!({"make": "Darkroom", "model": "TestCam"})).await);
    by_camera.sort();
    let mut jpegs = vec![beach.clone(), harbour.clone()];
    jpegs.sort();
    assert_eq!(by_camera, jpegs);
    assert_eq!(
        ids(&search(&server, &admin, json!({"make": null})).await),
        vec![plain.clone()],
        "null means: no make"
    );
    assert_eq!(
        ids(&search(&server, &admin, json!({"city": "Paris"})).await),
        vec![beach.clone()]
    );
    assert_eq!(
        ids(&search(&server, &admin, json!({"originalFileName": "PLAIN"})).await),
        vec![plain.clone()],
        "file names match case-insensitively"
    );
    assert_eq!(
        ids(&search(&server, &admin, json!({"takenAfter": "2024-01-01T00:00:00.000Z"})).await),
        vec![plain.clone()]
    );
    assert_eq!(
        ids(&search(
            &server,
            &admin,
            json!({"takenBefore": "2024-01-01T00:00:00+02:00", "order": "asc"})
        )
        .await)
        .len(),
        2
    );
    assert!(ids(&search(&server, &admin, json!({"type": "VIDEO"})).await).is_empty());
    assert!(
        ids(&search(
            &server,
            &admin,
            json!({"personIds": ["4a4f4f7e-8c3b-4a5a-9b1e-2f6c1d0e9a11"]})
        )
        .await)
        .is_empty()
    );
    let checksum = server
        .call(Method::GET, &format!("/api/assets/{harbour}"), Some(&admin), None)
        .await
        .body["checksum"]
        .clone();
    assert_eq!(
        ids(&search(&server, &admin, json!({ "checksum": checksum })).await),
        vec![harbour.clone()]
    );

    // Pages.
    let first = search(&server, &admin, json!({"size": 2})).await;
    assert_eq!(
        (ids(&first).len(), first["assets"]["nextPage"].clone()),
        (2, json!("2"))
    );
    let second = search(&server, &admin, json!({"size": 2, "page": 2})).await;
    assert_eq!(
        (ids(&second).len(), second["assets"]["nextPage"].clone()),
        (1, Value::Null)
    );

    // Favourites, archive, trash.
    server
        .call(
            Method::PUT,
            &format!("/api/assets/{beach}"),
            Some(&admin),
            Some(json!({"isFavorite": true, "visibility": "archive"})),
        )
        .await;
    server
        .call(
            Method::DELETE,
            "/api/assets",
            Some(&admin),
            Some(json!({"ids": [harbour]})),
        )
        .await;
    assert_eq!(
        ids(&search(&server, &admin, json!({"isFavorite": true})).await),
        vec![beach.clone()]
    );
    assert_eq!(
        ids(&search(&server, &admin, json!({"visibility": "archive"})).await),
        vec![beach.clone()]
    );
    assert_eq!(
        ids(&search(&server, &admin, json!({})).await).len(),
        2,
        "trashed assets only with withDeleted"
    );
    assert_eq!(
        ids(&search(&server, &admin, json!({"withDeleted": true})).await).len(),
        3
    );
    assert_eq!(
        ids(&search(&server, &admin, json!({"trashedAfter": "2000-01-01T00:00:00Z"})).await),
        vec![harbour.clone()]
    );

    // Counts, random, large files, suggestions, cities.
    let total = server
        .call(
            Method::POST,
            "/api/search/statistics",
            Some(&admin),
            Some(json!({"make": "Darkroom"})),
        )
        .await;
    assert_eq!(total.body, json!({"total": 1}), "the trashed JPEG does not count");
    let random = server
        .call(
            Method::POST,
            "/api/search/random",
            Some(&admin),
            Some(json!({"size": 1})),
        )
        .await;
    assert_eq!(random.body.as_array().unwrap().len(), 1);
    let large = server
        .call(Method::POST, "/api/search/large-assets?size=5", Some(&admin), None)
        .await;
    let sizes: Vec<i64> = large
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["exifInfo"]["fileSizeInByte"].as_i64().unwrap())
        .collect();
    assert!(sizes.len() == 2 && sizes[0] >= sizes[1], "{sizes:?}");
    let makes = server
        .call(
            Method::GET,
            "/api/search/suggestions?type=camera-make",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(
        makes.body,
        json!([]),
        "suggestions come from the timeline only: the archived and trashed JPEGs do not count"
    );
    server
        .call(
            Method::PUT,
            &format!("/api/assets/{beach}"),
            Some(&admin),
            Some(json!({"visibility": "timeline"})),
        )
        .await;
    // `includeNull` adds a null (the web's "unknown"), as Immich does though its spec says strings.
    let makes: Value = server
        .request(Method::GET, "/api/search/suggestions?type=camera-make&includeNull=true")
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(makes, json!(["Darkroom", null]));
    let cities = server.call(Method::GET, "/api/search/cities", Some(&admin), None).await;
    assert_eq!(
        (cities.body[0]["id"].clone(), cities.body[0]["exifInfo"]["city"].clone()),
        (json!(beach), json!("Paris"))
    );
    let explore = server
        .call(Method::GET, "/api/search/explore", Some(&admin), None)
        .await;
    assert_eq!(
        (
            explore.body[0]["fieldName"].clone(),
            explore.body[1]["fieldName"].clone()
        ),
        (json!("exifInfo.city"), json!("createdAt"))
    );
    assert_eq!(
        explore.body[1]["items"].as_array().unwrap().len(),
        2,
        "the latest timeline images"
    );

    // Bad input.
    for body in [
        json!({"size": 0}),
        json!({"size": 1001}),
        json!({"takenAfter": "yesterday"}),
        json!({"type": "SOUND"}),
        json!({"albumIds": ["x"]}),
        json!({"rating": 6}),
    ] {
        let reply = server
            .call(Method::POST, "/api/search/metadata", Some(&admin), Some(body.clone()))
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}");
    }
    let locked = server
        .call(
            Method::POST,
            "/api/search/metadata",
            Some(&admin),
            Some(json!({"visibility": "locked"})),
        )
        .await;
    assert_eq!(
        (locked.status, locked.message()),
        (StatusCode::UNAUTHORIZED, "Elevated permission is required")
    );
    let wrong = server
        .call(Method::GET, "/api/search/suggestions?type=flavour", Some(&admin), None)
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partners_are_searched_only_when_shown_in_the_timeline() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let bob = server.user_token(&admin, "bob@example.com").await;
    let admin_id = server.call(Method::GET, "/api/users/me", Some(&admin), None).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let bobs = upload(&server, &bob, "bob.jpg", true, 7).await;
    server
        .call(
            Method::POST,
            "/api/partners",
            Some(&bob),
            Some(json!({"sharedWithId": admin_id})),
        )
        .await;
    assert!(
        ids(&search(&server, &admin, json!({})).await).is_empty(),
        "shared, but not in the timeline"
    );
    let bob_id = server.call(Method::GET, "/api/users/me", Some(&bob), None).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    server
        .call(
            Method::PUT,
            &format!("/api/partners/{bob_id}"),
            Some(&admin),
            Some(json!({"inTimeline": true})),
        )
        .await;
    let found = search(&server, &admin, json!({})).await;
    assert_eq!(ids(&found), vec![bobs.clone()]);
    assert_eq!(found["assets"]["items"][0]["isFavorite"], json!(false));
    // Bob never finds the admin's photos: nobody shares with him.
    upload(&server, &admin, "mine.jpg", true, 8).await;
    assert_eq!(ids(&search(&server, &bob, json!({})).await), [bobs]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_are_found_by_name_the_owners_only() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let other = server.user_token(&admin, "other@example.com").await;
    let owner_of = |token: String| {
        let server = &server;
        async move {
            server.call(Method::GET, "/api/users/me", Some(&token), None).await.body["id"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    let (me, them) = (owner_of(admin.clone()).await, owner_of(other.clone()).await);
    // People come from a database Immich filled (Darkroom recognises no faces yet).
    let mut db = server.db().await;
    for (owner, name, hidden, birth) in [
        (&me, "Zoë Ångström", false, Some("1990-02-03")),
        (&me, "Zoe Hidden", true, None),
        (&me, "Bob", false, None),
        (&them, "Zoe Theirs", false, None),
    ] {
        sqlx::query(r#"INSERT INTO person ("ownerId", name, "isHidden", "birthDate", color) VALUES ($1::uuid, $2, $3, $4::date, '#aabbcc')"#)
            .bind(owner)
            .bind(name)
            .bind(hidden)
            .bind(birth)
            .execute(&mut db)
            .await
            .unwrap();
    }
    let search = |query: &'static str| {
        let (server, admin) = (&server, &admin);
        async move {
            server
                .call(Method::GET, &format!("/api/search/person?{query}"), Some(admin), None)
                .await
        }
    };
    let found = search("name=zoe").await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.body);
    let names: Vec<&str> = found
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["Zoë Ångström"],
        "accents ignored, hidden and other users' people left out"
    );
    let person = &found.body[0];
    assert_eq!(
        (
            person["birthDate"].clone(),
            person["isHidden"].clone(),
            person["color"].clone()
        ),
        (json!("1990-02-03"), json!(false), json!("#aabbcc"))
    );
    assert!(person["updatedAt"].is_string() && person["thumbnailPath"] == json!(""));
    let with_hidden = search("name=zoe&withHidden=true").await.body;
    assert_eq!(with_hidden.as_array().unwrap().len(), 2, "{with_hidden}");
    assert_eq!(
        search("name=angstrom").await.body[0]["name"],
        json!("Zoë Ångström"),
        "any word of the name"
    );
    assert_eq!(search("name=nobody").await.body, json!([]));
    assert_eq!(search("withHidden=true").await.status, StatusCode::BAD_REQUEST);
}
