//! The image operations of Immich's OCR, each as the library Immich calls computes it: Pillow's
//! bicubic perspective transform and 90° turn (crops) and OpenCV's bilinear resize (recognition).
//! Detection's LANCZOS resize is CLIP's Pillow resampling.

use image::RgbImage;

/// Pillow's `transform(size, PERSPECTIVE, coefficients, BICUBIC)`: each output pixel's centre
/// mapped by the homography `coefficients` (a..h) into the input and sampled there with
/// Pillow's cubic (a = -1); black where it falls outside.
pub fn perspective_bicubic(image: &RgbImage, coefficients: [f64; 8], width: u32, height: u32) -> RgbImage {
    let [a, b, c, d, e, f, g, h] = coefficients;
    let (in_width, in_height) = (i64::from(image.width()), i64::from(image.height()));
    let source = image.as_raw();
    let pixel = |x: i64, y: i64, channel: usize| {
        let x = x.clamp(0, in_width - 1) as usize;
        let y = y.clamp(0, in_height - 1) as usize;
        f64::from(source[(y * in_width as usize + x) * 3 + channel])
    };
    let cubic = |v1: f64, v2: f64, v3: f64, v4: f64, t: f64| {
        let p2 = -v1 + v3;
        let p3 = 2.0 * (v1 - v2) + v3 - v4;
        let p4 = -v1 + v2 - v3 + v4;
        v2 + t * (p2 + t * (p3 + t * p4))
    };
    let mut out = RgbImage::new(width, height);
    for (x, y, value) in out.enumerate_pixels_mut() {
        let (xo, yo) = (f64::from(x) + 0.5, f64::from(y) + 0.5);
        let denominator = g * xo + h * yo + 1.0;
        let xi = (a * xo + b * yo + c) / denominator;
        let yi = (d * xo + e * yo + f) / denominator;
        if !(xi >= 0.0 && xi < in_width as f64 && yi >= 0.0 && yi < in_height as f64) {
            continue;
        }
        let (xi, yi) = (xi - 0.5, yi - 0.5);
        let (x0, y0) = (xi.floor(), yi.floor());
        let (dx, dy) = (xi - x0, yi - y0);
        let (x0, y0) = (x0 as i64 - 1, y0 as i64 - 1);
        for channel in 0..3 {
            let row = |row: i64| {
                cubic(
                    pixel(x0, row, channel),
                    pixel(x0 + 1, row, channel),
                    pixel(x0 + 2, row, channel),
                    pixel(x0 + 3, row, channel),
                    dx,
                )
            };
            let v = cubic(row(y0), row(y0 + 1), row(y0 + 2), row(y0 + 3), dy);
            value.0[channel] = if v <= 0.0 {
                0
            } else if v >= 255.0 {
                255
            } else {
                v as u8
            };
        }
    }
    out
}

/// Turned a quarter counter-clockwise (Pillow's `rotate(90, expand=True)`).
pub fn rotate_90_counter_clockwise(image: &RgbImage) -> RgbImage {
    let (width, height) = image.dimensions();
    RgbImage::from_fn(height, width, |x, y| *image.get_pixel(width - 1 - y, x))
}

/// OpenCV's `resize(..., INTER_LINEAR)` of 8-bit pixels with `channels` values each: 11-bit
/// fixed-point weights, rows then columns, rounded as its vectorised code does.
pub fn resize_linear(
    source: &[u8],
    width: usize,
    height: usize,
    channels: usize,
    out_width: usize,
    out_height: usize,
) -> Vec<u8> {
    if width == out_width && height == out_height {
        return source.to_vec();
    }
    const ONE: f32 = 2048.0;
    let taps = |in_size: usize, out_size: usize| -> Vec<(usize, i32, i32)> {
        let scale = 1.0 / (out_size as f64 / in_size as f64);
        (0..out_size)
            .map(|out| {
                let position = ((out as f64 + 0.5) * scale - 0.5) as f32;
                let mut first = position.floor();
                let mut fraction = position - first;
                if first < 0.0 {
                    (first, fraction) = (0.0, 0.0);
                }
                if first >= in_size as f32 - 1.0 {
                    (first, fraction) = (in_size as f32 - 1.0, 0.0);
                }
                let weight = |w: f32| (w * ONE).round_ties_even() as i32;
                (first as usize, weight(1.0 - fraction), weight(fraction))
            })
            .collect()
    };
    let columns = taps(width, out_width);
    let rows = taps(height, out_height);
    // Each needed input row resized horizontally, in 11-bit fixed point.
    let horizontal = |y: usize| -> Vec<i32> {
        let row = &source[y * width * channels..(y + 1) * width * channels];
        let mut out = Vec::with_capacity(out_width * channels);
        for &(x, w0, w1) in &columns {
            for channel in 0..channels {
                let left = i32::from(row[x * channels + channel]);
                let value = if x + 1 < width {
                    left * w0 + i32::from(row[(x + 1) * channels + channel]) * w1
                } else {
                    left * ONE as i32
                };
                out.push(value);
            }
        }
        out
    };
    let mut out = Vec::with_capacity(out_width * out_height * channels);
    for &(y, w0, w1) in &rows {
        let upper = horizontal(y);
        let lower = horizontal((y + 1).min(height - 1));
        for (top, bottom) in upper.iter().zip(&lower) {
            let value = ((w0 * (top >> 4)) >> 16) + ((w1 * (bottom >> 4)) >> 16) + 2;
            out.push((value >> 2).clamp(0, 255) as u8);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_identity_homography_copies() {
        let image = RgbImage::from_fn(7, 5, |x, y| image::Rgb([(x * 30) as u8, (y * 40) as u8, 9]));
        let copied = perspective_bicubic(&image, [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0], 7, 5);
        assert_eq!(copied, image);
    }

    #[test]
    fn a_quarter_turn_moves_the_top_right_corner_to_the_top_left() {
        let image = RgbImage::from_fn(3, 2, |x, y| image::Rgb([x as u8, y as u8, 0]));
        let turned = rotate_90_counter_clockwise(&image);
        assert_eq!(turned.dimensions(), (2, 3));
        assert_eq!(turned.get_pixel(0, 0).0, [2, 0, 0]);
        assert_eq!(turned.get_pixel(1, 2).0, [0, 1, 0]);
    }

    #[test]
    fn bilinear_halving_averages() {
        let source = [0u8, 100, 200, 100];
        assert_eq!(resize_linear(&source, 4, 1, 1, 2, 1), vec![50, 150]);
    }
}
