//! `/map/markers`: where photos were taken.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use darkroom_storage::map::{self, MarkerFilter};
use darkroom_storage::{albums, partners};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::auth::Auth;
use crate::error::{ApiResult, ValidationIssue};
use crate::geodata::{self, PlaceName};
use crate::state::AppState;
use crate::validation::{ValidQuery, Validate, rules};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MapMarkerQuery {
    is_archived: Option<bool>,
    is_favorite: Option<bool>,
    file_created_after: Option<String>,
    file_created_before: Option<String>,
    with_partners: Option<bool>,
    with_shared_albums: Option<bool>,
}

fn date(value: &Option<String>) -> Option<Result<DateTime<Utc>, ()>> {
    value.as_deref().map(|text| {
        DateTime::parse_from_rfc3339(text)
            .map(|d| d.with_timezone(&Utc))
            .map_err(|_| ())
    })
}

impl Validate for MapMarkerQuery {
    fn validate(&self) -> Vec<ValidationIssue> {
        let mut issues = Vec::new();
        for (field, value) in [
            ("fileCreatedAfter", &self.file_created_after),
            ("fileCreatedBefore", &self.file_created_before),
        ] {
            if let Some(Err(())) = date(value) {
                issues.push(ValidationIssue::with_code(
                    "invalid_format",
                    &[field],
                    "Invalid input: expected ISO 8601 datetime string, received string",
                ));
            }
        }
        issues
    }
}

#[derive(Debug, Serialize)]
pub struct MapMarkerResponseDto {
    id: Uuid,
    lat: f64,
    lon: f64,
    city: Option<String>,
    state: Option<String>,
    country: Option<String>,
}

impl From<map::Marker> for MapMarkerResponseDto {
    fn from(m: map::Marker) -> Self {
        Self {
            id: m.id,
            lat: m.lat,
            lon: m.lon,
            city: m.city,
            state: m.state,
            country: m.country,
        }
    }
}

/// `GET /map/markers`: where the caller's photos (and, when asked, partners' and albums')
/// were taken.
pub async fn markers(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidQuery(query): ValidQuery<MapMarkerQuery>,
) -> ApiResult<Json<Vec<MapMarkerResponseDto>>> {
    let me = auth.user.id;
    let mut owners = vec![me];
    if query.with_partners == Some(true) {
        owners.extend(
            partners::list(&state.db, me, false)
                .await?
                .into_iter()
                .map(|p| p.user_id),
        );
    }
    let albums = if query.with_shared_albums == Some(true) {
        albums::member_album_ids(&state.db, me).await?
    } else {
        Vec::new()
    };
    let filter = MarkerFilter {
        owners,
        albums,
        viewer: me,
        include_archived: query.is_archived == Some(true),
        is_favorite: query.is_favorite,
        created_after: date(&query.file_created_after).and_then(Result::ok),
        created_before: date(&query.file_created_before).and_then(Result::ok),
    };
    let markers = map::markers(&state.db, &filter).await?;
    Ok(Json(markers.into_iter().map(Into::into).collect()))
}

#[derive(Debug, Deserialize)]
pub struct ReverseGeocodeQuery {
    lat: Option<Value>,
    lon: Option<Value>,
}

impl ReverseGeocodeQuery {
    fn position(&self, issues: &mut Vec<ValidationIssue>) -> Option<(f64, f64)> {
        let latitude = rules::coerced_number(issues, &["lat"], self.lat.as_ref());
        let longitude = rules::coerced_number(issues, &["lon"], self.lon.as_ref());
        if let Some(latitude) = latitude {
            rules::number_between(issues, &["lat"], latitude, -90.0, 90.0);
        }
        if let Some(longitude) = longitude {
            rules::number_between(issues, &["lon"], longitude, -180.0, 180.0);
        }
        latitude.zip(longitude)
    }
}

impl Validate for ReverseGeocodeQuery {
    fn validate(&self) -> Vec<ValidationIssue> {
        let mut issues = Vec::new();
        self.position(&mut issues);
        issues
    }
}

/// `GET /map/reverse-geocode`: the city, state and country of a position (one answer, or all
/// unknown when no place of the geodata is within 25 km).
pub async fn reverse_geocode(
    State(state): State<AppState>,
    Auth(_): Auth,
    ValidQuery(query): ValidQuery<ReverseGeocodeQuery>,
) -> ApiResult<Json<Vec<PlaceName>>> {
    let (latitude, longitude) = query.position(&mut Vec::new()).unwrap_or_default();
    Ok(Json(vec![
        geodata::reverse_geocode(&state.db, latitude, longitude).await?,
    ]))
}
