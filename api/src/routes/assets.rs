//! `/assets/*`: the owner's view of their photos and videos.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use darkroom_storage::assets::{self, AssetCounts, AssetEdit, AssetVisibility, ExifEdit, StatisticsFilter};
use darkroom_storage::{people, users};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::asset_dto::AssetResponseDto;
use crate::access;
use crate::auth::Auth;
use crate::dto::nullable;
use crate::error::{ApiError, ApiResult, ValidationIssue};
use crate::permission::Permission;
use crate::services::{asset_edits, trash};
use crate::state::AppState;
use crate::validation::{IdPath, ValidJson, ValidQuery, Validate, invalid_uuid, parse_uuid_v4, rules, uuid_list};

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
    IdPath(id): IdPath,
) -> ApiResult<Json<serde_json::Value>> {
    access::require_assets(&state, &auth, Permission::AssetRead, &[id]).await?;
    let asset = assets::get(&state.db, id)
        .await?
        .ok_or_else(|| ApiError::bad_request("Asset not found"))?;
    // Link guests see no owner, and only the basics when the link hides metadata.
    let mut dto = match &auth.shared_link {
        Some(link) if !link.show_exif => return Ok(Json(AssetResponseDto::sanitized(&asset))),
        Some(_) => serde_json::to_value(AssetResponseDto::new(asset, Uuid::nil(), None)).map_err(ApiError::internal)?,
        None => {
            let owner = users::get(&state.db, asset.owner_id, true).await?;
            let people = if asset.owner_id == auth.user.id {
                people::on_asset(&state.db, id).await?
            } else {
                Vec::new()
            };
            let dto = AssetResponseDto::new(asset, auth.user.id, owner.as_ref()).with_people(people);
            serde_json::to_value(dto).map_err(ApiError::internal)?
        }
    };
    dto["tags"] = serde_json::to_value(super::tags::of_asset(&state, id).await?).map_err(ApiError::internal)?;
    Ok(Json(dto))
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
pub async fn delete(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidJson(dto): ValidJson<AssetBulkDeleteDto>,
) -> ApiResult<StatusCode> {
    let ids = uuid_list(&mut Vec::new(), "ids", &dto.ids);
    access::require_assets(&state, &auth, Permission::AssetDelete, &ids).await?;
    trash::remove(&state, auth.user.id, &ids, dto.force).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Fields both the single and the bulk update accept.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssetEditFields {
    is_favorite: Option<bool>,
    visibility: Option<AssetVisibility>,
    date_time_original: Option<String>,
    latitude: Option<f64>,
    longitude: Option<f64>,
    #[serde(default, deserialize_with = "nullable")]
    rating: Option<Option<i64>>,
    description: Option<String>,
}

impl AssetEditFields {
    fn check(&self, issues: &mut Vec<ValidationIssue>) {
        if let Some(latitude) = self.latitude {
            rules::number_between(issues, &["latitude"], latitude, -90.0, 90.0);
        }
        if let Some(longitude) = self.longitude {
            rules::number_between(issues, &["longitude"], longitude, -180.0, 180.0);
        }
        if let Some(Some(rating)) = self.rating {
            if rating == 0 {
                issues.push(ValidationIssue::new(
                    &["rating"],
                    "Rating must be -1 (rejected), 1–5 (starred), or null (unrated); 0 is not valid",
                ));
            } else {
                rules::number_between(issues, &["rating"], rating as f64, -1.0, 5.0);
            }
        }
        if let Some(text) = &self.date_time_original
            && asset_edits::parse_date_time_original(text).is_none()
        {
            issues.push(ValidationIssue::with_code(
                "invalid_format",
                &["dateTimeOriginal"],
                "Invalid input: expected ISO 8601 datetime string, received string",
            ));
        }
        if issues.is_empty() && self.latitude.is_some() != self.longitude.is_some() {
            issues.push(ValidationIssue::new(
                &[],
                "Latitude and longitude must be provided together",
            ));
        }
    }

    fn exif_edit(&self) -> ExifEdit {
        let parsed = self
            .date_time_original
            .as_deref()
            .and_then(asset_edits::parse_date_time_original);
        ExifEdit {
            description: self.description.clone(),
            time_zone: parsed.as_ref().and_then(|(_, zone)| zone.clone()),
            date_time_original: parsed.map(|(date, _)| date),
            shift_minutes: None,
            latitude: self.latitude,
            longitude: self.longitude,
            rating: self.rating.map(|rating| rating.map(|r| r as i32)),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateAssetDto {
    #[serde(flatten)]
    fields: AssetEditFields,
    #[serde(default, deserialize_with = "nullable")]
    live_photo_video_id: Option<Option<String>>,
}

impl Validate for UpdateAssetDto {
    fn validate(&self) -> Vec<ValidationIssue> {
        let mut issues = Vec::new();
        if let Some(Some(id)) = &self.live_photo_video_id
            && parse_uuid_v4(id).is_none()
        {
            issues.push(invalid_uuid(&["livePhotoVideoId"]));
        }
        self.fields.check(&mut issues);
        issues
    }
}

/// `PUT /assets/{id}`: edits one asset and answers with it.
pub async fn update(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath,
    ValidJson(dto): ValidJson<UpdateAssetDto>,
) -> ApiResult<Json<AssetResponseDto>> {
    access::require_assets(&state, &auth, Permission::AssetUpdate, &[id]).await?;
    if let Some(video) = &dto.live_photo_video_id {
        asset_edits::set_live_photo_video(&state, auth.user.id, id, video.as_deref().and_then(parse_uuid_v4)).await?;
    }
    let edit = AssetEdit {
        is_favorite: dto.fields.is_favorite,
        visibility: dto.fields.visibility,
        ..Default::default()
    };
    let exif = dto.fields.exif_edit();
    asset_edits::apply(&state, &[id], &edit, &exif).await?;
    if !exif.is_empty() {
        crate::jobs::edited(&state, &[id]).await;
    }
    let asset = assets::get(&state.db, id)
        .await?
        .ok_or_else(|| ApiError::bad_request("Asset not found"))?;
    let people = people::on_asset(&state.db, id).await?;
    Ok(Json(
        AssetResponseDto::new(asset, auth.user.id, None)
            .without_relations()
            .with_people(people),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssetBulkUpdateDto {
    ids: Vec<String>,
    #[serde(flatten)]
    fields: AssetEditFields,
    #[serde(default, deserialize_with = "nullable")]
    duplicate_id: Option<Option<String>>,
    date_time_relative: Option<i32>,
    time_zone: Option<String>,
}

impl Validate for AssetBulkUpdateDto {
    fn validate(&self) -> Vec<ValidationIssue> {
        let mut issues = Vec::new();
        uuid_list(&mut issues, "ids", &self.ids);
        if let Some(Some(id)) = &self.duplicate_id
            && parse_uuid_v4(id).is_none()
        {
            issues.push(invalid_uuid(&["duplicateId"]));
        }
        self.fields.check(&mut issues);
        if issues.is_empty() && self.date_time_relative.is_some() && self.fields.date_time_original.is_some() {
            issues.push(ValidationIssue::new(
                &[],
                "dateTimeRelative cannot exist alongside dateTimeOriginal",
            ));
        }
        issues
    }
}

/// `PUT /assets`: the same edit for many assets (plus shifting dates and time zones).
pub async fn update_many(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidJson(dto): ValidJson<AssetBulkUpdateDto>,
) -> ApiResult<StatusCode> {
    let ids = uuid_list(&mut Vec::new(), "ids", &dto.ids);
    access::require_assets(&state, &auth, Permission::AssetUpdate, &ids).await?;
    let mut exif = dto.fields.exif_edit();
    exif.shift_minutes = dto.date_time_relative.filter(|&minutes| minutes != 0);
    if dto.time_zone.is_some() {
        exif.time_zone = dto.time_zone.clone();
    }
    let edit = AssetEdit {
        is_favorite: dto.fields.is_favorite,
        visibility: dto.fields.visibility,
        duplicate_id: dto
            .duplicate_id
            .as_ref()
            .map(|id| id.as_deref().and_then(parse_uuid_v4)),
        ..Default::default()
    };
    asset_edits::apply(&state, &ids, &edit, &exif).await?;
    if !exif.is_empty() {
        crate::jobs::edited(&state, &ids).await;
    }
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AssetMetadataResponseDto {
    key: String,
    value: serde_json::Value,
    #[serde(serialize_with = "crate::dto::serialize_iso")]
    updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<assets::MetadataEntry> for AssetMetadataResponseDto {
    fn from(entry: assets::MetadataEntry) -> Self {
        Self {
            key: entry.key,
            value: entry.value,
            updated_at: entry.updated_at,
        }
    }
}

pub async fn get_metadata(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath,
) -> ApiResult<Json<Vec<AssetMetadataResponseDto>>> {
    access::require_assets(&state, &auth, Permission::AssetRead, &[id]).await?;
    Ok(Json(
        assets::metadata(&state.db, id, None)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// `GET /assets/{id}/ocr`: the text recognised in the photo, as the edited picture shows it
/// (an empty list until something has read it).
pub async fn get_ocr(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath,
) -> ApiResult<Json<Vec<super::faces::AssetOcrResponseDto>>> {
    access::require_assets(&state, &auth, Permission::AssetRead, &[id]).await?;
    Ok(Json(super::faces::ocr_of(&state, id).await?))
}

fn metadata_key(params: &std::collections::HashMap<String, String>) -> String {
    params.get("key").cloned().unwrap_or_default()
}

pub async fn get_metadata_key(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath,
    Path(params): Path<std::collections::HashMap<String, String>>,
) -> ApiResult<Json<AssetMetadataResponseDto>> {
    access::require_assets(&state, &auth, Permission::AssetRead, &[id]).await?;
    let key = metadata_key(&params);
    let entry = assets::metadata(&state.db, id, Some(&key)).await?.pop();
    entry.map(|entry| Json(entry.into())).ok_or_else(|| {
        ApiError::bad_request(format!(
            r#"Metadata with key "{key}" not found for asset with id "{id}""#
        ))
    })
}

pub async fn delete_metadata_key(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath,
    Path(params): Path<std::collections::HashMap<String, String>>,
) -> ApiResult<StatusCode> {
    access::require_assets(&state, &auth, Permission::AssetUpdate, &[id]).await?;
    assets::delete_metadata(&state.db, &[(id, metadata_key(&params))]).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
pub struct MetadataItem {
    key: String,
    value: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Deserialize)]
pub struct AssetMetadataUpsertDto {
    items: Vec<MetadataItem>,
}

impl Validate for AssetMetadataUpsertDto {}

fn no_duplicates<'a>(labels: impl Iterator<Item = String> + 'a) -> ApiResult<()> {
    let mut seen = std::collections::HashSet::new();
    for label in labels {
        if !seen.insert(label.clone()) {
            return Err(ApiError::bad_request(format!(
                r#"Duplicate items are not allowed: "{label}""#
            )));
        }
    }
    Ok(())
}

pub async fn upsert_metadata(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath,
    ValidJson(dto): ValidJson<AssetMetadataUpsertDto>,
) -> ApiResult<Json<Vec<AssetMetadataResponseDto>>> {
    access::require_assets(&state, &auth, Permission::AssetUpdate, &[id]).await?;
    no_duplicates(dto.items.iter().map(|item| item.key.clone()))?;
    let items: Vec<_> = dto
        .items
        .into_iter()
        .map(|item| (id, item.key, serde_json::Value::Object(item.value)))
        .collect();
    Ok(Json(
        assets::upsert_metadata(&state.db, &items)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkMetadataItem {
    asset_id: String,
    key: String,
    value: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Debug, Deserialize)]
pub struct AssetMetadataBulkDto {
    items: Vec<BulkMetadataItem>,
}

impl Validate for AssetMetadataBulkDto {
    fn validate(&self) -> Vec<ValidationIssue> {
        let mut issues = Vec::new();
        for (index, item) in self.items.iter().enumerate() {
            if parse_uuid_v4(&item.asset_id).is_none() {
                issues.push(ValidationIssue {
                    code: "invalid_format",
                    path: vec![
                        serde_json::json!("items"),
                        serde_json::json!(index),
                        serde_json::json!("assetId"),
                    ],
                    message: "Invalid UUID".into(),
                });
            }
        }
        issues
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AssetMetadataBulkResponseDto {
    asset_id: Uuid,
    key: String,
    value: serde_json::Value,
    #[serde(serialize_with = "crate::dto::serialize_iso")]
    updated_at: chrono::DateTime<chrono::Utc>,
}

/// Parsed `(assetId, key, value)` of bulk items, after access to every asset is checked.
async fn bulk_items(
    state: &AppState,
    auth: &crate::auth::AuthContext,
    items: Vec<BulkMetadataItem>,
) -> ApiResult<Vec<(Uuid, String, Option<serde_json::Value>)>> {
    let parsed: Vec<_> = items
        .into_iter()
        .filter_map(|item| {
            parse_uuid_v4(&item.asset_id).map(|id| (id, item.key, item.value.map(serde_json::Value::Object)))
        })
        .collect();
    let ids: Vec<Uuid> = parsed.iter().map(|(id, _, _)| *id).collect();
    access::require_assets(state, auth, Permission::AssetUpdate, &ids).await?;
    no_duplicates(parsed.iter().map(|(id, key, _)| format!("({id}, {key})")))?;
    Ok(parsed)
}

pub async fn upsert_metadata_bulk(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidJson(dto): ValidJson<AssetMetadataBulkDto>,
) -> ApiResult<Json<Vec<AssetMetadataBulkResponseDto>>> {
    if let Some(index) = dto.items.iter().position(|item| item.value.is_none()) {
        return Err(ApiError::Validation(vec![ValidationIssue {
            code: "invalid_type",
            path: vec![
                serde_json::json!("items"),
                serde_json::json!(index),
                serde_json::json!("value"),
            ],
            message: "Invalid input: expected record, received undefined".into(),
        }]));
    }
    let items: Vec<_> = bulk_items(&state, &auth, dto.items)
        .await?
        .into_iter()
        .map(|(id, key, value)| (id, key, value.unwrap_or_default()))
        .collect();
    let rows = assets::upsert_metadata(&state.db, &items).await?;
    Ok(Json(
        rows.into_iter()
            .map(|row| AssetMetadataBulkResponseDto {
                asset_id: row.asset_id,
                key: row.key,
                value: row.value,
                updated_at: row.updated_at,
            })
            .collect(),
    ))
}

pub async fn delete_metadata_bulk(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidJson(dto): ValidJson<AssetMetadataBulkDto>,
) -> ApiResult<StatusCode> {
    let items: Vec<_> = bulk_items(&state, &auth, dto.items)
        .await?
        .into_iter()
        .map(|(id, key, _)| (id, key))
        .collect();
    assets::delete_metadata(&state.db, &items).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssetCopyDto {
    source_id: String,
    target_id: String,
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

impl Validate for AssetCopyDto {
    fn validate(&self) -> Vec<ValidationIssue> {
        let mut issues = Vec::new();
        for (field, value) in [("sourceId", &self.source_id), ("targetId", &self.target_id)] {
            if parse_uuid_v4(value).is_none() {
                issues.push(invalid_uuid(&[field]));
            }
        }
        issues
    }
}

/// `PUT /assets/copy`: gives `targetId` the albums, stack, favourite and sidecar of `sourceId`
/// (e.g. when an edited copy replaces the original).
pub async fn copy(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidJson(dto): ValidJson<AssetCopyDto>,
) -> ApiResult<StatusCode> {
    let (Some(source), Some(target)) = (parse_uuid_v4(&dto.source_id), parse_uuid_v4(&dto.target_id)) else {
        return Err(ApiError::bad_request("Both assets must exist"));
    };
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
