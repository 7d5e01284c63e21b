//! The smart-search queue: each asset's preview through CLIP, its embedding into `smart_search`.

use darkroom_storage::embeddings;
use uuid::Uuid;

use super::handlers::{JobError, preview_to_analyse, system_config};
use super::{AssetJob, Job, Reason, enqueue};
use crate::machine_learning::{MlError, is_smart_search_enabled};
use crate::state::AppState;

/// A service that did not answer may answer later; an answer it could not give will not change.
impl From<MlError> for JobError {
    fn from(error: MlError) -> Self {
        match error {
            MlError::AllUrlsFailed { .. } => Self::Retry(error.to_string()),
            MlError::ReadImage { ref source, .. } if source.kind() != std::io::ErrorKind::NotFound => {
                Self::Retry(error.to_string())
            }
            MlError::Disabled | MlError::ReadImage { .. } | MlError::UnexpectedAnswer { .. } => {
                Self::Fatal(error.to_string())
            }
        }
    }
}

#[tracing::instrument(skip(state), fields(asset = %id))]
pub(super) async fn encode_clip(state: &AppState, id: Uuid, reason: Option<Reason>) -> Result<(), JobError> {
    let config = system_config(state).await?;
    let ml = &config.machine_learning;
    if !is_smart_search_enabled(ml) {
        return Ok(());
    }
    let Some(preview) = preview_to_analyse(state, id, "encode").await? else {
        return Ok(());
    };
    let embedding = state.ml.encode_image(ml, &preview).await?;
    // An embedding of a model no longer configured would not compare with the others.
    let now = system_config(state).await?;
    if now.machine_learning.clip.model_name != ml.clip.model_name {
        tracing::debug!("the CLIP model changed while encoding; skipped");
        return Ok(());
    }
    embeddings::upsert_clip(&state.db, id, &embedding).await?;
    // A new upload is compared with the rest of the library next.
    if reason == Some(Reason::Upload) {
        enqueue(state, [Job::AssetDetectDuplicates(AssetJob { id, reason })]).await;
    }
    Ok(())
}
