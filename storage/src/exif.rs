//! `asset_exif`: what a file says about itself, as stored. The one shape of it, written after
//! extraction, read with an asset and streamed to the mobile app.

use chrono::{DateTime, Utc};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Exif {
    pub make: Option<String>,
    pub model: Option<String>,
    pub lens_model: Option<String>,
    pub exif_image_width: Option<i32>,
    pub exif_image_height: Option<i32>,
    /// Set from the upload itself; extraction does not write it.
    pub file_size_in_byte: Option<i64>,
    /// EXIF orientation 1–8, as text (Immich stores it so).
    pub orientation: Option<String>,
    pub date_time_original: Option<DateTime<Utc>>,
    pub modify_date: Option<DateTime<Utc>>,
    pub time_zone: Option<String>,
    pub f_number: Option<f64>,
    pub focal_length: Option<f64>,
    pub iso: Option<i32>,
    pub exposure_time: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub country: Option<String>,
    /// Empty when the file has none (the column is `NOT NULL DEFAULT ''`).
    pub description: String,
    pub rating: Option<i32>,
    pub projection_type: Option<String>,
    pub profile_description: Option<String>,
    pub colorspace: Option<String>,
    pub bits_per_sample: Option<i32>,
    pub fps: Option<f64>,
    /// Apple's content identifier, shared by the still and the video of a live photo.
    pub live_photo_cid: Option<String>,
}

/// `sqlx::query!` with the columns of `Exif` (EXIF row `e`) between `$head` and `$tail` (each
/// literals joined by `+`, as sqlx takes them), so every reader selects them alike;
/// `exif_from_row!` reads them back.
macro_rules! query_with_exif {
    ($head:literal $(+ $head_rest:literal)*, $tail:literal $(+ $tail_rest:literal)* $(, $arg:expr)* $(,)?) => {
        sqlx::query!(
            $head $(+ $head_rest)*
                + r#"e.make, e.model, e."lensModel" AS lens_model, e."exifImageWidth" AS exif_image_width,
                  e."exifImageHeight" AS exif_image_height, e."fileSizeInByte" AS file_size_in_byte, e.orientation,
                  e."dateTimeOriginal" AS date_time_original, e."modifyDate" AS modify_date, e."timeZone" AS time_zone,
                  e."fNumber" AS f_number, e."focalLength" AS focal_length, e.iso, e."exposureTime" AS exposure_time,
                  e.latitude, e.longitude, e.city, e.state, e.country, e.description AS "description?", e.rating,
                  e."projectionType" AS projection_type, e."profileDescription" AS profile_description, e.colorspace,
                  e."bitsPerSample" AS bits_per_sample, e.fps, e."livePhotoCID" AS live_photo_cid"#
                + $tail $(+ $tail_rest)*
            $(, $arg)*
        )
    };
}
pub(crate) use query_with_exif;

/// The `Exif` of a row read by `query_with_exif!`.
macro_rules! exif_from_row {
    ($row:expr) => {
        $crate::exif::Exif {
            make: $row.make,
            model: $row.model,
            lens_model: $row.lens_model,
            exif_image_width: $row.exif_image_width,
            exif_image_height: $row.exif_image_height,
            file_size_in_byte: $row.file_size_in_byte,
            orientation: $row.orientation,
            date_time_original: $row.date_time_original,
            modify_date: $row.modify_date,
            time_zone: $row.time_zone,
            f_number: $row.f_number,
            focal_length: $row.focal_length,
            iso: $row.iso,
            exposure_time: $row.exposure_time,
            latitude: $row.latitude,
            longitude: $row.longitude,
            city: $row.city,
            state: $row.state,
            country: $row.country,
            description: $row.description.unwrap_or_default(),
            rating: $row.rating,
            projection_type: $row.projection_type,
            profile_description: $row.profile_description,
            colorspace: $row.colorspace,
            bits_per_sample: $row.bits_per_sample,
            fps: $row.fps,
            live_photo_cid: $row.live_photo_cid,
        }
    };
}
pub(crate) use exif_from_row;
