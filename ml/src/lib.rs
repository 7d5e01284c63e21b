//! `darkroom-ml`: Immich's machine-learning service in Rust. So far: its settings, the request
//! side of the protocol, the models' cache and the hub they are fetched from, as Immich's
//! container reads, keeps and fetches them.

pub mod cache;
pub mod hub;
pub mod protocol;
pub mod settings;
