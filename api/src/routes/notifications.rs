//! `/notifications`: the caller's own notifications (the web's bell): list, read, mark read or
//! unread, delete. Other users' notifications answer `Not found or no notification.* access`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use darkroom_storage::notifications::{self, NotificationFilter};
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::Auth;
use crate::dto::ids::{NotificationId, uuids};
use crate::dto::nullable;
use crate::error::{ApiResult, ValidationIssue};
use crate::permission::Permission;
use crate::services::notifications::{self as service, NotificationDto, NotificationLevel, NotificationType};
use crate::state::AppState;
use crate::validation::{IdPath, ValidJson, ValidQuery, Validate, rules};

/// An ISO 8601 date-time with an offset (zod's `iso.datetime({ offset: true })`).
pub fn iso_datetime(issues: &mut Vec<ValidationIssue>, field: &str, value: Option<&str>) -> Option<DateTime<Utc>> {
    let text = value?;
    let parsed = DateTime::parse_from_rfc3339(text).ok().map(|d| d.with_timezone(&Utc));
    if parsed.is_none() {
        issues.push(ValidationIssue::with_code(
            "invalid_format",
            &[field],
            "Invalid input: expected ISO 8601 datetime string, received string",
        ));
    }
    parsed
}

#[derive(Debug, Deserialize)]
pub struct SearchQuery {
    id: Option<NotificationId>,
    level: Option<NotificationLevel>,
    #[serde(rename = "type")]
    notification_type: Option<NotificationType>,
    unread: Option<bool>,
}

impl Validate for SearchQuery {}

/// `GET /notifications`: newest first, deleted ones never.
pub async fn search(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidQuery(query): ValidQuery<SearchQuery>,
) -> ApiResult<Json<Vec<NotificationDto>>> {
    let filter = NotificationFilter {
        id: query.id.map(Uuid::from),
        level: query.level.map(|l| l.as_str().to_string()),
        notification_type: query.notification_type.map(|t| t.as_str().to_string()),
        unread: query.unread == Some(true),
    };
    Ok(Json(service::search(&state, auth.user.id, &filter).await?))
}

/// `GET /notifications/{id}`.
pub async fn get(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<NotificationId>,
) -> ApiResult<Json<NotificationDto>> {
    service::require_owned(&state, auth.user.id, Permission::NotificationRead, &[id.0]).await?;
    Ok(Json(service::get(&state, id).await?))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationUpdateDto {
    #[serde(default, deserialize_with = "nullable")]
    read_at: Option<Option<String>>,
}

impl Validate for NotificationUpdateDto {
    fn validate(&self) -> Vec<ValidationIssue> {
        let mut issues = Vec::new();
        iso_datetime(&mut issues, "readAt", self.read_at.as_ref().and_then(Option::as_deref));
        issues
    }
}

/// `readAt` as asked: absent leaves it, `null` marks unread, a date marks read.
fn read_at(value: &Option<Option<String>>) -> Option<Option<DateTime<Utc>>> {
    value
        .as_ref()
        .map(|date| iso_datetime(&mut Vec::new(), "readAt", date.as_deref()))
}

/// `PUT /notifications/{id}`: read or unread.
pub async fn update(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<NotificationId>,
    ValidJson(body): ValidJson<NotificationUpdateDto>,
) -> ApiResult<Json<NotificationDto>> {
    service::require_owned(&state, auth.user.id, Permission::NotificationUpdate, &[id.0]).await?;
    Ok(Json(match read_at(&body.read_at) {
        Some(read_at) => service::set_read(&state, id, read_at).await?,
        None => service::get(&state, id).await?,
    }))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationUpdateAllDto {
    ids: Vec<NotificationId>,
    #[serde(default, deserialize_with = "nullable")]
    read_at: Option<Option<String>>,
}

impl Validate for NotificationUpdateAllDto {
    fn validate(&self) -> Vec<ValidationIssue> {
        let mut issues = Vec::new();
        rules::non_empty(&mut issues, &["ids"], &self.ids);
        iso_datetime(&mut issues, "readAt", self.read_at.as_ref().and_then(Option::as_deref));
        issues
    }
}

/// `PUT /notifications`: marks several read or unread at once.
pub async fn update_many(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidJson(body): ValidJson<NotificationUpdateAllDto>,
) -> ApiResult<StatusCode> {
    let ids = uuids(&body.ids);
    service::require_owned(&state, auth.user.id, Permission::NotificationUpdate, &ids).await?;
    if let Some(read_at) = read_at(&body.read_at) {
        notifications::set_read_many(&state.db, &ids, read_at).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /notifications/{id}`.
pub async fn delete(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<NotificationId>,
) -> ApiResult<StatusCode> {
    service::require_owned(&state, auth.user.id, Permission::NotificationDelete, &[id.0]).await?;
    notifications::delete_many(&state.db, &[id.0]).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
pub struct NotificationDeleteAllDto {
    ids: Vec<NotificationId>,
}

impl Validate for NotificationDeleteAllDto {
    fn validate(&self) -> Vec<ValidationIssue> {
        let mut issues = Vec::new();
        rules::non_empty(&mut issues, &["ids"], &self.ids);
        issues
    }
}

/// `DELETE /notifications`.
pub async fn delete_many(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidJson(body): ValidJson<NotificationDeleteAllDto>,
) -> ApiResult<StatusCode> {
    let ids = uuids(&body.ids);
    service::require_owned(&state, auth.user.id, Permission::NotificationDelete, &ids).await?;
    notifications::delete_many(&state.db, &ids).await?;
    Ok(StatusCode::NO_CONTENT)
}
