//! Request parsing that fails like Immich: `400 {"message":"Validation failed","errors":[…]}` with
//! zod-style issues (code, path, message), never a bare rejection or a panic.

use std::collections::HashMap;

use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::dto::ids::NOT_A_UUID;
pub use crate::dto::ids::parse_uuid_v4;
use crate::error::{ApiError, ValidationIssue};

/// Checks beyond what types can say (formats, ranges). Issues are returned, not thrown, so a
/// request learns every problem at once.
pub trait Validate {
    fn validate(&self) -> Vec<ValidationIssue> {
        Vec::new()
    }

    /// Checks of the object as a whole, run only when every field is well-formed (as zod runs
    /// an object's refinements only on an object that parsed).
    fn refine(&self) -> Vec<ValidationIssue> {
        Vec::new()
    }

    /// Reads the parts of the body kept apart from its own fields and returns their issues.
    /// A part shared by several bodies is read on its own because serde's `flatten` loses the
    /// path of every error inside it.
    fn read_parts(&mut self, _body: &Value) -> Vec<ValidationIssue> {
        Vec::new()
    }
}

/// A JSON body. Unknown fields are ignored (as zod strips them); a missing or empty body is
/// refused as Immich refuses it (Express 5 leaves the body `undefined`, which zod rejects).
pub struct ValidJson<T>(pub T);

/// JSON bodies larger than this are refused with 413, like Immich's 10 MB body-parser limit.
pub const JSON_BODY_LIMIT: usize = 10 * 1024 * 1024;

fn exceeds_limit(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(error) = current {
        if error.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        current = error.source();
    }
    false
}

impl<S: Send + Sync, T: DeserializeOwned + Validate> FromRequest<S> for ValidJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::to_bytes(request.into_body(), JSON_BODY_LIMIT)
            .await
            .map_err(|error| {
                let error = error.into_inner();
                if exceeds_limit(error.as_ref()) {
                    ApiError::PayloadTooLarge
                } else {
                    ApiError::bad_request("Failed to read the request body")
                }
            })?;
        let value: Value = if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::Validation(vec![ValidationIssue::with_code(
                "invalid_type",
                &[],
                "Invalid input: expected object, received undefined",
            )]));
        } else {
            serde_json::from_slice(&bytes).map_err(|e| ApiError::bad_request(format!("Invalid JSON body: {e}")))?
        };
        from_value(value).map(ValidJson)
    }
}

/// Deserializes and validates a JSON value into `T`, reporting every problem at once as zod
/// does: serde stops at the first, so a malformed id is noted, replaced by a well-formed one
/// and the value read again, until it reads or fails for another reason.
pub fn from_value<T: DeserializeOwned + Validate>(value: Value) -> Result<T, ApiError> {
    read_all(value, |_, message| {
        message.starts_with(NOT_A_UUID).then(|| json!(STAND_IN_ID))
    })
}

/// A part of a body read apart with `from_value` (see `Validate::read_parts`): the part, or
/// its default and the issues found.
pub fn read_part<T: DeserializeOwned + Validate + Default>(body: &Value, issues: &mut Vec<ValidationIssue>) -> T {
    match from_value(body.clone()) {
        Ok(part) => part,
        Err(ApiError::Validation(found)) => {
            issues.extend(found);
            T::default()
        }
        Err(other) => {
            issues.push(ValidationIssue::new(&[], other.to_string()));
            T::default()
        }
    }
}

