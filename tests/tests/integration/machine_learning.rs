//! Machine learning on the server, against a real darkroom-ml started by the tests: smart
//! search, duplicate detection, faces and people (and who else sees them, and how they reach
//! the phone), OCR.

mod duplicates;
mod faces;
mod ocr;
mod people_of_partners;
mod smart_search;
mod sync_of_faces;

use std::io::Cursor;

use darkroom_tests::TestServer;
use darkroom_tests::ml::{FACE_MODEL, MlService, only, photo};
use image::{DynamicImage, ImageFormat, RgbImage};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::sync::user_id;

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

/// Switches on face detection alone (with the MTCNN model), has `owner` upload the three
/// photos and waits until their faces are found, embedded, clustered into one person with a
/// thumbnail. Returns the assets' ids (in `three_photos`' order) and the person's.
async fn one_person_in_three_photos(
    server: &TestServer,
    admin: &str,
    owner: &str,
    ml: &MlService,
) -> (Vec<String>, String) {
    server
        .update_config(admin, |config| {
            only(config, &["faces"]);
            config["machineLearning"]["facialRecognition"]["modelName"] = json!(FACE_MODEL)
        })
        .await;
    let mut assets = Vec::new();
    for (name, bytes) in three_photos() {
        let reply = server.upload(owner, name, &bytes, &[]).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        assets.push(reply.body["id"].as_str().unwrap().to_string());
    }
    wait_until("three faces with embeddings", ml, || async {
        count(
            server,
            "SELECT count(*) FROM asset_face f JOIN face_search s ON s.\"faceId\" = f.id",
        )
        .await
            >= 3
    })
    .await;
    // The third face has two look-alikes (minFaces 3 with itself): a person is founded. The
    // others join at the next run over faces that are nobody's (nightly, or "missing").
    wait_until("a person", ml, || async {
        count(server, "SELECT count(*) FROM person").await == 1
    })
    .await;
    // As an admin presses "missing" once the queue is idle (a busy queue answers that it runs).
    wait_until("the recognition queue accepting a run", ml, || async {
        let started = server
            .call(
                Method::PUT,
                "/api/jobs/facialRecognition",
                Some(admin),
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
    wait_until("every face recognised", ml, || async {
        count(server, "SELECT count(*) FROM asset_face WHERE \"personId\" IS NULL").await == 0
    })
    .await;
    let person: String = sqlx::query_scalar("SELECT id::text FROM person")
        .fetch_one(&mut server.db().await)
        .await
        .unwrap();
    wait_until("the person's thumbnail", ml, || async {
        let reply = server
            .call(
                Method::GET,
                &format!("/api/people/{person}/thumbnail"),
                Some(owner),
                None,
            )
            .await;
        reply.status == StatusCode::OK
    })
    .await;
    (assets, person)
}

/// An owner, their partner and a stranger, signed in (in that order), with the owner's three
/// photos clustered into one person and shared with the partner.
struct Household {
    admin: String,
    tokens: [String; 3],
    owner_id: String,
    assets: Vec<String>,
    person: String,
}

impl Household {
    async fn sharing_one_person(server: &TestServer, ml: &MlService) -> Self {
        let admin = server.admin_token().await;
        let mut tokens = Vec::new();
        for email in ["owner@example.com", "partner@example.com", "stranger@example.com"] {
            tokens.push(server.user_token(&admin, email).await);
        }
        let tokens: [String; 3] = tokens.try_into().unwrap();
        let owner_id = user_id(server, &tokens[0]).await;
        let partner_id = user_id(server, &tokens[1]).await;
        let (assets, person) = one_person_in_three_photos(server, &admin, &tokens[0], ml).await;
        let owner = Caller {
            server,
            token: &tokens[0],
        };
        let shared = json!({"sharedWithId": partner_id});
        owner
            .answer(Method::POST, "/partners", Some(shared), StatusCode::CREATED)
            .await;
        Self {
            admin,
            tokens,
            owner_id,
            assets,
            person,
        }
    }
}

/// One user's calls, each checked for its status and, for a refusal, Immich's message.
struct Caller<'a> {
    server: &'a TestServer,
    token: &'a str,
}

impl Caller<'_> {
    async fn answer(&self, method: Method, path: &str, body: Option<Value>, status: StatusCode) -> Value {
        let path = format!("/api{path}");
        let reply = self.server.call(method.clone(), &path, Some(self.token), body).await;
        assert_eq!(reply.status, status, "{method} {path}: {}", reply.body);
        reply.body
    }

    async fn ok(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        self.answer(method, path, body, StatusCode::OK).await
    }

    async fn refused(&self, method: Method, path: &str, body: Option<Value>, message: &str) {
        let reply = self.answer(method.clone(), path, body, StatusCode::BAD_REQUEST).await;
        assert_eq!(reply, json!({ "message": message }), "{method} {path}");
    }
}
