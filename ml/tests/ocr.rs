//! OCR with the real PP-OCR models of the rapidocr wheel, in Immich's cache layout: a line of
//! text drawn onto a photo is found where it was drawn and read exactly, and each stage is
//! measured against the pipeline Immich builds from RapidOCR's Python code on the same models.
//! Model downloads are checked against a local HTTP server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::OnceLock;

use darkroom_ml::cache::ModelType;
use darkroom_ml::error::MlError;
use darkroom_ml::models::ocr::db_postprocess::{DbPostProcess, ProbabilityMap, ScoreMode};
use darkroom_ml::models::ocr::{self, TextDetections, TextDetector, TextRecognition, TextRecognizer, download};
use darkroom_ml::models::{Input, LoadContext, Model, Output};
use darkroom_ml::runtime::Runtime;
use darkroom_ml::settings::Settings;
use serde_json::{Map, Value, json};

const TEXT: &str = "Darkroom 2026 Fotos";

/// The models, the photo with its drawn line, and the reference pipeline's results, made once.
struct Fixture {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    model_folder: PathBuf,
    image: image::RgbImage,
    /// Where the text was drawn: left, top, right, bottom.
    drawn: [f32; 4],
    reference: Value,
    settings: Settings,
    runtime: Runtime,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path().to_path_buf();
        let cache = dir.join("cache");
        let arg = |path: &Path| path.to_str().unwrap().to_owned();
        let models = common::run_python("ocr_reference.py", &["models", &arg(&cache)]);
        eprintln!("models from the rapidocr wheel: {}", models.trim());
        let image_path = dir.join("photo.png");
        let drawn: Vec<f32> = serde_json::from_str(&common::run_python(
            "ocr_reference.py",
            &["image", &arg(&image_path), TEXT],
        ))
        .unwrap();
        let reference: Value = serde_json::from_str(&common::run_python(
            "ocr_reference.py",
            &["reference", &arg(&cache), &arg(&image_path), &arg(&dir)],
        ))
        .unwrap();
        let image = darkroom_ml::decode::decode(&std::fs::read(&image_path).unwrap()).unwrap();
        let settings = common::settings(&cache);
        let runtime = common::runtime(&settings);
        Fixture {
            _dir: temp,
            dir,
            model_folder: cache.join("ocr/PP-OCRv5_mobile"),

            image,
            drawn: [drawn[0], drawn[1], drawn[2], drawn[3]],
            reference,
            settings,
            runtime,
        }
    })
}

impl Fixture {
    fn context(&self, model_type: ModelType) -> LoadContext<'_> {
        LoadContext {
            runtime: &self.runtime,
            settings: &self.settings,
            folder: &self.model_folder,
            name: "PP-OCRv5_mobile",
            model_type,
        }
    }

    fn detector(&self) -> TextDetector {
        TextDetector::load(&self.context(ModelType::Detection)).unwrap()
    }

    fn recognizer(&self) -> TextRecognizer {
        TextRecognizer::load(&self.context(ModelType::Recognition)).unwrap()
    }

    fn reference_boxes(&self) -> Vec<[[f32; 2]; 4]> {
        serde_json::from_value(self.reference["boxes"].clone()).unwrap()
    }

    fn floats(&self, file: &str) -> Vec<f32> {
        std::fs::read(self.dir.join(file))
            .unwrap()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect()
    }
}

fn options(value: Value) -> Map<String, Value> {
    value.as_object().cloned().unwrap_or_default()
}

fn detect(fixture: &Fixture, options: &Map<String, Value>) -> TextDetections {
    match fixture
        .detector()
        .predict(Input::Image(&fixture.image), None, options)
        .unwrap()
    {
        Output::TextDetections(detections) => detections,
        other => panic!("{other:?}"),
    }
}

fn largest_corner_distance(a: &[[[f32; 2]; 4]], b: &[[[f32; 2]; 4]]) -> f32 {
    a.iter()
        .zip(b)
        .flat_map(|(x, y)| {
            x.iter()
                .zip(y)
                .map(|(p, q)| (p[0] - q[0]).abs().max((p[1] - q[1]).abs()))
        })
        .fold(0.0, f32::max)
}

