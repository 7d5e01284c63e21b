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
