//! Immich's machine-learning protocol, the request side: the `entries` form field of
//! `POST /predict` (`{task: {type: {modelName, options}}}`) read into the models to run, in two
//! phases: models that need another's output (face recognition after detection, text recognition
//! after detection) run in the second.

use serde_json::{Map, Value};

use crate::cache::{ModelTask, ModelType, clean_name};

/// Where a model comes from, which decides how it is run (Immich's `ModelSource`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelSource {
    OpenClip,
    /// Multilingual CLIP: an XLM-R text tower beside an OpenCLIP image tower.
    MClip,
    InsightFace,
    /// Darkroom's light face detector: `mtcnn__<InsightFace pack>` finds faces with MTCNN and
    /// embeds them with the pack's ArcFace model.
    Mtcnn,
    Paddle,
}

/// What a model does, from its name, type and task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelKind {
    ClipVisual,
    ClipTextual {
        multilingual: bool,
    },
    FaceDetector,
    /// MTCNN's three networks in place of SCRFD.
    MtcnnDetector,
    FaceRecognizer,
    TextDetector,
    TextRecognizer,
}

impl ModelKind {
    /// The model whose output this one takes, if any.
    pub fn depends_on(self) -> Option<(ModelType, ModelTask)> {
        match self {
            Self::FaceRecognizer => Some((ModelType::Detection, ModelTask::FacialRecognition)),
            Self::TextRecognizer => Some((ModelType::Detection, ModelTask::Ocr)),
            _ => None,
        }
    }
}

/// One model to run for a request.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub model_name: String,
    pub task: ModelTask,
    pub model_type: ModelType,
    pub kind: ModelKind,
    pub options: Map<String, Value>,
}

/// The models of a request: `first` run together, then `second` with their outputs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Entries {
    pub first: Vec<Entry>,
    pub second: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// Immich answers 422 with this text for entries it cannot read.
    #[error("Invalid request format.")]
    InvalidFormat,
    /// A task, type or model name this service does not know (400).
    #[error("Unknown model combination: model '{model_name}', type '{model_type}', task '{task}'")]
    UnknownModel {
        model_name: String,
        model_type: String,
        task: String,
    },
}

impl ProtocolError {
    /// The HTTP status Immich's service answers with.
    pub fn status(&self) -> u16 {
        match self {
            Self::InvalidFormat => 422,
            Self::UnknownModel { .. } => 400,
        }
    }
}

/// Reads the `entries` form field.
pub fn parse_entries(text: &str) -> Result<Entries, ProtocolError> {
    let request: Value = serde_json::from_str(text).map_err(|_| ProtocolError::InvalidFormat)?;
    let tasks = request.as_object().ok_or(ProtocolError::InvalidFormat)?;
    let mut entries = Entries::default();
    for (task, types) in tasks {
        for (model_type, entry) in types.as_object().ok_or(ProtocolError::InvalidFormat)? {
            let model_name = entry
                .get("modelName")
                .and_then(Value::as_str)
                .ok_or(ProtocolError::InvalidFormat)?;
            let options = match entry.get("options") {
                None => Map::new(),
                Some(Value::Object(options)) => options.clone(),
                Some(_) => return Err(ProtocolError::InvalidFormat),
            };
            let unknown = || ProtocolError::UnknownModel {
                model_name: model_name.to_string(),
                model_type: model_type.clone(),
                task: task.clone(),
            };
            let parsed_task = parse_task(task).ok_or_else(unknown)?;
            let parsed_type = parse_type(model_type).ok_or_else(unknown)?;
            let kind = model_kind(model_name, parsed_type, parsed_task).ok_or_else(unknown)?;
            let entry = Entry {
                model_name: model_name.to_string(),
                task: parsed_task,
                model_type: parsed_type,
                kind,
                options,
            };
            match kind.depends_on() {
                None => entries.first.push(entry),
                Some(_) => entries.second.push(entry),
            }
        }
    }
    Ok(entries)
}

fn parse_task(text: &str) -> Option<ModelTask> {
    [ModelTask::Clip, ModelTask::FacialRecognition, ModelTask::Ocr]
        .into_iter()
        .find(|task| task.as_str() == text)
}

fn parse_type(text: &str) -> Option<ModelType> {
    [
        ModelType::Visual,
        ModelType::Textual,
        ModelType::Detection,
        ModelType::Recognition,
    ]
    .into_iter()
    .find(|model_type| model_type.as_str() == text)
}

