//! SCRFD, the face detector of InsightFace's packs (buffalo_l/m/s, antelopev2), run as
//! InsightFace's `RetinaFace` class runs it for Immich: the image letterboxed into the model's
//! input, every anchor of every feature level scored, boxes and landmarks decoded from distances
//! to the anchor centre, then non-maximum suppression at IoU 0.4.

use std::borrow::Cow;

use image::RgbImage;
use ndarray::{Array4, ArrayD};
use serde_json::{Map, Value};

use super::resize::{Filter, Planes, resize};
use super::{FaceDetections, min_score, nms, round_box};
use crate::error::{MlError, Result};
use crate::models::{Input, LoadContext, Model, Output};
use crate::runtime::{Session, Tensor};

/// The input size InsightFace is prepared with when the model leaves it free (Immich's 640×640).
const DEFAULT_INPUT_SIZE: usize = 640;
const NMS_THRESHOLD: f32 = 0.4;
/// The mean and scale InsightFace normalises the detector's input with.
const INPUT_MEAN: f32 = 127.5;
const INPUT_STD: f32 = 128.0;

/// What the model's outputs hold, from how many there are (as InsightFace tells them apart):
/// per feature level a score map, a box map and maybe a landmark map, in that order of groups.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Layout {
    strides: Vec<usize>,
    anchors: usize,
    landmarks: bool,
}

impl Layout {
    fn from_output_count(count: usize) -> Option<Self> {
        let (strides, anchors, landmarks) = match count {
            6 => (vec![8, 16, 32], 2, false),
            9 => (vec![8, 16, 32], 2, true),
            10 => (vec![8, 16, 32, 64, 128], 1, false),
            15 => (vec![8, 16, 32, 64, 128], 1, true),
            _ => return None,
        };
        Some(Self {
            strides,
            anchors,
            landmarks,
        })
    }
}

/// SCRFD face detection (`<folder>/detection/model.onnx`).
pub struct FaceDetector {
    session: Session,
    name: String,
    input_name: String,
    input_width: usize,
    input_height: usize,
    layout: Layout,
}

impl FaceDetector {
    pub fn load(context: &LoadContext<'_>) -> Result<Self> {
        let session = context.session()?;
        let input = session.first_input(context.name)?;
        let (input_width, input_height) = match input.shape.as_slice() {
            [_, _, height, width] if *height > 0 && *width > 0 => (*width as usize, *height as usize),
            [_, _, _, _] => (DEFAULT_INPUT_SIZE, DEFAULT_INPUT_SIZE),
            shape => {
                return Err(MlError::load(
                    context.name,
                    format!("the detection model's input has shape {shape:?}, not [batch, 3, height, width]"),
                ));
            }
        };
        let layout = Layout::from_output_count(session.outputs().len()).ok_or_else(|| {
            MlError::load(
                context.name,
                format!(
                    "the detection model has {} outputs; SCRFD has 6, 9, 10 or 15",
                    session.outputs().len()
                ),
            )
        })?;
        Ok(Self {
            input_name: input.name.clone(),
            session,
            name: context.name.to_owned(),
            input_width,
            input_height,
            layout,
        })
    }

    /// Faces scoring at least `threshold`, in the image's pixel coordinates.
    pub fn detect(&self, image: &RgbImage, threshold: f32) -> Result<FaceDetections> {
        let (blob, scale) = detector_input(image, self.input_width, self.input_height);
        let outputs = self
            .session
            .run(vec![(&self.input_name, Tensor::F32(blob.view().into_dyn()))])?;
        let mut candidates = self.decode(&outputs, threshold)?;
        candidates.scale(1.0 / scale);
        let keep = nms::suppress(
            &candidates.boxes,
            &candidates.scores,
            NMS_THRESHOLD,
            nms::Overlap::Union,
        );
        Ok(FaceDetections {
            boxes: keep.iter().map(|&index| round_box(candidates.boxes[index])).collect(),
            scores: keep.iter().map(|&index| candidates.scores[index]).collect(),
            landmarks: if self.layout.landmarks {
                keep.iter().map(|&index| candidates.landmarks[index]).collect()
            } else {
                Vec::new()
            },
        })
    }