/// Deserializes and validates `value` into `T`, noting each field serde refuses and putting in
/// its place what `stand_in` offers for it (given the path and serde's message), then reading
/// again; it stops at a field with no stand-in. Object-level checks (`refine`) run only when
/// nothing else was wrong.
pub fn read_all<T: DeserializeOwned + Validate>(
    mut value: Value,
    stand_in: impl Fn(&[Value], &str) -> Option<Value>,
) -> Result<T, ApiError> {
    /// Past this many issues the rest are not looked for (each costs a new read).
    const MAX_ISSUES: usize = 100;
    let mut issues = Vec::new();
    loop {
        match serde_path_to_error::deserialize::<_, T>(&value) {
            Ok(mut parsed) => {
                issues.extend(parsed.read_parts(&value));
                issues.extend(parsed.validate());
                if issues.is_empty() {
                    issues = parsed.refine();
                }
                return if issues.is_empty() {
                    Ok(parsed)
                } else {
                    Err(ApiError::Validation(issues))
                };
            }
            Err(error) => {
                let path = path_segments(error.path());
                let message = error.inner().to_string();
                if let Some(field) = between(&message, "missing field `", "`") {
                    issues.push(missing_field_issue::<T>(&value, path, field));
                    return Err(ApiError::Validation(issues));
                }
                let replacement = (issues.len() < MAX_ISSUES).then(|| stand_in(&path, &message)).flatten();
                let slot = replacement.and_then(|replacement| {
                    value_at(&mut value, &path)
                        .filter(|slot| **slot != replacement)
                        .map(|slot| (slot, replacement))
                });
                issues.push(issue_from_serde(path, &message));
                match slot {
                    Some((slot, replacement)) => *slot = replacement,
                    None => return Err(ApiError::Validation(issues)),
                }
            }
        }
    }
}

/// zod's issue for a required field left out, which names the type it expected: serde names
/// only the field, so the body is read again with the field present as `null` (and, for a closed
/// set, as a string no option matches) to learn what the field takes.
fn missing_field_issue<T: DeserializeOwned>(value: &Value, parent: Vec<Value>, field: &str) -> ValidationIssue {
    let mut path = parent.clone();
    path.push(json!(field));
    let refusal = |probe: Value| {
        let mut probed = value.clone();
        let Some(Value::Object(object)) = value_at(&mut probed, &parent) else {
            return None;
        };
        object.insert(field.to_string(), probe);
        let error = serde_path_to_error::deserialize::<_, T>(&probed).err()?;
        (path_segments(error.path()) == path).then(|| error.inner().to_string())
    };
    match refusal(Value::Null)
        .as_deref()
        .and_then(|m| m.strip_prefix("invalid type: null, expected "))
    {
        // An enum: zod lists its options.
        Some("string or map") => {
            if let Some(message) = refusal(json!("\u{0}")).filter(|m| m.starts_with("unknown variant")) {
                return issue_from_serde(path, &message);
            }
        }
        Some(expected) => {
            return ValidationIssue {
                code: "invalid_type",
                path,
                message: format!(
                    "Invalid input: expected {}, received undefined",
                    expected_type(expected)
                ),
            };
        }
        None => {}
    }
    ValidationIssue {
        code: "invalid_type",
        path,
        message: "Invalid input: expected value, received undefined".to_string(),
    }
}

/// A well-formed v4 id put in place of a malformed one while the rest of a request is read.
const STAND_IN_ID: &str = "00000000-0000-4000-8000-000000000000";

fn value_at<'a>(value: &'a mut Value, path: &[Value]) -> Option<&'a mut Value> {
    path.iter().try_fold(value, |current, segment| match segment {
        Value::String(key) => current.get_mut(key.as_str()),
        Value::Number(index) => current.get_mut(usize::try_from(index.as_u64()?).ok()?),
        _ => None,
    })
}

/// Query parameters. Immich's booleans in queries are the strings `true`/`false`.
pub struct ValidQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Validate> FromRequestParts<S> for ValidQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
        let mut object = serde_json::Map::new();
        for (key, value) in pairs {
            let value = match value.as_str() {
                "true" => json!(true),
                "false" => json!(false),
                _ => value.parse::<i64>().map_or_else(|_| json!(value), |n| json!(n)),
            };
            object.entry(key).or_insert(value);
        }
        from_value(Value::Object(object)).map(ValidQuery)
    }
}

/// A `{id}` path parameter, which Immich requires to be a v4 UUID, read as the kind of id the
/// route names (`IdPath<AlbumId>` for `/albums/{id}`).
pub struct IdPath<Id = Uuid>(pub Id);

impl<S: Send + Sync, Id: From<Uuid>> FromRequestParts<S> for IdPath<Id> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::bad_request(e.body_text()))?;
        let raw = params.get("id").map(String::as_str).unwrap_or("");
        parse_uuid_v4(raw)
            .map(|id| IdPath(Id::from(id)))
            .ok_or_else(|| ApiError::Validation(vec![invalid_uuid(&["id"])]))
    }
}

pub fn invalid_uuid(path: &[&str]) -> ValidationIssue {
    ValidationIssue::with_code("invalid_format", path, "Invalid UUID")
}

