//! OCR models come from where Immich's RapidOCR (3.8.1) takes them: the PP-OCRv5 ONNX files of
//! its `default_models.yaml`, each checked against the SHA-256 listed there. Immich's detector is
//! always the Chinese PP-OCRv5 detector (mobile or server by name), shared by every language, so
//! its folder is the name without the language (`EN__PP-OCRv5_mobile` → `PP-OCRv5_mobile`); the
//! recognizer is per language.
//!
//! `MACHINE_LEARNING_OCR_MODEL_URL` (Darkroom's own) replaces the address the files are under
//! (`https://www.modelscope.cn/models/RapidAI/RapidOCR/resolve/v3.8.0`), for a mirror.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::cache::{ModelTask, ModelType, clean_name};
use crate::error::{MlError, Result};
use crate::hub::HubError;

/// The variable that points OCR downloads at a mirror.
pub const URL_VARIABLE: &str = "MACHINE_LEARNING_OCR_MODEL_URL";
/// Where RapidOCR 3.8.1 fetches its PP-OCRv5 ONNX models.
pub const DEFAULT_BASE_URL: &str = "https://www.modelscope.cn/models/RapidAI/RapidOCR/resolve/v3.8.0";

/// One model file: its path under the base address and its SHA-256.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelFile {
    pub path: &'static str,
    pub sha256: &'static str,
}

const fn file(path: &'static str, sha256: &'static str) -> ModelFile {
    ModelFile { path, sha256 }
}

/// `default_models.yaml` of RapidOCR 3.8.1, onnxruntime, PP-OCRv5: (language, size, file).
const DETECTORS: [(&str, ModelFile); 2] = [
    (
        "mobile",
        file(
            "onnx/PP-OCRv5/det/ch_PP-OCRv5_det_mobile.onnx",
            "4d97c44a20d30a81aad087d6a396b08f786c4635742afc391f6621f5c6ae78ae",
        ),
    ),
    (
        "server",
        file(
            "onnx/PP-OCRv5/det/ch_PP-OCRv5_det_server.onnx",
            "0f8846b1d4bba223a2a2f9d9b44022fbc22cc019051a602b41a7fda9667e4cad",
        ),
    ),
];

const RECOGNIZERS: [(&str, &str, ModelFile); 8] = [
    (
        "CH",
        "mobile",
        file(
            "onnx/PP-OCRv5/rec/ch_PP-OCRv5_rec_mobile.onnx",
            "5825fc7ebf84ae7a412be049820b4d86d77620f204a041697b0494669b1742c5",
        ),
    ),
    (
        "CH",
        "server",
        file(
            "onnx/PP-OCRv5/rec/ch_PP-OCRv5_rec_server.onnx",
            "e09385400eaaaef34ceff54aeb7c4f0f1fe014c27fa8b9905d4709b65746562a",
        ),
    ),
    (
        "KOREAN",
        "mobile",
        file(
            "onnx/PP-OCRv5/rec/korean_PP-OCRv5_rec_mobile.onnx",
            "cd6e2ea50f6943ca7271eb8c56a877a5a90720b7047fe9c41a2e541a25773c9b",
        ),
    ),
    (
        "LATIN",
        "mobile",
        file(
            "onnx/PP-OCRv5/rec/latin_PP-OCRv5_rec_mobile.onnx",
            "b20bd37c168a570f583afbc8cd7925603890efbcdc000a59e22c269d160b5f5a",
        ),
    ),
    (
        "ESLAV",
        "mobile",
        file(
            "onnx/PP-OCRv5/rec/eslav_PP-OCRv5_rec_mobile.onnx",
            "08705d6721849b1347d26187f15a5e362c431963a2a62bfff4feac578c489aab",
        ),
    ),
    (
        "EN",
        "mobile",
        file(
            "onnx/PP-OCRv5/rec/en_PP-OCRv5_rec_mobile.onnx",
            "c3461add59bb4323ecba96a492ab75e06dda42467c9e3d0c18db5d1d21924be8",
        ),
    ),
    (
        "TH",
        "mobile",
        file(
            "onnx/PP-OCRv5/rec/th_PP-OCRv5_rec_mobile.onnx",
            "de541dd83161c241ff426f7ecfd602a0ba77d686cf3ab9a6c255ea82fd08006e",
        ),
    ),
    (
        "EL",
        "mobile",
        file(
            "onnx/PP-OCRv5/rec/el_PP-OCRv5_rec_mobile.onnx",
            "b4368bccd557123c702b7549fee6cd1e94b581337d1c9b65310f109131542b7f",
        ),
    ),
];

