//! Face alignment as InsightFace's `norm_crop` does it: the similarity transform (rotation,
//! uniform scale, translation) that best carries the five landmarks onto ArcFace's reference
//! points in the least-squares sense, then the image warped through it into a 112×112 crop with
//! bilinear sampling and a black border (`cv2.warpAffine`).

use image::RgbImage;

/// ArcFace's reference landmarks in its 112×112 input: eyes, nose tip, mouth corners (left and
/// right as seen in the image).
pub const ARCFACE_LANDMARKS: [[f64; 2]; 5] = [
    [38.2946, 51.6963],
    [73.5318, 51.5014],
    [56.0252, 71.7366],
    [41.5493, 92.3655],
    [70.7299, 92.2041],
];

/// The side of ArcFace's input.
pub const CROP_SIZE: u32 = 112;

/// A 2×3 affine matrix `[[a, b, c], [d, e, f]]`: `x' = a·x + b·y + c`, `y' = d·x + e·y + f`.
pub type Affine = [[f64; 3]; 2];

/// The similarity transform taking `from` onto `to` with the least squared error.
///
/// In two dimensions Umeyama's estimate (scikit-image's `SimilarityTransform.estimate`, which
/// `norm_crop` uses) has a closed form: with both point sets centred, the transform is the complex
/// number `z = Σ conj(p)·q / Σ |p|²` acting on `p`, i.e. scale and rotation
/// `[[re z, −im z], [im z, re z]]`, and the translation carries the centroids onto each other.
pub fn similarity(from: &[[f64; 2]], to: &[[f64; 2]]) -> Affine {
    let count = from.len().min(to.len()).max(1) as f64;
    let centroid = |points: &[[f64; 2]]| {
        let (x, y) = points
            .iter()
            .fold((0.0, 0.0), |(x, y), point| (x + point[0], y + point[1]));
        [x / count, y / count]
    };
    let (from_centre, to_centre) = (centroid(from), centroid(to));
    let (mut real, mut imaginary, mut spread) = (0.0, 0.0, 0.0);
    for (p, q) in from.iter().zip(to) {
        let (px, py) = (p[0] - from_centre[0], p[1] - from_centre[1]);
        let (qx, qy) = (q[0] - to_centre[0], q[1] - to_centre[1]);
        real += px * qx + py * qy;
        imaginary += px * qy - py * qx;
        spread += px * px + py * py;
    }
    let (a, b) = if spread > 0.0 {
        (real / spread, imaginary / spread)
    } else {
        (0.0, 0.0)
    };
    [
        [a, -b, to_centre[0] - (a * from_centre[0] - b * from_centre[1])],
        [b, a, to_centre[1] - (b * from_centre[0] + a * from_centre[1])],
    ]
}

/// The transform `norm_crop` uses for `landmarks` (image coordinates, ArcFace's order).
pub fn arcface_transform(landmarks: &[[f32; 2]; 5]) -> Affine {
    let from = landmarks.map(|[x, y]| [f64::from(x), f64::from(y)]);
    similarity(&from, &ARCFACE_LANDMARKS)
}

fn invert(matrix: &Affine) -> Option<Affine> {
    let [[a, b, c], [d, e, f]] = *matrix;
    let determinant = a * e - b * d;
    if determinant == 0.0 || !determinant.is_finite() {
        return None;
    }
    let (ia, ib, id, ie) = (e / determinant, -b / determinant, -d / determinant, a / determinant);
    Some([[ia, ib, -(ia * c + ib * f)], [id, ie, -(id * c + ie * f)]])
}

