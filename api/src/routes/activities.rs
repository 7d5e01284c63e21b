//! `/activities`: comments and likes in albums.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use darkroom_storage::activities::{self, Activity, ActivityFilter};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::access;
use crate::auth::Auth;
use crate::dto::ids::{ActivityId, AlbumId, AssetId, UserId};
use crate::dto::{UserResponseDto, serialize_iso};
use crate::error::{ApiError, ApiResult, ValidationIssue};
use crate::permission::Permission;
use crate::services::users as user_service;
use crate::state::AppState;
use crate::validation::{IdPath, ValidJson, ValidQuery, Validate};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReactionType {
    Comment,
    Like,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReactionLevel {
    Album,
    Asset,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivityResponseDto {
    id: Uuid,
    #[serde(serialize_with = "serialize_iso")]
    created_at: chrono::DateTime<chrono::Utc>,
    user: UserResponseDto,
    asset_id: Option<Uuid>,
    #[serde(rename = "type")]
    kind: ReactionType,
    comment: Option<String>,
}

async fn dto(state: &AppState, activity: Activity) -> ApiResult<ActivityResponseDto> {
    let user = user_service::require(&state.db, activity.user_id.into(), true).await?;
    Ok(ActivityResponseDto {
        id: activity.id,
        created_at: activity.created_at,
        user: UserResponseDto::from(&user),
        asset_id: activity.asset_id,
        kind: if activity.is_liked {
            ReactionType::Like
        } else {
            ReactionType::Comment
        },
        comment: activity.comment,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivitySearchQuery {
    album_id: AlbumId,
    asset_id: Option<AssetId>,
    #[serde(rename = "type")]
    kind: Option<ReactionType>,
    level: Option<ReactionLevel>,
    user_id: Option<UserId>,
}

impl Validate for ActivitySearchQuery {}

/// `GET /activities?albumId=…`: the album's comments and likes, oldest first.
pub async fn list(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidQuery(query): ValidQuery<ActivitySearchQuery>,
) -> ApiResult<Json<Vec<ActivityResponseDto>>> {
    let album_id = query.album_id.0;
    access::require_album(&state, &auth, Permission::AlbumRead, album_id).await?;
    let filter = ActivityFilter {
        album_id,
        asset_id: query.asset_id.map(Uuid::from),
        album_level: query.level == Some(ReactionLevel::Album),
        liked: query.kind.map(|kind| kind == ReactionType::Like),
        user_id: query.user_id.map(Uuid::from),
    };
    let mut all = Vec::new();
    for activity in activities::list(&state.db, &filter).await? {
        all.push(dto(&state, activity).await?);
    }
    Ok(Json(all))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivityCreateDto {
    album_id: AlbumId,
    asset_id: Option<AssetId>,
    #[serde(rename = "type")]
    kind: ReactionType,
    comment: Option<String>,
}

impl Validate for ActivityCreateDto {
    fn validate(&self) -> Vec<ValidationIssue> {
        let mut issues = Vec::new();
        let has_comment = self.comment.as_deref().is_some_and(|c| !c.trim().is_empty());
        match self.kind {
            ReactionType::Comment if !has_comment => issues.push(ValidationIssue::new(
                &["comment"],
                "Comment is required when type is COMMENT",
            )),
            ReactionType::Like if self.comment.is_some() => issues.push(ValidationIssue::new(
                &["comment"],
                "Comment must not be provided when type is not COMMENT",
            )),
            _ => {}
        }
        issues
    }
}

/// `POST /activities`: a comment, or a like (a second like answers the first, with 200).
pub async fn create(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidJson(body): ValidJson<ActivityCreateDto>,
) -> ApiResult<(StatusCode, Json<ActivityResponseDto>)> {
    let album = body.album_id.0;
    if !activities::may_create(&state.db, album, auth.user.id).await? {
        return Err(access::denied(Permission::ActivityCreate));
    }
    let asset = body.asset_id.map(Uuid::from);
    if body.kind == ReactionType::Like
        && let Some(existing) = activities::existing_like(&state.db, album, asset, auth.user.id).await?
    {
        return Ok((StatusCode::OK, Json(dto(&state, existing).await?)));
    }
    let comment = if body.kind == ReactionType::Comment {
        body.comment.as_deref()
    } else {
        None
    };
    let created = activities::create(&state.db, album, asset, auth.user.id, comment)
        .await?
        .ok_or_else(|| ApiError::bad_request("Asset is not in the album"))?;
    Ok((StatusCode::CREATED, Json(dto(&state, created).await?)))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivityStatisticsQuery {
    album_id: AlbumId,
    asset_id: Option<AssetId>,
}

impl Validate for ActivityStatisticsQuery {}

/// `GET /activities/statistics?albumId=…`: how many comments and likes.
pub async fn statistics(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidQuery(query): ValidQuery<ActivityStatisticsQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    let album = query.album_id.0;
    access::require_album(&state, &auth, Permission::AlbumRead, album).await?;
    let (comments, likes) = activities::statistics(&state.db, album, query.asset_id.map(Uuid::from)).await?;
    Ok(Json(json!({ "comments": comments, "likes": likes })))
}

/// `DELETE /activities/{id}`: by its author or the album's owner.
pub async fn delete(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<ActivityId>,
) -> ApiResult<StatusCode> {
    if !activities::may_delete(&state.db, id.0, auth.user.id).await? {
        return Err(access::denied(Permission::ActivityDelete));
    }
    activities::delete(&state.db, id.0).await?;
    Ok(StatusCode::NO_CONTENT)
}
