//! Reverse geocoding: the places of `$IMMICH_BUILD_DATA/geodata`, loaded into `geodata_places`
//! once per version of the files, name the city, state and country of a position.
//!
//! Two layouts are read: Immich's own (GeoNames' `cities500.txt` with `admin1CodesASCII.txt`,
//! `admin2Codes.txt` and `geodata-date.txt`, so Immich's build data works as it is), and the
//! smaller `cities1000.csv` (`lat,lon,name,admin1,admin2,cc`, GeoNames' places of 1,000 people
//! or more) that `scripts/setup` installs.

mod countries;

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use darkroom_storage::geodata::{self, PlaceRow};
use darkroom_storage::system_metadata;
use serde_json::json;

use crate::state::AppState;

const STATE_KEY: &str = "reverse-geocoding-state";
const IMMICH_CITIES: &str = "cities500.txt";
const SMALL_CITIES: &str = "cities1000.csv";

/// What a position is called; each part may be unknown.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct PlaceName {
    pub city: Option<String>,
    pub state: Option<String>,
    pub country: Option<String>,
}

/// The English name of a country from its ISO 3166-1 alpha-2 code.
pub fn country_name(code: &str) -> Option<&'static str> {
    let code = code.trim();
    countries::COUNTRY_NAMES.binary_search_by(|(known, _)| known.cmp(&code)).ok().map(|i| countries::COUNTRY_NAMES[i].1)
}

/// The nearest known place within 25 km of a position (all unknown when there is none).
pub async fn reverse_geocode(db: &darkroom_storage::PgPool, latitude: f64, longitude: f64) -> darkroom_storage::Result<PlaceName> {
    Ok(match geodata::nearest(db, latitude, longitude).await? {
        Some(place) => PlaceName {
            country: country_name(&place.country_code).map(str::to_owned),
            state: place.admin1_name,
            city: Some(place.name),
        },
        None => PlaceName::default(),
    })
}

/// The geodata files found in a folder, and the version they are.
#[derive(Debug, Clone)]
struct Source {
    file_name: &'static str,
    path: PathBuf,
    version: String,
}

fn find_source(folder: &Path) -> Option<Source> {
    for file_name in [IMMICH_CITIES, SMALL_CITIES] {
        let path = folder.join(file_name);
        let Ok(metadata) = std::fs::metadata(&path) else { continue };
        // Immich's build writes the date of its data next to it; otherwise the file's own date.
        let version = std::fs::read_to_string(folder.join("geodata-date.txt"))
            .map(|text| text.trim().to_owned())
            .ok()
            .filter(|text| !text.is_empty())
            .or_else(|| metadata.modified().ok().map(|time| DateTime::<Utc>::from(time).to_rfc3339()))
            .unwrap_or_default();
        return Some(Source { file_name, path, version });
    }
    None
}

/// Loads the places when the database does not hold this version of them yet. Runs in the
/// background at start; until it is done, positions simply have no names.
pub async fn import_if_needed(state: &AppState) {
    let folder = state.config.build_data.join("geodata");
    let Some(source) = find_source(&folder) else {
        tracing::info!(folder = %folder.display(), "no geodata found: photos get no city, state or country");
        return;
    };
    let current = match system_metadata::get(&state.db, STATE_KEY).await {
        Ok(current) => current,
        Err(error) => return tracing::warn!(%error, "could not read the reverse-geocoding state"),
    };
    if let Some(current) = current
        && current["lastUpdate"].as_str() == Some(source.version.as_str())
        && current["lastImportFileName"].as_str() == Some(source.file_name)
    {
        return;
    }
    let started = std::time::Instant::now();
    let reading = source.clone();
    let rows = match tokio::task::spawn_blocking(move || read_places(&reading)).await {
        Ok(Ok(rows)) => rows,
        Ok(Err(error)) => return tracing::warn!(file = %source.path.display(), %error, "could not read the geodata"),
        Err(error) => return tracing::warn!(%error, "reading the geodata failed"),
    };
    match geodata::replace_all(&state.db, rows.into_iter()).await {
        Ok(count) => {
            let done = json!({ "lastUpdate": source.version, "lastImportFileName": source.file_name });
            if let Err(error) = system_metadata::set(&state.db, STATE_KEY, &done).await {
                tracing::warn!(%error, "could not record the reverse-geocoding state");
            }
            tracing::info!(count, file = source.file_name, elapsed_ms = started.elapsed().as_millis() as u64, "geodata imported");
        }
        Err(error) => tracing::warn!(%error, "geodata import failed"),
    }
}

