//! Text as people and broken clients send it — accents, CJK, emoji sequences, right-to-left
//! script, combining marks, and bytes that are not UTF-8 at all — in every string field of every
//! JSON body, multipart form and query that Immich's API describes. Each answer must be 2xx or
//! 4xx, whole: never a 5xx, never a dropped connection (a panic used to do both).

mod json;
mod uploads;

use darkroom_tests::TestServer;
use reqwest::{Method, StatusCode};

/// Multi-byte text, with date-like prefixes so that parsers that look at fixed byte positions
/// land inside a character.
const TEXTS: &[&str] = &[
    "Zoë Ångström — naïve café",
    "東京タワー 🗼",
    "👩‍👩‍👧‍👦🏳️‍🌈🙂",
    "مرحبا بالعالم",
    "e\u{301}\u{302}\u{303}",
    "2024-05-01T12:00:00.000é",
    "2024-05-01T12:00:0日本",
    "2024-05-01T12:00:00+01:0🙂",
    "2024-05-01T12:00🙂",
    "ÿ",
];

/// `TEXTS`, then a date and time with a three-byte character put in at each position in turn,
/// for parsers that slice a date at fixed byte offsets.
fn hostile_texts() -> Vec<String> {
    let date = "2024-05-01T12:00:00.000+01:00";
    let mut texts: Vec<String> = TEXTS.iter().map(|t| t.to_string()).collect();
    for at in 4..date.len() {
        texts.push(format!("{}日{}", &date[..at], &date[at + 1..]));
    }
    texts
}

const NOT_UTF8: &[u8] = b"\xff\xfe\xc3(\xa0\xe2\x82";

/// Sends `body` (raw bytes) and returns the status; a dropped connection or a 5xx fails the test.
async fn send_raw(
    server: &TestServer,
    key: &str,
    method: &Method,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
    what: &str,
) -> StatusCode {
    let request = server
        .request(method.clone(), path)
        .header("x-api-key", key)
        .header("content-type", content_type)
        .body(body);
    let response = request
        .send()
        .await
        .unwrap_or_else(|error| panic!("{method} {path} ({what}): connection failed: {error}"));
    let status = response.status();
    let text = response
        .bytes()
        .await
        .unwrap_or_else(|error| panic!("{method} {path} ({what}): answer cut off: {error}"));
    assert!(
        !status.is_server_error(),
        "{method} {path} ({what}) answered {status}: {}",
        String::from_utf8_lossy(&text)
    );
    status
}
