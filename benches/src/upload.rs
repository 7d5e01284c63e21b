//! `darkroom-upload-bench`: the ingest figures of the asset-ingest work, each measured beside
//! its reference in the same run.
//!
//! 1. One 1 GiB upload over loopback, as a ratio to `dd` writing 1 GiB (with fdatasync) to the
//!    same disk, and the server's peak RSS meanwhile.
//! 2. 8 concurrent uploaders of 20 MB photos: photos/s.
//! 3. `bulk-upload-check` of 5,000 checksums against a 100,000-asset library: p50/p99.
//!
//! ```sh
//! cargo build --release -p darkroom-api -p darkroom-benches && target/release/darkroom-upload-bench
//! ```
//! `BENCH_MEDIA` chooses the folder (default `target/bench-media`, on the repository's disk).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark stops at the first failure

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use darkroom_benches::{BenchServer, memory_kib, percentile, psql};
use sha1::{Digest, Sha1};

const GIB: u64 = 1024 * 1024 * 1024;
const PHOTO: usize = 20_000_000;

fn media_root() -> PathBuf {
    std::env::var_os("BENCH_MEDIA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/bench-media"))
}

/// `dd` writing 1 GiB of zeros to `dir`, flushed to disk: MB/s.
fn dd_mb_per_s(dir: &std::path::Path) -> Result<f64> {
    std::fs::create_dir_all(dir)?;
    let target = dir.join("dd.bin");
    let started = Instant::now();
    let status = std::process::Command::new("dd")
        .args([
            "if=/dev/zero",
            &format!("of={}", target.display()),
            "bs=1M",
            "count=1024",
            "conv=fdatasync",
        ])
        .stderr(std::process::Stdio::null())
        .status()?;
    let elapsed = started.elapsed();
    std::fs::remove_file(&target)?;
    if !status.success() {
        bail!("dd failed");
    }
    Ok(GIB as f64 / 1e6 / elapsed.as_secs_f64())
}

/// `size` bytes made on the fly in 1 MiB chunks (distinct per `seed`), so the client holds
/// only one chunk at a time.
fn generated_body(size: u64, seed: u8) -> reqwest::Body {
    let chunk: Bytes = (0..1024 * 1024u32)
        .map(|i| (i as u8).wrapping_mul(167).wrapping_add(seed))
        .collect::<Vec<u8>>()
        .into();
    let chunks = size.div_ceil(chunk.len() as u64);
    let stream = futures::stream::iter((0..chunks).map(move |i| {
        let take = (size - i * chunk.len() as u64).min(chunk.len() as u64) as usize;
        Ok::<Bytes, std::io::Error>(chunk.slice(..take))
    }));
    reqwest::Body::wrap_stream(stream)
}

async fn upload(
    client: &reqwest::Client,
    url: &str,
    key: &str,
    name: &str,
    body: reqwest::Body,
    size: u64,
) -> Result<()> {
    let form = reqwest::multipart::Form::new()
        .text("fileCreatedAt", "2024-05-01T12:00:00.000Z")
        .text("fileModifiedAt", "2024-05-01T12:00:00.000Z")
        .part(
            "assetData",
            reqwest::multipart::Part::stream_with_length(body, size).file_name(name.to_string()),
        );
    let reply = client
        .post(format!("{url}/api/assets"))
        .header("x-api-key", key)
        .multipart(form)
        .send()
        .await?;
    if reply.status() != reqwest::StatusCode::CREATED {
        bail!("upload of {name} answered {}: {}", reply.status(), reply.text().await?);
    }
    Ok(())
}

