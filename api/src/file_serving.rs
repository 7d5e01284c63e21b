//! Sending stored files the way Immich's `sendFile` does: streamed, with byte ranges,
//! a weak ETag and Last-Modified (so `If-None-Match`/`If-Modified-Since` answer 304), and
//! Immich's private caching. Every failure is a 404 `Not Found`, as in Immich.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use futures::Stream;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use crate::error::{ApiError, ApiResult, Context};

/// Immich's `CacheControl.PrivateWithCache`.
pub const PRIVATE_CACHE: &str =
    "private, max-age=86400, no-transform, stale-while-revalidate=2592000, stale-if-error=2592000";

const CHUNK: usize = 64 * 1024;

pub struct FileReply<'a> {
    pub path: &'a Path,
    pub content_type: &'a str,
    /// `inline; filename*=UTF-8''…` when given.
    pub download_name: Option<&'a str>,
    pub cache_control: &'static str,
}

pub fn not_found() -> ApiError {
    ApiError::not_found("Not Found")
}

/// `W/"<size hex>-<mtime ms hex>"`, the ETag Express's `send` computes.
fn weak_etag(size: u64, modified: SystemTime) -> String {
    let millis = modified.duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
    format!("W/\"{size:x}-{millis:x}\"")
}

/// `bytes=a-b`, `bytes=a-` or `bytes=-n` within `size`; anything else (several ranges, junk)
/// means the whole file, like `send`. `Err` when the range cannot be satisfied.
fn parse_range(value: &str, size: u64) -> Option<Result<(u64, u64), ()>> {
    let spec = value.strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (start, end) = spec.trim().split_once('-')?;
    let range = match (start.trim(), end.trim()) {
        ("", suffix) => {
            let n: u64 = suffix.parse().ok()?;
            if n == 0 || size == 0 {
                return Some(Err(()));
            }
            (size.saturating_sub(n), size - 1)
        }
        (start, "") => (start.parse().ok()?, size.saturating_sub(1)),
        (start, end) => {
            let (start, end): (u64, u64) = (start.parse().ok()?, end.parse().ok()?);
            if end < start {
                return None;
            }
            (start, end.min(size.saturating_sub(1)))
        }
    };
    if range.0 >= size {
        Some(Err(()))
    } else {
        Some(Ok(range))
    }
}

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn is_fresh(request: &HeaderMap, etag: &str, modified: SystemTime) -> bool {
    if let Some(tags) = header_text(request, header::IF_NONE_MATCH) {
        let bare = etag.trim_start_matches("W/");
        return tags
            .split(',')
            .map(str::trim)
            .any(|tag| tag == "*" || tag.trim_start_matches("W/") == bare);
    }
    header_text(request, header::IF_MODIFIED_SINCE)
        .and_then(|since| httpdate::parse_http_date(since).ok())
        .is_some_and(|since| truncate_to_seconds(modified) <= since)
}

fn truncate_to_seconds(time: SystemTime) -> SystemTime {
    let secs = time.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    UNIX_EPOCH + std::time::Duration::from_secs(secs)
}

/// Percent-encoding of `encodeURIComponent`.
pub fn encode_uri_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Streams `reply.path`, honouring the request's range and conditional headers.
pub async fn send_file(request: &HeaderMap, reply: FileReply<'_>) -> ApiResult<Response> {
    let mut file = tokio::fs::File::open(reply.path).await.map_err(|_| not_found())?;
    let metadata = file.metadata().await.map_err(|_| not_found())?;
    if !metadata.is_file() {
        return Err(not_found());
    }
    let size = metadata.len();
    let modified = metadata.modified().unwrap_or(UNIX_EPOCH);
    let etag = weak_etag(size, modified);

    let mut builder = Response::builder()
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::CACHE_CONTROL, reply.cache_control)
        .header(header::ETAG, &etag)
        .header(header::LAST_MODIFIED, httpdate::fmt_http_date(modified))
        .header(header::CONTENT_TYPE, reply.content_type);
    if let Some(name) = reply.download_name {
        builder = builder.header(
            header::CONTENT_DISPOSITION,
            format!("inline; filename*=UTF-8''{}", encode_uri_component(name)),
        );
    }
    if is_fresh(request, &etag, modified) {
        return builder
            .status(StatusCode::NOT_MODIFIED)
            .body(Body::empty())
            .context("building the not-modified answer");
    }
    // `If-Range` with a stale validator means: send everything.
    let if_range_ok = header_text(request, header::IF_RANGE).is_none_or(|value| {
        value == etag || { httpdate::parse_http_date(value).is_ok_and(|date| truncate_to_seconds(modified) <= date) }
    });
    let range = header_text(request, header::RANGE)
        .filter(|_| if_range_ok)
        .and_then(|value| parse_range(value, size));
    let (status, start, length) = match range {
        Some(Ok((start, end))) => {
            builder = builder.header(header::CONTENT_RANGE, format!("bytes {start}-{end}/{size}"));
            (StatusCode::PARTIAL_CONTENT, start, end - start + 1)
        }
        Some(Err(())) => {
            let response = builder
                .status(StatusCode::RANGE_NOT_SATISFIABLE)
                .header(header::CONTENT_RANGE, format!("bytes */{size}"))
                .body(Body::empty())
                .context("building the range-not-satisfiable answer")?;
            return Ok(response);
        }
        None => (StatusCode::OK, 0, size),
    };
    if start > 0 {
        file.seek(std::io::SeekFrom::Start(start))
            .await
            .map_err(|_| not_found())?;
    }
    builder
        .status(status)
        .header(header::CONTENT_LENGTH, length)
        .body(crate::panic_guard::stream_body(read_stream(file, length)))
        .context("building the file answer")
}

/// At most `remaining` bytes of `file`, in chunks, so large files never sit in memory.
fn read_stream(file: tokio::fs::File, remaining: u64) -> impl Stream<Item = std::io::Result<bytes::Bytes>> {
    futures::stream::unfold((file, remaining), |(mut file, remaining)| async move {
        if remaining == 0 {
            return None;
        }
        let mut buffer = vec![0u8; CHUNK.min(usize::try_from(remaining).unwrap_or(CHUNK))];
        match file.read(&mut buffer).await {
            Ok(0) => None,
            Ok(n) => {
                buffer.truncate(n);
                Some((Ok(bytes::Bytes::from(buffer)), (file, remaining - n as u64)))
            }
            Err(error) => Some((Err(error), (file, 0))),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_follow_send() {
        assert_eq!(parse_range("bytes=0-99", 1000), Some(Ok((0, 99))));
        assert_eq!(parse_range("bytes=900-", 1000), Some(Ok((900, 999))));
        assert_eq!(parse_range("bytes=-100", 1000), Some(Ok((900, 999))));
        assert_eq!(parse_range("bytes=990-2000", 1000), Some(Ok((990, 999))));
        assert_eq!(parse_range("bytes=1000-", 1000), Some(Err(())));
        assert_eq!(parse_range("bytes=0-1,5-6", 1000), None);
        assert_eq!(parse_range("items=0-1", 1000), None);
        assert_eq!(parse_range("bytes=5-1", 1000), None);
    }

    #[test]
    fn names_are_encoded_like_encode_uri_component() {
        assert_eq!(encode_uri_component("IMG 1 (2).jpg"), "IMG%201%20(2).jpg");
        assert_eq!(encode_uri_component("ünï.png"), "%C3%BCn%C3%AF.png");
    }
}
