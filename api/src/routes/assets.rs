//! `/assets/*`: the owner's view of their photos and videos.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use darkroom_storage::assets::{self, AssetCounts, AssetVisibility, StatisticsFilter};
use darkroom_storage::users;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::asset_dto::AssetResponseDto;
use crate::access;
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult, ValidationIssue};
use crate::permission::Permission;
use crate::services::trash;
use crate::state::AppState;
use crate::validation::{IdPath, Validate, ValidJson, ValidQuery, uuid_list};

/// Query of the asset statistics endpoints.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssetStatsQuery {
    visibility: Option<AssetVisibility>,
    is_favorite: Option<bool>,
    is_trashed: Option<bool>,
}

impl Validate for AssetStatsQuery {}

#[derive(Debug, Serialize)]
pub struct AssetStatsResponseDto {
    images: i64,
    videos: i64,
    total: i64,
}

impl From<AssetCounts> for AssetStatsResponseDto {
    fn from(counts: AssetCounts) -> Self {
        Self { images: counts.images, videos: counts.videos, total: counts.total() }
    }
}

/// Counts for `owner_id`, shared with the admin endpoint for any user.
pub async fn statistics_of(state: &AppState, owner_id: Uuid, query: AssetStatsQuery) -> ApiResult<Json<AssetStatsResponseDto>> {
    let filter = StatisticsFilter {
        visibility: query.visibility,
        is_favorite: query.is_favorite,
        is_trashed: query.is_trashed.unwrap_or(false),
    };
    Ok(Json(assets::statistics(&state.db, owner_id, filter).await?.into()))
}

pub async fn statistics(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidQuery(query): ValidQuery<AssetStatsQuery>,
) -> ApiResult<Json<AssetStatsResponseDto>> {
    statistics_of(&state, auth.user.id, query).await
}

pub async fn get(State(state): State<AppState>, Auth(auth): Auth, IdPath(id): IdPath) -> ApiResult<Json<AssetResponseDto>> {
    access::require_assets(&state, &auth, Permission::AssetRead, &[id]).await?;
    let asset = assets::get(&state.db, id).await?.ok_or_else(|| ApiError::bad_request("Asset not found"))?;
    let owner = users::get(&state.db, asset.owner_id, true).await?;
    Ok(Json(AssetResponseDto::new(asset, auth.user.id, owner.as_ref())))
}

#[derive(Debug, Deserialize)]
pub struct AssetBulkDeleteDto {
    ids: Vec<String>,
    #[serde(default)]
    force: bool,
}

impl Validate for AssetBulkDeleteDto {
    fn validate(&self) -> Vec<ValidationIssue> {
        let mut issues = Vec::new();
        uuid_list(&mut issues, "ids", &self.ids);
        issues
    }
}

/// `DELETE /assets`: to the trash, or (`force`) gone for good.
pub async fn delete(State(state): State<AppState>, Auth(auth): Auth, ValidJson(dto): ValidJson<AssetBulkDeleteDto>) -> ApiResult<StatusCode> {
    let ids = uuid_list(&mut Vec::new(), "ids", &dto.ids);
    access::require_assets(&state, &auth, Permission::AssetDelete, &ids).await?;
    trash::remove(&state, auth.user.id, &ids, dto.force).await?;
    Ok(StatusCode::NO_CONTENT)
}
