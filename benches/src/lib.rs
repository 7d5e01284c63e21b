//! Shared pieces of the benchmarks: a scratch database, the release server as a child process,
//! an admin with an API key, and memory readings from /proc.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark stops at the first failure

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

pub mod ml_service;
pub mod vectors;

pub fn psql(database: &str, sql: &str) -> Result<String> {
    let output = Command::new("psql")
        .args([
            "-q",
            "-t",
            "-A",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            database,
            "-c",
            sql,
        ])
        .env("PGPASSWORD", "postgres")
        .output()?;
    if !output.status.success() {
        bail!("psql failed: {sql}: {}", String::from_utf8_lossy(&output.stderr));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// `VmRSS` or `VmHWM` (peak) of a process, in KiB.
pub fn memory_kib(pid: u32, field: &str) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field).and_then(|v| v.strip_prefix(':')))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .with_context(|| format!("no {field}"))
}

pub fn server_binary() -> PathBuf {
    std::env::var_os("DARKROOM_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/release/darkroom-server"))
}

/// A release server on its own database and media folder, stopped and cleaned up on drop.
pub struct BenchServer {
    pub child: Child,
    pub url: String,
    pub database: String,
    pub media: PathBuf,
}

impl BenchServer {
    pub fn command(database: &str, media: &Path, port: u16) -> Command {
        let mut command = Command::new(server_binary());
        command
            .env("DB_HOSTNAME", "127.0.0.1")
            .env("DB_DATABASE_NAME", database)
            .env("REDIS_HOSTNAME", "127.0.0.1")
            .env("DARKROOM_REDIS_PREFIX", database)
            .env("IMMICH_MEDIA_LOCATION", media)
            .env("IMMICH_PORT", port.to_string())
            .env("IMMICH_HOST", "127.0.0.1")
            .env("IMMICH_LOG_LEVEL", "warn")
            .stdout(Stdio::null());
        command
    }

    /// Creates the database and media folder, starts the server and waits for it to answer.
    pub async fn start(name: &str, media: PathBuf, port: u16) -> Result<Self> {
        Self::start_with(name, media, port, &[]).await
    }

    /// As [`Self::start`], with more environment for the server.
    pub async fn start_with(name: &str, media: PathBuf, port: u16, env: &[(&str, &str)]) -> Result<Self> {
        let database = format!("darkroom_bench_{name}");
        psql("postgres", &format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"))?;
        psql("postgres", &format!("CREATE DATABASE {database}"))?;
        let _ = std::fs::remove_dir_all(&media);
        std::fs::create_dir_all(&media)?;
        Self::spawn(database, media, port, env).await
    }

    /// With `DARKROOM_BENCH_KEEP_DATABASE` set, the database and media folder an earlier run
    /// kept are used as they are (`true`); otherwise both are made anew.
    pub async fn start_or_reuse(name: &str, media: PathBuf, port: u16) -> Result<(Self, bool)> {
        let database = format!("darkroom_bench_{name}");
        let kept = std::env::var_os("DARKROOM_BENCH_KEEP_DATABASE").is_some()
            && media.exists()
            && psql(
                "postgres",
                &format!("SELECT count(*) FROM pg_database WHERE datname = '{database}'"),
            )? == "1";
        if kept {
            eprintln!("using the kept database {database}");
            Ok((Self::spawn(database, media, port, &[]).await?, true))
        } else {
            Ok((Self::start(name, media, port).await?, false))
        }
    }

    async fn spawn(database: String, media: PathBuf, port: u16, env: &[(&str, &str)]) -> Result<Self> {
        let child = Self::command(&database, &media, port)
            .envs(env.iter().copied())
            .spawn()
            .context("start darkroom-server (build it with cargo build --release)")?;
        let server = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            database,
            media,
        };
        server.wait_until_up().await?;
        Ok(server)
    }

