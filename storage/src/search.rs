//! Searching assets by their metadata (`/search/*`): one set of filters, as Immich applies
//! them, shared by the paged search, random picks, large files and counts.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::Result;
use crate::assets::AssetType;
use crate::embeddings::{self, EmbeddingTable};

/// An EXIF field to match: absent (no filter), `Some(None)` (the field is empty) or a value.
pub type FieldFilter = Option<Option<String>>;

/// Which assets a search looks at.
#[derive(Debug, Clone, Default)]
pub struct SearchFilter {
    /// `None`: anyone's (an album search, already access-checked).
    pub owners: Option<Vec<Uuid>>,
    /// The asset must be in every one of these albums.
    pub album_ids: Vec<Uuid>,
    /// `not-locked`, `any`, or one visibility.
    pub visibility: String,
    pub with_deleted: bool,
    pub created_after: Option<DateTime<Utc>>,
    pub created_before: Option<DateTime<Utc>>,
    pub updated_after: Option<DateTime<Utc>>,
    pub updated_before: Option<DateTime<Utc>>,
    pub trashed_after: Option<DateTime<Utc>>,
    pub trashed_before: Option<DateTime<Utc>>,
    pub taken_after: Option<DateTime<Utc>>,
    pub taken_before: Option<DateTime<Utc>>,
    pub city: FieldFilter,
    pub state: FieldFilter,
    pub country: FieldFilter,
    pub make: FieldFilter,
    pub model: FieldFilter,
    pub lens_model: FieldFilter,
    /// `Some(None)`: unrated.
    pub rating: Option<Option<i32>>,
    pub checksum: Option<Vec<u8>>,
    pub id: Option<Uuid>,
    pub library_id: Option<Uuid>,
    pub original_file_name: Option<String>,
    pub original_path: Option<String>,
    pub description: Option<String>,
    pub encoded_video_path: Option<String>,
    pub asset_type: Option<AssetType>,
    pub is_favorite: Option<bool>,
    pub is_offline: Option<bool>,
    pub is_encoded: Option<bool>,
    pub is_motion: Option<bool>,
    pub is_not_in_album: bool,
    /// Only assets outside stacks.
    pub without_stacked: bool,
    /// Only assets with an EXIF row (`withExif`).
    pub requires_exif: bool,
    /// Assets with every one of these tags (or tags below them); `Some([])`: with no tag.
    pub tag_ids: Option<Vec<Uuid>>,
    /// Assets on which every one of these people is seen.
    pub person_ids: Vec<Uuid>,
    /// Assets whose read text matches these search tokens (a trigram word match).
    pub ocr: Option<String>,
}

/// How results are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchOrder {
    NewestFirst,
    OldestFirst,
    Random,
    /// Largest files first (`/search/large-assets`).
    Largest,
}

impl SearchOrder {
    fn as_str(self) -> &'static str {
        match self {
            Self::NewestFirst => "desc",
            Self::OldestFirst => "asc",
            Self::Random => "random",
            Self::Largest => "size",
        }
    }
}

fn field(filter: &FieldFilter) -> (bool, Option<&str>) {
    (filter.is_some(), filter.as_ref().and_then(|v| v.as_deref()))
}

