//! CLIP, as Immich 3.0.3 runs it: an image encoder and a text encoder whose embeddings share one
//! space, so that a text search finds photos. Models are Immich's exports: `<folder>/config.json`,
//! `visual/` (`model.onnx`, `preprocess_cfg.json`) and `textual/` (`model.onnx`,
//! `tokenizer.json`, `tokenizer_config.json`).

pub mod languages;
pub mod textual;
pub mod visual;

use ndarray::{ArrayD, Axis};

use crate::error::{MlError, Result};
use crate::models::l2_normalise;

pub use textual::TextualEncoder;
pub use visual::VisualEncoder;

/// The embedding in a model's outputs: the first row of the first output (the batch is one),
/// L2-normalised.
fn first_row_normalised(outputs: Vec<ArrayD<f32>>, model: &str) -> Result<Vec<f32>> {
    let first = outputs
        .into_iter()
        .next()
        .ok_or_else(|| MlError::output(model, "the model gave no output"))?;
    if first.ndim() < 2 || first.shape()[0] == 0 {
        return Err(MlError::output(
            model,
            format!(
                "expected an output of shape [batch, dimensions], got {:?}",
                first.shape()
            ),
        ));
    }
    let mut embedding: Vec<f32> = first.index_axis(Axis(0), 0).iter().copied().collect();
    l2_normalise(&mut embedding);
    Ok(embedding)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_row_is_taken_and_normalised() {
        let outputs = vec![ArrayD::from_shape_vec(vec![2, 2], vec![3.0, 4.0, 1.0, 1.0]).unwrap()];
        assert_eq!(first_row_normalised(outputs, "m").unwrap(), vec![0.6, 0.8]);
        let flat = vec![ArrayD::from_shape_vec(vec![2], vec![3.0, 4.0]).unwrap()];
        assert!(matches!(first_row_normalised(flat, "m"), Err(MlError::Output { .. })));
        assert!(first_row_normalised(vec![], "m").is_err());
    }
}
