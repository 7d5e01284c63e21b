//! Settings documents (system config, user preferences) are JSON trees with defaults. Only the
//! leaves that differ from the defaults are stored; reads overlay them on the defaults. Updates are
//! checked leaf by leaf against the shape of the defaults.

use serde_json::{Map, Value};

use crate::error::ValidationIssue;

/// Overlays `overlay` on `base`, recursing into objects; keys unknown to `base` are dropped.
pub fn merge(base: &Value, overlay: &Value) -> Value {
    match (base, overlay) {
        (Value::Object(base), Value::Object(overlay)) => Value::Object(
            base.iter()
                .map(|(key, value)| {
                    let merged = overlay.get(key).map_or_else(|| value.clone(), |o| merge(value, o));
                    (key.clone(), merged)
                })
                .collect(),
        ),
        (_, overlay) => overlay.clone(),
    }
}

/// The leaves of `value` that differ from `defaults` (empty objects pruned).
pub fn diff(value: &Value, defaults: &Value) -> Value {
    match (value, defaults) {
        (Value::Object(value), Value::Object(defaults)) => {
            let mut out = Map::new();
            for (key, v) in value {
                match defaults.get(key) {
                    Some(d) if d == v => {}
                    Some(d @ Value::Object(_)) => {
                        let nested = diff(v, d);
                        if nested.as_object().is_some_and(|o| !o.is_empty()) {
                            out.insert(key.clone(), nested);
                        }
                    }
                    _ => {
                        out.insert(key.clone(), v.clone());
                    }
                }
            }
            Value::Object(out)
        }
        (value, _) => value.clone(),
    }
}

/// What a leaf may hold beyond "the same JSON type as its default".
#[derive(Debug, Clone, Default)]
pub struct LeafRule {
    pub one_of: Option<Vec<String>>,
    pub items_one_of: Option<Vec<String>>,
    pub integer: bool,
    pub minimum: Option<f64>,
    pub maximum: Option<f64>,
    pub nullable: bool,
}

/// Checks `candidate` against the shape of `defaults`. With `partial`, absent keys are fine (PATCH
/// semantics); otherwise every key of the defaults is required. Unknown keys are ignored.
pub fn check(
    candidate: &Value,
    defaults: &Value,
    partial: bool,
    rule_for: &dyn Fn(&str) -> LeafRule,
    path: &mut Vec<String>,
    issues: &mut Vec<ValidationIssue>,
) {
    match defaults {
        Value::Object(fields) => {
            let Some(object) = candidate.as_object() else {
                issues.push(type_issue(&here(path), "object", candidate));
                return;
            };
            for (key, default) in fields {
                path.push(key.clone());
                match object.get(key) {
                    Some(value) => check(value, default, partial, rule_for, path, issues),
                    None if partial => {}
                    None => issues.push(ValidationIssue::with_code(
                        "invalid_type",
                        &here(path),
                        format!("Invalid input: expected {}, received undefined", type_name(default)),
                    )),
                }
                path.pop();
            }
        }
        default => {
            let rule = rule_for(&path.join("."));
            check_leaf(candidate, default, &rule, &here(path), issues);
        }
    }
}

fn check_leaf(value: &Value, default: &Value, rule: &LeafRule, path: &[&str], issues: &mut Vec<ValidationIssue>) {
    if value.is_null() {
        if !(rule.nullable || default.is_null()) {
            issues.push(type_issue(path, type_name(default), value));
        }
        return;
    }
    let type_ok = match default {
        Value::Null => true,
        Value::Bool(_) => value.is_boolean(),
        Value::Number(_) => value.is_number(),
        Value::String(_) => value.is_string(),
        Value::Array(_) => value.is_array(),
        Value::Object(_) => value.is_object(),
    };
    if !type_ok {
        issues.push(type_issue(path, type_name(default), value));
        return;
    }
    if let Some(n) = value.as_f64() {
        if rule.integer && n.fract() != 0.0 {
            issues.push(ValidationIssue::with_code(
                "invalid_type",
                path,
                "Invalid input: expected int, received number",
            ));
        }
        if let Some(min) = rule.minimum.filter(|min| n < *min) {
            issues.push(ValidationIssue::with_code(
                "too_small",
                path,
                format!("Too small: expected number to be >={min}"),
            ));
        }
        if let Some(max) = rule.maximum.filter(|max| n > *max) {
            issues.push(ValidationIssue::with_code(
                "too_big",
                path,
                format!("Too big: expected number to be <={max}"),
            ));
        }
    }
    let outside = |options: &Vec<String>, v: &Value| {
        let text = v.as_str().map_or_else(|| v.to_string(), str::to_string);
        !options.contains(&text)
    };
    if let Some(options) = &rule.one_of
        && outside(options, value)
    {
        issues.push(invalid_option(path, options));
    }
    if let (Some(options), Some(items)) = (&rule.items_one_of, value.as_array()) {
        for (index, item) in items.iter().enumerate() {
            if outside(options, item) {
                let index = index.to_string();
                let mut item_path = path.to_vec();
                item_path.push(&index);
                issues.push(invalid_option(&item_path, options));
            }
        }
    }
}

fn here(path: &[String]) -> Vec<&str> {
    path.iter().map(String::as_str).collect()
}

fn invalid_option(path: &[&str], options: &[String]) -> ValidationIssue {
    let list: Vec<String> = options.iter().map(|o| format!("\"{o}\"")).collect();
    ValidationIssue::with_code(
        "invalid_value",
        path,
        format!("Invalid option: expected one of {}", list.join("|")),
    )
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn type_issue(path: &[&str], expected: &str, received: &Value) -> ValidationIssue {
    ValidationIssue::with_code(
        "invalid_type",
        path,
        format!("Invalid input: expected {expected}, received {}", type_name(received)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn diff_then_merge_round_trips() {
        let defaults = json!({"a": {"b": 1, "c": true}, "d": "x"});
        let value = json!({"a": {"b": 2, "c": true}, "d": "x"});
        let stored = diff(&value, &defaults);
        assert_eq!(stored, json!({"a": {"b": 2}}));
        assert_eq!(merge(&defaults, &stored), value);
        assert_eq!(
            merge(&defaults, &json!({"zzz": 1})),
            defaults,
            "unknown keys are dropped"
        );
    }

    #[test]
    fn check_reports_paths_and_types() {
        let defaults = json!({"download": {"archiveSize": 4, "includeEmbeddedVideos": false}});
        let rules = |p: &str| LeafRule {
            integer: p == "download.archiveSize",
            minimum: Some(1.0),
            ..Default::default()
        };
        let mut issues = Vec::new();
        check(
            &json!({"download": {"archiveSize": 1.5}}),
            &defaults,
            true,
            &rules,
            &mut Vec::new(),
            &mut issues,
        );
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].path, vec![json!("download"), json!("archiveSize")]);
        assert_eq!(issues[0].message, "Invalid input: expected int, received number");
        issues.clear();
        check(
            &json!({"download": {}}),
            &defaults,
            false,
            &rules,
            &mut Vec::new(),
            &mut issues,
        );
        assert_eq!(issues.len(), 2, "full documents need every key");
    }
}
