//! Albums, their members and which assets they hold.

use darkroom_storage::albums::AlbumRole;
use darkroom_storage::sync as store;
use serde::Serialize;
use uuid::Uuid;

use super::{Data, Entry, Millis};

/// SyncAlbumV2, or SyncAlbumV1 (the same with its owner's id).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncAlbum {
    id: Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    owner_id: Option<Uuid>,
    name: String,
    description: String,
    created_at: Millis,
    updated_at: Millis,
    thumbnail_asset_id: Option<Uuid>,
    is_activity_enabled: bool,
    order: String,
}

impl From<store::Album> for Entry {
    fn from(row: store::Album) -> Self {
        let album = SyncAlbum {
            id: row.id,
            owner_id: row.owner_id,
            name: row.name,
            description: row.description,
            created_at: Millis(row.created_at),
            updated_at: Millis(row.updated_at),
            thumbnail_asset_id: row.thumbnail_asset_id,
            is_activity_enabled: row.is_activity_enabled,
            order: row.order,
        };
        Entry {
            ack: row.ack,
            data: Data::Album(album),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncAlbumDeleteV1 {
    album_id: Uuid,
}

impl From<store::AlbumDelete> for Entry {
    fn from(row: store::AlbumDelete) -> Self {
        Entry {
            ack: row.ack,
            data: Data::AlbumDelete(SyncAlbumDeleteV1 { album_id: row.album_id }),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncAlbumUserV1 {
    album_id: Uuid,
    user_id: Uuid,
    role: AlbumRole,
}

impl From<store::AlbumUser> for Entry {
    fn from(row: store::AlbumUser) -> Self {
        let member = SyncAlbumUserV1 {
            album_id: row.album_id,
            user_id: row.user_id,
            role: row.role,
        };
        Entry {
            ack: row.ack,
            data: Data::AlbumUser(member),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncAlbumUserDeleteV1 {
    user_id: Uuid,
    album_id: Uuid,
}

impl From<store::AlbumUserDelete> for Entry {
    fn from(row: store::AlbumUserDelete) -> Self {
        let member = SyncAlbumUserDeleteV1 {
            user_id: row.user_id,
            album_id: row.album_id,
        };
        Entry {
            ack: row.ack,
            data: Data::AlbumUserDelete(member),
        }
    }
}

/// SyncAlbumToAssetV1, and SyncAlbumToAssetDeleteV1 (the same shape).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncAlbumToAssetV1 {
    asset_id: Uuid,
    album_id: Uuid,
}

impl From<store::AlbumToAsset> for Entry {
    fn from(row: store::AlbumToAsset) -> Self {
        let link = SyncAlbumToAssetV1 {
            asset_id: row.asset_id,
            album_id: row.album_id,
        };
        Entry {
            ack: row.ack,
            data: Data::AlbumToAsset(link),
        }
    }
}
