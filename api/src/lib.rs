//! Darkroom's API server: Immich's REST API over axum, backed by `darkroom-storage`.

pub mod access;
pub mod app;
pub mod auth;
pub mod compression;
pub mod config;
pub mod dto;
pub mod error;
pub mod events;
pub mod file_serving;
pub mod geodata;
pub mod jobs;
pub mod logging;
pub mod machine_learning;
pub mod panic_guard;
pub mod permission;
pub mod routes;
pub mod server;
pub mod services;
pub mod settings_tree;
pub mod state;
pub mod structured_fields;
pub mod system_config;
pub mod unread_body;
pub mod validation;
pub mod version;
mod web;
pub mod zip_stream;
