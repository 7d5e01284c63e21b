//! Immich's queues: each job kind belongs to one, and each has its own concurrency, pause
//! switch and counts.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Queue {
    ThumbnailGeneration,
    MetadataExtraction,
    VideoConversion,
    FaceDetection,
    FacialRecognition,
    SmartSearch,
    DuplicateDetection,
    BackgroundTask,
    StorageTemplateMigration,
    Migration,
    Search,
    Sidecar,
    Library,
    Notifications,
    BackupDatabase,
    Ocr,
    Workflow,
    IntegrityCheck,
    Editor,
}

impl Queue {
    /// Every queue, in Immich's order.
    pub const ALL: [Queue; 19] = [
        Queue::ThumbnailGeneration,
        Queue::MetadataExtraction,
        Queue::VideoConversion,
        Queue::FaceDetection,
        Queue::FacialRecognition,
        Queue::SmartSearch,
        Queue::DuplicateDetection,
        Queue::BackgroundTask,
        Queue::StorageTemplateMigration,
        Queue::Migration,
        Queue::Search,
        Queue::Sidecar,
        Queue::Library,
        Queue::Notifications,
        Queue::BackupDatabase,
        Queue::Ocr,
        Queue::Workflow,
        Queue::IntegrityCheck,
        Queue::Editor,
    ];

    /// The queues whose work Darkroom does today; the others exist (counts, pause) but cannot
    /// be started yet.
    pub const RUNNING: [Queue; 11] = [
        Queue::MetadataExtraction,
        Queue::ThumbnailGeneration,
        Queue::VideoConversion,
        Queue::SmartSearch,
        Queue::DuplicateDetection,
        Queue::FaceDetection,
        Queue::FacialRecognition,
        Queue::Ocr,
        Queue::Sidecar,
        Queue::BackgroundTask,
        Queue::BackupDatabase,
    ];

    /// The queue's name in the API, in Redis keys and in `job.<name>` of the system config.
    pub fn as_str(self) -> &'static str {
        match self {
            Queue::ThumbnailGeneration => "thumbnailGeneration",
            Queue::MetadataExtraction => "metadataExtraction",
            Queue::VideoConversion => "videoConversion",
            Queue::FaceDetection => "faceDetection",
            Queue::FacialRecognition => "facialRecognition",
            Queue::SmartSearch => "smartSearch",
            Queue::DuplicateDetection => "duplicateDetection",
            Queue::BackgroundTask => "backgroundTask",
            Queue::StorageTemplateMigration => "storageTemplateMigration",
            Queue::Migration => "migration",
            Queue::Search => "search",
            Queue::Sidecar => "sidecar",
            Queue::Library => "library",
            Queue::Notifications => "notifications",
            Queue::BackupDatabase => "backupDatabase",
            Queue::Ocr => "ocr",
            Queue::Workflow => "workflow",
            Queue::IntegrityCheck => "integrityCheck",
            Queue::Editor => "editor",
        }
    }

    pub fn parse(name: &str) -> Option<Queue> {
        Queue::ALL.into_iter().find(|queue| queue.as_str() == name)
    }

    /// Immich never starts these by name: their jobs are queued by other work.
    pub fn is_startable(self) -> bool {
        !matches!(
            self,
            Queue::BackgroundTask
                | Queue::Search
                | Queue::Notifications
                | Queue::Workflow
                | Queue::IntegrityCheck
                | Queue::Editor
        )
    }
}

impl fmt::Display for Queue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_serde_and_parse() {
        for queue in Queue::ALL {
            assert_eq!(serde_json::to_value(queue).unwrap(), serde_json::json!(queue.as_str()));
            assert_eq!(Queue::parse(queue.as_str()), Some(queue));
        }
    }
}
