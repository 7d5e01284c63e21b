//! Resizing an 8-bit RGB image exactly as Pillow 12.2's `Image.resize` does (the Pillow of
//! Immich 3.0.3; no `reducing_gap`), so that CLIP sees the same pixels as under Immich.
//!
//! Pillow convolves each axis on its own: a filter whose support widens with the downscale
//! factor (so shrinking averages, not skips), weights normalised to sum to one and turned into
//! fixed-point integers, the horizontal pass first, its result rounded and clipped to 8 bits,
//! then the vertical pass on that. Nearest neighbour is a separate, plain sampling.

use image::RgbImage;

/// The fixed-point weights have 22 fractional bits: 8 bits of pixel, 2 spare for filters whose
/// partial sums overshoot, within a 32-bit accumulator.
const PRECISION_BITS: u32 = 32 - 8 - 2;

/// Pillow's resampling filters (`Image.Resampling`), by the names its enum gives them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    Nearest,
    Box,
    Bilinear,
    Hamming,
    Bicubic,
    Lanczos,
}

impl Filter {
    pub const ALL: [Filter; 6] = [
        Filter::Nearest,
        Filter::Box,
        Filter::Bilinear,
        Filter::Hamming,
        Filter::Bicubic,
        Filter::Lanczos,
    ];

    /// Pillow's name, lower-case (as model configs write it).
    pub fn name(self) -> &'static str {
        match self {
            Self::Nearest => "nearest",
            Self::Box => "box",
            Self::Bilinear => "bilinear",
            Self::Hamming => "hamming",
            Self::Bicubic => "bicubic",
            Self::Lanczos => "lanczos",
        }
    }

    /// The filter named `name`, in any case (`"bicubic"`, `"BICUBIC"`).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|filter| filter.name().eq_ignore_ascii_case(name))
    }

    /// How far from its centre the filter is non-zero, at scale 1.
    fn support(self) -> f64 {
        match self {
            Self::Nearest => 0.0,
            Self::Box => 0.5,
            Self::Bilinear | Self::Hamming => 1.0,
            Self::Bicubic => 2.0,
            Self::Lanczos => 3.0,
        }
    }

    /// The filter's weight at distance `x`, with Pillow's formulas and constants.
    fn weight(self, x: f64) -> f64 {
        match self {
            Self::Nearest => 0.0,
            Self::Box => {
                if x > -0.5 && x <= 0.5 {
                    1.0
                } else {
                    0.0
                }
            }
            Self::Bilinear => {
                let x = x.abs();
                if x < 1.0 { 1.0 - x } else { 0.0 }
            }
            Self::Hamming => {
                let x = x.abs();
                if x == 0.0 {
                    1.0
                } else if x >= 1.0 {
                    0.0
                } else {
                    let x = x * std::f64::consts::PI;
                    // Pillow writes these two constants as C floats: their f32 values matter.
                    x.sin() / x * (f64::from(0.54f32) + f64::from(0.46f32) * x.cos())
                }
            }
            Self::Bicubic => {
                const A: f64 = -0.5;
                let x = x.abs();
                if x < 1.0 {
                    ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0
                } else if x < 2.0 {
                    (((x - 5.0) * x + 8.0) * x - 4.0) * A
                } else {
                    0.0
                }
            }
            Self::Lanczos => {
                if (-3.0..3.0).contains(&x) {
                    sinc(x) * sinc(x / 3.0)
                } else {
                    0.0
                }
            }
        }
    }
}

fn sinc(x: f64) -> f64 {
    if x == 0.0 {
        1.0
    } else {
        let x = x * std::f64::consts::PI;
        x.sin() / x
    }
}

/// For each output pixel along one axis: the first input pixel it reads and its fixed-point
/// weights for that pixel and the ones after it.
struct Kernels {
    first: Vec<usize>,
    weights: Vec<Vec<i32>>,
}