/// The file Immich downloads for an OCR model name and type, if it knows one.
pub fn model_file(model_name: &str, model_type: ModelType) -> Option<ModelFile> {
    let name = clean_name(model_name);
    let (language, base) = match name.split_once("__") {
        Some((language, base)) => (language, base),
        None => ("CH", name.as_str()),
    };
    // Immich picks the mobile model when the name says so, the server model otherwise.
    let size = if base.contains("mobile") { "mobile" } else { "server" };
    match model_type {
        ModelType::Detection => DETECTORS.iter().find(|(s, _)| *s == size).map(|(_, f)| *f),
        ModelType::Recognition => RECOGNIZERS
            .iter()
            .find(|(l, s, _)| *l == language && *s == size)
            .map(|(_, _, f)| *f),
        ModelType::Visual | ModelType::Textual => None,
    }
}

/// The model's folder in Immich's layout: `<cache>/ocr/<name>`, where a detector's name drops
/// the language (`EN__PP-OCRv5_mobile` → `PP-OCRv5_mobile`).
pub fn model_folder(cache_folder: &Path, model_name: &str, model_type: ModelType) -> PathBuf {
    let name = clean_name(model_name);
    let name = match model_type {
        ModelType::Detection => name.rsplit("__").next().unwrap_or(&name).to_owned(),
        _ => name,
    };
    cache_folder.join(ModelTask::Ocr.as_str()).join(name)
}

/// The model's ONNX file, `<folder>/<type>/model.onnx` of [`model_folder`], downloaded first
/// when it is not there (from `MACHINE_LEARNING_OCR_MODEL_URL`, else RapidOCR's address).
pub async fn ensure(cache_folder: &Path, model_name: &str, model_type: ModelType) -> Result<PathBuf> {
    let base = std::env::var(URL_VARIABLE)
        .ok()
        .filter(|url| !url.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
    ensure_from(&base, cache_folder, model_name, model_type).await
}

/// As [`ensure`], from the files under `base_url`.
pub async fn ensure_from(
    base_url: &str,
    cache_folder: &Path,
    model_name: &str,
    model_type: ModelType,
) -> Result<PathBuf> {
    let path = model_folder(cache_folder, model_name, model_type)
        .join(model_type.as_str())
        .join("model.onnx");
    if tokio::fs::try_exists(&path).await.unwrap_or(false) {
        return Ok(path);
    }
    let model = model_file(model_name, model_type)
        .ok_or_else(|| MlError::BadRequest(format!("no OCR {} model is named '{model_name}'", model_type.as_str())))?;
    let url = format!("{}/{}", base_url.trim_end_matches('/'), model.path);
    tracing::info!(model = model_name, %url, "downloading OCR model");
    download(&url, model.sha256, &path)
        .await
        .map_err(|failure| failure.into_error(model_name))?;
    tracing::info!(model = model_name, path = %path.display(), "OCR model downloaded");
    Ok(path)
}

enum Failure {
    Hub(HubError),
    Checksum { expected: String, actual: String },
}

impl Failure {
    fn into_error(self, model: &str) -> MlError {
        match self {
            Self::Hub(source) => MlError::Download {
                model: model.to_owned(),
                source,
            },
            Self::Checksum { expected, actual } => MlError::load(
                model,
                format!("the downloaded file's SHA-256 is {actual}, not {expected}"),
            ),
        }
    }
}

/// Fetches `url` to `path` when its SHA-256 is `sha256` (see [`download`]); `model` names it in
/// errors.
pub async fn fetch_verified(url: &str, sha256: &str, path: &Path, model: &str) -> Result<()> {
    download(url, sha256, path)
        .await
        .map_err(|failure| failure.into_error(model))
}

/// Fetches `url` into a temporary file beside `path`, checks its SHA-256 and only then renames
/// it to `path`: a download cut short or corrupted leaves nothing that would load.
async fn download(url: &str, sha256: &str, path: &Path) -> std::result::Result<(), Failure> {
    let folder = path.parent().unwrap_or(Path::new("."));
    let write_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Failure::Hub(HubError::Write { path, source })
    };
    tokio::fs::create_dir_all(folder).await.map_err(write_error(folder))?;
    let partial = folder.join(format!(".model.onnx.partial-{}", uuid::Uuid::new_v4().simple()));
    let result = fetch_into(url, sha256, &partial).await;
    let result = match result {
        Ok(()) => tokio::fs::rename(&partial, path).await.map_err(write_error(path)),
        Err(failure) => Err(failure),
    };
    if result.is_err() {
        let _ = tokio::fs::remove_file(&partial).await;
    }
    result
}

