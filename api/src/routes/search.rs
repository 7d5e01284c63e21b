//! `/search/*` by metadata: paged search, random picks, counts, large files, suggestions for
//! the search form, and the explore page's places.

mod explore;
mod filtered;
mod smart;

use chrono::{DateTime, Utc};
use darkroom_storage::assets::{self, AssetType, AssetVisibility};
use darkroom_storage::partners;
use darkroom_storage::search::SearchFilter;
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::AuthContext;
use crate::dto::asset::AssetResponseDto;
use crate::dto::ids::{AlbumId, LibraryId, PersonId, TagId, uuids};
use crate::dto::nullable;
use crate::error::{ApiResult, ValidationIssue};
use crate::state::AppState;
use crate::validation::Validate;

pub use explore::{cities, explore, person, places, suggestions};
pub use filtered::{large_assets, metadata, random, statistics};
pub use smart::smart;

/// The filters every search shares (Immich's `BaseSearchDto`). The searches read them apart
/// from their own fields (`Validate::read_parts`), so an issue keeps its path.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchFilterDto {
    #[serde(default)]
    album_ids: Vec<AlbumId>,
    #[serde(default)]
    person_ids: Vec<PersonId>,
    #[serde(default, deserialize_with = "nullable")]
    tag_ids: Option<Option<Vec<TagId>>>,
    #[serde(default, deserialize_with = "nullable")]
    city: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    state: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    country: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    make: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    model: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    lens_model: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    rating: Option<Option<i64>>,
    created_after: Option<String>,
    created_before: Option<String>,
    updated_after: Option<String>,
    updated_before: Option<String>,
    trashed_after: Option<String>,
    trashed_before: Option<String>,
    taken_after: Option<String>,
    taken_before: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    library_id: Option<Option<LibraryId>>,
    #[serde(rename = "type")]
    asset_type: Option<AssetType>,
    visibility: Option<AssetVisibility>,
    is_favorite: Option<bool>,
    is_offline: Option<bool>,
    is_encoded: Option<bool>,
    is_motion: Option<bool>,
    is_not_in_album: Option<bool>,
    with_deleted: Option<bool>,
    with_stacked: Option<bool>,
    with_exif: Option<bool>,
    ocr: Option<String>,
    description: Option<String>,
    size: Option<i64>,
}

fn date(issues: &mut Vec<ValidationIssue>, field: &str, value: &Option<String>) -> Option<DateTime<Utc>> {
    let text = value.as_deref()?;
    match DateTime::parse_from_rfc3339(text) {
        Ok(date) => Some(date.with_timezone(&Utc)),
        Err(_) => {
            issues.push(ValidationIssue::with_code(
                "invalid_format",
                &[field],
                "Invalid input: expected ISO 8601 datetime string, received string",
            ));
            None
        }
    }
}

fn range(issues: &mut Vec<ValidationIssue>, field: &str, value: Option<i64>, min: i64, max: i64) {
    match value {
        Some(v) if v < min => issues.push(ValidationIssue::with_code(
            "too_small",
            &[field],
            format!("Too small: expected number to be >={min}"),
        )),
        Some(v) if v > max => issues.push(ValidationIssue::with_code(
            "too_big",
            &[field],
            format!("Too big: expected number to be <={max}"),
        )),
        _ => {}
    }
}

impl Validate for SearchFilterDto {
    fn validate(&self) -> Vec<ValidationIssue> {
        let mut issues = Vec::new();
        self.check(&mut issues);
        issues
    }
}

impl SearchFilterDto {
    fn check(&self, issues: &mut Vec<ValidationIssue>) {
        for (field, value) in [
            ("createdAfter", &self.created_after),
            ("createdBefore", &self.created_before),
            ("updatedAfter", &self.updated_after),
            ("updatedBefore", &self.updated_before),
            ("trashedAfter", &self.trashed_after),
            ("trashedBefore", &self.trashed_before),
            ("takenAfter", &self.taken_after),
            ("takenBefore", &self.taken_before),
        ] {
            date(issues, field, value);
        }
        range(issues, "rating", self.rating.flatten(), 1, 5);
        range(issues, "size", self.size, 1, 1000);
    }

