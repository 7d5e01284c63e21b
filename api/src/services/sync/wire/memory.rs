//! Memories and the assets they hold.

use darkroom_storage::sync as store;
use serde::Serialize;
use serde_json::value::RawValue;
use uuid::Uuid;

use super::{Data, Entry, Millis};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncMemoryV1 {
    id: Uuid,
    created_at: Millis,
    updated_at: Millis,
    deleted_at: Option<Millis>,
    owner_id: Uuid,
    #[serde(rename = "type")]
    memory_type: String,
    data: Box<RawValue>,
    is_saved: bool,
    memory_at: Millis,
    seen_at: Option<Millis>,
    show_at: Option<Millis>,
    hide_at: Option<Millis>,
}

impl From<store::Memory> for Entry {
    fn from(row: store::Memory) -> Self {
        let memory = SyncMemoryV1 {
            id: row.id,
            created_at: Millis(row.created_at),
            updated_at: Millis(row.updated_at),
            deleted_at: row.deleted_at.map(Millis),
            owner_id: row.owner_id,
            memory_type: row.memory_type,
            data: row.data.0,
            is_saved: row.is_saved,
            memory_at: Millis(row.memory_at),
            seen_at: row.seen_at.map(Millis),
            show_at: row.show_at.map(Millis),
            hide_at: row.hide_at.map(Millis),
        };
        Entry {
            ack: row.ack,
            data: Data::Memory(memory),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncMemoryDeleteV1 {
    memory_id: Uuid,
}

impl From<store::MemoryDelete> for Entry {
    fn from(row: store::MemoryDelete) -> Self {
        Entry {
            ack: row.ack,
            data: Data::MemoryDelete(SyncMemoryDeleteV1 {
                memory_id: row.memory_id,
            }),
        }
    }
}

/// SyncMemoryToAssetV1, and SyncMemoryToAssetDeleteV1 (the same shape).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncMemoryToAssetV1 {
    memory_id: Uuid,
    asset_id: Uuid,
}

impl From<store::MemoryAsset> for Entry {
    fn from(row: store::MemoryAsset) -> Self {
        let link = SyncMemoryToAssetV1 {
            memory_id: row.memory_id,
            asset_id: row.asset_id,
        };
        Entry {
            ack: row.ack,
            data: Data::MemoryToAsset(link),
        }
    }
}
