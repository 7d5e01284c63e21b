//! The one error type of the API, and how each error looks to a client (Immich's bodies).

use std::borrow::Cow;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use darkroom_storage::StorageError;
use serde::Serialize;
use serde_json::json;
use thiserror::Error;

/// One problem found in a request, shaped like the zod issues Immich returns.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ValidationIssue {
    pub code: &'static str,
    pub path: Vec<serde_json::Value>,
    pub message: String,
}

impl ValidationIssue {
    pub fn new(path: &[&str], message: impl Into<String>) -> Self {
        Self::with_code("custom", path, message)
    }

    pub fn with_code(code: &'static str, path: &[&str], message: impl Into<String>) -> Self {
        Self {
            code,
            path: path.iter().map(|p| json!(p)).collect(),
            message: message.into(),
        }
    }
}

#[derive(Debug, Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("Validation failed")]
    Validation(Vec<ValidationIssue>),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("Request body is too large")]
    PayloadTooLarge,
    /// The media volume is full: the upload is refused (413) without leaving anything behind.
    #[error("Not enough free space on the server")]
    StorageFull(String),
    #[error("{0}")]
    Gone(String),
    /// Another request is writing the same resumable upload.
    #[error("The upload is busy with another request")]
    Locked,
    /// A resumable upload's offset differs from the client's; `Upload-Offset` says where it is.
    #[error("Upload-Offset {provided} does not match the upload's offset {expected}")]
    OffsetMismatch { expected: u64, provided: u64 },
    /// Bytes that do not match the checksum the client gave (tus and RUFH use status 460).
    #[error("{0}")]
    ChecksumMismatch(String),
    #[error("{0}")]
    PreconditionFailed(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("Too many login attempts, try again later")]
    TooManyRequests { retry_after_secs: u64 },
    /// What the server was doing when something of its own failed, and why; logged whole,
    /// never shown to the client.
    #[error("{doing}")]
    Internal {
        doing: Cow<'static, str>,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::BadRequest(message.into())
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::Unauthorized(message.into())
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::Forbidden(message.into())
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::NotFound(message.into())
    }

    /// A failure of the server's own with nothing underneath (an invariant that did not hold).
    pub fn internal(doing: impl Into<Cow<'static, str>>) -> Self {
        Self::Internal {
            doing: doing.into(),
            source: None,
        }
    }

    /// `error`, which happened while `doing`.
    pub fn internal_from(
        doing: impl Into<Cow<'static, str>>,
        error: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self::Internal {
            doing: doing.into(),
            source: Some(Box::new(error)),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) | Self::Validation(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge | Self::StorageFull(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Gone(_) => StatusCode::GONE,
            Self::Locked => StatusCode::LOCKED,
            Self::OffsetMismatch { .. } => StatusCode::CONFLICT,
            Self::ChecksumMismatch(_) => StatusCode::from_u16(460).unwrap_or(StatusCode::BAD_REQUEST),
            Self::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<StorageError> for ApiError {
    fn from(error: StorageError) -> Self {
        match error {
            StorageError::Conflict(message) => Self::Conflict(message.to_string()),
            StorageError::NotFound(what) => Self::BadRequest(what.to_string()),
            other => Self::internal_from("using the database", other),
        }
    }
}

/// `.context("saving the user")?`: a failure of the server's own, with what it was doing.
pub trait Context<T> {
    fn context(self, doing: &'static str) -> ApiResult<T>;
}

impl<T, E: std::error::Error + Send + Sync + 'static> Context<T> for Result<T, E> {
    fn context(self, doing: &'static str) -> ApiResult<T> {
        self.map_err(|error| ApiError::internal_from(doing, error))
    }
}

/// A storage error whose violated constraint is one of `constraints` becomes that constraint's
/// message, as a 400 (the check before the write lost a race); any other stays what it is.
pub fn on_constraint(error: StorageError, constraints: &[(&str, &'static str)]) -> ApiError {
    let message = error
        .unique_violation()
        .and_then(|violated| constraints.iter().find(|(name, _)| *name == violated))
        .map(|(_, message)| *message);
    match message {
        Some(message) => ApiError::bad_request(message),
        None => error.into(),
    }
}

impl From<axum::extract::multipart::MultipartError> for ApiError {
    fn from(error: axum::extract::multipart::MultipartError) -> Self {
        Self::BadRequest(format!("Multipart: {}", error.body_text()))
    }
}

impl From<std::io::Error> for ApiError {
    fn from(error: std::io::Error) -> Self {
        match error.kind() {
            // A full disk or quota is the server's problem, but one the admin must see named.
            std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded => Self::StorageFull(error.to_string()),
            _ => Self::internal_from("reading or writing a file", error),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = match &self {
            Self::Validation(issues) => json!({ "message": "Validation failed", "errors": issues }),
            Self::Internal { doing, source } => {
                // The whole chain goes to the log (with the request's correlation id), never to the client.
                let mut chain = String::new();
                let mut cause = source.as_deref().map(|e| e as &(dyn std::error::Error + 'static));
                while let Some(error) = cause {
                    chain.push_str(": ");
                    chain.push_str(&error.to_string());
                    cause = error.source();
                }
                tracing::error!(error = %format!("{doing}{chain}"), "request failed");
                json!({ "message": "Internal server error" })
            }
            Self::StorageFull(detail) => {
                tracing::error!(error = %detail, "media volume is full");
                json!({ "message": self.to_string() })
            }
            other => json!({ "message": other.to_string() }),
        };
        let mut response = (status, axum::Json(body)).into_response();
        if let Self::OffsetMismatch { expected, .. } = self {
            response
                .headers_mut()
                .insert("upload-offset", HeaderValue::from(expected));
        }
        if let Self::TooManyRequests { retry_after_secs } = self
            && let Ok(value) = HeaderValue::from_str(&retry_after_secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    #[test]
    fn internal_errors_keep_what_was_done_and_why() {
        let failed: Result<(), std::io::Error> = Err(std::io::Error::other("disk on fire"));
        let error = failed.context("saving the upload").unwrap_err();
        assert_eq!(error.to_string(), "saving the upload");
        assert_eq!(error.source().map(|e| e.to_string()), Some("disk on fire".to_string()));
        assert_eq!(error.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let missing = ApiError::from(StorageError::NotFound("User not found"));
        assert_eq!(
            (missing.status(), missing.to_string()),
            (StatusCode::BAD_REQUEST, "User not found".to_string())
        );
    }
}
