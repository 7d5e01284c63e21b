//! ONNX Runtime: the library loaded once at start (`ORT_DYLIB_PATH`), the execution providers it
//! offers, and sessions that run a model on the best of them, falling back to the CPU when a GPU
//! provider does not start.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use ndarray::{ArrayD, ArrayViewD};
use ort::environment::Environment;
use ort::ep::{self, ExecutionProvider as _, ExecutionProviderDispatch};
use ort::session::Session as OrtSession;
use ort::value::{Outlet, TensorRef};

use crate::error::{MlError, Result, RuntimeContext as _};
use crate::settings::{Precision, Settings};

/// The execution providers Darkroom uses, in Immich's order of preference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    Cuda,
    MiGraphX,
    /// The ROCm provider of onnxruntime builds before MIGraphX replaced it.
    Rocm,
    OpenVino,
    Cpu,
}

impl Provider {
    pub const PREFERENCE: [Provider; 5] = [
        Provider::Cuda,
        Provider::MiGraphX,
        Provider::Rocm,
        Provider::OpenVino,
        Provider::Cpu,
    ];

    /// ONNX Runtime's name for it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Cuda => ep::CUDA::NAME,
            Self::MiGraphX => ep::MIGraphX::NAME,
            Self::Rocm => ep::ROCm::NAME,
            Self::OpenVino => ep::OpenVINO::NAME,
            Self::Cpu => ep::CPU::NAME,
        }
    }

    fn is_available(self) -> bool {
        let available = match self {
            Self::Cuda => ep::CUDA::is_available(),
            Self::MiGraphX => ep::MIGraphX::is_available(),
            Self::Rocm => ep::ROCm::is_available(),
            Self::OpenVino => ep::OpenVINO::is_available(),
            Self::Cpu => return true,
        };
        available.unwrap_or(false)
    }
}

/// How sessions are made: the providers the loaded library offers and Immich's session options.
#[derive(Clone)]
pub struct Runtime {
    environment: Environment,
    providers: Vec<Provider>,
    intra_op_threads: usize,
    inter_op_threads: usize,
    arena: bool,
    device_id: i32,
    openvino_precision: Precision,
    rocm_precision: Precision,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("providers", &self.providers)
            .finish_non_exhaustive()
    }
}

/// Where the ONNX Runtime library is: `ORT_DYLIB_PATH`, else the system's `libonnxruntime.so`.
pub fn library_path() -> PathBuf {
    if let Some(path) = std::env::var_os("ORT_DYLIB_PATH") {
        return PathBuf::from(path);
    }
    PathBuf::from("libonnxruntime.so")
}

impl Runtime {
    /// Loads the ONNX Runtime library of [`library_path`] (once per process) and reads which
    /// providers it offers.
    pub fn init(settings: &Settings) -> Result<Self> {
        Self::init_from(&library_path(), settings)
    }

    /// As [`Runtime::init`], from the library at `library`.
    pub fn init_from(library: &Path, settings: &Settings) -> Result<Self> {
        let library = library.to_path_buf();
        // The library can be loaded once per process; later calls share the first environment.
        static ENVIRONMENT: OnceLock<std::result::Result<Environment, String>> = OnceLock::new();
        let environment = ENVIRONMENT
            .get_or_init(|| match ort::init_from(&library) {
                Ok(builder) => builder
                    .with_name("darkroom-ml")
                    .build()
                    .map_err(|error| error.to_string()),
                Err(error) => Err(format!("{} could not be loaded: {error}", library.display())),
            })
            .clone()
            .map_err(|reason| MlError::load("ONNX Runtime", reason))?;
        let providers: Vec<Provider> = Provider::PREFERENCE
            .into_iter()
            .filter(|provider| provider.is_available())
            .collect();
        tracing::info!(
            library = %library.display(),
            providers = ?providers.iter().map(|provider| provider.name()).collect::<Vec<_>>(),
            "ONNX Runtime loaded"
        );
        Ok(Self {
            environment,
            providers,
            intra_op_threads: settings.intra_op_threads,
            inter_op_threads: settings.inter_op_threads,
            arena: settings.model_arena,
            device_id: settings.device_id.parse().unwrap_or(0),
            openvino_precision: settings.openvino_precision,
            rocm_precision: settings.rocm_precision,
        })
    }

    /// The providers of the loaded library that sessions try, best first.
    pub fn providers(&self) -> &[Provider] {
        &self.providers
    }

    /// A session for the ONNX file at `path`, on the best provider that starts; `model` names it
    /// in logs and errors.
    pub fn load(&self, path: &Path, model: &str) -> Result<Session> {
        if !path.is_file() {
            return Err(MlError::load(model, format!("{} does not exist", path.display())));
        }
        let mut last_error = None;
        for &provider in &self.providers {
            match self.build(path, provider) {
                Ok(session) => {
                    tracing::info!(model, provider = provider.name(), path = %path.display(), "model loaded");
                    return Ok(Session::new(session, provider));
                }
                Err(error) if provider != Provider::Cpu => {
                    tracing::warn!(model, provider = provider.name(), %error, "provider failed to start; trying the next");
                    last_error = Some(error);
                }
                Err(error) => return Err(MlError::load(model, error)),
            }
        }
        Err(MlError::load(
            model,
            last_error.map_or_else(|| "no execution provider".to_owned(), |error| error.to_string()),
        ))
    }

