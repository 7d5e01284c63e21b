//! The service's settings, from the environment Immich's machine-learning container reads:
//! `MACHINE_LEARNING_*` (case-insensitive, nested keys joined by `__`, as pydantic reads them)
//! and `IMMICH_HOST`, `IMMICH_PORT`, `IMMICH_LOG_LEVEL`, `NO_COLOR`. Settings for Arm NN, RKNN
//! and gunicorn's worker processes have no meaning here and are not read.

use std::collections::HashMap;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
#[error("{variable}={value:?} is not {expected}")]
pub struct SettingsError {
    pub variable: String,
    pub value: String,
    pub expected: &'static str,
}

/// Numeric precision of a GPU session (`MACHINE_LEARNING_OPENVINO_PRECISION`, `…_ROCM_PRECISION`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    Fp32,
    Fp16,
}

/// Models to load at start-up rather than on first use (`MACHINE_LEARNING_PRELOAD__…`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Preload {
    pub clip_textual: Option<String>,
    pub clip_visual: Option<String>,
    pub facial_recognition_detection: Option<String>,
    pub facial_recognition_recognition: Option<String>,
    pub ocr_detection: Option<String>,
    pub ocr_recognition: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub host: String,
    pub port: u16,
    /// `IMMICH_LOG_LEVEL` as given (`verbose`, `debug`, `log`, `warn`, `error`, …).
    pub log_level: String,
    pub no_color: bool,
    pub cache_folder: PathBuf,
    /// How long an unused model stays loaded; `None` keeps models loaded (a TTL of 0 or less).
    pub model_ttl: Option<Duration>,
    pub model_ttl_poll: Duration,
    /// How many requests run inference at once.
    pub request_threads: usize,
    /// ONNX Runtime's threads between and within operators (0: its own choice).
    pub inter_op_threads: usize,
    pub intra_op_threads: usize,
    /// ONNX Runtime's memory arena (faster, holds on to memory).
    pub model_arena: bool,
    pub preload: Preload,
    pub max_batch_size_facial_recognition: Option<usize>,
    pub max_batch_size_ocr: Option<usize>,
    pub openvino_precision: Precision,
    pub rocm_precision: Precision,
    /// The GPU to use (`MACHINE_LEARNING_DEVICE_ID`).
    pub device_id: String,
    /// How long a request may take before it is abandoned (`MACHINE_LEARNING_WORKER_TIMEOUT`;
    /// 900 s on ROCm, where compiling a model takes long, else 300 s).
    pub request_timeout: Duration,
    pub http_keepalive_timeout: Duration,
}

impl Settings {
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_vars(std::env::vars())
    }

    /// Settings from `(name, value)` pairs; names are matched without regard to case.
    pub fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> Result<Self, SettingsError> {
        let vars = Vars(
            vars.into_iter()
                .map(|(name, value)| (name.to_uppercase(), value))
                .collect(),
        );
        let ml = |name: &str| format!("MACHINE_LEARNING_{name}");
        let seconds = |name: &str, default: i64| vars.parse::<i64>(&ml(name), "a whole number of seconds", default);
        let timeout_default = if vars.get("DEVICE") == Some("rocm") { 900 } else { 300 };
        let cpus = std::thread::available_parallelism().map_or(4, usize::from);
        let ttl = seconds("MODEL_TTL", 300)?;
        Ok(Self {
            host: vars.get("IMMICH_HOST").unwrap_or("[::]").to_string(),
            port: vars.parse("IMMICH_PORT", "a port number", 3003)?,
            log_level: vars.get("IMMICH_LOG_LEVEL").unwrap_or("info").to_lowercase(),
            no_color: vars.flag("NO_COLOR", false)?,
            cache_folder: vars
                .get(&ml("CACHE_FOLDER"))
                .map_or_else(|| default_cache_folder(vars.get("HOME")), PathBuf::from),
            model_ttl: u64::try_from(ttl).ok().filter(|&s| s > 0).map(Duration::from_secs),
            model_ttl_poll: Duration::from_secs(seconds("MODEL_TTL_POLL_S", 10)?.max(1).unsigned_abs()),
            request_threads: vars.parse(&ml("REQUEST_THREADS"), "a number of threads", cpus)?.max(1),
            inter_op_threads: vars.parse(&ml("MODEL_INTER_OP_THREADS"), "a number of threads", 0)?,
            intra_op_threads: vars.parse(&ml("MODEL_INTRA_OP_THREADS"), "a number of threads", 0)?,
            model_arena: vars.flag(&ml("MODEL_ARENA"), true)?,
            preload: Preload {
                clip_textual: vars.name(&ml("PRELOAD__CLIP__TEXTUAL")),
                clip_visual: vars.name(&ml("PRELOAD__CLIP__VISUAL")),
                facial_recognition_detection: vars.name(&ml("PRELOAD__FACIAL_RECOGNITION__DETECTION")),
                facial_recognition_recognition: vars.name(&ml("PRELOAD__FACIAL_RECOGNITION__RECOGNITION")),
                ocr_detection: vars.name(&ml("PRELOAD__OCR__DETECTION")),
                ocr_recognition: vars.name(&ml("PRELOAD__OCR__RECOGNITION")),
            },
            max_batch_size_facial_recognition: vars.optional(&ml("MAX_BATCH_SIZE__FACIAL_RECOGNITION"))?,
            max_batch_size_ocr: vars.optional(&ml("MAX_BATCH_SIZE__OCR"))?,
            openvino_precision: vars.precision(&ml("OPENVINO_PRECISION"))?,
            rocm_precision: vars.precision(&ml("ROCM_PRECISION"))?,
            device_id: vars.get(&ml("DEVICE_ID")).unwrap_or("0").to_string(),
            request_timeout: Duration::from_secs(seconds("WORKER_TIMEOUT", timeout_default)?.max(1).unsigned_abs()),
            http_keepalive_timeout: Duration::from_secs(seconds("HTTP_KEEPALIVE_TIMEOUT_S", 2)?.max(0).unsigned_abs()),
        })
    }
}

