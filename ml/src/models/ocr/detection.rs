//! Text detection as Immich runs it: the image resized so its shorter side is at most
//! `maxResolution` (sides multiples of 32, Pillow's LANCZOS), PP-OCR's DB model, RapidOCR's DB
//! post-processing, then Immich's reading order.

use ndarray::{Array4, ArrayD};
use serde_json::{Map, Value};

use super::TextDetections;
use super::db_postprocess::{DbPostProcess, ProbabilityMap, ScoreMode};
use super::geometry::PointF;
use crate::error::{MlError, Result};
use crate::models::resample::{self, Filter};
use crate::models::{Input, LoadContext, Model, Output, number_option};
use crate::runtime::{Session, Tensor};

/// Immich's default for the shorter side of the detector's input.
pub const DEFAULT_MAX_RESOLUTION: f64 = 736.0;
/// Immich's default least box score.
pub const DEFAULT_MIN_SCORE: f64 = 0.5;
/// Images smaller than this on a side have no text for Immich.
const MIN_SIDE: u32 = 32;
/// Boxes whose tops differ by less than this are on one line.
const LINE_GAP: f32 = 10.0;

pub struct TextDetector {
    session: Session,
    input_name: String,
    name: String,
}

impl TextDetector {
    /// The model of `<folder>/detection/model.onnx`.
    pub fn load(context: &LoadContext<'_>) -> Result<Self> {
        let session = context.session()?;
        let input_name = session.first_input(context.name)?.name.clone();
        Ok(Self {
            session,
            input_name,
            name: context.name.to_owned(),
        })
    }

    /// The boxes and scores of the text in `image`.
    pub fn detect(&self, image: &image::RgbImage, options: &Map<String, Value>) -> Result<TextDetections> {
        let (width, height) = image.dimensions();
        if width < MIN_SIDE || height < MIN_SIDE {
            return Ok(TextDetections::default());
        }
        let max_resolution = number_option(options, "maxResolution").unwrap_or(DEFAULT_MAX_RESOLUTION);
        let post_process = DbPostProcess {
            box_threshold: number_option(options, "minScore").unwrap_or(DEFAULT_MIN_SCORE),
            score_mode: match options.get("scoreMode").and_then(Value::as_str) {
                Some("slow") => ScoreMode::Slow,
                _ => ScoreMode::Fast,
            },
            ..DbPostProcess::default()
        };
        let input = preprocess(image, max_resolution);
        let outputs = self
            .session
            .run(vec![(&self.input_name, Tensor::F32(input.view().into_dyn()))])?;
        let map = outputs
            .first()
            .ok_or_else(|| MlError::output(&self.name, "no output"))?;
        let (map_height, map_width, values) =
            probability_map(map).map_err(|reason| MlError::output(&self.name, reason))?;
        let (boxes, scores) = post_process.boxes(
            ProbabilityMap {
                values: &values,
                width: map_width,
                height: map_height,
            },
            width,
            height,
        );
        Ok(TextDetections {
            boxes: reading_order(boxes),
            // Immich reorders the boxes but leaves the scores in the order they were found.
            scores,
        })
    }
}

impl Model for TextDetector {
    fn predict(&self, input: Input<'_>, _dependency: Option<&Output>, options: &Map<String, Value>) -> Result<Output> {
        match input {
            Input::Image(image) => Ok(Output::TextDetections(self.detect(image, options)?)),
            Input::Text(_) => Err(MlError::BadRequest("text detection takes an image".to_owned())),
        }
    }
}

/// The first map of a `[1, 1, H, W]` output, as (H, W, values).
fn probability_map(output: &ArrayD<f32>) -> std::result::Result<(usize, usize, Vec<f32>), String> {
    match output.shape() {
        [_, _, height, width] => {
            let values: Vec<f32> = output.iter().take(height * width).copied().collect();
            Ok((*height, *width, values))
        }
        shape => Err(format!("expected a [1, 1, H, W] map, got {shape:?}")),
    }
}

/// Python's `round`: halves go to the even neighbour.
fn round_half_even(value: f64) -> f64 {
    value.round_ties_even()
}

