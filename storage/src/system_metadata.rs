//! The `system_metadata` key/value table (JSON values).

use serde_json::Value;
use sqlx::PgPool;

use crate::Result;

pub async fn get(pool: &PgPool, key: &str) -> Result<Option<Value>> {
    Ok(
        sqlx::query_scalar!("SELECT value FROM system_metadata WHERE key = $1", key)
            .fetch_optional(pool)
            .await?,
    )
}

pub async fn set(pool: &PgPool, key: &str, value: &Value) -> Result<()> {
    sqlx::query!(
        "INSERT INTO system_metadata (key, value) VALUES ($1, $2)
         ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
        key,
        value
    )
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn delete(pool: &PgPool, key: &str) -> Result<()> {
    sqlx::query!("DELETE FROM system_metadata WHERE key = $1", key)
        .execute(pool)
        .await?;
    Ok(())
}
