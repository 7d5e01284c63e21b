//! The housekeeping of Immich's nightly jobs: trash past its days, users past their delete
//! delay, stale sessions, old audit rows, and quota usage recounted from the files.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::Result;

/// Marks every asset trashed before `cutoff` for permanent deletion; returns how many.
/// (`assets::purge_deleted` then removes them.)
pub async fn expire_trash(pool: &PgPool, cutoff: DateTime<Utc>) -> Result<u64> {
    Ok(sqlx::query!(
        r#"UPDATE asset SET status = 'deleted' WHERE "deletedAt" <= $1 AND status <> 'deleted'"#,
        cutoff
    )
    .execute(pool)
    .await?
    .rows_affected())
}

/// Users soft-deleted before `cutoff`.
pub async fn users_deleted_before(pool: &PgPool, cutoff: DateTime<Utc>) -> Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT id FROM "user" WHERE "deletedAt" < $1 ORDER BY "deletedAt""#,
        cutoff
    )
    .fetch_all(pool)
    .await?)
}

/// A soft-deleted user about to be removed for good.
#[derive(Debug, Clone)]
pub struct DoomedUser {
    pub id: Uuid,
    pub storage_label: Option<String>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub status: String,
}

pub async fn doomed_user(pool: &PgPool, id: Uuid) -> Result<Option<DoomedUser>> {
    Ok(sqlx::query_as!(
        DoomedUser,
        r#"SELECT id, "storageLabel" AS storage_label, "deletedAt" AS deleted_at, status::text AS "status!" FROM "user" WHERE id = $1 AND "deletedAt" IS NOT NULL"#,
        id
    )
    .fetch_optional(pool)
    .await?)
}

/// Removes a user's albums and then the user, whose assets, sessions, keys and links go with
/// it (foreign keys cascade; the audit triggers record the deletions for mobile sync).
pub async fn delete_user(pool: &PgPool, id: Uuid) -> Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query!(
        r#"DELETE FROM album WHERE id IN (SELECT "albumId" FROM album_user WHERE "userId" = $1 AND role = 'owner')"#,
        id
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(r#"DELETE FROM "user" WHERE id = $1 AND "deletedAt" IS NOT NULL"#, id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Sessions unused for 90 days or past their expiry; returns how many went.
pub async fn delete_stale_sessions(pool: &PgPool) -> Result<u64> {
    Ok(sqlx::query!(r#"DELETE FROM session WHERE "updatedAt" <= now() - interval '90 days' OR ("expiresAt" IS NOT NULL AND "expiresAt" <= now())"#)
        .execute(pool)
        .await?
        .rows_affected())
}

/// Audit rows older than 31 days (a client that has not synced for 30 days starts over);
/// every `*_audit` table is pruned, including those later migrations add.
pub async fn prune_audit_tables(pool: &PgPool) -> Result<u64> {
    let tables = sqlx::query_scalar!(
        r#"SELECT table_name AS "name!" FROM information_schema.columns
           WHERE table_schema = current_schema() AND table_name LIKE '%\_audit' AND column_name = 'deletedAt'"#
    )
    .fetch_all(pool)
    .await?;
    let mut pruned = 0;
    for table in tables {
        // The name comes from the catalog, quoted as an identifier.
        let statement = format!(
            r#"DELETE FROM "{}" WHERE "deletedAt" < now() - interval '31 days'"#,
            table.replace('"', "\"\"")
        );
        pruned += sqlx::query(&statement).execute(pool).await?.rows_affected();
    }
    Ok(pruned)
}

/// Recounts every user's quota usage from the sizes of their uploaded files.
pub async fn sync_quota_usage(pool: &PgPool) -> Result<u64> {
    // The users' rows are locked first, so the sums are taken after any purge that was
    // changing them has committed (its own decrement then stands); summing first and writing
    // after such a purge would put its deleted assets back into the usage.
    let mut tx = pool.begin().await?;
    sqlx::query!(r#"SELECT id FROM "user" WHERE "deletedAt" IS NULL ORDER BY id FOR UPDATE"#)
        .fetch_all(&mut *tx)
        .await?;
    let updated = sqlx::query!(
        r#"UPDATE "user" u SET "quotaUsageInBytes" = coalesce(
             (SELECT sum(e."fileSizeInByte") FROM asset a JOIN asset_exif e ON e."assetId" = a.id
              WHERE a."ownerId" = u.id AND a."libraryId" IS NULL), 0)
           WHERE u."deletedAt" IS NULL"#
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(updated)
}

/// PostgreSQL's version (`15.19`), as backups name it.
pub async fn server_version(pool: &PgPool) -> Result<String> {
    let version: Option<String> = sqlx::query_scalar!("SELECT current_setting('server_version')")
        .fetch_one(pool)
        .await?;
    Ok(version
        .unwrap_or_default()
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string())
}