/// The input size Immich's `_transform` picks: the shorter side brought to `max_resolution`
/// (never enlarged), both sides then rounded to a multiple of 32.
pub fn input_size(width: u32, height: u32, max_resolution: f64) -> (u32, u32) {
    let shorter = f64::from(width.min(height));
    let ratio = (max_resolution / shorter).min(1.0);
    let round32 = |side: u32| {
        let scaled = (f64::from(side) * ratio).trunc();
        (round_half_even(scaled / 32.0) * 32.0) as u32
    };
    (round32(width), round32(height))
}

/// The detector's input: resized with LANCZOS, channels BGR, and Immich's normalisation, which
/// subtracts 0.5 from the 0–255 values before dividing by 127.5 (so values span about 0 to 2,
/// not RapidOCR's -1 to 1).
pub fn preprocess(image: &image::RgbImage, max_resolution: f64) -> Array4<f32> {
    let (width, height) = input_size(image.width(), image.height(), max_resolution);
    let resized = resample::resize(image, width.max(1), height.max(1), Filter::Lanczos);
    let scale = 1.0f32 / (0.5f32 * 255.0);
    let (w, h) = (resized.width() as usize, resized.height() as usize);
    let mut input = Array4::<f32>::zeros((1, 3, h, w));
    for (x, y, pixel) in resized.enumerate_pixels() {
        for (channel, &value) in pixel.0.iter().rev().enumerate() {
            input[[0, channel, y as usize, x as usize]] = (f32::from(value) - 0.5) * scale;
        }
    }
    input
}

/// Immich's `sorted_boxes`, including its quirk: boxes sorted by their top-left y; a new line
/// starts where that y grows by 10 or more; the final key is looked up through the y order a
/// second time, as Immich does (`line[order[i]]`), then x breaks ties.
pub fn reading_order(boxes: Vec<[PointF; 4]>) -> Vec<[PointF; 4]> {
    if boxes.is_empty() {
        return boxes;
    }
    let mut by_y: Vec<usize> = (0..boxes.len()).collect();
    by_y.sort_by(|&a, &b| boxes[a][0][1].total_cmp(&boxes[b][0][1]));
    let mut lines = vec![0i64; boxes.len()];
    for i in 1..boxes.len() {
        let gap = (boxes[by_y[i]][0][1] - boxes[by_y[i - 1]][0][1]).abs();
        lines[i] = lines[i - 1] + i64::from(gap >= LINE_GAP);
    }
    let keys: Vec<f64> = by_y
        .iter()
        .map(|&index| lines[index] as f64 * 1e6 + f64::from(boxes[index][0][0]))
        .collect();
    let mut order: Vec<usize> = (0..boxes.len()).collect();
    order.sort_by(|&a, &b| keys[a].total_cmp(&keys[b]));
    order.into_iter().map(|i| boxes[by_y[i]]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_sizes_follow_immichs_rounding() {
        assert_eq!(input_size(1000, 500, 736.0), (992, 512));
        // 400 / 32 = 12.5 rounds to 12.
        assert_eq!(input_size(400, 300, 736.0), (384, 288));
        // 48 / 32 = 1.5 rounds to 2, 80 / 32 = 2.5 rounds to 2.
        assert_eq!(input_size(48, 80, 736.0), (64, 64));
    }

    #[test]
    fn boxes_read_line_by_line() {
        let at = |x: f32, y: f32| [[x, y], [x + 5.0, y], [x + 5.0, y + 5.0], [x, y + 5.0]];
        let tops = |boxes: Vec<[PointF; 4]>| reading_order(boxes).iter().map(|b| b[0]).collect::<Vec<_>>();
        // In y order already: two lines, left to right.
        assert_eq!(
            tops(vec![at(50.0, 0.0), at(5.0, 3.0), at(10.0, 40.0)]),
            [[5.0, 3.0], [50.0, 0.0], [10.0, 40.0]]
        );
        // Otherwise Immich's double lookup mixes the lines up; NumPy gives the same order.
        assert_eq!(
            tops(vec![at(50.0, 3.0), at(10.0, 40.0), at(5.0, 0.0)]),
            [[10.0, 40.0], [50.0, 3.0], [5.0, 0.0]]
        );
    }
}