    /// The storage filter for `owners` (none: anyone's, after an album check).
    fn filter(&self, owners: Option<Vec<Uuid>>, auth: &AuthContext) -> SearchFilter {
        let mut ignored = Vec::new();
        let text = |value: &Option<Option<String>>| value.clone();
        let trashed_after = date(&mut ignored, "", &self.trashed_after);
        let trashed_before = date(&mut ignored, "", &self.trashed_before);
        let visibility = match self.visibility {
            Some(visibility) => visibility.as_str(),
            // Locked assets only in a session unlocked with the PIN code.
            None if auth.session.as_ref().is_some_and(|s| s.has_elevated_permission) => "any",
            None => "not-locked",
        };
        SearchFilter {
            owners,
            album_ids: uuids(&self.album_ids),
            visibility: visibility.to_string(),
            with_deleted: self.with_deleted == Some(true)
                || trashed_after.is_some()
                || trashed_before.is_some()
                || self.is_offline == Some(true),
            created_after: date(&mut ignored, "", &self.created_after),
            created_before: date(&mut ignored, "", &self.created_before),
            updated_after: date(&mut ignored, "", &self.updated_after),
            updated_before: date(&mut ignored, "", &self.updated_before),
            trashed_after,
            trashed_before,
            taken_after: date(&mut ignored, "", &self.taken_after),
            taken_before: date(&mut ignored, "", &self.taken_before),
            city: text(&self.city),
            state: text(&self.state),
            country: text(&self.country),
            make: text(&self.make),
            model: text(&self.model),
            lens_model: text(&self.lens_model),
            rating: self.rating.map(|r| r.map(|r| r as i32)),
            library_id: self.library_id.flatten().map(Uuid::from),
            description: self
                .description
                .as_deref()
                .map(str::trim)
                .filter(|d| !d.is_empty())
                .map(str::to_string),
            asset_type: self.asset_type,
            is_favorite: self.is_favorite,
            is_offline: self.is_offline,
            is_encoded: self.is_encoded,
            is_motion: self.is_motion,
            is_not_in_album: self.is_not_in_album == Some(true) && self.album_ids.is_empty(),
            without_stacked: self.with_stacked == Some(false),
            requires_exif: self.with_exif == Some(true),
            tag_ids: match &self.tag_ids {
                Some(Some(tags)) if tags.is_empty() => None,
                Some(Some(tags)) => Some(uuids(tags)),
                Some(None) => Some(Vec::new()),
                None => None,
            },
            person_ids: uuids(&self.person_ids),
            ocr: self
                .ocr
                .as_deref()
                .map(|text| darkroom_storage::ocr::search_tokens(text).join(" "))
                .filter(|tokens| !tokens.is_empty()),
            ..SearchFilter::default()
        }
    }
}

/// The caller and the partners whose photos they show in their timeline (only the caller for
/// locked assets).
async fn searched_users(state: &AppState, auth: &AuthContext, include_partners: bool) -> ApiResult<Vec<Uuid>> {
    let mut users = vec![auth.user.id];
    if include_partners {
        users.extend(
            partners::list(&state.db, auth.user.id, false)
                .await?
                .into_iter()
                .filter(|p| p.in_timeline)
                .map(|p| p.user_id),
        );
    }
    Ok(users)
}

async fn dtos(state: &AppState, auth: &AuthContext, ids: &[Uuid], with_exif: bool) -> ApiResult<Vec<AssetResponseDto>> {
    let found = assets::get_many(&state.db, ids).await?;
    Ok(found
        .into_iter()
        .map(|mut asset| {
            if !with_exif {
                asset.exif = None;
            }
            AssetResponseDto::new(asset, auth.user.id, None)
        })
        .collect())
}
