//! Groups of look-alike assets (`asset.duplicateId`), to keep one of.

use sqlx::PgPool;
use uuid::Uuid;

use crate::Result;
use crate::embeddings::{self, EmbeddingTable};

/// Groups that shrank to one shown asset are no groups: the link goes.
pub async fn dissolve_singletons(pool: &PgPool, owner: Uuid) -> Result<()> {
    sqlx::query!(
        r#"UPDATE asset SET "duplicateId" = NULL WHERE "ownerId" = $1 AND "duplicateId" IN (
             SELECT "duplicateId" FROM asset WHERE "ownerId" = $1 AND "duplicateId" IS NOT NULL AND "deletedAt" IS NULL AND "stackId" IS NULL
             GROUP BY "duplicateId" HAVING count(*) = 1)"#,
        owner
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// `owner`'s groups: (group, assets oldest first) for live, unstacked timeline or archive
/// assets with EXIF, groups of two or more.
pub async fn groups(pool: &PgPool, owner: Uuid) -> Result<Vec<(Uuid, Vec<Uuid>)>> {
    let rows = sqlx::query!(
        r#"SELECT a."duplicateId" AS "group!", array_agg(a.id ORDER BY a."localDateTime") AS "assets!"
           FROM asset a JOIN asset_exif e ON e."assetId" = a.id
           WHERE a."ownerId" = $1 AND a."duplicateId" IS NOT NULL AND a."deletedAt" IS NULL AND a."stackId" IS NULL
             AND a.visibility IN ('timeline', 'archive')
           GROUP BY a."duplicateId" HAVING count(*) > 1
           ORDER BY min(a."localDateTime")"#,
        owner
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| (r.group, r.assets)).collect())
}

/// Of `ids`, the groups in which `owner` has a live asset.
pub async fn owned(pool: &PgPool, owner: Uuid, ids: &[Uuid]) -> Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT DISTINCT "duplicateId" AS "id!" FROM asset WHERE "ownerId" = $1 AND "deletedAt" IS NULL AND "duplicateId" = ANY($2)"#,
        owner,
        ids
    )
    .fetch_all(pool)
    .await?)
}

/// Dismisses groups: `owner`'s assets in them are no longer duplicates.
pub async fn dismiss(pool: &PgPool, owner: Uuid, ids: &[Uuid]) -> Result<()> {
    sqlx::query!(
        r#"UPDATE asset SET "duplicateId" = NULL WHERE "ownerId" = $1 AND "duplicateId" = ANY($2)"#,
        owner,
        ids
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// The live assets of one of `owner`'s groups.
pub async fn members(pool: &PgPool, owner: Uuid, id: Uuid) -> Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT id FROM asset WHERE "ownerId" = $1 AND "duplicateId" = $2 AND "deletedAt" IS NULL ORDER BY "localDateTime""#,
        owner,
        id
    )
    .fetch_all(pool)
    .await?)
}

/// What duplicate detection needs of an asset.
#[derive(Debug, Clone)]
pub struct DetectionSubject {
    pub owner_id: Uuid,
    pub asset_type: String,
    pub duplicate_id: Option<Uuid>,
    pub stack_id: Option<Uuid>,
    pub visibility: String,
    /// In pgvector's text form.
    pub embedding: Option<String>,
}

pub async fn detection_subject(pool: &PgPool, id: Uuid) -> Result<Option<DetectionSubject>> {
    Ok(sqlx::query_as!(
        DetectionSubject,
        r#"SELECT a."ownerId" AS owner_id, a.type AS asset_type, a."duplicateId" AS duplicate_id, a."stackId" AS stack_id,
                  a.visibility::text AS "visibility!", s.embedding::text AS embedding
           FROM asset a LEFT JOIN smart_search s ON s."assetId" = a.id WHERE a.id = $1"#,
        id
    )
    .fetch_optional(pool)
    .await?)
}

/// A look-alike found for an asset.
#[derive(Debug, Clone, PartialEq)]
pub struct LookAlike {
    pub asset_id: Uuid,
    pub duplicate_id: Option<Uuid>,
}

/// How many nearest assets are looked at, as Immich does.
const LOOK_ALIKE_CANDIDATES: i64 = 64;

/// `owner`'s other live, unstacked timeline or archive assets of the same type whose CLIP
/// embedding lies within `max_distance` (cosine) of `embedding`, nearest first.
pub async fn look_alikes(
    pool: &PgPool,
    owner: Uuid,
    asset_id: Uuid,
    asset_type: &str,
    embedding: &str,
    max_distance: f64,
) -> Result<Vec<LookAlike>> {
    let mut tx = pool.begin().await?;
    embeddings::tune_search(&mut tx, EmbeddingTable::Clip, 0).await?;
    let found = sqlx::query_as!(
        LookAlike,
        r#"WITH nearest AS (
             SELECT a.id, a."duplicateId", s.embedding <=> $4::text::vector AS distance
             FROM smart_search s JOIN asset a ON a.id = s."assetId"
             WHERE a."ownerId" = $1 AND a."deletedAt" IS NULL AND a.type = $3 AND a.id <> $2 AND a."stackId" IS NULL
               AND a.visibility IN ('timeline', 'archive')
             ORDER BY distance LIMIT $6)
           SELECT id AS asset_id, "duplicateId" AS duplicate_id FROM nearest WHERE distance <= $5 ORDER BY distance"#,
        owner,
        asset_id,
        asset_type,
        embedding,
        max_distance,
        LOOK_ALIKE_CANDIDATES
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(found)
}

/// Puts `assets` and every asset of the `absorbed` groups into group `target`.
pub async fn merge(pool: &PgPool, target: Uuid, assets: &[Uuid], absorbed: &[Uuid]) -> Result<()> {
    sqlx::query!(
        r#"UPDATE asset SET "duplicateId" = $1 WHERE id = ANY($2) OR "duplicateId" = ANY($3)"#,
        target,
        assets,
        absorbed
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Takes an asset out of its group (no look-alike is left).
pub async fn leave_group(pool: &PgPool, id: Uuid) -> Result<()> {
    sqlx::query!(r#"UPDATE asset SET "duplicateId" = NULL WHERE id = $1"#, id)
        .execute(pool)
        .await?;
    Ok(())
}

/// Records that duplicates were looked for among `assets`.
pub async fn mark_detected(pool: &PgPool, assets: &[Uuid]) -> Result<()> {
    sqlx::query!(
        r#"INSERT INTO asset_job_status ("assetId", "duplicatesDetectedAt") SELECT id, now() FROM unnest($1::uuid[]) id
           ON CONFLICT ("assetId") DO UPDATE SET "duplicatesDetectedAt" = EXCLUDED."duplicatesDetectedAt""#,
        assets
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Assets to look for duplicates of: with an embedding, live, timeline or archive; all with
/// `force`, else those never looked at.
pub async fn needing_detection(pool: &PgPool, force: bool) -> Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT a.id FROM asset a JOIN smart_search s ON s."assetId" = a.id
           LEFT JOIN asset_job_status j ON j."assetId" = a.id
           WHERE a."deletedAt" IS NULL AND a.visibility IN ('timeline', 'archive')
             AND ($1 OR j."duplicatesDetectedAt" IS NULL)
           ORDER BY a."createdAt""#,
        force
    )
    .fetch_all(pool)
    .await?)
}
