//! What a file says about itself: EXIF, the place, time zones and motion parts, read into the database.

use std::path::Path;

use chrono::{TimeZone, Utc};
use darkroom_media::metadata::ExtractedMetadata;
use darkroom_media::transcode;
use darkroom_storage::asset_jobs::{self, ExtractedAsset};
use darkroom_storage::assets::{self, AssetType, AssetVisibility};
use darkroom_storage::exif::Exif;
use darkroom_storage::media_layout::StorageFolder;
use serde_json::json;
use uuid::Uuid;

use super::handlers::{JobError, media_path, system_config, write_atomically};
use super::thumbnails::HEIF_FORMATS;
use super::{AssetJob, Job, Reason, enqueue};
use crate::dto::asset::AssetResponseDto;
use crate::events;
use crate::geodata::PlaceName;
use crate::state::AppState;

#[tracing::instrument(skip_all, fields(asset = %id, ?reason))]
pub(super) async fn extract_metadata(state: &AppState, id: Uuid, reason: Option<Reason>) -> Result<(), JobError> {
    // A deleted asset needs nothing any more.
    let Some(asset) = assets::get(&state.db, id).await? else {
        return Ok(());
    };
    let path = media_path(state, &asset.original_path)?;
    let mut tags = state
        .exiftool
        .read_tags(&path)
        .await
        .map_err(|e| JobError::Fatal(e.to_string()))?;
    // What the sidecar says wins over what the file says.
    if let Some(sidecar) = assets::sidecar_path(&state.db, id).await?
        && tokio::fs::try_exists(&sidecar).await.unwrap_or(false)
    {
        let sidecar_tags = state
            .exiftool
            .read_tags(&media_path(state, &sidecar)?)
            .await
            .map_err(|e| JobError::Fatal(e.to_string()))?;
        if let (Some(base), Some(extra)) = (tags.as_object_mut(), sidecar_tags.as_object()) {
            // A date in the sidecar replaces every date the file has (including exiftool's
            // composites such as SubSecDateTimeOriginal, which would otherwise win).
            if darkroom_media::metadata::DATE_TAGS
                .iter()
                .any(|tag| extra.contains_key(*tag))
            {
                for tag in darkroom_media::metadata::DATE_TAGS {
                    base.remove(tag);
                }
                base.remove("OffsetTimeOriginal");
                base.remove("OffsetTime");
            }
            for (key, value) in extra {
                if key != "SourceFile" && !key.starts_with("File") && !key.starts_with("ExifTool") {
                    base.insert(key.clone(), value.clone());
                }
            }
        }
    }
    let media = darkroom_media::lookup(&asset.original_path);
    if asset.asset_type == AssetType::Video || media.is_some_and(|m| m.extension == ".gif") {
        match transcode::probe(&path, state.config.media_tool_timeout).await {
            Ok(info) => darkroom_media::metadata::apply_video_probe(&mut tags, &info),
            // A GIF without frames, a video ffprobe cannot read: exiftool's word stands.
            Err(error) => tracing::warn!(asset = %id, %error, "ffprobe could not read the file"),
        }
    }
    if media.is_some_and(|m| HEIF_FORMATS.contains(&m.extension)) {
        darkroom_media::metadata::apply_heif_rotation(&mut tags);
    }
    let found = ExtractedMetadata::from_tags(&tags);
    if asset.asset_type == AssetType::Image && asset.live_photo_video_id.is_none() {
        extract_motion_video(state, &asset, &path, &tags).await?;
    }
    // Files without a date keep the one the client gave at upload.
    let date = found.date_time_original.unwrap_or(asset.file_created_at);
    let local = found
        .local_date_time
        .map_or(date, |local| Utc.from_utc_datetime(&local));
    let (width, height) = found.displayed_size();
    let place = place_of(state, found.latitude, found.longitude).await?;
    let exif = Exif {
        make: found.make,
        model: found.model,
        lens_model: found.lens_model,
        exif_image_width: found.width,
        exif_image_height: found.height,
        orientation: found.orientation,
        date_time_original: Some(date),
        modify_date: found.modify_date,
        time_zone: found.time_zone,
        f_number: found.f_number,
        focal_length: found.focal_length,
        iso: found.iso,
        exposure_time: found.exposure_time,
        latitude: found.latitude,
        longitude: found.longitude,
        city: place.city,
        state: place.state,
        country: place.country,
        description: found.description.unwrap_or_default(),
        rating: found.rating,
        projection_type: found.projection_type,
        profile_description: found.profile_description,
        colorspace: found.colorspace,
        bits_per_sample: found.bits_per_sample,
        fps: found.fps,
        live_photo_cid: found.live_photo_cid,
        file_size_in_byte: None,
    };
    let row = ExtractedAsset {
        local_date_time: local,
        file_created_at: date,
        width,
        height,
        duration_ms: found.duration_ms,
    };
    asset_jobs::save_metadata(&state.db, id, &exif, &row).await?;
    if let Some(video) = asset_jobs::link_live_photo(&state.db, id).await? {
        events::send(state, asset.owner_id, "on_asset_hidden", json!(video)).await;
    }
    // A refresh (not an upload) changes what clients show right away.
    if reason != Some(Reason::Upload)
        && let Some(updated) = assets::get(&state.db, id).await?
    {
        let owner = updated.owner_id;
        let dto = serde_json::to_value(AssetResponseDto::new(updated, owner, None)).unwrap_or_default();
        events::send(state, owner, "on_asset_update", dto).await;
    }
    enqueue(state, [Job::AssetGenerateThumbnails(AssetJob { id, reason })]).await;
    Ok(())
}

