//! The HTTP service as Immich's server and clients meet it: the real `darkroom-ml` binary on a
//! port, spoken to over HTTP with multipart forms.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use reqwest::blocking::{Client, multipart};
use serde_json::{Value, json};

fn client() -> Client {
    Client::builder()
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .unwrap()
}

fn predict(service: &common::MlService, form: multipart::Form) -> (u16, Value) {
    let response = client()
        .post(format!("{}/predict", service.url))
        .multipart(form)
        .send()
        .unwrap();
    let status = response.status().as_u16();
    let text = response.text().unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

fn entries(value: Value) -> multipart::Form {
    multipart::Form::new().text("entries", value.to_string())
}

#[test]
fn root_and_ping_answer_as_immich() {
    let cache = tempfile::tempdir().unwrap();
    let service = common::MlService::start(cache.path(), &[]);
    let root: Value = client()
        .get(format!("{}/", service.url))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(root, json!({"message": "Immich ML"}));
    let ping = client().get(format!("{}/ping", service.url)).send().unwrap();
    assert_eq!(ping.status().as_u16(), 200);
    assert_eq!(ping.text().unwrap(), "pong");

    let healthcheck = |port: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_darkroom-ml"))
            .arg("healthcheck")
            .env("IMMICH_HOST", "0.0.0.0")
            .env("IMMICH_PORT", port)
            .output()
            .unwrap()
    };
    let port = service.url.rsplit(':').next().unwrap();
    assert!(healthcheck(port).status.success(), "the image's health check passes");
    // Held open and never answered (a port let go could be another test's service by then).
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let down = healthcheck(&silent.local_addr().unwrap().port().to_string());
    assert!(!down.status.success(), "and fails when nothing answers");
}

#[test]
fn bad_requests_get_immichs_status_and_a_message_and_the_service_keeps_serving() {
    let cache = tempfile::tempdir().unwrap();
    // A model that is in the cache but broken, and a hub that cannot be reached to fetch it again.
    let broken = cache.path().join("clip/ViT-B-32__openai/visual");
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::write(broken.join("model.onnx"), b"not a model").unwrap();
    let service = common::MlService::start(cache.path(), &[("HF_ENDPOINT", "http://127.0.0.1:9")]);
    let clip_visual = json!({"clip": {"visual": {"modelName": "ViT-B-32__openai"}}});

    let (status, body) = predict(&service, multipart::Form::new().text("text", "a cat"));
    assert_eq!(status, 422);
    assert_eq!(body["detail"][0]["loc"], json!(["body", "entries"]));

    let (status, body) = predict(
        &service,
        multipart::Form::new().text("entries", "{not json").text("text", "x"),
    );
    assert_eq!((status, body), (422, json!({"detail": "Invalid request format."})));

    let unknown = json!({"clip": {"visual": {"modelName": "no-such-model"}}});
    let (status, body) = predict(&service, entries(unknown).text("text", "x"));
    assert_eq!(status, 400);
    assert!(body["detail"].as_str().unwrap().contains("no-such-model"), "{body}");

    let (status, body) = predict(&service, entries(clip_visual.clone()));
    assert_eq!(
        (status, body),
        (400, json!({"detail": "Either image or text must be provided"}))
    );

    let not_an_image = multipart::Part::bytes(b"\xFF\xD8\xFFgarbage".to_vec()).file_name("blob");
    let (status, body) = predict(&service, entries(clip_visual.clone()).part("image", not_an_image));
    assert_eq!(status, 400, "{body}");
    assert!(
        body["detail"].as_str().unwrap().starts_with("Failed to decode image"),
        "{body}"
    );

    // A 1×1 PNG: decodes, then the model fails to load and cannot be fetched again.
    let mut png = std::io::Cursor::new(Vec::new());
    image::RgbImage::new(1, 1)
        .write_to(&mut png, image::ImageFormat::Png)
        .unwrap();
    let image = multipart::Part::bytes(png.into_inner()).file_name("blob");
    let (status, body) = predict(&service, entries(clip_visual).part("image", image));
    assert_eq!(status, 500, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("ViT-B-32__openai"), "{body}");

    // Still serving.
    let ping = client().get(format!("{}/ping", service.url)).send().unwrap();
    assert_eq!(ping.text().unwrap(), "pong", "{}", service.log_text());
}

