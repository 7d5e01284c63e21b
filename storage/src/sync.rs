//! Mobile sync: checkpoints per session, and every entity stream the sync endpoint sends,
//! read a page at a time in `updateId` order (deletes from the audit tables in audit-id order).
//! Each stream returns typed rows, each with its cursor (`ack`); the API writes them as the
//! JSON the mobile app reads.

use sqlx::PgPool;
use uuid::Uuid;

use crate::Result;

/// One entity stream, windowed on `$cursor`: the stream's SQL lists the row's columns after
/// its `ack` (the cursor) and where they come from, scoped by the stream's own parameters from
/// `$5`; the window takes `$1`–`$4` (after, until, now, limit), so it is written once, here.
/// Asset and EXIF streams (`-> asset`, `-> exif`) share their column lists.
macro_rules! sync_stream {
    ($(#[$doc:meta])* $name:ident($($arg:ident: $ty:ty),*) -> $kind:ident on $cursor:literal: $sql:literal) => {
        $(#[$doc])*
        pub async fn $name(
            pool: &sqlx::PgPool,
            $($arg: $ty,)*
            window: $crate::sync::Window,
        ) -> $crate::Result<Vec<sync_stream!(@row $kind)>> {
            sync_stream!(@fetch $kind, pool, window, ($($arg),*), ("SELECT " + $cursor + r#" AS "ack!", "#), ($sql
                + " AND " + $cursor + " < $3 AND ($1::uuid IS NULL OR " + $cursor + " > $1)"
                + " AND ($2::uuid IS NULL OR " + $cursor + " <= $2) ORDER BY " + $cursor + " LIMIT $4"))
        }
    };
    (@row asset) => { $crate::sync::Asset };
    (@row exif) => { $crate::sync::AssetExif };
    (@row $row:ident) => { $row };
    // `$6` is always the viewer, whose favourites alone show and to whom others' locked assets
    // come as removed.
    (@fetch asset, $pool:ident, $window:ident, ($($arg:ident),*), ($head:literal $(+ $head_rest:literal)*), ($tail:literal $(+ $tail_rest:literal)*)) => {
        Ok(sqlx::query_as!(
            $crate::sync::Asset,
            $head $(+ $head_rest)*
                + r#"a.id, a."ownerId" AS owner_id, a."originalFileName" AS original_file_name,
                  a."fileCreatedAt" AS file_created_at, a."fileModifiedAt" AS file_modified_at, a."createdAt" AS created_at,
                  a."localDateTime" AS local_date_time, a.type AS "asset_type: crate::assets::AssetType", a."deletedAt" AS deleted_at,
                  a."isFavorite" AND a."ownerId" = $6 AS "is_favorite!", a.visibility AS "visibility: AssetVisibility",
                  a.duration, a."livePhotoVideoId" AS live_photo_video_id, a."stackId" AS stack_id, a."libraryId" AS library_id,
                  a.width, a.height, a."isEdited" AS is_edited, a.checksum, a.thumbhash,
                  a.visibility = 'locked' AND a."ownerId" <> $6 AS "removed!" "#
                + $tail $(+ $tail_rest)*,
            $window.after,
            $window.until,
            $window.now,
            $window.limit
            $(, $arg)*
        )
        .fetch_all($pool)
        .await?)
    };
    (@fetch exif, $pool:ident, $window:ident, ($($arg:ident),*), ($head:literal $(+ $head_rest:literal)*), ($tail:literal $(+ $tail_rest:literal)*)) => {
        Ok($crate::exif::query_with_exif!(
            $head $(+ $head_rest)* + r#"e."assetId" AS asset_id, "#,
            " " + $tail $(+ $tail_rest)*,
            $window.after,
            $window.until,
            $window.now,
            $window.limit
            $(, $arg)*
        )
        .fetch_all($pool)
        .await?
        .into_iter()
        .map(|r| $crate::sync::AssetExif {
            ack: r.ack,
            asset_id: r.asset_id,
            exif: $crate::exif::exif_from_row!(r),
        })
        .collect())
    };
    (@fetch $row:ident, $pool:ident, $window:ident, ($($arg:ident),*), ($head:literal $(+ $head_rest:literal)*), ($tail:literal $(+ $tail_rest:literal)*)) => {
        Ok(sqlx::query_as!(
            $row,
            $head $(+ $head_rest)* + $tail $(+ $tail_rest)*,
            $window.after,
            $window.until,
            $window.now,
            $window.limit
            $(, $arg)*
        )
        .fetch_all($pool)
        .await?)
    };
}

mod account;
mod album;
mod library;
mod memory;
mod person;

pub use account::*;
pub use album::*;
pub use library::*;
pub use memory::*;
pub use person::*;

/// A page of a stream: after the client's cursor, up to (and including) `until` when
/// backfilling, before `now` (the stream's upper bound), at most `limit` rows.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub after: Option<Uuid>,
    pub until: Option<Uuid>,
    pub now: Uuid,
    pub limit: i64,
}

/// A share (partner) or membership (album) and when it began (its `createId`).
#[derive(Debug, Clone, Copy)]
pub struct Share {
    pub id: Uuid,
    pub create_id: Uuid,
}

pub async fn now_id(pool: &PgPool) -> Result<Uuid> {
    Ok(
        sqlx::query_scalar!(r#"SELECT immich_uuid_v7(now() - interval '1 millisecond') AS "id!""#)
            .fetch_one(pool)
            .await?,
    )
}

pub async fn checkpoints(pool: &PgPool, session: Uuid) -> Result<Vec<(String, String)>> {
    let rows = sqlx::query!(
        r#"SELECT type, ack FROM session_sync_checkpoint WHERE "sessionId" = $1 ORDER BY type"#,
        session
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| (r.r#type, r.ack)).collect())
}

/// Stores `acks` (type, ack) for the session, replacing earlier ones of the same types.
pub async fn save_checkpoints(pool: &PgPool, session: Uuid, acks: &[(String, String)]) -> Result<()> {
    let (types, values): (Vec<String>, Vec<String>) = acks.iter().cloned().unzip();
    sqlx::query!(
        r#"INSERT INTO session_sync_checkpoint ("sessionId", type, ack)
           SELECT $1, t, a FROM unnest($2::text[], $3::text[]) AS u(t, a)
           ON CONFLICT ("sessionId", type) DO UPDATE SET ack = EXCLUDED.ack"#,
        session,
        &types,
        &values
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Forgets the session's checkpoints of `types` (all of them without).
pub async fn delete_checkpoints(pool: &PgPool, session: Uuid, types: Option<&[String]>) -> Result<()> {
    sqlx::query!(
        r#"DELETE FROM session_sync_checkpoint WHERE "sessionId" = $1 AND ($2::text[] IS NULL OR type = ANY($2))"#,
        session,
        types
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Starts the session's sync over: no checkpoints, no pending reset.
pub async fn reset_progress(pool: &PgPool, session: Uuid) -> Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query!(
        r#"UPDATE session SET "isPendingSyncReset" = false WHERE id = $1"#,
        session
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(r#"DELETE FROM session_sync_checkpoint WHERE "sessionId" = $1"#, session)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn pending_reset(pool: &PgPool, session: Uuid) -> Result<bool> {
    Ok(
        sqlx::query_scalar!(r#"SELECT "isPendingSyncReset" FROM session WHERE id = $1"#, session)
            .fetch_optional(pool)
            .await?
            .unwrap_or(false),
    )
}

/// Users sharing their library with `user` (partners), and when each share began.
pub async fn partner_shares(pool: &PgPool, user: Uuid, from: Option<Uuid>, now: Uuid) -> Result<Vec<Share>> {
    Ok(sqlx::query_as!(
        Share,
        r#"SELECT "sharedById" AS id, "createId" AS create_id FROM partner
           WHERE "sharedWithId" = $1 AND "createId" < $3 AND ($2::uuid IS NULL OR "createId" >= $2)
           ORDER BY "createId""#,
        user,
        from,
        now
    )
    .fetch_all(pool)
    .await?)
}

/// Albums `user` belongs to (any role), and when they joined.
pub async fn album_memberships(pool: &PgPool, user: Uuid, from: Option<Uuid>, now: Uuid) -> Result<Vec<Share>> {
    Ok(sqlx::query_as!(
        Share,
        r#"SELECT "albumId" AS id, "createId" AS create_id FROM album_user
           WHERE "userId" = $1 AND "createId" < $3 AND ($2::uuid IS NULL OR "createId" >= $2)
           ORDER BY "createId""#,
        user,
        from,
        now
    )
    .fetch_all(pool)
    .await?)
}
