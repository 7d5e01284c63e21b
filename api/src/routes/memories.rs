//! `/memories`: "on this day" and other collections the app shows on top of the timeline.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use darkroom_storage::assets;
use darkroom_storage::memories::{self, Memory, MemoryFilter, NewMemory};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::access;
use crate::auth::{Auth, AuthContext};
use crate::dto::asset::AssetResponseDto;
use crate::dto::ids::{AssetId, MemoryId, uuids};
use crate::dto::{BulkIdResponseDto, BulkIdsDto, bulk_add, bulk_remove, serialize_iso, serialize_iso_opt};
use crate::error::{ApiError, ApiResult, ValidationIssue};
use crate::permission::Permission;
use crate::state::AppState;
use crate::validation::{IdPath, ValidJson, ValidQuery, Validate};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MemoryResponseDto {
    id: Uuid,
    #[serde(serialize_with = "serialize_iso")]
    created_at: DateTime<Utc>,
    #[serde(serialize_with = "serialize_iso")]
    updated_at: DateTime<Utc>,
    #[serde(serialize_with = "serialize_iso_opt", skip_serializing_if = "Option::is_none")]
    deleted_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "serialize_iso")]
    memory_at: DateTime<Utc>,
    #[serde(serialize_with = "serialize_iso_opt", skip_serializing_if = "Option::is_none")]
    seen_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "serialize_iso_opt", skip_serializing_if = "Option::is_none")]
    show_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "serialize_iso_opt", skip_serializing_if = "Option::is_none")]
    hide_at: Option<DateTime<Utc>>,
    owner_id: Uuid,
    #[serde(rename = "type")]
    memory_type: String,
    data: Value,
    is_saved: bool,
    assets: Vec<AssetResponseDto>,
}

async fn dto(state: &AppState, auth: &AuthContext, memory: Memory) -> ApiResult<MemoryResponseDto> {
    let ids = memories::asset_ids(&state.db, memory.id).await?;
    let assets = assets::get_many(&state.db, &ids)
        .await?
        .into_iter()
        .map(|a| AssetResponseDto::new(a, auth.user.id, None))
        .collect();
    Ok(MemoryResponseDto {
        id: memory.id,
        created_at: memory.created_at,
        updated_at: memory.updated_at,
        deleted_at: memory.deleted_at,
        memory_at: memory.memory_at,
        seen_at: memory.seen_at,
        show_at: memory.show_at,
        hide_at: memory.hide_at,
        owner_id: memory.owner_id,
        memory_type: memory.memory_type,
        data: memory.data,
        is_saved: memory.is_saved,
        assets,
    })
}

/// Only the owner sees or changes a memory, and not once it is deleted.
async fn find(state: &AppState, auth: &AuthContext, permission: Permission, id: MemoryId) -> ApiResult<Memory> {
    if memories::owned(&state.db, auth.user.id, &[id.0]).await?.is_empty() {
        return Err(access::denied(permission));
    }
    memories::get(&state.db, id.0)
        .await?
        .ok_or_else(|| access::denied(permission))
}

