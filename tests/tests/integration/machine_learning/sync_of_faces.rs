//! The people and faces the server recognised, reaching their owner's phone through the sync
//! stream (PeopleV1, AssetFacesV2) as they are made, moved, merged and deleted; the owner's
//! partner and a stranger get none of them (Immich syncs faces of the caller's own assets only).

use std::collections::BTreeMap;

use darkroom_tests::TestServer;
use darkroom_tests::ml::MlService;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{Caller, Household, wait_until};
use crate::sync::{expect_once, settle};

const TYPES: [&str; 2] = ["PeopleV1", "AssetFacesV2"];
const BOX: [&str; 4] = ["boundingBoxX1", "boundingBoxY1", "boundingBoxX2", "boundingBoxY2"];

/// The faces as the database holds them, by id, in the shape of a SyncAssetFaceV2.
async fn stored_faces(server: &TestServer) -> BTreeMap<String, Value> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        r#"SELECT id::text, json_build_object('id', id, 'assetId', "assetId", 'personId', "personId",
                  'imageWidth', "imageWidth", 'imageHeight', "imageHeight", 'boundingBoxX1', "boundingBoxX1",
                  'boundingBoxY1', "boundingBoxY1", 'boundingBoxX2', "boundingBoxX2", 'boundingBoxY2', "boundingBoxY2",
                  'sourceType', "sourceType", 'deletedAt', "deletedAt", 'isVisible', "isVisible")::text
           FROM asset_face"#,
    )
    .fetch_all(&mut server.db().await)
    .await
    .unwrap();
    rows.into_iter()
        .map(|(id, face)| (id, serde_json::from_str(&face).unwrap()))
        .collect()
}

