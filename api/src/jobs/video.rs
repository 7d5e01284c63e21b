//! Converting videos for playback as the `ffmpeg` settings say, in hardware when configured.

use darkroom_media::transcode::{self, Target, TranscodeConfig};
use darkroom_storage::asset_jobs;
use darkroom_storage::assets::{self, AssetType};
use darkroom_storage::media_layout::StorageFolder;
use uuid::Uuid;

use super::handlers::{JobError, media_path, system_config};
use crate::state::AppState;
use crate::system_config::sections::FfmpegConfig;

/// A conversion may run for hours on a long video; the worker's heartbeat keeps the job.
const TRANSCODE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(6 * 3600);

/// The `ffmpeg` settings as the conversion takes them.
fn transcode_config(ffmpeg: &FfmpegConfig) -> TranscodeConfig {
    let count = |value: i64| u32::try_from(value.max(0)).unwrap_or(u32::MAX);
    TranscodeConfig {
        crf: count(ffmpeg.crf),
        threads: count(ffmpeg.threads),
        preset: ffmpeg.preset.clone(),
        target_video_codec: ffmpeg.target_video_codec,
        accepted_video_codecs: ffmpeg.accepted_video_codecs.clone(),
        target_audio_codec: ffmpeg.target_audio_codec,
        accepted_audio_codecs: ffmpeg.accepted_audio_codecs.clone(),
        accepted_containers: ffmpeg.accepted_containers.clone(),
        target_resolution: ffmpeg.target_resolution.clone(),
        max_bitrate: ffmpeg.max_bitrate.clone(),
        bframes: ffmpeg.bframes.clamp(-1, 16) as i32,
        refs: count(ffmpeg.refs),
        gop_size: count(ffmpeg.gop_size),
        two_pass: ffmpeg.two_pass,
        transcode: ffmpeg.transcode,
        tonemap: ffmpeg.tonemap,
        accel: ffmpeg.accel,
        accel_decode: ffmpeg.accel_decode,
        device: hardware_device(&ffmpeg.preferred_hw_device),
    }
}

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

#[tracing::instrument(skip_all, fields(asset = %id))]
pub(super) async fn encode_video(state: &AppState, id: Uuid) -> Result<(), JobError> {
    let Some(asset) = assets::get(&state.db, id).await? else {
        return Ok(());
    };
    if asset.asset_type != AssetType::Video {
        return Ok(());
    }
    let input = media_path(state, &asset.original_path)?;
    let info = transcode::probe(&input, state.config.media_tool_timeout)
        .await
        .map_err(|e| JobError::Fatal(e.to_string()))?;
    let config = transcode_config(&system_config(state).await?.ffmpeg);
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
