//! The job errors, and which function does each kind of job.

use std::path::{Path, PathBuf};

use uuid::Uuid;

use super::{
    AssetJob, Job, UserJob, backup, duplicates, faces, maintenance, metadata, ocr, sidecars, smart_search, thumbnails,
    video,
};
use crate::state::AppState;
use crate::system_config::SystemConfig;

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
        Job::AssetExtractMetadata(AssetJob { id, reason }) => metadata::extract_metadata(state, id, reason).await,
        Job::AssetGenerateThumbnails(AssetJob { id, reason }) => {
            thumbnails::generate_thumbnails(state, id, reason).await
        }
        Job::AssetEncodeVideo(asset) => video::encode_video(state, asset.id).await,
        Job::SmartSearch(AssetJob { id, reason }) => smart_search::encode_clip(state, id, reason).await,
        Job::AssetDetectDuplicates(asset) => duplicates::detect_duplicates(state, asset.id).await,
        Job::AssetDetectFaces(asset) => faces::detect_faces(state, asset.id).await,
        Job::FacialRecognition(face) => faces::recognise_face(state, face).await,
        Job::FacialRecognitionQueueAll(run) => faces::queue_recognition(state, run).await,
        Job::PersonGenerateThumbnail(person) => faces::person_thumbnail(state, person.id).await,
        Job::Ocr(asset) => ocr::read_text(state, asset.id).await,
        Job::SidecarWrite(asset) => sidecars::write_sidecar(state, asset.id).await,
        Job::SidecarCheck(asset) => sidecars::check_sidecar(state, asset.id).await,
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

/// The configuration in force; not reading it is the database's trouble, which may pass.
pub(super) async fn system_config(state: &AppState) -> Result<SystemConfig, JobError> {
    state
        .system_config
        .typed(&state.db)
        .await
        .map_err(|e| JobError::Retry(e.to_string()))
}

pub(super) fn media_path(state: &AppState, stored: &str) -> Result<PathBuf, JobError> {
    let path = PathBuf::from(stored);
    if state.layout.contains(&path) {
        Ok(path)
    } else {
        Err(JobError::Fatal(format!("{stored} is outside the media folder")))
    }
}

/// The preview a machine-learning job sends (`doing` says what for, in the error when it is
/// missing), or `None` when there is nothing to do: the asset is gone or hidden.
pub(super) async fn preview_to_analyse(state: &AppState, id: Uuid, doing: &str) -> Result<Option<PathBuf>, JobError> {
    let Some(source) = darkroom_storage::asset_jobs::preview_source(&state.db, id).await? else {
        return Ok(None);
    };
    if source.is_hidden {
        return Ok(None);
    }
    let preview = source
        .preview_path
        .ok_or_else(|| JobError::Fatal(format!("the asset has no preview to {doing}")))?;
    media_path(state, &preview).map(Some)
}

/// Writes next to `path` and renames, so a reader never sees half a file.
pub(super) async fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), JobError> {
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir).await?;
    }
    let temporary = path.with_extension("tmp");
    tokio::fs::write(&temporary, bytes).await?;
    tokio::fs::rename(&temporary, path).await?;
    Ok(())
}
