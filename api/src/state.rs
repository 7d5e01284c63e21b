//! Shared state of the API: database, configuration, caches.

use std::net::IpAddr;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Instant;

use darkroom_storage::PgPool;
use darkroom_storage::database::VectorExtension;
use darkroom_storage::media_layout::MediaLayout;
use darkroom_storage::queue::JobQueue;

use crate::auth::limiter::LoginLimiter;
use crate::config::Config;
use crate::machine_learning::MlClient;
use crate::services::smart_search::QueryEmbeddings;
use crate::system_config::SystemConfigStore;
use crate::telemetry::Metrics;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub db: PgPool,
    /// What embeddings are stored and indexed with.
    pub vector_extension: VectorExtension,
    pub config: Config,
    pub layout: MediaLayout,
    pub system_config: SystemConfigStore,
    pub login_limiter: LoginLimiter,
    pub auth_cache: crate::auth::cache::AuthCache,
    pub started_at: Instant,
    /// Resumable uploads being written right now: one request at a time per upload.
    pub busy_uploads: std::sync::Mutex<std::collections::HashSet<uuid::Uuid>>,
    pub jobs: JobQueue,
    /// Wakes this process's workers when it queued something.
    pub job_wake: tokio::sync::Notify,
    pub exiftool: darkroom_media::Exiftool,
    /// Asked once, for `GET /server/about`.
    pub tool_versions: tokio::sync::OnceCell<darkroom_media::ToolVersions>,
    /// Set while the places are being loaded: metadata extraction waits, or the photos it
    /// reads then would keep no city (Immich pauses that queue alike).
    pub places_loading: std::sync::atomic::AtomicBool,
    /// Socket.IO: `io` sends events, the layer answers `/api/socket.io`.
    pub io: socketioxide::SocketIo,
    pub socket_layer: socketioxide::layer::SocketIoLayer,
    /// The machine-learning service(s).
    pub ml: MlClient,
    pub query_embeddings: QueryEmbeddings,
    pub metrics: Arc<Metrics>,
    /// Whether the server is in maintenance mode, and what runs in it.
    pub maintenance: crate::maintenance::MaintenanceMode,
    /// The OpenID provider's documents and keys, cached.
    pub oauth_providers: crate::oauth::Providers,
}

/// A handle that does not keep the state alive (for callbacks the state itself owns).
#[derive(Clone)]
pub struct WeakState(std::sync::Weak<Inner>);

impl WeakState {
    pub fn upgrade(&self) -> Option<AppState> {
        self.0.upgrade().map(AppState)
    }
}

impl Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(
        db: PgPool,
        vector_extension: VectorExtension,
        jobs: JobQueue,
        config: Config,
        system_config: SystemConfigStore,
    ) -> Self {
        let layout = MediaLayout::new(config.media_location.clone());
        let config_timeout = config.media_tool_timeout;
        let login_limits = config.login_limits;
        let (socket_layer, io) = crate::events::new_socket_io();
        let metrics = Arc::new(Metrics::new(config.telemetry.clone(), config.workers_api));
        let state = Self(Arc::new(Inner {
            db,
            vector_extension,
            config,
            layout,
            system_config,
            login_limiter: LoginLimiter::new(login_limits),
            auth_cache: crate::auth::cache::AuthCache::default(),
            started_at: Instant::now(),
            busy_uploads: Default::default(),
            tool_versions: Default::default(),
            places_loading: Default::default(),
            jobs,
            job_wake: tokio::sync::Notify::new(),
            // exiftool gets this long per file before it is stopped and restarted.
            exiftool: darkroom_media::Exiftool::new(config_timeout),
            io,
            socket_layer,
            ml: MlClient::new(metrics.clone()),
            query_embeddings: QueryEmbeddings::default(),
            metrics,
            maintenance: Default::default(),
            oauth_providers: crate::oauth::Providers::default(),
        }));
        crate::events::register(&state.io, state.downgrade());
        state
    }

    /// A handle for tasks that must not keep the state alive.
    pub fn downgrade(&self) -> WeakState {
        WeakState(Arc::downgrade(&self.0))
    }

    /// Loopback is always trusted; other proxies come from `IMMICH_TRUSTED_PROXIES`.
    pub fn is_trusted_proxy(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        ip.is_loopback() || self.is_listed_proxy(ip)
    }

    /// Whether `IMMICH_TRUSTED_PROXIES` names this address (loopback not implied).
    pub fn is_listed_proxy(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.config.trusted_proxies.iter().any(|net| net.contains(&ip))
    }
}