fn read_places(source: &Source) -> std::io::Result<Vec<PlaceRow>> {
    let modified = NaiveDate::parse_from_str(source.version.get(..10).unwrap_or_default(), "%Y-%m-%d").unwrap_or_else(|_| Utc::now().date_naive());
    let lines = BufReader::new(File::open(&source.path)?).lines();
    if source.file_name == IMMICH_CITIES {
        let folder = source.path.parent().unwrap_or(Path::new("."));
        let admin1 = read_admin_names(&folder.join("admin1CodesASCII.txt"))?;
        let admin2 = read_admin_names(&folder.join("admin2Codes.txt"))?;
        let mut rows = Vec::new();
        for line in lines {
            if let Some(row) = geonames_row(&line?, &admin1, &admin2) {
                rows.push(row);
            }
        }
        Ok(rows)
    } else {
        let mut rows = Vec::new();
        for (index, line) in lines.enumerate().skip(1) {
            if let Some(row) = small_cities_row(index as i32, &line?, modified) {
                rows.push(row);
            }
        }
        Ok(rows)
    }
}

/// `code<TAB>name<TAB>…` lines.
fn read_admin_names(path: &Path) -> std::io::Result<HashMap<String, String>> {
    let mut names = HashMap::new();
    for line in BufReader::new(File::open(path)?).lines() {
        let line = line?;
        let mut fields = line.split('\t');
        if let (Some(code), Some(name)) = (fields.next(), fields.next()) {
            names.insert(code.to_owned(), name.to_owned());
        }
    }
    Ok(names)
}

fn non_empty(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_owned())
}

/// One line of GeoNames' main table; sections of cities (PPLX, outside Australia) and
/// historical places (PPLH) are left out as Immich does.
fn geonames_row(line: &str, admin1: &HashMap<String, String>, admin2: &HashMap<String, String>) -> Option<PlaceRow> {
    let fields: Vec<&str> = line.split('\t').collect();
    if fields.len() < 19 {
        return None;
    }
    let (feature, country) = (fields[7], fields[8]);
    if (feature == "PPLX" && country != "AU") || feature == "PPLH" {
        return None;
    }
    Some(PlaceRow {
        id: fields[0].parse().ok()?,
        name: fields[1].chars().take(200).collect(),
        alternate_names: non_empty(fields[3]),
        latitude: fields[4].parse().ok()?,
        longitude: fields[5].parse().ok()?,
        country_code: country.chars().take(2).collect(),
        admin1_code: non_empty(fields[10]),
        admin2_code: non_empty(fields[11]),
        modification_date: NaiveDate::parse_from_str(fields[18], "%Y-%m-%d").ok()?,
        admin1_name: admin1.get(&format!("{country}.{}", fields[10])).cloned(),
        admin2_name: admin2.get(&format!("{country}.{}.{}", fields[10], fields[11])).cloned(),
    })
}

/// One line of `lat,lon,name,admin1,admin2,cc` (fields with commas are quoted).
fn small_cities_row(id: i32, line: &str, modified: NaiveDate) -> Option<PlaceRow> {
    let fields = split_csv(line);
    let [latitude, longitude, name, admin1, admin2, country] = fields.as_slice() else { return None };
    Some(PlaceRow {
        id,
        name: name.chars().take(200).collect(),
        latitude: latitude.parse().ok()?,
        longitude: longitude.parse().ok()?,
        country_code: country.chars().take(2).collect(),
        admin1_code: None,
        admin2_code: None,
        modification_date: modified,
        admin1_name: non_empty(admin1),
        admin2_name: non_empty(admin2),
        alternate_names: None,
    })
}

fn split_csv(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(std::mem::take(&mut field)),
            c => field.push(c),
        }
    }
    fields.push(field);
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countries_are_named_as_immich_names_them() {
        assert_eq!(country_name("DE"), Some("Germany"));
        assert_eq!(country_name("US"), Some("United States of America"));
        assert_eq!(country_name("XX"), None);
    }

    #[test]
    fn quoted_csv_fields_keep_their_commas() {
        assert_eq!(split_csv(r#"1.5,2.5,"Rueti, Sued",Zurich,,CH"#), ["1.5", "2.5", "Rueti, Sued", "Zurich", "", "CH"]);
        assert_eq!(split_csv(r#"a,"say ""hi""",b"#), ["a", r#"say "hi""#, "b"]);
    }

    #[test]
    fn geonames_sections_of_cities_are_left_out() {
        let line = |feature: &str, country: &str| {
            format!("1\tName\tName\tAlt\t1.0\t2.0\tP\t{feature}\t{country}\t\t01\t002\t\t\t0\t\t0\tEurope/Berlin\t2024-05-06")
        };
        let admin1 = HashMap::from([("DE.01".to_owned(), "State".to_owned())]);
        let admin2 = HashMap::from([("DE.01.002".to_owned(), "County".to_owned())]);
        let row = geonames_row(&line("PPL", "DE"), &admin1, &admin2).unwrap();
        assert_eq!((row.admin1_name.as_deref(), row.admin2_name.as_deref()), (Some("State"), Some("County")));
        assert!(geonames_row(&line("PPLX", "DE"), &admin1, &admin2).is_none());
        assert!(geonames_row(&line("PPLX", "AU"), &admin1, &admin2).is_some());
        assert!(geonames_row(&line("PPLH", "DE"), &admin1, &admin2).is_none());
    }
}
