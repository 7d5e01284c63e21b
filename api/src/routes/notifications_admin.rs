//! `/admin/notifications*`: admins write notifications for a user, try SMTP settings with a test
//! e-mail, and preview the e-mail templates.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use darkroom_storage::notifications::NewNotification;
use darkroom_storage::users;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::notifications::iso_datetime;
use crate::auth::Auth;
use crate::dto::ids::UserId;
use crate::dto::nullable;
use crate::error::{ApiError, ApiResult, ValidationIssue};
use crate::services::email::{SmtpConfig, SmtpTransportConfig};
use crate::services::notifications::{self as service, NotificationDto, NotificationLevel, NotificationType};
use crate::state::AppState;
use crate::validation::{ValidJson, Validate};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationCreateDto {
    level: Option<NotificationLevel>,
    #[serde(rename = "type")]
    notification_type: Option<NotificationType>,
    title: String,
    #[serde(default, deserialize_with = "nullable")]
    description: Option<Option<String>>,
    data: Option<Map<String, Value>>,
    /// Accepted and checked, but (as in Immich) a new notification starts unread.
    #[serde(default, deserialize_with = "nullable")]
    read_at: Option<Option<String>>,
    user_id: UserId,
}

impl Validate for NotificationCreateDto {
    fn validate(&self) -> Vec<ValidationIssue> {
        let mut issues = Vec::new();
        iso_datetime(&mut issues, "readAt", self.read_at.as_ref().and_then(Option::as_deref));
        issues
    }
}

/// `POST /admin/notifications`: a message for one user (a `Custom` `info` one by default).
pub async fn create(
    State(state): State<AppState>,
    Auth(_): Auth,
    ValidJson(body): ValidJson<NotificationCreateDto>,
) -> ApiResult<(StatusCode, Json<NotificationDto>)> {
    let user_id = body.user_id.0;
    if users::get(&state.db, user_id, true).await?.is_none() {
        return Err(ApiError::bad_request("User not found"));
    }
    let new = NewNotification {
        user_id,
        level: body.level.unwrap_or(NotificationLevel::Info).as_str().into(),
        notification_type: body
            .notification_type
            .unwrap_or(NotificationType::Custom)
            .as_str()
            .into(),
        title: body.title,
        description: body.description.flatten(),
        data: body.data.map(Value::Object),
    };
    Ok((StatusCode::CREATED, Json(service::create(&state, new).await?)))
}

/// `SystemConfigSmtpDto`. Flags also come as the strings `true`/`false`, as Immich allows.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SmtpDto {
    enabled: Value,
    from: String,
    reply_to: String,
    transport: SmtpTransportDto,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SmtpTransportDto {
    ignore_cert: Value,
    host: String,
    port: Value,
    secure: Value,
    username: String,
    password: String,
}

fn flag(issues: &mut Vec<ValidationIssue>, path: &[&str], value: &Value) -> bool {
    match value {
        Value::Bool(flag) => *flag,
        Value::String(text) if text == "true" => true,
        Value::String(text) if text == "false" => false,
        other => {
            let received = match other {
                Value::Null => "null",
                Value::Number(_) => "number",
                Value::String(_) => "string",
                Value::Array(_) => "array",
                _ => "object",
            };
            issues.push(ValidationIssue::with_code(
                "invalid_type",
                path,
                format!("Invalid input: expected boolean, received {received}"),
            ));
            false
        }
    }
}

fn port(issues: &mut Vec<ValidationIssue>, value: &Value) -> u16 {
    let path = &["transport", "port"];
    match value.as_f64() {
        Some(n) if n.fract() != 0.0 => issues.push(ValidationIssue::with_code(
            "invalid_type",
            path,
            "Invalid input: expected int, received number",
        )),
        Some(n) if n < 0.0 => issues.push(ValidationIssue::with_code(
            "too_small",
            path,
            "Too small: expected number to be >=0",
        )),
        Some(n) if n > 65535.0 => issues.push(ValidationIssue::with_code(
            "too_big",
            path,
            "Too big: expected number to be <=65535",
        )),
        Some(n) => return n as u16,
        None => issues.push(ValidationIssue::with_code(
            "invalid_type",
            path,
            "Invalid input: expected number, received string",
        )),
    }
    0
}

impl SmtpDto {
    fn settings(&self, issues: &mut Vec<ValidationIssue>) -> SmtpConfig {
        let t = &self.transport;
        SmtpConfig {
            enabled: flag(issues, &["enabled"], &self.enabled),
            from: self.from.clone(),
            reply_to: self.reply_to.clone(),
            transport: SmtpTransportConfig {
                host: t.host.clone(),
                port: i64::from(port(issues, &t.port)),
                username: t.username.clone(),
                password: t.password.clone(),
                ignore_cert: flag(issues, &["transport", "ignoreCert"], &t.ignore_cert),
                secure: flag(issues, &["transport", "secure"], &t.secure),
            },
        }
    }
}

impl Validate for SmtpDto {
    fn validate(&self) -> Vec<ValidationIssue> {
        let mut issues = Vec::new();
        self.settings(&mut issues);
        issues
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TestEmailResponseDto {
    message_id: String,
}

/// `POST /admin/notifications/test-email`: with the settings in the body (not yet saved).
pub async fn send_test_email(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidJson(body): ValidJson<SmtpDto>,
) -> ApiResult<Json<TestEmailResponseDto>> {
    let settings = body.settings(&mut Vec::new());
    let message_id = service::send_test_email(&state, auth.user.id, &settings).await?;
    Ok(Json(TestEmailResponseDto { message_id }))
}

#[derive(Debug, Deserialize)]
pub struct TemplateDto {
    template: String,
}

impl Validate for TemplateDto {}

#[derive(Debug, Serialize)]
pub struct TemplateResponseDto {
    name: String,
    html: String,
}

/// `POST /admin/notifications/templates/{name}`: `welcome`, `album-invite` or `album-update`.
pub async fn template(
    State(state): State<AppState>,
    Auth(_): Auth,
    Path(name): Path<String>,
    ValidJson(body): ValidJson<TemplateDto>,
) -> ApiResult<Json<TemplateResponseDto>> {
    let rendered = service::preview(&state, &name, &body.template).await?;
    Ok(Json(TemplateResponseDto {
        name,
        html: rendered.html,
    }))
}
