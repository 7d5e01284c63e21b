//! `/people`: the caller's people — listed, named, hidden, merged, given faces. People come
//! from face recognition, from faces drawn by hand (`POST /faces`) or from a database Immich
//! filled; everything here but the likeness order works without face embeddings.

mod requests;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use darkroom_storage::StorageError;
use darkroom_storage::faces;
use darkroom_storage::people::{self, NewPerson, PeoplePage, Person};
use serde::Serialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::access;
use crate::auth::{Auth, AuthContext};
use crate::dto::ids::{AssetId, PersonId, uuids};
use crate::dto::person::PersonResponseDto;
use crate::dto::{BulkIdResponseDto, BulkIdsDto};
use crate::error::{ApiError, ApiResult};
use crate::file_serving;
use crate::permission::Permission;
use crate::routes::faces::{move_face, person_or_fail};
use crate::state::AppState;
use crate::validation::{IdPath, ValidJson, ValidQuery};
use requests::{
    AssetFaceUpdateDto, FUTURE_BIRTH_DATE, MergePersonDto, PeopleUpdateDto, PersonCreateDto, PersonFields,
    PersonSearchQuery, PersonUpdateDto, issue,
};

/// Immich's `CacheControl.PrivateWithoutCache`, which person thumbnails are sent with.
const PRIVATE_NO_CACHE: &str = "private, no-cache, no-transform";

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PeopleResponseDto {
    people: Vec<PersonResponseDto>,
    total: i64,
    hidden: i64,
    has_next_page: bool,
}

/// `GET /people`: a page of the caller's people, with how many there are and how many hidden.
/// `closestPersonId` (their cover face) or `closestAssetId` (which, as in Immich, names a face)
/// orders them by likeness to that face, as the web's merge and reassign dialogs ask.
pub async fn list(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidQuery(query): ValidQuery<PersonSearchQuery>,
) -> ApiResult<Json<PeopleResponseDto>> {
    let (page, size) = query.paging(&mut Vec::new());
    let mut closest_to_face = query.closest_asset_id.map(Uuid::from);
    if let Some(closest) = query.closest_person_id {
        let person = people::get(&state.db, closest.0)
            .await?
            .filter(|p| p.owner_id == auth.user.id);
        closest_to_face = Some(
            person
                .and_then(|p| p.face_asset_id)
                .ok_or_else(|| ApiError::not_found("Person not found"))?,
        );
    }
    let window = PeoplePage {
        with_hidden: query.with_hidden.unwrap_or(false),
        closest_to_face,
        offset: (page - 1).saturating_mul(size),
        limit: size + 1,
    };
    let mut found = people::list_for_user(&state.db, auth.user.id, window).await?;
    let has_next_page = found.len() as i64 > size;
    found.truncate(size as usize);
    let (total, hidden) = people::count_for_user(&state.db, auth.user.id).await?;
    Ok(Json(PeopleResponseDto {
        people: found.into_iter().map(Into::into).collect(),
        total,
        hidden,
        has_next_page,
    }))
}

/// A birth date the database refuses (today in the server's zone is still tomorrow here) is
/// the client's mistake, not the server's.
fn refused_birth_date(error: StorageError) -> ApiError {
    if people::refuses_birth_date(&error) {
        return ApiError::Validation(vec![issue(&[], "birthDate", "custom", FUTURE_BIRTH_DATE)]);
    }
    error.into()
}

