//! Notifications (the web's bell) and the e-mails that go with them, where Immich makes them:
//! album invitations and updates, a failed database backup, welcome messages and what admins
//! write. Each new notification reaches the user's open clients as `on_notification`.
//!
//! The hooks other modules call (`album_invite`, `album_updated`, `user_created`, `job_failed`)
//! return at once and do their work in the background: a slow or broken mail server never
//! slows down or fails the request that caused the message.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use darkroom_storage::notifications::{self, NewNotification, Notification, NotificationFilter};
use darkroom_storage::{albums, asset_jobs, users};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::access;
use crate::dto::ids::NotificationId;
use crate::dto::{serialize_iso, serialize_iso_opt};
use crate::error::{ApiError, ApiResult};
use crate::events;
use crate::permission::Permission;
use crate::services::email::templates::{self, Rendered, Template};
use crate::services::email::{self, Email, InlineImage, SmtpConfig};
use crate::services::preferences;
use crate::state::AppState;
use crate::system_config::SystemConfig;

/// Album updates are mailed this long after the last addition (one message per burst).
const ALBUM_UPDATE_DELAY: Duration = Duration::from_secs(300);

/// Where links in e-mails point when `server.externalDomain` is not set (Immich's fallback,
/// which forwards to the app).
const DEFAULT_EXTERNAL_DOMAIN: &str = "https://my.immich.app";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NotificationLevel {
    Success,
    Error,
    Warning,
    Info,
}

impl NotificationLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Error => "error",
            Self::Warning => "warning",
            Self::Info => "info",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NotificationType {
    JobFailed,
    BackupFailed,
    SystemMessage,
    AlbumInvite,
    AlbumUpdate,
    Custom,
}

impl NotificationType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::JobFailed => "JobFailed",
            Self::BackupFailed => "BackupFailed",
            Self::SystemMessage => "SystemMessage",
            Self::AlbumInvite => "AlbumInvite",
            Self::AlbumUpdate => "AlbumUpdate",
            Self::Custom => "Custom",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationDto {
    id: Uuid,
    #[serde(serialize_with = "serialize_iso")]
    created_at: DateTime<Utc>,
    level: String,
    #[serde(rename = "type")]
    notification_type: String,
    title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<Value>,
    #[serde(serialize_with = "serialize_iso_opt", skip_serializing_if = "Option::is_none")]
    read_at: Option<DateTime<Utc>>,
}

impl From<Notification> for NotificationDto {
    fn from(n: Notification) -> Self {
        Self {
            id: n.id,
            created_at: n.created_at,
            level: n.level,
            notification_type: n.notification_type,
            title: n.title,
            description: n.description,
            // Clients read `data` as an object; anything else is left out.
            data: n.data.filter(Value::is_object),
            read_at: n.read_at,
        }
    }
}

