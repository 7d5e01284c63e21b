//! The web timeline: month buckets and the assets of one month, with Immich's filters.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::Result;
use crate::assets::AssetVisibility;

/// Which assets a timeline shows. `owners: None` means everyone's (an album's timeline).
#[derive(Debug, Clone, Default)]
pub struct TimelineFilter {
    pub owners: Option<Vec<Uuid>>,
    pub album_id: Option<Uuid>,
    pub is_favorite: Option<bool>,
    /// Trashed assets instead of live ones.
    pub trashed: bool,
    /// None means timeline and archive.
    pub visibility: Option<AssetVisibility>,
    /// Only stack primaries (and unstacked assets).
    pub with_stacked: bool,
    /// West, south, east, north (west > east crosses the antimeridian).
    pub bbox: Option<[f64; 4]>,
    /// Months by upload time instead of by when the photo was taken.
    pub by_created_at: bool,
    /// Only assets with this tag or one below it.
    pub tag_id: Option<Uuid>,
    /// Only assets on which this person's face is seen.
    pub person_id: Option<Uuid>,
}

impl TimelineFilter {
    fn visibility(&self) -> Option<&'static str> {
        self.visibility.map(AssetVisibility::as_str)
    }

    fn bbox_part(&self, index: usize) -> Option<f64> {
        self.bbox.map(|b| b[index])
    }
}

#[derive(Debug, Clone)]
pub struct Bucket {
    /// `YYYY-MM-01`.
    pub time_bucket: String,
    pub count: i64,
}

/// Months with assets, newest first (or oldest with `ascending`). Owners' timelines by
/// capture time come from the maintained month counts; albums, places, tags and upload-time
/// months are counted from the assets.
pub async fn buckets(pool: &PgPool, filter: &TimelineFilter, ascending: bool) -> Result<Vec<Bucket>> {
    let mut rows = match filter.owners.as_deref() {
        Some(owners)
            if filter.album_id.is_none()
                && filter.bbox.is_none()
                && filter.tag_id.is_none()
                && filter.person_id.is_none()
                && !filter.by_created_at =>
        {
            counted_buckets(pool, owners, filter).await?
        }
        _ => scanned_buckets(pool, filter).await?,
    };
    if ascending {
        rows.reverse();
    }
    Ok(rows)
}

async fn counted_buckets(pool: &PgPool, owners: &[Uuid], filter: &TimelineFilter) -> Result<Vec<Bucket>> {
    Ok(sqlx::query_as!(
        Bucket,
        r#"SELECT month::date::text AS "time_bucket!", sum(count)::bigint AS "count!" FROM (
             SELECT c.month, c.count FROM asset_month_count c
             WHERE c."ownerId" = ANY($1) AND c.state = (CASE WHEN $2 THEN 'trashed' ELSE 'live' END)
               AND (CASE WHEN $3::text IS NULL THEN c.visibility IN ('archive', 'timeline') ELSE c.visibility::text = $3 END)
               AND ($4::bool IS NULL OR c."isFavorite" = $4)
               AND (NOT $5 OR NOT c.stacked)
             UNION ALL
             -- Stacks show as their primary asset.
             SELECT date_trunc('MONTH', a."localDateTime" AT TIME ZONE 'UTC'), 1 FROM stack s JOIN asset a ON a.id = s."primaryAssetId"
             WHERE $5 AND a."ownerId" = ANY($1) AND asset_month_state(a."deletedAt", a.status) = (CASE WHEN $2 THEN 'trashed' ELSE 'live' END)
               AND (CASE WHEN $3::text IS NULL THEN a.visibility IN ('archive', 'timeline') ELSE a.visibility::text = $3 END)
               AND ($4::bool IS NULL OR a."isFavorite" = $4)
           ) months
           GROUP BY month HAVING sum(count) > 0
           ORDER BY month DESC"#,
        owners,
        filter.trashed,
        filter.visibility(),
        filter.is_favorite,
        filter.with_stacked,
    )
    .fetch_all(pool)
    .await?)
}

