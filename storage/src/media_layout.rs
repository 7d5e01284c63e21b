//! Where files live inside the media location (`IMMICH_MEDIA_LOCATION`), using Immich's folder names
//! so an existing Immich media folder can be used as it is.

use std::path::{Path, PathBuf};

use uuid::Uuid;

use crate::{Result, StorageError};

/// The top-level folders of the media location, as Immich names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageFolder {
    EncodedVideo,
    Library,
    Upload,
    Profile,
    Thumbnails,
    Backups,
}

impl StorageFolder {
    pub const ALL: [StorageFolder; 6] = [
        Self::EncodedVideo,
        Self::Library,
        Self::Upload,
        Self::Profile,
        Self::Thumbnails,
        Self::Backups,
    ];

    pub fn dir_name(self) -> &'static str {
        match self {
            Self::EncodedVideo => "encoded-video",
            Self::Library => "library",
            Self::Upload => "upload",
            Self::Profile => "profile",
            Self::Thumbnails => "thumbs",
            Self::Backups => "backups",
        }
    }
}

/// Name of the marker file that proves a folder is the mounted one and writable.
pub const MOUNT_MARKER: &str = ".immich";

#[derive(Debug, Clone)]
pub struct MediaLayout {
    root: PathBuf,
}

impl MediaLayout {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn folder(&self, folder: StorageFolder) -> PathBuf {
        self.root.join(folder.dir_name())
    }

    /// `profile/<userId>/<fileId>.<ext>`
    pub fn profile_image_path(&self, user_id: Uuid, file_id: Uuid, extension: &str) -> PathBuf {
        self.folder(StorageFolder::Profile)
            .join(user_id.to_string())
            .join(format!("{file_id}.{extension}"))
    }

    /// `upload/<userId>/<f[0:2]>/<f[2:4]>/<f><ext>`: where an uploaded original (or its `.xmp`
    /// sidecar, with the same `file_id`) is kept; `extension` includes its dot.
    pub fn upload_path(&self, user_id: Uuid, file_id: Uuid, extension: &str) -> PathBuf {
        let name = file_id.to_string();
        self.folder(StorageFolder::Upload)
            .join(user_id.to_string())
            .join(&name[0..2])
            .join(&name[2..4])
            .join(format!("{name}{extension}"))
    }

    /// Bytes still arriving: on the upload volume (so the final rename is atomic) and in a folder
    /// of their own, emptied at start-up, so an interrupted upload never looks like an asset.
    pub fn incoming_dir(&self) -> PathBuf {
        self.folder(StorageFolder::Upload).join(".darkroom-incoming")
    }

    /// Resumable uploads between their requests; these survive restarts.
    pub fn resumable_dir(&self) -> PathBuf {
        self.folder(StorageFolder::Upload).join(".darkroom-resumable")
    }

    /// Removes what interrupted uploads left in `incoming_dir`; returns how many files went.
    pub async fn sweep_incoming(&self) -> Result<usize> {
        let dir = self.incoming_dir();
        let mut removed = 0;
        let mut entries = match tokio::fs::read_dir(&dir).await {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(error) => return Err(StorageError::io(format!("cannot list {}", dir.display()), error)),
        };
        while let Some(entry) = entries
            .next_entry()
            .await
            .map_err(|e| StorageError::io(format!("cannot list {}", dir.display()), e))?
        {
            if tokio::fs::remove_file(entry.path()).await.is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Whether `path` lies inside the media location (guards file serving against stored paths
    /// that point elsewhere).
    pub fn contains(&self, path: &Path) -> bool {
        path.starts_with(&self.root) && !path.components().any(|c| matches!(c, std::path::Component::ParentDir))
    }

    /// First boot for a folder: create it and its marker file.
    pub async fn create_mount_marker(&self, folder: StorageFolder) -> Result<()> {
        let dir = self.folder(folder);
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(|e| StorageError::io(format!("cannot create {}", dir.display()), e))?;
        let marker = dir.join(MOUNT_MARKER);
        tokio::fs::write(&marker, b"")
            .await
            .map_err(|e| StorageError::io(format!("cannot write {}", marker.display()), e))
    }

    /// Every boot: the marker must be readable and writable, which fails when the volume
    /// behind the folder is not mounted (the marker is missing) or is read-only.
    pub async fn verify_mount_marker(&self, folder: StorageFolder) -> Result<()> {
        let marker = self.folder(folder).join(MOUNT_MARKER);
        tokio::fs::read(&marker).await.map_err(|e| {
            StorageError::io(
                format!(
                    "failed to read {} (is the {} folder mounted?)",
                    marker.display(),
                    folder.dir_name()
                ),
                e,
            )
        })?;
        tokio::fs::write(&marker, b"")
            .await
            .map_err(|e| StorageError::io(format!("failed to write {}", marker.display()), e))
    }
}
