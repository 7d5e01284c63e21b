//! Fetching models from a hub into the cache: a real HTTP server (Python's `http.server`)
//! serves model repositories in the Hugging Face hub's layout, as a mirror named by
//! `HF_ENDPOINT` would.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use darkroom_ml::hub::{Hub, HubError};

const REPO: &str = "immich-app/ViT-B-32__openai";

/// A folder served over HTTP for the test's lifetime.
struct ServedFolder {
    root: PathBuf,
    server: Child,
    url: String,
}

impl ServedFolder {
    fn start() -> Self {
        let root = std::env::temp_dir().join(format!("darkroom-hub-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&root).unwrap();
        let mut server = Command::new("python3")
            .args(["-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory"])
            .arg(&root)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 serves the hub");
        // "Serving HTTP on 127.0.0.1 port 41234 (http://127.0.0.1:41234/) ..."
        let mut line = String::new();
        BufReader::new(server.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .split(" port ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap();
        let url = format!("http://127.0.0.1:{port}");
        Self { root, server, url }
    }

    fn put(&self, path: &str, content: &[u8]) {
        let path = self.root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }

    /// `repo`'s listing at `main`, and the files that exist.
    fn repository(&self, repo: &str, listed: &[&str], present: &[(&str, &[u8])]) {
        let siblings: Vec<serde_json::Value> = listed
            .iter()
            .map(|name| serde_json::json!({"rfilename": name}))
            .collect();
        let listing = serde_json::json!({"id": repo, "sha": "0123abcd", "siblings": siblings});
        self.put(
            &format!("api/models/{repo}/revision/main"),
            listing.to_string().as_bytes(),
        );
        for (name, content) in present {
            self.put(&format!("{repo}/resolve/main/{name}"), content);
        }
    }
}

impl Drop for ServedFolder {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn cache() -> PathBuf {
    std::env::temp_dir().join(format!("darkroom-cache-{}", uuid::Uuid::new_v4().simple()))
}

fn leftovers(folder: &Path) -> Vec<String> {
    std::fs::read_dir(folder)
        .map(|entries| {
            entries
                .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|name| name.contains("partial"))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_model_lands_in_immichs_cache_layout_without_the_ignored_files() {
    let hub = ServedFolder::start();
    let weights: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    hub.repository(
        REPO,
        &[
            "config.json",
            "visual/model.onnx",
            "visual/model.armnn",
            "textual/tokenizer name.json",
        ],
        &[
            ("config.json", br#"{"embed_dim": 512}"#),
            ("visual/model.onnx", &weights),
            ("visual/model.armnn", b"not for us"),
            ("textual/tokenizer name.json", "{\"é\": 1}".as_bytes()),
        ],
    );
    let cache = cache();
    let model = cache.join("clip/ViT-B-32__openai");
    Hub::new(&hub.url, None)
        .unwrap()
        .snapshot(REPO, "main", &model, &["*.armnn", "*.rknn"])
        .await
        .unwrap();
    assert_eq!(std::fs::read(model.join("visual/model.onnx")).unwrap(), weights);
    assert_eq!(
        std::fs::read_to_string(model.join("config.json")).unwrap(),
        r#"{"embed_dim": 512}"#
    );
    assert_eq!(
        std::fs::read_to_string(model.join("textual/tokenizer name.json")).unwrap(),
        "{\"é\": 1}"
    );
    assert!(
        !model.join("visual/model.armnn").exists(),
        "ignored patterns are not fetched"
    );
    assert!(leftovers(&cache.join("clip")).is_empty());
    std::fs::remove_dir_all(&cache).unwrap();
}

#[tokio::test]
async fn a_download_that_fails_leaves_no_half_model() {
    let hub = ServedFolder::start();
    // Listed but absent: the hub answers 404 after the first file came.
    hub.repository(REPO, &["config.json", "visual/model.onnx"], &[("config.json", b"{}")]);
    let cache = cache();
    let model = cache.join("clip/ViT-B-32__openai");
    let error = Hub::new(&hub.url, None)
        .unwrap()
        .snapshot(REPO, "main", &model, &[])
        .await
        .unwrap_err();
    assert!(
        matches!(error, HubError::Status { status, .. } if status.as_u16() == 404),
        "{error}"
    );
    assert!(error.to_string().contains("visual/model.onnx"), "{error}");
    assert!(!model.exists(), "no half model");
    assert!(
        leftovers(&cache.join("clip")).is_empty(),
        "the partial folder is removed"
    );
    let _ = std::fs::remove_dir_all(&cache);
}

#[tokio::test]
async fn names_outside_the_model_folder_are_refused() {
    let hub = ServedFolder::start();
    hub.repository(REPO, &["config.json", "../../escaped"], &[("config.json", b"{}")]);
    let cache = cache();
    let model = cache.join("clip/ViT-B-32__openai");
    let error = Hub::new(&hub.url, None)
        .unwrap()
        .snapshot(REPO, "main", &model, &[])
        .await
        .unwrap_err();
    assert!(
        matches!(error, HubError::UnsafeName(ref name) if name == "../../escaped"),
        "{error}"
    );
    assert!(!model.exists());
    let _ = std::fs::remove_dir_all(&cache);
}

#[tokio::test]
async fn an_unknown_repository_is_a_clear_error() {
    let hub = ServedFolder::start();
    let error = Hub::new(&hub.url, None)
        .unwrap()
        .snapshot(
            "immich-app/no-such-model",
            "main",
            &cache().join("clip/no-such-model"),
            &[],
        )
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "could not list the files of immich-app/no-such-model: the model hub answered 404 Not Found"
    );
}

#[tokio::test]
async fn the_cache_fetches_a_model_once_into_immichs_layout() {
    use darkroom_ml::cache::{ModelCache, ModelTask, ModelType};
    let hub = ServedFolder::start();
    hub.repository(
        "immich-app/buffalo_l",
        &["detection/model.onnx", "recognition/model.onnx", "detection/model.rknn"],
        &[
            ("detection/model.onnx", b"scrfd"),
            ("recognition/model.onnx", b"arcface"),
            ("detection/model.rknn", b"npu"),
        ],
    );
    let root = cache();
    let cache = ModelCache::new(&root);
    let client = Hub::new(&hub.url, None).unwrap();
    let folder = cache
        .ensure(&client, ModelTask::FacialRecognition, "buffalo_l", ModelType::Detection)
        .await
        .unwrap();
    assert_eq!(folder, root.join("facial-recognition/buffalo_l"));
    assert_eq!(
        std::fs::read(folder.join("recognition/model.onnx")).unwrap(),
        b"arcface"
    );
    assert!(
        !folder.join("detection/model.rknn").exists(),
        "files for other runtimes are skipped"
    );
    // Cached now (as a folder filled by Immich's container would be): the hub is not asked again.
    drop(hub);
    let again = cache
        .ensure(
            &client,
            ModelTask::FacialRecognition,
            "buffalo_l",
            ModelType::Recognition,
        )
        .await
        .unwrap();
    assert_eq!(again, folder);
    std::fs::remove_dir_all(&root).unwrap();
}
