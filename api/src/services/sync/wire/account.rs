//! Accounts: the caller's own, every user, partner shares and user metadata.

use darkroom_storage::sync as store;
use serde::Serialize;
use serde_json::value::RawValue;
use uuid::Uuid;

use super::{Data, Entry, Millis};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncAuthUserV1 {
    id: Uuid,
    name: String,
    email: String,
    avatar_color: Option<String>,
    deleted_at: Option<Millis>,
    profile_changed_at: Millis,
    is_admin: bool,
    pin_code: Option<String>,
    oauth_id: String,
    storage_label: Option<String>,
    quota_size_in_bytes: Option<i64>,
    quota_usage_in_bytes: i64,
    has_profile_image: bool,
}

impl From<store::AuthUser> for Entry {
    fn from(row: store::AuthUser) -> Self {
        let user = SyncAuthUserV1 {
            id: row.id,
            name: row.name,
            email: row.email,
            avatar_color: row.avatar_color,
            deleted_at: row.deleted_at.map(Millis),
            profile_changed_at: Millis(row.profile_changed_at),
            is_admin: row.is_admin,
            pin_code: row.pin_code,
            oauth_id: row.oauth_id,
            storage_label: row.storage_label,
            quota_size_in_bytes: row.quota_size_in_bytes,
            quota_usage_in_bytes: row.quota_usage_in_bytes,
            has_profile_image: row.has_profile_image,
        };
        Entry {
            ack: row.ack,
            data: Data::AuthUser(user),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncUserV1 {
    id: Uuid,
    name: String,
    email: String,
    avatar_color: Option<String>,
    deleted_at: Option<Millis>,
    profile_changed_at: Millis,
    has_profile_image: bool,
}

impl From<store::User> for Entry {
    fn from(row: store::User) -> Self {
        let user = SyncUserV1 {
            id: row.id,
            name: row.name,
            email: row.email,
            avatar_color: row.avatar_color,
            deleted_at: row.deleted_at.map(Millis),
            profile_changed_at: Millis(row.profile_changed_at),
            has_profile_image: row.has_profile_image,
        };
        Entry {
            ack: row.ack,
            data: Data::User(user),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncUserDeleteV1 {
    user_id: Uuid,
}

impl From<store::UserDelete> for Entry {
    fn from(row: store::UserDelete) -> Self {
        Entry {
            ack: row.ack,
            data: Data::UserDelete(SyncUserDeleteV1 { user_id: row.user_id }),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncPartnerV1 {
    shared_by_id: Uuid,
    shared_with_id: Uuid,
    in_timeline: bool,
}

impl From<store::Partner> for Entry {
    fn from(row: store::Partner) -> Self {
        let partner = SyncPartnerV1 {
            shared_by_id: row.shared_by_id,
            shared_with_id: row.shared_with_id,
            in_timeline: row.in_timeline,
        };
        Entry {
            ack: row.ack,
            data: Data::Partner(partner),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncPartnerDeleteV1 {
    shared_by_id: Uuid,
    shared_with_id: Uuid,
}

impl From<store::PartnerDelete> for Entry {
    fn from(row: store::PartnerDelete) -> Self {
        let partner = SyncPartnerDeleteV1 {
            shared_by_id: row.shared_by_id,
            shared_with_id: row.shared_with_id,
        };
        Entry {
            ack: row.ack,
            data: Data::PartnerDelete(partner),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncUserMetadataV1 {
    user_id: Uuid,
    key: String,
    value: Box<RawValue>,
}

impl From<store::UserMetadata> for Entry {
    fn from(row: store::UserMetadata) -> Self {
        let metadata = SyncUserMetadataV1 {
            user_id: row.user_id,
            key: row.key,
            value: row.value.0,
        };
        Entry {
            ack: row.ack,
            data: Data::UserMetadata(metadata),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncUserMetadataDeleteV1 {
    user_id: Uuid,
    key: String,
}

impl From<store::UserMetadataDelete> for Entry {
    fn from(row: store::UserMetadataDelete) -> Self {
        let metadata = SyncUserMetadataDeleteV1 {
            user_id: row.user_id,
            key: row.key,
        };
        Entry {
            ack: row.ack,
            data: Data::UserMetadataDelete(metadata),
        }
    }
}
