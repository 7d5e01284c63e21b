//! Mobile sync: checkpoints per session, and every entity stream the sync endpoint sends,
//! read a page at a time in `updateId` order (deletes from the audit tables in audit-id order).
//! Rows come back as the ack cursor and the entity's JSON, built by the database; assets and
//! their EXIF (the bulk of a first sync) and albums (two shapes of one row) are written in Rust.

use sqlx::PgPool;
use uuid::Uuid;

use crate::Result;

/// One entity to send: its cursor (`updateId`, or the audit row's id) and its JSON.
#[derive(Debug, Clone)]
pub struct SyncRow {
    pub ack: Uuid,
    pub data: String,
    /// Gone from the viewer's sight though not deleted (a partner's asset moved to the locked
    /// folder): `data` is then `{"assetId": …}` for a delete line.
    pub removed: bool,
}

impl SyncRow {
    /// Rows of the JSON-building streams are their lines already.
    fn into_line(self) -> SyncRow {
        self
    }
}

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

/// One entity stream: its SQL selects `ack` and `data`, scoped by the named parameters (`$1`…)
/// and windowed by the four that follow them (after, until, now, limit).
macro_rules! sync_stream {
    ($($stream:tt)*) => {
        row_stream! { SyncRow, "", $($stream)* }
    };
}

/// A stream of rows of `$row`, each of which makes its own line: `$select` lists its columns,
/// and the SQL given to each stream adds the rest.
macro_rules! row_stream {
    ($row:ident, $select:literal, $(#[$doc:meta])* $name:ident($($arg:ident: $ty:ty),*) => $from:literal) => {
        $(#[$doc])*
        pub async fn $name(pool: &PgPool, $($arg: $ty,)* window: Window) -> Result<Vec<SyncRow>> {
            let rows = sqlx::query_as!($row, $select + $from, $($arg,)* window.after, window.until, window.now, window.limit)
                .fetch_all(pool)
                .await?;
            Ok(rows.into_iter().map($row::into_line).collect())
        }
    };
}

sync_stream! {
    /// The caller's own account (SyncAuthUserV1).
    auth_user(user: Uuid) => r#"SELECT u."updateId" AS "ack!", json_build_object('id', u.id, 'name', u.name, 'email', u.email, 'avatarColor', u."avatarColor",
                  'deletedAt', sync_iso(u."deletedAt"), 'profileChangedAt', sync_iso(u."profileChangedAt"), 'isAdmin', u."isAdmin",
                  'pinCode', u."pinCode", 'oauthId', u."oauthId", 'storageLabel', u."storageLabel",
                  'quotaSizeInBytes', u."quotaSizeInBytes", 'quotaUsageInBytes', u."quotaUsageInBytes",
                  'hasProfileImage', u."profileImagePath" <> '')::text AS "data!", false AS "removed!"
           FROM "user" u WHERE u.id = $1
             AND u."updateId" < $4 AND ($2::uuid IS NULL OR u."updateId" > $2) AND ($3::uuid IS NULL OR u."updateId" <= $3)
           ORDER BY u."updateId" LIMIT $5"#
}

sync_stream! {
    /// Every user of the server (SyncUserV1).
    users() => r#"SELECT u."updateId" AS "ack!", json_build_object('id', u.id, 'name', u.name, 'email', u.email, 'avatarColor', u."avatarColor",
                  'deletedAt', sync_iso(u."deletedAt"), 'profileChangedAt', sync_iso(u."profileChangedAt"),
                  'hasProfileImage', u."profileImagePath" <> '')::text AS "data!", false AS "removed!"
           FROM "user" u WHERE true
             AND u."updateId" < $3 AND ($1::uuid IS NULL OR u."updateId" > $1) AND ($2::uuid IS NULL OR u."updateId" <= $2)
           ORDER BY u."updateId" LIMIT $4"#
}

sync_stream! {
    /// Users removed for good (SyncUserDeleteV1).
    user_deletes() => r#"SELECT x.id AS "ack!", json_build_object('userId', x."userId")::text AS "data!", false AS "removed!" FROM user_audit x WHERE true
             AND x.id < $3 AND ($1::uuid IS NULL OR x.id > $1) AND ($2::uuid IS NULL OR x.id <= $2)
           ORDER BY x.id LIMIT $4"#
}

sync_stream! {
    /// Shares from or to `user` (SyncPartnerV1).
    partners(user: Uuid) => r#"SELECT p."updateId" AS "ack!", json_build_object('sharedById', p."sharedById", 'sharedWithId', p."sharedWithId", 'inTimeline', p."inTimeline")::text AS "data!", false AS "removed!"
           FROM partner p WHERE (p."sharedById" = $1 OR p."sharedWithId" = $1)
             AND p."updateId" < $4 AND ($2::uuid IS NULL OR p."updateId" > $2) AND ($3::uuid IS NULL OR p."updateId" <= $3)
           ORDER BY p."updateId" LIMIT $5"#
}

