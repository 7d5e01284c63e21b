//! Models come from the Hugging Face hub the way Immich's `snapshot_download` fetches them: the
//! repository's file list (`api/models/<repo>/revision/<rev>`), then each file from
//! `<repo>/resolve/<rev>/<path>`, straight into the model's folder of the cache
//! (`<cache>/<task>/<model>/…`). A cache filled by Immich's container is used as it is, and
//! `HF_ENDPOINT` points at a mirror as it does for Immich.

use std::path::{Component, Path, PathBuf};

use reqwest::{StatusCode, Url};
use serde::Deserialize;
use tokio::io::AsyncWriteExt;

const HUGGING_FACE: &str = "https://huggingface.co";

#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error("the model hub address {0:?} is not a URL")]
    Endpoint(String),
    #[error("could not {doing}: {source}")]
    Request {
        doing: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("could not {doing}: the model hub answered {status}")]
    Status { doing: String, status: StatusCode },
    #[error("the model hub lists a file outside the model's folder: {0:?}")]
    UnsafeName(String),
    #[error("could not write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// A model hub: Hugging Face or a mirror of it.
pub struct Hub {
    endpoint: Url,
    token: Option<String>,
    client: reqwest::Client,
}

#[derive(Deserialize)]
struct RepoInfo {
    siblings: Vec<RepoFile>,
}

#[derive(Deserialize)]
struct RepoFile {
    rfilename: String,
}

impl Hub {
    /// The hub `HF_ENDPOINT` names, else Hugging Face's; with `HF_TOKEN` when it is set.
    pub fn from_env() -> Result<Self, HubError> {
        let endpoint = std::env::var("HF_ENDPOINT").unwrap_or_else(|_| HUGGING_FACE.to_string());
        Self::new(&endpoint, std::env::var("HF_TOKEN").ok().filter(|t| !t.is_empty()))
    }

    pub fn new(endpoint: &str, token: Option<String>) -> Result<Self, HubError> {
        let endpoint = Url::parse(endpoint).map_err(|_| HubError::Endpoint(endpoint.to_string()))?;
        let client = reqwest::Client::builder()
            .user_agent(concat!("darkroom-ml/", env!("CARGO_PKG_VERSION")))
            // A hub that stops answering fails the download instead of holding it forever.
            .connect_timeout(std::time::Duration::from_secs(30))
            .read_timeout(std::time::Duration::from_secs(120))
            .build()
            .map_err(|source| HubError::Request {
                doing: "start an HTTP client".into(),
                source,
            })?;
        Ok(Self {
            endpoint,
            token,
            client,
        })
    }

    /// Fetches every file of `repo` (`immich-app/ViT-B-32__openai`) at `revision` into `into`,
    /// but those matching a pattern of `ignore` (`*.armnn`). The files land in a folder beside
    /// `into` that is renamed to it once all are there, so a download cut short never leaves a
    /// half model that would load.
    #[tracing::instrument(skip(self, ignore), fields(into = %into.display()))]
    pub async fn snapshot(&self, repo: &str, revision: &str, into: &Path, ignore: &[&str]) -> Result<(), HubError> {
        let listing_url = self.url(&["api", "models"], repo, &["revision", revision]);
        let doing = format!("list the files of {repo}");
        let listing: RepoInfo = self
            .get(listing_url, &doing)
            .await?
            .json()
            .await
            .map_err(|source| HubError::Request { doing, source })?;
        let wanted: Vec<String> = listing
            .siblings
            .into_iter()
            .map(|file| file.rfilename)
            .filter(|name| !ignore.iter().any(|pattern| glob_matches(pattern, name)))
            .collect();
        if let Some(unsafe_name) = wanted.iter().find(|name| !is_plain_relative(name)) {
            return Err(HubError::UnsafeName(unsafe_name.clone()));
        }
        let parent = into.parent().unwrap_or(Path::new("."));
        let folder_name = into
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let staging = parent.join(format!(".{folder_name}.partial-{}", uuid::Uuid::new_v4().simple()));
        let fetched = match tokio::fs::create_dir_all(&staging).await {
            Ok(()) => self.fetch_all(repo, revision, &wanted, &staging).await,
            Err(source) => Err(HubError::Write {
                path: staging.clone(),
                source,
            }),
        };
        let placed = match fetched {
            // Another download of the same model may have finished first: its copy stands.
            Ok(()) => match tokio::fs::rename(&staging, into).await {
                Err(_) if tokio::fs::try_exists(into).await.unwrap_or(false) => Ok(()),
                renamed => renamed.map_err(|source| HubError::Write {
                    path: into.to_path_buf(),
                    source,
                }),
            },
            Err(error) => Err(error),
        };
        match &placed {
            Ok(()) => tracing::info!(repo, files = wanted.len(), "model downloaded"),
            Err(_) => {
                let _ = tokio::fs::remove_dir_all(&staging).await;
            }
        }
        placed
    }

