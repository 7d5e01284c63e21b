//! Start-up configuration from Immich's environment variables.
//!
//! Every variable may instead be given as `<NAME>_FILE`, a path whose contents are the value
//! (podman/docker secrets). Secrets are wrapped in [`Secret`] so they never reach logs.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use darkroom_storage::VectorExtension;
use ipnet::IpNet;
use thiserror::Error;

/// A value that must not be printed: `Debug` and `Display` show `***`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("{name}: {message}")]
    Invalid { name: String, message: String },
    #[error("{name} and {name}_FILE are both set; set only one")]
    Ambiguous { name: String },
    #[error("{name}_FILE: cannot read {path}: {source}")]
    SecretFile {
        name: String,
        path: String,
        source: std::io::Error,
    },
}

/// Immich's (NestJS's) log levels: `IMMICH_LOG_LEVEL` and the system config's `logging.level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Verbose,
    Debug,
    Log,
    Warn,
    Error,
    Fatal,
}

impl LogLevel {
    /// The `tracing` level Immich's level maps to.
    pub fn as_filter(self) -> &'static str {
        match self {
            Self::Verbose => "trace",
            Self::Debug => "debug",
            Self::Log => "info",
            Self::Warn => "warn",
            Self::Error | Self::Fatal => "error",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Some(match value.trim().to_ascii_lowercase().as_str() {
            "verbose" => Self::Verbose,
            "debug" => Self::Debug,
            "log" => Self::Log,
            "warn" => Self::Warn,
            "error" => Self::Error,
            "fatal" => Self::Fatal,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Console,
    Json,
}

#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    /// `DB_URL`; when set it wins over the parts.
    pub url: Option<Secret>,
    pub hostname: String,
    pub port: u16,
    pub username: String,
    pub password: Secret,
    pub database_name: String,
    pub ssl_mode: Option<String>,
    pub vector_extension: Option<VectorExtension>,
    pub skip_migrations: bool,
}

impl DatabaseConfig {
    pub fn connect_options(&self) -> Result<darkroom_storage::PgConnectOptions, ConfigError> {
        use darkroom_storage::{PgConnectOptions, PgSslMode};
        let mut options = match &self.url {
            Some(url) => url
                .expose()
                .parse::<PgConnectOptions>()
                .map_err(|e| ConfigError::Invalid {
                    name: "DB_URL".into(),
                    message: format!("not a valid PostgreSQL URL ({})", redact_url_error(&e.to_string(), url)),
                })?,
            None => PgConnectOptions::new()
                .host(&self.hostname)
                .port(self.port)
                .username(&self.username)
                .password(self.password.expose())
                .database(&self.database_name),
        };
        if let Some(mode) = &self.ssl_mode {
            let mode = mode.parse::<PgSslMode>().map_err(|_| ConfigError::Invalid {
                name: "DB_SSL_MODE".into(),
                message: format!("unknown mode `{mode}`"),
            })?;
            options = options.ssl_mode(mode);
        }
        Ok(options.application_name(&Self::application_name()))
    }

    /// How this process's connections name themselves in `pg_stat_activity`: a restore ends
    /// every other connection to the database but its own.
    pub fn application_name() -> String {
        format!("darkroom-{}", std::process::id())
    }

    /// `host:port` for messages (never the password).
    pub fn describe_target(&self) -> String {
        match &self.url {
            Some(url) => match url.expose().parse::<darkroom_storage::PgConnectOptions>() {
                Ok(o) => format!("{}:{}", o.get_host(), o.get_port()),
                Err(_) => "DB_URL".to_string(),
            },
            None => format!("{}:{}", self.hostname, self.port),
        }
    }
}

fn redact_url_error(message: &str, url: &Secret) -> String {
    message.replace(url.expose(), "***")
}

#[derive(Debug, Clone)]
pub struct RedisConfig {
    pub url: Option<Secret>,
    pub hostname: String,
    pub port: u16,
    pub db_index: u32,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub socket: Option<String>,
    /// Every queue key starts with this (`DARKROOM_REDIS_PREFIX`, default `darkroom`), so a Redis
    /// shared with other programs — or with Immich's own queues — is not disturbed.
    pub key_prefix: String,
}

impl RedisConfig {
    /// `REDIS_URL`, or a URL built from the parts (a socket when `REDIS_SOCKET` is set).
    pub fn connection_url(&self) -> String {
        if let Some(url) = &self.url {
            return url.expose().to_string();
        }
        let auth = match (&self.username, &self.password) {
            (user, Some(password)) => format!("{}:{}@", user.as_deref().unwrap_or(""), password.expose()),
            (Some(user), None) => format!("{user}@"),
            (None, None) => String::new(),
        };
        match &self.socket {
            Some(socket) => format!("redis+unix://{auth}{socket}?db={}", self.db_index),
            None => format!("redis://{auth}{}:{}/{}", self.hostname, self.port, self.db_index),
        }
    }

    /// Where Redis is, for messages (no credentials).
    pub fn describe_target(&self) -> String {
        match (&self.url, &self.socket) {
            (Some(_), _) => "REDIS_URL".to_string(),
            (None, Some(socket)) => socket.clone(),
            (None, None) => format!("{}:{}", self.hostname, self.port),
        }
    }
}

/// `/server/about` build information (`IMMICH_BUILD*`, `IMMICH_SOURCE*`, `IMMICH_REPOSITORY*`, …).
#[derive(Debug, Clone, Default)]
pub struct BuildInfo {
    pub build: Option<String>,
    pub build_url: Option<String>,
    pub build_image: Option<String>,
    pub build_image_url: Option<String>,
    pub repository: Option<String>,
    pub repository_url: Option<String>,
    pub source_ref: Option<String>,
    pub source_commit: Option<String>,
    pub source_url: Option<String>,
    pub third_party_source_url: Option<String>,
    pub third_party_bug_feature_url: Option<String>,
    pub third_party_documentation_url: Option<String>,
    pub third_party_support_url: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub host: Option<IpAddr>,
    pub port: u16,
    pub media_location: PathBuf,
    pub config_file: Option<PathBuf>,
    pub log_level: LogLevel,
    pub log_format: LogFormat,
    pub trusted_proxies: Vec<IpNet>,
    pub allow_setup: bool,
    pub ignore_mount_check_errors: bool,
    pub build_data: PathBuf,
    pub machine_learning_url: String,
    pub machine_learning_enabled: bool,
    pub workers_api: bool,
    pub workers_microservices: bool,
    pub environment: String,
    pub database: DatabaseConfig,
    pub redis: RedisConfig,
    /// A job untouched this long is taken over by another worker (its worker died).
    pub job_reclaim_after: Duration,
    /// Images with more pixels are refused before decoding (`DARKROOM_MAX_IMAGE_PIXELS`).
    pub max_image_pixels: u64,
    /// ffmpeg, heif-convert and exiftool get this long per file (`DARKROOM_MEDIA_TOOL_TIMEOUT_SECONDS`).
    pub media_tool_timeout: Duration,
    pub build_info: BuildInfo,
    /// Which metrics are exported, and on which ports.
    pub telemetry: crate::telemetry::TelemetryConfig,
    /// How long start-up keeps retrying an unreachable database.
    pub database_wait: Duration,
    /// When an address's failed logins make it wait.
    pub login_limits: crate::auth::limiter::LoginLimits,
    /// Sign-in vouched for by a forward-auth proxy (Authelia, TinyAuth).
    pub forward_auth: crate::auth::forward::ForwardAuthConfig,
    /// `DARKROOM_OAUTH_CLIENT_ID`/`_SECRET` (or their `_FILE`s): the OpenID client's credentials,
    /// in place of `oauth.clientId`/`clientSecret` of the system config.
    pub oauth_client: crate::oauth::ClientOverride,
}

/// Reads variables (and their `_FILE` twins) from a snapshot of the environment.
pub struct EnvReader {
    vars: HashMap<String, String>,
}

impl EnvReader {
    pub fn new(vars: impl IntoIterator<Item = (String, String)>) -> Self {
        Self {
            vars: vars.into_iter().collect(),
        }
    }

    pub fn get(&self, name: &str) -> Result<Option<String>, ConfigError> {
        let direct = self.vars.get(name).filter(|v| !v.is_empty());
        let file_name = format!("{name}_FILE");
        let file = self.vars.get(&file_name).filter(|v| !v.is_empty());
        match (direct, file) {
            (Some(_), Some(_)) => Err(ConfigError::Ambiguous { name: name.into() }),
            (Some(value), None) => Ok(Some(value.clone())),
            (None, Some(path)) => std::fs::read_to_string(path)
                .map(|contents| Some(contents.trim_end_matches(['\r', '\n']).to_string()))
                .map_err(|source| ConfigError::SecretFile {
                    name: name.into(),
                    path: path.clone(),
                    source,
                }),
            (None, None) => Ok(None),
        }
    }

    pub(crate) fn parse<T>(
        &self,
        name: &str,
        default: T,
        parse: impl Fn(&str) -> Option<T>,
        expected: &str,
    ) -> Result<T, ConfigError> {
        match self.get(name)? {
            None => Ok(default),
            Some(value) => parse(&value).ok_or_else(|| ConfigError::Invalid {
                name: name.into(),
                message: format!("expected {expected}, got `{value}`"),
            }),
        }
    }

    pub(crate) fn boolean(&self, name: &str, default: bool) -> Result<bool, ConfigError> {
        self.parse(name, default, parse_bool, "true or false")
    }
}

fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// Immich's `IMMICH_TRUSTED_PROXIES`: IPs, CIDRs and the names `loopback`, `linklocal`, `uniquelocal`.
pub fn parse_trusted_proxies(value: &str) -> Option<Vec<IpNet>> {
    let mut nets = Vec::new();
    for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let named: &[&str] = match item {
            "loopback" => &["127.0.0.0/8", "::1/128"],
            "linklocal" => &["169.254.0.0/16", "fe80::/10"],
            "uniquelocal" => &["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"],
            _ => &[],
        };
        if named.is_empty() {
            let net = item
                .parse::<IpNet>()
                .ok()
                .or_else(|| item.parse::<IpAddr>().ok().map(IpNet::from))?;
            nets.push(net);
        } else {
            nets.extend(named.iter().filter_map(|n| n.parse::<IpNet>().ok()));
        }
    }
    Some(nets)
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_reader(&EnvReader::new(std::env::vars()))
    }

