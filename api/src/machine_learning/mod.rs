//! The client of the machine-learning service (darkroom-ml or Immich's container: the same
//! protocol). `machineLearning.urls` are tried in order, the ones that answered last first; a
//! background check pings each on `machineLearning.availabilityChecks.interval`.

pub mod clip_models;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::Url;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use thiserror::Error;

use crate::state::WeakState;
use crate::system_config::sections::MachineLearningConfig;
use crate::telemetry::Metrics;

pub use clip_models::clip_dimension;

/// Whether CLIP runs: machine learning and smart search both enabled.
pub fn is_smart_search_enabled(ml: &MachineLearningConfig) -> bool {
    ml.enabled && ml.clip.enabled
}

/// Whether faces are detected and recognised.
pub fn is_face_recognition_enabled(ml: &MachineLearningConfig) -> bool {
    ml.enabled && ml.facial_recognition.enabled
}

/// Whether text is read on photos.
pub fn is_ocr_enabled(ml: &MachineLearningConfig) -> bool {
    ml.enabled && ml.ocr.enabled
}

/// Whether look-alikes are grouped: it needs the CLIP embeddings.
pub fn is_duplicate_detection_enabled(ml: &MachineLearningConfig) -> bool {
    is_smart_search_enabled(ml) && ml.duplicate_detection.enabled
}

#[derive(Debug, Error)]
pub enum MlError {
    #[error("Machine learning request '{request}' failed for all URLs")]
    AllUrlsFailed { request: String },
    #[error("Machine learning is disabled")]
    Disabled,
    #[error("reading {path}: {source}")]
    ReadImage { path: String, source: std::io::Error },
    #[error("the machine-learning service answered {request} with an unexpected body: {reason}")]
    UnexpectedAnswer { request: String, reason: String },
}

/// What the model looks at.
enum Payload {
    Image(Vec<u8>),
    Text(String),
}

/// The embedding answered for a CLIP request, in pgvector's text form (`[0.1,-0.2,…]`).
#[derive(Debug, Deserialize)]
struct ClipAnswer {
    clip: String,
}

pub struct MlClient {
    http: reqwest::Client,
    /// Whether each URL answered its last request or check.
    healthy: Mutex<HashMap<String, bool>>,
    metrics: Arc<Metrics>,
}

impl MlClient {
    pub fn new(metrics: Arc<Metrics>) -> Self {
        Self {
            http: reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
            healthy: Mutex::new(HashMap::new()),
            metrics,
        }
    }

    /// Each configured URL and whether it may answer, as [`Self::is_available`] judges it.
    pub fn availability(&self, config: &MachineLearningConfig) -> Vec<(String, bool)> {
        let health = self.health();
        config
            .urls
            .iter()
            .map(|url| {
                let up = !config.availability_checks.enabled || health.get(url).copied().unwrap_or(true);
                (url.clone(), up)
            })
            .collect()
    }

    fn health(&self) -> std::sync::MutexGuard<'_, HashMap<String, bool>> {
        self.healthy.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn set_healthy(&self, url: &str, healthy: bool) {
        let before = self.health().insert(url.to_owned(), healthy);
        if before != Some(healthy) {
            let became = if healthy { "healthy" } else { "unhealthy" };
            tracing::info!(url, "Machine learning server became {became}");
        }
    }

    /// The URLs to try: healthy ones (or, with checks off, all) first, in their configured order.
    fn ordered_urls(&self, config: &MachineLearningConfig) -> Vec<String> {
        let health = self.health();
        let is_healthy =
            |url: &String| !config.availability_checks.enabled || health.get(url).copied().unwrap_or(false);
        let (healthy, unhealthy): (Vec<String>, Vec<String>) = config.urls.iter().cloned().partition(is_healthy);
        healthy.into_iter().chain(unhealthy).collect()
    }

    /// Whether a configured URL may answer: one not yet checked counts, one whose last check or
    /// request failed does not (with checks off, any URL counts).
    pub fn is_available(&self, config: &MachineLearningConfig) -> bool {
        self.availability(config).iter().any(|(_, up)| *up)
    }

