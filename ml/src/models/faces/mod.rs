//! Faces (placeholder: the faces work replaces this file; the output types are fixed).

use serde::Serialize;
use serde_json::{Map, Value};

use super::{Input, LoadContext, Model, Output};
use crate::error::{MlError, Result};

/// Faces found in an image, in its pixel coordinates: `[x1, y1, x2, y2]` boxes, their scores, and
/// five landmarks each (eyes, nose, mouth corners, in ArcFace's order).
#[derive(Debug, Clone, Default, Serialize)]
pub struct FaceDetections {
    pub boxes: Vec<[f32; 4]>,
    pub scores: Vec<f32>,
    pub landmarks: Vec<[[f32; 2]; 5]>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BoundingBox {
    pub x1: f32,
    pub y1: f32,
    pub x2: f32,
    pub y2: f32,
}

/// One face of the answer: its box, its ArcFace embedding and the detector's score.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DetectedFace {
    pub bounding_box: BoundingBox,
    #[serde(serialize_with = "embedding_text")]
    pub embedding: Vec<f32>,
    pub score: f32,
}

fn embedding_text<S: serde::Serializer>(embedding: &[f32], serializer: S) -> std::result::Result<S::Ok, S::Error> {
    serializer.serialize_str(&super::embedding_json(embedding))
}

pub struct FaceDetector;
pub struct MtcnnDetector;
pub struct FaceRecognizer;

macro_rules! not_yet {
    ($($model:ident),*) => {$(
        impl $model {
            pub fn load(context: &LoadContext<'_>) -> Result<Self> {
                Err(MlError::load(context.name, "faces are not built yet"))
            }
        }
        impl Model for $model {
            fn predict(&self, _: Input<'_>, _: Option<&Output>, _: &Map<String, Value>) -> Result<Output> {
                Err(MlError::BadRequest("faces are not built yet".to_owned()))
            }
        }
    )*};
}
not_yet!(FaceDetector, MtcnnDetector, FaceRecognizer);