fn count(text: &str, needle: &str) -> usize {
    text.matches(needle).count()
}

fn wait_for_log(service: &common::MlService, needle: &str, times: usize) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while count(&service.log_text(), needle) < times {
        assert!(
            std::time::Instant::now() < deadline,
            "no {needle:?} ×{times} in:\n{}",
            service.log_text()
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// Predictions run in a worker process that exits after the TTL, so its memory goes back to the
/// system, and that is started again by the next prediction, also after it was killed.
#[test]
fn the_inference_worker_exits_when_idle_and_comes_back_after_a_crash() {
    let cache = tempfile::tempdir().unwrap();
    let service = common::MlService::start(
        cache.path(),
        &[
            ("MACHINE_LEARNING_MODEL_TTL", "1"),
            ("MACHINE_LEARNING_MODEL_TTL_POLL_S", "1"),
            ("HF_ENDPOINT", "http://127.0.0.1:9"),
        ],
    );
    let request = || entries(json!({"clip": {"textual": {"modelName": "ViT-B-32__openai"}}})).text("text", "a dog");
    // The model cannot be fetched (500), but the worker started to try.
    assert_eq!(predict(&service, request()).0, 500);
    wait_for_log(&service, "inference worker started", 1);
    wait_for_log(&service, "Shutting down due to inactivity.", 1);

    assert_eq!(predict(&service, request()).0, 500);
    wait_for_log(&service, "inference worker started", 2);
    let log = service.log_text();
    let pid = log
        .lines()
        .rev()
        .find_map(|line| line.split("pid=").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap();
    let killed = std::process::Command::new("kill").args(["-9", pid]).status().unwrap();
    assert!(killed.success());
    std::thread::sleep(std::time::Duration::from_millis(200));

    let (status, body) = predict(&service, request());
    assert_eq!(status, 500, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("ViT-B-32__openai"), "{body}");
    wait_for_log(&service, "inference worker started", 3);
}

/// One binary for every ONNX Runtime from 1.22 on: the oldest, which `scripts/setup` fetches
/// beside the current one, loads and runs a model too; `/metrics` counts the run.
#[test]
fn the_same_binary_runs_on_the_oldest_supported_onnxruntime() {
    let oldest = common::repo_root().join(".tools/onnxruntime-1.22.0/libonnxruntime.so");
    assert!(oldest.exists(), "{} is missing: run scripts/setup", oldest.display());
    let cache = tempfile::tempdir().unwrap();
    let model = cache.path().join("clip/ViT-B-32__openai");
    common::run_python("clip_model.py", &["make", model.to_str().unwrap()]);
    let service = common::MlService::start(
        cache.path(),
        &[
            ("ORT_DYLIB_PATH", oldest.to_str().unwrap()),
            ("HF_ENDPOINT", "http://127.0.0.1:9"),
        ],
    );
    let metrics = || {
        client()
            .get(format!("{}/metrics", service.url))
            .send()
            .unwrap()
            .text()
            .unwrap()
    };
    assert!(metrics().contains("darkroom_ml_models_loaded 0"), "nothing loaded yet");
    let (status, body) = predict(
        &service,
        entries(json!({"clip": {"textual": {"modelName": "ViT-B-32__openai"}}})).text("text", "ein Hund am Strand"),
    );
    assert_eq!(status, 200, "{body}\n{}", service.log_text());
    let after = metrics();
    assert!(after.contains("darkroom_ml_models_loaded 1"), "{after}");
    let runs = after
        .lines()
        .find(|line| line.starts_with("darkroom_ml_inference_duration_seconds_count{"))
        .unwrap_or_else(|| panic!("no inference counted:\n{after}"));
    assert!(
        runs.contains(r#"model_name="ViT-B-32__openai""#)
            && runs.contains(r#"model_task="clip""#)
            && runs.contains(r#"model_type="textual""#)
            && runs.ends_with(" 1"),
        "{runs}"
    );
    let embedding: Vec<f32> = serde_json::from_str(body["clip"].as_str().unwrap()).unwrap();
    assert!(!embedding.is_empty());
    assert!(
        service.log_text().contains("onnxruntime-1.22.0"),
        "{}",
        service.log_text()
    );
}
