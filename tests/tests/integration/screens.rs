//! The official Immich 3.x apps' ordinary screens, call by call, for a signed-in user who is
//! not an admin and has a little of everything: the web app's and the mobile app's requests
//! as they send them (same paths, query parameters in the same order, same bodies, the session
//! in the `immich_access_token` cookie), each of which must answer 2xx with a body that keeps
//! to Immich's OpenAPI spec. Read from the apps' sources (Immich 3.0.3): the web's
//! `routes/**/+page.ts` loaders, the side bar and top bar components, the timeline, asset
//! viewer and memory managers; the mobile app's `SyncApiRepository` and API repositories.
//!
//! Left out on purpose: machine-learning calls the web only makes when `/api/server/features`
//! turns them on (smart search `POST /api/search/smart`), admin pages, the workflows page
//! (`/api/workflows`, `/api/plugins/*`), actions that change data, the Socket.IO connection
//! (see `clients::live_events_reach_socket_io_clients_across_processes`) and map tiles (not
//! the API).

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;

use darkroom_tests::{TestServer, fixtures};
use futures::FutureExt;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// One request of a screen: `<name>` placeholders are filled from the test's data.
struct Call {
    screen: &'static str,
    method: &'static str,
    path: &'static str,
    query: &'static str,
    body: &'static str,
}

/// `"screen" METHOD "/path" ? "query" => "json body";` (query and body optional).
macro_rules! calls {
    ($($screen:literal $method:ident $path:literal $(? $query:literal)? $(=> $body:literal)?;)*) => {
        &[$(Call {
            screen: $screen,
            method: stringify!($method),
            path: $path,
            query: concat!("" $(, $query)?),
            body: concat!("" $(, $body)?),
        },)*]
    };
}

