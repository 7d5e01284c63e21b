//! Typed ids: a request's ids are read straight into the kind of thing they name, so an album id
//! cannot be handed where an asset id belongs. They read as Immich's `z.uuidv4()` does: a v4
//! UUID string, else the issue `Invalid UUID` at the field (every bad id of a request is
//! reported, see `validation::from_value`).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};
use uuid::Uuid;

/// The serde message of a string that is not a v4 UUID; `validation` turns it into zod's issue.
pub const NOT_A_UUID: &str = "not a v4 UUID";

/// Accepts what zod's `uuidv4()` accepts: 36 characters, version 4, RFC 4122 variant.
pub fn parse_uuid_v4(raw: &str) -> Option<Uuid> {
    Uuid::parse_str(raw)
        .ok()
        .filter(|id| raw.len() == 36 && id.get_version_num() == 4 && id.get_variant() == uuid::Variant::RFC4122)
}

fn deserialize_v4<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Uuid, D::Error> {
    let text = std::borrow::Cow::<str>::deserialize(deserializer)?;
    parse_uuid_v4(&text).ok_or_else(|| serde::de::Error::custom(NOT_A_UUID))
}

macro_rules! typed_ids {
    ($($(#[$doc:meta])* $name:ident,)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserialize_v4(deserializer).map(Self)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Uuid {
                id.0
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    )*};
}

typed_ids! {
    /// A user's id.
    UserId,
    /// An asset's id (photo or video).
    AssetId,
    /// An album's id.
    AlbumId,
    /// A recognised person's id.
    PersonId,
    /// A detected face's id.
    FaceId,
    /// A tag's id.
    TagId,
    /// A stack's id.
    StackId,
    /// A shared link's id.
    SharedLinkId,
    /// A memory's id.
    MemoryId,
    /// An activity's (comment's or like's) id.
    ActivityId,
    /// A notification's id.
    NotificationId,
    /// A duplicate group's id.
    DuplicateId,
    /// An external library's id.
    LibraryId,
    /// An API key's id.
    ApiKeyId,
    /// A login session's id.
    SessionId,
    /// A resumable upload's id (RUFH or tus).
    UploadId,
}

/// The bare UUIDs of typed ids, for storage, which knows rows by UUID.
pub fn uuids<T: Copy + Into<Uuid>>(ids: &[T]) -> Vec<Uuid> {
    ids.iter().map(|&id| id.into()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_v4_uuids_are_ids() {
        assert!(parse_uuid_v4("8a4c1c3e-2f1b-4d7e-9a7b-0c1d2e3f4a5b").is_some());
        assert!(
            parse_uuid_v4("01890a5d-ac96-774b-bcce-b302099a8057").is_none(),
            "v7 is rejected like zod's uuidv4"
        );
        assert!(parse_uuid_v4("not-a-uuid").is_none());
        assert!(
            parse_uuid_v4("8a4c1c3e2f1b4d7e9a7b0c1d2e3f4a5b").is_none(),
            "hyphens are required"
        );
    }

    #[test]
    fn typed_ids_read_and_write_as_plain_uuids() {
        let text = "8a4c1c3e-2f1b-4d7e-9a7b-0c1d2e3f4a5b";
        let id: AlbumId = serde_json::from_value(json!(text)).expect("a v4 id");
        assert_eq!(serde_json::to_value(id).expect("json"), json!(text));
        let error = serde_json::from_value::<AssetId>(json!("nope")).expect_err("not an id");
        assert!(error.to_string().contains(NOT_A_UUID));
    }
}
