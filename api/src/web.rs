//! Serving the official Immich web build from `$IMMICH_BUILD_DATA/www`: precompressed siblings
//! when accepted, long-lived caching for hashed assets, and `index.html` for deep links —
//! with OpenGraph tags for shared-link pages (`/share/<key>`, `/s/<slug>`), so a link pasted
//! into a chat shows its album's name and picture.

use std::convert::Infallible;
use std::path::Path;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};
use tower::ServiceExt;
use tower::util::BoxCloneSyncService;
use tower_http::services::{ServeDir, ServeFile};

pub type WebService = BoxCloneSyncService<Request<Body>, Response<Body>, Infallible>;

/// Built assets live under `/_app/`; the hashed ones under `/_app/immutable/` never change.
const ASSETS_PREFIX: &str = "/_app/";
const IMMUTABLE_PREFIX: &str = "/_app/immutable/";

use crate::state::AppState;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// `index.html` with the link's card in place of `<!-- metadata:tags -->`.
fn render(index: &str, title: &str, description: &str, image: Option<&str>) -> String {
    let (title, description) = (escape(title), escape(description));
    let image_tags = image.map(escape).map(|url| {
        (
            format!("<meta property=\"og:image\" content=\"{url}\" />"),
            format!("<meta name=\"twitter:image\" content=\"{url}\" />"),
        )
    });
    let (og_image, twitter_image) = image_tags.unwrap_or_default();
    let tags = format!(
        "\n    <meta name=\"description\" content=\"{description}\" />\n    <meta property=\"og:type\" content=\"website\" />\n    <meta property=\"og:title\" content=\"{title}\" />\n    <meta property=\"og:description\" content=\"{description}\" />\n    {og_image}\n    <meta name=\"twitter:card\" content=\"summary_large_image\" />\n    <meta name=\"twitter:title\" content=\"{title}\" />\n    <meta name=\"twitter:description\" content=\"{description}\" />\n    {twitter_image}"
    );
    index.replace("<!-- metadata:tags -->", &tags)
}

/// The page of a shared link: 404 for an unknown or expired one; no card for a password-protected
/// one (its contents are not public).
async fn share_page(
    state: &AppState,
    index: &str,
    key: Option<&str>,
    slug: Option<&str>,
    headers: &HeaderMap,
) -> (StatusCode, String) {
    let key = key.map(crate::auth::decode_share_key);
    let Ok(Some(link)) = darkroom_storage::shared_links::find_usable(&state.db, key.as_deref(), slug).await else {
        return (StatusCode::NOT_FOUND, index.to_string());
    };
    if link.password.is_some() {
        return (StatusCode::OK, index.to_string());
    }
    let Ok(preview) = darkroom_storage::shared_links::preview(&state.db, &link).await else {
        return (StatusCode::OK, index.to_string());
    };
    let configured = state
        .system_config
        .get(&state.db)
        .await
        .ok()
        .and_then(|c| c["server"]["externalDomain"].as_str().map(str::to_string))
        .filter(|d| !d.is_empty());
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty());
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .filter(|p| *p == "https")
        .unwrap_or("http");
    // Without an external domain or a Host header, Immich points cards at its public site.
    let domain = configured
        .or_else(|| host.map(|host| format!("{scheme}://{host}")))
        .unwrap_or_else(|| "https://my.immich.app".into());
    use base64::Engine;
    let key = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&link.key);
    let image = match preview.picture {
        Some(asset) => format!(
            "{}/api/assets/{asset}/thumbnail?key={key}",
            domain.trim_end_matches('/')
        ),
        None => format!("{}/feature-panel.png", domain.trim_end_matches('/')),
    };
    let title = preview.album_name.unwrap_or_else(|| "Public Share".into());
    let description = link
        .description
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| format!("{} shared photos & videos", preview.asset_count));
    (StatusCode::OK, render(index, &title, &description, Some(&image)))
}

pub fn service(root: &Path, state: AppState) -> Option<WebService> {
    let index = root.join("index.html");
    if !index.is_file() {
        return None;
    }
    let index_html: std::sync::Arc<str> = std::fs::read_to_string(&index).ok()?.into();
    // A missing build asset is a 404, never index.html: cached under an immutable name,
    // an HTML page would break the app until the cache expires.
    let assets = ServeDir::new(root).precompressed_br().precompressed_gzip();
    let pages = assets
        .clone()
        .fallback(ServeFile::new(index).precompressed_br().precompressed_gzip());
    Some(BoxCloneSyncService::new(tower::service_fn(
        move |request: Request<Body>| {
            let path = request.uri().path().to_string();
            let immutable = path.starts_with(IMMUTABLE_PREFIX);
            let is_asset = path.starts_with(ASSETS_PREFIX);
            let (assets, pages, state, index_html) = (assets.clone(), pages.clone(), state.clone(), index_html.clone());
            async move {
                let readable = request.method() == Method::GET || request.method() == Method::HEAD;
                let share = path
                    .strip_prefix("/share/")
                    .map(|key| (Some(key), None))
                    .or_else(|| path.strip_prefix("/s/").map(|slug| (None, Some(slug))));
                if let (true, Some((key, slug))) = (readable, share) {
                    let (status, html) = share_page(&state, &index_html, key, slug, request.headers()).await;
                    let mut response = Response::new(Body::from(html));
                    *response.status_mut() = status;
                    response.headers_mut().insert(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("text/html; charset=utf-8"),
                    );
                    response
                        .headers_mut()
                        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                    return Ok::<_, Infallible>(response);
                }
                let response = if is_asset {
                    assets.oneshot(request).await
                } else {
                    pages.oneshot(request).await
                };
                let mut response = response.map_err(|never| match never {})?.map(Body::new);
                if response.status().is_success() {
                    let policy = if immutable {
                        "public, max-age=31536000, immutable"
                    } else {
                        "no-cache"
                    };
                    response
                        .headers_mut()
                        .insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
                }
                Ok::<_, Infallible>(response)
            }
        },
    )))
}
