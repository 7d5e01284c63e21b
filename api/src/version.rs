//! Versions: the Immich API level Darkroom speaks, and Darkroom's own.

/// The Immich release whose API we implement (what `/server/version` reports to clients).
pub const API_VERSION: (u32, u32, u32) = (3, 2, 2);

pub const DARKROOM_VERSION: &str = env!("CARGO_PKG_VERSION");

/// `ServerVersionResponseDto`, for `/server/version` and the socket's `on_server_version`
/// (the web app shows `-rc.<prerelease>` unless `prerelease` is null).
pub fn api_version_dto() -> serde_json::Value {
    let (major, minor, patch) = API_VERSION;
    serde_json::json!({ "major": major, "minor": minor, "patch": patch, "prerelease": null })
}

pub fn api_version_string() -> String {
    let (major, minor, patch) = API_VERSION;
    format!("{major}.{minor}.{patch}")
}
