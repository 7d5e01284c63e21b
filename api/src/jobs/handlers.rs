//! What each job does.

use std::path::{Path, PathBuf};

use chrono::{Offset, TimeZone, Utc};
use darkroom_media::MediaKind;
use darkroom_media::decode::{self, DecodeLimits};
use darkroom_media::metadata::ExtractedMetadata;
use darkroom_media::thumbnails::{self, ImageFormat, ThumbnailSettings};
use darkroom_media::transcode::{self, Target, TranscodeConfig};
use darkroom_storage::asset_jobs::{self, ExtractedAsset, ExtractedExif};
use darkroom_storage::assets::{self, AssetVisibility};
use darkroom_storage::media_layout::StorageFolder;
use serde_json::json;
use uuid::Uuid;

use super::{AssetJob, Job, Reason, UserJob, backup, enqueue, maintenance};
use crate::dto::asset::{AssetResponseDto, upload_ready};
use crate::events;
use crate::geodata::PlaceName;
use crate::state::AppState;

/// Why a job did not finish: `Retry` may succeed later (a busy database), `Fatal` never will
/// (a corrupt file) and goes straight to the failed list with its reason.
#[derive(Debug)]
pub enum JobError {
    Retry(String),
    Fatal(String),
}

/// Database trouble may pass (a restart, a lost connection, a deadlock); a query that is wrong
/// or a row that breaks a rule will fail the same way next time.
impl From<darkroom_storage::StorageError> for JobError {
    fn from(error: darkroom_storage::StorageError) -> Self {
        if error.is_transient() {
            Self::Retry(error.to_string())
        } else {
            Self::Fatal(error.to_string())
        }
    }
}

/// Files: a missing or unreadable one stays so; a full disk or an interrupted write may not.
impl From<std::io::Error> for JobError {
    fn from(error: std::io::Error) -> Self {
        use std::io::ErrorKind::{InvalidData, InvalidInput, NotFound, PermissionDenied, Unsupported};
        match error.kind() {
            NotFound | PermissionDenied | InvalidData | InvalidInput | Unsupported => Self::Fatal(error.to_string()),
            _ => Self::Retry(error.to_string()),
        }
    }
}

/// Does `job`. Which function runs is decided by the job's kind alone.
pub async fn run(state: &AppState, job: Job) -> Result<(), JobError> {
    match job {
        Job::AssetExtractMetadata(AssetJob { id, reason }) => extract_metadata(state, id, reason).await,
        Job::AssetGenerateThumbnails(AssetJob { id, reason }) => generate_thumbnails(state, id, reason).await,
        Job::AssetEncodeVideo(asset) => encode_video(state, asset.id).await,
        Job::SidecarWrite(asset) => write_sidecar(state, asset.id).await,
        Job::SidecarCheck(asset) => check_sidecar(state, asset.id).await,
        Job::AssetDeleteCheck {} => maintenance::asset_delete_check(state).await,
        Job::UserDeleteCheck {} => maintenance::user_delete_check(state).await,
        Job::UserDelete(UserJob { id, force }) => maintenance::user_delete(state, id, force).await,
        Job::SessionCleanup {} => maintenance::session_cleanup(state).await,
        Job::AuditTableCleanup {} => maintenance::audit_table_cleanup(state).await,
        Job::UserSyncUsage {} => maintenance::user_sync_usage(state).await,
        Job::TagCleanup {} => maintenance::tag_cleanup(state).await,
        Job::MemoryGenerate {} => maintenance::memory_generate(state).await,
        Job::MemoryCleanup {} => maintenance::memory_cleanup(state).await,
        Job::DatabaseBackup {} => backup::database_backup(state).await,
    }
}

fn media_path(state: &AppState, stored: &str) -> Result<PathBuf, JobError> {
    let path = PathBuf::from(stored);
    if state.layout.contains(&path) {
        Ok(path)
    } else {
        Err(JobError::Fatal(format!("{stored} is outside the media folder")))
    }
}

