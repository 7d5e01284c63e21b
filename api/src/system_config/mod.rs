//! The system configuration: Immich's defaults, overlaid with what the admin saved (stored in
//! `system_metadata` under `system-config`, only the differences) or with `IMMICH_CONFIG_FILE`,
//! which makes the configuration read-only.

use std::path::Path;
use std::sync::LazyLock;

use darkroom_storage::{PgPool, system_metadata};
use serde_json::{Value, json};
use thiserror::Error;

use crate::config::Config;
use crate::error::{ApiError, ApiResult, Context, ValidationIssue};
use crate::settings_tree::{self, LeafRule};

pub mod sections;
pub mod storage_template;

pub use sections::SystemConfig;

const STORAGE_KEY: &str = "system-config";

static DEFAULTS: LazyLock<Value> =
    LazyLock::new(|| serde_json::from_str(include_str!("defaults.json")).unwrap_or_else(|_| json!({})));

/// Enum, integer and range rules for each leaf, from Immich's `SystemConfigDto` schema.
static CONSTRAINTS: LazyLock<Value> =
    LazyLock::new(|| serde_json::from_str(include_str!("constraints.json")).unwrap_or_else(|_| json!({})));

#[derive(Debug, Error)]
pub enum ConfigFileError {
    #[error("IMMICH_CONFIG_FILE: cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("IMMICH_CONFIG_FILE: {path} is neither valid JSON nor YAML: {message}")]
    Parse { path: String, message: String },
    #[error("IMMICH_CONFIG_FILE: {path} is invalid: {message}")]
    Invalid { path: String, message: String },
}

pub struct SystemConfigStore {
    defaults: Value,
    /// The merged configuration from `IMMICH_CONFIG_FILE`, when one is used.
    from_file: Option<Value>,
}

impl SystemConfigStore {
    pub fn new(config: &Config) -> Result<Self, ConfigFileError> {
        let mut defaults = DEFAULTS.clone();
        // The ML defaults follow the environment, as in Immich.
        defaults["machineLearning"]["urls"] = json!([config.machine_learning_url]);
        defaults["machineLearning"]["enabled"] = json!(config.machine_learning_enabled);
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
        Ok(settings_tree::merge(&self.defaults, &stored))
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
        let issues = validate(candidate, &self.defaults, false);
        if !issues.is_empty() {
            return Err(ApiError::Validation(issues));
        }
        let merged = settings_tree::merge(&self.defaults, candidate);
        if let Some(template) = merged.pointer("/storageTemplate/template").and_then(Value::as_str) {
            storage_template::check(template)
                .map_err(|reason| ApiError::bad_request(format!("Invalid storage template: {reason}")))?;
        }
        system_metadata::set(db, STORAGE_KEY, &settings_tree::diff(&merged, &self.defaults)).await?;
        Ok(merged)
    }
}

fn leaf_rule(path: &str) -> LeafRule {
    let Some(c) = CONSTRAINTS.get(path) else {
        return LeafRule::default();
    };
    let strings = |v: Option<&Value>| {
        v.and_then(Value::as_array).map(|a| {
            a.iter()
                .map(|s| s.as_str().map_or_else(|| s.to_string(), str::to_string))
                .collect()
        })
    };
    LeafRule {
        one_of: strings(c.get("enum")),
        items_one_of: strings(c.get("items").and_then(|i| i.get("enum"))),
        integer: c.get("type").and_then(Value::as_str) == Some("integer"),
        minimum: c.get("minimum").and_then(Value::as_f64),
        maximum: c.get("maximum").and_then(Value::as_f64),
        nullable: c.get("nullable").and_then(Value::as_bool).unwrap_or(false),
    }
}

fn validate(candidate: &Value, defaults: &Value, partial: bool) -> Vec<ValidationIssue> {
    let mut issues = Vec::new();
    settings_tree::check(candidate, defaults, partial, &leaf_rule, &mut Vec::new(), &mut issues);
    issues
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
    let issues = validate(&parsed, defaults, true);
    if let Some(first) = issues.first() {
        let at: Vec<String> = first
            .path
            .iter()
            .map(|p| p.as_str().map_or_else(|| p.to_string(), str::to_string))
            .collect();
        return Err(ConfigFileError::Invalid {
            path: shown,
            message: format!("{}: {}", at.join("."), first.message),
        });
    }
    Ok(settings_tree::merge(defaults, &parsed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_constraints_describe_the_same_leaves() {
        let defaults = DEFAULTS.clone();
        assert!(defaults.get("ffmpeg").is_some());
        let issues = validate(&defaults, &defaults, false);
        assert!(issues.is_empty(), "{issues:?}");
        let mut bad = defaults.clone();
        bad["ffmpeg"]["transcode"] = json!("sometimes");
        bad["image"]["thumbnail"]["size"] = json!(1.5);
        let issues = validate(&bad, &defaults, false);
        assert_eq!(issues.len(), 2, "{issues:?}");
    }

    /// The types hold every field: Immich's defaults come back out unchanged, numbers as written.
    #[test]
    fn the_types_carry_the_whole_config() {
        let defaults = DEFAULTS.clone();
        let typed: SystemConfig = serde_json::from_value(defaults.clone()).unwrap();
        assert_eq!(serde_json::to_value(&typed).unwrap(), defaults);
        let mut changed = defaults.clone();
        changed["integrityChecks"]["checksumFiles"]["percentageLimit"] = json!(0.25);
        changed["oauth"]["defaultStorageQuota"] = json!(5);
        let typed: SystemConfig = serde_json::from_value(changed.clone()).unwrap();
        assert_eq!(serde_json::to_value(&typed).unwrap(), changed);
    }
}
