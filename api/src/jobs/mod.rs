//! Background jobs: Immich's queues, what each job does, and the workers that run them.
//!
//! The database is the truth: a job only turns an asset's missing output into a present one,
//! so running it twice is harmless (delivery is at-least-once) and a lost Redis is rebuilt by
//! `start` with `force: false`, which queues exactly the assets still lacking that output.

mod backup;
mod handlers;
mod maintenance;
pub mod schedule;
pub mod worker;

use serde_json::{Value, json};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Immich's queues, in its order.
pub const QUEUES: [&str; 19] = [
    "thumbnailGeneration",
    "metadataExtraction",
    "videoConversion",
    "faceDetection",
    "facialRecognition",
    "smartSearch",
    "duplicateDetection",
    "backgroundTask",
    "storageTemplateMigration",
    "migration",
    "search",
    "sidecar",
    "library",
    "notifications",
    "backupDatabase",
    "ocr",
    "workflow",
    "integrityCheck",
    "editor",
];

pub const METADATA: &str = "metadataExtraction";
pub const THUMBNAILS: &str = "thumbnailGeneration";
pub const VIDEO: &str = "videoConversion";
pub const SIDECAR: &str = "sidecar";
pub const BACKGROUND: &str = "backgroundTask";
pub const BACKUP: &str = "backupDatabase";

/// The queues whose work Darkroom does today; the others exist (counts, pause) but cannot
/// be started yet.
pub const RUNNING_QUEUES: [&str; 6] = [METADATA, THUMBNAILS, VIDEO, SIDECAR, BACKGROUND, BACKUP];

/// Queues Immich never starts by name (their jobs are queued by other work).
const NOT_STARTABLE: [&str; 6] = [
    BACKGROUND,
    "search",
    "notifications",
    "workflow",
    "integrityCheck",
    "editor",
];

pub fn is_queue(name: &str) -> bool {
    QUEUES.contains(&name)
}

/// `job.<queue>.concurrency` from the system config, else Immich's default.
pub fn concurrency(config: &Value, queue: &str) -> usize {
    let default = match queue {
        METADATA => 5,
        THUMBNAILS => 3,
        VIDEO => 1,
        SIDECAR => 5,
        BACKGROUND => 5,
        _ => 1,
    };
    config["job"][queue]["concurrency"]
        .as_u64()
        .map_or(default, |c| c.clamp(1, 100) as usize)
}

/// Queues `name` with `data` and wakes the local workers. A failure is logged, not returned:
/// the caller's work is done and the `start` command finds what is missing.
pub async fn enqueue(state: &AppState, queue: &str, name: &str, data: Vec<Value>) {
    if let Err(error) = state.jobs.push_many(queue, name, data).await {
        tracing::error!(%error, queue, job = name, "could not queue jobs");
    }
    state.job_wake.notify_waiters();
}

/// After an upload: read its metadata, then (chained) make its thumbnails.
pub async fn asset_uploaded(state: &AppState, id: Uuid) {
    enqueue(
        state,
        METADATA,
        "AssetExtractMetadata",
        vec![json!({ "id": id, "source": "upload" })],
    )
    .await;
}

/// After a user edited EXIF fields: write them to the assets' XMP sidecars (which then
/// re-reads them, so clients see what the files now say).
pub async fn edited(state: &AppState, ids: &[Uuid]) {
    enqueue(
        state,
        SIDECAR,
        "SidecarWrite",
        ids.iter().map(|id| json!({ "id": id })).collect(),
    )
    .await;
}

/// `start` of a queue: every asset lacking its output (or all, with `force`).
pub async fn queue_all(state: &AppState, queue: &str, force: bool) -> ApiResult<()> {
    let (name, ids) = match queue {
        METADATA => (
            "AssetExtractMetadata",
            darkroom_storage::asset_jobs::needing_metadata(&state.db, force).await?,
        ),
        THUMBNAILS => (
            "AssetGenerateThumbnails",
            darkroom_storage::asset_jobs::needing_thumbnails(&state.db, force).await?,
        ),
        VIDEO => (
            "AssetEncodeVideo",
            darkroom_storage::asset_jobs::needing_video_conversion(&state.db, force).await?,
        ),
        SIDECAR => (
            "SidecarCheck",
            darkroom_storage::asset_jobs::needing_sidecar_check(&state.db, force).await?,
        ),
        BACKUP => {
            enqueue(state, BACKUP, "DatabaseBackup", vec![json!({})]).await;
            return Ok(());
        }
        _ if NOT_STARTABLE.contains(&queue) => return Err(ApiError::bad_request(format!("Invalid job name: {queue}"))),
        _ => {
            return Err(ApiError::bad_request(format!(
                "The {queue} queue does not run in this version of Darkroom yet"
            )));
        }
    };
    for chunk in ids.chunks(1000) {
        state
            .jobs
            .push_many(queue, name, chunk.iter().map(|id| json!({ "id": id })).collect())
            .await
            .map_err(ApiError::internal)?;
    }
    state.job_wake.notify_waiters();
    Ok(())
}
