//! `/timeline/buckets` and `/timeline/bucket`: the web app's timeline, a month at a time, as
//! columns (one array per field) so thousands of assets cost one small answer.

use axum::Json;
use axum::extract::State;
use base64::Engine;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use darkroom_storage::assets::AssetVisibility;
use darkroom_storage::partners;
use darkroom_storage::timeline::{self, BucketAsset, TimelineFilter};
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use uuid::Uuid;

use crate::access;
use crate::auth::{Auth, AuthContext};
use crate::dto::ids::{AlbumId, PersonId, TagId, UserId};
use crate::error::{ApiError, ApiResult, ValidationIssue};
use crate::permission::Permission;
use crate::state::AppState;
use crate::validation::{ValidQuery, Validate};

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Order {
    Asc,
    Desc,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum OrderBy {
    TakenAt,
    CreatedAt,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TimeBucketQuery {
    user_id: Option<UserId>,
    album_id: Option<AlbumId>,
    person_id: Option<PersonId>,
    tag_id: Option<TagId>,
    is_favorite: Option<bool>,
    is_trashed: Option<bool>,
    with_stacked: Option<bool>,
    with_partners: Option<bool>,
    with_coordinates: Option<bool>,
    order: Option<Order>,
    order_by: Option<OrderBy>,
    visibility: Option<AssetVisibility>,
    bbox: Option<String>,
    time_bucket: Option<String>,
}

/// `west,south,east,north` in degrees.
fn parse_bbox(raw: &str) -> Result<[f64; 4], ValidationIssue> {
    let issue = |message: &str| ValidationIssue::with_code("custom", &["bbox"], message);
    let parts: Vec<&str> = raw.split(',').collect();
    if parts.len() != 4 {
        return Err(issue("bbox must have 4 comma-separated numbers: west,south,east,north"));
    }
    let mut numbers = [0.0; 4];
    for (slot, part) in numbers.iter_mut().zip(parts) {
        *slot = part
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .ok_or_else(|| issue("bbox parts must be valid numbers"))?;
    }
    let [west, south, east, north] = numbers;
    if !(-180.0..=180.0).contains(&west)
        || !(-180.0..=180.0).contains(&east)
        || !(-90.0..=90.0).contains(&south)
        || !(-90.0..=90.0).contains(&north)
    {
        return Err(issue("bbox is outside the WGS84 range"));
    }
    if north < south {
        return Err(ValidationIssue::with_code(
            "custom",
            &["north"],
            "North latitude must be greater than or equal to south latitude",
        ));
    }
    Ok(numbers)
}

/// `YYYY-MM-DD` (years may have 5 or 6 digits and a sign), with or without a time.
fn parse_time_bucket(raw: &str) -> Option<NaiveDate> {
    let raw = raw.strip_prefix(['+', '-']).unwrap_or(raw);
    let date = raw.split(['T', ' ']).next()?;
    let mut parts = date.splitn(3, '-');
    let (year, month, day) = (parts.next()?, parts.next()?, parts.next()?);
    if year.len() < 4 || month.len() != 2 || day.len() != 2 {
        return None;
    }
    NaiveDate::from_ymd_opt(year.parse().ok()?, month.parse().ok()?, day.parse().ok()?)
}

impl Validate for TimeBucketQuery {
    fn validate(&self) -> Vec<ValidationIssue> {
        let mut issues = Vec::new();
        if let Some(Err(issue)) = self.bbox.as_deref().map(parse_bbox) {
            issues.push(issue);
        }
        if let Some(bucket) = &self.time_bucket
            && parse_time_bucket(bucket).is_none()
        {
            issues.push(ValidationIssue::with_code(
                "invalid_format",
                &["timeBucket"],
                "Invalid date: expected YYYY-MM-DD",
            ));
        }
        issues
    }
}

/// What the caller may see under these parameters, checked as Immich checks them. A person only
/// narrows the photos of the owners the caller may see: as in Immich, whose person it is is
/// not checked.
async fn filter_for(state: &AppState, auth: &AuthContext, query: &TimeBucketQuery) -> ApiResult<TimelineFilter> {
    let visibility = query.visibility;
    if visibility == Some(AssetVisibility::Locked) {
        access::require_elevated(auth)?;
    }
    let album_id = query.album_id.map(Uuid::from);
    let mut user_id = query.user_id.map(Uuid::from);
    match album_id {
        Some(album) => access::require_album(state, auth, Permission::AlbumRead, album).await?,
        None => user_id = Some(user_id.unwrap_or(auth.user.id)),
    }
    if let Some(user) = user_id {
        access::require_timeline(state, auth, user, visibility == Some(AssetVisibility::Archive)).await?;
    }
    let tag_id = query.tag_id.map(Uuid::from);
    if let Some(tag) = tag_id
        && darkroom_storage::tags::owned(&state.db, auth.user.id, &[tag])
            .await?
            .is_empty()
    {
        return Err(access::denied(Permission::TagRead));
    }
    if query.with_partners == Some(true)
        && (matches!(
            visibility,
            None | Some(AssetVisibility::Archive | AssetVisibility::Locked)
        ) || query.is_favorite.is_some()
            || query.is_trashed == Some(true))
    {
        return Err(ApiError::bad_request(
            "withPartners is only supported for non-archived, non-trashed, non-favorited, non-locked assets",
        ));
    }
    let mut owners = user_id.map(|user| vec![user]);
    if query.with_partners == Some(true)
        && let Some(owners) = owners.as_mut()
    {
        let shown = partners::list(&state.db, auth.user.id, false)
            .await?
            .into_iter()
            .filter(|p| p.in_timeline)
            .map(|p| p.user_id);
        for partner in shown {
            if !owners.contains(&partner) {
                owners.push(partner);
            }
        }
    }
    Ok(TimelineFilter {
        owners,
        album_id,
        is_favorite: query.is_favorite,
        trashed: query.is_trashed == Some(true),
        visibility,
        with_stacked: query.with_stacked == Some(true),
        bbox: query.bbox.as_deref().and_then(|b| parse_bbox(b).ok()),
        by_created_at: query.order_by == Some(OrderBy::CreatedAt),
        tag_id,
        person_id: query.person_id.map(Uuid::from),
    })
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TimeBucketsResponseDto {
    time_bucket: String,
    count: i64,
}

/// `GET /timeline/buckets`: the months that have assets, with how many.
pub async fn buckets(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidQuery(query): ValidQuery<TimeBucketQuery>,
) -> ApiResult<Json<Vec<TimeBucketsResponseDto>>> {
    let filter = filter_for(&state, &auth, &query).await?;
    let ascending = query.order == Some(Order::Asc);
    let rows = timeline::buckets(&state.db, &filter, ascending).await?;
    Ok(Json(
        rows.into_iter()
            .map(|b| TimeBucketsResponseDto {
                time_bucket: b.time_bucket,
                count: b.count,
            })
            .collect(),
    ))
}

/// PostgreSQL's JSON form of a UTC timestamp without zone, as Immich sends it:
/// `2024-05-01T12:00:00` or `…:00.123456` with trailing zeros dropped. Written by hand: a month
/// holds thousands of these, and chrono's format strings are parsed anew for each.
fn naive_utc(moment: &DateTime<Utc>) -> String {
    use chrono::{Datelike, Timelike};
    use std::fmt::Write;
    let mut text = String::with_capacity(26);
    let _ = write!(
        text,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        moment.year(),
        moment.month(),
        moment.day(),
        moment.hour(),
        moment.minute(),
        moment.second()
    );
    let micros = moment.nanosecond() % 1_000_000_000 / 1_000;
    if micros > 0 {
        let _ = write!(text, ".{micros:06}");
        while text.ends_with('0') {
            text.pop();
        }
    }
    text
}

/// The columnar month: index `i` of every array is asset `i`. Written straight from the rows, a
/// column at a time, without a string per cell first: a busy month is ~9,000 assets, and
/// building the cells took longer than writing them.
pub struct TimeBucketAssetResponseDto {
    rows: Vec<BucketAsset>,
    /// Favourites are only the viewer's own.
    viewer: uuid::Uuid,
    show_places: bool,
    with_coordinates: bool,
    with_stacked: bool,
}

impl Serialize for TimeBucketAssetResponseDto {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let rows = self.rows.as_slice();
        let viewer = self.viewer;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("duration", &column(rows, |a| a.duration))?;
        map.serialize_entry("id", &column(rows, |a| a.id))?;
        map.serialize_entry("visibility", &column(rows, |a| a.visibility.as_str()))?;
        // A partner's favourite is theirs, not the viewer's.
        map.serialize_entry("isFavorite", &column(rows, |a| a.is_favorite && a.owner_id == viewer))?;
        map.serialize_entry("isImage", &column(rows, |a| a.is_image))?;
        map.serialize_entry("isTrashed", &column(rows, |a| a.deleted_at.is_some()))?;
        map.serialize_entry("livePhotoVideoId", &column(rows, |a| a.live_photo_video_id))?;
        map.serialize_entry("fileCreatedAt", &column(rows, |a| NaiveUtc(a.file_created_at)))?;
        map.serialize_entry(
            "localOffsetHours",
            &column(rows, |a| {
                let offset_seconds = (a.local_date_time - a.file_created_at).num_milliseconds() as f64 / 1000.0;
                (offset_seconds / 3600.0) as f32
            }),
        )?;
        map.serialize_entry("createdAt", &column(rows, |a| NaiveUtc(a.created_at)))?;
        map.serialize_entry("ownerId", &column(rows, |a| a.owner_id))?;
        map.serialize_entry("projectionType", &column(rows, |a| a.projection_type.as_deref()))?;
        map.serialize_entry(
            "ratio",
            &column(rows, |a| match (a.width, a.height) {
                (Some(w), Some(h)) if w > 0 && h > 0 => (w as f64 / h as f64 * 1000.0).round() / 1000.0,
                _ => 1.0,
            }),
        )?;
        map.serialize_entry("thumbhash", &column(rows, |a| a.thumbhash.as_deref().map(Base64)))?;
        if self.show_places {
            map.serialize_entry("city", &column(rows, |a| a.city.as_deref()))?;
            map.serialize_entry("country", &column(rows, |a| a.country.as_deref()))?;
        }
        if self.with_coordinates {
            map.serialize_entry("latitude", &column(rows, |a| a.latitude))?;
            map.serialize_entry("longitude", &column(rows, |a| a.longitude))?;
        }
        if self.with_stacked {
            map.serialize_entry(
                "stack",
                &column(rows, |a| {
                    a.stack_id.zip(a.stack_count).map(|(id, count)| (id, count.to_string()))
                }),
            )?;
        }
        map.end()
    }
}

/// One column of the month: `cell` of every row.
struct Column<'a, F>(&'a [BucketAsset], F);

fn column<'a, F, T>(rows: &'a [BucketAsset], cell: F) -> Column<'a, F>
where
    F: Fn(&'a BucketAsset) -> T,
    T: Serialize,
{
    Column(rows, cell)
}

impl<'a, F, T> Serialize for Column<'a, F>
where
    F: Fn(&'a BucketAsset) -> T,
    T: Serialize,
{
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(&self.1))
    }
}

