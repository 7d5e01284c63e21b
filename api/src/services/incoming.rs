//! Files arriving from clients: streamed to the upload volume's incoming folder while hashed,
//! then renamed into place. Until `persist` succeeds the file is removed when dropped — on an
//! error, a rejected request or a client that hangs up — so nothing half-written stays behind.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use bytes::Bytes;
use darkroom_storage::media_layout::MediaLayout;
use futures::{Stream, StreamExt};
use sha1::{Digest, Sha1};
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};

const WRITE_BUFFER: usize = 1024 * 1024;

#[derive(Debug)]
pub struct IncomingFile {
    path: PathBuf,
    size: u64,
    sha1: [u8; 20],
    kept: bool,
}

impl IncomingFile {
    /// Writes `chunks` to a fresh file in the incoming folder, computing SHA-1 on the way.
    pub async fn receive<S, E>(layout: &MediaLayout, mut chunks: S) -> ApiResult<Self>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        ApiError: From<E>,
    {
        let dir = layout.incoming_dir();
        tokio::fs::create_dir_all(&dir).await?;
        let path = dir.join(format!("{}.part", Uuid::new_v4()));
        // Large writes: each one is a hop to the blocking pool, so few of them.
        let mut file = tokio::io::BufWriter::with_capacity(WRITE_BUFFER, tokio::fs::File::create(&path).await?);
        // From here on, dropping `incoming` removes the file.
        let mut incoming = Self {
            path,
            size: 0,
            sha1: [0; 20],
            kept: false,
        };
        let mut hasher = Sha1::new();
        while let Some(chunk) = chunks.next().await {
            let chunk = chunk?;
            hasher.update(&chunk);
            file.write_all(&chunk).await?;
            incoming.size += chunk.len() as u64;
        }
        file.flush().await?;
        file.get_ref().sync_all().await?;
        incoming.sha1 = hasher.finalize().into();
        Ok(incoming)
    }

    /// A file that arrived by other means (a completed resumable upload), with its size and
    /// SHA-1; like a received file it is removed when dropped unless persisted.
    pub fn adopt(path: PathBuf, size: u64, sha1: [u8; 20]) -> Self {
        Self {
            path,
            size,
            sha1,
            kept: false,
        }
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn sha1(&self) -> [u8; 20] {
        self.sha1
    }

    /// Sets the modification time the stored file should carry (the client's `fileModifiedAt`).
    pub fn set_modified(&self, time: SystemTime) -> ApiResult<()> {
        std::fs::File::options()
            .write(true)
            .open(&self.path)?
            .set_modified(time)?;
        Ok(())
    }

    /// Moves the file to `destination` (same volume: an atomic rename). Until the caller's
    /// database transaction commits, a `Placed` guard removes it again if dropped.
    pub async fn persist(mut self, destination: &Path) -> ApiResult<Placed> {
        if let Some(dir) = destination.parent() {
            tokio::fs::create_dir_all(dir).await?;
        }
        tokio::fs::rename(&self.path, destination).await?;
        self.kept = true;
        Ok(Placed {
            path: destination.to_path_buf(),
            committed: false,
        })
    }
}

impl Drop for IncomingFile {
    fn drop(&mut self) {
        if !self.kept {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// A file in its final place whose database rows are not committed yet.
#[derive(Debug)]
pub struct Placed {
    path: PathBuf,
    committed: bool,
}

impl Placed {
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn path_text(&self) -> String {
        self.path.to_string_lossy().into_owned()
    }

    /// The rows pointing at this file are committed: keep it.
    pub fn commit(mut self) {
        self.committed = true;
    }
}

impl Drop for Placed {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}
