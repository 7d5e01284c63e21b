//! User preferences: Immich's defaults overlaid with the user's stored differences
//! (`user_metadata` key `preferences`).

use std::sync::LazyLock;

use darkroom_storage::{PgPool, users};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::settings_tree::{self, LeafRule};

pub const METADATA_KEY: &str = "preferences";

pub static DEFAULTS: LazyLock<Value> = LazyLock::new(|| {
    json!({
        "albums": {"defaultAssetOrder": "desc"},
        "folders": {"enabled": false, "sidebarWeb": false},
        "memories": {"enabled": true, "duration": 5},
        "people": {"enabled": true, "sidebarWeb": false, "minimumFaces": 3},
        "sharedLinks": {"enabled": true, "sidebarWeb": false},
        "ratings": {"enabled": false},
        "tags": {"enabled": false, "sidebarWeb": false},
        "emailNotifications": {"enabled": true, "albumInvite": true, "albumUpdate": true},
        "download": {"archiveSize": 4_294_967_296_u64, "includeEmbeddedVideos": false},
        "purchase": {"showSupportBadge": true, "hideBuyButtonUntil": "2022-02-12T00:00:00.000Z"},
        "cast": {"gCastEnabled": false},
        "recentlyAdded": {"sidebarWeb": false}
    })
});

fn rule(path: &str) -> LeafRule {
    match path {
        "memories.duration" | "people.minimumFaces" | "download.archiveSize" => LeafRule {
            integer: true,
            minimum: Some(1.0),
            ..Default::default()
        },
        "albums.defaultAssetOrder" => LeafRule {
            one_of: Some(vec!["asc".into(), "desc".into()]),
            ..Default::default()
        },
        _ => LeafRule::default(),
    }
}

pub async fn get(db: &PgPool, user_id: Uuid) -> ApiResult<Value> {
    let stored = users::metadata_value(db, user_id, METADATA_KEY)
        .await?
        .unwrap_or_else(|| json!({}));
    Ok(settings_tree::merge(&DEFAULTS, &stored))
}

/// Applies a partial update; returns the full preferences (plus the avatar colour when it was
/// part of the update, which lives on the user row).
pub async fn update(db: &PgPool, user_id: Uuid, changes: &Value) -> ApiResult<Value> {
    if !changes.is_object() {
        return Err(ApiError::Validation(vec![crate::error::ValidationIssue::with_code(
            "invalid_type",
            &[],
            "Invalid input: expected object, received ".to_string()
                + if changes.is_array() { "array" } else { "string" },
        )]));
    }
    let mut issues = Vec::new();
    settings_tree::check(changes, &DEFAULTS, true, &rule, &mut Vec::new(), &mut issues);
    if let Some(color) = changes.get("avatar").and_then(|a| a.get("color"))
        && serde_json::from_value::<Option<crate::dto::AvatarColor>>(color.clone()).is_err()
    {
        issues.push(crate::error::ValidationIssue::with_code(
            "invalid_value",
            &["avatar", "color"],
            format!("Invalid option: expected one of {}", quoted(&crate::dto::AVATAR_COLORS)),
        ));
    }
    if !issues.is_empty() {
        return Err(ApiError::Validation(issues));
    }
    let merged = settings_tree::merge(&get(db, user_id).await?, changes);
    users::set_metadata(db, user_id, METADATA_KEY, &settings_tree::diff(&merged, &DEFAULTS)).await?;
    Ok(merged)
}

pub fn quoted(options: &[&str]) -> String {
    options.iter().map(|o| format!("\"{o}\"")).collect::<Vec<_>>().join("|")
}
