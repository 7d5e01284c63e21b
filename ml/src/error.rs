//! The service's one error type, and the HTTP status each kind of failure answers with.

use std::path::PathBuf;

/// What went wrong while answering a request or loading a model.
#[derive(Debug, thiserror::Error)]
pub enum MlError {
    /// The request can't be answered as asked (Immich answers these with 400).
    #[error("{0}")]
    BadRequest(String),
    /// The request is not in the protocol's shape (Immich's 422 "Invalid request format.").
    #[error(transparent)]
    Protocol(#[from] crate::protocol::ProtocolError),
    /// The image could not be decoded.
    #[error("Failed to decode image: {0}")]
    Image(String),
    /// A model file or its configuration is missing or not what the model needs.
    #[error("Failed to load model '{model}': {reason}")]
    Load { model: String, reason: String },
    /// The model could not be fetched.
    #[error("Failed to download model '{model}': {source}")]
    Download {
        model: String,
        #[source]
        source: crate::hub::HubError,
    },
    /// ONNX Runtime refused a call.
    #[error("{context}: {source}")]
    Runtime {
        context: String,
        #[source]
        source: ort::Error,
    },
    /// A model produced output of a shape its post-processing does not know.
    #[error("Unexpected output from model '{model}': {reason}")]
    Output { model: String, reason: String },
    #[error("{context} ({path}): {source}")]
    Io {
        context: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

pub type Result<T, E = MlError> = std::result::Result<T, E>;

impl MlError {
    /// The HTTP status Immich's service answers this failure with.
    pub fn status(&self) -> u16 {
        match self {
            Self::BadRequest(_) | Self::Image(_) => 400,
            Self::Protocol(error) => error.status(),
            Self::Load { .. }
            | Self::Download { .. }
            | Self::Runtime { .. }
            | Self::Output { .. }
            | Self::Io { .. } => 500,
        }
    }

    /// A `Load` error for `model`.
    pub fn load(model: &str, reason: impl std::fmt::Display) -> Self {
        Self::Load {
            model: model.to_owned(),
            reason: reason.to_string(),
        }
    }

    /// An `Output` error for `model`.
    pub fn output(model: &str, reason: impl std::fmt::Display) -> Self {
        Self::Output {
            model: model.to_owned(),
            reason: reason.to_string(),
        }
    }
}

/// Adds what was being done to an ONNX Runtime error (vaultwarden's `map_res`).
pub trait RuntimeContext<T> {
    fn context(self, context: impl Into<String>) -> Result<T>;
}

impl<T> RuntimeContext<T> for std::result::Result<T, ort::Error> {
    fn context(self, context: impl Into<String>) -> Result<T> {
        self.map_err(|source| MlError::Runtime {
            context: context.into(),
            source,
        })
    }
}
