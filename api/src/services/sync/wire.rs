//! The JSON each synced entity becomes, as Immich's mobile app reads it, made from the rows
//! storage reads. Lines the database used to build keep the spacing PostgreSQL gave them.

mod account;
mod album;
mod library;
mod memory;
mod person;

use std::fmt;
use std::io;

use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::{Serialize, Serializer};
use uuid::Uuid;

pub use account::*;
pub use album::*;
pub use library::*;
pub use memory::*;
pub use person::*;

/// One entity to send: its cursor (`updateId`, or the audit row's id) and what it says.
pub struct Entry {
    pub ack: Uuid,
    pub data: Data,
}

impl Entry {
    /// Gone from the viewer's sight though not deleted: sent as a delete, if at all.
    pub fn removed(&self) -> bool {
        matches!(self.data, Data::AssetRemoved(_))
    }
}

/// The entities a line carries, written compactly or spaced as PostgreSQL's
/// `json_build_object` spaced them (`{"id" : …, "name" : …}`) when the database wrote them.
macro_rules! entities {
    (compact { $($(#[$doc:meta])* $compact:ident($compact_ty:ty),)* } spaced { $($spaced:ident($spaced_ty:ty),)* }) => {
        // Entries live for one page and are written out at once; boxing the EXIF line would
        // cost an allocation per row of the largest streams.
        #[allow(clippy::large_enum_variant)]
        pub enum Data {
            $($(#[$doc])* $compact($compact_ty),)*
            $($spaced($spaced_ty),)*
        }

        impl Data {
            pub fn write(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
                match self {
                    $(Self::$compact(data) => serde_json::to_writer(out, data),)*
                    $(Self::$spaced(data) => data.serialize(&mut serde_json::Serializer::with_formatter(out, Spaced)),)*
                }
            }
        }
    };
}

entities! {
    compact {
        Asset(SyncAssetV2),
        /// An asset the viewer may no longer see, as a delete.
        AssetRemoved(SyncAssetDeleteV1),
        AssetExif(SyncAssetExifV1),
        Album(SyncAlbum),
    }
    spaced {
        AuthUser(SyncAuthUserV1),
        User(SyncUserV1),
        UserDelete(SyncUserDeleteV1),
        Partner(SyncPartnerV1),
        PartnerDelete(SyncPartnerDeleteV1),
        UserMetadata(SyncUserMetadataV1),
        UserMetadataDelete(SyncUserMetadataDeleteV1),
        AssetDelete(SyncAssetDeleteV1),
        Stack(SyncStackV1),
        StackDelete(SyncStackDeleteV1),
        AssetMetadata(SyncAssetMetadataV1),
        AssetMetadataDelete(SyncAssetMetadataDeleteV1),
        AssetEdit(SyncAssetEditV1),
        AssetEditDelete(SyncAssetEditDeleteV1),
        AssetOcr(SyncAssetOcrV1),
        AssetOcrDelete(SyncAssetOcrDeleteV1),
        AlbumDelete(SyncAlbumDeleteV1),
        AlbumUser(SyncAlbumUserV1),
        AlbumUserDelete(SyncAlbumUserDeleteV1),
        AlbumToAsset(SyncAlbumToAssetV1),
        Person(SyncPersonV1),
        PersonDelete(SyncPersonDeleteV1),
        AssetFace(SyncAssetFaceV2),
        AssetFaceDelete(SyncAssetFaceDeleteV1),
        Memory(SyncMemoryV1),
        MemoryDelete(SyncMemoryDeleteV1),
        MemoryToAsset(SyncMemoryToAssetV1),
    }
}

/// A moment as the app reads it: `2024-06-01T12:00:00.000Z`, milliseconds truncated (as
/// PostgreSQL's `to_char` wrote them).
#[derive(Debug, Clone, Copy)]
pub struct Millis(pub DateTime<Utc>);

impl fmt::Display for Millis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = &self.0;
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            at.year(),
            at.month(),
            at.day(),
            at.hour(),
            at.minute(),
            at.second(),
            at.nanosecond() % 1_000_000_000 / 1_000_000
        )
    }
}

impl Serialize for Millis {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Bytes (checksums, thumbhashes) as standard base64.
#[derive(Debug, Clone)]
pub struct Base64(pub Vec<u8>);

impl Serialize for Base64 {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&base64::display::Base64Display::new(
            &self.0,
            &base64::engine::general_purpose::STANDARD,
        ))
    }
}

/// A `real` as PostgreSQL's JSON has it: a number (written by `Spaced`), or the string
/// `NaN`/`Infinity`/`-Infinity`.
pub fn real<S: Serializer>(value: &f32, serializer: S) -> Result<S::Ok, S::Error> {
    if value.is_nan() {
        serializer.serialize_str("NaN")
    } else if value.is_infinite() {
        serializer.serialize_str(if *value > 0.0 { "Infinity" } else { "-Infinity" })
    } else {
        serializer.serialize_f32(*value)
    }
}

/// The spacing of PostgreSQL's `json_build_object`, `{"a" : 1, "b" : 2}`, and its `real`s.
struct Spaced;

impl serde_json::ser::Formatter for Spaced {
    fn begin_object_key<W: ?Sized + io::Write>(&mut self, writer: &mut W, first: bool) -> io::Result<()> {
        if first { Ok(()) } else { writer.write_all(b", ") }
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b" : ")
    }

    fn write_f32<W: ?Sized + io::Write>(&mut self, writer: &mut W, value: f32) -> io::Result<()> {
        write_real(writer, value)
    }
}