pub async fn search(state: &AppState, user: Uuid, filter: &NotificationFilter) -> ApiResult<Vec<NotificationDto>> {
    Ok(notifications::search(&state.db, user, filter)
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
}

/// Succeeds when every one of `ids` is `user`'s; otherwise Immich's 400 for `permission`.
pub async fn require_owned(state: &AppState, user: Uuid, permission: Permission, ids: &[Uuid]) -> ApiResult<()> {
    let mut wanted = ids.to_vec();
    wanted.sort_unstable();
    wanted.dedup();
    let owned = notifications::owned(&state.db, user, &wanted).await?;
    if owned.len() == wanted.len() {
        Ok(())
    } else {
        Err(access::denied(permission))
    }
}

pub async fn get(state: &AppState, id: NotificationId) -> ApiResult<NotificationDto> {
    notifications::get(&state.db, id.0)
        .await?
        .map(Into::into)
        .ok_or_else(|| ApiError::bad_request("Notification not found"))
}

/// Marks one notification read (or unread with `None`).
pub async fn set_read(
    state: &AppState,
    id: NotificationId,
    read_at: Option<DateTime<Utc>>,
) -> ApiResult<NotificationDto> {
    notifications::set_read(&state.db, id.0, read_at)
        .await?
        .map(Into::into)
        .ok_or_else(|| ApiError::bad_request("Notification not found"))
}

/// Stores a notification and tells the user's open clients about it.
pub async fn create(state: &AppState, new: NewNotification) -> ApiResult<NotificationDto> {
    let dto = NotificationDto::from(notifications::create(&state.db, &new).await?);
    events::send(
        state,
        new.user_id,
        "on_notification",
        serde_json::to_value(&dto).unwrap_or(Value::Null),
    )
    .await;
    Ok(dto)
}

fn in_background(what: &'static str, work: impl Future<Output = ApiResult<()>> + Send + 'static) {
    tokio::spawn(async move {
        if let Err(error) = work.await {
            tracing::warn!(%error, what, "notification not delivered");
        }
    });
}

/// Pending album-update notices: the latest ticket per (album, recipient) wins.
static PENDING: LazyLock<Mutex<HashMap<(Uuid, Uuid), u64>>> = LazyLock::new(Default::default);
static TICKETS: AtomicU64 = AtomicU64::new(0);

/// Runs `work` once `delay` has passed without another call for the same `key` (Immich
/// replaces the queued job the same way). Kept in this process: a restart drops what waits.
fn debounce(key: (Uuid, Uuid), delay: Duration, work: impl Future<Output = ()> + Send + 'static) {
    let ticket = TICKETS.fetch_add(1, Ordering::Relaxed);
    PENDING.lock().unwrap_or_else(|e| e.into_inner()).insert(key, ticket);
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        let latest = {
            let mut pending = PENDING.lock().unwrap_or_else(|e| e.into_inner());
            let latest = pending.get(&key) == Some(&ticket);
            if latest {
                pending.remove(&key);
            }
            latest
        };
        if latest {
            work.await;
        }
    });
}

/// `recipient` was added to the album by `sender_name`.
pub fn album_invite(state: &AppState, album_id: Uuid, recipient: Uuid, sender_name: &str) {
    let (state, sender) = (state.clone(), sender_name.to_string());
    in_background("album invitation", async move {
        album_notice(&state, album_id, recipient, Some(&sender)).await
    });
}

/// `actor` added assets to the album: every other member hears of it, once per burst.
pub fn album_updated(state: &AppState, album_id: Uuid, actor: Uuid) {
    let state = state.clone();
    in_background("album update", async move {
        for member in albums::members(&state.db, &[album_id], actor).await? {
            if member.user_id == actor {
                continue;
            }
            let state = state.clone();
            debounce((album_id, member.user_id), ALBUM_UPDATE_DELAY, async move {
                if let Err(error) = album_notice(&state, album_id, member.user_id, None).await {
                    tracing::warn!(%error, album = %album_id, "album update notice not delivered");
                }
            });
        }
        Ok(())
    });
}

/// An admin made an account; with `notify`, its owner gets a welcome e-mail (with the password).
pub fn user_created(state: &AppState, user_id: Uuid, password: &str, notify: bool) {
    if !notify {
        return;
    }
    let (state, password) = (state.clone(), password.to_string());
    in_background(
        "welcome e-mail",
        async move { welcome(&state, user_id, &password).await },
    );
}

/// A job failed. As in Immich, only a failed database backup is worth telling the admin.
pub fn job_failed(state: &AppState, job_name: &str, error: &str) {
    if job_name != "DatabaseBackup" {
        return;
    }
    let (state, description) = (state.clone(), format!("Job {job_name} failed with error: {error}"));
    in_background("failed job", async move {
        let Some(admin) = users::get_admin(&state.db).await? else {
            return Ok(());
        };
        let new = NewNotification {
            user_id: admin.id,
            level: NotificationLevel::Error.as_str().into(),
            notification_type: NotificationType::JobFailed.as_str().into(),
            title: "Job Failed".into(),
            description: Some(description),
            data: None,
        };
        create(&state, new).await.map(|_| ())
    });
}

