//! ONNX Runtime through `ort`: the library `scripts/setup` installs loads, offers the CPU, and a
//! session runs a model and says which provider it runs on.

mod common;

use darkroom_ml::runtime::{Provider, Tensor};
use ndarray::{ArrayD, IxDyn};

#[test]
fn a_model_loads_and_runs_on_the_cpu() {
    let folder = tempfile::tempdir().unwrap_or_else(|error| panic!("{error}"));
    let path = folder.path().join("model.onnx");
    common::run_python("tiny_model.py", &[path.to_str().unwrap_or_default()]);
    let settings = common::settings(folder.path());
    let runtime = common::runtime(&settings);
    assert_eq!(runtime.providers().last(), Some(&Provider::Cpu));

    let session = runtime.load(&path, "tiny").unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(session.provider(), Provider::Cpu);
    assert_eq!(session.inputs()[0].name, "x");
    assert_eq!(session.inputs()[0].shape, vec![1, 3]);
    let input =
        ArrayD::from_shape_vec(IxDyn(&[1, 3]), vec![1.0f32, -2.0, 0.5]).unwrap_or_else(|error| panic!("{error}"));
    let outputs = session
        .run(vec![("x", Tensor::F32(input.view()))])
        .unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(outputs[0].as_slice(), Some(&[2.0f32, -4.0, 1.0][..]));
}

#[test]
fn a_missing_or_broken_model_is_a_load_error() {
    let folder = tempfile::tempdir().unwrap_or_else(|error| panic!("{error}"));
    let settings = common::settings(folder.path());
    let runtime = common::runtime(&settings);
    let missing = runtime.load(&folder.path().join("absent.onnx"), "absent");
    assert!(
        matches!(missing, Err(darkroom_ml::error::MlError::Load { .. })),
        "{missing:?}"
    );
    let broken = folder.path().join("broken.onnx");
    std::fs::write(&broken, b"not a model").unwrap_or_else(|error| panic!("{error}"));
    let error = runtime
        .load(&broken, "broken")
        .err()
        .map(|error| error.to_string())
        .unwrap_or_default();
    assert!(error.starts_with("Failed to load model 'broken'"), "{error}");
}
