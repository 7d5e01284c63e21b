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
    pub const ALL: [StorageFolder; 6] =
        [Self::EncodedVideo, Self::Library, Self::Upload, Self::Profile, Self::Thumbnails, Self::Backups];

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
        self.folder(StorageFolder::Profile).join(user_id.to_string()).join(format!("{file_id}.{extension}"))
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
            StorageError::io(format!("failed to read {} (is the {} folder mounted?)", marker.display(), folder.dir_name()), e)
        })?;
        tokio::fs::write(&marker, b"")
            .await
            .map_err(|e| StorageError::io(format!("failed to write {}", marker.display()), e))
    }
}
