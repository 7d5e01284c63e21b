//! User edits of assets and their EXIF rows, and copying one asset's relations onto another.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use super::AssetVisibility;
use crate::Result;

/// User edits of EXIF fields. Each edited field joins `lockedProperties`, so metadata
/// extraction never overwrites what the user chose.
#[derive(Debug, Clone, Default)]
pub struct ExifEdit {
    pub description: Option<String>,
    pub date_time_original: Option<DateTime<Utc>>,
    /// Shift `dateTimeOriginal` by this many minutes (bulk edits).
    pub shift_minutes: Option<i32>,
    pub time_zone: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// `Some(None)`: unrated.
    pub rating: Option<Option<i32>>,
}

impl ExifEdit {
    fn locked_properties(&self) -> Vec<String> {
        let shifted = self.shift_minutes.is_some_and(|m| m != 0);
        [
            ("description", self.description.is_some()),
            ("dateTimeOriginal", self.date_time_original.is_some() || shifted),
            ("timeZone", self.time_zone.is_some() || shifted),
            ("latitude", self.latitude.is_some()),
            ("longitude", self.longitude.is_some()),
            ("rating", self.rating.is_some()),
        ]
        .into_iter()
        .filter(|(_, edited)| *edited)
        .map(|(name, _)| name.to_string())
        .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.locked_properties().is_empty()
    }
}

/// Applies `edit` to the EXIF rows of `ids` (creating missing rows).
pub async fn edit_exif(pool: &PgPool, ids: &[Uuid], edit: &ExifEdit) -> Result<()> {
    if edit.is_empty() || ids.is_empty() {
        return Ok(());
    }
    let rating = edit.rating.flatten();
    sqlx::query!(
        r#"INSERT INTO asset_exif ("assetId", description, "dateTimeOriginal", "timeZone", latitude, longitude, rating,
                                   "lockedProperties")
           SELECT id, coalesce($2, ''), $3, $5, $6, $7, $9, $10::varchar[] FROM unnest($1::uuid[]) AS id
           ON CONFLICT ("assetId") DO UPDATE SET
             description = coalesce($2, asset_exif.description),
             "dateTimeOriginal" = coalesce($3, asset_exif."dateTimeOriginal") + make_interval(mins => coalesce($4, 0)),
             "timeZone" = coalesce($5, asset_exif."timeZone"),
             latitude = CASE WHEN $6::float8 IS NULL THEN asset_exif.latitude ELSE $6 END,
             longitude = CASE WHEN $7::float8 IS NULL THEN asset_exif.longitude ELSE $7 END,
             rating = CASE WHEN $8 THEN $9 ELSE asset_exif.rating END,
             "lockedProperties" = (SELECT array_agg(DISTINCT property ORDER BY property)
                                   FROM unnest(coalesce(asset_exif."lockedProperties", '{}') || $10::varchar[]) AS property)"#,
        ids,
        edit.description,
        edit.date_time_original,
        edit.shift_minutes,
        edit.time_zone,
        edit.latitude,
        edit.longitude,
        edit.rating.is_some(),
        rating,
        &edit.locked_properties() as &[String],
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Asset columns a user may change.
#[derive(Debug, Clone, Default)]
pub struct AssetEdit {
    pub is_favorite: Option<bool>,
    pub visibility: Option<AssetVisibility>,
    /// `Some(None)` unlinks.
    pub live_photo_video_id: Option<Option<Uuid>>,
    pub duplicate_id: Option<Option<Uuid>>,
}

pub async fn edit(pool: &PgPool, ids: &[Uuid], edit: &AssetEdit) -> Result<()> {
    if ids.is_empty()
        || (edit.is_favorite.is_none()
            && edit.visibility.is_none()
            && edit.live_photo_video_id.is_none()
            && edit.duplicate_id.is_none())
    {
        return Ok(());
    }
    sqlx::query!(
        r#"UPDATE asset SET
             "isFavorite" = coalesce($2, "isFavorite"),
             visibility = coalesce($3, visibility),
             "livePhotoVideoId" = CASE WHEN $4 THEN $5 ELSE "livePhotoVideoId" END,
             "duplicateId" = CASE WHEN $6 THEN $7 ELSE "duplicateId" END
           WHERE id = ANY($1)"#,
        ids,
        edit.is_favorite,
        edit.visibility as Option<AssetVisibility>,
        edit.live_photo_video_id.is_some(),
        edit.live_photo_video_id.flatten(),
        edit.duplicate_id.is_some(),
        edit.duplicate_id.flatten(),
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Shows or hides a live photo's video part.
pub async fn set_visibility(pool: &PgPool, id: Uuid, visibility: AssetVisibility) -> Result<()> {
    sqlx::query!(
        "UPDATE asset SET visibility = $2 WHERE id = $1",
        id,
        visibility as AssetVisibility
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Copies what belongs to one asset onto another (a re-uploaded edit replacing the original):
/// album memberships, stack, favourite flag.
pub async fn copy_relations(
    pool: &PgPool,
    source: Uuid,
    target: Uuid,
    albums: bool,
    stack: bool,
    favorite: bool,
) -> Result<()> {
    let mut tx = pool.begin().await?;
    if albums {
        sqlx::query!(
            r#"INSERT INTO album_asset ("albumId", "assetId") SELECT "albumId", $2 FROM album_asset WHERE "assetId" = $1
               ON CONFLICT DO NOTHING"#,
            source,
            target
        )
        .execute(&mut *tx)
        .await?;
    }
    if stack {
        let stacks = sqlx::query!(
            r#"SELECT (SELECT "stackId" FROM asset WHERE id = $1) AS source_stack, (SELECT "stackId" FROM asset WHERE id = $2) AS target_stack"#,
            source,
            target
        )
        .fetch_one(&mut *tx)
        .await?;
        match (stacks.source_stack, stacks.target_stack) {
            (Some(source_stack), Some(target_stack)) if source_stack != target_stack => {
                sqlx::query!(
                    r#"UPDATE asset SET "stackId" = $2 WHERE "stackId" = $1"#,
                    source_stack,
                    target_stack
                )
                .execute(&mut *tx)
                .await?;
                sqlx::query!("DELETE FROM stack WHERE id = $1", source_stack)
                    .execute(&mut *tx)
                    .await?;
            }
            (Some(source_stack), None) => {
                sqlx::query!(r#"UPDATE asset SET "stackId" = $2 WHERE id = $1"#, target, source_stack)
                    .execute(&mut *tx)
                    .await?;
            }
            _ => {}
        }
    }
    if favorite {
        sqlx::query!(
            r#"UPDATE asset SET "isFavorite" = (SELECT "isFavorite" FROM asset WHERE id = $1) WHERE id = $2"#,
            source,
            target
        )
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
