//! Creating, changing and describing users.

use std::collections::HashMap;
use std::path::Path;

use chrono::{Duration, NaiveDate, NaiveTime, Utc};
use darkroom_storage::heatmap::{self, HeatmapDate};
use darkroom_storage::media_layout::MediaLayout;
use darkroom_storage::users::{self, NewUser, User, UserChanges, UserFilter};
use darkroom_storage::{PgPool, StorageError};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::tokens;
use crate::dto::UserAdminResponseDto;
use crate::dto::ids::UserId;
use crate::error::{ApiError, ApiResult, Context, ValidationIssue, on_constraint};
use crate::validation::Validate;

pub const LICENSE_KEY: &str = "license";
pub const ONBOARDING_KEY: &str = "onboarding";

pub async fn admin_dto(db: &PgPool, user: &User) -> ApiResult<UserAdminResponseDto> {
    let license = users::metadata_value(db, user.id, LICENSE_KEY).await?;
    Ok(UserAdminResponseDto::new(user, license))
}

/// DTOs for a list of users, their licences read in one query.
pub async fn admin_dtos(db: &PgPool, list: &[User]) -> ApiResult<Vec<UserAdminResponseDto>> {
    let ids: Vec<Uuid> = list.iter().map(|user| user.id).collect();
    let mut licenses: std::collections::HashMap<Uuid, serde_json::Value> =
        users::metadata_values(db, &ids, LICENSE_KEY)
            .await?
            .into_iter()
            .collect();
    Ok(list
        .iter()
        .map(|user| UserAdminResponseDto::new(user, licenses.remove(&user.id)))
        .collect())
}

pub async fn require(db: &PgPool, id: UserId, with_deleted: bool) -> ApiResult<User> {
    users::get(db, id.0, with_deleted)
        .await?
        .ok_or_else(|| ApiError::bad_request("User not found"))
}

/// Fails with Immich's message when another active user already has `email`.
pub async fn ensure_email_available(db: &PgPool, email: &str, except: Option<Uuid>) -> ApiResult<()> {
    match users::get_by_email(db, email, false).await? {
        Some(other) if Some(other.id) != except => Err(ApiError::bad_request("Email is not available")),
        _ => Ok(()),
    }
}

pub async fn ensure_storage_label_available(db: &PgPool, label: &str, except: Option<Uuid>) -> ApiResult<()> {
    let filter = UserFilter {
        storage_label: Some(label),
        ..Default::default()
    };
    match users::find_one(db, filter).await? {
        Some(other) if Some(other.id) != except => {
            Err(ApiError::bad_request("Storage label already in use by another account"))
        }
        _ => Ok(()),
    }
}

/// Maps unique-index races (two requests at once) to the same messages as the checks above.
pub fn unique_violation(error: StorageError) -> ApiError {
    on_constraint(
        error,
        &[
            ("user_email_uq", "Email is not available"),
            (
                "user_storageLabel_uq",
                "Storage label already in use by another account",
            ),
        ],
    )
}

/// Storage labels become folder names: Immich removes dots and anything a filename can't hold.
pub fn sanitize_storage_label(label: &str) -> Option<String> {
    let cleaned: String = label
        .chars()
        .filter(|c| !matches!(c, '.' | '/' | '\\' | '?' | '<' | '>' | ':' | '*' | '|' | '"') && !c.is_control())
        .collect();
    let cleaned = cleaned.trim().to_string();
    (!cleaned.is_empty()).then_some(cleaned)
}

pub struct CreateUser {
    pub email: String,
    pub name: String,
    /// `None` for an account that signs in through OAuth or a proxy only.
    pub password: Option<String>,
    pub is_admin: bool,
    pub storage_label: Option<String>,
    pub quota_size_in_bytes: Option<i64>,
    pub should_change_password: Option<bool>,
    pub avatar_color: Option<String>,
    pub pin_code: Option<String>,
    /// The OpenID subject the account is linked to; empty for none.
    pub oauth_id: String,
}

#[tracing::instrument(skip_all)]
pub async fn create(db: &PgPool, input: CreateUser) -> ApiResult<User> {
    ensure_email_available(db, &input.email, None).await?;
    let storage_label = input.storage_label.as_deref().and_then(sanitize_storage_label);
    if let Some(label) = &storage_label {
        ensure_storage_label_available(db, label, None).await?;
    }
    let password_hash = match &input.password {
        Some(password) => hash(password).await?,
        None => String::new(),
    };
    let new_user = NewUser {
        email: input.email,
        name: input.name,
        password_hash,
        is_admin: input.is_admin,
        should_change_password: input.should_change_password.unwrap_or(true),
        storage_label,
        quota_size_in_bytes: input.quota_size_in_bytes,
        avatar_color: input.avatar_color,
        oauth_id: input.oauth_id,
    };
    let user = users::create(db, &new_user).await.map_err(unique_violation)?;
    match input.pin_code {
        Some(pin) => {
            let changes = UserChanges {
                pin_code_hash: Some(Some(hash(&pin).await?)),
                ..Default::default()
            };
            users::update(db, user.id, &changes).await.map_err(ApiError::from)
        }
        None => Ok(user),
    }
}

