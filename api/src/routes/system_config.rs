//! `/system-config*` and its 3.2 twin `/admin/config*`: the admin's view of the configuration.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::auth::Auth;
use crate::error::ApiResult;
use crate::state::AppState;
use crate::validation::ValidJson;

pub async fn get(State(state): State<AppState>, Auth(_): Auth) -> ApiResult<Json<Value>> {
    Ok(Json(state.system_config.get(&state.db).await?))
}

pub async fn defaults(State(state): State<AppState>, Auth(_): Auth) -> Json<Value> {
    Json(state.system_config.defaults().clone())
}

pub async fn update(State(state): State<AppState>, Auth(_): Auth, ValidJson(candidate): ValidJson<Value>) -> ApiResult<Json<Value>> {
    let updated = state.system_config.update(&state.db, &candidate).await?;
    crate::events::broadcast(&state, "on_config_update", None).await;
    Ok(Json(updated))
}

pub async fn storage_template_options(Auth(_): Auth) -> Json<Value> {
    Json(json!({
        "secondOptions": ["s", "ss", "SSS"],
        "minuteOptions": ["m", "mm"],
        "dayOptions": ["d", "dd"],
        "weekOptions": ["W", "WW"],
        "hourOptions": ["h", "hh", "H", "HH"],
        "yearOptions": ["y", "yy"],
        "monthOptions": ["M", "MM", "MMM", "MMMM"],
        "presetOptions": [
            "{{y}}/{{y}}-{{MM}}-{{dd}}/{{filename}}",
            "{{y}}/{{MM}}-{{dd}}/{{filename}}",
            "{{y}}/{{MMMM}}-{{dd}}/{{filename}}",
            "{{y}}/{{MM}}/{{filename}}",
            "{{y}}/{{#if album}}{{album}}{{else}}Other/{{MM}}{{/if}}/{{filename}}",
            "{{#if album}}{{album-startDate-y}}/{{album}}{{else}}{{y}}/Other/{{MM}}{{/if}}/{{filename}}",
            "{{y}}/{{MMM}}/{{filename}}",
            "{{y}}/{{MMMM}}/{{filename}}",
            "{{y}}/{{MM}}/{{dd}}/{{filename}}",
            "{{y}}/{{MMMM}}/{{dd}}/{{filename}}",
            "{{y}}/{{y}}-{{MM}}/{{y}}-{{MM}}-{{dd}}/{{filename}}",
            "{{y}}-{{MM}}-{{dd}}/{{filename}}",
            "{{y}}-{{MMM}}-{{dd}}/{{filename}}",
            "{{y}}-{{MMMM}}-{{dd}}/{{filename}}",
            "{{y}}/{{y}}-{{MM}}/{{filename}}",
            "{{y}}/{{y}}-{{WW}}/{{filename}}",
            "{{y}}/{{y}}-{{MM}}-{{dd}}/{{assetId}}",
            "{{y}}/{{y}}-{{MM}}/{{assetId}}",
            "{{y}}/{{y}}-{{WW}}/{{assetId}}",
            "{{album}}/{{filename}}",
            "{{make}}/{{model}}/{{lensModel}}/{{filename}}"
        ]
    }))
}
