//! `darkroom-ml`: serves Immich's machine-learning protocol on `IMMICH_HOST`:`IMMICH_PORT`.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use darkroom_ml::cache::{ModelTask, ModelType};
use darkroom_ml::hub::Hub;
use darkroom_ml::protocol::{self, Entry};
use darkroom_ml::runtime::Runtime;
use darkroom_ml::service::worker::WORKER_SOCKET_VARIABLE;
use darkroom_ml::service::{self, InferenceWorker, Registry, Service};
use darkroom_ml::settings::Settings;

fn main() -> anyhow::Result<()> {
    let settings = Settings::from_env().context("reading the settings")?;
    if std::env::args().nth(1).as_deref() == Some("healthcheck") {
        return healthcheck(&settings);
    }
    init_logging(&settings);
    match std::env::var_os(WORKER_SOCKET_VARIABLE) {
        Some(socket) => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("starting the async runtime")?
            .block_on(serve_models(settings, socket.into())),
        // The front only passes requests on: one thread keeps it small.
        None => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting the async runtime")?
            .block_on(serve(settings)),
    }
}

/// `darkroom-ml healthcheck`, the image's health check: `/ping` on this host answers `pong`
/// within two seconds, as Immich's service checks itself.
fn healthcheck(settings: &Settings) -> anyhow::Result<()> {
    let mut address = listen_address(settings)?;
    if address.ip().is_unspecified() {
        address.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let url = format!("http://{address}/ping");
    let body = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?
        .block_on(async {
            let answer = reqwest::Client::new()
                .get(&url)
                .timeout(std::time::Duration::from_secs(2))
                .send()
                .await?
                .error_for_status()?;
            answer.text().await
        })
        .with_context(|| format!("asking {url}"))?;
    anyhow::ensure!(body == "pong", "{url} answered {body:?}");
    Ok(())
}

/// `IMMICH_LOG_LEVEL` as Immich's service reads it (`verbose` and `debug` are debug, `log` is
/// info); `RUST_LOG` refines it; `NO_COLOR` turns colours off.
fn init_logging(settings: &Settings) {
    let level = match settings.log_level.as_str() {
        "verbose" | "debug" => "debug",
        "warn" | "warning" => "warn",
        "error" | "critical" | "fatal" => "error",
        _ => "info",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("{level},ort=warn")));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(!settings.no_color)
        .init();
}

/// The front process: listens on `IMMICH_HOST`:`IMMICH_PORT`, answers `/` and `/ping`, and
/// passes predictions to the inference worker, started on first use (at once when models are
/// to be preloaded).
async fn serve(settings: Settings) -> anyhow::Result<()> {
    let address = listen_address(&settings)?;
    let library = darkroom_ml::runtime::library_path();
    if library.is_absolute() && !library.exists() {
        tracing::warn!(library = %library.display(), "ORT_DYLIB_PATH names no file: predictions will fail");
    }
    match settings.model_ttl {
        Some(ttl) => tracing::info!(
            "Created in-memory cache with unloading after {}s of inactivity.",
            ttl.as_secs()
        ),
        None => tracing::info!("Created in-memory cache with unloading disabled."),
    }
    tracing::info!(
        "Initialized request thread pool with {} threads.",
        settings.request_threads
    );
    let socket = std::env::temp_dir().join(format!("darkroom-ml-{}.sock", std::process::id()));
    let worker = Arc::new(InferenceWorker::new(socket));
    if settings.preload != Default::default()
        && let Err(error) = worker.ensure_running().await
    {
        tracing::error!(%error, "could not start the inference worker to preload models");
    }

    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("listening on {address}"))?;
    tracing::info!(%address, "darkroom-ml listening");
    let served = axum::serve(listener, service::front_router(Arc::clone(&worker)))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("serving");
    worker.stop().await;
    served
}