    /// Every anchor scoring at least `threshold`, in the model input's pixel coordinates.
    fn decode(&self, outputs: &[ArrayD<f32>], threshold: f32) -> Result<FaceDetections> {
        let levels = self.layout.strides.len();
        let expected = levels * if self.layout.landmarks { 3 } else { 2 };
        if outputs.len() != expected {
            return Err(MlError::output(
                &self.name,
                format!("{} outputs, expected {expected}", outputs.len()),
            ));
        }
        let mut found = FaceDetections::default();
        for (level, &stride) in self.layout.strides.iter().enumerate() {
            let columns = self.input_width / stride;
            let rows = self.input_height / stride;
            let anchors = columns * rows * self.layout.anchors;
            // Outputs may carry a leading batch axis ([1, anchors, n]) or not ([anchors, n]).
            let read = |index: usize, per_anchor: usize| -> Result<Cow<'_, [f32]>> {
                let values = flat(&outputs[index]);
                if values.len() != anchors * per_anchor {
                    return Err(MlError::output(
                        &self.name,
                        format!(
                            "output {index} has {} values; stride {stride} has {anchors} anchors of {per_anchor}",
                            values.len()
                        ),
                    ));
                }
                Ok(values)
            };
            let scores = read(level, 1)?;
            let distances = read(level + levels, 4)?;
            let landmark_distances = if self.layout.landmarks {
                Some(read(level + 2 * levels, 10)?)
            } else {
                None
            };
            let stride_f = stride as f32;
            for (anchor, &score) in scores.iter().enumerate() {
                if score < threshold {
                    continue;
                }
                let location = anchor / self.layout.anchors;
                let centre_x = (location % columns) as f32 * stride_f;
                let centre_y = (location / columns) as f32 * stride_f;
                let distance = &distances[anchor * 4..anchor * 4 + 4];
                found.boxes.push([
                    centre_x - distance[0] * stride_f,
                    centre_y - distance[1] * stride_f,
                    centre_x + distance[2] * stride_f,
                    centre_y + distance[3] * stride_f,
                ]);
                found.scores.push(score);
                if let Some(landmark_distances) = &landmark_distances {
                    let offsets = &landmark_distances[anchor * 10..anchor * 10 + 10];
                    let mut points = [[0.0; 2]; 5];
                    for (point, offset) in points.iter_mut().zip(offsets.chunks_exact(2)) {
                        *point = [centre_x + offset[0] * stride_f, centre_y + offset[1] * stride_f];
                    }
                    found.landmarks.push(points);
                }
            }
        }
        Ok(found)
    }
}

impl FaceDetections {
    /// Multiplies every coordinate by `factor`.
    fn scale(&mut self, factor: f32) {
        for bounds in &mut self.boxes {
            bounds.iter_mut().for_each(|value| *value *= factor);
        }
        for points in &mut self.landmarks {
            points.iter_mut().flatten().for_each(|value| *value *= factor);
        }
    }
}

/// The values of an output in order, without copying when they are already contiguous.
fn flat(array: &ArrayD<f32>) -> Cow<'_, [f32]> {
    match array.as_slice() {
        Some(values) => Cow::Borrowed(values),
        None => Cow::Owned(array.iter().copied().collect()),
    }
}

/// The detector's input for `image`, as InsightFace prepares it: the image shrunk or grown to fit
/// `width` × `height` keeping its aspect ratio (bilinear), placed at the top left of a black
/// canvas, normalised to `(x − 127.5) / 128`, channels in RGB order, `[1, 3, height, width]`.
/// Also the factor the image was scaled by.
///
/// Immich gives InsightFace a BGR image and InsightFace swaps it back (`swapRB`), so the network
/// sees RGB: the decoded RGB image goes in as it is.
pub fn detector_input(image: &RgbImage, width: usize, height: usize) -> (Array4<f32>, f32) {
    let (image_width, image_height) = (image.width() as usize, image.height() as usize);
    let image_ratio = image_height as f64 / image_width as f64;
    let model_ratio = height as f64 / width as f64;
    // Truncated, as InsightFace's int() does.
    let (new_width, new_height) = if image_ratio > model_ratio {
        ((height as f64 / image_ratio) as usize, height)
    } else {
        (width, (width as f64 * image_ratio) as usize)
    };
    let (new_width, new_height) = (new_width.clamp(1, width), new_height.clamp(1, height));
    let scale = new_height as f32 / image_height as f32;
    let mut resized = resize(&Planes::from_rgb(image), new_width, new_height, Filter::Linear);
    resized.round_to_bytes();
    let mut blob = Array4::<f32>::from_elem((1, 3, height, width), (0.0 - INPUT_MEAN) / INPUT_STD);
    for y in 0..new_height {
        for x in 0..new_width {
            let pixel = &resized.data[(y * new_width + x) * 3..(y * new_width + x) * 3 + 3];
            for (channel, &value) in pixel.iter().enumerate() {
                blob[[0, channel, y, x]] = (value - INPUT_MEAN) / INPUT_STD;
            }
        }
    }
    (blob, scale)
}

impl Model for FaceDetector {
    fn predict(&self, input: Input<'_>, _: Option<&Output>, options: &Map<String, Value>) -> Result<Output> {
        let image = input.image(&self.name)?;
        Ok(Output::FaceDetections(self.detect(image, min_score(options))?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_output_count_gives_the_layout() {
        assert_eq!(
            Layout::from_output_count(9),
            Some(Layout {
                strides: vec![8, 16, 32],
                anchors: 2,
                landmarks: true
            })
        );
        assert_eq!(Layout::from_output_count(6).map(|layout| layout.landmarks), Some(false));
        assert_eq!(Layout::from_output_count(15).map(|layout| layout.anchors), Some(1));
        assert_eq!(Layout::from_output_count(7), None);
    }

    #[test]
    fn a_wide_image_fills_the_width() {
        let image = RgbImage::from_pixel(200, 100, image::Rgb([255, 0, 127]));
        let (blob, scale) = detector_input(&image, 64, 64);
        assert_eq!(scale, 32.0 / 100.0);
        assert_eq!(blob[[0, 0, 0, 0]], 127.5 / 128.0);
        assert_eq!(blob[[0, 1, 31, 63]], -127.5 / 128.0);
        assert_eq!(blob[[0, 2, 31, 63]], -0.5 / 128.0);
        // Below the image, black.
        assert_eq!(blob[[0, 0, 32, 0]], -127.5 / 128.0);
    }
}
