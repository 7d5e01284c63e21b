//! Text recognition as Immich runs it: each detected box cut out of the image by a perspective
//! transform (Pillow, bicubic) and turned upright when tall, then RapidOCR's `TextRecognizer`:
//! lines sorted by aspect ratio, batched, resized to height 48 (OpenCV, bilinear), PP-OCR's CTC
//! model, greedy decoding.

use image::RgbImage;
use ndarray::Array4;
use serde_json::{Map, Value};

use super::ctc::Alphabet;
use super::geometry::PointF;
use super::{TextDetections, TextRecognition, imaging};
use crate::cache::{ModelTask, ModelType};
use crate::error::{MlError, Result};
use crate::models::{Input, LoadContext, Model, Output, missing_dependency, number_option};
use crate::runtime::{Session, Tensor};

/// Immich's default least text score.
pub const DEFAULT_MIN_SCORE: f64 = 0.9;
/// Immich's default batch when `MACHINE_LEARNING_MAX_BATCH_SIZE__OCR` is unset.
const DEFAULT_BATCH: usize = 6;
/// RapidOCR's recognizer input: 3 × 48 × (at least) 320.
const LINE_HEIGHT: usize = 48;
const LINE_MIN_WIDTH: usize = 320;
/// Crops this much taller than wide are turned a quarter.
const TALL_RATIO: f64 = 1.5;

pub struct TextRecognizer {
    session: Session,
    input_name: String,
    alphabet: Alphabet,
    batch_size: usize,
    name: String,
}

impl TextRecognizer {
    /// The model of `<folder>/recognition/model.onnx`, with the alphabet of its metadata.
    pub fn load(context: &LoadContext<'_>) -> Result<Self> {
        let session = context.session()?;
        let alphabet = Alphabet::from_model(&context.model_path(), context.name)?;
        let input_name = session.first_input(context.name)?.name.clone();
        let classes = session
            .outputs()
            .first()
            .and_then(|output| output.shape.last())
            .copied();
        if let Some(classes) = classes.filter(|&classes| classes > 0 && classes as usize != alphabet.len()) {
            return Err(MlError::load(
                context.name,
                format!("the model has {classes} classes but its alphabet {}", alphabet.len()),
            ));
        }
        Ok(Self {
            session,
            input_name,
            alphabet,
            batch_size: context
                .settings
                .max_batch_size_ocr
                .filter(|&size| size > 0)
                .unwrap_or(DEFAULT_BATCH),
            name: context.name.to_owned(),
        })
    }

    /// The texts of the detected boxes whose recognition score is above `minScore`.
    pub fn recognize(
        &self,
        image: &RgbImage,
        detections: &TextDetections,
        options: &Map<String, Value>,
    ) -> Result<TextRecognition> {
        if detections.boxes.is_empty() {
            return Ok(TextRecognition::default());
        }
        let min_score = number_option(options, "minScore").unwrap_or(DEFAULT_MIN_SCORE);
        let crops: Vec<RgbImage> = detections.boxes.iter().map(|corners| crop(image, corners)).collect();
        let lines = self.read_lines(&crops)?;
        let (width, height) = (image.width() as f32, image.height() as f32);
        let mut result = TextRecognition::default();
        for (index, (text, score)) in lines.into_iter().enumerate() {
            if f64::from(score) <= min_score {
                continue;
            }
            for [x, y] in detections.boxes[index] {
                result.boxes.extend([x / width, y / height]);
            }
            result
                .box_score
                .push(detections.scores.get(index).copied().unwrap_or(0.0));
            result.text.push(text);
            result.text_score.push(score);
        }
        Ok(result)
    }

    /// RapidOCR's recognizer over the crops: the text and score of each, in the crops' order.
    fn read_lines(&self, crops: &[RgbImage]) -> Result<Vec<(String, f32)>> {
        let ratio = |crop: &RgbImage| f64::from(crop.width()) / f64::from(crop.height());
        let mut order: Vec<usize> = (0..crops.len()).collect();
        order.sort_by(|&a, &b| ratio(&crops[a]).total_cmp(&ratio(&crops[b])));
        let mut lines = vec![(String::new(), 0.0f32); crops.len()];
        for batch in order.chunks(self.batch_size) {
            let widest = batch
                .iter()
                .map(|&index| ratio(&crops[index]))
                .fold(LINE_MIN_WIDTH as f64 / LINE_HEIGHT as f64, f64::max);
            let input = batch_input(batch.iter().map(|&index| &crops[index]), widest);
            let outputs = self
                .session
                .run(vec![(&self.input_name, Tensor::F32(input.view().into_dyn()))])?;
            let output = outputs
                .first()
                .ok_or_else(|| MlError::output(&self.name, "no output"))?;
            let [rows, _, classes] = output.shape() else {
                return Err(MlError::output(
                    &self.name,
                    format!("expected [N, T, C], got {:?}", output.shape()),
                ));
            };
            if *rows != batch.len() {
                return Err(MlError::output(
                    &self.name,
                    format!("{rows} lines back for {}", batch.len()),
                ));
            }
            let values = output.as_standard_layout();
            let values = values
                .as_slice()
                .ok_or_else(|| MlError::output(&self.name, "the output is not contiguous"))?;
            let per_line = values.len() / rows;
            for (row, &index) in batch.iter().enumerate() {
                lines[index] = self
                    .alphabet
                    .decode(&values[row * per_line..(row + 1) * per_line], *classes)?;
            }
        }
        Ok(lines)
    }
}