/// Three uploads and four dd runs, interleaved, since a virtual disk's speed drifts; medians.
async fn one_big_upload() -> Result<()> {
    const RUNS: usize = 3;
    let dd_dir = media_root().join("dd");
    let mut dd = vec![dd_mb_per_s(&dd_dir)?];
    let mut ours = Vec::new();
    let mut peak = 0;
    for run in 0..RUNS {
        let server = BenchServer::start("upload_big", media_root().join("big"), 2301).await?;
        let key = server.admin_api_key().await?;
        let client = reqwest::Client::new();
        let started = Instant::now();
        upload(
            &client,
            &server.url,
            &key,
            "big.mp4",
            generated_body(GIB, run as u8),
            GIB,
        )
        .await?;
        ours.push(GIB as f64 / 1e6 / started.elapsed().as_secs_f64());
        peak = peak.max(memory_kib(server.pid(), "VmHWM")?);
        drop(server);
        dd.push(dd_mb_per_s(&dd_dir)?);
    }
    let median = |values: &mut Vec<f64>| {
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    let (ours_all, dd_all) = (format!("{ours:.0?}"), format!("{dd:.0?}"));
    let (ours, dd) = (median(&mut ours), median(&mut dd));
    println!(
        "1 GiB upload over loopback: median {ours:.0} MB/s of {ours_all}; dd (fdatasync) to the same disk: median {dd:.0} MB/s of {dd_all}"
    );
    println!(
        "  ratio to dd: {:.2}  (goal >= 0.8; Immich 3.0.3: 0.41-0.52)",
        ours / dd
    );
    println!(
        "  server peak RSS (VmHWM) during the uploads: {:.1} MiB  (goal < 64 MiB)",
        peak as f64 / 1024.0
    );
    Ok(())
}

async fn concurrent_photos() -> Result<()> {
    const UPLOADERS: usize = 8;
    const PER_UPLOADER: usize = 5;
    let server = BenchServer::start("upload_photos", media_root().join("photos"), 2302).await?;
    let key = server.admin_api_key().await?;
    let client = reqwest::Client::new();
    let started = Instant::now();
    let tasks = (0..UPLOADERS).map(|uploader| {
        let (client, url, key) = (client.clone(), server.url.clone(), key.clone());
        tokio::spawn(async move {
            for n in 0..PER_UPLOADER {
                let seed = (uploader * PER_UPLOADER + n) as u8;
                upload(
                    &client,
                    &url,
                    &key,
                    &format!("IMG_{uploader}_{n}.jpg"),
                    generated_body(PHOTO as u64, seed),
                    PHOTO as u64,
                )
                .await?;
            }
            Ok::<(), anyhow::Error>(())
        })
    });
    for task in futures::future::join_all(tasks).await {
        task??;
    }
    let elapsed = started.elapsed();
    let photos = (UPLOADERS * PER_UPLOADER) as f64;
    println!(
        "{UPLOADERS} concurrent uploaders, {} photos of 20 MB: {:.1} photos/s ({:.0} MB/s) in {:.2} s; peak RSS {:.1} MiB",
        photos as usize,
        photos / elapsed.as_secs_f64(),
        photos * PHOTO as f64 / 1e6 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64(),
        memory_kib(server.pid(), "VmHWM")? as f64 / 1024.0
    );
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn bulk_upload_check() -> Result<()> {
    const LIBRARY: usize = 100_000;
    const ASKED: usize = 5_000;
    const ROUNDS: usize = 60;
    let server = BenchServer::start("upload_check", media_root().join("check"), 2303).await?;
    let key = server.admin_api_key().await?;
    // A library of 100,000 assets written straight into the database, with 20-byte checksums.
    let owner = psql(&server.database, r#"SELECT id FROM "user" LIMIT 1"#)?;
    psql(
        &server.database,
        &format!(
            r#"INSERT INTO asset ("ownerId", type, "originalPath", "originalFileName", checksum, "checksumAlgorithm",
                                  "fileCreatedAt", "fileModifiedAt", "localDateTime")
               SELECT '{owner}', 'IMAGE', '/nowhere/' || n, n || '.jpg', substring(sha256(n::text::bytea) FROM 1 FOR 20), 'sha1',
                      now(), now(), now()
               FROM generate_series(1, {LIBRARY}) n"#
        ),
    )?;
    psql(&server.database, "ANALYZE asset")?;
    // Half of the asked checksums are known, half are not.
    let stored: Vec<String> = psql(
        &server.database,
        &format!(
            "SELECT encode(checksum, 'hex') FROM asset ORDER BY random() LIMIT {}",
            ASKED / 2
        ),
    )?
    .lines()
    .map(str::to_string)
    .collect();
    let mut assets: Vec<serde_json::Value> = stored
        .iter()
        .enumerate()
        .map(|(i, c)| serde_json::json!({"id": format!("k{i}"), "checksum": c}))
        .collect();
    for i in 0..ASKED - stored.len() {
        let checksum = hex(&Sha1::digest(format!("new-{i}").as_bytes()));
        assets.push(serde_json::json!({"id": format!("n{i}"), "checksum": checksum}));
    }
    let body = serde_json::json!({ "assets": assets });
    let client = reqwest::Client::new();
    let mut times = Vec::with_capacity(ROUNDS);
    for round in 0..ROUNDS + 3 {
        let started = Instant::now();
        let reply: serde_json::Value = client
            .post(format!("{}/api/assets/bulk-upload-check", server.url))
            .header("x-api-key", &key)
            .json(&body)
            .send()
            .await?
            .json()
            .await?;
        let elapsed = started.elapsed();
        let rejected = reply["results"]
            .as_array()
            .context("results")?
            .iter()
            .filter(|r| r["action"] == "reject")
            .count();
        if rejected != stored.len() {
            bail!("expected {} duplicates, got {rejected}", stored.len());
        }
        if round >= 3 {
            times.push(elapsed); // the first rounds warm the caches
        }
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "bulk-upload-check of {ASKED} checksums against {LIBRARY} assets, {ROUNDS} rounds: p50 {:.1} ms, p99 {:.1} ms  (goal p99 < 100 ms)",
        ms(percentile(&times, 50.0)),
        ms(percentile(&times, 99.0))
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let which = std::env::args().nth(1).unwrap_or_else(|| "all".into());
    if matches!(which.as_str(), "all" | "big") {
        one_big_upload().await?;
    }
    if matches!(which.as_str(), "all" | "photos") {
        concurrent_photos().await?;
    }
    if matches!(which.as_str(), "all" | "check") {
        bulk_upload_check().await?;
    }
    let _ = std::fs::remove_dir_all(media_root());
    Ok(())
}