    /// Pings every URL once (`GET <url>/ping`), within the configured timeout.
    pub async fn check(&self, config: &MachineLearningConfig) {
        let timeout = Duration::from_millis(config.availability_checks.timeout.max(1) as u64);
        let checks = config.urls.iter().map(|url| async move {
            let healthy = match endpoint(url, "ping") {
                Some(ping) => self
                    .http
                    .get(ping)
                    .timeout(timeout)
                    .send()
                    .await
                    .is_ok_and(|response| response.status().is_success()),
                None => false,
            };
            (url, healthy)
        });
        for (url, healthy) in futures::future::join_all(checks).await {
            self.set_healthy(url, healthy);
        }
        // URLs no longer configured are forgotten.
        self.health().retain(|url, _| config.urls.contains(url));
    }

    async fn predict<T: DeserializeOwned>(
        &self,
        config: &MachineLearningConfig,
        entries: Value,
        payload: Payload,
    ) -> Result<T, MlError> {
        if !config.enabled {
            return Err(MlError::Disabled);
        }
        let task = entries
            .as_object()
            .and_then(|tasks| tasks.keys().next())
            .cloned()
            .unwrap_or_default();
        let started = std::time::Instant::now();
        let answer = self.try_urls(config, entries, payload).await;
        self.metrics
            .ml_request_finished(&task, answer.is_ok(), started.elapsed());
        answer
    }

    async fn try_urls<T: DeserializeOwned>(
        &self,
        config: &MachineLearningConfig,
        entries: Value,
        payload: Payload,
    ) -> Result<T, MlError> {
        let request = entries.to_string();
        for url in self.ordered_urls(config) {
            let Some(predict) = endpoint(&url, "predict") else {
                tracing::warn!(url, "Machine learning URL is not a valid URL");
                self.set_healthy(&url, false);
                continue;
            };
            let form = reqwest::multipart::Form::new().text("entries", request.clone());
            let form = match &payload {
                Payload::Image(bytes) => form.part(
                    "image",
                    reqwest::multipart::Part::bytes(bytes.clone()).file_name("blob"),
                ),
                Payload::Text(text) => form.text("text", text.clone()),
            };
            match self.http.post(predict).multipart(form).send().await {
                Ok(response) if response.status().is_success() => {
                    self.set_healthy(&url, true);
                    return response.json().await.map_err(|error| MlError::UnexpectedAnswer {
                        request,
                        reason: error.to_string(),
                    });
                }
                Ok(response) => {
                    let status = response.status();
                    let body = response.text().await.unwrap_or_default();
                    tracing::warn!(url, %status, body, "Machine learning request failed");
                }
                Err(error) => tracing::warn!(url, %error, "Machine learning request failed"),
            }
            self.set_healthy(&url, false);
        }
        Err(MlError::AllUrlsFailed { request })
    }

    /// The CLIP embedding of the image at `path` (the asset's preview).
    #[tracing::instrument(skip(self, config))]
    pub async fn encode_image(&self, config: &MachineLearningConfig, path: &Path) -> Result<String, MlError> {
        let bytes = read_image(path).await?;
        let entries = json!({"clip": {"visual": {"modelName": config.clip.model_name}}});
        let answer: ClipAnswer = self.predict(config, entries, Payload::Image(bytes)).await?;
        Ok(answer.clip)
    }

    /// The CLIP embedding of a search text; `language` helps multilingual models.
    #[tracing::instrument(skip(self, config))]
    pub async fn encode_text(
        &self,
        config: &MachineLearningConfig,
        text: &str,
        language: Option<&str>,
    ) -> Result<String, MlError> {
        let mut options = json!({});
        if let Some(language) = language {
            options["language"] = json!(language);
        }
        let entries = json!({"clip": {"textual": {"modelName": config.clip.model_name, "options": options}}});
        let answer: ClipAnswer = self.predict(config, entries, Payload::Text(text.to_owned())).await?;
        Ok(answer.clip)
    }
}

/// A face the service found: its box on the picture it was sent, and its embedding.
#[derive(Debug, Clone, Deserialize)]
pub struct DetectedFace {
    #[serde(rename = "boundingBox")]
    pub bounding_box: BoundingBox,
    /// In pgvector's text form.
    pub embedding: String,
    pub score: f64,
}