async fn extract_metadata(state: &AppState, id: Uuid, reason: Option<Reason>) -> Result<(), JobError> {
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
    if asset.asset_type == "VIDEO" || media.is_some_and(|m| m.extension == ".gif") {
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
    if asset.asset_type == "IMAGE" && asset.live_photo_video_id.is_none() {
        extract_motion_video(state, &asset, &path, &tags).await?;
    }
    // Files without a date keep the one the client gave at upload.
    let date = found.date_time_original.unwrap_or(asset.file_created_at);
    let local = found
        .local_date_time
        .map_or(date, |local| Utc.from_utc_datetime(&local));
    let (width, height) = found.displayed_size();
    let place = place_of(state, found.latitude, found.longitude).await?;
    let exif = ExtractedExif {
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
        description: found.description,
        rating: found.rating,
        projection_type: found.projection_type,
        profile_description: found.profile_description,
        colorspace: found.colorspace,
        bits_per_sample: found.bits_per_sample,
        fps: found.fps,
        live_photo_cid: found.live_photo_cid,
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
    let config = state
        .system_config
        .get(&state.db)
        .await
        .map_err(|e| JobError::Retry(e.to_string()))?;
    if config["reverseGeocoding"]["enabled"] == json!(false) {
        return Ok(PlaceName::default());
    }
    Ok(crate::geodata::reverse_geocode(&state.db, latitude, longitude).await?)
}

/// `thumbs/<owner>/<id[0:2]>/<id[2:4]>/<id>_<kind>.<ext>`
fn thumbnail_path(state: &AppState, owner: Uuid, id: Uuid, kind: &str, extension: &str) -> PathBuf {
    let name = id.to_string();
    state
        .layout
        .folder(StorageFolder::Thumbnails)
        .join(owner.to_string())
        .join(&name[0..2])
        .join(&name[2..4])
        .join(format!("{name}_{kind}.{extension}"))
}

/// Writes next to `path` and renames, so a reader never sees half a file.
async fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), JobError> {
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir).await?;
    }
    let temporary = path.with_extension("tmp");
    tokio::fs::write(&temporary, bytes).await?;
    tokio::fs::rename(&temporary, path).await?;
    Ok(())
}

fn settings(config: &serde_json::Value) -> ThumbnailSettings {
    let image = &config["image"];
    let defaults = ThumbnailSettings::default();
    let number = |value: &serde_json::Value, fallback: u64| value.as_u64().unwrap_or(fallback);
    let format = |kind: &str, default| ImageFormat::from_setting(image[kind]["format"].as_str(), default);
    ThumbnailSettings {
        preview_size: number(&image["preview"]["size"], defaults.preview_size as u64) as u32,
        preview_quality: number(&image["preview"]["quality"], defaults.preview_quality as u64).min(100) as u8,
        preview_format: format("preview", defaults.preview_format),
        thumbnail_size: number(&image["thumbnail"]["size"], defaults.thumbnail_size as u64) as u32,
        thumbnail_quality: number(&image["thumbnail"]["quality"], defaults.thumbnail_quality as u64).min(100) as u8,
        thumbnail_format: format("thumbnail", defaults.thumbnail_format),
        fullsize_quality: None,
        fullsize_format: format("fullsize", defaults.fullsize_format),
        colorspace: darkroom_media::color::Colorspace::from_setting(image["colorspace"].as_str()),
    }
}

const HEIF_FORMATS: [&str; 4] = [".heic", ".heif", ".avif", ".hif"];

/// Formats browsers show as they are; the others get a full-size JPEG when it is enabled.
const WEB_FORMATS: [&str; 7] = [".avif", ".bmp", ".gif", ".jpeg", ".jpg", ".png", ".webp"];

