//! Photos on the map.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::Result;

#[derive(Debug, Clone)]
pub struct Marker {
    pub id: Uuid,
    pub lat: f64,
    pub lon: f64,
    pub city: Option<String>,
    pub state: Option<String>,
    pub country: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct MarkerFilter {
    /// Whose photos (the viewer, and partners when asked).
    pub owners: Vec<Uuid>,
    /// Also every photo in these albums.
    pub albums: Vec<Uuid>,
    /// The viewer, whose own archive may show.
    pub viewer: Uuid,
    pub include_archived: bool,
    pub is_favorite: Option<bool>,
    pub created_after: Option<DateTime<Utc>>,
    pub created_before: Option<DateTime<Utc>>,
}

/// Live photos with a position, newest first; archived ones only the viewer's own and only
/// when asked for; hidden and locked never.
pub async fn markers(pool: &PgPool, filter: &MarkerFilter) -> Result<Vec<Marker>> {
    Ok(sqlx::query_as!(
        Marker,
        r#"SELECT a.id, e.latitude AS "lat!", e.longitude AS "lon!", e.city, e.state, e.country
           FROM asset a JOIN asset_exif e ON e."assetId" = a.id
           WHERE (a."ownerId" = ANY($1) OR EXISTS (SELECT 1 FROM album_asset aa WHERE aa."assetId" = a.id AND aa."albumId" = ANY($2)))
             AND e.latitude IS NOT NULL AND e.longitude IS NOT NULL AND a."deletedAt" IS NULL
             AND (a.visibility = 'timeline' OR ($4 AND a.visibility = 'archive' AND a."ownerId" = $3))
             AND ($5::bool IS NULL OR a."isFavorite" = $5)
             AND ($6::timestamptz IS NULL OR a."fileCreatedAt" >= $6) AND ($7::timestamptz IS NULL OR a."fileCreatedAt" <= $7)
           ORDER BY a."fileCreatedAt" DESC"#,
        &filter.owners,
        &filter.albums,
        filter.viewer,
        filter.include_archived,
        filter.is_favorite,
        filter.created_after,
        filter.created_before
    )
    .fetch_all(pool)
    .await?)
}

/// The photos of an album with a position, newest first (live, timeline or archive).
pub async fn album_markers(pool: &PgPool, album_id: Uuid) -> Result<Vec<Marker>> {
    Ok(sqlx::query_as!(
        Marker,
        r#"SELECT a.id, e.latitude AS "lat!", e.longitude AS "lon!", e.city, e.state, e.country
           FROM album_asset aa JOIN asset a ON a.id = aa."assetId" JOIN asset_exif e ON e."assetId" = a.id
           WHERE aa."albumId" = $1 AND a."deletedAt" IS NULL AND a.visibility IN ('archive', 'timeline')
             AND e.latitude IS NOT NULL AND e.longitude IS NOT NULL
           ORDER BY a."fileCreatedAt" DESC"#,
        album_id
    )
    .fetch_all(pool)
    .await?)
}
