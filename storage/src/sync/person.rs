//! Streams of people and the faces found in assets.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

#[derive(Debug)]
pub struct Person {
    pub ack: Uuid,
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub owner_id: Uuid,
    pub name: String,
    pub birth_date: Option<NaiveDate>,
    pub is_hidden: bool,
    pub is_favorite: bool,
    pub color: Option<String>,
    pub face_asset_id: Option<Uuid>,
}

sync_stream! {
    /// `user`'s people.
    people(user: Uuid) -> Person on r#"p."updateId""#: r#"p.id, p."createdAt" AS created_at, p."updatedAt" AS updated_at,
                  p."ownerId" AS owner_id, p.name, p."birthDate" AS birth_date, p."isHidden" AS is_hidden,
                  p."isFavorite" AS is_favorite, p.color, p."faceAssetId" AS face_asset_id
           FROM person p WHERE p."ownerId" = $5"#
}

#[derive(Debug)]
pub struct PersonDelete {
    pub ack: Uuid,
    pub person_id: Uuid,
}

sync_stream! {
    /// `user`'s people removed.
    person_deletes(user: Uuid) -> PersonDelete on "x.id": r#"x."personId" AS person_id
           FROM person_audit x WHERE x."ownerId" = $5"#
}

#[derive(Debug)]
pub struct AssetFace {
    pub ack: Uuid,
    pub id: Uuid,
    pub asset_id: Uuid,
    pub person_id: Option<Uuid>,
    pub image_width: i32,
    pub image_height: i32,
    pub bounding_box_x1: i32,
    pub bounding_box_y1: i32,
    pub bounding_box_x2: i32,
    pub bounding_box_y2: i32,
    /// `machine-learning`, `exif` or `manual`.
    pub source_type: String,
    pub deleted_at: Option<DateTime<Utc>>,
    pub is_visible: bool,
}

sync_stream! {
    /// Faces found in `user`'s assets.
    asset_faces(user: Uuid) -> AssetFace on r#"f."updateId""#: r#"f.id, f."assetId" AS asset_id, f."personId" AS person_id,
                  f."imageWidth" AS image_width, f."imageHeight" AS image_height,
                  f."boundingBoxX1" AS bounding_box_x1, f."boundingBoxY1" AS bounding_box_y1,
                  f."boundingBoxX2" AS bounding_box_x2, f."boundingBoxY2" AS bounding_box_y2,
                  f."sourceType"::text AS "source_type!", f."deletedAt" AS deleted_at, f."isVisible" AS is_visible
           FROM asset_face f JOIN asset a ON a.id = f."assetId" WHERE a."ownerId" = $5"#
}

#[derive(Debug)]
pub struct AssetFaceDelete {
    pub ack: Uuid,
    pub asset_face_id: Uuid,
}

sync_stream! {
    /// Faces removed from `user`'s assets.
    asset_face_deletes(user: Uuid) -> AssetFaceDelete on "x.id": r#"x."assetFaceId" AS asset_face_id
           FROM asset_face_audit x JOIN asset a ON a.id = x."assetId" WHERE a."ownerId" = $5"#
}