/// An optional v4 UUID in field `field`: an issue when present and malformed.
pub fn optional_uuid(issues: &mut Vec<ValidationIssue>, field: &str, value: &Option<String>) -> Option<Uuid> {
    let value = value.as_deref()?;
    let parsed = parse_uuid_v4(value);
    if parsed.is_none() {
        issues.push(invalid_uuid(&[field]));
    }
    parsed
}

/// A list of v4 UUIDs in field `field`; each bad entry is an issue at `[field, index]`.
pub fn uuid_list(issues: &mut Vec<ValidationIssue>, field: &str, values: &[String]) -> Vec<Uuid> {
    let mut ids = Vec::with_capacity(values.len());
    for (index, value) in values.iter().enumerate() {
        match parse_uuid_v4(value) {
            Some(id) => ids.push(id),
            None => issues.push(ValidationIssue {
                code: "invalid_format",
                path: vec![json!(field), json!(index)],
                message: "Invalid UUID".to_string(),
            }),
        }
    }
    ids
}

fn path_segments(path: &serde_path_to_error::Path) -> Vec<Value> {
    use serde_path_to_error::Segment;
    path.iter()
        .filter_map(|segment| match segment {
            Segment::Seq { index } => Some(json!(index)),
            Segment::Map { key } => Some(json!(key)),
            Segment::Enum { variant } => Some(json!(variant)),
            Segment::Unknown => None,
        })
        .collect()
}

/// Translates a serde message into the zod wording clients are used to.
fn issue_from_serde(path: Vec<Value>, message: &str) -> ValidationIssue {
    let issue = |code, path, message: String| ValidationIssue { code, path, message };
    if message.starts_with(NOT_A_UUID) {
        return issue("invalid_format", path, "Invalid UUID".to_string());
    }
    if let Some(rest) = message.strip_prefix("invalid type: ") {
        let (received, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
        let received = js_type_of(received);
        let expected = expected_type(expected);
        return issue(
            "invalid_type",
            path,
            format!("Invalid input: expected {expected}, received {received}"),
        );
    }
    if message.starts_with("unknown variant") {
        // serde writes "expected `a`", "expected `a` or `b`" or "expected one of `a`, `b`, `c`".
        let listed = message.split_once(", expected ").map_or("", |(_, list)| list);
        let options: Vec<String> = listed
            .split('`')
            .skip(1)
            .step_by(2)
            .map(|option| format!("\"{option}\""))
            .collect();
        return issue(
            "invalid_value",
            path,
            format!("Invalid option: expected one of {}", options.join("|")),
        );
    }
    if let Some(rest) = message.strip_prefix("invalid value: ") {
        let (received, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
        if received.starts_with("floating point") || received.starts_with("integer") {
            return issue(
                "invalid_type",
                path,
                format!("Invalid input: expected {}, received number", expected_type(expected)),
            );
        }
        return issue(
            "invalid_value",
            path,
            format!("Invalid input: expected {}", expected_type(expected)),
        );
    }
    issue("custom", path, message.to_string())
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let rest = &text[text.find(start)? + start.len()..];
    Some(&rest[..rest.find(end)?])
}

fn js_type_of(serde_unexpected: &str) -> &'static str {
    let s = serde_unexpected;
    if s.starts_with("integer") || s.starts_with("floating point") || s.starts_with("number") {
        "number"
    } else if s.starts_with("string") || s.starts_with("char") {
        "string"
    } else if s.starts_with("boolean") {
        "boolean"
    } else if s.starts_with("null") || s.starts_with("unit") {
        "null"
    } else if s.starts_with("sequence") {
        "array"
    } else {
        "object"
    }
}

fn expected_type(serde_expected: &str) -> &'static str {
    let s = serde_expected;
    if s == "email" {
        "email"
    } else if s.contains("string") || s.contains("UUID") || s.contains("uuid") || s.contains("datetime") {
        "string"
    } else if s.contains("bool") {
        "boolean"
    } else if s.starts_with('u') || s.starts_with('i') || s.contains("integer") {
        "int"
    } else if s.starts_with('f') || s.contains("number") {
        "number"
    } else if s.contains("sequence") {
        "array"
    } else {
        "object"
    }
}

pub mod rules;

