//! Darkroom's storage layer: PostgreSQL repositories (one module per table family),
//! database preparation (vector extension, migrations) and the on-disk media layout.

pub mod activities;
pub mod albums;
pub mod api_keys;
pub mod asset_jobs;
pub mod assets;
pub mod auth_changes;
pub mod database;
pub mod duplicates;
pub mod embeddings;
mod error;
pub mod exif;
pub mod face_recognition;
pub mod faces;
pub mod geodata;
pub mod heatmap;
pub mod maintenance;
pub mod map;
pub mod media_layout;
pub mod memories;
pub mod notifications;
pub mod ocr;
pub mod partners;
pub mod people;
pub mod queue;
pub mod resumable;
pub mod search;
pub mod sessions;
pub mod shared_links;
pub mod stacks;
pub mod sync;
pub mod system_metadata;
pub mod tags;
pub mod throttle;
pub mod timeline;
pub mod users;
pub mod version_history;

pub use database::{Database, VectorExtension};
pub use error::StorageError;
pub use sqlx::PgPool;
pub use sqlx::postgres::{PgConnectOptions, PgSslMode};

pub type Result<T, E = StorageError> = std::result::Result<T, E>;
