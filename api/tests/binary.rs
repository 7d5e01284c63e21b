//! The `darkroom-server` binary: admin subcommands and the server's JSON logs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::Stdio;

use darkroom_tests::oidc::{OidcClient, OidcProvider};
use darkroom_tests::{ADMIN_EMAIL, ADMIN_PASSWORD, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_darkroom-server"))
}

fn command(server: &TestServer, args: &[&str]) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(binary());
    command
        .args(args)
        .env_clear()
        .envs(server.env().iter().cloned())
        .kill_on_drop(true);
    command
}

/// Runs a subcommand with `input` on stdin; returns stdout, failing on a non-zero exit.
async fn run(server: &TestServer, args: &[&str], input: &str) -> String {
    let mut child = command(server, args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .await
        .expect("write stdin");
    let output = child.wait_with_output().await.expect("wait");
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        output.status.success(),
        "{args:?} failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

async fn is_admin(server: &TestServer, token: &str) -> Value {
    server.call(Method::GET, "/api/users/me", Some(token), None).await.body["isAdmin"].clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_subcommands_work_on_the_live_database() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let user = server.user_token(&admin, "someone@immich.cloud").await;

    assert!(run(&server, &["migrate"], "").await.contains("Database is up to date."));

    let listed = run(&server, &["list-users"], "").await;
    assert!(
        listed.contains(ADMIN_EMAIL) && listed.contains("someone@immich.cloud"),
        "{listed}"
    );

    assert!(
        run(&server, &["grant-admin", "someone@immich.cloud"], "")
            .await
            .contains("granted")
    );
    assert_eq!(is_admin(&server, &user).await, json!(true));
    assert!(
        run(&server, &["revoke-admin"], "someone@immich.cloud\n")
            .await
            .contains("revoked"),
        "e-mail read from the prompt"
    );
    assert_eq!(is_admin(&server, &user).await, json!(false));

    let chosen = run(&server, &["reset-admin-password"], "a-new-password\n").await;
    assert!(chosen.contains("has been updated"), "{chosen}");
    server.login(ADMIN_EMAIL, "a-new-password").await;
    let generated = run(&server, &["reset-admin-password"], "\n").await;
    let password = generated.lines().last().expect("the generated password").trim();
    assert!(password.len() >= 20, "{generated}");
    server.login(ADMIN_EMAIL, password).await;
    let old = server
        .call(
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})),
        )
        .await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);

    let mut missing = command(&server, &["grant-admin", "nobody@immich.cloud"])
        .output()
        .await
        .expect("run");
    assert!(!missing.status.success());
    missing.stderr.retain(|b| *b != b'\n');
    assert!(String::from_utf8_lossy(&missing.stderr).contains("User does not exist"));
}

