//! Faces on assets (`asset_face`), found by face detection or drawn by hand, each perhaps
//! someone's (`personId`). Changes move `updateId` through the table's trigger and removals
//! reach `asset_face_audit`, which mobile sync reads.

use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use crate::Result;
use crate::people::Person;

#[derive(Debug, Clone)]
pub struct Face {
    pub id: Uuid,
    pub asset_id: Uuid,
    pub person_id: Option<Uuid>,
    pub image_width: i32,
    pub image_height: i32,
    pub x1: i32,
    pub y1: i32,
    pub x2: i32,
    pub y2: i32,
    /// `machine-learning`, `exif` or `manual`.
    pub source_type: String,
}

/// The asset's visible faces (not deleted), left to right, each with its person if any.
pub async fn for_asset(pool: &PgPool, asset: Uuid) -> Result<Vec<(Face, Option<Person>)>> {
    let rows = sqlx::query!(
        r#"SELECT f.id, f."assetId" AS asset_id, f."personId" AS person_id, f."imageWidth" AS image_width,
                  f."imageHeight" AS image_height, f."boundingBoxX1" AS x1, f."boundingBoxY1" AS y1,
                  f."boundingBoxX2" AS x2, f."boundingBoxY2" AS y2, f."sourceType"::text AS "source_type!",
                  p.id AS "p_id?", p."ownerId" AS "p_owner?", p.name AS "p_name?", p."birthDate" AS p_birth_date,
                  p."thumbnailPath" AS "p_thumbnail?", p."isHidden" AS "p_hidden?", p."isFavorite" AS "p_favorite?",
                  p.color AS p_color, p."faceAssetId" AS p_face, p."updatedAt" AS "p_updated?"
           FROM asset_face f LEFT JOIN person p ON p.id = f."personId"
           WHERE f."assetId" = $1 AND f."deletedAt" IS NULL AND f."isVisible" IS TRUE
           ORDER BY f."boundingBoxX1""#,
        asset
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let person = match (
                r.p_id,
                r.p_owner,
                r.p_name,
                r.p_thumbnail,
                r.p_hidden,
                r.p_favorite,
                r.p_updated,
            ) {
                (
                    Some(id),
                    Some(owner_id),
                    Some(name),
                    Some(thumbnail_path),
                    Some(is_hidden),
                    Some(is_favorite),
                    Some(updated_at),
                ) => Some(Person {
                    id,
                    owner_id,
                    name,
                    birth_date: r.p_birth_date,
                    thumbnail_path,
                    is_hidden,
                    is_favorite,
                    color: r.p_color,
                    face_asset_id: r.p_face,
                    updated_at,
                }),
                _ => None,
            };
            let face = Face {
                id: r.id,
                asset_id: r.asset_id,
                person_id: r.person_id,
                image_width: r.image_width,
                image_height: r.image_height,
                x1: r.x1,
                y1: r.y1,
                x2: r.x2,
                y2: r.y2,
                source_type: r.source_type,
            };
            (face, person)
        })
        .collect())
}

/// A face not deleted.
pub async fn get(pool: &PgPool, id: Uuid) -> Result<Option<Face>> {
    Ok(sqlx::query_as!(
        Face,
        r#"SELECT id, "assetId" AS asset_id, "personId" AS person_id, "imageWidth" AS image_width, "imageHeight" AS image_height,
                  "boundingBoxX1" AS x1, "boundingBoxY1" AS y1, "boundingBoxX2" AS x2, "boundingBoxY2" AS y2,
                  "sourceType"::text AS "source_type!"
           FROM asset_face WHERE id = $1 AND "deletedAt" IS NULL"#,
        id
    )
    .fetch_optional(pool)
    .await?)
}

/// Of `ids`, the faces on `owner`'s assets that are not in the trash.
pub async fn owned(pool: &PgPool, owner: Uuid, ids: &[Uuid]) -> Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT f.id FROM asset_face f JOIN asset a ON a.id = f."assetId" AND a."deletedAt" IS NULL
           WHERE f.id = ANY($1) AND a."ownerId" = $2"#,
        ids,
        owner
    )
    .fetch_all(pool)
    .await?)
}

