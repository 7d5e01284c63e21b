//! Preview, thumbnail and thumbhash from one decode of an image. The outputs carry no EXIF
//! (no GPS leaks through a shared thumbnail) and are already turned upright.

use fast_image_resize::{ResizeAlg, ResizeOptions, Resizer};
use image::imageops::FilterType;
use image::{DynamicImage, RgbImage};

use crate::color::{ColorConversion, Colorspace, embed_in_jpeg, embed_in_webp};
use crate::decode::Decoded;
pub use crate::settings::ImageFormat;

#[derive(Debug, thiserror::Error)]
pub enum ThumbnailError {
    #[error("cannot encode the {0}")]
    Encode(&'static str),
}

/// Sizes, formats and qualities (Immich's `image.*` settings).
#[derive(Debug, Clone, Copy)]
pub struct ThumbnailSettings {
    pub preview_size: u32,
    pub preview_quality: u8,
    pub preview_format: ImageFormat,
    pub thumbnail_size: u32,
    pub thumbnail_quality: u8,
    pub thumbnail_format: ImageFormat,
    /// Also keep a full-resolution image (for formats browsers cannot show), at this quality.
    pub fullsize_quality: Option<u8>,
    pub fullsize_format: ImageFormat,
    pub colorspace: Colorspace,
}

impl Default for ThumbnailSettings {
    fn default() -> Self {
        Self {
            preview_size: 1440,
            preview_quality: 80,
            preview_format: ImageFormat::Jpeg,
            thumbnail_size: 250,
            thumbnail_quality: 80,
            thumbnail_format: ImageFormat::Webp,
            fullsize_quality: None,
            fullsize_format: ImageFormat::Jpeg,
            colorspace: Colorspace::P3,
        }
    }
}

#[derive(Debug)]
pub struct Generated {
    /// In `preview_format`.
    pub preview: Vec<u8>,
    /// In `thumbnail_format`.
    pub thumbnail: Vec<u8>,
    pub thumbhash: Vec<u8>,
    /// At full resolution in `fullsize_format`, when asked for.
    pub fullsize: Option<Vec<u8>>,
    /// Size of the upright original.
    pub width: u32,
    pub height: u32,
}

/// Scales an RGB image so the shorter side is `size`, never enlarging (Immich's
/// `fit: outside`), with SIMD convolution.
fn shorter_side(image: RgbImage, size: u32) -> RgbImage {
    let (w, h) = (image.width(), image.height());
    let shorter = w.min(h);
    if shorter <= size {
        return image;
    }
    let scale = size as f64 / shorter as f64;
    let (nw, nh) = (
        ((w as f64 * scale).round() as u32).max(1),
        ((h as f64 * scale).round() as u32).max(1),
    );
    let mut resized = RgbImage::new(nw, nh);
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(fast_image_resize::FilterType::Bilinear));
    let source = DynamicImage::ImageRgb8(image);
    let mut target = DynamicImage::ImageRgb8(std::mem::take(&mut resized));
    match Resizer::new().resize(&source, &mut target, &options) {
        Ok(()) => target.into_rgb8(),
        // Cannot happen for RGB8 images of these sizes; fall back to the plain filter anyway.
        Err(_) => source.resize_exact(nw, nh, FilterType::Triangle).into_rgb8(),
    }
}

fn orient(image: DynamicImage, orientation: Option<u8>) -> DynamicImage {
    match orientation {
        Some(2) => image.fliph(),
        Some(3) => image.rotate180(),
        Some(4) => image.flipv(),
        Some(5) => image.rotate90().fliph(),
        Some(6) => image.rotate90(),
        Some(7) => image.rotate270().fliph(),
        Some(8) => image.rotate270(),
        _ => image,
    }
}

/// libjpeg-turbo (SIMD) or libwebp. No EXIF (so no GPS) is ever written; only the colour
/// profile, when the pixels are not sRGB.
fn encode(
    image: &RgbImage,
    format: ImageFormat,
    quality: u8,
    color: &ColorConversion,
    what: &'static str,
) -> Result<Vec<u8>, ThumbnailError> {
    let encoded = match format {
        ImageFormat::Jpeg => {
            let source = turbojpeg::Image {
                pixels: image.as_raw().as_slice(),
                width: image.width() as usize,
                pitch: image.width() as usize * 3,
                height: image.height() as usize,
                format: turbojpeg::PixelFormat::RGB,
            };
            turbojpeg::compress(source, quality as i32, turbojpeg::Subsamp::Sub2x2)
                .map_err(|_| ThumbnailError::Encode(what))?
                .to_vec()
        }
        ImageFormat::Webp => webp::Encoder::from_rgb(image.as_raw(), image.width(), image.height())
            .encode(quality as f32)
            .to_vec(),
    };
    Ok(match (&color.profile, format) {
        (Some(profile), ImageFormat::Jpeg) => embed_in_jpeg(encoded, profile),
        (Some(profile), ImageFormat::Webp) => embed_in_webp(encoded, profile, image.width(), image.height()),
        (None, _) => encoded,
    })
}

/// Makes the preview (JPEG), thumbnail (WebP) and thumbhash from one decoded picture,
/// turned upright by its EXIF `orientation` first and put in the configured colour space.
pub fn render(
    decoded: Decoded,
    orientation: Option<u8>,
    settings: ThumbnailSettings,
) -> Result<Generated, ThumbnailError> {
    let color = ColorConversion::for_source(decoded.icc_profile.as_deref(), settings.colorspace);
    let image = orient(decoded.image, orientation);
    let (width, height) = (image.width(), image.height());
    let full = image.into_rgb8();
    let fullsize = match settings.fullsize_quality {
        Some(quality) => Some(encode(
            &color.apply(full.clone()),
            settings.fullsize_format,
            quality,
            &color,
            "full-size image",
        )?),
        None => None,
    };
    // Converted after resizing: the same result on a fraction of the pixels.
    let preview = color.apply(shorter_side(full, settings.preview_size));
    let preview_bytes = encode(
        &preview,
        settings.preview_format,
        settings.preview_quality,
        &color,
        "preview",
    )?;

    // The thumbnail comes from the preview: far fewer pixels to filter.
    let thumbnail = shorter_side(preview, settings.thumbnail_size);
    let thumbnail_bytes = encode(
        &thumbnail,
        settings.thumbnail_format,
        settings.thumbnail_quality,
        &color,
        "thumbnail",
    )?;

    let small = DynamicImage::ImageRgb8(thumbnail)
        .resize(100, 100, FilterType::Triangle)
        .to_rgba8();
    let thumbhash = thumbhash::rgba_to_thumb_hash(small.width() as usize, small.height() as usize, small.as_raw());
    Ok(Generated {
        preview: preview_bytes,
        thumbnail: thumbnail_bytes,
        thumbhash,
        fullsize,
        width,
        height,
    })
}
