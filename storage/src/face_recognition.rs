//! What face detection and recognition read and write: the faces machine learning found on an
//! asset's preview with their embeddings (`face_search`), the nearest faces of an owner, and the
//! people they are clustered into.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::Result;
use crate::embeddings::{self, EmbeddingTable};

/// A face already on the asset: where it is, on a picture of which size, and where it came from.
#[derive(Debug, Clone)]
pub struct KnownFace {
    pub id: Uuid,
    pub image_width: i32,
    pub image_height: i32,
    pub x1: i32,
    pub y1: i32,
    pub x2: i32,
    pub y2: i32,
    pub from_machine_learning: bool,
}

/// The asset's faces (deleted ones too: a face the user removed is not found again).
pub async fn known_faces(pool: &PgPool, asset: Uuid) -> Result<Vec<KnownFace>> {
    Ok(sqlx::query_as!(
        KnownFace,
        r#"SELECT id, "imageWidth" AS image_width, "imageHeight" AS image_height, "boundingBoxX1" AS x1,
                  "boundingBoxY1" AS y1, "boundingBoxX2" AS x2, "boundingBoxY2" AS y2,
                  "sourceType" = 'machine-learning' AS "from_machine_learning!"
           FROM asset_face WHERE "assetId" = $1 AND "timestampMs" IS NULL"#,
        asset
    )
    .fetch_all(pool)
    .await?)
}

/// A face found by machine learning, to be stored.
#[derive(Debug, Clone)]
pub struct DetectedFace {
    pub id: Uuid,
    pub image_width: i32,
    pub image_height: i32,
    pub x1: i32,
    pub y1: i32,
    pub x2: i32,
    pub y2: i32,
}

/// Stores what one detection run found, in one transaction: new faces, faces no longer found
/// (removed), and the embeddings of new and re-found faces (pgvector's text form); records when
/// the asset's faces were looked for.
pub async fn refresh_faces(
    pool: &PgPool,
    asset: Uuid,
    added: &[DetectedFace],
    removed: &[Uuid],
    embeddings: &[(Uuid, String)],
) -> Result<()> {
    let mut tx = pool.begin().await?;
    for face in added {
        sqlx::query!(
            r#"INSERT INTO asset_face (id, "assetId", "imageWidth", "imageHeight", "boundingBoxX1", "boundingBoxY1",
                                       "boundingBoxX2", "boundingBoxY2", "sourceType")
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'machine-learning')"#,
            face.id,
            asset,
            face.image_width,
            face.image_height,
            face.x1,
            face.y1,
            face.x2,
            face.y2
        )
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query!("DELETE FROM asset_face WHERE id = ANY($1)", removed)
        .execute(&mut *tx)
        .await?;
    for (face, embedding) in embeddings {
        sqlx::query!(
            r#"INSERT INTO face_search ("faceId", embedding) VALUES ($1, $2::text::vector)
               ON CONFLICT ("faceId") DO UPDATE SET embedding = EXCLUDED.embedding"#,
            face,
            embedding
        )
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query!(
        r#"INSERT INTO asset_job_status ("assetId", "facesRecognizedAt") VALUES ($1, now())
           ON CONFLICT ("assetId") DO UPDATE SET "facesRecognizedAt" = EXCLUDED."facesRecognizedAt""#,
        asset
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Assets whose faces should be looked for: all with `force`, else those never looked at;
/// only assets with a preview, not hidden.
pub async fn needing_detection(pool: &PgPool, force: bool) -> Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT a.id FROM asset a LEFT JOIN asset_job_status j ON j."assetId" = a.id
           WHERE a."deletedAt" IS NULL AND a.visibility <> 'hidden'
             AND EXISTS (SELECT 1 FROM asset_file f WHERE f."assetId" = a.id AND f.type = 'preview' AND NOT f."isEdited")
             AND ($1 OR j."facesRecognizedAt" IS NULL)
           ORDER BY a."createdAt""#,
        force
    )
    .fetch_all(pool)
    .await?)
}