    fn build(&self, path: &Path, provider: Provider) -> ort::Result<OrtSession> {
        let cpu_only = provider == Provider::Cpu;
        // Immich's defaults: on the CPU one thread between operators and two within, so that
        // models running side by side do not fight over cores; on a GPU the runtime's own.
        let inter = match self.inter_op_threads {
            0 if cpu_only => 1,
            threads => threads,
        };
        let intra = match self.intra_op_threads {
            0 if cpu_only => 2,
            threads => threads,
        };
        let mut builder = OrtSession::builder(&self.environment)?;
        if inter > 0 {
            builder = builder.with_inter_threads(inter)?;
        }
        if intra > 0 {
            builder = builder.with_intra_threads(intra)?;
        }
        if inter > 1 {
            builder = builder.with_parallel_execution(true)?;
        }
        let cpu = ep::CPU::default().with_arena_allocator(self.arena).build();
        let providers = match self.provider_dispatch(path, provider) {
            Some(gpu) => vec![gpu.error_on_failure(), cpu],
            None => vec![cpu],
        };
        builder
            .with_no_environment_execution_providers()?
            .with_execution_providers(providers)?
            .commit_from_file(path)
    }

    /// The GPU provider with Immich's options, or `None` for the CPU.
    fn provider_dispatch(&self, path: &Path, provider: Provider) -> Option<ExecutionProviderDispatch> {
        let beside_model = |folder: &str| path.parent().unwrap_or(Path::new(".")).join(folder);
        Some(match provider {
            Provider::Cuda => ep::CUDA::default()
                .with_device_id(self.device_id)
                .with_arena_extend_strategy(ep::ArenaExtendStrategy::SameAsRequested)
                .build(),
            Provider::MiGraphX => {
                // Compiling for the GPU takes minutes: the compiled model is kept beside the ONNX
                // file and loaded from there the next time.
                let cache = beside_model("migraphx");
                let compiled = cache.join(match self.rocm_precision {
                    Precision::Fp16 => "model-fp16.mxr",
                    Precision::Fp32 => "model.mxr",
                });
                let provider = ep::MIGraphX::default()
                    .with_device_id(self.device_id)
                    .with_fp16(self.rocm_precision == Precision::Fp16);
                if compiled.is_file() {
                    provider.with_load_model(compiled.display().to_string()).build()
                } else if std::fs::create_dir_all(&cache).is_ok() {
                    provider.with_save_model(compiled.display().to_string()).build()
                } else {
                    provider.build()
                }
            }
            Provider::Rocm => ep::ROCm::default().with_device_id(self.device_id).build(),
            Provider::OpenVino => ep::OpenVINO::default()
                .with_device_type(format!("GPU.{}", self.device_id))
                .with_precision(match self.openvino_precision {
                    Precision::Fp16 => "FP16",
                    Precision::Fp32 => "FP32",
                })
                .with_cache_dir(beside_model("openvino").display())
                .build(),
            Provider::Cpu => return None,
        })
    }
}

/// One input or output of a model: its name and shape (`-1` where the size is free).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub name: String,
    pub shape: Vec<i64>,
}

/// An input tensor, in one of the element types Immich's models take.
#[derive(Debug)]
pub enum Tensor<'a> {
    F32(ArrayViewD<'a, f32>),
    I32(ArrayViewD<'a, i32>),
    I64(ArrayViewD<'a, i64>),
}

/// A loaded model, ready to run. Runs are serialised: ONNX Runtime parallelises within one.
pub struct Session {
    inner: Mutex<OrtSession>,
    provider: Provider,
    inputs: Vec<Node>,
    outputs: Vec<Node>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("provider", &self.provider)
            .field("inputs", &self.inputs)
            .field("outputs", &self.outputs)
            .finish_non_exhaustive()
    }
}

fn nodes(outlets: &[Outlet]) -> Vec<Node> {
    outlets
        .iter()
        .map(|outlet| Node {
            name: outlet.name().to_owned(),
            shape: outlet
                .dtype()
                .tensor_shape()
                .map(|shape| shape.to_vec())
                .unwrap_or_default(),
        })
        .collect()
}

impl Session {
    fn new(session: OrtSession, provider: Provider) -> Self {
        Self {
            inputs: nodes(session.inputs()),
            outputs: nodes(session.outputs()),
            inner: Mutex::new(session),
            provider,
        }
    }

    pub fn provider(&self) -> Provider {
        self.provider
    }

    pub fn inputs(&self) -> &[Node] {
        &self.inputs
    }

    pub fn outputs(&self) -> &[Node] {
        &self.outputs
    }

    /// The model's first input, which takes the image or text (a load error naming `model`
    /// when there is none).
    pub fn first_input(&self, model: &str) -> Result<&Node> {
        self.inputs
            .first()
            .ok_or_else(|| MlError::load(model, "the model has no input"))
    }

    /// Runs the model on named inputs; every output comes back as `f32`, in the graph's order.
    pub fn run(&self, inputs: Vec<(&str, Tensor<'_>)>) -> Result<Vec<ArrayD<f32>>> {
        let mut values = Vec::with_capacity(inputs.len());
        for (name, tensor) in inputs {
            let value: ort::session::SessionInputValue<'_> = match tensor {
                Tensor::F32(array) => TensorRef::from_array_view(array).context("preparing an input")?.into(),
                Tensor::I32(array) => TensorRef::from_array_view(array).context("preparing an input")?.into(),
                Tensor::I64(array) => TensorRef::from_array_view(array).context("preparing an input")?.into(),
            };
            values.push((name.to_owned(), value));
        }
        let mut session = self
            .inner
            .lock()
            .map_err(|_| MlError::load("session", "an earlier run panicked"))?;
        let outputs = session.run(values).context("running the model")?;
        let mut arrays = Vec::with_capacity(outputs.len());
        for (_, value) in outputs.iter() {
            let array = value.try_extract_array::<f32>().context("reading the model's output")?;
            arrays.push(array.to_owned());
        }
        Ok(arrays)
    }
}
