//! Immich's OpenAPI 3.0.3 contract, as the facts `scripts/contract-extract` keeps of it in
//! `tests/contract/immich-openapi.json` (or the spec named by `DARKROOM_IMMICH_SPEC`), and a
//! validator for the JSON responses the tests receive. Operations new in API 3.2 are described
//! below from the `@immich/sdk@3.2.2` types.

use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::{Value, json};

pub fn spec_path() -> PathBuf {
    std::env::var_os("DARKROOM_IMMICH_SPEC")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("contract/immich-openapi.json"))
}

/// The spec, with the 3.2 operations added. Panics with a clear message when the file is absent.
pub fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| {
        let path = spec_path();
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "Immich's API contract is absent: cannot read {} ({e}). It is committed with the tests; \
                 scripts/contract-extract writes it again from Immich's OpenAPI spec.",
                path.display()
            )
        });
        let mut spec: Value = serde_json::from_str(&text).expect("the spec is valid JSON");
        add_api_3_2(&mut spec);
        spec
    })
}

fn op(schema: Value, status: &str, permission: &str, admin: bool) -> Value {
    let mut operation = json!({ "responses": { status: { "content": { "application/json": { "schema": schema } } } } });
    if !permission.is_empty() {
        operation["x-immich-permission"] = json!(permission);
    }
    if admin {
        operation["x-immich-admin-only"] = json!(true);
    }
    operation
}

/// 3.2-only operations (SDK 3.2.2 types), expressed with the 3.0.3 schemas where they are equal.
fn add_api_3_2(spec: &mut Value) {
    let system_config = json!({ "$ref": "#/components/schemas/SystemConfigDto" });
    let object = |props: Value| {
        let required: Vec<String> = props
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        json!({ "type": "object", "properties": props, "required": required })
    };
    let b = json!({ "type": "boolean" });
    let i = json!({ "type": "integer" });
    let s = json!({ "type": "string" });
    let public = object(json!({
        "oauth": object(json!({ "autoLaunch": b, "buttonText": s, "enabled": b })),
        "passwordLogin": object(json!({ "enabled": b })),
        "theme": object(json!({ "customCss": s })),
        "server": object(json!({ "loginPageMessage": s })),
    }));
    let user = object(json!({
        "ffmpeg": object(json!({ "realtime": object(json!({ "enabled": b, "videoCodecs": { "type": "array", "items": s }, "resolutions": { "type": "array", "items": i } })) })),
        "machineLearning": object(json!({
            "enabled": b, "clip": object(json!({ "enabled": b })), "duplicateDetection": object(json!({ "enabled": b })),
            "facialRecognition": object(json!({ "enabled": b, "minFaces": i })), "ocr": object(json!({ "enabled": b })),
        })),
        "map": object(json!({ "enabled": b, "lightStyle": s, "darkStyle": s })),
        "reverseGeocoding": object(json!({ "enabled": b })),
        "oauth": object(json!({ "autoLaunch": b, "buttonText": s, "enabled": b })),
        "passwordLogin": object(json!({ "enabled": b })),
        "image": object(json!({ "thumbnail": object(json!({ "size": i })), "preview": object(json!({ "size": i })), "fullsize": object(json!({ "enabled": b })) })),
        "trash": object(json!({ "enabled": b, "days": i })),
        "theme": object(json!({ "customCss": s })),
        "server": object(json!({ "externalDomain": s, "loginPageMessage": s, "publicUsers": b })),
        "user": object(json!({ "deleteDelay": i })),
    }));
    // 3.2's rotate response: the key's fields, plus `secret` and `apiKey`. (Create keeps 3.0.3's
    // `{apiKey, secret}`, which Immich's own e2e suite checks exactly.)
    let mut rotated = spec["components"]["schemas"]["ApiKeyResponseDto"].clone();
    rotated["properties"]["secret"] = s.clone();
    rotated["properties"]["apiKey"] = json!({ "$ref": "#/components/schemas/ApiKeyResponseDto" });
    // SDK 3.2.2's Permission enum adds these values.
    let added = [
        "adminConfig.read",
        "adminConfig.update",
        "apiKey.rotate",
        "assetFile.read",
        "assetFile.delete",
        "assetFile.download",
        "clusterGroup.read",
        "clusterGroup.leave",
        "clusterGroupRequest.create",
        "clusterGroupRequest.read",
        "clusterGroupRequest.delete",
        "userConfig.read",
        "workflow.logs",
    ];
    if let Some(values) = spec["components"]["schemas"]["Permission"]["enum"].as_array_mut() {
        values.extend(added.iter().map(|p| json!(p)));
    }
    // SDK 3.2.2's optional OAuth account page, in the settings and in the server's config.
    let schemas = &mut spec["components"]["schemas"];
    schemas["SystemConfigOAuthDto"]["properties"]["accountManagementUrl"] = s.clone();
    schemas["ServerConfigDto"]["properties"]["oauthAccountManagementUrl"] = s.clone();
    let paths = spec["paths"].as_object_mut().expect("paths");
    paths.insert(
        "/admin/config".into(),
        json!({
            "get": op(system_config.clone(), "200", "adminConfig.read", true),
            "put": op(system_config.clone(), "200", "adminConfig.update", true),
        }),
    );
    paths.insert(
        "/admin/config/defaults".into(),
        json!({ "get": op(system_config, "200", "adminConfig.read", true) }),
    );
    paths.insert(
        "/public/config".into(),
        json!({ "get": op(public.clone(), "200", "", false) }),
    );
    paths.insert(
        "/public/config/defaults".into(),
        json!({ "get": op(public, "200", "", false) }),
    );
    paths.insert(
        "/config".into(),
        json!({ "get": op(user.clone(), "200", "userConfig.read", false) }),
    );
    paths.insert(
        "/config/defaults".into(),
        json!({ "get": op(user, "200", "userConfig.read", false) }),
    );
    paths.insert(
        "/api-keys/{id}/rotate".into(),
        json!({ "post": op(rotated.clone(), "200", "apiKey.rotate", false) }),
    );
}