    pub async fn wait_until_up(&self) -> Result<()> {
        let client = reqwest::Client::new();
        let started = Instant::now();
        loop {
            if let Ok(reply) = client.get(format!("{}/api/server/ping", self.url)).send().await
                && reply.status().is_success()
            {
                return Ok(());
            }
            if started.elapsed() > Duration::from_secs(30) {
                bail!("server did not answer within 30 s");
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Signs up an admin (unless a kept database has one) and returns an API key with every
    /// permission.
    pub async fn admin_api_key(&self) -> Result<String> {
        let client = reqwest::Client::new();
        let api = format!("{}/api", self.url);
        let credentials = serde_json::json!({"email": "admin@example.com", "password": "password", "name": "Admin"});
        let sign_up = client
            .post(format!("{api}/auth/admin-sign-up"))
            .json(&credentials)
            .send()
            .await?;
        let has_admin = psql(&self.database, r#"SELECT count(*) FROM "user" WHERE "isAdmin""#)? == "1";
        if !sign_up.status().is_success() && !has_admin {
            bail!("admin sign-up answered {}", sign_up.status());
        }
        let token = login(&self.url, "admin@example.com", "password").await?;
        let key: serde_json::Value = client
            .post(format!("{api}/api-keys"))
            .bearer_auth(&token)
            .json(&serde_json::json!({"name": "bench", "permissions": ["all"]}))
            .send()
            .await?
            .json()
            .await?;
        Ok(key["secret"].as_str().context("no secret")?.to_string())
    }
}

impl Drop for BenchServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Kept on request, to study the queries on the generated data afterwards.
        if std::env::var_os("DARKROOM_BENCH_KEEP_DATABASE").is_some() {
            eprintln!("kept database {}", self.database);
            return;
        }
        let _ = psql(
            "postgres",
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.database),
        );
        let _ = std::fs::remove_dir_all(&self.media);
    }
}

/// Sorted durations' percentile (0–100).
pub fn percentile(sorted: &[Duration], pct: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * pct / 100.0).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// `count` assets with EXIF for `owner`, spread evenly over 2005–2024 but for `busy` extra
/// ones in June 2024.
pub fn generate_assets(database: &str, owner: &str, count: u64, busy: u64, salt: &str) -> Result<()> {
    psql(
        database,
        &format!(
            r#"INSERT INTO asset (id, "ownerId", type, "originalPath", "originalFileName", checksum, "checksumAlgorithm",
                                  "fileCreatedAt", "fileModifiedAt", "localDateTime", width, height, thumbhash)
               SELECT gen_random_uuid(), '{owner}', CASE WHEN n % 20 = 0 THEN 'VIDEO' ELSE 'IMAGE' END, '/bench/{salt}/' || n,
                      'IMG_' || n || '.jpg', substring(sha256(('{salt}' || n)::bytea) FROM 1 FOR 20), 'sha1', t, t, t, 4000, 3000,
                      '\x1f0816042a5867778877788778877887'::bytea
               FROM (SELECT n, CASE WHEN n <= {busy} THEN timestamptz '2024-06-01' + n * interval '4 minutes'
                                    ELSE timestamptz '2005-01-01' + ((n * 631) % 10512000) * interval '1 minute' END AS t
                     FROM generate_series(1, {count}) n) s"#
        ),
    )?;
    psql(
        database,
        &format!(
            r#"INSERT INTO asset_exif ("assetId", make, model, "exifImageWidth", "exifImageHeight", "fileSizeInByte", "dateTimeOriginal",
                                       latitude, longitude, city, country, "timeZone")
               SELECT id, 'Bench', 'Camera', 4000, 3000, 3000000, "fileCreatedAt", 48.85, 2.35, 'Paris', 'France', 'UTC'
               FROM asset WHERE "ownerId" = '{owner}'"#
        ),
    )?;
    Ok(())
}

pub async fn login(url: &str, email: &str, password: &str) -> Result<String> {
    let body = serde_json::json!({"email": email, "password": password});
    let reply: serde_json::Value = reqwest::Client::new()
        .post(format!("{url}/api/auth/login"))
        .json(&body)
        .send()
        .await?
        .json()
        .await?;
    Ok(reply["accessToken"].as_str().context("no token")?.to_string())
}

/// Chrome's, Firefox's and Node's `fetch`'s header (zstd wins where offered).
pub const CHROME_ACCEPT_ENCODING: &str = "gzip, deflate, br, zstd";

/// Sends `accept_encoding` and decodes the answers, as browsers and the apps do.
pub fn decoding_client(accept_encoding: &'static str) -> Result<reqwest::Client> {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::ACCEPT_ENCODING,
        reqwest::header::HeaderValue::from_static(accept_encoding),
    );
    Ok(reqwest::Client::builder().default_headers(headers).build()?)
}
