//! `/assets/{id}/metadata` and `/assets/metadata`: an asset's key-value metadata, one asset or
//! many at a time.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use darkroom_storage::assets;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::access;
use crate::auth::Auth;
use crate::dto::ids::AssetId;
use crate::error::{ApiError, ApiResult, ValidationIssue};
use crate::permission::Permission;
use crate::state::AppState;
use crate::validation::{IdPath, ValidJson, Validate};

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
    IdPath(id): IdPath<AssetId>,
) -> ApiResult<Json<Vec<AssetMetadataResponseDto>>> {
    access::require_assets(&state, &auth, Permission::AssetRead, &[id.0]).await?;
    Ok(Json(
        assets::metadata(&state.db, id.0, None)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

fn metadata_key(params: &std::collections::HashMap<String, String>) -> String {
    params.get("key").cloned().unwrap_or_default()
}

pub async fn get_metadata_key(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<AssetId>,
    Path(params): Path<std::collections::HashMap<String, String>>,
) -> ApiResult<Json<AssetMetadataResponseDto>> {
    access::require_assets(&state, &auth, Permission::AssetRead, &[id.0]).await?;
    let key = metadata_key(&params);
    let entry = assets::metadata(&state.db, id.0, Some(&key)).await?.pop();
    entry.map(|entry| Json(entry.into())).ok_or_else(|| {
        ApiError::bad_request(format!(
            r#"Metadata with key "{key}" not found for asset with id "{id}""#
        ))
    })
}

pub async fn delete_metadata_key(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<AssetId>,
    Path(params): Path<std::collections::HashMap<String, String>>,
) -> ApiResult<StatusCode> {
    access::require_assets(&state, &auth, Permission::AssetUpdate, &[id.0]).await?;
    assets::delete_metadata(&state.db, &[(id.0, metadata_key(&params))]).await?;
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
    IdPath(id): IdPath<AssetId>,
    ValidJson(dto): ValidJson<AssetMetadataUpsertDto>,
) -> ApiResult<Json<Vec<AssetMetadataResponseDto>>> {
    access::require_assets(&state, &auth, Permission::AssetUpdate, &[id.0]).await?;
    no_duplicates(dto.items.iter().map(|item| item.key.clone()))?;
    let items: Vec<_> = dto
        .items
        .into_iter()
        .map(|item| (id.0, item.key, serde_json::Value::Object(item.value)))
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
    asset_id: AssetId,
    key: String,
    value: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Debug, Deserialize)]
pub struct AssetMetadataBulkDto {
    items: Vec<BulkMetadataItem>,
}

impl Validate for AssetMetadataBulkDto {}

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
        .map(|item| (item.asset_id.0, item.key, item.value.map(serde_json::Value::Object)))
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
