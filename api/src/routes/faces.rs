//! `/faces`: the faces on a photo, faces drawn by hand, and moving a face to another person;
//! and the rows of `/assets/{id}/ocr`, whose boxes go through the same edits.

mod geometry;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use darkroom_storage::faces::{self, NewFace};
use darkroom_storage::people::{self, Person};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::access;
use crate::auth::Auth;
use crate::dto::ids::{AssetId, FaceId, PersonId};
use crate::dto::person::PersonResponseDto;
use crate::error::{ApiError, ApiResult, ValidationIssue};
use crate::permission::Permission;
use crate::state::AppState;
use crate::validation::{IdPath, ValidJson, ValidQuery, Validate};
use geometry::{face_box, original_size, parse_edits, shown_face_box, shown_ocr_box, transform_points};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AssetFaceResponseDto {
    id: Uuid,
    image_width: i64,
    image_height: i64,
    bounding_box_x1: i64,
    bounding_box_y1: i64,
    bounding_box_x2: i64,
    bounding_box_y2: i64,
    source_type: String,
    person: Option<PersonResponseDto>,
}

/// `{id}` in a query (`GET /faces?id=<assetId>`) or body (`PUT /faces/{personId} {id: faceId}`):
/// Immich's one `FaceDto`, whose id names an asset in the one and a face in the other.
#[derive(Debug, Deserialize)]
pub struct FaceDto<Id> {
    id: Id,
}

impl<Id> Validate for FaceDto<Id> {}