#[test]
fn the_detector_input_is_immichs() {
    let fixture = fixture();
    let ours = ocr::preprocess(&fixture.image, 736.0);
    let shape: Vec<usize> = serde_json::from_value(fixture.reference["input_shape"].clone()).unwrap();
    assert_eq!(ours.shape(), &shape[..]);
    let theirs = fixture.floats("input.f32");
    let ours: Vec<f32> = ours.iter().copied().collect();
    let largest = ours.iter().zip(&theirs).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
    let differing = ours.iter().zip(&theirs).filter(|(a, b)| a != b).count();
    eprintln!(
        "detector input {shape:?}: {differing} of {} values differ from Pillow's LANCZOS + Immich's normalisation, by at most {largest}",
        ours.len()
    );
    // Pillow's LANCZOS is reproduced exactly (pass order included).
    assert_eq!(differing, 0, "largest difference {largest}");
}

#[test]
fn db_postprocessing_matches_rapidocr_on_the_same_map() {
    let fixture = fixture();
    let shape: Vec<usize> = serde_json::from_value(fixture.reference["map_shape"].clone()).unwrap();
    let values = fixture.floats("map.f32");
    let post = DbPostProcess::default();
    let (boxes, scores) = post.boxes(
        ProbabilityMap {
            values: &values,
            width: shape[3],
            height: shape[2],
        },
        fixture.image.width(),
        fixture.image.height(),
    );
    let boxes = ocr::reading_order(boxes);
    let expected = fixture.reference_boxes();
    let expected_scores: Vec<f32> = serde_json::from_value(fixture.reference["scores"].clone()).unwrap();
    eprintln!(
        "DB boxes on RapidOCR's map: ours {boxes:?} scores {scores:?}; RapidOCR {expected:?} {expected_scores:?}"
    );
    assert_eq!(boxes, expected);
    for (ours, theirs) in scores.iter().zip(&expected_scores) {
        assert!((ours - theirs).abs() < 1e-6, "{ours} vs {theirs}");
    }
    let slow = DbPostProcess {
        score_mode: ScoreMode::Slow,
        ..post
    };
    let map = ProbabilityMap {
        values: &values,
        width: shape[3],
        height: shape[2],
    };
    assert_eq!(
        slow.boxes(map, fixture.image.width(), fixture.image.height()).0.len(),
        1
    );
}

#[test]
fn the_drawn_line_is_found_where_it_was_drawn() {
    let fixture = fixture();
    let detections = detect(fixture, &Map::new());
    assert_eq!(detections.boxes.len(), 1, "{detections:?}");
    let [left, top, right, bottom] = fixture.drawn;
    let corners = detections.boxes[0];
    let xs = corners.map(|c| c[0]);
    let ys = corners.map(|c| c[1]);
    let min = |v: [f32; 4]| v.into_iter().fold(f32::MAX, f32::min);
    let max = |v: [f32; 4]| v.into_iter().fold(f32::MIN, f32::max);
    eprintln!(
        "drawn at {:?}, found {corners:?} score {:?}",
        fixture.drawn, detections.scores
    );
    // The box holds the drawn text, with no more than the DB margin around it.
    assert!(
        min(xs) <= left && max(xs) >= right && min(ys) <= top && max(ys) >= bottom,
        "{corners:?}"
    );
    assert!(left - min(xs) < 25.0 && max(xs) - right < 25.0 && top - min(ys) < 25.0 && max(ys) - bottom < 25.0);
    assert!(detections.scores[0] > 0.5);

    let expected = fixture.reference_boxes();
    let distance = largest_corner_distance(&detections.boxes, &expected);
    eprintln!("end to end against Immich's Python pipeline: corners differ by at most {distance} px");
    assert!(distance <= 2.0, "{:?} vs {expected:?}", detections.boxes);
}

