//! Faces and people: the same face in three photos is found by a real detector (MTCNN), embedded,
//! and clustered into one person with a thumbnail; the person is found in searches and stays
//! invisible to other users.

use std::io::Cursor;

use darkroom_tests::TestServer;
use darkroom_tests::ml::{FACE_MODEL, MlService, only, photo};
use image::{DynamicImage, ImageFormat, RgbImage};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Three photos of the same face: scikit-image's astronaut as a PNG, as a JPEG, and placed
/// on a larger canvas.
fn three_photos() -> Vec<(&'static str, Vec<u8>)> {
    let original = photo("astronaut.png");
    let picture = image::load_from_memory(&original).unwrap().to_rgb8();
    let encode = |image: DynamicImage, format: ImageFormat| {
        let mut bytes = Cursor::new(Vec::new());
        image.write_to(&mut bytes, format).unwrap();
        bytes.into_inner()
    };
    let jpeg = encode(DynamicImage::ImageRgb8(picture.clone()), ImageFormat::Jpeg);
    let mut canvas = RgbImage::from_pixel(800, 640, image::Rgb([40, 60, 90]));
    image::imageops::overlay(&mut canvas, &picture, 200, 64);
    let placed = encode(DynamicImage::ImageRgb8(canvas), ImageFormat::Jpeg);
    vec![
        ("astronaut.png", original),
        ("astronaut.jpg", jpeg),
        ("astronaut-framed.jpg", placed),
    ]
}

async fn wait_until<F, Fut>(what: &str, ml: &MlService, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..600 {
        if check().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{what} never happened; darkroom-ml said:\n{}", ml.log_text());
}

async fn count(server: &TestServer, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&mut server.db().await).await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_face_in_three_photos_becomes_one_person() {
    let ml = MlService::start();
    let server = TestServer::start_with(&[("IMMICH_MACHINE_LEARNING_URL", &ml.url)]).await;
    let admin = server.admin_token().await;
    let stranger = server.user_token(&admin, "stranger@example.com").await;
    server
        .update_config(&admin, |config| {
            only(config, &["faces"]);
            config["machineLearning"]["facialRecognition"]["modelName"] = json!(FACE_MODEL)
        })
        .await;
    let mut assets = Vec::new();
    for (name, bytes) in three_photos() {
        let reply = server.upload(&admin, name, &bytes, &[]).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        assets.push(reply.body["id"].as_str().unwrap().to_string());
    }
    wait_until("three faces with embeddings", &ml, || async {
        count(
            &server,
            "SELECT count(*) FROM asset_face f JOIN face_search s ON s.\"faceId\" = f.id",
        )
        .await
            >= 3
    })
    .await;
    // The third face has two look-alikes (minFaces 3 with itself): a person is founded. The
    // others join at the next run over faces that are nobody's (nightly, or "missing").
    wait_until("a person", &ml, || async {
        count(&server, "SELECT count(*) FROM person").await == 1
    })
    .await;
    // As an admin presses "missing" once the queue is idle (a busy queue answers that it runs).
    wait_until("the recognition queue accepting a run", &ml, || async {
        let started = server
            .call(
                Method::PUT,
                "/api/jobs/facialRecognition",
                Some(&admin),
                Some(json!({"command": "start", "force": false})),
            )
            .await;
        assert!(
            started.status.is_success() || started.message() == "Job is already running",
            "{}",
            started.body
        );
        started.status.is_success()
    })
    .await;
    wait_until("every face recognised", &ml, || async {
        count(&server, "SELECT count(*) FROM asset_face WHERE \"personId\" IS NULL").await == 0
    })
    .await;
    assert_eq!(count(&server, "SELECT count(*) FROM asset_face").await, 3);

    let people = server.call(Method::GET, "/api/people", Some(&admin), None).await.body;
    assert_eq!(people["total"], json!(1), "{people}");
    let person = people["people"][0]["id"].as_str().unwrap().to_string();
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
    wait_until("the person's thumbnail", &ml, || async {
        let reply = server
            .call(
                Method::GET,
                &format!("/api/people/{person}/thumbnail"),
                Some(&admin),
                None,
            )
            .await;
        reply.status == StatusCode::OK
    })
    .await;

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
