//! The system configuration: Immich's defaults, overlaid with what the admin saved (stored in
//! `system_metadata` under `system-config`, only the differences) or with `IMMICH_CONFIG_FILE`,
//! which makes the configuration read-only.

use std::path::Path;

use darkroom_storage::{PgPool, system_metadata};
use serde_json::{Value, json};
use thiserror::Error;

use crate::config::Config;
use crate::error::{ApiError, ApiResult, Context, ValidationIssue};
use crate::settings_tree::{self, LeafRule};
use crate::validation;

mod defaults;
mod limits;
pub mod sections;
pub mod storage_template;

pub use sections::SystemConfig;

const STORAGE_KEY: &str = "system-config";

/// Settings a later Immich added as optional: absent from the defaults (so Immich 3.0's web
/// app need not send them), kept when given.
const OPTIONAL_SETTINGS: [[&str; 2]; 1] = [["oauth", "accountManagementUrl"]];

/// `merged` with the optional settings `given` holds (a non-empty text each).
fn with_optional(mut merged: Value, given: &Value) -> Value {
    for [section, key] in OPTIONAL_SETTINGS {
        if let Some(text) = given[section][key].as_str().filter(|text| !text.is_empty()) {
            merged[section][key] = json!(text);
        }
    }
    merged
}

#[derive(Debug, Error)]
pub enum ConfigFileError {
    #[error("IMMICH_CONFIG_FILE: cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("IMMICH_CONFIG_FILE: {path} is neither valid JSON nor YAML: {message}")]
    Parse { path: String, message: String },
    #[error("IMMICH_CONFIG_FILE: {path} is invalid: {message}")]
    Invalid { path: String, message: String },
    #[error("the default system config cannot be written as JSON: {0}")]
    Defaults(#[source] serde_json::Error),
}

pub struct SystemConfigStore {
    defaults: Value,
    /// The merged configuration from `IMMICH_CONFIG_FILE`, when one is used.
    from_file: Option<Value>,
}

impl SystemConfigStore {
    pub fn new(config: &Config) -> Result<Self, ConfigFileError> {
        let mut typed = SystemConfig::default();
        // The ML defaults follow the environment, as in Immich.
        typed.machine_learning.urls = vec![config.machine_learning_url.clone()];
        typed.machine_learning.enabled = config.machine_learning_enabled;
        let defaults = serde_json::to_value(&typed).map_err(ConfigFileError::Defaults)?;
        let from_file = match &config.config_file {
            Some(path) => Some(load_file(path, &defaults)?),
            None => None,
        };
        Ok(Self { defaults, from_file })
    }

    pub fn defaults(&self) -> &Value {
        &self.defaults
    }

    pub fn is_read_only(&self) -> bool {
        self.from_file.is_some()
    }

    /// The configuration in force.
    pub async fn get(&self, db: &PgPool) -> ApiResult<Value> {
        if let Some(file) = &self.from_file {
            return Ok(file.clone());
        }
        let stored = system_metadata::get(db, STORAGE_KEY)
            .await?
            .unwrap_or_else(|| json!({}));
        Ok(with_optional(settings_tree::merge(&self.defaults, &stored), &stored))
    }

    /// The configuration in force, as types.
    pub async fn typed(&self, db: &PgPool) -> ApiResult<SystemConfig> {
        serde_json::from_value(self.get(db).await?).context("reading the system config")
    }

    /// Replaces the whole configuration (validated) and returns it as now in force.
    pub async fn update(&self, db: &PgPool, candidate: &Value) -> ApiResult<Value> {
        if self.is_read_only() {
            return Err(ApiError::bad_request(
                "Cannot update configuration while IMMICH_CONFIG_FILE is in use",
            ));
        }
        let (merged, typed) = validate(candidate, &self.defaults, false)?;
        storage_template::check(&typed.storage_template.template)
            .map_err(|reason| ApiError::bad_request(format!("Invalid storage template: {reason}")))?;
        crate::services::smart_search::check_model(&typed)?;
        system_metadata::set(db, STORAGE_KEY, &settings_tree::diff(&merged, &self.defaults)).await?;
        Ok(merged)
    }
}

/// Checks a candidate config (with `partial`, some settings only) and returns it laid over the
/// defaults, as JSON and as types: first its shape and JSON types against the defaults, then as types (closed sets,
/// integers, limits), every problem reported at once.
fn validate(candidate: &Value, defaults: &Value, partial: bool) -> ApiResult<(Value, SystemConfig)> {
    let mut issues = Vec::new();
    let no_rules = |_: &str| LeafRule::default();
    settings_tree::check(candidate, defaults, partial, &no_rules, &mut Vec::new(), &mut issues);
    if !issues.is_empty() {
        return Err(ApiError::Validation(issues));
    }
    let merged = with_optional(settings_tree::merge(defaults, candidate), candidate);
    let typed = read(&merged, defaults)?;
    Ok((merged, typed))
}

/// A config as types; a refused setting is read again as its default so the others are checked.
fn read(config: &Value, defaults: &Value) -> ApiResult<SystemConfig> {
    validation::read_all(config.clone(), |path, _| default_at(defaults, path))
}

/// The default at `path`; for an item of a list, the list's first default item.
fn default_at(defaults: &Value, path: &[Value]) -> Option<Value> {
    path.iter()
        .try_fold(defaults, |current, segment| match segment {
            Value::String(key) => current.get(key.as_str()),
            Value::Number(_) => current.get(0),
            _ => None,
        })
        .cloned()
}

fn load_file(path: &Path, defaults: &Value) -> Result<Value, ConfigFileError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ConfigFileError::Read {
        path: shown.clone(),
        source,
    })?;
    let parsed: Value = match serde_json::from_str(&text) {
        Ok(value) => value,
        Err(_) => serde_norway::from_str(&text).map_err(|e| ConfigFileError::Parse {
            path: shown.clone(),
            message: e.to_string(),
        })?,
    };
    // A config file may give only some settings; what it gives must be well-formed.
    validate(&parsed, defaults, true)
        .map(|(merged, _)| merged)
        .map_err(|error| ConfigFileError::Invalid {
            path: shown,
            message: match error {
                ApiError::Validation(issues) => issues.first().map(describe).unwrap_or_default(),
                other => other.to_string(),
            },
        })
}

