//! Hostile text in every JSON body field and every query parameter the contract describes.

use darkroom_tests::{TestServer, spec};
use reqwest::{Method, StatusCode};
use serde_json::{Map, Value, json};

use super::{NOT_UTF8, hostile_texts, send_raw};

/// Stands in for a field's value in the serialised body, then becomes bytes that are not UTF-8.
const NOT_UTF8_MARKER: &str = "@@not-utf-8@@";

/// Ids the bodies and paths point at, so that requests get past "not found" into the handlers.
struct Fixtures {
    asset: String,
    album: String,
    user: String,
    tag: String,
    memory: String,
    link: String,
    key: String,
}

fn resolve(schema: &Value) -> &Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let name = reference.rsplit('/').next().unwrap_or_default();
            resolve(&spec::spec()["components"]["schemas"][name])
        }
        None => match schema
            .get("allOf")
            .or_else(|| schema.get("oneOf"))
            .or_else(|| schema.get("anyOf"))
        {
            Some(Value::Array(parts)) if !parts.is_empty() => resolve(&parts[0]),
            _ => schema,
        },
    }
}

/// A plausible value for `schema`; `name` is the property's name (ids are chosen by it).
fn plausible(schema: &Value, name: &str, fixtures: &Fixtures, depth: usize) -> Value {
    let schema = resolve(schema);
    if depth > 6 {
        return Value::Null;
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        return values.first().cloned().unwrap_or(Value::Null);
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("object") | None if schema.get("properties").is_some() => {
            let mut object = Map::new();
            for (key, property) in schema["properties"].as_object().into_iter().flatten() {
                object.insert(key.clone(), plausible(property, key, fixtures, depth + 1));
            }
            Value::Object(object)
        }
        Some("array") => json!([plausible(&schema["items"], name, fixtures, depth + 1)]),
        Some("integer") | Some("number") => schema.get("minimum").cloned().unwrap_or(json!(1)),
        Some("boolean") => json!(false),
        Some("string") => json!(match schema.get("format").and_then(Value::as_str) {
            Some("uuid") => id_for(name, fixtures),
            Some("date-time") => "2024-05-01T12:00:00.000Z".to_string(),
            Some("date") => "2000-05-01".to_string(),
            Some("email") => "someone@example.com".to_string(),
            _ => "plain text".to_string(),
        }),
        _ => Value::Null,
    }
}

fn id_for(name: &str, fixtures: &Fixtures) -> String {
    let name = name.to_ascii_lowercase();
    let id = if name.contains("album") {
        &fixtures.album
    } else if name.contains("user") || name.contains("owner") || name.contains("partner") {
        &fixtures.user
    } else if name.contains("tag") {
        &fixtures.tag
    } else {
        &fixtures.asset
    };
    id.clone()
}

