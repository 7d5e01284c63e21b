//! DTOs shared by several API areas, and the JSON conventions of Immich's responses.

pub mod asset;
pub mod ids;
pub mod person;

use chrono::{DateTime, SecondsFormat, Utc};
use darkroom_storage::users::User;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;
use uuid::Uuid;

/// Dates as JavaScript's `toISOString()` writes them: `2024-05-01T12:00:00.000Z`.
pub fn iso(date: &DateTime<Utc>) -> String {
    date.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub fn serialize_iso<S: Serializer>(date: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&iso(date))
}

pub fn serialize_iso_opt<S: Serializer>(date: &Option<DateTime<Utc>>, serializer: S) -> Result<S::Ok, S::Error> {
    match date {
        Some(date) => serializer.serialize_str(&iso(date)),
        None => serializer.serialize_none(),
    }
}

/// Distinguishes an absent field (`None`) from an explicit `null` (`Some(None)`).
pub fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// An optional field that may be left out but not set to `null` (zod's `.optional()`): `null`
/// fails with the field's own type in the message.
pub fn not_null<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// An e-mail field: a string, else an issue worded as zod words it for `z.email()`, which names
/// the received value's JavaScript `typeof` (`null` is an object there). The format itself is
/// checked by `validation::rules::email`.
#[derive(Debug, Clone)]
pub struct Email(pub String);

impl<'de> Deserialize<'de> for Email {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let typeof_js = match Value::deserialize(deserializer)? {
            Value::String(text) => return Ok(Email(text)),
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::Null | Value::Array(_) | Value::Object(_) => "object",
        };
        Err(serde::de::Error::custom(format!(
            "invalid type: {typeof_js}, expected email"
        )))
    }
}

pub const AVATAR_COLORS: [&str; 10] = [
    "primary", "pink", "red", "yellow", "blue", "green", "purple", "orange", "gray", "amber",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AvatarColor {
    Primary,
    Pink,
    Red,
    Yellow,
    Blue,
    Green,
    Purple,
    Orange,
    Gray,
    Amber,
}

impl AvatarColor {
    pub fn as_str(self) -> &'static str {
        AVATAR_COLORS[self as usize]
    }
}

/// A user without a chosen colour gets one derived from their e-mail, as Immich does.
pub fn avatar_color(user: &User) -> String {
    avatar_color_of(&user.email, user.avatar_color.as_deref())
}

pub fn avatar_color_of(email: &str, chosen: Option<&str>) -> String {
    chosen.map(str::to_string).unwrap_or_else(|| {
        let sum: u64 = email.chars().map(u64::from).sum();
        AVATAR_COLORS[(sum % 10) as usize].to_string()
    })
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserResponseDto {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub profile_image_path: String,
    pub avatar_color: String,
    #[serde(serialize_with = "serialize_iso")]
    pub profile_changed_at: DateTime<Utc>,
}

impl From<&User> for UserResponseDto {
    fn from(user: &User) -> Self {
        Self {
            id: user.id,
            email: user.email.clone(),
            name: user.name.clone(),
            profile_image_path: user.profile_image_path.clone(),
            avatar_color: avatar_color(user),
            profile_changed_at: user.profile_changed_at,
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserAdminResponseDto {
    #[serde(flatten)]
    pub user: UserResponseDto,
    pub storage_label: Option<String>,
    pub should_change_password: bool,
    pub is_admin: bool,
    #[serde(serialize_with = "serialize_iso")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "serialize_iso_opt")]
    pub deleted_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "serialize_iso")]
    pub updated_at: DateTime<Utc>,
    pub oauth_id: String,
    pub quota_size_in_bytes: Option<i64>,
    pub quota_usage_in_bytes: i64,
    pub status: String,
    /// The user's client licence (`user_metadata` key `license`), or null.
    pub license: Option<Value>,
}

impl UserAdminResponseDto {
    pub fn new(user: &User, license: Option<Value>) -> Self {
        Self {
            user: UserResponseDto::from(user),
            storage_label: user.storage_label.clone(),
            should_change_password: user.should_change_password,
            is_admin: user.is_admin,
            created_at: user.created_at,
            deleted_at: user.deleted_at,
            updated_at: user.updated_at,
            oauth_id: user.oauth_id.clone(),
            quota_size_in_bytes: user.quota_size_in_bytes,
            quota_usage_in_bytes: user.quota_usage_in_bytes,
            status: user.status.clone(),
            license,
        }
    }
}

/// `{"ids": [uuid, …]}`, the body of many bulk operations (of assets unless said otherwise).
#[derive(Debug, Deserialize)]
pub struct BulkIdsDto<Id = ids::AssetId> {
    ids: Vec<Id>,
}

impl<Id> crate::validation::Validate for BulkIdsDto<Id> {}

impl<Id: Copy + Into<Uuid>> BulkIdsDto<Id> {
    /// The ids, as storage knows them.
    pub fn ids(&self) -> Vec<Uuid> {
        ids::uuids(&self.ids)
    }
}

/// One id's outcome in a bulk change (`error`: `duplicate`, `no_permission`, `not_found`, …).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkIdResponseDto {
    id: Uuid,
    success: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_message: Option<String>,
}

impl BulkIdResponseDto {
    pub fn of(id: Uuid, error: Option<&'static str>) -> Self {
        Self {
            id,
            success: error.is_none(),
            error,
            error_message: None,
        }
    }

    /// A failure with its reason spelled out.
    pub fn failed(id: Uuid, error: &'static str, message: &str) -> Self {
        Self {
            id,
            success: false,
            error: Some(error),
            error_message: Some(message.to_owned()),
        }
    }
}

/// Outcomes of adding `ids` to a collection that already holds `present`, where the caller
/// may add `allowed`: each id's result, and the ids to add (once each).
pub fn bulk_add(ids: Vec<Uuid>, present: &[Uuid], allowed: &[Uuid]) -> (Vec<BulkIdResponseDto>, Vec<Uuid>) {
    let mut added = Vec::new();
    let results = ids
        .into_iter()
        .map(|id| {
            let error = if present.contains(&id) || added.contains(&id) {
                Some("duplicate")
            } else if !allowed.contains(&id) {
                Some("no_permission")
            } else {
                added.push(id);
                None
            };
            BulkIdResponseDto::of(id, error)
        })
        .collect();
    (results, added)
}

/// Outcomes of removing `ids` from a collection that holds `present`, and the ids to remove.
pub fn bulk_remove(ids: Vec<Uuid>, present: &[Uuid]) -> (Vec<BulkIdResponseDto>, Vec<Uuid>) {
    let mut removed = Vec::new();
    let results = ids
        .into_iter()
        .map(|id| {
            if present.contains(&id) && !removed.contains(&id) {
                removed.push(id);
                BulkIdResponseDto::of(id, None)
            } else {
                BulkIdResponseDto::of(id, Some("not_found"))
            }
        })
        .collect();
    (results, removed)
}

/// An empty JSON object, for bodies with no fields.
#[derive(Debug, Default, Deserialize)]
pub struct Empty {}

impl crate::validation::Validate for Empty {}
