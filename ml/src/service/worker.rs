//! The models run in a child process, the inference worker, which the front process starts on
//! the first prediction and which exits once its models have been idle for the TTL. Its memory
//! then goes back to the system whole (ONNX Runtime's library and arenas included), and a crash
//! inside ONNX Runtime ends one request instead of the service (Immich's container gets the same
//! from gunicorn restarting its worker).

use std::path::{Path, PathBuf};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tokio::net::UnixStream;
use tokio::process::{Child, Command};
use tokio::sync::{Mutex, oneshot, watch};

/// The environment variable that starts the binary as the inference worker, listening on the
/// Unix socket it names.
pub const WORKER_SOCKET_VARIABLE: &str = "DARKROOM_ML_WORKER_SOCKET";

/// How long a new worker may take to listen.
const START_TIMEOUT: Duration = Duration::from_secs(60);

pub struct InferenceWorker {
    socket: PathBuf,
    running: Mutex<Option<Running>>,
}

/// A started worker. A task owns its process and reaps it the moment it exits, so that an exited
/// worker leaves no zombie behind.
struct Running {
    exited: watch::Receiver<bool>,
    kill: Option<oneshot::Sender<()>>,
}

impl Running {
    fn watch(mut child: Child) -> Self {
        let (exited_sender, exited) = watch::channel(false);
        let (kill, killed) = oneshot::channel::<()>();
        let pid = child.id();
        tokio::spawn(async move {
            let status = tokio::select! {
                status = child.wait() => status,
                _ = killed => {
                    let _ = child.start_kill();
                    child.wait().await
                }
            };
            match status {
                Ok(status) => tracing::info!(pid, %status, "inference worker exited"),
                Err(error) => tracing::warn!(pid, %error, "cannot tell how the inference worker exited"),
            }
            let _ = exited_sender.send(true);
        });
        Self {
            exited,
            kill: Some(kill),
        }
    }

    fn has_exited(&self) -> bool {
        *self.exited.borrow()
    }

    /// Waits up to `grace` for the worker to exit, then kills it.
    async fn retire(mut self, grace: Duration) {
        let mut exited = self.exited.clone();
        if tokio::time::timeout(grace, exited.wait_for(|exited| *exited))
            .await
            .is_err()
            && let Some(kill) = self.kill.take()
        {
            let _ = kill.send(());
            let _ = exited.wait_for(|exited| *exited).await;
        }
    }
}

fn unavailable(message: String) -> Response {
    tracing::error!(%message, "inference worker unavailable");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        axum::Json(json!({ "detail": message })),
    )
        .into_response()
}

impl InferenceWorker {
    pub fn new(socket: PathBuf) -> Self {
        Self {
            socket,
            running: Mutex::new(None),
        }
    }

    /// Starts the worker unless it runs; waits until it listens.
    pub async fn ensure_running(&self) -> Result<(), String> {
        let mut running = self.running.lock().await;
        if running.as_ref().is_some_and(|worker| !worker.has_exited()) {
            return Ok(());
        }
        let _ = std::fs::remove_file(&self.socket);
        let exe = std::env::current_exe().map_err(|error| format!("cannot find the darkroom-ml binary: {error}"))?;
        let mut started = Command::new(exe)
            .env(WORKER_SOCKET_VARIABLE, &self.socket)
            .kill_on_drop(true)
            .spawn()
            .map_err(|error| format!("cannot start the inference worker: {error}"))?;
        let deadline = tokio::time::Instant::now() + START_TIMEOUT;
        while UnixStream::connect(&self.socket).await.is_err() {
            if let Ok(Some(status)) = started.try_wait() {
                return Err(format!("the inference worker exited at start ({status})"));
            }
            if tokio::time::Instant::now() > deadline {
                return Err("the inference worker did not start in time".to_owned());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tracing::info!(pid = started.id(), "inference worker started");
        *running = Some(Running::watch(started));
        Ok(())
    }

    /// Passes a request to a worker already running (for what it knows, not worth starting it
    /// for); `None` when none runs.
    pub async fn forward_if_running(&self, request: Request<Body>) -> Option<Response> {
        let running = self
            .running
            .lock()
            .await
            .as_ref()
            .is_some_and(|worker| !worker.has_exited());
        if !running {
            return None;
        }
        let sender = connect(&self.socket).await.ok()?;
        send(sender, request).await.ok()
    }

    /// Passes a request to the worker and its answer back, the body streamed through. A worker
    /// that cannot be reached (it exited as the request arrived, its TTL having run out) is
    /// started again before anything of the request was sent.
    pub async fn forward(&self, request: Request<Body>) -> Response {
        let mut last_error = String::new();
        for _attempt in 0..2 {
            if let Err(error) = self.ensure_running().await {
                return unavailable(error);
            }
            match connect(&self.socket).await {
                Ok(sender) => {
                    return match send(sender, request).await {
                        Ok(response) => response,
                        Err(error) => unavailable(format!("The inference worker stopped: {error}")),
                    };
                }
                Err(error) => {
                    tracing::warn!(%error, "the inference worker cannot be reached; starting it again");
                    self.retire().await;
                    last_error = error;
                }
            }
        }
        unavailable(format!("The inference worker cannot be reached: {last_error}"))
    }

    /// Forgets a worker that did not answer: one exiting after its TTL is given a moment to
    /// finish, one that hangs is killed.
    async fn retire(&self) {
        if let Some(worker) = self.running.lock().await.take() {
            worker.retire(Duration::from_secs(5)).await;
        }
    }

    /// Stops the worker (at shutdown).
    pub async fn stop(&self) {
        if let Some(worker) = self.running.lock().await.take() {
            worker.retire(Duration::ZERO).await;
        }
        let _ = std::fs::remove_file(&self.socket);
    }
}

type Sender = hyper::client::conn::http1::SendRequest<Body>;

async fn connect(socket: &Path) -> Result<Sender, String> {
    let stream = UnixStream::connect(socket).await.map_err(|error| error.to_string())?;
    let (sender, connection) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
        .await
        .map_err(|error| error.to_string())?;
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::debug!(%error, "connection to the inference worker ended");
        }
    });
    Ok(sender)
}

async fn send(mut sender: Sender, request: Request<Body>) -> Result<Response, String> {
    let response = sender.send_request(request).await.map_err(|error| error.to_string())?;
    Ok(response.map(Body::new))
}
