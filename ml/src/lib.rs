//! `darkroom-ml`: Immich's machine-learning service in Rust. So far: the models' cache and the
//! hub they are fetched from, as Immich's container keeps and fetches them.

pub mod cache;
pub mod hub;
