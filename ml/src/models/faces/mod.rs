//! Faces: detection (SCRFD from InsightFace's packs, or Darkroom's light MTCNN) and recognition
//! (ArcFace embeddings of the faces aligned by their landmarks), as Immich's facial-recognition
//! task runs them.

use serde::Serialize;
use serde_json::{Map, Value};

pub mod align;
mod arcface;
mod mtcnn;
mod nms;
mod resize;
mod scrfd;

pub use arcface::{FaceRecognizer, recognizer_input};
pub use mtcnn::MtcnnDetector;
pub use scrfd::{FaceDetector, detector_input};

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

/// The detection threshold of a request (`minScore`; Immich's default 0.7).
fn min_score(options: &Map<String, Value>) -> f32 {
    super::number_option(options, "minScore").unwrap_or(DEFAULT_MIN_SCORE) as f32
}

const DEFAULT_MIN_SCORE: f64 = 0.7;

/// A box rounded to whole pixels as Immich's NumPy `round()` does (halves to even).
fn round_box(bounds: [f32; 4]) -> [f32; 4] {
    bounds.map(f32::round_ties_even)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boxes_round_halves_to_even_and_min_score_defaults() {
        assert_eq!(round_box([0.5, 1.5, -2.5, 3.4]), [0.0, 2.0, -2.0, 3.0]);
        assert_eq!(min_score(&Map::new()), 0.7);
        let options = serde_json::json!({"minScore": 0.25});
        assert_eq!(min_score(options.as_object().unwrap_or(&Map::new())), 0.25);
    }

    #[test]
    fn a_face_serialises_as_immichs() {
        let face = DetectedFace {
            bounding_box: BoundingBox {
                x1: 1.0,
                y1: 2.0,
                x2: 3.0,
                y2: 4.0,
            },
            embedding: vec![0.5, -1.0],
            score: 0.875,
        };
        assert_eq!(
            serde_json::to_value(&face).unwrap_or_default(),
            serde_json::json!({
                "boundingBox": {"x1": 1.0, "y1": 2.0, "x2": 3.0, "y2": 4.0},
                "embedding": "[0.5,-1.0]",
                "score": 0.875
            })
        );
    }
}
