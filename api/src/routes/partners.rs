//! `/partners`: sharing a whole library with another user, and showing theirs in my timeline.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use darkroom_storage::partners::{self, Partner};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::Auth;
use crate::dto::UserResponseDto;
use crate::dto::ids::UserId;
use crate::error::{ApiError, ApiResult};
use crate::permission::Permission;
use crate::services::users as user_service;
use crate::state::AppState;
use crate::validation::{IdPath, ValidJson, ValidQuery, Validate};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PartnerResponseDto {
    #[serde(flatten)]
    user: UserResponseDto,
    in_timeline: bool,
}

async fn dto(state: &AppState, partner: Partner) -> ApiResult<PartnerResponseDto> {
    let user = user_service::require(&state.db, partner.user_id.into(), false).await?;
    Ok(PartnerResponseDto {
        user: UserResponseDto::from(&user),
        in_timeline: partner.in_timeline,
    })
}

#[derive(Debug, Deserialize)]
pub enum PartnerDirection {
    #[serde(rename = "shared-by")]
    SharedBy,
    #[serde(rename = "shared-with")]
    SharedWith,
}

#[derive(Debug, Deserialize)]
pub struct PartnerSearchQuery {
    direction: PartnerDirection,
}

impl Validate for PartnerSearchQuery {}

/// `GET /partners?direction=shared-by|shared-with`: whom I share with, or who shares with me.
pub async fn search(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidQuery(query): ValidQuery<PartnerSearchQuery>,
) -> ApiResult<Json<Vec<PartnerResponseDto>>> {
    let shared_by_me = matches!(query.direction, PartnerDirection::SharedBy);
    let mut all = Vec::new();
    for partner in partners::list(&state.db, auth.user.id, shared_by_me).await? {
        all.push(dto(&state, partner).await?);
    }
    Ok(Json(all))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PartnerCreateDto {
    shared_with_id: UserId,
}

impl Validate for PartnerCreateDto {}

async fn create_with(
    state: &AppState,
    me: Uuid,
    shared_with: UserId,
) -> ApiResult<(StatusCode, Json<PartnerResponseDto>)> {
    let shared_with = shared_with.0;
    if partners::exists(&state.db, me, shared_with).await? {
        return Err(ApiError::bad_request("Partner already exists"));
    }
    if !partners::create(&state.db, me, shared_with).await? {
        // Unknown or deleted user (Immich answers a bare 500 here).
        return Err(ApiError::bad_request("User not found"));
    }
    let created = dto(
        state,
        Partner {
            user_id: shared_with,
            in_timeline: false,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// `POST /partners {sharedWithId}`: share my library with a user.
pub async fn create(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidJson(body): ValidJson<PartnerCreateDto>,
) -> ApiResult<(StatusCode, Json<PartnerResponseDto>)> {
    create_with(&state, auth.user.id, body.shared_with_id).await
}

/// `POST /partners/{id}` (deprecated form of the above).
pub async fn create_deprecated(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<UserId>,
) -> ApiResult<(StatusCode, Json<PartnerResponseDto>)> {
    create_with(&state, auth.user.id, id).await
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PartnerUpdateDto {
    in_timeline: bool,
}

impl Validate for PartnerUpdateDto {}

/// `PUT /partners/{id} {inTimeline}`: show (or hide) the photos of `id`, who shares with me.
pub async fn update(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<UserId>,
    ValidJson(body): ValidJson<PartnerUpdateDto>,
) -> ApiResult<Json<PartnerResponseDto>> {
    if !partners::set_in_timeline(&state.db, id.0, auth.user.id, body.in_timeline).await? {
        return Err(crate::access::denied(Permission::PartnerUpdate));
    }
    Ok(Json(
        dto(
            &state,
            Partner {
                user_id: id.0,
                in_timeline: body.in_timeline,
            },
        )
        .await?,
    ))
}

/// `DELETE /partners/{id}`: stop sharing my library with `id`.
pub async fn remove(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<UserId>,
) -> ApiResult<StatusCode> {
    if !partners::exists(&state.db, auth.user.id, id.0).await?
        || !partners::remove(&state.db, auth.user.id, id.0).await?
    {
        return Err(ApiError::bad_request("Partner not found"));
    }
    Ok(StatusCode::NO_CONTENT)
}
