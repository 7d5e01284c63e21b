//! Who may touch which asset or album. Every route that takes ids asks here, so the rules live
//! in one place; anything not allowed reads `Not found or no <permission> access`, whether the
//! thing is someone else's or does not exist. Owners, album members and shared-link guests are
//! the rules today; partners join here.

use darkroom_storage::albums::{self, AlbumRole};
use darkroom_storage::{assets, partners, shared_links};
use uuid::Uuid;

use crate::auth::AuthContext;
use crate::error::{ApiError, ApiResult};
use crate::permission::Permission;
use crate::state::AppState;

pub fn denied(permission: Permission) -> ApiError {
    ApiError::bad_request(format!("Not found or no {} access", permission.as_str()))
}

/// Locked (PIN-protected) assets count only in a session unlocked with the PIN.
fn sees_locked(auth: &AuthContext) -> bool {
    auth.session
        .as_ref()
        .is_some_and(|session| session.has_elevated_permission)
}

/// Locked assets need a session unlocked with the PIN code.
pub fn require_elevated(auth: &AuthContext) -> ApiResult<()> {
    if sees_locked(auth) {
        Ok(())
    } else {
        Err(ApiError::unauthorized("Elevated permission is required"))
    }
}

/// Succeeds when `auth` may see `user`'s timeline: their own, or a partner's who shares with
/// them (archived photos only their own).
pub async fn require_timeline(state: &AppState, auth: &AuthContext, user: Uuid, archive: bool) -> ApiResult<()> {
    if auth.shared_link.is_some() {
        return Err(denied(Permission::TimelineRead));
    }
    if user == auth.user.id {
        return Ok(());
    }
    if partners::sharing_with(&state.db, auth.user.id, &[user])
        .await?
        .is_empty()
    {
        return Err(denied(Permission::TimelineRead));
    }
    if archive {
        return Err(denied(Permission::ArchiveRead));
    }
    Ok(())
}

/// Succeeds when `auth` may use `permission` on every one of `ids`.
pub async fn require_assets(
    state: &AppState,
    auth: &AuthContext,
    permission: Permission,
    ids: &[Uuid],
) -> ApiResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut wanted: Vec<Uuid> = ids.to_vec();
    wanted.sort_unstable();
    wanted.dedup();
    let allowed = allowed_assets(state, auth, permission, &wanted).await?;
    if allowed.len() == wanted.len() {
        Ok(())
    } else {
        Err(denied(permission))
    }
}

/// The subset of `ids` (without repeats) `auth` may use `permission` on.
pub async fn allowed_assets(
    state: &AppState,
    auth: &AuthContext,
    permission: Permission,
    ids: &[Uuid],
) -> ApiResult<Vec<Uuid>> {
    if let Some(link) = &auth.shared_link {
        return Ok(match permission {
            Permission::AssetRead | Permission::AssetView => {
                shared_links::visible_asset_ids(&state.db, link.id, ids).await?
            }
            Permission::AssetDownload if link.allow_download => {
                shared_links::visible_asset_ids(&state.db, link.id, ids).await?
            }
            Permission::AssetUpload if link.allow_upload => ids.to_vec(),
            _ => Vec::new(),
        });
    }
    let mut allowed = match permission {
        Permission::AssetRead
        | Permission::AssetView
        | Permission::AssetDownload
        | Permission::AssetUpdate
        | Permission::AssetDelete
        | Permission::AssetShare
        | Permission::AssetCopy => assets::owned_ids(&state.db, auth.user.id, ids, sees_locked(auth)).await?,
        _ => Vec::new(),
    };
    // Partners and album members see (but do not change) what is shared with them.
    if matches!(
        permission,
        Permission::AssetRead | Permission::AssetView | Permission::AssetDownload
    ) {
        let rest = |allowed: &[Uuid]| {
            ids.iter()
                .copied()
                .filter(|id| !allowed.contains(id))
                .collect::<Vec<_>>()
        };
        let unknown = rest(&allowed);
        if !unknown.is_empty() {
            allowed.extend(partners::shared_asset_ids(&state.db, auth.user.id, &unknown).await?);
        }
        let unknown = rest(&allowed);
        if !unknown.is_empty() {
            allowed.extend(albums::asset_ids_shared_with(&state.db, auth.user.id, &unknown).await?);
        }
    }
    Ok(allowed)
}

