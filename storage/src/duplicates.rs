//! Groups of look-alike assets (`asset.duplicateId`), to keep one of.

use sqlx::PgPool;
use uuid::Uuid;

use crate::Result;

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