/// The web app (`web/src`), page by page.
const WEB: &[Call] = calls! {
    // Every page: the root layout's start-up, the side bar and the top bar.
    "start-up"              GET  "/api/server/config";
    "start-up"              GET  "/api/users/me";
    "start-up"              GET  "/api/users/me/preferences";
    "start-up"              GET  "/api/server/about";              // no licence on the user: is the server's?
    "start-up"              GET  "/api/server/features";
    "start-up"              GET  "/api/server/media-types";        // the upload manager's extensions
    "side bar"              GET  "/api/albums";                    // recent albums
    "side bar"              GET  "/api/server/storage";
    "side bar"              GET  "/api/server/about";
    "side bar"              GET  "/api/server/version-history";
    "top bar: bell"         GET  "/api/notifications" ? "unread=true";
    "top bar: avatar"       GET  "/api/users/<me>/profile-image" ? "updatedAt=<me.profileChangedAt>";
    "user menu"             GET  "/api/server/about";

    // Photos: the timeline, its memory lane and thumbnails.
    "timeline"              GET  "/api/timeline/buckets" ? "visibility=timeline&withPartners=true&withStacked=true";
    "timeline"              GET  "/api/timeline/bucket" ? "timeBucket=<may>&visibility=timeline&withPartners=true&withStacked=true";
    "timeline"              GET  "/api/timeline/bucket" ? "timeBucket=<july>&visibility=timeline&withPartners=true&withStacked=true";
    "timeline"              GET  "/api/memories" ? "for=<today>";
    "timeline"              GET  "/api/assets/<pool>/thumbnail" ? "size=thumbnail&c=<pool.c>&edited=true";
    "timeline"              GET  "/api/assets/<beach>/thumbnail" ? "size=thumbnail&c=<beach.c>&edited=true";
    "timeline"              GET  "/api/assets/<clip>/thumbnail" ? "size=thumbnail&c=<clip.c>&edited=true";
    "timeline"              GET  "/api/assets/<theirs>/thumbnail" ? "size=thumbnail&c=<theirs.c>&edited=true";

    // The asset viewer (`/photos/<id>`) and its info panel.
    "asset viewer"          GET  "/api/assets/<beach>";
    "asset viewer"          GET  "/api/assets/<beach>/thumbnail" ? "size=preview&c=<beach.c>&edited=true";
    "asset viewer"          GET  "/api/assets/<beach>/ocr";
    "asset viewer"          GET  "/api/faces" ? "id=<beach>";
    "asset viewer: zoom"    GET  "/api/assets/<beach>/original" ? "c=<beach.c>&edited=true";
    "info panel"            GET  "/api/albums" ? "assetId=<beach>";
    "asset viewer: video"   GET  "/api/assets/<clip>";
    "asset viewer: video"   GET  "/api/assets/<clip>/ocr";
    "asset viewer: video"   GET  "/api/faces" ? "id=<clip>";
    "asset viewer: video"   GET  "/api/assets/<clip>/video/playback" ? "c=<clip.c>";
    "asset viewer: stack"   GET  "/api/assets/<burst>";
    "asset viewer: stack"   GET  "/api/stacks/<stack>";
    "asset viewer: partner" GET  "/api/assets/<theirs>";
    "asset viewer: partner" GET  "/api/assets/<theirs>/thumbnail" ? "size=preview&c=<theirs.c>&edited=true";

    // Explore, places, people.
    "explore"               GET  "/api/search/explore";
    "explore"               GET  "/api/people" ? "withHidden=false";
    "places"                GET  "/api/search/cities";
    "people"                GET  "/api/people" ? "withHidden=true";

    // Sharing: shared albums, partners, a partner's photos, shared links.
    "sharing"               GET  "/api/albums" ? "isShared=true";
    "sharing"               GET  "/api/partners" ? "direction=shared-with";
    "partner's photos"      GET  "/api/users/<partner>";
    "partner's photos"      GET  "/api/timeline/buckets" ? "userId=<partner>&visibility=timeline&withStacked=true";
    "partner's photos"      GET  "/api/timeline/bucket" ? "timeBucket=<may>&userId=<partner>&visibility=timeline&withStacked=true";
    "shared links"          GET  "/api/shared-links";
    "shared link: edit"     GET  "/api/shared-links" ? "id=<link>";

    // Albums: the list, then one album shared with the partner (so with its activity).
    "albums"                GET  "/api/albums" ? "isShared=true";
    "albums"                GET  "/api/albums" ? "isOwned=true";
    "albums"                GET  "/api/assets/<album.thumb>/thumbnail" ? "edited=true";
    "album"                 GET  "/api/albums/<album>";
    "album"                 GET  "/api/albums/<album>/map-markers";
    "album"                 GET  "/api/timeline/buckets" ? "albumId=<album>&order=desc";
    "album"                 GET  "/api/timeline/bucket" ? "albumId=<album>&order=desc&timeBucket=<july>";
    "album"                 GET  "/api/activities" ? "albumId=<album>";
    "album"                 GET  "/api/activities" ? "albumId=<album>&level=album&type=like&userId=<me>";
    "album"                 GET  "/api/activities/statistics" ? "albumId=<album>";
    "album: asset"          GET  "/api/activities" ? "albumId=<album>&assetId=<beach>";
    "album: asset"          GET  "/api/activities" ? "albumId=<album>&assetId=<beach>&type=like&userId=<me>";
    "album: asset"          GET  "/api/activities/statistics" ? "albumId=<album>&assetId=<beach>";
    "album: add photos"     GET  "/api/timeline/buckets" ? "visibility=timeline&withPartners=true";
    "album: add photos"     GET  "/api/timeline/bucket" ? "timeBucket=<may>&visibility=timeline&withPartners=true";
    "album: add photos"     GET  "/api/timeline/bucket" ? "albumId=<album>&timeBucket=<may>";

    // The user's settings (`/user-settings`), section by section.
    "settings"              GET  "/api/api-keys";
    "settings"              GET  "/api/sessions";
    "settings: usage"       GET  "/api/assets/statistics" ? "visibility=timeline";
    "settings: usage"       GET  "/api/assets/statistics" ? "isFavorite=true";
    "settings: usage"       GET  "/api/assets/statistics" ? "visibility=archive";
    "settings: usage"       GET  "/api/assets/statistics" ? "isTrashed=true";
    "settings: usage"       GET  "/api/albums/statistics";
    "settings: usage"       GET  "/api/users/me/calendar-heatmap" ? "from=<heatmap.from>&to=<heatmap.to>&type=Upload";
    "settings: usage"       GET  "/api/users/me/calendar-heatmap" ? "from=<heatmap.from>&to=<heatmap.to>&type=Taken";
    "settings: partners"    GET  "/api/partners" ? "direction=shared-by";
    "settings: partners"    GET  "/api/partners" ? "direction=shared-with";
    "settings: PIN code"    GET  "/api/auth/status";
    "settings: purchase"    GET  "/api/server/about";
    "settings: purchase"    GET  "/api/users/me";

    // Search: the default ("smart") search type sends `query`, and with smart search off the
    // page runs the metadata search with it; then a file-name search; then the filters.
    "search"                POST "/api/search/metadata" => r#"{"visibility":"timeline","page":1,"withExif":true,"query":"beach"}"#;
    "search"                POST "/api/search/metadata" => r#"{"visibility":"timeline","page":1,"withExif":true,"originalFileName":"beach"}"#;
    "search: filters"       GET  "/api/search/suggestions" ? "includeNull=true&type=country";
    "search: filters"       GET  "/api/search/suggestions" ? "includeNull=true&type=state";
    "search: filters"       GET  "/api/search/suggestions" ? "type=city";
    "search: filters"       GET  "/api/search/suggestions" ? "includeNull=true&type=camera-make";
    "search: filters"       GET  "/api/search/suggestions" ? "includeNull=true&type=camera-model";
    "search: filters"       GET  "/api/search/suggestions" ? "includeNull=true&type=camera-lens-model";
    "search: filters"       GET  "/api/search/suggestions" ? "includeNull=true&make=Darkroom&type=camera-model";
    "search: filters"       GET  "/api/tags";
    "search: filters"       GET  "/api/people" ? "withHidden=false";

    // Map: the markers with the default settings, then a cluster's photos.
    "map"                   GET  "/api/map/markers";
    "map"                   GET  "/api/timeline/buckets" ? "bbox=<bbox>&visibility=timeline";
    "map"                   GET  "/api/timeline/bucket" ? "bbox=<bbox>&timeBucket=<july>&visibility=timeline";

    // Favourites, archive, trash, locked folder (PIN set, session unlocked), recently added.
    "favorites"             GET  "/api/timeline/buckets" ? "isFavorite=true&withStacked=true";
    "favorites"             GET  "/api/timeline/bucket" ? "isFavorite=true&timeBucket=<july>&withStacked=true";
    "archive"               GET  "/api/timeline/buckets" ? "visibility=archive";
    "archive"               GET  "/api/timeline/bucket" ? "timeBucket=<may>&visibility=archive";
    "trash"                 GET  "/api/timeline/buckets" ? "isTrashed=true";
    "trash"                 GET  "/api/timeline/bucket" ? "isTrashed=true&timeBucket=<may>";
    "locked folder"         GET  "/api/auth/status";
    "locked folder"         GET  "/api/timeline/buckets" ? "visibility=locked";
    "locked folder"         GET  "/api/timeline/bucket" ? "timeBucket=<may>&visibility=locked";
    "recently added"        GET  "/api/timeline/buckets" ? "orderBy=createdAt&visibility=timeline&withPartners=true&withStacked=true";
    "recently added"        GET  "/api/timeline/bucket" ? "orderBy=createdAt&timeBucket=<now>&visibility=timeline&withPartners=true&withStacked=true";

    // Memories (`/memory`), tags, folders, utilities.
    "memories"              GET  "/api/memories" ? "for=<today>";
    "memories"              GET  "/api/assets/<beach>";
    "tags"                  GET  "/api/tags";
    "tags"                  GET  "/api/timeline/buckets" ? "tagId=<tag>";
    "tags"                  GET  "/api/timeline/bucket" ? "tagId=<tag>&timeBucket=<july>";
    "folders"               GET  "/api/view/folder/unique-paths";
    "folders"               GET  "/api/view/folder" ? "path=<folder>";
    "utilities: large files" POST "/api/search/large-assets" ? "minFileSize=0";
    "utilities: duplicates" GET  "/api/duplicates";
    "utilities: geolocation" GET "/api/timeline/buckets" ? "visibility=timeline&withCoordinates=true&withPartners=true&withStacked=true";
    "utilities: geolocation" GET "/api/timeline/bucket" ? "timeBucket=<july>&visibility=timeline&withCoordinates=true&withPartners=true&withStacked=true";

    // The user menu's last item.
    "user menu: sign out"   POST "/api/auth/logout";
};