#[test]
fn the_recognizer_reads_the_line() {
    let fixture = fixture();
    let detections = detect(fixture, &Map::new());
    let result: TextRecognition = match fixture
        .recognizer()
        .predict(
            Input::Image(&fixture.image),
            Some(&Output::TextDetections(detections.clone())),
            &Map::new(),
        )
        .unwrap()
    {
        Output::Text(text) => text,
        other => panic!("{other:?}"),
    };
    let reference_score = fixture.reference["text_scores"][0].as_f64().unwrap();
    eprintln!(
        "read {:?} scores {:?}; Immich's Python pipeline read {} ({reference_score}); RapidOCR's own engine {}",
        result.text, result.text_score, fixture.reference["texts"], fixture.reference["rapidocr_texts"]
    );
    assert_eq!(result.text, [TEXT]);
    assert_eq!(fixture.reference["texts"], json!([TEXT]));
    assert!((f64::from(result.text_score[0]) - reference_score).abs() < 1e-3);
    assert_eq!(result.box_score, detections.scores);
    let (width, height) = (fixture.image.width() as f32, fixture.image.height() as f32);
    let expected: Vec<f32> = detections.boxes[0]
        .iter()
        .flat_map(|[x, y]| [x / width, y / height])
        .collect();
    assert_eq!(result.boxes, expected);
    let json = Output::Text(result).to_json();
    assert_eq!(json["text"], json!([TEXT]));
    assert_eq!(json["box"].as_array().map(Vec::len), Some(8));
}

#[test]
fn crops_match_pillows() {
    let fixture = fixture();
    let boxes = fixture.reference_boxes();
    let ours = ocr::crop(&fixture.image, &boxes[0]);
    let shape: Vec<u32> = serde_json::from_value(fixture.reference["crop0_shape"].clone()).unwrap();
    assert_eq!((ours.height(), ours.width()), (shape[0], shape[1]));
    let theirs = std::fs::read(fixture.dir.join("crop0.u8")).unwrap();
    let ours_bgr: Vec<u8> = ours.pixels().flat_map(|p| [p.0[2], p.0[1], p.0[0]]).collect();
    let largest = ours_bgr
        .iter()
        .zip(&theirs)
        .map(|(a, b)| a.abs_diff(*b))
        .max()
        .unwrap_or(0);
    let differing = ours_bgr.iter().zip(&theirs).filter(|(a, b)| a != b).count();
    eprintln!(
        "crop {shape:?}: {differing} of {} values differ from Pillow's, by at most {largest}",
        theirs.len()
    );
    assert!(largest <= 2, "{largest}");
}

#[test]
fn min_scores_filter() {
    let fixture = fixture();
    let strict = detect(fixture, &options(json!({"minScore": 0.99})));
    assert!(strict.boxes.is_empty() && strict.scores.is_empty(), "{strict:?}");
    let detections = detect(
        fixture,
        &options(json!({"minScore": 0.3, "scoreMode": "slow", "maxResolution": 640})),
    );
    assert_eq!(detections.boxes.len(), 1);

    let recognizer = fixture.recognizer();
    let read = |min_score: f64| match recognizer
        .predict(
            Input::Image(&fixture.image),
            Some(&Output::TextDetections(detections.clone())),
            &options(json!({ "minScore": min_score })),
        )
        .unwrap()
    {
        Output::Text(text) => text,
        other => panic!("{other:?}"),
    };
    let kept = read(0.5);
    assert_eq!(kept.text, [TEXT]);
    let score = f64::from(kept.text_score[0]);
    // Kept only when strictly above the least score.
    assert!(read(score).text.is_empty());
    assert!(read(1.0).boxes.is_empty());
}

