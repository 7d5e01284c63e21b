//! `/duplicates`: groups of look-alike photos, with the one worth keeping suggested.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use darkroom_storage::assets::{self, Asset, AssetEdit, AssetVisibility, ExifEdit};
use darkroom_storage::{albums, duplicates, tags};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::access;
use crate::auth::{Auth, AuthContext};
use crate::dto::asset::AssetResponseDto;
use crate::dto::ids::{AssetId, DuplicateId};
use crate::dto::{BulkIdResponseDto, BulkIdsDto};
use crate::error::{ApiResult, ValidationIssue};
use crate::permission::Permission;
use crate::services::{asset_edits, trash};
use crate::state::AppState;
use crate::validation::{IdPath, ValidJson, Validate, rules};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DuplicateResponseDto {
    duplicate_id: Uuid,
    assets: Vec<AssetResponseDto>,
    suggested_keep_asset_ids: Vec<Uuid>,
}

/// How much an asset's EXIF says: the tie-breaker between equally large files.
fn exif_richness(asset: &Asset) -> usize {
    let Some(e) = &asset.exif else { return 0 };
    let texts = [
        &e.make,
        &e.model,
        &e.orientation,
        &e.time_zone,
        &e.lens_model,
        &e.exposure_time,
        &e.city,
        &e.state,
        &e.country,
        &e.projection_type,
        &e.profile_description,
    ];
    let numbers = [e.f_number, e.focal_length, e.latitude, e.longitude, e.fps];
    texts
        .iter()
        .filter(|t| t.as_deref().is_some_and(|t| !t.is_empty()))
        .count()
        + numbers.iter().filter(|n| n.is_some()).count()
        + [e.exif_image_width, e.exif_image_height, e.iso, e.rating]
            .iter()
            .filter(|n| n.is_some())
            .count()
        + [e.date_time_original, e.modify_date]
            .iter()
            .filter(|d| d.is_some())
            .count()
        + usize::from(!e.description.is_empty())
}

/// The largest file, then the richest EXIF, then the latest.
fn suggested_keep(assets: &[Asset]) -> Option<Uuid> {
    let size = |a: &Asset| a.exif.as_ref().and_then(|e| e.file_size_in_byte).unwrap_or(0);
    assets
        .iter()
        .enumerate()
        .max_by_key(|(index, a)| (size(a), exif_richness(a), *index))
        .map(|(_, a)| a.id)
}

/// `GET /duplicates`.
pub async fn list(State(state): State<AppState>, Auth(auth): Auth) -> ApiResult<Json<Vec<DuplicateResponseDto>>> {
    duplicates::dissolve_singletons(&state.db, auth.user.id).await?;
    let mut groups = Vec::new();
    for (duplicate_id, ids) in duplicates::groups(&state.db, auth.user.id).await? {
        let found = assets::get_many(&state.db, &ids).await?;
        let keep = suggested_keep(&found);
        let assets = found
            .into_iter()
            .map(|asset| AssetResponseDto::new(asset, auth.user.id, None))
            .collect();
        groups.push(DuplicateResponseDto {
            duplicate_id,
            assets,
            suggested_keep_asset_ids: keep.into_iter().collect(),
        });
    }
    Ok(Json(groups))
}

