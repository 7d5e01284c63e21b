//! Darkroom's media crate: knowledge about media files. It never touches the database.
//!
//! So far: which file types the server accepts and their MIME types (the allow-list the official
//! clients read from `/api/server/media-types`). Decoding, metadata and thumbnails arrive with the
//! media pipeline.

mod formats;

pub use formats::{MediaKind, MediaType, extension_of, lookup, media_types, mime_type_of};