sync_stream! {
    /// Ended shares from or to `user` (SyncPartnerDeleteV1).
    partner_deletes(user: Uuid) => r#"SELECT x.id AS "ack!", json_build_object('sharedById', x."sharedById", 'sharedWithId', x."sharedWithId")::text AS "data!", false AS "removed!"
           FROM partner_audit x WHERE (x."sharedById" = $1 OR x."sharedWithId" = $1)
             AND x.id < $4 AND ($2::uuid IS NULL OR x.id > $2) AND ($3::uuid IS NULL OR x.id <= $3)
           ORDER BY x.id LIMIT $5"#
}

/// One asset as every asset stream reads it; its JSON line is written here rather than by the
/// database: a first sync sends the whole library, and PostgreSQL's JSON builders would keep
/// one core busy while the server's sat idle.
struct AssetRow {
    ack: Uuid,
    id: Uuid,
    owner_id: Uuid,
    original_file_name: String,
    file_created_at: chrono::DateTime<chrono::Utc>,
    file_modified_at: chrono::DateTime<chrono::Utc>,
    created_at: chrono::DateTime<chrono::Utc>,
    local_date_time: chrono::DateTime<chrono::Utc>,
    asset_type: String,
    deleted_at: Option<chrono::DateTime<chrono::Utc>>,
    is_favorite: bool,
    visibility: String,
    duration: Option<i32>,
    live_photo_video_id: Option<Uuid>,
    stack_id: Option<Uuid>,
    library_id: Option<Uuid>,
    width: Option<i32>,
    height: Option<i32>,
    is_edited: bool,
    checksum: Vec<u8>,
    thumbhash: Option<Vec<u8>>,
    removed: bool,
}

impl AssetRow {
    /// The SyncAssetV2 line, or `{"assetId": …}` for an asset gone from the viewer's sight.
    fn into_line(self) -> SyncRow {
        let base64 = |bytes: &[u8]| base64::Engine::encode(&base64::engine::general_purpose::STANDARD, bytes);
        let data = if self.removed {
            serde_json::json!({ "assetId": self.id }).to_string()
        } else {
            let asset = SyncAssetV2 {
                id: self.id,
                owner_id: self.owner_id,
                original_file_name: &self.original_file_name,
                file_created_at: Some(iso_millis(&self.file_created_at)),
                file_modified_at: Some(iso_millis(&self.file_modified_at)),
                created_at: Some(iso_millis(&self.created_at)),
                local_date_time: Some(iso_millis(&self.local_date_time)),
                asset_type: &self.asset_type,
                deleted_at: self.deleted_at.as_ref().map(iso_millis),
                is_favorite: self.is_favorite,
                visibility: &self.visibility,
                duration: self.duration,
                live_photo_video_id: self.live_photo_video_id,
                stack_id: self.stack_id,
                library_id: self.library_id,
                width: self.width,
                height: self.height,
                is_edited: self.is_edited,
                checksum: base64(&self.checksum),
                thumbhash: self.thumbhash.as_deref().map(base64),
            };
            serde_json::to_string(&asset).unwrap_or_default()
        };
        SyncRow {
            ack: self.ack,
            data,
            removed: self.removed,
        }
    }
}

/// An asset stream: `$2` is always the viewer, whose favourites alone show and to whom others'
/// locked assets come as removed.
macro_rules! asset_stream {
    ($($stream:tt)*) => {
        row_stream! {
            AssetRow,
            r#"SELECT a.id, a."ownerId" AS owner_id, a."originalFileName" AS original_file_name,
                      a."fileCreatedAt" AS file_created_at, a."fileModifiedAt" AS file_modified_at, a."createdAt" AS created_at,
                      a."localDateTime" AS local_date_time, a.type AS asset_type, a."deletedAt" AS deleted_at,
                      a."isFavorite" AND a."ownerId" = $2 AS "is_favorite!", a.visibility::text AS "visibility!",
                      a.duration, a."livePhotoVideoId" AS live_photo_video_id, a."stackId" AS stack_id, a."libraryId" AS library_id,
                      a.width, a.height, a."isEdited" AS is_edited, a.checksum, a.thumbhash,
                      a.visibility = 'locked' AND a."ownerId" <> $2 AS "removed!", "#,
            $($stream)*
        }
    };
}

