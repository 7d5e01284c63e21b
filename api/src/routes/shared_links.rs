//! `/shared-links/*`: links that open an album or some assets to anyone holding them.

use std::collections::HashSet;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use chrono::{DateTime, Utc};
use darkroom_storage::assets;
use darkroom_storage::shared_links::{self, NewSharedLink, SharedLink, SharedLinkChanges};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::albums::{AlbumResponseDto, album_for_link};
use crate::access;
use crate::auth::{self as authn, Auth, AuthContext, AuthSharedLink};
use crate::dto::asset::AssetResponseDto;
use crate::dto::ids::{AlbumId, AssetId, SharedLinkId, uuids};
use crate::dto::{nullable, serialize_iso, serialize_iso_opt};
use crate::error::{ApiError, ApiResult, Context, on_constraint};
use crate::permission::Permission;
use crate::state::AppState;
use crate::validation::{IdPath, ValidJson, ValidQuery, Validate};

/// Cookie holding the password tokens of the links a browser has unlocked (comma-separated).

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SharedLinkResponseDto {
    id: Uuid,
    description: Option<String>,
    password: Option<String>,
    user_id: Uuid,
    key: String,
    #[serde(rename = "type")]
    link_type: String,
    #[serde(serialize_with = "serialize_iso")]
    created_at: DateTime<Utc>,
    #[serde(serialize_with = "serialize_iso_opt")]
    expires_at: Option<DateTime<Utc>>,
    assets: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    album: Option<AlbumResponseDto>,
    allow_upload: bool,
    allow_download: bool,
    show_metadata: bool,
    slug: Option<String>,
}

/// How a link's assets are shown: in full (to its owner), or, to guests of a link that hides
/// metadata, only what a viewer needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Audience {
    Owner,
    Guest,
}

async fn link_dto(
    state: &AppState,
    link: SharedLink,
    audience: Audience,
    asset_limit: Option<usize>,
) -> ApiResult<SharedLinkResponseDto> {
    let mut ids = shared_links::asset_ids(&state.db, link.id, false).await?;
    if let Some(limit) = asset_limit {
        ids.truncate(limit);
    }
    let sanitized = audience == Audience::Guest && !link.show_exif;
    let mut assets = Vec::with_capacity(ids.len());
    for asset in assets::get_many(&state.db, &ids).await? {
        let value = if sanitized {
            AssetResponseDto::sanitized(&asset)
        } else {
            serde_json::to_value(AssetResponseDto::new(asset, Uuid::nil(), None).without_relations())
                .context("describing the shared asset")?
        };
        assets.push(value);
    }
    let album = match link.album_id {
        Some(album_id) => album_for_link(state, album_id, link.user_id).await?,
        None => None,
    };
    Ok(SharedLinkResponseDto {
        id: link.id,
        description: link.description,
        password: link.password,
        user_id: link.user_id,
        key: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&link.key),
        link_type: link.link_type,
        created_at: link.created_at,
        expires_at: link.expires_at,
        assets,
        album,
        allow_upload: link.allow_upload,
        allow_download: link.allow_download,
        show_metadata: link.show_exif,
        slug: link.slug,
    })
}

