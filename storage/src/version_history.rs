//! The `version_history` table: one row per server version this database has run.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::Result;

#[derive(Debug, Clone)]
pub struct VersionHistoryEntry {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub version: String,
}

pub async fn list(pool: &PgPool) -> Result<Vec<VersionHistoryEntry>> {
    Ok(sqlx::query_as!(
        VersionHistoryEntry,
        r#"SELECT id, "createdAt" AS created_at, version FROM version_history ORDER BY "createdAt" DESC"#
    )
    .fetch_all(pool)
    .await?)
}

/// Records `version` unless it is already the latest entry.
pub async fn record(pool: &PgPool, version: &str) -> Result<()> {
    sqlx::query!(
        r#"INSERT INTO version_history (version)
           SELECT $1::varchar
           WHERE NOT EXISTS (
             SELECT 1 FROM (SELECT version FROM version_history ORDER BY "createdAt" DESC LIMIT 1) latest
             WHERE latest.version = $1)"#,
        version
    )
    .execute(pool)
    .await?;
    Ok(())
}