asset_stream! {
    /// Assets of `owners` (SyncAssetV2).
    assets(owners: &[Uuid], viewer: Uuid) => r#"a."updateId" AS ack
           FROM asset a WHERE a."ownerId" = ANY($1)
             AND a."updateId" < $5 AND ($3::uuid IS NULL OR a."updateId" > $3) AND ($4::uuid IS NULL OR a."updateId" <= $4)
           ORDER BY a."updateId" LIMIT $6"#
}

/// SyncAssetV2, as Immich sends it.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct SyncAssetV2<'a> {
    id: Uuid,
    owner_id: Uuid,
    original_file_name: &'a str,
    file_created_at: Option<String>,
    file_modified_at: Option<String>,
    created_at: Option<String>,
    local_date_time: Option<String>,
    #[serde(rename = "type")]
    asset_type: &'a str,
    deleted_at: Option<String>,
    is_favorite: bool,
    visibility: &'a str,
    duration: Option<i32>,
    live_photo_video_id: Option<Uuid>,
    stack_id: Option<Uuid>,
    library_id: Option<Uuid>,
    width: Option<i32>,
    height: Option<i32>,
    is_edited: bool,
    checksum: String,
    thumbhash: Option<String>,
}

/// `sync_iso()` in Rust: `2024-06-01T12:00:00.000Z`, milliseconds truncated as `to_char` does.
fn iso_millis(moment: &chrono::DateTime<chrono::Utc>) -> String {
    use chrono::{Datelike, Timelike};
    use std::fmt::Write;
    let mut text = String::with_capacity(24);
    let millis = moment.nanosecond() % 1_000_000_000 / 1_000_000;
    let _ = write!(
        text,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        moment.year(),
        moment.month(),
        moment.day(),
        moment.hour(),
        moment.minute(),
        moment.second()
    );
    text
}

sync_stream! {
    /// Assets of `owners` deleted for good (SyncAssetDeleteV1).
    asset_deletes(owners: &[Uuid]) => r#"SELECT x.id AS "ack!", json_build_object('assetId', x."assetId")::text AS "data!", false AS "removed!" FROM asset_audit x WHERE x."ownerId" = ANY($1)
             AND x.id < $4 AND ($2::uuid IS NULL OR x.id > $2) AND ($3::uuid IS NULL OR x.id <= $3)
           ORDER BY x.id LIMIT $5"#
}

/// One asset's EXIF as every EXIF stream reads it (written as JSON here, as assets are).
struct ExifRow {
    ack: Uuid,
    asset_id: Uuid,
    description: String,
    exif_image_width: Option<i32>,
    exif_image_height: Option<i32>,
    file_size_in_byte: Option<i64>,
    orientation: Option<String>,
    date_time_original: Option<chrono::DateTime<chrono::Utc>>,
    modify_date: Option<chrono::DateTime<chrono::Utc>>,
    time_zone: Option<String>,
    latitude: Option<f64>,
    longitude: Option<f64>,
    projection_type: Option<String>,
    city: Option<String>,
    state: Option<String>,
    country: Option<String>,
    make: Option<String>,
    model: Option<String>,
    lens_model: Option<String>,
    f_number: Option<f64>,
    focal_length: Option<f64>,
    iso: Option<i32>,
    exposure_time: Option<String>,
    profile_description: Option<String>,
    rating: Option<i32>,
    fps: Option<f64>,
}

impl ExifRow {
    fn into_line(self) -> SyncRow {
        let exif = SyncAssetExifV1 {
            asset_id: self.asset_id,
            description: &self.description,
            exif_image_width: self.exif_image_width,
            exif_image_height: self.exif_image_height,
            file_size_in_byte: self.file_size_in_byte,
            orientation: self.orientation.as_deref(),
            date_time_original: self.date_time_original.as_ref().map(iso_millis),
            modify_date: self.modify_date.as_ref().map(iso_millis),
            time_zone: self.time_zone.as_deref(),
            latitude: self.latitude,
            longitude: self.longitude,
            projection_type: self.projection_type.as_deref(),
            city: self.city.as_deref(),
            state: self.state.as_deref(),
            country: self.country.as_deref(),
            make: self.make.as_deref(),
            model: self.model.as_deref(),
            lens_model: self.lens_model.as_deref(),
            f_number: self.f_number,
            focal_length: self.focal_length,
            iso: self.iso,
            exposure_time: self.exposure_time.as_deref(),
            profile_description: self.profile_description.as_deref(),
            rating: self.rating,
            fps: self.fps,
        };
        SyncRow {
            ack: self.ack,
            data: serde_json::to_string(&exif).unwrap_or_default(),
            removed: false,
        }
    }
}

