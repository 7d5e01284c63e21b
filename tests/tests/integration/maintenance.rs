//! Maintenance mode as Immich 3's web app drives it: entered by the admin (or by the setup
//! screen of an empty server), signed in to with the maintenance cookie, a backup restored
//! from it with progress on the socket, and left again — across two API processes.

mod restore;

use std::time::Duration;

use darkroom_tests::{Reply, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};

/// `name=value` of the maintenance cookie a response set, after checking how it is set.
fn maintenance_cookie(reply: &Reply) -> String {
    let set = reply
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with("immich_maintenance_token="))
        .unwrap_or_else(|| panic!("no maintenance cookie: {:?}", reply.headers));
    assert!(
        set.contains("HttpOnly") && set.contains("Path=/") && set.contains("Max-Age=86400"),
        "{set}"
    );
    let pair = set.split(';').next().unwrap().to_owned();
    let jwt = pair.trim_start_matches("immich_maintenance_token=");
    let parts: Vec<&str> = jwt.split('.').collect();
    assert!(
        parts.len() == 3
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')),
        "{jwt}"
    );
    pair
}

/// Has the admin enter maintenance mode; returns the maintenance cookie.
async fn enter_maintenance(server: &TestServer, admin: &str) -> String {
    let entered = server
        .call(
            Method::POST,
            "/api/admin/maintenance",
            Some(admin),
            Some(json!({"action": "start"})),
        )
        .await;
    assert_eq!(entered.status, StatusCode::CREATED, "{}", entered.body);
    maintenance_cookie(&entered)
}

/// A request with the maintenance cookie.
async fn with_cookie(server: &TestServer, method: Method, path: &str, cookie: &str, body: Option<Value>) -> Reply {
    let mut request = server.request(method, path).header("cookie", cookie);
    if let Some(body) = body {
        request = request.json(&body);
    }
    server.send(request).await
}

/// What an endpoint answers, without checking it against Immich's spec: in maintenance mode
/// `/server/config` is only `{"maintenanceMode": true}`, and a restore's `progress` is a
/// fraction, as Immich's own maintenance worker answers (its spec says otherwise).
async fn raw_json(url: &str, path: &str, cookie: Option<&str>) -> Value {
    let mut request = darkroom_tests::browser_like_client().get(format!("{url}{path}"));
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.json().await.unwrap()
}

async fn in_maintenance(url: &str) -> bool {
    raw_json(url, "/api/server/config", None).await["maintenanceMode"] == json!(true)
}

