//! Reverse geocoding: the places of `$IMMICH_BUILD_DATA/geodata`, loaded into `geodata_places`
//! once per version of the files, name the city, state and country of a position.
//!
//! Two layouts are read: Immich's own (GeoNames' `cities500.txt` with `admin1CodesASCII.txt`,
//! `admin2Codes.txt` and `geodata-date.txt`, so Immich's build data works as it is), and the
//! smaller `cities1000.csv` (`lat,lon,name,admin1,admin2,cc`, GeoNames' places of 1,000 people
//! or more) that `scripts/setup` installs. Far from any place, the country comes from Natural
//! Earth's borders: Immich's `ne_10m_admin_0_countries.geojson`, or world-atlas'
//! `countries-10m.json` that `scripts/setup` installs.

mod countries;

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use darkroom_storage::geodata::{self, CountryRow, PlaceRow};
use darkroom_storage::system_metadata;
use serde_json::{Value, json};

use crate::state::AppState;

const STATE_KEY: &str = "reverse-geocoding-state";
/// Darkroom's own record of the borders loaded (Immich's state has no room for it).
const COUNTRIES_STATE_KEY: &str = "darkroom-country-borders-state";
const IMMICH_CITIES: &str = "cities500.txt";
const SMALL_CITIES: &str = "cities1000.csv";
/// Natural Earth's countries: Immich's GeoJSON, or world-atlas' TopoJSON (`scripts/setup`).
const IMMICH_COUNTRIES: &str = "ne_10m_admin_0_countries.geojson";
const ATLAS_COUNTRIES: &str = "countries-10m.json";

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
    countries::COUNTRY_NAMES
        .binary_search_by(|(known, _)| known.cmp(&code))
        .ok()
        .map(|i| countries::COUNTRY_NAMES[i].1)
}

/// The nearest known place within 25 km of a position (all unknown when there is none).
pub async fn reverse_geocode(
    db: &darkroom_storage::PgPool,
    latitude: f64,
    longitude: f64,
) -> darkroom_storage::Result<PlaceName> {
    if let Some(place) = geodata::nearest(db, latitude, longitude).await? {
        return Ok(PlaceName {
            country: country_name(&place.country_code).map(str::to_owned),
            state: place.admin1_name,
            city: Some(place.name),
        });
    }
    // Far from any town: the country whose borders hold the position, as Immich falls back.
    let country = geodata::country_at(db, latitude, longitude).await?;
    Ok(PlaceName {
        country: country
            .as_deref()
            .and_then(alpha3_to_alpha2)
            .and_then(country_name)
            .map(str::to_owned),
        ..PlaceName::default()
    })
}

fn alpha3_to_alpha2(alpha3: &str) -> Option<&'static str> {
    countries::COUNTRY_CODES
        .iter()
        .find(|(_, _, a3)| *a3 == alpha3)
        .map(|(_, a2, _)| *a2)
}

fn numeric_to_alpha3(numeric: &str) -> Option<&'static str> {
    countries::COUNTRY_CODES
        .binary_search_by(|(n, _, _)| n.cmp(&numeric))
        .ok()
        .map(|i| countries::COUNTRY_CODES[i].2)
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
        if !path.is_file() {
            continue;
        }
        // Immich's build writes the date of its data next to it; otherwise the file's own date.
        let version = std::fs::read_to_string(folder.join("geodata-date.txt"))
            .map(|text| text.trim().to_owned())
            .ok()
            .filter(|text| !text.is_empty())
            .or_else(|| file_version(&path))
            .unwrap_or_default();
        return Some(Source {
            file_name,
            path,
            version,
        });
    }
    None
}

/// A file's modification time, as the version of the data in it.
fn file_version(path: &Path) -> Option<String> {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .map(|time| DateTime::<Utc>::from(time).to_rfc3339())
}

