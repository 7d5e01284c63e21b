//! The `backgroundTask` jobs: housekeeping that Immich runs nightly (or on demand).

use chrono::Utc;
use darkroom_storage::maintenance;
use darkroom_storage::media_layout::StorageFolder;
use serde_json::json;
use uuid::Uuid;

use super::handlers::{JobError, system_config};
use super::{Job, UserJob, enqueue};
use crate::state::AppState;

fn days(count: i64) -> chrono::Duration {
    chrono::Duration::days(count.max(0))
}

/// Trash older than `trash.days` is deleted for good (all of it when the trash is off).
#[tracing::instrument(skip_all)]
pub async fn asset_delete_check(state: &AppState) -> Result<(), JobError> {
    let config = system_config(state).await?;
    let kept_for = if config.trash.enabled {
        days(config.trash.days)
    } else {
        chrono::Duration::zero()
    };
    let expired = maintenance::expire_trash(&state.db, Utc::now() - kept_for).await?;
    if expired > 0 {
        tracing::info!(count = expired, "deleting assets past their time in the trash");
    }
    crate::services::trash::purge(state, None)
        .await
        .map_err(|e| JobError::Retry(e.to_string()))
}

/// Users deleted longer ago than `user.deleteDelay` days are removed for good.
#[tracing::instrument(skip_all)]
pub async fn user_delete_check(state: &AppState) -> Result<(), JobError> {
    let config = system_config(state).await?;
    let cutoff = Utc::now() - days(config.user.delete_delay);
    let users = maintenance::users_deleted_before(&state.db, cutoff).await?;
    enqueue(
        state,
        users.iter().map(|&id| Job::UserDelete(UserJob { id, force: false })),
    )
    .await;
    Ok(())
}

/// Removes a deleted user: rows first (assets, albums, sessions, keys go with the user), then
/// the user's folders, so a failure never leaves assets whose files are gone.
#[tracing::instrument(skip_all, fields(user = %id, force))]
pub async fn user_delete(state: &AppState, id: Uuid, force: bool) -> Result<(), JobError> {
    let Some(user) = maintenance::doomed_user(&state.db, id).await? else {
        return Ok(());
    };
    if !force && user.status != "removing" {
        let config = system_config(state).await?;
        let ready = user
            .deleted_at
            .is_some_and(|at| at < Utc::now() - days(config.user.delete_delay));
        if !ready {
            tracing::warn!(user = %id, "user is not ready for deletion yet; skipped");
            return Ok(());
        }
    }
    tracing::info!(user = %id, "deleting user and all of their files");
    maintenance::delete_user(&state.db, id).await?;
    let owner = id.to_string();
    let library = user
        .storage_label
        .filter(|label| !label.is_empty())
        .unwrap_or_else(|| owner.clone());
    let folders = [
        state.layout.folder(StorageFolder::Library).join(library),
        state.layout.folder(StorageFolder::Upload).join(&owner),
        state.layout.folder(StorageFolder::Profile).join(&owner),
        state.layout.folder(StorageFolder::Thumbnails).join(&owner),
        state.layout.folder(StorageFolder::EncodedVideo).join(&owner),
    ];
    for folder in folders {
        match tokio::fs::remove_dir_all(&folder).await {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => {
                tracing::warn!(folder = %folder.display(), %error, "could not remove a deleted user's folder")
            }
        }
    }
    crate::events::broadcast(state, "on_user_delete", Some(json!(id))).await;
    Ok(())
}

#[tracing::instrument(skip_all)]
pub async fn session_cleanup(state: &AppState) -> Result<(), JobError> {
    let deleted = maintenance::delete_stale_sessions(&state.db).await?;
    tracing::info!(count = deleted, "deleted expired session tokens");
    Ok(())
}

#[tracing::instrument(skip_all)]
pub async fn audit_table_cleanup(state: &AppState) -> Result<(), JobError> {
    let pruned = maintenance::prune_audit_tables(&state.db).await?;
    tracing::info!(count = pruned, "pruned audit rows older than 31 days");
    Ok(())
}

#[tracing::instrument(skip_all)]
pub async fn user_sync_usage(state: &AppState) -> Result<(), JobError> {
    maintenance::sync_quota_usage(&state.db).await?;
    Ok(())
}

/// Tags on no asset (nor any tag below them) go.
#[tracing::instrument(skip_all)]
pub async fn tag_cleanup(state: &AppState) -> Result<(), JobError> {
    let deleted = darkroom_storage::tags::delete_empty(&state.db).await?;
    tracing::info!(count = deleted, "deleted empty tags");
    Ok(())
}

/// Immich's "on this day": for the days around today not yet done, a memory per earlier year
/// with photos taken on that day, for every user. Progress is kept in system metadata
/// (`memories-state`), so a day is never done twice.
#[tracing::instrument(skip_all)]
pub async fn memory_generate(state: &AppState) -> Result<(), JobError> {
    use chrono::{Datelike, NaiveDate};
    const KEY: &str = "memories-state";
    let today = Utc::now().date_naive();
    let start = today - chrono::Duration::days(3);
    let saved = darkroom_storage::system_metadata::get(&state.db, KEY).await?;
    let mut done: NaiveDate = saved
        .as_ref()
        .and_then(|s| s["lastOnThisDayDate"].as_str())
        .and_then(|d| chrono::DateTime::parse_from_rfc3339(d).ok())
        .map(|d| d.date_naive())
        .unwrap_or(start);
    let users = darkroom_storage::memories::active_users(&state.db).await?;
    for offset in 0..7 {
        let target = start + chrono::Duration::days(offset);
        if done >= target {
            continue;
        }
        for &user in &users {
            let years = darkroom_storage::memories::on_this_day(
                &state.db,
                user,
                target.month() as i32,
                target.day() as i32,
                target.year(),
            )
            .await?;
            for (year, asset_ids) in years {
                let Some(memory_day) = NaiveDate::from_ymd_opt(year, target.month(), target.day()) else {
                    continue;
                };
                let memory = darkroom_storage::memories::NewMemory {
                    owner_id: user,
                    memory_type: "on_this_day".into(),
                    data: json!({ "year": year }),
                    memory_at: memory_day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc(),
                    is_saved: false,
                    seen_at: None,
                    show_at: target.and_hms_opt(0, 0, 0).map(|t| t.and_utc()),
                    hide_at: target.and_hms_milli_opt(23, 59, 59, 999).map(|t| t.and_utc()),
                    asset_ids,
                };
                darkroom_storage::memories::create(&state.db, &memory).await?;
            }
        }
        done = target;
        let progress =
            json!({ "lastOnThisDayDate": target.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc().to_rfc3339() });
        darkroom_storage::system_metadata::set(&state.db, KEY, &progress).await?;
    }
    Ok(())
}

#[tracing::instrument(skip_all)]
pub async fn memory_cleanup(state: &AppState) -> Result<(), JobError> {
    let deleted = darkroom_storage::memories::cleanup(&state.db).await?;
    tracing::info!(count = deleted, "deleted old unsaved memories");
    Ok(())
}