/// `~/.cache/immich_ml`, Immich's default.
fn default_cache_folder(home: Option<&str>) -> PathBuf {
    PathBuf::from(home.unwrap_or("/")).join(".cache/immich_ml")
}

/// The environment, names upper-cased.
struct Vars(HashMap<String, String>);

impl Vars {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    fn invalid(&self, name: &str, expected: &'static str) -> SettingsError {
        SettingsError {
            variable: name.to_string(),
            value: self.get(name).unwrap_or_default().to_string(),
            expected,
        }
    }

    fn parse<T: FromStr>(&self, name: &str, expected: &'static str, default: T) -> Result<T, SettingsError> {
        match self.get(name).map(str::trim) {
            None | Some("") => Ok(default),
            Some(text) => text.parse().map_err(|_| self.invalid(name, expected)),
        }
    }

    fn optional<T: FromStr>(&self, name: &str) -> Result<Option<T>, SettingsError> {
        match self.get(name).map(str::trim) {
            None | Some("") => Ok(None),
            Some(text) => text.parse().map(Some).map_err(|_| self.invalid(name, "a whole number")),
        }
    }

    /// A model name, or none when unset or empty.
    fn name(&self, name: &str) -> Option<String> {
        self.get(name)
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_string)
    }

    /// A switch, spelt as pydantic accepts it.
    fn flag(&self, name: &str, default: bool) -> Result<bool, SettingsError> {
        match self.get(name).map(|v| v.trim().to_lowercase()).as_deref() {
            None | Some("") => Ok(default),
            Some("1" | "on" | "t" | "true" | "y" | "yes") => Ok(true),
            Some("0" | "off" | "f" | "false" | "n" | "no") => Ok(false),
            Some(_) => Err(self.invalid(name, "true or false")),
        }
    }

    fn precision(&self, name: &str) -> Result<Precision, SettingsError> {
        match self.get(name).map(|v| v.trim().to_uppercase()).as_deref() {
            None | Some("" | "FP32") => Ok(Precision::Fp32),
            Some("FP16") => Ok(Precision::Fp16),
            Some(_) => Err(self.invalid(name, "FP32 or FP16")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        Settings::from_vars(vars.iter().map(|(n, v)| (n.to_string(), v.to_string())))
    }

    #[test]
    fn immichs_defaults() {
        let s = settings(&[("HOME", "/home/immich")]).unwrap();
        assert_eq!((s.host.as_str(), s.port), ("[::]", 3003));
        assert_eq!(s.cache_folder, PathBuf::from("/home/immich/.cache/immich_ml"));
        assert_eq!(s.model_ttl, Some(Duration::from_secs(300)));
        assert_eq!(s.model_ttl_poll, Duration::from_secs(10));
        assert!(s.model_arena);
        assert_eq!(s.preload, Preload::default());
        assert_eq!((s.openvino_precision, s.device_id.as_str()), (Precision::Fp32, "0"));
        assert_eq!(s.request_timeout, Duration::from_secs(300));
    }

    #[test]
    fn the_container_environment_is_read_as_pydantic_reads_it() {
        let s = settings(&[
            ("machine_learning_cache_folder", "/cache"),
            ("MACHINE_LEARNING_MODEL_TTL", "0"),
            ("MACHINE_LEARNING_MODEL_ARENA", "False"),
            ("MACHINE_LEARNING_PRELOAD__CLIP__TEXTUAL", "ViT-B-32__openai"),
            ("MACHINE_LEARNING_PRELOAD__FACIAL_RECOGNITION__DETECTION", "buffalo_l"),
            ("MACHINE_LEARNING_MAX_BATCH_SIZE__FACIAL_RECOGNITION", "8"),
            ("MACHINE_LEARNING_ROCM_PRECISION", "fp16"),
            ("MACHINE_LEARNING_DEVICE_ID", "1"),
            ("DEVICE", "rocm"),
            ("IMMICH_PORT", "3004"),
            ("NO_COLOR", "1"),
        ])
        .unwrap();
        assert_eq!(s.cache_folder, PathBuf::from("/cache"));
        assert_eq!(s.model_ttl, None, "a TTL of 0 keeps models loaded");
        assert!(!s.model_arena);
        assert_eq!(s.preload.clip_textual.as_deref(), Some("ViT-B-32__openai"));
        assert_eq!(s.preload.facial_recognition_detection.as_deref(), Some("buffalo_l"));
        assert_eq!(s.max_batch_size_facial_recognition, Some(8));
        assert_eq!(s.rocm_precision, Precision::Fp16);
        assert_eq!((s.device_id.as_str(), s.port, s.no_color), ("1", 3004, true));
        assert_eq!(s.request_timeout, Duration::from_secs(900), "ROCm's longer default");
    }

    #[test]
    fn a_malformed_value_names_its_variable() {
        let error = settings(&[("MACHINE_LEARNING_MODEL_TTL", "five minutes")]).unwrap_err();
        assert_eq!(
            error.to_string(),
            r#"MACHINE_LEARNING_MODEL_TTL="five minutes" is not a whole number of seconds"#
        );
        assert!(settings(&[("IMMICH_PORT", "70000")]).is_err());
        assert!(settings(&[("MACHINE_LEARNING_OPENVINO_PRECISION", "INT8")]).is_err());
    }
}