/// An EXIF stream (`e` is the EXIF row).
macro_rules! exif_stream {
    ($($stream:tt)*) => {
        row_stream! {
            ExifRow,
            r#"SELECT e."assetId" AS asset_id, e.description, e."exifImageWidth" AS exif_image_width,
                      e."exifImageHeight" AS exif_image_height, e."fileSizeInByte" AS file_size_in_byte, e.orientation,
                      e."dateTimeOriginal" AS date_time_original, e."modifyDate" AS modify_date, e."timeZone" AS time_zone,
                      e.latitude, e.longitude, e."projectionType" AS projection_type, e.city, e.state, e.country, e.make, e.model,
                      e."lensModel" AS lens_model, e."fNumber" AS f_number, e."focalLength" AS focal_length, e.iso,
                      e."exposureTime" AS exposure_time, e."profileDescription" AS profile_description, e.rating, e.fps, "#,
            $($stream)*
        }
    };
}

exif_stream! {
    /// EXIF of the assets of `owners` (SyncAssetExifV1); never of others' locked assets.
    asset_exifs(owners: &[Uuid], viewer: Uuid) => r#"e."updateId" AS ack
           FROM asset_exif e JOIN asset a ON a.id = e."assetId" WHERE a."ownerId" = ANY($1) AND (a."ownerId" = $2 OR a.visibility <> 'locked')
             AND e."updateId" < $5 AND ($3::uuid IS NULL OR e."updateId" > $3) AND ($4::uuid IS NULL OR e."updateId" <= $4)
           ORDER BY e."updateId" LIMIT $6"#
}

/// SyncAssetExifV1, as Immich sends it.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct SyncAssetExifV1<'a> {
    asset_id: Uuid,
    description: &'a str,
    exif_image_width: Option<i32>,
    exif_image_height: Option<i32>,
    file_size_in_byte: Option<i64>,
    orientation: Option<&'a str>,
    date_time_original: Option<String>,
    modify_date: Option<String>,
    time_zone: Option<&'a str>,
    latitude: Option<f64>,
    longitude: Option<f64>,
    projection_type: Option<&'a str>,
    city: Option<&'a str>,
    state: Option<&'a str>,
    country: Option<&'a str>,
    make: Option<&'a str>,
    model: Option<&'a str>,
    lens_model: Option<&'a str>,
    f_number: Option<f64>,
    focal_length: Option<f64>,
    iso: Option<i32>,
    exposure_time: Option<&'a str>,
    profile_description: Option<&'a str>,
    rating: Option<i32>,
    fps: Option<f64>,
}

sync_stream! {
    /// Stacks of `owners` (SyncStackV1).
    stacks(owners: &[Uuid]) => r#"SELECT s."updateId" AS "ack!", json_build_object('id', s.id, 'createdAt', sync_iso(s."createdAt"), 'updatedAt', sync_iso(s."updatedAt"),
                  'primaryAssetId', s."primaryAssetId", 'ownerId', s."ownerId")::text AS "data!", false AS "removed!"
           FROM stack s WHERE s."ownerId" = ANY($1)
             AND s."updateId" < $4 AND ($2::uuid IS NULL OR s."updateId" > $2) AND ($3::uuid IS NULL OR s."updateId" <= $3)
           ORDER BY s."updateId" LIMIT $5"#
}

sync_stream! {
    /// Stacks of `owners` deleted (SyncStackDeleteV1).
    stack_deletes(owners: &[Uuid]) => r#"SELECT x.id AS "ack!", json_build_object('stackId', x."stackId")::text AS "data!", false AS "removed!" FROM stack_audit x WHERE x."userId" = ANY($1)
             AND x.id < $4 AND ($2::uuid IS NULL OR x.id > $2) AND ($3::uuid IS NULL OR x.id <= $3)
           ORDER BY x.id LIMIT $5"#
}

sync_stream! {
    /// `user`'s preferences, licence and onboarding (SyncUserMetadataV1).
    user_metadata(user: Uuid) => r#"SELECT m."updateId" AS "ack!", json_build_object('userId', m."userId", 'key', m.key, 'value', m.value)::text AS "data!", false AS "removed!"
           FROM user_metadata m WHERE m."userId" = $1
             AND m."updateId" < $4 AND ($2::uuid IS NULL OR m."updateId" > $2) AND ($3::uuid IS NULL OR m."updateId" <= $3)
           ORDER BY m."updateId" LIMIT $5"#
}

sync_stream! {
    /// `user`'s removed metadata (SyncUserMetadataDeleteV1).
    user_metadata_deletes(user: Uuid) => r#"SELECT x.id AS "ack!", json_build_object('userId', x."userId", 'key', x.key)::text AS "data!", false AS "removed!" FROM user_metadata_audit x WHERE x."userId" = $1
             AND x.id < $4 AND ($2::uuid IS NULL OR x.id > $2) AND ($3::uuid IS NULL OR x.id <= $3)
           ORDER BY x.id LIMIT $5"#
}

