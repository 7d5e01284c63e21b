//! `/server/*`: health, versions, features, public configuration, storage and licence.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use darkroom_storage::{assets, system_metadata, users, version_history};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::auth::Auth;
use crate::dto::iso;
use crate::error::{ApiError, ApiResult};
use crate::machine_learning;
use crate::services::licenses::{self, KeySet, LicenseKind};
use crate::state::AppState;
use crate::validation::{ValidJson, Validate};
use crate::version::{API_VERSION, DARKROOM_VERSION};

pub async fn ping() -> Json<Value> {
    Json(json!({ "res": "pong" }))
}

pub async fn version() -> Json<Value> {
    Json(crate::version::api_version_dto())
}

pub async fn version_history(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let entries = version_history::list(&state.db).await?;
    Ok(Json(
        entries
            .iter()
            .map(|e| json!({ "id": e.id, "createdAt": iso(&e.created_at), "version": e.version }))
            .collect(),
    ))
}

/// What this server can really do: the web and mobile apps show a screen for each flag that is
/// true, and that screen's calls must then work. A feature is on when its settings enable it
/// and Darkroom has it.
pub async fn features(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let c = state.system_config.typed(&state.db).await?;
    // Not built yet, whatever the settings say: face import
    // from sidecars and real-time transcoding.
    let not_built = false;
    // Machine learning counts while a configured service answers (or nobody checks).
    let ml = &c.machine_learning;
    let ml_available = ml.enabled && state.ml.is_available(ml);
    Ok(Json(json!({
        "smartSearch": ml_available && machine_learning::is_smart_search_enabled(ml),
        "facialRecognition": ml_available && machine_learning::is_face_recognition_enabled(ml),
        "duplicateDetection": ml_available && machine_learning::is_duplicate_detection_enabled(ml),
        "map": c.map.enabled,
        "reverseGeocoding": c.reverse_geocoding.enabled,
        "importFaces": not_built,
        "sidecar": true,
        "search": true,
        "trash": c.trash.enabled,
        "oauth": c.oauth.enabled,
        "oauthAutoLaunch": c.oauth.auto_launch,
        "ocr": ml_available && machine_learning::is_ocr_enabled(ml),
        "passwordLogin": c.password_login.enabled,
        "configFile": state.system_config.is_read_only(),
        "email": c.notifications.smtp.enabled,
        "realtimeTranscoding": not_built,
    })))
}

pub async fn config(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let c = state.system_config.typed(&state.db).await?;
    let is_initialized = !state.config.allow_setup || users::get_admin(&state.db).await?.is_some();
    let onboarding = system_metadata::get(&state.db, "admin-onboarding").await?;
    let is_onboarded = onboarding
        .as_ref()
        .and_then(|o| o["isOnboarded"].as_bool())
        .unwrap_or(false);
    let mut body = json!({
        "loginPageMessage": c.server.login_page_message,
        "trashDays": c.trash.days,
        "userDeleteDelay": c.user.delete_delay,
        "oauthButtonText": c.oauth.button_text,
        "isInitialized": is_initialized,
        "isOnboarded": is_onboarded,
        "externalDomain": c.server.external_domain,
        "publicUsers": c.server.public_users,
        "mapDarkStyleUrl": c.map.dark_style,
        "mapLightStyleUrl": c.map.light_style,
        "maintenanceMode": false,
        "minFaces": c.machine_learning.facial_recognition.min_faces,
    });
    // Immich 3.2's field, only where it has something to say.
    if c.oauth.enabled
        && let Some(url) = &c.oauth.account_management_url
    {
        body["oauthAccountManagementUrl"] = json!(url);
    }
    Ok(Json(body))
}

pub async fn media_types() -> Json<Value> {
    use darkroom_media::MediaKind;
    let of = |kind| {
        darkroom_media::media_types()
            .iter()
            .filter(|t| t.kind == kind)
            .map(|t| t.extension)
            .collect::<Vec<_>>()
    };
    Json(json!({
        "video": of(MediaKind::Video),
        "image": of(MediaKind::Image),
        "sidecar": of(MediaKind::Sidecar),
    }))
}

