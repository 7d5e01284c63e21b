//! `/system-metadata/*`: admin onboarding and background-task state.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use darkroom_storage::system_metadata;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Auth;
use crate::error::ApiResult;
use crate::state::AppState;
use crate::validation::{ValidJson, Validate};

/// `{defaults…, …stored}` for a metadata key.
async fn with_defaults(state: &AppState, key: &str, mut defaults: Value) -> ApiResult<Value> {
    if let Some(Value::Object(stored)) = system_metadata::get(&state.db, key).await? {
        for (k, v) in stored {
            defaults[k] = v;
        }
    }
    Ok(defaults)
}

pub async fn get_admin_onboarding(State(state): State<AppState>, Auth(_): Auth) -> ApiResult<Json<Value>> {
    Ok(Json(
        with_defaults(&state, "admin-onboarding", json!({ "isOnboarded": false })).await?,
    ))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OnboardingDto {
    pub is_onboarded: bool,
}

impl Validate for OnboardingDto {}

pub async fn set_admin_onboarding(
    State(state): State<AppState>,
    Auth(_): Auth,
    ValidJson(dto): ValidJson<OnboardingDto>,
) -> ApiResult<StatusCode> {
    system_metadata::set(
        &state.db,
        "admin-onboarding",
        &json!({ "isOnboarded": dto.is_onboarded }),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn reverse_geocoding_state(State(state): State<AppState>, Auth(_): Auth) -> ApiResult<Json<Value>> {
    let defaults = json!({ "lastUpdate": null, "lastImportFileName": null });
    Ok(Json(with_defaults(&state, "reverse-geocoding-state", defaults).await?))
}

pub async fn version_check_state(State(state): State<AppState>, Auth(_): Auth) -> ApiResult<Json<Value>> {
    Ok(Json(super::server::version_check_state(&state).await?))
}
