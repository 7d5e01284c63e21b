//! `darkroom-bench`: start-up time to the first `200` from `/api/server/ping` on a migrated
//! database, and idle memory (RSS) of `darkroom-server`. Run it with the release binary built:
//!
//! ```sh
//! cargo build --release -p darkroom-api && cargo run --release -p darkroom-benches
//! ```
//!
//! Requests per second are measured with `wrk` against a running server (see benches/README.md).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark stops at the first failure

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

const DATABASE: &str = "darkroom_bench";
const PORT: u16 = 2299;

fn psql(sql: &str) -> Result<()> {
    let status = Command::new("psql")
        .args(["-q", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-c", sql])
        .env("PGPASSWORD", "postgres")
        .status()?;
    if !status.success() {
        bail!("psql failed: {sql}");
    }
    Ok(())
}

fn rss_kib(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmRSS")
}

#[tokio::main]
async fn main() -> Result<()> {
    let binary = std::env::var("DARKROOM_SERVER").unwrap_or_else(|_| "target/release/darkroom-server".into());
    let media = std::env::temp_dir().join("darkroom-bench-media");
    std::fs::create_dir_all(&media)?;
    psql(&format!("DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))?;
    psql(&format!("CREATE DATABASE {DATABASE}"))?;
    let run = |args: &[&str]| {
        Command::new(&binary)
            .args(args)
            .env("DB_HOSTNAME", "127.0.0.1")
            .env("REDIS_HOSTNAME", "127.0.0.1")
            .env("DARKROOM_REDIS_PREFIX", DATABASE)
            .env("DB_DATABASE_NAME", DATABASE)
            .env("IMMICH_MEDIA_LOCATION", &media)
            .env("IMMICH_PORT", PORT.to_string())
            .env("IMMICH_HOST", "127.0.0.1")
            .env("IMMICH_LOG_LEVEL", "warn")
            .stdout(Stdio::null())
            .spawn()
    };
    run(&["migrate"])?.wait()?;
    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{PORT}/api/server/ping");
    let mut startups = Vec::new();
    let mut idle_rss = 0;
    for round in 0..5 {
        let started = Instant::now();
        let mut child = run(&["serve"])?;
        loop {
            if let Ok(reply) = client.get(&url).send().await
                && reply.status().is_success()
            {
                break;
            }
            if started.elapsed() > Duration::from_secs(30) {
                let _ = child.kill();
                bail!("server did not answer within 30 s");
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        startups.push(started.elapsed());
        if round == 4 {
            tokio::time::sleep(Duration::from_secs(2)).await;
            idle_rss = rss_kib(child.id())?;
        }
        child.kill()?;
        child.wait()?;
    }
    startups.sort();
    println!("start-up to first 200 from /api/server/ping (migrated database), 5 runs:");
    println!(
        "  min {:?}, median {:?}, max {:?}  (goal < 300 ms; Immich 3.0.3: 6.4–8.1 s)",
        startups[0], startups[2], startups[4]
    );
    println!(
        "idle RSS of darkroom-server: {:.1} MiB  (goal < 30 MiB; Immich ≈ 894 MB)",
        idle_rss as f64 / 1024.0
    );
    psql(&format!("DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))?;
    let _ = std::fs::remove_dir_all(&media);
    Ok(())
}
