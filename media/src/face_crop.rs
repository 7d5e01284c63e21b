//! A person's thumbnail: their face cut from a preview as a square a little larger than the
//! face, kept inside the picture, scaled to the thumbnail size.

use image::RgbImage;
use image::imageops::FilterType;

use crate::thumbnails::ThumbnailError;

/// A face's box on a picture of `image_width` × `image_height` (the picture the detector saw;
/// the preview may since have been made at another size).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaceBox {
    pub image_width: u32,
    pub image_height: u32,
    pub x1: f64,
    pub y1: f64,
    pub x2: f64,
    pub y2: f64,
}

/// The square to cut from a picture of `width` × `height`: centred on the face, 10 % wider than
/// its longer side, shrunk where it would leave the picture. `(left, top, side)`.
pub fn crop_square(face: FaceBox, width: u32, height: u32) -> (u32, u32, u32) {
    let scale_x = f64::from(width) / f64::from(face.image_width.max(1));
    let scale_y = f64::from(height) / f64::from(face.image_height.max(1));
    let (x1, x2) = (face.x1 * scale_x, face.x2 * scale_x);
    let (y1, y2) = (face.y1 * scale_y, face.y2 * scale_y);
    let (middle_x, middle_y) = ((x1 + x2) / 2.0, (y1 + y2) / 2.0);
    let wanted = ((x2 - x1).max(y2 - y1) / 2.0 * 1.1).floor();
    let right_edge = f64::from(width.saturating_sub(1));
    let bottom_edge = f64::from(height.saturating_sub(1));
    let half = wanted
        .min(middle_x)
        .min(middle_y)
        .min(right_edge - middle_x)
        .min(bottom_edge - middle_y)
        .max(0.5);
    let left = (middle_x - half).round().max(0.0) as u32;
    let top = (middle_y - half).round().max(0.0) as u32;
    let side = ((half * 2.0).round() as u32)
        .max(1)
        .min(width.saturating_sub(left))
        .min(height.saturating_sub(top))
        .max(1);
    (left, top, side)
}

/// The face cut from `picture`, `size` pixels square, as a JPEG of `quality`.
pub fn person_thumbnail(picture: &RgbImage, face: FaceBox, size: u32, quality: u8) -> Result<Vec<u8>, ThumbnailError> {
    let (left, top, side) = crop_square(face, picture.width(), picture.height());
    let cropped = image::imageops::crop_imm(picture, left, top, side, side).to_image();
    let scaled = image::imageops::resize(&cropped, size, size, FilterType::Lanczos3);
    let source = turbojpeg::Image {
        pixels: scaled.as_raw().as_slice(),
        width: scaled.width() as usize,
        pitch: scaled.width() as usize * 3,
        height: scaled.height() as usize,
        format: turbojpeg::PixelFormat::RGB,
    };
    Ok(
        turbojpeg::compress(source, i32::from(quality), turbojpeg::Subsamp::Sub2x2)
            .map_err(|_| ThumbnailError::Encode("person thumbnail"))?
            .to_vec(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face(x1: f64, y1: f64, x2: f64, y2: f64) -> FaceBox {
        FaceBox {
            image_width: 1000,
            image_height: 800,
            x1,
            y1,
            x2,
            y2,
        }
    }

    #[test]
    fn the_square_is_centred_and_a_little_larger() {
        // 100 × 120 face at the middle: half of 120, × 1.1 = 66.
        assert_eq!(
            crop_square(face(450.0, 340.0, 550.0, 460.0), 1000, 800),
            (434, 334, 132)
        );
    }

    #[test]
    fn the_square_stays_inside_the_picture() {
        // Centred on the face still: the square shrinks to what fits above the face's middle.
        assert_eq!(crop_square(face(0.0, 0.0, 80.0, 60.0), 1000, 800), (10, 0, 60));
        let (left, top, side) = crop_square(face(950.0, 760.0, 999.0, 799.0), 1000, 800);
        assert!(left + side <= 1000 && top + side <= 800);
    }

    #[test]
    fn boxes_follow_a_preview_of_another_size() {
        // The detector saw 1000 × 800; the preview is half that.
        assert_eq!(crop_square(face(450.0, 340.0, 550.0, 460.0), 500, 400), (217, 167, 66));
    }

    #[test]
    fn thumbnails_are_square_jpegs() {
        let picture = RgbImage::from_pixel(300, 200, image::Rgb([200, 150, 100]));
        let face = FaceBox {
            image_width: 300,
            image_height: 200,
            x1: 100.0,
            y1: 50.0,
            x2: 180.0,
            y2: 150.0,
        };
        let jpeg = person_thumbnail(&picture, face, 250, 80).unwrap();
        let decoded = image::load_from_memory(&jpeg).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (250, 250));
    }
}
