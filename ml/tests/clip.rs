//! CLIP as Immich runs it: the visual preprocessing against Pillow and NumPy on real photos,
//! Pillow's resampling filters, the tokenizer against Python `tokenizers`, and embeddings
//! against ONNX Runtime in Python on a stand-in model in Immich's layout.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};

use darkroom_ml::cache::ModelType;
use darkroom_ml::decode::decode;
use darkroom_ml::error::MlError;
use darkroom_ml::models::clip::textual::{ClipTokenizer, clean_text};
use darkroom_ml::models::clip::visual::{self, PreprocessConfig};
use darkroom_ml::models::clip::{TextualEncoder, VisualEncoder};
use darkroom_ml::models::resample::{self, Filter};
use darkroom_ml::models::{Input, LoadContext, Model, Output};
use darkroom_ml::runtime::Runtime;
use darkroom_ml::settings::Settings;
use image::RgbImage;
use serde_json::{Map, Value, json};

fn read_f32(path: &Path) -> Vec<f32> {
    std::fs::read(path)
        .unwrap()
        .chunks_exact(4)
        .map(|bytes| f32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
        .collect()
}

fn max_abs_difference(left: &[f32], right: &[f32]) -> f32 {
    assert_eq!(left.len(), right.len());
    left.iter()
        .zip(right)
        .map(|(left, right)| (left - right).abs())
        .fold(0.0, f32::max)
}

/// Runs clip_photos.py into a temporary folder and reads its manifest.
fn photos() -> (tempfile::TempDir, Value) {
    let folder = tempfile::tempdir().unwrap();
    common::run_python("clip_photos.py", &[folder.path().to_str().unwrap()]);
    let manifest =
        serde_json::from_str(&std::fs::read_to_string(folder.path().join("manifest.json")).unwrap()).unwrap();
    (folder, manifest)
}

#[test]
fn preprocessing_matches_immich_on_real_photos() {
    let (folder, manifest) = photos();
    let configs: std::collections::HashMap<String, PreprocessConfig> = manifest["configs"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, config)| (name.clone(), PreprocessConfig::parse(&config.to_string()).unwrap()))
        .collect();
    let mut worst = 0.0f32;
    for photo in manifest["photos"].as_array().unwrap() {
        let name = photo["name"].as_str().unwrap();
        let decoded = decode(&std::fs::read(photo["path"].as_str().unwrap()).unwrap()).unwrap();
        let pillow_pixels = std::fs::read(folder.path().join(format!("{name}.rgb"))).unwrap();
        let (width, height) = (photo["width"].as_u64().unwrap(), photo["height"].as_u64().unwrap());
        assert_eq!(
            (u64::from(decoded.width()), u64::from(decoded.height())),
            (width, height),
            "{name}"
        );
        // Both decode JPEG with libjpeg-turbo and PNG losslessly: the pixels are the same.
        let differing = decoded
            .as_raw()
            .iter()
            .zip(&pillow_pixels)
            .filter(|(ours, theirs)| ours != theirs)
            .count();
        assert_eq!(differing, 0, "{name}: {differing} bytes decode differently from Pillow");

        for (config_name, reference) in photo["tensors"].as_object().unwrap() {
            let config = &configs[config_name];
            let tensor = visual::preprocess(&decoded, config);
            let shape: Vec<usize> = reference["shape"]
                .as_array()
                .unwrap()
                .iter()
                .map(|side| side.as_u64().unwrap() as usize)
                .collect();
            assert_eq!(tensor.shape(), shape.as_slice(), "{name} {config_name}");
            let expected = read_f32(&folder.path().join(reference["file"].as_str().unwrap()));
            let difference = max_abs_difference(tensor.as_slice().unwrap(), &expected);
            eprintln!("{name:24} {width:4}x{height:<4} {config_name:10} max |rust - python| = {difference:e}");
            assert!(difference <= 1e-3, "{name} {config_name}: {difference}");
            worst = worst.max(difference);
        }
    }
    eprintln!("worst: {worst:e}");
}

