//! `darkroom-faces-bench [count]`: facial recognition (Immich's incremental clustering) over
//! `count` (default 100,000) detected faces with generated 512-d embeddings: seconds from
//! pressing "all" on the jobs page until the `facialRecognition` queue is idle again, with the
//! server's own job concurrency.
//!
//! One face per asset; faces come in groups of 100 around one identity (1,000 people at
//! 100,000), and 5 % are loners that look like nobody else (deferred, then left alone).
//! `DARKROOM_BENCH_KEEP_DATABASE=1` keeps the generated database for another run.
//!
//! ```sh
//! cargo build --release -p darkroom-api -p darkroom-benches && target/release/darkroom-faces-bench
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark stops at the first failure

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use darkroom_benches::vectors::{load_embeddings, options};
use darkroom_benches::{BenchServer, generate_assets, psql};
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection};
use uuid::Uuid;

const FACES_PER_PERSON: usize = 100;
const LONERS: f64 = 0.05;

async fn generate(database: &str, owner: &str, count: u64) -> Result<(Duration, Duration)> {
    psql(database, "TRUNCATE asset, person CASCADE")?;
    generate_assets(database, owner, count, 0, "faces")?;
    psql(
        database,
        r#"INSERT INTO asset_face ("assetId", "imageWidth", "imageHeight", "boundingBoxX1", "boundingBoxY1",
                                   "boundingBoxX2", "boundingBoxY2")
           SELECT id, 1440, 1080, 600, 300, 840, 600 FROM asset"#,
    )?;
    let faces: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM asset_face ORDER BY id")
        .fetch_all(&mut PgConnection::connect_with(&options(database)).await?)
        .await?;
    let target = r#"face_search ("faceId", embedding)"#;
    load_embeddings(database, "face_index", target, &faces, FACES_PER_PERSON, LONERS).await
}

async fn queue_counts(client: &reqwest::Client, url: &str, key: &str) -> Result<Value> {
    let jobs: Value = client
        .get(format!("{url}/api/jobs"))
        .header("x-api-key", key)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(jobs["facialRecognition"]["jobCounts"].clone())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let count: u64 = std::env::args().nth(1).map_or(Ok(100_000), |n| n.parse())?;
    let name = format!("faces_{count}");
    let media = PathBuf::from(format!("target/bench-media/{name}"));
    let (server, reused) = BenchServer::start_or_reuse(&name, media, 2332).await?;
    let key = server.admin_api_key().await?;
    let database = server.database.clone();
    let owner = psql(&database, r#"SELECT id FROM "user" WHERE email = 'admin@example.com'"#)?;
    let stored: u64 = psql(&database, "SELECT count(*) FROM face_search")?.parse()?;
    if !reused || stored != count {
        let (loaded, built) = generate(&database, &owner, count).await?;
        println!(
            "{count} faces' embeddings loaded in {:.0} s, face_index built in {:.0} s",
            loaded.as_secs_f64(),
            built.as_secs_f64()
        );
    }
    let client = reqwest::Client::new();
    let config: Value = client
        .get(format!("{}/api/system-config", server.url))
        .header("x-api-key", &key)
        .send()
        .await?
        .json()
        .await?;
    // A kept database may come with the queue of a run cut short.
    let command = |command: &'static str| {
        client
            .put(format!("{}/api/jobs/facialRecognition", server.url))
            .header("x-api-key", &key)
            .json(&json!({"command": command, "force": true}))
            .send()
    };
    command("empty").await?.error_for_status()?;
    while queue_counts(&client, &server.url, &key).await?["active"].as_u64() != Some(0) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let started = Instant::now();
    command("start").await?.error_for_status()?;
    let mut idle_polls = 0;
    while idle_polls < 3 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let counts = queue_counts(&client, &server.url, &key).await?;
        let busy: u64 = ["active", "waiting", "delayed"]
            .iter()
            .map(|state| counts[state].as_u64().unwrap_or(0))
            .sum();
        idle_polls = if busy == 0 { idle_polls + 1 } else { 0 };
        if started.elapsed() > Duration::from_secs(3 * 3600) {
            bail!("the recognition queue still holds {busy} jobs after three hours");
        }
    }
    let took = started.elapsed().as_secs_f64() - 0.6; // the three idle polls
    let people = psql(&database, "SELECT count(*) FROM person")?;
    let assigned: u64 = psql(
        &database,
        r#"SELECT count(*) FROM asset_face WHERE "personId" IS NOT NULL"#,
    )?
    .parse()?;
    let failed = queue_counts(&client, &server.url, &key).await?["failed"].clone();
    println!(
        // One job at a time, as Immich runs this queue.
        "facial recognition of {count} faces (one at a time, minFaces {}, maxDistance {}): {took:.1} s, {:.0} faces/s",
        config["machineLearning"]["facialRecognition"]["minFaces"],
        config["machineLearning"]["facialRecognition"]["maxDistance"],
        count as f64 / took
    );
    println!(
        "  {people} people ({} expected), {assigned} faces assigned ({:.0} expected), {failed} jobs failed",
        count as usize / FACES_PER_PERSON,
        count as f64 * (1.0 - LONERS)
    );
    Ok(())
}
