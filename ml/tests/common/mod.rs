//! What darkroom-ml's integration tests share: the Python environment `scripts/setup` makes
//! (`.tools/ml`), the ONNX Runtime library from its onnxruntime wheel, and a runtime on it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use darkroom_ml::runtime::Runtime;
use darkroom_ml::settings::Settings;

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The Python of `.tools/ml`, with onnx, numpy, Pillow, OpenCV and the packages carrying real
/// models and photos.
pub fn python() -> PathBuf {
    let python = repo_root().join(".tools/ml/bin/python");
    assert!(python.is_file(), "{} is missing: run scripts/setup", python.display());
    python
}

/// Runs a Python script of `ml/tests/support` with arguments; panics with its output on failure.
pub fn run_python(script: &str, args: &[&str]) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support").join(script);
    let output = Command::new(python())
        .arg(&path)
        .args(args)
        .output()
        .unwrap_or_else(|error| panic!("running {}: {error}", path.display()));
    assert!(
        output.status.success(),
        "{} {args:?} failed:\n{}\n{}",
        path.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The ONNX Runtime library: `ORT_DYLIB_PATH` when set, else the one `scripts/setup` links.
pub fn onnxruntime_library() -> PathBuf {
    if let Some(path) = std::env::var_os("ORT_DYLIB_PATH") {
        return PathBuf::from(path);
    }
    let library = repo_root().join(".tools/onnxruntime/libonnxruntime.so");
    assert!(library.exists(), "{} is missing: run scripts/setup", library.display());
    library
}

/// Settings as the service reads them from an empty environment, with the cache at `cache`.
pub fn settings(cache: &Path) -> Settings {
    let mut settings = Settings::from_vars(Vec::<(String, String)>::new()).unwrap_or_else(|error| panic!("{error}"));
    settings.cache_folder = cache.to_path_buf();
    settings
}

/// A runtime on the setup's ONNX Runtime library (CPU).
pub fn runtime(settings: &Settings) -> Runtime {
    Runtime::init_from(&onnxruntime_library(), settings).unwrap_or_else(|error| panic!("{error}"))
}

/// A `darkroom-ml` process on a free port, stopped when dropped.
pub struct MlService {
    child: std::process::Child,
    pub url: String,
    pub log: PathBuf,
}

impl MlService {
    /// Starts the binary with the cache at `cache` and extra environment variables, and waits
    /// until it answers `/ping`.
    pub fn start(cache: &Path, env: &[(&str, &str)]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map(|address| address.port())
            .unwrap_or_else(|error| panic!("finding a free port: {error}"));
        let log = cache.join(format!("darkroom-ml-{port}.log"));
        let log_file = std::fs::File::create(&log).unwrap_or_else(|error| panic!("{error}"));
        let stderr = log_file.try_clone().unwrap_or_else(|error| panic!("{error}"));
        let child = Command::new(env!("CARGO_BIN_EXE_darkroom-ml"))
            .env("IMMICH_HOST", "127.0.0.1")
            .env("IMMICH_PORT", port.to_string())
            .env("MACHINE_LEARNING_CACHE_FOLDER", cache)
            .env("ORT_DYLIB_PATH", onnxruntime_library())
            .env("NO_COLOR", "1")
            .envs(env.iter().copied())
            .stdout(log_file)
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|error| panic!("starting darkroom-ml: {error}"));
        let service = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log,
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while std::time::Instant::now() < deadline {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return service;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("darkroom-ml did not start:\n{}", service.log_text());
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The resident memory of the process, in kibibytes.
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for MlService {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
