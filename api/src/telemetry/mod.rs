//! Prometheus metrics on Immich's telemetry ports and switches: the API's on
//! `IMMICH_API_METRICS_PORT` (8081), the workers' on `IMMICH_MICROSERVICES_METRICS_PORT` (8082),
//! for the groups `IMMICH_TELEMETRY_INCLUDE` (`all` or a list of `host`, `api`, `io`, `repo`,
//! `job`) names minus those `IMMICH_TELEMETRY_EXCLUDE` names. Nothing listens when no group is
//! on, as in Immich. Immich's metric names where Immich has the metric; `darkroom_*` for the rest.
//!
//! What belongs to this whole process (its database pool, machine-learning client, memory,
//! disk) is exported once: on the API's port when the process serves the API, else on the
//! workers'.

mod exporter;
mod instruments;

use std::collections::BTreeSet;

pub use exporter::serve;
pub use instruments::{JobOutcome, Metrics};

use crate::config::{ConfigError, EnvReader};

/// Immich's telemetry groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Group {
    /// Process memory and CPU, the media disk, the library's size.
    Host,
    /// HTTP requests, users, uploads, queues started by hand.
    Api,
    /// Requests to the machine-learning service and its availability.
    Io,
    /// The database connection pool.
    Repo,
    /// Jobs and queues.
    Job,
}

impl Group {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "host" => Group::Host,
            "api" => Group::Api,
            "io" => Group::Io,
            "repo" => Group::Repo,
            "job" => Group::Job,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelemetryConfig {
    pub groups: BTreeSet<Group>,
    pub api_port: u16,
    pub workers_port: u16,
}

impl TelemetryConfig {
    pub fn is_on(&self, group: Group) -> bool {
        self.groups.contains(&group)
    }

    /// Reads Immich's variables. As in Immich, an unknown name left after the exclusions stops
    /// the start; an unknown name only excluded does not.
    pub fn from_env(env: &EnvReader) -> Result<Self, ConfigError> {
        let list = |name: &str| -> Result<Vec<String>, ConfigError> {
            Ok(env
                .get(name)?
                .unwrap_or_default()
                .split(',')
                .map(|item| item.trim().to_ascii_lowercase())
                .filter(|item| !item.is_empty())
                .collect())
        };
        let mut included: BTreeSet<String> = BTreeSet::new();
        for name in list("IMMICH_TELEMETRY_INCLUDE")? {
            if name == "all" {
                included.extend(["host", "api", "io", "repo", "job"].map(String::from));
            } else {
                included.insert(name);
            }
        }
        for name in list("IMMICH_TELEMETRY_EXCLUDE")? {
            included.remove(&name);
        }
        let mut groups = BTreeSet::new();
        for name in included {
            let group = Group::parse(&name).ok_or_else(|| ConfigError::Invalid {
                name: "IMMICH_TELEMETRY_INCLUDE".into(),
                message: format!("Invalid telemetry found: {name}"),
            })?;
            groups.insert(group);
        }
        let port = |name: &str, default: u16| env.parse(name, default, |value| value.parse().ok(), "a port number");
        Ok(Self {
            groups,
            api_port: port("IMMICH_API_METRICS_PORT", 8081)?,
            workers_port: port("IMMICH_MICROSERVICES_METRICS_PORT", 8082)?,
        })
    }
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        Self {
            groups: BTreeSet::new(),
            api_port: 8081,
            workers_port: 8082,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(pairs: &[(&str, &str)]) -> Result<TelemetryConfig, ConfigError> {
        TelemetryConfig::from_env(&EnvReader::new(
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())),
        ))
    }

    #[test]
    fn telemetry_is_off_unless_included() {
        let config = read(&[]).unwrap();
        assert!(config.groups.is_empty());
        assert_eq!((config.api_port, config.workers_port), (8081, 8082));
    }

    #[test]
    fn all_minus_the_excluded_groups() {
        let config = read(&[
            ("IMMICH_TELEMETRY_INCLUDE", "all"),
            ("IMMICH_TELEMETRY_EXCLUDE", "host, repo,unknown"),
            ("IMMICH_API_METRICS_PORT", "9001"),
        ])
        .unwrap();
        assert_eq!(config.groups, BTreeSet::from([Group::Api, Group::Io, Group::Job]));
        assert_eq!(config.api_port, 9001);
    }

    #[test]
    fn an_unknown_group_stops_the_start() {
        let error = read(&[("IMMICH_TELEMETRY_INCLUDE", "api,jobs")]).unwrap_err();
        assert!(error.to_string().contains("Invalid telemetry found: jobs"), "{error}");
        assert!(read(&[("IMMICH_API_METRICS_PORT", "eighty")]).is_err());
    }
}
