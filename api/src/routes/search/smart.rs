//! `POST /search/smart`: assets nearest in meaning to a text, or to another asset, by their
//! CLIP embeddings, with every filter of the metadata search.

use axum::Json;
use axum::extract::State;
use darkroom_storage::assets::AssetVisibility;
use darkroom_storage::{embeddings, search};
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use super::filtered::SearchResponseDto;
use super::{SearchFilterDto, dtos, range, searched_users};
use crate::access;
use crate::auth::Auth;
use crate::dto::ids::AssetId;
use crate::error::{ApiError, ApiResult, ValidationIssue};
use crate::machine_learning::is_smart_search_enabled;
use crate::permission::Permission;
use crate::services::smart_search;
use crate::state::AppState;
use crate::validation::{ValidJson, Validate, read_part};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SmartSearchDto {
    #[serde(skip)]
    filters: SearchFilterDto,
    query: Option<String>,
    query_asset_id: Option<AssetId>,
    language: Option<String>,
    page: Option<i64>,
}

impl Validate for SmartSearchDto {
    fn read_parts(&mut self, body: &Value) -> Vec<ValidationIssue> {
        let mut issues = Vec::new();
        self.filters = read_part(body, &mut issues);
        issues
    }

    fn validate(&self) -> Vec<ValidationIssue> {
        let mut issues = Vec::new();
        range(&mut issues, "page", self.page, 1, 9_007_199_254_740_991);
        issues
    }
}

pub async fn smart(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidJson(dto): ValidJson<SmartSearchDto>,
) -> ApiResult<Json<SearchResponseDto>> {
    let filters = &dto.filters;
    if filters.visibility == Some(AssetVisibility::Locked) {
        access::require_elevated(&auth)?;
    }
    let config = state.system_config.typed(&state.db).await?;
    let ml = &config.machine_learning;
    if !is_smart_search_enabled(ml) {
        return Err(ApiError::bad_request("Smart search is not enabled"));
    }
    for &album in &filters.album_ids {
        access::require_album(&state, &auth, Permission::AlbumRead, album.into()).await?;
    }
    let embedding = match (
        dto.query.as_deref().filter(|query| !query.is_empty()),
        dto.query_asset_id,
    ) {
        (Some(query), _) => smart_search::text_embedding(&state, ml, query, dto.language.as_deref()).await?,
        (None, Some(asset)) => {
            let asset = Uuid::from(asset);
            access::require_assets(&state, &auth, Permission::AssetRead, &[asset]).await?;
            embeddings::clip_embedding(&state.db, asset)
                .await?
                .ok_or_else(|| ApiError::bad_request(format!("Asset {asset} has no embedding")))?
        }
        (None, None) => return Err(ApiError::bad_request("Either `query` or `queryAssetId` must be set")),
    };
    let size = filters.size.unwrap_or(100);
    let page = dto.page.unwrap_or(1);
    let owners = searched_users(&state, &auth, filters.visibility != Some(AssetVisibility::Locked)).await?;
    let filter = filters.filter(Some(owners), &auth);
    let mut ids = search::find_nearest(
        &state.db,
        &filter,
        &embedding,
        size + 1,
        (page - 1).saturating_mul(size),
    )
    .await?;
    let next_page = (ids.len() as i64 > size).then(|| (page + 1).to_string());
    ids.truncate(size as usize);
    let items = dtos(&state, &auth, &ids, filters.with_exif == Some(true)).await?;
    Ok(Json(SearchResponseDto::assets(items, next_page)))
}
