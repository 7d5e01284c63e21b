//! Notifications: what admins write, what the server writes (album invitations, a failed
//! backup), who may read or change them, the live `on_notification` event, and e-mail (test
//! message, invitation and welcome messages through a small SMTP server of the test's own).

use std::sync::Arc;
use std::time::{Duration, Instant};

use darkroom_tests::{ADMIN_EMAIL, Reply, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::Mutex;

/// One signed-in caller; paths are under `/api`.
struct Caller<'a>(&'a TestServer, String);

impl Caller<'_> {
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        self.0.call(method, &format!("/api{path}"), Some(&self.1), body).await
    }

    async fn get(&self, path: &str) -> Reply {
        self.call(Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(body)).await
    }

    async fn put(&self, path: &str, body: Value) -> Reply {
        self.call(Method::PUT, path, Some(body)).await
    }

    async fn id(&self) -> String {
        self.get("/users/me").await.body["id"].as_str().unwrap().to_string()
    }

    /// `GET /notifications<query>`.
    async fn list(&self, query: &str) -> Vec<Value> {
        let reply = self.get(&format!("/notifications{query}")).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply.body.as_array().unwrap().clone()
    }

    /// Waits for background work to leave `count` notifications matching `query`.
    async fn wait_for(&self, query: &str, count: usize) -> Vec<Value> {
        for _ in 0..100 {
            let found = self.list(query).await;
            if found.len() >= count {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{count} notification(s) expected for {query:?}");
    }

    /// `POST /admin/notifications`; returns the new id.
    async fn notify(&self, body: Value) -> String {
        let reply = self.post("/admin/notifications", body).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        reply.body["id"].as_str().unwrap().to_string()
    }
}

fn titles(items: &[Value]) -> Vec<&str> {
    items.iter().map(|n| n["title"].as_str().unwrap()).collect()
}

fn outcome(reply: &Reply) -> (StatusCode, &str) {
    (reply.status, reply.message())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_write_notifications_that_only_their_owner_reads_changes_and_deletes() {
    let server = TestServer::start().await;
    let admin = Caller(&server, server.admin_token().await);
    let user = Caller(&server, server.user_token(&admin.1, "reader@example.com").await);
    let stranger = Caller(&server, server.user_token(&admin.1, "stranger@example.com").await);
    let uid = user.id().await;

    let plain = admin.notify(json!({"userId": uid, "title": "Hello"})).await;
    let warning = admin
        .notify(json!({
            "userId": uid, "title": "Disk", "description": "Almost full – 95 %",
            "level": "warning", "type": "SystemMessage", "data": {"percent": 95}
        }))
        .await;
    let third = json!({"userId": uid, "title": "Third", "readAt": "2024-01-01T00:00:00.000Z"});
    let third = admin.notify(third).await;

    let all = user.list("").await;
    assert_eq!(titles(&all), ["Third", "Disk", "Hello"], "newest first");
    let hello = &all[2];
    assert_eq!((&hello["level"], &hello["type"]), (&json!("info"), &json!("Custom")));
    for absent in ["readAt", "description", "data"] {
        assert!(hello.get(absent).is_none(), "{hello}");
    }
    assert!(
        all[0].get("readAt").is_none(),
        "new ones start unread, whatever readAt said"
    );
    assert_eq!(all[1]["description"], json!("Almost full – 95 %"));
    assert_eq!(all[1]["data"], json!({"percent": 95}));
    assert!(stranger.list("").await.is_empty());
    assert!(admin.list("").await.is_empty());

    // Filters.
    assert_eq!(titles(&user.list("?level=warning").await), ["Disk"]);
    assert_eq!(titles(&user.list("?type=Custom").await), ["Third", "Hello"]);
    assert_eq!(titles(&user.list(&format!("?id={plain}")).await), ["Hello"]);
    let bad = user.get("/notifications?level=loud").await;
    assert_eq!(bad.body["errors"][0]["path"], json!(["level"]));
    assert_eq!(user.get("/notifications?id=nope").await.status, StatusCode::BAD_REQUEST);

    // One read, then the others at once; then one unread again.
    let got = user.get(&format!("/notifications/{warning}")).await;
    assert_eq!((got.status, &got.body["title"]), (StatusCode::OK, &json!("Disk")));
    let at = json!({"readAt": "2025-03-04T05:06:07.000Z"});
    let read = user.put(&format!("/notifications/{plain}"), at).await;
    assert_eq!(read.body["readAt"], json!("2025-03-04T05:06:07.000Z"));
    assert_eq!(titles(&user.list("?unread=true").await), ["Third", "Disk"]);
    assert_eq!(user.list("?unread=false").await.len(), 3);
    let bulk = json!({"ids": [warning, third], "readAt": "2025-03-05T00:00:00+02:00"});
    assert_eq!(user.put("/notifications", bulk).await.status, StatusCode::NO_CONTENT);
    assert!(user.list("?unread=true").await.is_empty());
    let third_now = user.list(&format!("?id={third}")).await;
    assert_eq!(third_now[0]["readAt"], json!("2025-03-04T22:00:00.000Z"));
    let unread = user
        .put(&format!("/notifications/{plain}"), json!({"readAt": null}))
        .await;
    assert!(unread.body.get("readAt").is_none(), "{}", unread.body);
    let bad_date = user
        .put(&format!("/notifications/{plain}"), json!({"readAt": "soon"}))
        .await;
    assert_eq!(bad_date.body["errors"][0]["path"], json!(["readAt"]));
    let empty = user.put("/notifications", json!({"ids": []})).await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);

    // Someone else's (or an unknown one) is out of reach, alone or among one's own.
    let one = format!("/notifications/{plain}");
    let ids = json!({"ids": [plain]});
    for (method, path, body, permission) in [
        (Method::GET, one.as_str(), None, "read"),
        (Method::PUT, one.as_str(), Some(json!({"readAt": null})), "update"),
        (Method::DELETE, one.as_str(), None, "delete"),
        (Method::PUT, "/notifications", Some(ids.clone()), "update"),
        (Method::DELETE, "/notifications", Some(ids.clone()), "delete"),
    ] {
        let reply = stranger.call(method.clone(), path, body).await;
        let expected = format!("Not found or no notification.{permission} access");
        assert_eq!(
            outcome(&reply),
            (StatusCode::BAD_REQUEST, expected.as_str()),
            "{method} {path}"
        );
    }
    let unknown = uuid::Uuid::new_v4().to_string();
    let mixed = json!({"ids": [plain, unknown]});
    let mixed = user.call(Method::DELETE, "/notifications", Some(mixed)).await;
    assert_eq!(mixed.message(), "Not found or no notification.delete access");
    assert_eq!(user.list("").await.len(), 3, "nothing was deleted");

    // Deleting hides them (the rows stay, stamped, as in Immich).
    let deleted = user.call(Method::DELETE, &one, None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let gone = user.get(&one).await;
    assert_eq!(outcome(&gone), (StatusCode::BAD_REQUEST, "Notification not found"));
    assert_eq!(titles(&user.list("").await), ["Third", "Disk"]);
    let rest = json!({"ids": [warning, third]});
    let deleted = user.call(Method::DELETE, "/notifications", Some(rest)).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert!(user.list("").await.is_empty());
    let stamped: i64 = sqlx::query_scalar(r#"SELECT count(*) FROM notification WHERE "deletedAt" IS NOT NULL"#)
        .fetch_one(&mut server.db().await)
        .await
        .unwrap();
    assert_eq!(stamped, 3);

    // Only admins write them, only for someone who exists, only in the documented shapes.
    let refused = user
        .post("/admin/notifications", json!({"userId": uid, "title": "x"}))
        .await;
    assert_eq!(outcome(&refused), (StatusCode::FORBIDDEN, "Forbidden"));
    let nobody = admin
        .post("/admin/notifications", json!({"userId": unknown, "title": "x"}))
        .await;
    assert_eq!(outcome(&nobody), (StatusCode::BAD_REQUEST, "User not found"));
    let wrong = json!({"userId": uid, "title": "x", "type": "Gossip", "data": [1]});
    let wrong = admin.post("/admin/notifications", wrong).await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    let untitled = admin.post("/admin/notifications", json!({"userId": uid})).await;
    assert_eq!(untitled.body["errors"][0]["path"], json!(["title"]));

    // An API key needs the matching permission.
    let key = server.api_key(&user.1, &["notification.read"]).await;
    let with_key = |method| server.request(method, "/api/notifications").header("x-api-key", &key);
    assert_eq!(server.send(with_key(Method::GET)).await.status, StatusCode::OK);
    let denied = server.send(with_key(Method::DELETE).json(&ids)).await;
    let missing = "Missing required permission: notification.delete";
    assert_eq!(outcome(&denied), (StatusCode::FORBIDDEN, missing));
}

/// Listens to `token`'s live events until `on_notification`.
fn listen(server: &TestServer, token: &str) -> tokio::process::Child {
    darkroom_tests::listen_to_events(&server.url, token, 30, "on_notification")
}

/// An album invitation becomes an `AlbumInvite` notification for the invitee, which their open
/// web client hears about at once; a failed database backup tells the admin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_made_notifications_reach_open_clients() {
    let server = TestServer::start().await;
    let admin = Caller(&server, server.admin_token().await);
    let friend = Caller(&server, server.user_token(&admin.1, "friend@example.com").await);
    let friend_id = friend.id().await;

    let mut listener = listen(&server, &friend.1);
    let mut lines = BufReader::new(listener.stdout.take().unwrap()).lines();
    let greeting = lines.next_line().await.unwrap().unwrap_or_default();
    assert!(greeting.starts_with("connected "), "{greeting}");

    let album = admin.post("/albums", json!({"albumName": "Sommer 2024 ☀"})).await;
    let album = album.body["id"].as_str().unwrap().to_string();
    let invite = json!({"albumUsers": [{"userId": friend_id, "role": "viewer"}]});
    let shared = admin.put(&format!("/albums/{album}/users"), invite).await;
    assert_eq!(shared.status, StatusCode::OK, "{}", shared.body);

    let mut event = Value::Null;
    while let Ok(Some(line)) = lines.next_line().await {
        event = serde_json::from_str(&line).unwrap_or(json!({"event": line}));
        if event["event"] == json!("on_notification") {
            break;
        }
    }
    let pushed = &event["args"][0];
    assert_eq!(pushed["type"], json!("AlbumInvite"), "{event}");
    assert_eq!(pushed["level"], json!("success"));
    assert_eq!(pushed["title"], json!("Shared Album Invitation"));
    let words = "Immich Admin shared an album (Sommer 2024 ☀) with you";
    assert_eq!(pushed["description"], json!(words));
    assert_eq!(pushed["data"], json!({"albumId": album}));
    let _ = listener.wait().await;

    let stored = friend.list("?type=AlbumInvite").await;
    assert_eq!((stored.len(), &stored[0]["id"]), (1, &pushed["id"]));
    assert!(admin.list("").await.is_empty(), "the one who shares hears nothing");

    // Sharing at creation invites too.
    let second = json!({"albumName": "Second", "albumUsers": [{"userId": friend_id, "role": "editor"}]});
    admin.post("/albums", second).await;
    let invites = friend.wait_for("?type=AlbumInvite", 2).await;
    let words = "Immich Admin shared an album (Second) with you";
    assert_eq!(invites[0]["description"], json!(words));

    // The worker reports a failed backup (and no other failed job) to the admin.
    use darkroom_api::services::notifications::job_failed;
    job_failed(server.state(), "AssetExtractMetadata", "broken file");
    job_failed(server.state(), "DatabaseBackup", "Database Backup Failure: disk full");
    let failed = admin.wait_for("", 1).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(admin.list("").await.len(), 1);
    assert_eq!(failed[0]["type"], json!("JobFailed"));
    assert_eq!(
        (&failed[0]["level"], &failed[0]["title"]),
        (&json!("error"), &json!("Job Failed"))
    );
    let words = "Job DatabaseBackup failed with error: Database Backup Failure: disk full";
    assert_eq!(failed[0]["description"], json!(words));
}

/// A tiny SMTP server: accepts everything and keeps each message it was given.
async fn smtp_server() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let received = Arc::new(Mutex::new(Vec::new()));
    let store = received.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let store = store.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                let _ = write.write_all(b"220 mail.test ready\r\n").await;
                let mut message: Option<String> = None;
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(text) = message.as_mut() {
                        if line == "." {
                            store.lock().await.push(std::mem::take(text));
                            message = None;
                            let _ = write.write_all(b"250 queued\r\n").await;
                        } else {
                            text.push_str(&line);
                            text.push('\n');
                        }
                        continue;
                    }
                    let verb = line.split(' ').next().unwrap_or("").to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" => b"250-mail.test\r\n250 8BITMIME\r\n",
                        "DATA" => {
                            message = Some(String::new());
                            b"354 send it\r\n"
                        }
                        "QUIT" => b"221 bye\r\n",
                        _ => b"250 ok\r\n",
                    };
                    let _ = write.write_all(reply).await;
                    if verb == "QUIT" {
                        break;
                    }
                }
            });
        }
    });
    (port, received)
}

