//! `/users*`: the signed-in user, other users, preferences, onboarding, licence, profile image.

use axum::Json;
use axum::extract::{Multipart, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use darkroom_storage::users::{self, UserChanges};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

use crate::auth::Auth;
use crate::dto::ids::UserId;
use crate::dto::{AvatarColor, UserAdminResponseDto, UserResponseDto, iso, nullable};
use crate::error::{ApiError, ApiResult, ValidationIssue};
use crate::services::licenses::LicenseKind;
use crate::services::preferences;
use crate::services::users::{self as user_service, LICENSE_KEY, ONBOARDING_KEY};
use crate::state::AppState;
use crate::validation::{IdPath, ValidJson, ValidQuery, Validate, rules};

use super::server::{LicenseKeyDto, activate};

pub async fn search(State(state): State<AppState>, Auth(auth): Auth) -> ApiResult<Json<Vec<UserResponseDto>>> {
    let public = state.system_config.typed(&state.db).await?.server.public_users;
    if !auth.user.is_admin && !public {
        return Ok(Json(vec![UserResponseDto::from(&auth.user)]));
    }
    let mut all = users::find(&state.db, Default::default()).await?;
    all.reverse(); // newest first, as Immich lists them
    Ok(Json(all.iter().map(UserResponseDto::from).collect()))
}

pub async fn get_me(State(state): State<AppState>, Auth(auth): Auth) -> ApiResult<Json<UserAdminResponseDto>> {
    Ok(Json(user_service::admin_dto(&state.db, &auth.user).await?))
}

pub async fn get(
    State(state): State<AppState>,
    Auth(_): Auth,
    IdPath(id): IdPath<UserId>,
) -> ApiResult<Json<UserResponseDto>> {
    let user = user_service::require(&state.db, id, false).await?;
    Ok(Json(UserResponseDto::from(&user)))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserUpdateMeDto {
    email: Option<String>,
    password: Option<String>,
    name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    avatar_color: Option<Option<AvatarColor>>,
}

impl Validate for UserUpdateMeDto {
    fn validate(&self) -> Vec<ValidationIssue> {
        let mut issues = Vec::new();
        if let Some(email) = &self.email {
            rules::email(&mut issues, &["email"], email);
        }
        issues
    }
}

pub async fn update_me(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidJson(dto): ValidJson<UserUpdateMeDto>,
) -> ApiResult<Json<UserAdminResponseDto>> {
    let email = dto.email.map(|e| e.to_lowercase());
    if let Some(email) = &email {
        user_service::ensure_email_available(&state.db, email, Some(auth.user.id)).await?;
    }
    let mut changes = UserChanges {
        email,
        name: dto.name,
        avatar_color: dto.avatar_color.map(|c| c.map(|c| c.as_str().to_string())),
        ..Default::default()
    };
    if let Some(password) = dto.password.filter(|p| !p.is_empty()) {
        changes.password_hash = Some(user_service::hash(&password).await?);
        changes.should_change_password = Some(false);
    }
    let user = users::update(&state.db, auth.user.id, &changes)
        .await
        .map_err(user_service::unique_violation)?;
    Ok(Json(user_service::admin_dto(&state.db, &user).await?))
}

pub async fn get_my_preferences(State(state): State<AppState>, Auth(auth): Auth) -> ApiResult<Json<Value>> {
    Ok(Json(preferences::get(&state.db, auth.user.id).await?))
}

pub async fn update_my_preferences(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidJson(changes): ValidJson<Value>,
) -> ApiResult<Json<Value>> {
    Ok(Json(update_preferences_of(&state, &auth.user, &changes).await?))
}

/// Preferences update, shared with the admin route; `avatar.color` goes to the user row.
pub async fn update_preferences_of(
    state: &AppState,
    user: &darkroom_storage::users::User,
    changes: &Value,
) -> ApiResult<Value> {
    let mut merged = preferences::update(&state.db, user.id, changes).await?;
    if let Some(color) = changes
        .get("avatar")
        .and_then(|a| a.get("color"))
        .and_then(Value::as_str)
    {
        users::update(
            &state.db,
            user.id,
            &UserChanges {
                avatar_color: Some(Some(color.to_string())),
                ..Default::default()
            },
        )
        .await?;
        merged["avatar"] = json!({ "color": color });
    }
    Ok(merged)
}

pub async fn get_onboarding(State(state): State<AppState>, Auth(auth): Auth) -> ApiResult<Json<Value>> {
    let stored = users::metadata_value(&state.db, auth.user.id, ONBOARDING_KEY).await?;
    Ok(Json(
        json!({ "isOnboarded": stored.and_then(|o| o["isOnboarded"].as_bool()).unwrap_or(false) }),
    ))
}

pub async fn set_onboarding(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidJson(dto): ValidJson<super::system_metadata::OnboardingDto>,
) -> ApiResult<Json<Value>> {
    let value = json!({ "isOnboarded": dto.is_onboarded });
    users::set_metadata(&state.db, auth.user.id, ONBOARDING_KEY, &value).await?;
    Ok(Json(value))
}

pub async fn delete_onboarding(State(state): State<AppState>, Auth(auth): Auth) -> ApiResult<StatusCode> {
    users::delete_metadata(&state.db, auth.user.id, ONBOARDING_KEY).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn get_license(State(state): State<AppState>, Auth(auth): Auth) -> ApiResult<Json<Value>> {
    let license = users::metadata_value(&state.db, auth.user.id, LICENSE_KEY).await?;
    license.map(Json).ok_or_else(|| ApiError::not_found("Not Found"))
}

pub async fn set_license(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidJson(dto): ValidJson<LicenseKeyDto>,
) -> ApiResult<Json<Value>> {
    let license = activate(&state, LicenseKind::Client, &dto)?;
    users::set_metadata(&state.db, auth.user.id, LICENSE_KEY, &license).await?;
    Ok(Json(license))
}

pub async fn delete_license(State(state): State<AppState>, Auth(auth): Auth) -> ApiResult<StatusCode> {
    users::delete_metadata(&state.db, auth.user.id, LICENSE_KEY).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Streams the `file` part to `profile/<userId>/<uuid>.<ext>`, then points the user at it and
/// removes the previous picture. A failed upload leaves no file behind.
pub async fn create_profile_image(
    State(state): State<AppState>,
    Auth(auth): Auth,
    mut multipart: Multipart,
) -> ApiResult<Response> {
    let bad = |e: axum::extract::multipart::MultipartError| {
        ApiError::bad_request(format!("Invalid multipart body: {}", e.body_text()))
    };
    while let Some(mut field) = multipart.next_field().await.map_err(bad)? {
        if field.name() != Some("file") {
            continue;
        }
        let filename = field.file_name().unwrap_or("").to_string();
        let media_type = darkroom_media::lookup(&filename).filter(|t| t.profile);
        let Some(media_type) = media_type else {
            return Err(ApiError::bad_request(format!("Unsupported file type {filename}")));
        };
        let path = state
            .layout
            .profile_image_path(auth.user.id, uuid::Uuid::new_v4(), &media_type.extension[1..]);
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir).await?;
        }
        let written: ApiResult<()> = async {
            let mut file = tokio::fs::File::create(&path).await?;
            while let Some(chunk) = field.chunk().await.map_err(bad)? {
                file.write_all(&chunk).await?;
            }
            file.sync_all().await?;
            Ok(())
        }
        .await;
        if let Err(error) = written {
            let _ = tokio::fs::remove_file(&path).await;
            return Err(error);
        }
        let user = user_service::replace_profile_image(&state.db, &state.layout, &auth.user, &path).await?;
        let path_text = user.profile_image_path.clone();
        let body = json!({ "userId": user.id, "profileImagePath": path_text, "profileChangedAt": iso(&user.profile_changed_at) });
        return Ok((StatusCode::CREATED, Json(body)).into_response());
    }
    Err(ApiError::Validation(vec![ValidationIssue::with_code(
        "invalid_type",
        &["file"],
        "Invalid input: expected file, received undefined",
    )]))
}

pub async fn delete_profile_image(State(state): State<AppState>, Auth(auth): Auth) -> ApiResult<StatusCode> {
    if auth.user.profile_image_path.is_empty() {
        return Err(ApiError::bad_request("Can't delete a missing profile Image"));
    }
    users::update(
        &state.db,
        auth.user.id,
        &UserChanges {
            profile_image_path: Some(String::new()),
            ..Default::default()
        },
    )
    .await?;
    user_service::remove_profile_image_file(&state.layout, &auth.user.profile_image_path).await;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn get_profile_image(
    State(state): State<AppState>,
    Auth(_): Auth,
    IdPath(id): IdPath<UserId>,
) -> ApiResult<Response> {
    let not_found = || ApiError::not_found("Not Found");
    let user = users::get(&state.db, id.0, false).await?.ok_or_else(not_found)?;
    let path = std::path::PathBuf::from(&user.profile_image_path);
    if user.profile_image_path.is_empty() || !state.layout.contains(&path) {
        return Err(not_found());
    }
    let file = tokio::fs::File::open(&path).await.map_err(|_| not_found())?;
    let length = file.metadata().await.map(|m| m.len()).ok();
    let stream = tokio_util_stream(file);
    let mut response = Response::new(crate::panic_guard::stream_body(stream));
    let headers = response.headers_mut();
    if let Ok(value) = darkroom_media::mime_type_of(&user.profile_image_path).parse() {
        headers.insert(header::CONTENT_TYPE, value);
    }
    if let Some(length) = length.and_then(|l| l.to_string().parse().ok()) {
        headers.insert(header::CONTENT_LENGTH, length);
    }
    Ok(response)
}

/// A file as a stream of chunks, so large files are never held in memory.
fn tokio_util_stream(file: tokio::fs::File) -> impl futures::Stream<Item = std::io::Result<bytes::Bytes>> {
    use tokio::io::AsyncReadExt;
    futures::stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let mut buffer = vec![0u8; 64 * 1024];
        match file.read(&mut buffer).await {
            Ok(0) => None,
            Ok(n) => {
                buffer.truncate(n);
                Some((Ok(bytes::Bytes::from(buffer)), Some(file)))
            }
            Err(e) => Some((Err(e), None)),
        }
    })
}

/// `GET /users/me/calendar-heatmap`: the account page's year of uploads (or photos taken).
pub async fn calendar_heatmap(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidQuery(query): ValidQuery<user_service::HeatmapQuery>,
) -> ApiResult<Json<user_service::CalendarHeatmapResponseDto>> {
    Ok(Json(
        user_service::calendar_heatmap(&state.db, auth.user.id, &query).await?,
    ))
}