#[test]
fn resampling_matches_pillow_for_every_filter() {
    let (folder, manifest) = photos();
    let mut sources = std::collections::HashMap::new();
    for photo in manifest["photos"].as_array().unwrap() {
        let name = photo["name"].as_str().unwrap().to_owned();
        let pixels = std::fs::read(folder.path().join(format!("{name}.rgb"))).unwrap();
        let image = RgbImage::from_raw(
            photo["width"].as_u64().unwrap() as u32,
            photo["height"].as_u64().unwrap() as u32,
            pixels,
        )
        .unwrap();
        sources.insert(name, image);
    }
    let resizes = manifest["resizes"].as_array().unwrap();
    assert!(resizes.len() >= 6 * 4 * 3);
    for case in resizes {
        let filter = Filter::from_name(case["filter"].as_str().unwrap()).unwrap();
        let (width, height) = (
            case["width"].as_u64().unwrap() as u32,
            case["height"].as_u64().unwrap() as u32,
        );
        let source = &sources[case["photo"].as_str().unwrap()];
        let resized = resample::resize(source, width, height, filter);
        let expected = std::fs::read(folder.path().join(case["file"].as_str().unwrap())).unwrap();
        let differing = resized.as_raw().iter().zip(&expected).filter(|(a, b)| a != b).count();
        assert_eq!(resized.as_raw().len(), expected.len());
        assert_eq!(differing, 0, "{case}: {differing} bytes differ from Pillow");
    }
}

struct StandIn {
    _folder: Option<tempfile::TempDir>,
    model: PathBuf,
    settings: Settings,
    runtime: Runtime,
}

fn make_stand_in(model: &Path, multilingual: bool) {
    let mut args = vec!["make", model.to_str().unwrap()];
    if multilingual {
        args.push("--multilingual");
    }
    common::run_python("clip_model.py", &args);
}

/// A stand-in CLIP model in Immich's layout, at `<temp>/<name>`, for a test to change.
fn stand_in(name: &str, multilingual: bool) -> StandIn {
    let folder = tempfile::tempdir().unwrap();
    let model = folder.path().join(name);
    make_stand_in(&model, multilingual);
    let settings = common::settings(folder.path());
    let runtime = common::runtime(&settings);
    StandIn {
        _folder: Some(folder),
        model,
        settings,
        runtime,
    }
}

/// The OpenCLIP stand-in the tests that only read it share, made once per run in Cargo's
/// temporary folder for tests.
fn shared_stand_in() -> StandIn {
    static FOLDER: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    let model = FOLDER
        .get_or_init(|| {
            let model = Path::new(env!("CARGO_TARGET_TMPDIR")).join("clip-stand-in/ViT-B-32__openai");
            if model.exists() {
                std::fs::remove_dir_all(&model).unwrap();
            }
            make_stand_in(&model, false);
            model
        })
        .clone();
    let settings = common::settings(model.parent().unwrap());
    let runtime = common::runtime(&settings);
    StandIn {
        _folder: None,
        model,
        settings,
        runtime,
    }
}

impl StandIn {
    fn context<'a>(&'a self, name: &'a str, model_type: ModelType) -> LoadContext<'a> {
        LoadContext {
            runtime: &self.runtime,
            settings: &self.settings,
            folder: &self.model,
            name,
            model_type,
        }
    }
}

fn embedding(output: Output) -> Vec<f32> {
    match output {
        Output::Embedding(embedding) => embedding,
        other => panic!("not an embedding: {other:?}"),
    }
}

fn normalised(mut values: Vec<f32>) -> Vec<f32> {
    darkroom_ml::models::l2_normalise(&mut values);
    values
}

fn python_row(output: &str) -> Vec<f32> {
    serde_json::from_str::<Vec<f64>>(output.trim())
        .unwrap()
        .into_iter()
        .map(|value| value as f32)
        .collect()
}

