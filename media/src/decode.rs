//! Getting pixels out of any accepted file: most stills directly, HEIC/HEIF/AVIF through
//! libheif's `heif-convert`, RAW through the preview the camera embedded (exiftool), video
//! through one frame from ffmpeg. External tools run with a time limit and are killed at it,
//! so a file that makes them hang costs the worker seconds, not the worker.

use std::path::{Path, PathBuf};
use std::time::Duration;

use image::{DynamicImage, ImageReader, Limits};

use crate::formats::MediaKind;

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("cannot read the file: {0}")]
    Read(#[from] std::io::Error),
    #[error("cannot decode the image: {0}")]
    Image(#[from] image::ImageError),
    #[error("the image has {pixels} pixels, more than the limit of {limit}")]
    TooLarge { pixels: u64, limit: u64 },
    #[error("{tool} failed: {message}")]
    Tool { tool: &'static str, message: String },
    #[error("{tool} took longer than {seconds} s and was stopped")]
    Timeout { tool: &'static str, seconds: u64 },
}

/// A decoded picture and the ICC profile its file carried.
#[derive(Debug)]
pub struct Decoded {
    pub image: DynamicImage,
    pub icc_profile: Option<Vec<u8>>,
}

/// What a decode may cost, and how small it may come out.
#[derive(Debug, Clone, Copy)]
pub struct DecodeLimits {
    pub max_pixels: u64,
    pub tool_timeout: Duration,
    /// JPEGs may be decoded at 1/2, 1/4 or 1/8 scale (in the DCT, far cheaper than resizing
    /// afterwards) as long as the shorter side stays at least this long.
    pub shorter_side_at_least: Option<u32>,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        Self {
            max_pixels: 200_000_000,
            tool_timeout: Duration::from_secs(60),
            shorter_side_at_least: None,
        }
    }
}

fn is_jpeg(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0xFF, 0xD8, 0xFF])
}

/// A JPEG decoded by libjpeg-turbo at the smallest DCT scale (1/8 … 1) that keeps the shorter
/// side at `at_least` — far cheaper than decoding everything and resizing afterwards.
fn decode_jpeg_scaled(bytes: &[u8], at_least: u32, limits: DecodeLimits) -> Option<Result<Decoded, DecodeError>> {
    let mut decompressor = turbojpeg::Decompressor::new().ok()?;
    let header = decompressor.read_header(bytes).ok()?;
    let (width, height) = (header.width, header.height);
    let pixels = width as u64 * height as u64;
    if pixels > limits.max_pixels {
        return Some(Err(DecodeError::TooLarge {
            pixels,
            limit: limits.max_pixels,
        }));
    }
    let shorter = width.min(height);
    let denominator = [8, 4, 2, 1]
        .into_iter()
        .find(|d| shorter.div_ceil(*d) >= at_least as usize)
        .unwrap_or(1);
    let (w, h) = (width.div_ceil(denominator), height.div_ceil(denominator));
    let mut image = turbojpeg::Image {
        pixels: vec![0u8; w * h * 3],
        width: w,
        pitch: w * 3,
        height: h,
        format: turbojpeg::PixelFormat::RGB,
    };
    decompressor.decompress(bytes, image.as_deref_mut()).ok()?;
    let icc_profile = crate::color::jpeg_icc_profile(bytes);
    image::RgbImage::from_raw(w as u32, h as u32, image.pixels).map(|rgb| {
        Ok(Decoded {
            image: DynamicImage::ImageRgb8(rgb),
            icc_profile,
        })
    })
}

/// Decodes an image file with the `image` crate, refusing more pixels than allowed before
/// any are decoded.
pub fn decode_still(path: &Path, limits: DecodeLimits) -> Result<Decoded, DecodeError> {
    if let Some(at_least) = limits.shorter_side_at_least {
        // Only JPEGs are read whole here (libjpeg-turbo decodes from memory).
        let mut magic = [0u8; 3];
        let is_jpeg_file =
            std::io::Read::read_exact(&mut std::fs::File::open(path)?, &mut magic).is_ok() && is_jpeg(&magic);
        if is_jpeg_file {
            let bytes = std::fs::read(path)?;
            if let Some(result) = decode_jpeg_scaled(&bytes, at_least, limits) {
                return result;
            }
        }
    }
    let (width, height) = ImageReader::open(path)?.with_guessed_format()?.into_dimensions()?;
    let pixels = width as u64 * height as u64;
    if pixels > limits.max_pixels {
        return Err(DecodeError::TooLarge {
            pixels,
            limit: limits.max_pixels,
        });
    }
    let mut reader = ImageReader::open(path)?.with_guessed_format()?;
    let mut memory = Limits::default();
    memory.max_alloc = Some(limits.max_pixels.saturating_mul(8));
    reader.limits(memory);
    let mut decoder = reader.into_decoder()?;
    let icc_profile = image::ImageDecoder::icc_profile(&mut decoder).ok().flatten();
    Ok(Decoded {
        image: DynamicImage::from_decoder(decoder)?,
        icc_profile,
    })
}