/// A finite `real` as PostgreSQL writes it: the shortest digits that read back, plain for
/// decimal exponents -4 to 5 (`0.0001`, `123456`, `0`) and `1.5e+06`, `1e-05` beyond.
fn write_real<W: ?Sized + io::Write>(writer: &mut W, value: f32) -> io::Result<()> {
    let scientific = format!("{value:e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", mantissa),
    };
    let digits = mantissa.replace('.', "");
    if (-4..0).contains(&exponent) {
        let zeros = "0".repeat(exponent.unsigned_abs() as usize - 1);
        write!(writer, "{sign}0.{zeros}{digits}")
    } else if (0..6).contains(&exponent) {
        let point = exponent as usize + 1;
        if digits.len() <= point {
            write!(writer, "{sign}{digits}{}", "0".repeat(point - digits.len()))
        } else {
            write!(writer, "{sign}{}.{}", &digits[..point], &digits[point..])
        }
    } else {
        let (first, rest) = digits.split_at(1);
        let point = if rest.is_empty() { "" } else { "." };
        let exponent_sign = if exponent < 0 { '-' } else { '+' };
        write!(
            writer,
            "{sign}{first}{point}{rest}e{exponent_sign}{:02}",
            exponent.unsigned_abs()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_as_sync_iso_wrote_them() {
        let at = |text: &str| Millis(DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)).to_string();
        assert_eq!(at("2024-06-01T12:00:00Z"), "2024-06-01T12:00:00.000Z");
        assert_eq!(at("2024-06-01T12:00:00.123999+02:00"), "2024-06-01T10:00:00.123Z");
    }

    #[test]
    fn reals_as_postgres_wrote_them() {
        // What `json_build_object` made of each `real` (PostgreSQL 15).
        let cases = [
            (0.0, "0"),
            (-0.0, "-0"),
            (1.0, "1"),
            (0.1, "0.1"),
            (0.3, "0.3"),
            (1.5, "1.5"),
            (12.5, "12.5"),
            (100000.0, "100000"),
            (123456.0, "123456"),
            (999999.0, "999999"),
            (1000000.0, "1e+06"),
            (1234567.0, "1.234567e+06"),
            (123456789.0, "1.2345679e+08"),
            (1e20, "1e+20"),
            (3.4028235e38, "3.4028235e+38"),
            (0.0001, "0.0001"),
            (0.00012345, "0.00012345"),
            (0.000099, "9.9e-05"),
            (1e-5, "1e-05"),
            (1e-45, "1e-45"),
        ];
        for (value, expected) in cases {
            let mut out = Vec::new();
            write_real(&mut out, value).unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), expected, "{value:e}");
        }
    }

    #[test]
    fn spaced_as_json_build_object() {
        #[derive(Serialize)]
        struct Row {
            id: u8,
            #[serde(serialize_with = "real")]
            x: f32,
            #[serde(serialize_with = "real")]
            y: f32,
            text: &'static str,
            value: Box<serde_json::value::RawValue>,
        }
        let row = Row {
            id: 1,
            x: 0.0,
            y: f32::NAN,
            text: "\u{1}\"",
            value: serde_json::value::RawValue::from_string(r#"{"a": [1, 2], "zz": 1}"#.into()).unwrap(),
        };
        let mut out = Vec::new();
        row.serialize(&mut serde_json::Serializer::with_formatter(&mut out, Spaced))
            .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"id" : 1, "x" : 0, "y" : "NaN", "text" : "\u0001\"", "value" : {"a": [1, 2], "zz": 1}}"#
        );
    }
}