async fn dismiss(state: &AppState, auth: &AuthContext, ids: &[Uuid]) -> ApiResult<StatusCode> {
    let owned = duplicates::owned(&state.db, auth.user.id, ids).await?;
    if !ids.iter().all(|id| owned.contains(id)) {
        return Err(access::denied(Permission::DuplicateDelete));
    }
    duplicates::dismiss(&state.db, auth.user.id, ids).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /duplicates/{id}`: not duplicates after all (no asset is deleted).
pub async fn dismiss_one(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<DuplicateId>,
) -> ApiResult<StatusCode> {
    dismiss(&state, &auth, &[id.0]).await
}

/// `DELETE /duplicates {ids}`.
pub async fn dismiss_many(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidJson(body): ValidJson<BulkIdsDto<DuplicateId>>,
) -> ApiResult<StatusCode> {
    dismiss(&state, &auth, &body.ids()).await
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DuplicateResolveGroupDto {
    duplicate_id: DuplicateId,
    keep_asset_ids: Vec<AssetId>,
    trash_asset_ids: Vec<AssetId>,
}

#[derive(Debug, Deserialize)]
pub struct DuplicateResolveDto {
    groups: Vec<DuplicateResolveGroupDto>,
}

impl Validate for DuplicateResolveDto {
    fn validate(&self) -> Vec<ValidationIssue> {
        let mut issues = Vec::new();
        rules::non_empty(&mut issues, &["groups"], &self.groups);
        issues
    }
}

/// `POST /duplicates/resolve`: per group, the assets to keep and those to trash. With one
/// keeper, it takes over what the others had: favourite, the most private visibility, the best
/// rating, every description line, their common position, their albums and tags.
pub async fn resolve(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidJson(dto): ValidJson<DuplicateResolveDto>,
) -> ApiResult<Json<Vec<BulkIdResponseDto>>> {
    let resolutions = dto.groups;
    let ids: Vec<Uuid> = resolutions.iter().map(|r| r.duplicate_id.0).collect();
    let owned = duplicates::owned(&state.db, auth.user.id, &ids).await?;
    if !ids.iter().all(|id| owned.contains(id)) {
        return Err(access::denied(Permission::DuplicateDelete));
    }
    let mut results = Vec::with_capacity(resolutions.len());
    for resolution in &resolutions {
        let result = match resolve_group(&state, &auth, resolution).await {
            Ok(result) => result,
            Err(error) => {
                tracing::error!(duplicate = %resolution.duplicate_id, %error, "could not resolve a duplicate group");
                BulkIdResponseDto::of(resolution.duplicate_id.0, Some("unknown"))
            }
        };
        results.push(result);
    }
    Ok(Json(results))
}

async fn resolve_group(
    state: &AppState,
    auth: &AuthContext,
    resolution: &DuplicateResolveGroupDto,
) -> ApiResult<BulkIdResponseDto> {
    let id = resolution.duplicate_id.0;
    let members = duplicates::members(&state.db, auth.user.id, id).await?;
    if members.is_empty() {
        return Ok(BulkIdResponseDto::of(id, Some("not_found")));
    }
    // Ids outside the group are ignored; every member must be either kept or trashed.
    let keep: Vec<Uuid> = resolution
        .keep_asset_ids
        .iter()
        .map(|&a| a.0)
        .filter(|a| members.contains(a))
        .collect();
    let trash: Vec<Uuid> = resolution
        .trash_asset_ids
        .iter()
        .map(|&a| a.0)
        .filter(|a| members.contains(a))
        .collect();
    if members.iter().any(|a| keep.contains(a) && trash.contains(a)) {
        return Ok(BulkIdResponseDto::failed(
            id,
            "validation",
            "An asset cannot be in both keepAssetIds and trashAssetIds",
        ));
    }
    if members.iter().any(|a| !keep.contains(a) && !trash.contains(a)) {
        return Ok(BulkIdResponseDto::failed(
            id,
            "validation",
            "Every asset must be in either keepAssetIds or trashAssetIds",
        ));
    }
    if access::allowed_assets(state, auth, Permission::AssetDelete, &trash)
        .await?
        .len()
        != trash.len()
    {
        return Ok(BulkIdResponseDto::failed(
            id,
            "no_permission",
            "No permission to delete assets",
        ));
    }

    let mut edit = AssetEdit {
        duplicate_id: Some(None),
        ..Default::default()
    };
    if let [keeper] = keep[..]
        && !trash.is_empty()
    {
        let group = assets::get_many(&state.db, &members).await?;
        let (asset_edit, exif_edit) = merged_metadata(&group);
        edit = AssetEdit {
            duplicate_id: Some(None),
            ..asset_edit
        };
        let mut edited = !exif_edit.is_empty();
        asset_edits::apply(state, &[keeper], &AssetEdit::default(), &exif_edit).await?;
        merge_albums(state, auth, keeper, &members).await?;
        edited |= merge_tags(state, auth, keeper, &members).await?;
        if edited {
            crate::jobs::edited(state, &[keeper]).await;
        }
    }
    asset_edits::apply(state, &keep, &edit, &ExifEdit::default()).await?;
    if !trash.is_empty() {
        assets::edit(
            &state.db,
            &trash,
            &AssetEdit {
                duplicate_id: Some(None),
                ..Default::default()
            },
        )
        .await?;
        let force = !state.system_config.typed(&state.db).await?.trash.enabled;
        trash::remove(state, auth.user.id, &trash, force).await?;
    }
    Ok(BulkIdResponseDto::of(id, None))
}

/// What the keeper takes over from the whole group.
fn merged_metadata(group: &[Asset]) -> (AssetEdit, ExifEdit) {
    let visibility = [
        AssetVisibility::Locked,
        AssetVisibility::Archive,
        AssetVisibility::Timeline,
        AssetVisibility::Hidden,
    ]
    .into_iter()
    .find(|level| group.iter().any(|a| a.visibility == *level));
    let asset = AssetEdit {
        is_favorite: Some(group.iter().any(|a| a.is_favorite)),
        visibility,
        ..Default::default()
    };
    let exifs: Vec<_> = group.iter().filter_map(|a| a.exif.as_ref()).collect();
    let rating = exifs.iter().filter_map(|e| e.rating).max().filter(|&r| r > 0);
    let mut lines: Vec<&str> = Vec::new();
    for exif in &exifs {
        for line in exif.description.lines().map(str::trim) {
            if !line.is_empty() && !lines.contains(&line) {
                lines.push(line);
            }
        }
    }
    // A position only when the group agrees on it.
    let common = |value: fn(&&darkroom_storage::exif::Exif) -> Option<f64>| {
        let mut values = exifs.iter().filter_map(value).filter(|v| v.is_finite());
        let first = values.next()?;
        values.all(|v| v == first).then_some(first)
    };
    let (latitude, longitude) = match (common(|e| e.latitude), common(|e| e.longitude)) {
        (Some(latitude), Some(longitude)) => (Some(latitude), Some(longitude)),
        _ => (None, None),
    };
    let exif = ExifEdit {
        description: (!lines.is_empty()).then(|| lines.join("\n")),
        rating: rating.map(Some),
        latitude,
        longitude,
        ..Default::default()
    };
    (asset, exif)
}

/// The keeper joins every album (the caller may add to) that held one of the group.
async fn merge_albums(state: &AppState, auth: &AuthContext, keeper: Uuid, members: &[Uuid]) -> ApiResult<()> {
    let mut album_ids = Vec::new();
    for member in members {
        for album in albums::list_with_asset(&state.db, auth.user.id, *member).await? {
            if !album_ids.contains(&album.id) {
                album_ids.push(album.id);
            }
        }
    }
    if album_ids.is_empty()
        || access::allowed_assets(state, auth, Permission::AssetShare, &[keeper])
            .await?
            .is_empty()
    {
        return Ok(());
    }
    for album in access::allowed_albums(state, auth, Permission::AlbumAssetCreate, &album_ids).await? {
        albums::add_assets(&state.db, album, &[keeper]).await?;
    }
    Ok(())
}

/// The keeper gets every tag (the caller may tag with) of the group; true when it got any.
async fn merge_tags(state: &AppState, auth: &AuthContext, keeper: Uuid, members: &[Uuid]) -> ApiResult<bool> {
    let mut tag_ids: Vec<Uuid> = tags::of_assets(&state.db, members)
        .await?
        .into_iter()
        .map(|(_, tag)| tag.id)
        .collect();
    tag_ids.sort();
    tag_ids.dedup();
    let allowed = tags::owned(&state.db, auth.user.id, &tag_ids).await?;
    if allowed.is_empty() {
        return Ok(false);
    }
    tags::tag_assets(&state.db, &allowed, &[keeper]).await?;
    Ok(true)
}
