//! The `partner` table: who shares their whole library with whom.

use sqlx::PgPool;
use uuid::Uuid;

use crate::Result;

/// A share, seen from one side: the other user and whether it shows in the timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partner {
    pub user_id: Uuid,
    pub in_timeline: bool,
}

/// Whether `shared_by` shares with `shared_with`, both users being alive.
pub async fn exists(pool: &PgPool, shared_by: Uuid, shared_with: Uuid) -> Result<bool> {
    Ok(sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM partner p
             JOIN "user" a ON a.id = p."sharedById" AND a."deletedAt" IS NULL
             JOIN "user" b ON b.id = p."sharedWithId" AND b."deletedAt" IS NULL
           WHERE p."sharedById" = $1 AND p."sharedWithId" = $2) AS "exists!""#,
        shared_by,
        shared_with
    )
    .fetch_one(pool)
    .await?)
}

/// Starts sharing; false when the user does not exist (or is deleted).
pub async fn create(pool: &PgPool, shared_by: Uuid, shared_with: Uuid) -> Result<bool> {
    let inserted = sqlx::query!(
        r#"INSERT INTO partner ("sharedById", "sharedWithId")
           SELECT $1, id FROM "user" WHERE id = $2 AND "deletedAt" IS NULL
           ON CONFLICT DO NOTHING"#,
        shared_by,
        shared_with
    )
    .execute(pool)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

pub async fn remove(pool: &PgPool, shared_by: Uuid, shared_with: Uuid) -> Result<bool> {
    Ok(sqlx::query!(
        r#"DELETE FROM partner WHERE "sharedById" = $1 AND "sharedWithId" = $2"#,
        shared_by,
        shared_with
    )
    .execute(pool)
    .await?
    .rows_affected()
        == 1)
}

/// Shows (or hides) `shared_by`'s photos in `shared_with`'s timeline.
pub async fn set_in_timeline(pool: &PgPool, shared_by: Uuid, shared_with: Uuid, in_timeline: bool) -> Result<bool> {
    Ok(sqlx::query!(
        r#"UPDATE partner SET "inTimeline" = $3 WHERE "sharedById" = $1 AND "sharedWithId" = $2"#,
        shared_by,
        shared_with,
        in_timeline
    )
    .execute(pool)
    .await?
    .rows_affected()
        == 1)
}

/// The users `user` shares with (`shared_by_me`) or who share with `user`, alive ones only.
pub async fn list(pool: &PgPool, user: Uuid, shared_by_me: bool) -> Result<Vec<Partner>> {
    Ok(sqlx::query_as!(
        Partner,
        r#"SELECT CASE WHEN $2 THEN p."sharedWithId" ELSE p."sharedById" END AS "user_id!", p."inTimeline" AS in_timeline
           FROM partner p
           JOIN "user" a ON a.id = p."sharedById" AND a."deletedAt" IS NULL
           JOIN "user" b ON b.id = p."sharedWithId" AND b."deletedAt" IS NULL
           WHERE CASE WHEN $2 THEN p."sharedById" = $1 ELSE p."sharedWithId" = $1 END
           ORDER BY p."createdAt""#,
        user,
        shared_by_me
    )
    .fetch_all(pool)
    .await?)
}

/// Of `ids`, the users who share with `user` (whatever `inTimeline` says).
pub async fn sharing_with(pool: &PgPool, user: Uuid, ids: &[Uuid]) -> Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT "sharedById" FROM partner WHERE "sharedById" = ANY($2) AND "sharedWithId" = $1"#,
        user,
        ids
    )
    .fetch_all(pool)
    .await?)
}

/// Of `ids`, the assets a partner of `user` shares with them: not trashed, in the timeline or
/// hidden (a live photo's video) — never archived or locked ones.
pub async fn shared_asset_ids(pool: &PgPool, user: Uuid, ids: &[Uuid]) -> Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT a.id FROM partner p
           JOIN "user" owner ON owner.id = p."sharedById" AND owner."deletedAt" IS NULL
           JOIN asset a ON a."ownerId" = owner.id AND a."deletedAt" IS NULL
           WHERE p."sharedWithId" = $1 AND a.visibility IN ('timeline', 'hidden') AND a.id = ANY($2)"#,
        user,
        ids
    )
    .fetch_all(pool)
    .await?)
}
