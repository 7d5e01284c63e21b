//! What clients send to `/people`, and Immich's rules for it (zod's messages and paths).

use chrono::{DateTime, NaiveDate, Utc};
use darkroom_storage::people::PersonChanges;
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::dto::ids::{AssetId, PersonId};
use crate::dto::nullable;
use crate::error::ValidationIssue;
use crate::validation::{Validate, rules};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PersonSearchQuery {
    pub(super) with_hidden: Option<bool>,
    pub(super) closest_person_id: Option<PersonId>,
    pub(super) closest_asset_id: Option<AssetId>,
    pub(super) page: Option<Value>,
    pub(super) size: Option<Value>,
}

/// zod's `z.coerce.number().int().min(low).max(high)` with a default.
fn int_param(
    issues: &mut Vec<ValidationIssue>,
    field: &str,
    value: Option<&Value>,
    (low, high): (f64, f64),
    default: i64,
) -> i64 {
    let Some(value) = value else { return default };
    let Some(number) = rules::coerced_number(issues, &[field], Some(value)) else {
        return default;
    };
    if number.fract() != 0.0 || !number.is_finite() {
        issues.push(ValidationIssue::with_code(
            "invalid_type",
            &[field],
            "Invalid input: expected int, received number",
        ));
        return default;
    }
    rules::number_between(issues, &[field], number, low, high);
    number as i64
}

impl PersonSearchQuery {
    /// (page, size), and any problems with them.
    pub(super) fn paging(&self, issues: &mut Vec<ValidationIssue>) -> (i64, i64) {
        let page = int_param(issues, "page", self.page.as_ref(), (1.0, 9_007_199_254_740_991.0), 1);
        let size = int_param(issues, "size", self.size.as_ref(), (1.0, 1000.0), 500);
        (page, size)
    }
}

impl Validate for PersonSearchQuery {
    fn validate(&self) -> Vec<ValidationIssue> {
        let mut issues = Vec::new();
        self.paging(&mut issues);
        issues
    }
}

/// A field an endpoint does not take: read as the text it is, never checked nor used (zod
/// strips it).
pub(super) type Unused = Option<String>;

/// The fields of a person a client sets: `PersonCreateDto` takes neither `id` nor
/// `featureFaceAssetId`, `PersonUpdateDto` (`Feature = Option<AssetId>`) takes the feature face
/// asset, and `PeopleUpdateItem` (`Id = PersonId`) also needs the person's id.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PersonFields<Id = Unused, Feature = Unused> {
    pub(super) id: Id,
    pub(super) name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub(super) birth_date: Option<Option<String>>,
    pub(super) is_hidden: Option<bool>,
    pub(super) is_favorite: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    pub(super) color: Option<Option<String>>,
    pub(super) feature_face_asset_id: Feature,
}

pub(super) const FUTURE_BIRTH_DATE: &str = "Birth date cannot be in the future";
const HEX_COLOR: &str =
    r"Invalid string: must match pattern /^#?([0-9A-Fa-f]{3}|[0-9A-Fa-f]{4}|[0-9A-Fa-f]{6}|[0-9A-Fa-f]{8})$/";

/// A birth date as `YYYY-MM-DD` or an ISO date-time (its date as written), on or before now.
/// Like Immich's check (`new Date(value) <= new Date()`), anything unreadable fails as if it
/// were in the future.
fn birth_date(text: &str) -> Option<NaiveDate> {
    let (date, instant) = match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        Ok(date) => (date, date.and_hms_opt(0, 0, 0)?.and_utc()),
        Err(_) => {
            let moment = DateTime::parse_from_rfc3339(text).ok()?;
            (moment.date_naive(), moment.with_timezone(&Utc))
        }
    };
    (instant <= Utc::now()).then_some(date)
}

fn hex_color(text: &str) -> Option<String> {
    let digits = text.strip_prefix('#').unwrap_or(text);
    let valid = matches!(digits.len(), 3 | 4 | 6 | 8) && digits.chars().all(|c| c.is_ascii_hexdigit());
    valid.then(|| format!("#{digits}"))
}