async fn generate_thumbnails(state: &AppState, id: Uuid, reason: Option<Reason>) -> Result<(), JobError> {
    let Some(source) = asset_jobs::thumbnail_source(&state.db, id).await? else {
        return Ok(());
    };
    let path = media_path(state, &source.original_path)?;
    let media = darkroom_media::lookup(&source.original_path)
        .ok_or_else(|| JobError::Fatal(format!("{} is not a known format", source.original_path)))?;
    let kind = if source.asset_type == "VIDEO" {
        MediaKind::Video
    } else {
        media.kind
    };
    // libheif and ffmpeg turn pictures upright themselves; others follow the EXIF orientation.
    let upright_already = kind == MediaKind::Video || HEIF_FORMATS.contains(&media.extension);
    let orientation = if upright_already {
        None
    } else {
        source.orientation.as_deref().and_then(|o| o.parse().ok())
    };
    let config = state
        .system_config
        .get(&state.db)
        .await
        .map_err(|e| JobError::Retry(e.to_string()))?;
    let mut settings = settings(&config);
    let wants_fullsize = config["image"]["fullsize"]["enabled"].as_bool().unwrap_or(false)
        && kind != MediaKind::Video
        && !WEB_FORMATS.contains(&media.extension);
    if wants_fullsize {
        settings.fullsize_quality = Some(config["image"]["fullsize"]["quality"].as_u64().unwrap_or(80).min(100) as u8);
    }
    let limits = DecodeLimits {
        max_pixels: state.config.max_image_pixels,
        tool_timeout: state.config.media_tool_timeout,
        // A full-size copy needs every pixel.
        shorter_side_at_least: (!wants_fullsize).then_some(settings.preview_size),
    };
    let picture = decode::decode(&path, kind, media.raw, limits)
        .await
        .map_err(|e| JobError::Fatal(e.to_string()))?;
    // Resizing and encoding are CPU work: off the async threads.
    let generated = tokio::task::spawn_blocking(move || thumbnails::render(picture, orientation, settings))
        .await
        .map_err(|e| JobError::Fatal(format!("rendering the thumbnails stopped: {e}")))?
        .map_err(|e| JobError::Fatal(e.to_string()))?;
    let preview = thumbnail_path(
        state,
        source.owner_id,
        id,
        "preview",
        settings.preview_format.extension(),
    );
    let thumbnail = thumbnail_path(
        state,
        source.owner_id,
        id,
        "thumbnail",
        settings.thumbnail_format.extension(),
    );
    write_atomically(&preview, &generated.preview).await?;
    write_atomically(&thumbnail, &generated.thumbnail).await?;
    // Files in a format no longer configured go once their successors are recorded.
    let mut replaced = Vec::new();
    for (kind, path) in [("preview", &preview), ("thumbnail", &thumbnail)] {
        replaced.extend(
            asset_jobs::file_path(&state.db, id, kind)
                .await?
                .filter(|old| Path::new(old) != path.as_path()),
        );
    }
    if let Some(fullsize) = &generated.fullsize {
        let path = thumbnail_path(
            state,
            source.owner_id,
            id,
            "fullsize",
            settings.fullsize_format.extension(),
        );
        write_atomically(&path, fullsize).await?;
        replaced.extend(
            asset_jobs::file_path(&state.db, id, "fullsize")
                .await?
                .filter(|old| Path::new(old) != path.as_path()),
        );
        asset_jobs::set_generated_file(&state.db, id, "fullsize", &path.to_string_lossy()).await?;
    }
    asset_jobs::save_thumbnails(
        &state.db,
        id,
        &preview.to_string_lossy(),
        &thumbnail.to_string_lossy(),
        &generated.thumbhash,
    )
    .await?;
    for old in replaced {
        if let Ok(old) = media_path(state, &old) {
            let _ = tokio::fs::remove_file(old).await;
        }
    }
    if source.asset_type == "VIDEO" {
        enqueue(state, [Job::AssetEncodeVideo(AssetJob::of(id))]).await;
    }
    // A new upload is ready to show: tell its owner's clients.
    if reason == Some(Reason::Upload)
        && let Some(asset) = assets::get(&state.db, id).await?
        && matches!(asset.visibility, AssetVisibility::Timeline | AssetVisibility::Archive)
    {
        let owner = asset.owner_id;
        let ready = upload_ready(&asset);
        let dto = serde_json::to_value(AssetResponseDto::new(asset, owner, None)).unwrap_or_default();
        events::send(state, owner, "on_upload_success", dto).await;
        events::send(state, owner, "AssetUploadReadyV2", ready).await;
    }
    Ok(())
}

/// A conversion may run for hours on a long video; the worker's heartbeat keeps the job.
const TRANSCODE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(6 * 3600);

