//! The one error type of the API, and how each error looks to a client (Immich's bodies).

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
    #[error("internal error: {0}")]
    Internal(String),
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

    pub fn internal(error: impl std::fmt::Display) -> Self {
        Self::Internal(error.to_string())
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
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<StorageError> for ApiError {
    fn from(error: StorageError) -> Self {
        match error {
            StorageError::Conflict(message) => Self::Conflict(message.to_string()),
            other => Self::Internal(other.to_string()),
        }
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
            _ => Self::Internal(error.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = match &self {
            Self::Validation(issues) => json!({ "message": "Validation failed", "errors": issues }),
            Self::Internal(detail) => {
                // The detail goes to the log (with the request's correlation id), never to the client.
                tracing::error!(error = %detail, "request failed");
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
