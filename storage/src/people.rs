//! People (`person`): named by their owner, found by name, given faces by hand or by face
//! recognition. `updatedAt`/`updateId` move with every change through the table's trigger and
//! deletions reach `person_audit`, which is what mobile sync reads.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::Result;

#[derive(Debug, Clone)]
pub struct Person {
    pub id: Uuid,
    pub owner_id: Uuid,
    pub name: String,
    pub birth_date: Option<NaiveDate>,
    pub thumbnail_path: String,
    pub is_hidden: bool,
    pub is_favorite: bool,
    pub color: Option<String>,
    pub face_asset_id: Option<Uuid>,
    pub updated_at: DateTime<Utc>,
}

/// Up to 100 of `owner`'s people whose name has a word like `name` (accents ignored), the
/// closest first; hidden people only when asked for.
pub async fn search_by_name(pool: &PgPool, owner: Uuid, name: &str, with_hidden: bool) -> Result<Vec<Person>> {
    let mut tx = pool.begin().await?;
    // Immich's threshold: half the trigrams of a word must match.
    sqlx::query_scalar!("SELECT set_config('pg_trgm.word_similarity_threshold', '0.5', true)")
        .fetch_one(&mut *tx)
        .await?;
    let people = sqlx::query_as!(
        Person,
        r#"SELECT id, "ownerId" AS owner_id, name, "birthDate" AS birth_date, "thumbnailPath" AS thumbnail_path,
                  "isHidden" AS is_hidden, "isFavorite" AS is_favorite, color, "faceAssetId" AS face_asset_id,
                  "updatedAt" AS updated_at
           FROM person
           WHERE "ownerId" = $1 AND f_unaccent(name) %> f_unaccent($2) AND ($3 OR NOT "isHidden")
           ORDER BY f_unaccent(name) <->>> f_unaccent($2)
           LIMIT 100"#,
        owner,
        name,
        with_hidden
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(people)
}

pub async fn get(pool: &PgPool, id: Uuid) -> Result<Option<Person>> {
    Ok(sqlx::query_as!(
        Person,
        r#"SELECT id, "ownerId" AS owner_id, name, "birthDate" AS birth_date, "thumbnailPath" AS thumbnail_path,
                  "isHidden" AS is_hidden, "isFavorite" AS is_favorite, color, "faceAssetId" AS face_asset_id,
                  "updatedAt" AS updated_at
           FROM person WHERE id = $1"#,
        id
    )
    .fetch_optional(pool)
    .await?)
}

/// The people with a face on `asset` (faces not deleted and not hidden), in the order their
/// faces were found.
pub async fn on_asset(pool: &PgPool, asset: Uuid) -> Result<Vec<Person>> {
    Ok(sqlx::query_as!(
        Person,
        r#"SELECT p.id, p."ownerId" AS owner_id, p.name, p."birthDate" AS birth_date, p."thumbnailPath" AS thumbnail_path,
                  p."isHidden" AS is_hidden, p."isFavorite" AS is_favorite, p.color, p."faceAssetId" AS face_asset_id,
                  p."updatedAt" AS updated_at
           FROM person p
           JOIN (SELECT "personId", min("updateId"::text) AS first FROM asset_face
                 WHERE "assetId" = $1 AND "deletedAt" IS NULL AND "isVisible"
                 GROUP BY "personId") faces ON faces."personId" = p.id
           ORDER BY faces.first"#,
        asset
    )
    .fetch_all(pool)
    .await?)
}

/// Of `ids`, the people `owner` has.
pub async fn owned(pool: &PgPool, owner: Uuid, ids: &[Uuid]) -> Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT id FROM person WHERE "ownerId" = $1 AND id = ANY($2)"#,
        owner,
        ids
    )
    .fetch_all(pool)
    .await?)
}

#[derive(Debug, Clone, Copy)]
pub struct PeoplePage {
    pub with_hidden: bool,
    /// Ordered by likeness to this face (its embedding against each person's cover face's),
    /// after hidden-last and favourites-first.
    pub closest_to_face: Option<Uuid>,
    pub offset: i64,
    pub limit: i64,
}

