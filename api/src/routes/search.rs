//! `/search/*` by metadata: paged search, random picks, counts, large files, suggestions for
//! the search form, and the explore page's places.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use darkroom_storage::assets::{self, AssetVisibility};
use darkroom_storage::partners;
use darkroom_storage::search::{self, SearchFilter, SearchOrder, SuggestionContext, SuggestionField};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::access;
use crate::auth::{Auth, AuthContext};
use crate::dto::nullable;
use crate::error::{ApiError, ApiResult, ValidationIssue};
use crate::permission::Permission;
use crate::routes::asset_dto::AssetResponseDto;
use crate::state::AppState;
use crate::validation::{ValidJson, ValidQuery, Validate, optional_uuid, uuid_list};

/// The filters every search shares (Immich's `BaseSearchDto`).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchFilterDto {
    #[serde(default)]
    album_ids: Vec<String>,
    #[serde(default)]
    person_ids: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    tag_ids: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "nullable")]
    city: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    state: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    country: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    make: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    model: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    lens_model: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    rating: Option<Option<i64>>,
    created_after: Option<String>,
    created_before: Option<String>,
    updated_after: Option<String>,
    updated_before: Option<String>,
    trashed_after: Option<String>,
    trashed_before: Option<String>,
    taken_after: Option<String>,
    taken_before: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    library_id: Option<Option<String>>,
    #[serde(rename = "type")]
    asset_type: Option<AssetTypeFilter>,
    visibility: Option<AssetVisibility>,
    is_favorite: Option<bool>,
    is_offline: Option<bool>,
    is_encoded: Option<bool>,
    is_motion: Option<bool>,
    is_not_in_album: Option<bool>,
    with_deleted: Option<bool>,
    with_stacked: Option<bool>,
    with_exif: Option<bool>,
    ocr: Option<String>,
    description: Option<String>,
    size: Option<i64>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
pub enum AssetTypeFilter {
    #[serde(rename = "IMAGE")]
    Image,
    #[serde(rename = "VIDEO")]
    Video,
    #[serde(rename = "AUDIO")]
    Audio,
    #[serde(rename = "OTHER")]
    Other,
}

fn date(issues: &mut Vec<ValidationIssue>, field: &str, value: &Option<String>) -> Option<DateTime<Utc>> {
    let text = value.as_deref()?;
    match DateTime::parse_from_rfc3339(text) {
        Ok(date) => Some(date.with_timezone(&Utc)),
        Err(_) => {
            issues.push(ValidationIssue::with_code(
                "invalid_format",
                &[field],
                "Invalid input: expected ISO 8601 datetime string, received string",
            ));
            None
        }
    }
}

fn range(issues: &mut Vec<ValidationIssue>, field: &str, value: Option<i64>, min: i64, max: i64) {
    match value {
        Some(v) if v < min => issues.push(ValidationIssue::with_code(
            "too_small",
            &[field],
            format!("Too small: expected number to be >={min}"),
        )),
        Some(v) if v > max => issues.push(ValidationIssue::with_code(
            "too_big",
            &[field],
            format!("Too big: expected number to be <={max}"),
        )),
        _ => {}
    }
}

impl SearchFilterDto {
    fn check(&self, issues: &mut Vec<ValidationIssue>) {
        uuid_list(issues, "albumIds", &self.album_ids);
        uuid_list(issues, "personIds", &self.person_ids);
        if let Some(Some(tags)) = &self.tag_ids {
            uuid_list(issues, "tagIds", tags);
        }
        optional_uuid(issues, "libraryId", &self.library_id.clone().flatten());
        for (field, value) in [
            ("createdAfter", &self.created_after),
            ("createdBefore", &self.created_before),
            ("updatedAfter", &self.updated_after),
            ("updatedBefore", &self.updated_before),
            ("trashedAfter", &self.trashed_after),
            ("trashedBefore", &self.trashed_before),
            ("takenAfter", &self.taken_after),
            ("takenBefore", &self.taken_before),
        ] {
            date(issues, field, value);
        }
        range(issues, "rating", self.rating.flatten(), 1, 5);
        range(issues, "size", self.size, 1, 1000);
    }

