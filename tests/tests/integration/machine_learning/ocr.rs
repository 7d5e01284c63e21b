//! OCR: a photo with a line of text is read by the real PP-OCR models; the text is shown with
//! the photo and found by the text search, only by its owner.

use darkroom_tests::TestServer;
use darkroom_tests::ml::{MlService, only, text_photo};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn ids(found: &Value) -> Vec<String> {
    found["assets"]["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {found}"))
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_photo_with_text_is_found_by_that_text() {
    let ml = MlService::start();
    let server = TestServer::start_with(&[("IMMICH_MACHINE_LEARNING_URL", &ml.url)]).await;
    let admin = server.admin_token().await;
    let stranger = server.user_token(&admin, "stranger@example.com").await;
    server.update_config(&admin, |config| only(config, &["ocr"])).await;
    let reply = server
        .upload(&admin, "sign.png", &text_photo("Darkroom 2026 Lisboa"), &[])
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let sign = reply.body["id"].as_str().unwrap().to_string();
    let mut lines = Value::Null;
    for _ in 0..600 {
        lines = server
            .call(Method::GET, &format!("/api/assets/{sign}/ocr"), Some(&admin), None)
            .await
            .body;
        if lines.as_array().is_some_and(|lines| !lines.is_empty()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let text: Vec<&str> = lines
        .as_array()
        .unwrap_or_else(|| panic!("no text read: {lines}; darkroom-ml said:\n{}", ml.log_text()))
        .iter()
        .map(|line| line["text"].as_str().unwrap())
        .collect();
    assert_eq!(text.join(" "), "Darkroom 2026 Lisboa", "{lines}");
    // Corners are fractions of the picture.
    let x1 = lines[0]["x1"].as_f64().unwrap();
    let x2 = lines[0]["x2"].as_f64().unwrap();
    assert!((0.0..1.0).contains(&x1) && x1 < x2 && x2 <= 1.0, "{lines}");
    assert!(lines[0]["textScore"].as_f64().unwrap() > 0.8);

    let search = |token: String, body: Value| {
        let server = &server;
        async move {
            server
                .call(Method::POST, "/api/search/metadata", Some(&token), Some(body))
                .await
                .body
        }
    };
    assert_eq!(
        ids(&search(admin.clone(), json!({"ocr": "lisboa"})).await),
        std::slice::from_ref(&sign)
    );
    assert_eq!(
        ids(&search(admin.clone(), json!({"ocr": "Darkroom 2026"})).await),
        std::slice::from_ref(&sign)
    );
    assert!(ids(&search(admin.clone(), json!({"ocr": "zebra"})).await).is_empty());
    let counted = server
        .call(
            Method::POST,
            "/api/search/statistics",
            Some(&admin),
            Some(json!({"ocr": "lisboa"})),
        )
        .await
        .body;
    assert_eq!(counted["total"], json!(1));
    assert!(ids(&search(stranger.clone(), json!({"ocr": "lisboa"})).await).is_empty());
    let refused = server
        .call(Method::GET, &format!("/api/assets/{sign}/ocr"), Some(&stranger), None)
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let features = server.call(Method::GET, "/api/server/features", None, None).await.body;
    assert_eq!(features["ocr"], json!(true));
}
