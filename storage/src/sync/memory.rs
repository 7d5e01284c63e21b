//! Streams of memories and the assets they hold.

use chrono::{DateTime, Utc};
use serde_json::value::RawValue;
use sqlx::types::Json;
use uuid::Uuid;

#[derive(Debug)]
pub struct Memory {
    pub ack: Uuid,
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub owner_id: Uuid,
    pub memory_type: String,
    /// As stored (jsonb's own text), so it goes out byte for byte.
    pub data: Json<Box<RawValue>>,
    pub is_saved: bool,
    pub memory_at: DateTime<Utc>,
    pub seen_at: Option<DateTime<Utc>>,
    pub show_at: Option<DateTime<Utc>>,
    pub hide_at: Option<DateTime<Utc>>,
}

sync_stream! {
    /// `user`'s memories.
    memories(user: Uuid) -> Memory on r#"m."updateId""#: r#"m.id, m."createdAt" AS created_at, m."updatedAt" AS updated_at,
                  m."deletedAt" AS deleted_at, m."ownerId" AS owner_id, m.type AS memory_type,
                  m.data AS "data: Json<Box<RawValue>>", m."isSaved" AS is_saved, m."memoryAt" AS memory_at,
                  m."seenAt" AS seen_at, m."showAt" AS show_at, m."hideAt" AS hide_at
           FROM memory m WHERE m."ownerId" = $5"#
}

#[derive(Debug)]
pub struct MemoryDelete {
    pub ack: Uuid,
    pub memory_id: Uuid,
}

sync_stream! {
    /// `user`'s deleted memories.
    memory_deletes(user: Uuid) -> MemoryDelete on "x.id": r#"x."memoryId" AS memory_id
           FROM memory_audit x WHERE x."userId" = $5"#
}

/// An asset in a memory (added, or taken out for the deletes).
#[derive(Debug)]
pub struct MemoryAsset {
    pub ack: Uuid,
    pub memory_id: Uuid,
    pub asset_id: Uuid,
}

sync_stream! {
    /// Which assets `user`'s memories hold.
    memory_assets(user: Uuid) -> MemoryAsset on r#"ma."updateId""#: r#"ma."memoriesId" AS memory_id, ma."assetId" AS asset_id
           FROM memory_asset ma JOIN memory m ON m.id = ma."memoriesId" WHERE m."ownerId" = $5"#
}

sync_stream! {
    /// Assets taken out of `user`'s memories.
    memory_asset_deletes(user: Uuid) -> MemoryAsset on "x.id": r#"x."memoryId" AS memory_id, x."assetId" AS asset_id
           FROM memory_asset_audit x JOIN memory m ON m.id = x."memoryId" WHERE m."ownerId" = $5"#
}
