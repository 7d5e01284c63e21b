//! 3.2's `/config` (what any user may see) and `/public/config` (what anyone may see): projections
//! of the system configuration onto the fields each audience needs.

use axum::Json;
use axum::extract::State;
use serde_json::{Map, Value};

use crate::auth::Auth;
use crate::error::ApiResult;
use crate::state::AppState;

/// Leaves visible to signed-in users, in the order Immich emits them.
const USER_FIELDS: &[&str] = &[
    "ffmpeg.realtime.enabled",
    "ffmpeg.realtime.videoCodecs",
    "ffmpeg.realtime.resolutions",
    "machineLearning.enabled",
    "machineLearning.clip.enabled",
    "machineLearning.duplicateDetection.enabled",
    "machineLearning.facialRecognition.enabled",
    "machineLearning.facialRecognition.minFaces",
    "machineLearning.ocr.enabled",
    "map.enabled",
    "map.lightStyle",
    "map.darkStyle",
    "reverseGeocoding.enabled",
    "oauth.autoLaunch",
    "oauth.buttonText",
    "oauth.enabled",
    "passwordLogin.enabled",
    "image.thumbnail.size",
    "image.preview.size",
    "image.fullsize.enabled",
    "trash.enabled",
    "trash.days",
    "theme.customCss",
    "server.externalDomain",
    "server.loginPageMessage",
    "server.publicUsers",
    "user.deleteDelay",
];

/// Leaves visible without signing in.
const PUBLIC_FIELDS: &[&str] = &[
    "oauth.autoLaunch",
    "oauth.buttonText",
    "oauth.enabled",
    "passwordLogin.enabled",
    "theme.customCss",
    "server.loginPageMessage",
];

fn project(config: &Value, fields: &[&str]) -> Value {
    let mut out = Value::Object(Map::new());
    for field in fields {
        let path: Vec<&str> = field.split('.').collect();
        let value = path
            .iter()
            .try_fold(config, |node, key| node.get(key))
            .cloned()
            .unwrap_or(Value::Null);
        let mut node = &mut out;
        for key in &path[..path.len() - 1] {
            node = node
                .as_object_mut()
                .map(|o| o.entry(key.to_string()).or_insert_with(|| Value::Object(Map::new())))
                .unwrap_or_else(|| unreachable!("projection nodes are objects"));
        }
        if let Some(object) = node.as_object_mut() {
            object.insert(path[path.len() - 1].to_string(), value);
        }
    }
    out
}

pub async fn public(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    Ok(Json(project(&state.system_config.get(&state.db).await?, PUBLIC_FIELDS)))
}

pub async fn public_defaults(State(state): State<AppState>) -> Json<Value> {
    Json(project(state.system_config.defaults(), PUBLIC_FIELDS))
}

pub async fn user(State(state): State<AppState>, Auth(_): Auth) -> ApiResult<Json<Value>> {
    Ok(Json(project(&state.system_config.get(&state.db).await?, USER_FIELDS)))
}

pub async fn user_defaults(State(state): State<AppState>, Auth(_): Auth) -> Json<Value> {
    Json(project(state.system_config.defaults(), USER_FIELDS))
}