/// `POST /people`: a person with no faces yet.
pub async fn create(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidJson(PersonCreateDto(body)): ValidJson<PersonCreateDto>,
) -> ApiResult<(StatusCode, Json<PersonResponseDto>)> {
    let changes = body.changes(true);
    let person = NewPerson {
        name: changes.name,
        birth_date: changes.birth_date.flatten(),
        is_hidden: changes.is_hidden,
        is_favorite: changes.is_favorite,
        color: changes.color.flatten(),
    };
    let created = people::create(&state.db, auth.user.id, &person)
        .await
        .map_err(refused_birth_date)?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// The update behind `PUT /people/{id}` and each item of `PUT /people`. A feature face asset
/// makes the person's face on that asset their cover.
async fn apply_update<Id>(
    state: &AppState,
    auth: &AuthContext,
    id: PersonId,
    fields: &PersonFields<Id, Option<AssetId>>,
    with_color: bool,
) -> ApiResult<Person> {
    let id = id.0;
    access::require_people(state, auth, Permission::PersonUpdate, &[id]).await?;
    let mut changes = fields.changes(with_color);
    if let Some(asset) = fields.feature_asset() {
        access::require_assets(state, auth, Permission::AssetRead, &[asset]).await?;
        let face = people::cover_face_on(&state.db, id, asset).await?;
        changes.face_asset_id =
            Some(face.ok_or_else(|| ApiError::bad_request("Invalid assetId for feature face or asset is offline"))?);
    }
    let person = people::update(&state.db, id, &changes)
        .await
        .map_err(refused_birth_date)?
        .ok_or_else(|| ApiError::bad_request("Person not found"))?;
    if fields.feature_asset().is_some() {
        crate::jobs::covers_changed(state, &[id]).await;
    }
    Ok(person)
}

/// `GET /people/{id}`.
pub async fn get(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<PersonId>,
) -> ApiResult<Json<PersonResponseDto>> {
    access::require_people(&state, &auth, Permission::PersonRead, &[id.0]).await?;
    Ok(Json(person_or_fail(&state, id).await?.into()))
}

/// `PUT|PATCH /people/{id}`: name, birth date, hidden, favourite, colour, cover face.
pub async fn update(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<PersonId>,
    ValidJson(PersonUpdateDto(body)): ValidJson<PersonUpdateDto>,
) -> ApiResult<Json<PersonResponseDto>> {
    Ok(Json(apply_update(&state, &auth, id, &body, true).await?.into()))
}

/// `PUT /people`: several updates, each succeeding or failing (`unknown`) on its own.
pub async fn update_many(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidJson(body): ValidJson<PeopleUpdateDto>,
) -> ApiResult<Json<Vec<BulkIdResponseDto>>> {
    let mut results = Vec::with_capacity(body.people.len());
    for item in &body.people {
        let id = item.id.0;
        let outcome = apply_update(&state, &auth, item.id, item, false).await;
        if let Err(error) = &outcome {
            tracing::warn!(person = %id, %error, "person update failed");
        }
        results.push(BulkIdResponseDto::of(id, outcome.err().map(|_| "unknown")));
    }
    Ok(Json(results))
}

/// Removes people and their thumbnails.
async fn remove_people(state: &AppState, ids: &[Uuid]) -> ApiResult<()> {
    for path in people::delete(&state.db, ids).await? {
        remove_thumbnail(state, &path).await;
    }
    Ok(())
}

async fn remove_thumbnail(state: &AppState, path: &str) {
    let path = std::path::Path::new(path);
    if path.as_os_str().is_empty() || !state.layout.contains(path) {
        return;
    }
    if let Err(error) = tokio::fs::remove_file(path).await
        && error.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(path = %path.display(), %error, "could not remove a person thumbnail");
    }
}

