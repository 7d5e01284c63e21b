//! Video: HEIC and video thumbnails, range playback, transcoding policy, motion and live photos, HDR tone mapping.

use darkroom_tests::{TestServer, fixtures};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{queue, temp_dir, upload_file, wait_for, wait_for_queue_idle};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heic_and_video_get_thumbnails_and_videos_play_in_ranges() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let dir = temp_dir();
    let heic = dir.join("night.heic");
    fixtures::heic(&heic, 60);
    let mp4 = dir.join("clip.mp4");
    fixtures::mp4(&mp4, 70);
    let heic_id = upload_file(&server, &admin, &heic).await;
    let video_id = upload_file(&server, &admin, &mp4).await;

    let photo = wait_for(&server, &admin, &heic_id, |a| a["thumbhash"].is_string()).await;
    assert_eq!(
        (photo["width"].clone(), photo["height"].clone()),
        (json!(320), json!(240))
    );
    let video = wait_for(&server, &admin, &video_id, |a| a["thumbhash"].is_string()).await;
    assert_eq!(video["type"], json!("VIDEO"));
    assert!(video["duration"].as_i64().unwrap() >= 900, "{}", video["duration"]);
    let thumbnail = server
        .send(
            server
                .request(Method::GET, &format!("/api/assets/{video_id}/thumbnail"))
                .bearer_auth(&admin),
        )
        .await;
    assert_eq!(thumbnail.headers["content-type"], "image/webp");

    let bytes = std::fs::read(&mp4).unwrap();
    let ranged = server
        .send(
            server
                .request(Method::GET, &format!("/api/assets/{video_id}/video/playback"))
                .bearer_auth(&admin)
                .header("range", "bytes=0-99"),
        )
        .await;
    assert_eq!(ranged.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(ranged.bytes, bytes[..100]);
    assert_eq!(ranged.headers["content-type"], "video/mp4");
    let not_video = server
        .call(
            Method::GET,
            &format!("/api/assets/{heic_id}/video/playback"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(not_video.message(), "Asset not found or asset is not a video");

    // Filmed with the phone upright: stored 320×240 with a display matrix turning it a quarter
    // clockwise (as phones write it, exiftool Rotation 90), shown 240×320.
    let upright = dir.join("upright.mp4");
    let turned = std::process::Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-y",
            "-i",
            mp4.to_str().unwrap(),
            "-c",
            "copy",
            "-metadata:s:v:0",
            "rotate=270",
            upright.to_str().unwrap(),
        ])
        .status()
        .unwrap();
    assert!(turned.success());
    let upright_id = upload_file(&server, &admin, &upright).await;
    let upright = wait_for(&server, &admin, &upright_id, |a| a["thumbhash"].is_string()).await;
    assert_eq!(
        (
            upright["width"].clone(),
            upright["height"].clone(),
            upright["exifInfo"]["orientation"].clone()
        ),
        (json!(240), json!(320), json!("6"))
    );
    let preview = server
        .send(
            server
                .request(Method::GET, &format!("/api/assets/{upright_id}/thumbnail?size=preview"))
                .bearer_auth(&admin),
        )
        .await;
    let picture = image::load_from_memory(&preview.bytes).unwrap();
    assert_eq!(
        (picture.width(), picture.height()),
        (240, 320),
        "the preview stands upright too"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

fn ffprobe_codec_and_size(path: &std::path::Path) -> (String, u64, u64) {
    let output = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=codec_name,width,height",
            "-of",
            "json",
        ])
        .arg(path)
        .output()
        .unwrap();
    let probe: Value = serde_json::from_slice(&output.stdout).unwrap();
    let stream = &probe["streams"][0];
    (
        stream["codec_name"].as_str().unwrap_or("").to_string(),
        stream["width"].as_u64().unwrap_or(0),
        stream["height"].as_u64().unwrap_or(0),
    )
}