sync_stream! {
    /// Metadata of `user`'s assets (SyncAssetMetadataV1).
    asset_metadata(user: Uuid) => r#"SELECT m."updateId" AS "ack!", json_build_object('assetId', m."assetId", 'key', m.key, 'value', m.value)::text AS "data!", false AS "removed!"
           FROM asset_metadata m JOIN asset a ON a.id = m."assetId" WHERE a."ownerId" = $1
             AND m."updateId" < $4 AND ($2::uuid IS NULL OR m."updateId" > $2) AND ($3::uuid IS NULL OR m."updateId" <= $3)
           ORDER BY m."updateId" LIMIT $5"#
}

sync_stream! {
    /// Removed metadata of `user`'s assets (SyncAssetMetadataDeleteV1).
    asset_metadata_deletes(user: Uuid) => r#"SELECT x.id AS "ack!", json_build_object('assetId', x."assetId", 'key', x.key)::text AS "data!", false AS "removed!"
           FROM asset_metadata_audit x JOIN asset a ON a.id = x."assetId" WHERE a."ownerId" = $1
             AND x.id < $4 AND ($2::uuid IS NULL OR x.id > $2) AND ($3::uuid IS NULL OR x.id <= $3)
           ORDER BY x.id LIMIT $5"#
}

/// An album as both album streams read it.
struct AlbumRow {
    ack: Uuid,
    id: Uuid,
    owner_id: Option<Uuid>,
    name: String,
    description: String,
    created_at: chrono::DateTime<chrono::Utc>,
    updated_at: chrono::DateTime<chrono::Utc>,
    thumbnail_asset_id: Option<Uuid>,
    is_activity_enabled: bool,
    order: String,
    with_owner: bool,
}

impl AlbumRow {
    fn into_line(self) -> SyncRow {
        let album = SyncAlbum {
            id: self.id,
            owner_id: self.owner_id.filter(|_| self.with_owner),
            name: &self.name,
            description: &self.description,
            created_at: iso_millis(&self.created_at),
            updated_at: iso_millis(&self.updated_at),
            thumbnail_asset_id: self.thumbnail_asset_id,
            is_activity_enabled: self.is_activity_enabled,
            order: &self.order,
        };
        SyncRow {
            ack: self.ack,
            data: serde_json::to_string(&album).unwrap_or_default(),
            removed: false,
        }
    }
}

/// SyncAlbumV2, or SyncAlbumV1 (the same with its owner's id).
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct SyncAlbum<'a> {
    id: Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    owner_id: Option<Uuid>,
    name: &'a str,
    description: &'a str,
    created_at: String,
    updated_at: String,
    thumbnail_asset_id: Option<Uuid>,
    is_activity_enabled: bool,
    order: &'a str,
}

row_stream! {
    AlbumRow,
    "",
    /// Albums `user` belongs to (SyncAlbumV2; SyncAlbumV1, which names the owner, `with_owner`).
    albums(user: Uuid, with_owner: bool) => r#"SELECT al."updateId" AS ack, al.id,
                  CASE WHEN $2 THEN (SELECT o."userId" FROM album_user o WHERE o."albumId" = al.id AND o.role = 'owner' LIMIT 1) END AS owner_id,
                  al."albumName" AS name, al.description, al."createdAt" AS created_at, al."updatedAt" AS updated_at,
                  al."albumThumbnailAssetId" AS thumbnail_asset_id, al."isActivityEnabled" AS is_activity_enabled, al."order",
                  $2::bool AS "with_owner!"
           FROM album al WHERE EXISTS (SELECT 1 FROM album_user m WHERE m."albumId" = al.id AND m."userId" = $1)
             AND al."updateId" < $5 AND ($3::uuid IS NULL OR al."updateId" > $3) AND ($4::uuid IS NULL OR al."updateId" <= $4)
           ORDER BY al."updateId" LIMIT $6"#
}

sync_stream! {
    /// Albums gone for `user`, deleted or left (SyncAlbumDeleteV1).
    album_deletes(user: Uuid) => r#"SELECT x.id AS "ack!", json_build_object('albumId', x."albumId")::text AS "data!", false AS "removed!" FROM album_audit x WHERE x."userId" = $1
             AND x.id < $4 AND ($2::uuid IS NULL OR x.id > $2) AND ($3::uuid IS NULL OR x.id <= $3)
           ORDER BY x.id LIMIT $5"#
}

