//! `/stacks`: several assets shown as one (bursts, RAW+JPEG), owner only.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use darkroom_storage::assets;
use darkroom_storage::stacks::{self, Stack};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::access;
use crate::auth::{Auth, AuthContext};
use crate::dto::BulkIdsDto;
use crate::dto::asset::AssetResponseDto;
use crate::dto::ids::{AssetId, StackId, uuids};
use crate::error::{ApiError, ApiResult, ValidationIssue};
use crate::permission::Permission;
use crate::state::AppState;
use crate::validation::{IdPath, ValidJson, ValidQuery, Validate, invalid_uuid, parse_uuid_v4};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StackResponseDto {
    id: Uuid,
    primary_asset_id: Uuid,
    assets: Vec<AssetResponseDto>,
}

async fn dto(state: &AppState, auth: &AuthContext, stack: Stack) -> ApiResult<StackResponseDto> {
    let ids = stacks::assets(&state.db, &stack).await?;
    let found = assets::get_many(&state.db, &ids).await?;
    let assets = found
        .into_iter()
        .map(|asset| AssetResponseDto::new(asset, auth.user.id, None))
        .collect();
    Ok(StackResponseDto {
        id: stack.id,
        primary_asset_id: stack.primary_asset_id,
        assets,
    })
}

/// Only the owner may see or change a stack.
async fn require_stacks(state: &AppState, auth: &AuthContext, permission: Permission, ids: &[Uuid]) -> ApiResult<()> {
    let owned = if auth.shared_link.is_some() {
        Vec::new()
    } else {
        stacks::owned(&state.db, auth.user.id, ids).await?
    };
    if ids.iter().all(|id| owned.contains(id)) {
        Ok(())
    } else {
        Err(access::denied(permission))
    }
}

async fn find(state: &AppState, auth: &AuthContext, permission: Permission, id: StackId) -> ApiResult<Stack> {
    require_stacks(state, auth, permission, &[id.0]).await?;
    stacks::get(&state.db, id.0)
        .await?
        .ok_or_else(|| access::denied(permission))
}

async fn changed(state: &AppState, auth: &AuthContext) {
    crate::events::send(state, auth.user.id, "on_asset_stack_update", json!([])).await;
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StackSearchQuery {
    primary_asset_id: Option<AssetId>,
}

impl Validate for StackSearchQuery {}

/// `GET /stacks[?primaryAssetId=]`.
pub async fn search(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidQuery(query): ValidQuery<StackSearchQuery>,
) -> ApiResult<Json<Vec<StackResponseDto>>> {
    let primary = query.primary_asset_id.map(Uuid::from);
    let mut all = Vec::new();
    for stack in stacks::list(&state.db, auth.user.id, primary).await? {
        all.push(dto(&state, &auth, stack).await?);
    }
    Ok(Json(all))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StackCreateDto {
    asset_ids: Vec<AssetId>,
}

impl Validate for StackCreateDto {
    fn validate(&self) -> Vec<ValidationIssue> {
        let mut issues = Vec::new();
        if self.asset_ids.len() < 2 {
            issues.push(ValidationIssue::with_code(
                "too_small",
                &["assetIds"],
                "Too small: expected array to have >=2 items",
            ));
        }
        issues
    }
}

/// `POST /stacks {assetIds}`: the first becomes the primary; stacks led by the others merge in.
pub async fn create(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidJson(body): ValidJson<StackCreateDto>,
) -> ApiResult<(StatusCode, Json<StackResponseDto>)> {
    let ids = uuids(&body.asset_ids);
    access::require_assets(&state, &auth, Permission::AssetUpdate, &ids).await?;
    let id = stacks::create(&state.db, auth.user.id, &ids).await?;
    changed(&state, &auth).await;
    let stack = stacks::get(&state.db, id)
        .await?
        .ok_or_else(|| ApiError::internal("the new stack is gone"))?;
    Ok((StatusCode::CREATED, Json(dto(&state, &auth, stack).await?)))
}

/// `GET /stacks/{id}`.
pub async fn get(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<StackId>,
) -> ApiResult<Json<StackResponseDto>> {
    let stack = find(&state, &auth, Permission::StackRead, id).await?;
    Ok(Json(dto(&state, &auth, stack).await?))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StackUpdateDto {
    primary_asset_id: Option<AssetId>,
}

impl Validate for StackUpdateDto {}

/// `PUT /stacks/{id} {primaryAssetId}`: another member leads the stack.
pub async fn update(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<StackId>,
    ValidJson(body): ValidJson<StackUpdateDto>,
) -> ApiResult<Json<StackResponseDto>> {
    let mut stack = find(&state, &auth, Permission::StackUpdate, id).await?;
    if let Some(AssetId(primary)) = body.primary_asset_id {
        if !stacks::assets(&state.db, &stack).await?.contains(&primary) {
            return Err(ApiError::bad_request("Primary asset must be in the stack"));
        }
        stacks::set_primary(&state.db, id.0, primary).await?;
        stack.primary_asset_id = primary;
        changed(&state, &auth).await;
    }
    Ok(Json(dto(&state, &auth, stack).await?))
}

/// `DELETE /stacks/{id}`: its assets become single again.
pub async fn delete(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<StackId>,
) -> ApiResult<StatusCode> {
    require_stacks(&state, &auth, Permission::StackDelete, &[id.0]).await?;
    stacks::delete(&state.db, &[id.0]).await?;
    changed(&state, &auth).await;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /stacks {ids}`.
pub async fn delete_all(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidJson(body): ValidJson<BulkIdsDto<StackId>>,
) -> ApiResult<StatusCode> {
    let ids = body.ids();
    require_stacks(&state, &auth, Permission::StackDelete, &ids).await?;
    stacks::delete(&state.db, &ids).await?;
    changed(&state, &auth).await;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /stacks/{id}/assets/{assetId}`: one asset leaves (never the primary).
pub async fn remove_asset(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<StackId>,
    Path(params): Path<HashMap<String, String>>,
) -> ApiResult<StatusCode> {
    let asset = params
        .get("assetId")
        .and_then(|raw| parse_uuid_v4(raw))
        .ok_or_else(|| ApiError::Validation(vec![invalid_uuid(&["assetId"])]))?;
    let stack = find(&state, &auth, Permission::StackUpdate, id).await?;
    if stacks::of_asset(&state.db, asset).await? != Some(id.0) {
        return Err(ApiError::bad_request("Asset not in stack"));
    }
    if stack.primary_asset_id == asset {
        return Err(ApiError::bad_request("Cannot remove stack's primary asset"));
    }
    stacks::remove_asset(&state.db, asset).await?;
    changed(&state, &auth).await;
    Ok(StatusCode::NO_CONTENT)
}