/// `DELETE /people {ids}`: all or nothing, like Immich.
pub async fn delete_many(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidJson(body): ValidJson<BulkIdsDto<PersonId>>,
) -> ApiResult<StatusCode> {
    let ids = body.ids();
    access::require_people(&state, &auth, Permission::PersonDelete, &ids).await?;
    remove_people(&state, &ids).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /people/{id}`: the person goes; their faces stay, belonging to no one.
pub async fn delete(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<PersonId>,
) -> ApiResult<StatusCode> {
    access::require_people(&state, &auth, Permission::PersonDelete, &[id.0]).await?;
    remove_people(&state, &[id.0]).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /people/{id}/statistics`: on how many photos of the timeline they are.
pub async fn statistics(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<PersonId>,
) -> ApiResult<Json<Value>> {
    access::require_people(&state, &auth, Permission::PersonRead, &[id.0]).await?;
    Ok(Json(json!({ "assets": people::asset_count(&state.db, id.0).await? })))
}

/// `GET /people/{id}/thumbnail`: the face crop. As in Immich, every failure (access included)
/// is a 404 `Not Found`.
pub async fn thumbnail(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<PersonId>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    access::require_people(&state, &auth, Permission::PersonRead, &[id.0])
        .await
        .map_err(|_| file_serving::not_found())?;
    let person = people::get(&state.db, id.0)
        .await?
        .ok_or_else(file_serving::not_found)?;
    let path = std::path::PathBuf::from(&person.thumbnail_path);
    if person.thumbnail_path.is_empty() || !state.layout.contains(&path) {
        return Err(file_serving::not_found());
    }
    let reply = file_serving::FileReply {
        path: &path,
        content_type: darkroom_media::mime_type_of(&person.thumbnail_path),
        download_name: None,
        cache_control: PRIVATE_NO_CACHE,
    };
    file_serving::send_file(&headers, reply).await
}

/// `PUT /people/{id}/reassign {data: [{personId, assetId}]}`: the faces of `personId` on
/// `assetId` become this person's. The answer has this person (as before the move) once per
/// item, as Immich's does; people left without their cover face get another.
pub async fn reassign(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<PersonId>,
    ValidJson(body): ValidJson<AssetFaceUpdateDto>,
) -> ApiResult<Json<Vec<PersonResponseDto>>> {
    access::require_people(&state, &auth, Permission::PersonUpdate, &[id.0]).await?;
    let person = person_or_fail(&state, id).await?;
    let mut results = Vec::with_capacity(body.data.len());
    let mut covers = Vec::new();
    for item in &body.data {
        for face in faces::of_person_on(&state.db, item.person_id.0, item.asset_id.0).await? {
            access::require_faces(&state, &auth, Permission::PersonCreate, &[face.id]).await?;
            move_face(&state, &face, &person, &mut covers).await?;
        }
        results.push(PersonResponseDto::from(person.clone()));
    }
    covers.sort_unstable();
    covers.dedup();
    if !covers.is_empty() {
        let covered = people::pick_cover_faces(&state.db, &covers).await?;
        crate::jobs::covers_changed(&state, &covered).await;
    }
    Ok(Json(results))
}

/// `POST /people/{id}/merge {ids}`: each of `ids` the caller owns gives this person its faces
/// (and its name and birth date where this person has none) and goes.
pub async fn merge(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<PersonId>,
    ValidJson(body): ValidJson<MergePersonDto>,
) -> ApiResult<Json<Vec<BulkIdResponseDto>>> {
    let ids = uuids(&body.ids);
    if ids.contains(&id.0) {
        return Err(ApiError::bad_request("Cannot merge a person into themselves"));
    }
    access::require_people(&state, &auth, Permission::PersonUpdate, &[id.0]).await?;
    let primary = person_or_fail(&state, id).await?;
    let allowed = access::allowed_people(&state, &auth, Permission::PersonMerge, &ids).await?;
    let mut results = Vec::with_capacity(ids.len());
    for other in ids {
        if !allowed.contains(&other) {
            results.push(BulkIdResponseDto::of(other, Some("no_permission")));
            continue;
        }
        match people::merge(&state.db, primary.id, other).await {
            Ok(Some(thumbnail)) => {
                tracing::info!(person = %other, into = %primary.id, "merged people");
                remove_thumbnail(&state, &thumbnail).await;
                results.push(BulkIdResponseDto::of(other, None));
            }
            Ok(None) => results.push(BulkIdResponseDto::of(other, Some("not_found"))),
            Err(error) => {
                tracing::error!(person = %other, into = %primary.id, %error, "merging people failed");
                results.push(BulkIdResponseDto::of(other, Some("unknown")));
            }
        }
    }
    Ok(Json(results))
}