/// `GET /faces?id=<assetId>`: the photo's faces, with their people when those are the caller's.
pub async fn list(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidQuery(query): ValidQuery<FaceDto<AssetId>>,
) -> ApiResult<Json<Vec<AssetFaceResponseDto>>> {
    let asset = query.id.0;
    access::require_assets(&state, &auth, Permission::AssetRead, &[asset]).await?;
    let found = faces::for_asset(&state.db, asset).await?;
    let geometry = faces::geometry(&state.db, asset).await?;
    let faces = found
        .into_iter()
        .map(|(face, person)| {
            let [x1, y1, x2, y2, width, height] = geometry
                .as_ref()
                .map_or_else(|| face_box(&face), |g| shown_face_box(&face, g));
            AssetFaceResponseDto {
                id: face.id,
                image_width: width,
                image_height: height,
                bounding_box_x1: x1,
                bounding_box_y1: y1,
                bounding_box_x2: x2,
                bounding_box_y2: y2,
                source_type: face.source_type,
                person: person
                    .filter(|p| p.owner_id == auth.user.id)
                    .map(PersonResponseDto::from),
            }
        })
        .collect();
    Ok(Json(faces))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssetFaceCreateDto {
    asset_id: AssetId,
    person_id: PersonId,
    image_width: i32,
    image_height: i32,
    x: i32,
    y: i32,
    width: i32,
    height: i32,
}

impl Validate for AssetFaceCreateDto {}

/// `POST /faces`: a face drawn by hand on a photo the caller may change, for one of their
/// people. The box comes in the coordinates of the picture as shown (edited).
pub async fn create(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidJson(body): ValidJson<AssetFaceCreateDto>,
) -> ApiResult<StatusCode> {
    let (asset, person_id) = (body.asset_id.0, body.person_id.0);
    access::require_assets(&state, &auth, Permission::AssetUpdate, &[asset]).await?;
    access::require_people(&state, &auth, Permission::PersonRead, &[person_id]).await?;
    let person = person_or_fail(&state, body.person_id).await?;
    let geometry = faces::geometry(&state.db, asset)
        .await?
        .ok_or_else(|| ApiError::not_found("Asset not found"))?;
    let mut top_left = (f64::from(body.x), f64::from(body.y));
    let mut bottom_right = (
        f64::from(body.x) + f64::from(body.width),
        f64::from(body.y) + f64::from(body.height),
    );
    let (mut image_width, mut image_height) = (body.image_width, body.image_height);
    let edits = parse_edits(&geometry.edits);
    if !edits.is_empty() {
        let (Some(width), Some(height)) = (
            geometry.asset_width.filter(|w| *w != 0),
            geometry.asset_height.filter(|h| *h != 0),
        ) else {
            return Err(ApiError::bad_request("Asset does not have valid dimensions"));
        };
        if geometry.width == 0 || geometry.height == 0 {
            return Err(ApiError::bad_request("Asset does not have valid dimensions"));
        }
        // From the preview the client drew on to the edited picture's pixels, then back
        // through the edits to the original's.
        let scale = f64::from(width) / f64::from(body.image_width);
        let mut points = [
            (top_left.0 * scale, top_left.1 * scale),
            (bottom_right.0 * scale, bottom_right.1 * scale),
        ];
        transform_points(&mut points, &edits, (f64::from(width), f64::from(height)), true);
        let [a, b] = points;
        top_left = (a.0.min(b.0), a.1.min(b.1));
        bottom_right = (a.0.max(b.0), a.1.max(b.1));
        (image_width, image_height) = original_size(&geometry);
    }
    // JavaScript's Math.round: halves go up.
    let round = |v: f64| (v + 0.5).floor() as i32;
    let face = NewFace {
        asset_id: asset,
        person_id,
        image_width,
        image_height,
        x1: round(top_left.0),
        y1: round(top_left.1),
        x2: round(bottom_right.0),
        y2: round(bottom_right.1),
    };
    faces::create_manual(&state.db, &face).await?;
    if person.face_asset_id.is_none() {
        let covered = people::pick_cover_faces(&state.db, &[person.id]).await?;
        crate::jobs::covers_changed(&state, &covered).await;
    }
    Ok(StatusCode::CREATED)
}

#[derive(Debug, Deserialize)]
pub struct AssetFaceDeleteDto {
    force: Option<Value>,
}

impl Validate for AssetFaceDeleteDto {
    fn validate(&self) -> Vec<ValidationIssue> {
        let received = match &self.force {
            Some(Value::Bool(_)) => return Vec::new(),
            None => "undefined",
            Some(Value::Null) => "null",
            Some(Value::String(_)) => "string",
            Some(Value::Number(_)) => "number",
            Some(Value::Array(_)) => "array",
            Some(Value::Object(_)) => "object",
        };
        vec![ValidationIssue::with_code(
            "invalid_type",
            &["force"],
            format!("Invalid input: expected boolean, received {received}"),
        )]
    }
}

/// `DELETE /faces/{id} {force}`: gone for good with `force`, else marked deleted (so face
/// detection will not bring it back).
pub async fn delete(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<FaceId>,
    ValidJson(body): ValidJson<AssetFaceDeleteDto>,
) -> ApiResult<StatusCode> {
    access::require_faces(&state, &auth, Permission::FaceDelete, &[id.0]).await?;
    faces::delete(&state.db, id.0, body.force == Some(Value::Bool(true))).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /faces/{personId} {id: faceId}`: the face becomes the person's. Whoever lacks a cover
/// face afterwards (the person, or the face's former person whose cover it was) gets one.
pub async fn reassign(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(person_id): IdPath<PersonId>,
    ValidJson(body): ValidJson<FaceDto<FaceId>>,
) -> ApiResult<Json<PersonResponseDto>> {
    access::require_people(&state, &auth, Permission::PersonUpdate, &[person_id.0]).await?;
    let face_id = body.id.0;
    access::require_faces(&state, &auth, Permission::PersonCreate, &[face_id]).await?;
    let face = faces::get(&state.db, face_id)
        .await?
        .ok_or_else(|| access::denied(Permission::PersonCreate))?;
    let person = person_or_fail(&state, person_id).await?;
    let mut covers = Vec::new();
    move_face(&state, &face, &person, &mut covers).await?;
    if !covers.is_empty() {
        let covered = people::pick_cover_faces(&state.db, &covers).await?;
        crate::jobs::covers_changed(&state, &covered).await;
    }
    Ok(Json(person_or_fail(&state, person_id).await?.into()))
}

/// Gives `face` to `to`, noting in `covers` who then needs a new cover face: `to` when it has
/// none, the face's former person when the face was its cover.
pub async fn move_face(state: &AppState, face: &faces::Face, to: &Person, covers: &mut Vec<Uuid>) -> ApiResult<()> {
    if to.face_asset_id.is_none() {
        covers.push(to.id);
    }
    if let Some(former) = face.person_id
        && let Some(former) = people::get(&state.db, former).await?
        && former.face_asset_id == Some(face.id)
    {
        covers.push(former.id);
    }
    faces::reassign(&state.db, face.id, to.id).await?;
    Ok(())
}

/// Immich's answer for a person that vanished between the access check and its use.
pub async fn person_or_fail(state: &AppState, id: PersonId) -> ApiResult<Person> {
    people::get(&state.db, id.0)
        .await?
        .ok_or_else(|| ApiError::bad_request("Person not found"))
}

/// `GET /assets/{id}/ocr`'s rows, as the edited picture shows them.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AssetOcrResponseDto {
    id: Uuid,
    asset_id: Uuid,
    x1: f64,
    y1: f64,
    x2: f64,
    y2: f64,
    x3: f64,
    y3: f64,
    x4: f64,
    y4: f64,
    box_score: f64,
    text_score: f64,
    text: String,
}

/// The text boxes of `asset`, which the caller may read.
pub async fn ocr_of(state: &AppState, asset: AssetId) -> ApiResult<Vec<AssetOcrResponseDto>> {
    let boxes = darkroom_storage::ocr::for_asset(&state.db, asset.0).await?;
    let geometry = faces::geometry(&state.db, asset.0)
        .await?
        .ok_or_else(|| ApiError::bad_request("Asset not found"))?;
    let edits = parse_edits(&geometry.edits);
    let (width, height) = original_size(&geometry);
    Ok(boxes
        .into_iter()
        .map(|b| shown_ocr_box(b, &edits, (f64::from(width), f64::from(height))))
        .collect())
}