async fn fetch_into(url: &str, sha256: &str, partial: &Path) -> std::result::Result<(), Failure> {
    let doing = format!("download {url}");
    let request_error = |source| {
        Failure::Hub(HubError::Request {
            doing: doing.clone(),
            source,
        })
    };
    let client = reqwest::Client::builder()
        .user_agent(concat!("darkroom-ml/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(std::time::Duration::from_secs(30))
        .read_timeout(std::time::Duration::from_secs(120))
        .build()
        .map_err(request_error)?;
    let mut response = client.get(url).send().await.map_err(request_error)?;
    let status = response.status();
    if !status.is_success() {
        return Err(Failure::Hub(HubError::Status {
            doing: doing.clone(),
            status,
        }));
    }
    let write_error = |source| {
        Failure::Hub(HubError::Write {
            path: partial.to_path_buf(),
            source,
        })
    };
    let mut output = tokio::fs::File::create(partial).await.map_err(write_error)?;
    let mut hasher = Sha256::new();
    while let Some(chunk) = response.chunk().await.map_err(request_error)? {
        hasher.update(&chunk);
        output.write_all(&chunk).await.map_err(write_error)?;
    }
    output.flush().await.map_err(write_error)?;
    output.sync_all().await.map_err(write_error)?;
    let actual: String = hasher.finalize().iter().map(|byte| format!("{byte:02x}")).collect();
    if !actual.eq_ignore_ascii_case(sha256) {
        return Err(Failure::Checksum {
            expected: sha256.to_owned(),
            actual,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_pick_immichs_files() {
        let det = |name| model_file(name, ModelType::Detection).map(|f| f.path);
        let rec = |name| model_file(name, ModelType::Recognition).map(|f| f.path);
        assert_eq!(
            det("EN__PP-OCRv5_mobile"),
            Some("onnx/PP-OCRv5/det/ch_PP-OCRv5_det_mobile.onnx")
        );
        assert_eq!(
            det("PP-OCRv5_server"),
            Some("onnx/PP-OCRv5/det/ch_PP-OCRv5_det_server.onnx")
        );
        assert_eq!(
            rec("PP-OCRv5_server"),
            Some("onnx/PP-OCRv5/rec/ch_PP-OCRv5_rec_server.onnx")
        );
        assert_eq!(
            rec("ESLAV__PP-OCRv5_mobile"),
            Some("onnx/PP-OCRv5/rec/eslav_PP-OCRv5_rec_mobile.onnx")
        );
        assert_eq!(
            rec("EL__PP-OCRv5_mobile"),
            Some("onnx/PP-OCRv5/rec/el_PP-OCRv5_rec_mobile.onnx")
        );
        assert_eq!(rec("EN__PP-OCRv5_server"), None);
        let cache = Path::new("/cache");
        assert_eq!(
            model_folder(cache, "TH__PP-OCRv5_mobile", ModelType::Detection),
            Path::new("/cache/ocr/PP-OCRv5_mobile")
        );
        assert_eq!(
            model_folder(cache, "TH__PP-OCRv5_mobile", ModelType::Recognition),
            Path::new("/cache/ocr/TH__PP-OCRv5_mobile")
        );
    }
}
