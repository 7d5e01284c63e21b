//! The access matrix: each endpoint family against every kind of caller — owner, stranger,
//! partner, album editor, album viewer, shared link with and without a password, expired
//! link, API key without the permission — must answer exactly as allowed, and a refusal must
//! carry none of the asset's bytes.

use darkroom_tests::{ADMIN_EMAIL, ADMIN_PASSWORD, TestServer, fixtures};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[derive(Debug, Clone)]
enum Caller {
    Token(&'static str, String),
    ApiKey(String),
    /// A shared link's key, and the password cookie when it has been entered.
    Link(&'static str, String, Option<String>),
}

impl Caller {
    fn name(&self) -> &str {
        match self {
            Self::Token(name, _) | Self::Link(name, _, _) => name,
            Self::ApiKey(_) => "api key without the permission",
        }
    }
}

async fn call(
    server: &TestServer,
    caller: &Caller,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, bytes::Bytes) {
    let mut request = match caller {
        Caller::Link(_, key, _) => {
            let separator = if path.contains('?') { '&' } else { '?' };
            server.request(method, &format!("{path}{separator}key={key}"))
        }
        _ => server.request(method, path),
    };
    request = match caller {
        Caller::Token(_, token) => request.bearer_auth(token),
        Caller::ApiKey(key) => request.header("x-api-key", key),
        Caller::Link(_, _, Some(cookie)) => request.header("cookie", cookie),
        Caller::Link(_, _, None) => request,
    };
    if let Some(body) = body {
        request = request.json(&body);
    }
    let reply = request.send().await.unwrap();
    (reply.status(), reply.bytes().await.unwrap())
}

/// What is tried, how, and for which of the callers (in their order) it is allowed.
type Row = (&'static str, Method, String, Option<Value>, [bool; 10]);

async fn upload(server: &TestServer, token: &str, seed: u32) -> String {
    let path = std::env::temp_dir().join(format!("darkroom-matrix-{}.jpg", uuid::Uuid::new_v4().simple()));
    fixtures::jpeg_with_exif(&path, seed);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let reply = server.upload(token, "secret-beach.jpg", &bytes, &[]).await;
    let id = reply.body["id"].as_str().unwrap().to_string();
    server.wait_until_processed(token, &id).await;
    id
}

async fn user_id(server: &TestServer, token: &str) -> String {
    server.call(Method::GET, "/api/users/me", Some(token), None).await.body["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_caller_gets_exactly_what_it_may() {
    let server = TestServer::start().await;
    let owner = server.admin_token().await;
    let [stranger, partner, editor, viewer] = [
        server.user_token(&owner, "stranger@example.com").await,
        server.user_token(&owner, "partner@example.com").await,
        server.user_token(&owner, "editor@example.com").await,
        server.user_token(&owner, "viewer@example.com").await,
    ];
    let owner_id = user_id(&server, &owner).await;
    let asset = upload(&server, &owner, 1).await;
    let companion = upload(&server, &owner, 2).await;
    let stack = server
        .call(
            Method::POST,
            "/api/stacks",
            Some(&owner),
            Some(json!({"assetIds": [asset, companion]})),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let album = server
        .call(
            Method::POST,
            "/api/albums",
            Some(&owner),
            Some(json!({"albumName": "Private", "assetIds": [asset], "albumUsers": [
                {"userId": user_id(&server, &editor).await, "role": "editor"},
                {"userId": user_id(&server, &viewer).await, "role": "viewer"},
            ]})),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    server
        .call(
            Method::POST,
            "/api/partners",
            Some(&owner),
            Some(json!({"sharedWithId": user_id(&server, &partner).await})),
        )
        .await;
    let link = |body: Value| {
        let (server, owner) = (&server, &owner);
        async move {
            server
                .call(Method::POST, "/api/shared-links", Some(owner), Some(body))
                .await
                .body
        }
    };
    let open = link(json!({"type": "ALBUM", "albumId": album})).await;
    let guarded = link(json!({"type": "ALBUM", "albumId": album, "password": "secret"})).await;
    let expired = link(json!({"type": "ALBUM", "albumId": album, "expiresAt": "2099-01-01T00:00:00.000Z"})).await;
    server
        .call(
            Method::PATCH,
            &format!("/api/shared-links/{}", expired["id"].as_str().unwrap()),
            Some(&owner),
            Some(json!({"expiresAt": "2020-01-01T00:00:00.000Z"})),
        )
        .await;
    let key_of = |l: &Value| l["key"].as_str().unwrap().to_string();
    let login = server
        .client
        .post(format!(
            "{}/api/shared-links/login?key={}",
            server.url,
            key_of(&guarded)
        ))
        .json(&json!({"password": "secret"}))
        .send()
        .await
        .unwrap();
    let cookie = login.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let narrow_key = server.api_key(&owner, &["album.read"]).await;
    let tag = server
        .call(Method::POST, "/api/tags", Some(&owner), Some(json!({"name": "matrix"})))
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let memory = json!({"type": "on_this_day", "data": {"year": 2020}, "memoryAt": "2020-06-01T00:00:00.000Z", "assetIds": [asset]});
    let memory = server
        .call(Method::POST, "/api/memories", Some(&owner), Some(memory))
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    // A person of a database Immich filled, and the owner's second device.
    let mut db = server.db().await;
    sqlx::query(r#"INSERT INTO person ("ownerId", name) VALUES ($1::uuid, 'Sam')"#)
        .bind(&owner_id)
        .execute(&mut db)
        .await
        .unwrap();
    let phone = server.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let sessions = server.call(Method::GET, "/api/sessions", Some(&phone), None).await.body;
    let phone_session = sessions
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == json!(true))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();

    let callers = [
        Caller::Token("owner", owner.clone()),
        Caller::Token("stranger", stranger),
        Caller::Token("partner", partner),
        Caller::Token("album editor", editor),
        Caller::Token("album viewer", viewer),
        Caller::Link("shared link", key_of(&open), None),
        Caller::Link("password link, password not given", key_of(&guarded), None),
        Caller::Link("password link, password given", key_of(&guarded), Some(cookie)),
        Caller::Link("expired link", key_of(&expired), None),
        Caller::ApiKey(narrow_key),
    ];
    // Allowed for: owner, stranger, partner, editor, viewer, link, password link (no / with
    // password), expired link, narrow API key. A password link opens nothing before its
    // password is given (Immich 3.0.3 opens all but its page: issue #29599).
    let rows: Vec<Row> = vec![
        (
            "read the asset",
            Method::GET,
            format!("/api/assets/{asset}"),
            None,
            [true, false, true, true, true, true, false, true, false, false],
        ),
        (
            "see its thumbnail",
            Method::GET,
            format!("/api/assets/{asset}/thumbnail"),
            None,
            [true, false, true, true, true, true, false, true, false, false],
        ),
        (
            "download the original",
            Method::GET,
            format!("/api/assets/{asset}/original"),
            None,
            [true, false, true, true, true, true, false, true, false, false],
        ),
        (
            "change the asset",
            Method::PUT,
            format!("/api/assets/{asset}"),
            Some(json!({"description": "mine"})),
            [true, false, false, false, false, false, false, false, false, false],
        ),
        (
            "read the album",
            Method::GET,
            format!("/api/albums/{album}"),
            None,
            [true, false, false, true, true, true, false, true, false, true],
        ),
        (
            "rename the album",
            Method::PATCH,
            format!("/api/albums/{album}"),
            Some(json!({"albumName": "Mine"})),
            [true, false, false, true, false, false, false, false, false, false],
        ),
        (
            "open the link's page",
            Method::GET,
            "/api/shared-links/me".to_string(),
            None,
            [false, false, false, false, false, true, false, true, false, false],
        ),
        (
            "browse the owner's timeline",
            Method::GET,
            format!("/api/timeline/buckets?userId={owner_id}"),
            None,
            [true, false, true, false, false, false, false, false, false, false],
        ),
        (
            "browse the album's timeline",
            Method::GET,
            format!("/api/timeline/buckets?albumId={album}"),
            None,
            [true, false, false, true, true, true, false, true, false, false],
        ),
        (
            "read the stack",
            Method::GET,
            format!("/api/stacks/{stack}"),
            None,
            [true, false, false, false, false, false, false, false, false, false],
        ),
        (
            "size up the album's download",
            Method::POST,
            "/api/download/info".to_string(),
            Some(json!({"albumId": album})),
            [true, false, false, true, true, true, false, true, false, false],
        ),
        (
            "download the asset in a zip",
            Method::POST,
            "/api/download/archive".to_string(),
            Some(json!({"assetIds": [asset]})),
            [true, false, true, true, true, true, false, true, false, false],
        ),
        (
            "add to the album",
            Method::PUT,
            format!("/api/albums/{album}/assets"),
            Some(json!({"ids": [companion]})),
            [true, false, false, true, false, false, false, false, false, false],
        ),
        (
            "comment in the album",
            Method::POST,
            "/api/activities".to_string(),
            Some(json!({"albumId": album, "type": "comment", "comment": "hi"})),
            [true, false, false, true, true, false, false, false, false, false],
        ),
        (
            "tag the asset",
            Method::PUT,
            format!("/api/tags/{tag}/assets"),
            Some(json!({"ids": [asset]})),
            [true, false, false, false, false, false, false, false, false, false],
        ),
        (
            "read the memory",
            Method::GET,
            format!("/api/memories/{memory}"),
            None,
            [true, false, false, false, false, false, false, false, false, false],
        ),
        (
            "search within the album",
            Method::POST,
            "/api/search/metadata".to_string(),
            Some(json!({"albumIds": [album]})),
            [true, false, false, true, true, true, false, true, false, false],
        ),
        (
            "see the album on the map",
            Method::GET,
            format!("/api/albums/{album}/map-markers"),
            None,
            [true, false, false, true, true, true, false, true, false, true],
        ),
        (
            "show the owner's photos in one's timeline",
            Method::PUT,
            format!("/api/partners/{owner_id}"),
            Some(json!({"inTimeline": true})),
            [false, false, true, false, false, false, false, false, false, false],
        ),
        // Everyone signed in finds their own people, sessions and changes; the answers' contents
        // are checked below.
        (
            "find people by name",
            Method::GET,
            "/api/search/person?name=Sam".to_string(),
            None,
            [true, true, true, true, true, false, false, false, false, false],
        ),
        (
            "list one's devices",
            Method::GET,
            "/api/sessions".to_string(),
            None,
            [true, true, true, true, true, false, false, false, false, false],
        ),
        (
            "ask the owner's phone to sync afresh",
            Method::PUT,
            format!("/api/sessions/{phone_session}"),
            Some(json!({"isPendingSyncReset": true})),
            [true, false, false, false, false, false, false, false, false, false],
        ),
        (
            "lock the owner's phone",
            Method::POST,
            format!("/api/sessions/{phone_session}/lock"),
            None,
            [true, false, false, false, false, false, false, false, false, false],
        ),
        (
            "sync a phone",
            Method::POST,
            "/api/sync/stream".to_string(),
            Some(json!({"types": ["AssetsV2", "AlbumsV2", "PeopleV1"]})),
            [true, true, true, true, true, false, false, false, false, false],
        ),
        (
            "read a phone's sync checkpoints",
            Method::GET,
            "/api/sync/ack".to_string(),
            None,
            [true, true, true, true, true, false, false, false, false, false],
        ),
    ];
    let original = std::fs::read(
        server
            .call(Method::GET, &format!("/api/assets/{asset}"), Some(&owner), None)
            .await
            .body["originalPath"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    let mut wrong = Vec::new();
    for (what, method, path, body, allowed) in &rows {
        for (caller, expected) in callers.iter().zip(allowed) {
            let (status, bytes) = call(&server, caller, method.clone(), path, body.clone()).await;
            if status.is_success() != *expected {
                wrong.push(format!(
                    "{} may {}to {what}: got {status}",
                    caller.name(),
                    if *expected { "" } else { "not " }
                ));
            }
            if !status.is_success() {
                assert!(
                    status.is_client_error(),
                    "{} {what}: a refusal is a 4xx, not {status}",
                    caller.name()
                );
                let leaked = bytes
                    .windows(16)
                    .any(|w| original.windows(16).take(4096).any(|o| o == w));
                assert!(
                    !leaked && !String::from_utf8_lossy(&bytes).contains("secret-beach"),
                    "{} {what}: the refusal leaks the asset",
                    caller.name()
                );
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));

    // What those open to everyone signed in answer: each caller's own, never the owner's.
    for caller in &callers[1..5] {
        let people = call(&server, caller, Method::GET, "/api/search/person?name=Sam", None)
            .await
            .1;
        assert_eq!(
            serde_json::from_slice::<Value>(&people).unwrap(),
            json!([]),
            "{} finds the owner's people",
            caller.name()
        );
        let devices: Value =
            serde_json::from_slice(&call(&server, caller, Method::GET, "/api/sessions", None).await.1).unwrap();
        assert_eq!(
            devices.as_array().map(Vec::len),
            Some(1),
            "{} sees others' devices: {devices}",
            caller.name()
        );
        let lines = call(
            &server,
            caller,
            Method::POST,
            "/api/sync/stream",
            Some(json!({"types": ["AssetsV2", "PeopleV1"]})),
        )
        .await
        .1;
        let lines = String::from_utf8_lossy(&lines);
        assert!(
            !lines.contains(&asset) && !lines.contains("Sam") && !lines.contains("secret-beach"),
            "{} syncs the owner's things: {lines}",
            caller.name()
        );
    }
}
