//! Start-up: configuration → database (with retries) → schema → media folder checks → HTTP.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::atomic::Ordering;
use std::time::Duration;

use darkroom_storage::database::VectorExtension;
use darkroom_storage::media_layout::{MediaLayout, StorageFolder};
use darkroom_storage::queue::JobQueue;
use darkroom_storage::{Database, StorageError, embeddings, system_metadata, version_history};
use serde_json::json;
use thiserror::Error;
use tokio::net::TcpListener;

use crate::config::{Config, ConfigError};
use crate::services::smart_search;
use crate::state::AppState;
use crate::system_config::{ConfigFileError, SystemConfigStore};

#[derive(Debug, Error)]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    ConfigFile(#[from] ConfigFileError),
    #[error("cannot connect to PostgreSQL at {target}: {source}")]
    DatabaseUnreachable { target: String, source: StorageError },
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("cannot connect to Redis at {target}: {message}")]
    RedisUnreachable { target: String, message: String },
    #[error("{0}")]
    MountCheck(String),
    #[error("cannot listen on {address}: {source}")]
    Listen {
        address: SocketAddr,
        source: std::io::Error,
    },
    #[error("{0}")]
    Api(String),
}

pub async fn connect(config: &Config) -> Result<Database, StartupError> {
    let target = config.database.describe_target();
    let options = config.database.connect_options()?;
    Database::connect(options, 10, config.database_wait, |error, wait| {
        tracing::warn!(
            "database {target} unreachable ({error}); retrying in {} ms",
            wait.as_millis()
        );
    })
    .await
    .map_err(|source| StartupError::DatabaseUnreachable { target, source })
}

/// The job queue's Redis, retried like the database while it starts.
async fn connect_redis(config: &Config) -> Result<JobQueue, StartupError> {
    let target = config.redis.describe_target();
    let url = config.redis.connection_url();
    let started = std::time::Instant::now();
    let mut delay = Duration::from_millis(250);
    loop {
        match JobQueue::connect(&url, &config.redis.key_prefix).await {
            Ok(queue) => return Ok(queue),
            Err(error) if started.elapsed() + delay < config.database_wait => {
                tracing::warn!(
                    "redis {target} unreachable ({error}); retrying in {} ms",
                    delay.as_millis()
                );
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(10));
            }
            Err(error) => {
                return Err(StartupError::RedisUnreachable {
                    target,
                    message: error.to_string(),
                });
            }
        }
    }
}

/// Everything the API needs before it can answer: schema, media folders, version history.
pub async fn prepare(config: Config) -> Result<AppState, StartupError> {
    let system_config = SystemConfigStore::new(&config)?;
    let database = connect(&config).await?;
    let vector_extension = if config.database.skip_migrations {
        tracing::warn!("DB_SKIP_MIGRATIONS is set: not touching the schema");
        config.database.vector_extension.unwrap_or(VectorExtension::PgVector)
    } else {
        let extension = database.prepare(config.database.vector_extension).await?;
        embeddings::ensure_indexes(database.pool(), extension).await?;
        extension
    };
    let db = database.pool().clone();
    let layout = MediaLayout::new(config.media_location.clone());
    check_media_folders(&db, &layout, config.ignore_mount_check_errors).await?;
    // Uploads cut short by a crash or restart left only bytes nobody points to.
    match layout.sweep_incoming().await {
        Ok(0) => {}
        Ok(count) => tracing::info!(count, "removed files of interrupted uploads"),
        Err(error) => tracing::warn!(%error, "could not clean the incoming-uploads folder"),
    }
    version_history::record(&db, &crate::version::api_version_string()).await?;
    let jobs = connect_redis(&config).await?;
    let skip_migrations = config.database.skip_migrations;
    let state = AppState::new(db, vector_extension, jobs, config, system_config);
    crate::routes::mark_onboarded_when_config_file(&state)
        .await
        .map_err(|e| StartupError::Api(e.to_string()))?;
    if !skip_migrations {
        let settings = state.system_config.typed(&state.db).await;
        let synced = match settings {
            Ok(settings) => smart_search::sync_dimension(&state, &settings, None).await,
            Err(error) => Err(error),
        };
        synced.map_err(|e| StartupError::Api(format!("matching the CLIP embeddings to the model: {e}")))?;
    }
    // Before any worker starts: a server stopped in maintenance mode comes back in it.
    crate::maintenance::load(&state)
        .await
        .map_err(|e| StartupError::Api(format!("reading the maintenance state: {e}")))?;
    Ok(state)
}

/// A process with the workers and no API: the job queues, and what other processes announce.
pub async fn run_workers_only(state: AppState) {
    tokio::join!(crate::events::relay(state.clone()), crate::jobs::worker::run(state));
}

