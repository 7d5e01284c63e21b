//! The trash: assets go there first; emptying it (or a forced delete) removes them for good,
//! right away; the nightly `AssetDeleteCheck` removes what stayed longer than `trash.days`.

use darkroom_storage::assets;
use uuid::Uuid;

use crate::error::ApiResult;
use crate::state::AppState;

/// Trashes `ids`, or with `force` deletes them permanently.
#[tracing::instrument(skip_all, fields(user = %owner, count = ids.len(), force))]
pub async fn remove(state: &AppState, owner: Uuid, ids: &[Uuid], force: bool) -> ApiResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    assets::trash(&state.db, ids, force).await?;
    if force {
        purge(state, Some(owner)).await?;
    } else {
        crate::events::send(state, owner, "on_asset_trash", serde_json::json!(ids)).await;
    }
    Ok(())
}

/// Marks the owner's trash for deletion and deletes it; returns how many assets it held.
#[tracing::instrument(skip_all, fields(user = %owner))]
pub async fn empty(state: &AppState, owner: Uuid) -> ApiResult<u64> {
    let count = assets::empty_trash(&state.db, owner).await?;
    if count > 0 {
        purge(state, Some(owner)).await?;
    }
    Ok(count)
}

/// Deletes the rows of the assets marked `deleted` (the owner's, or everyone's), then their
/// files. A file that cannot be removed is logged: its row is already gone, so no client can
/// see it.
#[tracing::instrument(skip_all)]
pub async fn purge(state: &AppState, owner: Option<Uuid>) -> ApiResult<()> {
    for asset in assets::purge_deleted(&state.db, owner).await? {
        crate::events::send(state, asset.owner_id, "on_asset_delete", serde_json::json!(asset.id)).await;
        for file in &asset.files {
            let path = std::path::Path::new(file);
            if !state.layout.contains(path) {
                continue;
            }
            match tokio::fs::remove_file(path).await {
                Ok(()) => {}
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(error) => {
                    tracing::warn!(asset = %asset.id, file, %error, "could not remove a deleted asset's file")
                }
            }
        }
    }
    Ok(())
}