/// The data of the lines of type `kind`.
fn of_kind(lines: &[Value], kind: &str) -> Vec<Value> {
    lines
        .iter()
        .filter(|l| l["type"] == json!(kind))
        .map(|l| l["data"].clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn recognised_people_and_faces_reach_their_owners_phone_only() {
    let ml = MlService::start();
    let server = TestServer::start_with(&[("IMMICH_MACHINE_LEARNING_URL", &ml.url)]).await;
    let Household {
        admin,
        tokens,
        owner_id,
        assets,
        person,
    } = Household::sharing_one_person(&server, &ml).await;
    let [owner, partner, stranger] = tokens.each_ref().map(|token| Caller { server: &server, token });
    let shown = json!({"inTimeline": true});
    partner
        .ok(Method::PUT, &format!("/partners/{owner_id}"), Some(shown))
        .await;
    settle(&server, &admin).await;

    // One person and the three faces the detector found, each with its box on the picture it
    // was given (the preview, here the photo's own size) and the person.
    let kinds = ["PersonV1", "AssetFaceV2", "AssetFaceV2", "AssetFaceV2"];
    let lines = expect_once(&server, owner.token, &TYPES, &kinds).await;
    let found = &of_kind(&lines, "PersonV1")[0];
    let cover = found["faceAssetId"].as_str().unwrap().to_string();
    let (id, owner_of, name) = (&found["id"], &found["ownerId"], &found["name"]);
    assert_eq!((id, owner_of, name), (&json!(person), &json!(owner_id), &json!("")));
    let (hidden, favorite, birth) = (&found["isHidden"], &found["isFavorite"], &found["birthDate"]);
    assert_eq!((hidden, favorite, birth), (&json!(false), &json!(false), &Value::Null));
    let stored = stored_faces(&server).await;
    assert!(stored.contains_key(&cover), "{cover} {stored:?}");
    let synced: BTreeMap<String, Value> = of_kind(&lines, "AssetFaceV2")
        .into_iter()
        .map(|face| (face["id"].as_str().unwrap().to_string(), face))
        .collect();
    assert_eq!(synced, stored);
    let on = |asset: &str| synced.values().find(|f| f["assetId"] == json!(asset)).unwrap().clone();
    let value = |face: &Value, key: &str| face[key].as_i64().unwrap();
    let sizes = [(512, 512), (512, 512), (800, 640)];
    for (asset, (width, height)) in assets.iter().zip(sizes) {
        let face = on(asset);
        let size = (value(&face, "imageWidth"), value(&face, "imageHeight"));
        assert_eq!(size, (width, height), "{face}");
        assert_eq!(face["personId"], json!(person));
        let [x1, y1, x2, y2] = BOX.map(|k| value(&face, k));
        let inside = 0 <= x1 && x1 < x2 && x2 <= width && 0 <= y1 && y1 < y2 && y2 <= height;
        assert!(inside, "{face}");
    }
    // The framed photo has the astronaut 200 px right and 64 px down: so has her face.
    let (plain, framed) = (on(&assets[0]), on(&assets[2]));
    for (key, shift) in BOX.into_iter().zip([200, 64, 200, 64]) {
        let moved = value(&framed, key) - value(&plain, key);
        assert!((moved - shift).abs() <= 12, "{key}: {plain} {framed}");
    }
    for them in [&partner, &stranger] {
        expect_once(&server, them.token, &TYPES, &[]).await;
    }

    // A face (not the person's cover) given to a new person: the new person, with that face
    // as their cover and a thumbnail cut from it, and the face's new person.
    let moved = synced.keys().find(|id| **id != cover).unwrap().clone();
    let named = json!({"name": "Eileen"});
    let other = owner
        .answer(Method::POST, "/people", Some(named), StatusCode::CREATED)
        .await;
    let other = other["id"].as_str().unwrap().to_string();
    let face = json!({"id": moved});
    let reassigned = owner.ok(Method::PUT, &format!("/faces/{other}"), Some(face)).await;
    assert_eq!(reassigned["id"], json!(other));
    wait_until("the new person's thumbnail", &ml, || async {
        let path = format!("/api/people/{other}/thumbnail");
        server.call(Method::GET, &path, Some(owner.token), None).await.status == StatusCode::OK
    })
    .await;
    settle(&server, &admin).await;
    let lines = expect_once(&server, owner.token, &TYPES, &["PersonV1", "AssetFaceV2"]).await;
    let new_person = &of_kind(&lines, "PersonV1")[0];
    let (id, name, cover_of_new) = (&new_person["id"], &new_person["name"], &new_person["faceAssetId"]);
    assert_eq!(
        (id, name, cover_of_new),
        (&json!(other), &json!("Eileen"), &json!(moved))
    );
    let mut expected = synced[&moved].clone();
    expected["personId"] = json!(other);
    assert_eq!(of_kind(&lines, "AssetFaceV2"), [expected]);
    for them in [&partner, &stranger] {
        expect_once(&server, them.token, &TYPES, &[]).await;
    }

    // Merged back: the new person goes, the first takes their name and the face.
    let merge = json!({"ids": [other]});
    let merged = owner
        .ok(Method::POST, &format!("/people/{person}/merge"), Some(merge))
        .await;
    assert_eq!(merged, json!([{"id": other, "success": true}]));
    let kinds = ["PersonDeleteV1", "PersonV1", "AssetFaceV2"];
    let lines = expect_once(&server, owner.token, &TYPES, &kinds).await;
    assert_eq!(of_kind(&lines, "PersonDeleteV1"), [json!({"personId": other})]);
    let kept = &of_kind(&lines, "PersonV1")[0];
    let (id, name, cover_kept) = (&kept["id"], &kept["name"], &kept["faceAssetId"]);
    assert_eq!(
        (id, name, cover_kept),
        (&json!(person), &json!("Eileen"), &json!(cover))
    );
    let face = &of_kind(&lines, "AssetFaceV2")[0];
    assert_eq!((&face["id"], &face["personId"]), (&json!(moved), &json!(person)));

    // A face deleted for good.
    let path = format!("/faces/{moved}");
    owner
        .answer(
            Method::DELETE,
            &path,
            Some(json!({"force": true})),
            StatusCode::NO_CONTENT,
        )
        .await;
    let lines = expect_once(&server, owner.token, &TYPES, &["AssetFaceDeleteV1"]).await;
    assert_eq!(lines[0]["data"], json!({"assetFaceId": moved}));

    // The person deleted: their faces stay, belonging to no one.
    let path = format!("/people/{person}");
    owner.answer(Method::DELETE, &path, None, StatusCode::NO_CONTENT).await;
    let kinds = ["PersonDeleteV1", "AssetFaceV2", "AssetFaceV2"];
    let lines = expect_once(&server, owner.token, &TYPES, &kinds).await;
    assert_eq!(of_kind(&lines, "PersonDeleteV1"), [json!({"personId": person})]);
    let left: Vec<Value> = stored_faces(&server).await.into_values().collect();
    assert_eq!(left.len(), 2);
    assert!(left.iter().all(|face| face["personId"].is_null()), "{left:?}");
    let mut unassigned = of_kind(&lines, "AssetFaceV2");
    unassigned.sort_by_key(|face| face["id"].as_str().unwrap().to_string());
    assert_eq!(unassigned, left);
    for them in [&partner, &stranger] {
        expect_once(&server, them.token, &TYPES, &[]).await;
    }
}
