//! `/download/*`: what a download would hold, split into archives, and the archives themselves.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use darkroom_storage::assets::{self, DownloadScope};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::access;
use crate::auth::Auth;
use crate::dto::ids::{AlbumId, AssetId, UserId, uuids};
use crate::error::{ApiError, ApiResult, ValidationIssue};
use crate::permission::Permission;
use crate::state::AppState;
use crate::validation::{ValidJson, Validate, rules};
use crate::zip_stream::{self, ZipEntry};

/// Archives close once they pass this size, unless the client asks for another.
const DEFAULT_ARCHIVE_SIZE: i64 = 4 * 1024 * 1024 * 1024;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DownloadInfoDto {
    asset_ids: Option<Vec<AssetId>>,
    album_id: Option<AlbumId>,
    user_id: Option<UserId>,
    archive_size: Option<i64>,
}

impl Validate for DownloadInfoDto {
    fn validate(&self) -> Vec<ValidationIssue> {
        let mut issues = Vec::new();
        if let Some(size) = self.archive_size {
            rules::min_number(&mut issues, &["archiveSize"], size, 1);
        }
        issues
    }
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DownloadArchiveInfo {
    size: i64,
    asset_ids: Vec<Uuid>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DownloadResponseDto {
    total_size: i64,
    archives: Vec<DownloadArchiveInfo>,
}

/// `POST /download/info`: the assets (with their live-photo videos) in archives of about
/// `archiveSize` bytes each.
pub async fn info(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidJson(dto): ValidJson<DownloadInfoDto>,
) -> ApiResult<(StatusCode, Json<DownloadResponseDto>)> {
    let asset_ids = dto.asset_ids.as_deref().map(uuids);
    let rows = if let Some(ids) = &asset_ids {
        access::require_assets(&state, &auth, Permission::AssetDownload, ids).await?;
        assets::downloadable(&state.db, DownloadScope::Assets(ids)).await?
    } else if let Some(AlbumId(album_id)) = dto.album_id {
        access::require_album(&state, &auth, Permission::AlbumDownload, album_id).await?;
        assets::downloadable(&state.db, DownloadScope::Album(album_id)).await?
    } else if let Some(UserId(user_id)) = dto.user_id {
        if user_id != auth.user.id {
            return Err(access::denied(Permission::TimelineDownload));
        }
        assets::downloadable(&state.db, DownloadScope::Owner(user_id)).await?
    } else {
        return Err(ApiError::bad_request("assetIds, albumId, or userId is required"));
    };
    // Live photos come with their motion part.
    let motion: Vec<Uuid> = rows.iter().filter_map(|row| row.live_photo_video_id).collect();
    let videos = if motion.is_empty() {
        Vec::new()
    } else {
        assets::downloadable(&state.db, DownloadScope::Assets(&motion)).await?
    };
    let target = dto.archive_size.unwrap_or(DEFAULT_ARCHIVE_SIZE);
    let mut archives = Vec::new();
    let mut current = DownloadArchiveInfo::default();
    for row in rows.iter().chain(videos.iter()) {
        current.asset_ids.push(row.id);
        current.size += row.size;
        if current.size > target {
            archives.push(std::mem::take(&mut current));
        }
    }
    if !current.asset_ids.is_empty() {
        archives.push(current);
    }
    let total_size = archives.iter().map(|a| a.size).sum();
    Ok((StatusCode::CREATED, Json(DownloadResponseDto { total_size, archives })))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DownloadArchiveDto {
    asset_ids: Vec<AssetId>,
    #[serde(default)]
    #[allow(dead_code)]
    edited: bool,
}

impl Validate for DownloadArchiveDto {}

/// `POST /download/archive`: a zip of the originals, streamed as it is written.
pub async fn archive(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidJson(dto): ValidJson<DownloadArchiveDto>,
) -> ApiResult<Response> {
    let ids = uuids(&dto.asset_ids);
    access::require_assets(&state, &auth, Permission::AssetDownload, &ids).await?;
    let found = assets::originals(&state.db, &ids).await?;
    // Entries follow the request's order.
    let ordered: Vec<&(Uuid, String, String)> = ids
        .iter()
        .filter_map(|id| found.iter().find(|row| row.0 == *id))
        .collect();
    let names = zip_stream::entry_names(ordered.iter().map(|(_, name, _)| name.clone()));
    let entries = ordered
        .iter()
        .zip(names)
        .filter(|((_, _, path), _)| state.layout.contains(std::path::Path::new(path)))
        .map(|((_, _, path), name)| ZipEntry {
            name,
            path: path.into(),
        })
        .collect();
    Ok((
        [(header::CONTENT_TYPE, "application/octet-stream")],
        crate::panic_guard::stream_body(zip_stream::stream(entries)),
    )
        .into_response())
}
