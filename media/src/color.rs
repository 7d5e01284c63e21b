//! Colour management for generated images, as Immich's `image.colorspace` asks: pictures in
//! sRGB (or without a profile, which browsers read as sRGB) stay as they are; wide-gamut ones
//! become Display P3 with that profile embedded (`p3`, the default) or are converted to sRGB
//! (`srgb`). Nothing else of the original's metadata reaches the outputs.

use std::sync::{Arc, OnceLock};

pub use crate::settings::Colorspace;
use image::RgbImage;
use moxcms::{ColorProfile, DataColorSpace, Layout, ProfileText, Transform8BitExecutor, TransformOptions, Xyzd};

/// What to do to a picture's pixels, and which profile its outputs carry.
#[derive(Clone, Default)]
pub struct ColorConversion {
    transform: Option<Arc<Transform8BitExecutor>>,
    /// ICC profile to embed in every output (none means sRGB).
    pub profile: Option<Arc<Vec<u8>>>,
}

impl std::fmt::Debug for ColorConversion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ColorConversion")
            .field("transforms", &self.transform.is_some())
            .field("profile_bytes", &self.profile.as_ref().map(|p| p.len()))
            .finish()
    }
}

fn description(profile: &ColorProfile) -> String {
    match &profile.description {
        Some(ProfileText::PlainString(text)) => text.clone(),
        Some(ProfileText::Localizable(texts)) => texts.first().map(|t| t.value.clone()).unwrap_or_default(),
        Some(ProfileText::Description(text)) => text.ascii_string.clone(),
        None => String::new(),
    }
}

fn close(a: Xyzd, b: Xyzd) -> bool {
    (a.x - b.x).abs() < 0.003 && (a.y - b.y).abs() < 0.003 && (a.z - b.z).abs() < 0.003
}

/// Same primaries (the tone curves of these standards match too).
fn same_primaries(a: &ColorProfile, b: &ColorProfile) -> bool {
    close(a.red_colorant, b.red_colorant)
        && close(a.green_colorant, b.green_colorant)
        && close(a.blue_colorant, b.blue_colorant)
}

fn srgb() -> &'static ColorProfile {
    static SRGB: OnceLock<ColorProfile> = OnceLock::new();
    SRGB.get_or_init(ColorProfile::new_srgb)
}

fn display_p3() -> &'static (ColorProfile, Option<Arc<Vec<u8>>>) {
    static P3: OnceLock<(ColorProfile, Option<Arc<Vec<u8>>>)> = OnceLock::new();
    P3.get_or_init(|| {
        let profile = ColorProfile::new_display_p3();
        let bytes = profile.encode().ok().map(Arc::new);
        (profile, bytes)
    })
}

/// The Display P3 profile embedded in P3 outputs.
pub fn display_p3_profile() -> Option<Vec<u8>> {
    display_p3().1.as_ref().map(|bytes| bytes.to_vec())
}

impl ColorConversion {
    /// Decides from the original's embedded ICC profile (if any). A profile that cannot be
    /// read, or is not RGB, leaves the pixels as decoded: a thumbnail in slightly wrong
    /// colours beats no thumbnail.
    pub fn for_source(icc: Option<&[u8]>, wanted: Colorspace) -> Self {
        let Some(source) = icc.and_then(|bytes| ColorProfile::new_from_slice(bytes).ok()) else {
            return Self::default();
        };
        if source.color_space != DataColorSpace::Rgb
            || description(&source).to_ascii_lowercase().contains("srgb")
            || same_primaries(&source, srgb())
        {
            return Self::default();
        }
        let (p3, p3_bytes) = display_p3();
        let (target, profile) = match wanted {
            Colorspace::Srgb => (srgb(), None),
            // Already Display P3: the pixels and the photographer's own profile are kept.
            Colorspace::P3 if same_primaries(&source, p3) => {
                return Self {
                    transform: None,
                    profile: icc.map(|bytes| Arc::new(bytes.to_vec())),
                };
            }
            Colorspace::P3 => (p3, p3_bytes.clone()),
        };
        match source.create_transform_8bit(Layout::Rgb, target, Layout::Rgb, TransformOptions::default()) {
            Ok(transform) => Self {
                transform: Some(transform),
                profile,
            },
            Err(_) => Self::default(),
        }
    }