/// A timeline query over assets `a`: `$head` (the SELECT and FROM), the filter all timelines
/// share, then `$tail`. The filter's parameters come first: $1 owners, $2 album, $3 favourite,
/// $4 trashed, $5 visibility, $6 stack primaries only, $7 tag, $8–$11 west, south, east, north,
/// $12 person.
macro_rules! timeline_query {
    ($row:ident, $head:literal, $tail:literal, $filter:expr $(, $arg:expr)* $(,)?) => {{
        let filter: &TimelineFilter = $filter;
        let [west, south, east, north] = [0, 1, 2, 3].map(|i| filter.bbox_part(i));
        sqlx::query_as!(
            $row,
            $head
                + r#"
           WHERE ($1::uuid[] IS NULL OR a."ownerId" = ANY($1))
             AND ($2::uuid IS NULL OR EXISTS (SELECT 1 FROM album_asset aa WHERE aa."assetId" = a.id AND aa."albumId" = $2))
             AND ($3::bool IS NULL OR a."isFavorite" = $3)
             AND (CASE WHEN $4 THEN a."deletedAt" IS NOT NULL AND a.status <> 'deleted' ELSE a."deletedAt" IS NULL END)
             AND (CASE WHEN $5::text IS NULL THEN a.visibility IN ('archive', 'timeline') ELSE a.visibility::text = $5 END)
             AND (NOT $6 OR a."stackId" IS NULL OR NOT EXISTS (SELECT 1 FROM stack s WHERE s.id = a."stackId" AND s."primaryAssetId" <> a.id))
             AND ($7::uuid IS NULL OR EXISTS (SELECT 1 FROM tag_closure c JOIN tag_asset ta ON ta."tagId" = c.id_descendant WHERE c.id_ancestor = $7 AND ta."assetId" = a.id))
             AND ($8::float8 IS NULL OR EXISTS (SELECT 1 FROM asset_exif x WHERE x."assetId" = a.id AND x.latitude BETWEEN $9 AND $11
                  AND CASE WHEN $8 <= $10 THEN x.longitude BETWEEN $8 AND $10 ELSE x.longitude >= $8 OR x.longitude <= $10 END))
             AND ($12::uuid IS NULL OR EXISTS (SELECT 1 FROM asset_face f WHERE f."assetId" = a.id AND f."personId" = $12
                  AND f."deletedAt" IS NULL AND f."isVisible"))"#
                + $tail,
            filter.owners.as_deref(),
            filter.album_id,
            filter.is_favorite,
            filter.trashed,
            filter.visibility(),
            filter.with_stacked,
            filter.tag_id,
            west,
            south,
            east,
            north,
            filter.person_id,
            $($arg,)*
        )
    }};
}

async fn scanned_buckets(pool: &PgPool, filter: &TimelineFilter) -> Result<Vec<Bucket>> {
    Ok(timeline_query!(
        Bucket,
        r#"SELECT month::date::text AS "time_bucket!", count AS "count!" FROM (
             SELECT date_trunc('MONTH', (CASE WHEN $13 THEN a."createdAt" ELSE a."localDateTime" END) AT TIME ZONE 'UTC') AS month, count(*) AS count
             FROM asset a"#,
        r#"
             GROUP BY 1
           ) months
           ORDER BY month DESC"#,
        filter,
        filter.by_created_at,
    )
    .fetch_all(pool)
    .await?)
}

/// One asset of a month bucket, as the columnar answer needs it.
#[derive(Debug, Clone)]
pub struct BucketAsset {
    pub id: Uuid,
    pub owner_id: Uuid,
    pub visibility: AssetVisibility,
    pub is_favorite: bool,
    pub is_image: bool,
    pub deleted_at: Option<DateTime<Utc>>,
    pub live_photo_video_id: Option<Uuid>,
    pub file_created_at: DateTime<Utc>,
    pub local_date_time: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub duration: Option<i32>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub thumbhash: Option<Vec<u8>>,
    pub projection_type: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub stack_id: Option<Uuid>,
    pub stack_count: Option<i64>,
}

