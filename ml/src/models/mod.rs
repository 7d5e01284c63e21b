//! The models: what each takes and gives, and how one is loaded from its folder in the cache.

pub mod clip;
pub mod faces;
pub mod ocr;
pub mod resample;

use std::path::Path;

use image::RgbImage;
use serde_json::{Map, Value};

use crate::cache::{ModelTask, ModelType};
use crate::error::{MlError, Result};
use crate::protocol::ModelKind;
use crate::runtime::{Runtime, Session};
use crate::settings::Settings;

/// What a request gives the models: an image (decoded as Immich decodes it: RGB, no rotation) or
/// a text.
#[derive(Debug, Clone, Copy)]
pub enum Input<'a> {
    Image(&'a RgbImage),
    Text(&'a str),
}

impl<'a> Input<'a> {
    /// The image, or a 400 naming the model that needs one.
    pub fn image(self, model: &str) -> Result<&'a RgbImage> {
        match self {
            Self::Image(image) => Ok(image),
            Self::Text(_) => Err(MlError::BadRequest(format!("Model '{model}' takes an image, not text"))),
        }
    }

    /// The text, or a 400 naming the model that needs one.
    pub fn text(self, model: &str) -> Result<&'a str> {
        match self {
            Self::Text(text) => Ok(text),
            Self::Image(_) => Err(MlError::BadRequest(format!("Model '{model}' takes text, not an image"))),
        }
    }
}

/// Immich's answer when a model's dependency did not run: the task and type as the request
/// named them, and the missing model's identity as Python prints it.
pub fn missing_dependency(
    task: ModelTask,
    model_type: ModelType,
    (needed_type, needed_task): (ModelType, ModelTask),
) -> MlError {
    let python_type = match needed_type {
        ModelType::Detection => "DETECTION",
        ModelType::Recognition => "RECOGNITION",
        ModelType::Textual => "TEXTUAL",
        ModelType::Visual => "VISUAL",
    };
    let python_task = match needed_task {
        ModelTask::FacialRecognition => "FACIAL_RECOGNITION",
        ModelTask::Clip => "SEARCH",
        ModelTask::Ocr => "OCR",
    };
    MlError::BadRequest(format!(
        "Task {} of type {} depends on output of (<ModelType.{python_type}: '{}'>, <ModelTask.{python_task}: '{}'>)",
        task.as_str(),
        model_type.as_str(),
        needed_type.as_str(),
        needed_task.as_str()
    ))
}

/// What a model gives back.
#[derive(Debug, Clone)]
pub enum Output {
    /// A CLIP embedding, L2-normalised.
    Embedding(Vec<f32>),
    FaceDetections(faces::FaceDetections),
    Faces(Vec<faces::DetectedFace>),
    TextDetections(ocr::TextDetections),
    Text(ocr::TextRecognition),
}

impl Output {
    /// The value Immich's service puts under the task's key in its answer.
    pub fn to_json(&self) -> Value {
        match self {
            Self::Embedding(embedding) => Value::String(embedding_json(embedding)),
            Self::FaceDetections(detections) => serde_json::to_value(detections).unwrap_or(Value::Null),
            Self::Faces(faces) => serde_json::to_value(faces).unwrap_or(Value::Null),
            Self::TextDetections(detections) => serde_json::to_value(detections).unwrap_or(Value::Null),
            Self::Text(text) => serde_json::to_value(text).unwrap_or(Value::Null),
        }
    }
}

/// An embedding as the JSON array text Immich sends it as (a string, so that clients can store it
/// without parsing it), each number written as the shortest text that reads back to the same f32.
pub fn embedding_json(embedding: &[f32]) -> String {
    let mut text = String::with_capacity(embedding.len() * 12 + 2);
    text.push('[');
    for (index, value) in embedding.iter().enumerate() {
        if index > 0 {
            text.push(',');
        }
        if value.is_finite() {
            text.push_str(&format!("{value:?}"));
        } else {
            text.push_str("null");
        }
    }
    text.push(']');
    text
}

/// Divides by the L2 norm (a zero vector stays zero).
pub fn l2_normalise(values: &mut [f32]) {
    let norm = values.iter().map(|value| value * value).sum::<f32>().sqrt();
    if norm > 0.0 {
        values.iter_mut().for_each(|value| *value /= norm);
    }
}

/// A loaded model.
pub trait Model: Send + Sync {
    /// Runs the model. `dependency` is the output of the model this one depends on (face or
    /// text detection for recognition); `options` are the entry's options for this request
    /// (`minScore`, `maxResolution`, `language`, …).
    fn predict(&self, input: Input<'_>, dependency: Option<&Output>, options: &Map<String, Value>) -> Result<Output>;
}

/// What loading a model needs.
#[derive(Debug, Clone, Copy)]
pub struct LoadContext<'a> {
    pub runtime: &'a Runtime,
    pub settings: &'a Settings,
    /// The model's folder in the cache: `<cache>/<task>/<clean name>` (with `config.json` for
    /// CLIP, and a folder per type holding `model.onnx`).
    pub folder: &'a Path,
    /// The name the request gave, for logs and errors.
    pub name: &'a str,
    pub model_type: ModelType,
}

impl LoadContext<'_> {
    /// `<folder>/<type>/model.onnx`, where Immich keeps a model's ONNX file.
    pub fn model_path(&self) -> std::path::PathBuf {
        self.folder.join(self.model_type.as_str()).join("model.onnx")
    }

    /// A session on the model's ONNX file.
    pub fn session(&self) -> Result<Session> {
        self.runtime.load(&self.model_path(), self.name)
    }
}

/// Loads a model of `kind` from its folder.
pub fn load(kind: ModelKind, context: &LoadContext<'_>) -> Result<Box<dyn Model>> {
    Ok(match kind {
        ModelKind::ClipVisual => Box::new(clip::VisualEncoder::load(context)?),
        ModelKind::ClipTextual { multilingual } => Box::new(clip::TextualEncoder::load(context, multilingual)?),
        ModelKind::FaceDetector => Box::new(faces::FaceDetector::load(context)?),
        ModelKind::MtcnnDetector => Box::new(faces::MtcnnDetector::load(context)?),
        ModelKind::FaceRecognizer => Box::new(faces::FaceRecognizer::load(context)?),
        ModelKind::TextDetector => Box::new(ocr::TextDetector::load(context)?),
        ModelKind::TextRecognizer => Box::new(ocr::TextRecognizer::load(context)?),
    })
}

/// A number option of a request (`minScore`, `maxResolution`), if given.
pub fn number_option(options: &Map<String, Value>, name: &str) -> Option<f64> {
    options.get(name).and_then(Value::as_f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embeddings_are_written_as_the_shortest_f32_text() {
        assert_eq!(
            embedding_json(&[0.1, -2.0, 1e-8, 0.33333334]),
            "[0.1,-2.0,1e-8,0.33333334]"
        );
        assert_eq!(embedding_json(&[]), "[]");
    }

    #[test]
    fn normalising_gives_unit_length() {
        let mut values = [3.0, 4.0];
        l2_normalise(&mut values);
        assert_eq!(values, [0.6, 0.8]);
        let mut zeros = [0.0, 0.0];
        l2_normalise(&mut zeros);
        assert_eq!(zeros, [0.0, 0.0]);
    }
}