/// The render device: `preferredHwDevice`, or the first one present.
fn hardware_device(preferred: &str) -> String {
    if preferred != "auto" && !preferred.is_empty() {
        return preferred.to_string();
    }
    let mut devices: Vec<String> = std::fs::read_dir("/dev/dri")
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().to_string_lossy().to_string())
        .filter(|path| path.contains("renderD"))
        .collect();
    devices.sort();
    devices
        .into_iter()
        .next()
        .unwrap_or_else(|| "/dev/dri/renderD128".into())
}

async fn encode_video(state: &AppState, id: Uuid) -> Result<(), JobError> {
    let Some(asset) = assets::get(&state.db, id).await? else {
        return Ok(());
    };
    if asset.asset_type != "VIDEO" {
        return Ok(());
    }
    let input = media_path(state, &asset.original_path)?;
    let info = transcode::probe(&input, state.config.media_tool_timeout)
        .await
        .map_err(|e| JobError::Fatal(e.to_string()))?;
    let settings = state
        .system_config
        .get(&state.db)
        .await
        .map_err(|e| JobError::Retry(e.to_string()))?;
    let ffmpeg = &settings["ffmpeg"];
    let config = TranscodeConfig::from_settings(
        ffmpeg,
        &hardware_device(ffmpeg["preferredHwDevice"].as_str().unwrap_or("auto")),
    );
    let target = transcode::target(&config, &info);
    let existing = asset_jobs::file_path(&state.db, id, "encoded_video").await?;
    if target == Target::None && !transcode::remux_required(&config, &info) {
        // No longer needed under the current policy: the old conversion goes.
        if let Some(old) = existing {
            asset_jobs::set_encoded_video(&state.db, id, None).await?;
            let _ = tokio::fs::remove_file(old).await;
        }
        return Ok(());
    }
    let name = id.to_string();
    let output = state
        .layout
        .folder(StorageFolder::EncodedVideo)
        .join(asset.owner_id.to_string())
        .join(&name[0..2])
        .join(&name[2..4])
        .join(format!("{name}.mp4"));
    if let Some(dir) = output.parent() {
        tokio::fs::create_dir_all(dir).await?;
    }
    let partial = output.with_extension("partial.mp4");
    let (input_text, partial_text) = (
        input.to_string_lossy().to_string(),
        partial.to_string_lossy().to_string(),
    );
    let attempt = |config: &TranscodeConfig| transcode::commands(config, &info, target, &input_text, &partial_text);
    let mut result = transcode::transcode(&attempt(&config), TRANSCODE_TIMEOUT).await;
    // Hardware paths fail on odd files and drivers: decode in software, then encode in software.
    if let Err(error) = &result
        && config.accel != transcode::Accel::Disabled
    {
        tracing::warn!(asset = %id, %error, "hardware transcoding failed; retrying with software decoding");
        let software_decode = TranscodeConfig {
            accel_decode: false,
            ..config.clone()
        };
        result = transcode::transcode(&attempt(&software_decode), TRANSCODE_TIMEOUT).await;
        if let Err(error) = &result {
            tracing::warn!(asset = %id, %error, "hardware encoding failed too; transcoding in software");
            let software = TranscodeConfig {
                accel: transcode::Accel::Disabled,
                ..config.clone()
            };
            result = transcode::transcode(&attempt(&software), TRANSCODE_TIMEOUT).await;
        }
    }
    if let Err(error) = result {
        let _ = tokio::fs::remove_file(&partial).await;
        return Err(JobError::Fatal(error.to_string()));
    }
    tokio::fs::rename(&partial, &output).await?;
    asset_jobs::set_encoded_video(&state.db, id, Some(&output.to_string_lossy())).await?;
    Ok(())
}

/// `UTC±H[:MM]` (how Darkroom and Immich name fixed offsets) as an offset.
fn fixed_offset(zone: &str) -> Option<chrono::FixedOffset> {
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

/// Writes the user's edits into the asset's XMP sidecar (made when missing) and re-reads it.
async fn write_sidecar(state: &AppState, id: Uuid) -> Result<(), JobError> {
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
async fn check_sidecar(state: &AppState, id: Uuid) -> Result<(), JobError> {
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
                asset_type: "VIDEO",
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
