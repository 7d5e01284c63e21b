//! A panic on the request path must never cost a client its connection. A handler that panics
//! answers 500 in Immich's error shape; a streamed body whose producer panics ends with an error
//! (its headers are already out) instead of taking the connection task down. Each panic is
//! logged inside the request's span, so with its correlation id, and counted.

use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::{Stream, StreamExt};
use tower_http::catch_panic::CatchPanicLayer;

use crate::error::ApiError;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

static PANICS: AtomicU64 = AtomicU64::new(0);

/// How many panics this process has caught on the request path since it started.
pub fn panics_caught() -> u64 {
    PANICS.load(Ordering::Relaxed)
}

/// Turns a panicking handler into `500 {"message":"Internal server error"}`.
pub fn layer() -> CatchPanicLayer<fn(Box<dyn Any + Send + 'static>) -> Response> {
    CatchPanicLayer::custom(answer_panic as fn(Box<dyn Any + Send + 'static>) -> Response)
}

fn answer_panic(panic: Box<dyn Any + Send + 'static>) -> Response {
    ApiError::internal(format!("handler panicked: {}", record(panic.as_ref()))).into_response()
}

fn record(panic: &(dyn Any + Send)) -> &str {
    let count = PANICS.fetch_add(1, Ordering::Relaxed) + 1;
    let message = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)");
    tracing::error!(panic = message, panics_caught = count, "request panicked");
    message
}

/// The one way to send a body produced as it goes (sync lines, zip archives, files).
///
/// The stream is fused: compression reads a body once more after its end (for trailers), and
/// streams such as `unfold` panic when polled after they finished. A panic inside the stream
/// ends the body with an error rather than the connection's task.
pub fn stream_body<S, E>(stream: S) -> Body
where
    S: Stream<Item = Result<Bytes, E>> + Send + 'static,
    E: Into<BoxError> + 'static,
{
    let guarded = AssertUnwindSafe(stream.fuse()).catch_unwind().map(|item| match item {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(error)) => Err(error.into()),
        Err(panic) => Err(BoxError::from(format!(
            "body stream panicked: {}",
            record(panic.as_ref())
        ))),
    });
    #[allow(clippy::disallowed_methods)] // this is the wrapper the lint points to
    Body::from_stream(guarded.fuse())
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::http::{Request, StatusCode};
    use axum::routing::get;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    use super::*;

    #[tokio::test]
    async fn a_panicking_handler_answers_500_in_immichs_shape() {
        let before = panics_caught();
        let app: Router = Router::new()
            .route("/boom", get(|| async { panic!("boom") as &'static str }))
            .layer(layer());
        let response = app
            .oneshot(Request::get("/boom").body(Body::empty()).expect("request"))
            .await
            .expect("answer");
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = response.into_body().collect().await.expect("body").to_bytes();
        assert_eq!(&body[..], br#"{"message":"Internal server error"}"#);
        assert!(panics_caught() > before);
    }

    #[tokio::test]
    async fn a_finished_stream_may_be_polled_again() {
        let unfold = futures::stream::unfold(0, |n| async move {
            (n < 2).then(|| (Ok::<_, std::io::Error>(Bytes::from_static(b"x")), n + 1))
        });
        let mut body = stream_body(unfold);
        let mut frames = 0;
        while let Some(frame) = body.frame().await {
            frame.expect("frame");
            frames += 1;
        }
        assert_eq!(frames, 2);
        // What tower-http's compression does after the end: it must not panic.
        assert!(body.frame().await.is_none());
    }

    #[tokio::test]
    async fn a_panicking_stream_ends_the_body_with_an_error() {
        let before = panics_caught();
        let stream =
            futures::stream::iter([Ok::<_, std::io::Error>(Bytes::from_static(b"a"))]).chain(futures::stream::poll_fn(
                |_| -> std::task::Poll<Option<Result<Bytes, std::io::Error>>> { panic!("mid-body") },
            ));
        let mut body = stream_body(stream);
        assert!(body.frame().await.expect("first").is_ok());
        assert!(body.frame().await.expect("second").is_err());
        assert!(body.frame().await.is_none());
        assert!(panics_caught() > before);
    }
}
