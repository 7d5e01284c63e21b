//! Resampling as OpenCV's `cv2.resize` does it for the two modes the face models use: bilinear
//! (`INTER_LINEAR`, SCRFD's letterbox) and pixel-area (`INTER_AREA`, MTCNN's pyramid and crops).
//! Computed in floating point rather than OpenCV's fixed point, so values may differ by one level.

/// One output sample of a resampled axis: the source indices it reads and their weights.
type Taps = Vec<(usize, f32)>;

/// An image of `channels` interleaved `f32` samples per pixel, row by row.
#[derive(Debug, Clone)]
pub struct Planes {
    pub width: usize,
    pub height: usize,
    pub channels: usize,
    pub data: Vec<f32>,
}

impl Planes {
    /// The pixels of an RGB image as floats.
    pub fn from_rgb(image: &image::RgbImage) -> Self {
        Self {
            width: image.width() as usize,
            height: image.height() as usize,
            channels: 3,
            data: image.as_raw().iter().map(|&value| f32::from(value)).collect(),
        }
    }

    /// Rounds every sample to the nearest 8-bit value, as OpenCV does when it writes a `uint8`
    /// image.
    pub fn round_to_bytes(&mut self) {
        self.data
            .iter_mut()
            .for_each(|value| *value = value.round().clamp(0.0, 255.0));
    }
}

/// Bilinear weights with pixel centres aligned (`INTER_LINEAR`): two taps, edges clamped.
fn linear_taps(source: usize, target: usize) -> Vec<Taps> {
    let scale = source as f64 / target as f64;
    (0..target)
        .map(|index| {
            let position = (index as f64 + 0.5) * scale - 0.5;
            let mut left = position.floor();
            let mut fraction = (position - left) as f32;
            if left < 0.0 {
                left = 0.0;
                fraction = 0.0;
            }
            let left = left as usize;
            if left + 1 >= source {
                return vec![(source - 1, 1.0)];
            }
            vec![(left, 1.0 - fraction), (left + 1, fraction)]
        })
        .collect()
}

/// Pixel-area weights for shrinking: each output sample is the mean of the source cells it
/// covers, partial cells weighted by how much of them it covers.
fn area_taps(source: usize, target: usize) -> Vec<Taps> {
    let scale = source as f64 / target as f64;
    (0..target)
        .map(|index| {
            let start = index as f64 * scale;
            let end = (start + scale).min(source as f64);
            let width = end - start;
            let mut taps = Vec::new();
            let mut cell = start.floor() as usize;
            while (cell as f64) < end && cell < source {
                let covered = (end.min(cell as f64 + 1.0) - start.max(cell as f64)) / width;
                // OpenCV ignores slivers of a thousandth of a pixel.
                if covered * width > 1e-3 {
                    taps.push((cell, covered as f32));
                }
                cell += 1;
            }
            taps
        })
        .collect()
}

/// `INTER_AREA` when the image grows along some axis: OpenCV then interpolates linearly with
/// weights that snap to whole source pixels except across their boundaries.
fn area_growing_taps(source: usize, target: usize) -> Vec<Taps> {
    let scale = source as f64 / target as f64;
    let inverse = target as f64 / source as f64;
    (0..target)
        .map(|index| {
            let left = (index as f64 * scale).floor();
            let mut fraction = ((index as f64 + 1.0) - (left + 1.0) * inverse) as f32;
            fraction = if fraction <= 0.0 {
                0.0
            } else {
                fraction - fraction.floor()
            };
            let left = left as usize;
            if left + 1 >= source {
                return vec![(source - 1, 1.0)];
            }
            vec![(left, 1.0 - fraction), (left + 1, fraction)]
        })
        .collect()
}

/// How to resample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    Linear,
    Area,
}

/// Resamples `source` to `width` × `height` (both at least 1).
pub fn resize(source: &Planes, width: usize, height: usize, filter: Filter) -> Planes {
    let (horizontal, vertical) = match filter {
        Filter::Linear => (linear_taps(source.width, width), linear_taps(source.height, height)),
        // OpenCV averages areas only when neither axis grows.
        Filter::Area if width <= source.width && height <= source.height => {
            (area_taps(source.width, width), area_taps(source.height, height))
        }
        Filter::Area => (
            area_growing_taps(source.width, width),
            area_growing_taps(source.height, height),
        ),
    };
    let channels = source.channels;
    // Rows first: source height × target width.
    let mut rows = vec![0.0f32; source.height * width * channels];
    for y in 0..source.height {
        let source_row = &source.data[y * source.width * channels..(y + 1) * source.width * channels];
        let row = &mut rows[y * width * channels..(y + 1) * width * channels];
        for (x, taps) in horizontal.iter().enumerate() {
            for &(from, weight) in taps {
                for channel in 0..channels {
                    row[x * channels + channel] += weight * source_row[from * channels + channel];
                }
            }
        }
    }
    let mut data = vec![0.0f32; height * width * channels];
    let stride = width * channels;
    for (y, taps) in vertical.iter().enumerate() {
        let target_row = &mut data[y * stride..(y + 1) * stride];
        for &(from, weight) in taps {
            let row = &rows[from * stride..(from + 1) * stride];
            for (target, value) in target_row.iter_mut().zip(row) {
                *target += weight * value;
            }
        }
    }
    Planes {
        width,
        height,
        channels,
        data,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp(width: usize, height: usize) -> Planes {
        Planes {
            width,
            height,
            channels: 1,
            data: (0..width * height).map(|index| (index % width) as f32).collect(),
        }
    }

    #[test]
    fn halving_by_area_averages_pairs() {
        let half = resize(&ramp(4, 2), 2, 1, Filter::Area);
        assert_eq!(half.data, vec![0.5, 2.5]);
    }

    #[test]
    fn area_weights_cover_fractional_cells() {
        let taps = area_taps(3, 2);
        assert_eq!(taps[0], vec![(0, 1.0 / 1.5), (1, 0.5 / 1.5)]);
        assert_eq!(taps[1], vec![(1, 0.5 / 1.5), (2, 1.0 / 1.5)]);
    }

    #[test]
    fn linear_keeps_a_ramp_and_clamps_edges() {
        let double = resize(&ramp(2, 1), 4, 1, Filter::Linear);
        assert_eq!(double.data, vec![0.0, 0.25, 0.75, 1.0]);
        let same = resize(&ramp(5, 3), 5, 3, Filter::Linear);
        assert_eq!(same.data, ramp(5, 3).data);
    }

    #[test]
    fn growing_by_area_repeats_pixels_and_blends_boundaries() {
        // Three times larger: OpenCV repeats each pixel, blending nothing (boundaries fall on
        // whole output pixels).
        let grown = resize(&ramp(2, 1), 6, 1, Filter::Area);
        assert_eq!(grown.data, vec![0.0, 0.0, 0.0, 1.0, 1.0, 1.0]);
    }
}
