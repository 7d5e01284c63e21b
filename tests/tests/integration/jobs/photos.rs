//! Photos: metadata and thumbnails on upload, every still format, wide gamut, RAW previews and XMP sidecars.

use std::time::Duration;

use darkroom_tests::{TestServer, fixtures};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{queue, temp_dir, upload_file, wait_for, wait_for_queue_idle};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_get_metadata_and_thumbnails() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let dir = temp_dir();
    let jpeg = dir.join("beach.jpg");
    fixtures::jpeg_with_exif(&jpeg, 10);
    let id = upload_file(&server, &admin, &jpeg).await;

    let asset = wait_for(&server, &admin, &id, |a| a["thumbhash"].is_string()).await;
    let exif = &asset["exifInfo"];
    assert_eq!(
        (exif["make"].clone(), exif["model"].clone()),
        (json!("Darkroom"), json!("TestCam"))
    );
    assert_eq!(exif["dateTimeOriginal"], json!("2023-07-14T08:20:30+00:00"));
    assert_eq!(exif["timeZone"], json!("UTC+2"));
    assert!((exif["latitude"].as_f64().unwrap() - 48.8584).abs() < 1e-6);
    assert_eq!(asset["localDateTime"], json!("2023-07-14T10:20:30.000Z"));
    assert_eq!(asset["fileCreatedAt"], json!("2023-07-14T08:20:30.000Z"));
    assert_eq!(
        (asset["width"].clone(), asset["height"].clone()),
        (json!(320), json!(240))
    );

    let thumbnail = server
        .send(
            server
                .request(Method::GET, &format!("/api/assets/{id}/thumbnail"))
                .bearer_auth(&admin),
        )
        .await;
    assert_eq!(thumbnail.status, StatusCode::OK);
    assert_eq!(thumbnail.headers["content-type"], "image/webp");
    assert!(thumbnail.bytes.starts_with(b"RIFF") && thumbnail.bytes[8..12] == *b"WEBP");
    assert_eq!(
        thumbnail.headers["content-disposition"],
        "inline; filename*=UTF-8''beach_thumbnail.webp"
    );
    let preview = server
        .send(
            server
                .request(Method::GET, &format!("/api/assets/{id}/thumbnail?size=preview"))
                .bearer_auth(&admin),
        )
        .await;
    assert_eq!(preview.headers["content-type"], "image/jpeg");
    assert!(preview.bytes.starts_with(&[0xFF, 0xD8]));
    assert!(
        !preview.bytes.windows(4).any(|w| w == b"Exif"),
        "generated images carry no EXIF (and so no GPS)"
    );
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let full = no_redirects
        .get(format!("{}/api/assets/{id}/thumbnail?size=fullsize", server.url))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(full.status(), StatusCode::FOUND);
    assert_eq!(full.headers()["location"], format!("/api/assets/{id}/original"));
    let thumbs = server.media.join("thumbs");
    let owner = server.call(Method::GET, "/api/users/me", Some(&admin), None).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        thumbs
            .join(&owner)
            .join(&id[0..2])
            .join(&id[2..4])
            .join(format!("{id}_preview.jpeg"))
            .exists()
    );

    // A rotated photo is turned upright.
    let rotated = dir.join("rotated.jpg");
    fixtures::still(&rotated, 20);
    let status = std::process::Command::new("exiftool")
        .args([
            "-q",
            "-overwrite_original",
            "-Orientation#=6",
            rotated.to_str().unwrap(),
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let rotated_id = upload_file(&server, &admin, &rotated).await;
    let rotated_asset = wait_for(&server, &admin, &rotated_id, |a| a["thumbhash"].is_string()).await;
    assert_eq!(
        (rotated_asset["width"].clone(), rotated_asset["height"].clone()),
        (json!(240), json!(320))
    );

    let stats = queue(&server, &admin, "thumbnailGeneration").await;
    assert_eq!(stats["statistics"]["completed"], json!(2));

    // Other formats in the settings: regenerated files follow, the old ones go.
    server
        .update_config(&admin, |config| {
            config["image"]["preview"]["format"] = json!("webp");
            config["image"]["thumbnail"]["format"] = json!("jpeg");
        })
        .await;
    let regenerate = server
        .call(
            Method::POST,
            "/api/assets/jobs",
            Some(&admin),
            Some(json!({"assetIds": [id], "name": "regenerate-thumbnail"})),
        )
        .await;
    assert_eq!(regenerate.status, StatusCode::NO_CONTENT);
    wait_for_queue_idle(&server, &admin, "thumbnailGeneration", 3).await;
    let folder = thumbs.join(&owner).join(&id[0..2]).join(&id[2..4]);
    assert!(folder.join(format!("{id}_preview.webp")).exists() && !folder.join(format!("{id}_preview.jpeg")).exists());
    assert!(
        folder.join(format!("{id}_thumbnail.jpeg")).exists() && !folder.join(format!("{id}_thumbnail.webp")).exists()
    );
    let preview = server
        .send(
            server
                .request(Method::GET, &format!("/api/assets/{id}/thumbnail?size=preview"))
                .bearer_auth(&admin),
        )
        .await;
    assert_eq!(
        (preview.headers["content-type"].to_str().unwrap(), &preview.bytes[8..12]),
        ("image/webp", &b"WEBP"[..])
    );
    let thumbnail = server
        .send(
            server
                .request(Method::GET, &format!("/api/assets/{id}/thumbnail"))
                .bearer_auth(&admin),
        )
        .await;
    assert_eq!(thumbnail.headers["content-type"], "image/jpeg");
    std::fs::remove_dir_all(dir).unwrap();
}

fn exiftool_json(path: &str) -> Value {
    let output = std::process::Command::new("exiftool")
        .args(["-j", "-n", path])
        .output()
        .unwrap();
    serde_json::from_slice::<Value>(&output.stdout).unwrap()[0].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_go_to_xmp_sidecars_and_survive_re_extraction() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let dir = temp_dir();
    let jpeg = dir.join("edit.jpg");
    fixtures::jpeg_with_exif(&jpeg, 33);
    let id = upload_file(&server, &admin, &jpeg).await;
    wait_for(&server, &admin, &id, |a| a["thumbhash"].is_string()).await;

    let edit = json!({"description": "Sunset", "rating": 4, "latitude": -33.8568, "longitude": 151.2153, "dateTimeOriginal": "2022-02-02T10:00:00.000+05:30"});
    assert_eq!(
        server
            .call(Method::PUT, &format!("/api/assets/{id}"), Some(&admin), Some(edit))
            .await
            .status,
        StatusCode::OK
    );
    let original = server
        .call(Method::GET, &format!("/api/assets/{id}"), Some(&admin), None)
        .await
        .body["originalPath"]
        .as_str()
        .unwrap()
        .to_string();
    let sidecar = format!("{original}.xmp");
    for _ in 0..200 {
        if std::path::Path::new(&sidecar).exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The sidecar is written, then read back: the asset shows what it says.
    let asset = wait_for(&server, &admin, &id, |a| {
        a["localDateTime"] == json!("2022-02-02T10:00:00.000Z")
    })
    .await;
    let tags = exiftool_json(&sidecar);
    assert_eq!(
        (tags["Description"].clone(), tags["Rating"].clone()),
        (json!("Sunset"), json!(4))
    );
    assert_eq!(tags["DateTimeOriginal"], json!("2022:02:02 10:00:00+05:30"));
    assert_eq!(
        (
            asset["exifInfo"]["description"].clone(),
            asset["exifInfo"]["rating"].clone()
        ),
        (json!("Sunset"), json!(4))
    );
    assert_eq!(asset["exifInfo"]["timeZone"], json!("UTC+5:30"));
    assert_eq!(asset["exifInfo"]["latitude"], json!(-33.8568));
    // A fresh extraction from the file keeps the user's values.
    server
        .call(
            Method::POST,
            "/api/assets/jobs",
            Some(&admin),
            Some(json!({"assetIds": [id], "name": "refresh-metadata"})),
        )
        .await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let refreshed = server
        .call(Method::GET, &format!("/api/assets/{id}"), Some(&admin), None)
        .await
        .body;
    assert_eq!(
        (
            refreshed["exifInfo"]["description"].clone(),
            refreshed["exifInfo"]["make"].clone()
        ),
        (json!("Sunset"), json!("Darkroom"))
    );

    // A sidecar put next to another original is found by the sidecar queue.
    let other = dir.join("other.jpg");
    fixtures::jpeg_with_exif(&other, 44);
    let other_id = upload_file(&server, &admin, &other).await;
    wait_for(&server, &admin, &other_id, |a| a["thumbhash"].is_string()).await;
    let other_path = server
        .call(Method::GET, &format!("/api/assets/{other_id}"), Some(&admin), None)
        .await
        .body["originalPath"]
        .as_str()
        .unwrap()
        .to_string();
    let status = std::process::Command::new("exiftool")
        .args(["-q", "-XMP-dc:Description=From a sidecar"])
        .arg(format!("{other_path}.xmp"))
        .status()
        .unwrap();
    assert!(status.success());
    server
        .call(
            Method::PUT,
            "/api/jobs/sidecar",
            Some(&admin),
            Some(json!({"command": "start", "force": false})),
        )
        .await;
    wait_for(&server, &admin, &other_id, |a| {
        a["exifInfo"]["description"] == json!("From a sidecar")
    })
    .await;
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_still_format_gets_thumbnails_and_full_size_when_enabled() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    server
        .update_config(&admin, |config| config["image"]["fullsize"]["enabled"] = json!(true))
        .await;
    let dir = temp_dir();
    let mut ids = Vec::new();
    // 16-bit PNG, GIF (first frame), TIFF, BMP, WebP, JPEG XL (through ffmpeg), and HEIC
    // (which gets a full-size JPEG).
    for (name, pixel_format) in [
        ("deep.png", Some("rgb48be")),
        ("anim.gif", None),
        ("scan.tiff", None),
        ("old.bmp", None),
        ("web.webp", None),
        ("new.jxl", None),
    ] {
        let path = dir.join(name);
        let mut args = vec![
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x240:rate=5",
            "-frames:v",
            if name.ends_with(".gif") { "3" } else { "1" },
        ];
        if let Some(format) = pixel_format {
            args.extend(["-pix_fmt", format]);
        }
        let path_text = path.to_str().unwrap().to_string();
        args.push(&path_text);
        assert!(
            std::process::Command::new("ffmpeg")
                .args(&args)
                .status()
                .unwrap()
                .success(),
            "{name}"
        );
        ids.push((name, upload_file(&server, &admin, &path).await));
    }
    let heic = dir.join("phone.heic");
    fixtures::heic(&heic, 5);
    let heic_id = upload_file(&server, &admin, &heic).await;
    for (name, id) in &ids {
        let asset = wait_for(&server, &admin, id, |a| a["thumbhash"].is_string()).await;
        assert_eq!(asset["type"], json!("IMAGE"), "{name}");
    }
    wait_for(&server, &admin, &heic_id, |a| a["thumbhash"].is_string()).await;
    let full = server
        .send(
            server
                .request(Method::GET, &format!("/api/assets/{heic_id}/thumbnail?size=fullsize"))
                .bearer_auth(&admin),
        )
        .await;
    assert_eq!(
        (full.status, full.headers["content-type"].to_str().unwrap()),
        (StatusCode::OK, "image/jpeg")
    );
    assert!(full.bytes.starts_with(&[0xFF, 0xD8]));
    std::fs::remove_dir_all(dir).unwrap();
}

/// The colour of the middle pixel of a generated JPEG or WebP.
fn middle_pixel(bytes: &[u8]) -> [u8; 3] {
    let picture = image::load_from_memory(bytes).unwrap().into_rgb8();
    picture.get_pixel(picture.width() / 2, picture.height() / 2).0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wide_gamut_photos_keep_p3_or_become_srgb_as_configured() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let dir = temp_dir();
    // A flat green, tagged Display P3: more saturated than any sRGB green.
    let photo = dir.join("wide.jpg");
    let made = std::process::Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "color=c=0x28C83C:size=64x48",
            "-frames:v",
            "1",
            "-q:v",
            "1",
        ])
        .arg(&photo)
        .status()
        .unwrap();
    assert!(made.success());
    let profile = dir.join("p3.icc");
    std::fs::write(&profile, darkroom_media::color::display_p3_profile().unwrap()).unwrap();
    let tagged = std::process::Command::new("exiftool")
        .args([
            "-q",
            "-overwrite_original",
            &format!("-ICC_Profile<={}", profile.display()),
        ])
        .arg(&photo)
        .status()
        .unwrap();
    assert!(tagged.success());
    let id = upload_file(&server, &admin, &photo).await;
    wait_for(&server, &admin, &id, |a| a["thumbhash"].is_string()).await;
    let described: Option<String> =
        sqlx::query_scalar(r#"SELECT "profileDescription" FROM asset_exif WHERE "assetId" = $1::uuid"#)
            .bind(&id)
            .fetch_one(&mut server.db().await)
            .await
            .unwrap();
    assert_eq!(described.as_deref(), Some("Display P3"));

    let fetch = |size: &'static str| {
        let (server, admin, id) = (&server, &admin, &id);
        async move {
            server
                .send(
                    server
                        .request(Method::GET, &format!("/api/assets/{id}/thumbnail?size={size}"))
                        .bearer_auth(admin),
                )
                .await
                .bytes
        }
    };
    // Default `p3`: the pixels stay, and both outputs say they are P3.
    let preview = fetch("preview").await;
    let profile_bytes = std::fs::read(&profile).unwrap();
    assert!(
        preview.windows(12).any(|w| w == b"ICC_PROFILE\0"),
        "the preview carries the profile"
    );
    let [r, g, b] = middle_pixel(&preview);
    assert!(
        r.abs_diff(40) < 8 && g.abs_diff(200) < 8 && b.abs_diff(60) < 8,
        "P3 pixels are kept: {r} {g} {b}"
    );
    let thumbnail = fetch("thumbnail").await;
    let icc_at = thumbnail
        .windows(4)
        .position(|w| w == b"ICCP")
        .expect("the WebP thumbnail carries the profile");
    assert_eq!(
        &thumbnail[icc_at + 8..icc_at + 8 + profile_bytes.len()],
        profile_bytes.as_slice()
    );

    // `srgb`: converted, untagged.
    server
        .update_config(&admin, |config| config["image"]["colorspace"] = json!("srgb"))
        .await;
    let regenerate = server
        .call(
            Method::POST,
            "/api/assets/jobs",
            Some(&admin),
            Some(json!({"assetIds": [id], "name": "regenerate-thumbnail"})),
        )
        .await;
    assert_eq!(regenerate.status, StatusCode::NO_CONTENT);
    let mut converted = Vec::new();
    for _ in 0..200 {
        converted = fetch("preview").await;
        if !converted.windows(12).any(|w| w == b"ICC_PROFILE\0") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        !converted.windows(12).any(|w| w == b"ICC_PROFILE\0"),
        "an sRGB preview needs no profile"
    );
    let [r, g, _] = middle_pixel(&converted);
    assert!(
        r < 20 && g >= 200,
        "P3 green seen in sRGB: red gone, green as strong or stronger ({r} {g})"
    );
    assert!(!fetch("thumbnail").await.windows(4).any(|w| w == b"ICCP"));
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_files_show_the_preview_the_camera_embedded() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let dir = temp_dir();
    let dng = dir.join("DSC_0001.dng");
    fixtures::dng(&dng, 7);
    let id = upload_file(&server, &admin, &dng).await;
    let asset = wait_for(&server, &admin, &id, |a| a["thumbhash"].is_string()).await;
    assert_eq!(
        (asset["originalMimeType"].clone(), asset["exifInfo"]["make"].clone()),
        (json!("image/dng"), json!("Darkroom"))
    );
    let preview = server
        .send(
            server
                .request(Method::GET, &format!("/api/assets/{id}/thumbnail?size=preview"))
                .bearer_auth(&admin),
        )
        .await;
    assert_eq!(preview.status, StatusCode::OK);
    let picture = image::load_from_memory(&preview.bytes).unwrap();
    assert_eq!(
        (picture.width(), picture.height()),
        (640, 480),
        "the embedded 640×480 preview, not the 16×16 raw"
    );
    std::fs::remove_dir_all(dir).unwrap();
}
