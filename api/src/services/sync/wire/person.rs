//! People and the faces found in assets.

use chrono::NaiveTime;
use darkroom_storage::sync as store;
use serde::Serialize;
use uuid::Uuid;

use super::{Data, Entry, Millis};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncPersonV1 {
    id: Uuid,
    created_at: Millis,
    updated_at: Millis,
    owner_id: Uuid,
    name: String,
    /// Midnight UTC of the day.
    birth_date: Option<Millis>,
    is_hidden: bool,
    is_favorite: bool,
    color: Option<String>,
    face_asset_id: Option<Uuid>,
}

impl From<store::Person> for Entry {
    fn from(row: store::Person) -> Self {
        let person = SyncPersonV1 {
            id: row.id,
            created_at: Millis(row.created_at),
            updated_at: Millis(row.updated_at),
            owner_id: row.owner_id,
            name: row.name,
            birth_date: row.birth_date.map(|day| Millis(day.and_time(NaiveTime::MIN).and_utc())),
            is_hidden: row.is_hidden,
            is_favorite: row.is_favorite,
            color: row.color,
            face_asset_id: row.face_asset_id,
        };
        Entry {
            ack: row.ack,
            data: Data::Person(person),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncPersonDeleteV1 {
    person_id: Uuid,
}

impl From<store::PersonDelete> for Entry {
    fn from(row: store::PersonDelete) -> Self {
        Entry {
            ack: row.ack,
            data: Data::PersonDelete(SyncPersonDeleteV1 {
                person_id: row.person_id,
            }),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncAssetFaceV2 {
    id: Uuid,
    asset_id: Uuid,
    person_id: Option<Uuid>,
    image_width: i32,
    image_height: i32,
    bounding_box_x1: i32,
    bounding_box_y1: i32,
    bounding_box_x2: i32,
    bounding_box_y2: i32,
    source_type: String,
    deleted_at: Option<Millis>,
    is_visible: bool,
}

impl From<store::AssetFace> for Entry {
    fn from(row: store::AssetFace) -> Self {
        let face = SyncAssetFaceV2 {
            id: row.id,
            asset_id: row.asset_id,
            person_id: row.person_id,
            image_width: row.image_width,
            image_height: row.image_height,
            bounding_box_x1: row.bounding_box_x1,
            bounding_box_y1: row.bounding_box_y1,
            bounding_box_x2: row.bounding_box_x2,
            bounding_box_y2: row.bounding_box_y2,
            source_type: row.source_type,
            deleted_at: row.deleted_at.map(Millis),
            is_visible: row.is_visible,
        };
        Entry {
            ack: row.ack,
            data: Data::AssetFace(face),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncAssetFaceDeleteV1 {
    asset_face_id: Uuid,
}

impl From<store::AssetFaceDelete> for Entry {
    fn from(row: store::AssetFaceDelete) -> Self {
        let face = SyncAssetFaceDeleteV1 {
            asset_face_id: row.asset_face_id,
        };
        Entry {
            ack: row.ack,
            data: Data::AssetFaceDelete(face),
        }
    }
}
