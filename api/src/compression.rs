//! Response compression, as cheap as it can be while still worth doing.
//!
//! Browsers send `gzip, deflate, br, zstd`, the mobile app's Dart client only `gzip`. At equal
//! weight zstd is chosen before brotli before gzip. Every algorithm runs at its fastest useful
//! level: a 2 MB timeline month or a 600 MB first sync must not take much longer compressed
//! than plain (default levels doubled the wait). Only text-like bodies are compressed, as
//! Immich's `compression` middleware does: zips, videos and images are compressed already.

use axum::http::{Response, header};
use http_body::Body;
use tower_http::CompressionLevel;
use tower_http::compression::{CompressionLayer, Predicate};

/// Bodies smaller than this go out as they are (Immich's threshold too).
const MIN_SIZE: u64 = 1024;

pub fn layer() -> CompressionLayer<Compressible> {
    CompressionLayer::new()
        .quality(CompressionLevel::Precise(1))
        .compress_when(Compressible)
}

#[derive(Debug, Clone, Copy)]
pub struct Compressible;

impl Predicate for Compressible {
    fn should_compress<B: Body>(&self, response: &Response<B>) -> bool {
        // A streamed body has no exact size: it is compressed when its type is.
        let large_enough = response.body().size_hint().exact().is_none_or(|size| size >= MIN_SIZE);
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        large_enough && content_type.is_some_and(is_compressible)
    }
}

/// Whether a content type is text that compresses well.
fn is_compressible(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if essence == "text/event-stream" {
        return false; // each event must reach the client at once
    }
    essence.starts_with("text/")
        || essence.ends_with("+json")
        || essence.ends_with("+xml")
        || matches!(
            essence.as_str(),
            "application/json" | "application/javascript" | "application/xml" | "application/wasm" | "image/svg+xml"
        )
}

#[cfg(test)]
mod tests {
    use super::is_compressible;

    #[test]
    fn text_is_compressed_and_media_is_not() {
        for compressible in [
            "application/json; charset=utf-8",
            "application/jsonlines+json",
            "text/html",
            "text/css; charset=utf-8",
            "application/javascript",
            "image/svg+xml",
        ] {
            assert!(is_compressible(compressible), "{compressible}");
        }
        for already_compressed in [
            "application/zip",
            "application/octet-stream",
            "image/jpeg",
            "image/webp",
            "video/mp4",
            "text/event-stream",
        ] {
            assert!(!is_compressible(already_compressed), "{already_compressed}");
        }
    }
}
