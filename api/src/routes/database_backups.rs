//! `/admin/database-backups*`: the backups in the media folder's `backups/`. Access is checked
//! around these handlers: an admin's, or in maintenance mode the maintenance login.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult, ValidationIssue};
use crate::file_serving::{self, FileReply};
use crate::services::database_backups as backups;
use crate::state::AppState;
use crate::validation::{ValidJson, Validate};

#[derive(Debug, Serialize)]
pub struct DatabaseBackupDto {
    filename: String,
    filesize: u64,
    timezone: String,
}

#[derive(Debug, Serialize)]
pub struct DatabaseBackupListResponseDto {
    backups: Vec<DatabaseBackupDto>,
}

pub async fn list(State(state): State<AppState>) -> ApiResult<Json<DatabaseBackupListResponseDto>> {
    // The names carry the server's local time; the zone says which.
    let timezone = iana_time_zone::get_timezone().unwrap_or_else(|_| "UTC".to_owned());
    let backups = backups::list(&state)
        .await?
        .into_iter()
        .map(|file| DatabaseBackupDto {
            filename: file.filename,
            filesize: file.filesize,
            timezone: timezone.clone(),
        })
        .collect();
    Ok(Json(DatabaseBackupListResponseDto { backups }))
}

pub async fn download(
    State(state): State<AppState>,
    Path(params): Path<HashMap<String, String>>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let name = params.get("filename").map(String::as_str).unwrap_or_default();
    let path = backups::path_of(&state, name)?;
    if !tokio::fs::try_exists(&path).await.unwrap_or(false) {
        return Err(file_serving::not_found());
    }
    let content_type = if name.ends_with(".gz") {
        "application/gzip"
    } else {
        "application/sql"
    };
    file_serving::send_file(
        &headers,
        FileReply {
            path: &path,
            content_type,
            download_name: Some(name),
            cache_control: "private, no-cache, no-transform",
        },
    )
    .await
}

#[derive(Debug, Deserialize)]
pub struct DatabaseBackupDeleteDto {
    backups: Vec<String>,
}

impl Validate for DatabaseBackupDeleteDto {
    fn validate(&self) -> Vec<ValidationIssue> {
        Vec::new()
    }
}

pub async fn delete(
    State(state): State<AppState>,
    ValidJson(dto): ValidJson<DatabaseBackupDeleteDto>,
) -> ApiResult<StatusCode> {
    backups::delete(&state, &dto.backups).await?;
    Ok(StatusCode::OK)
}

pub async fn upload(State(state): State<AppState>, mut multipart: Multipart) -> ApiResult<Response> {
    let bad = |e: axum::extract::multipart::MultipartError| {
        ApiError::bad_request(format!("Invalid multipart body: {}", e.body_text()))
    };
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        if field.name() != Some("file") {
            continue;
        }
        let original = field.file_name().unwrap_or_default().to_owned();
        let body = field.map_err(bad);
        let stored = backups::store_upload(&state, &original, Box::pin(body)).await?;
        tracing::info!(file = stored, "database backup uploaded");
        return Ok(StatusCode::CREATED.into_response());
    }
    Err(ApiError::bad_request("No file was uploaded"))
}