/// A timestamp as [`naive_utc`] writes it, without a string of its own.
struct NaiveUtc(DateTime<Utc>);

impl Serialize for NaiveUtc {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use chrono::{Datelike, Timelike};
        let moment = &self.0;
        let year = match u32::try_from(moment.year()) {
            Ok(year) if year <= 9999 => year,
            _ => return serializer.serialize_str(&naive_utc(moment)),
        };
        let mut text = *b"0000-00-00T00:00:00.000000";
        let mut put = |range: std::ops::Range<usize>, mut value: u32| {
            for digit in text[range].iter_mut().rev() {
                *digit = b'0' + (value % 10) as u8;
                value /= 10;
            }
        };
        put(0..4, year);
        put(5..7, moment.month());
        put(8..10, moment.day());
        put(11..13, moment.hour());
        put(14..16, moment.minute());
        put(17..19, moment.second());
        let micros = moment.nanosecond() % 1_000_000_000 / 1_000;
        put(20..26, micros);
        let mut length = if micros == 0 { 19 } else { 26 };
        while micros != 0 && text[length - 1] == b'0' {
            length -= 1;
        }
        serializer.serialize_str(std::str::from_utf8(&text[..length]).map_err(serde::ser::Error::custom)?)
    }
}

/// Bytes as standard base64, without a string of their own when short (thumbhashes are).
struct Base64<'a>(&'a [u8]);

