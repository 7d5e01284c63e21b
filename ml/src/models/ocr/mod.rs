//! OCR (placeholder: the OCR work replaces this file; the output types are fixed).

use serde::Serialize;
use serde_json::{Map, Value};

use super::{Input, LoadContext, Model, Output};
use crate::error::{MlError, Result};

/// Text boxes found in an image (four corners each, in its pixel coordinates) and their scores.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TextDetections {
    pub boxes: Vec<[[f32; 2]; 4]>,
    pub scores: Vec<f32>,
}

/// Immich's OCR answer: the kept boxes' corners flattened (8 numbers per box, as fractions of the
/// image's width and height), their detection scores, texts and recognition scores.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TextRecognition {
    #[serde(rename = "box")]
    pub boxes: Vec<f32>,
    pub box_score: Vec<f32>,
    pub text: Vec<String>,
    pub text_score: Vec<f32>,
}

/// Placeholder until the OCR work lands: the model's folder, which must already hold the file.
pub mod download {
    use std::path::{Path, PathBuf};

    use crate::cache::ModelType;
    use crate::error::{MlError, Result};

    pub async fn ensure(cache_folder: &Path, model_name: &str, model_type: ModelType) -> Result<PathBuf> {
        let folder = cache_folder.join("ocr").join(model_name);
        if folder.join(model_type.as_str()).join("model.onnx").is_file() {
            Ok(folder)
        } else {
            Err(MlError::load(model_name, "OCR models are not fetched yet"))
        }
    }
}

pub struct TextDetector;
pub struct TextRecognizer;

macro_rules! not_yet {
    ($($model:ident),*) => {$(
        impl $model {
            pub fn load(context: &LoadContext<'_>) -> Result<Self> {
                Err(MlError::load(context.name, "OCR is not built yet"))
            }
        }
        impl Model for $model {
            fn predict(&self, _: Input<'_>, _: Option<&Output>, _: &Map<String, Value>) -> Result<Output> {
                Err(MlError::BadRequest("OCR is not built yet".to_owned()))
            }
        }
    )*};
}
not_yet!(TextDetector, TextRecognizer);