/// The web app for someone who opened a shared link (`/share/<key>`), signed in or not: the
/// key goes in the query.
const SHARED_LINK_GUEST: &[Call] = calls! {
    "shared link"           GET  "/api/server/config";
    "shared link"           GET  "/api/server/features";
    "shared link"           GET  "/api/shared-links/me" ? "key=<link.key>";
    "shared link"           GET  "/api/assets/<beach>" ? "key=<link.key>";
    "shared link"           GET  "/api/assets/<beach>/thumbnail" ? "key=<link.key>&size=preview&c=<beach.c>&edited=true";
    "shared album link"     GET  "/api/shared-links/me" ? "key=<albumlink.key>";
    "shared album link"     GET  "/api/albums/<album>/map-markers" ? "key=<albumlink.key>";
    "shared album link"     GET  "/api/timeline/buckets" ? "albumId=<album>&key=<albumlink.key>&order=desc";
    "shared album link"     GET  "/api/timeline/bucket" ? "albumId=<album>&key=<albumlink.key>&order=desc&timeBucket=<july>";
    "shared album link"     GET  "/api/assets/<beach>/thumbnail" ? "key=<albumlink.key>&size=thumbnail&c=<beach.c>&edited=true";
};

/// The mobile app (`mobile/lib`): its timeline is the sync stream; what else it asks the API.
const MOBILE: &[Call] = calls! {
    "server address"        GET  "/.well-known/immich";
    "server address"        GET  "/api/server/ping";
    "start-up"              GET  "/api/server/version";
    "start-up"              GET  "/api/server/features";
    "start-up"              GET  "/api/server/config";
    "start-up"              POST "/api/auth/validateToken";
    "start-up"              GET  "/api/users/me";
    "start-up"              GET  "/api/users/me/preferences";
    "app bar: avatar"       GET  "/api/users/<me>/profile-image" ? "d=<me.profileChangedMillis>";
    "backup: storage"       GET  "/api/server/storage";
    "timeline"              POST "/api/sync/stream" => r#"{"types":["AuthUsersV1","UsersV1","AssetsV2","AssetExifsV1","AssetEditsV1","AssetMetadataV1","PartnersV1","PartnerAssetsV2","PartnerAssetExifsV1","AlbumsV2","AlbumUsersV1","AlbumAssetsV2","AlbumAssetExifsV1","AlbumToAssetsV1","MemoriesV1","MemoryToAssetsV1","StacksV1","PartnerStacksV1","UserMetadataV1","PeopleV1","AssetFacesV2","AssetOcrV1"]}"#;
    "timeline"              POST "/api/sync/ack" => r#"{"acks":<acks>}"#;
    "timeline"              GET  "/api/assets/<pool>/thumbnail" ? "size=thumbnail&edited=true&c=<pool.c>";
    "timeline"              GET  "/api/assets/<theirs>/thumbnail" ? "size=thumbnail&edited=true&c=<theirs.c>";
    "asset viewer"          GET  "/api/assets/<beach>/thumbnail" ? "size=preview&edited=true&c=<beach.c>";
    "asset viewer"          GET  "/api/assets/<beach>/original" ? "edited=true";
    "asset viewer: video"   GET  "/api/assets/<clip>/video/playback";
    "asset viewer: album"   GET  "/api/activities" ? "albumId=<album>&assetId=<beach>";
    "asset viewer: album"   GET  "/api/activities/statistics" ? "albumId=<album>&assetId=<beach>";
    "search"                POST "/api/search/metadata" => r#"{"originalFileName":"beach","visibility":"timeline","personIds":[],"page":1,"size":1000}"#;
    "search: filters"       GET  "/api/search/suggestions" ? "type=country";
    "search: filters"       GET  "/api/search/suggestions" ? "country=France&type=state";
    "search: filters"       GET  "/api/search/suggestions" ? "type=camera-make";
    "search: filters"       GET  "/api/search/suggestions" ? "make=Darkroom&type=camera-model";
    "search: filters"       GET  "/api/people";
    "search: filters"       GET  "/api/tags";
    "library: shared links" GET  "/api/shared-links";
    "library: folders"      GET  "/api/view/folder/unique-paths";
    "library: folders"      GET  "/api/view/folder" ? "path=<folder>";
    "library: locked"       GET  "/api/auth/status";
    "album: share"          GET  "/api/users";
};