/// `image` warped through `matrix` (image → crop) into a `size` × `size` crop: each crop pixel
/// samples the image bilinearly at the inverse-mapped position, pixels outside the image black.
pub fn warp(image: &RgbImage, matrix: &Affine, size: u32) -> RgbImage {
    let mut crop = RgbImage::new(size, size);
    let Some(inverse) = invert(matrix) else {
        return crop;
    };
    let (width, height) = (i64::from(image.width()), i64::from(image.height()));
    let sample = |x: i64, y: i64, channel: usize| -> f64 {
        if x < 0 || y < 0 || x >= width || y >= height {
            0.0
        } else {
            f64::from(image.get_pixel(x as u32, y as u32).0[channel])
        }
    };
    for (x, y, pixel) in crop.enumerate_pixels_mut() {
        let (xf, yf) = (f64::from(x), f64::from(y));
        let source_x = inverse[0][0] * xf + inverse[0][1] * yf + inverse[0][2];
        let source_y = inverse[1][0] * xf + inverse[1][1] * yf + inverse[1][2];
        let (left, top) = (source_x.floor(), source_y.floor());
        let (fx, fy) = (source_x - left, source_y - top);
        let (left, top) = (left as i64, top as i64);
        for channel in 0..3 {
            let value = (1.0 - fy) * ((1.0 - fx) * sample(left, top, channel) + fx * sample(left + 1, top, channel))
                + fy * ((1.0 - fx) * sample(left, top + 1, channel) + fx * sample(left + 1, top + 1, channel));
            pixel.0[channel] = value.round().clamp(0.0, 255.0) as u8;
        }
    }
    crop
}

/// The 112×112 ArcFace crop of the face with `landmarks`.
pub fn norm_crop(image: &RgbImage, landmarks: &[[f32; 2]; 5]) -> RgbImage {
    warp(image, &arcface_transform(landmarks), CROP_SIZE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exact_similarity_is_recovered() {
        // Rotate by 30°, scale by 2, shift by (5, -3).
        let (cos, sin) = (2.0 * 30f64.to_radians().cos(), 2.0 * 30f64.to_radians().sin());
        let from = [[0.0, 0.0], [10.0, 0.0], [0.0, 7.0], [3.0, 4.0]];
        let to: Vec<[f64; 2]> = from
            .iter()
            .map(|[x, y]| [cos * x - sin * y + 5.0, sin * x + cos * y - 3.0])
            .collect();
        let matrix = similarity(&from, &to);
        let expected = [[cos, -sin, 5.0], [sin, cos, -3.0]];
        for (row, expected_row) in matrix.iter().zip(expected) {
            for (value, wanted) in row.iter().zip(expected_row) {
                assert!((value - wanted).abs() < 1e-9, "{matrix:?}");
            }
        }
    }

    #[test]
    fn the_reference_landmarks_map_onto_themselves() {
        let landmarks = ARCFACE_LANDMARKS.map(|[x, y]| [x as f32, y as f32]);
        let matrix = arcface_transform(&landmarks);
        assert!((matrix[0][0] - 1.0).abs() < 1e-6 && matrix[0][1].abs() < 1e-6 && matrix[0][2].abs() < 1e-4);
        let image = RgbImage::from_fn(112, 112, |x, y| image::Rgb([x as u8, y as u8, 7]));
        let crop = norm_crop(&image, &landmarks);
        assert_eq!(crop.get_pixel(10, 20).0, [10, 20, 7]);
    }

    #[test]
    fn outside_the_image_is_black() {
        let image = RgbImage::from_pixel(4, 4, image::Rgb([200, 200, 200]));
        let shift: Affine = [[1.0, 0.0, 10.0], [0.0, 1.0, 10.0]];
        let crop = warp(&image, &shift, 16);
        assert_eq!(crop.get_pixel(0, 0).0, [0, 0, 0]);
        assert_eq!(crop.get_pixel(11, 11).0, [200, 200, 200]);
        // Half a pixel past the edge blends with the black border.
        let half: Affine = [[1.0, 0.0, 0.5], [0.0, 1.0, 0.0]];
        assert_eq!(warp(&image, &half, 8).get_pixel(4, 0).0, [100, 100, 100]);
    }
}