sync_stream! {
    /// Members of `albums` (SyncAlbumUserV1).
    album_users(albums: &[Uuid]) => r#"SELECT m."updateId" AS "ack!", json_build_object('albumId', m."albumId", 'userId', m."userId", 'role', m.role)::text AS "data!", false AS "removed!"
           FROM album_user m WHERE m."albumId" = ANY($1)
             AND m."updateId" < $4 AND ($2::uuid IS NULL OR m."updateId" > $2) AND ($3::uuid IS NULL OR m."updateId" <= $3)
           ORDER BY m."updateId" LIMIT $5"#
}

sync_stream! {
    /// Members who left `albums` (SyncAlbumUserDeleteV1).
    album_user_deletes(albums: &[Uuid]) => r#"SELECT x.id AS "ack!", json_build_object('userId', x."userId", 'albumId', x."albumId")::text AS "data!", false AS "removed!"
           FROM album_user_audit x WHERE x."albumId" = ANY($1)
             AND x.id < $4 AND ($2::uuid IS NULL OR x.id > $2) AND ($3::uuid IS NULL OR x.id <= $3)
           ORDER BY x.id LIMIT $5"#
}

sync_stream! {
    /// Which assets `albums` hold (SyncAlbumToAssetV1).
    album_to_assets(albums: &[Uuid]) => r#"SELECT aa."updateId" AS "ack!", json_build_object('assetId', aa."assetId", 'albumId', aa."albumId")::text AS "data!", false AS "removed!"
           FROM album_asset aa WHERE aa."albumId" = ANY($1)
             AND aa."updateId" < $4 AND ($2::uuid IS NULL OR aa."updateId" > $2) AND ($3::uuid IS NULL OR aa."updateId" <= $3)
           ORDER BY aa."updateId" LIMIT $5"#
}

sync_stream! {
    /// Assets taken out of `albums` (SyncAlbumToAssetDeleteV1).
    album_to_asset_deletes(albums: &[Uuid]) => r#"SELECT x.id AS "ack!", json_build_object('assetId', x."assetId", 'albumId', x."albumId")::text AS "data!", false AS "removed!"
           FROM album_asset_audit x WHERE x."albumId" = ANY($1)
             AND x.id < $4 AND ($2::uuid IS NULL OR x.id > $2) AND ($3::uuid IS NULL OR x.id <= $3)
           ORDER BY x.id LIMIT $5"#
}

asset_stream! {
    /// The assets of `albums` as they were added (SyncAssetV2, cursor: when added).
    album_assets(albums: &[Uuid], viewer: Uuid) => r#"aa."updateId" AS ack
           FROM album_asset aa JOIN asset a ON a.id = aa."assetId" WHERE aa."albumId" = ANY($1)
             AND aa."updateId" < $5 AND ($3::uuid IS NULL OR aa."updateId" > $3) AND ($4::uuid IS NULL OR aa."updateId" <= $4)
           ORDER BY aa."updateId" LIMIT $6"#
}

exif_stream! {
    /// EXIF of the assets of `albums` as they were added (SyncAssetExifV1, cursor: when added).
    album_asset_exifs(albums: &[Uuid]) => r#"aa."updateId" AS ack
           FROM album_asset aa JOIN asset_exif e ON e."assetId" = aa."assetId" WHERE aa."albumId" = ANY($1)
             AND aa."updateId" < $4 AND ($2::uuid IS NULL OR aa."updateId" > $2) AND ($3::uuid IS NULL OR aa."updateId" <= $3)
           ORDER BY aa."updateId" LIMIT $5"#
}

sync_stream! {
    /// `user`'s people (SyncPersonV1).
    people(user: Uuid) => r#"SELECT p."updateId" AS "ack!", json_build_object('id', p.id, 'createdAt', sync_iso(p."createdAt"), 'updatedAt', sync_iso(p."updatedAt"),
                  'ownerId', p."ownerId", 'name', p.name, 'birthDate', sync_iso(p."birthDate"::timestamp AT TIME ZONE 'UTC'),
                  'isHidden', p."isHidden", 'isFavorite', p."isFavorite", 'color', p.color, 'faceAssetId', p."faceAssetId")::text AS "data!", false AS "removed!"
           FROM person p WHERE p."ownerId" = $1
             AND p."updateId" < $4 AND ($2::uuid IS NULL OR p."updateId" > $2) AND ($3::uuid IS NULL OR p."updateId" <= $3)
           ORDER BY p."updateId" LIMIT $5"#
}

sync_stream! {
    /// `user`'s people removed (SyncPersonDeleteV1).
    person_deletes(user: Uuid) => r#"SELECT x.id AS "ack!", json_build_object('personId', x."personId")::text AS "data!", false AS "removed!" FROM person_audit x WHERE x."ownerId" = $1
             AND x.id < $4 AND ($2::uuid IS NULL OR x.id > $2) AND ($3::uuid IS NULL OR x.id <= $3)
           ORDER BY x.id LIMIT $5"#
}

