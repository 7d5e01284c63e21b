//! The stream's body: JSON lines gathered into chunks for the client.

use axum::body::Bytes;
use tokio::sync::mpsc;

use super::wire::Data;

/// Bytes gathered before a chunk goes to the client.
const CHUNK: usize = 64 * 1024;

/// What goes to the client: whole lines, gathered into chunks.
pub struct Lines {
    sender: mpsc::Sender<std::io::Result<Bytes>>,
    buffer: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error("the client went away")]
    Gone,
    #[error(transparent)]
    Storage(#[from] darkroom_storage::StorageError),
    #[error("writing a line: {0}")]
    Encode(#[from] serde_json::Error),
}

impl Lines {
    pub fn new(sender: mpsc::Sender<std::io::Result<Bytes>>) -> Self {
        Self {
            sender,
            buffer: Vec::with_capacity(CHUNK + 4096),
        }
    }

    /// `{"type":…,"data":…,"ack":…}` with `data` already JSON.
    pub async fn line(&mut self, kind: &str, data: &str, ack: &str) -> Result<(), StreamError> {
        self.begin(kind);
        self.buffer.extend_from_slice(data.as_bytes());
        self.end(ack).await
    }

    /// The line of one entity, its JSON written straight into the chunk.
    pub async fn entry(&mut self, kind: &str, data: &Data, ack: &str) -> Result<(), StreamError> {
        self.begin(kind);
        data.write(&mut self.buffer)?;
        self.end(ack).await
    }

    fn begin(&mut self, kind: &str) {
        self.buffer.extend_from_slice(b"{\"type\":\"");
        self.buffer.extend_from_slice(kind.as_bytes());
        self.buffer.extend_from_slice(b"\",\"data\":");
    }

    async fn end(&mut self, ack: &str) -> Result<(), StreamError> {
        self.buffer.extend_from_slice(b",\"ack\":");
        // Acks are types, UUIDs, `|` and `complete`: nothing to escape, but say so safely.
        self.buffer
            .extend_from_slice(serde_json::to_string(ack).unwrap_or_default().as_bytes());
        self.buffer.extend_from_slice(b"}\n");
        if self.buffer.len() >= CHUNK {
            self.flush().await
        } else {
            Ok(())
        }
    }

    pub async fn flush(&mut self) -> Result<(), StreamError> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK + 4096)));
        self.sender.send(Ok(chunk)).await.map_err(|_| StreamError::Gone)
    }
}
