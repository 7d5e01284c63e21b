//! Who sees a person the server recognised, as Immich decides it: a person and the link from
//! a face to them are their owner's alone; a partner reads the owner's photos, so sees the
//! faces on them (boxes only, no person) and may search the owner's photos by the owner's
//! person ids, as Immich's filters allow; a stranger sees neither.

use darkroom_tests::TestServer;
use darkroom_tests::ml::MlService;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{Caller, Household};

impl Caller<'_> {
    /// How many assets `POST /search/metadata {personIds: [person]}` finds.
    async fn found_with(&self, person: &str) -> usize {
        let body = json!({ "personIds": [person] });
        let found = self.ok(Method::POST, "/search/metadata", Some(body)).await;
        found["assets"]["items"].as_array().unwrap().len()
    }

    /// The assets in the timeline's buckets under `query`.
    async fn timeline_count(&self, query: &str) -> i64 {
        let buckets = self.ok(Method::GET, &format!("/timeline/buckets?{query}"), None).await;
        let buckets = buckets.as_array().unwrap();
        buckets.iter().map(|b| b["count"].as_i64().unwrap()).sum()
    }
}

/// What someone who is not the owner may not do to the owner's person, partner or not.
async fn nothing_of_the_person(them: &Caller<'_>, person: &str, face: &str) {
    let (read, update) = (
        "Not found or no person.read access",
        "Not found or no person.update access",
    );
    let people = them.ok(Method::GET, "/people", None).await;
    let empty = json!({"people": [], "total": 0, "hidden": 0, "hasNextPage": false});
    assert_eq!(people, empty);
    assert_eq!(them.ok(Method::GET, "/people?withHidden=true", None).await, empty);
    let path = format!("/people/{person}");
    them.refused(Method::GET, &path, None, read).await;
    them.refused(Method::PUT, &path, Some(json!({"name": "Mallory"})), update)
        .await;
    let deleted = "Not found or no person.delete access";
    them.refused(Method::DELETE, &path, None, deleted).await;
    them.refused(Method::GET, &format!("/people/{person}/statistics"), None, read)
        .await;
    // A file answer: every failure is Express's bare 404, as in Immich.
    let path = format!("/people/{person}/thumbnail");
    let missing = them.answer(Method::GET, &path, None, StatusCode::NOT_FOUND).await;
    assert_eq!(missing, json!({"message": "Not Found"}));
    assert_eq!(them.ok(Method::GET, "/search/person?name=eil", None).await, json!([]));
    let path = format!("/faces/{person}");
    them.refused(Method::PUT, &path, Some(json!({"id": face})), update)
        .await;
    let gone = "Not found or no face.delete access";
    them.refused(
        Method::DELETE,
        &format!("/faces/{face}"),
        Some(json!({"force": true})),
        gone,
    )
    .await;
    // Their own timeline has none of the owner's photos of the person.
    assert_eq!(them.timeline_count(&format!("personId={person}")).await, 0);

    // Nor can a person of their own take the owner's faces.
    let mine = json!({"name": "Mine"});
    let mine = them
        .answer(Method::POST, "/people", Some(mine), StatusCode::CREATED)
        .await;
    let mine = mine["id"].as_str().unwrap();
    let create = "Not found or no person.create access";
    them.refused(
        Method::PUT,
        &format!("/faces/{mine}"),
        Some(json!({"id": face})),
        create,
    )
    .await;
    let moved = json!({"data": [{"personId": person, "assetId": face_asset(them, face).await}]});
    them.refused(Method::PUT, &format!("/people/{mine}/reassign"), Some(moved), create)
        .await;
    let merge = json!({"ids": [person]});
    let merged = them
        .ok(Method::POST, &format!("/people/{mine}/merge"), Some(merge))
        .await;
    assert_eq!(
        merged,
        json!([{"id": person, "success": false, "error": "no_permission"}])
    );
    let merge = json!({"ids": [mine]});
    them.refused(Method::POST, &format!("/people/{person}/merge"), Some(merge), update)
        .await;
}

