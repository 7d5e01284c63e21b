//! Background jobs: Immich's queues, what each job does, and the workers that run them.
//!
//! The database is the truth: a job only turns an asset's missing output into a present one,
//! so running it twice is harmless (delivery is at-least-once) and a lost Redis is rebuilt by
//! `start` with `force: false`, which queues exactly the assets still lacking that output.

pub mod backup;
mod duplicates;
mod faces;
mod handlers;
pub mod kinds;
mod maintenance;
mod metadata;
mod ocr;
mod queue;
pub mod schedule;
mod sidecars;
mod smart_search;
mod thumbnails;
mod video;
pub mod worker;

pub use backup::last_routine_backup;
pub use handlers::JobError;

use std::collections::BTreeMap;

use darkroom_storage::asset_jobs;
use darkroom_storage::queue::QueueError;
use serde_json::Value;
use uuid::Uuid;

pub use kinds::{AssetJob, FaceJob, Job, PersonJob, Reason, RecognitionRun, UserJob};
pub use queue::Queue;

use crate::error::{ApiError, ApiResult, Context};
use crate::state::AppState;
use crate::system_config::SystemConfig;

/// `job.<queue>.concurrency` from the system config (the database backup runs alone).
pub fn concurrency(config: &SystemConfig, queue: Queue) -> usize {
    config
        .job
        .queues()
        .into_iter()
        .find(|(name, _)| *name == queue.as_str())
        .map_or(1, |(_, configured)| configured.concurrency.clamp(1, 100) as usize)
}

/// Stores `jobs`, one round trip per queue and kind.
async fn push(state: &AppState, jobs: impl IntoIterator<Item = Job>) -> Result<(), QueueError> {
    let mut groups: BTreeMap<(Queue, String), Vec<Value>> = BTreeMap::new();
    for job in jobs {
        let queue = job.queue();
        let (name, data) = job.to_stored();
        groups.entry((queue, name)).or_default().push(data);
    }
    for ((queue, name), data) in groups {
        state.jobs.push_many(queue.as_str(), &name, data).await?;
    }
    Ok(())
}

/// Queues `jobs` and wakes the local workers. A failure is logged, not returned: the caller's
/// work is done and the `start` command finds what is missing.
pub async fn enqueue(state: &AppState, jobs: impl IntoIterator<Item = Job>) {
    if let Err(error) = push(state, jobs).await {
        tracing::error!(%error, "could not queue jobs");
    }
    state.job_wake.notify_waiters();
}

/// After an upload: read its metadata, then (chained) make its thumbnails.
pub async fn asset_uploaded(state: &AppState, id: Uuid) {
    let job = AssetJob {
        id,
        reason: Some(Reason::Upload),
    };
    enqueue(state, [Job::AssetExtractMetadata(job)]).await;
}

/// After a user edited EXIF fields: write them to the assets' XMP sidecars (which then
/// re-reads them, so clients see what the files now say).
pub async fn edited(state: &AppState, ids: &[Uuid]) {
    enqueue(state, ids.iter().map(|&id| Job::SidecarWrite(AssetJob::of(id)))).await;
}

/// After people were given another cover face: their thumbnails are cut again from it (a
/// person new to faces gets their first one).
pub async fn covers_changed(state: &AppState, people: &[Uuid]) {
    if !people.is_empty() {
        enqueue(
            state,
            people.iter().map(|&id| Job::PersonGenerateThumbnail(PersonJob { id })),
        )
        .await;
    }
}

/// `start` of a queue: every asset lacking its output (or all, with `force`).
pub async fn queue_all(state: &AppState, queue: Queue, force: bool) -> ApiResult<()> {
    let (kind, ids): (fn(AssetJob) -> Job, _) = match queue {
        Queue::MetadataExtraction => (
            Job::AssetExtractMetadata,
            asset_jobs::needing_metadata(&state.db, force).await?,
        ),
        Queue::ThumbnailGeneration => (
            Job::AssetGenerateThumbnails,
            asset_jobs::needing_thumbnails(&state.db, force).await?,
        ),
        Queue::VideoConversion => (
            Job::AssetEncodeVideo,
            asset_jobs::needing_video_conversion(&state.db, force).await?,
        ),
        Queue::Sidecar => (
            Job::SidecarCheck,
            asset_jobs::needing_sidecar_check(&state.db, force).await?,
        ),
        Queue::SmartSearch => {
            let config = state.system_config.typed(&state.db).await?;
            if !crate::machine_learning::is_smart_search_enabled(&config.machine_learning) {
                return Ok(());
            }
            if force {
                // Every embedding is made again; a dimension left over from a failed change is fixed too.
                darkroom_storage::embeddings::delete_all_clip(&state.db).await?;
                crate::services::smart_search::sync_dimension(state, &config, None).await?;
            }
            (Job::SmartSearch, asset_jobs::needing_clip(&state.db, force).await?)
        }
        Queue::DuplicateDetection => {
            let config = state.system_config.typed(&state.db).await?;
            if !crate::machine_learning::is_duplicate_detection_enabled(&config.machine_learning) {
                return Ok(());
            }
            (
                Job::AssetDetectDuplicates,
                darkroom_storage::duplicates::needing_detection(&state.db, force).await?,
            )
        }
        Queue::FaceDetection => {
            let config = state.system_config.typed(&state.db).await?;
            if !crate::machine_learning::is_face_recognition_enabled(&config.machine_learning) {
                return Ok(());
            }
            if force {
                let thumbnails = darkroom_storage::face_recognition::delete_detected_faces(&state.db).await?;
                faces::remove_thumbnails(state, thumbnails).await;
            }
            (
                Job::AssetDetectFaces,
                darkroom_storage::face_recognition::needing_detection(&state.db, force).await?,
            )
        }
        Queue::FacialRecognition => {
            enqueue(
                state,
                [Job::FacialRecognitionQueueAll(RecognitionRun { force, nightly: false })],
            )
            .await;
            return Ok(());
        }
        Queue::Ocr => {
            let config = state.system_config.typed(&state.db).await?;
            if !crate::machine_learning::is_ocr_enabled(&config.machine_learning) {
                return Ok(());
            }
            (Job::Ocr, darkroom_storage::ocr::needing_ocr(&state.db, force).await?)
        }
        Queue::BackupDatabase => {
            enqueue(state, [Job::DatabaseBackup {}]).await;
            return Ok(());
        }
        _ if !queue.is_startable() => return Err(ApiError::bad_request(format!("Invalid job name: {queue}"))),
        _ => {
            return Err(ApiError::bad_request(format!(
                "The {queue} queue does not run in this version of Darkroom yet"
            )));
        }
    };
    for chunk in ids.chunks(1000) {
        push(state, chunk.iter().map(|&id| kind(AssetJob::of(id))))
            .await
            .context("queueing the jobs")?;
    }
    state.job_wake.notify_waiters();
    Ok(())
}
