//! The `/metrics` listeners: what is read rather than counted (queue depths, the pool, the
//! disk, the library) is read when Prometheus asks.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::time::UNIX_EPOCH;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use darkroom_storage::media_layout::StorageFolder;
use prometheus::{Encoder, Registry, TextEncoder};

use super::Group;
use crate::jobs::Queue;
use crate::state::AppState;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Port {
    Api,
    Workers,
}

#[derive(Clone)]
struct Scrape {
    state: AppState,
    port: Port,
}

/// Listens on the metrics ports this process has (nothing when telemetry is off); runs until
/// the task is dropped.
pub async fn serve(state: AppState) {
    let telemetry = state.metrics.config().clone();
    if telemetry.groups.is_empty() {
        return;
    }
    let mut listeners = Vec::new();
    if state.config.workers_api {
        listeners.push((Port::Api, telemetry.api_port));
    }
    if state.config.workers_microservices {
        listeners.push((Port::Workers, telemetry.workers_port));
    }
    let served = listeners.into_iter().map(|(port, number)| {
        let state = state.clone();
        async move {
            let address = SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), number);
            let listener = match tokio::net::TcpListener::bind(address).await {
                Ok(listener) => listener,
                Err(_) => match tokio::net::TcpListener::bind(SocketAddr::from(([0, 0, 0, 0], number))).await {
                    Ok(listener) => listener,
                    Err(error) => {
                        tracing::error!(port = number, %error, "cannot serve metrics");
                        return;
                    }
                },
            };
            tracing::info!(port = number, "serving metrics on /metrics");
            let app = Router::new()
                .route("/metrics", get(metrics))
                .with_state(Scrape { state, port });
            if let Err(error) = axum::serve(listener, app).await {
                tracing::error!(port = number, %error, "the metrics listener stopped");
            }
        }
    });
    futures::future::join_all(served).await;
}

async fn metrics(State(scrape): State<Scrape>) -> Response {
    let Scrape { state, port } = scrape;
    refresh(&state, port).await;
    let registry: &Registry = match port {
        Port::Api => &state.metrics.api,
        Port::Workers => &state.metrics.workers,
    };
    let mut body = Vec::new();
    let encoder = TextEncoder::new();
    match encoder.encode(&registry.gather(), &mut body) {
        Ok(()) => ([(header::CONTENT_TYPE, encoder.format_type().to_owned())], body).into_response(),
        Err(error) => {
            tracing::error!(%error, "encoding the metrics");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// Reads what is exported on `port` and not counted as it happens.
async fn refresh(state: &AppState, port: Port) {
    let metrics = &state.metrics;
    let config = metrics.config();
    let process_wide = (port == Port::Api) == state.config.workers_api;
    let wants_users = port == Port::Api && config.is_on(Group::Api);
    let wants_library = process_wide && config.is_on(Group::Host);
    if wants_users || wants_library {
        match darkroom_storage::assets::library_totals(&state.db).await {
            Ok(totals) => {
                metrics.users.set(totals.users);
                metrics.library_assets.set(totals.assets);
                metrics.library_bytes.set(totals.bytes);
            }
            Err(error) => tracing::warn!(%error, "metrics: counting the users and the library"),
        }
    }
    if port == Port::Workers && config.is_on(Group::Job) {
        for queue in Queue::ALL {
            match state.jobs.counts(queue.as_str()).await {
                Ok(counts) => {
                    for (name, value) in [
                        ("waiting", counts.waiting),
                        ("active", counts.active),
                        ("delayed", counts.delayed),
                        ("failed", counts.failed),
                        ("paused", counts.paused),
                    ] {
                        metrics
                            .queue_jobs
                            .with_label_values(&[queue.as_str(), name])
                            .set(value as i64);
                    }
                }
                Err(error) => tracing::warn!(%queue, %error, "metrics: reading the queue"),
            }
        }
        let backups = state.layout.folder(StorageFolder::Backups);
        let written = crate::jobs::last_routine_backup(&backups)
            .await
            .and_then(|time| time.duration_since(UNIX_EPOCH).ok())
            .map_or(0.0, |since| since.as_secs_f64());
        metrics.backup_last_success.set(written);
    }
    if !process_wide {
        return;
    }
    if config.is_on(Group::Repo) {
        let idle = state.db.num_idle() as i64;
        metrics
            .pool_connections
            .with_label_values(&["busy"])
            .set(i64::from(state.db.size()) - idle);
        metrics.pool_connections.with_label_values(&["idle"]).set(idle);
        metrics
            .pool_max
            .set(i64::from(state.db.options().get_max_connections()));
    }
    if config.is_on(Group::Io) {
        let ml = state.system_config.typed(&state.db).await.map(|c| c.machine_learning);
        if let Ok(ml) = ml {
            metrics.ml_available.reset();
            for (url, available) in state.ml.availability(&ml) {
                metrics
                    .ml_available
                    .with_label_values(&[&url])
                    .set(i64::from(available));
            }
        }
    }
    if config.is_on(Group::Host) {
        refresh_host(state).await;
    }
}

async fn refresh_host(state: &AppState) {
    let metrics = &state.metrics;
    match crate::services::disk_space::of_media(&state.layout) {
        Ok(space) => {
            metrics.disk_free.set(space.available as i64);
            metrics.disk_size.set(space.total as i64);
        }
        Err(error) => tracing::warn!(%error, "metrics: reading the media disk"),
    }
    if let Some(usage) = process_usage() {
        metrics.process_memory.set(usage.resident_bytes);
        for (state, seconds) in [("user", usage.user_seconds), ("system", usage.system_seconds)] {
            let counter = metrics.process_cpu.with_label_values(&[state]);
            counter.inc_by((seconds - counter.get()).max(0.0));
        }
    }
}

struct ProcessUsage {
    resident_bytes: i64,
    user_seconds: f64,
    system_seconds: f64,
}

/// This process's resident memory and CPU time, from `/proc/self`.
fn process_usage() -> Option<ProcessUsage> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let resident_kib: i64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces), from the third on.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    // Linux reports CPU time in USER_HZ ticks, 100 a second for every program it runs.
    let ticks = |index: usize| fields.get(index)?.parse::<f64>().ok().map(|t| t / 100.0);
    Some(ProcessUsage {
        resident_bytes: resident_kib * 1024,
        user_seconds: ticks(11)?,
        system_seconds: ticks(12)?,
    })
}
