//! Faces and people: the same face in three photos is found by a real detector (MTCNN), embedded,
//! and clustered into one person with a thumbnail; the person is found in searches and stays
//! invisible to other users.

use darkroom_tests::TestServer;
use darkroom_tests::ml::MlService;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{count, one_person_in_three_photos, wait_until};

#[tokio::test(flavor = "multi_thread")]
async fn the_same_face_in_three_photos_becomes_one_person() {
    let ml = MlService::start();
    let server = TestServer::start_with(&[("IMMICH_MACHINE_LEARNING_URL", &ml.url)]).await;
    let admin = server.admin_token().await;
    let stranger = server.user_token(&admin, "stranger@example.com").await;
    let (assets, person) = one_person_in_three_photos(&server, &admin, &admin, &ml).await;
    assert_eq!(count(&server, "SELECT count(*) FROM asset_face").await, 3);
    let people = server.call(Method::GET, "/api/people", Some(&admin), None).await.body;
    assert_eq!(people["total"], json!(1), "{people}");
    assert_eq!(people["people"][0]["id"], json!(person));
    let statistics = server
        .call(
            Method::GET,
            &format!("/api/people/{person}/statistics"),
            Some(&admin),
            None,
        )
        .await
        .body;
    assert_eq!(statistics["assets"], json!(3));
    // Each photo's face, with its box on the picture the detector saw.
    let faces = server
        .call(Method::GET, &format!("/api/faces?id={}", assets[0]), Some(&admin), None)
        .await
        .body;
    assert_eq!(faces.as_array().map(Vec::len), Some(1), "{faces}");
    assert_eq!(faces[0]["person"]["id"], json!(person));
    assert_eq!(
        (faces[0]["imageWidth"].clone(), faces[0]["imageHeight"].clone()),
        (json!(512), json!(512))
    );
    let x1 = faces[0]["boundingBoxX1"].as_i64().unwrap();
    let x2 = faces[0]["boundingBoxX2"].as_i64().unwrap();
    assert!((100..400).contains(&x1) && x2 > x1 && x2 <= 512, "{faces}");

    // The person is a search filter.
    let found = server
        .call(
            Method::POST,
            "/api/search/metadata",
            Some(&admin),
            Some(json!({"personIds": [person]})),
        )
        .await
        .body;
    assert_eq!(found["assets"]["items"].as_array().map(Vec::len), Some(3), "{found}");
    let named = server
        .call(
            Method::PUT,
            &format!("/api/people/{person}"),
            Some(&admin),
            Some(json!({"name": "Eileen"})),
        )
        .await;
    assert_eq!(named.status, StatusCode::OK, "{}", named.body);
    let by_name = server
        .call(Method::GET, "/api/search/person?name=eil", Some(&admin), None)
        .await
        .body;
    assert_eq!(by_name[0]["id"], json!(person));

    // The merge dialog's order: by likeness to the person's cover face.
    let closest = server
        .call(
            Method::GET,
            &format!("/api/people?closestPersonId={person}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(closest.status, StatusCode::OK, "{}", closest.body);
    assert_eq!(closest.body["people"][0]["id"], json!(person));

    // Detecting a photo's faces again finds the same face and keeps it (and its person).
    let face_id = faces[0]["id"].clone();
    let refreshed = server
        .call(
            Method::POST,
            "/api/assets/jobs",
            Some(&admin),
            Some(json!({"assetIds": [assets[0]], "name": "refresh-faces"})),
        )
        .await;
    assert_eq!(refreshed.status, StatusCode::NO_CONTENT, "{}", refreshed.body);
    wait_until("the faces detected again", &ml, || async {
        count(&server, "SELECT count(*) FROM asset_job_status WHERE \"facesRecognizedAt\" > now() - interval '1 minute' AND \"facesRecognizedAt\" > (SELECT max(\"updatedAt\") FROM asset_face)").await >= 1
    })
    .await;
    let again = server
        .call(Method::GET, &format!("/api/faces?id={}", assets[0]), Some(&admin), None)
        .await
        .body;
    assert_eq!(again[0]["id"], face_id, "{again}");
    assert_eq!(again[0]["person"]["id"], json!(person));

    // Another user sees none of it.
    let theirs = server
        .call(Method::GET, "/api/people", Some(&stranger), None)
        .await
        .body;
    assert_eq!(theirs["total"], json!(0));
    let refused = server
        .call(Method::GET, &format!("/api/people/{person}"), Some(&stranger), None)
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let refused: Value = server
        .call(
            Method::GET,
            &format!("/api/faces?id={}", assets[0]),
            Some(&stranger),
            None,
        )
        .await
        .body;
    assert!(
        refused["message"].as_str().is_some_and(|m| m.contains("access")),
        "{refused}"
    );
    let features = server.call(Method::GET, "/api/server/features", None, None).await.body;
    assert_eq!(features["facialRecognition"], json!(true));
}
