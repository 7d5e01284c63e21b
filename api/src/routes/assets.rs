//! `/assets/*`: the owner's view of their photos and videos.

use axum::Json;
use axum::extract::State;
use darkroom_storage::assets::{self, AssetCounts, AssetVisibility, StatisticsFilter};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::Auth;
use crate::error::ApiResult;
use crate::state::AppState;
use crate::validation::{Validate, ValidQuery};

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