/// Country borders from Immich's Natural Earth GeoJSON or world-atlas' TopoJSON: each
/// polygon's outer ring, named by ISO alpha-3 code (countries without one are left out).
fn read_countries(text: &str) -> Option<Vec<CountryRow>> {
    let data: Value = serde_json::from_str(text).ok()?;
    let mut rows = Vec::new();
    let mut push = |admin: &str, alpha3: &str, kind: &str, ring: Vec<(f64, f64)>| {
        if ring.len() >= 3 && alpha3.len() == 3 {
            rows.push(CountryRow {
                admin: admin.to_owned(),
                admin_a3: alpha3.to_owned(),
                kind: kind.to_owned(),
                ring,
            });
        }
    };
    let point = |p: &Value| Some((p.get(0)?.as_f64()?, p.get(1)?.as_f64()?));
    match data["type"].as_str()? {
        "FeatureCollection" => {
            for feature in data["features"].as_array()? {
                let properties = &feature["properties"];
                let (admin, alpha3, kind) = (
                    properties["ADMIN"].as_str().unwrap_or_default(),
                    properties["ADM0_A3"].as_str().unwrap_or_default(),
                    properties["TYPE"].as_str().unwrap_or_default(),
                );
                let geometry = &feature["geometry"];
                let polygons: Vec<&Value> = match geometry["type"].as_str() {
                    Some("Polygon") => vec![&geometry["coordinates"]],
                    Some("MultiPolygon") => geometry["coordinates"].as_array()?.iter().collect(),
                    _ => continue,
                };
                for polygon in polygons {
                    let ring = polygon
                        .get(0)
                        .and_then(Value::as_array)
                        .map(|r| r.iter().filter_map(point).collect())
                        .unwrap_or_default();
                    push(admin, alpha3, kind, ring);
                }
            }
        }
        "Topology" => {
            let transform = &data["transform"];
            let (scale, translate) = (
                point(&transform["scale"]).unwrap_or((1.0, 1.0)),
                point(&transform["translate"]).unwrap_or((0.0, 0.0)),
            );
            let quantized = transform.is_object();
            // Quantized arcs are deltas from the previous point.
            let arcs: Vec<Vec<(f64, f64)>> = data["arcs"]
                .as_array()?
                .iter()
                .map(|arc| {
                    let (mut x, mut y) = (0.0, 0.0);
                    arc.as_array()
                        .map(|points| {
                            points
                                .iter()
                                .filter_map(point)
                                .map(|(dx, dy)| {
                                    if quantized {
                                        (x, y) = (x + dx, y + dy);
                                        (x * scale.0 + translate.0, y * scale.1 + translate.1)
                                    } else {
                                        (dx, dy)
                                    }
                                })
                                .collect()
                        })
                        .unwrap_or_default()
                })
                .collect();
            // A ring is its arcs joined end to start; `!i` (a negative index) is arc `i` reversed.
            let ring_of = |indexes: &Value| -> Vec<(f64, f64)> {
                let mut ring: Vec<(f64, f64)> = Vec::new();
                for index in indexes.as_array().into_iter().flatten().filter_map(Value::as_i64) {
                    let (arc, reversed) = if index >= 0 { (index, false) } else { (!index, true) };
                    let Some(points) = arcs.get(arc as usize) else { continue };
                    let mut points = points.clone();
                    if reversed {
                        points.reverse();
                    }
                    let skip = usize::from(!ring.is_empty());
                    ring.extend(points.into_iter().skip(skip));
                }
                ring
            };
            for geometry in data["objects"]["countries"]["geometries"].as_array()? {
                let Some(alpha3) = geometry["id"].as_str().and_then(numeric_to_alpha3) else {
                    continue;
                };
                let admin = geometry["properties"]["name"].as_str().unwrap_or_default();
                let polygons: Vec<&Value> = match geometry["type"].as_str() {
                    Some("Polygon") => vec![&geometry["arcs"]],
                    Some("MultiPolygon") => geometry["arcs"].as_array()?.iter().collect(),
                    _ => continue,
                };
                for polygon in polygons {
                    push(
                        admin,
                        alpha3,
                        "Country",
                        polygon.get(0).map(&ring_of).unwrap_or_default(),
                    );
                }
            }
        }
        _ => return None,
    }
    Some(rows)
}

/// Loads the places and the country borders, each only when the database does not hold this
/// version of it yet (the places take seconds). Runs in the background at start; until it is
/// done, positions simply have no names.
pub async fn import_if_needed(state: &AppState) {
    let folder = state.config.build_data.join("geodata");
    let Some(source) = find_source(&folder) else {
        tracing::info!(folder = %folder.display(), "no geodata found: photos get no city, state or country");
        return;
    };
    let borders = [IMMICH_COUNTRIES, ATLAS_COUNTRIES]
        .into_iter()
        .map(|name| folder.join(name))
        .find(|path| path.is_file());
    import_borders_if_needed(state, borders.as_deref()).await;
    import_places_if_needed(state, source).await;
}

async fn import_borders_if_needed(state: &AppState, path: Option<&Path>) {
    let version = path.and_then(file_version);
    match system_metadata::get(&state.db, COUNTRIES_STATE_KEY).await {
        Ok(current) if current.as_ref().and_then(|c| c["lastUpdate"].as_str()) == version.as_deref() => return,
        Ok(_) => {}
        Err(error) => return tracing::warn!(%error, "could not read the country borders state"),
    }
    let borders = match path {
        Some(path) => match tokio::fs::read_to_string(path).await.map(|text| read_countries(&text)) {
            Ok(Some(borders)) => borders,
            Ok(None) => return tracing::warn!(file = %path.display(), "could not read the country borders"),
            Err(error) => return tracing::warn!(file = %path.display(), %error, "could not read the country borders"),
        },
        None => Vec::new(),
    };
    if let Err(error) = geodata::replace_countries(&state.db, &borders).await {
        return tracing::warn!(%error, "country borders import failed");
    }
    if let Err(error) = system_metadata::set(&state.db, COUNTRIES_STATE_KEY, &json!({ "lastUpdate": version })).await {
        tracing::warn!(%error, "could not record the country borders state");
    }
}