fn assert_unit_length(embedding: &[f32]) {
    let norm = embedding.iter().map(|value| value * value).sum::<f32>().sqrt();
    assert!((norm - 1.0).abs() < 1e-5, "norm {norm}");
}

fn language(code: &str) -> Map<String, Value> {
    json!({ "language": code }).as_object().unwrap().clone()
}

#[test]
fn embeddings_match_onnxruntime_in_python() {
    let model = shared_stand_in();
    let work = tempfile::tempdir().unwrap();

    let visual_encoder = VisualEncoder::load(&model.context("ViT-B-32__openai", ModelType::Visual)).unwrap();
    let photo = common::repo_root().join(".tools/ml/lib/python3.11/site-packages/skimage/data/chelsea.png");
    let image = decode(&std::fs::read(&photo).unwrap()).unwrap();
    let ours = embedding(visual_encoder.predict(Input::Image(&image), None, &Map::new()).unwrap());
    assert_eq!(ours.len(), 32);
    assert_unit_length(&ours);
    let tensor = visual::preprocess(&image, visual_encoder.config());
    let tensor_path = work.path().join("tensor.f32");
    let bytes: Vec<u8> = tensor.iter().flat_map(|value| value.to_le_bytes()).collect();
    std::fs::write(&tensor_path, bytes).unwrap();
    let theirs = normalised(python_row(&common::run_python(
        "clip_model.py",
        &[
            "run-visual",
            model.model.to_str().unwrap(),
            tensor_path.to_str().unwrap(),
        ],
    )));
    let difference = max_abs_difference(&ours, &theirs);
    eprintln!("visual embedding: max |rust - python| = {difference:e}");
    assert!(difference <= 1e-5, "{difference}");

    let textual_encoder = TextualEncoder::load(&model.context("ViT-B-32__openai", ModelType::Textual), false).unwrap();
    for text in ["a photo of a cat", "Schöne  Grüße\taus München", "海边的日落 🎉"] {
        let ours = embedding(textual_encoder.predict(Input::Text(text), None, &Map::new()).unwrap());
        assert_unit_length(&ours);
        let tokens = textual_encoder.tokenizer().tokenize(text, None).unwrap();
        assert_eq!(tokens.ids.len(), 77);
        let tokens_path = work.path().join("tokens.json");
        std::fs::write(&tokens_path, json!({ "ids": tokens.ids }).to_string()).unwrap();
        let theirs = normalised(python_row(&common::run_python(
            "clip_model.py",
            &[
                "run-textual",
                model.model.to_str().unwrap(),
                tokens_path.to_str().unwrap(),
            ],
        )));
        let difference = max_abs_difference(&ours, &theirs);
        eprintln!("textual embedding of {text:?}: max |rust - python| = {difference:e}");
        assert!(difference <= 1e-5, "{text}: {difference}");
    }
}

#[test]
fn multilingual_text_takes_ids_and_mask() {
    let model = stand_in("XLM-Roberta-Large-Vit-B-32", true);
    let work = tempfile::tempdir().unwrap();
    let name = "immich-app/XLM-Roberta-Large-Vit-B-32";
    let encoder = TextualEncoder::load(&model.context(name, ModelType::Textual), true).unwrap();
    let text = "Ein Foto von einem Hund";
    let ours = embedding(encoder.predict(Input::Text(text), None, &language("de")).unwrap());
    assert_unit_length(&ours);
    let tokens = encoder.tokenizer().tokenize(text, None).unwrap();
    let tokens_path = work.path().join("tokens.json");
    std::fs::write(
        &tokens_path,
        json!({ "ids": tokens.ids, "attention_mask": tokens.attention_mask }).to_string(),
    )
    .unwrap();
    let theirs = normalised(python_row(&common::run_python(
        "clip_model.py",
        &[
            "run-textual",
            model.model.to_str().unwrap(),
            tokens_path.to_str().unwrap(),
        ],
    )));
    assert!(max_abs_difference(&ours, &theirs) <= 1e-5);
    // M-CLIP models get no language prefix.
    let without_language = embedding(encoder.predict(Input::Text(text), None, &Map::new()).unwrap());
    assert_eq!(ours, without_language);
}