/// The city, state and country of a photo's position, when reverse geocoding is on.
async fn place_of(state: &AppState, latitude: Option<f64>, longitude: Option<f64>) -> Result<PlaceName, JobError> {
    let (Some(latitude), Some(longitude)) = (latitude, longitude) else {
        return Ok(PlaceName::default());
    };
    if !system_config(state).await?.reverse_geocoding.enabled {
        return Ok(PlaceName::default());
    }
    Ok(crate::geodata::reverse_geocode(&state.db, latitude, longitude).await?)
}

/// `UTC±H[:MM]` (how Darkroom and Immich name fixed offsets) as an offset.
pub(super) fn fixed_offset(zone: &str) -> Option<chrono::FixedOffset> {
    if zone == "UTC" {
        return chrono::FixedOffset::east_opt(0);
    }
    let rest = zone.strip_prefix("UTC")?;
    let (sign, rest) = match rest.as_bytes().first()? {
        b'+' => (1, &rest[1..]),
        b'-' => (-1, &rest[1..]),
        _ => return None,
    };
    let (hours, minutes) = rest.split_once(':').unwrap_or((rest, "0"));
    chrono::FixedOffset::east_opt(sign * (hours.parse::<i32>().ok()? * 3600 + minutes.parse::<i32>().ok()? * 60))
}

/// A motion photo's embedded video becomes a hidden video asset linked to the still, stored
/// as `encoded-video/<owner>/xx/yy/<uuid>-MP.mp4` (bytes the user already has are linked).
async fn extract_motion_video(
    state: &AppState,
    still: &assets::Asset,
    path: &Path,
    tags: &serde_json::Value,
) -> Result<(), JobError> {
    let Some(video) = darkroom_media::motion::embedded_video(path, tags, state.config.media_tool_timeout).await? else {
        return Ok(());
    };
    use sha1::Digest;
    let checksum = sha1::Sha1::digest(&video).to_vec();
    let video_id = match assets::find_by_checksum(&state.db, still.owner_id, &checksum).await? {
        Some((existing, _)) => existing,
        None => {
            let file_id = Uuid::new_v4();
            let name = file_id.to_string();
            let destination = state
                .layout
                .folder(StorageFolder::EncodedVideo)
                .join(still.owner_id.to_string())
                .join(&name[0..2])
                .join(&name[2..4])
                .join(format!("{name}-MP.mp4"));
            write_atomically(&destination, &video).await?;
            let stem = still
                .original_file_name
                .rsplit_once('.')
                .map_or(still.original_file_name.as_str(), |(stem, _)| stem);
            let upload = assets::NewUpload {
                id: Uuid::new_v4(),
                owner_id: still.owner_id,
                asset_type: AssetType::Video,
                original_path: destination.to_string_lossy().to_string(),
                original_file_name: format!("{stem}.mp4"),
                checksum,
                file_size: video.len() as i64,
                file_created_at: still.file_created_at,
                file_modified_at: still.file_modified_at,
                is_favorite: false,
                visibility: AssetVisibility::Hidden,
                duration_ms: None,
                live_photo_video_id: None,
                sidecar_path: None,
                metadata: Vec::new(),
            };
            match assets::create_upload(&state.db, &upload).await? {
                assets::UploadOutcome::Created => {
                    enqueue(state, [Job::AssetExtractMetadata(AssetJob::of(upload.id))]).await;
                    upload.id
                }
                assets::UploadOutcome::Duplicate(existing) => {
                    let _ = tokio::fs::remove_file(&destination).await;
                    existing
                }
                assets::UploadOutcome::QuotaExceeded => {
                    let _ = tokio::fs::remove_file(&destination).await;
                    return Err(JobError::Fatal(
                        "the motion photo's video does not fit in the owner's quota".into(),
                    ));
                }
            }
        }
    };
    assets::edit(
        &state.db,
        &[still.id],
        &assets::AssetEdit {
            live_photo_video_id: Some(Some(video_id)),
            ..Default::default()
        },
    )
    .await?;
    assets::set_visibility(&state.db, video_id, AssetVisibility::Hidden).await?;
    Ok(())
}