/// The faces (not deleted) of `person` on `asset`.
pub async fn of_person_on(pool: &PgPool, person: Uuid, asset: Uuid) -> Result<Vec<Face>> {
    Ok(sqlx::query_as!(
        Face,
        r#"SELECT id, "assetId" AS asset_id, "personId" AS person_id, "imageWidth" AS image_width, "imageHeight" AS image_height,
                  "boundingBoxX1" AS x1, "boundingBoxY1" AS y1, "boundingBoxX2" AS x2, "boundingBoxY2" AS y2,
                  "sourceType"::text AS "source_type!"
           FROM asset_face WHERE "assetId" = $1 AND "personId" = $2 AND "deletedAt" IS NULL"#,
        asset,
        person
    )
    .fetch_all(pool)
    .await?)
}

pub async fn reassign(pool: &PgPool, face: Uuid, person: Uuid) -> Result<()> {
    sqlx::query!(r#"UPDATE asset_face SET "personId" = $2 WHERE id = $1"#, face, person)
        .execute(pool)
        .await?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct NewFace {
    pub asset_id: Uuid,
    pub person_id: Uuid,
    pub image_width: i32,
    pub image_height: i32,
    pub x1: i32,
    pub y1: i32,
    pub x2: i32,
    pub y2: i32,
}

/// A face drawn by hand (`sourceType` `manual`).
pub async fn create_manual(pool: &PgPool, face: &NewFace) -> Result<Uuid> {
    Ok(sqlx::query_scalar!(
        r#"INSERT INTO asset_face ("assetId", "personId", "imageWidth", "imageHeight", "boundingBoxX1", "boundingBoxY1",
                                   "boundingBoxX2", "boundingBoxY2", "sourceType")
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'manual') RETURNING id"#,
        face.asset_id,
        face.person_id,
        face.image_width,
        face.image_height,
        face.x1,
        face.y1,
        face.x2,
        face.y2
    )
    .fetch_one(pool)
    .await?)
}

/// Removes a face for good (`force`), or marks it deleted so face detection does not find it
/// again.
pub async fn delete(pool: &PgPool, id: Uuid, force: bool) -> Result<()> {
    if force {
        sqlx::query!(r#"DELETE FROM asset_face WHERE id = $1"#, id)
            .execute(pool)
            .await?;
    } else {
        sqlx::query!(r#"UPDATE asset_face SET "deletedAt" = now() WHERE id = $1"#, id)
            .execute(pool)
            .await?;
    }
    Ok(())
}

/// What face and text boxes are measured against: the picture's EXIF size and orientation,
/// and its edits in order as (action, parameters).
#[derive(Debug, Clone)]
pub struct AssetGeometry {
    /// The asset's own size (`asset.width`/`height`), which edits change.
    pub asset_width: Option<i32>,
    pub asset_height: Option<i32>,
    pub width: i32,
    pub height: i32,
    pub orientation: Option<String>,
    pub edits: Vec<(String, Value)>,
}

/// `None` when the asset is missing; sizes are 0 when unknown.
pub async fn geometry(pool: &PgPool, asset: Uuid) -> Result<Option<AssetGeometry>> {
    let Some(exif) = sqlx::query!(
        r#"SELECT a.width AS asset_width, a.height AS asset_height, e."exifImageWidth" AS width, e."exifImageHeight" AS height, e.orientation
           FROM asset a LEFT JOIN asset_exif e ON e."assetId" = a.id WHERE a.id = $1"#,
        asset
    )
    .fetch_optional(pool)
    .await?
    else {
        return Ok(None);
    };
    let edits = sqlx::query!(
        r#"SELECT action, parameters FROM asset_edit WHERE "assetId" = $1 ORDER BY sequence"#,
        asset
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|edit| (edit.action, edit.parameters))
    .collect();
    Ok(Some(AssetGeometry {
        asset_width: exif.asset_width,
        asset_height: exif.asset_height,
        width: exif.width.unwrap_or(0),
        height: exif.height.unwrap_or(0),
        orientation: exif.orientation,
        edits,
    }))
}