/// The assets of the month starting at `month` (in the bucket's order). Their EXIF columns come
/// from `timeline_exif`, which files them by owner and day. The rows are put in order here and
/// stacks counted by a second query only when asked for: in PostgreSQL the sort alone took longer
/// than reading the month.
pub async fn bucket(
    pool: &PgPool,
    filter: &TimelineFilter,
    month: NaiveDate,
    ascending: bool,
) -> Result<Vec<BucketAsset>> {
    let start = month.and_hms_opt(0, 0, 0).map(|t| t.and_utc()).unwrap_or_default();
    let end = month
        .checked_add_months(chrono::Months::new(1))
        .and_then(|m| m.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .unwrap_or(start);
    let mut rows = timeline_query!(
        BucketAsset,
        r#"SELECT a.id, a."ownerId" AS owner_id, a.visibility AS "visibility!: AssetVisibility", a."isFavorite" AS is_favorite,
                  a.type = 'IMAGE' AS "is_image!", a."deletedAt" AS deleted_at, a."livePhotoVideoId" AS live_photo_video_id,
                  a."fileCreatedAt" AS file_created_at, a."localDateTime" AS local_date_time, a."createdAt" AS created_at,
                  a.duration, a.width, a.height, a.thumbhash,
                  e."projectionType" AS projection_type, e.city, e.country, e.latitude, e.longitude,
                  a."stackId" AS stack_id, NULL::bigint AS stack_count
           FROM asset a
           JOIN timeline_exif e ON e."assetId" = a.id"#,
        r#"
             AND ($13 OR ((a."localDateTime" AT TIME ZONE 'UTC')::date >= $14::date AND (a."localDateTime" AT TIME ZONE 'UTC')::date < $15::date))
             -- The same month and owners once more on the EXIF side, so it is read as one range.
             AND ($13 OR (e."localDay" >= $14::date AND e."localDay" < $15::date AND ($1::uuid[] IS NULL OR e."ownerId" = ANY($1))))
             AND (NOT $13 OR (a."createdAt" >= $16 AND a."createdAt" < $17))"#,
        filter,
        filter.by_created_at,
        month,
        end.date_naive(),
        start,
        end,
    )
    .fetch_all(pool)
    .await?;
    // Newest day first (the upload time when by it), newest photo first within the day.
    if filter.by_created_at {
        rows.sort_unstable_by_key(|row| std::cmp::Reverse((row.created_at, row.file_created_at)));
    } else {
        rows.sort_unstable_by_key(|row| std::cmp::Reverse((row.local_date_time.date_naive(), row.file_created_at)));
    }
    if ascending {
        rows.reverse();
    }
    if filter.with_stacked {
        count_stacks(pool, &mut rows).await?;
    }
    Ok(rows)
}

/// Fills in how many assets each shown stack holds (its live assets on the timeline).
async fn count_stacks(pool: &PgPool, rows: &mut [BucketAsset]) -> Result<()> {
    let mut stacks: Vec<Uuid> = rows.iter().filter_map(|row| row.stack_id).collect();
    if stacks.is_empty() {
        return Ok(());
    }
    stacks.sort_unstable();
    stacks.dedup();
    let counts: std::collections::HashMap<Uuid, i64> = sqlx::query!(
        r#"SELECT s."stackId" AS "stack_id!", count(*) AS "count!" FROM asset s
           WHERE s."stackId" = ANY($1) AND s."deletedAt" IS NULL AND s.visibility = 'timeline'
           GROUP BY s."stackId""#,
        &stacks
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| (r.stack_id, r.count))
    .collect();
    for row in rows {
        row.stack_count = row.stack_id.and_then(|id| counts.get(&id).copied());
        if row.stack_count.is_none() {
            row.stack_id = None;
        }
    }
    Ok(())
}
