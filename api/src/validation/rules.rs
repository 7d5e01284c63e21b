//! Issues for common field rules, so DTOs state rules in one line each.

use crate::error::ValidationIssue;

/// HTML5's e-mail rule, as Immich validates e-mails.
pub fn email(issues: &mut Vec<ValidationIssue>, path: &[&str], value: &str) {
    let valid = value.split_once('@').is_some_and(|(local, domain)| {
        let local_ok = !local.is_empty()
            && local
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".!#$%&'*+/=?^_`{|}~-".contains(c));
        let domain_ok = !domain.is_empty()
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        local_ok && domain_ok
    });
    if !valid {
        issues.push(ValidationIssue::with_code(
            "invalid_format",
            path,
            "Invalid input: expected email, received string",
        ));
    }
}

pub fn pin_code(issues: &mut Vec<ValidationIssue>, path: &[&str], value: &str) {
    if value.len() != 6 || !value.chars().all(|c| c.is_ascii_digit()) {
        issues.push(ValidationIssue::with_code(
            "invalid_format",
            path,
            r"Invalid string: must match pattern /^\d{6}$/",
        ));
    }
}

pub fn min_length(issues: &mut Vec<ValidationIssue>, path: &[&str], value: &str, min: usize) {
    if value.chars().count() < min {
        issues.push(ValidationIssue::with_code(
            "too_small",
            path,
            format!("Too small: expected string to have >={min} characters"),
        ));
    }
}

pub fn min_number(issues: &mut Vec<ValidationIssue>, path: &[&str], value: i64, min: i64) {
    if value < min {
        issues.push(ValidationIssue::with_code(
            "too_small",
            path,
            format!("Too small: expected number to be >={min}"),
        ));
    }
}

/// zod's `z.coerce.number()` on a query parameter: JavaScript's `Number(value)`, where a
/// missing or unreadable value is NaN, which zod refuses.
pub fn coerced_number(
    issues: &mut Vec<ValidationIssue>,
    path: &[&str],
    value: Option<&serde_json::Value>,
) -> Option<f64> {
    let number = match value {
        Some(serde_json::Value::Number(number)) => number.as_f64().unwrap_or(f64::NAN),
        Some(serde_json::Value::Bool(flag)) => f64::from(u8::from(*flag)),
        Some(serde_json::Value::String(text)) if text.trim().is_empty() => 0.0,
        Some(serde_json::Value::String(text)) => text.trim().parse().unwrap_or(f64::NAN),
        _ => f64::NAN,
    };
    if number.is_nan() {
        issues.push(ValidationIssue::with_code(
            "invalid_type",
            path,
            "Invalid input: expected number, received NaN",
        ));
        return None;
    }
    Some(number)
}

/// zod's `.min(low).max(high)` on a number.
pub fn number_between(issues: &mut Vec<ValidationIssue>, path: &[&str], value: f64, low: f64, high: f64) {
    if value < low {
        issues.push(ValidationIssue::with_code(
            "too_small",
            path,
            format!("Too small: expected number to be >={low}"),
        ));
    } else if value > high {
        issues.push(ValidationIssue::with_code(
            "too_big",
            path,
            format!("Too big: expected number to be <={high}"),
        ));
    }
}

pub fn non_empty<T>(issues: &mut Vec<ValidationIssue>, path: &[&str], values: &[T]) {
    if values.is_empty() {
        issues.push(ValidationIssue::with_code(
            "too_small",
            path,
            "Too small: expected array to have >=1 items",
        ));
    }
}