sync_stream! {
    /// `user`'s memories (SyncMemoryV1).
    memories(user: Uuid) => r#"SELECT m."updateId" AS "ack!", json_build_object('id', m.id, 'createdAt', sync_iso(m."createdAt"), 'updatedAt', sync_iso(m."updatedAt"),
                  'deletedAt', sync_iso(m."deletedAt"), 'ownerId', m."ownerId", 'type', m.type, 'data', m.data, 'isSaved', m."isSaved",
                  'memoryAt', sync_iso(m."memoryAt"), 'seenAt', sync_iso(m."seenAt"), 'showAt', sync_iso(m."showAt"),
                  'hideAt', sync_iso(m."hideAt"))::text AS "data!", false AS "removed!"
           FROM memory m WHERE m."ownerId" = $1
             AND m."updateId" < $4 AND ($2::uuid IS NULL OR m."updateId" > $2) AND ($3::uuid IS NULL OR m."updateId" <= $3)
           ORDER BY m."updateId" LIMIT $5"#
}

sync_stream! {
    /// `user`'s deleted memories (SyncMemoryDeleteV1).
    memory_deletes(user: Uuid) => r#"SELECT x.id AS "ack!", json_build_object('memoryId', x."memoryId")::text AS "data!", false AS "removed!" FROM memory_audit x WHERE x."userId" = $1
             AND x.id < $4 AND ($2::uuid IS NULL OR x.id > $2) AND ($3::uuid IS NULL OR x.id <= $3)
           ORDER BY x.id LIMIT $5"#
}

sync_stream! {
    /// Which assets `user`'s memories hold (SyncMemoryAssetV1).
    memory_assets(user: Uuid) => r#"SELECT ma."updateId" AS "ack!", json_build_object('memoryId', ma."memoriesId", 'assetId', ma."assetId")::text AS "data!", false AS "removed!"
           FROM memory_asset ma JOIN memory m ON m.id = ma."memoriesId" WHERE m."ownerId" = $1
             AND ma."updateId" < $4 AND ($2::uuid IS NULL OR ma."updateId" > $2) AND ($3::uuid IS NULL OR ma."updateId" <= $3)
           ORDER BY ma."updateId" LIMIT $5"#
}

sync_stream! {
    /// Assets taken out of `user`'s memories (SyncMemoryAssetDeleteV1).
    memory_asset_deletes(user: Uuid) => r#"SELECT x.id AS "ack!", json_build_object('memoryId', x."memoryId", 'assetId', x."assetId")::text AS "data!", false AS "removed!"
           FROM memory_asset_audit x JOIN memory m ON m.id = x."memoryId" WHERE m."ownerId" = $1
             AND x.id < $4 AND ($2::uuid IS NULL OR x.id > $2) AND ($3::uuid IS NULL OR x.id <= $3)
           ORDER BY x.id LIMIT $5"#
}

asset_stream! {
    /// Changes to assets already in `albums` by `added_until` (SyncAssetV2).
    album_asset_updates(albums: &[Uuid], viewer: Uuid, added_until: Uuid) => r#"a."updateId" AS ack
           FROM asset a WHERE EXISTS (SELECT 1 FROM album_asset aa WHERE aa."assetId" = a.id AND aa."albumId" = ANY($1) AND aa."updateId" <= $3)
             AND a."updateId" < $6 AND ($4::uuid IS NULL OR a."updateId" > $4) AND ($5::uuid IS NULL OR a."updateId" <= $5)
           ORDER BY a."updateId" LIMIT $7"#
}

exif_stream! {
    /// Changes to the EXIF of assets already in `albums` by `added_until` (SyncAssetExifV1).
    album_asset_exif_updates(albums: &[Uuid], added_until: Uuid) => r#"e."updateId" AS ack
           FROM asset_exif e WHERE EXISTS (SELECT 1 FROM album_asset aa WHERE aa."assetId" = e."assetId" AND aa."albumId" = ANY($1) AND aa."updateId" <= $2)
             AND e."updateId" < $5 AND ($3::uuid IS NULL OR e."updateId" > $3) AND ($4::uuid IS NULL OR e."updateId" <= $4)
           ORDER BY e."updateId" LIMIT $6"#
}