/// Percent-encodes a query value as `encodeURIComponent` does.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn fill(template: &str, vars: &HashMap<&'static str, String>) -> String {
    let mut text = template.to_string();
    for (name, value) in vars {
        text = text.replace(&format!("<{name}>"), value);
    }
    assert!(!text.contains('<'), "unfilled placeholder in {text}");
    text
}

/// How a client proves who it is: both apps keep the session in cookies.
#[derive(Clone, Copy)]
enum Client<'a> {
    Session(&'a str),
    Guest,
}

/// Sends every call; returns a line for each one that did not answer 2xx or broke the spec.
async fn run(
    server: &TestServer,
    client: Client<'_>,
    calls: &[Call],
    vars: &mut HashMap<&'static str, String>,
) -> Vec<String> {
    let mut failures = Vec::new();
    for call in calls {
        let query = fill(call.query, vars);
        let url = if query.is_empty() {
            fill(call.path, vars)
        } else {
            format!("{}?{query}", fill(call.path, vars))
        };
        let method = Method::from_bytes(call.method.as_bytes()).expect("method");
        let mut request = server.request(method, &url);
        if let Client::Session(token) = client {
            let cookies =
                format!("immich_access_token={token}; immich_auth_type=password; immich_is_authenticated=true");
            request = request.header("cookie", cookies);
        }
        if !call.body.is_empty() {
            let body: Value = serde_json::from_str(&fill(call.body, vars)).expect("JSON body");
            request = request.json(&body);
        }
        if call.path == "/api/sync/stream" {
            request = request.header("accept", "application/jsonlines+json");
        }
        if let Err(error) = answer(server, call, request, vars).await {
            failures.push(format!("{:<24} {} {url} → {error}", call.screen, call.method));
        }
    }
    failures
}

