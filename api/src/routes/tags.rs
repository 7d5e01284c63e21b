//! `/tags`: a hierarchy of tags per user (`a/b/c`), on assets.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use darkroom_storage::tags::{self, Tag};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::access;
use crate::auth::{Auth, AuthContext};
use crate::dto::ids::{AssetId, TagId, uuids};
use crate::dto::{BulkIdResponseDto, BulkIdsDto, bulk_add, bulk_remove, nullable, serialize_iso};
use crate::error::{ApiError, ApiResult, ValidationIssue};
use crate::permission::Permission;
use crate::state::AppState;
use crate::validation::{IdPath, ValidJson, Validate};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TagResponseDto {
    id: Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent_id: Option<Uuid>,
    name: String,
    value: String,
    #[serde(serialize_with = "serialize_iso")]
    created_at: chrono::DateTime<chrono::Utc>,
    #[serde(serialize_with = "serialize_iso")]
    updated_at: chrono::DateTime<chrono::Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    color: Option<String>,
}

impl From<Tag> for TagResponseDto {
    fn from(tag: Tag) -> Self {
        let name = tag.value.rsplit('/').next().unwrap_or_default().to_string();
        Self {
            id: tag.id,
            parent_id: tag.parent_id,
            name,
            value: tag.value,
            created_at: tag.created_at,
            updated_at: tag.updated_at,
            color: tag.color,
        }
    }
}

/// The tags directly on an asset, as its response lists them.
pub async fn of_asset(state: &AppState, asset: AssetId) -> ApiResult<Vec<TagResponseDto>> {
    Ok(tags::of_assets(&state.db, &[asset.0])
        .await?
        .into_iter()
        .map(|(_, tag)| tag.into())
        .collect())
}

/// `#abc`, `#abcd`, `#aabbcc` or `#aabbccdd` (the `#` may be left out).
fn hex_color(raw: &str) -> Option<String> {
    let digits = raw.strip_prefix('#').unwrap_or(raw);
    (matches!(digits.len(), 3 | 4 | 6 | 8) && digits.chars().all(|c| c.is_ascii_hexdigit()))
        .then(|| format!("#{digits}"))
}

fn check_color(issues: &mut Vec<ValidationIssue>, color: &Option<Option<String>>) {
    if let Some(Some(color)) = color
        && hex_color(color).is_none()
    {
        issues.push(ValidationIssue::with_code(
            "invalid_format",
            &["color"],
            "Invalid hex color",
        ));
    }
}

/// Only the owner may see or use a tag.
async fn require_tags(state: &AppState, auth: &AuthContext, permission: Permission, ids: &[Uuid]) -> ApiResult<()> {
    let owned = tags::owned(&state.db, auth.user.id, ids).await?;
    if ids.iter().all(|id| owned.contains(id)) {
        Ok(())
    } else {
        Err(access::denied(permission))
    }
}

async fn find(state: &AppState, auth: &AuthContext, permission: Permission, id: TagId) -> ApiResult<Tag> {
    require_tags(state, auth, permission, &[id.0]).await?;
    tags::get(&state.db, id.0)
        .await?
        .ok_or_else(|| ApiError::bad_request("Tag not found"))
}

