//! `darkroom-smart-search-bench [100000|1000000|all]`: `/search/smart` over a library whose
//! assets carry generated 512-d CLIP embeddings, with the HNSW index the server builds.
//!
//! - p50/p99 of `POST /search/smart` by similar photo (`queryAssetId`), pages of 100 (the web
//!   app's) and of 10, sent with Chrome's `Accept-Encoding` and decoded;
//! - recall@10 of those answers against an exact scan (`enable_indexscan = off`), and of
//!   "text-like" vectors that lie between clusters, through the same query shape;
//! - the plan of the query and the exact scan's latency (what users see when the index is skipped).
//!
//! The embeddings are clustered as photo libraries are (bursts and look-alikes): unit vectors
//! around one centre per 500 assets. With `DARKROOM_BENCH_KEEP_DATABASE=1` the generated
//! database and media folder are kept, and a later run with the same variable uses them again
//! (building the index over 1,000,000 vectors takes most of an hour on two cores).
//!
//! ```sh
//! cargo build --release -p darkroom-api -p darkroom-benches && target/release/darkroom-smart-search-bench 100000
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark stops at the first failure

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use darkroom_benches::vectors::{DIMENSION, as_text, load_embeddings, options};
use darkroom_benches::{BenchServer, CHROME_ACCEPT_ENCODING, decoding_client, generate_assets, percentile, psql};
use darkroom_storage::embeddings::{self, EmbeddingTable};
use darkroom_storage::search::{self, SearchFilter};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::{Connection, Executor, PgConnection, PgPool};
use uuid::Uuid;

const ASSETS_PER_CLUSTER: usize = 500;
const QUERIES: usize = 300;
const RECALL_QUERIES: usize = 50;

async fn smart_search(
    client: &reqwest::Client,
    url: &str,
    key: &str,
    asset: Uuid,
    size: usize,
) -> Result<(Duration, Vec<String>)> {
    let started = Instant::now();
    let reply = client
        .post(format!("{url}/api/search/smart"))
        .header("x-api-key", key)
        .json(&serde_json::json!({"queryAssetId": asset, "size": size}))
        .send()
        .await?;
    if !reply.status().is_success() {
        bail!("/search/smart answered {}: {}", reply.status(), reply.text().await?);
    }
    let body: serde_json::Value = reply.json().await?;
    let took = started.elapsed();
    let ids = body["assets"]["items"]
        .as_array()
        .context("no items")?
        .iter()
        .filter_map(|item| item["id"].as_str().map(str::to_owned))
        .collect();
    Ok((took, ids))
}

/// The nearest 10 assets of `owner` to `vector` by an exact scan, the index switched off.
async fn exact_nearest(connection: &mut PgConnection, owner: &str, vector: &str) -> Result<Vec<String>> {
    let mut tx = connection.begin().await?;
    tx.execute("SET LOCAL enable_indexscan = off").await?;
    let ids: Vec<Uuid> = sqlx::query_scalar(
        r#"SELECT a.id FROM smart_search s JOIN asset a ON a.id = s."assetId"
           WHERE a."ownerId" = $1::uuid AND a."deletedAt" IS NULL AND a.visibility IN ('timeline', 'archive')
           ORDER BY s.embedding <=> $2::vector LIMIT 10"#,
    )
    .bind(owner)
    .bind(vector)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(ids.iter().map(Uuid::to_string).collect())
}

/// The nearest `limit` assets of `owner` to `vector` through the server's own search.
async fn indexed_nearest(pool: &PgPool, owner: &str, vector: &str, limit: i64) -> Result<Vec<String>> {
    let filter = SearchFilter {
        owners: Some(vec![owner.parse()?]),
        visibility: "not-locked".to_owned(),
        ..SearchFilter::default()
    };
    let ids = search::find_nearest(pool, &filter, vector, limit, 0).await?;
    Ok(ids.iter().map(Uuid::to_string).collect())
}

fn overlap(found: &[String], exact: &[String]) -> usize {
    let exact: HashSet<&String> = exact.iter().take(10).collect();
    found.iter().take(10).filter(|id| exact.contains(id)).count()
}

fn summary(what: &str, mut samples: Vec<Duration>) {
    samples.sort();
    println!(
        "  {what}: p50 {:.2} ms, p99 {:.2} ms ({} requests)",
        percentile(&samples, 50.0).as_secs_f64() * 1e3,
        percentile(&samples, 99.0).as_secs_f64() * 1e3,
        samples.len()
    );
}