fn smtp(port: u16) -> Value {
    json!({
        "enabled": true,
        "from": "Photos <photos@example.com>",
        "replyTo": "",
        "transport": {
            "host": "127.0.0.1", "port": port, "username": "", "password": "",
            "ignoreCert": false, "secure": false
        }
    })
}

async fn wait_for_mail(received: &Mutex<Vec<String>>, count: usize) -> Vec<String> {
    for _ in 0..200 {
        let mails = received.lock().await.clone();
        if mails.len() >= count {
            return mails;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{count} e-mail(s) expected, got {:?}", received.lock().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e_mail_is_tested_previewed_and_sent() {
    let server = TestServer::start().await;
    let admin = Caller(&server, server.admin_token().await);

    // Nothing listens: a clear 400, quickly.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let started = Instant::now();
    let refused = admin.post("/admin/notifications/test-email", smtp(closed)).await;
    assert_eq!(
        outcome(&refused),
        (StatusCode::BAD_REQUEST, "Failed to verify SMTP configuration")
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    let mut incomplete = smtp(closed);
    incomplete["transport"]["port"] = json!(70000);
    incomplete["transport"].as_object_mut().unwrap().remove("host");
    let invalid = admin.post("/admin/notifications/test-email", incomplete).await;
    assert_eq!(outcome(&invalid), (StatusCode::BAD_REQUEST, "Validation failed"));

    // A server that answers gets the test message, addressed to the admin.
    let (port, received) = smtp_server().await;
    let sent = admin.post("/admin/notifications/test-email", smtp(port)).await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    let message_id = sent.body["messageId"].as_str().unwrap().to_string();
    assert!(
        message_id.starts_with('<') && message_id.ends_with("@example.com>"),
        "{message_id}"
    );
    let mails = wait_for_mail(&received, 1).await;
    for header in [format!("To: {ADMIN_EMAIL}"), format!("Message-ID: {message_id}")] {
        assert!(mails[0].contains(&header), "{header}: {}", mails[0]);
    }
    assert!(
        mails[0].contains("Reply-To: Photos <photos@example.com>"),
        "{}",
        mails[0]
    );

    // Previews: the three templates, with the saved custom one or the body's.
    for name in ["welcome", "album-invite", "album-update"] {
        let path = format!("/admin/notifications/templates/{name}");
        let preview = admin.post(&path, json!({"template": ""})).await;
        assert_eq!((preview.status, &preview.body["name"]), (StatusCode::OK, &json!(name)));
        assert!(preview.body["html"].as_str().unwrap().starts_with("<!DOCTYPE html>"));
    }
    let custom = json!({"template": "<p>{senderName} ➜ {albumName} {unknown}</p>"});
    let custom = admin.post("/admin/notifications/templates/album-invite", custom).await;
    let html = custom.body["html"].as_str().unwrap();
    assert!(
        html.contains("<p>Sam Example ➜ Weekend at the lake {unknown}</p>"),
        "{html}"
    );
    let path = "/admin/notifications/templates/newsletter";
    let unknown = admin.post(path, json!({"template": ""})).await;
    assert_eq!(
        outcome(&unknown),
        (StatusCode::BAD_REQUEST, "Unknown email template: newsletter")
    );

    // With SMTP switched on: the invitation and the welcome message go out by themselves.
    server
        .update_config(&admin.1, |config| {
            config["notifications"]["smtp"] = smtp(port);
            let welcome = json!("Welcome {displayName}, you are {username}");
            config["templates"]["email"]["welcomeTemplate"] = welcome;
        })
        .await;
    let new = json!({
        "email": "new@example.com", "password": "pass-1", "name": "Newcomer", "notify": true
    });
    let created = admin.post("/admin/users", new).await;
    assert_eq!(created.status, StatusCode::CREATED);
    let newcomer = created.body["id"].as_str().unwrap().to_string();
    let mails = wait_for_mail(&received, 2).await;
    assert!(mails[1].contains("To: new@example.com"), "{}", mails[1]);
    assert!(
        mails[1].contains("Welcome Newcomer, you are new@example.com"),
        "{}",
        mails[1]
    );
    let quiet = json!({"email": "quiet@example.com", "password": "pass-1", "name": "Quiet"});
    admin.post("/admin/users", quiet).await;

    let invite = |name: &str| json!({"albumName": name, "albumUsers": [{"userId": newcomer, "role": "viewer"}]});
    assert_eq!(
        admin.post("/albums", invite("Harbour")).await.status,
        StatusCode::CREATED
    );
    let mails = wait_for_mail(&received, 3).await;
    assert_eq!(mails.len(), 3, "no welcome for a user made without notify");
    assert!(mails[2].contains("To: new@example.com"), "{}", mails[2]);
    let subject = r#"Subject: Immich Admin shared the album "Harbour" with you"#;
    assert!(mails[2].contains(subject), "{}", mails[2]);

    // A user who turned invitation e-mails off still gets the notification, not the e-mail.
    let newcomer = Caller(&server, server.login("new@example.com", "pass-1").await);
    let off = json!({"emailNotifications": {"albumInvite": false}});
    assert_eq!(newcomer.put("/users/me/preferences", off).await.status, StatusCode::OK);
    admin.post("/albums", invite("Quiet")).await;
    newcomer.wait_for("?type=AlbumInvite", 2).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(received.lock().await.len(), 3);
}