fn base_url(config: &SystemConfig) -> String {
    match config.server.external_domain.trim() {
        "" => DEFAULT_EXTERNAL_DOMAIN.to_string(),
        domain => domain.to_string(),
    }
}

/// The admin's own version of an e-mail (`templates.email.*`); empty for Immich's.
fn custom_template(config: &SystemConfig, template: Template) -> &str {
    let own = &config.templates.email;
    match template {
        Template::Welcome => &own.welcome_template,
        Template::AlbumInvite => &own.album_invite_template,
        Template::AlbumUpdate => &own.album_update_template,
        Template::Test => "",
    }
}

/// The album's cover (its thumbnail file) to show inside the e-mail.
async fn album_cover(state: &AppState, asset: Option<Uuid>) -> Option<InlineImage> {
    let path = PathBuf::from(asset_jobs::file_path(&state.db, asset?, "thumbnail").await.ok()??);
    let content_type = match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
        "webp" => "image/webp",
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        _ => return None,
    };
    if !state.layout.contains(&path) {
        return None;
    }
    let bytes = tokio::fs::read(&path).await.ok()?;
    Some(InlineImage {
        cid: "album-cover".into(),
        content_type: content_type.into(),
        bytes,
    })
}

/// Sends when SMTP is switched on; a failure is logged (nobody waits for the answer).
async fn deliver(state: &AppState, email: Email) -> ApiResult<()> {
    let smtp = state.system_config.typed(&state.db).await?.notifications.smtp;
    if !smtp.enabled {
        return Ok(());
    }
    let subject = email.subject.clone();
    match email::send(&smtp, email).await {
        Ok(id) => tracing::info!(message_id = id, subject, "e-mail sent"),
        Err(error) => tracing::warn!(%error, subject, "e-mail not sent"),
    }
    Ok(())
}

/// The invitation (with `sender`) or update notice for one member, and its e-mail when the
/// member wants those.
async fn album_notice(state: &AppState, album_id: Uuid, recipient: Uuid, sender: Option<&str>) -> ApiResult<()> {
    let Some(album) = albums::get(&state.db, album_id).await? else {
        return Ok(());
    };
    let Some(user) = users::get(&state.db, recipient, false).await? else {
        return Ok(());
    };
    let (level, kind, title, description, preference) = match sender {
        Some(sender) => (
            NotificationLevel::Success,
            NotificationType::AlbumInvite,
            "Shared Album Invitation",
            format!("{sender} shared an album ({}) with you", album.album_name),
            "albumInvite",
        ),
        None => (
            NotificationLevel::Info,
            NotificationType::AlbumUpdate,
            "Shared Album Update",
            format!("New media has been added to the album ({})", album.album_name),
            "albumUpdate",
        ),
    };
    let new = NewNotification {
        user_id: recipient,
        level: level.as_str().into(),
        notification_type: kind.as_str().into(),
        title: title.into(),
        description: Some(description),
        data: Some(json!({ "albumId": album.id })),
    };
    create(state, new).await?;

    let preferences = preferences::get(&state.db, recipient).await?;
    let wants = &preferences["emailNotifications"];
    if !(wants["enabled"].as_bool().unwrap_or(true) && wants[preference].as_bool().unwrap_or(true)) {
        return Ok(());
    }
    let config = state.system_config.typed(&state.db).await?;
    if !config.notifications.smtp.enabled {
        return Ok(());
    }
    let image = album_cover(state, album.album_thumbnail_asset_id).await;
    let (base, id) = (base_url(&config), album.id.to_string());
    let values = [
        ("albumName", album.album_name.as_str()),
        ("albumId", id.as_str()),
        ("recipientName", user.name.as_str()),
        ("senderName", sender.unwrap_or("")),
        ("baseUrl", base.as_str()),
    ];
    let (template, subject) = match sender {
        Some(sender) => (
            Template::AlbumInvite,
            format!("{sender} shared the album \"{}\" with you", album.album_name),
        ),
        None => (
            Template::AlbumUpdate,
            format!("New photos in the album \"{}\"", album.album_name),
        ),
    };
    let body = templates::render(
        template,
        &values,
        custom_template(&config, template),
        image.as_ref().map(|i| i.cid.as_str()),
    );
    deliver(
        state,
        Email {
            to: user.email,
            subject,
            body,
            image,
        },
    )
    .await
}

