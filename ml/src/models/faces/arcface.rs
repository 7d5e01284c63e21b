//! ArcFace face embeddings, as Immich runs InsightFace's `ArcFaceONNX`: each detected face aligned
//! to a 112×112 crop by its five landmarks, normalised to `(x − 127.5) / 127.5` in RGB order, and
//! embedded; the embeddings are returned as the model gives them (Immich does not normalise them).

use image::RgbImage;
use ndarray::Array4;
use serde_json::{Map, Value};

use super::align::{CROP_SIZE, norm_crop};
use super::{BoundingBox, DetectedFace, FaceDetections};
use crate::cache::{ModelTask, ModelType};
use crate::error::{MlError, Result};
use crate::models::{Input, LoadContext, Model, Output, missing_dependency};
use crate::runtime::{Session, Tensor};

const INPUT_MEAN: f32 = 127.5;
const INPUT_STD: f32 = 127.5;

/// ArcFace recognition (`<folder>/recognition/model.onnx`).
pub struct FaceRecognizer {
    session: Session,
    name: String,
    input_name: String,
    /// How many faces one run takes: `None` for as many as there are.
    batch_size: Option<usize>,
}

impl FaceRecognizer {
    pub fn load(context: &LoadContext<'_>) -> Result<Self> {
        let session = context.session()?;
        let input = session.first_input(context.name)?;
        let side = i64::from(CROP_SIZE);
        let batch_dimension = match input.shape.as_slice() {
            [batch, 3, height, width] if [*height, *width].iter().all(|&size| size == side || size < 0) => *batch,
            shape => {
                return Err(MlError::load(
                    context.name,
                    format!("the recognition model's input has shape {shape:?}, not [batch, 3, 112, 112]"),
                ));
            }
        };
        if session.outputs().is_empty() {
            return Err(MlError::load(context.name, "the recognition model has no output"));
        }
        // A model made for one face at a time runs the faces one by one (Immich rewrites the
        // file to free the batch axis instead); otherwise in batches of the configured size.
        let batch_size = if batch_dimension > 0 {
            Some(batch_dimension as usize)
        } else {
            context
                .settings
                .max_batch_size_facial_recognition
                .filter(|&size| size > 0)
        };
        tracing::debug!(model = context.name, ?batch_size, "face recognition batch size");
        Ok(Self {
            input_name: input.name.clone(),
            session,
            name: context.name.to_owned(),
            batch_size,
        })
    }

    /// The embeddings of the aligned 112×112 crops, in order.
    pub fn embed(&self, crops: &[RgbImage]) -> Result<Vec<Vec<f32>>> {
        let chunk = self.batch_size.unwrap_or(crops.len()).max(1);
        let mut embeddings = Vec::with_capacity(crops.len());
        for batch in crops.chunks(chunk) {
            let blob = recognizer_input(batch);
            let outputs = self
                .session
                .run(vec![(&self.input_name, Tensor::F32(blob.view().into_dyn()))])?;
            let output = outputs
                .into_iter()
                .next()
                .ok_or_else(|| MlError::output(&self.name, "no output"))?;
            let values: Vec<f32> = output.iter().copied().collect();
            if values.is_empty() || !values.len().is_multiple_of(batch.len()) {
                return Err(MlError::output(
                    &self.name,
                    format!("{} values for {} faces", values.len(), batch.len()),
                ));
            }
            embeddings.extend(values.chunks(values.len() / batch.len()).map(<[f32]>::to_vec));
        }
        Ok(embeddings)
    }

    /// The faces of `detections` with their embeddings.
    pub fn recognize(&self, image: &RgbImage, detections: &FaceDetections) -> Result<Vec<DetectedFace>> {
        if detections.boxes.is_empty() {
            return Ok(Vec::new());
        }
        if detections.landmarks.len() != detections.boxes.len() || detections.scores.len() != detections.boxes.len() {
            return Err(MlError::BadRequest(format!(
                "Face recognition needs five landmarks per face; the detector gave {} boxes, {} scores and {} sets of landmarks",
                detections.boxes.len(),
                detections.scores.len(),
                detections.landmarks.len()
            )));
        }
        let crops: Vec<RgbImage> = detections
            .landmarks
            .iter()
            .map(|landmarks| norm_crop(image, landmarks))
            .collect();
        let embeddings = self.embed(&crops)?;
        Ok(detections
            .boxes
            .iter()
            .zip(embeddings)
            .zip(&detections.scores)
            .map(|((&[x1, y1, x2, y2], embedding), &score)| DetectedFace {
                bounding_box: BoundingBox { x1, y1, x2, y2 },
                embedding,
                score,
            })
            .collect())
    }
}

/// ArcFace's input for aligned crops: `[n, 3, 112, 112]`, RGB, `(x − 127.5) / 127.5`.
///
/// Immich aligns a BGR image and InsightFace swaps it back to RGB (`swapRB`), so the crops of the
/// RGB image go in as they are.
pub fn recognizer_input(crops: &[RgbImage]) -> Array4<f32> {
    let side = CROP_SIZE as usize;
    let mut blob = Array4::<f32>::zeros((crops.len(), 3, side, side));
    for (index, crop) in crops.iter().enumerate() {
        for (x, y, pixel) in crop.enumerate_pixels() {
            for (channel, &value) in pixel.0.iter().enumerate() {
                blob[[index, channel, y as usize, x as usize]] = (f32::from(value) - INPUT_MEAN) / INPUT_STD;
            }
        }
    }
    blob
}

impl Model for FaceRecognizer {
    fn predict(&self, input: Input<'_>, dependency: Option<&Output>, _: &Map<String, Value>) -> Result<Output> {
        let Some(Output::FaceDetections(detections)) = dependency else {
            return Err(missing_dependency(
                ModelTask::FacialRecognition,
                ModelType::Recognition,
                (ModelType::Detection, ModelTask::FacialRecognition),
            ));
        };
        let image = input.image(&self.name)?;
        Ok(Output::Faces(self.recognize(image, detections)?))
    }
}