/// The spec's path template for a request path under `/api` (most literal segments win).
pub fn find_template(path: &str) -> Option<String> {
    let path = path.strip_prefix("/api")?;
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let mut best: Option<(usize, String)> = None;
    for template in spec()["paths"].as_object()?.keys() {
        let parts: Vec<&str> = template.split('/').collect();
        if parts.len() != segments.len() {
            continue;
        }
        let mut literal = 0;
        let matches = parts.iter().zip(&segments).all(|(t, s)| {
            if t.starts_with('{') {
                true
            } else {
                literal += 1;
                t == s
            }
        });
        if matches && best.as_ref().is_none_or(|(score, _)| literal > *score) {
            best = Some((literal, template.clone()));
        }
    }
    best.map(|(_, t)| t)
}

pub fn operation(method: &str, template: &str) -> Option<&'static Value> {
    spec()["paths"].get(template)?.get(method.to_ascii_lowercase())
}

/// Fails the test when a JSON response does not match its operation's schema, or when the
/// route is not in the contract at all.
pub fn check_response(method: &str, path: &str, status: u16, body: &Value) {
    if status >= 400 {
        let ok = body["message"].is_string()
            && body
                .as_object()
                .is_some_and(|o| o.keys().all(|k| k == "message" || k == "errors"));
        assert!(
            ok,
            "{method} {path} → {status}: error body is not Immich's shape: {body}"
        );
        return;
    }
    if !path.starts_with("/api/") {
        return;
    }
    let template = find_template(path).unwrap_or_else(|| panic!("{method} {path}: route is not in Immich's API"));
    // PATCH is Immich's hidden alias of PUT where the spec lists only PUT.
    let op = operation(method, &template)
        .or_else(|| (method == "PATCH").then(|| operation("PUT", &template)).flatten())
        .unwrap_or_else(|| panic!("{method} {template}: operation is not in Immich's API"));
    let Some(schema) = op["responses"][status.to_string()]["content"]["application/json"].get("schema") else {
        panic!("{method} {template}: Immich does not answer {status} with a JSON body, but we did: {body}");
    };
    let mut errors = Vec::new();
    validate(body, schema, "$", &mut errors);
    assert!(
        errors.is_empty(),
        "{method} {template} → {status} does not match the spec:\n{}\nbody: {body}",
        errors.join("\n")
    );
}

fn resolve(schema: &Value) -> &Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let name = reference.rsplit('/').next().unwrap_or("");
            resolve(&spec()["components"]["schemas"][name])
        }
        None => schema,
    }
}

pub fn validate(value: &Value, schema: &Value, at: &str, errors: &mut Vec<String>) {
    let schema = resolve(schema);
    if value.is_null() {
        if !(schema["nullable"] == json!(true) || schema.as_object().is_some_and(|o| o.is_empty())) {
            errors.push(format!("{at}: null where the spec does not allow it"));
        }
        return;
    }
    if let Some(all) = schema["allOf"].as_array() {
        for part in all {
            validate(value, part, at, errors);
        }
        return;
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(options) = schema[key].as_array() {
            let fits = options.iter().any(|option| {
                let mut inner = Vec::new();
                validate(value, option, at, &mut inner);
                inner.is_empty()
            });
            if !fits {
                errors.push(format!("{at}: matches none of {key}"));
            }
            return;
        }
    }
    if let Some(allowed) = schema["enum"].as_array()
        && !allowed.contains(value)
    {
        errors.push(format!(
            "{at}: {value} is not one of the {} allowed values",
            allowed.len()
        ));
    }
    match schema["type"].as_str() {
        Some("string") if !value.is_string() => errors.push(format!("{at}: expected string, got {value}")),
        Some("boolean") if !value.is_boolean() => errors.push(format!("{at}: expected boolean, got {value}")),
        Some("integer") if !(value.is_i64() || value.is_u64()) => {
            errors.push(format!("{at}: expected integer, got {value}"))
        }
        Some("number") if !value.is_number() => errors.push(format!("{at}: expected number, got {value}")),
        Some("array") => match value.as_array() {
            Some(items) => {
                for (index, item) in items.iter().enumerate() {
                    validate(item, &schema["items"], &format!("{at}[{index}]"), errors);
                }
            }
            None => errors.push(format!("{at}: expected array, got {value}")),
        },
        _ => {}
    }
    if let Some(properties) = schema["properties"].as_object() {
        let Some(object) = value.as_object() else {
            errors.push(format!("{at}: expected object, got {value}"));
            return;
        };
        for required in schema["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !object.contains_key(required) {
                errors.push(format!("{at}.{required}: required but missing"));
            }
        }
        for (key, item) in object {
            match properties.get(key) {
                Some(property) => validate(item, property, &format!("{at}.{key}"), errors),
                None if schema.get("additionalProperties").is_none() => {
                    errors.push(format!("{at}.{key}: not in the spec"));
                }
                None => {}
            }
        }
    }
    if let (Some(object), Some(extra)) = (
        value.as_object(),
        schema.get("additionalProperties").filter(|a| a.is_object()),
    ) {
        for (key, item) in object {
            if schema["properties"].get(key).is_none() {
                validate(item, extra, &format!("{at}.{key}"), errors);
            }
        }
    }
}