/// The query with the filters between `$head` and `$tail`; `$head` ends with the `FROM` that
/// names the asset `a`. The filters are `$1`–`$44`, any further parameters follow them.
macro_rules! filtered {
    ($macro:ident, $filter:expr, $head:tt, $tail:tt $(, $extra:expr)*) => {{
        let f: &SearchFilter = $filter;
        let (city, state, country) = (field(&f.city), field(&f.state), field(&f.country));
        let (make, model, lens) = (field(&f.make), field(&f.model), field(&f.lens_model));
        sqlx::$macro!(
            $head
                + r#" LEFT JOIN asset_exif e ON e."assetId" = a.id
                WHERE ($1::uuid[] IS NULL OR a."ownerId" = ANY($1))
                  AND (cardinality($2::uuid[]) = 0 OR (SELECT count(DISTINCT aa."albumId") FROM album_asset aa
                       WHERE aa."assetId" = a.id AND aa."albumId" = ANY($2)) = cardinality($2))
                  AND CASE $3::text WHEN 'any' THEN true WHEN 'not-locked' THEN a.visibility <> 'locked' ELSE a.visibility::text = $3 END
                  AND ($4 OR a."deletedAt" IS NULL)
                  AND ($5::timestamptz IS NULL OR a."createdAt" >= $5) AND ($6::timestamptz IS NULL OR a."createdAt" <= $6)
                  AND ($7::timestamptz IS NULL OR a."updatedAt" >= $7) AND ($8::timestamptz IS NULL OR a."updatedAt" <= $8)
                  AND ($9::timestamptz IS NULL OR a."deletedAt" >= $9) AND ($10::timestamptz IS NULL OR a."deletedAt" <= $10)
                  AND ($11::timestamptz IS NULL OR a."fileCreatedAt" >= $11) AND ($12::timestamptz IS NULL OR a."fileCreatedAt" <= $12)
                  AND (NOT $13 OR e.city IS NOT DISTINCT FROM $14::text) AND (NOT $15 OR e.state IS NOT DISTINCT FROM $16::text)
                  AND (NOT $17 OR e.country IS NOT DISTINCT FROM $18::text) AND (NOT $19 OR e.make IS NOT DISTINCT FROM $20::text)
                  AND (NOT $21 OR e.model IS NOT DISTINCT FROM $22::text) AND (NOT $23 OR e."lensModel" IS NOT DISTINCT FROM $24::text)
                  AND (NOT $25 OR e.rating IS NOT DISTINCT FROM $26::int)
                  AND ($27::bytea IS NULL OR a.checksum = $27) AND ($28::uuid IS NULL OR a.id = $28)
                  AND ($29::uuid IS NULL OR a."libraryId" = $29)
                  AND ($30::text IS NULL OR f_unaccent(a."originalFileName") ILIKE '%' || f_unaccent($30) || '%')
                  AND ($31::text IS NULL OR f_unaccent(a."originalPath") ILIKE '%' || f_unaccent($31) || '%')
                  AND ($32::text IS NULL OR f_unaccent(e.description) ILIKE '%' || f_unaccent($32) || '%')
                  AND ($33::text IS NULL OR EXISTS (SELECT 1 FROM asset_file v WHERE v."assetId" = a.id AND v.type = 'encoded_video' AND NOT v."isEdited" AND v.path = $33))
                  AND ($34::text IS NULL OR a.type = $34) AND ($35::bool IS NULL OR a."isFavorite" = $35)
                  AND ($36::bool IS NULL OR a."isOffline" = $36)
                  AND ($37::bool IS NULL OR $37 = EXISTS (SELECT 1 FROM asset_file v WHERE v."assetId" = a.id AND v.type = 'encoded_video'))
                  AND ($38::bool IS NULL OR $38 = (a."livePhotoVideoId" IS NOT NULL))
                  AND (NOT $39 OR NOT EXISTS (SELECT 1 FROM album_asset aa WHERE aa."assetId" = a.id))
                  AND (NOT $40 OR a."stackId" IS NULL)
                  AND (NOT $41 OR e."assetId" IS NOT NULL)
                  AND ($42::uuid[] IS NULL OR CASE WHEN cardinality($42) = 0 THEN NOT EXISTS (SELECT 1 FROM tag_asset ta WHERE ta."assetId" = a.id)
                       ELSE (SELECT count(DISTINCT c.id_ancestor) FROM tag_closure c JOIN tag_asset ta ON ta."tagId" = c.id_descendant
                             WHERE ta."assetId" = a.id AND c.id_ancestor = ANY($42)) = cardinality($42) END)
                  AND (cardinality($43::uuid[]) = 0 OR (SELECT count(DISTINCT f."personId") FROM asset_face f
                       WHERE f."assetId" = a.id AND f."personId" = ANY($43) AND f."deletedAt" IS NULL AND f."isVisible") = cardinality($43))
                  AND ($44::text IS NULL OR EXISTS (SELECT 1 FROM ocr_search o WHERE o."assetId" = a.id
                       AND f_unaccent(o.text) %>> f_unaccent($44)))"#
                + $tail,
            f.owners.as_deref(),
            &f.album_ids,
            f.visibility,
            f.with_deleted,
            f.created_after,
            f.created_before,
            f.updated_after,
            f.updated_before,
            f.trashed_after,
            f.trashed_before,
            f.taken_after,
            f.taken_before,
            city.0,
            city.1,
            state.0,
            state.1,
            country.0,
            country.1,
            make.0,
            make.1,
            model.0,
            model.1,
            lens.0,
            lens.1,
            f.rating.is_some(),
            f.rating.flatten(),
            f.checksum.as_deref(),
            f.id,
            f.library_id,
            f.original_file_name.as_deref(),
            f.original_path.as_deref(),
            f.description.as_deref(),
            f.encoded_video_path.as_deref(),
            f.asset_type.map(AssetType::as_str),
            f.is_favorite,
            f.is_offline,
            f.is_encoded,
            f.is_motion,
            f.is_not_in_album,
            f.without_stacked,
            f.requires_exif,
            f.tag_ids.as_deref(),
            &f.person_ids,
            f.ocr.as_deref()
            $(, $extra)*
        )
    }};
}

