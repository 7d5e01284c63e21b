//! `GET /metrics` in Prometheus' text format: how long each model took and how many are
//! loaded. The inference worker counts; the front passes the question on while a worker runs
//! (a worker that exited when idle took its counts along, which Prometheus reads as a reset).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use prometheus::{Encoder, HistogramOpts, HistogramVec, IntGauge, Registry, TextEncoder};

use super::{InferenceWorker, Service};
use crate::protocol::Entry;

/// From a text embedding on a GPU to OCR of a large photo on two cores.
const SECONDS_BUCKETS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

pub struct Metrics {
    registry: Registry,
    inference: HistogramVec,
    loaded: IntGauge,
}

impl Metrics {
    // The names are constants: a bad one is a programming error the service tests would meet.
    #[expect(clippy::expect_used, reason = "constant metric names")]
    pub fn new() -> Self {
        let inference = HistogramVec::new(
            HistogramOpts::new("darkroom_ml_inference_duration_seconds", "Model runs, by model")
                .buckets(SECONDS_BUCKETS.to_vec()),
            &["model_name", "model_task", "model_type"],
        )
        .expect("a valid metric name");
        let loaded = IntGauge::new("darkroom_ml_models_loaded", "Models in memory").expect("a valid metric name");
        let registry = Registry::new();
        for collector in [
            Box::new(inference.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(loaded.clone()),
        ] {
            registry.register(collector).expect("each metric registered once");
        }
        Self {
            registry,
            inference,
            loaded,
        }
    }

    pub fn inference_finished(&self, entry: &Entry, took: Duration) {
        self.inference
            .with_label_values(&[&entry.model_name, entry.task.as_str(), entry.model_type.as_str()])
            .observe(took.as_secs_f64());
    }

    fn encode(&self) -> Response {
        let encoder = TextEncoder::new();
        let mut body = Vec::new();
        if let Err(error) = encoder.encode(&self.registry.gather(), &mut body) {
            tracing::error!(%error, "encoding the metrics");
        }
        ([(header::CONTENT_TYPE, encoder.format_type().to_owned())], body).into_response()
    }
}

pub async fn worker_metrics(State(service): State<Arc<Service>>) -> Response {
    service.metrics.loaded.set(service.registry.loaded().await as i64);
    service.metrics.encode()
}

/// With no worker running nothing is loaded and nothing has run since it exited.
pub async fn front_metrics(State(worker): State<Arc<InferenceWorker>>, request: Request) -> Response {
    match worker.forward_if_running(request).await {
        Some(answer) if answer.status().is_success() => answer,
        _ => Metrics::new().encode(),
    }
}
