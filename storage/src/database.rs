//! Connecting to PostgreSQL and bringing its schema up to date.

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgPool};
use tracing::{info, warn};

use crate::{Result, StorageError};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

/// The vector extension embeddings are stored with (Immich's `DB_VECTOR_EXTENSION`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VectorExtension {
    VectorChord,
    PgVector,
}

impl VectorExtension {
    pub fn extension_name(self) -> &'static str {
        match self {
            Self::VectorChord => "vchord",
            Self::PgVector => "vector",
        }
    }

    /// Parses `DB_VECTOR_EXTENSION` (`pgvector` or `vectorchord`; extension names also accepted).
    pub fn parse(value: &str) -> Option<Self> {
        match value.trim().to_ascii_lowercase().as_str() {
            "vectorchord" | "vchord" => Some(Self::VectorChord),
            "pgvector" | "vector" => Some(Self::PgVector),
            _ => None,
        }
    }
}

#[derive(Clone)]
pub struct Database {
    pool: PgPool,
}

impl Database {
    /// Connects, retrying with exponential backoff until `give_up_after` has passed.
    /// `on_retry` is told each failure, so the caller can say what it is waiting for.
    pub async fn connect(
        options: PgConnectOptions,
        max_connections: u32,
        give_up_after: Duration,
        on_retry: impl Fn(&sqlx::Error, Duration),
    ) -> Result<Self> {
        let options = options.log_statements(tracing::log::LevelFilter::Trace);
        let started = std::time::Instant::now();
        let mut delay = Duration::from_millis(250);
        // Probe with a single connection: it fails at once when nobody listens, whereas the
        // pool would keep retrying quietly until its acquire timeout.
        loop {
            match sqlx::PgConnection::connect_with(&options).await {
                Ok(probe) => {
                    let _ = probe.close().await;
                    break;
                }
                Err(error) if started.elapsed() + delay < give_up_after => {
                    on_retry(&error, delay);
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(10));
                }
                Err(error) => return Err(error.into()),
            }
        }
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            // No ping before every query (a round trip each): a connection that broke fails its
            // query and is dropped, and the next one is made afresh.
            .test_before_acquire(false)
            .connect_with(options)
            .await?;
        Ok(Self { pool })
    }

    pub fn from_pool(pool: PgPool) -> Self {
        Self { pool }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Makes the vector extension available and applies pending migrations.
    /// sqlx holds a PostgreSQL advisory lock while migrating, so servers starting together don't race;
    /// on an up-to-date database this is one small query.
    pub async fn prepare(&self, wanted: Option<VectorExtension>) -> Result<VectorExtension> {
        self.refuse_newer_schema().await?;
        let extension = self.ensure_vector_extension(wanted).await?;
        let applied = MIGRATOR.iter().count();
        MIGRATOR.run(&self.pool).await?;
        info!(
            vector_extension = extension.extension_name(),
            migrations = applied,
            "database schema is up to date"
        );
        Ok(extension)
    }

    /// An older Darkroom never writes to a database a newer one migrated: it stops at once,
    /// naming the migration it does not know.
    async fn refuse_newer_schema(&self) -> Result<()> {
        // sqlx's own bookkeeping table, absent (42P01) until the first migration ran.
        let applied: Vec<(i64, String)> =
            sqlx::query_as("SELECT version, description FROM _sqlx_migrations ORDER BY version")
                .fetch_all(&self.pool)
                .await
                .or_else(|error| match &error {
                    sqlx::Error::Database(e) if e.code().as_deref() == Some("42P01") => Ok(Vec::new()),
                    _ => Err(error),
                })?;
        let unknown = applied
            .into_iter()
            .find(|(version, _)| !MIGRATOR.iter().any(|known| known.version == *version));
        match unknown {
            Some((version, description)) => Err(StorageError::DatabaseNewer { version, description }),
            None => Ok(()),
        }
    }

    async fn ensure_vector_extension(&self, wanted: Option<VectorExtension>) -> Result<VectorExtension> {
        let available: Vec<String> = sqlx::query_scalar!(
            r#"SELECT name AS "name!" FROM pg_available_extensions WHERE name IN ('vchord', 'vector')"#
        )
        .fetch_all(&self.pool)
        .await?;
        let is_available = |e: VectorExtension| available.iter().any(|name| name == e.extension_name());
        let extension = match wanted {
            Some(e) if is_available(e) => e,
            Some(e) => return Err(StorageError::VectorExtensionUnavailable(e.extension_name())),
            None => [VectorExtension::VectorChord, VectorExtension::PgVector]
                .into_iter()
                .find(|e| is_available(*e))
                .ok_or(StorageError::NoVectorExtension)?,
        };
        let installed = sqlx::query_scalar!(
            r#"SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = $1) AS "installed!""#,
            extension.extension_name()
        )
        .fetch_one(&self.pool)
        .await?;
        if !installed {
            warn!(extension = extension.extension_name(), "creating vector extension");
            // Extension names cannot be bound as parameters; this one comes from our own enum.
            let ddl = format!("CREATE EXTENSION IF NOT EXISTS {} CASCADE", extension.extension_name());
            sqlx::raw_sql(&ddl).execute(&self.pool).await?;
        }
        Ok(extension)
    }
}

/// A PostgreSQL advisory lock, held on a connection of its own for as long as this lives.
pub struct AdvisoryLock(Option<sqlx::pool::PoolConnection<sqlx::Postgres>>);

impl Drop for AdvisoryLock {
    fn drop(&mut self) {
        // Closing the session lets go of the lock, without a round trip that could not be awaited here.
        if let Some(connection) = self.0.take() {
            drop(connection.detach());
        }
    }
}

/// Takes advisory lock `key`, or `None` when another session holds it.
pub async fn try_advisory_lock(pool: &PgPool, key: i64) -> Result<Option<AdvisoryLock>> {
    let mut connection = pool.acquire().await?;
    let taken = sqlx::query_scalar!(r#"SELECT pg_try_advisory_lock($1) AS "taken!""#, key)
        .fetch_one(&mut *connection)
        .await?;
    Ok(taken.then(|| AdvisoryLock(Some(connection))))
}

/// Closes the pool's idle connections, so the next queries open fresh ones: after the schema
/// was replaced (a restore), statements the old connections prepared name types that are gone.
pub async fn renew_idle_connections(pool: &PgPool) {
    let mut stale = Vec::new();
    while let Some(connection) = pool.try_acquire() {
        stale.push(connection);
    }
    for connection in stale {
        let _ = connection.close().await;
    }
}
