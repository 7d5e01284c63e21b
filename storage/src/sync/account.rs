//! Streams of accounts: the caller's own, every user, partner shares and user metadata.

use chrono::{DateTime, Utc};
use serde_json::value::RawValue;
use sqlx::types::Json;
use uuid::Uuid;

/// The caller's own account, with what only they may see of it.
#[derive(Debug)]
pub struct AuthUser {
    pub ack: Uuid,
    pub id: Uuid,
    pub name: String,
    pub email: String,
    pub avatar_color: Option<String>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub profile_changed_at: DateTime<Utc>,
    pub is_admin: bool,
    pub pin_code: Option<String>,
    pub oauth_id: String,
    pub storage_label: Option<String>,
    pub quota_size_in_bytes: Option<i64>,
    pub quota_usage_in_bytes: i64,
    pub has_profile_image: bool,
}

sync_stream! {
    /// The caller's own account.
    auth_user(user: Uuid) -> AuthUser on r#"u."updateId""#: r#"u.id, u.name, u.email, u."avatarColor" AS avatar_color,
                  u."deletedAt" AS deleted_at, u."profileChangedAt" AS profile_changed_at, u."isAdmin" AS is_admin,
                  u."pinCode" AS pin_code, u."oauthId" AS oauth_id, u."storageLabel" AS storage_label,
                  u."quotaSizeInBytes" AS quota_size_in_bytes, u."quotaUsageInBytes" AS quota_usage_in_bytes,
                  u."profileImagePath" <> '' AS "has_profile_image!"
           FROM "user" u WHERE u.id = $5"#
}

/// A user as every other user sees them.
#[derive(Debug)]
pub struct User {
    pub ack: Uuid,
    pub id: Uuid,
    pub name: String,
    pub email: String,
    pub avatar_color: Option<String>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub profile_changed_at: DateTime<Utc>,
    pub has_profile_image: bool,
}

sync_stream! {
    /// Every user of the server.
    users() -> User on r#"u."updateId""#: r#"u.id, u.name, u.email, u."avatarColor" AS avatar_color,
                  u."deletedAt" AS deleted_at, u."profileChangedAt" AS profile_changed_at,
                  u."profileImagePath" <> '' AS "has_profile_image!"
           FROM "user" u WHERE true"#
}

#[derive(Debug)]
pub struct UserDelete {
    pub ack: Uuid,
    pub user_id: Uuid,
}

sync_stream! {
    /// Users removed for good.
    user_deletes() -> UserDelete on "x.id": r#"x."userId" AS user_id FROM user_audit x WHERE true"#
}

#[derive(Debug)]
pub struct Partner {
    pub ack: Uuid,
    pub shared_by_id: Uuid,
    pub shared_with_id: Uuid,
    pub in_timeline: bool,
}

sync_stream! {
    /// Shares from or to `user`.
    partners(user: Uuid) -> Partner on r#"p."updateId""#: r#"p."sharedById" AS shared_by_id, p."sharedWithId" AS shared_with_id,
                  p."inTimeline" AS in_timeline
           FROM partner p WHERE (p."sharedById" = $5 OR p."sharedWithId" = $5)"#
}

#[derive(Debug)]
pub struct PartnerDelete {
    pub ack: Uuid,
    pub shared_by_id: Uuid,
    pub shared_with_id: Uuid,
}

sync_stream! {
    /// Ended shares from or to `user`.
    partner_deletes(user: Uuid) -> PartnerDelete on "x.id": r#"x."sharedById" AS shared_by_id, x."sharedWithId" AS shared_with_id
           FROM partner_audit x WHERE (x."sharedById" = $5 OR x."sharedWithId" = $5)"#
}

/// One of a user's preferences, licence or onboarding state.
#[derive(Debug)]
pub struct UserMetadata {
    pub ack: Uuid,
    pub user_id: Uuid,
    pub key: String,
    /// As stored (jsonb's own text), so it goes out byte for byte.
    pub value: Json<Box<RawValue>>,
}

sync_stream! {
    /// `user`'s preferences, licence and onboarding.
    user_metadata(user: Uuid) -> UserMetadata on r#"m."updateId""#: r#"m."userId" AS user_id, m.key,
                  m.value AS "value: Json<Box<RawValue>>"
           FROM user_metadata m WHERE m."userId" = $5"#
}

#[derive(Debug)]
pub struct UserMetadataDelete {
    pub ack: Uuid,
    pub user_id: Uuid,
    pub key: String,
}

sync_stream! {
    /// `user`'s removed metadata.
    user_metadata_deletes(user: Uuid) -> UserMetadataDelete on "x.id": r#"x."userId" AS user_id, x.key
           FROM user_metadata_audit x WHERE x."userId" = $5"#
}