    pub fn from_reader(env: &EnvReader) -> Result<Self, ConfigError> {
        let media_location = match env.get("IMMICH_MEDIA_LOCATION")? {
            Some(path) => PathBuf::from(path),
            None => default_media_location(),
        };
        let (workers_api, workers_microservices) = workers(env)?;
        let log_format = match env
            .get("IMMICH_LOG_FORMAT")?
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("console") => LogFormat::Console,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "IMMICH_LOG_FORMAT".into(),
                    message: format!("expected console or json, got `{other}`"),
                });
            }
        };
        let optional = |name: &str| env.get(name);
        Ok(Self {
            host: env.parse("IMMICH_HOST", None, |v| v.parse().ok().map(Some), "an IP address")?,
            port: env.parse("IMMICH_PORT", 2283, |v| v.parse().ok(), "a port number")?,
            media_location,
            config_file: env.get("IMMICH_CONFIG_FILE")?.map(PathBuf::from),
            log_level: env.parse(
                "IMMICH_LOG_LEVEL",
                LogLevel::Log,
                LogLevel::parse,
                "verbose, debug, log, warn, error or fatal",
            )?,
            log_format,
            trusted_proxies: env.parse(
                "IMMICH_TRUSTED_PROXIES",
                parse_trusted_proxies("linklocal,uniquelocal").unwrap_or_default(),
                parse_trusted_proxies,
                "a comma-separated list of IPs, CIDRs, loopback, linklocal or uniquelocal",
            )?,
            allow_setup: env.boolean("IMMICH_ALLOW_SETUP", true)?,
            ignore_mount_check_errors: env.boolean("IMMICH_IGNORE_MOUNT_CHECK_ERRORS", false)?,
            build_data: PathBuf::from(env.get("IMMICH_BUILD_DATA")?.unwrap_or_else(|| "/build".into())),
            machine_learning_url: env
                .get("IMMICH_MACHINE_LEARNING_URL")?
                .unwrap_or_else(|| "http://immich-machine-learning:3003".into()),
            machine_learning_enabled: env.boolean("IMMICH_MACHINE_LEARNING_ENABLED", true)?,
            workers_api,
            workers_microservices,
            environment: env.get("IMMICH_ENV")?.unwrap_or_else(|| "production".into()),
            database: DatabaseConfig {
                url: env.get("DB_URL")?.map(Secret::new),
                hostname: env.get("DB_HOSTNAME")?.unwrap_or_else(|| "database".into()),
                port: env.parse("DB_PORT", 5432, |v| v.parse().ok(), "a port number")?,
                username: env.get("DB_USERNAME")?.unwrap_or_else(|| "postgres".into()),
                password: Secret::new(env.get("DB_PASSWORD")?.unwrap_or_else(|| "postgres".into())),
                database_name: env.get("DB_DATABASE_NAME")?.unwrap_or_else(|| "immich".into()),
                ssl_mode: env.get("DB_SSL_MODE")?,
                vector_extension: env.parse(
                    "DB_VECTOR_EXTENSION",
                    None,
                    |v| VectorExtension::parse(v).map(Some),
                    "pgvector or vectorchord",
                )?,
                skip_migrations: env.boolean("DB_SKIP_MIGRATIONS", false)?,
            },
            redis: RedisConfig {
                url: env.get("REDIS_URL")?.map(Secret::new),
                hostname: env.get("REDIS_HOSTNAME")?.unwrap_or_else(|| "redis".into()),
                port: env.parse("REDIS_PORT", 6379, |v| v.parse().ok(), "a port number")?,
                db_index: env.parse("REDIS_DBINDEX", 0, |v| v.parse().ok(), "a database number")?,
                username: env.get("REDIS_USERNAME")?,
                password: env.get("REDIS_PASSWORD")?.map(Secret::new),
                socket: env.get("REDIS_SOCKET")?,
                key_prefix: env.get("DARKROOM_REDIS_PREFIX")?.unwrap_or_else(|| "darkroom".into()),
            },
            job_reclaim_after: Duration::from_secs(env.parse(
                "DARKROOM_JOB_RECLAIM_SECONDS",
                30,
                |v| v.parse().ok(),
                "seconds",
            )?),
            max_image_pixels: env.parse(
                "DARKROOM_MAX_IMAGE_PIXELS",
                200_000_000,
                |v| v.parse().ok(),
                "a number of pixels",
            )?,
            media_tool_timeout: Duration::from_secs(env.parse(
                "DARKROOM_MEDIA_TOOL_TIMEOUT_SECONDS",
                60,
                |v| v.parse().ok(),
                "seconds",
            )?),
            telemetry: crate::telemetry::TelemetryConfig::from_env(env)?,
            login_limits: login_limits(env)?,
            forward_auth: crate::auth::forward::ForwardAuthConfig::from_env(env)?,
            oauth_client: crate::oauth::ClientOverride {
                client_id: env.get("DARKROOM_OAUTH_CLIENT_ID")?,
                client_secret: env.get("DARKROOM_OAUTH_CLIENT_SECRET")?,
            },
            build_info: BuildInfo {
                build: optional("IMMICH_BUILD")?,
                build_url: optional("IMMICH_BUILD_URL")?,
                build_image: optional("IMMICH_BUILD_IMAGE")?,
                build_image_url: optional("IMMICH_BUILD_IMAGE_URL")?,
                repository: optional("IMMICH_REPOSITORY")?,
                repository_url: optional("IMMICH_REPOSITORY_URL")?,
                source_ref: optional("IMMICH_SOURCE_REF")?,
                source_commit: optional("IMMICH_SOURCE_COMMIT")?,
                source_url: optional("IMMICH_SOURCE_URL")?,
                third_party_source_url: optional("IMMICH_THIRD_PARTY_SOURCE_URL")?,
                third_party_bug_feature_url: optional("IMMICH_THIRD_PARTY_BUG_FEATURE_URL")?,
                third_party_documentation_url: optional("IMMICH_THIRD_PARTY_DOCUMENTATION_URL")?,
                third_party_support_url: optional("IMMICH_THIRD_PARTY_SUPPORT_URL")?,
            },
            database_wait: Duration::from_secs(env.parse(
                "DARKROOM_DB_WAIT_SECONDS",
                300,
                |v| v.parse().ok(),
                "seconds",
            )?),
        })
    }

    /// Where the official web build would be (`$IMMICH_BUILD_DATA/www`).
    pub fn web_root(&self) -> PathBuf {
        self.build_data.join("www")
    }
}