/// What a model is, or none when the name, type and task do not go together.
pub fn model_kind(model_name: &str, model_type: ModelType, task: ModelTask) -> Option<ModelKind> {
    use {ModelKind as K, ModelSource as S, ModelTask as Task, ModelType as Type};
    match (model_source(model_name)?, model_type, task) {
        (S::OpenClip | S::MClip, Type::Visual, Task::Clip) => Some(K::ClipVisual),
        (S::OpenClip, Type::Textual, Task::Clip) => Some(K::ClipTextual { multilingual: false }),
        (S::MClip, Type::Textual, Task::Clip) => Some(K::ClipTextual { multilingual: true }),
        (S::InsightFace, Type::Detection, Task::FacialRecognition) => Some(K::FaceDetector),
        (S::InsightFace | S::Mtcnn, Type::Recognition, Task::FacialRecognition) => Some(K::FaceRecognizer),
        (S::Mtcnn, Type::Detection, Task::FacialRecognition) => Some(K::MtcnnDetector),
        (S::Paddle, Type::Detection, Task::Ocr) => Some(K::TextDetector),
        (S::Paddle, Type::Recognition, Task::Ocr) => Some(K::TextRecognizer),
        _ => None,
    }
}

/// The source of a model Immich knows by name.
pub fn model_source(model_name: &str) -> Option<ModelSource> {
    let name = clean_name(model_name);
    let name = name.as_str();
    if INSIGHTFACE_MODELS.contains(&name) {
        Some(ModelSource::InsightFace)
    } else if MCLIP_MODELS.contains(&name) {
        Some(ModelSource::MClip)
    } else if OPENCLIP_MODELS.contains(&name) {
        Some(ModelSource::OpenClip)
    } else if mtcnn_recognizer(name).is_some() {
        Some(ModelSource::Mtcnn)
    } else if PADDLE_MODELS.contains(&name) {
        Some(ModelSource::Paddle)
    } else {
        None
    }
}

/// The InsightFace pack whose recognition model an `mtcnn__<pack>` name uses.
pub fn mtcnn_recognizer(model_name: &str) -> Option<&str> {
    model_name
        .strip_prefix(MTCNN_PREFIX)
        .filter(|pack| INSIGHTFACE_MODELS.contains(pack))
}

/// The prefix of the names that select MTCNN as the face detector.
pub const MTCNN_PREFIX: &str = "mtcnn__";

const INSIGHTFACE_MODELS: [&str; 4] = ["antelopev2", "buffalo_s", "buffalo_m", "buffalo_l"];

const MCLIP_MODELS: [&str; 4] = [
    "LABSE-Vit-L-14",
    "XLM-Roberta-Large-Vit-B-16Plus",
    "XLM-Roberta-Large-Vit-B-32",
    "XLM-Roberta-Large-Vit-L-14",
];

const PADDLE_MODELS: [&str; 10] = [
    "PP-OCRv5_server",
    "PP-OCRv5_mobile",
    "CH__PP-OCRv5_server",
    "CH__PP-OCRv5_mobile",
    "EL__PP-OCRv5_mobile",
    "EN__PP-OCRv5_mobile",
    "ESLAV__PP-OCRv5_mobile",
    "KOREAN__PP-OCRv5_mobile",
    "LATIN__PP-OCRv5_mobile",
    "TH__PP-OCRv5_mobile",
];

