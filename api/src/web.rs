//! Serving the official Immich web build from `$IMMICH_BUILD_DATA/www`: precompressed siblings
//! when accepted, long-lived caching for hashed assets, and `index.html` for deep links.

use std::convert::Infallible;
use std::path::Path;

use axum::body::Body;
use axum::http::{HeaderValue, Request, Response, header};
use tower::ServiceExt;
use tower::util::BoxCloneSyncService;
use tower_http::services::{ServeDir, ServeFile};

pub type WebService = BoxCloneSyncService<Request<Body>, Response<Body>, Infallible>;

pub fn service(root: &Path) -> Option<WebService> {
    let index = root.join("index.html");
    if !index.is_file() {
        return None;
    }
    let files = ServeDir::new(root)
        .precompressed_br()
        .precompressed_gzip()
        .fallback(ServeFile::new(index).precompressed_br().precompressed_gzip());
    let service = files.map_request(|request: Request<Body>| request).map_response(|response| {
        let (mut parts, body) = response.into_parts();
        let _ = &mut parts;
        Response::from_parts(parts, Body::new(body))
    });
    let with_cache = tower::service_fn(move |request: Request<Body>| {
        let immutable = request.uri().path().starts_with("/_app/immutable/");
        let service = service.clone();
        async move {
            let mut response = service.oneshot(request).await?;
            let value = if immutable { "public, max-age=31536000, immutable" } else { "no-cache" };
            if response.status().is_success() {
                response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
            }
            Ok::<_, Infallible>(response)
        }
    });
    Some(BoxCloneSyncService::new(with_cache))
}