/// Waits until the server at `url` is (or is not) in maintenance mode.
async fn wait_for_mode(url: &str, maintenance: bool) {
    for _ in 0..300 {
        if in_maintenance(url).await == maintenance {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "{url} did not {} maintenance mode",
        if maintenance { "enter" } else { "leave" }
    );
}

/// Waits for the maintenance status (as `cookie` sees it) to match `done`.
async fn wait_for_status(url: &str, cookie: Option<&str>, done: impl Fn(&Value) -> bool) -> Value {
    let mut last = Value::Null;
    for _ in 0..600 {
        last = raw_json(url, "/api/admin/maintenance/status", cookie).await;
        if done(&last) {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the maintenance status stayed {last}");
}

#[tokio::test(flavor = "multi_thread")]
async fn maintenance_mode_is_entered_signed_in_to_and_left_by_every_process() {
    let server = TestServer::start().await;
    let other = server.sibling(&[]).await;
    let other_url = other.url.clone().unwrap();
    let admin = server.admin_token().await;
    let user = server.user_token(&admin, "viewer@example.com").await;

    // Outside maintenance mode.
    let status = server
        .call(Method::GET, "/api/admin/maintenance/status", None, None)
        .await;
    assert_eq!(status.body, json!({"active": false, "action": "end"}));
    let login = server
        .call(
            Method::POST,
            "/api/admin/maintenance/login",
            None,
            Some(json!({"token": "token"})),
        )
        .await;
    assert_eq!(
        (login.status, login.message()),
        (StatusCode::BAD_REQUEST, "Not in maintenance mode")
    );
    let enter = |token: Option<&str>, body: Value| {
        let token = token.map(str::to_owned);
        let server = &server;
        async move {
            server
                .call(Method::POST, "/api/admin/maintenance", token.as_deref(), Some(body))
                .await
        }
    };
    assert_eq!(
        enter(None, json!({"action": "start"})).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        enter(Some(&user), json!({"action": "start"})).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        enter(Some(&admin), json!({"action": "nap"})).await.status,
        StatusCode::BAD_REQUEST
    );
    let unnamed = enter(Some(&admin), json!({"action": "restore_database"})).await;
    assert_eq!(unnamed.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        unnamed.body["errors"][0]["path"],
        json!(["restoreBackupFilename"]),
        "{}",
        unnamed.body
    );
    let nothing_to_end = enter(Some(&admin), json!({"action": "end"})).await;
    assert_eq!(nothing_to_end.status, StatusCode::CREATED);
    assert!(!in_maintenance(&server.url).await);

    // A signed-in web app hears the switch (and reloads when its socket comes back).
    let mut listener = darkroom_tests::listen_to_events(&other_url, &user, 30, "AppRestartV1");
    let mut heard = BufReader::new(listener.stdout.take().unwrap()).lines();
    assert!(heard.next_line().await.unwrap().unwrap().starts_with("connected "));

    let entered = enter(Some(&admin), json!({"action": "start"})).await;
    assert_eq!(entered.status, StatusCode::CREATED);
    let cookie = maintenance_cookie(&entered);
    let restart = heard.next_line().await.unwrap().unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&restart).unwrap(),
        json!({"event": "AppRestartV1", "args": [{"isMaintenanceMode": true}]})
    );
    assert!(in_maintenance(&server.url).await);
    // The other process learns it through Redis.
    wait_for_mode(&other_url, true).await;

    // Only the maintenance API answers; the admin's session is not a maintenance login.
    let me = server.call(Method::GET, "/api/users/me", Some(&admin), None).await;
    assert_eq!(
        (me.status, me.message()),
        (StatusCode::NOT_FOUND, "Cannot GET /api/users/me")
    );
    let ping = server.call(Method::GET, "/api/server/ping", None, None).await;
    assert_eq!(ping.body, json!({"res": "pong"}));
    let public = server
        .call(Method::GET, "/api/admin/maintenance/status", None, None)
        .await;
    assert_eq!(public.body, json!({"active": true, "action": "start"}));
    let anonymous = server
        .call(Method::GET, "/api/admin/database-backups", Some(&admin), None)
        .await;
    assert_eq!(
        (anonymous.status, anonymous.message()),
        (StatusCode::UNAUTHORIZED, "Missing JWT Token")
    );

    // Signing in: with the cookie, or with the token from the link in the body.
    for url in [&server.url, &other_url] {
        let client = darkroom_tests::browser_like_client();
        let login = |body: Value, cookie: Option<&str>| {
            let mut request = client.post(format!("{url}/api/admin/maintenance/login")).json(&body);
            if let Some(cookie) = cookie {
                request = request.header("cookie", cookie);
            }
            async move {
                let response = request.send().await.unwrap();
                (response.status(), response.json::<Value>().await.unwrap())
            }
        };
        let (status, body) = login(json!({}), None).await;
        assert_eq!(
            (status, body["message"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("Missing JWT Token"))
        );
        let (status, body) = login(json!({"token": "a.b.c"}), None).await;
        assert_eq!(
            (status, body["message"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("Invalid JWT Token"))
        );
        let (status, body) = login(json!({}), Some(&cookie)).await;
        assert_eq!(
            (status, body),
            (StatusCode::CREATED, json!({"username": "Immich Admin"}))
        );
        let token = cookie.split_once('=').unwrap().1;
        let (status, body) = login(json!({"token": token}), None).await;
        assert_eq!(
            (status, body),
            (StatusCode::CREATED, json!({"username": "Immich Admin"}))
        );
    }
    let backups = with_cookie(&server, Method::GET, "/api/admin/database-backups", &cookie, None).await;
    assert_eq!(
        (backups.status, backups.body.clone()),
        (StatusCode::OK, json!({"backups": []}))
    );
    let install = server
        .call(Method::GET, "/api/admin/maintenance/detect-install", None, None)
        .await;
    let folders: Vec<&str> = install.body["storage"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            assert_eq!(
                (f["readable"].as_bool(), f["writable"].as_bool()),
                (Some(true), Some(true)),
                "{f}"
            );
            f["folder"].as_str().unwrap()
        })
        .collect();
    assert_eq!(
        folders,
        ["encoded-video", "library", "upload", "profile", "thumbs", "backups"]
    );

    // Starting again is nothing new; ending (from the other process) brings everything back.
    let again = with_cookie(
        &server,
        Method::POST,
        "/api/admin/maintenance",
        &cookie,
        Some(json!({"action": "start"})),
    )
    .await;
    assert_eq!(again.status, StatusCode::CREATED);
    let ended = server
        .send(
            darkroom_tests::browser_like_client()
                .post(format!("{other_url}/api/admin/maintenance"))
                .header("cookie", &cookie)
                .json(&json!({"action": "end"})),
        )
        .await;
    assert_eq!(ended.status, StatusCode::CREATED);
    wait_for_mode(&other_url, false).await;
    wait_for_mode(&server.url, false).await;
    let config = server.call(Method::GET, "/api/server/config", None, None).await;
    assert_eq!(config.body["maintenanceMode"], json!(false));
    let me = server.call(Method::GET, "/api/users/me", Some(&admin), None).await;
    assert_eq!(me.status, StatusCode::OK);
    let login = with_cookie(
        &server,
        Method::POST,
        "/api/admin/maintenance/login",
        &cookie,
        Some(json!({})),
    )
    .await;
    assert_eq!(login.status, StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_web_app_is_sent_to_the_maintenance_page() {
    let build = tempfile::tempdir().unwrap();
    let www = build.path().join("www");
    std::fs::create_dir_all(www.join("_app/immutable")).unwrap();
    std::fs::write(www.join("index.html"), "<html>app</html>").unwrap();
    std::fs::write(www.join("_app/immutable/start.js"), "start()").unwrap();
    let server = TestServer::start_with(&[("IMMICH_BUILD_DATA", build.path().to_str().unwrap())]).await;
    let admin = server.admin_token().await;
    enter_maintenance(&server, &admin).await;

    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let get = |path: &str| client.get(format!("{}{path}", server.url)).send();
    let page = get("/photos/été?x=1").await.unwrap();
    assert_eq!(page.status(), StatusCode::FOUND);
    assert_eq!(
        page.headers()["location"],
        // The path as it came (percent-encoded), encoded once more, as Immich sends it on.
        "/maintenance?continue=%2Fphotos%2F%25C3%25A9t%25C3%25A9"
    );
    // The way back is always a path of this site (the web app also checks it: CVE-2026-53662).
    for sneaky in ["//evil.example/x", "/%5Cevil.example"] {
        let page = get(sneaky).await.unwrap();
        let location = page.headers()["location"].to_str().unwrap().to_owned();
        assert!(
            location.starts_with("/maintenance?continue=%2F"),
            "{sneaky}: {location}"
        );
    }
    let maintenance_page = get("/maintenance?continue=%2Fphotos").await.unwrap();
    assert_eq!(maintenance_page.status(), StatusCode::OK);
    assert_eq!(maintenance_page.text().await.unwrap(), "<html>app</html>");
    let asset = get("/_app/immutable/start.js").await.unwrap();
    assert_eq!(asset.status(), StatusCode::OK);
}
