//! `darkroom-ml`: Immich's machine-learning service in Rust. So far: its settings, the models'
//! cache and the hub they are fetched from, as Immich's container reads, keeps and fetches them.

pub mod cache;
pub mod hub;
pub mod settings;