    /// The picture's pixels in the output colour space.
    pub fn apply(&self, image: RgbImage) -> RgbImage {
        let Some(transform) = &self.transform else { return image };
        let mut converted = RgbImage::new(image.width(), image.height());
        match transform.transform(image.as_raw(), &mut converted) {
            Ok(()) => converted,
            Err(_) => image,
        }
    }
}

/// The ICC profile a JPEG carries in its APP2 `ICC_PROFILE` segments, joined in order.
pub fn jpeg_icc_profile(jpeg: &[u8]) -> Option<Vec<u8>> {
    const SIGNATURE: &[u8] = b"ICC_PROFILE\0";
    let mut chunks: Vec<(u8, &[u8])> = Vec::new();
    let mut at = 2;
    while at + 4 <= jpeg.len() && jpeg[at] == 0xFF {
        let marker = jpeg[at + 1];
        // Start of scan: no more header segments.
        if marker == 0xDA || marker == 0xD9 {
            break;
        }
        let length = u16::from_be_bytes([jpeg[at + 2], jpeg[at + 3]]) as usize;
        let segment = jpeg.get(at + 4..at + 2 + length)?;
        if marker == 0xE2 && segment.starts_with(SIGNATURE) && segment.len() > SIGNATURE.len() + 2 {
            chunks.push((segment[SIGNATURE.len()], &segment[SIGNATURE.len() + 2..]));
        }
        at += 2 + length;
    }
    if chunks.is_empty() {
        return None;
    }
    chunks.sort_by_key(|(sequence, _)| *sequence);
    Some(chunks.into_iter().flat_map(|(_, data)| data.iter().copied()).collect())
}

/// `jpeg` with `profile` in APP2 segments after its JFIF header.
pub fn embed_in_jpeg(jpeg: Vec<u8>, profile: &[u8]) -> Vec<u8> {
    const CHUNK: usize = 65_519;
    if jpeg.len() < 4 || profile.is_empty() {
        return jpeg;
    }
    // After SOI, and after the JFIF APP0 segment when there is one.
    let mut insert_at = 2;
    if jpeg[2] == 0xFF && jpeg[3] == 0xE0 && jpeg.len() > 6 {
        insert_at += 2 + u16::from_be_bytes([jpeg[4], jpeg[5]]) as usize;
    }
    let count = profile.len().div_ceil(CHUNK);
    let mut out = Vec::with_capacity(jpeg.len() + profile.len() + count * 18);
    out.extend_from_slice(&jpeg[..insert_at]);
    for (index, chunk) in profile.chunks(CHUNK).enumerate() {
        out.extend_from_slice(&[0xFF, 0xE2]);
        out.extend_from_slice(&((chunk.len() + 16) as u16).to_be_bytes());
        out.extend_from_slice(b"ICC_PROFILE\0");
        out.extend_from_slice(&[(index + 1) as u8, count as u8]);
        out.extend_from_slice(chunk);
    }
    out.extend_from_slice(&jpeg[insert_at..]);
    out
}