/// Free-form JSON, checked by its consumer (e.g. the system config against its defaults).
impl Validate for Value {}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "camelCase")]
    #[allow(dead_code)]
    struct Sample {
        name: String,
        quota: Option<u64>,
        nested: Option<Nested>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "camelCase")]
    #[allow(dead_code)]
    struct Nested {
        archive_size: u64,
    }

    impl Validate for Sample {}

    fn issues(value: Value) -> Vec<ValidationIssue> {
        match from_value::<Sample>(value) {
            Err(ApiError::Validation(issues)) => issues,
            other => panic!("expected validation failure, got {other:?}"),
        }
    }

    #[test]
    fn messages_follow_zod() {
        let i = issues(json!({"name": 5}));
        assert_eq!(i[0].message, "Invalid input: expected string, received number");
        assert_eq!(i[0].path, vec![json!("name")]);
        let i = issues(json!({"name": "a", "nested": {"archiveSize": 1.5}}));
        assert_eq!(i[0].message, "Invalid input: expected int, received number");
        assert_eq!(i[0].path, vec![json!("nested"), json!("archiveSize")]);
        let i = issues(json!({}));
        assert_eq!(i[0].path, vec![json!("name")]);
        assert_eq!(i[0].code, "invalid_type");
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "camelCase")]
    #[allow(dead_code)]
    struct WithIds {
        album_id: crate::dto::ids::AlbumId,
        asset_ids: Vec<crate::dto::ids::AssetId>,
        name: String,
    }

    impl Validate for WithIds {}

    #[test]
    fn every_bad_id_is_reported_with_its_path() {
        let good = "8a4c1c3e-2f1b-4d7e-9a7b-0c1d2e3f4a5b";
        let body = json!({"albumId": "x", "assetIds": [good, "y", 5, "z"], "name": "a"});
        let Err(ApiError::Validation(issues)) = from_value::<WithIds>(body) else {
            panic!("expected validation failure");
        };
        let found: Vec<(Vec<Value>, &str)> = issues.iter().map(|i| (i.path.clone(), i.message.as_str())).collect();
        assert_eq!(
            found,
            vec![
                (vec![json!("albumId")], "Invalid UUID"),
                (vec![json!("assetIds"), json!(1)], "Invalid UUID"),
                (
                    vec![json!("assetIds"), json!(2)],
                    "Invalid input: expected string, received number"
                ),
            ]
        );
        let ok = from_value::<WithIds>(json!({"albumId": good, "assetIds": [good], "name": "a"}));
        assert!(ok.is_ok());
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Required {
        id: crate::dto::ids::AssetId,
        count: u32,
        kind: Kind,
        nested: Nested,
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "lowercase")]
    enum Kind {
        Photo,
        Video,
    }

    impl Validate for Required {}

    #[test]
    fn a_missing_field_names_the_type_it_takes() {
        let first = |body: Value| match from_value::<Required>(body) {
            Err(ApiError::Validation(issues)) => (issues[0].path.clone(), issues[0].message.clone()),
            other => panic!("expected a validation failure, got {other:?}"),
        };
        let id = "8a4c1c3e-2f1b-4d7e-9a7b-0c1d2e3f4a5b";
        assert_eq!(
            first(json!({})),
            (
                vec![json!("id")],
                "Invalid input: expected string, received undefined".to_string()
            )
        );
        assert_eq!(
            first(json!({"id": id})),
            (
                vec![json!("count")],
                "Invalid input: expected int, received undefined".to_string()
            )
        );
        assert_eq!(
            first(json!({"id": id, "count": 1})),
            (
                vec![json!("kind")],
                r#"Invalid option: expected one of "photo"|"video""#.to_string()
            )
        );
        assert_eq!(
            first(json!({"id": id, "count": 1, "kind": "photo"})),
            (
                vec![json!("nested")],
                "Invalid input: expected object, received undefined".to_string()
            )
        );
    }

    #[test]
    fn emails_follow_the_html_rule() {
        let mut i = Vec::new();
        rules::email(&mut i, &["email"], "admin@immich.cloud");
        rules::email(&mut i, &["email"], "user@localhost");
        assert!(i.is_empty());
        rules::email(&mut i, &["email"], "no at sign");
        rules::email(&mut i, &["email"], " a@b.c");
        assert_eq!(i.len(), 2);
    }
}
