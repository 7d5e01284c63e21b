//! Business logic, one module per area; handlers call these and map results to DTOs.

pub mod asset_edits;
pub mod incoming;
pub mod licenses;
pub mod preferences;
pub mod resumable;
pub mod sync;
pub mod trash;
pub mod uploads;
pub mod users;