    /// The storage filter for `owners` (none: anyone's, after an album check).
    fn filter(&self, owners: Option<Vec<Uuid>>, auth: &AuthContext) -> SearchFilter {
        let mut ignored = Vec::new();
        let text = |value: &Option<Option<String>>| value.clone();
        let trashed_after = date(&mut ignored, "", &self.trashed_after);
        let trashed_before = date(&mut ignored, "", &self.trashed_before);
        let visibility = match self.visibility {
            Some(visibility) => visibility.as_str(),
            // Locked assets only in a session unlocked with the PIN code.
            None if auth.session.as_ref().is_some_and(|s| s.has_elevated_permission) => "any",
            None => "not-locked",
        };
        SearchFilter {
            owners,
            album_ids: uuid_list(&mut ignored, "", &self.album_ids),
            visibility: visibility.to_string(),
            with_deleted: self.with_deleted == Some(true)
                || trashed_after.is_some()
                || trashed_before.is_some()
                || self.is_offline == Some(true),
            created_after: date(&mut ignored, "", &self.created_after),
            created_before: date(&mut ignored, "", &self.created_before),
            updated_after: date(&mut ignored, "", &self.updated_after),
            updated_before: date(&mut ignored, "", &self.updated_before),
            trashed_after,
            trashed_before,
            taken_after: date(&mut ignored, "", &self.taken_after),
            taken_before: date(&mut ignored, "", &self.taken_before),
            city: text(&self.city),
            state: text(&self.state),
            country: text(&self.country),
            make: text(&self.make),
            model: text(&self.model),
            lens_model: text(&self.lens_model),
            rating: self.rating.map(|r| r.map(|r| r as i32)),
            library_id: self
                .library_id
                .clone()
                .flatten()
                .and_then(|id| crate::validation::parse_uuid_v4(&id)),
            description: self
                .description
                .as_deref()
                .map(str::trim)
                .filter(|d| !d.is_empty())
                .map(str::to_string),
            asset_type: self
                .asset_type
                .map(|t| match t {
                    AssetTypeFilter::Image => "IMAGE",
                    AssetTypeFilter::Video => "VIDEO",
                    AssetTypeFilter::Audio => "AUDIO",
                    AssetTypeFilter::Other => "OTHER",
                })
                .map(str::to_string),
            is_favorite: self.is_favorite,
            is_offline: self.is_offline,
            is_encoded: self.is_encoded,
            is_motion: self.is_motion,
            is_not_in_album: self.is_not_in_album == Some(true) && self.album_ids.is_empty(),
            without_stacked: self.with_stacked == Some(false),
            requires_exif: self.with_exif == Some(true),
            tag_ids: match &self.tag_ids {
                Some(Some(tags)) if tags.is_empty() => None,
                Some(Some(tags)) => Some(uuid_list(&mut ignored, "", tags)),
                Some(None) => Some(Vec::new()),
                None => None,
            },
            ..SearchFilter::default()
        }
    }

    /// Filters on things this version does not have (people, recognised text) match nothing.
    fn matches_nothing(&self) -> bool {
        !self.person_ids.is_empty() || self.ocr.as_deref().is_some_and(|o| !o.trim().is_empty())
    }
}

/// The caller and the partners whose photos they show in their timeline (only the caller for
/// locked assets).
async fn searched_users(state: &AppState, auth: &AuthContext, include_partners: bool) -> ApiResult<Vec<Uuid>> {
    let mut users = vec![auth.user.id];
    if include_partners {
        users.extend(
            partners::list(&state.db, auth.user.id, false)
                .await?
                .into_iter()
                .filter(|p| p.in_timeline)
                .map(|p| p.user_id),
        );
    }
    Ok(users)
}