/// `ffmpeg.crf: Too big: …`, an issue as a config file's author reads it.
fn describe(issue: &ValidationIssue) -> String {
    let at: Vec<String> = issue
        .path
        .iter()
        .map(|p| p.as_str().map_or_else(|| p.to_string(), str::to_string))
        .collect();
    format!("{}: {}", at.join("."), issue.message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> Value {
        serde_json::to_value(SystemConfig::default()).unwrap()
    }

    fn issues(candidate: &Value) -> Vec<ValidationIssue> {
        match validate(candidate, &defaults(), false) {
            Err(ApiError::Validation(issues)) => issues,
            other => panic!("expected issues, got {other:?}"),
        }
    }

    #[test]
    fn every_bad_setting_is_reported() {
        let defaults = defaults();
        assert_eq!(validate(&defaults, &defaults, false).unwrap().0, defaults);
        let mut bad = defaults.clone();
        bad["ffmpeg"]["transcode"] = json!("sometimes");
        bad["ffmpeg"]["acceptedVideoCodecs"] = json!(["h264", "mpeg2"]);
        bad["image"]["thumbnail"]["size"] = json!(1.5);
        bad["ffmpeg"]["crf"] = json!(52);
        bad["machineLearning"]["facialRecognition"]["minScore"] = json!(0.05);
        let found: Vec<(String, String)> = issues(&bad).iter().map(|i| (describe(i), i.code.to_string())).collect();
        let expected = [
            (
                r#"ffmpeg.acceptedVideoCodecs.1: Invalid option: expected one of "h264"|"hevc"|"vp9"|"av1""#,
                "invalid_value",
            ),
            (
                r#"ffmpeg.transcode: Invalid option: expected one of "all"|"optimal"|"bitrate"|"required"|"disabled""#,
                "invalid_value",
            ),
            (
                "image.thumbnail.size: Invalid input: expected int, received number",
                "invalid_type",
            ),
            ("ffmpeg.crf: Too big: expected number to be <=51", "too_big"),
            (
                "machineLearning.facialRecognition.minScore: Too small: expected number to be >=0.1",
                "too_small",
            ),
        ];
        let expected: Vec<(String, String)> = expected.iter().map(|(m, c)| (m.to_string(), c.to_string())).collect();
        assert_eq!(found, expected);
    }

    #[test]
    fn shapes_and_json_types_are_checked_first() {
        let mut bad = defaults();
        bad["ffmpeg"]["crf"] = json!("23");
        bad["trash"] = json!({"enabled": true});
        let found: Vec<String> = issues(&bad).iter().map(describe).collect();
        assert_eq!(
            found,
            [
                "ffmpeg.crf: Invalid input: expected number, received string",
                "trash.days: Invalid input: expected number, received undefined",
            ]
        );
    }

    /// The types hold every field: the defaults come back out unchanged, numbers as written.
    #[test]
    fn the_types_carry_the_whole_config() {
        let defaults = defaults();
        let mut changed = defaults.clone();
        changed["integrityChecks"]["checksumFiles"]["percentageLimit"] = json!(0.25);
        changed["oauth"]["defaultStorageQuota"] = json!(5);
        changed["machineLearning"]["facialRecognition"]["maxDistance"] = json!(1);
        let typed: SystemConfig = serde_json::from_value(changed.clone()).unwrap();
        assert_eq!(serde_json::to_value(&typed).unwrap(), changed);
    }

    #[test]
    fn the_optional_account_page_is_kept_when_given_and_urls_are_checked() {
        let mut candidate = defaults();
        candidate["oauth"]["accountManagementUrl"] = json!("https://sso.example.com/account");
        let (merged, typed) = validate(&candidate, &defaults(), false).unwrap();
        assert_eq!(
            merged["oauth"]["accountManagementUrl"],
            "https://sso.example.com/account"
        );
        assert_eq!(
            typed.oauth.account_management_url.as_deref(),
            Some("https://sso.example.com/account")
        );
        let (without, _) = validate(&defaults(), &defaults(), false).unwrap();
        assert!(
            without["oauth"].get("accountManagementUrl").is_none(),
            "Immich 3.0's config has none"
        );

        let mut bad = defaults();
        bad["oauth"]["issuerUrl"] = json!("not a url");
        bad["oauth"]["accountManagementUrl"] = json!("also not");
        let found: Vec<String> = issues(&bad).iter().map(describe).collect();
        assert_eq!(
            found,
            [
                "oauth.issuerUrl: Issuer URL must be an empty string or a valid URL",
                "oauth.accountManagementUrl: Account management URL must be an empty string or a valid URL",
            ]
        );
    }
}