sync_stream! {
    /// Faces found in `user`'s assets (SyncAssetFaceV2).
    asset_faces(user: Uuid) => r#"SELECT f."updateId" AS "ack!", json_build_object('id', f.id, 'assetId', f."assetId", 'personId', f."personId",
                  'imageWidth', f."imageWidth", 'imageHeight', f."imageHeight", 'boundingBoxX1', f."boundingBoxX1", 'boundingBoxY1', f."boundingBoxY1",
                  'boundingBoxX2', f."boundingBoxX2", 'boundingBoxY2', f."boundingBoxY2", 'sourceType', f."sourceType",
                  'deletedAt', sync_iso(f."deletedAt"), 'isVisible', f."isVisible")::text AS "data!", false AS "removed!"
           FROM asset_face f JOIN asset a ON a.id = f."assetId" WHERE a."ownerId" = $1
             AND f."updateId" < $4 AND ($2::uuid IS NULL OR f."updateId" > $2) AND ($3::uuid IS NULL OR f."updateId" <= $3)
           ORDER BY f."updateId" LIMIT $5"#
}

sync_stream! {
    /// Faces removed from `user`'s assets (SyncAssetFaceDeleteV1).
    asset_face_deletes(user: Uuid) => r#"SELECT x.id AS "ack!", json_build_object('assetFaceId', x."assetFaceId")::text AS "data!", false AS "removed!"
           FROM asset_face_audit x JOIN asset a ON a.id = x."assetId" WHERE a."ownerId" = $1
             AND x.id < $4 AND ($2::uuid IS NULL OR x.id > $2) AND ($3::uuid IS NULL OR x.id <= $3)
           ORDER BY x.id LIMIT $5"#
}

sync_stream! {
    /// Text found in `user`'s assets (SyncAssetOcrV1).
    asset_ocr(user: Uuid) => r#"SELECT o."updateId" AS "ack!", json_build_object('id', o.id, 'assetId', o."assetId", 'x1', o.x1, 'y1', o.y1, 'x2', o.x2, 'y2', o.y2,
                  'x3', o.x3, 'y3', o.y3, 'x4', o.x4, 'y4', o.y4, 'boxScore', o."boxScore", 'textScore', o."textScore", 'text', o.text,
                  'isVisible', o."isVisible")::text AS "data!", false AS "removed!"
           FROM asset_ocr o JOIN asset a ON a.id = o."assetId" WHERE a."ownerId" = $1
             AND o."updateId" < $4 AND ($2::uuid IS NULL OR o."updateId" > $2) AND ($3::uuid IS NULL OR o."updateId" <= $3)
           ORDER BY o."updateId" LIMIT $5"#
}

sync_stream! {
    /// Text removed from `user`'s assets, one line per removed box naming the asset
    /// (SyncAssetOcrDeleteV1, whose `id` is the audit row's).
    asset_ocr_deletes(user: Uuid) => r#"SELECT x.id AS "ack!", json_build_object('id', x.id, 'assetId', x."assetId", 'deletedAt', sync_iso(x."deletedAt"))::text AS "data!", false AS "removed!"
           FROM asset_ocr_audit x JOIN asset a ON a.id = x."assetId" WHERE a."ownerId" = $1
             AND x.id < $4 AND ($2::uuid IS NULL OR x.id > $2) AND ($3::uuid IS NULL OR x.id <= $3)
           ORDER BY x.id LIMIT $5"#
}

sync_stream! {
    /// Edits of `user`'s assets (SyncAssetEditV1).
    asset_edits(user: Uuid) => r#"SELECT e."updateId" AS "ack!", json_build_object('id', e.id, 'assetId', e."assetId", 'action', e.action,
                  'parameters', e.parameters, 'sequence', e.sequence)::text AS "data!", false AS "removed!"
           FROM asset_edit e JOIN asset a ON a.id = e."assetId" WHERE a."ownerId" = $1
             AND e."updateId" < $4 AND ($2::uuid IS NULL OR e."updateId" > $2) AND ($3::uuid IS NULL OR e."updateId" <= $3)
           ORDER BY e."updateId" LIMIT $5"#
}

sync_stream! {
    /// Edits undone on `user`'s assets (SyncAssetEditDeleteV1).
    asset_edit_deletes(user: Uuid) => r#"SELECT x.id AS "ack!", json_build_object('editId', x."editId")::text AS "data!", false AS "removed!"
           FROM asset_edit_audit x JOIN asset a ON a.id = x."assetId" WHERE a."ownerId" = $1
             AND x.id < $4 AND ($2::uuid IS NULL OR x.id > $2) AND ($3::uuid IS NULL OR x.id <= $3)
           ORDER BY x.id LIMIT $5"#
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_as_sync_iso_writes_them() {
        let at = |text: &str| {
            chrono::DateTime::parse_from_rfc3339(text)
                .unwrap()
                .with_timezone(&chrono::Utc)
        };
        assert_eq!(iso_millis(&at("2024-06-01T12:00:00Z")), "2024-06-01T12:00:00.000Z");
        assert_eq!(
            iso_millis(&at("2024-06-01T12:00:00.123999+02:00")),
            "2024-06-01T10:00:00.123Z"
        );
    }
}
