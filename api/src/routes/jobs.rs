//! `/jobs`, `/queues` and `/assets/jobs`: watching and steering the background queues.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use darkroom_storage::queue::QueueCounts;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::access;
use crate::auth::Auth;
use crate::dto::ids::{AssetId, uuids};
use crate::error::{ApiError, ApiResult, Context, ValidationIssue};
use crate::jobs::{self, AssetJob, Job, Queue};
use crate::permission::Permission;
use crate::state::AppState;
use crate::validation::{ValidJson, ValidQuery, Validate};

fn queue_name(params: &HashMap<String, String>, key: &str) -> ApiResult<Queue> {
    let name = params.get(key).map(String::as_str).unwrap_or("");
    Queue::parse(name).ok_or_else(|| {
        let options = Queue::ALL
            .iter()
            .map(|q| format!("\"{q}\""))
            .collect::<Vec<_>>()
            .join("|");
        ApiError::Validation(vec![ValidationIssue::with_code(
            "invalid_value",
            &[key],
            format!("Invalid option: expected one of {options}"),
        )])
    })
}

async fn counts(state: &AppState, queue: Queue) -> ApiResult<QueueCounts> {
    state
        .jobs
        .counts(queue.as_str())
        .await
        .context("counting the queue's jobs")
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueStatusLegacyDto {
    is_active: bool,
    is_paused: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueResponseLegacyDto {
    job_counts: QueueCounts,
    queue_status: QueueStatusLegacyDto,
}

async fn legacy(state: &AppState, queue: Queue) -> ApiResult<QueueResponseLegacyDto> {
    let counts = counts(state, queue).await?;
    let is_paused = state
        .jobs
        .is_paused(queue.as_str())
        .await
        .context("reading whether the queue is paused")?;
    Ok(QueueResponseLegacyDto {
        job_counts: counts,
        queue_status: QueueStatusLegacyDto {
            is_active: counts.active > 0,
            is_paused,
        },
    })
}

/// `GET /jobs`: every queue's counts and state (the web's jobs page).
pub async fn get_all_legacy(
    State(state): State<AppState>,
    Auth(_): Auth,
) -> ApiResult<Json<HashMap<&'static str, QueueResponseLegacyDto>>> {
    let mut all = HashMap::new();
    for queue in Queue::ALL {
        all.insert(queue.as_str(), legacy(&state, queue).await?);
    }
    Ok(Json(all))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum QueueCommand {
    Start,
    Pause,
    Resume,
    Empty,
    ClearFailed,
}

#[derive(Debug, Deserialize)]
pub struct QueueCommandDto {
    command: QueueCommand,
    #[serde(default)]
    force: bool,
}

impl Validate for QueueCommandDto {}

/// `PUT /jobs/{name}`: start, pause, resume, empty or clear a queue.
pub async fn command(
    State(state): State<AppState>,
    Auth(_): Auth,
    Path(params): Path<HashMap<String, String>>,
    ValidJson(dto): ValidJson<QueueCommandDto>,
) -> ApiResult<Json<QueueResponseLegacyDto>> {
    let queue = queue_name(&params, "name")?;
    match dto.command {
        QueueCommand::Start => {
            if counts(&state, queue).await?.active > 0 {
                return Err(ApiError::bad_request("Job is already running"));
            }
            jobs::queue_all(&state, queue, dto.force).await?;
            state.metrics.queue_started(queue);
        }
        QueueCommand::Pause if queue == Queue::BackgroundTask => {
            return Err(ApiError::bad_request("The BackgroundTask queue cannot be paused"));
        }
        QueueCommand::Pause => state
            .jobs
            .set_paused(queue.as_str(), true)
            .await
            .context("pausing the queue")?,
        QueueCommand::Resume => {
            state
                .jobs
                .set_paused(queue.as_str(), false)
                .await
                .context("resuming the queue")?;
            state.job_wake.notify_waiters();
        }
        QueueCommand::Empty => state.jobs.empty(queue.as_str()).await.context("emptying the queue")?,
        QueueCommand::ClearFailed => state
            .jobs
            .clear_failed(queue.as_str())
            .await
            .context("clearing the failed jobs")?,
    }
    Ok(Json(legacy(&state, queue).await?))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ManualJobName {
    PersonCleanup,
    TagCleanup,
    UserCleanup,
    MemoryCleanup,
    MemoryCreate,
    BackupDatabase,
    IntegrityMissingFiles,
    IntegrityUntrackedFiles,
    IntegrityChecksumMismatch,
    IntegrityMissingFilesRefresh,
    IntegrityUntrackedFilesRefresh,
    IntegrityChecksumMismatchRefresh,
    IntegrityMissingFilesDeleteAll,
    IntegrityUntrackedFilesDeleteAll,
    IntegrityChecksumMismatchDeleteAll,
}

#[derive(Debug, Deserialize)]
pub struct JobCreateDto {
    name: ManualJobName,
}

impl Validate for JobCreateDto {}

/// `POST /jobs`: one of the jobs an admin may start by hand.
pub async fn create(
    State(state): State<AppState>,
    Auth(_): Auth,
    ValidJson(dto): ValidJson<JobCreateDto>,
) -> ApiResult<StatusCode> {
    let job = match dto.name {
        ManualJobName::UserCleanup => Job::UserDeleteCheck {},
        ManualJobName::BackupDatabase => Job::DatabaseBackup {},
        ManualJobName::PersonCleanup => {
            return Err(ApiError::bad_request(
                "People (face recognition) are not in this version of Darkroom yet",
            ));
        }
        ManualJobName::TagCleanup => Job::TagCleanup {},
        ManualJobName::MemoryCleanup => Job::MemoryCleanup {},
        ManualJobName::MemoryCreate => Job::MemoryGenerate {},
        _ => {
            return Err(ApiError::bad_request(
                "Integrity checks are not in this version of Darkroom yet",
            ));
        }
    };
    jobs::enqueue(&state, [job]).await;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueResponseDto {
    name: Queue,
    is_paused: bool,
    statistics: QueueCounts,
}

async fn queue_dto(state: &AppState, queue: Queue) -> ApiResult<QueueResponseDto> {
    let is_paused = state
        .jobs
        .is_paused(queue.as_str())
        .await
        .context("reading whether the queue is paused")?;
    Ok(QueueResponseDto {
        name: queue,
        is_paused,
        statistics: counts(state, queue).await?,
    })
}

pub async fn list_queues(State(state): State<AppState>, Auth(_): Auth) -> ApiResult<Json<Vec<QueueResponseDto>>> {
    let mut all = Vec::new();
    for queue in Queue::ALL {
        all.push(queue_dto(&state, queue).await?);
    }
    Ok(Json(all))
}

pub async fn get_queue(
    State(state): State<AppState>,
    Auth(_): Auth,
    Path(params): Path<HashMap<String, String>>,
) -> ApiResult<Json<QueueResponseDto>> {
    Ok(Json(queue_dto(&state, queue_name(&params, "name")?).await?))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueUpdateDto {
    is_paused: Option<bool>,
}

impl Validate for QueueUpdateDto {}

pub async fn update_queue(
    State(state): State<AppState>,
    Auth(_): Auth,
    Path(params): Path<HashMap<String, String>>,
    ValidJson(dto): ValidJson<QueueUpdateDto>,
) -> ApiResult<Json<QueueResponseDto>> {
    let queue = queue_name(&params, "name")?;
    if let Some(paused) = dto.is_paused {
        if paused && queue == Queue::BackgroundTask {
            return Err(ApiError::bad_request("The BackgroundTask queue cannot be paused"));
        }
        state
            .jobs
            .set_paused(queue.as_str(), paused)
            .await
            .context("pausing or resuming the queue")?;
        state.job_wake.notify_waiters();
    }
    Ok(Json(queue_dto(&state, queue).await?))
}

#[derive(Debug, Deserialize)]
pub struct QueueJobsQuery {
    status: Option<String>,
}

impl Validate for QueueJobsQuery {}

#[derive(Debug, Serialize)]
pub struct QueueJobResponseDto {
    name: String,
    data: Value,
    timestamp: i64,
}

/// `GET /queues/{name}/jobs?status=waiting,failed,…`
pub async fn queue_jobs(
    State(state): State<AppState>,
    Auth(_): Auth,
    Path(params): Path<HashMap<String, String>>,
    ValidQuery(query): ValidQuery<QueueJobsQuery>,
) -> ApiResult<Json<Vec<QueueJobResponseDto>>> {
    let queue = queue_name(&params, "name")?;
    let statuses: Vec<String> = query
        .status
        .unwrap_or_default()
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    let wants = |status: &str| statuses.is_empty() || statuses.iter().any(|s| s == status);
    let jobs = state
        .jobs
        .jobs(
            queue.as_str(),
            wants("waiting") || wants("paused"),
            wants("active"),
            wants("failed"),
            wants("delayed"),
            1000,
        )
        .await
        .context("listing the queue's jobs")?;
    Ok(Json(
        jobs.into_iter()
            .map(|job| QueueJobResponseDto {
                name: job.name,
                data: job.data,
                timestamp: job.timestamp,
            })
            .collect(),
    ))
}

#[derive(Debug, Deserialize)]
pub struct QueueDeleteDto {
    #[serde(default)]
    failed: bool,
}

impl Validate for QueueDeleteDto {}

pub async fn delete_queue_jobs(
    State(state): State<AppState>,
    Auth(_): Auth,
    Path(params): Path<HashMap<String, String>>,
    ValidJson(dto): ValidJson<QueueDeleteDto>,
) -> ApiResult<StatusCode> {
    let queue = queue_name(&params, "name")?;
    if dto.failed {
        state
            .jobs
            .clear_failed(queue.as_str())
            .await
            .context("clearing the failed jobs")?;
    } else {
        state.jobs.empty(queue.as_str()).await.context("emptying the queue")?;
    }
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AssetJobName {
    RefreshFaces,
    RefreshMetadata,
    RegenerateThumbnail,
    TranscodeVideo,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssetJobsDto {
    asset_ids: Vec<AssetId>,
    name: AssetJobName,
}

impl Validate for AssetJobsDto {}

/// `POST /assets/jobs`: redo one kind of work for some assets.
pub async fn asset_jobs(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidJson(dto): ValidJson<AssetJobsDto>,
) -> ApiResult<StatusCode> {
    let ids = uuids(&dto.asset_ids);
    access::require_assets(&state, &auth, Permission::AssetUpdate, &ids).await?;
    let kind: fn(AssetJob) -> Job = match dto.name {
        AssetJobName::RefreshMetadata => Job::AssetExtractMetadata,
        AssetJobName::RegenerateThumbnail => Job::AssetGenerateThumbnails,
        AssetJobName::TranscodeVideo => Job::AssetEncodeVideo,
        AssetJobName::RefreshFaces => Job::AssetDetectFaces,
    };
    jobs::enqueue(&state, ids.iter().map(|&id| kind(AssetJob::of(id)))).await;
    Ok(StatusCode::NO_CONTENT)
}
