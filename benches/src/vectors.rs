//! Generated embeddings for the vector benchmarks: clustered unit vectors written by binary
//! `COPY`, and the vector indexes built as the server builds them.

use std::time::{Duration, Instant};

use anyhow::Result;
use darkroom_storage::database::VectorExtension;
use darkroom_storage::embeddings;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection};
use uuid::Uuid;

use crate::psql;

pub const DIMENSION: usize = 512;

pub fn options(database: &str) -> PgConnectOptions {
    PgConnectOptions::new()
        .host("127.0.0.1")
        .username("postgres")
        .password("postgres")
        .database(database)
}

/// A unit vector around `centre` (cosine ≈ 0.8 to it, so two of one centre lie ≈ 0.36 apart
/// in cosine distance), or anywhere without one.
pub fn unit_vector(rng: &mut StdRng, centre: Option<&[f32]>) -> Vec<f32> {
    let spread = if centre.is_some() {
        0.75 / (DIMENSION as f32).sqrt()
    } else {
        1.0
    };
    let mut vector: Vec<f32> = (0..DIMENSION)
        .map(|i| {
            // Box–Muller: a standard normal from two uniforms.
            let (u, v): (f32, f32) = (rng.random_range(f32::EPSILON..1.0), rng.random());
            let normal = (-2.0 * u.ln()).sqrt() * (std::f32::consts::TAU * v).cos();
            centre.map_or(0.0, |c| c[i]) + spread * normal
        })
        .collect();
    let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
    vector.iter_mut().for_each(|x| *x /= norm);
    vector
}

pub fn as_text(vector: &[f32]) -> String {
    let numbers: Vec<String> = vector.iter().map(|x| x.to_string()).collect();
    format!("[{}]", numbers.join(","))
}

/// One embedding per id into `target` (`table (id column, embedding column)`): groups of
/// `per_centre` consecutive ids around one centre, but a `loners` share of ids around none.
/// pgvector's binary form is the dimension, a reserved short and the floats, all big-endian.
async fn copy_embeddings(
    connection: &mut PgConnection,
    target: &str,
    ids: &[Uuid],
    per_centre: usize,
    loners: f64,
    seed: u64,
) -> Result<()> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut copy = connection
        .copy_in_raw(&format!("COPY {target} FROM STDIN (FORMAT binary)"))
        .await?;
    let mut buffer = Vec::with_capacity(9 << 20);
    buffer.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
    buffer.extend_from_slice(&[0; 8]); // flags, header extension length
    let mut centre = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        if i % per_centre == 0 {
            centre = unit_vector(&mut rng, None);
        }
        let vector = if rng.random_bool(loners) {
            unit_vector(&mut rng, None)
        } else {
            unit_vector(&mut rng, Some(&centre))
        };
        buffer.extend_from_slice(&2i16.to_be_bytes());
        buffer.extend_from_slice(&16i32.to_be_bytes());
        buffer.extend_from_slice(id.as_bytes());
        buffer.extend_from_slice(&(4 + 4 * DIMENSION as i32).to_be_bytes());
        buffer.extend_from_slice(&(DIMENSION as i16).to_be_bytes());
        buffer.extend_from_slice(&0i16.to_be_bytes());
        for x in vector {
            buffer.extend_from_slice(&x.to_be_bytes());
        }
        if buffer.len() > 8 << 20 {
            copy.send(std::mem::take(&mut buffer)).await?;
        }
    }
    buffer.extend_from_slice(&(-1i16).to_be_bytes());
    copy.send(buffer).await?;
    copy.finish().await?;
    Ok(())
}

/// Fills `target` (`table (id column, embedding column)`) as [`copy_embeddings`] does, with its
/// vector index dropped first (one insert at a time into HNSW would take hours), then builds the
/// index as the server does at start-up, with room to build it in memory. How long each took.
pub async fn load_embeddings(
    database: &str,
    index: &str,
    target: &str,
    ids: &[Uuid],
    per_centre: usize,
    loners: f64,
) -> Result<(Duration, Duration)> {
    let started = Instant::now();
    psql(database, &format!("DROP INDEX IF EXISTS {index}"))?;
    let mut connection = PgConnection::connect_with(&options(database)).await?;
    copy_embeddings(&mut connection, target, ids, per_centre, loners, ids.len() as u64).await?;
    let loaded = started.elapsed();
    let building = options(database).options([
        ("maintenance_work_mem", "6GB"),
        ("max_parallel_maintenance_workers", "1"),
    ]);
    let pool = PgPoolOptions::new().max_connections(1).connect_with(building).await?;
    let started = Instant::now();
    embeddings::ensure_indexes(&pool, VectorExtension::PgVector).await?;
    let built = started.elapsed();
    psql(database, "VACUUM ANALYZE")?;
    Ok((loaded, built))
}
