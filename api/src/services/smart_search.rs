//! Smart search: the CLIP embedding column kept at the configured model's dimension, and the
//! embeddings of search texts, remembered for repeated queries (the web asks again for every
//! page and every filter change).

use std::collections::VecDeque;
use std::sync::Mutex;

use darkroom_storage::embeddings::{self, EmbeddingTable};

use crate::error::{ApiError, ApiResult, Context};
use crate::machine_learning::{clip_dimension, is_smart_search_enabled};
use crate::state::AppState;
use crate::system_config::SystemConfig;
use crate::system_config::sections::MachineLearningConfig;

/// Query texts remembered, as Immich's LRU of 100.
const QUERY_CACHE_SIZE: usize = 100;

/// The most recently used search-text embeddings, keyed by model, text and language.
#[derive(Default)]
pub struct QueryEmbeddings(Mutex<VecDeque<(String, String)>>);

impl QueryEmbeddings {
    fn key(model: &str, text: &str, language: Option<&str>) -> String {
        format!("{model}\u{0}{text}\u{0}{}", language.unwrap_or_default())
    }

    fn get(&self, key: &str) -> Option<String> {
        let mut entries = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let position = entries.iter().position(|(cached, _)| cached == key)?;
        let entry = entries.remove(position)?;
        let embedding = entry.1.clone();
        entries.push_front(entry);
        Some(embedding)
    }

    fn put(&self, key: String, embedding: String) {
        let mut entries = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        entries.retain(|(cached, _)| *cached != key);
        entries.push_front((key, embedding));
        entries.truncate(QUERY_CACHE_SIZE);
    }
}

/// The embedding of a search text, from the cache or the machine-learning service.
pub async fn text_embedding(
    state: &AppState,
    ml: &MachineLearningConfig,
    text: &str,
    language: Option<&str>,
) -> ApiResult<String> {
    let key = QueryEmbeddings::key(&ml.clip.model_name, text, language);
    if let Some(embedding) = state.query_embeddings.get(&key) {
        return Ok(embedding);
    }
    let embedding = state
        .ml
        .encode_text(ml, text, language)
        .await
        .context("encoding the search text")?;
    state.query_embeddings.put(key, embedding.clone());
    Ok(embedding)
}

/// Refuses a CLIP model Immich does not know: its dimension would be unknown.
pub fn check_model(config: &SystemConfig) -> ApiResult<()> {
    let model = &config.machine_learning.clip.model_name;
    match clip_dimension(model) {
        Some(_) => Ok(()),
        None => Err(ApiError::bad_request(format!(
            "Unknown CLIP model: {model}. Please check the model name for typos and confirm this is a supported model."
        ))),
    }
}

/// Brings `smart_search` in line with the configured model: a new dimension empties the table
/// and re-sizes its column; the same dimension but another model (`previous_model`) only
/// empties it. Embeddings are then made again by the queue's "missing" run.
#[tracing::instrument(skip(state, config))]
pub async fn sync_dimension(state: &AppState, config: &SystemConfig, previous_model: Option<&str>) -> ApiResult<()> {
    let ml = &config.machine_learning;
    if !is_smart_search_enabled(ml) {
        return Ok(());
    }
    let Some(wanted) = clip_dimension(&ml.clip.model_name) else {
        tracing::warn!(
            model = ml.clip.model_name,
            "unknown CLIP model; smart search cannot store its embeddings"
        );
        return Ok(());
    };
    let stored = embeddings::dimension(&state.db, EmbeddingTable::Clip).await?;
    if stored != Some(wanted as i32) {
        tracing::info!(
            model = ml.clip.model_name,
            dimension = wanted,
            previous = ?stored,
            "updating the CLIP dimension of the database"
        );
        embeddings::set_dimension(&state.db, EmbeddingTable::Clip, wanted, state.vector_extension).await?;
    } else if previous_model.is_some_and(|previous| previous != ml.clip.model_name) {
        tracing::info!(
            model = ml.clip.model_name,
            "CLIP model changed; removing the old embeddings"
        );
        embeddings::delete_all_clip(&state.db).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_keeps_the_most_recent() {
        let cache = QueryEmbeddings::default();
        for n in 0..QUERY_CACHE_SIZE + 1 {
            cache.put(QueryEmbeddings::key("m", &n.to_string(), None), format!("[{n}]"));
        }
        assert_eq!(cache.get(&QueryEmbeddings::key("m", "0", None)), None);
        assert_eq!(cache.get(&QueryEmbeddings::key("m", "1", None)).as_deref(), Some("[1]"));
        assert_eq!(cache.get(&QueryEmbeddings::key("m", "1", Some("de"))), None);
        assert_eq!(cache.get(&QueryEmbeddings::key("other", "1", None)), None);
    }
}
