//! An album's assets: adding them (to one album or to several at once) and removing them.

use std::collections::HashSet;

use axum::Json;
use axum::extract::State;
use darkroom_storage::albums;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::find;
use crate::access;
use crate::auth::{Auth, AuthContext};
use crate::dto::ids::{AlbumId, AssetId, uuids};
use crate::dto::{BulkIdResponseDto, BulkIdsDto};
use crate::error::ApiResult;
use crate::permission::Permission;
use crate::state::AppState;
use crate::validation::{IdPath, ValidJson, Validate};

/// Adds assets to an album, answering per id: added, `duplicate` or `no_permission`.
async fn add_to_album(
    state: &AppState,
    auth: &AuthContext,
    album_id: AlbumId,
    ids: &[Uuid],
) -> ApiResult<Vec<BulkIdResponseDto>> {
    let mut present: HashSet<Uuid> = albums::asset_ids_in(&state.db, album_id.0, ids)
        .await?
        .into_iter()
        .collect();
    let shareable: HashSet<Uuid> = access::allowed_assets(state, auth, Permission::AssetShare, ids)
        .await?
        .into_iter()
        .collect();
    let mut results = Vec::with_capacity(ids.len());
    let mut added = Vec::new();
    for &id in ids {
        let error = if present.contains(&id) {
            Some("duplicate")
        } else if !shareable.contains(&id) {
            Some("no_permission")
        } else {
            present.insert(id);
            added.push(id);
            None
        };
        results.push(BulkIdResponseDto::of(id, error));
    }
    if albums::add_assets(&state.db, album_id.0, &added).await? {
        crate::services::notifications::album_updated(state, album_id.0, auth.user.id);
    }
    Ok(results)
}

pub async fn add_assets(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<AlbumId>,
    ValidJson(dto): ValidJson<BulkIdsDto>,
) -> ApiResult<Json<Vec<BulkIdResponseDto>>> {
    find(&state, id).await?;
    access::require_album(&state, &auth, Permission::AlbumAssetCreate, id.0).await?;
    let ids = dto.ids();
    Ok(Json(add_to_album(&state, &auth, id, &ids).await?))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlbumsAddAssetsDto {
    album_ids: Vec<AlbumId>,
    asset_ids: Vec<AssetId>,
}

impl Validate for AlbumsAddAssetsDto {}

#[derive(Debug, Serialize)]
pub struct AlbumsAddAssetsResponseDto {
    success: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'static str>,
}

pub async fn add_assets_to_albums(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidJson(dto): ValidJson<AlbumsAddAssetsDto>,
) -> ApiResult<Json<AlbumsAddAssetsResponseDto>> {
    let album_ids = uuids(&dto.album_ids);
    let asset_ids = uuids(&dto.asset_ids);
    let albums_allowed = access::allowed_albums(&state, &auth, Permission::AlbumAssetCreate, &album_ids).await?;
    let assets_allowed = access::allowed_assets(&state, &auth, Permission::AssetShare, &asset_ids).await?;
    if albums_allowed.is_empty() || assets_allowed.is_empty() {
        return Ok(Json(AlbumsAddAssetsResponseDto {
            success: false,
            error: Some("no_permission"),
        }));
    }
    let mut any_added = false;
    for album_id in albums_allowed {
        find(&state, album_id.into()).await?;
        if albums::add_assets(&state.db, album_id, &assets_allowed).await? {
            crate::services::notifications::album_updated(&state, album_id, auth.user.id);
            any_added = true;
        }
    }
    let error = (!any_added).then_some("duplicate");
    Ok(Json(AlbumsAddAssetsResponseDto {
        success: any_added,
        error,
    }))
}

/// Removes assets, answering per id: removed, `not_found` or `no_permission`. Owners may remove
/// anything; editors what they could have shared.
pub async fn remove_assets(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<AlbumId>,
    ValidJson(dto): ValidJson<BulkIdsDto>,
) -> ApiResult<Json<Vec<BulkIdResponseDto>>> {
    access::require_album(&state, &auth, Permission::AlbumAssetDelete, id.0).await?;
    find(&state, id).await?;
    let ids = dto.ids();
    let mut present: HashSet<Uuid> = albums::asset_ids_in(&state.db, id.0, &ids).await?.into_iter().collect();
    let is_owner = access::require_album(&state, &auth, Permission::AlbumDelete, id.0)
        .await
        .is_ok();
    let shareable: HashSet<Uuid> = access::allowed_assets(&state, &auth, Permission::AssetShare, &ids)
        .await?
        .into_iter()
        .collect();
    let mut results = Vec::with_capacity(ids.len());
    let mut removed = Vec::new();
    for asset_id in ids {
        let error = if !present.contains(&asset_id) {
            Some("not_found")
        } else if !is_owner && !shareable.contains(&asset_id) {
            Some("no_permission")
        } else {
            present.remove(&asset_id);
            removed.push(asset_id);
            None
        };
        results.push(BulkIdResponseDto::of(asset_id, error));
    }
    if !removed.is_empty() {
        albums::remove_assets(&state.db, id.0, &removed).await?;
        albums::refresh_thumbnails(&state.db).await?;
    }
    Ok(Json(results))
}
