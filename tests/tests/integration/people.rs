//! People and faces: people made and listed as the people page lists them, updated (with the
//! birth-date and colour rules), merged, faces drawn by hand, moved and deleted, face
//! thumbnails, recognised text, and nothing of it reachable by another user.

mod faces;

use darkroom_tests::{TestServer, fixtures};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const UNKNOWN: &str = "4a4f4f7e-8c3b-4a5a-9b1e-2f6c1d0e9a11";
const UPDATE_ID: &str = r#"SELECT "updateId"::text FROM person WHERE id = $1::uuid"#;
const COVER: &str = r#"SELECT "faceAssetId"::text FROM person WHERE id = $1::uuid"#;
const FACE_PERSON: &str = r#"SELECT "personId"::text FROM asset_face WHERE id = $1::uuid"#;

async fn upload(server: &TestServer, token: &str, seed: u32) -> String {
    let path = std::env::temp_dir().join(format!("darkroom-people-{}.png", uuid::Uuid::new_v4().simple()));
    fixtures::still(&path, seed);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let reply = server.upload(token, "face.png", &bytes, &[]).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let id = reply.body["id"].as_str().unwrap().to_string();
    server.wait_until_processed(token, &id).await;
    id
}

async fn person(server: &TestServer, token: &str, body: Value) -> String {
    let reply = server.call(Method::POST, "/api/people", Some(token), Some(body)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body["id"].as_str().unwrap().to_string()
}

/// Draws a face by hand; returns its id.
async fn face(server: &TestServer, token: &str, person: &str, asset: &str, x: i64) -> String {
    let body = json!({"assetId": asset, "personId": person, "imageWidth": 320, "imageHeight": 240, "x": x, "y": 20, "width": 40, "height": 50});
    let reply = server.call(Method::POST, "/api/faces", Some(token), Some(body)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert!(reply.bytes.is_empty(), "Immich answers a new face with no body");
    let faces = server
        .call(Method::GET, &format!("/api/faces?id={asset}"), Some(token), None)
        .await
        .body;
    let found = faces
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["boundingBoxX1"] == json!(x) && f["person"]["id"] == json!(person));
    found.unwrap_or_else(|| panic!("face at {x} not in {faces}"))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn names(listing: &Value) -> Vec<String> {
    listing["people"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect()
}

async fn scalar(server: &TestServer, sql: &str, id: &str) -> Option<String> {
    sqlx::query_scalar::<_, Option<String>>(sql)
        .bind(id)
        .fetch_one(&mut server.db().await)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_people_page_lists_people_seen_on_photos() {
    let server = TestServer::start().await;
    let owner = server.admin_token().await;
    let photos = [
        upload(&server, &owner, 1).await,
        upload(&server, &owner, 2).await,
        upload(&server, &owner, 3).await,
    ];

    let made = server
        .call(
            Method::POST,
            "/api/people",
            Some(&owner),
            Some(json!({"name": "Ada", "birthDate": "1990-02-03", "color": "aabbcc"})),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED);
    let ada = made.body["id"].as_str().unwrap().to_string();
    assert_eq!(
        (
            made.body["name"].clone(),
            made.body["birthDate"].clone(),
            made.body["color"].clone(),
            made.body["isHidden"].clone(),
            made.body["isFavorite"].clone()
        ),
        (
            json!("Ada"),
            json!("1990-02-03"),
            json!("#aabbcc"),
            json!(false),
            json!(false)
        )
    );
    assert_eq!(made.body["thumbnailPath"], json!(""));
    // Without faces nobody is on the page yet.
    let empty = server.call(Method::GET, "/api/people", Some(&owner), None).await.body;
    assert_eq!(
        empty,
        json!({"people": [], "total": 0, "hidden": 0, "hasNextPage": false})
    );

    let bo = person(&server, &owner, json!({"name": "Bo", "isFavorite": true})).await;
    let unnamed = person(&server, &owner, json!({})).await;
    let shy = person(&server, &owner, json!({"name": "Shy", "isHidden": true})).await;
    let few = person(&server, &owner, json!({})).await;
    face(&server, &owner, &ada, &photos[0], 10).await;
    face(&server, &owner, &bo, &photos[1], 10).await;
    face(&server, &owner, &shy, &photos[1], 100).await;
    for photo in &photos {
        face(&server, &owner, &unnamed, photo, 200).await;
    }
    // Unnamed with fewer faces than the owner's minimum (3) stays off the page.
    face(&server, &owner, &few, &photos[2], 10).await;

    // Favourites first, then the named, then by faces.
    let listing = server.call(Method::GET, "/api/people", Some(&owner), None).await.body;
    assert_eq!(names(&listing), ["Bo", "Ada", ""], "{listing}");
    assert_eq!(listing["people"][2]["id"], json!(unnamed));
    assert_eq!(
        (
            listing["total"].clone(),
            listing["hidden"].clone(),
            listing["hasNextPage"].clone()
        ),
        (json!(5), json!(1), json!(false))
    );
    let with_hidden = server
        .call(Method::GET, "/api/people?withHidden=true", Some(&owner), None)
        .await
        .body;
    assert_eq!(names(&with_hidden), ["Bo", "Ada", "", "Shy"]);
    let second = server
        .call(Method::GET, "/api/people?page=2&size=1", Some(&owner), None)
        .await
        .body;
    assert_eq!(
        (names(&second), second["hasNextPage"].clone()),
        (vec!["Ada".to_string()], json!(true))
    );
    let last = server
        .call(Method::GET, "/api/people?page=3&size=1", Some(&owner), None)
        .await
        .body;
    assert_eq!(last["hasNextPage"], json!(false));
    // A lower minimum brings the person with one face in.
    server
        .call(
            Method::PUT,
            "/api/users/me/preferences",
            Some(&owner),
            Some(json!({"people": {"minimumFaces": 1}})),
        )
        .await;
    assert_eq!(
        names(&server.call(Method::GET, "/api/people", Some(&owner), None).await.body).len(),
        4
    );

    for (query, path) in [
        ("size=0", "size"),
        ("size=1001", "size"),
        ("page=0", "page"),
        ("page=abc", "page"),
        ("size=1.5", "size"),
        ("closestPersonId=nope", "closestPersonId"),
    ] {
        let bad = server
            .call(Method::GET, &format!("/api/people?{query}"), Some(&owner), None)
            .await;
        assert_eq!(
            (bad.status, bad.message()),
            (StatusCode::BAD_REQUEST, "Validation failed"),
            "{query}"
        );
        assert_eq!(bad.body["errors"][0]["path"], json!([path]), "{query}: {}", bad.body);
    }
    // Likeness needs a person with a cover face; without embeddings the order is favourites first.
    let missing = server
        .call(
            Method::GET,
            &format!("/api/people?closestPersonId={UNKNOWN}"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(
        (missing.status, missing.message()),
        (StatusCode::NOT_FOUND, "Person not found")
    );
    let alike = server
        .call(
            Method::GET,
            &format!("/api/people?closestPersonId={ada}"),
            Some(&owner),
            None,
        )
        .await
        .body;
    assert_eq!(names(&alike)[0], "Bo");

    let got = server
        .call(Method::GET, &format!("/api/people/{ada}"), Some(&owner), None)
        .await
        .body;
    assert_eq!(
        (got["name"].clone(), got["birthDate"].clone()),
        (json!("Ada"), json!("1990-02-03"))
    );
    assert!(got["updatedAt"].as_str().unwrap().ends_with('Z'));
    let stats = server
        .call(
            Method::GET,
            &format!("/api/people/{unnamed}/statistics"),
            Some(&owner),
            None,
        )
        .await
        .body;
    assert_eq!(stats, json!({"assets": 3}));
    // Trashed photos do not count.
    server
        .call(
            Method::DELETE,
            "/api/assets",
            Some(&owner),
            Some(json!({"ids": [photos[0]]})),
        )
        .await;
    let stats = server
        .call(
            Method::GET,
            &format!("/api/people/{unnamed}/statistics"),
            Some(&owner),
            None,
        )
        .await
        .body;
    assert_eq!(stats, json!({"assets": 2}));

    // Each face's cover: the first face drawn for a person becomes their cover.
    assert!(
        scalar(&server, COVER, &ada).await.is_some(),
        "a drawn face becomes the cover of a person without one"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_are_updated_as_immich_validates() {
    let server = TestServer::start().await;
    let owner = server.admin_token().await;
    let other = server.user_token(&owner, "other@example.com").await;
    let photo = upload(&server, &owner, 4).await;
    let bare = upload(&server, &owner, 5).await;
    let ada = person(
        &server,
        &owner,
        json!({"name": "Ada", "birthDate": "1990-02-03", "color": "#123"}),
    )
    .await;
    let theirs = person(&server, &other, json!({"name": "Theirs"})).await;
    let first = face(&server, &owner, &ada, &photo, 10).await;
    let second = face(&server, &owner, &ada, &photo, 150).await;
    let before = scalar(&server, UPDATE_ID, &ada).await;

    let changed = server
        .call(
            Method::PUT,
            &format!("/api/people/{ada}"),
            Some(&owner),
            Some(json!({"name": "Ada L.", "isFavorite": true, "birthDate": null, "color": null})),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!(
        (
            changed.body["name"].clone(),
            changed.body["isFavorite"].clone(),
            changed.body["birthDate"].clone()
        ),
        (json!("Ada L."), json!(true), Value::Null)
    );
    assert!(
        changed.body.get("color").is_none(),
        "no colour, no field: {}",
        changed.body
    );
    // The phone hears of it: the row's updateId moved.
    assert_ne!(scalar(&server, UPDATE_ID, &ada).await, before);
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let lines = server
        .request(Method::POST, "/api/sync/stream")
        .bearer_auth(&owner)
        .json(&json!({"types": ["PeopleV1"]}))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        lines.lines().any(|l| l.contains("PersonV1") && l.contains("Ada L.")),
        "{lines}"
    );

    let patched = server
        .call(
            Method::PATCH,
            &format!("/api/people/{ada}"),
            Some(&owner),
            Some(json!({"isHidden": true, "color": "ABCDEF"})),
        )
        .await
        .body;
    assert_eq!(
        (
            patched["isHidden"].clone(),
            patched["color"].clone(),
            patched["name"].clone()
        ),
        (json!(true), json!("#ABCDEF"), json!("Ada L."))
    );

    // The cover follows the feature photo: the person's face on that asset.
    assert_eq!(scalar(&server, COVER, &ada).await.as_deref(), Some(first.as_str()));
    let featured = server
        .call(
            Method::PUT,
            &format!("/api/people/{ada}"),
            Some(&owner),
            Some(json!({"featureFaceAssetId": photo})),
        )
        .await;
    assert_eq!(featured.status, StatusCode::OK);
    assert!([Some(first.clone()), Some(second.clone())].contains(&scalar(&server, COVER, &ada).await));
    let no_face = server
        .call(
            Method::PUT,
            &format!("/api/people/{ada}"),
            Some(&owner),
            Some(json!({"featureFaceAssetId": bare})),
        )
        .await;
    assert_eq!(
        (no_face.status, no_face.message()),
        (
            StatusCode::BAD_REQUEST,
            "Invalid assetId for feature face or asset is offline"
        )
    );

    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(2))
        .format("%Y-%m-%d")
        .to_string();
    for (body, path, message) in [
        (
            json!({"birthDate": tomorrow}),
            "birthDate",
            "Birth date cannot be in the future",
        ),
        (
            json!({"birthDate": "not a date"}),
            "birthDate",
            "Birth date cannot be in the future",
        ),
        (
            json!({"color": "#12"}),
            "color",
            r"Invalid string: must match pattern /^#?([0-9A-Fa-f]{3}|[0-9A-Fa-f]{4}|[0-9A-Fa-f]{6}|[0-9A-Fa-f]{8})$/",
        ),
        (
            json!({"featureFaceAssetId": "abc"}),
            "featureFaceAssetId",
            "Invalid UUID",
        ),
        (
            json!({"isHidden": "yes"}),
            "isHidden",
            "Invalid input: expected boolean, received string",
        ),
    ] {
        let bad = server
            .call(
                Method::PUT,
                &format!("/api/people/{ada}"),
                Some(&owner),
                Some(body.clone()),
            )
            .await;
        assert_eq!(
            (bad.status, bad.message()),
            (StatusCode::BAD_REQUEST, "Validation failed"),
            "{body}"
        );
        assert_eq!(
            (
                bad.body["errors"][0]["path"].clone(),
                bad.body["errors"][0]["message"].clone()
            ),
            (json!([path]), json!(message)),
            "{body}"
        );
    }
    let future = server
        .call(
            Method::POST,
            "/api/people",
            Some(&owner),
            Some(json!({"birthDate": tomorrow})),
        )
        .await;
    assert_eq!(
        future.body["errors"][0]["message"],
        json!("Birth date cannot be in the future")
    );
    let unknown = server
        .call(
            Method::PUT,
            &format!("/api/people/{UNKNOWN}"),
            Some(&owner),
            Some(json!({"name": "X"})),
        )
        .await;
    assert_eq!(
        (unknown.status, unknown.message()),
        (StatusCode::BAD_REQUEST, "Not found or no person.update access")
    );
    let foreign = server
        .call(
            Method::PUT,
            &format!("/api/people/{theirs}"),
            Some(&owner),
            Some(json!({"name": "Mine now"})),
        )
        .await;
    assert_eq!(
        (foreign.status, foreign.message()),
        (StatusCode::BAD_REQUEST, "Not found or no person.update access")
    );
    let malformed = server
        .call(Method::PUT, "/api/people/not-a-uuid", Some(&owner), Some(json!({})))
        .await;
    assert_eq!(
        (malformed.status, malformed.message()),
        (StatusCode::BAD_REQUEST, "Validation failed")
    );

    // Several at once, each on its own; the batch leaves colours alone.
    let batch = server
        .call(
            Method::PUT,
            "/api/people",
            Some(&owner),
            Some(json!({"people": [{"id": ada, "name": "Ada", "color": "#000000"}, {"id": theirs, "name": "Nope"}]})),
        )
        .await;
    assert_eq!(
        batch.body,
        json!([{"id": ada, "success": true}, {"id": theirs, "success": false, "error": "unknown"}])
    );
    let now = server
        .call(Method::GET, &format!("/api/people/{ada}"), Some(&owner), None)
        .await
        .body;
    assert_eq!(
        (now["name"].clone(), now["color"].clone()),
        (json!("Ada"), json!("#ABCDEF"))
    );
    let no_id = server
        .call(
            Method::PUT,
            "/api/people",
            Some(&owner),
            Some(json!({"people": [{"name": "no id"}]})),
        )
        .await;
    assert_eq!(no_id.body["errors"][0]["path"], json!(["people", 0, "id"]));
    assert_eq!(
        server
            .call(Method::GET, &format!("/api/people/{theirs}"), Some(&other), None)
            .await
            .body["name"],
        json!("Theirs")
    );
}

/// An asset's detail names the people on it, for its owner only: not through a shared link,
/// not to a partner.
#[tokio::test]
async fn an_assets_people_are_shown_to_its_owner_only() {
    let server = TestServer::start().await;
    let owner = server.admin_token().await;
    let partner = server.user_token(&owner, "partner@immich.cloud").await;
    let partner_id = server
        .call(Method::GET, "/api/users/me", Some(&partner), None)
        .await
        .body["id"]
        .clone();
    server
        .call(
            Method::POST,
            &format!("/api/partners/{}", partner_id.as_str().unwrap()),
            Some(&owner),
            None,
        )
        .await;
    let photo = upload(&server, &owner, 7).await;
    let ada = person(&server, &owner, json!({"name": "Ada"})).await;
    face(&server, &owner, &ada, &photo, 10).await;
    face(&server, &owner, &ada, &photo, 100).await;

    let people_of = |body: &Value| {
        body["people"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let detail = server
        .call(Method::GET, &format!("/api/assets/{photo}"), Some(&owner), None)
        .await
        .body;
    assert_eq!(
        people_of(&detail),
        std::slice::from_ref(&ada),
        "one entry per person, however many faces"
    );
    assert_eq!(
        (
            detail["people"][0]["name"].clone(),
            detail["people"][0]["birthDate"].clone()
        ),
        (json!("Ada"), json!(null))
    );
    let updated = server
        .call(
            Method::PUT,
            &format!("/api/assets/{photo}"),
            Some(&owner),
            Some(json!({"isFavorite": true})),
        )
        .await
        .body;
    assert_eq!(people_of(&updated), [ada]);

    let as_partner = server
        .call(Method::GET, &format!("/api/assets/{photo}"), Some(&partner), None)
        .await;
    assert_eq!(as_partner.status, StatusCode::OK);
    assert!(people_of(&as_partner.body).is_empty());
    let link = server
        .call(
            Method::POST,
            "/api/shared-links",
            Some(&owner),
            Some(json!({"type": "INDIVIDUAL", "assetIds": [photo]})),
        )
        .await
        .body;
    let key = link["key"].as_str().unwrap();
    let as_guest = server
        .call(Method::GET, &format!("/api/assets/{photo}?key={key}"), None, None)
        .await
        .body;
    assert!(people_of(&as_guest).is_empty(), "{as_guest}");
}