/// Sends one call; `Err` says how its answer failed.
async fn answer(
    server: &TestServer,
    call: &Call,
    request: reqwest::RequestBuilder,
    vars: &mut HashMap<&'static str, String>,
) -> Result<(), String> {
    // Suggestions with `includeNull`: Immich appends a null that the spec's array of strings
    // leaves out, so the harness cannot judge them; they are checked here.
    if call.query.contains("includeNull=true") {
        let reply = request.send().await.map_err(|e| e.to_string())?;
        let status = reply.status();
        let bytes = reply.bytes().await.map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&bytes);
        if !status.is_success() {
            return Err(format!("{status}: {text}"));
        }
        let items: Vec<Value> = serde_json::from_slice(&bytes).map_err(|e| format!("{e}: {text}"))?;
        let all_strings = |rest: &[Value]| rest.iter().all(Value::is_string);
        if !items
            .split_last()
            .is_some_and(|(last, rest)| last.is_null() && all_strings(rest))
        {
            return Err(format!("not strings then a null: {text}"));
        }
        return Ok(());
    }
    match AssertUnwindSafe(server.send(request)).catch_unwind().await {
        // The sync stream's JSON lines: whole, `SyncCompleteV1` last, and the app's acks kept.
        Ok(reply) if reply.status.is_success() && call.path == "/api/sync/stream" => {
            let text = String::from_utf8_lossy(&reply.bytes);
            let lines: Vec<Value> = text
                .lines()
                .map(serde_json::from_str)
                .collect::<Result<_, _>>()
                .map_err(|e| format!("{e}: {text}"))?;
            if lines.last().is_none_or(|line| line["type"] != "SyncCompleteV1") {
                return Err(format!("no SyncCompleteV1 at the end: {text}"));
            }
            vars.insert("acks", mobile_acks(&lines));
            Ok(())
        }
        Ok(reply) if reply.status.is_success() => Ok(()),
        Ok(reply) => Err(format!("{}: {}", reply.status, reply.body)),
        Err(panic) => Err(panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default()),
    }
}