/// `owner`'s people as the people page lists them: those seen on a live timeline photo that
/// are named or have at least the owner's `people.minimumFaces` faces (3 by default); shown
/// first, then favourites, named, most faces, by name, oldest.
pub async fn list_for_user(pool: &PgPool, owner: Uuid, page: PeoplePage) -> Result<Vec<Person>> {
    Ok(sqlx::query_as!(
        Person,
        r#"SELECT p.id, p."ownerId" AS owner_id, p.name, p."birthDate" AS birth_date, p."thumbnailPath" AS thumbnail_path,
                  p."isHidden" AS is_hidden, p."isFavorite" AS is_favorite, p.color, p."faceAssetId" AS face_asset_id,
                  p."updatedAt" AS updated_at
           FROM person p
           JOIN asset_face f ON f."personId" = p.id
           JOIN asset a ON a.id = f."assetId" AND a.visibility = 'timeline' AND a."deletedAt" IS NULL
           WHERE p."ownerId" = $1 AND f."deletedAt" IS NULL AND f."isVisible" IS TRUE AND ($2 OR p."isHidden" = false)
           GROUP BY p.id
           HAVING p.name <> '' OR count(f."assetId") >= coalesce(
             (SELECT value -> 'people' ->> 'minimumFaces' FROM user_metadata WHERE "userId" = $1 AND key = 'preferences'), '3')::int
           ORDER BY p."isHidden", p."isFavorite" DESC,
                    (SELECT s.embedding FROM face_search s WHERE s."faceId" = p."faceAssetId")
                      <=> (SELECT s.embedding FROM face_search s WHERE s."faceId" = $3::uuid) NULLS LAST,
                    CASE WHEN $3::uuid IS NOT NULL THEN NULL ELSE nullif(p.name, '') IS NULL END,
                    CASE WHEN $3::uuid IS NOT NULL THEN NULL ELSE count(f."assetId") END DESC,
                    CASE WHEN $3::uuid IS NOT NULL THEN NULL ELSE nullif(p.name, '') END NULLS LAST,
                    p."createdAt"
           OFFSET $4 LIMIT $5"#,
        owner,
        page.with_hidden,
        page.closest_to_face,
        page.offset,
        page.limit
    )
    .fetch_all(pool)
    .await?)
}

/// (people seen on a live timeline photo, how many of them are hidden); unlike the list, the
/// minimum number of faces does not apply.
pub async fn count_for_user(pool: &PgPool, owner: Uuid) -> Result<(i64, i64)> {
    let row = sqlx::query!(
        r#"SELECT count(*) AS "total!", count(*) FILTER (WHERE p."isHidden") AS "hidden!"
           FROM person p
           WHERE p."ownerId" = $1 AND EXISTS (
             SELECT 1 FROM asset_face f JOIN asset a ON a.id = f."assetId"
             WHERE f."personId" = p.id AND f."deletedAt" IS NULL AND f."isVisible" IS TRUE
               AND a.visibility = 'timeline' AND a."deletedAt" IS NULL)"#,
        owner
    )
    .fetch_one(pool)
    .await?;
    Ok((row.total, row.hidden))
}

/// How many live timeline photos show the person.
pub async fn asset_count(pool: &PgPool, id: Uuid) -> Result<i64> {
    Ok(sqlx::query_scalar!(
        r#"SELECT count(DISTINCT a.id) AS "count!" FROM asset_face f
           JOIN asset a ON a.id = f."assetId" AND a.visibility = 'timeline' AND a."deletedAt" IS NULL
           WHERE f."personId" = $1 AND f."deletedAt" IS NULL AND f."isVisible" IS TRUE"#,
        id
    )
    .fetch_one(pool)
    .await?)
}

#[derive(Debug, Clone, Default)]
pub struct NewPerson {
    pub name: Option<String>,
    pub birth_date: Option<NaiveDate>,
    pub is_hidden: Option<bool>,
    pub is_favorite: Option<bool>,
    pub color: Option<String>,
}

/// Whether `error` is the database refusing a birth date after its own today.
pub fn refuses_birth_date(error: &crate::StorageError) -> bool {
    matches!(error, crate::StorageError::Database(sqlx::Error::Database(db)) if db.constraint() == Some("person_birthDate_chk"))
}

pub async fn create(pool: &PgPool, owner: Uuid, person: &NewPerson) -> Result<Person> {
    Ok(sqlx::query_as!(
        Person,
        r#"INSERT INTO person ("ownerId", name, "birthDate", "isHidden", "isFavorite", color)
           VALUES ($1, coalesce($2, ''), $3, coalesce($4, false), coalesce($5, false), $6)
           RETURNING id, "ownerId" AS owner_id, name, "birthDate" AS birth_date, "thumbnailPath" AS thumbnail_path,
                     "isHidden" AS is_hidden, "isFavorite" AS is_favorite, color, "faceAssetId" AS face_asset_id,
                     "updatedAt" AS updated_at"#,
        owner,
        person.name,
        person.birth_date,
        person.is_hidden,
        person.is_favorite,
        person.color
    )
    .fetch_one(pool)
    .await?)
}

