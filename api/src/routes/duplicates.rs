//! `/duplicates`: groups of look-alike photos, with the one worth keeping suggested.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use darkroom_storage::assets::{self, Asset};
use darkroom_storage::duplicates;
use serde::Serialize;
use uuid::Uuid;

use crate::access;
use crate::auth::{Auth, AuthContext};
use crate::dto::BulkIdsDto;
use crate::error::ApiResult;
use crate::permission::Permission;
use crate::routes::asset_dto::AssetResponseDto;
use crate::state::AppState;
use crate::validation::{IdPath, ValidJson};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DuplicateResponseDto {
    duplicate_id: Uuid,
    assets: Vec<AssetResponseDto>,
    suggested_keep_asset_ids: Vec<Uuid>,
}

/// How much an asset's EXIF says: the tie-breaker between equally large files.
fn exif_richness(asset: &Asset) -> usize {
    let Some(e) = &asset.exif else { return 0 };
    let texts = [&e.make, &e.model, &e.orientation, &e.time_zone, &e.lens_model, &e.exposure_time, &e.city, &e.state, &e.country, &e.projection_type, &e.profile_description];
    let numbers = [e.f_number, e.focal_length, e.latitude, e.longitude, e.fps];
    texts.iter().filter(|t| t.as_deref().is_some_and(|t| !t.is_empty())).count()
        + numbers.iter().filter(|n| n.is_some()).count()
        + [e.exif_image_width, e.exif_image_height, e.iso, e.rating].iter().filter(|n| n.is_some()).count()
        + [e.date_time_original, e.modify_date].iter().filter(|d| d.is_some()).count()
        + usize::from(!e.description.is_empty())
}

/// The largest file, then the richest EXIF, then the latest.
fn suggested_keep(assets: &[Asset]) -> Option<Uuid> {
    let size = |a: &Asset| a.exif.as_ref().and_then(|e| e.file_size_in_byte).unwrap_or(0);
    assets.iter().enumerate().max_by_key(|(index, a)| (size(a), exif_richness(a), *index)).map(|(_, a)| a.id)
}

/// `GET /duplicates`.
pub async fn list(State(state): State<AppState>, Auth(auth): Auth) -> ApiResult<Json<Vec<DuplicateResponseDto>>> {
    duplicates::dissolve_singletons(&state.db, auth.user.id).await?;
    let mut groups = Vec::new();
    for (duplicate_id, ids) in duplicates::groups(&state.db, auth.user.id).await? {
        let found = assets::get_many(&state.db, &ids).await?;
        let keep = suggested_keep(&found);
        let assets = found.into_iter().map(|asset| AssetResponseDto::new(asset, auth.user.id, None)).collect();
        groups.push(DuplicateResponseDto { duplicate_id, assets, suggested_keep_asset_ids: keep.into_iter().collect() });
    }
    Ok(Json(groups))
}

async fn dismiss(state: &AppState, auth: &AuthContext, ids: &[Uuid]) -> ApiResult<StatusCode> {
    let owned = duplicates::owned(&state.db, auth.user.id, ids).await?;
    if !ids.iter().all(|id| owned.contains(id)) {
        return Err(access::denied(Permission::DuplicateDelete));
    }
    duplicates::dismiss(&state.db, auth.user.id, ids).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /duplicates/{id}`: not duplicates after all (no asset is deleted).
pub async fn dismiss_one(State(state): State<AppState>, Auth(auth): Auth, IdPath(id): IdPath) -> ApiResult<StatusCode> {
    dismiss(&state, &auth, &[id]).await
}

/// `DELETE /duplicates {ids}`.
pub async fn dismiss_many(State(state): State<AppState>, Auth(auth): Auth, ValidJson(body): ValidJson<BulkIdsDto>) -> ApiResult<StatusCode> {
    dismiss(&state, &auth, &body.ids()).await
}