#[derive(Debug, Clone, Copy, Deserialize)]
pub struct BoundingBox {
    pub x1: f64,
    pub y1: f64,
    pub x2: f64,
    pub y2: f64,
}

/// The faces on a picture of `image_width` × `image_height`.
#[derive(Debug, Clone, Deserialize)]
pub struct DetectedFaces {
    #[serde(rename = "imageWidth")]
    pub image_width: u32,
    #[serde(rename = "imageHeight")]
    pub image_height: u32,
    #[serde(rename = "facial-recognition")]
    pub faces: Vec<DetectedFace>,
}

impl MlClient {
    /// The faces on the image at `path` (the asset's preview), each with its embedding.
    #[tracing::instrument(skip(self, config))]
    pub async fn detect_faces(&self, config: &MachineLearningConfig, path: &Path) -> Result<DetectedFaces, MlError> {
        let bytes = read_image(path).await?;
        let faces = &config.facial_recognition;
        let entries = json!({"facial-recognition": {
            "detection": {"modelName": faces.model_name, "options": {"minScore": faces.min_score}},
            "recognition": {"modelName": faces.model_name}
        }});
        self.predict(config, entries, Payload::Image(bytes)).await
    }
}

/// The text read on a picture: one entry per line, `box` holding each line's four corners as
/// eight numbers (fractions of the picture's size).
#[derive(Debug, Clone, Deserialize)]
pub struct ReadText {
    pub text: Vec<String>,
    #[serde(rename = "box")]
    pub boxes: Vec<f32>,
    #[serde(rename = "boxScore")]
    pub box_scores: Vec<f32>,
    #[serde(rename = "textScore")]
    pub text_scores: Vec<f32>,
}

#[derive(Debug, Deserialize)]
struct OcrAnswer {
    ocr: ReadText,
}

impl MlClient {
    /// The lines of text on the image at `path` (the asset's preview).
    #[tracing::instrument(skip(self, config))]
    pub async fn read_text(&self, config: &MachineLearningConfig, path: &Path) -> Result<ReadText, MlError> {
        let bytes = read_image(path).await?;
        let ocr = &config.ocr;
        let entries = json!({"ocr": {
            "detection": {"modelName": ocr.model_name,
                          "options": {"minScore": ocr.min_detection_score, "maxResolution": ocr.max_resolution}},
            "recognition": {"modelName": ocr.model_name, "options": {"minScore": ocr.min_recognition_score}}
        }});
        let answer: OcrAnswer = self.predict(config, entries, Payload::Image(bytes)).await?;
        Ok(answer.ocr)
    }
}

async fn read_image(path: &Path) -> Result<Vec<u8>, MlError> {
    tokio::fs::read(path).await.map_err(|source| MlError::ReadImage {
        path: path.display().to_string(),
        source,
    })
}

/// `path` resolved against `base` as a browser resolves `new URL(path, base)`.
fn endpoint(base: &str, path: &str) -> Option<Url> {
    Url::parse(base).ok()?.join(path).ok()
}

/// Checks the configured URLs every `availabilityChecks.interval` for as long as the server
/// runs, so requests go to a service that answers first and `/server/features` can tell.
pub fn spawn_availability_checks(state: WeakState) {
    tokio::spawn(async move {
        loop {
            let Some(state) = state.upgrade() else { return };
            let interval = match state.system_config.typed(&state.db).await {
                Ok(config) => {
                    let ml = &config.machine_learning;
                    if ml.enabled && ml.availability_checks.enabled {
                        state.ml.check(ml).await;
                    }
                    Duration::from_millis(ml.availability_checks.interval.clamp(1000, 86_400_000) as u64)
                }
                Err(error) => {
                    tracing::warn!(%error, "cannot read the machine-learning settings");
                    Duration::from_secs(30)
                }
            };
            drop(state);
            tokio::time::sleep(interval).await;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_resolve_as_urls_do() {
        let url = |base, path| endpoint(base, path).map(|url| url.to_string());
        assert_eq!(
            url("http://ml:3003", "predict").as_deref(),
            Some("http://ml:3003/predict")
        );
        assert_eq!(
            url("http://ml:3003/immich/", "ping").as_deref(),
            Some("http://ml:3003/immich/ping")
        );
        assert_eq!(url("not a url", "ping"), None);
    }
}