async fn run(count: u64, port: u16) -> Result<()> {
    let name = format!("smart_search_{count}");
    let media = PathBuf::from(format!("target/bench-media/{name}"));
    let (server, reused) = BenchServer::start_or_reuse(&name, media, port).await?;
    let key = server.admin_api_key().await?;
    let database = server.database.clone();
    let owner = psql(&database, r#"SELECT id FROM "user" WHERE email = 'admin@example.com'"#)?;
    let stored: u64 = psql(&database, "SELECT count(*) FROM smart_search")?.parse()?;
    println!("smart search over {count} embeddings of {DIMENSION} dimensions");
    if !reused || stored != count {
        psql(&database, "TRUNCATE asset CASCADE")?;
        let started = Instant::now();
        generate_assets(&database, &owner, count, 0, "smart")?;
        let ids: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM asset ORDER BY id")
            .fetch_all(&PgPool::connect_with(options(&database)).await?)
            .await?;
        let target = r#"smart_search ("assetId", embedding)"#;
        let (loaded, built) = load_embeddings(&database, "clip_index", target, &ids, ASSETS_PER_CLUSTER, 0.0).await?;
        println!(
            "  {} assets in {:.0} s, their embeddings in {:.0} s; clip_index (HNSW m=16, ef_construction=300) built in {:.0} s",
            ids.len(),
            (started.elapsed() - loaded - built).as_secs_f64(),
            loaded.as_secs_f64(),
            built.as_secs_f64()
        );
    }
    println!(
        "  index size {}",
        psql(&database, "SELECT pg_size_pretty(pg_relation_size('clip_index'))")?
    );

    let mut rng = StdRng::seed_from_u64(7);
    let pool = PgPool::connect_with(options(&database)).await?;
    let mut connection = pool.acquire().await?;
    let all: Vec<Uuid> =
        sqlx::query_scalar("SELECT \"assetId\" FROM smart_search TABLESAMPLE BERNOULLI (1) LIMIT 5000")
            .fetch_all(&mut *connection)
            .await?;
    let queries: Vec<Uuid> = (0..QUERIES).map(|_| all[rng.random_range(0..all.len())]).collect();
    let client = decoding_client(CHROME_ACCEPT_ENCODING)?;
    // Warm-up: the first pass reads the index into the page cache.
    for &asset in queries.iter().take(50) {
        smart_search(&client, &server.url, &key, asset, 100).await?;
    }
    let mut pages = Vec::new();
    for size in [100, 10] {
        let mut samples = Vec::new();
        let mut found = Vec::new();
        for &asset in &queries {
            let (took, ids) = smart_search(&client, &server.url, &key, asset, size).await?;
            samples.push(took);
            found.push(ids);
        }
        summary(&format!("POST /search/smart by similar photo, size {size}"), samples);
        pages.push((size, found));
    }
    let mut exact_samples = Vec::new();
    let mut exact_pages = Vec::new();
    for asset in queries.iter().take(RECALL_QUERIES) {
        let vector = embeddings::clip_embedding(&pool, *asset)
            .await?
            .context("query without embedding")?;
        let started = Instant::now();
        exact_pages.push(exact_nearest(&mut connection, &owner, &vector).await?);
        exact_samples.push(started.elapsed());
    }
    summary("exact scan (no index), the query alone", exact_samples);
    for (size, found) in &pages {
        let hits: usize = found
            .iter()
            .zip(&exact_pages)
            .map(|(found, exact)| overlap(found, exact))
            .sum();
        println!(
            "  recall@10 of the pages of {size} against an exact scan: {:.3} ({RECALL_QUERIES} queries)",
            hits as f64 / (RECALL_QUERIES * 10) as f64
        );
    }

    // Vectors between two clusters, as a text's embedding lies among photos: rows sampled
    // one by one (a block sample would take its pairs from one cluster, stored side by side).
    let pairs: Vec<String> = sqlx::query_scalar(
        "SELECT embedding::text FROM smart_search TABLESAMPLE BERNOULLI (1) ORDER BY random() LIMIT $1",
    )
    .bind(2 * RECALL_QUERIES as i64)
    .fetch_all(&mut *connection)
    .await?;
    let mut between = Vec::new();
    for pair in pairs.chunks_exact(2) {
        let parse = |text: &str| -> Vec<f32> {
            text.trim_matches(['[', ']'])
                .split(',')
                .map(|x| x.parse().unwrap())
                .collect()
        };
        let (a, b) = (parse(&pair[0]), parse(&pair[1]));
        let mixed: Vec<f32> = a
            .iter()
            .zip(&b)
            .map(|(x, y)| x + y + rng.random_range(-0.02..0.02))
            .collect();
        let norm = mixed.iter().map(|x| x * x).sum::<f32>().sqrt();
        let vector = as_text(&mixed.iter().map(|x| x / norm).collect::<Vec<_>>());
        let exact = exact_nearest(&mut connection, &owner, &vector).await?;
        between.push((vector, exact));
    }
    for page in [101, 301, 1001] {
        let (mut hits, mut samples) = (0, Vec::new());
        for (vector, exact) in &between {
            let started = Instant::now();
            let indexed = indexed_nearest(&pool, &owner, vector, page).await?;
            samples.push(started.elapsed());
            hits += overlap(&indexed, exact);
        }
        println!(
            "  recall@10 of vectors between two clusters (page of {}): {:.3} ({} queries)",
            page - 1,
            hits as f64 / (between.len() * 10) as f64,
            between.len()
        );
        summary(&format!("the query alone, page of {}", page - 1), samples);
    }

    let vector = embeddings::clip_embedding(&pool, queries[0])
        .await?
        .context("query without embedding")?;
    let mut tx = connection.begin().await?;
    embeddings::tune_search(&mut tx, EmbeddingTable::Clip, 101).await?;
    let plan: Vec<String> = sqlx::query_scalar(
        r#"EXPLAIN (ANALYZE, COSTS OFF) SELECT a.id FROM smart_search s JOIN asset a ON a.id = s."assetId"
           WHERE a."ownerId" = $1::uuid AND a."deletedAt" IS NULL ORDER BY s.embedding <=> $2::vector LIMIT 101"#,
    )
    .bind(&owner)
    .bind(&vector)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    println!("  plan:");
    for line in plan {
        // The vector literal is 512 numbers long.
        let line = match line.split_once("<=> '[") {
            Some((head, _)) => format!("{head}<=> '[…]'::vector)"),
            None => line,
        };
        println!("    {line}");
    }
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let which = std::env::args().nth(1).unwrap_or_else(|| "all".into());
    let counts: &[u64] = match which.as_str() {
        "100000" => &[100_000],
        "1000000" => &[1_000_000],
        "all" => &[100_000, 1_000_000],
        other => bail!("unknown size {other}: 100000, 1000000 or all"),
    };
    for &count in counts {
        run(count, 2331).await?;
    }
    Ok(())
}