/// What the mobile app acknowledges after a stream: the last ack of each run of one type.
fn mobile_acks(lines: &[Value]) -> String {
    let last_of_run = |(i, line): (usize, &Value)| {
        let next = lines.get(i + 1);
        next.is_none_or(|next| next["type"] != line["type"])
            .then(|| line["ack"].clone())
    };
    Value::from(lines.iter().enumerate().filter_map(last_of_run).collect::<Vec<_>>()).to_string()
}

/// A step of the set-up: who, method, path, JSON body (optional), and values to keep from the
/// answer (`-> "name" "/json/pointer"`, percent-encoded for queries).
struct Step {
    who: &'static str,
    method: &'static str,
    path: &'static str,
    body: &'static str,
    keep: &'static [(&'static str, &'static str)],
}

macro_rules! steps {
    ($($who:ident $method:ident $path:literal $(=> $body:literal)? $(-> $($name:literal $pointer:literal),+)?;)*) => {
        &[$(Step {
            who: stringify!($who),
            method: stringify!($method),
            path: $path,
            body: concat!("" $(, $body)?),
            keep: &[$($(($name, $pointer)),+)?],
        },)*]
    };
}

/// The user's library after the uploads: a favourite, an archived, a trashed and a locked
/// photo (PIN set, session unlocked), a stack, a tag, partners both ways, an album shared with
/// the partner (with a comment) and one the partner shares back, two shared links, a memory.
const SETUP: &[Step] = steps! {
    me      PUT    "/api/assets" => r#"{"ids":["<beach>"],"isFavorite":true}"#;
    me      PUT    "/api/assets" => r#"{"ids":["<old>"],"visibility":"archive"}"#;
    me      DELETE "/api/assets" => r#"{"ids":["<gone>"]}"#;
    me      POST   "/api/stacks" => r#"{"assetIds":["<burst>","<burst2>"]}"# -> "stack" "/id";
    me      POST   "/api/auth/pin-code" => r#"{"pinCode":"123456"}"#;
    me      POST   "/api/auth/session/unlock" => r#"{"pinCode":"123456"}"#;
    me      PUT    "/api/assets" => r#"{"ids":["<secret>"],"visibility":"locked"}"#;
    me      PUT    "/api/tags" => r#"{"tags":["Travel/Paris"]}"# -> "tag" "/0/id";
    me      PUT    "/api/tags/<tag>/assets" => r#"{"ids":["<beach>"]}"#;
    partner POST   "/api/partners" => r#"{"sharedWithId":"<me>"}"#;
    me      POST   "/api/partners" => r#"{"sharedWithId":"<partner>"}"#;
    me      PUT    "/api/partners/<partner>" => r#"{"inTimeline":true}"#;
    me      POST   "/api/albums" => r#"{"albumName":"Holiday","assetIds":["<beach>","<pool>"],"albumUsers":[{"userId":"<partner>","role":"editor"}]}"# -> "album" "/id";
    me      POST   "/api/activities" => r#"{"albumId":"<album>","assetId":"<beach>","type":"comment","comment":"Lovely"}"#;
    partner POST   "/api/albums" => r#"{"albumName":"Their trip","assetIds":["<theirs>"],"albumUsers":[{"userId":"<me>","role":"viewer"}]}"#;
    me      GET    "/api/albums/<album>" -> "album.thumb" "/albumThumbnailAssetId";
    me      POST   "/api/shared-links" => r#"{"type":"INDIVIDUAL","assetIds":["<beach>"],"allowDownload":true,"showMetadata":true}"# -> "link" "/id", "link.key" "/key";
    me      POST   "/api/shared-links" => r#"{"type":"ALBUM","albumId":"<album>"}"# -> "albumlink.key" "/key";
    me      POST   "/api/memories" => r#"{"type":"on_this_day","data":{"year":2023},"memoryAt":"<today>T00:00:00.000Z","assetIds":["<beach>"]}"#;
    me      GET    "/api/users/me" -> "me.profileChangedAt" "/profileChangedAt";
    me      GET    "/api/assets/<beach>" -> "beach.c" "/thumbhash";
    me      GET    "/api/assets/<pool>" -> "pool.c" "/thumbhash";
    me      GET    "/api/assets/<clip>" -> "clip.c" "/thumbhash";
    me      GET    "/api/assets/<theirs>" -> "theirs.c" "/thumbhash";
    me      GET    "/api/view/folder/unique-paths" -> "folder" "/0";
};