/// What an update changes: `None` leaves a field as it is; for the nullable fields
/// `Some(None)` empties it.
#[derive(Debug, Clone, Default)]
pub struct PersonChanges {
    pub name: Option<String>,
    pub birth_date: Option<Option<NaiveDate>>,
    pub is_hidden: Option<bool>,
    pub is_favorite: Option<bool>,
    pub color: Option<Option<String>>,
    pub face_asset_id: Option<Uuid>,
}

/// Applies `changes`; the row is written (and its `updateId` moves) even when nothing
/// differs, as in Immich. `None` when the person is gone.
pub async fn update(pool: &PgPool, id: Uuid, changes: &PersonChanges) -> Result<Option<Person>> {
    Ok(sqlx::query_as!(
        Person,
        r#"UPDATE person SET
             name = coalesce($2, name),
             "birthDate" = CASE WHEN $3 THEN $4 ELSE "birthDate" END,
             "isHidden" = coalesce($5, "isHidden"),
             "isFavorite" = coalesce($6, "isFavorite"),
             color = CASE WHEN $7 THEN $8 ELSE color END,
             "faceAssetId" = coalesce($9, "faceAssetId")
           WHERE id = $1
           RETURNING id, "ownerId" AS owner_id, name, "birthDate" AS birth_date, "thumbnailPath" AS thumbnail_path,
                     "isHidden" AS is_hidden, "isFavorite" AS is_favorite, color, "faceAssetId" AS face_asset_id,
                     "updatedAt" AS updated_at"#,
        id,
        changes.name,
        changes.birth_date.is_some(),
        changes.birth_date.flatten(),
        changes.is_hidden,
        changes.is_favorite,
        changes.color.is_some(),
        changes.color.clone().flatten(),
        changes.face_asset_id
    )
    .fetch_optional(pool)
    .await?)
}

/// Deletes people; returns their thumbnail paths (empty when they had none). Their faces
/// stay, without a person.
pub async fn delete(pool: &PgPool, ids: &[Uuid]) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar!(
        r#"DELETE FROM person WHERE id = ANY($1) RETURNING "thumbnailPath""#,
        ids
    )
    .fetch_all(pool)
    .await?)
}

/// Merges `other` into `primary` in one transaction: `primary` takes `other`'s name and birth
/// date where it has none, and every face of `other`, and `other` goes. Returns `other`'s
/// thumbnail path, or `None` when `other` no longer exists.
pub async fn merge(pool: &PgPool, primary: Uuid, other: Uuid) -> Result<Option<String>> {
    let mut tx = pool.begin().await?;
    let Some(merged) = sqlx::query!(
        r#"SELECT name, "birthDate" AS birth_date FROM person WHERE id = $1 FOR UPDATE"#,
        other
    )
    .fetch_optional(&mut *tx)
    .await?
    else {
        return Ok(None);
    };
    sqlx::query!(
        r#"UPDATE person SET name = CASE WHEN name = '' AND $2 <> '' THEN $2 ELSE name END,
                             "birthDate" = coalesce("birthDate", $3)
           WHERE id = $1 AND ((name = '' AND $2 <> '') OR ("birthDate" IS NULL AND $3::date IS NOT NULL))"#,
        primary,
        merged.name,
        merged.birth_date
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        r#"UPDATE asset_face SET "personId" = $1 WHERE "personId" = $2"#,
        primary,
        other
    )
    .execute(&mut *tx)
    .await?;
    let thumbnail = sqlx::query_scalar!(r#"DELETE FROM person WHERE id = $1 RETURNING "thumbnailPath""#, other)
        .fetch_optional(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(thumbnail)
}

/// Gives each of `people` one of its visible faces as the cover (people without faces keep
/// theirs). Returns the people that changed.
pub async fn pick_cover_faces(pool: &PgPool, people: &[Uuid]) -> Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar!(
        r#"UPDATE person p SET "faceAssetId" = pick.face
           FROM (SELECT DISTINCT ON (f."personId") f."personId" AS person, f.id AS face FROM asset_face f
                 WHERE f."personId" = ANY($1) AND f."deletedAt" IS NULL AND f."isVisible" IS TRUE
                 ORDER BY f."personId") pick
           WHERE p.id = pick.person
           RETURNING p.id"#,
        people
    )
    .fetch_all(pool)
    .await?)
}

/// The person's face on `asset` that can be their cover (the asset being online).
pub async fn cover_face_on(pool: &PgPool, person: Uuid, asset: Uuid) -> Result<Option<Uuid>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT f.id FROM asset_face f JOIN asset a ON a.id = f."assetId" AND a."isOffline" = false
           WHERE f."assetId" = $1 AND f."personId" = $2 LIMIT 1"#,
        asset,
        person
    )
    .fetch_optional(pool)
    .await?)
}
