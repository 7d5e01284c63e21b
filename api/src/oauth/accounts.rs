//! Who an OpenID sign-in is: the account linked to the subject, else the one with the verified
//! e-mail, else a new one from the claims; linking and unlinking from the user's settings.

use darkroom_storage::sessions;
use darkroom_storage::users::{self, User, UserChanges};

use super::profile::Profile;
use super::{Callback, enabled_settings, finish};
use crate::auth::AuthContext;
use crate::error::{ApiError, ApiResult};
use crate::services::users::{self as user_service, CreateUser};
use crate::state::AppState;
use crate::system_config::sections::OauthConfig;

/// Signs in (or registers) the user the provider vouches for. Returns the user and the
/// provider's session id, to end this session when the provider logs out.
#[tracing::instrument(skip_all)]
pub async fn sign_in(state: &AppState, callback: &Callback<'_>) -> ApiResult<(User, Option<String>)> {
    let config = enabled_settings(state).await?;
    let profile = finish(state, &config, callback).await?;
    let user = find_or_register(state, &config, &profile).await?;
    let user = match profile.picture() {
        Some(url) if user.profile_image_path.is_empty() => sync_picture(state, &config, user, url).await,
        _ => user,
    };
    Ok((user, profile.sid))
}

async fn find_or_register(state: &AppState, config: &OauthConfig, profile: &Profile) -> ApiResult<User> {
    if let Some(user) = users::get_by_oauth_id(&state.db, &profile.sub).await? {
        return Ok(user);
    }
    let email = profile.email();
    if let Some(email) = &email
        && let Some(existing) = users::get_by_email(&state.db, email, false).await?
    {
        if !existing.oauth_id.is_empty() {
            tracing::warn!(
                email,
                "OAuth sign-in: the e-mail's account is linked to another subject"
            );
            return Err(ApiError::bad_request("OAuth authentication failed"));
        }
        // Anyone can claim any address at some providers: only a verified one finds an account.
        if !profile.email_verified() {
            tracing::warn!(
                kind = "oauth_refused",
                email,
                sub = profile.sub,
                "OAuth sign-in with an unverified e-mail that matches an account was refused"
            );
            return Err(ApiError::bad_request("OAuth authentication failed"));
        }
        let changes = UserChanges {
            oauth_id: Some(profile.sub.clone()),
            ..Default::default()
        };
        tracing::info!(
            email,
            sub = profile.sub,
            "linked an account to its OAuth subject by e-mail"
        );
        return Ok(users::update(&state.db, existing.id, &changes).await?);
    }
    if !config.auto_register {
        tracing::warn!(
            sub = profile.sub,
            "OAuth user does not exist and auto-registering is off (oauth.autoRegister)"
        );
        return Err(ApiError::bad_request("OAuth authentication failed"));
    }
    let Some(email) = email else {
        return Err(ApiError::bad_request("OAuth profile does not have an email address"));
    };
    let registration = profile.registration(config);
    let user = user_service::create(
        &state.db,
        CreateUser {
            email: email.clone(),
            name: profile.display_name(&email),
            password: None,
            is_admin: registration.is_admin,
            storage_label: registration.storage_label,
            quota_size_in_bytes: registration.quota_size_in_bytes,
            should_change_password: Some(false),
            avatar_color: None,
            pin_code: None,
            oauth_id: profile.sub.clone(),
        },
    )
    .await?;
    tracing::info!(email, sub = profile.sub, user = %user.id, "registered a user from OAuth");
    Ok(user)
}

/// Gives a user without a picture the provider's, as Immich does; a picture that cannot be had
/// is logged and the sign-in goes on.
async fn sync_picture(state: &AppState, config: &OauthConfig, user: User, url: &str) -> User {
    let stored = async {
        let (bytes, media_type) = state
            .oauth_providers
            .picture(config, url)
            .await
            .map_err(|e| ApiError::internal_from("fetching the OAuth profile picture", e))?;
        let path = state
            .layout
            .profile_image_path(user.id, uuid::Uuid::new_v4(), &media_type.extension[1..]);
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir).await?;
        }
        if let Err(error) = tokio::fs::write(&path, &bytes).await {
            let _ = tokio::fs::remove_file(&path).await;
            return Err(error.into());
        }
        user_service::replace_profile_image(&state.db, &state.layout, &user, &path).await
    }
    .await;
    match stored {
        Ok(updated) => updated,
        Err(error) => {
            tracing::warn!(%error, url, "could not take the OAuth profile picture");
            user
        }
    }
}

/// Links the signed-in user to the provider's account.
#[tracing::instrument(skip_all, fields(user = %auth.user.id))]
pub async fn link(state: &AppState, auth: &AuthContext, callback: &Callback<'_>) -> ApiResult<User> {
    let config = enabled_settings(state).await?;
    let profile = finish(state, &config, callback).await?;
    if let Some(other) = users::get_by_oauth_id(&state.db, &profile.sub).await?
        && other.id != auth.user.id
    {
        tracing::warn!(
            sub = profile.sub,
            "OAuth link refused: the subject is linked to another user"
        );
        return Err(ApiError::bad_request(
            "This OAuth account has already been linked to another user.",
        ));
    }
    if let (Some(session), Some(sid)) = (&auth.session, &profile.sid) {
        sessions::set_oauth_sid(&state.db, session.id, Some(sid)).await?;
    }
    let changes = UserChanges {
        oauth_id: Some(profile.sub),
        ..Default::default()
    };
    Ok(users::update(&state.db, auth.user.id, &changes).await?)
}

#[tracing::instrument(skip_all, fields(user = %auth.user.id))]
pub async fn unlink(state: &AppState, auth: &AuthContext) -> ApiResult<User> {
    if let Some(session) = &auth.session {
        sessions::set_oauth_sid(&state.db, session.id, None).await?;
    }
    let changes = UserChanges {
        oauth_id: Some(String::new()),
        ..Default::default()
    };
    Ok(users::update(&state.db, auth.user.id, &changes).await?)
}