/// Immich's `.immich` marker check: a folder seen before must still hold its marker (else the
/// volume is probably not mounted) and be writable.
async fn check_media_folders(
    db: &darkroom_storage::PgPool,
    layout: &MediaLayout,
    ignore_errors: bool,
) -> Result<(), StartupError> {
    let mut flags = system_metadata::get(db, "system-flags")
        .await?
        .unwrap_or_else(|| json!({}));
    let mut changed = false;
    for folder in StorageFolder::ALL {
        let name = folder.dir_name();
        let seen = flags["mountChecks"][name].as_bool().unwrap_or(false);
        let result = async {
            if !seen {
                layout.create_mount_marker(folder).await?;
            }
            layout.verify_mount_marker(folder).await
        }
        .await;
        match result {
            Ok(()) if !seen => {
                if !flags["mountChecks"].is_object() {
                    flags["mountChecks"] = json!({});
                }
                flags["mountChecks"][name] = json!(true);
                changed = true;
            }
            Ok(()) => {}
            Err(error) if ignore_errors => tracing::warn!("media folder check failed (ignored): {error}"),
            Err(error) => {
                return Err(StartupError::MountCheck(format!(
                    "media folder check failed: {error}. Check that {} is mounted and writable \
                     (set IMMICH_IGNORE_MOUNT_CHECK_ERRORS=true to start anyway)",
                    layout.folder(folder).display()
                )));
            }
        }
    }
    if changed {
        system_metadata::set(db, "system-flags", &flags).await?;
    }
    Ok(())
}

pub async fn bind(config: &Config) -> Result<TcpListener, StartupError> {
    let host = config.host.unwrap_or(IpAddr::V6(Ipv6Addr::UNSPECIFIED));
    let address = SocketAddr::new(host, config.port);
    match TcpListener::bind(address).await {
        Ok(listener) => Ok(listener),
        // No IPv6 on this machine: all IPv4 interfaces instead.
        Err(_) if config.host.is_none() => {
            let v4 = SocketAddr::from(([0, 0, 0, 0], config.port));
            TcpListener::bind(v4)
                .await
                .map_err(|source| StartupError::Listen { address: v4, source })
        }
        Err(source) => Err(StartupError::Listen { address, source }),
    }
}

/// Lets metadata extraction run again when dropped.
struct PlacesLoaded(AppState);

impl Drop for PlacesLoaded {
    fn drop(&mut self) {
        self.0.places_loading.store(false, Ordering::SeqCst);
        self.0.job_wake.notify_waiters();
    }
}

/// Serves until `shutdown` resolves, then lets in-flight requests finish.
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let sweeper = tokio::spawn(sweep_resumable_uploads(state.clone()));
    // Like Immich, the workers' process loads the places (the API only reads them), and holds
    // metadata extraction back until they are in.
    state
        .places_loading
        .store(state.config.workers_microservices, Ordering::SeqCst);
    let workers = state
        .config
        .workers_microservices
        .then(|| tokio::spawn(crate::jobs::worker::run(state.clone())));
    let geodata = state.config.workers_microservices.then(|| {
        let state = state.clone();
        tokio::spawn(async move {
            // Released however the import ends, a panic included, so metadata is never held for good.
            let _release = PlacesLoaded(state.clone());
            crate::geodata::import_if_needed(&state).await;
        })
    });
    crate::machine_learning::spawn_availability_checks(state.downgrade());
    let relay = tokio::spawn(crate::events::relay(state.clone()));
    if let Err(error) = crate::maintenance::resume(&state).await {
        tracing::error!(%error, "could not resume maintenance mode");
    }
    let metrics = tokio::spawn(crate::telemetry::serve(state.clone()));
    let auth_changes = tokio::spawn(crate::auth::cache::follow_changes(state.clone()));
    let app = crate::app::build(state).into_make_service_with_connect_info::<SocketAddr>();
    // Answers go out as soon as they are written, not when the client acknowledges the last
    // segment (Nagle's algorithm), as Node's HTTP server does by default.
    let listener = axum::serve::ListenerExt::tap_io(listener, |stream| {
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "could not set TCP_NODELAY");
        }
    });
    let served = axum::serve(listener, app).with_graceful_shutdown(shutdown).await;
    sweeper.abort();
    relay.abort();
    metrics.abort();
    auth_changes.abort();
    for task in [workers, geodata].into_iter().flatten() {
        task.abort();
    }
    served
}

/// Expired resumable uploads go at start-up and then every hour.
async fn sweep_resumable_uploads(state: AppState) {
    let mut every_hour = tokio::time::interval(Duration::from_secs(3600));
    loop {
        every_hour.tick().await;
        match crate::services::resumable::sweep(&state).await {
            Ok(0) => {}
            Ok(count) => tracing::info!(count, "removed expired resumable uploads"),
            Err(error) => tracing::warn!(%error, "could not remove expired resumable uploads"),
        }
    }
}

/// Ctrl-C or SIGTERM (podman stop).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
    tokio::time::sleep(Duration::from_millis(10)).await;
}
