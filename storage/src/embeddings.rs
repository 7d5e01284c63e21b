//! CLIP embeddings (`smart_search`) and face embeddings (`face_search`), their dimension and
//! their vector indexes (`clip_index`, `face_index`).
//!
//! Embeddings cross this module as pgvector's text form (`[0.1,-0.2,…]`), which is also the form
//! the machine-learning service answers with, so no vector type is needed on the Rust side.

use std::sync::atomic::{AtomicI64, Ordering};

use sqlx::{PgConnection, PgPool};
use tracing::info;
use uuid::Uuid;

use crate::Result;
use crate::database::VectorExtension;

/// A table of embeddings and the vector index on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmbeddingTable {
    /// `smart_search`, indexed by `clip_index`.
    Clip,
    /// `face_search`, indexed by `face_index`.
    Face,
}

impl EmbeddingTable {
    pub const ALL: [Self; 2] = [Self::Clip, Self::Face];

    fn table(self) -> &'static str {
        match self {
            Self::Clip => "smart_search",
            Self::Face => "face_search",
        }
    }

    fn index(self) -> &'static str {
        match self {
            Self::Clip => "clip_index",
            Self::Face => "face_index",
        }
    }

    /// How many of a VectorChord index's lists a search probes, as Immich sets it: an eighth
    /// of the lists, rounded up (1 until the index is known).
    fn probes(self) -> &'static AtomicI64 {
        static PROBES: [AtomicI64; 2] = [AtomicI64::new(1), AtomicI64::new(1)];
        &PROBES[self as usize]
    }

    /// The index as Immich makes it for `extension`: HNSW with m = 16 and ef_construction = 300
    /// on pgvector; VectorChord's `vchordrq` with a list count that grows with the rows.
    fn index_ddl(self, extension: VectorExtension, rows: i64) -> String {
        let (table, index) = (self.table(), self.index());
        match extension {
            VectorExtension::PgVector => format!(
                "CREATE INDEX IF NOT EXISTS {index} ON {table} USING hnsw (embedding vector_cosine_ops) \
                 WITH (ef_construction = 300, m = 16)"
            ),
            VectorExtension::VectorChord => {
                let lists = vectorchord_lists(rows);
                format!(
                    "CREATE INDEX IF NOT EXISTS {index} ON {table} USING vchordrq (embedding vector_cosine_ops) \
                     WITH (options = $$\nresidual_quantization = false\n[build.internal]\nlists = [{lists}]\n\
                     spherical_centroids = true\nbuild_threads = 4\nsampling_factor = 1024\n$$)"
                )
            }
        }
    }
}

/// Immich's list count for a VectorChord index of `rows` rows: 1 below 128,000 rows, then
/// powers of two that grow with the thousands of rows, and past 2,048,000 with their square root.
fn vectorchord_lists(rows: i64) -> i64 {
    // JavaScript's `Math.clz32`, which truncates its argument to 32 bits first.
    let clz32 = |value: f64| (value as i64 as u32).leading_zeros() as i64;
    if rows < 128_000 {
        1
    } else if rows < 2_048_000 {
        1 << (32 - clz32(rows as f64 / 1000.0))
    } else {
        1 << (33 - clz32((rows as f64).sqrt()))
    }
}

/// The dimension of `table`'s embedding column (`vector(N)`), if the column exists.
pub async fn dimension(pool: &PgPool, table: EmbeddingTable) -> Result<Option<i32>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT a.atttypmod AS "dimension!" FROM pg_attribute a
           WHERE a.attrelid = to_regclass($1) AND a.attname = 'embedding' AND NOT a.attisdropped"#,
        table.table()
    )
    .fetch_optional(pool)
    .await?)
}