/// Which roles may do what with an album.
fn role_allows(role: AlbumRole, permission: Permission) -> bool {
    match permission {
        Permission::AlbumRead | Permission::AlbumDownload => true,
        Permission::AlbumUpdate
        | Permission::AlbumShare
        | Permission::AlbumAssetCreate
        | Permission::AlbumAssetDelete => {
            matches!(role, AlbumRole::Owner | AlbumRole::Editor)
        }
        Permission::AlbumDelete => role == AlbumRole::Owner,
        _ => false,
    }
}

/// Succeeds when `auth` may use `permission` on the album `id`.
pub async fn require_album(state: &AppState, auth: &AuthContext, permission: Permission, id: Uuid) -> ApiResult<()> {
    if allowed_albums(state, auth, permission, &[id]).await?.contains(&id) {
        Ok(())
    } else {
        Err(denied(permission))
    }
}

/// The subset of `ids` on which `auth` may use `permission`.
pub async fn allowed_albums(
    state: &AppState,
    auth: &AuthContext,
    permission: Permission,
    ids: &[Uuid],
) -> ApiResult<Vec<Uuid>> {
    if let Some(link) = &auth.shared_link {
        let allowed = match permission {
            Permission::AlbumRead => true,
            Permission::AlbumDownload => link.allow_download,
            Permission::AlbumAssetCreate => link.allow_upload,
            _ => false,
        };
        return Ok(link
            .album_id
            .filter(|album| allowed && ids.contains(album))
            .into_iter()
            .collect());
    }
    let roles = albums::roles(&state.db, auth.user.id, ids).await?;
    Ok(roles
        .into_iter()
        .filter(|(_, role)| role_allows(*role, permission))
        .map(|(id, _)| id)
        .collect())
}

/// The subset of `ids` (people) on which `auth` may use `permission`: a person is only their
/// owner's; shared-link guests have none.
pub async fn allowed_people(
    state: &AppState,
    auth: &AuthContext,
    permission: Permission,
    ids: &[Uuid],
) -> ApiResult<Vec<Uuid>> {
    let by_owner = matches!(
        permission,
        Permission::PersonRead
            | Permission::PersonUpdate
            | Permission::PersonDelete
            | Permission::PersonMerge
            | Permission::PersonStatistics
    );
    if auth.shared_link.is_some() || !by_owner || ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(darkroom_storage::people::owned(&state.db, auth.user.id, ids).await?)
}

/// Succeeds when `auth` may use `permission` on every person of `ids`.
pub async fn require_people(
    state: &AppState,
    auth: &AuthContext,
    permission: Permission,
    ids: &[Uuid],
) -> ApiResult<()> {
    let allowed = allowed_people(state, auth, permission, ids).await?;
    if ids.iter().all(|id| allowed.contains(id)) {
        Ok(())
    } else {
        Err(denied(permission))
    }
}

/// Succeeds when `auth` may use `permission` on every face of `ids`: faces belong to whoever
/// owns their asset, while it is not in the trash. (Immich checks faces under `person.create`
/// and `person.reassign` as well as the `face.*` permissions.)
pub async fn require_faces(
    state: &AppState,
    auth: &AuthContext,
    permission: Permission,
    ids: &[Uuid],
) -> ApiResult<()> {
    let by_owner = matches!(
        permission,
        Permission::PersonCreate
            | Permission::PersonReassign
            | Permission::FaceRead
            | Permission::FaceCreate
            | Permission::FaceUpdate
            | Permission::FaceDelete
    );
    if auth.shared_link.is_some() || !by_owner {
        return Err(denied(permission));
    }
    let allowed = darkroom_storage::faces::owned(&state.db, auth.user.id, ids).await?;
    if ids.iter().all(|id| allowed.contains(id)) {
        Ok(())
    } else {
        Err(denied(permission))
    }
}
