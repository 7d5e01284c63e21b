//! `/admin/users*`: user management for admins.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use darkroom_storage::users::{self, UserChanges, UserFilter};
use darkroom_storage::{albums, sessions};
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use crate::auth::Auth;
use crate::dto::ids::UserId;
use crate::dto::{AvatarColor, Email, UserAdminResponseDto, not_null, nullable};
use crate::error::{ApiError, ApiResult, ValidationIssue};
use crate::services::preferences;
use crate::services::users::{self as user_service, CreateUser};
use crate::state::AppState;
use crate::validation::{IdPath, ValidJson, ValidQuery, Validate, rules};

use super::assets::{AssetStatsQuery, AssetStatsResponseDto, statistics_of};
use super::sessions::{SessionResponseDto, session_dto};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchQuery {
    #[serde(default)]
    with_deleted: bool,
    id: Option<UserId>,
}

impl Validate for SearchQuery {}

pub async fn search(
    State(state): State<AppState>,
    Auth(_): Auth,
    ValidQuery(query): ValidQuery<SearchQuery>,
) -> ApiResult<Json<Vec<UserAdminResponseDto>>> {
    let filter = UserFilter {
        id: query.id.map(Uuid::from),
        with_deleted: query.with_deleted,
        ..Default::default()
    };
    let mut list = users::find(&state.db, filter).await?;
    list.reverse(); // newest first
    Ok(Json(user_service::admin_dtos(&state.db, &list).await?))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserAdminCreateDto {
    email: Email,
    password: String,
    name: String,
    #[serde(default, deserialize_with = "nullable")]
    avatar_color: Option<Option<AvatarColor>>,
    #[serde(default, deserialize_with = "nullable")]
    pin_code: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    storage_label: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    quota_size_in_bytes: Option<Option<i64>>,
    #[serde(default, deserialize_with = "not_null")]
    should_change_password: Option<bool>,
    #[serde(default)]
    notify: bool,
    #[serde(default)]
    is_admin: bool,
}

fn check_common(issues: &mut Vec<ValidationIssue>, email: Option<&str>, pin: Option<&str>, quota: Option<i64>) {
    if let Some(email) = email {
        rules::email(issues, &["email"], email);
    }
    if let Some(pin) = pin {
        rules::pin_code(issues, &["pinCode"], pin);
    }
    if let Some(quota) = quota {
        rules::min_number(issues, &["quotaSizeInBytes"], quota, 0);
    }
}

impl Validate for UserAdminCreateDto {
    fn validate(&self) -> Vec<ValidationIssue> {
        let mut issues = Vec::new();
        check_common(
            &mut issues,
            Some(&self.email.0),
            self.pin_code.clone().flatten().as_deref(),
            self.quota_size_in_bytes.flatten(),
        );
        issues
    }
}

pub async fn create(
    State(state): State<AppState>,
    Auth(_): Auth,
    ValidJson(dto): ValidJson<UserAdminCreateDto>,
) -> ApiResult<Response> {
    if dto.password.is_empty() {
        return Err(ApiError::bad_request("password is required"));
    }
    let user = user_service::create(
        &state.db,
        CreateUser {
            email: dto.email.0.to_lowercase(),
            name: dto.name,
            password: Some(dto.password.clone()),
            is_admin: dto.is_admin,
            storage_label: dto.storage_label.flatten(),
            quota_size_in_bytes: dto.quota_size_in_bytes.flatten(),
            should_change_password: dto.should_change_password,
            avatar_color: dto.avatar_color.flatten().map(|c| c.as_str().to_string()),
            pin_code: dto.pin_code.flatten(),
            oauth_id: String::new(),
        },
    )
    .await?;
    crate::services::notifications::user_created(&state, user.id, &dto.password, dto.notify);
    Ok((
        StatusCode::CREATED,
        Json(user_service::admin_dto(&state.db, &user).await?),
    )
        .into_response())
}

pub async fn get(
    State(state): State<AppState>,
    Auth(_): Auth,
    IdPath(id): IdPath<UserId>,
) -> ApiResult<Json<UserAdminResponseDto>> {
    let user = user_service::require(&state.db, id, true).await?;
    Ok(Json(user_service::admin_dto(&state.db, &user).await?))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserAdminUpdateDto {
    #[serde(default, deserialize_with = "not_null")]
    email: Option<Email>,
    #[serde(default, deserialize_with = "not_null")]
    password: Option<String>,
    #[serde(default, deserialize_with = "not_null")]
    name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    avatar_color: Option<Option<AvatarColor>>,
    #[serde(default, deserialize_with = "nullable")]
    pin_code: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    storage_label: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    quota_size_in_bytes: Option<Option<i64>>,
    #[serde(default, deserialize_with = "not_null")]
    should_change_password: Option<bool>,
    #[serde(default, deserialize_with = "not_null")]
    is_admin: Option<bool>,
}

impl Validate for UserAdminUpdateDto {
    fn validate(&self) -> Vec<ValidationIssue> {
        let mut issues = Vec::new();
        check_common(
            &mut issues,
            self.email.as_ref().map(|e| e.0.as_str()),
            self.pin_code.clone().flatten().as_deref(),
            self.quota_size_in_bytes.flatten(),
        );
        issues
    }
}

pub async fn update(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<UserId>,
    ValidJson(dto): ValidJson<UserAdminUpdateDto>,
) -> ApiResult<Json<UserAdminResponseDto>> {
    let user = user_service::require(&state.db, id, false).await?;
    if let Some(is_admin) = dto.is_admin
        && is_admin != auth.user.is_admin
        && id.0 == auth.user.id
    {
        return Err(ApiError::bad_request(
            "Admin status can only be changed by another admin",
        ));
    }
    let email = dto.email.map(|e| e.0.to_lowercase());
    if let Some(email) = &email {
        user_service::ensure_email_available(&state.db, email, Some(id.0)).await?;
    }
    let storage_label = dto
        .storage_label
        .map(|label| label.as_deref().and_then(user_service::sanitize_storage_label));
    if let Some(Some(label)) = &storage_label {
        user_service::ensure_storage_label_available(&state.db, label, Some(id.0)).await?;
    }
    let password_hash = match dto.password.filter(|p| !p.is_empty()) {
        Some(password) => Some(user_service::hash(&password).await?),
        None => None,
    };
    let pin_code_hash = match dto.pin_code {
        Some(Some(pin)) => Some(Some(user_service::hash(&pin).await?)),
        Some(None) => Some(None),
        None => None,
    };
    let changes = UserChanges {
        email,
        name: dto.name,
        password_hash,
        pin_code_hash,
        is_admin: dto.is_admin,
        should_change_password: dto.should_change_password,
        avatar_color: dto.avatar_color.map(|c| c.map(|c| c.as_str().to_string())),
        storage_label,
        quota_size_in_bytes: dto.quota_size_in_bytes,
        ..Default::default()
    };
    let user = users::update(&state.db, user.id, &changes)
        .await
        .map_err(user_service::unique_violation)?;
    Ok(Json(user_service::admin_dto(&state.db, &user).await?))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserAdminDeleteDto {
    #[serde(default)]
    force: bool,
}

impl Validate for UserAdminDeleteDto {}

pub async fn delete(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<UserId>,
    ValidJson(dto): ValidJson<UserAdminDeleteDto>,
) -> ApiResult<Json<UserAdminResponseDto>> {
    let user = user_service::require(&state.db, id, false).await?;
    if user.id == auth.user.id {
        return Err(ApiError::forbidden("Cannot delete your own account"));
    }
    // `deleted` users are removed for good after the configured delay; `removing` ones right away.
    users::soft_delete(&state.db, id.0, if dto.force { "removing" } else { "deleted" }).await?;
    let deleted = sessions::delete_all_except(&state.db, id.0, None).await?;
    crate::events::sessions_deleted(&state, &deleted).await;
    albums::set_owner_deleted(&state.db, id.0, true).await?;
    crate::events::broadcast(&state, "on_user_delete", Some(serde_json::json!(id.0))).await;
    let user = user_service::require(&state.db, id, true).await?;
    let response = user_service::admin_dto(&state.db, &user).await?;
    if dto.force {
        // Answered first: the job may remove the user at once.
        crate::jobs::enqueue(
            &state,
            [crate::jobs::Job::UserDelete(crate::jobs::UserJob {
                id: id.0,
                force: true,
            })],
        )
        .await;
    }
    Ok(Json(response))
}

pub async fn restore(
    State(state): State<AppState>,
    Auth(_): Auth,
    IdPath(id): IdPath<UserId>,
) -> ApiResult<Json<UserAdminResponseDto>> {
    let user = user_service::require(&state.db, id, true).await?;
    if user.status == "removing" {
        return Err(ApiError::bad_request("User is being removed and cannot be restored"));
    }
    users::restore(&state.db, id.0).await?;
    albums::set_owner_deleted(&state.db, id.0, false).await?;
    let user = user_service::require(&state.db, id, true).await?;
    Ok(Json(user_service::admin_dto(&state.db, &user).await?))
}

pub async fn get_preferences(
    State(state): State<AppState>,
    Auth(_): Auth,
    IdPath(id): IdPath<UserId>,
) -> ApiResult<Json<Value>> {
    let user = user_service::require(&state.db, id, true).await?;
    Ok(Json(preferences::get(&state.db, user.id).await?))
}

pub async fn update_preferences(
    State(state): State<AppState>,
    Auth(_): Auth,
    IdPath(id): IdPath<UserId>,
    ValidJson(changes): ValidJson<Value>,
) -> ApiResult<Json<Value>> {
    let user = user_service::require(&state.db, id, false).await?;
    Ok(Json(
        super::users::update_preferences_of(&state, &user, &changes).await?,
    ))
}

pub async fn sessions(
    State(state): State<AppState>,
    Auth(_): Auth,
    IdPath(id): IdPath<UserId>,
) -> ApiResult<Json<Vec<SessionResponseDto>>> {
    let rows = sessions::list_by_user(&state.db, id.0).await?;
    Ok(Json(rows.into_iter().map(|s| session_dto(s, None)).collect()))
}

/// Like Immich, an unknown id counts as a user without assets.
pub async fn statistics(
    State(state): State<AppState>,
    Auth(_): Auth,
    IdPath(id): IdPath<UserId>,
    ValidQuery(query): ValidQuery<AssetStatsQuery>,
) -> ApiResult<Json<AssetStatsResponseDto>> {
    statistics_of(&state, id.0, query).await
}

/// `GET /admin/users/{id}/calendar-heatmap`: another user's heatmap (a deleted user's is refused).
pub async fn calendar_heatmap(
    State(state): State<AppState>,
    Auth(_): Auth,
    IdPath(id): IdPath<UserId>,
    ValidQuery(query): ValidQuery<user_service::HeatmapQuery>,
) -> ApiResult<Json<user_service::CalendarHeatmapResponseDto>> {
    let user = user_service::require(&state.db, id, false).await?;
    Ok(Json(user_service::calendar_heatmap(&state.db, user.id, &query).await?))
}
