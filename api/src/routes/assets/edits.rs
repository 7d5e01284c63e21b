//! `PUT /assets/{id}` and `PUT /assets`: editing one asset or many (flags, dates, places, rating).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use darkroom_storage::assets::{self, AssetEdit, AssetVisibility, ExifEdit};
use darkroom_storage::people;
use serde::Deserialize;
use serde_json::Value;

use crate::access;
use crate::auth::Auth;
use crate::dto::asset::AssetResponseDto;
use crate::dto::ids::{AssetId, DuplicateId, uuids};
use crate::dto::nullable;
use crate::error::{ApiError, ApiResult, ValidationIssue};
use crate::permission::Permission;
use crate::services::asset_edits;
use crate::state::AppState;
use crate::validation::{IdPath, ValidJson, Validate, read_part, rules};

/// Fields both the single and the bulk update accept, read apart from each (see
/// `Validate::read_parts`).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssetEditFields {
    is_favorite: Option<bool>,
    visibility: Option<AssetVisibility>,
    date_time_original: Option<String>,
    latitude: Option<f64>,
    longitude: Option<f64>,
    #[serde(default, deserialize_with = "nullable")]
    rating: Option<Option<i64>>,
    description: Option<String>,
}

impl Validate for AssetEditFields {
    fn validate(&self) -> Vec<ValidationIssue> {
        let mut issues = Vec::new();
        self.check(&mut issues);
        issues
    }
}

impl AssetEditFields {
    fn check(&self, issues: &mut Vec<ValidationIssue>) {
        if let Some(latitude) = self.latitude {
            rules::number_between(issues, &["latitude"], latitude, -90.0, 90.0);
        }
        if let Some(longitude) = self.longitude {
            rules::number_between(issues, &["longitude"], longitude, -180.0, 180.0);
        }
        if let Some(Some(rating)) = self.rating {
            if rating == 0 {
                issues.push(ValidationIssue::new(
                    &["rating"],
                    "Rating must be -1 (rejected), 1–5 (starred), or null (unrated); 0 is not valid",
                ));
            } else {
                rules::number_between(issues, &["rating"], rating as f64, -1.0, 5.0);
            }
        }
        if let Some(text) = &self.date_time_original
            && asset_edits::parse_date_time_original(text).is_none()
        {
            issues.push(ValidationIssue::with_code(
                "invalid_format",
                &["dateTimeOriginal"],
                "Invalid input: expected ISO 8601 datetime string, received string",
            ));
        }
    }

    fn refine(&self, issues: &mut Vec<ValidationIssue>) {
        if self.latitude.is_some() != self.longitude.is_some() {
            issues.push(ValidationIssue::new(
                &[],
                "Latitude and longitude must be provided together",
            ));
        }
    }

    fn exif_edit(&self) -> ExifEdit {
        let parsed = self
            .date_time_original
            .as_deref()
            .and_then(asset_edits::parse_date_time_original);
        ExifEdit {
            description: self.description.clone(),
            time_zone: parsed.as_ref().and_then(|(_, zone)| zone.clone()),
            date_time_original: parsed.map(|(date, _)| date),
            shift_minutes: None,
            latitude: self.latitude,
            longitude: self.longitude,
            rating: self.rating.map(|rating| rating.map(|r| r as i32)),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateAssetDto {
    #[serde(skip)]
    fields: AssetEditFields,
    #[serde(default, deserialize_with = "nullable")]
    live_photo_video_id: Option<Option<AssetId>>,
}

impl Validate for UpdateAssetDto {
    fn read_parts(&mut self, body: &Value) -> Vec<ValidationIssue> {
        let mut issues = Vec::new();
        self.fields = read_part(body, &mut issues);
        issues
    }

    fn refine(&self) -> Vec<ValidationIssue> {
        let mut issues = Vec::new();
        self.fields.refine(&mut issues);
        issues
    }
}

/// `PUT /assets/{id}`: edits one asset and answers with it.
pub async fn update(
    State(state): State<AppState>,
    Auth(auth): Auth,
    IdPath(id): IdPath<AssetId>,
    ValidJson(dto): ValidJson<UpdateAssetDto>,
) -> ApiResult<Json<AssetResponseDto>> {
    access::require_assets(&state, &auth, Permission::AssetUpdate, &[id.0]).await?;
    if let Some(video) = dto.live_photo_video_id {
        asset_edits::set_live_photo_video(&state, auth.user.id, id.0, video.map(Into::into)).await?;
    }
    let edit = AssetEdit {
        is_favorite: dto.fields.is_favorite,
        visibility: dto.fields.visibility,
        ..Default::default()
    };
    let exif = dto.fields.exif_edit();
    asset_edits::apply(&state, &[id.0], &edit, &exif).await?;
    if !exif.is_empty() {
        crate::jobs::edited(&state, &[id.0]).await;
    }
    let asset = assets::get(&state.db, id.0)
        .await?
        .ok_or_else(|| ApiError::bad_request("Asset not found"))?;
    let people = people::on_asset(&state.db, id.0).await?;
    Ok(Json(
        AssetResponseDto::new(asset, auth.user.id, None)
            .without_relations()
            .with_people(people),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssetBulkUpdateDto {
    ids: Vec<AssetId>,
    #[serde(skip)]
    fields: AssetEditFields,
    #[serde(default, deserialize_with = "nullable")]
    duplicate_id: Option<Option<DuplicateId>>,
    date_time_relative: Option<i32>,
    time_zone: Option<String>,
}

impl Validate for AssetBulkUpdateDto {
    fn read_parts(&mut self, body: &Value) -> Vec<ValidationIssue> {
        let mut issues = Vec::new();
        self.fields = read_part(body, &mut issues);
        issues
    }

    fn refine(&self) -> Vec<ValidationIssue> {
        let mut issues = Vec::new();
        self.fields.refine(&mut issues);
        if issues.is_empty() && self.date_time_relative.is_some() && self.fields.date_time_original.is_some() {
            issues.push(ValidationIssue::new(
                &[],
                "dateTimeRelative cannot exist alongside dateTimeOriginal",
            ));
        }
        issues
    }
}

/// `PUT /assets`: the same edit for many assets (plus shifting dates and time zones).
pub async fn update_many(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidJson(dto): ValidJson<AssetBulkUpdateDto>,
) -> ApiResult<StatusCode> {
    let ids = uuids(&dto.ids);
    access::require_assets(&state, &auth, Permission::AssetUpdate, &ids).await?;
    let mut exif = dto.fields.exif_edit();
    exif.shift_minutes = dto.date_time_relative.filter(|&minutes| minutes != 0);
    if dto.time_zone.is_some() {
        exif.time_zone = dto.time_zone.clone();
    }
    let edit = AssetEdit {
        is_favorite: dto.fields.is_favorite,
        visibility: dto.fields.visibility,
        duplicate_id: dto.duplicate_id.map(|id| id.map(Into::into)),
        ..Default::default()
    };
    asset_edits::apply(&state, &ids, &edit, &exif).await?;
    if !exif.is_empty() {
        crate::jobs::edited(&state, &ids).await;
    }
    Ok(StatusCode::NO_CONTENT)
}
