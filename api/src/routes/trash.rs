//! `/trash/*`: emptying and restoring the trash.

use axum::Json;
use axum::extract::State;
use darkroom_storage::assets;
use serde::Serialize;

use crate::access;
use crate::auth::Auth;
use crate::dto::BulkIdsDto;
use crate::error::ApiResult;
use crate::permission::Permission;
use crate::services::trash;
use crate::state::AppState;
use crate::validation::ValidJson;

#[derive(Debug, Serialize)]
pub struct TrashResponseDto {
    count: u64,
}

pub async fn empty(State(state): State<AppState>, Auth(auth): Auth) -> ApiResult<Json<TrashResponseDto>> {
    Ok(Json(TrashResponseDto {
        count: trash::empty(&state, auth.user.id).await?,
    }))
}

pub async fn restore(State(state): State<AppState>, Auth(auth): Auth) -> ApiResult<Json<TrashResponseDto>> {
    Ok(Json(TrashResponseDto {
        count: assets::restore(&state.db, auth.user.id, None).await?,
    }))
}

/// Restores the given assets; like Immich, the count is how many were asked for.
pub async fn restore_assets(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidJson(dto): ValidJson<BulkIdsDto>,
) -> ApiResult<Json<TrashResponseDto>> {
    let ids = dto.ids();
    if ids.is_empty() {
        return Ok(Json(TrashResponseDto { count: 0 }));
    }
    access::require_assets(&state, &auth, Permission::AssetDelete, &ids).await?;
    assets::restore(&state.db, auth.user.id, Some(&ids)).await?;
    crate::events::send(&state, auth.user.id, "on_asset_restore", serde_json::json!(ids)).await;
    Ok(Json(TrashResponseDto {
        count: ids.len() as u64,
    }))
}