impl Kernels {
    fn new(input_size: u32, output_size: u32, filter: Filter) -> Self {
        // Pillow computes the source length as a C float, then divides in double.
        let scale = f64::from(input_size as f32) / f64::from(output_size);
        let filter_scale = scale.max(1.0);
        let support = filter.support() * filter_scale;
        let inverse_filter_scale = 1.0 / filter_scale;
        let mut first = Vec::with_capacity(output_size as usize);
        let mut weights = Vec::with_capacity(output_size as usize);
        for output in 0..output_size {
            let centre = (f64::from(output) + 0.5) * scale;
            // Truncation towards zero, as C's (int) cast.
            let start = ((centre - support + 0.5) as i64).max(0);
            let end = ((centre + support + 0.5) as i64).min(i64::from(input_size));
            let raw: Vec<f64> = (start..end)
                .map(|input| filter.weight((input as f64 - centre + 0.5) * inverse_filter_scale))
                .collect();
            let total: f64 = raw.iter().sum();
            let fixed = raw
                .iter()
                .map(|&weight| {
                    let weight = if total != 0.0 { weight / total } else { weight };
                    let scaled = weight * f64::from(1u32 << PRECISION_BITS);
                    // Rounded half away from zero, then truncated, as Pillow does.
                    if weight < 0.0 {
                        (scaled - 0.5) as i32
                    } else {
                        (scaled + 0.5) as i32
                    }
                })
                .collect();
            first.push(start as usize);
            weights.push(fixed);
        }
        Self { first, weights }
    }
}

/// Rounds a fixed-point sum to 8 bits, clipping as Pillow does.
fn clip8(sum: i32) -> u8 {
    (sum >> PRECISION_BITS).clamp(0, 255) as u8
}

/// The rounding half Pillow starts every sum with.
const HALF: i32 = 1 << (PRECISION_BITS - 1);

/// `image` resized to `width` × `height` as Pillow's `Image.resize(size, filter)` would.
pub fn resize(image: &RgbImage, width: u32, height: u32, filter: Filter) -> RgbImage {
    if image.dimensions() == (width, height) || width == 0 || height == 0 {
        return if width == 0 || height == 0 {
            RgbImage::new(width, height)
        } else {
            image.clone()
        };
    }
    if filter == Filter::Nearest {
        return nearest(image, width, height);
    }
    // Pillow 12.2 always runs the horizontal pass first; each pass only when that side changes.
    let horizontal = if width != image.width() {
        resample_horizontal(image, width, filter)
    } else {
        image.clone()
    };
    if height != image.height() {
        resample_vertical(&horizontal, height, filter)
    } else {
        horizontal
    }
}

/// Below this many multiply-adds a pass runs on the calling thread: starting threads would cost
/// more than they save.
const PARALLEL_WORK: usize = 2_000_000;

/// Runs `pass` over `output`'s rows (each `stride` bytes), split into bands across the machine's
/// cores when the pass is large: Immich's server sends 1440-pixel previews, whose horizontal pass
/// is most of CLIP's preprocessing, and ONNX Runtime's threads are idle while it runs. `pass`
/// gets the index of a band's first row and the band.
fn in_bands(output: &mut [u8], stride: usize, work: usize, pass: impl Fn(usize, &mut [u8]) + Sync) {
    let rows = output.len() / stride.max(1);
    let threads = if work < PARALLEL_WORK || rows < 2 {
        1
    } else {
        std::thread::available_parallelism()
            .map_or(1, usize::from)
            .min(rows)
            .min(8)
    };
    if threads <= 1 {
        pass(0, output);
        return;
    }
    let band_rows = rows.div_ceil(threads);
    std::thread::scope(|scope| {
        let mut bands = output.chunks_mut(band_rows * stride).enumerate();
        // The calling thread takes the first band itself.
        let first = bands.next();
        for (index, band) in bands {
            let pass = &pass;
            scope.spawn(move || pass(index * band_rows, band));
        }
        if let Some((_, band)) = first {
            pass(0, band);
        }
    });
}

fn resample_horizontal(image: &RgbImage, width: u32, filter: Filter) -> RgbImage {
    let kernels = Kernels::new(image.width(), width, filter);
    let input_stride = image.width() as usize * 3;
    let mut output = RgbImage::new(width, image.height());
    let output_stride = width as usize * 3;
    let taps: usize = kernels.weights.iter().map(Vec::len).sum();
    let work = taps * image.height() as usize * 3;
    let input = image.as_raw();
    in_bands(&mut output, output_stride, work, |first_row, band| {
        for (row_index, row) in band.chunks_exact_mut(output_stride).enumerate() {
            let row_start = (first_row + row_index) * input_stride;
            let source = &input[row_start..row_start + input_stride];
            for ((pixel, &start), weights) in row.chunks_exact_mut(3).zip(&kernels.first).zip(&kernels.weights) {
                let taps = &source[start * 3..(start + weights.len()) * 3];
                // One accumulator per channel, so the loop keeps them in registers.
                let (mut red, mut green, mut blue) = (HALF, HALF, HALF);
                for (tap, &weight) in taps.chunks_exact(3).zip(weights) {
                    // Wrapping, as the C int sums (which never overflow for these weights).
                    red = red.wrapping_add(i32::from(tap[0]).wrapping_mul(weight));
                    green = green.wrapping_add(i32::from(tap[1]).wrapping_mul(weight));
                    blue = blue.wrapping_add(i32::from(tap[2]).wrapping_mul(weight));
                }
                pixel.copy_from_slice(&[clip8(red), clip8(green), clip8(blue)]);
            }
        }
    });
    output
}

