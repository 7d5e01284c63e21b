//! Early answers to requests whose body was not read.
//!
//! A refused upload (no permission, expired session, a wrong field, a refused type) is answered
//! before its body is read. If the server then closed the connection with the client's bytes
//! still arriving, the kernel would answer them with a reset, and a client still sending (Node's
//! `fetch`, the mobile app's Dart client, browsers) would see a broken pipe instead of the
//! status. So the rest of such a body is read and thrown away after the answer, as Node's HTTP
//! server does for Immich, and the connection stays usable. A hostile client cannot hold the
//! server this way: each drain stops after `DRAIN_BYTES` or `DRAIN_TIME`, and at most
//! `MAX_DRAINS` run at once (past that the connection is simply closed).

use std::pin::Pin;
use std::sync::{Arc, LazyLock, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, HttpBody};
use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use tokio::sync::Semaphore;

const DRAIN_BYTES: u64 = 256 * 1024 * 1024;
const DRAIN_TIME: Duration = Duration::from_secs(60);
const MAX_DRAINS: usize = 64;

static DRAINS: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(MAX_DRAINS));

/// Middleware: lets the handler read the body as usual, and drains what it left unread once
/// the response is on its way.
pub async fn drain_unread_body(request: Request, next: Next) -> Response {
    if request.body().is_end_stream() {
        return next.run(request).await;
    }
    // A client waiting for `100 Continue` sends no body after a final answer: nothing to drain.
    let expects_continue = request
        .headers()
        .get(header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    let leftover = Arc::new(Mutex::new(None));
    let request = request.map(|inner| {
        Body::new(TrackedBody {
            inner,
            polled: false,
            finished: false,
            leftover: Arc::clone(&leftover),
        })
    });
    let response = next.run(request).await;
    let unread = leftover.lock().ok().and_then(|mut slot| slot.take());
    if let Some(Unread { body, polled }) = unread
        && (polled || !expects_continue)
    {
        tokio::spawn(drain(body));
    }
    response
}

async fn drain(body: Body) {
    let Ok(_permit) = DRAINS.try_acquire() else {
        tracing::debug!("too many unread bodies being drained; closing the connection instead");
        return;
    };
    let mut stream = body.into_data_stream();
    let mut drained = 0u64;
    let outcome = tokio::time::timeout(DRAIN_TIME, async {
        while let Some(Ok(chunk)) = futures::StreamExt::next(&mut stream).await {
            drained += chunk.len() as u64;
            if drained > DRAIN_BYTES {
                return false;
            }
        }
        true
    })
    .await;
    if outcome != Ok(true) {
        tracing::debug!(
            drained,
            "stopped draining an unread request body; the connection closes"
        );
    }
}

struct Unread {
    body: Body,
    polled: bool,
}

/// The request body as the handler sees it; when dropped unfinished, it hands what is left to
/// the middleware.
struct TrackedBody {
    inner: Body,
    polled: bool,
    finished: bool,
    leftover: Arc<Mutex<Option<Unread>>>,
}

impl HttpBody for TrackedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        self.polled = true;
        let frame = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(frame, Poll::Ready(None | Some(Err(_)))) {
            self.finished = true;
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for TrackedBody {
    fn drop(&mut self) {
        if self.finished || self.inner.is_end_stream() {
            return;
        }
        if let Ok(mut slot) = self.leftover.lock() {
            *slot = Some(Unread {
                body: std::mem::take(&mut self.inner),
                polled: self.polled,
            });
        }
    }
}
