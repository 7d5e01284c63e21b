//! The whole HTTP application: `/api` routes, discovery, custom CSS and the web app, wrapped in
//! correlation ids, request logging, compression, caught panics and drained request bodies;
//! in maintenance mode, the maintenance API instead.

use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, MatchedPath, OriginalUri, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use tower::util::MapRequestLayer;
use tower::{Layer, ServiceExt};
use tracing::Instrument;

use crate::access_log::{AccessEntry, LoggedBody};
use crate::error::ApiError;
use crate::routes;
use crate::state::AppState;

pub fn build(state: AppState) -> Router {
    let api = routes::api_router(&state)
        .merge(routes::resumable_routes(&state))
        .route_layer(middleware::from_fn(mark_route))
        .fallback(not_found)
        .method_not_allowed_fallback(not_found)
        // Uploads stream without a size limit; JSON bodies are capped by `ValidJson`.
        .layer(DefaultBodyLimit::disable());
    let app = Router::new()
        .nest("/api", api)
        .route("/.well-known/immich", get(well_known))
        .route("/custom.css", get(custom_css));
    let app = match crate::web::service(&state.config.web_root(), state.clone()) {
        Some(web) => app.fallback_service(web),
        None => app.fallback(not_found),
    };
    let socket_layer = state.socket_layer.clone();
    let maintenance_api = routes::maintenance::router(&state)
        .route_layer(middleware::from_fn(mark_route))
        .fallback(not_found)
        .method_not_allowed_fallback(not_found)
        .layer(DefaultBodyLimit::disable());
    let maintenance = Router::new().nest("/api", maintenance_api).with_state(state.clone());
    // Outermost first: unread request bodies are drained after any answer, even the socket's;
    // the correlation id's span covers compression and caught panics.
    let app = app
        .layer(middleware::from_fn_with_state(
            (state.clone(), maintenance),
            maintenance_gate,
        ))
        .layer(crate::panic_guard::layer())
        .layer(crate::compression::layer())
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::auth::forward::mark_signed_in,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), correlate))
        .layer(socket_layer)
        .layer(middleware::from_fn(crate::unread_body::drain_unread_body))
        .with_state(state);
    // A layer on a router runs after routing, so the path is trimmed by a router around it.
    Router::new().fallback_service(MapRequestLayer::new(trim_trailing_slash).layer(app))
}

/// In maintenance mode, `/api` is the maintenance API, and the web app's pages send the
/// browser to the maintenance page, as Immich's maintenance worker does.
async fn maintenance_gate(
    State((state, maintenance)): State<(AppState, Router)>,
    request: Request,
    next: Next,
) -> Response {
    if !state.maintenance.is_active() {
        return next.run(request).await;
    }
    let path = request.uri().path();
    if path == "/api" || path.starts_with("/api/") {
        return match maintenance.oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
    }
    let web_root = state.config.web_root();
    let is_page = request.method() == Method::GET
        && !path.starts_with("/maintenance")
        && !matches!(path, "/.well-known/immich" | "/custom.css")
        && web_root.join("index.html").is_file()
        && (path.contains("..") || !web_root.join(path.trim_start_matches('/')).is_file());
    if is_page {
        let target = format!(
            "/maintenance?{}",
            serde_urlencoded::to_string([("continue", path)]).unwrap_or_default()
        );
        return (StatusCode::FOUND, [(header::LOCATION, target)]).into_response();
    }
    next.run(request).await
}

/// `/api/assets/` is `/api/assets`, as Express routes by default (clients and Immich's own tests
/// send both). Socket.IO's path keeps its slash: its handshake is `/api/socket.io/?EIO=4…`.
fn trim_trailing_slash(mut request: Request) -> Request {
    let uri = request.uri();
    let path = uri.path();
    if path.len() > "/api/".len()
        && path.starts_with("/api/")
        && path.ends_with('/')
        && !path.starts_with("/api/socket.io")
    {
        let trimmed = match uri.query() {
            Some(query) => format!("{}?{query}", &path[..path.len() - 1]),
            None => path[..path.len() - 1].to_owned(),
        };
        if let Ok(path_and_query) = trimmed.parse() {
            let mut parts = uri.clone().into_parts();
            parts.path_and_query = Some(path_and_query);
            if let Ok(uri) = axum::http::Uri::from_parts(parts) {
                *request.uri_mut() = uri;
            }
        }
    }
    request
}

/// Unknown routes, named by their full path (the nested `/api` router sees it stripped).
async fn not_found(method: Method, OriginalUri(uri): OriginalUri) -> ApiError {
    ApiError::not_found(format!("Cannot {method} {}", uri.path()))
}

async fn well_known() -> impl IntoResponse {
    axum::Json(json!({ "api": { "endpoint": "/api" } }))
}

async fn custom_css(State(state): State<AppState>) -> Result<Response, ApiError> {
    let css = state.system_config.typed(&state.db).await?.theme.custom_css;
    Ok(([(header::CONTENT_TYPE, "text/css; charset=utf-8")], css).into_response())
}

/// The template of the route that answered (`/api/assets/{id}`), for the metrics: paths with
/// ids would make a series per asset.
#[derive(Clone)]
struct RouteTemplate(String);

async fn mark_route(matched: MatchedPath, request: Request, next: Next) -> Response {
    let template = RouteTemplate(matched.as_str().to_owned());
    let mut response = next.run(request).await;
    response.extensions_mut().insert(template);
    response
}

/// Gives every request a correlation id (the client's `X-Correlation-ID` if it sent a sane one),
/// runs it inside a span carrying that id so every log line of the request names it, returns
/// the id in the response header, counts the request and writes its access-log line.
async fn correlate(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get("x-correlation-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.chars().all(|c| c.is_ascii_graphic()))
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_string);
    let span = tracing::info_span!("request", id = %id, method = %request.method(), path = %request.uri().path());
    let (parts, body) = request.into_parts();
    let mut entry = AccessEntry {
        client_ip: crate::auth::client_ip(&state, &parts),
        method: parts.method.to_string(),
        route: String::new(),
        path: parts.uri.path().to_owned(),
        status: 0,
        user_agent: parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|agent| agent.to_str().ok())
            .unwrap_or_default()
            .to_owned(),
        correlation_id: id.clone(),
        started: Instant::now(),
    };
    let mut response = next.run(Request::from_parts(parts, body)).instrument(span).await;
    let status = response.status();
    if let Some(route) = response.extensions().get::<RouteTemplate>() {
        entry.route.clone_from(&route.0);
    }
    state
        .metrics
        .request_finished(&entry.method, &entry.route, status.as_u16(), entry.started.elapsed());
    if status == StatusCode::PAYLOAD_TOO_LARGE && !is_json(&response) {
        // Limits hit outside our extractors still answer in Immich's shape.
        response = ApiError::PayloadTooLarge.into_response();
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-correlation-id", value);
    }
    entry.status = response.status().as_u16();
    response.map(|body| Body::new(LoggedBody::new(body, entry)))
}

fn is_json(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"))
}
