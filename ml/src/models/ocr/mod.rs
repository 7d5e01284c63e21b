//! OCR as Immich runs it with RapidOCR: PP-OCR's text detector (DB) finds the lines of text,
//! then its recognizer (CTC) reads each. Both take the image; the recognizer also takes the
//! detector's boxes.

pub mod ctc;
pub mod db_postprocess;
mod detection;
pub mod download;
pub mod geometry;
pub mod imaging;
mod recognition;

use serde::Serialize;

pub use detection::{TextDetector, input_size, preprocess, reading_order};
pub use recognition::{TextRecognizer, crop};

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
