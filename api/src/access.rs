//! Who may touch which asset. Every route that takes asset ids asks here, so the rules live in
//! one place; anything not allowed reads `Not found or no <permission> access`, whether the
//! asset is someone else's or does not exist. Owners are the only rule today; partners, albums
//! and shared links join here.

use darkroom_storage::assets;
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
    auth.session.as_ref().is_some_and(|session| session.has_elevated_permission)
}

/// Succeeds when `auth` may use `permission` on every one of `ids`.
pub async fn require_assets(state: &AppState, auth: &AuthContext, permission: Permission, ids: &[Uuid]) -> ApiResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut wanted: Vec<Uuid> = ids.to_vec();
    wanted.sort_unstable();
    wanted.dedup();
    let allowed = match permission {
        Permission::AssetRead
        | Permission::AssetView
        | Permission::AssetDownload
        | Permission::AssetUpdate
        | Permission::AssetDelete
        | Permission::AssetShare
        | Permission::AssetCopy => assets::owned_ids(&state.db, auth.user.id, &wanted, sees_locked(auth)).await?,
        _ => Vec::new(),
    };
    if allowed.len() == wanted.len() { Ok(()) } else { Err(denied(permission)) }
}