/// Ids of matching assets, `limit` from `offset`, in `order`; with a minimum file size for
/// the large-files search.
pub async fn find(
    pool: &PgPool,
    filter: &SearchFilter,
    order: SearchOrder,
    min_file_size: Option<i64>,
    limit: i64,
    offset: i64,
) -> Result<Vec<Uuid>> {
    Ok(filtered!(
        query_scalar,
        filter,
        "SELECT a.id FROM asset a",
        r#" AND ($45::bigint IS NULL OR e."fileSizeInByte" > $45)
            ORDER BY CASE WHEN $46 = 'random' THEN random() END,
                     CASE WHEN $46 = 'size' THEN e."fileSizeInByte" END DESC NULLS LAST,
                     CASE WHEN $46 = 'asc' THEN a."fileCreatedAt" END ASC,
                     CASE WHEN $46 = 'desc' THEN a."fileCreatedAt" END DESC
            LIMIT $47 OFFSET $48"#,
        min_file_size,
        order.as_str(),
        limit,
        offset
    )
    .fetch_all(pool)
    .await?)
}

/// Ids of matching assets with a CLIP embedding, nearest to `embedding` (pgvector's text form)
/// first, `limit` from `offset`. The vector index finds the nearest; pgvector's iterative scan
/// keeps it looking while the filters discard what it found.
pub async fn find_nearest(
    pool: &PgPool,
    filter: &SearchFilter,
    embedding: &str,
    limit: i64,
    offset: i64,
) -> Result<Vec<Uuid>> {
    let mut tx = pool.begin().await?;
    embeddings::tune_search(&mut tx, EmbeddingTable::Clip, limit + offset).await?;
    let ids = filtered!(
        query_scalar,
        filter,
        r#"SELECT a.id FROM smart_search s JOIN asset a ON a.id = s."assetId""#,
        r#" ORDER BY s.embedding <=> $45::text::vector LIMIT $46 OFFSET $47"#,
        embedding,
        limit,
        offset
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(ids)
}

/// How many assets match.
pub async fn count(pool: &PgPool, filter: &SearchFilter) -> Result<i64> {
    Ok(
        filtered!(query_scalar, filter, r#"SELECT count(*) AS "count!" FROM asset a"#, "")
            .fetch_one(pool)
            .await?,
    )
}

/// Distinct non-empty values of one EXIF field among `owners`' timeline assets, narrowed by
/// the other fields given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SuggestionField {
    Country,
    State,
    City,
    Make,
    Model,
    LensModel,
}

#[derive(Debug, Clone, Default)]
pub struct SuggestionContext {
    pub country: Option<String>,
    pub state: Option<String>,
    pub make: Option<String>,
    pub model: Option<String>,
    pub lens_model: Option<String>,
}

pub async fn suggestions(
    pool: &PgPool,
    owners: &[Uuid],
    wanted: SuggestionField,
    context: &SuggestionContext,
) -> Result<Vec<String>> {
    let name = match wanted {
        SuggestionField::Country => "country",
        SuggestionField::State => "state",
        SuggestionField::City => "city",
        SuggestionField::Make => "make",
        SuggestionField::Model => "model",
        SuggestionField::LensModel => "lensModel",
    };
    Ok(sqlx::query_scalar!(
        r#"SELECT DISTINCT value AS "value!" FROM (
             SELECT CASE $2 WHEN 'country' THEN e.country WHEN 'state' THEN e.state WHEN 'city' THEN e.city
                            WHEN 'make' THEN e.make WHEN 'model' THEN e.model ELSE e."lensModel" END AS value
             FROM asset_exif e JOIN asset a ON a.id = e."assetId"
             WHERE a."ownerId" = ANY($1) AND a.visibility = 'timeline' AND a."deletedAt" IS NULL
               AND ($3::text IS NULL OR $2 NOT IN ('state', 'city') OR e.country = $3)
               AND ($4::text IS NULL OR $2 <> 'city' OR e.state = $4)
               AND ($5::text IS NULL OR $2 NOT IN ('model', 'lensModel') OR e.make = $5)
               AND ($6::text IS NULL OR $2 NOT IN ('make', 'lensModel') OR e.model = $6)
               AND ($7::text IS NULL OR $2 NOT IN ('make', 'model') OR e."lensModel" = $7)
           ) v WHERE value IS NOT NULL AND value <> '' ORDER BY 1"#,
        owners,
        name,
        context.country.as_deref(),
        context.state.as_deref(),
        context.make.as_deref(),
        context.model.as_deref(),
        context.lens_model.as_deref(),
    )
    .fetch_all(pool)
    .await?)
}