/// Removes every face machine learning found (a full re-detection), and the people left
/// without faces (their thumbnails' paths are returned, to remove the files).
pub async fn delete_detected_faces(pool: &PgPool) -> Result<Vec<String>> {
    let mut tx = pool.begin().await?;
    sqlx::query!(r#"DELETE FROM asset_face WHERE "sourceType" = 'machine-learning'"#)
        .execute(&mut *tx)
        .await?;
    sqlx::query!(r#"UPDATE asset_job_status SET "facesRecognizedAt" = NULL"#)
        .execute(&mut *tx)
        .await?;
    let thumbnails = remove_faceless_people(&mut tx).await?;
    tx.commit().await?;
    Ok(thumbnails)
}

async fn remove_faceless_people(tx: &mut sqlx::Transaction<'_, sqlx::Postgres>) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar!(
        r#"DELETE FROM person p WHERE NOT EXISTS (SELECT 1 FROM asset_face f WHERE f."personId" = p.id)
           RETURNING "thumbnailPath""#
    )
    .fetch_all(&mut **tx)
    .await?)
}

/// A face as recognition sees it.
#[derive(Debug, Clone)]
pub struct RecognitionSubject {
    pub owner_id: Uuid,
    pub from_machine_learning: bool,
    pub person_id: Option<Uuid>,
    pub embedding: Option<String>,
    pub file_created_at: DateTime<Utc>,
    pub on_timeline: bool,
}

pub async fn recognition_subject(pool: &PgPool, face: Uuid) -> Result<Option<RecognitionSubject>> {
    Ok(sqlx::query_as!(
        RecognitionSubject,
        r#"SELECT a."ownerId" AS owner_id, f."sourceType" = 'machine-learning' AS "from_machine_learning!",
                  f."personId" AS person_id, s.embedding::text AS embedding, a."fileCreatedAt" AS file_created_at,
                  a.visibility = 'timeline' AS "on_timeline!"
           FROM asset_face f JOIN asset a ON a.id = f."assetId" LEFT JOIN face_search s ON s."faceId" = f.id
           WHERE f.id = $1 AND f."deletedAt" IS NULL"#,
        face
    )
    .fetch_optional(pool)
    .await?)
}

/// A face near the one being recognised.
#[derive(Debug, Clone, PartialEq)]
pub struct NearFace {
    pub face_id: Uuid,
    pub person_id: Option<Uuid>,
}

/// How to look for faces near an embedding.
#[derive(Debug, Clone)]
pub struct FaceQuery<'a> {
    pub owner: Uuid,
    pub embedding: &'a str,
    pub max_distance: f64,
    pub limit: i64,
    /// Only faces already someone's.
    pub with_person: bool,
    /// Faces of people born after this day are not this face (the photo is older than them).
    pub taken_on: NaiveDate,
}

/// The owner's faces within `max_distance` (cosine) of the embedding, nearest first, at most
/// `limit` (the face itself included).
pub async fn near_faces(pool: &PgPool, query: &FaceQuery<'_>) -> Result<Vec<NearFace>> {
    let mut tx = pool.begin().await?;
    embeddings::tune_search(&mut tx, EmbeddingTable::Face, query.limit).await?;
    let found = sqlx::query_as!(
        NearFace,
        r#"WITH nearest AS (
             SELECT f.id, f."personId", s.embedding <=> $2::text::vector AS distance
             FROM face_search s JOIN asset_face f ON f.id = s."faceId" JOIN asset a ON a.id = f."assetId"
             LEFT JOIN person p ON p.id = f."personId"
             WHERE a."ownerId" = $1 AND a."deletedAt" IS NULL AND f."deletedAt" IS NULL
               AND (NOT $5 OR f."personId" IS NOT NULL)
               AND (p."birthDate" IS NULL OR p."birthDate" <= $6)
             ORDER BY distance LIMIT $4)
           SELECT id AS face_id, "personId" AS person_id FROM nearest WHERE distance <= $3 ORDER BY distance"#,
        query.owner,
        query.embedding,
        query.max_distance,
        query.limit,
        query.with_person,
        query.taken_on
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(found)
}