async fn owned(state: &AppState, auth: &AuthContext, id: SharedLinkId) -> ApiResult<SharedLink> {
    shared_links::get(&state.db, id.0, auth.user.id)
        .await?
        .ok_or_else(|| ApiError::bad_request("Shared link not found"))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SharedLinkSearchQuery {
    album_id: Option<AlbumId>,
    id: Option<SharedLinkId>,
}

impl Validate for SharedLinkSearchQuery {}

pub async fn list(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidQuery(query): ValidQuery<SharedLinkSearchQuery>,
) -> ApiResult<Json<Vec<SharedLinkResponseDto>>> {
    let id = query.id.map(Uuid::from);
    let album = query.album_id.map(Uuid::from);
    let mut dtos = Vec::new();
    // Lists show one asset per link, as a preview.
    for link in shared_links::list(&state.db, auth.user.id, id, album).await? {
        dtos.push(link_dto(&state, link, Audience::Owner, Some(1)).await?);
    }
    Ok(Json(dtos))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum SharedLinkType {
    Album,
    Individual,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SharedLinkCreateDto {
    #[serde(rename = "type")]
    link_type: SharedLinkType,
    asset_ids: Option<Vec<AssetId>>,
    album_id: Option<AlbumId>,
    #[serde(flatten)]
    settings: SharedLinkEditDto,
}

impl Validate for SharedLinkCreateDto {}

fn non_empty(value: Option<Option<String>>) -> Option<String> {
    value.flatten().filter(|text| !text.is_empty())
}

/// A slug taken by another link reads as Immich words it.
fn slug_conflict(error: darkroom_storage::StorageError) -> ApiError {
    on_constraint(error, &[("shared_link_slug_uq", "Failed to save shared link")])
}

pub async fn create(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidJson(dto): ValidJson<SharedLinkCreateDto>,
) -> ApiResult<(StatusCode, Json<SharedLinkResponseDto>)> {
    // Only the field matching the type is kept, so a link never opens more than it says.
    let (type_name, album_id, asset_ids) = match dto.link_type {
        SharedLinkType::Album => {
            let album = dto
                .album_id
                .map(Uuid::from)
                .ok_or_else(|| ApiError::bad_request("Invalid albumId"))?;
            access::require_album(&state, &auth, Permission::AlbumShare, album).await?;
            ("ALBUM", Some(album), Vec::new())
        }
        SharedLinkType::Individual => {
            let ids = uuids(dto.asset_ids.as_deref().unwrap_or_default());
            if ids.is_empty() {
                return Err(ApiError::bad_request("Invalid assetIds"));
            }
            access::require_assets(&state, &auth, Permission::AssetShare, &ids).await?;
            ("INDIVIDUAL", None, ids)
        }
    };
    let mut key = [0u8; 50];
    rand::rng().fill_bytes(&mut key);
    let settings = dto.settings;
    let show_exif = settings.show_metadata.unwrap_or(true);
    let description = non_empty(settings.description);
    let slug = non_empty(settings.slug);
    let password = settings.password.flatten();
    let new = NewSharedLink {
        user_id: auth.user.id,
        key: &key,
        link_type: type_name,
        album_id,
        description: description.as_deref(),
        password: password.as_deref(),
        slug: slug.as_deref(),
        expires_at: settings.expires_at.flatten(),
        allow_upload: settings.allow_upload.unwrap_or(true),
        // Hiding metadata hides the originals too.
        allow_download: show_exif && settings.allow_download.unwrap_or(true),
        show_exif,
        asset_ids: &asset_ids,
    };
    let id = shared_links::create(&state.db, &new).await.map_err(slug_conflict)?;
    let link = owned(&state, &auth, id.into()).await?;
    Ok((
        StatusCode::CREATED,
        Json(link_dto(&state, link, Audience::Owner, None).await?),
    ))
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn guest_link(auth: &AuthContext) -> ApiResult<&AuthSharedLink> {
    auth.shared_link
        .as_ref()
        .ok_or_else(|| ApiError::forbidden("Forbidden"))
}

async fn guest_dto(state: &AppState, auth: &AuthContext, link: &AuthSharedLink) -> ApiResult<SharedLinkResponseDto> {
    let row = shared_links::get(&state.db, link.id, auth.user.id)
        .await?
        .ok_or_else(|| ApiError::bad_request("Shared link not found"))?;
    link_dto(state, row, Audience::Guest, None).await
}

/// `GET /shared-links/me`: the link a guest holds (after its password, when it has one).
pub async fn me(
    State(state): State<AppState>,
    Auth(auth): Auth,
    parts: Parts,
) -> ApiResult<Json<SharedLinkResponseDto>> {
    let link = guest_link(&auth)?;
    if !authn::link_password_given(&parts, link) {
        return Err(ApiError::unauthorized("Password required"));
    }
    Ok(Json(guest_dto(&state, &auth, link).await?))
}

#[derive(Debug, Deserialize)]
pub struct SharedLinkLoginDto {
    password: String,
}

impl Validate for SharedLinkLoginDto {}

/// `POST /shared-links/login`: checks a link's password and remembers it in a cookie.
pub async fn login(
    State(state): State<AppState>,
    Auth(auth): Auth,
    parts: Parts,
    ValidJson(dto): ValidJson<SharedLinkLoginDto>,
) -> ApiResult<Response> {
    let link = guest_link(&auth)?;
    let Some(password) = link.password.as_deref().filter(|p| !p.is_empty()) else {
        return Err(ApiError::bad_request("Shared link is not password protected"));
    };
    if password != dto.password {
        return Err(ApiError::unauthorized("Invalid password"));
    }
    let mut tokens = authn::link_password_tokens(&parts.headers);
    let token = authn::link_password_token(link.id, password);
    if !tokens.contains(&token) {
        tokens.push(token);
    }
    let body = guest_dto(&state, &auth, link).await?;
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    let value = percent_encode(&tokens.join(","));
    super::auth::set_cookies(
        response.headers_mut(),
        &[(authn::SHARED_LINK_TOKEN_COOKIE, &value, true)],
        authn::is_secure(&state, &parts),
        86_400,
    );
    Ok(response)
}

pub async fn get(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<SharedLinkId>,
) -> ApiResult<Json<SharedLinkResponseDto>> {
    let link = owned(&state, &auth, id).await?;
    Ok(Json(link_dto(&state, link, Audience::Owner, None).await?))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SharedLinkEditDto {
    #[serde(default, deserialize_with = "nullable")]
    description: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    password: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    slug: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    expires_at: Option<Option<DateTime<Utc>>>,
    allow_upload: Option<bool>,
    allow_download: Option<bool>,
    show_metadata: Option<bool>,
}

impl Validate for SharedLinkEditDto {}

pub async fn update(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<SharedLinkId>,
    ValidJson(dto): ValidJson<SharedLinkEditDto>,
) -> ApiResult<Json<SharedLinkResponseDto>> {
    owned(&state, &auth, id).await?;
    let changes = SharedLinkChanges {
        description: dto.description,
        password: dto.password,
        slug: non_empty(dto.slug),
        expires_at: dto.expires_at,
        allow_upload: dto.allow_upload,
        allow_download: dto.allow_download,
        show_exif: dto.show_metadata,
    };
    shared_links::update(&state.db, id.0, &changes)
        .await
        .map_err(slug_conflict)?;
    let link = owned(&state, &auth, id).await?;
    Ok(Json(link_dto(&state, link, Audience::Owner, None).await?))
}

pub async fn delete(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<SharedLinkId>,
) -> ApiResult<StatusCode> {
    owned(&state, &auth, id).await?;
    shared_links::delete(&state.db, id.0).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssetIdsDto {
    asset_ids: Vec<AssetId>,
}

impl Validate for AssetIdsDto {}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AssetIdsResponseDto {
    asset_id: Uuid,
    success: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'static str>,
}

async fn individual(state: &AppState, auth: &AuthContext, id: SharedLinkId) -> ApiResult<SharedLink> {
    let link = owned(state, auth, id).await?;
    if link.link_type != "INDIVIDUAL" {
        return Err(ApiError::bad_request("Invalid shared link type"));
    }
    Ok(link)
}

pub async fn add_assets(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<SharedLinkId>,
    ValidJson(dto): ValidJson<AssetIdsDto>,
) -> ApiResult<Json<Vec<AssetIdsResponseDto>>> {
    let link = individual(&state, &auth, id).await?;
    let ids = uuids(&dto.asset_ids);
    let mut present: HashSet<Uuid> = shared_links::asset_ids(&state.db, link.id, true)
        .await?
        .into_iter()
        .collect();
    let shareable: HashSet<Uuid> = access::allowed_assets(&state, &auth, Permission::AssetShare, &ids)
        .await?
        .into_iter()
        .collect();
    let mut results = Vec::with_capacity(ids.len());
    let mut added = Vec::new();
    for asset_id in ids {
        let error = if present.contains(&asset_id) {
            Some("duplicate")
        } else if !shareable.contains(&asset_id) {
            Some("no_permission")
        } else {
            present.insert(asset_id);
            added.push(asset_id);
            None
        };
        results.push(AssetIdsResponseDto {
            asset_id,
            success: error.is_none(),
            error,
        });
    }
    shared_links::add_assets(&state.db, link.id, &added).await?;
    Ok(Json(results))
}

pub async fn remove_assets(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<SharedLinkId>,
    ValidJson(dto): ValidJson<AssetIdsDto>,
) -> ApiResult<Json<Vec<AssetIdsResponseDto>>> {
    let link = individual(&state, &auth, id).await?;
    let ids = uuids(&dto.asset_ids);
    let removed: HashSet<Uuid> = shared_links::remove_assets(&state.db, link.id, &ids)
        .await?
        .into_iter()
        .collect();
    Ok(Json(
        ids.into_iter()
            .map(|asset_id| {
                let error = (!removed.contains(&asset_id)).then_some("not_found");
                AssetIdsResponseDto {
                    asset_id,
                    success: error.is_none(),
                    error,
                }
            })
            .collect(),
    ))
}