/// A simple-format WebP (`RIFF…WEBPVP8 …`) turned into the extended format with an `ICCP` chunk.
pub fn embed_in_webp(webp: Vec<u8>, profile: &[u8], width: u32, height: u32) -> Vec<u8> {
    if webp.len() < 12
        || &webp[0..4] != b"RIFF"
        || &webp[8..12] != b"WEBP"
        || profile.is_empty()
        || &webp[12..16] == b"VP8X"
    {
        return webp;
    }
    let mut chunks = Vec::with_capacity(webp.len() + profile.len() + 32);
    chunks.extend_from_slice(b"VP8X");
    chunks.extend_from_slice(&10u32.to_le_bytes());
    // Flags: ICC profile present.
    chunks.extend_from_slice(&[0x20, 0, 0, 0]);
    chunks.extend_from_slice(&(width.saturating_sub(1)).to_le_bytes()[..3]);
    chunks.extend_from_slice(&(height.saturating_sub(1)).to_le_bytes()[..3]);
    chunks.extend_from_slice(b"ICCP");
    chunks.extend_from_slice(&(profile.len() as u32).to_le_bytes());
    chunks.extend_from_slice(profile);
    if profile.len() % 2 == 1 {
        chunks.push(0);
    }
    chunks.extend_from_slice(&webp[12..]);
    let mut out = Vec::with_capacity(chunks.len() + 12);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&((chunks.len() + 4) as u32).to_le_bytes());
    out.extend_from_slice(b"WEBP");
    out.extend_from_slice(&chunks);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p3_bytes() -> Vec<u8> {
        display_p3().1.as_ref().expect("moxcms encodes Display P3").to_vec()
    }

    #[test]
    fn srgb_and_untagged_pictures_are_left_alone() {
        let srgb_bytes = ColorProfile::new_srgb().encode().unwrap();
        for icc in [None, Some(srgb_bytes.as_slice()), Some(&b"not a profile"[..])] {
            let conversion = ColorConversion::for_source(icc, Colorspace::P3);
            assert!(conversion.transform.is_none() && conversion.profile.is_none());
        }
    }

    #[test]
    fn p3_is_kept_or_converted_as_configured() {
        let p3 = p3_bytes();
        let kept = ColorConversion::for_source(Some(&p3), Colorspace::P3);
        assert!(kept.transform.is_none());
        assert_eq!(kept.profile.as_deref(), Some(&p3));

        let to_srgb = ColorConversion::for_source(Some(&p3), Colorspace::Srgb);
        assert!(to_srgb.profile.is_none());
        let pixel = RgbImage::from_pixel(1, 1, image::Rgb([40, 200, 60]));
        let converted = to_srgb.apply(pixel);
        // P3 green is more saturated than anything sRGB has: red drops to 0, green rises.
        let [r, g, _] = converted.get_pixel(0, 0).0;
        assert!(r < 20 && g > 200, "{:?}", converted.get_pixel(0, 0));
    }

    #[test]
    fn adobe_rgb_becomes_display_p3() {
        let bytes = ColorProfile::new_adobe_rgb().encode().unwrap();
        let conversion = ColorConversion::for_source(Some(&bytes), Colorspace::P3);
        assert!(conversion.transform.is_some());
        assert_eq!(conversion.profile.as_deref(), Some(&p3_bytes()));
    }

    #[test]
    fn profiles_travel_in_jpeg_and_webp() {
        let image = RgbImage::from_pixel(16, 8, image::Rgb([10, 20, 30]));
        let source = turbojpeg::Image {
            pixels: image.as_raw().as_slice(),
            width: 16,
            pitch: 48,
            height: 8,
            format: turbojpeg::PixelFormat::RGB,
        };
        let jpeg = turbojpeg::compress(source, 80, turbojpeg::Subsamp::Sub2x2)
            .unwrap()
            .to_vec();
        let profile: Vec<u8> = (0..150_000u32).map(|i| (i % 251) as u8).collect();
        let tagged = embed_in_jpeg(jpeg, &profile);
        assert_eq!(jpeg_icc_profile(&tagged).as_deref(), Some(profile.as_slice()));
        let header = turbojpeg::Decompressor::new().unwrap().read_header(&tagged).unwrap();
        assert_eq!((header.width, header.height), (16, 8));

        let webp = webp::Encoder::from_rgb(image.as_raw(), 16, 8).encode(80.0).to_vec();
        let tagged = embed_in_webp(webp, &p3_bytes(), 16, 8);
        let mut decoder = image::codecs::webp::WebPDecoder::new(std::io::Cursor::new(&tagged)).unwrap();
        assert_eq!(
            image::ImageDecoder::icc_profile(&mut decoder).unwrap(),
            Some(p3_bytes())
        );
        assert_eq!(image::load_from_memory(&tagged).unwrap().width(), 16);
    }
}
