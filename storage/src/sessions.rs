//! The `session` table: login sessions and their child sessions (e.g. for casting).

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::Result;

#[derive(Debug, Clone)]
pub struct Session {
    pub id: Uuid,
    pub user_id: Uuid,
    pub parent_id: Option<Uuid>,
    pub device_type: String,
    pub device_os: String,
    pub app_version: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub pin_expires_at: Option<DateTime<Utc>>,
    pub is_pending_sync_reset: bool,
}

#[derive(Debug, Clone, Default)]
pub struct NewSession {
    pub token_hash: Vec<u8>,
    pub user_id: Uuid,
    pub parent_id: Option<Uuid>,
    pub device_type: String,
    pub device_os: String,
    pub app_version: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub pin_expires_at: Option<DateTime<Utc>>,
    /// The OpenID provider's session (`sid`) this login came from, for back-channel logout.
    pub oauth_sid: Option<String>,
}

pub async fn create(pool: &PgPool, session: &NewSession) -> Result<Session> {
    Ok(sqlx::query_as!(
        Session,
        r#"INSERT INTO session (token, "userId", "parentId", "deviceType", "deviceOS", "appVersion",
                                "expiresAt", "pinExpiresAt", "oauthSid")
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           RETURNING id, "userId" AS user_id, "parentId" AS parent_id, "deviceType" AS device_type,
                     "deviceOS" AS device_os, "appVersion" AS app_version, "createdAt" AS created_at,
                     "updatedAt" AS updated_at, "expiresAt" AS expires_at, "pinExpiresAt" AS pin_expires_at,
                     "isPendingSyncReset" AS is_pending_sync_reset"#,
        session.token_hash,
        session.user_id,
        session.parent_id,
        session.device_type,
        session.device_os,
        session.app_version,
        session.expires_at,
        session.pin_expires_at,
        session.oauth_sid,
    )
    .fetch_one(pool)
    .await?)
}

/// Sessions of a user (`user_id`), or the one with `token_hash`, or the one with `id`; expired ones excluded.
async fn find(
    pool: &PgPool,
    user_id: Option<Uuid>,
    token_hash: Option<&[u8]>,
    id: Option<Uuid>,
) -> Result<Vec<Session>> {
    Ok(sqlx::query_as!(
        Session,
        r#"SELECT id, "userId" AS user_id, "parentId" AS parent_id, "deviceType" AS device_type,
                  "deviceOS" AS device_os, "appVersion" AS app_version, "createdAt" AS created_at,
                  "updatedAt" AS updated_at, "expiresAt" AS expires_at, "pinExpiresAt" AS pin_expires_at,
                  "isPendingSyncReset" AS is_pending_sync_reset
           FROM session
           WHERE ($1::uuid IS NULL OR "userId" = $1)
             AND ($2::bytea IS NULL OR token = $2)
             AND ($3::uuid IS NULL OR id = $3)
             AND ("expiresAt" IS NULL OR "expiresAt" > now())
           ORDER BY "updatedAt" DESC"#,
        user_id,
        token_hash,
        id,
    )
    .fetch_all(pool)
    .await?)
}

pub async fn find_by_token(pool: &PgPool, token_hash: &[u8]) -> Result<Option<Session>> {
    Ok(find(pool, None, Some(token_hash), None).await?.into_iter().next())
}

pub async fn get(pool: &PgPool, id: Uuid) -> Result<Option<Session>> {
    Ok(find(pool, None, None, Some(id)).await?.into_iter().next())
}

/// A user's sessions, most recently used first.
pub async fn list_by_user(pool: &PgPool, user_id: Uuid) -> Result<Vec<Session>> {
    find(pool, Some(user_id), None, None).await
}

/// Notes that a session was used: refreshes `updatedAt` and the client's description.
pub async fn touch(
    pool: &PgPool,
    id: Uuid,
    device_type: &str,
    device_os: &str,
    app_version: Option<&str>,
) -> Result<()> {
    sqlx::query!(
        r#"UPDATE session SET "deviceType" = $2, "deviceOS" = $3, "appVersion" = $4, "updatedAt" = now() WHERE id = $1"#,
        id,
        device_type,
        device_os,
        app_version
    )
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn set_pin_expires_at(pool: &PgPool, id: Uuid, pin_expires_at: Option<DateTime<Utc>>) -> Result<()> {
    sqlx::query!(
        r#"UPDATE session SET "pinExpiresAt" = $2 WHERE id = $1"#,
        id,
        pin_expires_at
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Locks every session of a user (clears their PIN elevation).
pub async fn lock_all(pool: &PgPool, user_id: Uuid) -> Result<()> {
    sqlx::query!(
        r#"UPDATE session SET "pinExpiresAt" = NULL WHERE "userId" = $1"#,
        user_id
    )
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn set_pending_sync_reset(pool: &PgPool, id: Uuid, pending: bool) -> Result<()> {
    sqlx::query!(
        r#"UPDATE session SET "isPendingSyncReset" = $2 WHERE id = $1"#,
        id,
        pending
    )
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn delete(pool: &PgPool, id: Uuid) -> Result<()> {
    sqlx::query!("DELETE FROM session WHERE id = $1", id)
        .execute(pool)
        .await?;
    Ok(())
}

/// Deletes every session of `user_id` except `keep` (and `keep`'s children); returns how many went.
/// Deletes a user's sessions (but `keep` and its children); returns the ids deleted.
pub async fn delete_all_except(pool: &PgPool, user_id: Uuid, keep: Option<Uuid>) -> Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar!(
        r#"DELETE FROM session
           WHERE "userId" = $1 AND ($2::uuid IS NULL OR (id <> $2 AND "parentId" IS DISTINCT FROM $2))
           RETURNING id"#,
        user_id,
        keep
    )
    .fetch_all(pool)
    .await?)
}

pub async fn set_oauth_sid(pool: &PgPool, id: Uuid, oauth_sid: Option<&str>) -> Result<()> {
    sqlx::query!(r#"UPDATE session SET "oauthSid" = $2 WHERE id = $1"#, id, oauth_sid)
        .execute(pool)
        .await?;
    Ok(())
}

/// Deletes the sessions an OpenID back-channel logout names: those of provider session `sid`,
/// of the user linked to subject `sub`, or (both given) that session of that user. Returns
/// the ids deleted.
pub async fn delete_by_oauth(pool: &PgPool, sid: Option<&str>, sub: Option<&str>) -> Result<Vec<Uuid>> {
    if sid.is_none() && sub.is_none() {
        return Ok(Vec::new());
    }
    Ok(sqlx::query_scalar!(
        r#"DELETE FROM session s
           USING "user" u
           WHERE u.id = s."userId"
             AND ($1::text IS NULL OR s."oauthSid" = $1)
             AND ($2::text IS NULL OR (u."oauthId" = $2 AND u."oauthId" <> ''))
           RETURNING s.id"#,
        sid,
        sub
    )
    .fetch_all(pool)
    .await?)
}

/// Removes sessions whose `expiresAt` has passed.
pub async fn delete_expired(pool: &PgPool) -> Result<u64> {
    let result = sqlx::query!(r#"DELETE FROM session WHERE "expiresAt" <= now()"#)
        .execute(pool)
        .await?;
    Ok(result.rows_affected())
}
