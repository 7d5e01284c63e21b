//! The duplicate-detection queue: an asset's nearest look-alikes by CLIP embedding (within
//! `machineLearning.duplicateDetection.maxDistance`) join it in one group, groups that meet
//! are merged, and the `/duplicates` pages list the groups.

use darkroom_storage::duplicates;
use uuid::Uuid;

use super::handlers::{JobError, system_config};
use crate::machine_learning::is_duplicate_detection_enabled;
use crate::state::AppState;

#[tracing::instrument(skip(state), fields(asset = %id))]
pub(super) async fn detect_duplicates(state: &AppState, id: Uuid) -> Result<(), JobError> {
    let config = system_config(state).await?;
    let ml = &config.machine_learning;
    if !is_duplicate_detection_enabled(ml) {
        return Ok(());
    }
    let Some(asset) = duplicates::detection_subject(&state.db, id).await? else {
        return Ok(()); // deleted meanwhile
    };
    // Stacked assets are grouped already; hidden and locked ones are not shown with the rest.
    if asset.stack_id.is_some() || matches!(asset.visibility.as_str(), "hidden" | "locked") {
        return Ok(());
    }
    let embedding = asset
        .embedding
        .ok_or_else(|| JobError::Fatal("the asset has no CLIP embedding yet".to_owned()))?;
    let max_distance = ml.duplicate_detection.max_distance.as_f64().unwrap_or(0.01);
    let look_alikes = duplicates::look_alikes(
        &state.db,
        asset.owner_id,
        id,
        &asset.asset_type,
        &embedding,
        max_distance,
    )
    .await?;
    let mut grouped = vec![id];
    if look_alikes.is_empty() {
        if asset.duplicate_id.is_some() {
            duplicates::leave_group(&state.db, id).await?;
        }
    } else {
        let mut groups: Vec<Uuid> = Vec::new();
        for group in look_alikes.iter().filter_map(|found| found.duplicate_id) {
            if !groups.contains(&group) {
                groups.push(group);
            }
        }
        // The asset's own group wins, then its nearest look-alike's, else a new one.
        let target = match asset.duplicate_id {
            Some(own) => own,
            None if !groups.is_empty() => groups.remove(0),
            None => Uuid::new_v4(),
        };
        groups.retain(|group| *group != target);
        grouped = look_alikes
            .iter()
            .filter(|found| found.duplicate_id != Some(target))
            .map(|found| found.asset_id)
            .collect();
        grouped.push(id);
        tracing::debug!(found = look_alikes.len(), %target, "look-alikes grouped");
        duplicates::merge(&state.db, target, &grouped, &groups).await?;
    }
    duplicates::mark_detected(&state.db, &grouped).await?;
    Ok(())
}