/// The inference worker: loads ONNX Runtime and the models, answers predictions on the Unix
/// socket, and exits once it has held no model and answered no request for the TTL.
async fn serve_models(settings: Settings, socket: std::path::PathBuf) -> anyhow::Result<()> {
    let runtime = Runtime::init(&settings).context("loading ONNX Runtime (set ORT_DYLIB_PATH to libonnxruntime.so)")?;
    let hub = Hub::from_env().context("setting up the model hub")?;
    let service = Arc::new(Service::new(Registry::new(runtime, settings.clone(), hub)));
    let _ = std::fs::remove_file(&socket);
    let listener =
        tokio::net::UnixListener::bind(&socket).with_context(|| format!("listening on {}", socket.display()))?;
    let preloading = {
        let service = Arc::clone(&service);
        let settings = settings.clone();
        tokio::spawn(async move { preload(&service, &settings).await })
    };
    let idle = tokio::sync::Notify::new();
    let idle = Arc::new(idle);
    if let Some(ttl) = settings.model_ttl {
        tokio::spawn(unload_idle_models(
            Arc::clone(&service),
            ttl,
            settings.model_ttl_poll,
            Arc::clone(&idle),
        ));
    }
    let stop = async move {
        tokio::select! {
            _ = idle.notified() => tracing::info!("Shutting down due to inactivity."),
            _ = front_process_gone() => tracing::info!("The front process is gone; shutting down."),
            _ = shutdown_signal() => {},
        }
    };
    let served = axum::serve(listener, service::worker_router(service))
        .with_graceful_shutdown(stop)
        .await
        .context("serving the inference worker");
    preloading.abort();
    let _ = std::fs::remove_file(&socket);
    served
}

/// `IMMICH_HOST` may be written as Python's servers take it: `[::]`, `0.0.0.0`, a name.
fn listen_address(settings: &Settings) -> anyhow::Result<SocketAddr> {
    let host = settings.host.trim_start_matches('[').trim_end_matches(']');
    let host = if host.is_empty() { "::" } else { host };
    std::net::ToSocketAddrs::to_socket_addrs(&(host, settings.port))
        .with_context(|| format!("IMMICH_HOST={:?} is not an address to listen on", settings.host))?
        .next()
        .with_context(|| format!("IMMICH_HOST={:?} names no address", settings.host))
}

/// Loads the models of `MACHINE_LEARNING_PRELOAD__*` before the first request. A model that
/// fails to load is logged and loaded again on first use.
async fn preload(service: &Service, settings: &Settings) {
    let preload = &settings.preload;
    let lists = [
        (&preload.clip_textual, ModelTask::Clip, ModelType::Textual),
        (&preload.clip_visual, ModelTask::Clip, ModelType::Visual),
        (
            &preload.facial_recognition_detection,
            ModelTask::FacialRecognition,
            ModelType::Detection,
        ),
        (
            &preload.facial_recognition_recognition,
            ModelTask::FacialRecognition,
            ModelType::Recognition,
        ),
        (&preload.ocr_detection, ModelTask::Ocr, ModelType::Detection),
        (&preload.ocr_recognition, ModelTask::Ocr, ModelType::Recognition),
    ];
    for (names, task, model_type) in lists {
        for name in names
            .iter()
            .flat_map(|names| names.split(','))
            .map(str::trim)
            .filter(|name| !name.is_empty())
        {
            let Some(kind) = protocol::model_kind(name, model_type, task) else {
                tracing::error!(
                    model = name,
                    task = task.as_str(),
                    r#type = model_type.as_str(),
                    "cannot preload an unknown model"
                );
                continue;
            };
            let entry = Entry {
                model_name: name.to_owned(),
                task,
                model_type,
                kind,
                options: serde_json::Map::new(),
            };
            match service.registry.get(&entry).await {
                Ok(_) => tracing::info!(
                    model = name,
                    task = task.as_str(),
                    r#type = model_type.as_str(),
                    "preloaded"
                ),
                Err(error) => tracing::error!(model = name, %error, "preloading failed"),
            }
        }
    }
}

/// Unloads models idle for the TTL; once none is left and no request came for the TTL, tells the
/// worker to exit.
async fn unload_idle_models(
    service: Arc<Service>,
    ttl: std::time::Duration,
    poll: std::time::Duration,
    idle: Arc<tokio::sync::Notify>,
) {
    let mut interval = tokio::time::interval(poll.max(std::time::Duration::from_secs(1)));
    loop {
        interval.tick().await;
        service.registry.unload_idle().await;
        if service.is_idle_for(ttl).await {
            idle.notify_one();
            return;
        }
    }
}

/// Resolves when the process that started this worker has exited (the worker is re-parented).
async fn front_process_gone() {
    let front = std::os::unix::process::parent_id();
    let mut interval = tokio::time::interval(std::time::Duration::from_secs(2));
    loop {
        interval.tick().await;
        if std::os::unix::process::parent_id() != front {
            return;
        }
    }
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}
