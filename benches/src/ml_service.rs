//! The machine-learning services the benchmark talks to over HTTP: the release `darkroom-ml`,
//! and, when `IMMICH_ML_SOURCE` names a checkout of Immich's `machine-learning` folder, Immich's
//! own service (gunicorn + FastAPI) run from it with `IMMICH_ML_PYTHON`, so both answer the same
//! client the same requests; and where their binaries, threads and models come from.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::memory_kib;

pub const CLIP_MODEL: &str = "ViT-B-32__openai";
pub const FACE_MODEL: &str = "mtcnn__buffalo_l";
pub const OCR_MODEL: &str = "PP-OCRv5_mobile";

/// `from` as a tree of hard links under `to` (made again each time): the service clears a model's
/// folder when the model fails to load, which must not take the generated models with it.
fn link_tree(from: &Path, to: &Path) -> Result<()> {
    if to.exists() {
        std::fs::remove_dir_all(to)?;
    }
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            link_tree(&entry.path(), &target)?;
        } else {
            std::fs::hard_link(entry.path(), &target).or_else(|_| std::fs::copy(entry.path(), &target).map(|_| ()))?;
        }
    }
    Ok(())
}

/// A service on a port of its own, its log kept; killed on drop.
pub struct MlServer {
    pub name: &'static str,
    child: Child,
    url: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl MlServer {
    /// The release `darkroom-ml`, serving `cache`; `ttl` is (TTL, poll) in seconds, else never.
    pub fn start(cache: &Path, port: u16, ttl: Option<(u64, u64)>) -> Result<Self> {
        let binary = ml_binary();
        if !binary.is_file() {
            bail!(
                "{} is missing: cargo build --release -p darkroom-ml -p darkroom-benches (or set DARKROOM_ML)",
                binary.display()
            );
        }
        let mut command = Command::new(&binary);
        command
            .env("NO_COLOR", "1")
            .env("ORT_DYLIB_PATH", onnxruntime_library()?);
        Self::spawn("darkroom-ml", command, cache, port, ttl)
    }

    /// Immich's own service from `IMMICH_ML_SOURCE`, or `None` when it is not set.
    pub fn start_immich(cache: &Path, port: u16) -> Result<Option<Self>> {
        let Some(source) = std::env::var_os("IMMICH_ML_SOURCE").map(PathBuf::from) else {
            return Ok(None);
        };
        let python = std::env::var_os("IMMICH_ML_PYTHON").map_or_else(|| PathBuf::from("python3"), PathBuf::from);
        // Its `__main__` starts gunicorn as `python -m gunicorn`: the venv's python must come first.
        let path = match (python.parent(), std::env::var_os("PATH")) {
            (Some(bin), Some(path)) => {
                std::env::join_paths(std::iter::once(bin.to_path_buf()).chain(std::env::split_paths(&path)))?
            }
            (_, path) => path.unwrap_or_default(),
        };
        let mut command = Command::new(&python);
        command.args(["-m", "immich_ml"]).current_dir(&source).env("PATH", path);
        Self::spawn("Immich's machine learning", command, cache, port, None).map(Some)
    }

    /// Starts `command` with the service settings both read, on `port`, serving a linked copy of
    /// `cache`; waits until it answers `/ping`.
    fn spawn(
        name: &'static str,
        mut command: Command,
        cache: &Path,
        port: u16,
        ttl: Option<(u64, u64)>,
    ) -> Result<Self> {
        let served = cache.with_file_name(format!("served-cache-{port}"));
        link_tree(cache, &served)?;
        let (ttl, poll) = ttl.unwrap_or((0, 10));
        // Its own process group, so that the services' children (Immich's gunicorn, darkroom-ml's
        // inference worker) go with it.
        command.process_group(0);
        let mut child = command
            .env("IMMICH_HOST", "127.0.0.1")
            .env("IMMICH_PORT", port.to_string())
            .env("IMMICH_LOG_LEVEL", "info")
            .env("MACHINE_LEARNING_CACHE_FOLDER", &served)
            .env("MACHINE_LEARNING_MODEL_TTL", ttl.to_string())
            .env("MACHINE_LEARNING_MODEL_TTL_POLL_S", poll.to_string())
            .env("MACHINE_LEARNING_MODEL_INTRA_OP_THREADS", threads().to_string())
            .env("MACHINE_LEARNING_MODEL_INTER_OP_THREADS", "1")
            .env("HF_ENDPOINT", "http://127.0.0.1:9") // the cache is complete: nothing is fetched
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {name}"))?;
        let log = Arc::new(Mutex::new(Vec::new()));
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    log.lock().unwrap().push(line);
                }
            });
        }
        let mut server = Self {
            name,
            child,
            url: format!("http://127.0.0.1:{port}"),
            log,
        };
        server.wait_ready()?;
        Ok(server)
    }

    fn wait_ready(&mut self) -> Result<()> {
        let client = reqwest::blocking::Client::new();
        let started = Instant::now();
        loop {
            if let Ok(response) = client.get(format!("{}/ping", self.url)).send()
                && response.text().is_ok_and(|text| text == "pong")
            {
                return Ok(());
            }
            if let Some(status) = self.child.try_wait()? {
                bail!("{} exited ({status}):\n{}", self.name, self.log_text());
            }
            if started.elapsed() > Duration::from_secs(60) {
                bail!("{} did not answer /ping within 60 s:\n{}", self.name, self.log_text());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log_text(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    pub fn log_count(&self, needle: &str) -> usize {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|line| line.contains(needle))
            .count()
    }

    /// One `/predict` as Immich's server sends it; the answer's JSON.
    pub fn predict(
        &self,
        client: &reqwest::blocking::Client,
        entries: &Value,
        image: Option<&[u8]>,
        text: Option<&str>,
    ) -> Result<Value> {
        let mut form = reqwest::blocking::multipart::Form::new().text("entries", entries.to_string());
        if let Some(bytes) = image {
            form = form.part(
                "image",
                reqwest::blocking::multipart::Part::bytes(bytes.to_vec()).file_name("blob"),
            );
        }
        if let Some(text) = text {
            form = form.text("text", text.to_owned());
        }
        let response = client.post(format!("{}/predict", self.url)).multipart(form).send()?;
        let status = response.status();
        let body = response.text()?;
        if !status.is_success() {
            let failures: Vec<String> = self
                .log
                .lock()
                .unwrap()
                .iter()
                .filter(|line| line.contains("failed to load"))
                .cloned()
                .collect();
            bail!(
                "{} answered {status} to {entries}: {body}\n  its log: {}\n  (are the models merged into this branch?)",
                self.name,
                failures.join("\n  ")
            );
        }
        Ok(serde_json::from_str(&body)?)
    }
}

impl Drop for MlServer {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-s", "KILL", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn threads() -> usize {
    std::env::var("BENCH_ML_THREADS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2)
}

pub fn python() -> PathBuf {
    std::env::var_os("BENCH_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(".tools/ml/bin/python"))
}

/// `DARKROOM_ML`, else the `darkroom-ml` built beside this binary (same target folder and
/// profile).
pub fn ml_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("DARKROOM_ML") {
        return PathBuf::from(path);
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.join("darkroom-ml")))
        .unwrap_or_else(|| PathBuf::from("target/release/darkroom-ml"))
}

pub fn onnxruntime_library() -> Result<PathBuf> {
    let path = std::env::var_os("ORT_DYLIB_PATH")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(".tools/onnxruntime/libonnxruntime.so"));
    std::fs::canonicalize(&path)
        .with_context(|| format!("no ONNX Runtime library at {} (run ./scripts/setup)", path.display()))
}

/// Makes the part's models and the photos when missing; the folder that holds `cache/` and
/// `photos/`.
pub fn prepare(part: &str) -> Result<PathBuf> {
    let root = std::env::var_os("BENCH_ML_MODELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/ml-bench-models"));
    let output = Command::new(python())
        .args(["benches/ml/models.py".as_ref(), root.as_os_str(), part.as_ref()])
        .stderr(Stdio::inherit())
        .output()
        .context("running benches/ml/models.py with .tools/ml (run ./scripts/setup)")?;
    if !output.status.success() {
        bail!("benches/ml/models.py {part} failed");
    }
    let text = String::from_utf8(output.stdout)?;
    Ok(PathBuf::from(
        text.lines().last().context("models.py printed no folder")?.trim(),
    ))
}

/// The processes of the service: the front and, while it runs, its inference worker.
pub fn service_pids(front: u32) -> Vec<u32> {
    // Children are listed per thread: the worker is started from whichever thread ran the request.
    let threads = std::fs::read_dir(format!("/proc/{front}/task"))
        .into_iter()
        .flatten()
        .flatten();
    let children = threads
        .filter_map(|thread| std::fs::read_to_string(thread.path().join("children")).ok())
        .flat_map(|list| {
            list.split_whitespace()
                .filter_map(|pid| pid.parse().ok())
                .collect::<Vec<u32>>()
        });
    std::iter::once(front).chain(children).collect()
}

/// A `/proc/<pid>/status` field summed over the service's processes.
pub fn service_kib(front: u32, field: &str) -> Result<u64> {
    service_pids(front).into_iter().map(|pid| memory_kib(pid, field)).sum()
}
