//! Edits of assets by their owner: favourites, visibility, live-photo links, dates, places,
//! descriptions and ratings.

use chrono::{DateTime, FixedOffset, Utc};
use darkroom_storage::assets::{self, AssetEdit, AssetType, AssetVisibility, ExifEdit};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// A `dateTimeOriginal` as clients send it: ISO 8601, with an offset (which becomes the
/// asset's time zone) or without one (read as UTC, time zone unchanged).
pub fn parse_date_time_original(text: &str) -> Option<(DateTime<Utc>, Option<String>)> {
    if let Ok(date) = DateTime::parse_from_rfc3339(text) {
        return Some((date.with_timezone(&Utc), Some(zone_name(date.offset()))));
    }
    let naive = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f"))
        .ok()?;
    Some((naive.and_utc(), None))
}

/// Luxon's name for a fixed offset: `UTC`, `UTC-7`, `UTC+5:30`.
fn zone_name(offset: &FixedOffset) -> String {
    let seconds = offset.local_minus_utc();
    if seconds == 0 {
        return "UTC".to_string();
    }
    let sign = if seconds < 0 { '-' } else { '+' };
    let (hours, minutes) = (seconds.abs() / 3600, seconds.abs() % 3600 / 60);
    if minutes == 0 {
        format!("UTC{sign}{hours}")
    } else {
        format!("UTC{sign}{hours}:{minutes:02}")
    }
}

/// Links `video` as the motion part of `still`, or (`None`) unlinks the current one.
#[tracing::instrument(skip_all, fields(asset = %still, ?video))]
pub async fn set_live_photo_video(state: &AppState, owner: Uuid, still: Uuid, video: Option<Uuid>) -> ApiResult<()> {
    match video {
        Some(video_id) => {
            let video = assets::summary(&state.db, video_id)
                .await?
                .ok_or_else(|| ApiError::bad_request("Live photo video not found"))?;
            if video.asset_type != AssetType::Video {
                return Err(ApiError::bad_request("Live photo video must be a video"));
            }
            if video.owner_id != owner {
                return Err(ApiError::bad_request("Live photo video does not belong to the user"));
            }
            if video.visibility == AssetVisibility::Timeline {
                assets::set_visibility(&state.db, video_id, AssetVisibility::Hidden).await?;
                crate::events::send(state, owner, "on_asset_hidden", serde_json::json!(video_id)).await;
            }
        }
        None => {
            let asset = assets::get(&state.db, still)
                .await?
                .ok_or_else(|| ApiError::bad_request("Asset not found"))?;
            if let Some(old_video) = asset.live_photo_video_id {
                let old = assets::get(&state.db, old_video).await?;
                let encoded = state
                    .layout
                    .folder(darkroom_storage::media_layout::StorageFolder::EncodedVideo);
                if old
                    .as_ref()
                    .is_some_and(|v| std::path::Path::new(&v.original_path).starts_with(&encoded))
                {
                    return Err(ApiError::bad_request("Cannot unlink Android motion photos"));
                }
                // The freed video shows where its still shows.
                assets::set_visibility(&state.db, old_video, asset.visibility).await?;
            }
        }
    }
    assets::edit(
        &state.db,
        &[still],
        &AssetEdit {
            live_photo_video_id: Some(video),
            ..Default::default()
        },
    )
    .await?;
    Ok(())
}

#[tracing::instrument(skip_all, fields(count = ids.len()))]
pub async fn apply(state: &AppState, ids: &[Uuid], asset: &AssetEdit, exif: &ExifEdit) -> ApiResult<()> {
    assets::edit_exif(&state.db, ids, exif).await?;
    assets::edit(&state.db, ids, asset).await?;
    // The locked folder is private: what goes there leaves every album (and so every album
    // member's and shared link's sight).
    if asset.visibility == Some(darkroom_storage::assets::AssetVisibility::Locked) {
        darkroom_storage::albums::remove_assets_from_all(&state.db, ids).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_become_luxon_zone_names() {
        let zone = |text: &str| parse_date_time_original(text).unwrap().1;
        assert_eq!(zone("2023-11-19T18:11:00.000-07:00"), Some("UTC-7".to_string()));
        assert_eq!(zone("2023-11-19T18:11:00+05:30"), Some("UTC+5:30".to_string()));
        assert_eq!(zone("2023-11-19T18:11:00Z"), Some("UTC".to_string()));
        assert_eq!(zone("2023-11-19T18:11:00"), None);
        assert!(parse_date_time_original("yesterday").is_none());
        let (date, _) = parse_date_time_original("2023-11-19T18:11:00-07:00").unwrap();
        assert_eq!(date.to_rfc3339(), "2023-11-20T01:11:00+00:00");
    }
}