/// Starts the binary's server (its default command) on a free port with the test server's
/// settings and `extra` variables; returns it, with its logs piped, once it answers.
async fn serve(server: &TestServer, extra: &[(&str, &str)]) -> (tokio::process::Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let child = command(server, &[])
        .env("IMMICH_PORT", &port)
        .envs(extra.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        let ping = reqwest::get(format!("{url}/api/server/ping")).await;
        if ping.is_ok_and(|r| r.status().is_success()) {
            return (child, url);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the server never answered /api/server/ping");
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_is_the_default_and_logs_json_with_the_correlation_id() {
    let server = TestServer::start().await;
    let (mut child, url) = serve(&server, &[("IMMICH_LOG_FORMAT", "json"), ("IMMICH_LOG_LEVEL", "debug")]).await;
    let client = reqwest::Client::new();
    let reply = client
        .get(format!("{url}/api/users/me"))
        .header("x-correlation-id", "trace-me-4711")
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(reply.headers()["x-correlation-id"], "trace-me-4711");
    let generated = client.get(format!("{url}/api/server/ping")).send().await.unwrap();
    assert_eq!(
        generated.headers()["x-correlation-id"].len(),
        36,
        "a UUID when the client sends none"
    );

    // A failed login through a proxy (loopback is trusted): the address is the client's.
    let refused = client
        .post(format!("{url}/api/auth/login"))
        .header("x-forwarded-for", "203.0.113.9")
        .header("user-agent", "brute/1.0")
        .json(&json!({"email": "nobody@example.com", "password": "guess"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert!(!refused.bytes().await.unwrap().is_empty());

    child.start_kill().unwrap();
    let output = child.wait_with_output().await.unwrap();
    let logs = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<Value> = logs
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not a JSON log line: {line}")))
        .collect();
    let of_request: Vec<&Value> = lines
        .iter()
        .filter(|line| line.to_string().contains("trace-me-4711"))
        .collect();
    assert!(!of_request.is_empty(), "the request's log lines carry its id:\n{logs}");
    assert!(
        of_request
            .iter()
            .all(|line| line["level"].is_string() && line["timestamp"].is_string())
    );

    // The access log and the failed login, with the fields Loki and CrowdSec read.
    let failed = lines
        .iter()
        .find(|line| line["kind"] == "login_failed")
        .unwrap_or_else(|| panic!("no failed login logged:\n{logs}"));
    assert_eq!(failed["client_ip"], "203.0.113.9");
    assert_eq!(failed["email"], "nobody@example.com");
    assert_eq!(
        failed["message"],
        "Failed login attempt for user nobody@example.com from ip address 203.0.113.9"
    );
    let access = lines
        .iter()
        .find(|line| line["kind"] == "access" && line["path"] == "/api/auth/login")
        .unwrap_or_else(|| panic!("no access line for the login:\n{logs}"));
    assert_eq!(access["message"], "request");
    assert_eq!(access["client_ip"], "203.0.113.9");
    assert_eq!(access["method"], "POST");
    assert_eq!(access["route"], "/api/auth/login");
    assert_eq!(access["status"], 401);
    assert_eq!(access["user_agent"], "brute/1.0");
    assert_eq!(access["complete"], true);
    assert!(access["bytes"].as_u64().unwrap() > 0, "{access}");
    assert!(access["duration_ms"].as_f64().unwrap() > 0.0, "{access}");
    assert_eq!(access["correlation_id"].as_str().unwrap().len(), 36);
    let me = lines
        .iter()
        .find(|line| line["kind"] == "access" && line["correlation_id"] == "trace-me-4711")
        .unwrap_or_else(|| panic!("no access line for /api/users/me:\n{logs}"));
    assert_eq!(
        (me["route"].as_str(), me["status"].as_u64()),
        (Some("/api/users/me"), Some(401))
    );
    assert_eq!(me["client_ip"], "127.0.0.1");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_database_is_retried_then_named() {
    let server = TestServer::start().await;
    let unused_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let output = command(&server, &["migrate"])
        .env("DB_PORT", &unused_port)
        .env("DARKROOM_DB_WAIT_SECONDS", "2")
        .output()
        .await
        .expect("run");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let target = format!("127.0.0.1:{unused_port}");
    assert!(
        stderr.contains(&format!("cannot connect to PostgreSQL at {target}")),
        "{stderr}"
    );
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    assert!(stdout.contains("retrying"), "the retries are logged: {stdout}");
    assert!(
        !stdout.contains("postgres:postgres") && !stderr.contains("postgres:postgres"),
        "no password in output"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn healthcheck_passes_while_the_api_answers_and_fails_when_nothing_does() {
    let server = TestServer::start().await;
    let port = server.url.rsplit(':').next().unwrap().to_owned();
    let check = |port: &str, extra: &[(&str, &str)]| {
        let mut check = command(&server, &["healthcheck"]);
        check.env("IMMICH_HOST", "0.0.0.0").env("IMMICH_PORT", port);
        for (name, value) in extra {
            check.env(name, value);
        }
        check.output()
    };
    let healthy = check(&port, &[]).await.unwrap();
    assert!(healthy.status.success(), "{}", String::from_utf8_lossy(&healthy.stderr));

    // Held open and never answered (a port let go could be another test's server by then).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent = listener.local_addr().unwrap().port().to_string();
    let down = check(&silent, &[]).await.unwrap();
    assert!(!down.status.success(), "nothing answers on {silent}");
    assert!(String::from_utf8_lossy(&down.stderr).contains("/api/server/ping"));

    // A workers-only container has no API to ask.
    let workers = check(&silent, &[("IMMICH_WORKERS_INCLUDE", "microservices")])
        .await
        .unwrap();
    assert!(workers.status.success());
    drop(listener);
}

#[tokio::test(flavor = "multi_thread")]
async fn restore_database_puts_a_backup_back() {
    let mut server = TestServer::start().await;
    let admin = server.admin_token().await;
    let started = server
        .call(
            Method::POST,
            "/api/jobs",
            Some(&admin),
            Some(json!({"name": "backup-database"})),
        )
        .await;
    assert_eq!(started.status, StatusCode::NO_CONTENT);
    let backups = server.media.join("backups");
    let mut name = None;
    for _ in 0..200 {
        name = std::fs::read_dir(&backups).ok().and_then(|entries| {
            entries
                .flatten()
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .find(|name| name.starts_with("immich-db-backup-") && name.ends_with(".sql.gz"))
        });
        if name.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let name = name.expect("a backup was written");
    let user = server.user_token(&admin, "later@example.com").await;

    let restored = run(&server, &["restore-database", &name], "").await;
    assert!(
        restored.contains(&format!("Database restored from {name}.")),
        "{restored}"
    );
    // As the help says, the server is started again after a restore from the command line.
    server.restart().await.unwrap();
    // The user made after the backup is gone with their session; the admin is still there.
    let me = server.call(Method::GET, "/api/users/me", Some(&user), None).await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
    let admin_me = server.call(Method::GET, "/api/users/me", Some(&admin), None).await;
    assert_eq!(admin_me.status, StatusCode::OK);

    let refused = command(&server, &["restore-database", "../../etc/passwd.sql"])
        .output()
        .await
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("Invalid backup name!"));
}

/// Whether the running server answers as in maintenance mode (its config is then only that).
async fn in_maintenance(server: &TestServer) -> bool {
    let config: Value = darkroom_tests::browser_like_client()
        .get(format!("{}/api/server/config", server.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    config["maintenanceMode"] == json!(true)
}

async fn wait_for_maintenance(server: &TestServer, wanted: bool) {
    for _ in 0..100 {
        if in_maintenance(server).await == wanted {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the server did not follow the command (maintenance mode {wanted})");
}

async fn maintenance_login(server: &TestServer, token: &str) -> darkroom_tests::Reply {
    let body = json!({ "token": token });
    server
        .call(Method::POST, "/api/admin/maintenance/login", None, Some(body))
        .await
}

#[tokio::test(flavor = "multi_thread")]
async fn maintenance_mode_is_switched_from_the_command_line_while_the_server_runs() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let enabled = run(&server, &["enable-maintenance-mode"], "").await;
    assert!(enabled.contains("The server is now in maintenance mode."), "{enabled}");
    // The running server hears of it through Redis.
    wait_for_maintenance(&server, true).await;
    let link = enabled
        .lines()
        .find(|line| line.contains("/maintenance?token="))
        .unwrap();
    assert!(link.starts_with("https://my.immich.app/maintenance?token="), "{link}");
    let token = link.split_once("token=").unwrap().1;
    let login = maintenance_login(&server, token).await;
    assert_eq!(
        (login.status, login.body),
        (StatusCode::CREATED, json!({"username": "cli-admin"}))
    );

    // Asked again: the same secret signs a new link.
    let again = run(&server, &["enable-maintenance-mode"], "").await;
    assert!(again.contains("was in maintenance mode already"), "{again}");
    let token = again.lines().find_map(|line| line.split_once("token=")).unwrap().1;
    let login = maintenance_login(&server, token).await;
    assert_eq!(login.status, StatusCode::CREATED);

    let disabled = run(&server, &["disable-maintenance-mode"], "").await;
    assert!(disabled.contains("The server has left maintenance mode."), "{disabled}");
    wait_for_maintenance(&server, false).await;
    let me = server.call(Method::GET, "/api/users/me", Some(&admin), None).await;
    assert_eq!(me.status, StatusCode::OK);
    let nothing = run(&server, &["disable-maintenance-mode"], "").await;
    assert!(nothing.contains("was not in maintenance mode"), "{nothing}");
}

/// Runs `openssl` with `args` in `dir`.
fn openssl(dir: &std::path::Path, args: &[&str]) {
    let status = std::process::Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run openssl");
    assert!(status.success(), "openssl {args:?}");
}

/// A home CA (`ca.pem`) and the provider's certificate for 127.0.0.1 that it signed
/// (`cert.pem`, `key.pem`), in `dir`.
fn home_ca(dir: &std::path::Path) {
    let new_key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
    let ca = [
        "req",
        "-x509",
        "-keyout",
        "ca-key.pem",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=Home CA",
    ];
    openssl(dir, &[&ca[..], &new_key].concat());
    let request = [
        "req",
        "-keyout",
        "key.pem",
        "-out",
        "cert.csr",
        "-subj",
        "/CN=127.0.0.1",
    ];
    openssl(dir, &[&request[..], &new_key].concat());
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "cert.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca-key.pem",
            "-CAcreateserial",
            "-out",
            "cert.pem",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
        ],
    );
}

/// TLS to the OpenID provider is verified: a provider whose certificate comes from a CA the
/// server does not trust is not talked to; with that CA in `SSL_CERT_FILE`, it is.
#[tokio::test(flavor = "multi_thread")]
async fn the_oauth_provider_is_reached_only_through_a_trusted_certificate() {
    let certs = tempfile::tempdir().unwrap();
    home_ca(certs.path());
    let tls_dir = certs.path().to_str().unwrap();
    let provider =
        OidcProvider::start_with(&[OidcClient::new("darkroom", "secret", &[])], &["--tls-dir", tls_dir]).await;
    assert!(provider.issuer.starts_with("https://"), "{}", provider.issuer);

    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    server
        .update_config(&admin, |config| {
            config["oauth"]["enabled"] = json!(true);
            config["oauth"]["issuerUrl"] = json!(provider.issuer);
            config["oauth"]["clientId"] = json!("darkroom");
        })
        .await;
    let authorize = |url: String| async move {
        let body = json!({ "redirectUri": format!("{url}/auth/login") });
        let reply = reqwest::Client::new()
            .post(format!("{url}/api/oauth/authorize"))
            .json(&body)
            .send()
            .await
            .unwrap();
        (reply.status(), reply.json::<Value>().await.unwrap())
    };

    // This process trusts the public roots and the system's, not the home CA.
    let (status, _) = authorize(server.url.clone()).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "discovery must fail");

    // A server told to trust the home CA reaches the provider.
    let ca = certs.path().join("ca.pem");
    let (mut trusting, url) = serve(&server, &[("SSL_CERT_FILE", ca.to_str().unwrap())]).await;
    let (status, body) = authorize(url).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(
        body["url"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{}/auth?", provider.issuer)),
        "{body}"
    );
    trusting.start_kill().unwrap();
}
