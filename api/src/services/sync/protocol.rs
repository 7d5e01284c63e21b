//! What the protocol names: the request types a client may ask for, the entity types an ack
//! may name, and the checkpoints stored from those acks.

use std::collections::HashMap;

use uuid::Uuid;

/// The request types of Immich 3.x, in the order the server answers them.
pub const REQUEST_ORDER: [&str; 27] = [
    "AuthUsersV1",
    "UsersV1",
    "PartnersV1",
    "AssetsV1",
    "AssetsV2",
    "StacksV1",
    "PartnerAssetsV1",
    "PartnerAssetsV2",
    "PartnerStacksV1",
    "AlbumAssetsV1",
    "AlbumAssetsV2",
    "AlbumsV1",
    "AlbumsV2",
    "AlbumUsersV1",
    "AlbumToAssetsV1",
    "AssetExifsV1",
    "AlbumAssetExifsV1",
    "AssetOcrV1",
    "PartnerAssetExifsV1",
    "MemoriesV1",
    "MemoryToAssetsV1",
    "PeopleV1",
    "AssetFacesV1",
    "AssetFacesV2",
    "UserMetadataV1",
    "AssetMetadataV1",
    "AssetEditsV1",
];

/// Request types a 3.x server refuses, and what replaced them.
pub fn replacement(request_type: &str) -> Option<&'static str> {
    match request_type {
        "AssetsV1" => Some("AssetsV2"),
        "PartnerAssetsV1" => Some("PartnerAssetsV2"),
        "AlbumAssetsV1" => Some("AlbumAssetsV2"),
        "AssetFacesV1" => Some("AssetFacesV2"),
        _ => None,
    }
}

/// Every entity type an ack may name.
pub const ENTITY_TYPES: [&str; 59] = [
    "AuthUserV1",
    "UserV1",
    "UserDeleteV1",
    "AssetV1",
    "AssetV2",
    "AssetDeleteV1",
    "AssetExifV1",
    "AssetEditV1",
    "AssetEditDeleteV1",
    "AssetMetadataV1",
    "AssetMetadataDeleteV1",
    "AssetOcrV1",
    "AssetOcrDeleteV1",
    "PartnerV1",
    "PartnerDeleteV1",
    "PartnerAssetV1",
    "PartnerAssetV2",
    "PartnerAssetBackfillV1",
    "PartnerAssetBackfillV2",
    "PartnerAssetDeleteV1",
    "PartnerAssetExifV1",
    "PartnerAssetExifBackfillV1",
    "PartnerStackBackfillV1",
    "PartnerStackDeleteV1",
    "PartnerStackV1",
    "AlbumV1",
    "AlbumV2",
    "AlbumDeleteV1",
    "AlbumUserV1",
    "AlbumUserBackfillV1",
    "AlbumUserDeleteV1",
    "AlbumAssetCreateV1",
    "AlbumAssetCreateV2",
    "AlbumAssetUpdateV1",
    "AlbumAssetUpdateV2",
    "AlbumAssetBackfillV1",
    "AlbumAssetBackfillV2",
    "AlbumAssetExifCreateV1",
    "AlbumAssetExifUpdateV1",
    "AlbumAssetExifBackfillV1",
    "AlbumToAssetV1",
    "AlbumToAssetDeleteV1",
    "AlbumToAssetBackfillV1",
    "MemoryV1",
    "MemoryDeleteV1",
    "MemoryToAssetV1",
    "MemoryToAssetDeleteV1",
    "StackV1",
    "StackDeleteV1",
    "PersonV1",
    "PersonDeleteV1",
    "AssetFaceV1",
    "AssetFaceV2",
    "AssetFaceDeleteV1",
    "UserMetadataV1",
    "UserMetadataDeleteV1",
    "SyncAckV1",
    "SyncResetV1",
    "SyncCompleteV1",
];

/// A stored ack, `<type>|<updateId>[|<extra>]`, taken apart.
#[derive(Debug, Clone, Default)]
pub struct Checkpoint {
    pub update_id: Option<Uuid>,
    pub extra: Option<String>,
}

impl Checkpoint {
    pub fn parse(ack: &str) -> Self {
        let mut parts = ack.split('|').skip(1);
        Self {
            update_id: parts.next().and_then(|id| Uuid::parse_str(id).ok()),
            extra: parts.next().map(str::to_string),
        }
    }

    /// When the checkpoint was written: the UUIDv7's milliseconds.
    pub fn timestamp_ms(&self) -> Option<u64> {
        let bytes = self.update_id?.into_bytes();
        Some(bytes[..6].iter().fold(0u64, |acc, b| acc << 8 | *b as u64))
    }
}

/// The session's checkpoints by entity type.
pub type Checkpoints = HashMap<String, Checkpoint>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acks_and_their_times() {
        let id = Uuid::parse_str("0190a0b1-c2d3-7e4f-8a5b-6c7d8e9f0a1b").unwrap();
        let checkpoint = Checkpoint::parse(&format!("PartnerAssetBackfillV2|{id}|complete"));
        assert_eq!(
            (checkpoint.update_id, checkpoint.extra.as_deref()),
            (Some(id), Some("complete"))
        );
        assert_eq!(checkpoint.timestamp_ms(), Some(0x0190_a0b1_c2d3));
        assert!(Checkpoint::parse("SyncResetV1|reset").update_id.is_none());
        assert_eq!(REQUEST_ORDER.len(), 27);
        assert!(ENTITY_TYPES.contains(&"SyncCompleteV1"));
    }
}
