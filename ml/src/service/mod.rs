//! The HTTP service, as Immich's machine-learning container answers: `GET /`, `GET /ping` and
//! `POST /predict` (a multipart form with `entries` and an `image` or a `text`).

mod metrics;
pub mod registry;
pub mod worker;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use image::RgbImage;
use serde_json::{Map, Value, json};
use tokio::sync::Semaphore;

use crate::cache::{ModelTask, ModelType};
use crate::error::{MlError, Result};
use crate::models::{Input, Output, missing_dependency};
use crate::protocol::{self, Entries, Entry};
use metrics::Metrics;
pub use registry::Registry;
pub use worker::InferenceWorker;

/// The largest request read: Immich's server sends previews of a few hundred kilobytes, but a
/// user's own client may send originals.
const MAX_REQUEST_BYTES: usize = 256 * 1024 * 1024;

/// The models and the requests running on them (the inference worker's side).
pub struct Service {
    pub registry: Registry,
    /// `MACHINE_LEARNING_REQUEST_THREADS`: how many models run at once.
    permits: Semaphore,
    in_flight: AtomicUsize,
    last_request: std::sync::Mutex<Instant>,
    metrics: Metrics,
}

impl Service {
    pub fn new(registry: Registry) -> Self {
        let threads = registry.settings().request_threads.max(1);
        Self {
            registry,
            permits: Semaphore::new(threads),
            in_flight: AtomicUsize::new(0),
            last_request: std::sync::Mutex::new(Instant::now()),
            metrics: Metrics::new(),
        }
    }

    /// Whether nothing is loaded or running and no request came for `idle`.
    pub async fn is_idle_for(&self, idle: Duration) -> bool {
        let last = *self
            .last_request
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        self.in_flight.load(Ordering::SeqCst) == 0 && last.elapsed() >= idle && self.registry.loaded().await == 0
    }
}

/// Counts a request as running while it lives.
struct InFlight<'a>(&'a Service);

impl<'a> InFlight<'a> {
    fn start(service: &'a Service) -> Self {
        service.in_flight.fetch_add(1, Ordering::SeqCst);
        *service
            .last_request
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Instant::now();
        Self(service)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        *self
            .0
            .last_request
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Instant::now();
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The service clients talk to: `/` and `/ping` answered here, predictions passed to the
/// inference worker.
pub fn front_router(worker: Arc<InferenceWorker>) -> Router {
    Router::new()
        .route("/", get(root))
        .route("/ping", get(ping))
        .route(
            "/predict",
            post(
                |State(worker): State<Arc<InferenceWorker>>, request: axum::extract::Request| async move {
                    worker.forward(request).await
                },
            ),
        )
        .route("/metrics", get(metrics::front_metrics))
        .with_state(worker)
}

/// The inference worker's own routes (the same protocol, on its Unix socket).
pub fn worker_router(service: Arc<Service>) -> Router {
    Router::new()
        .route("/", get(root))
        .route("/ping", get(ping))
        .route("/predict", post(predict))
        .route("/metrics", get(metrics::worker_metrics))
        .layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES))
        .with_state(service)
}

async fn root() -> Response {
    axum::Json(json!({"message": "Immich ML"})).into_response()
}

async fn ping() -> &'static str {
    "pong"
}

/// An error as FastAPI writes an `HTTPException`: `{"detail": message}`.
fn detail(status: u16, detail: Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, axum::Json(json!({ "detail": detail }))).into_response()
}

impl IntoResponse for MlError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status >= 500 {
            tracing::error!(error = %self, "prediction failed");
        } else {
            tracing::warn!(error = %self, "request refused");
        }
        detail(status, Value::String(self.to_string()))
    }
}

/// What the request asks the models to look at.
#[derive(Clone)]
enum Payload {
    Image(Arc<RgbImage>),
    Text(Arc<str>),
}

impl Payload {
    fn input(&self) -> Input<'_> {
        match self {
            Self::Image(image) => Input::Image(image),
            Self::Text(text) => Input::Text(text),
        }
    }
}

/// The form's fields: `entries` is required, then `image` bytes or a `text`.
struct Form {
    entries: Option<String>,
    image: Option<axum::body::Bytes>,
    text: Option<String>,
}

