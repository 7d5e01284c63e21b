//! Business logic, one module per area; handlers call these and map results to DTOs.

pub mod asset_edits;
pub mod database_backups;
pub mod disk_space;
pub mod email;
pub mod incoming;
pub mod licenses;
pub mod notifications;
pub mod preferences;
pub mod resumable;
pub mod smart_search;
pub mod sync;
pub mod trash;
pub mod uploads;
pub mod users;
