//! The `notification` table: messages for one user (the web's bell). Deleting only stamps
//! `deletedAt`, as Immich does; deleted rows are invisible to every read here.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use crate::Result;

#[derive(Debug, Clone)]
pub struct Notification {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub user_id: Option<Uuid>,
    pub level: String,
    pub notification_type: String,
    pub data: Option<Value>,
    pub title: String,
    pub description: Option<String>,
    pub read_at: Option<DateTime<Utc>>,
}

/// What a search narrows to; `None` leaves that column alone.
#[derive(Debug, Clone, Default)]
pub struct NotificationFilter {
    pub id: Option<Uuid>,
    pub level: Option<String>,
    pub notification_type: Option<String>,
    /// Only those not read yet.
    pub unread: bool,
}

#[derive(Debug, Clone)]
pub struct NewNotification {
    pub user_id: Uuid,
    pub level: String,
    pub notification_type: String,
    pub title: String,
    pub description: Option<String>,
    pub data: Option<Value>,
}

/// `user`'s live notifications matching `filter`, newest first.
pub async fn search(pool: &PgPool, user: Uuid, filter: &NotificationFilter) -> Result<Vec<Notification>> {
    Ok(sqlx::query_as!(
        Notification,
        r#"SELECT id, "createdAt" AS created_at, "userId" AS user_id, level, type AS notification_type, data, title,
                  description, "readAt" AS read_at
           FROM notification
           WHERE "userId" = $1 AND "deletedAt" IS NULL
             AND ($2::uuid IS NULL OR id = $2) AND ($3::text IS NULL OR level = $3) AND ($4::text IS NULL OR type = $4)
             AND (NOT $5 OR "readAt" IS NULL)
           ORDER BY "createdAt" DESC"#,
        user,
        filter.id,
        filter.level,
        filter.notification_type,
        filter.unread
    )
    .fetch_all(pool)
    .await?)
}

/// One live notification.
pub async fn get(pool: &PgPool, id: Uuid) -> Result<Option<Notification>> {
    Ok(sqlx::query_as!(
        Notification,
        r#"SELECT id, "createdAt" AS created_at, "userId" AS user_id, level, type AS notification_type, data, title,
                  description, "readAt" AS read_at
           FROM notification WHERE id = $1 AND "deletedAt" IS NULL"#,
        id
    )
    .fetch_optional(pool)
    .await?)
}

pub async fn create(pool: &PgPool, new: &NewNotification) -> Result<Notification> {
    Ok(sqlx::query_as!(
        Notification,
        r#"INSERT INTO notification ("userId", level, type, title, description, data)
           VALUES ($1, $2, $3, $4, $5, $6)
           RETURNING id, "createdAt" AS created_at, "userId" AS user_id, level, type AS notification_type, data, title,
                     description, "readAt" AS read_at"#,
        new.user_id,
        new.level,
        new.notification_type,
        new.title,
        new.description,
        new.data
    )
    .fetch_one(pool)
    .await?)
}

/// Of `ids`, those that belong to `user` (deleted or not: Immich's ownership check ignores that).
pub async fn owned(pool: &PgPool, user: Uuid, ids: &[Uuid]) -> Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT id FROM notification WHERE "userId" = $1 AND id = ANY($2)"#,
        user,
        ids
    )
    .fetch_all(pool)
    .await?)
}

/// Marks one live notification read at `read_at` (or unread with `None`); `None` when it is
/// gone.
pub async fn set_read(pool: &PgPool, id: Uuid, read_at: Option<DateTime<Utc>>) -> Result<Option<Notification>> {
    Ok(sqlx::query_as!(
        Notification,
        r#"UPDATE notification SET "readAt" = $2 WHERE id = $1 AND "deletedAt" IS NULL
           RETURNING id, "createdAt" AS created_at, "userId" AS user_id, level, type AS notification_type, data, title,
                     description, "readAt" AS read_at"#,
        id,
        read_at
    )
    .fetch_optional(pool)
    .await?)
}

pub async fn set_read_many(pool: &PgPool, ids: &[Uuid], read_at: Option<DateTime<Utc>>) -> Result<()> {
    sqlx::query!(
        r#"UPDATE notification SET "readAt" = $2 WHERE id = ANY($1) AND "deletedAt" IS NULL"#,
        ids,
        read_at
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Soft-deletes: the rows stay, stamped, and drop out of every read.
pub async fn delete_many(pool: &PgPool, ids: &[Uuid]) -> Result<()> {
    sqlx::query!(
        r#"UPDATE notification SET "deletedAt" = now() WHERE id = ANY($1) AND "deletedAt" IS NULL"#,
        ids
    )
    .execute(pool)
    .await?;
    Ok(())
}
