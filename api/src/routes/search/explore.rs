//! The search form's suggestions and the explore page: cities, places and people by name.

use axum::Json;
use axum::extract::State;
use darkroom_storage::search::{self, SuggestionContext, SuggestionField};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{dtos, searched_users};
use crate::auth::Auth;
use crate::dto::asset::AssetResponseDto;
use crate::error::{ApiResult, ValidationIssue};
use crate::state::AppState;
use crate::validation::{ValidQuery, Validate};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SuggestionsQuery {
    #[serde(rename = "type")]
    kind: SuggestionType,
    country: Option<String>,
    state: Option<String>,
    make: Option<String>,
    model: Option<String>,
    lens_model: Option<String>,
    include_null: Option<bool>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SuggestionType {
    Country,
    State,
    City,
    CameraMake,
    CameraModel,
    CameraLensModel,
}

impl Validate for SuggestionsQuery {}

/// `GET /search/suggestions?type=…`: values for the search form's fields.
pub async fn suggestions(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidQuery(query): ValidQuery<SuggestionsQuery>,
) -> ApiResult<Json<Vec<Option<String>>>> {
    let field = match query.kind {
        SuggestionType::Country => SuggestionField::Country,
        SuggestionType::State => SuggestionField::State,
        SuggestionType::City => SuggestionField::City,
        SuggestionType::CameraMake => SuggestionField::Make,
        SuggestionType::CameraModel => SuggestionField::Model,
        SuggestionType::CameraLensModel => SuggestionField::LensModel,
    };
    let given = |value: &Option<String>| value.clone().filter(|v| !v.is_empty());
    let context = SuggestionContext {
        country: given(&query.country),
        state: given(&query.state),
        make: given(&query.make),
        model: given(&query.model),
        lens_model: given(&query.lens_model),
    };
    let users = searched_users(&state, &auth, true).await?;
    let mut values: Vec<Option<String>> = search::suggestions(&state.db, &users, field, &context)
        .await?
        .into_iter()
        .map(Some)
        .collect();
    if query.include_null == Some(true) {
        values.push(None);
    }
    Ok(Json(values))
}

/// `GET /search/cities`: one photo for each city in the caller's (and partners') timeline.
pub async fn cities(State(state): State<AppState>, Auth(auth): Auth) -> ApiResult<Json<Vec<AssetResponseDto>>> {
    let users = searched_users(&state, &auth, true).await?;
    let ids: Vec<Uuid> = search::one_per_city(&state.db, &users, 1, i64::MAX)
        .await?
        .into_iter()
        .map(|(_, id)| id)
        .collect();
    let mut items = dtos(&state, &auth, &ids, true).await?;
    // Immich shows these without the viewer's favourites.
    for item in &mut items {
        item.clear_favorite();
    }
    Ok(Json(items))
}

/// `GET /search/explore`: places with photos, and the latest photos.
pub async fn explore(State(state): State<AppState>, Auth(auth): Auth) -> ApiResult<Json<Value>> {
    let places = search::one_per_city(&state.db, &[auth.user.id], 5, 12).await?;
    let ids: Vec<Uuid> = places.iter().map(|(_, id)| *id).collect();
    let place_dtos = dtos(&state, &auth, &ids, true).await?;
    let places: Vec<Value> = places
        .iter()
        .zip(place_dtos)
        .map(|((city, _), data)| json!({ "value": city, "data": data }))
        .collect();
    let recent = search::recent_images(&state.db, auth.user.id, 12).await?;
    let recent_dtos = dtos(&state, &auth, &recent, true).await?;
    let recent: Vec<Value> = recent_dtos
        .into_iter()
        .map(|data| json!({ "value": data.created_at_iso(), "data": data }))
        .collect();
    Ok(Json(json!([
        { "fieldName": "exifInfo.city", "items": places },
        { "fieldName": "createdAt", "items": recent },
    ])))
}

#[derive(Debug, Deserialize)]
pub struct SearchPlacesQuery {
    name: Option<Value>,
}

/// A text parameter as typed (queries turn digits and `true` into JSON values; they are text
/// here).
fn text_query(value: &Option<Value>) -> Option<String> {
    match value.as_ref()? {
        Value::String(text) => Some(text.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// zod's required `name: z.string()`.
fn required_name(name: &Option<Value>) -> Vec<ValidationIssue> {
    match text_query(name) {
        Some(_) => Vec::new(),
        None => vec![ValidationIssue::with_code(
            "invalid_type",
            &["name"],
            "Invalid input: expected string, received undefined",
        )],
    }
}

impl Validate for SearchPlacesQuery {
    fn validate(&self) -> Vec<ValidationIssue> {
        required_name(&self.name)
    }
}

#[derive(Debug, Serialize)]
pub struct PlacesResponseDto {
    name: String,
    latitude: f64,
    longitude: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    admin1name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    admin2name: Option<String>,
}

/// `GET /search/places`: up to 20 places of the geodata whose names resemble the one asked for.
pub async fn places(
    State(state): State<AppState>,
    Auth(_): Auth,
    ValidQuery(query): ValidQuery<SearchPlacesQuery>,
) -> ApiResult<Json<Vec<PlacesResponseDto>>> {
    let places = darkroom_storage::geodata::search(&state.db, &text_query(&query.name).unwrap_or_default()).await?;
    Ok(Json(
        places
            .into_iter()
            .map(|place| PlacesResponseDto {
                name: place.name,
                latitude: place.latitude,
                longitude: place.longitude,
                admin1name: place.admin1_name,
                admin2name: place.admin2_name,
            })
            .collect(),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchPeopleQuery {
    name: Option<Value>,
    with_hidden: Option<bool>,
}

impl Validate for SearchPeopleQuery {
    fn validate(&self) -> Vec<ValidationIssue> {
        required_name(&self.name)
    }
}

/// `GET /search/person`: the caller's people by name.
pub async fn person(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidQuery(query): ValidQuery<SearchPeopleQuery>,
) -> ApiResult<Json<Vec<crate::dto::person::PersonResponseDto>>> {
    let name = text_query(&query.name).unwrap_or_default();
    let people =
        darkroom_storage::people::search_by_name(&state.db, auth.user.id, &name, query.with_hidden.unwrap_or(false))
            .await?;
    Ok(Json(people.into_iter().map(Into::into).collect()))
}