async fn dtos(state: &AppState, auth: &AuthContext, ids: &[Uuid], with_exif: bool) -> ApiResult<Vec<AssetResponseDto>> {
    let found = assets::get_many(&state.db, ids).await?;
    Ok(found
        .into_iter()
        .map(|mut asset| {
            if !with_exif {
                asset.exif = None;
            }
            AssetResponseDto::new(asset, auth.user.id, None)
        })
        .collect())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetadataSearchDto {
    #[serde(flatten)]
    filters: SearchFilterDto,
    id: Option<String>,
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
    fn validate(&self) -> Vec<ValidationIssue> {
        let mut issues = Vec::new();
        self.filters.check(&mut issues);
        optional_uuid(&mut issues, "id", &self.id);
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
        let albums = uuid_list(&mut Vec::new(), "albumIds", &filters.album_ids);
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
    filter.id = dto.id.as_deref().and_then(crate::validation::parse_uuid_v4);
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
    let mut ids = if filters.matches_nothing() || empty_checksum {
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
    let count = items.len();
    Ok(Json(SearchResponseDto {
        albums: json!({"total": 0, "count": 0, "items": [], "facets": []}),
        assets: SearchAssetResponseDto {
            total: count,
            count,
            items,
            facets: Vec::new(),
            next_page,
        },
    }))
}

#[derive(Debug, Deserialize)]
pub struct FilterOnlyDto {
    #[serde(flatten)]
    filters: SearchFilterDto,
}

impl Validate for FilterOnlyDto {
    fn validate(&self) -> Vec<ValidationIssue> {
        let mut issues = Vec::new();
        self.filters.check(&mut issues);
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
    if filters.matches_nothing() {
        return Ok(Vec::new());
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
    #[serde(flatten)]
    filters: SearchFilterDto,
    min_file_size: Option<i64>,
}

impl Validate for LargeAssetsQuery {
    fn validate(&self) -> Vec<ValidationIssue> {
        let mut issues = Vec::new();
        self.filters.check(&mut issues);
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
    let total = if filters.matches_nothing() {
        0
    } else {
        let owners = searched_users(&state, &auth, true).await?;
        search::count(&state.db, &filters.filter(Some(owners), &auth)).await?
    };
    Ok(Json(json!({ "total": total })))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SuggestionsQuery {
    #[serde(rename = "type")]
    kind: SuggestionType,
    country: Option<String>,
    state: Option<String>,
    make: Option<String>,
    model: Option<String>,
    lens_model: Option<String>,
    include_null: Option<bool>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SuggestionType {
    Country,
    State,
    City,
    CameraMake,
    CameraModel,
    CameraLensModel,
}

impl Validate for SuggestionsQuery {}

/// `GET /search/suggestions?type=…`: values for the search form's fields.
pub async fn suggestions(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidQuery(query): ValidQuery<SuggestionsQuery>,
) -> ApiResult<Json<Vec<Option<String>>>> {
    let field = match query.kind {
        SuggestionType::Country => SuggestionField::Country,
        SuggestionType::State => SuggestionField::State,
        SuggestionType::City => SuggestionField::City,
        SuggestionType::CameraMake => SuggestionField::Make,
        SuggestionType::CameraModel => SuggestionField::Model,
        SuggestionType::CameraLensModel => SuggestionField::LensModel,
    };
    let given = |value: &Option<String>| value.clone().filter(|v| !v.is_empty());
    let context = SuggestionContext {
        country: given(&query.country),
        state: given(&query.state),
        make: given(&query.make),
        model: given(&query.model),
        lens_model: given(&query.lens_model),
    };
    let users = searched_users(&state, &auth, true).await?;
    let mut values: Vec<Option<String>> = search::suggestions(&state.db, &users, field, &context)
        .await?
        .into_iter()
        .map(Some)
        .collect();
    if query.include_null == Some(true) {
        values.push(None);
    }
    Ok(Json(values))
}

/// `GET /search/cities`: one photo for each city in the caller's (and partners') timeline.
pub async fn cities(State(state): State<AppState>, Auth(auth): Auth) -> ApiResult<Json<Vec<AssetResponseDto>>> {
    let users = searched_users(&state, &auth, true).await?;
    let ids: Vec<Uuid> = search::one_per_city(&state.db, &users, 1, i64::MAX)
        .await?
        .into_iter()
        .map(|(_, id)| id)
        .collect();
    let mut items = dtos(&state, &auth, &ids, true).await?;
    // Immich shows these without the viewer's favourites.
    for item in &mut items {
        item.clear_favorite();
    }
    Ok(Json(items))
}

/// `GET /search/explore`: places with photos, and the latest photos.
pub async fn explore(State(state): State<AppState>, Auth(auth): Auth) -> ApiResult<Json<Value>> {
    let places = search::one_per_city(&state.db, &[auth.user.id], 5, 12).await?;
    let ids: Vec<Uuid> = places.iter().map(|(_, id)| *id).collect();
    let place_dtos = dtos(&state, &auth, &ids, true).await?;
    let places: Vec<Value> = places
        .iter()
        .zip(place_dtos)
        .map(|((city, _), data)| json!({ "value": city, "data": data }))
        .collect();
    let recent = search::recent_images(&state.db, auth.user.id, 12).await?;
    let recent_dtos = dtos(&state, &auth, &recent, true).await?;
    let recent: Vec<Value> = recent_dtos
        .into_iter()
        .map(|data| json!({ "value": data.created_at_iso(), "data": data }))
        .collect();
    Ok(Json(json!([
        { "fieldName": "exifInfo.city", "items": places },
        { "fieldName": "createdAt", "items": recent },
    ])))
}

#[derive(Debug, Deserialize)]
pub struct SearchPlacesQuery {
    name: Option<Value>,
}

/// A text parameter as typed (queries turn digits and `true` into JSON values; they are text
/// here).
fn text_query(value: &Option<Value>) -> Option<String> {
    match value.as_ref()? {
        Value::String(text) => Some(text.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// zod's required `name: z.string()`.
fn required_name(name: &Option<Value>) -> Vec<ValidationIssue> {
    match text_query(name) {
        Some(_) => Vec::new(),
        None => vec![ValidationIssue::with_code(
            "invalid_type",
            &["name"],
            "Invalid input: expected string, received undefined",
        )],
    }
}

impl Validate for SearchPlacesQuery {
    fn validate(&self) -> Vec<ValidationIssue> {
        required_name(&self.name)
    }
}

#[derive(Debug, Serialize)]
pub struct PlacesResponseDto {
    name: String,
    latitude: f64,
    longitude: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    admin1name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    admin2name: Option<String>,
}

/// `GET /search/places`: up to 20 places of the geodata whose names resemble the one asked for.
pub async fn places(
    State(state): State<AppState>,
    Auth(_): Auth,
    ValidQuery(query): ValidQuery<SearchPlacesQuery>,
) -> ApiResult<Json<Vec<PlacesResponseDto>>> {
    let places = darkroom_storage::geodata::search(&state.db, &text_query(&query.name).unwrap_or_default()).await?;
    Ok(Json(
        places
            .into_iter()
            .map(|place| PlacesResponseDto {
                name: place.name,
                latitude: place.latitude,
                longitude: place.longitude,
                admin1name: place.admin1_name,
                admin2name: place.admin2_name,
            })
            .collect(),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchPeopleQuery {
    name: Option<Value>,
    with_hidden: Option<bool>,
}

impl Validate for SearchPeopleQuery {
    fn validate(&self) -> Vec<ValidationIssue> {
        required_name(&self.name)
    }
}

/// `GET /search/person`: the caller's people by name.
pub async fn person(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidQuery(query): ValidQuery<SearchPeopleQuery>,
) -> ApiResult<Json<Vec<super::people::PersonResponseDto>>> {
    let name = text_query(&query.name).unwrap_or_default();
    let people =
        darkroom_storage::people::search_by_name(&state.db, auth.user.id, &name, query.with_hidden.unwrap_or(false))
            .await?;
    Ok(Json(people.into_iter().map(Into::into).collect()))
}