fn date(issues: &mut Vec<ValidationIssue>, field: &str, value: &Option<String>) -> Option<DateTime<Utc>> {
    let text = value.as_deref()?;
    let parsed = DateTime::parse_from_rfc3339(text)
        .map(|d| d.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|d| d.and_utc())
        });
    if parsed.is_none() {
        issues.push(ValidationIssue::with_code(
            "invalid_format",
            &[field],
            "Invalid input: expected ISO 8601 datetime string, received string",
        ));
    }
    parsed
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MemoryOrder {
    Asc,
    Desc,
    Random,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum MemoryType {
    #[serde(rename = "on_this_day")]
    OnThisDay,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MemorySearchQuery {
    #[serde(rename = "for")]
    shown_on: Option<String>,
    is_saved: Option<bool>,
    is_trashed: Option<bool>,
    #[serde(rename = "type")]
    memory_type: Option<MemoryType>,
    order: Option<MemoryOrder>,
    size: Option<i64>,
}

impl Validate for MemorySearchQuery {
    fn validate(&self) -> Vec<ValidationIssue> {
        let mut issues = Vec::new();
        date(&mut issues, "for", &self.shown_on);
        if self.size.is_some_and(|s| s < 1) {
            issues.push(ValidationIssue::with_code(
                "too_small",
                &["size"],
                "Too small: expected number to be >=1",
            ));
        }
        issues
    }
}

impl MemorySearchQuery {
    fn filter(&self) -> MemoryFilter {
        MemoryFilter {
            shown_at: date(&mut Vec::new(), "for", &self.shown_on),
            trashed: self.is_trashed == Some(true),
            is_saved: self.is_saved,
            memory_type: self.memory_type.map(|_| "on_this_day".to_string()),
            order: match self.order {
                Some(MemoryOrder::Asc) => "asc",
                Some(MemoryOrder::Random) => "random",
                _ => "desc",
            }
            .to_string(),
            limit: self.size,
        }
    }
}

/// `GET /memories`: the caller's memories (those with something to show).
pub async fn search(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidQuery(query): ValidQuery<MemorySearchQuery>,
) -> ApiResult<Json<Vec<MemoryResponseDto>>> {
    let mut all = Vec::new();
    for memory in memories::list(&state.db, auth.user.id, &query.filter()).await? {
        let memory = dto(&state, &auth, memory).await?;
        if !memory.assets.is_empty() {
            all.push(memory);
        }
    }
    Ok(Json(all))
}

/// `GET /memories/statistics`: how many.
pub async fn statistics(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidQuery(query): ValidQuery<MemorySearchQuery>,
) -> ApiResult<Json<Value>> {
    let filter = MemoryFilter {
        limit: None,
        ..query.filter()
    };
    Ok(Json(
        json!({ "total": memories::list(&state.db, auth.user.id, &filter).await?.len() }),
    ))
}

#[derive(Debug, Deserialize)]
pub struct MemoryData {
    year: i64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MemoryCreateDto {
    #[serde(rename = "type")]
    memory_type: MemoryType,
    data: MemoryData,
    memory_at: String,
    #[serde(default)]
    asset_ids: Vec<AssetId>,
    is_saved: Option<bool>,
    seen_at: Option<String>,
    show_at: Option<String>,
    hide_at: Option<String>,
}

impl Validate for MemoryCreateDto {
    fn validate(&self) -> Vec<ValidationIssue> {
        let mut issues = Vec::new();
        if !(1000..=9999).contains(&self.data.year) {
            issues.push(ValidationIssue::with_code(
                "too_big",
                &["data", "year"],
                "year must be between 1000 and 9999",
            ));
        }
        date(&mut issues, "memoryAt", &Some(self.memory_at.clone()));
        for (field, value) in [
            ("seenAt", &self.seen_at),
            ("showAt", &self.show_at),
            ("hideAt", &self.hide_at),
        ] {
            date(&mut issues, field, value);
        }
        issues
    }
}

/// `POST /memories`: assets the caller may not share are left out.
pub async fn create(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidJson(body): ValidJson<MemoryCreateDto>,
) -> ApiResult<(StatusCode, Json<MemoryResponseDto>)> {
    let wanted = uuids(&body.asset_ids);
    let asset_ids = access::allowed_assets(&state, &auth, Permission::AssetShare, &wanted).await?;
    let ignored = &mut Vec::new();
    let memory = NewMemory {
        owner_id: auth.user.id,
        memory_type: match body.memory_type {
            MemoryType::OnThisDay => "on_this_day".into(),
        },
        data: json!({ "year": body.data.year }),
        memory_at: date(ignored, "", &Some(body.memory_at.clone())).unwrap_or_else(Utc::now),
        is_saved: body.is_saved.unwrap_or(false),
        seen_at: date(ignored, "", &body.seen_at),
        show_at: date(ignored, "", &body.show_at),
        hide_at: date(ignored, "", &body.hide_at),
        asset_ids,
    };
    let id = memories::create(&state.db, &memory).await?;
    let created = memories::get(&state.db, id)
        .await?
        .ok_or_else(|| ApiError::internal("the new memory is gone"))?;
    Ok((StatusCode::CREATED, Json(dto(&state, &auth, created).await?)))
}

/// `GET /memories/{id}`.
pub async fn get(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<MemoryId>,
) -> ApiResult<Json<MemoryResponseDto>> {
    let memory = find(&state, &auth, Permission::MemoryRead, id).await?;
    Ok(Json(dto(&state, &auth, memory).await?))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MemoryUpdateDto {
    is_saved: Option<bool>,
    seen_at: Option<String>,
    memory_at: Option<String>,
}

impl Validate for MemoryUpdateDto {
    fn validate(&self) -> Vec<ValidationIssue> {
        let mut issues = Vec::new();
        date(&mut issues, "seenAt", &self.seen_at);
        date(&mut issues, "memoryAt", &self.memory_at);
        issues
    }
}

/// `PUT /memories/{id}`: saved, seen, or moved in time.
pub async fn update(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<MemoryId>,
    ValidJson(body): ValidJson<MemoryUpdateDto>,
) -> ApiResult<Json<MemoryResponseDto>> {
    find(&state, &auth, Permission::MemoryUpdate, id).await?;
    let ignored = &mut Vec::new();
    memories::update(
        &state.db,
        id.0,
        body.is_saved,
        date(ignored, "", &body.seen_at),
        date(ignored, "", &body.memory_at),
    )
    .await?;
    let memory = find(&state, &auth, Permission::MemoryUpdate, id).await?;
    Ok(Json(dto(&state, &auth, memory).await?))
}

/// `DELETE /memories/{id}`.
pub async fn delete(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<MemoryId>,
) -> ApiResult<StatusCode> {
    find(&state, &auth, Permission::MemoryDelete, id).await?;
    memories::delete(&state.db, id.0).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /memories/{id}/assets {ids}`.
pub async fn add_assets(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<MemoryId>,
    ValidJson(body): ValidJson<BulkIdsDto>,
) -> ApiResult<Json<Vec<BulkIdResponseDto>>> {
    find(&state, &auth, Permission::MemoryRead, id).await?;
    let ids = body.ids();
    let present = memories::contains(&state.db, id.0, &ids).await?;
    let allowed = access::allowed_assets(&state, &auth, Permission::AssetShare, &ids).await?;
    let (results, added) = bulk_add(ids, &present, &allowed);
    memories::change_assets(&state.db, id.0, &added, &[]).await?;
    Ok(Json(results))
}

/// `DELETE /memories/{id}/assets {ids}`.
pub async fn remove_assets(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<MemoryId>,
    ValidJson(body): ValidJson<BulkIdsDto>,
) -> ApiResult<Json<Vec<BulkIdResponseDto>>> {
    find(&state, &auth, Permission::MemoryUpdate, id).await?;
    let ids = body.ids();
    let present = memories::contains(&state.db, id.0, &ids).await?;
    let (results, removed) = bulk_remove(ids, &present);
    memories::change_assets(&state.db, id.0, &[], &removed).await?;
    Ok(Json(results))
}
