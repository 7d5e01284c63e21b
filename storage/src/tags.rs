//! The `tag`, `tag_asset` and `tag_closure` tables: a hierarchy of tags per user.

use chrono::{DateTime, Utc};
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

use crate::Result;

#[derive(Debug, Clone)]
pub struct Tag {
    pub id: Uuid,
    pub user_id: Uuid,
    pub parent_id: Option<Uuid>,
    /// The full path, `a/b/c`.
    pub value: String,
    pub color: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub async fn list(pool: &PgPool, owner: Uuid) -> Result<Vec<Tag>> {
    Ok(sqlx::query_as!(
        Tag,
        r#"SELECT id, "userId" AS user_id, "parentId" AS parent_id, value, color, "createdAt" AS created_at, "updatedAt" AS updated_at
           FROM tag WHERE "userId" = $1 ORDER BY value"#,
        owner
    )
    .fetch_all(pool)
    .await?)
}

pub async fn get(pool: &PgPool, id: Uuid) -> Result<Option<Tag>> {
    Ok(sqlx::query_as!(
        Tag,
        r#"SELECT id, "userId" AS user_id, "parentId" AS parent_id, value, color, "createdAt" AS created_at, "updatedAt" AS updated_at
           FROM tag WHERE id = $1"#,
        id
    )
    .fetch_optional(pool)
    .await?)
}

/// Of `ids`, the tags `owner` has.
pub async fn owned(pool: &PgPool, owner: Uuid, ids: &[Uuid]) -> Result<Vec<Uuid>> {
    Ok(
        sqlx::query_scalar!(r#"SELECT id FROM tag WHERE "userId" = $1 AND id = ANY($2)"#, owner, ids)
            .fetch_all(pool)
            .await?,
    )
}

/// The tag's place in the hierarchy: itself, and below each of its parent's ancestors.
async fn link_ancestors(tx: &mut Transaction<'_, Postgres>, id: Uuid, parent: Option<Uuid>) -> Result<()> {
    sqlx::query!(
        r#"INSERT INTO tag_closure (id_ancestor, id_descendant)
           SELECT $1::uuid, $1::uuid UNION SELECT id_ancestor, $1::uuid FROM tag_closure WHERE id_descendant = $2::uuid
           ON CONFLICT DO NOTHING"#,
        id,
        parent
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A new tag; `None` when the user already has one with that path.
pub async fn create(
    pool: &PgPool,
    owner: Uuid,
    value: &str,
    color: Option<&str>,
    parent: Option<Uuid>,
) -> Result<Option<Tag>> {
    let mut tx = pool.begin().await?;
    let created = sqlx::query_as!(
        Tag,
        r#"INSERT INTO tag ("userId", value, color, "parentId") VALUES ($1, $2, $3, $4) ON CONFLICT ("userId", value) DO NOTHING
           RETURNING id, "userId" AS user_id, "parentId" AS parent_id, value, color, "createdAt" AS created_at, "updatedAt" AS updated_at"#,
        owner,
        value,
        color,
        parent
    )
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(tag) = &created {
        link_ancestors(&mut tx, tag.id, parent).await?;
    }
    tx.commit().await?;
    Ok(created)
}

/// The tag at `path` (`a/b/c`), made with every missing level above it.
pub async fn upsert_path(pool: &PgPool, owner: Uuid, path: &str) -> Result<Option<Tag>> {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let mut tx = pool.begin().await?;
    let mut parent: Option<Uuid> = None;
    let mut leaf = None;
    for depth in 1..=parts.len() {
        let value = parts[..depth].join("/");
        let tag = sqlx::query_as!(
            Tag,
            r#"INSERT INTO tag ("userId", value, "parentId") VALUES ($1, $2, $3)
               ON CONFLICT ("userId", value) DO UPDATE SET "parentId" = EXCLUDED."parentId"
               RETURNING id, "userId" AS user_id, "parentId" AS parent_id, value, color, "createdAt" AS created_at, "updatedAt" AS updated_at"#,
            owner,
            value,
            parent
        )
        .fetch_one(&mut *tx)
        .await?;
        link_ancestors(&mut tx, tag.id, parent).await?;
        parent = Some(tag.id);
        leaf = Some(tag);
    }
    tx.commit().await?;
    Ok(leaf)
}

pub async fn set_color(pool: &PgPool, id: Uuid, color: Option<&str>) -> Result<()> {
    sqlx::query!(r#"UPDATE tag SET color = $2 WHERE id = $1"#, id, color)
        .execute(pool)
        .await?;
    Ok(())
}

/// Deletes the tag and every tag below it.
pub async fn delete(pool: &PgPool, id: Uuid) -> Result<()> {
    sqlx::query!(
        r#"DELETE FROM tag WHERE id IN (SELECT id_descendant FROM tag_closure WHERE id_ancestor = $1) OR id = $1"#,
        id
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Tags every asset with every tag; returns how many pairs are new.
pub async fn tag_assets(pool: &PgPool, tags: &[Uuid], assets: &[Uuid]) -> Result<u64> {
    Ok(sqlx::query!(
        r#"INSERT INTO tag_asset ("tagId", "assetId") SELECT t, a FROM unnest($1::uuid[]) t CROSS JOIN unnest($2::uuid[]) a ON CONFLICT DO NOTHING"#,
        tags,
        assets
    )
    .execute(pool)
    .await?
    .rows_affected())
}

/// Of `assets`, those the tag is on.
pub async fn tagged(pool: &PgPool, tag: Uuid, assets: &[Uuid]) -> Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT "assetId" FROM tag_asset WHERE "tagId" = $1 AND "assetId" = ANY($2)"#,
        tag,
        assets
    )
    .fetch_all(pool)
    .await?)
}

pub async fn untag_assets(pool: &PgPool, tag: Uuid, assets: &[Uuid]) -> Result<()> {
    sqlx::query!(
        r#"DELETE FROM tag_asset WHERE "tagId" = $1 AND "assetId" = ANY($2)"#,
        tag,
        assets
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Tags on none of their own assets nor any below them go (the `tag-cleanup` job).
pub async fn delete_empty(pool: &PgPool) -> Result<u64> {
    Ok(sqlx::query!(
        r#"DELETE FROM tag WHERE NOT EXISTS (
             SELECT 1 FROM tag_closure c JOIN tag_asset ta ON ta."tagId" = c.id_descendant WHERE c.id_ancestor = tag.id)"#
    )
    .execute(pool)
    .await?
    .rows_affected())
}

/// The tags directly on each of `assets`: (asset, tag).
pub async fn of_assets(pool: &PgPool, assets: &[Uuid]) -> Result<Vec<(Uuid, Tag)>> {
    let rows = sqlx::query!(
        r#"SELECT ta."assetId" AS asset_id, t.id, t."userId" AS user_id, t."parentId" AS parent_id, t.value, t.color,
                  t."createdAt" AS created_at, t."updatedAt" AS updated_at
           FROM tag_asset ta JOIN tag t ON t.id = ta."tagId" WHERE ta."assetId" = ANY($1) ORDER BY t.value"#,
        assets
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.asset_id,
                Tag {
                    id: r.id,
                    user_id: r.user_id,
                    parent_id: r.parent_id,
                    value: r.value,
                    color: r.color,
                    created_at: r.created_at,
                    updated_at: r.updated_at,
                },
            )
        })
        .collect())
}