/// A new person whose cover is `face`, with the face theirs.
pub async fn create_person_from(pool: &PgPool, owner: Uuid, face: Uuid) -> Result<Uuid> {
    let mut tx = pool.begin().await?;
    let person = sqlx::query_scalar!(
        r#"INSERT INTO person ("ownerId", "faceAssetId") VALUES ($1, $2) RETURNING id"#,
        owner,
        face
    )
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query!(r#"UPDATE asset_face SET "personId" = $2 WHERE id = $1"#, face, person)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(person)
}

/// Faces recognition should look at: those machine learning found that are nobody's yet
/// (with `all`, every one it found).
pub async fn faces_to_recognise(pool: &PgPool, all: bool) -> Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT f.id FROM asset_face f JOIN face_search s ON s."faceId" = f.id
           WHERE f."sourceType" = 'machine-learning' AND f."deletedAt" IS NULL AND ($1 OR f."personId" IS NULL)
           ORDER BY f."updatedAt""#,
        all
    )
    .fetch_all(pool)
    .await?)
}

/// Starts recognition over: faces machine learning found become nobody's, and people left
/// without any face go (their thumbnails' paths are returned, to remove the files).
pub async fn unassign_detected_faces(pool: &PgPool) -> Result<Vec<String>> {
    let mut tx = pool.begin().await?;
    sqlx::query!(r#"UPDATE asset_face SET "personId" = NULL WHERE "sourceType" = 'machine-learning'"#)
        .execute(&mut *tx)
        .await?;
    let thumbnails = remove_faceless_people(&mut tx).await?;
    tx.commit().await?;
    Ok(thumbnails)
}

/// When a face was last added (for the nightly run: nothing new, nothing to do).
pub async fn latest_face_added(pool: &PgPool) -> Result<Option<DateTime<Utc>>> {
    Ok(
        sqlx::query_scalar!(r#"SELECT max("updatedAt") FROM asset_face WHERE "sourceType" = 'machine-learning'"#)
            .fetch_one(pool)
            .await?,
    )
}

/// What a person's thumbnail is cut from: their cover face on its asset's preview.
#[derive(Debug, Clone)]
pub struct ThumbnailSource {
    pub owner_id: Uuid,
    pub preview_path: String,
    pub image_width: i32,
    pub image_height: i32,
    pub x1: i32,
    pub y1: i32,
    pub x2: i32,
    pub y2: i32,
}

pub async fn thumbnail_source(pool: &PgPool, person: Uuid) -> Result<Option<ThumbnailSource>> {
    Ok(sqlx::query_as!(
        ThumbnailSource,
        r#"SELECT p."ownerId" AS owner_id, pf.path AS preview_path, f."imageWidth" AS image_width,
                  f."imageHeight" AS image_height, f."boundingBoxX1" AS x1, f."boundingBoxY1" AS y1,
                  f."boundingBoxX2" AS x2, f."boundingBoxY2" AS y2
           FROM person p JOIN asset_face f ON f.id = p."faceAssetId"
           JOIN asset_file pf ON pf."assetId" = f."assetId" AND pf.type = 'preview' AND NOT pf."isEdited"
           WHERE p.id = $1"#,
        person
    )
    .fetch_optional(pool)
    .await?)
}

pub async fn set_thumbnail(pool: &PgPool, person: Uuid, path: &str) -> Result<()> {
    sqlx::query!(r#"UPDATE person SET "thumbnailPath" = $2 WHERE id = $1"#, person, path)
        .execute(pool)
        .await?;
    Ok(())
}
