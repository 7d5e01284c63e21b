//! `/albums/*`: albums, their assets and the people they are shared with.

mod assets;
mod members;

use std::collections::{HashMap, HashSet};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use darkroom_storage::albums::{self, Album, AlbumChanges, AlbumFilter, AlbumRole, NewAlbum};
use darkroom_storage::users;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::access;
use crate::auth::Auth;
use crate::dto::ids::{AlbumId, AssetId, UserId, uuids};
use crate::dto::{UserResponseDto, avatar_color_of, serialize_iso, serialize_iso_opt};
use crate::error::{ApiError, ApiResult};
use crate::permission::Permission;
use crate::routes::map::MapMarkerResponseDto;
use crate::services::preferences;
use crate::state::AppState;
use crate::validation::{IdPath, ValidJson, ValidQuery, Validate};

pub use assets::{add_assets, add_assets_to_albums, remove_assets};
pub use members::{add_users, remove_user, update_user};

#[derive(Debug, Serialize)]
pub struct AlbumUserResponseDto {
    user: UserResponseDto,
    role: AlbumRole,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContributorCountResponseDto {
    user_id: Uuid,
    asset_count: i64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlbumResponseDto {
    id: Uuid,
    album_name: String,
    description: String,
    #[serde(serialize_with = "serialize_iso")]
    created_at: DateTime<Utc>,
    #[serde(serialize_with = "serialize_iso")]
    updated_at: DateTime<Utc>,
    album_thumbnail_asset_id: Option<Uuid>,
    shared: bool,
    album_users: Vec<AlbumUserResponseDto>,
    has_shared_link: bool,
    asset_count: i64,
    is_activity_enabled: bool,
    order: String,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "serialize_iso_opt")]
    start_date: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "serialize_iso_opt")]
    end_date: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "serialize_iso_opt")]
    last_modified_asset_timestamp: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    contributor_counts: Option<Vec<ContributorCountResponseDto>>,
}

/// How much of an album a response carries: lists and reads add the newest change of its
/// assets, a single read the contributors too (of shared albums).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Detail {
    Written,
    Listed,
    Read,
}

async fn album_dtos(
    state: &AppState,
    list: Vec<Album>,
    viewer: Uuid,
    detail: Detail,
) -> ApiResult<Vec<AlbumResponseDto>> {
    if list.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = list.iter().map(|album| album.id).collect();
    let mut members: HashMap<Uuid, Vec<AlbumUserResponseDto>> = HashMap::new();
    for member in albums::members(&state.db, &ids, viewer).await? {
        let user = UserResponseDto {
            id: member.user_id,
            avatar_color: avatar_color_of(&member.email, member.avatar_color.as_deref()),
            email: member.email,
            name: member.name,
            profile_image_path: member.profile_image_path,
            profile_changed_at: member.profile_changed_at,
        };
        members.entry(member.album_id).or_default().push(AlbumUserResponseDto {
            user,
            role: member.role,
        });
    }
    let stats: HashMap<Uuid, albums::AlbumStats> = albums::stats(&state.db, &ids)
        .await?
        .into_iter()
        .map(|s| (s.album_id, s))
        .collect();
    let linked: HashSet<Uuid> = albums::with_shared_links(&state.db, &ids).await?.into_iter().collect();
    let mut dtos = Vec::with_capacity(list.len());
    for album in list {
        let album_users = members.remove(&album.id).unwrap_or_default();
        let has_shared_link = linked.contains(&album.id);
        let shared = album_users.len() > 1 || has_shared_link;
        let stat = stats.get(&album.id);
        let contributor_counts = if detail == Detail::Read && shared {
            let counts = albums::contributor_counts(&state.db, album.id).await?;
            Some(
                counts
                    .into_iter()
                    .map(|(user_id, asset_count)| ContributorCountResponseDto { user_id, asset_count })
                    .collect(),
            )
        } else {
            None
        };
        dtos.push(AlbumResponseDto {
            id: album.id,
            album_name: album.album_name,
            description: album.description,
            created_at: album.created_at,
            updated_at: album.updated_at,
            album_thumbnail_asset_id: album.album_thumbnail_asset_id,
            shared,
            album_users,
            has_shared_link,
            asset_count: stat.map_or(0, |s| s.asset_count),
            is_activity_enabled: album.is_activity_enabled,
            order: album.order,
            start_date: stat.and_then(|s| s.start_date),
            end_date: stat.and_then(|s| s.end_date),
            last_modified_asset_timestamp: stat
                .and_then(|s| s.last_modified_asset_timestamp)
                .filter(|_| detail != Detail::Written),
            contributor_counts,
        });
    }
    Ok(dtos)
}

