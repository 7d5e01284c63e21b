//! Forward-auth behind a proxy like Authelia or TinyAuth: headers from a trusted proxy sign in
//! (and register, and make admins of a group), the same headers from anyone else do nothing,
//! and password sessions work beside it.

use darkroom_tests::{ADMIN_EMAIL, TestServer};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use serde_json::Value;

const PROXY: &str = "127.0.0.3";
const STRANGER: &str = "127.0.0.2";

/// `GET /api/users/me` from the local address `from` with the proxy's headers (UTF-8 values
/// as Authelia passes them) and, if given, a bearer token.
async fn me_from(
    url: &str,
    from: &str,
    vouched: &[(&str, &str)],
    token: Option<&str>,
) -> (StatusCode, HeaderMap, Value) {
    let client = reqwest::Client::builder()
        .local_address(from.parse::<std::net::IpAddr>().unwrap())
        .build()
        .unwrap();
    let mut request = client.get(format!("{url}/api/users/me"));
    for (name, value) in vouched {
        request = request.header(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_bytes(value.as_bytes()).unwrap(),
        );
    }
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    (status, headers, response.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_trusted_proxy_signs_users_in_and_forged_headers_do_nothing() {
    let server = TestServer::start_with(&[
        ("IMMICH_TRUSTED_PROXIES", PROXY),
        ("DARKROOM_FORWARD_AUTH_ENABLED", "true"),
        ("DARKROOM_FORWARD_AUTH_AUTO_REGISTER", "true"),
        ("DARKROOM_FORWARD_AUTH_ADMIN_GROUP", "photo-admins"),
    ])
    .await;
    let admin = server.admin_token().await;
    let zoe = [
        ("Remote-User", "zoe"),
        ("Remote-Email", "Zoe@Example.com"),
        ("Remote-Name", "Zoë Ångström"),
        ("Remote-Groups", "family"),
    ];

    // From anyone but the proxy, the headers are ignored.
    let (status, _, _) = me_from(&server.url, STRANGER, &zoe, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // From the proxy: registered on first sight, and the web app is told it is signed in.
    let (status, headers, me) = me_from(&server.url, PROXY, &zoe, None).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(
        (me["email"].as_str(), me["name"].as_str(), me["isAdmin"].as_bool()),
        (Some("zoe@example.com"), Some("Zoë Ångström"), Some(false))
    );
    let cookies: Vec<&str> = headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert!(
        cookies.iter().any(|c| c.starts_with("immich_is_authenticated=true")),
        "{cookies:?}"
    );
    let (_, _, again) = me_from(&server.url, PROXY, &zoe, None).await;
    assert_eq!(again["id"], me["id"], "one account, not one per request");

    // The web app's live events come through the proxy too (and only through it).
    let headers = serde_json::to_string(&serde_json::Map::from_iter(
        zoe.iter().map(|(k, v)| (k.to_string(), Value::from(*v))),
    ))
    .unwrap();
    for (from, greeted) in [(PROXY, true), (STRANGER, false)] {
        let listener = tokio::process::Command::new(darkroom_tests::node())
            .arg("socket-events.mjs")
            .args([&server.url, &format!("headers:{headers}"), "5", "on_server_version"])
            .env("DARKROOM_LOCAL_ADDRESS", from)
            .current_dir(darkroom_tests::node_dir())
            .output()
            .await
            .unwrap();
        let heard = String::from_utf8_lossy(&listener.stdout);
        assert_eq!(heard.starts_with("connected "), greeted, "from {from}: {heard}");
    }

    // Admin rights follow the group.
    let mut promoted = zoe;
    promoted[3] = ("Remote-Groups", "family,photo-admins");
    let (_, _, me) = me_from(&server.url, PROXY, &promoted, None).await;
    assert_eq!(me["isAdmin"], true);
    let (_, _, me) = me_from(&server.url, PROXY, &zoe, None).await;
    assert_eq!(me["isAdmin"], false);

    // The mobile app's token works through the proxy too, and says who it is.
    let (status, _, me) = me_from(&server.url, PROXY, &[], Some(&admin)).await;
    assert_eq!((status, me["email"].as_str()), (StatusCode::OK, Some(ADMIN_EMAIL)));
    let (_, _, me) = me_from(&server.url, PROXY, &zoe, Some(&admin)).await;
    assert_eq!(me["email"], ADMIN_EMAIL);

    // Without registration, only known e-mails get in; switched off, nobody does.
    let closed = server
        .sibling(&[("DARKROOM_FORWARD_AUTH_AUTO_REGISTER", "false")])
        .await;
    let closed_url = closed.url.clone().unwrap();
    let newcomer = [("Remote-Email", "new@example.com")];
    assert_eq!(
        me_from(&closed_url, PROXY, &newcomer, None).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(me_from(&closed_url, PROXY, &zoe, None).await.0, StatusCode::OK);
    let off = server.sibling(&[("DARKROOM_FORWARD_AUTH_ENABLED", "false")]).await;
    let off_url = off.url.clone().unwrap();
    assert_eq!(me_from(&off_url, PROXY, &zoe, None).await.0, StatusCode::UNAUTHORIZED);

    // The registered account has no password to guess.
    let login = server
        .call(
            Method::POST,
            "/api/auth/login",
            None,
            Some(serde_json::json!({"email": "zoe@example.com", "password": "anything"})),
        )
        .await;
    assert_eq!(
        (login.status, login.message()),
        (StatusCode::UNAUTHORIZED, "Incorrect email or password")
    );
}