/// Uploads a fixture made for `name` (a JPEG with camera, place and date, an MP4, or a PNG)
/// and waits until it is processed; returns its id.
async fn upload(server: &TestServer, token: &str, name: &str, seed: u32) -> String {
    let id = uuid::Uuid::new_v4().simple();
    let path = std::env::temp_dir().join(format!("darkroom-screens-{id}-{name}"));
    match name.rsplit('.').next() {
        Some("jpg") => fixtures::jpeg_with_exif(&path, seed),
        Some("mp4") => fixtures::mp4(&path, seed),
        _ => fixtures::still(&path, seed),
    }
    let bytes = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let reply = server.upload(token, name, &bytes, &[]).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let id = reply.body["id"].as_str().unwrap().to_string();
    server.wait_until_processed(token, &id).await;
    id
}

fn text(value: &Value) -> String {
    let text = value.as_str().unwrap_or_else(|| panic!("not a string: {value}"));
    text.to_string()
}

/// Two users (the one under test and a partner) with their data; returns the user's token
/// and the values for the tables' placeholders.
async fn seed(server: &TestServer) -> (String, HashMap<&'static str, String>) {
    let admin = server.admin_token().await;
    let me = server.user_token(&admin, "screens@immich.cloud").await;
    let partner = server.user_token(&admin, "partner@immich.cloud").await;
    let mut vars: HashMap<&'static str, String> = HashMap::new();
    for (name, token) in [("me", &me), ("partner", &partner)] {
        let user = server.call(Method::GET, "/api/users/me", Some(token), None).await;
        vars.insert(name, text(&user.body["id"]));
    }
    let today = chrono::Utc::now().date_naive();
    vars.insert("today", today.to_string());
    let files = [("beach", "beach.jpg"), ("pool", "pool.png"), ("clip", "clip.mp4")];
    let more = [("burst", "burst-1.png"), ("burst2", "burst-2.png"), ("old", "old.png")];
    let last = [("gone", "gone.png"), ("secret", "secret.png")];
    for (seed, (name, file)) in (1..).zip(files.into_iter().chain(more).chain(last)) {
        vars.insert(name, upload(server, &me, file, seed).await);
    }
    vars.insert("theirs", upload(server, &partner, "theirs.png", 9).await);

    let picture = std::env::temp_dir().join(format!("darkroom-screens-{}.jpg", vars["me"]));
    fixtures::still(&picture, 10);
    let part = reqwest::multipart::Part::bytes(std::fs::read(&picture).unwrap());
    std::fs::remove_file(&picture).unwrap();
    let form = reqwest::multipart::Form::new().part("file", part.file_name("me.jpg"));
    let request = server.request(Method::POST, "/api/users/profile-image");
    let reply = server.send(request.bearer_auth(&me).multipart(form)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);

    for step in SETUP {
        let token = if step.who == "me" { &me } else { &partner };
        let method = Method::from_bytes(step.method.as_bytes()).expect("method");
        let body = (!step.body.is_empty()).then(|| serde_json::from_str(&fill(step.body, &vars)).expect("JSON body"));
        let reply = server.call(method, &fill(step.path, &vars), Some(token), body).await;
        assert!(
            reply.status.is_success(),
            "{}: {} {}",
            step.path,
            reply.status,
            reply.body
        );
        for (name, pointer) in step.keep {
            let value = reply.body.pointer(pointer).unwrap_or_else(|| panic!("{pointer}"));
            vars.insert(name, encode(&text(value)));
        }
    }
    let user = server.call(Method::GET, "/api/users/me", Some(&me), None).await;
    let changed = chrono::DateTime::parse_from_rfc3339(&text(&user.body["profileChangedAt"]));
    let millis = changed.expect("profileChangedAt").timestamp_millis();
    vars.insert("me.profileChangedMillis", millis.to_string());

    // The web's dates: months as UTC instants, today as yyyy-MM-dd, the heat map's year from
    // a Sunday.
    let month = |month: &str| encode(&format!("{month}-01T00:00:00.000Z"));
    vars.insert("may", month("2024-05"));
    vars.insert("july", month("2023-07"));
    vars.insert("now", month(&today.format("%Y-%m").to_string()));
    use chrono::Datelike;
    let from = today - chrono::Duration::weeks(51) + chrono::Duration::days(1);
    let from = from - chrono::Duration::days(i64::from(from.weekday().num_days_from_sunday()));
    vars.insert("heatmap.from", from.to_string());
    vars.insert("heatmap.to", today.to_string());
    // The map's selection around the Eiffel Tower, as "west,south,east,north".
    vars.insert("bbox", encode("2.294,48.858,2.295,48.859"));
    // Filled by the mobile sync stream's answer.
    vars.insert("acks", "[]".to_string());
    (me, vars)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_and_mobile_screens_answer_for_a_signed_in_user() {
    let server = TestServer::start().await;
    let (web_session, mut vars) = seed(&server).await;

    // The phone signs in for itself, naming the device as the app does.
    let login = server
        .request(Method::POST, "/api/auth/login")
        .header("deviceModel", "Pixel 8")
        .header("deviceType", "Android")
        .json(&json!({"email": "screens@immich.cloud", "password": "password"}));
    let login = server.send(login).await;
    assert_eq!(login.status, StatusCode::CREATED, "{}", login.body);
    let phone = text(&login.body["accessToken"]);

    let mut failures = Vec::new();
    let web = Client::Session(&web_session);
    failures.extend(run(&server, Client::Guest, SHARED_LINK_GUEST, &mut vars).await);
    failures.extend(run(&server, web, SHARED_LINK_GUEST, &mut vars).await);
    failures.extend(run(&server, Client::Session(&phone), MOBILE, &mut vars).await);
    failures.extend(run(&server, web, WEB, &mut vars).await);
    let total = 2 * SHARED_LINK_GUEST.len() + MOBILE.len() + WEB.len();
    let list = failures.join("\n");
    assert!(
        failures.is_empty(),
        "{} of {total} calls failed:\n{list}",
        failures.len()
    );
}
