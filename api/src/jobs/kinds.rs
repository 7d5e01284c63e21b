//! The jobs Darkroom runs, as types: each kind with its payload and its queue. Stored in Redis
//! as Immich names them (`{"name": "AssetExtractMetadata", "data": {"id": …}}`), so a queue
//! filled by an earlier version is still read.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::Queue;

/// What made an asset's metadata be read again: the clients hear of the result differently
/// (an upload is announced once its thumbnails exist, a refresh at once).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    Upload,
    SidecarWrite,
    SidecarCheck,
}

/// A job about one asset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetJob {
    pub id: Uuid,
    #[serde(rename = "source", default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
}

impl AssetJob {
    pub fn of(id: Uuid) -> Self {
        Self { id, reason: None }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserJob {
    pub id: Uuid,
    /// Removed now, not after `user.deleteDelay` days.
    #[serde(default)]
    pub force: bool,
}

/// A job about one face: recognising it. A `deferred` face had too few look-alikes to found a
/// person of its own and is tried once more after the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaceJob {
    pub id: Uuid,
    #[serde(default)]
    pub deferred: bool,
}

/// A job about one person (their thumbnail).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonJob {
    pub id: Uuid,
}

/// Queues recognition for faces: nobody's (`force`: all, people made anew), or, `nightly`,
/// only when faces were added since the last run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecognitionRun {
    #[serde(default)]
    pub force: bool,
    #[serde(default)]
    pub nightly: bool,
}

/// Every job kind. Jobs without a payload carry `{}` as Immich's do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "name", content = "data")]
pub enum Job {
    AssetExtractMetadata(AssetJob),
    AssetGenerateThumbnails(AssetJob),
    AssetEncodeVideo(AssetJob),
    SmartSearch(AssetJob),
    AssetDetectDuplicates(AssetJob),
    AssetDetectFaces(AssetJob),
    FacialRecognition(FaceJob),
    FacialRecognitionQueueAll(RecognitionRun),
    PersonGenerateThumbnail(PersonJob),
    Ocr(AssetJob),
    SidecarWrite(AssetJob),
    SidecarCheck(AssetJob),
    AssetDeleteCheck {},
    UserDeleteCheck {},
    UserDelete(UserJob),
    SessionCleanup {},
    AuditTableCleanup {},
    UserSyncUsage {},
    TagCleanup {},
    MemoryGenerate {},
    MemoryCleanup {},
    DatabaseBackup {},
}

impl Job {
    /// The queue the job runs on.
    pub fn queue(&self) -> Queue {
        match self {
            Self::AssetExtractMetadata(_) => Queue::MetadataExtraction,
            Self::AssetGenerateThumbnails(_) => Queue::ThumbnailGeneration,
            Self::AssetEncodeVideo(_) => Queue::VideoConversion,
            Self::SmartSearch(_) => Queue::SmartSearch,
            Self::AssetDetectDuplicates(_) => Queue::DuplicateDetection,
            Self::AssetDetectFaces(_) => Queue::FaceDetection,
            Self::FacialRecognition(_) | Self::FacialRecognitionQueueAll(_) => Queue::FacialRecognition,
            Self::PersonGenerateThumbnail(_) => Queue::ThumbnailGeneration,
            Self::Ocr(_) => Queue::Ocr,
            Self::SidecarWrite(_) | Self::SidecarCheck(_) => Queue::Sidecar,
            Self::AssetDeleteCheck {}
            | Self::UserDeleteCheck {}
            | Self::UserDelete(_)
            | Self::SessionCleanup {}
            | Self::AuditTableCleanup {}
            | Self::UserSyncUsage {}
            | Self::TagCleanup {}
            | Self::MemoryGenerate {}
            | Self::MemoryCleanup {} => Queue::BackgroundTask,
            Self::DatabaseBackup {} => Queue::BackupDatabase,
        }
    }

    /// The name and payload it is stored under.
    pub fn to_stored(self) -> (String, Value) {
        let mut stored = serde_json::to_value(self).unwrap_or_default();
        let name = stored["name"].as_str().unwrap_or_default().to_owned();
        (name, stored["data"].take())
    }

    /// Reads a stored job back; `Err` says why it cannot be run.
    pub fn from_stored(name: &str, data: &Value) -> Result<Self, serde_json::Error> {
        serde_json::from_value(serde_json::json!({ "name": name, "data": data }))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn jobs_are_stored_as_immich_names_them() {
        let id = Uuid::new_v4();
        let upload = Job::AssetExtractMetadata(AssetJob {
            id,
            reason: Some(Reason::Upload),
        });
        assert_eq!(
            upload.to_stored(),
            ("AssetExtractMetadata".into(), json!({ "id": id, "source": "upload" }))
        );
        assert_eq!(Job::SessionCleanup {}.to_stored(), ("SessionCleanup".into(), json!({})));
        assert_eq!(
            Job::from_stored("AssetEncodeVideo", &json!({ "id": id })).unwrap(),
            Job::AssetEncodeVideo(AssetJob::of(id))
        );
        assert_eq!(
            Job::from_stored("UserDelete", &json!({ "id": id })).unwrap(),
            Job::UserDelete(UserJob { id, force: false })
        );
        for (name, data) in [
            ("AssetEncodeVideo", json!({})),
            ("NoSuchJob", json!({})),
            ("SidecarWrite", json!({ "id": "x" })),
        ] {
            assert!(Job::from_stored(name, &data).is_err(), "{name} {data}");
        }
    }

    #[test]
    fn every_kind_names_its_queue() {
        let id = Uuid::new_v4();
        assert_eq!(Job::SidecarCheck(AssetJob::of(id)).queue(), Queue::Sidecar);
        assert_eq!(
            Job::UserDelete(UserJob { id, force: true }).queue(),
            Queue::BackgroundTask
        );
        assert_eq!(Job::DatabaseBackup {}.queue(), Queue::BackupDatabase);
    }
}
