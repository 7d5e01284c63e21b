//! One access-log line per request, as Loki and CrowdSec read them: written when the last byte
//! of the answer went out (or the client went away), with the client's address as the trusted
//! proxies tell it, the route template, the status, the bytes sent and the time taken.
//!
//! Fields (stable; `IMMICH_LOG_FORMAT=json` makes them JSON keys): `kind` = `access`,
//! `client_ip`, `method`, `route` (empty when no route matched), `path`, `status`, `bytes`,
//! `duration_ms`, `user_agent`, `correlation_id`, and `complete` = false when the client left
//! before the end.

use std::net::IpAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::Body;
use bytes::Bytes;
use http_body::{Body as _, Frame, SizeHint};

/// What is known of a request when its answer starts.
pub struct AccessEntry {
    pub client_ip: IpAddr,
    pub method: String,
    pub route: String,
    pub path: String,
    pub status: u16,
    pub user_agent: String,
    pub correlation_id: String,
    pub started: Instant,
}

impl AccessEntry {
    fn write(&self, bytes: u64, complete: bool) {
        tracing::info!(
            kind = "access",
            client_ip = %self.client_ip,
            method = %self.method,
            route = %self.route,
            path = %self.path,
            status = self.status,
            bytes,
            duration_ms = (self.started.elapsed().as_secs_f64() * 100_000.0).round() / 100.0,
            user_agent = %self.user_agent,
            correlation_id = %self.correlation_id,
            complete,
            "request"
        );
    }
}

/// The answer's body, counted as it goes out; the line is written at its end.
pub struct LoggedBody {
    inner: Body,
    entry: Option<AccessEntry>,
    bytes: u64,
}

impl LoggedBody {
    pub fn new(inner: Body, entry: AccessEntry) -> Self {
        Self {
            inner,
            entry: Some(entry),
            bytes: 0,
        }
    }

    fn finish(&mut self, complete: bool) {
        if let Some(entry) = self.entry.take() {
            entry.write(self.bytes, complete);
        }
    }
}

impl http_body::Body for LoggedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    self.bytes += data.len() as u64;
                }
            }
            Poll::Ready(None) => self.finish(true),
            Poll::Ready(Some(Err(_))) => self.finish(false),
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for LoggedBody {
    fn drop(&mut self) {
        // An empty body may never be polled; a client that left stops the polling early.
        let complete = self.inner.is_end_stream();
        self.finish(complete);
    }
}