pub(super) fn issue(prefix: &[Value], field: &str, code: &'static str, message: &str) -> ValidationIssue {
    let mut path = prefix.to_vec();
    path.push(json!(field));
    ValidationIssue {
        code,
        path,
        message: message.to_string(),
    }
}

impl<Id, Feature> PersonFields<Id, Feature> {
    /// Problems, with paths under `prefix`.
    pub(super) fn issues(&self, prefix: &[Value]) -> Vec<ValidationIssue> {
        let mut issues = Vec::new();
        if let Some(Some(text)) = &self.birth_date
            && birth_date(text).is_none()
        {
            issues.push(issue(prefix, "birthDate", "custom", FUTURE_BIRTH_DATE));
        }
        if let Some(Some(text)) = &self.color
            && hex_color(text).is_none()
        {
            issues.push(issue(prefix, "color", "invalid_format", HEX_COLOR));
        }
        issues
    }

    /// The changes (the fields having passed `issues`); `with_color` false leaves the colour
    /// alone, as Immich's batch update does.
    pub(super) fn changes(&self, with_color: bool) -> PersonChanges {
        PersonChanges {
            name: self.name.clone(),
            birth_date: self.birth_date.as_ref().map(|d| d.as_deref().and_then(birth_date)),
            is_hidden: self.is_hidden,
            is_favorite: self.is_favorite,
            color: if with_color {
                self.color.as_ref().map(|c| c.as_deref().and_then(hex_color))
            } else {
                None
            },
            face_asset_id: None,
        }
    }
}

impl<Id> PersonFields<Id, Option<AssetId>> {
    pub(super) fn feature_asset(&self) -> Option<Uuid> {
        self.feature_face_asset_id.map(Uuid::from)
    }
}

/// `PersonCreateDto`.
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub struct PersonCreateDto(pub(super) PersonFields);

impl Validate for PersonCreateDto {
    fn validate(&self) -> Vec<ValidationIssue> {
        self.0.issues(&[])
    }
}

/// `PersonUpdateDto`.
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub struct PersonUpdateDto(pub(super) PersonFields<Unused, Option<AssetId>>);

impl Validate for PersonUpdateDto {
    fn validate(&self) -> Vec<ValidationIssue> {
        self.0.issues(&[])
    }
}

#[derive(Debug, Deserialize)]
pub struct PeopleUpdateDto {
    pub(super) people: Vec<PersonFields<PersonId, Option<AssetId>>>,
}

impl Validate for PeopleUpdateDto {
    fn validate(&self) -> Vec<ValidationIssue> {
        let mut issues = Vec::new();
        for (index, item) in self.people.iter().enumerate() {
            let prefix = [json!("people"), json!(index)];
            issues.extend(item.issues(&prefix));
        }
        issues
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssetFaceUpdateItem {
    pub(super) person_id: PersonId,
    pub(super) asset_id: AssetId,
}

#[derive(Debug, Deserialize)]
pub struct AssetFaceUpdateDto {
    pub(super) data: Vec<AssetFaceUpdateItem>,
}

impl Validate for AssetFaceUpdateDto {}

#[derive(Debug, Deserialize)]
pub struct MergePersonDto {
    pub(super) ids: Vec<PersonId>,
}

impl Validate for MergePersonDto {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn birth_dates_are_days_not_after_now() {
        assert_eq!(birth_date("1990-02-03"), NaiveDate::from_ymd_opt(1990, 2, 3));
        // A date-time counts by the date written in it.
        assert_eq!(
            birth_date("1990-02-03T23:30:00-05:00"),
            NaiveDate::from_ymd_opt(1990, 2, 3)
        );
        assert_eq!(birth_date("2999-01-01"), None);
        assert_eq!(birth_date("1990-02-30"), None);
        assert_eq!(birth_date("yesterday"), None);
    }

    #[test]
    fn colours_gain_their_hash() {
        assert_eq!(hex_color("aabbcc").as_deref(), Some("#aabbcc"));
        assert_eq!(hex_color("#1234").as_deref(), Some("#1234"));
        assert_eq!(hex_color("#12345"), None);
        assert_eq!(hex_color("##123"), None);
    }
}