fn login_limits(env: &EnvReader) -> Result<crate::auth::limiter::LoginLimits, ConfigError> {
    let defaults = crate::auth::limiter::LoginLimits::default();
    let count = |v: &str| v.parse().ok().filter(|n| *n > 0);
    Ok(crate::auth::limiter::LoginLimits {
        per_address: env.parse(
            "DARKROOM_LOGIN_FAILURES_PER_ADDRESS",
            defaults.per_address,
            count,
            "a number above 0",
        )?,
        per_account_and_address: env.parse(
            "DARKROOM_LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS",
            defaults.per_account_and_address,
            count,
            "a number above 0",
        )?,
        window: Duration::from_secs(env.parse(
            "DARKROOM_LOGIN_FAILURE_WINDOW_SECONDS",
            defaults.window.as_secs(),
            |v| v.parse().ok().filter(|n| *n > 0),
            "seconds above 0",
        )?),
    })
}

/// Immich's rule: if exactly one of the two container paths exists use it, else the legacy one.
fn default_media_location() -> PathBuf {
    let candidates = ["/data", "/usr/src/app/upload"];
    let existing: Vec<_> = candidates.iter().filter(|p| std::path::Path::new(p).exists()).collect();
    match existing.as_slice() {
        [only] => PathBuf::from(only),
        _ => PathBuf::from("/usr/src/app/upload"),
    }
}

