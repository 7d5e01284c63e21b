//! Resumable uploads, which Immich lacks: tus 1.0 under `/api/upload/tus` and the IETF
//! resumable-upload draft (as Immich's proposed implementation speaks it) under `/api/upload`.
//! Both end like `POST /api/assets`: the same checks, the same de-duplication, the same answer.

mod rufh;
mod tus;

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::response::Response;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub use rufh::{rufh_create, rufh_delete, rufh_head, rufh_options, rufh_patch};
pub use tus::{tus_create, tus_delete, tus_head, tus_options, tus_override, tus_patch};

fn header_text<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim)
}

fn header_number(headers: &HeaderMap, name: &str) -> ApiResult<Option<u64>> {
    match header_text(headers, name) {
        None => Ok(None),
        Some(text) => text
            .parse()
            .map(Some)
            .map_err(|_| ApiError::bad_request(format!("Invalid {name} header"))),
    }
}

fn set(response: &mut Response, name: &'static str, value: impl ToString) {
    if let Ok(value) = HeaderValue::from_str(&value.to_string()) {
        response.headers_mut().insert(HeaderName::from_static(name), value);
    }
}

/// The resumable-upload routes (not part of Immich's API, so not in its route table).
pub fn routes(state: &AppState) -> axum::Router<AppState> {
    use crate::auth::Access;
    use crate::permission::Permission as P;
    use axum::routing::{MethodFilter, MethodRouter, on};
    let upload = Access::permission(P::AssetUpload);
    let guarded = |router: MethodRouter<AppState>| {
        router.layer(axum::middleware::from_fn_with_state(
            (state.clone(), upload),
            crate::auth::authorize,
        ))
    };
    axum::Router::new()
        .route(
            "/upload",
            guarded(on(MethodFilter::POST, rufh_create)).merge(on(MethodFilter::OPTIONS, rufh_options)),
        )
        .route(
            "/upload/{id}",
            guarded(
                on(MethodFilter::PATCH, rufh_patch)
                    .on(MethodFilter::HEAD, rufh_head)
                    .on(MethodFilter::DELETE, rufh_delete),
            ),
        )
        .route(
            "/upload/tus",
            guarded(on(MethodFilter::POST, tus_create)).merge(on(MethodFilter::OPTIONS, tus_options)),
        )
        .route(
            "/upload/tus/{id}",
            guarded(
                on(MethodFilter::PATCH, tus_patch)
                    .on(MethodFilter::HEAD, tus_head)
                    .on(MethodFilter::DELETE, tus_delete)
                    .on(MethodFilter::POST, tus_override),
            ),
        )
}