/// One timeline image per city of `owners`, by city; `min_per_city` counts every user's
/// photos there (how Immich picks cities worth exploring); at most `limit` cities.
pub async fn one_per_city(
    pool: &PgPool,
    owners: &[Uuid],
    min_per_city: i64,
    limit: i64,
) -> Result<Vec<(String, Uuid)>> {
    let rows = sqlx::query!(
        r#"SELECT DISTINCT ON (e.city) e.city AS "city!", a.id
           FROM asset_exif e JOIN asset a ON a.id = e."assetId"
           WHERE a."ownerId" = ANY($1) AND a.visibility = 'timeline' AND a.type = 'IMAGE' AND a."deletedAt" IS NULL
             AND e.city IS NOT NULL AND e.city <> ''
             AND (SELECT count(*) FROM asset_exif c WHERE c.city = e.city) >= $2
           ORDER BY e.city, a."fileCreatedAt" DESC
           LIMIT $3"#,
        owners,
        min_per_city,
        limit
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| (r.city, r.id)).collect())
}

/// `owner`'s most recently uploaded timeline images.
pub async fn recent_images(pool: &PgPool, owner: Uuid, limit: i64) -> Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT id FROM asset WHERE "ownerId" = $1 AND visibility = 'timeline' AND type = 'IMAGE' AND "deletedAt" IS NULL
           ORDER BY "createdAt" DESC LIMIT $2"#,
        owner,
        limit
    )
    .fetch_all(pool)
    .await?)
}
