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

/// Built assets live under `/_app/`; the hashed ones under `/_app/immutable/` never change.
const ASSETS_PREFIX: &str = "/_app/";
const IMMUTABLE_PREFIX: &str = "/_app/immutable/";

pub fn service(root: &Path) -> Option<WebService> {
    let index = root.join("index.html");
    if !index.is_file() {
        return None;
    }
    // A missing build asset is a 404, never index.html: cached under an immutable name,
    // an HTML page would break the app until the cache expires.
    let assets = ServeDir::new(root).precompressed_br().precompressed_gzip();
    let pages = assets.clone().fallback(ServeFile::new(index).precompressed_br().precompressed_gzip());
    Some(BoxCloneSyncService::new(tower::service_fn(move |request: Request<Body>| {
        let path = request.uri().path();
        let immutable = path.starts_with(IMMUTABLE_PREFIX);
        let is_asset = path.starts_with(ASSETS_PREFIX);
        let (assets, pages) = (assets.clone(), pages.clone());
        async move {
            let response = if is_asset { assets.oneshot(request).await } else { pages.oneshot(request).await };
            let mut response = response.map_err(|never| match never {})?.map(Body::new);
            if response.status().is_success() {
                let policy = if immutable { "public, max-age=31536000, immutable" } else { "no-cache" };
                response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
            }
            Ok::<_, Infallible>(response)
        }
    })))
}
