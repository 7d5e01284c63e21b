//! Signing out with the provider: its back-channel logout tokens end sessions here, and the
//! web app is sent to its end-session page.

use darkroom_storage::sessions;
use serde_json::Value;
use uuid::Uuid;

use super::{LOGIN_URL, TokenKind, discover, settings, verify_token};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

const LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// Ends the sessions a provider's signed logout token names (OpenID Back-Channel Logout).
#[tracing::instrument(skip_all)]
pub async fn backchannel_logout(state: &AppState, logout_token: &str) -> ApiResult<Vec<Uuid>> {
    let config = settings(state).await?;
    if !config.enabled {
        return Err(ApiError::bad_request(
            "Received backchannel logout request but OAuth is not enabled",
        ));
    }
    let metadata = discover(state, &config).await?;
    let claims = verify_token(state, &config, &metadata, logout_token, TokenKind::Logout).await?;
    let claims = match claims {
        Ok(claims) if claims.get("events").and_then(|e| e.get(LOGOUT_EVENT)).is_some() => claims,
        other => {
            let reason = other
                .err()
                .map_or("no back-channel logout event".to_owned(), |e| e.to_string());
            tracing::warn!(
                kind = "oauth_logout_refused",
                reason,
                "a back-channel logout token was refused"
            );
            return Err(ApiError::bad_request(
                "Error backchannel logout: token validation failed",
            ));
        }
    };
    let text = |name| claims.get(name).and_then(Value::as_str).filter(|v| !v.is_empty());
    let (sid, sub) = (text("sid"), text("sub"));
    if sid.is_none() && sub.is_none() {
        return Err(ApiError::bad_request(
            "Invalid logout token: it must contain either a sub or a sid claim",
        ));
    }
    let deleted = sessions::delete_by_oauth(&state.db, sid, sub).await?;
    tracing::info!(sessions = deleted.len(), sid, sub, "back-channel logout ended sessions");
    Ok(deleted)
}

/// Where the web app goes after an OAuth user signs out: the provider's end-session page.
pub async fn logout_redirect(state: &AppState) -> String {
    let Ok(config) = settings(state).await else {
        return LOGIN_URL.to_owned();
    };
    if !config.enabled {
        return LOGIN_URL.to_owned();
    }
    if !config.end_session_endpoint.is_empty() {
        return config.end_session_endpoint;
    }
    match state.oauth_providers.metadata(&config).await {
        Ok(metadata) => metadata
            .end_session_endpoint
            .clone()
            .unwrap_or_else(|| LOGIN_URL.to_owned()),
        Err(error) => {
            tracing::warn!(%error, "no end-session endpoint: OAuth discovery failed");
            LOGIN_URL.to_owned()
        }
    }
}