#[test]
fn small_images_and_missing_detections() {
    let fixture = fixture();
    let small = image::RgbImage::from_pixel(31, 200, image::Rgb([255, 255, 255]));
    match fixture
        .detector()
        .predict(Input::Image(&small), None, &Map::new())
        .unwrap()
    {
        Output::TextDetections(detections) => assert!(detections.boxes.is_empty()),
        other => panic!("{other:?}"),
    }
    let recognizer = fixture.recognizer();
    let missing = recognizer.predict(Input::Image(&fixture.image), None, &Map::new());
    assert!(matches!(missing, Err(MlError::BadRequest(_))), "{missing:?}");
    let none = recognizer
        .predict(
            Input::Image(&fixture.image),
            Some(&Output::TextDetections(TextDetections::default())),
            &Map::new(),
        )
        .unwrap();
    assert_eq!(
        none.to_json(),
        json!({"box": [], "boxScore": [], "text": [], "textScore": []})
    );
}

/// Python's `http.server` on a free loopback port, serving `folder`; stopped when dropped.
struct FileServer {
    child: Child,
    base: String,
}

impl FileServer {
    fn start(folder: &Path) -> Self {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(common::python())
            .args([
                "-m",
                "http.server",
                "--bind",
                "127.0.0.1",
                &port.to_string(),
                "--directory",
            ])
            .arg(folder)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let started = std::time::Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed().as_secs() < 20, "the file server did not start");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for FileServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn files_in(folder: &Path) -> Vec<String> {
    std::fs::read_dir(folder)
        .map(|entries| {
            entries
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn downloads_are_checked_and_never_leave_a_partial_model() {
    let served = tempfile::tempdir().unwrap();
    let body = b"not really a model, but bytes with a known hash".repeat(1000);
    std::fs::write(served.path().join("model.bin"), &body).unwrap();
    let det_path = served.path().join("onnx/PP-OCRv5/det");
    std::fs::create_dir_all(&det_path).unwrap();
    std::fs::write(det_path.join("ch_PP-OCRv5_det_mobile.onnx"), &body).unwrap();
    let server = FileServer::start(served.path());
    let cache = tempfile::tempdir().unwrap();

    // The right hash: the file lands where it was asked for.
    use sha2::Digest as _;
    let sha: String = sha2::Sha256::digest(&body).iter().map(|b| format!("{b:02x}")).collect();
    let target = cache.path().join("direct/model.onnx");
    download::fetch_verified(&format!("{}/model.bin", server.base), &sha, &target, "test")
        .await
        .unwrap();
    assert_eq!(std::fs::read(&target).unwrap(), body);

    // A model under the mirror whose bytes are not RapidOCR's: refused, nothing left behind.
    let refused = download::ensure_from(&server.base, cache.path(), "EN__PP-OCRv5_mobile", ModelType::Detection).await;
    let error = refused.unwrap_err().to_string();
    assert!(error.contains("SHA-256"), "{error}");
    let folder = cache.path().join("ocr/PP-OCRv5_mobile/detection");
    assert_eq!(files_in(&folder), Vec::<String>::new());

    // A file that is not there is a download error, again with nothing left.
    let missing = download::ensure_from(&server.base, cache.path(), "PP-OCRv5_mobile", ModelType::Recognition).await;
    assert!(matches!(missing, Err(MlError::Download { .. })), "{missing:?}");
    assert!(files_in(&cache.path().join("ocr/PP-OCRv5_mobile/recognition")).is_empty());

    // A model already in the cache is used as it is, without asking the server.
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("model.onnx"), b"cached").unwrap();
    let cached = download::ensure_from(
        "http://127.0.0.1:9",
        cache.path(),
        "EN__PP-OCRv5_mobile",
        ModelType::Detection,
    )
    .await
    .unwrap();
    assert_eq!(cached, folder.join("model.onnx"));
    drop(server);
}

#[test]
fn a_missing_model_file_is_a_load_error() {
    let fixture = fixture();
    let empty = tempfile::tempdir().unwrap();
    let context = LoadContext {
        folder: empty.path(),
        ..fixture.context(ModelType::Recognition)
    };
    assert!(matches!(TextRecognizer::load(&context), Err(MlError::Load { .. })));
    assert!(matches!(TextDetector::load(&context), Err(MlError::Load { .. })));
}