fn resample_vertical(image: &RgbImage, height: u32, filter: Filter) -> RgbImage {
    let kernels = Kernels::new(image.height(), height, filter);
    let input = image.as_raw();
    let stride = image.width() as usize * 3;
    let mut output = RgbImage::new(image.width(), height);
    let taps: usize = kernels.weights.iter().map(Vec::len).sum();
    in_bands(&mut output, stride, taps * stride, |first_row, band| {
        // Row by row: integer sums do not depend on the order they are added in.
        let mut sums = vec![HALF; stride];
        let rows = band.chunks_exact_mut(stride);
        for ((row, &start), weights) in rows.zip(&kernels.first[first_row..]).zip(&kernels.weights[first_row..]) {
            sums.fill(HALF);
            for (offset, &weight) in weights.iter().enumerate() {
                let source = &input[(start + offset) * stride..(start + offset + 1) * stride];
                for (sum, &value) in sums.iter_mut().zip(source) {
                    *sum = sum.wrapping_add(i32::from(value).wrapping_mul(weight));
                }
            }
            for (value, &sum) in row.iter_mut().zip(&sums) {
                *value = clip8(sum);
            }
        }
    });
    output
}

/// Pillow's nearest-neighbour scaling: each output pixel takes the input pixel under its
/// centre, the positions stepped by repeated addition as Pillow steps them.
fn nearest(image: &RgbImage, width: u32, height: u32) -> RgbImage {
    let step_x = f64::from(image.width() as f32) / f64::from(width);
    let step_y = f64::from(image.height() as f32) / f64::from(height);
    let source_index = |position: f64, limit: u32| -> Option<u32> {
        let index = if position < 0.0 { -1 } else { position as i64 };
        u32::try_from(index).ok().filter(|&index| index < limit)
    };
    let mut columns = Vec::with_capacity(width as usize);
    let mut position = step_x * 0.5;
    for _ in 0..width {
        columns.push(source_index(position, image.width()));
        position += step_x;
    }
    let mut output = RgbImage::new(width, height);
    let mut position = step_y * 0.5;
    for y in 0..height {
        if let Some(source_y) = source_index(position, image.height()) {
            for (x, column) in columns.iter().enumerate() {
                if let Some(source_x) = column {
                    output.put_pixel(x as u32, y, *image.get_pixel(*source_x, source_y));
                }
            }
        }
        position += step_y;
    }
    output
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_in_any_case() {
        assert_eq!(Filter::from_name("BICUBIC"), Some(Filter::Bicubic));
        assert_eq!(Filter::from_name("lanczos"), Some(Filter::Lanczos));
        assert_eq!(Filter::from_name("mitchell"), None);
    }

    #[test]
    fn a_flat_image_stays_flat_under_every_filter() {
        let image = RgbImage::from_pixel(37, 23, image::Rgb([10, 128, 250]));
        for filter in Filter::ALL {
            for (width, height) in [(11, 7), (80, 50), (37, 9)] {
                let resized = resize(&image, width, height, filter);
                assert_eq!(resized.dimensions(), (width, height));
                assert!(resized.pixels().all(|pixel| pixel.0 == [10, 128, 250]), "{filter:?}");
            }
        }
    }

    #[test]
    fn weights_sum_to_one_in_fixed_point() {
        for filter in [
            Filter::Bicubic,
            Filter::Bilinear,
            Filter::Lanczos,
            Filter::Hamming,
            Filter::Box,
        ] {
            let kernels = Kernels::new(1000, 224, filter);
            for weights in &kernels.weights {
                let sum: i32 = weights.iter().sum();
                assert!(
                    (sum - (1 << PRECISION_BITS)).abs() <= weights.len() as i32,
                    "{filter:?}"
                );
            }
        }
    }
}
