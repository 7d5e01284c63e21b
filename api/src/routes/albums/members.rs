//! The people an album is shared with: adding them, changing their role, removing them.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use darkroom_storage::albums::{self, AlbumRole};
use serde::Deserialize;
use uuid::Uuid;

use super::{AlbumResponseDto, Detail, album_dto, find, require_user};
use crate::access;
use crate::auth::{Auth, AuthContext};
use crate::dto::ids::{AlbumId, UserId};
use crate::error::{ApiError, ApiResult, ValidationIssue};
use crate::permission::Permission;
use crate::state::AppState;
use crate::validation::{IdPath, ValidJson, Validate, parse_uuid_v4};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlbumUserAddDto {
    user_id: UserId,
    role: Option<AlbumRole>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddUsersDto {
    album_users: Vec<AlbumUserAddDto>,
}

impl Validate for AddUsersDto {
    fn validate(&self) -> Vec<ValidationIssue> {
        let mut issues = Vec::new();
        crate::validation::rules::non_empty(&mut issues, &["albumUsers"], &self.album_users);
        issues
    }
}

pub async fn add_users(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<AlbumId>,
    ValidJson(dto): ValidJson<AddUsersDto>,
) -> ApiResult<Json<AlbumResponseDto>> {
    access::require_album(&state, &auth, Permission::AlbumShare, id.0).await?;
    find(&state, id).await?;
    for member in dto.album_users {
        let role = member.role.unwrap_or(AlbumRole::Editor);
        if role == AlbumRole::Owner {
            return Err(ApiError::bad_request("Cannot add another owner"));
        }
        let user_id = member.user_id.0;
        if !albums::roles(&state.db, user_id, &[id.0]).await?.is_empty() {
            continue;
        }
        require_user(&state, user_id).await?;
        albums::add_member(&state.db, id.0, user_id, role).await?;
        crate::services::notifications::album_invite(&state, id.0, user_id, &auth.user.name);
    }
    Ok(Json(album_dto(&state, id, auth.user.id, Detail::Written).await?))
}

/// The `{userId}` of member routes: a v4 UUID or `me`.
fn member_id(params: &HashMap<String, String>, auth: &AuthContext) -> ApiResult<Uuid> {
    let raw = params.get("userId").map(String::as_str).unwrap_or("");
    if raw == "me" {
        return Ok(auth.user.id);
    }
    parse_uuid_v4(raw)
        .ok_or_else(|| ApiError::Validation(vec![ValidationIssue::new(&["userId"], r#"Must be a UUID v4 or "me""#)]))
}

#[derive(Debug, Deserialize)]
pub struct UpdateAlbumUserDto {
    role: AlbumRole,
}

impl Validate for UpdateAlbumUserDto {}

pub async fn update_user(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<AlbumId>,
    Path(params): Path<HashMap<String, String>>,
    ValidJson(dto): ValidJson<UpdateAlbumUserDto>,
) -> ApiResult<StatusCode> {
    let user_id = member_id(&params, &auth)?;
    access::require_album(&state, &auth, Permission::AlbumShare, id.0).await?;
    find(&state, id).await?;
    let current = albums::roles(&state.db, user_id, &[id.0]).await?;
    if current.iter().any(|(_, role)| *role == AlbumRole::Owner) {
        return Err(ApiError::bad_request("User is owner"));
    }
    if dto.role == AlbumRole::Owner {
        return Err(ApiError::bad_request("Cannot add another owner"));
    }
    albums::set_role(&state.db, id.0, user_id, dto.role).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn remove_user(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<AlbumId>,
    Path(params): Path<HashMap<String, String>>,
) -> ApiResult<StatusCode> {
    let user_id = member_id(&params, &auth)?;
    find(&state, id).await?;
    let role = albums::members(&state.db, &[id.0], auth.user.id)
        .await?
        .into_iter()
        .find(|m| m.user_id == user_id)
        .map(|m| m.role);
    match role {
        None => return Err(ApiError::bad_request("Album not shared with user")),
        Some(AlbumRole::Owner) => return Err(ApiError::bad_request("Cannot remove the last album owner")),
        Some(_) => {}
    }
    if user_id != auth.user.id {
        access::require_album(&state, &auth, Permission::AlbumShare, id.0).await?;
    }
    albums::remove_member(&state.db, id.0, user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
