//! `darkroom-ml`: Immich's machine-learning service in Rust. Its settings, the protocol, the
//! models' cache and the hub they are fetched from, ONNX Runtime sessions, and the models: CLIP,
//! faces (SCRFD or MTCNN, then ArcFace) and OCR (PP-OCR).

pub mod cache;
pub mod decode;
pub mod error;
pub mod hub;
pub mod models;
pub mod protocol;
pub mod runtime;
pub mod service;
pub mod settings;
