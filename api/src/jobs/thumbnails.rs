//! Previews, thumbnails, full-size JPEGs and thumbhashes, written beside the library.

use std::path::{Path, PathBuf};

use darkroom_media::MediaKind;
use darkroom_media::decode::{self, DecodeLimits};
use darkroom_media::thumbnails::{self, ThumbnailSettings};
use darkroom_storage::asset_jobs;
use darkroom_storage::assets::{self, AssetType, AssetVisibility};
use darkroom_storage::media_layout::StorageFolder;
use uuid::Uuid;

use super::handlers::{JobError, media_path, system_config, write_atomically};
use super::{AssetJob, Job, Reason, enqueue};
use crate::dto::asset::{AssetResponseDto, upload_ready};
use crate::events;
use crate::state::AppState;
use crate::system_config::sections::ImageConfig;

/// `thumbs/<owner>/<id[0:2]>/<id[2:4]>/<file name>`: Immich's folders for what is made of an
/// asset or a person.
pub(super) fn sharded_thumbnail_path(state: &AppState, owner: Uuid, id: Uuid, file_name: &str) -> PathBuf {
    let name = id.to_string();
    state
        .layout
        .folder(StorageFolder::Thumbnails)
        .join(owner.to_string())
        .join(&name[0..2])
        .join(&name[2..4])
        .join(file_name)
}

/// `thumbs/<owner>/<id[0:2]>/<id[2:4]>/<id>_<kind>.<ext>`
fn thumbnail_path(state: &AppState, owner: Uuid, id: Uuid, kind: &str, extension: &str) -> PathBuf {
    sharded_thumbnail_path(state, owner, id, &format!("{id}_{kind}.{extension}"))
}

fn settings(image: &ImageConfig) -> ThumbnailSettings {
    let size = |value: i64| value.clamp(1, i64::from(u32::MAX)) as u32;
    let quality = |value: i64| value.clamp(1, 100) as u8;
    ThumbnailSettings {
        preview_size: size(image.preview.size),
        preview_quality: quality(image.preview.quality),
        preview_format: image.preview.format,
        thumbnail_size: size(image.thumbnail.size),
        thumbnail_quality: quality(image.thumbnail.quality),
        thumbnail_format: image.thumbnail.format,
        fullsize_quality: None,
        fullsize_format: image.fullsize.format,
        colorspace: image.colorspace,
    }
}

pub(super) const HEIF_FORMATS: [&str; 4] = [".heic", ".heif", ".avif", ".hif"];

/// Formats browsers show as they are; the others get a full-size JPEG when it is enabled.
const WEB_FORMATS: [&str; 7] = [".avif", ".bmp", ".gif", ".jpeg", ".jpg", ".png", ".webp"];

#[tracing::instrument(skip_all, fields(asset = %id, ?reason))]
pub(super) async fn generate_thumbnails(state: &AppState, id: Uuid, reason: Option<Reason>) -> Result<(), JobError> {
    let Some(source) = asset_jobs::thumbnail_source(&state.db, id).await? else {
        return Ok(());
    };
    let path = media_path(state, &source.original_path)?;
    let media = darkroom_media::lookup(&source.original_path)
        .ok_or_else(|| JobError::Fatal(format!("{} is not a known format", source.original_path)))?;
    let kind = if source.asset_type == AssetType::Video {
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
    let image = system_config(state).await?.image;
    let mut settings = settings(&image);
    let wants_fullsize = image.fullsize.enabled && kind != MediaKind::Video && !WEB_FORMATS.contains(&media.extension);
    if wants_fullsize {
        settings.fullsize_quality = Some(image.fullsize.quality.clamp(1, 100) as u8);
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
    if source.asset_type == AssetType::Video {
        enqueue(state, [Job::AssetEncodeVideo(AssetJob::of(id))]).await;
    }
    // A new upload goes on to machine learning, which looks at the preview just made.
    if reason == Some(Reason::Upload) {
        let job = AssetJob { id, reason };
        enqueue(
            state,
            [Job::SmartSearch(job), Job::AssetDetectFaces(job), Job::Ocr(job)],
        )
        .await;
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