pub async fn about(State(state): State<AppState>, Auth(_): Auth) -> ApiResult<Json<Value>> {
    let (major, minor, patch) = API_VERSION;
    let licensed = system_metadata::get(&state.db, "license").await?.is_some();
    let b = &state.config.build_info;
    let mut about = json!({
        "version": format!("v{major}.{minor}.{patch}"),
        "versionUrl": format!("https://github.com/immich-app/immich/releases/tag/v{major}.{minor}.{patch}"),
        "licensed": licensed,
        "build": b.build.clone().unwrap_or_else(|| format!("darkroom-{DARKROOM_VERSION}")),
    });
    // Immich names the tools it runs on; Darkroom runs no Node.js, ImageMagick or libvips, so
    // those stay empty, as Immich leaves a tool it cannot find.
    let tools = state.tool_versions.get_or_init(darkroom_media::tool_versions).await;
    for (key, value) in [
        ("nodejs", ""),
        ("ffmpeg", &tools.ffmpeg),
        ("imagemagick", ""),
        ("libvips", ""),
        ("exiftool", &tools.exiftool),
    ] {
        about[key] = json!(value);
    }
    let optional = [
        ("buildUrl", &b.build_url),
        ("buildImage", &b.build_image),
        ("buildImageUrl", &b.build_image_url),
        ("repository", &b.repository),
        ("repositoryUrl", &b.repository_url),
        ("sourceRef", &b.source_ref),
        ("sourceCommit", &b.source_commit),
        ("sourceUrl", &b.source_url),
        ("thirdPartySourceUrl", &b.third_party_source_url),
        ("thirdPartyBugFeatureUrl", &b.third_party_bug_feature_url),
        ("thirdPartyDocumentationUrl", &b.third_party_documentation_url),
        ("thirdPartySupportUrl", &b.third_party_support_url),
    ];
    for (key, value) in optional {
        if let Some(value) = value {
            about[key] = json!(value);
        }
    }
    Ok(Json(about))
}

pub async fn storage(State(state): State<AppState>, Auth(_): Auth) -> ApiResult<Json<Value>> {
    let space = crate::services::disk_space::of_media(&state.layout).map_err(|e| {
        ApiError::internal_from(
            format!("reading the free space of {}", state.layout.root().display()),
            e,
        )
    })?;
    let (total, used, available) = (space.total, space.used(), space.available);
    let percentage = if total == 0 {
        Value::Null
    } else {
        js_number(round_to(used as f64 / total as f64 * 100.0, 2))
    };
    Ok(Json(json!({
        "diskSize": human_readable(total),
        "diskUse": human_readable(used),
        "diskAvailable": human_readable(available),
        "diskSizeRaw": total,
        "diskUseRaw": used,
        "diskAvailableRaw": available,
        "diskUsagePercentage": percentage,
    })))
}

/// A number as JavaScript prints it: whole numbers without a fraction.
fn js_number(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9e15 {
        json!(n as i64)
    } else {
        json!(n)
    }
}

/// JavaScript's `toFixed` rounding: exact halves round up (away from zero for positives).
fn round_to(value: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    let scaled = value * scale;
    let rounded = if (scaled.fract() - 0.5).abs() < f64::EPSILON {
        scaled.ceil()
    } else {
        scaled.round()
    };
    rounded / scale
}

