//! XMP sidecars: edits written to them, and changes to them noticed.

use std::path::PathBuf;

use chrono::Offset;
use darkroom_storage::asset_jobs;
use darkroom_storage::assets;
use uuid::Uuid;

use super::handlers::{JobError, media_path};
use super::metadata::fixed_offset;
use super::{AssetJob, Job, Reason, enqueue};
use crate::state::AppState;

/// Writes the user's edits into the asset's XMP sidecar (made when missing) and re-reads it.
#[tracing::instrument(skip_all, fields(asset = %id))]
pub(super) async fn write_sidecar(state: &AppState, id: Uuid) -> Result<(), JobError> {
    let Some(asset) = assets::get(&state.db, id).await? else {
        return Ok(());
    };
    let locked = asset_jobs::locked_properties(&state.db, id).await?;
    let exif = asset.exif.clone().unwrap_or_default();
    let is = |name: &str| locked.iter().any(|p| p == name);
    let mut tags = Vec::new();
    let mut written: Vec<String> = Vec::new();
    if is("description") {
        tags.push(format!("-XMP-dc:Description={}", exif.description));
        written.push("description".into());
    }
    if (is("dateTimeOriginal") || is("timeZone"))
        && let Some(date) = exif.date_time_original
    {
        // A fixed offset travels inside the date; a named zone (Europe/Paris) stays locked here.
        let offset = exif.time_zone.as_deref().and_then(fixed_offset);
        if offset.is_some() || exif.time_zone.is_none() {
            written.push("timeZone".into());
        }
        let offset = offset.unwrap_or_else(|| chrono::Utc.fix());
        tags.push(format!(
            "-XMP-exif:DateTimeOriginal={}",
            date.with_timezone(&offset).format("%Y:%m:%d %H:%M:%S%:z")
        ));
        written.push("dateTimeOriginal".into());
    }
    if (is("latitude") || is("longitude"))
        && let (Some(latitude), Some(longitude)) = (exif.latitude, exif.longitude)
    {
        tags.push(format!("-XMP-exif:GPSLatitude={latitude}"));
        tags.push(format!("-XMP-exif:GPSLongitude={longitude}"));
        written.extend(["latitude".to_string(), "longitude".to_string()]);
    }
    if is("rating") {
        tags.push(format!("-XMP-xmp:Rating={}", exif.rating.unwrap_or(0)));
        written.push("rating".into());
    }
    if tags.is_empty() {
        return Ok(());
    }
    let sidecar = match assets::sidecar_path(&state.db, id).await? {
        Some(path) => path,
        None => format!("{}.xmp", asset.original_path),
    };
    let sidecar_path = media_path(state, &sidecar)?;
    state
        .exiftool
        .write_tags(&sidecar_path, &tags)
        .await
        .map_err(|e| JobError::Fatal(e.to_string()))?;
    assets::set_sidecar_path(&state.db, id, &sidecar).await?;
    asset_jobs::unlock_properties(&state.db, id, &written).await?;
    enqueue(
        state,
        [Job::AssetExtractMetadata(AssetJob {
            id,
            reason: Some(Reason::SidecarWrite),
        })],
    )
    .await;
    Ok(())
}

/// Finds an XMP sidecar next to the original (`<file>.xmp` or `<name>.xmp`), or notices
/// that a known one is gone; either way the metadata is read again.
#[tracing::instrument(skip_all, fields(asset = %id))]
pub(super) async fn check_sidecar(state: &AppState, id: Uuid) -> Result<(), JobError> {
    let Some(asset) = assets::get(&state.db, id).await? else {
        return Ok(());
    };
    let known = assets::sidecar_path(&state.db, id).await?;
    let original = PathBuf::from(&asset.original_path);
    let candidates = [
        PathBuf::from(format!("{}.xmp", asset.original_path)),
        original.with_extension("xmp"),
    ];
    let mut found = None;
    for candidate in candidates {
        if tokio::fs::try_exists(&candidate).await.unwrap_or(false) {
            found = Some(candidate.to_string_lossy().to_string());
            break;
        }
    }
    let changed = match (&known, &found) {
        (Some(known), Some(found)) if known == found => false,
        (_, Some(found)) => {
            assets::set_sidecar_path(&state.db, id, found).await?;
            true
        }
        (Some(known), None) if !tokio::fs::try_exists(known).await.unwrap_or(false) => {
            asset_jobs::remove_sidecar(&state.db, id).await?;
            true
        }
        _ => false,
    };
    if changed {
        enqueue(
            state,
            [Job::AssetExtractMetadata(AssetJob {
                id,
                reason: Some(Reason::SidecarCheck),
            })],
        )
        .await;
    }
    Ok(())
}
