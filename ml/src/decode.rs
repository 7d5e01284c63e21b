//! Image decoding as Immich's service does it with Pillow: any format to 8-bit RGB, no rotation
//! from EXIF. JPEG goes through libjpeg-turbo, Pillow's own decoder, so the pixels are the same.

use image::RgbImage;

use crate::error::{MlError, Result};

/// Decodes an uploaded image to RGB.
pub fn decode(bytes: &[u8]) -> Result<RgbImage> {
    let image = if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        decode_jpeg(bytes)?
    } else {
        image::load_from_memory(bytes)
            .map_err(|error| MlError::Image(error.to_string()))?
            .into_rgb8()
    };
    if image.width() == 0 || image.height() == 0 {
        return Err(MlError::BadRequest("Image has zero width or height".to_owned()));
    }
    Ok(image)
}

fn decode_jpeg(bytes: &[u8]) -> Result<RgbImage> {
    let decoded: turbojpeg::Image<Vec<u8>> =
        turbojpeg::decompress(bytes, turbojpeg::PixelFormat::RGB).map_err(|error| MlError::Image(error.to_string()))?;
    let (width, height) = (decoded.width, decoded.height);
    let packed = if decoded.pitch == width * 3 {
        decoded.pixels
    } else {
        decoded
            .pixels
            .chunks(decoded.pitch)
            .take(height)
            .flat_map(|row| row[..width * 3].iter().copied())
            .collect()
    };
    let (Ok(width), Ok(height)) = (u32::try_from(width), u32::try_from(height)) else {
        return Err(MlError::Image("the image is too large".to_owned()));
    };
    RgbImage::from_raw(width, height, packed)
        .ok_or_else(|| MlError::Image("the JPEG decoder gave too few pixels".to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(format: image::ImageFormat, image: &image::DynamicImage) -> Vec<u8> {
        let mut bytes = std::io::Cursor::new(Vec::new());
        image
            .write_to(&mut bytes, format)
            .unwrap_or_else(|error| panic!("encoding: {error}"));
        bytes.into_inner()
    }

    #[test]
    fn every_format_becomes_rgb() {
        let gray = image::DynamicImage::ImageLuma8(image::GrayImage::from_pixel(3, 2, image::Luma([7])));
        let decoded = decode(&encode(image::ImageFormat::Png, &gray)).unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(decoded.dimensions(), (3, 2));
        assert_eq!(decoded.get_pixel(0, 0).0, [7, 7, 7]);
        let rgb = image::DynamicImage::ImageRgb8(RgbImage::from_pixel(17, 9, image::Rgb([200, 100, 50])));
        let jpeg = decode(&encode(image::ImageFormat::Jpeg, &rgb)).unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(jpeg.dimensions(), (17, 9));
    }

    #[test]
    fn garbage_is_a_clear_error() {
        assert!(matches!(decode(b"not an image"), Err(MlError::Image(_))));
        assert!(matches!(decode(&[0xFF, 0xD8, 0xFF, 0x00]), Err(MlError::Image(_))));
    }
}