/// Empties `table` and gives its column `dimension`, index rebuilt: what a change of model means.
pub async fn set_dimension(
    pool: &PgPool,
    table: EmbeddingTable,
    dimension: u32,
    extension: VectorExtension,
) -> Result<()> {
    let (name, index) = (table.table(), table.index());
    let mut tx = pool.begin().await?;
    // The dimension and names come from our own types; DDL takes no parameters.
    for statement in [
        format!("DROP INDEX IF EXISTS {index}"),
        format!("TRUNCATE {name}"),
        format!("ALTER TABLE {name} ALTER COLUMN embedding SET DATA TYPE vector({dimension})"),
        table.index_ddl(extension, 0),
    ] {
        // One statement per call: `raw_sql` futures on a transaction are not `Send` for every
        // lifetime, which the job workers need.
        sqlx::query(&statement).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    info!(
        table = name,
        dimension, "embedding dimension changed; the table was emptied"
    );
    Ok(())
}

/// Makes each table's vector index when it is missing or built for another extension.
pub async fn ensure_indexes(pool: &PgPool, extension: VectorExtension) -> Result<()> {
    let method = match extension {
        VectorExtension::PgVector => "using hnsw",
        VectorExtension::VectorChord => "using vchordrq",
    };
    for table in EmbeddingTable::ALL {
        let definition = sqlx::query_scalar!(
            r#"SELECT indexdef AS "definition!" FROM pg_indexes WHERE indexname = $1"#,
            table.index()
        )
        .fetch_optional(pool)
        .await?;
        if let Some(definition) = definition.filter(|definition| definition.to_lowercase().contains(method)) {
            if let Some(lists) = listed_lists(&definition) {
                table.probes().store(probes_for(lists), Ordering::Relaxed);
            }
            continue;
        }
        info!(
            index = table.index(),
            "building the vector index (this may take a while)"
        );
        let rows = sqlx::query_scalar(&format!("SELECT count(*) FROM {}", table.table()))
            .fetch_one(pool)
            .await?;
        let mut tx = pool.begin().await?;
        for statement in [
            format!("DROP INDEX IF EXISTS {}", table.index()),
            table.index_ddl(extension, rows),
        ] {
            sqlx::query(&statement).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        table
            .probes()
            .store(probes_for(vectorchord_lists(rows)), Ordering::Relaxed);
    }
    Ok(())
}

/// The list count in a `vchordrq` index's definition (`lists = [1024]`).
fn listed_lists(definition: &str) -> Option<i64> {
    let (_, rest) = definition.split_once("lists = [")?;
    rest.split(']').next()?.trim().parse().ok()
}

fn probes_for(lists: i64) -> i64 {
    (lists + 7) / 8
}

/// Sets up a transaction for a nearest-neighbour search on `table`, in one round trip: pgvector's
/// HNSW looks at `candidates` entries per round (at least 40, its default) and keeps looking,
/// nearest first, while filters discard what it found; VectorChord probes Immich's share of its
/// lists. Each setting is a placeholder where its extension is not in use.
pub async fn tune_search(connection: &mut PgConnection, table: EmbeddingTable, candidates: i64) -> Result<()> {
    sqlx::query(
        "SELECT set_config('hnsw.ef_search', $1, true), set_config('hnsw.iterative_scan', 'strict_order', true),
                set_config('vchordrq.probes', $2, true)",
    )
    .bind(candidates.clamp(40, 1000).to_string())
    .bind(table.probes().load(Ordering::Relaxed).to_string())
    .execute(connection)
    .await?;
    Ok(())
}

/// Stores (or replaces) an asset's CLIP embedding, given in pgvector's text form.
pub async fn upsert_clip(pool: &PgPool, asset_id: Uuid, embedding: &str) -> Result<()> {
    sqlx::query!(
        r#"INSERT INTO smart_search ("assetId", embedding) VALUES ($1, $2::text::vector)
           ON CONFLICT ("assetId") DO UPDATE SET embedding = EXCLUDED.embedding"#,
        asset_id,
        embedding
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// An asset's CLIP embedding in pgvector's text form.
pub async fn clip_embedding(pool: &PgPool, asset_id: Uuid) -> Result<Option<String>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT embedding::text AS "embedding!" FROM smart_search WHERE "assetId" = $1"#,
        asset_id
    )
    .fetch_optional(pool)
    .await?)
}

/// Removes every CLIP embedding (the model changed but kept its dimension).
pub async fn delete_all_clip(pool: &PgPool) -> Result<()> {
    sqlx::query!("TRUNCATE smart_search").execute(pool).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_counts_follow_immich() {
        assert_eq!(vectorchord_lists(0), 1);
        assert_eq!(vectorchord_lists(127_999), 1);
        // 128 thousand: 24 leading zeros, so 2^8.
        assert_eq!(vectorchord_lists(128_000), 256);
        assert_eq!(vectorchord_lists(1_000_000), 1024);
        // √4,000,000 = 2,000: 21 leading zeros, so 2^12.
        assert_eq!(vectorchord_lists(4_000_000), 4096);
    }

    #[test]
    fn probes_are_an_eighth_of_the_lists_an_index_was_built_with() {
        let definition = EmbeddingTable::Clip.index_ddl(VectorExtension::VectorChord, 1_000_000);
        assert_eq!(listed_lists(&definition), Some(1024));
        assert_eq!(probes_for(1024), 128);
        assert_eq!(probes_for(1), 1);
        let hnsw = EmbeddingTable::Clip.index_ddl(VectorExtension::PgVector, 1_000_000);
        assert_eq!(listed_lists(&hnsw), None);
    }
}
