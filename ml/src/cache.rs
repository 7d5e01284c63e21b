//! Where models live: `<cache>/<task>/<model>/<type>/model.onnx`, as Immich's container keeps
//! them, so one cache serves both. A model is cached when its ONNX file is there; otherwise it
//! is fetched whole from the hub's `immich-app/<model>` repository.

use std::path::{Path, PathBuf};

use crate::hub::{Hub, HubError};

/// What a model is for (Immich's `ModelTask`): the first folder under the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ModelTask {
    Clip,
    FacialRecognition,
    Ocr,
}

/// Which half of a task's model pair (Immich's `ModelType`): the folder of its ONNX file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ModelType {
    Visual,
    Textual,
    Detection,
    Recognition,
}

impl ModelTask {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Clip => "clip",
            Self::FacialRecognition => "facial-recognition",
            Self::Ocr => "ocr",
        }
    }
}

impl ModelType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Visual => "visual",
            Self::Textual => "textual",
            Self::Detection => "detection",
            Self::Recognition => "recognition",
        }
    }
}

/// Files of a model repository that are for other runtimes (Arm NN, Rockchip NPUs).
pub const OTHER_RUNTIMES: [&str; 2] = ["*.armnn", "*.rknn"];

/// A model's name as Immich files it: the part after the last `/`, with `:`, `\` and `/` made
/// `_` and dots dropped (`immich-app/ViT-B-32__openai` → `ViT-B-32__openai`).
pub fn clean_name(model_name: &str) -> String {
    let last = model_name.rsplit('/').next().unwrap_or(model_name);
    last.chars()
        .filter(|&c| c != '.')
        .map(|c| if matches!(c, ':' | '\\' | '/') { '_' } else { c })
        .collect()
}

/// The model cache (`MACHINE_LEARNING_CACHE_FOLDER`).
#[derive(Debug, Clone)]
pub struct ModelCache {
    root: PathBuf,
}

impl ModelCache {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The folder of a model: `<cache>/<task>/<clean name>`.
    pub fn model_folder(&self, task: ModelTask, model_name: &str) -> PathBuf {
        self.root.join(task.as_str()).join(clean_name(model_name))
    }

    /// The ONNX file of one half of a model.
    pub fn onnx_path(&self, task: ModelTask, model_name: &str, model_type: ModelType) -> PathBuf {
        self.model_folder(task, model_name)
            .join(model_type.as_str())
            .join("model.onnx")
    }

    /// The model's folder, fetched from the hub first unless the ONNX file of `model_type` is
    /// already there (from an earlier download, or from Immich's container). One call per model
    /// at a time: a folder without the file is replaced whole.
    pub async fn ensure(
        &self,
        hub: &Hub,
        task: ModelTask,
        model_name: &str,
        model_type: ModelType,
    ) -> Result<PathBuf, HubError> {
        let folder = self.model_folder(task, model_name);
        if is_file(&self.onnx_path(task, model_name, model_type)).await {
            return Ok(folder);
        }
        // A folder without the file is what a download cut short by another tool leaves.
        if tokio::fs::try_exists(&folder).await.unwrap_or(false) {
            tokio::fs::remove_dir_all(&folder)
                .await
                .map_err(|source| HubError::Write {
                    path: folder.clone(),
                    source,
                })?;
        }
        let repo = format!("immich-app/{}", clean_name(model_name));
        hub.snapshot(&repo, "main", &folder, &OTHER_RUNTIMES).await?;
        Ok(folder)
    }
}

async fn is_file(path: &Path) -> bool {
    tokio::fs::metadata(path).await.is_ok_and(|meta| meta.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_filed_as_immich_files_them() {
        assert_eq!(clean_name("immich-app/ViT-B-32__openai"), "ViT-B-32__openai");
        assert_eq!(clean_name("buffalo_l"), "buffalo_l");
        assert_eq!(clean_name("nllb-clip-large-siglip__v1"), "nllb-clip-large-siglip__v1");
        assert_eq!(
            clean_name("XLM-Roberta-Large-Vit-B-16Plus"),
            "XLM-Roberta-Large-Vit-B-16Plus"
        );
        assert_eq!(clean_name("ViT-B-16-SigLIP2__webli"), "ViT-B-16-SigLIP2__webli");
        assert_eq!(clean_name("a:b\\c.d"), "a_b_cd");
    }

    #[test]
    fn paths_follow_immichs_cache_layout() {
        let cache = ModelCache::new("/cache");
        assert_eq!(
            cache.onnx_path(ModelTask::FacialRecognition, "buffalo_l", ModelType::Detection),
            Path::new("/cache/facial-recognition/buffalo_l/detection/model.onnx")
        );
        assert_eq!(
            cache.onnx_path(ModelTask::Clip, "immich-app/ViT-B-32__openai", ModelType::Textual),
            Path::new("/cache/clip/ViT-B-32__openai/textual/model.onnx")
        );
    }
}
