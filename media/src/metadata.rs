//! What a photo or video says about itself, read from exiftool's tags (pure: no I/O here).

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone, Utc};
use serde_json::Value;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExtractedMetadata {
    pub make: Option<String>,
    pub model: Option<String>,
    pub lens_model: Option<String>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    /// EXIF orientation 1–8, as text (Immich stores it so).
    pub orientation: Option<String>,
    /// The moment of capture, when the file says.
    pub date_time_original: Option<DateTime<Utc>>,
    /// The wall-clock time of capture where it was taken.
    pub local_date_time: Option<NaiveDateTime>,
    /// `UTC+2`-style name of the offset, when the file gives one.
    pub time_zone: Option<String>,
    pub modify_date: Option<DateTime<Utc>>,
    pub f_number: Option<f64>,
    pub focal_length: Option<f64>,
    pub iso: Option<i32>,
    pub exposure_time: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub description: Option<String>,
    pub rating: Option<i32>,
    pub projection_type: Option<String>,
    pub profile_description: Option<String>,
    pub colorspace: Option<String>,
    pub bits_per_sample: Option<i32>,
    pub fps: Option<f64>,
    pub duration_ms: Option<i32>,
    /// Apple's content identifier, shared by the still and the video of a live photo.
    pub live_photo_cid: Option<String>,
}

