//! `/system-config*` and its 3.2 twin `/admin/config*`: the admin's view of the configuration.

use axum::Json;
use axum::extract::State;
use serde_json::Value;

use crate::auth::Auth;
use crate::error::ApiResult;
use crate::services::smart_search;
use crate::state::AppState;
use crate::system_config::storage_template;
use crate::validation::ValidJson;

pub async fn get(State(state): State<AppState>, Auth(_): Auth) -> ApiResult<Json<Value>> {
    Ok(Json(state.system_config.get(&state.db).await?))
}

pub async fn defaults(State(state): State<AppState>, Auth(_): Auth) -> Json<Value> {
    Json(state.system_config.defaults().clone())
}

pub async fn update(
    State(state): State<AppState>,
    Auth(_): Auth,
    ValidJson(candidate): ValidJson<Value>,
) -> ApiResult<Json<Value>> {
    let previous = state.system_config.typed(&state.db).await?;
    let updated = state.system_config.update(&state.db, &candidate).await?;
    let now = state.system_config.typed(&state.db).await?;
    let previous_model = &previous.machine_learning.clip.model_name;
    smart_search::sync_dimension(&state, &now, Some(previous_model)).await?;
    // A new model's embeddings are made for the whole library at once, without a trip to the
    // jobs page.
    if *previous_model != now.machine_learning.clip.model_name {
        crate::jobs::queue_all(&state, crate::jobs::Queue::SmartSearch, false).await?;
    }
    crate::events::broadcast(&state, "on_config_update", None).await;
    Ok(Json(updated))
}

pub async fn storage_template_options(Auth(_): Auth) -> Json<Value> {
    Json(storage_template::options())
}
