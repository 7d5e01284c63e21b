//! Darkroom's media crate: knowledge about media files. It never touches the database.
//!
//! Which file types the server accepts (the allow-list the official clients read from
//! `/api/server/media-types`), what files say about themselves (through exiftool), and the
//! preview, thumbnail and thumbhash made from them.

pub mod color;
pub mod decode;
mod exiftool;
pub mod face_crop;
mod formats;
pub mod metadata;
pub mod motion;
pub mod settings;
pub mod thumbnails;
mod tools;
pub mod transcode;

pub use exiftool::{Exiftool, ExiftoolError};
pub use formats::{MediaKind, MediaType, extension_of, lookup, media_types, mime_type_of};
pub use tools::{ToolVersions, versions as tool_versions};
