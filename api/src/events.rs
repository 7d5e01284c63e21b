//! Live events for clients over Socket.IO at `/api/socket.io` (websocket transport), as Immich
//! sends them: each client joins a room for its user and one for its session. Events travel
//! through Redis pub/sub, so a job finished by a workers-only process reaches clients
//! connected to an API process.

use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use socketioxide::extract::SocketRef;
use socketioxide::{SocketIo, TransportType};
use uuid::Uuid;

use crate::state::{AppState, WeakState};

pub const SOCKET_PATH: &str = "/api/socket.io";

/// One event on its way to clients: a room (user or session id), or everyone.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Envelope {
    room: Option<String>,
    event: String,
    data: Vec<Value>,
}

pub fn new_socket_io() -> (socketioxide::layer::SocketIoLayer, SocketIo) {
    SocketIo::builder()
        .req_path(SOCKET_PATH)
        .transports([TransportType::Websocket])
        .build_layer()
}

/// Accepts connections of signed-in users (never shared-link guests) into their rooms and
/// greets them with the server version.
pub fn register(io: &SocketIo, state: WeakState) {
    io.ns("/", async move |socket: SocketRef| {
        let Some(state) = state.upgrade() else { return };
        if state.maintenance.is_active() {
            // The maintenance page listens for progress: in full when signed in to it.
            let token = crate::maintenance::token_cookie(&socket.req_parts().headers);
            let signed_in = token.is_some_and(|token| state.maintenance.verify(token).is_some());
            socket.join(if signed_in {
                crate::maintenance::PRIVATE_ROOM
            } else {
                crate::maintenance::PUBLIC_ROOM
            });
            return;
        }
        match crate::auth::authenticate(&state, socket.req_parts()).await {
            Ok(auth) if auth.shared_link.is_none() => {
                socket.join(auth.user.id.to_string());
                if let Some(session) = &auth.session {
                    socket.join(session.id.to_string());
                }
                let _ = socket.emit("on_server_version", &crate::version::api_version_dto());
                tracing::debug!(user = %auth.user.id, "websocket connected");
            }
            _ => {
                let _ = socket.emit("error", "unauthorized");
                let _ = socket.disconnect();
            }
        }
    });
}

fn channel(state: &AppState) -> String {
    format!("{}:events", state.config.redis.key_prefix)
}

/// Where processes tell each other what changed (Immich's server-side events).
fn server_channel(state: &AppState) -> String {
    format!("{}:server-events", state.config.redis.key_prefix)
}

/// What one process tells the others; `origin` names the sender, which hears itself too.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "event")]
pub enum ServerEvent {
    /// Maintenance mode began or ended: read the stored state again.
    MaintenanceChanged { origin: Uuid },
    /// A maintenance action progressed.
    MaintenanceStatus {
        origin: Uuid,
        status: crate::maintenance::MaintenanceStatus,
    },
}

/// Tells every process (this one included) about `event`.
pub async fn to_servers(state: &AppState, event: ServerEvent) {
    let message = serde_json::to_string(&event).unwrap_or_default();
    if let Err(error) = state.jobs.publish(&server_channel(state), &message).await {
        tracing::warn!(%error, ?event, "could not tell the other processes");
    }
}

async fn publish(state: &AppState, envelope: Envelope) {
    let message = serde_json::to_string(&envelope).unwrap_or_default();
    if let Err(error) = state.jobs.publish(&channel(state), &message).await {
        // Without Redis, at least this process's clients hear it.
        tracing::warn!(%error, event = envelope.event, "could not publish an event; delivering locally");
        deliver(state, envelope).await;
    }
}

async fn deliver(state: &AppState, envelope: Envelope) {
    let operators = match &envelope.room {
        Some(room) => state.io.to(room.clone()),
        None => state.io.broadcast(),
    };
    // No data means an event without arguments (on_config_update).
    let result = match envelope.data.first() {
        Some(data) => operators.emit(&envelope.event, data).await,
        None => operators.emit(&envelope.event, &()).await,
    };
    if let Err(error) = result {
        tracing::debug!(%error, event = envelope.event, "event not delivered");
    }
}

/// Sends `event` with `data` to a room's clients: a user's or session's (by id), or a named one.
pub async fn send(state: &AppState, room: impl std::fmt::Display, event: &str, data: Value) {
    publish(
        state,
        Envelope {
            room: Some(room.to_string()),
            event: event.to_string(),
            data: vec![data],
        },
    )
    .await;
}

/// Tells the clients of deleted sessions that they are signed out.
pub async fn sessions_deleted(state: &AppState, ids: &[Uuid]) {
    for id in ids {
        send(state, *id, "on_session_delete", json!(id)).await;
    }
}

/// Sends `event` to every connected client.
pub async fn broadcast(state: &AppState, event: &str, data: Option<Value>) {
    publish(
        state,
        Envelope {
            room: None,
            event: event.to_string(),
            data: data.into_iter().collect(),
        },
    )
    .await;
}

/// Delivers what any process published to the clients connected here, and passes what
/// processes tell each other on, until dropped.
pub async fn relay(state: AppState) {
    let url = state.config.redis.connection_url();
    let (clients, servers) = (channel(&state), server_channel(&state));
    loop {
        match redis::Client::open(url.as_str()) {
            Ok(client) => match client.get_async_pubsub().await {
                Ok(mut pubsub) => {
                    if pubsub.subscribe(&[&clients, &servers]).await.is_ok() {
                        let mut messages = pubsub.into_on_message();
                        while let Some(message) = messages.next().await {
                            let Ok(payload) = message.get_payload::<String>() else {
                                continue;
                            };
                            if message.get_channel_name() == servers {
                                if let Ok(event) = serde_json::from_str::<ServerEvent>(&payload) {
                                    crate::maintenance::on_server_event(&state, event).await;
                                }
                            } else if let Ok(envelope) = serde_json::from_str::<Envelope>(&payload) {
                                deliver(&state, envelope).await;
                            }
                        }
                    }
                }
                Err(error) => tracing::warn!(%error, "event relay cannot subscribe"),
            },
            Err(error) => tracing::warn!(%error, "event relay has no Redis"),
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}
