//! Hostile text in the upload and profile picture forms and in resumable uploads' metadata headers.

use darkroom_tests::TestServer;
use reqwest::Method;

use super::{NOT_UTF8, hostile_texts, send_raw};

/// The upload form and the profile picture form: every text field and the file name, in turn.
#[tokio::test(flavor = "multi_thread")]
async fn hostile_text_in_every_multipart_field_is_answered_without_a_5xx() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let key = server.api_key(&admin, &["all"]).await;
    let png = darkroom_tests::fixtures::png_bytes();
    let valid: &[(&str, &str)] = &[
        ("deviceAssetId", "device-asset"),
        ("deviceId", "device"),
        ("fileCreatedAt", "2024-05-01T12:00:00.000Z"),
        ("fileModifiedAt", "2024-05-01T12:00:00.000Z"),
        ("filename", "photo.png"),
        ("isFavorite", "false"),
        ("visibility", "timeline"),
        ("duration", "0:00:00.000000"),
        ("metadata", "[]"),
    ];
    let mut seed = 0u8;
    for field in 0..=valid.len() {
        let mut hostile: Vec<Vec<u8>> = hostile_texts().into_iter().map(String::into_bytes).collect();
        hostile.push(NOT_UTF8.to_vec());
        for text in hostile {
            // A different file each time, so no upload is a duplicate of the one before.
            seed = seed.wrapping_add(1);
            let mut file = png.clone();
            file.push(seed);
            let mut form = Multipart::default();
            for (index, (name, value)) in valid.iter().enumerate() {
                form.text(name, if index == field { &text } else { value.as_bytes() });
            }
            // Past the text fields: the file's own name.
            let file_name = if field == valid.len() {
                text.clone()
            } else {
                b"photo.png".to_vec()
            };
            form.file("assetData", &file_name, &file);
            let what = format!(
                "field {} = {}",
                valid.get(field).map_or("file name", |f| f.0),
                String::from_utf8_lossy(&text)
            );
            send_raw(
                &server,
                &key,
                &Method::POST,
                "/api/assets",
                &form.content_type(),
                form.finish(),
                &what,
            )
            .await;

            let mut picture = Multipart::default();
            picture.file("file", &text, &png);
            send_raw(
                &server,
                &key,
                &Method::POST,
                "/api/users/profile-image",
                &picture.content_type(),
                picture.finish(),
                &what,
            )
            .await;
        }
    }
}

/// The resumable uploads carry the same fields in headers: tus' base64 `Upload-Metadata` (any
/// bytes at all) and the IETF draft's `X-Immich-Asset-Data` (raw bytes in a header value).
#[tokio::test(flavor = "multi_thread")]
async fn hostile_text_in_resumable_upload_metadata_is_answered_without_a_5xx() {
    use base64::Engine;
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let key = server.api_key(&admin, &["all"]).await;
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let fields = [
        "filename",
        "fileCreatedAt",
        "fileModifiedAt",
        "duration",
        "isFavorite",
        "visibility",
        "livePhotoVideoId",
        "metadata",
    ];
    let valid = |field: &str| match field {
        "filename" => "photo.png",
        "fileCreatedAt" | "fileModifiedAt" => "2024-05-01T12:00:00.000Z",
        "isFavorite" => "false",
        "visibility" => "timeline",
        "duration" => "0:00:00.000000",
        "metadata" => "[]",
        _ => "",
    };
    let mut hostile: Vec<Vec<u8>> = hostile_texts().into_iter().map(String::into_bytes).collect();
    hostile.push(NOT_UTF8.to_vec());
    let png = darkroom_tests::fixtures::png_bytes();
    for field in fields {
        for text in &hostile {
            let metadata: Vec<String> = fields
                .iter()
                .filter(|f| **f == field || !valid(f).is_empty())
                .map(|f| format!("{f} {}", b64(if *f == field { text } else { valid(f).as_bytes() })))
                .collect();
            let what = format!("tus {field} = {}", String::from_utf8_lossy(text));
            let request = server
                .request(Method::POST, "/api/upload/tus")
                .header("x-api-key", &key)
                .header("tus-resumable", "1.0.0")
                .header("upload-length", png.len().to_string())
                .header("upload-metadata", metadata.join(","))
                .header("content-type", "application/offset+octet-stream")
                .body(png.clone());
            let response = request
                .send()
                .await
                .unwrap_or_else(|e| panic!("{what}: connection failed: {e}"));
            let status = response.status();
            let body = response
                .bytes()
                .await
                .unwrap_or_else(|e| panic!("{what}: answer cut off: {e}"));
            assert!(
                !status.is_server_error(),
                "{what} answered {status}: {}",
                String::from_utf8_lossy(&body)
            );

            let mut asset_data = format!("filename=\"photo.png\", file-created-at=\"2024-05-01T12:00:00.000Z\", file-modified-at=\"2024-05-01T12:00:00.000Z\", {}=\"", field.to_ascii_lowercase()).into_bytes();
            asset_data.extend_from_slice(text);
            asset_data.push(b'"');
            let Ok(value) = reqwest::header::HeaderValue::from_bytes(&asset_data) else {
                continue;
            };
            let what = format!("IETF {field} = {}", String::from_utf8_lossy(text));
            let request = server
                .request(Method::POST, "/api/upload")
                .header("x-api-key", &key)
                .header("upload-draft-interop-version", "8")
                .header("upload-complete", "?1")
                .header("x-immich-asset-data", value)
                .body(png.clone());
            let response = request
                .send()
                .await
                .unwrap_or_else(|e| panic!("{what}: connection failed: {e}"));
            let status = response.status();
            let body = response
                .bytes()
                .await
                .unwrap_or_else(|e| panic!("{what}: answer cut off: {e}"));
            assert!(
                !status.is_server_error(),
                "{what} answered {status}: {}",
                String::from_utf8_lossy(&body)
            );
        }
    }
}

/// A multipart body written byte by byte, so names and values may be any bytes at all.
#[derive(Default)]
struct Multipart {
    body: Vec<u8>,
}

const BOUNDARY: &str = "----darkroom-hostile-text-boundary";

impl Multipart {
    fn text(&mut self, name: &str, value: &[u8]) {
        self.body.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
        );
        self.body.extend_from_slice(value);
        self.body.extend_from_slice(b"\r\n");
    }

    fn file(&mut self, name: &str, file_name: &[u8], data: &[u8]) {
        self.body.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"").as_bytes(),
        );
        self.body.extend_from_slice(file_name);
        self.body
            .extend_from_slice(b"\"\r\nContent-Type: application/octet-stream\r\n\r\n");
        self.body.extend_from_slice(data);
        self.body.extend_from_slice(b"\r\n");
    }

    fn content_type(&self) -> String {
        format!("multipart/form-data; boundary={BOUNDARY}")
    }

    fn finish(mut self) -> Vec<u8> {
        self.body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
        self.body
    }
}