/// The asset a face is on, from the database (the caller may not be able to ask).
async fn face_asset(them: &Caller<'_>, face: &str) -> String {
    sqlx::query_scalar(r#"SELECT "assetId"::text FROM asset_face WHERE id = $1::uuid"#)
        .bind(face)
        .fetch_one(&mut them.server.db().await)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_partner_sees_the_faces_on_shared_photos_but_never_the_owners_people() {
    let ml = MlService::start();
    let server = TestServer::start_with(&[("IMMICH_MACHINE_LEARNING_URL", &ml.url)]).await;
    let Household {
        admin: _,
        tokens,
        owner_id,
        assets,
        person,
    } = Household::sharing_one_person(&server, &ml).await;
    let [owner, partner, stranger] = tokens.each_ref().map(|token| Caller { server: &server, token });
    owner
        .ok(
            Method::PUT,
            &format!("/people/{person}"),
            Some(json!({"name": "Eileen"})),
        )
        .await;

    // The owner's view, which the others' is measured against.
    let (faces_path, asset_path) = (format!("/faces?id={}", assets[0]), format!("/assets/{}", assets[0]));
    let faces = owner.ok(Method::GET, &faces_path, None).await;
    assert_eq!(faces.as_array().map(Vec::len), Some(1), "{faces}");
    assert_eq!(faces[0]["person"]["name"], json!("Eileen"));
    let face = faces[0]["id"].as_str().unwrap().to_string();
    let asset = owner.ok(Method::GET, &asset_path, None).await;
    assert_eq!(asset["people"].as_array().map(Vec::len), Some(1), "{asset}");
    assert_eq!(asset["people"][0]["id"], json!(person));
    assert_eq!(owner.found_with(&person).await, 3);
    assert_eq!(owner.timeline_count(&format!("personId={person}")).await, 3);

    for them in [&partner, &stranger] {
        nothing_of_the_person(them, &person, &face).await;
    }

    // The partner reads the owner's photo: its faces, boxes and all, but not whose they are.
    let mut without_person = faces.clone();
    without_person[0]["person"] = Value::Null;
    assert_eq!(partner.ok(Method::GET, &faces_path, None).await, without_person);
    let asset = partner.ok(Method::GET, &asset_path, None).await;
    assert_eq!(asset["people"], json!([]), "{asset}");
    // The person's id filters only the photos searched: the partner's own, then the owner's
    // too once the partner shows them in their timeline (as Immich's search does).
    assert_eq!(partner.found_with(&person).await, 0);
    let shown = json!({"inTimeline": true});
    partner
        .ok(Method::PUT, &format!("/partners/{owner_id}"), Some(shown))
        .await;
    assert_eq!(partner.found_with(&person).await, 3);
    let owners_timeline = format!("personId={person}&userId={owner_id}");
    assert_eq!(partner.timeline_count(&owners_timeline).await, 3);

    // The stranger reads none of it.
    let asset_read = "Not found or no asset.read access";
    stranger.refused(Method::GET, &faces_path, None, asset_read).await;
    stranger.refused(Method::GET, &asset_path, None, asset_read).await;
    assert_eq!(stranger.found_with(&person).await, 0);
    let path = format!("/timeline/buckets?{owners_timeline}");
    stranger
        .refused(Method::GET, &path, None, "Not found or no timeline.read access")
        .await;

    // And the owner's person came through all of it untouched.
    let kept = owner.ok(Method::GET, &format!("/people/{person}"), None).await;
    assert_eq!(kept["name"], json!("Eileen"));
    let statistics = owner
        .ok(Method::GET, &format!("/people/{person}/statistics"), None)
        .await;
    assert_eq!(statistics, json!({"assets": 3}));
    assert_eq!(owner.ok(Method::GET, &faces_path, None).await, faces);
    let people = owner.ok(Method::GET, "/people", None).await;
    assert_eq!(people["total"], json!(1), "{people}");
}