/// bcrypt off the async threads: it is deliberately slow.
pub async fn hash(secret: &str) -> ApiResult<String> {
    let secret = secret.to_string();
    tokio::task::spawn_blocking(move || tokens::hash_password(&secret))
        .await
        .context("hashing the password")?
        .context("hashing the password")
}

pub async fn verify(secret: &str, hash: &str) -> ApiResult<bool> {
    let (secret, hash) = (secret.to_string(), hash.to_string());
    tokio::task::spawn_blocking(move || tokens::verify_password(&secret, &hash))
        .await
        .context("checking the password")
}

/// `type` of a calendar heatmap: which date counts an asset.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub enum HeatmapType {
    #[default]
    Upload,
    Taken,
}

/// `?from=&to=&type=` of the calendar heatmaps (UTC days, `to` included).
#[derive(Debug, Deserialize)]
pub struct HeatmapQuery {
    from: Option<String>,
    to: Option<String>,
    #[serde(default, rename = "type")]
    kind: HeatmapType,
}

/// `YYYY-MM-DD`, as zod's `iso.date()` takes it.
fn parse_day(text: &str) -> Option<NaiveDate> {
    (text.len() == 10)
        .then(|| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
        .flatten()
}

impl HeatmapQuery {
    fn first_day(&self) -> Option<NaiveDate> {
        self.from.as_deref().and_then(parse_day)
    }

    fn last_day(&self) -> Option<NaiveDate> {
        self.to.as_deref().and_then(parse_day)
    }
}

impl Validate for HeatmapQuery {
    fn validate(&self) -> Vec<ValidationIssue> {
        let mut issues = Vec::new();
        for (field, text) in [("from", &self.from), ("to", &self.to)] {
            if text.as_deref().is_some_and(|text| parse_day(text).is_none()) {
                issues.push(ValidationIssue::with_code(
                    "invalid_format",
                    &[field],
                    "Invalid ISO date",
                ));
            }
        }
        if let (Some(from), Some(to)) = (self.first_day(), self.last_day())
            && from > to
        {
            issues.push(ValidationIssue::new(&["from"], "from must be before to"));
        }
        issues
    }
}

#[derive(Debug, Serialize)]
pub struct HeatmapDayDto {
    date: String,
    count: i64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CalendarHeatmapResponseDto {
    from: String,
    to: String,
    series: Vec<HeatmapDayDto>,
    total_count: i64,
}

/// Every day from `from` (by default 52 weeks before `to`) to `to` (by default today), with
/// how many of the user's assets were uploaded, or taken, that day.
pub async fn calendar_heatmap(db: &PgPool, user: Uuid, query: &HeatmapQuery) -> ApiResult<CalendarHeatmapResponseDto> {
    let to = query.last_day().unwrap_or_else(|| Utc::now().date_naive());
    let from = query
        .first_day()
        .unwrap_or_else(|| to - Duration::weeks(52) + Duration::days(1));
    let by = match query.kind {
        HeatmapType::Upload => HeatmapDate::Uploaded,
        HeatmapType::Taken => HeatmapDate::Taken,
    };
    let start = from.and_time(NaiveTime::MIN).and_utc();
    let end = (to + Duration::days(1)).and_time(NaiveTime::MIN).and_utc();
    let counts: HashMap<NaiveDate, i64> = heatmap::daily_counts(db, user, start, end, by)
        .await?
        .into_iter()
        .collect();
    let series: Vec<HeatmapDayDto> = from
        .iter_days()
        .take_while(|day| *day <= to)
        .map(|day| HeatmapDayDto {
            date: day.to_string(),
            count: counts.get(&day).copied().unwrap_or(0),
        })
        .collect();
    let total_count = series.iter().map(|day| day.count).sum();
    Ok(CalendarHeatmapResponseDto {
        from: from.to_string(),
        to: to.to_string(),
        series,
        total_count,
    })
}

/// Points `user` at the picture already written at `path` and removes the previous one; when
/// the user cannot be updated, the new file goes instead, so nothing is left half-done.
pub async fn replace_profile_image(db: &PgPool, layout: &MediaLayout, user: &User, path: &Path) -> ApiResult<User> {
    let changes = UserChanges {
        profile_image_path: Some(path.to_string_lossy().into_owned()),
        ..Default::default()
    };
    match users::update(db, user.id, &changes).await {
        Ok(updated) => {
            remove_profile_image_file(layout, &user.profile_image_path).await;
            Ok(updated)
        }
        Err(error) => {
            let _ = tokio::fs::remove_file(path).await;
            Err(error.into())
        }
    }
}

/// Removes a picture that is no longer anyone's (only ever inside the media folder).
pub async fn remove_profile_image_file(layout: &MediaLayout, old_path: &str) {
    let old = Path::new(old_path);
    if !old_path.is_empty()
        && layout.contains(old)
        && let Err(error) = tokio::fs::remove_file(old).await
    {
        tracing::warn!(path = old_path, %error, "could not remove old profile image");
    }
}