    async fn fetch_all(&self, repo: &str, revision: &str, files: &[String], staging: &Path) -> Result<(), HubError> {
        for name in files {
            let target = staging.join(name);
            if let Some(folder) = target.parent() {
                tokio::fs::create_dir_all(folder)
                    .await
                    .map_err(|source| HubError::Write {
                        path: folder.to_path_buf(),
                        source,
                    })?;
            }
            let segments: Vec<&str> = name.split('/').collect();
            let url = self.url(&[], repo, &[&["resolve", revision][..], &segments].concat());
            self.download(url, &format!("download {name} of {repo}"), &target)
                .await?;
        }
        Ok(())
    }

    async fn download(&self, url: Url, doing: &str, target: &Path) -> Result<(), HubError> {
        let mut response = self.get(url, doing).await?;
        let write_error = |source| HubError::Write {
            path: target.to_path_buf(),
            source,
        };
        let mut file = tokio::fs::File::create(target).await.map_err(write_error)?;
        while let Some(chunk) = response.chunk().await.map_err(|source| HubError::Request {
            doing: doing.to_string(),
            source,
        })? {
            file.write_all(&chunk).await.map_err(write_error)?;
        }
        file.flush().await.map_err(write_error)
    }

    async fn get(&self, url: Url, doing: &str) -> Result<reqwest::Response, HubError> {
        let mut request = self.client.get(url);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.map_err(|source| HubError::Request {
            doing: doing.to_string(),
            source,
        })?;
        if !response.status().is_success() {
            return Err(HubError::Status {
                doing: doing.to_string(),
                status: response.status(),
            });
        }
        Ok(response)
    }

    /// `<endpoint>/<before…>/<repo>/<after…>`, each part percent-encoded as a path segment.
    fn url(&self, before: &[&str], repo: &str, after: &[&str]) -> Url {
        let mut url = self.endpoint.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(before).extend(repo.split('/')).extend(after);
        }
        url
    }
}

/// A relative path that stays inside the folder it is joined to.
fn is_plain_relative(name: &str) -> bool {
    !name.is_empty()
        && Path::new(name)
            .components()
            .all(|part| matches!(part, Component::Normal(_)))
}

/// Shell-style matching as Python's `fnmatch` does it for the hub's ignore patterns: `*` is any
/// run of characters (slashes too), `?` any one character.
fn glob_matches(pattern: &str, name: &str) -> bool {
    let (pattern, name): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    // matched[j]: the pattern so far matches the first j characters of the name.
    let mut matched = vec![false; name.len() + 1];
    matched[0] = true;
    for symbol in pattern {
        let mut next = vec![false; name.len() + 1];
        match symbol {
            '*' => {
                let mut reachable = false;
                for (j, slot) in next.iter_mut().enumerate() {
                    reachable |= matched[j];
                    *slot = reachable;
                }
            }
            _ => {
                for j in 1..=name.len() {
                    next[j] = matched[j - 1] && (symbol == '?' || symbol == name[j - 1]);
                }
            }
        }
        matched = next;
    }
    matched[name.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignore_patterns_match_as_fnmatch_does() {
        assert!(glob_matches("*.armnn", "visual/model.armnn"));
        assert!(glob_matches("*.rknn", "rk3588/detection/model.rknn"));
        assert!(!glob_matches("*.armnn", "visual/model.onnx"));
        assert!(glob_matches("model.?nnx", "model.onnx"));
        assert!(glob_matches("*", ""));
        assert!(!glob_matches("a*b", "ba"));
    }

    #[test]
    fn listed_names_must_stay_inside_the_model_folder() {
        assert!(is_plain_relative("visual/model.onnx"));
        assert!(!is_plain_relative("../outside"));
        assert!(!is_plain_relative("/etc/passwd"));
        assert!(!is_plain_relative("visual/../../x"));
        assert!(!is_plain_relative(""));
    }
}
