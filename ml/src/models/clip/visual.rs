//! CLIP's image encoder, as Immich's `OpenClipVisualEncoder`: the photo resized so its shorter
//! side is the model's input size, centre-cropped to a square, scaled to [0, 1], normalised
//! with the model's mean and deviation, and run; the embedding is the first row of the first
//! output, L2-normalised.

use std::path::Path;

use image::RgbImage;
use ndarray::Array4;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::{MlError, Result};
use crate::models::resample::{self, Filter};
use crate::models::{Input, LoadContext, Model, Output};
use crate::runtime::{Session, Tensor};

/// The filter Immich resizes with. Immich reads `interpolation` from the model's configuration
/// (and refuses a name Pillow does not know) but resizes with bicubic whatever it says.
pub const IMMICH_RESIZE_FILTER: Filter = Filter::Bicubic;

/// A model's `visual/preprocess_cfg.json`, as far as Immich reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct PreprocessConfig {
    /// The side of the square the model takes.
    pub size: u32,
    /// The filter the configuration names (see [`IMMICH_RESIZE_FILTER`]).
    pub interpolation: Filter,
    pub mean: [f32; 3],
    pub std: [f32; 3],
}

#[derive(Deserialize)]
#[serde(untagged)]
enum SizeField {
    Single(u32),
    PerSide(Vec<u32>),
}

#[derive(Deserialize)]
struct RawPreprocessConfig {
    size: SizeField,
    interpolation: String,
    mean: Vec<f32>,
    std: Vec<f32>,
}

impl PreprocessConfig {
    /// Reads `preprocess_cfg.json` at `path`; `model` names the model in errors.
    pub fn read(path: &Path, model: &str) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|error| MlError::load(model, format!("cannot read {}: {error}", path.display())))?;
        Self::parse(&text).map_err(|reason| MlError::load(model, format!("{}: {reason}", path.display())))
    }

    /// Parses the configuration's JSON text.
    pub fn parse(text: &str) -> std::result::Result<Self, String> {
        let raw: RawPreprocessConfig = serde_json::from_str(text).map_err(|error| error.to_string())?;
        // A size per side is [height, width]; Immich takes the first.
        let size = match raw.size {
            SizeField::Single(size) => Some(size),
            SizeField::PerSide(sizes) => sizes.first().copied(),
        }
        .filter(|&size| size > 0)
        .ok_or("`size` must be a positive number or a list starting with one")?;
        let interpolation = Filter::from_name(&raw.interpolation)
            .ok_or_else(|| format!("unknown interpolation '{}'", raw.interpolation))?;
        let channels = |values: Vec<f32>, name: &str| -> std::result::Result<[f32; 3], String> {
            match *values.as_slice() {
                [value] => Ok([value; 3]),
                [red, green, blue] => Ok([red, green, blue]),
                _ => Err(format!("`{name}` must have 1 or 3 values, not {}", values.len())),
            }
        };
        Ok(Self {
            size,
            interpolation,
            mean: channels(raw.mean, "mean")?,
            std: channels(raw.std, "std")?,
        })
    }
}

/// Immich's visual transform: the input tensor, NCHW `[1, 3, size, size]`.
pub fn preprocess(image: &RgbImage, config: &PreprocessConfig) -> Array4<f32> {
    let size = config.size;
    let cropped = centre_crop(&resize_shorter_side(image, size), size);
    let side = size as usize;
    let plane = side * side;
    let mut tensor = Array4::<f32>::zeros((1, 3, side, side));
    // A fresh array is contiguous: its slice is always there.
    if let Some(values) = tensor.as_slice_mut() {
        for (index, pixel) in cropped.as_raw().chunks_exact(3).enumerate() {
            for (channel, &value) in pixel.iter().enumerate() {
                // Each step in f32, as NumPy computes it on a float32 array.
                let scaled = f32::from(value) / 255.0;
                values[channel * plane + index] = (scaled - config.mean[channel]) / config.std[channel];
            }
        }
    }
    tensor
}

/// The image resized (bicubic, as Immich) so its shorter side is `size`, the longer side scaled
/// by the same ratio and truncated.
pub fn resize_shorter_side(image: &RgbImage, size: u32) -> RgbImage {
    let (width, height) = image.dimensions();
    let longer = |long: u32, short: u32| (f64::from(long) / f64::from(short) * f64::from(size)) as u32;
    let (new_width, new_height) = if width < height {
        (size, longer(height, width))
    } else {
        (longer(width, height), size)
    };
    resample::resize(image, new_width, new_height, IMMICH_RESIZE_FILTER)
}