async fn import_places_if_needed(state: &AppState, source: Source) {
    match system_metadata::get(&state.db, STATE_KEY).await {
        Ok(Some(current))
            if current["lastUpdate"].as_str() == Some(source.version.as_str())
                && current["lastImportFileName"].as_str() == Some(source.file_name) =>
        {
            return;
        }
        Ok(_) => {}
        Err(error) => return tracing::warn!(%error, "could not read the reverse-geocoding state"),
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
            tracing::info!(
                count,
                file = source.file_name,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "geodata imported"
            );
        }
        Err(error) => tracing::warn!(%error, "geodata import failed"),
    }
}

fn read_places(source: &Source) -> std::io::Result<Vec<PlaceRow>> {
    let modified = NaiveDate::parse_from_str(source.version.get(..10).unwrap_or_default(), "%Y-%m-%d")
        .unwrap_or_else(|_| Utc::now().date_naive());
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
    let [latitude, longitude, name, admin1, admin2, country] = fields.as_slice() else {
        return None;
    };
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
    fn country_borders_come_from_geojson_and_from_quantized_topojson() {
        let geojson = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"ADMIN":"Germany","ADM0_A3":"DEU","TYPE":"Sovereign country"},
            "geometry":{"type":"MultiPolygon","coordinates":[[[[10,10],[20,10],[20,20],[10,10]]],[[[30,30],[31,30],[31,31],[30,30]]]]}}]}"#;
        let rows = read_countries(geojson).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].admin_a3.as_str(), rows[0].ring[1]), ("DEU", (20.0, 10.0)));
        // Two arcs: the square's bottom-right half, then its top-left half walked backwards.
        let topojson = r#"{"type":"Topology","transform":{"scale":[0.5,0.5],"translate":[10,10]},
            "arcs":[[[0,0],[20,0],[0,20]],[[0,0],[0,20],[20,0]]],
            "objects":{"countries":{"type":"GeometryCollection","geometries":[
              {"type":"Polygon","id":"276","properties":{"name":"Germany"},"arcs":[[0,-2]]},
              {"type":"Polygon","properties":{"name":"Nowhere"},"arcs":[[0]]}]}}}"#;
        let rows = read_countries(topojson).unwrap();
        assert_eq!(rows.len(), 1, "countries without a code are left out");
        assert_eq!(
            rows[0].ring,
            vec![(10.0, 10.0), (20.0, 10.0), (20.0, 20.0), (10.0, 20.0), (10.0, 10.0)]
        );
        assert_eq!((rows[0].admin.as_str(), rows[0].admin_a3.as_str()), ("Germany", "DEU"));
        assert_eq!(alpha3_to_alpha2("DEU").and_then(country_name), Some("Germany"));
    }

    #[test]
    fn quoted_csv_fields_keep_their_commas() {
        assert_eq!(
            split_csv(r#"1.5,2.5,"Rueti, Sued",Zurich,,CH"#),
            ["1.5", "2.5", "Rueti, Sued", "Zurich", "", "CH"]
        );
        assert_eq!(split_csv(r#"a,"say ""hi""",b"#), ["a", r#"say "hi""#, "b"]);
    }

    #[test]
    fn geonames_sections_of_cities_are_left_out() {
        let line = |feature: &str, country: &str| {
            format!(
                "1\tName\tName\tAlt\t1.0\t2.0\tP\t{feature}\t{country}\t\t01\t002\t\t\t0\t\t0\tEurope/Berlin\t2024-05-06"
            )
        };
        let admin1 = HashMap::from([("DE.01".to_owned(), "State".to_owned())]);
        let admin2 = HashMap::from([("DE.01.002".to_owned(), "County".to_owned())]);
        let row = geonames_row(&line("PPL", "DE"), &admin1, &admin2).unwrap();
        assert_eq!(
            (row.admin1_name.as_deref(), row.admin2_name.as_deref()),
            (Some("State"), Some("County"))
        );
        assert!(geonames_row(&line("PPLX", "DE"), &admin1, &admin2).is_none());
        assert!(geonames_row(&line("PPLX", "AU"), &admin1, &admin2).is_some());
        assert!(geonames_row(&line("PPLH", "DE"), &admin1, &admin2).is_none());
    }
}