/// Tokenizes texts of many scripts with our tokenizer and Python's `tokenizers` on the same
/// `tokenizer.json`, and compares ids, masks and Immich's cleaning.
fn assert_tokenizer_matches_python(model: &Path, texts: &[&str], long: &str) {
    let work = tempfile::tempdir().unwrap();
    let textual = model.join("textual");
    let tokenizer = ClipTokenizer::load(&textual, &model.join("config.json"), "test").unwrap();
    assert_eq!(tokenizer.context_length(), 77);
    let texts_path = work.path().join("texts.json");
    std::fs::write(&texts_path, serde_json::to_string(&texts).unwrap()).unwrap();
    let python: Vec<Value> = serde_json::from_str(&common::run_python(
        "clip_model.py",
        &[
            "tokenize",
            textual.to_str().unwrap(),
            "77",
            texts_path.to_str().unwrap(),
        ],
    ))
    .unwrap();
    for (text, expected) in texts.iter().zip(&python) {
        let tokens = tokenizer.encode(text).unwrap();
        let ids: Vec<i32> = serde_json::from_value(expected["ids"].clone()).unwrap();
        let mask: Vec<i32> = serde_json::from_value(expected["attention_mask"].clone()).unwrap();
        assert_eq!(tokens.ids, ids, "{text:?}: {}", expected["tokens"]);
        assert_eq!(tokens.attention_mask, mask, "{text:?}");
        assert_eq!(tokens.ids.len(), 77);
        assert_eq!(
            clean_text(text, false),
            expected["cleaned"].as_str().unwrap(),
            "{text:?}"
        );
        assert_eq!(
            clean_text(text, true),
            expected["canonical"].as_str().unwrap(),
            "{text:?}"
        );
    }
    // The long text is cut to the context length, ending with the end token.
    let long_tokens = tokenizer.encode(long).unwrap();
    assert_eq!(long_tokens.ids[76], long_tokens.ids[long_tokens.ids.len() - 1]);
    assert!(long_tokens.attention_mask.iter().all(|&mask| mask == 1));
}

const TOKENIZER_TEXTS: [&str; 10] = [
    "a photo of a cat",
    "A Dog running on the BEACH at sunset, 2024!",
    "Schöne Grüße aus München: Straße, Öl, Äpfel",
    "海边的日落和一只猫",
    "a party 🎉 with cake 🍰 and friends 😀👍🏽",
    "café crème brûlée naïve résumé ☃ ✓",
    "  spaces\tand\nnew lines  ",
    "odd\u{1f}separators\u{a0}and\u{3000}ideographic\u{2028}spaces\u{85}too",
    "ΣΊΣΥΦΟΣ ΟΔΟΣ İstanbul ǅ",
    "",
];

/// XLM-R, SigLIP and NLLB ship SentencePiece (Unigram) tokenizers: the multilingual stand-in has one.
#[test]
fn a_sentencepiece_tokenizer_matches_python_tokenizers() {
    let model = stand_in("XLM-Roberta-Large-Vit-B-32", true);
    let long = "ein Foto von einer Katze ".repeat(40);
    let mut texts = TOKENIZER_TEXTS.to_vec();
    texts.push(&long);
    assert_tokenizer_matches_python(&model.model, &texts, &long);
}

#[test]
fn the_tokenizer_matches_python_tokenizers() {
    let model = shared_stand_in();
    let long = "a photo of a cat ".repeat(40);
    let mut texts = TOKENIZER_TEXTS.to_vec();
    texts.push(&long);
    assert_tokenizer_matches_python(&model.model, &texts, &long);
}