/// Immich's byte formatting: `0 B`, `1.0 KiB`, `10.3 GiB`.
pub fn human_readable(bytes: u64) -> String {
    const UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut magnitude = 0;
    let mut remainder = bytes as f64;
    while remainder >= 1024.0 && magnitude + 1 < UNITS.len() {
        magnitude += 1;
        remainder /= 1024.0;
    }
    if magnitude == 0 {
        format!("{remainder:.0} B")
    } else {
        format!("{:.1} {}", round_to(remainder, 1), UNITS[magnitude])
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageByUserDto {
    user_id: uuid::Uuid,
    user_name: String,
    photos: i64,
    videos: i64,
    usage: i64,
    usage_photos: i64,
    usage_videos: i64,
    quota_size_in_bytes: Option<i64>,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerStatsResponseDto {
    photos: i64,
    videos: i64,
    usage: i64,
    usage_photos: i64,
    usage_videos: i64,
    usage_by_user: Vec<UsageByUserDto>,
}

pub async fn statistics(State(state): State<AppState>, Auth(_): Auth) -> ApiResult<Json<ServerStatsResponseDto>> {
    let mut stats = ServerStatsResponseDto::default();
    for user in assets::usage_by_user(&state.db).await? {
        stats.photos += user.photos;
        stats.videos += user.videos;
        stats.usage += user.usage;
        stats.usage_photos += user.usage_photos;
        stats.usage_videos += user.usage_videos;
        stats.usage_by_user.push(UsageByUserDto {
            user_id: user.user_id,
            user_name: user.user_name,
            photos: user.photos,
            videos: user.videos,
            usage: user.usage,
            usage_photos: user.usage_photos,
            usage_videos: user.usage_videos,
            quota_size_in_bytes: user.quota_size_in_bytes,
        });
    }
    Ok(Json(stats))
}

pub async fn version_check(State(state): State<AppState>, Auth(_): Auth) -> ApiResult<Json<Value>> {
    Ok(Json(version_check_state(&state).await?))
}

pub async fn version_check_state(state: &AppState) -> ApiResult<Value> {
    let mut result = json!({ "checkedAt": null, "releaseVersion": null });
    if let Some(Value::Object(stored)) = system_metadata::get(&state.db, "version-check-state").await? {
        for (key, value) in stored {
            result[key] = value;
        }
    }
    Ok(result)
}

pub async fn apk_links(Auth(_): Auth) -> Json<Value> {
    let (major, minor, patch) = API_VERSION;
    let base = format!("https://github.com/immich-app/immich/releases/download/v{major}.{minor}.{patch}");
    Json(json!({
        "arm64v8a": format!("{base}/app-arm64-v8a-release.apk"),
        "armeabiv7a": format!("{base}/app-armeabi-v7a-release.apk"),
        "universal": format!("{base}/app-release.apk"),
        "x86_64": format!("{base}/app-x86_64-release.apk"),
    }))
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LicenseKeyDto {
    pub license_key: String,
    pub activation_key: String,
}

impl Validate for LicenseKeyDto {
    fn validate(&self) -> Vec<crate::error::ValidationIssue> {
        if licenses::is_well_formed(&self.license_key) {
            return Vec::new();
        }
        vec![crate::error::ValidationIssue::with_code(
            "invalid_format",
            &["licenseKey"],
            r"Invalid string: must match pattern /^IM(SV|CL)(-[\dA-Za-z]{4}){8}$/",
        )]
    }
}

/// Checks and stamps a licence; the caller stores the result.
pub fn activate(state: &AppState, kind: LicenseKind, dto: &LicenseKeyDto) -> ApiResult<Value> {
    let keys = KeySet::for_environment(&state.config.environment);
    if !licenses::verify(keys, kind, &dto.license_key, &dto.activation_key) {
        return Err(ApiError::bad_request("Invalid license key"));
    }
    Ok(json!({
        "licenseKey": dto.license_key,
        "activationKey": dto.activation_key,
        "activatedAt": iso(&chrono::Utc::now()),
    }))
}

pub async fn get_license(State(state): State<AppState>, Auth(_): Auth) -> ApiResult<Json<Value>> {
    system_metadata::get(&state.db, "license")
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found("Not Found"))
}

pub async fn set_license(
    State(state): State<AppState>,
    Auth(_): Auth,
    ValidJson(dto): ValidJson<LicenseKeyDto>,
) -> ApiResult<Json<Value>> {
    let license = activate(&state, LicenseKind::Server, &dto)?;
    system_metadata::set(&state.db, "license", &license).await?;
    Ok(Json(license))
}

pub async fn delete_license(State(state): State<AppState>, Auth(_): Auth) -> ApiResult<StatusCode> {
    system_metadata::delete(&state.db, "license").await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_immich() {
        assert_eq!(human_readable(0), "0 B");
        assert_eq!(human_readable(1023), "1023 B");
        assert_eq!(human_readable(1024), "1.0 KiB");
        assert_eq!(human_readable(1280), "1.3 KiB");
        assert_eq!(human_readable(1_048_575), "1024.0 KiB");
        assert_eq!(human_readable(11_059_540_378), "10.3 GiB");
        assert_eq!(js_number(45.0), json!(45));
        assert_eq!(js_number(round_to(45.678, 2)), json!(45.68));
    }
}
