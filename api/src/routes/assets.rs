//! `/assets/*`: the owner's view of their photos and videos.

mod edits;
mod metadata;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use darkroom_storage::assets::{self, AssetCounts, AssetVisibility, StatisticsFilter};
use darkroom_storage::{people, users};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::access;
use crate::auth::Auth;
use crate::dto::asset::AssetResponseDto;
use crate::dto::ids::{AssetId, uuids};
use crate::error::{ApiError, ApiResult, Context};
use crate::permission::Permission;
use crate::services::trash;
use crate::state::AppState;
use crate::validation::{IdPath, ValidJson, ValidQuery, Validate};

pub use edits::{update, update_many};
pub use metadata::{
    delete_metadata_bulk, delete_metadata_key, get_metadata, get_metadata_key, upsert_metadata, upsert_metadata_bulk,
};

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
        Self {
            images: counts.images,
            videos: counts.videos,
            total: counts.total(),
        }
    }
}

/// Counts for `owner_id`, shared with the admin endpoint for any user.
pub async fn statistics_of(
    state: &AppState,
    owner_id: Uuid,
    query: AssetStatsQuery,
) -> ApiResult<Json<AssetStatsResponseDto>> {
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
    if query.visibility == Some(AssetVisibility::Locked) {
        crate::access::require_elevated(&auth)?;
    }
    statistics_of(&state, auth.user.id, query).await
}

pub async fn get(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<AssetId>,
) -> ApiResult<Json<serde_json::Value>> {
    access::require_assets(&state, &auth, Permission::AssetRead, &[id.0]).await?;
    let asset = assets::get(&state.db, id.0)
        .await?
        .ok_or_else(|| ApiError::bad_request("Asset not found"))?;
    // Link guests see no owner, and only the basics when the link hides metadata.
    let mut dto = match &auth.shared_link {
        Some(link) if !link.show_exif => return Ok(Json(AssetResponseDto::sanitized(&asset))),
        Some(_) => {
            serde_json::to_value(AssetResponseDto::new(asset, Uuid::nil(), None)).context("describing the asset")?
        }
        None => {
            let owner = users::get(&state.db, asset.owner_id, true).await?;
            let people = if asset.owner_id == auth.user.id {
                people::on_asset(&state.db, id.0).await?
            } else {
                Vec::new()
            };
            let dto = AssetResponseDto::new(asset, auth.user.id, owner.as_ref()).with_people(people);
            serde_json::to_value(dto).context("describing the asset")?
        }
    };
    dto["tags"] =
        serde_json::to_value(super::tags::of_asset(&state, id).await?).context("describing the asset's tags")?;
    Ok(Json(dto))
}

#[derive(Debug, Deserialize)]
pub struct AssetBulkDeleteDto {
    ids: Vec<AssetId>,
    #[serde(default)]
    force: bool,
}

impl Validate for AssetBulkDeleteDto {}

/// `DELETE /assets`: to the trash, or (`force`) gone for good.
pub async fn delete(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidJson(dto): ValidJson<AssetBulkDeleteDto>,
) -> ApiResult<StatusCode> {
    let ids = uuids(&dto.ids);
    access::require_assets(&state, &auth, Permission::AssetDelete, &ids).await?;
    trash::remove(&state, auth.user.id, &ids, dto.force).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /assets/{id}/ocr`: the text recognised in the photo, as the edited picture shows it
/// (an empty list until something has read it).
pub async fn get_ocr(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<AssetId>,
) -> ApiResult<Json<Vec<super::faces::AssetOcrResponseDto>>> {
    access::require_assets(&state, &auth, Permission::AssetRead, &[id.0]).await?;
    Ok(Json(super::faces::ocr_of(&state, id).await?))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssetCopyDto {
    source_id: AssetId,
    target_id: AssetId,
    #[serde(default = "yes")]
    shared_links: bool,
    #[serde(default = "yes")]
    albums: bool,
    #[serde(default = "yes")]
    sidecar: bool,
    #[serde(default = "yes")]
    stack: bool,
    #[serde(default = "yes")]
    favorite: bool,
}

fn yes() -> bool {
    true
}

impl Validate for AssetCopyDto {}

/// `PUT /assets/copy`: gives `targetId` the albums, stack, favourite and sidecar of `sourceId`
/// (e.g. when an edited copy replaces the original).
pub async fn copy(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidJson(dto): ValidJson<AssetCopyDto>,
) -> ApiResult<StatusCode> {
    let (source, target) = (dto.source_id.0, dto.target_id.0);
    access::require_assets(&state, &auth, Permission::AssetCopy, &[source, target]).await?;
    let (Some(_), Some(target_asset)) = (
        assets::get(&state.db, source).await?,
        assets::get(&state.db, target).await?,
    ) else {
        return Err(ApiError::bad_request("Both assets must exist"));
    };
    if source == target {
        return Err(ApiError::bad_request("Source and target id must be distinct"));
    }
    // Shared links arrive with the sharing work; until then there is nothing to copy there.
    let _ = dto.shared_links;
    assets::copy_relations(&state.db, source, target, dto.albums, dto.stack, dto.favorite).await?;
    if dto.sidecar
        && let Some(sidecar) = assets::sidecar_path(&state.db, source).await?
    {
        let destination = format!("{}.xmp", target_asset.original_path);
        if let Some(old) = assets::sidecar_path(&state.db, target).await?
            && old != destination
            && state.layout.contains(std::path::Path::new(&old))
        {
            let _ = tokio::fs::remove_file(&old).await;
        }
        tokio::fs::copy(&sidecar, &destination).await?;
        assets::set_sidecar_path(&state.db, target, &destination).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}