/// Where each string sits in `value`, as a path of keys and indexes.
fn string_paths(value: &Value, at: &mut Vec<Value>, out: &mut Vec<Vec<Value>>) {
    match value {
        Value::String(_) => out.push(at.clone()),
        Value::Object(object) => {
            for (key, inner) in object {
                at.push(json!(key));
                string_paths(inner, at, out);
                at.pop();
            }
        }
        Value::Array(items) => {
            for (index, inner) in items.iter().enumerate() {
                at.push(json!(index));
                string_paths(inner, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

fn replaced(value: &Value, path: &[Value], text: &str) -> Value {
    let mut copy = value.clone();
    let mut slot = &mut copy;
    for step in path {
        slot = match step {
            Value::String(key) => &mut slot[key.as_str()],
            Value::Number(index) => &mut slot[index.as_u64().unwrap_or(0) as usize],
            _ => unreachable!("paths hold keys and indexes"),
        };
    }
    *slot = json!(text);
    copy
}

/// A concrete path for a template, with ids of the fixtures.
fn concrete_path(template: &str, fixtures: &Fixtures) -> String {
    let first = template.trim_start_matches('/').split('/').next().unwrap_or_default();
    let id = match first {
        "albums" => &fixtures.album,
        "tags" => &fixtures.tag,
        "memories" => &fixtures.memory,
        "shared-links" => &fixtures.link,
        "api-keys" => &fixtures.key,
        "users" | "admin" => &fixtures.user,
        _ => &fixtures.asset,
    };
    let mut path = String::new();
    for segment in template.split('/').filter(|s| !s.is_empty()) {
        path.push('/');
        match segment {
            "{userId}" => path.push_str(&fixtures.user),
            "{assetId}" => path.push_str(&fixtures.asset),
            s if s.starts_with('{') => path.push_str(id),
            s => path.push_str(s),
        }
    }
    format!("/api{path}")
}

async fn fixtures(server: &TestServer, admin: &str) -> Fixtures {
    let asset = server
        .upload(admin, "photo.png", &darkroom_tests::fixtures::png_bytes(), &[])
        .await
        .body["id"]
        .as_str()
        .expect("asset")
        .to_string();
    let user_token = server.user_token(admin, "other@example.com").await;
    let user = server
        .call(Method::GET, "/api/users/me", Some(&user_token), None)
        .await
        .body["id"]
        .as_str()
        .expect("user")
        .to_string();
    let album = server
        .call(
            Method::POST,
            "/api/albums",
            Some(admin),
            Some(json!({"albumName": "Album", "assetIds": [asset]})),
        )
        .await
        .body["id"]
        .as_str()
        .expect("album")
        .to_string();
    let tag = server
        .call(Method::POST, "/api/tags", Some(admin), Some(json!({"name": "tag"})))
        .await
        .body["id"]
        .as_str()
        .expect("tag")
        .to_string();
    let memory = server
        .call(
            Method::POST,
            "/api/memories",
            Some(admin),
            Some(json!({"type": "on_this_day", "data": {"year": 2020}, "memoryAt": "2024-05-01T00:00:00.000Z", "assetIds": [asset]})),
        )
        .await
        .body["id"]
        .as_str()
        .expect("memory")
        .to_string();
    let link = server
        .call(
            Method::POST,
            "/api/shared-links",
            Some(admin),
            Some(json!({"type": "ALBUM", "albumId": album})),
        )
        .await
        .body["id"]
        .as_str()
        .expect("link")
        .to_string();
    let keys = server
        .call(
            Method::POST,
            "/api/api-keys",
            Some(admin),
            Some(json!({"name": "spare", "permissions": ["all"]})),
        )
        .await;
    let key = keys.body["apiKey"]["id"]
        .as_str()
        .or(keys.body["id"].as_str())
        .expect("key")
        .to_string();
    Fixtures {
        asset,
        album,
        user,
        tag,
        memory,
        link,
        key,
    }
}

/// Every JSON body of the contract, each string field in turn given each hostile text, then
/// bytes that are not UTF-8; DELETEs last, so the fixtures live as long as possible.
#[tokio::test(flavor = "multi_thread")]
async fn hostile_text_in_every_json_field_is_answered_without_a_5xx() {
    // A real machine-learning service, so that smart search encodes the hostile texts too.
    let ml = darkroom_tests::ml::MlService::start();
    let server = TestServer::start_with(&[("IMMICH_MACHINE_LEARNING_URL", &ml.url)]).await;
    let admin = server.admin_token().await;
    let fixtures = fixtures(&server, &admin).await;
    // An API key outlives logout, password changes and session deletions that the bodies cause.
    let key = server.api_key(&admin, &["all"]).await;
    let mut operations: Vec<(Method, String, Value)> = Vec::new();
    for (template, methods) in spec::spec()["paths"].as_object().expect("paths") {
        for (method, operation) in methods.as_object().into_iter().flatten() {
            let Some(schema) = operation.pointer("/requestBody/content/application~1json/schema") else {
                continue;
            };
            let method: Method = method.to_uppercase().parse().expect("method");
            operations.push((method, template.clone(), plausible(schema, "", &fixtures, 0)));
        }
    }
    operations.sort_by_key(|(method, _, _)| *method == Method::DELETE);
    let texts = hostile_texts();
    let mut requests = 0;
    for (method, template, body) in &operations {
        // Signing out or deleting every session would not stop the API key, but skip nothing.
        let path = concrete_path(template, &fixtures);
        let mut paths = Vec::new();
        string_paths(body, &mut Vec::new(), &mut paths);
        for field in &paths {
            let name = field.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(".");
            for text in &texts {
                let changed = serde_json::to_vec(&replaced(body, field, text)).expect("json");
                send_raw(
                    &server,
                    &key,
                    method,
                    &path,
                    "application/json",
                    changed,
                    &format!("{name} = {text}"),
                )
                .await;
                requests += 1;
            }
            let marked = serde_json::to_vec(&replaced(body, field, NOT_UTF8_MARKER)).expect("json");
            let broken = replace_bytes(&marked, NOT_UTF8_MARKER.as_bytes(), NOT_UTF8);
            let status = send_raw(
                &server,
                &key,
                method,
                &path,
                "application/json",
                broken,
                &format!("{name} not UTF-8"),
            )
            .await;
            assert!(
                status.is_client_error(),
                "{method} {path}: a body that is not UTF-8 answered {status}"
            );
            requests += 1;
        }
    }
    assert!(
        requests > 1000,
        "only {requests} requests: the spec's bodies were not found"
    );
    eprintln!("{requests} requests with hostile JSON");
    // The server is still whole.
    let ping = server.call(Method::GET, "/api/server/ping", None, None).await;
    assert_eq!(ping.status, StatusCode::OK);
}

/// Every string query parameter of every GET, given each hostile text and a percent-escape of
/// bytes that are not UTF-8.
#[tokio::test(flavor = "multi_thread")]
async fn hostile_text_in_every_query_parameter_is_answered_without_a_5xx() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let fixtures = fixtures(&server, &admin).await;
    let key = server.api_key(&admin, &["all"]).await;
    let mut requests = 0;
    for (template, methods) in spec::spec()["paths"].as_object().expect("paths") {
        let Some(operation) = methods.get("get") else { continue };
        let path = concrete_path(template, &fixtures);
        for parameter in operation["parameters"].as_array().into_iter().flatten() {
            let parameter = resolve(parameter);
            if parameter["in"] != json!("query") || resolve(&parameter["schema"])["type"] != json!("string") {
                continue;
            }
            let name = parameter["name"].as_str().expect("name");
            for text in &hostile_texts() {
                let url = reqwest::Url::parse_with_params(&format!("{}{path}", server.url), [(name, text.as_str())])
                    .expect("url");
                let response = server
                    .client
                    .get(url)
                    .header("x-api-key", &key)
                    .send()
                    .await
                    .expect("connection");
                let status = response.status();
                let body = response.bytes().await.expect("whole answer");
                assert!(
                    !status.is_server_error(),
                    "GET {path}?{name}={text} answered {status}: {}",
                    String::from_utf8_lossy(&body)
                );
                requests += 1;
            }
            let url = format!("{}{path}?{name}=%FF%FE%C3%28", server.url);
            let response = server
                .client
                .get(url)
                .header("x-api-key", &key)
                .send()
                .await
                .expect("connection");
            assert!(
                !response.status().is_server_error(),
                "GET {path}?{name}=<not UTF-8> answered {}",
                response.status()
            );
            requests += 1;
        }
    }
    assert!(
        requests > 200,
        "only {requests} requests: the spec's query parameters were not found"
    );
}

fn replace_bytes(haystack: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut rest = haystack;
    while let Some(at) = rest.windows(needle.len()).position(|w| w == needle) {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(with);
        rest = &rest[at + needle.len()..];
    }
    out.extend_from_slice(rest);
    out
}