impl Serialize for Base64<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut buffer = [0u8; 128];
        match base64::engine::general_purpose::STANDARD.encode_slice(self.0, &mut buffer) {
            Ok(length) => {
                serializer.serialize_str(std::str::from_utf8(&buffer[..length]).map_err(serde::ser::Error::custom)?)
            }
            Err(_) => serializer.serialize_str(&base64::engine::general_purpose::STANDARD.encode(self.0)),
        }
    }
}

/// `GET /timeline/bucket?timeBucket=YYYY-MM-01`: one month's assets, as columns.
pub async fn bucket(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidQuery(query): ValidQuery<TimeBucketQuery>,
) -> ApiResult<Json<TimeBucketAssetResponseDto>> {
    let Some(raw_bucket) = query.time_bucket.as_deref() else {
        return Err(ApiError::Validation(vec![ValidationIssue::with_code(
            "invalid_type",
            &["timeBucket"],
            "Invalid input: expected string, received undefined",
        )]));
    };
    let month = parse_time_bucket(raw_bucket).ok_or_else(|| ApiError::bad_request("Invalid time bucket"))?;
    let show_places = auth.shared_link.as_ref().is_none_or(|link| link.show_exif);
    let with_coordinates = query.with_coordinates == Some(true) && show_places;
    let columns = |rows| TimeBucketAssetResponseDto {
        rows,
        viewer: auth.user.id,
        show_places,
        with_coordinates,
        with_stacked: query.with_stacked == Some(true),
    };
    let filter = filter_for(&state, &auth, &query).await?;
    // Buckets start on the first of a month; any other day names no bucket.
    if month.day() != 1 {
        return Ok(Json(columns(Vec::new())));
    }
    let rows = timeline::bucket(&state.db, &filter, month, query.order == Some(Order::Asc)).await?;
    Ok(Json(columns(rows)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_read_as_postgres_writes_them() {
        let at = |text: &str| DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc);
        assert_eq!(naive_utc(&at("2024-05-01T12:00:00Z")), "2024-05-01T12:00:00");
        assert_eq!(naive_utc(&at("2024-05-01T12:00:00.120Z")), "2024-05-01T12:00:00.12");
        assert_eq!(
            naive_utc(&at("0999-01-02T03:04:05.000001Z")),
            "0999-01-02T03:04:05.000001"
        );
    }

    /// What the columns of a busy month cost to build and write (`cargo test --release -p
    /// darkroom-api --lib month_columns_cost -- --ignored --nocapture`).
    #[test]
    #[ignore = "a measurement, not a check"]
    fn month_columns_cost() {
        let moment = DateTime::parse_from_rfc3339("2024-06-01T12:00:00.120Z")
            .unwrap()
            .with_timezone(&Utc);
        let asset = BucketAsset {
            id: uuid::Uuid::new_v4(),
            owner_id: uuid::Uuid::new_v4(),
            visibility: AssetVisibility::Timeline,
            is_favorite: false,
            is_image: true,
            deleted_at: None,
            live_photo_video_id: None,
            file_created_at: moment,
            local_date_time: moment,
            created_at: moment,
            duration: None,
            width: Some(4000),
            height: Some(3000),
            thumbhash: Some(vec![7; 25]),
            projection_type: None,
            city: Some("Paris".into()),
            country: Some("France".into()),
            latitude: Some(48.85),
            longitude: Some(2.35),
            stack_id: None,
            stack_count: None,
        };
        for _ in 0..5 {
            let rows = vec![asset.clone(); 8941];
            let started = std::time::Instant::now();
            let columns = TimeBucketAssetResponseDto {
                rows,
                viewer: uuid::Uuid::nil(),
                show_places: true,
                with_coordinates: false,
                with_stacked: false,
            };
            let bytes = serde_json::to_vec(&columns).unwrap();
            println!("written in {:?}: {} bytes", started.elapsed(), bytes.len());
        }
    }

    #[test]
    fn cells_are_written_as_postgres_and_base64_write_them() {
        for text in [
            "2024-05-01T12:00:00Z",
            "2024-05-01T12:00:00.120Z",
            "0999-01-02T03:04:05.000001Z",
            "2024-12-31T23:59:59.999999Z",
        ] {
            let moment = DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc);
            assert_eq!(
                serde_json::to_value(NaiveUtc(moment)).unwrap(),
                serde_json::json!(naive_utc(&moment)),
                "{text}"
            );
        }
        let far = NaiveDate::from_ymd_opt(12345, 1, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc();
        assert_eq!(
            serde_json::to_value(NaiveUtc(far)).unwrap(),
            serde_json::json!(naive_utc(&far))
        );
        for bytes in [&[][..], &[1, 2, 3][..], &[7; 25][..], &[9; 200][..]] {
            assert_eq!(
                serde_json::to_value(Base64(bytes)).unwrap(),
                serde_json::json!(base64::engine::general_purpose::STANDARD.encode(bytes))
            );
        }
    }

    #[test]
    fn bounding_boxes_and_buckets() {
        assert_eq!(parse_bbox("-10,40.5,20,50").unwrap(), [-10.0, 40.5, 20.0, 50.0]);
        assert_eq!(
            parse_bbox("170,-10,-170,10").unwrap()[0],
            170.0,
            "across the antimeridian"
        );
        assert!(parse_bbox("1,2,3").is_err());
        assert!(parse_bbox("a,2,3,4").is_err());
        assert!(parse_bbox("0,50,10,40").is_err());
        assert!(parse_bbox("0,0,200,10").is_err());
        assert_eq!(parse_time_bucket("2024-05-01"), NaiveDate::from_ymd_opt(2024, 5, 1));
        assert_eq!(parse_time_bucket("+12345-01-01"), NaiveDate::from_ymd_opt(12345, 1, 1));
        assert_eq!(
            parse_time_bucket("2024-05-01T00:00:00.000Z"),
            NaiveDate::from_ymd_opt(2024, 5, 1)
        );
        assert_eq!(parse_time_bucket("2024-5-1"), None);
        assert_eq!(parse_time_bucket("yesterday"), None);
        let moment = DateTime::parse_from_rfc3339("2024-05-01T12:00:00.120Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(naive_utc(&moment), "2024-05-01T12:00:00.12");
        let whole = DateTime::parse_from_rfc3339("2024-05-01T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(naive_utc(&whole), "2024-05-01T12:00:00");
    }
}