/// `GET /tags`: all of the caller's tags, by path.
pub async fn list(State(state): State<AppState>, Auth(auth): Auth) -> ApiResult<Json<Vec<TagResponseDto>>> {
    Ok(Json(
        tags::list(&state.db, auth.user.id)
            .await?
            .into_iter()
            .map(TagResponseDto::from)
            .collect(),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TagCreateDto {
    name: String,
    #[serde(default, deserialize_with = "nullable")]
    parent_id: Option<Option<TagId>>,
    #[serde(default, deserialize_with = "nullable")]
    color: Option<Option<String>>,
}

impl Validate for TagCreateDto {
    fn validate(&self) -> Vec<ValidationIssue> {
        let mut issues = Vec::new();
        if self.name.trim().is_empty() {
            issues.push(ValidationIssue::with_code(
                "too_small",
                &["name"],
                "Too small: expected string to have >=1 characters",
            ));
        }
        check_color(&mut issues, &self.color);
        issues
    }
}

/// `POST /tags {name, parentId?, color?}`.
pub async fn create(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidJson(body): ValidJson<TagCreateDto>,
) -> ApiResult<(StatusCode, Json<TagResponseDto>)> {
    let parent = match body.parent_id.flatten() {
        Some(id) => Some(find(&state, &auth, Permission::TagRead, id).await?),
        None => None,
    };
    let value = match &parent {
        Some(parent) => format!("{}/{}", parent.value, body.name),
        None => body.name.clone(),
    };
    let color = body.color.flatten().as_deref().and_then(hex_color);
    let created = tags::create(&state.db, auth.user.id, &value, color.as_deref(), parent.map(|p| p.id))
        .await?
        .ok_or_else(|| ApiError::bad_request("A tag with that name already exists"))?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

#[derive(Debug, Deserialize)]
pub struct TagUpsertDto {
    tags: Vec<String>,
}

impl Validate for TagUpsertDto {}

/// `PUT /tags {tags: ["a/b/c", …]}`: the tags at these paths, made with every level above.
pub async fn upsert(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidJson(body): ValidJson<TagUpsertDto>,
) -> ApiResult<Json<Vec<TagResponseDto>>> {
    let mut seen = Vec::new();
    let mut leaves = Vec::new();
    for path in body.tags {
        if seen.contains(&path) {
            continue;
        }
        if let Some(tag) = tags::upsert_path(&state.db, auth.user.id, &path).await? {
            leaves.push(TagResponseDto::from(tag));
        }
        seen.push(path);
    }
    Ok(Json(leaves))
}

/// `GET /tags/{id}`.
pub async fn get(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<TagId>,
) -> ApiResult<Json<TagResponseDto>> {
    Ok(Json(find(&state, &auth, Permission::TagRead, id).await?.into()))
}

#[derive(Debug, Deserialize)]
pub struct TagUpdateDto {
    #[serde(default, deserialize_with = "nullable")]
    color: Option<Option<String>>,
}

impl Validate for TagUpdateDto {
    fn validate(&self) -> Vec<ValidationIssue> {
        let mut issues = Vec::new();
        check_color(&mut issues, &self.color);
        issues
    }
}

/// `PUT /tags/{id} {color}`.
pub async fn update(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<TagId>,
    ValidJson(body): ValidJson<TagUpdateDto>,
) -> ApiResult<Json<TagResponseDto>> {
    find(&state, &auth, Permission::TagUpdate, id).await?;
    if let Some(color) = body.color {
        tags::set_color(&state.db, id.0, color.as_deref().and_then(hex_color).as_deref()).await?;
    }
    Ok(Json(find(&state, &auth, Permission::TagUpdate, id).await?.into()))
}

/// `DELETE /tags/{id}`: the tag and every tag below it.
pub async fn delete(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<TagId>,
) -> ApiResult<StatusCode> {
    find(&state, &auth, Permission::TagDelete, id).await?;
    tags::delete(&state.db, id.0).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TagBulkAssetsDto {
    tag_ids: Vec<TagId>,
    asset_ids: Vec<AssetId>,
}

impl Validate for TagBulkAssetsDto {}

/// `PUT /tags/assets {tagIds, assetIds}`: every tag on every asset (ones the caller may not
/// use are left out); answers how many pairs are new.
pub async fn tag_many(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidJson(body): ValidJson<TagBulkAssetsDto>,
) -> ApiResult<Json<serde_json::Value>> {
    let tag_ids = tags::owned(&state.db, auth.user.id, &uuids(&body.tag_ids)).await?;
    let asset_ids = access::allowed_assets(&state, &auth, Permission::AssetUpdate, &uuids(&body.asset_ids)).await?;
    let count = tags::tag_assets(&state.db, &tag_ids, &asset_ids).await?;
    Ok(Json(json!({ "count": count })))
}

/// `PUT /tags/{id}/assets {ids}`.
pub async fn add_assets(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<TagId>,
    ValidJson(body): ValidJson<BulkIdsDto>,
) -> ApiResult<Json<Vec<BulkIdResponseDto>>> {
    find(&state, &auth, Permission::TagAsset, id).await?;
    let ids = body.ids();
    let present = tags::tagged(&state.db, id.0, &ids).await?;
    let allowed = access::allowed_assets(&state, &auth, Permission::AssetShare, &ids).await?;
    let (results, added) = bulk_add(ids, &present, &allowed);
    tags::tag_assets(&state.db, &[id.0], &added).await?;
    Ok(Json(results))
}

/// `DELETE /tags/{id}/assets {ids}`.
pub async fn remove_assets(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<TagId>,
    ValidJson(body): ValidJson<BulkIdsDto>,
) -> ApiResult<Json<Vec<BulkIdResponseDto>>> {
    find(&state, &auth, Permission::TagAsset, id).await?;
    let ids = body.ids();
    let present = tags::tagged(&state.db, id.0, &ids).await?;
    let (results, removed) = bulk_remove(ids, &present);
    tags::untag_assets(&state.db, id.0, &removed).await?;
    Ok(Json(results))
}