/// The `size` × `size` square about the image's centre (offsets truncated towards zero, as
/// Immich computes them); whatever falls outside the image is black.
pub fn centre_crop(image: &RgbImage, size: u32) -> RgbImage {
    let offset = |length: u32| (f64::from(length) / 2.0 - f64::from(size) / 2.0) as i64;
    let (left, top) = (offset(image.width()), offset(image.height()));
    let mut cropped = RgbImage::new(size, size);
    // The columns of the square that fall inside the image.
    let first_column = (-left).clamp(0, i64::from(size));
    let end_column = (i64::from(image.width()) - left).clamp(first_column, i64::from(size));
    if first_column == end_column {
        return cropped;
    }
    let source_stride = image.width() as usize * 3;
    let output_stride = size as usize * 3;
    let output_range = first_column as usize * 3..end_column as usize * 3;
    let source_start = (left + first_column) as usize * 3;
    let source_range = source_start..source_start + output_range.len();
    for (y, row) in cropped.chunks_exact_mut(output_stride).enumerate() {
        let source_y = top + y as i64;
        if source_y < 0 || source_y >= i64::from(image.height()) {
            continue;
        }
        let source_row = &image.as_raw()[source_y as usize * source_stride..(source_y as usize + 1) * source_stride];
        row[output_range.clone()].copy_from_slice(&source_row[source_range.clone()]);
    }
    cropped
}

/// CLIP's image encoder.
#[derive(Debug)]
pub struct VisualEncoder {
    name: String,
    session: Session,
    input_name: String,
    config: PreprocessConfig,
}

impl VisualEncoder {
    /// Loads `<folder>/visual/model.onnx` and its `preprocess_cfg.json`.
    pub fn load(context: &LoadContext<'_>) -> Result<Self> {
        let folder = context.folder.join("visual");
        let config = PreprocessConfig::read(&folder.join("preprocess_cfg.json"), context.name)?;
        let session = context.session()?;
        let input_name = session.first_input(context.name)?.name.clone();
        tracing::debug!(model = context.name, ?config, "loaded CLIP visual preprocessing");
        Ok(Self {
            name: context.name.to_owned(),
            session,
            input_name,
            config,
        })
    }

    pub fn config(&self) -> &PreprocessConfig {
        &self.config
    }
}

impl Model for VisualEncoder {
    fn predict(&self, input: Input<'_>, _: Option<&Output>, _: &Map<String, Value>) -> Result<Output> {
        let image = input.image(&self.name)?;
        let tensor = preprocess(image, &self.config).into_dyn();
        let outputs = self
            .session
            .run(vec![(self.input_name.as_str(), Tensor::F32(tensor.view()))])?;
        super::first_row_normalised(outputs, &self.name).map(Output::Embedding)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configs_read_as_immich_reads_them() {
        let config = PreprocessConfig::parse(
            r#"{"size": [256, 256], "mode": "RGB", "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5],
                "interpolation": "bicubic", "resize_mode": "squash", "fill_color": 0}"#,
        )
        .unwrap();
        assert_eq!(config.size, 256);
        assert_eq!(config.interpolation, Filter::Bicubic);
        let config =
            PreprocessConfig::parse(r#"{"size": 224, "interpolation": "BILINEAR", "mean": [0.1], "std": [0.2]}"#)
                .unwrap();
        assert_eq!((config.size, config.mean, config.std), (224, [0.1; 3], [0.2; 3]));
        assert!(PreprocessConfig::parse(r#"{"size": 224, "interpolation": "x", "mean": [0], "std": [1]}"#).is_err());
        assert!(PreprocessConfig::parse(r#"{"size": [], "interpolation": "box", "mean": [0], "std": [1]}"#).is_err());
    }

    #[test]
    fn resizing_keeps_the_ratio_and_truncates() {
        let landscape = RgbImage::new(300, 200);
        assert_eq!(resize_shorter_side(&landscape, 224).dimensions(), (336, 224));
        let portrait = RgbImage::new(100, 333);
        assert_eq!(resize_shorter_side(&portrait, 224).dimensions(), (224, 745));
    }

    #[test]
    fn cropping_centres_and_fills_outside_with_black() {
        let image = RgbImage::from_fn(5, 3, |x, y| image::Rgb([x as u8, y as u8, 9]));
        let cropped = centre_crop(&image, 3);
        assert_eq!(cropped.get_pixel(0, 0).0, [1, 0, 9]);
        let larger = centre_crop(&image, 6);
        // Offsets: int(2.5 - 3) = 0 and int(1.5 - 3) = -1.
        assert_eq!(larger.get_pixel(0, 0).0, [0, 0, 0]);
        assert_eq!(larger.get_pixel(0, 1).0, [0, 0, 9]);
        assert_eq!(larger.get_pixel(5, 1).0, [0, 0, 0]);
    }

    #[test]
    fn cropping_agrees_with_pixel_by_pixel_copying() {
        for (width, height) in [(5, 3), (7, 7), (1, 9), (12, 2)] {
            let image = RgbImage::from_fn(width, height, |x, y| image::Rgb([x as u8, y as u8, 200]));
            for size in 1..15 {
                let left = (f64::from(width) / 2.0 - f64::from(size) / 2.0) as i64;
                let top = (f64::from(height) / 2.0 - f64::from(size) / 2.0) as i64;
                let expected = RgbImage::from_fn(size, size, |x, y| {
                    let (source_x, source_y) = (left + i64::from(x), top + i64::from(y));
                    if (0..i64::from(width)).contains(&source_x) && (0..i64::from(height)).contains(&source_y) {
                        *image.get_pixel(source_x as u32, source_y as u32)
                    } else {
                        image::Rgb([0, 0, 0])
                    }
                });
                assert_eq!(centre_crop(&image, size), expected, "{width}x{height} → {size}");
            }
        }
    }
}