fn text(tags: &Value, names: &[&str]) -> Option<String> {
    names.iter().find_map(|name| match &tags[*name] {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

fn number(tags: &Value, names: &[&str]) -> Option<f64> {
    names.iter().find_map(|name| match &tags[*name] {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    })
}

fn integer(tags: &Value, names: &[&str]) -> Option<i32> {
    number(tags, names)
        .filter(|n| n.is_finite() && n.abs() < i32::MAX as f64)
        .map(|n| n.round() as i32)
}

/// `2023:07:14 10:20:30[.123][+02:00|Z]` (exiftool's form) into the local time and its offset.
pub fn parse_exif_date(raw: &str) -> Option<(NaiveDateTime, Option<FixedOffset>)> {
    let raw = raw.trim();
    if raw.len() < 19 || raw.starts_with("0000") {
        return None;
    }
    let (body, zone) = match raw.get(19..) {
        Some(rest) => {
            let zone_at = rest.find(['+', '-', 'Z']).map(|i| 19 + i);
            match zone_at {
                Some(i) => (&raw[..i], Some(&raw[i..])),
                None => (raw, None),
            }
        }
        None => (raw, None),
    };
    let local = NaiveDateTime::parse_from_str(body, "%Y:%m:%d %H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(body, "%Y-%m-%dT%H:%M:%S%.f"))
        .ok()?;
    Some((local, zone.and_then(parse_offset)))
}

/// `+02:00`, `-0530`, `Z`.
pub fn parse_offset(raw: &str) -> Option<FixedOffset> {
    let raw = raw.trim();
    if raw == "Z" {
        return FixedOffset::east_opt(0);
    }
    let sign = match raw.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits: String = raw[1..].chars().filter(char::is_ascii_digit).collect();
    let (hours, minutes) = match digits.len() {
        2 => (digits.parse::<i32>().ok()?, 0),
        4 => (digits[..2].parse::<i32>().ok()?, digits[2..].parse::<i32>().ok()?),
        _ => return None,
    };
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))
}

/// Luxon's fixed-offset names, as Immich stores time zones: `UTC`, `UTC+2`, `UTC-5:30`.
pub fn zone_name(offset: FixedOffset) -> String {
    let seconds = offset.local_minus_utc();
    if seconds == 0 {
        return "UTC".into();
    }
    let sign = if seconds < 0 { '-' } else { '+' };
    let (hours, minutes) = (seconds.abs() / 3600, seconds.abs() % 3600 / 60);
    if minutes == 0 {
        format!("UTC{sign}{hours}")
    } else {
        format!("UTC{sign}{hours}:{minutes:02}")
    }
}

/// The IANA zone at a place and the moment a wall-clock time there meant (the earlier one
/// when clocks went back; the shifted one when they jumped forward).
pub fn zone_at(latitude: f64, longitude: f64, local: NaiveDateTime) -> Option<(String, DateTime<Utc>)> {
    static FINDER: std::sync::OnceLock<tzf_rs::EmbeddedFinder> = std::sync::OnceLock::new();
    let name = FINDER
        .get_or_init(tzf_rs::EmbeddedFinder::new)
        .get_tz_name(longitude, latitude);
    let zone: chrono_tz::Tz = name.parse().ok()?;
    let moment = match zone.from_local_datetime(&local) {
        chrono::LocalResult::Single(moment) | chrono::LocalResult::Ambiguous(moment, _) => moment,
        chrono::LocalResult::None => zone
            .from_local_datetime(&(local + chrono::Duration::hours(1)))
            .earliest()?,
    };
    Some((name.to_string(), moment.with_timezone(&Utc)))
}

/// Exposure as photographers write it: `1/250`, or seconds for long ones.
fn exposure(seconds: f64) -> String {
    if seconds > 0.0 && seconds < 1.0 {
        format!("1/{}", (1.0 / seconds).round())
    } else {
        let whole = (seconds * 10.0).round() / 10.0;
        if whole.fract() == 0.0 {
            format!("{}", whole as i64)
        } else {
            format!("{whole}")
        }
    }
}

/// What ffprobe knows better than exiftool about a video (or an animated GIF): the size of
/// its picture stream, how players turn it, and how long it runs.
pub fn apply_video_probe(tags: &mut Value, info: &crate::transcode::VideoInfo) {
    let Some(tags) = tags.as_object_mut() else { return };
    tags.remove("Duration");
    if info.width > 0 && info.height > 0 {
        tags.insert("ImageWidth".into(), info.width.into());
        tags.insert("ImageHeight".into(), info.height.into());
    }
    let orientation = match info.rotation {
        -90 => 6,
        90 => 8,
        180 => 3,
        _ => 1,
    };
    tags.insert("Orientation".into(), orientation.into());
    if let Some(duration) = info.duration_seconds {
        tags.insert("Duration".into(), duration.into());
    }
}

/// HEIF files turn by their `irot` box (exiftool's `Rotation`), not by EXIF orientation,
/// which they often lack or get wrong.
pub fn apply_heif_rotation(tags: &mut Value) {
    let Some(tags) = tags.as_object_mut() else { return };
    let orientation = match tags.get("Rotation").and_then(Value::as_i64) {
        Some(0) => Some(1),
        Some(1) => Some(8),
        Some(2) => Some(3),
        Some(3) => Some(6),
        _ => None,
    };
    match orientation {
        Some(orientation) => tags.insert("Orientation".into(), orientation.into()),
        None => tags.remove("Orientation"),
    };
}

/// The capture time from the tags Immich reads, in its order of preference.
pub const DATE_TAGS: [&str; 8] = [
    "SubSecDateTimeOriginal",
    "DateTimeOriginal",
    "SubSecCreateDate",
    "CreationDate",
    "CreateDate",
    "SubSecMediaCreateDate",
    "MediaCreateDate",
    "DateTimeCreated",
];

impl ExtractedMetadata {
    pub fn from_tags(tags: &Value) -> Self {
        let date = DATE_TAGS
            .iter()
            .find_map(|name| tags[*name].as_str().and_then(parse_exif_date));
        let offset = date.as_ref().and_then(|(_, offset)| *offset).or_else(|| {
            ["OffsetTimeOriginal", "OffsetTime", "TimeZone", "OffsetTimeDigitized"]
                .iter()
                .find_map(|name| tags[*name].as_str().and_then(parse_offset))
        });
        let latitude = number(tags, &["GPSLatitude"]).filter(|v| v.abs() <= 90.0);
        let longitude = number(tags, &["GPSLongitude"]).filter(|v| v.abs() <= 180.0);
        // 0,0 is where broken GPS writers put photos.
        let (latitude, longitude) = match (latitude, longitude) {
            (Some(lat), Some(lon)) if !(lat == 0.0 && lon == 0.0) => (Some(lat), Some(lon)),
            _ => (None, None),
        };
        let (date_time_original, local_date_time, time_zone) = match date {
            Some((local, _)) => match offset {
                Some(offset) => {
                    let utc = offset
                        .from_local_datetime(&local)
                        .single()
                        .map(|d| d.with_timezone(&Utc));
                    (utc, Some(local), Some(zone_name(offset)))
                }
                None => match latitude.zip(longitude).and_then(|(lat, lon)| zone_at(lat, lon, local)) {
                    // The place says which zone the clock was in.
                    Some((zone, utc)) => (Some(utc), Some(local), Some(zone)),
                    // Without an offset or a place the wall-clock time is all there is.
                    None => (Some(Utc.from_utc_datetime(&local)), Some(local), None),
                },
            },
            None => (None, None, None),
        };
        let modify_date = tags["ModifyDate"]
            .as_str()
            .and_then(parse_exif_date)
            .map(|(local, offset)| match offset {
                Some(offset) => offset
                    .from_local_datetime(&local)
                    .single()
                    .map_or_else(|| Utc.from_utc_datetime(&local), |d| d.with_timezone(&Utc)),
                None => Utc.from_utc_datetime(&local),
            });
        // RAW files (CR2, RAF) give their preview's size as ImageWidth; ImageSize is the picture's.
        let image_size = tags["ImageSize"].as_str().and_then(|size| {
            let (w, h) = size.split_once(['x', ' '])?;
            Some((w.trim().parse::<i32>().ok()?, h.trim().parse::<i32>().ok()?))
        });
        let duration_ms = number(tags, &["Duration", "MediaDuration", "TrackDuration"])
            .filter(|d| *d > 0.0)
            .map(|d| (d * 1000.0).round() as i32);
        Self {
            make: text(tags, &["Make", "DeviceManufacturer", "AndroidMake"]),
            model: text(tags, &["Model", "DeviceModelName", "AndroidModel"]),
            lens_model: text(tags, &["LensModel", "Lens", "LensID"]).filter(|l| l != "----"),
            width: image_size
                .map(|(w, _)| w)
                .or_else(|| integer(tags, &["ImageWidth", "ExifImageWidth", "SourceImageWidth"]))
                .filter(|w| *w > 0),
            height: image_size
                .map(|(_, h)| h)
                .or_else(|| integer(tags, &["ImageHeight", "ExifImageHeight", "SourceImageHeight"]))
                .filter(|h| *h > 0),
            orientation: integer(tags, &["Orientation"])
                .filter(|o| (1..=8).contains(o))
                .map(|o| o.to_string()),
            date_time_original,
            local_date_time,
            time_zone,
            modify_date,
            f_number: number(tags, &["FNumber", "Aperture"]),
            focal_length: number(tags, &["FocalLength"]),
            iso: integer(tags, &["ISO", "ISOSpeedRatings"]),
            exposure_time: number(tags, &["ExposureTime", "ShutterSpeed"]).map(exposure),
            latitude,
            longitude,
            description: text(tags, &["ImageDescription", "Description", "Caption-Abstract"]),
            rating: integer(tags, &["Rating"]).filter(|r| (-1..=5).contains(r) && *r != 0),
            projection_type: text(tags, &["ProjectionType"]).map(|p| p.to_ascii_uppercase()),
            profile_description: text(tags, &["ProfileDescription"]),
            colorspace: text(tags, &["ColorSpace"]),
            bits_per_sample: integer(tags, &["BitsPerSample"]),
            fps: number(tags, &["VideoFrameRate"]),
            duration_ms,
            live_photo_cid: text(tags, &["ContentIdentifier", "MediaGroupUUID"]),
        }
    }

    /// Width and height as shown, after the orientation turns the image.
    pub fn displayed_size(&self) -> (Option<i32>, Option<i32>) {
        match self.orientation.as_deref() {
            Some("5" | "6" | "7" | "8") => (self.height, self.width),
            _ => (self.width, self.height),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dates_offsets_and_camera_fields() {
        let tags = json!({
            "Make": "Darkroom", "Model": "TestCam", "ImageWidth": 4000, "ImageHeight": 3000, "Orientation": 6,
            "DateTimeOriginal": "2023:07:14 10:20:30", "OffsetTimeOriginal": "+02:00",
            "ExposureTime": 0.004, "FNumber": 1.8, "ISO": 100, "GPSLatitude": 48.8584, "GPSLongitude": 2.2945, "Rating": 0,
        });
        let m = ExtractedMetadata::from_tags(&tags);
        assert_eq!(m.date_time_original.unwrap().to_rfc3339(), "2023-07-14T08:20:30+00:00");
        assert_eq!(m.local_date_time.unwrap().to_string(), "2023-07-14 10:20:30");
        assert_eq!(m.time_zone.as_deref(), Some("UTC+2"));
        assert_eq!(m.exposure_time.as_deref(), Some("1/250"));
        assert_eq!(
            (m.make.as_deref(), m.orientation.as_deref()),
            (Some("Darkroom"), Some("6"))
        );
        assert_eq!(m.displayed_size(), (Some(3000), Some(4000)));
        assert_eq!(m.rating, None, "0 means unrated");
        assert_eq!((m.latitude, m.longitude), (Some(48.8584), Some(2.2945)));
    }

    #[test]
    fn dates_in_all_their_forms() {
        assert_eq!(
            parse_exif_date("2023:07:14 10:20:30.123-05:30").unwrap().1,
            FixedOffset::east_opt(-(5 * 3600 + 1800))
        );
        assert!(parse_exif_date("0000:00:00 00:00:00").is_none());
        assert!(parse_exif_date("yesterday").is_none());
        assert_eq!(
            zone_name(FixedOffset::east_opt(-(5 * 3600 + 1800)).unwrap()),
            "UTC-5:30"
        );
        let no_zone = ExtractedMetadata::from_tags(&json!({"CreateDate": "2020:01:02 03:04:05"}));
        assert_eq!(
            no_zone.date_time_original.unwrap().to_rfc3339(),
            "2020-01-02T03:04:05+00:00"
        );
        assert_eq!(no_zone.time_zone, None);
        let null_island = ExtractedMetadata::from_tags(&json!({"GPSLatitude": 0, "GPSLongitude": 0}));
        assert_eq!(null_island.latitude, None);
    }

    #[test]
    fn videos_take_size_turn_and_length_from_ffprobe() {
        let probe = |rotation: Value, tag: Value| {
            crate::transcode::VideoInfo::from_probe(&json!({
                "streams": [{"codec_type": "video", "codec_name": "h264", "width": 1920, "height": 1080,
                             "side_data_list": [{"rotation": rotation}], "tags": {"rotate": tag}}],
                "format": {"duration": "12.345000"}
            }))
            .unwrap()
        };
        let mut tags = json!({"ImageWidth": 1080, "ImageHeight": 1920, "Duration": 99, "Orientation": 1});
        apply_video_probe(&mut tags, &probe(json!(-90), Value::Null));
        let found = ExtractedMetadata::from_tags(&tags);
        assert_eq!(found.displayed_size(), (Some(1080), Some(1920)), "a phone held upright");
        assert_eq!(found.duration_ms, Some(12_345));
        for (rotation, tag, orientation) in [
            (json!(90), Value::Null, 8),
            (json!(180), Value::Null, 3),
            (Value::Null, json!("90"), 6),
            (Value::Null, Value::Null, 1),
        ] {
            let mut tags = json!({});
            apply_video_probe(&mut tags, &probe(rotation, tag));
            assert_eq!(tags["Orientation"], json!(orientation));
        }
        let mut heif = json!({"Rotation": 3, "Orientation": 1});
        apply_heif_rotation(&mut heif);
        assert_eq!(heif["Orientation"], json!(6));
        let mut heif = json!({"Orientation": 6});
        apply_heif_rotation(&mut heif);
        assert!(
            heif.get("Orientation").is_none(),
            "EXIF orientation of a HEIF is not trusted"
        );
        assert_eq!(
            ExtractedMetadata::from_tags(&json!({"ImageSize": "6000 4000", "ImageWidth": 160})).width,
            Some(6000)
        );
    }

    #[test]
    fn the_place_gives_the_zone_when_the_file_gives_no_offset() {
        // Paris in summer (UTC+2) and in winter (UTC+1); Kathmandu (+5:45); Sydney in January (+11).
        for (lat, lon, date, zone, utc) in [
            (
                48.8584,
                2.2945,
                "2023:07:14 10:20:30",
                "Europe/Paris",
                "2023-07-14T08:20:30+00:00",
            ),
            (
                48.8584,
                2.2945,
                "2023:01:14 10:20:30",
                "Europe/Paris",
                "2023-01-14T09:20:30+00:00",
            ),
            (
                27.7172,
                85.3240,
                "2022:03:01 12:00:00",
                "Asia/Kathmandu",
                "2022-03-01T06:15:00+00:00",
            ),
            (
                -33.8568,
                151.2153,
                "2024:01:01 00:00:00",
                "Australia/Sydney",
                "2023-12-31T13:00:00+00:00",
            ),
        ] {
            let found = ExtractedMetadata::from_tags(
                &json!({"DateTimeOriginal": date, "GPSLatitude": lat, "GPSLongitude": lon}),
            );
            assert_eq!(found.time_zone.as_deref(), Some(zone));
            assert_eq!(found.date_time_original.unwrap().to_rfc3339(), utc);
            assert_eq!(
                found.local_date_time.unwrap().format("%Y:%m:%d %H:%M:%S").to_string(),
                date
            );
        }
        // An offset in the file wins over the place.
        let offset = ExtractedMetadata::from_tags(
            &json!({"DateTimeOriginal": "2023:07:14 10:20:30", "OffsetTimeOriginal": "+05:00", "GPSLatitude": 48.8584, "GPSLongitude": 2.2945}),
        );
        assert_eq!(offset.time_zone.as_deref(), Some("UTC+5"));
        // Half past two on the night Paris skips it is read as a quarter past… the hour after.
        let gap = zone_at(
            48.8584,
            2.2945,
            NaiveDateTime::parse_from_str("2023-03-26 02:30:00", "%Y-%m-%d %H:%M:%S").unwrap(),
        )
        .unwrap();
        assert_eq!(gap.1.to_rfc3339(), "2023-03-26T01:30:00+00:00");
    }
}