async fn welcome(state: &AppState, user_id: Uuid, password: &str) -> ApiResult<()> {
    let Some(user) = users::get(&state.db, user_id, false).await? else {
        return Ok(());
    };
    let config = state.system_config.typed(&state.db).await?;
    if !config.notifications.smtp.enabled {
        return Ok(());
    }
    let base = base_url(&config);
    let values = [
        ("displayName", user.name.as_str()),
        ("username", user.email.as_str()),
        ("password", password),
        ("baseUrl", base.as_str()),
    ];
    let body = templates::render(
        Template::Welcome,
        &values,
        custom_template(&config, Template::Welcome),
        None,
    );
    deliver(
        state,
        Email {
            to: user.email.clone(),
            subject: "Your photo library account is ready".into(),
            body,
            image: None,
        },
    )
    .await
}

/// `POST /admin/notifications/test-email`: checks the given settings by connecting, then mails
/// the caller; returns the message's id.
pub async fn send_test_email(state: &AppState, caller: Uuid, smtp: &SmtpConfig) -> ApiResult<String> {
    let user = users::get(&state.db, caller, false)
        .await?
        .ok_or_else(|| ApiError::bad_request("User not found"))?;
    if let Err(error) = email::verify(&smtp.transport).await {
        tracing::warn!(%error, host = smtp.transport.host, port = smtp.transport.port, "SMTP settings do not work");
        return Err(ApiError::bad_request("Failed to verify SMTP configuration"));
    }
    let base = base_url(&state.system_config.typed(&state.db).await?);
    let body = templates::render(
        Template::Test,
        &[("displayName", user.name.as_str()), ("baseUrl", base.as_str())],
        "",
        None,
    );
    let email = Email {
        to: user.email,
        subject: "Test e-mail from your photo server".into(),
        body,
        image: None,
    };
    email::send(smtp, email).await.map_err(|error| {
        tracing::warn!(%error, "test e-mail not sent");
        ApiError::bad_request(format!("Failed to send test email: {error}"))
    })
}

/// `POST /admin/notifications/templates/{name}`: a message as it would look, with `custom`
/// (else the saved template, else ours) and made-up values.
pub async fn preview(state: &AppState, name: &str, custom: &str) -> ApiResult<Rendered> {
    let template = Template::from_preview_name(name)
        .ok_or_else(|| ApiError::bad_request(format!("Unknown email template: {name}")))?;
    let config = state.system_config.typed(&state.db).await?;
    let custom = if custom.is_empty() {
        custom_template(&config, template)
    } else {
        custom
    };
    let base = base_url(&config);
    let values = [
        ("displayName", "Robin Example"),
        ("username", "robin@example.com"),
        ("password", "temporary-password"),
        ("albumName", "Weekend at the lake"),
        ("albumId", "3f1c2b9e-8d4a-4c6e-9b7f-0a1d2e3f4a5b"),
        ("senderName", "Sam Example"),
        ("recipientName", "Robin Example"),
        ("baseUrl", base.as_str()),
    ];
    Ok(templates::render(template, &values, custom, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn debounce_runs_only_the_last_call_of_a_burst() {
        let runs = std::sync::Arc::new(Mutex::new(Vec::new()));
        let key = (Uuid::new_v4(), Uuid::new_v4());
        for n in 0..3 {
            let runs = runs.clone();
            debounce(key, Duration::from_millis(80), async move {
                runs.lock().unwrap_or_else(|e| e.into_inner()).push(n)
            });
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let other = runs.clone();
        debounce((Uuid::new_v4(), key.1), Duration::from_millis(10), async move {
            other.lock().unwrap_or_else(|e| e.into_inner()).push(9)
        });
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(*runs.lock().unwrap_or_else(|e| e.into_inner()), vec![9, 2]);
    }
}