async fn run_tool(tool: &'static str, args: &[&str], limits: DecodeLimits) -> Result<Vec<u8>, DecodeError> {
    crate::tools::run(tool, args, limits.tool_timeout)
        .await
        .map_err(|error| match error {
            crate::tools::ToolError::Failed { tool, message } => DecodeError::Tool { tool, message },
            crate::tools::ToolError::Timeout { tool, seconds } => DecodeError::Timeout { tool, seconds },
        })
}

/// A scratch file removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(extension: &str) -> Self {
        Self(std::env::temp_dir().join(format!(
            "darkroom-decode-{}-{}.{extension}",
            std::process::id(),
            uuid_like()
        )))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{nanos:x}{:x}", COUNTER.fetch_add(1, Ordering::Relaxed))
}

fn is_heif(path: &Path) -> bool {
    let extension = crate::extension_of(&path.to_string_lossy()).unwrap_or_default();
    matches!(extension.as_str(), ".heic" | ".heif" | ".avif" | ".hif")
}

/// Decodes any photo or video this server accepts into its (first / representative) picture.
pub async fn decode(path: &Path, kind: MediaKind, raw: bool, limits: DecodeLimits) -> Result<Decoded, DecodeError> {
    let file = path.to_string_lossy().to_string();
    let from_bytes = |bytes: Vec<u8>, limits: DecodeLimits| -> Result<Decoded, DecodeError> {
        let scratch = Scratch::new("img");
        std::fs::write(&scratch.0, bytes)?;
        decode_still(&scratch.0, limits)
    };
    if kind == MediaKind::Video {
        // A frame a little in, past fade-ins; short clips give their first.
        let frame = run_tool(
            "ffmpeg",
            &[
                "-v",
                "error",
                "-ss",
                "0.5",
                "-i",
                &file,
                "-frames:v",
                "1",
                "-f",
                "image2pipe",
                "-vcodec",
                "png",
                "-",
            ],
            limits,
        )
        .await?;
        let frame = if frame.is_empty() {
            run_tool(
                "ffmpeg",
                &[
                    "-v",
                    "error",
                    "-i",
                    &file,
                    "-frames:v",
                    "1",
                    "-f",
                    "image2pipe",
                    "-vcodec",
                    "png",
                    "-",
                ],
                limits,
            )
            .await?
        } else {
            frame
        };
        return tokio::task::spawn_blocking(move || from_bytes(frame, limits))
            .await
            .map_err(|e| DecodeError::Read(std::io::Error::other(e)))?;
    }
    if is_heif(path) {
        let scratch = Scratch::new("png");
        run_tool(
            "heif-convert",
            &["-q", "100", &file, &scratch.0.to_string_lossy()],
            limits,
        )
        .await?;
        let output = scratch.0.clone();
        return tokio::task::spawn_blocking(move || {
            let _keep = scratch;
            decode_still(&output, limits)
        })
        .await
        .map_err(|e| DecodeError::Read(std::io::Error::other(e)))?;
    }
    if raw {
        // The camera's own rendering, as Immich's extractEmbedded does.
        for tag in ["-JpgFromRaw", "-PreviewImage"] {
            let preview = run_tool("exiftool", &["-b", tag, &file], limits).await?;
            if preview.len() > 1000 {
                return tokio::task::spawn_blocking(move || from_bytes(preview, limits))
                    .await
                    .map_err(|e| DecodeError::Read(std::io::Error::other(e)))?;
            }
        }
    }
    let owned = path.to_path_buf();
    let decoded = tokio::task::spawn_blocking(move || decode_still(&owned, limits))
        .await
        .map_err(|e| DecodeError::Read(std::io::Error::other(e)))?;
    match decoded {
        // What the image crate cannot read (YCbCr TIFF, JPEG XL, …) ffmpeg often can.
        Err(DecodeError::Image(error)) => {
            let max_pixels = limits.max_pixels.to_string();
            let args = [
                "-v",
                "error",
                "-max_pixels",
                &max_pixels,
                "-i",
                &file,
                "-frames:v",
                "1",
                "-f",
                "image2pipe",
                "-vcodec",
                "png",
                "-",
            ];
            let frame = run_tool("ffmpeg", &args, limits)
                .await
                .map_err(|_| DecodeError::Image(error))?;
            tokio::task::spawn_blocking(move || from_bytes(frame, limits))
                .await
                .map_err(|e| DecodeError::Read(std::io::Error::other(e)))?
        }
        other => other,
    }
}