#[test]
fn nllb_models_prefix_the_language() {
    let model = shared_stand_in();
    let nllb = TextualEncoder::load(&model.context("nllb-clip-base-siglip__v1", ModelType::Textual), false).unwrap();
    // The same files under a name that is not NLLB's: no prefix.
    let plain = TextualEncoder::load(&model.context("ViT-B-32__openai", ModelType::Textual), false).unwrap();
    let predict = |encoder: &TextualEncoder, text: &str, options: &Map<String, Value>| {
        embedding(encoder.predict(Input::Text(text), None, options).unwrap())
    };
    let cases = [
        ("de", "deu_Latn"),
        ("pt-BR", "por_Latn"),
        ("zh-Hans", "zho_Hans"),
        ("de-CH", "deu_Latn"),
        ("xx-YY", "eng_Latn"),
    ];
    for (code, flores) in cases {
        assert_eq!(
            predict(&nllb, "ein  Hund", &language(code)),
            predict(&plain, &format!("{flores}ein Hund"), &Map::new()),
            "{code}"
        );
    }
    // Without a language, no prefix.
    assert_eq!(
        predict(&nllb, "ein Hund", &Map::new()),
        predict(&plain, "ein Hund", &Map::new())
    );
    // Only NLLB models take one.
    assert_eq!(
        predict(&plain, "ein Hund", &language("de")),
        predict(&plain, "ein Hund", &Map::new())
    );
}

#[test]
fn the_wrong_kind_of_input_is_a_bad_request() {
    let model = shared_stand_in();
    let visual_encoder = VisualEncoder::load(&model.context("ViT-B-32__openai", ModelType::Visual)).unwrap();
    let textual_encoder = TextualEncoder::load(&model.context("ViT-B-32__openai", ModelType::Textual), false).unwrap();
    let image = RgbImage::new(8, 8);
    let text_to_visual = visual_encoder.predict(Input::Text("a cat"), None, &Map::new());
    assert!(
        matches!(text_to_visual, Err(MlError::BadRequest(_))),
        "{text_to_visual:?}"
    );
    let image_to_textual = textual_encoder.predict(Input::Image(&image), None, &Map::new());
    assert!(
        matches!(image_to_textual, Err(MlError::BadRequest(_))),
        "{image_to_textual:?}"
    );
}

#[test]
fn missing_or_broken_files_are_load_errors_that_name_them() {
    let model = stand_in("ViT-B-32__openai", false);
    let context = model.context("ViT-B-32__openai", ModelType::Visual);
    let load_error = |result: Result<(), MlError>| match result {
        Err(error @ MlError::Load { .. }) => error.to_string(),
        other => panic!("expected a load error, got {other:?}"),
    };

    let preprocess = model.model.join("visual/preprocess_cfg.json");
    std::fs::remove_file(&preprocess).unwrap();
    let message = load_error(VisualEncoder::load(&context).map(drop));
    assert!(message.contains("preprocess_cfg.json"), "{message}");
    std::fs::write(
        &preprocess,
        r#"{"size": 224, "interpolation": "mitchell", "mean": [0], "std": [1]}"#,
    )
    .unwrap();
    let message = load_error(VisualEncoder::load(&context).map(drop));
    assert!(message.contains("mitchell"), "{message}");

    let textual_context = model.context("ViT-B-32__openai", ModelType::Textual);
    // An OpenCLIP text model loaded as M-CLIP lacks the inputs Immich feeds M-CLIP.
    let message = load_error(TextualEncoder::load(&textual_context, true).map(drop));
    assert!(message.contains("input_ids"), "{message}");
    let tokenizer_config = model.model.join("textual/tokenizer_config.json");
    std::fs::write(&tokenizer_config, r#"{"pad_token": "<pad>"}"#).unwrap();
    let message = load_error(TextualEncoder::load(&textual_context, false).map(drop));
    assert!(message.contains("<pad>"), "{message}");
    std::fs::remove_file(&tokenizer_config).unwrap();
    let message = load_error(TextualEncoder::load(&textual_context, false).map(drop));
    assert!(message.contains("tokenizer_config.json"), "{message}");
    std::fs::remove_file(model.model.join("config.json")).unwrap();
    let message = load_error(TextualEncoder::load(&textual_context, false).map(drop));
    assert!(message.contains("config.json"), "{message}");
}