async fn read_form(mut multipart: Multipart) -> Result<Form> {
    let mut form = Form {
        entries: None,
        image: None,
        text: None,
    };
    let unreadable =
        |error: axum::extract::multipart::MultipartError| MlError::BadRequest(format!("Unreadable form: {error}"));
    while let Some(field) = multipart.next_field().await.map_err(unreadable)? {
        match field.name() {
            Some("entries") => form.entries = Some(field.text().await.map_err(unreadable)?),
            Some("image") => form.image = Some(field.bytes().await.map_err(unreadable)?),
            Some("text") => form.text = Some(field.text().await.map_err(unreadable)?),
            _ => {}
        }
    }
    Ok(form)
}

async fn predict(State(service): State<Arc<Service>>, multipart: Multipart) -> Response {
    let _in_flight = InFlight::start(&service);
    let form = match read_form(multipart).await {
        Ok(form) => form,
        Err(error) => return error.into_response(),
    };
    // FastAPI's answer to a missing form field.
    let Some(entries) = form.entries else {
        return detail(
            422,
            json!([{"type": "missing", "loc": ["body", "entries"], "msg": "Field required", "input": null}]),
        );
    };
    // Immich's worker is stopped after MACHINE_LEARNING_WORKER_TIMEOUT; here the request ends.
    let timeout = service.registry.settings().request_timeout;
    match tokio::time::timeout(timeout, answer(&service, &entries, form.image, form.text)).await {
        Ok(Ok(body)) => axum::Json(Value::Object(body)).into_response(),
        Ok(Err(error)) => error.into_response(),
        Err(_) => detail(
            500,
            Value::String(format!("Request timed out after {} s", timeout.as_secs())),
        ),
    }
}

#[tracing::instrument(skip_all)]
async fn answer(
    service: &Arc<Service>,
    entries: &str,
    image: Option<axum::body::Bytes>,
    text: Option<String>,
) -> Result<Map<String, Value>> {
    let Entries { first, second } = protocol::parse_entries(entries)?;
    let payload = match (image, text) {
        (Some(bytes), _) => {
            let image = tokio::task::spawn_blocking(move || crate::decode::decode(&bytes))
                .await
                .map_err(|error| MlError::Image(error.to_string()))??;
            Payload::Image(Arc::new(image))
        }
        (None, Some(text)) => Payload::Text(text.into()),
        (None, None) => return Err(MlError::BadRequest("Either image or text must be provided".to_owned())),
    };

    let mut outputs: HashMap<(ModelType, ModelTask), Arc<Output>> = HashMap::new();
    let mut body = Map::new();
    for phase in [first, second] {
        let runs = phase.into_iter().map(|entry| {
            let dependency = entry.kind.depends_on().map(|needed| {
                outputs
                    .get(&needed)
                    .cloned()
                    .ok_or_else(|| missing_dependency(entry.task, entry.model_type, needed))
            });
            let payload = payload.clone();
            async move {
                let dependency = dependency.transpose()?;
                let output = run(service, &entry, payload, dependency).await?;
                Ok::<_, MlError>((entry, output))
            }
        });
        // The models of a phase run side by side, as Immich gathers them.
        for result in futures::future::join_all(runs).await {
            let (entry, output) = result?;
            body.insert(entry.task.as_str().to_owned(), output.to_json());
            outputs.insert((entry.model_type, entry.task), Arc::new(output));
        }
    }
    if let Payload::Image(image) = &payload {
        body.insert("imageHeight".to_owned(), image.height().into());
        body.insert("imageWidth".to_owned(), image.width().into());
    }
    Ok(body)
}

/// Runs one model on the blocking pool, at most `request_threads` at a time.
async fn run(
    service: &Arc<Service>,
    entry: &Entry,
    payload: Payload,
    dependency: Option<Arc<Output>>,
) -> Result<Output> {
    let model = service.registry.get(entry).await?;
    let _permit = service
        .permits
        .acquire()
        .await
        .map_err(|_| MlError::BadRequest("The service is shutting down".to_owned()))?;
    let options = entry.options.clone();
    let started = Instant::now();
    let output = tokio::task::spawn_blocking(move || model.predict(payload.input(), dependency.as_deref(), &options))
        .await
        .map_err(|error| MlError::output("model", format!("the run stopped: {error}")))?;
    service.metrics.inference_finished(entry, started.elapsed());
    output
}