/// The OpenCLIP models of Immich 3.0.3 (OpenAI and LAION ViT and ResNet, SigLIP, SigLIP2,
/// multilingual XLM-R and NLLB).
const OPENCLIP_MODELS: [&str; 54] = [
    "RN101__openai",
    "RN101__yfcc15m",
    "RN50__cc12m",
    "RN50__openai",
    "RN50__yfcc15m",
    "RN50x16__openai",
    "RN50x4__openai",
    "RN50x64__openai",
    "ViT-B-16-SigLIP-256__webli",
    "ViT-B-16-SigLIP-384__webli",
    "ViT-B-16-SigLIP-512__webli",
    "ViT-B-16-SigLIP-i18n-256__webli",
    "ViT-B-16-SigLIP__webli",
    "ViT-B-16-plus-240__laion400m_e31",
    "ViT-B-16-plus-240__laion400m_e32",
    "ViT-B-16__laion400m_e31",
    "ViT-B-16__laion400m_e32",
    "ViT-B-16__openai",
    "ViT-B-32__laion2b-s34b-b79k",
    "ViT-B-32__laion2b_e16",
    "ViT-B-32__laion400m_e31",
    "ViT-B-32__laion400m_e32",
    "ViT-B-32__openai",
    "ViT-H-14-378-quickgelu__dfn5b",
    "ViT-H-14-quickgelu__dfn5b",
    "ViT-H-14__laion2b-s32b-b79k",
    "ViT-L-14-336__openai",
    "ViT-L-14-quickgelu__dfn2b",
    "ViT-L-14__laion2b-s32b-b82k",
    "ViT-L-14__laion400m_e31",
    "ViT-L-14__laion400m_e32",
    "ViT-L-14__openai",
    "ViT-L-16-SigLIP-256__webli",
    "ViT-L-16-SigLIP-384__webli",
    "ViT-SO400M-14-SigLIP-384__webli",
    "ViT-g-14__laion2b-s12b-b42k",
    "XLM-Roberta-Base-ViT-B-32__laion5b_s13b_b90k",
    "XLM-Roberta-Large-ViT-H-14__frozen_laion5b_s13b_b90k",
    "nllb-clip-base-siglip__mrl",
    "nllb-clip-base-siglip__v1",
    "nllb-clip-large-siglip__mrl",
    "nllb-clip-large-siglip__v1",
    "ViT-B-16-SigLIP2__webli",
    "ViT-B-32-SigLIP2-256__webli",
    "ViT-L-16-SigLIP2-256__webli",
    "ViT-L-16-SigLIP2-384__webli",
    "ViT-L-16-SigLIP2-512__webli",
    "ViT-SO400M-14-SigLIP2-378__webli",
    "ViT-SO400M-14-SigLIP2__webli",
    "ViT-SO400M-16-SigLIP2-256__webli",
    "ViT-SO400M-16-SigLIP2-384__webli",
    "ViT-SO400M-16-SigLIP2-512__webli",
    "ViT-gopt-16-SigLIP2-256__webli",
    "ViT-gopt-16-SigLIP2-384__webli",
];

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_servers_face_request_runs_recognition_second() {
        // What Immich's server sends for faces (machine-learning.repository.ts).
        let entries = parse_entries(
            &json!({"facial-recognition": {
                "detection": {"modelName": "buffalo_l", "options": {"minScore": 0.7}},
                "recognition": {"modelName": "buffalo_l"}
            }})
            .to_string(),
        )
        .unwrap();
        assert_eq!(entries.first.len(), 1);
        assert_eq!(entries.first[0].kind, ModelKind::FaceDetector);
        assert_eq!(entries.first[0].options["minScore"], json!(0.7));
        assert_eq!(entries.second.len(), 1);
        assert_eq!(entries.second[0].kind, ModelKind::FaceRecognizer);
        assert!(entries.second[0].options.is_empty());
    }

    #[test]
    fn clip_and_ocr_requests_read_as_immich_reads_them() {
        let clip = parse_entries(r#"{"clip": {"textual": {"modelName": "immich-app/XLM-Roberta-Large-Vit-B-32", "options": {"language": "de"}}}}"#).unwrap();
        assert_eq!(clip.first[0].kind, ModelKind::ClipTextual { multilingual: true });
        let ocr = parse_entries(
            r#"{"ocr": {"detection": {"modelName": "PP-OCRv5_mobile"}, "recognition": {"modelName": "PP-OCRv5_mobile"}}}"#,
        )
        .unwrap();
        assert_eq!((ocr.first.len(), ocr.second.len()), (1, 1));
        assert_eq!(
            ocr.second[0].kind.depends_on(),
            Some((ModelType::Detection, ModelTask::Ocr))
        );
    }

    #[test]
    fn unreadable_entries_are_422_and_unknown_models_400() {
        for bad in [
            "not json",
            "[]",
            r#"{"clip": []}"#,
            r#"{"clip": {"visual": {}}}"#,
            r#"{"clip": {"visual": {"modelName": "ViT-B-32__openai", "options": 3}}}"#,
        ] {
            assert_eq!(parse_entries(bad), Err(ProtocolError::InvalidFormat), "{bad}");
        }
        let unknown = parse_entries(r#"{"clip": {"visual": {"modelName": "no-such-model"}}}"#).unwrap_err();
        assert_eq!(unknown.status(), 400);
        assert_eq!(
            unknown.to_string(),
            "Unknown model combination: model 'no-such-model', type 'visual', task 'clip'"
        );
        let mismatched = parse_entries(r#"{"ocr": {"detection": {"modelName": "buffalo_l"}}}"#).unwrap_err();
        assert_eq!(mismatched.status(), 400);
        assert!(parse_entries(r#"{"search": {"visual": {"modelName": "ViT-B-32__openai"}}}"#).is_err());
    }
}