async fn album_dto(state: &AppState, id: AlbumId, viewer: Uuid, detail: Detail) -> ApiResult<AlbumResponseDto> {
    let album = find(state, id).await?;
    album_dtos(state, vec![album], viewer, detail)
        .await?
        .pop()
        .ok_or_else(|| ApiError::bad_request("Album not found"))
}

/// An album as a shared link presents it: no members, always shared.
pub async fn album_for_link(state: &AppState, id: Uuid, owner: Uuid) -> ApiResult<Option<AlbumResponseDto>> {
    let Some(album) = albums::get(&state.db, id).await? else {
        return Ok(None);
    };
    let mut dto = album_dtos(state, vec![album], owner, Detail::Written).await?.pop();
    if let Some(dto) = dto.as_mut() {
        dto.album_users.clear();
        dto.shared = true;
        dto.has_shared_link = true;
    }
    Ok(dto)
}

async fn find(state: &AppState, id: AlbumId) -> ApiResult<Album> {
    albums::get(&state.db, id.0)
        .await?
        .ok_or_else(|| ApiError::bad_request("Album not found"))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetAlbumsQuery {
    id: Option<AlbumId>,
    name: Option<String>,
    is_owned: Option<bool>,
    is_shared: Option<bool>,
    asset_id: Option<AssetId>,
}

impl Validate for GetAlbumsQuery {}

pub async fn list(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidQuery(query): ValidQuery<GetAlbumsQuery>,
) -> ApiResult<Json<Vec<AlbumResponseDto>>> {
    albums::refresh_thumbnails(&state.db).await?;
    let list = match query.asset_id {
        Some(asset_id) => albums::list_with_asset(&state.db, auth.user.id, asset_id.0).await?,
        None => {
            let filter = AlbumFilter {
                id: query.id.map(Uuid::from),
                is_owned: query.is_owned,
                is_shared: query.is_shared,
            };
            albums::list(&state.db, auth.user.id, query.name.as_deref(), filter).await?
        }
    };
    Ok(Json(album_dtos(&state, list, auth.user.id, Detail::Listed).await?))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlbumUserCreateDto {
    user_id: UserId,
    role: AlbumRole,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateAlbumDto {
    album_name: String,
    description: Option<String>,
    #[serde(default)]
    album_users: Vec<AlbumUserCreateDto>,
    #[serde(default)]
    asset_ids: Vec<AssetId>,
}

impl Validate for CreateAlbumDto {}

/// Users to share with must exist and not be deleted.
async fn require_user(state: &AppState, id: Uuid) -> ApiResult<()> {
    users::get(&state.db, id, false)
        .await?
        .map(|_| ())
        .ok_or_else(|| ApiError::bad_request("Invalid user"))
}

pub async fn create(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidJson(dto): ValidJson<CreateAlbumDto>,
) -> ApiResult<(StatusCode, Json<AlbumResponseDto>)> {
    let mut members: Vec<(Uuid, AlbumRole)> = Vec::new();
    for member in &dto.album_users {
        let user_id = member.user_id.0;
        if user_id == auth.user.id || members.iter().any(|(id, _)| *id == user_id) {
            continue;
        }
        if member.role == AlbumRole::Owner {
            return Err(ApiError::bad_request("Cannot add another owner"));
        }
        require_user(&state, user_id).await?;
        members.push((user_id, member.role));
    }
    // Assets the caller may not share are left out silently, as in Immich.
    let requested = uuids(&dto.asset_ids);
    let shareable: HashSet<Uuid> = access::allowed_assets(&state, &auth, Permission::AssetShare, &requested)
        .await?
        .into_iter()
        .collect();
    let mut asset_ids: Vec<Uuid> = Vec::new();
    for id in requested {
        if shareable.contains(&id) && !asset_ids.contains(&id) {
            asset_ids.push(id);
        }
    }
    let preferences = preferences::get(&state.db, auth.user.id).await?;
    let order = preferences["albums"]["defaultAssetOrder"]
        .as_str()
        .unwrap_or("desc")
        .to_string();
    let new = NewAlbum {
        owner_id: auth.user.id,
        album_name: &dto.album_name,
        description: dto.description.as_deref().unwrap_or(""),
        order: &order,
        members: &members,
        asset_ids: &asset_ids,
    };
    let id = albums::create(&state.db, &new).await?;
    members
        .iter()
        .for_each(|(user, _)| crate::services::notifications::album_invite(&state, id, *user, &auth.user.name));
    Ok((
        StatusCode::CREATED,
        Json(album_dto(&state, id.into(), auth.user.id, Detail::Written).await?),
    ))
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlbumStatisticsResponseDto {
    owned: usize,
    shared: usize,
    not_shared: usize,
}

pub async fn statistics(
    State(state): State<AppState>,
    Auth(auth): Auth,
) -> ApiResult<Json<AlbumStatisticsResponseDto>> {
    let count = |is_owned, is_shared| {
        let state = state.clone();
        async move {
            let filter = AlbumFilter {
                id: None,
                is_owned,
                is_shared,
            };
            Ok::<_, ApiError>(albums::list(&state.db, auth.user.id, None, filter).await?.len())
        }
    };
    Ok(Json(AlbumStatisticsResponseDto {
        owned: count(Some(true), None).await?,
        shared: count(None, Some(true)).await?,
        not_shared: count(Some(true), Some(false)).await?,
    }))
}

pub async fn get(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<AlbumId>,
) -> ApiResult<Json<AlbumResponseDto>> {
    access::require_album(&state, &auth, Permission::AlbumRead, id.0).await?;
    albums::refresh_thumbnails(&state.db).await?;
    Ok(Json(album_dto(&state, id, auth.user.id, Detail::Read).await?))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AssetOrder {
    Asc,
    Desc,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateAlbumDto {
    album_name: Option<String>,
    description: Option<String>,
    album_thumbnail_asset_id: Option<AssetId>,
    is_activity_enabled: Option<bool>,
    order: Option<AssetOrder>,
}

impl Validate for UpdateAlbumDto {}

pub async fn update(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<AlbumId>,
    ValidJson(dto): ValidJson<UpdateAlbumDto>,
) -> ApiResult<Json<AlbumResponseDto>> {
    access::require_album(&state, &auth, Permission::AlbumUpdate, id.0).await?;
    find(&state, id).await?;
    let thumbnail = dto.album_thumbnail_asset_id.map(Uuid::from);
    if let Some(thumbnail) = thumbnail
        && albums::asset_ids_in(&state.db, id.0, &[thumbnail]).await?.is_empty()
    {
        return Err(ApiError::bad_request("Invalid album thumbnail"));
    }
    let changes = AlbumChanges {
        album_name: dto.album_name,
        description: dto.description,
        album_thumbnail_asset_id: thumbnail,
        is_activity_enabled: dto.is_activity_enabled,
        order: dto.order.map(|order| match order {
            AssetOrder::Asc => "asc".to_string(),
            AssetOrder::Desc => "desc".to_string(),
        }),
    };
    albums::update(&state.db, id.0, &changes).await?;
    Ok(Json(album_dto(&state, id, auth.user.id, Detail::Written).await?))
}

pub async fn delete(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<AlbumId>,
) -> ApiResult<StatusCode> {
    access::require_album(&state, &auth, Permission::AlbumDelete, id.0).await?;
    albums::delete(&state.db, id.0).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn map_markers(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<AlbumId>,
) -> ApiResult<Json<Vec<MapMarkerResponseDto>>> {
    access::require_album(&state, &auth, Permission::AlbumRead, id.0).await?;
    let markers = darkroom_storage::map::album_markers(&state.db, id.0).await?;
    Ok(Json(markers.into_iter().map(Into::into).collect()))
}