fn workers(env: &EnvReader) -> Result<(bool, bool), ConfigError> {
    let list = |name: &str| -> Result<Option<Vec<String>>, ConfigError> {
        let Some(value) = env.get(name)? else { return Ok(None) };
        let items: Vec<String> = value
            .split(',')
            .map(|s| s.trim().to_ascii_lowercase())
            .filter(|s| !s.is_empty())
            .collect();
        if let Some(bad) = items.iter().find(|w| *w != "api" && *w != "microservices") {
            return Err(ConfigError::Invalid {
                name: name.into(),
                message: format!("unknown worker `{bad}` (api, microservices)"),
            });
        }
        Ok(Some(items))
    };
    let include = list("IMMICH_WORKERS_INCLUDE")?.unwrap_or_else(|| vec!["api".into(), "microservices".into()]);
    let exclude = list("IMMICH_WORKERS_EXCLUDE")?.unwrap_or_default();
    let enabled = |w: &str| include.iter().any(|i| i == w) && !exclude.iter().any(|e| e == w);
    Ok((enabled("api"), enabled("microservices")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(pairs: &[(&str, &str)]) -> EnvReader {
        EnvReader::new(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn defaults_match_immich() {
        let config = Config::from_reader(&reader(&[("IMMICH_MEDIA_LOCATION", "/tmp/m")])).unwrap();
        assert_eq!(config.port, 2283);
        assert_eq!(config.database.hostname, "database");
        assert_eq!(config.database.database_name, "immich");
        assert_eq!(config.redis.port, 6379);
        assert!(config.allow_setup && config.workers_api && config.workers_microservices);
        assert_eq!(config.log_level, LogLevel::Log);
    }

    #[test]
    fn secrets_come_from_files_and_never_print() {
        let dir = std::env::temp_dir().join(format!("darkroom-secret-{}", std::process::id()));
        std::fs::write(&dir, "s3cret\n").unwrap();
        let env = reader(&[("DB_PASSWORD_FILE", dir.to_str().unwrap())]);
        let config = Config::from_reader(&env).unwrap();
        std::fs::remove_file(&dir).unwrap();
        assert_eq!(config.database.password.expose(), "s3cret");
        assert!(!format!("{config:?}").contains("s3cret"));
        let both = reader(&[("DB_PASSWORD", "a"), ("DB_PASSWORD_FILE", "/x")]);
        assert!(matches!(Config::from_reader(&both), Err(ConfigError::Ambiguous { .. })));
    }

    #[test]
    fn bad_values_are_named() {
        let error = Config::from_reader(&reader(&[("IMMICH_PORT", "http")])).unwrap_err();
        assert_eq!(error.to_string(), "IMMICH_PORT: expected a port number, got `http`");
        let error = Config::from_reader(&reader(&[("IMMICH_WORKERS_INCLUDE", "api,web")])).unwrap_err();
        assert!(error.to_string().contains("unknown worker `web`"));
    }

    #[test]
    fn trusted_proxy_names_expand() {
        let nets = parse_trusted_proxies("loopback, 203.0.113.7").unwrap();
        assert!(nets.iter().any(|n| n.contains(&"127.0.0.1".parse::<IpAddr>().unwrap())));
        assert!(
            nets.iter()
                .any(|n| n.contains(&"203.0.113.7".parse::<IpAddr>().unwrap()))
        );
        assert!(parse_trusted_proxies("not-an-ip").is_none());
    }
}