impl Model for TextRecognizer {
    fn predict(&self, input: Input<'_>, dependency: Option<&Output>, options: &Map<String, Value>) -> Result<Output> {
        let image = input.image(&self.name)?;
        let Some(Output::TextDetections(detections)) = dependency else {
            return Err(missing_dependency(
                ModelTask::Ocr,
                ModelType::Recognition,
                (ModelType::Detection, ModelTask::Ocr),
            ));
        };
        Ok(Output::Text(self.recognize(image, detections, options)?))
    }
}

/// One batch as the recognizer takes it: each line resized to height 48 keeping its aspect
/// (at most `widest` × 48 wide), BGR, `(x / 255 - 0.5) / 0.5`, zeros to the right.
fn batch_input<'a>(crops: impl ExactSizeIterator<Item = &'a RgbImage>, widest: f64) -> Array4<f32> {
    let width = (LINE_HEIGHT as f64 * widest) as usize;
    let mut input = Array4::<f32>::zeros((crops.len(), 3, LINE_HEIGHT, width));
    for (row, crop) in crops.enumerate() {
        let (crop_width, crop_height) = (crop.width() as usize, crop.height() as usize);
        let wanted = (LINE_HEIGHT as f64 * (crop_width as f64 / crop_height as f64)).ceil() as usize;
        let resized_width = wanted.min(width).max(1);
        let bgr: Vec<u8> = crop.pixels().flat_map(|p| [p.0[2], p.0[1], p.0[0]]).collect();
        let resized = imaging::resize_linear(&bgr, crop_width, crop_height, 3, resized_width, LINE_HEIGHT);
        for y in 0..LINE_HEIGHT {
            for x in 0..resized_width {
                for channel in 0..3 {
                    let value = f32::from(resized[(y * resized_width + x) * 3 + channel]) / 255.0;
                    input[[row, channel, y, x]] = (value - 0.5) / 0.5;
                }
            }
        }
    }
    input
}

/// The box's quadrilateral cut out to a rectangle as wide as its longer top or bottom edge and
/// as tall as its longer side, turned a quarter counter-clockwise when 1.5 times taller than
/// wide (Immich's `get_crop_img_list`).
pub fn crop(image: &RgbImage, corners: &[PointF; 4]) -> RgbImage {
    let distance = |a: PointF, b: PointF| (a[0] - b[0]).hypot(a[1] - b[1]);
    let width = distance(corners[1], corners[0]).max(distance(corners[2], corners[3])) as u32;
    let height = distance(corners[0], corners[3]).max(distance(corners[1], corners[2])) as u32;
    let (width, height) = (width.max(1), height.max(1));
    let (w, h) = (f64::from(width), f64::from(height));
    let target = corners.map(|[x, y]| [f64::from(x), f64::from(y)]);
    let coefficients = homography([[0.0, 0.0], [w, 0.0], [w, h], [0.0, h]], target);
    let cut = imaging::perspective_bicubic(image, coefficients, width, height);
    if f64::from(cut.height()) / f64::from(cut.width()) >= TALL_RATIO {
        imaging::rotate_90_counter_clockwise(&cut)
    } else {
        cut
    }
}

/// The homography (a..h, with i = 1) that maps each `from` point onto its `to` point.
fn homography(from: [[f64; 2]; 4], to: [[f64; 2]; 4]) -> [f64; 8] {
    let mut system = [[0.0f64; 9]; 8];
    for (i, ([x, y], [u, v])) in from.into_iter().zip(to).enumerate() {
        system[2 * i] = [x, y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y, u];
        system[2 * i + 1] = [0.0, 0.0, 0.0, x, y, 1.0, -v * x, -v * y, v];
    }
    // Gaussian elimination with partial pivoting.
    for column in 0..8 {
        let pivot = (column..8)
            .max_by(|&a, &b| system[a][column].abs().total_cmp(&system[b][column].abs()))
            .unwrap_or(column);
        system.swap(column, pivot);
        let lead = system[column][column];
        if lead.abs() < 1e-12 {
            continue;
        }
        for row in 0..8 {
            if row != column {
                let factor = system[row][column] / lead;
                let pivot_row = system[column];
                for (value, pivot_value) in system[row].iter_mut().zip(pivot_row).skip(column) {
                    *value -= factor * pivot_value;
                }
            }
        }
    }
    let mut solution = [0.0; 8];
    for (i, value) in solution.iter_mut().enumerate() {
        *value = if system[i][i].abs() < 1e-12 {
            0.0
        } else {
            system[i][8] / system[i][i]
        };
    }
    solution
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_homography_maps_corners_onto_corners() {
        let to = [[10.0, 5.0], [50.0, 8.0], [48.0, 30.0], [12.0, 28.0]];
        let h = homography([[0.0, 0.0], [40.0, 0.0], [40.0, 20.0], [0.0, 20.0]], to);
        let map = |x: f64, y: f64| {
            let d = h[6] * x + h[7] * y + 1.0;
            [(h[0] * x + h[1] * y + h[2]) / d, (h[3] * x + h[4] * y + h[5]) / d]
        };
        let corner = map(40.0, 20.0);
        assert!((corner[0] - 48.0).abs() < 1e-9 && (corner[1] - 30.0).abs() < 1e-9);
    }

    #[test]
    fn tall_crops_are_turned() {
        let image = RgbImage::from_pixel(100, 100, image::Rgb([200, 10, 10]));
        let cut = crop(&image, &[[10.0, 10.0], [20.0, 10.0], [20.0, 60.0], [10.0, 60.0]]);
        assert_eq!(cut.dimensions(), (50, 10));
        assert_eq!(cut.get_pixel(25, 5).0, [200, 10, 10]);
    }
}
