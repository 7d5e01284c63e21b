//! Searches by the shared filters: the paged metadata search, random picks, the largest files
//! and counts.

use axum::Json;
use axum::extract::State;
use darkroom_storage::assets::AssetVisibility;
use darkroom_storage::search::{self, SearchOrder};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{SearchFilterDto, dtos, range, searched_users};
use crate::access;
use crate::auth::{Auth, AuthContext};
use crate::dto::asset::AssetResponseDto;
use crate::dto::ids::{AssetId, uuids};
use crate::error::{ApiError, ApiResult, ValidationIssue};
use crate::permission::Permission;
use crate::state::AppState;
use crate::validation::{ValidJson, ValidQuery, Validate, read_part};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetadataSearchDto {
    #[serde(skip)]
    filters: SearchFilterDto,
    id: Option<AssetId>,
    checksum: Option<String>,
    original_file_name: Option<String>,
    original_path: Option<String>,
    encoded_video_path: Option<String>,
    order: Option<Order>,
    page: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Order {
    Asc,
    Desc,
}

impl Validate for MetadataSearchDto {
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

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchAssetResponseDto {
    total: usize,
    count: usize,
    items: Vec<AssetResponseDto>,
    facets: Vec<Value>,
    next_page: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct SearchResponseDto {
    albums: Value,
    assets: SearchAssetResponseDto,
}

impl SearchResponseDto {
    /// A page of assets (these searches find no albums).
    pub(super) fn assets(items: Vec<AssetResponseDto>, next_page: Option<String>) -> Self {
        let count = items.len();
        Self {
            albums: json!({"total": 0, "count": 0, "items": [], "facets": []}),
            assets: SearchAssetResponseDto {
                total: count,
                count,
                items,
                facets: Vec::new(),
                next_page,
            },
        }
    }
}

/// A checksum as the web sends it: base64 (28 characters) or hex.
fn decode_checksum(text: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    if text.len() == 28 {
        return base64::engine::general_purpose::STANDARD.decode(text).ok();
    }
    (0..text.len())
        .step_by(2)
        .map(|i| text.get(i..i + 2).and_then(|pair| u8::from_str_radix(pair, 16).ok()))
        .collect()
}

/// `POST /search/metadata`: assets by their properties, a page at a time, newest first.
pub async fn metadata(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidJson(dto): ValidJson<MetadataSearchDto>,
) -> ApiResult<Json<SearchResponseDto>> {
    let filters = &dto.filters;
    if filters.visibility == Some(AssetVisibility::Locked) {
        access::require_elevated(&auth)?;
    }
    let owners = if !filters.album_ids.is_empty() {
        let albums = uuids(&filters.album_ids);
        for album in albums {
            access::require_album(&state, &auth, Permission::AlbumRead, album).await?;
        }
        None
    } else if auth.shared_link.is_some() {
        return Err(ApiError::bad_request(
            "Shared link access is only allowed in combination with an albumIds filter",
        ));
    } else {
        Some(searched_users(&state, &auth, filters.visibility != Some(AssetVisibility::Locked)).await?)
    };
    let size = filters.size.unwrap_or(250);
    let page = dto.page.unwrap_or(1);
    let mut filter = filters.filter(owners, &auth);
    filter.checksum = dto.checksum.as_deref().and_then(decode_checksum);
    filter.id = dto.id.map(Uuid::from);
    filter.original_file_name = dto
        .original_file_name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string);
    filter.original_path = dto.original_path.clone();
    filter.encoded_video_path = dto.encoded_video_path.clone();
    let order = if dto.order == Some(Order::Asc) {
        SearchOrder::OldestFirst
    } else {
        SearchOrder::NewestFirst
    };
    let empty_checksum = dto.checksum.is_some() && filter.checksum.is_none();
    let mut ids = if empty_checksum {
        Vec::new()
    } else {
        search::find(
            &state.db,
            &filter,
            order,
            None,
            size + 1,
            (page - 1).saturating_mul(size),
        )
        .await?
    };
    let next_page = (ids.len() as i64 > size).then(|| (page + 1).to_string());
    ids.truncate(size as usize);
    let items = dtos(&state, &auth, &ids, filters.with_exif == Some(true)).await?;
    Ok(Json(SearchResponseDto::assets(items, next_page)))
}

#[derive(Debug, Deserialize)]
pub struct FilterOnlyDto {
    #[serde(skip)]
    filters: SearchFilterDto,
}

impl Validate for FilterOnlyDto {
    fn read_parts(&mut self, body: &Value) -> Vec<ValidationIssue> {
        let mut issues = Vec::new();
        self.filters = read_part(body, &mut issues);
        issues
    }
}

async fn filtered_ids(
    state: &AppState,
    auth: &AuthContext,
    filters: &SearchFilterDto,
    order: SearchOrder,
    min_file_size: Option<i64>,
) -> ApiResult<Vec<Uuid>> {
    if filters.visibility == Some(AssetVisibility::Locked) {
        access::require_elevated(auth)?;
    }
    let owners = searched_users(state, auth, filters.visibility != Some(AssetVisibility::Locked)).await?;
    let filter = filters.filter(Some(owners), auth);
    Ok(search::find(&state.db, &filter, order, min_file_size, filters.size.unwrap_or(250), 0).await?)
}

/// `POST /search/random`: a random handful of matching assets.
pub async fn random(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidJson(dto): ValidJson<FilterOnlyDto>,
) -> ApiResult<Json<Vec<AssetResponseDto>>> {
    let ids = filtered_ids(&state, &auth, &dto.filters, SearchOrder::Random, None).await?;
    Ok(Json(
        dtos(&state, &auth, &ids, dto.filters.with_exif == Some(true)).await?,
    ))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LargeAssetsQuery {
    #[serde(skip)]
    filters: SearchFilterDto,
    min_file_size: Option<i64>,
}

impl Validate for LargeAssetsQuery {
    fn read_parts(&mut self, body: &Value) -> Vec<ValidationIssue> {
        let mut issues = Vec::new();
        self.filters = read_part(body, &mut issues);
        issues
    }

    fn validate(&self) -> Vec<ValidationIssue> {
        let mut issues = Vec::new();
        range(&mut issues, "minFileSize", self.min_file_size, 0, i64::MAX);
        issues
    }
}

/// `POST /search/large-assets` (parameters in the query): the biggest files first.
pub async fn large_assets(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidQuery(query): ValidQuery<LargeAssetsQuery>,
) -> ApiResult<Json<Vec<AssetResponseDto>>> {
    let ids = filtered_ids(
        &state,
        &auth,
        &query.filters,
        SearchOrder::Largest,
        Some(query.min_file_size.unwrap_or(0)),
    )
    .await?;
    Ok(Json(dtos(&state, &auth, &ids, true).await?))
}

/// `POST /search/statistics`: how many assets match.
pub async fn statistics(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidJson(dto): ValidJson<FilterOnlyDto>,
) -> ApiResult<Json<Value>> {
    let filters = &dto.filters;
    if filters.visibility == Some(AssetVisibility::Locked) {
        access::require_elevated(&auth)?;
    }
    let owners = searched_users(&state, &auth, true).await?;
    let total = search::count(&state.db, &filters.filter(Some(owners), &auth)).await?;
    Ok(Json(json!({ "total": total })))
}