async fn encoded_path(server: &TestServer, id: &str) -> Option<String> {
    let mut db = server.db().await;
    sqlx::query_scalar(r#"SELECT path FROM asset_file WHERE "assetId" = $1::uuid AND type = 'encoded_video'"#)
        .bind(id)
        .fetch_optional(&mut db)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn videos_are_converted_as_the_policy_says() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let dir = temp_dir();
    // MPEG-4 Part 2 with PCM sound is not accepted: it must become H.264 with AAC.
    let old = dir.join("old.mov");
    let status = std::process::Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=640x480:rate=10",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440",
            "-t",
            "1",
            "-c:v",
            "mpeg4",
            "-c:a",
            "pcm_s16le",
        ])
        .arg(&old)
        .status()
        .unwrap();
    assert!(status.success());
    // H.264 in MP4 at 1080p is fine as it is under `required`.
    let modern = dir.join("modern.mp4");
    let status = std::process::Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=1920x1080:rate=10",
            "-t",
            "1",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
        ])
        .arg(&modern)
        .status()
        .unwrap();
    assert!(status.success());
    let old_id = upload_file(&server, &admin, &old).await;
    let modern_id = upload_file(&server, &admin, &modern).await;
    wait_for_queue_idle(&server, &admin, "videoConversion", 2).await;

    let converted = encoded_path(&server, &old_id)
        .await
        .expect("the mpeg4 video was converted");
    assert!(
        converted.contains("/encoded-video/") && converted.ends_with(&format!("{old_id}.mp4")),
        "{converted}"
    );
    assert_eq!(
        ffprobe_codec_and_size(std::path::Path::new(&converted)),
        ("h264".to_string(), 640, 480)
    );
    let audio = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "a:0",
            "-show_entries",
            "stream=codec_name",
            "-of",
            "csv=p=0",
            &converted,
        ])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&audio.stdout).trim(),
        "aac",
        "the sound comes along"
    );
    assert!(
        encoded_path(&server, &modern_id).await.is_none(),
        "accepted codec and container: left alone"
    );
    // Playback serves the conversion.
    let played = server
        .send(
            server
                .request(Method::GET, &format!("/api/assets/{old_id}/video/playback"))
                .bearer_auth(&admin),
        )
        .await;
    assert_eq!(played.bytes, std::fs::read(&converted).unwrap());

    // Under `optimal`, the 1080p video is scaled to 720p.
    server
        .update_config(&admin, |config| config["ffmpeg"]["transcode"] = json!("optimal"))
        .await;
    let done_before = queue(&server, &admin, "videoConversion").await["statistics"]["completed"]
        .as_u64()
        .unwrap();
    server
        .call(
            Method::PUT,
            "/api/jobs/videoConversion",
            Some(&admin),
            Some(json!({"command": "start", "force": false})),
        )
        .await;
    wait_for_queue_idle(&server, &admin, "videoConversion", done_before + 1).await;
    let scaled = encoded_path(&server, &modern_id).await.expect("scaled under optimal");
    assert_eq!(
        ffprobe_codec_and_size(std::path::Path::new(&scaled)),
        ("h264".to_string(), 1280, 720)
    );
    let silent = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "a",
            "-show_entries",
            "stream=index",
            "-of",
            "csv=p=0",
            &scaled,
        ])
        .output()
        .unwrap();
    assert!(silent.stdout.is_empty(), "a video without sound stays without");
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn motion_photos_give_up_their_video() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let dir = temp_dir();
    let photo = dir.join("PXL_20240101_motion.jpg");
    let video = fixtures::motion_photo(&photo, 12);
    let id = upload_file(&server, &admin, &photo).await;
    let still = wait_for(&server, &admin, &id, |a| {
        a["livePhotoVideoId"].is_string() && a["thumbhash"].is_string()
    })
    .await;
    let video_id = still["livePhotoVideoId"].as_str().unwrap().to_string();
    let motion = server
        .call(Method::GET, &format!("/api/assets/{video_id}"), Some(&admin), None)
        .await
        .body;
    assert_eq!(
        (motion["type"].clone(), motion["visibility"].clone()),
        (json!("VIDEO"), json!("hidden"))
    );
    assert_eq!(motion["originalFileName"], json!("PXL_20240101_motion.mp4"));
    assert!(
        motion["originalPath"].as_str().unwrap().contains("/encoded-video/")
            && motion["originalPath"].as_str().unwrap().ends_with("-MP.mp4")
    );
    let played = server
        .send(
            server
                .request(Method::GET, &format!("/api/assets/{video_id}/video/playback"))
                .bearer_auth(&admin),
        )
        .await;
    assert!(played.bytes == video, "the embedded video, byte for byte");
    let stats = server
        .call(Method::GET, "/api/assets/statistics", Some(&admin), None)
        .await
        .body;
    assert_eq!(
        stats,
        json!({"images": 1, "videos": 0, "total": 1}),
        "the motion part stays out of the timeline"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_photos_pair_whichever_part_arrives_first() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let dir = temp_dir();
    let mut pairs = Vec::new();
    for (index, still_first) in [(1u32, true), (2, false)] {
        let (still, video) = (
            dir.join(format!("IMG_000{index}.JPG")),
            dir.join(format!("IMG_000{index}.MOV")),
        );
        fixtures::live_photo(
            &still,
            &video,
            &format!("5A0B6C1D-0000-4000-8000-00000000000{index}"),
            index * 40,
        );
        let (still_id, video_id) = if still_first {
            let still_id = upload_file(&server, &admin, &still).await;
            wait_for(&server, &admin, &still_id, |a| a["thumbhash"].is_string()).await;
            (still_id, upload_file(&server, &admin, &video).await)
        } else {
            let video_id = upload_file(&server, &admin, &video).await;
            wait_for(&server, &admin, &video_id, |a| a["thumbhash"].is_string()).await;
            (upload_file(&server, &admin, &still).await, video_id)
        };
        pairs.push((still_id, video_id));
    }
    for (still_id, video_id) in &pairs {
        let still = wait_for(&server, &admin, still_id, |a| a["livePhotoVideoId"].is_string()).await;
        assert_eq!(&still["livePhotoVideoId"], &json!(video_id));
        let video = wait_for(&server, &admin, video_id, |a| a["visibility"] == json!("hidden")).await;
        assert_eq!(video["type"], json!("VIDEO"));
    }
    let stats = server
        .call(Method::GET, "/api/assets/statistics", Some(&admin), None)
        .await
        .body;
    assert_eq!(
        stats,
        json!({"images": 2, "videos": 0, "total": 2}),
        "the moving parts stay out of the timeline"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hdr_video_is_tone_mapped_to_sdr() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let dir = temp_dir();
    let hdr = dir.join("hdr10.mp4");
    fixtures::hdr10_video(&hdr);
    let id = upload_file(&server, &admin, &hdr).await;
    wait_for(&server, &admin, &id, |a| a["thumbhash"].is_string()).await;
    wait_for_queue_idle(&server, &admin, "videoConversion", 1).await;
    let converted = encoded_path(&server, &id)
        .await
        .expect("10-bit HEVC is converted under the default policy");
    let output = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=codec_name,pix_fmt,color_transfer,color_primaries",
            "-of",
            "json",
            &converted,
        ])
        .output()
        .unwrap();
    let stream = serde_json::from_slice::<Value>(&output.stdout).unwrap()["streams"][0].clone();
    assert_eq!(stream["codec_name"], json!("h264"));
    assert_eq!(stream["pix_fmt"], json!("yuv420p"), "8-bit SDR");
    assert_eq!(
        (stream["color_transfer"].clone(), stream["color_primaries"].clone()),
        (json!("bt709"), json!("bt709")),
        "{stream}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}
