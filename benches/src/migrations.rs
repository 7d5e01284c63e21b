//! `darkroom-migrations-bench [count]`: safe upgrades, measured. A database at the repository's
//! oldest schema with assets (its first two migrations) holding `count` (default 1,000,000)
//! assets is brought to this version by the server's own start-up step, beside the same SQL fed
//! to `psql` on an identical copy (the reference). Then the step is timed with nothing left to
//! migrate, beside one query's round trip. `DARKROOM_BENCH_KEEP_DATABASE=1` keeps the databases.
//!
//! ```sh
//! cargo build --release -p darkroom-benches && target/release/darkroom-migrations-bench
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark stops at the first failure

use std::borrow::Cow;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use darkroom_benches::vectors::options;
use darkroom_benches::{generate_assets, psql};
use darkroom_storage::database::{Database, VectorExtension};
use sqlx::{Connection, PgConnection};

/// The migrations of the oldest schema that holds assets.
const OLDEST: usize = 2;

fn recreate(name: &str, template: Option<&str>) -> Result<()> {
    psql("postgres", &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))?;
    let from = template.map(|t| format!(" TEMPLATE {t}")).unwrap_or_default();
    psql("postgres", &format!("CREATE DATABASE {name}{from}"))?;
    Ok(())
}

fn milliseconds(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let count: u64 = std::env::args().nth(1).map_or(Ok(1_000_000), |n| n.parse())?;
    let base = format!("darkroom_bench_migrations_{count}");
    recreate(&base, None)?;
    psql(&base, "CREATE EXTENSION IF NOT EXISTS vector")?;
    let mut oldest = sqlx::migrate!("../migrations");
    let later: Vec<String> = oldest.migrations[OLDEST..]
        .iter()
        .map(|m| format!("{}_{}.sql", m.version, m.description.replace(' ', "_")))
        .collect();
    oldest.migrations = Cow::Owned(oldest.migrations[..OLDEST].to_vec());
    oldest
        .run(&mut PgConnection::connect_with(&options(&base)).await?)
        .await?;
    let owner = psql(
        &base,
        r#"INSERT INTO "user" (email, name, "isAdmin") VALUES ('owner@example.com', 'Owner', true) RETURNING id"#,
    )?;
    let loading = Instant::now();
    generate_assets(&base, &owner, count, 0, "upgrade")?;
    psql(&base, "VACUUM ANALYZE")?;
    println!(
        "{count} assets at the oldest schema loaded in {:.0} s; {} migrations to go",
        loading.elapsed().as_secs_f64(),
        later.len()
    );

    let (ours, reference) = (format!("{base}_ours"), format!("{base}_psql"));
    recreate(&ours, Some(&base))?;
    recreate(&reference, Some(&base))?;

    let database = Database::connect(options(&ours), 4, Duration::from_secs(10), |_, _| {}).await?;
    let started = Instant::now();
    database.prepare(Some(VectorExtension::PgVector)).await?;
    let upgrade = started.elapsed();

    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
    let mut command = Command::new("psql");
    command
        .args([
            "-q",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            &reference,
            "-v",
            "ON_ERROR_STOP=1",
        ])
        .env("PGPASSWORD", "postgres");
    for file in &later {
        command.arg("-f").arg(folder.join(file));
    }
    let started = Instant::now();
    let status = command.status()?;
    let by_psql = started.elapsed();
    if !status.success() {
        bail!("psql could not apply {later:?}");
    }
    println!(
        "upgrade from the oldest schema, {count} assets: {:.2} s (the same SQL through psql: {:.2} s, ratio {:.2})",
        upgrade.as_secs_f64(),
        by_psql.as_secs_f64(),
        upgrade.as_secs_f64() / by_psql.as_secs_f64()
    );

    let mut nothing_to_do = Vec::new();
    for _ in 0..20 {
        let started = Instant::now();
        database.prepare(Some(VectorExtension::PgVector)).await?;
        nothing_to_do.push(started.elapsed());
    }
    let mut round_trips = Vec::new();
    for _ in 0..20 {
        let started = Instant::now();
        sqlx::query("SELECT 1").execute(database.pool()).await?;
        round_trips.push(started.elapsed());
    }
    let (slowest, step, trip) = (
        nothing_to_do.iter().max().copied().unwrap_or_default(),
        median(nothing_to_do),
        median(round_trips),
    );
    println!(
        "start with nothing to migrate: p50 {:.2} ms, max {:.2} ms (one query's round trip: {:.2} ms, ratio {:.1})",
        milliseconds(step),
        milliseconds(slowest),
        milliseconds(trip),
        step.as_secs_f64() / trip.as_secs_f64()
    );
    drop(database);
    if std::env::var_os("DARKROOM_BENCH_KEEP_DATABASE").is_none() {
        for name in [&ours, &reference, &base] {
            psql("postgres", &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))?;
        }
    }
    Ok(())
}
