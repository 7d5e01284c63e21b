//! `/api-keys*`: a user's API keys. A key can never hand out more than the key that creates it.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use darkroom_storage::api_keys::{self, ApiKey};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::auth::{Auth, AuthContext, tokens};
use crate::dto::ids::ApiKeyId;
use crate::dto::serialize_iso;
use crate::error::{ApiError, ApiResult, ValidationIssue};
use crate::permission::{Permission, covers};
use crate::state::AppState;
use crate::validation::{IdPath, ValidJson, Validate, rules};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyResponseDto {
    id: uuid::Uuid,
    name: String,
    #[serde(serialize_with = "serialize_iso")]
    created_at: chrono::DateTime<chrono::Utc>,
    #[serde(serialize_with = "serialize_iso")]
    updated_at: chrono::DateTime<chrono::Utc>,
    permissions: Vec<String>,
}

impl From<ApiKey> for ApiKeyResponseDto {
    fn from(key: ApiKey) -> Self {
        Self {
            id: key.id,
            name: key.name,
            created_at: key.created_at,
            updated_at: key.updated_at,
            permissions: key.permissions,
        }
    }
}

/// `ApiKeyCreateResponseDto` as `POST /api-keys` answers it: exactly `{apiKey, secret}`, the only
/// time the secret is shown.
fn with_secret(key: ApiKey, secret: String) -> Value {
    json!({ "apiKey": ApiKeyResponseDto::from(key), "secret": secret })
}

/// The answer of `POST /api-keys/{id}/rotate`, new in 3.2, whose DTO also has the key's fields
/// at the top level.
fn rotated(key: ApiKey, secret: String) -> Value {
    let mut body = serde_json::to_value(ApiKeyResponseDto::from(key.clone())).unwrap_or_default();
    if let (Value::Object(fields), Value::Object(nested)) = (&mut body, with_secret(key, secret)) {
        fields.extend(nested);
    }
    body
}

/// Permission names, validated one by one like zod's enum.
fn parse_permissions(names: &[String], path: &str, issues: &mut Vec<ValidationIssue>) -> Vec<Permission> {
    rules::non_empty(issues, &[path], names);
    let mut permissions = Vec::new();
    for (index, name) in names.iter().enumerate() {
        match name.parse::<Permission>() {
            Ok(p) => permissions.push(p),
            Err(()) => {
                let index = index.to_string();
                issues.push(ValidationIssue::with_code(
                    "invalid_value",
                    &[path, &index],
                    "Invalid option: expected one of the Permission values",
                ));
            }
        }
    }
    permissions
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyCreateDto {
    name: Option<String>,
    permissions: Vec<String>,
}

impl Validate for ApiKeyCreateDto {
    fn validate(&self) -> Vec<ValidationIssue> {
        let mut issues = Vec::new();
        parse_permissions(&self.permissions, "permissions", &mut issues);
        issues
    }
}

/// Session users may grant anything; an API key only what it holds itself.
fn ensure_grantable(auth: &AuthContext, requested: &[Permission], message: &str) -> ApiResult<()> {
    match &auth.api_key {
        Some(key) if !covers(&key.permissions, requested) => Err(ApiError::bad_request(message)),
        _ => Ok(()),
    }
}

fn canonical(permissions: &[Permission]) -> Vec<String> {
    permissions.iter().map(|p| p.as_str().to_string()).collect()
}

pub async fn create(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidJson(dto): ValidJson<ApiKeyCreateDto>,
) -> ApiResult<Response> {
    let permissions = parse_permissions(&dto.permissions, "permissions", &mut Vec::new());
    ensure_grantable(&auth, &permissions, "Cannot grant permissions you do not have")?;
    let name = dto
        .name
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "API Key".to_string());
    let secret = tokens::generate();
    let key = api_keys::create(
        &state.db,
        auth.user.id,
        &name,
        &tokens::hash(&secret),
        &canonical(&permissions),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(with_secret(key, secret))).into_response())
}

pub async fn list(State(state): State<AppState>, Auth(auth): Auth) -> ApiResult<Json<Vec<ApiKeyResponseDto>>> {
    let keys = api_keys::list_by_user(&state.db, auth.user.id).await?;
    Ok(Json(keys.into_iter().map(Into::into).collect()))
}

async fn require(state: &AppState, auth: &AuthContext, id: ApiKeyId) -> ApiResult<ApiKey> {
    api_keys::get(&state.db, auth.user.id, id.0)
        .await?
        .ok_or_else(|| ApiError::bad_request("API Key not found"))
}

pub async fn get(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<ApiKeyId>,
) -> ApiResult<Json<ApiKeyResponseDto>> {
    Ok(Json(require(&state, &auth, id).await?.into()))
}

pub async fn me(State(state): State<AppState>, Auth(auth): Auth) -> ApiResult<Json<ApiKeyResponseDto>> {
    let Some(key) = &auth.api_key else {
        return Err(ApiError::forbidden("Not authenticated with an API Key"));
    };
    Ok(Json(require(&state, &auth, key.id.into()).await?.into()))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyUpdateDto {
    name: Option<String>,
    permissions: Option<Vec<String>>,
}

impl Validate for ApiKeyUpdateDto {
    fn validate(&self) -> Vec<ValidationIssue> {
        let mut issues = Vec::new();
        if let Some(permissions) = &self.permissions {
            parse_permissions(permissions, "permissions", &mut issues);
        }
        if self.name.is_none() && self.permissions.is_none() {
            issues.push(ValidationIssue::new(&[], "At least one field must be provided"));
        }
        issues
    }
}

pub async fn update(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<ApiKeyId>,
    ValidJson(dto): ValidJson<ApiKeyUpdateDto>,
) -> ApiResult<Json<ApiKeyResponseDto>> {
    require(&state, &auth, id).await?;
    let permissions = dto
        .permissions
        .as_ref()
        .map(|p| parse_permissions(p, "permissions", &mut Vec::new()));
    if let Some(permissions) = &permissions {
        ensure_grantable(&auth, permissions, "Cannot grant permissions you do not have")?;
    }
    let names = permissions.as_deref().map(canonical);
    let key = api_keys::update(&state.db, auth.user.id, id.0, dto.name.as_deref(), names.as_deref()).await?;
    key.map(|k| Json(k.into()))
        .ok_or_else(|| ApiError::bad_request("API Key not found"))
}

pub async fn delete(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<ApiKeyId>,
) -> ApiResult<StatusCode> {
    if api_keys::delete(&state.db, auth.user.id, id.0).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::bad_request("API Key not found"))
    }
}

pub async fn rotate(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<ApiKeyId>,
) -> ApiResult<Json<Value>> {
    let key = require(&state, &auth, id).await?;
    let held: Vec<Permission> = key.permissions.iter().filter_map(|p| p.parse().ok()).collect();
    ensure_grantable(
        &auth,
        &held,
        "Cannot rotate an API Key with permissions you do not have",
    )?;
    let secret = tokens::generate();
    let key = api_keys::rotate(&state.db, auth.user.id, id.0, &tokens::hash(&secret)).await?;
    let key = key.ok_or_else(|| ApiError::bad_request("API Key not found"))?;
    Ok(Json(rotated(key, secret)))
}
