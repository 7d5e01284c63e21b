//! Places (`geodata_places`): where a photo was taken, by name, and places found by name.

use chrono::NaiveDate;
use sqlx::PgPool;

use crate::Result;

/// A populated place.
#[derive(Debug, Clone)]
pub struct Place {
    pub name: String,
    pub latitude: f64,
    pub longitude: f64,
    pub country_code: String,
    pub admin1_name: Option<String>,
    pub admin2_name: Option<String>,
}

/// One row of an import, as the geodata files give it.
#[derive(Debug, Clone)]
pub struct PlaceRow {
    pub id: i32,
    pub name: String,
    pub latitude: f64,
    pub longitude: f64,
    pub country_code: String,
    pub admin1_code: Option<String>,
    pub admin2_code: Option<String>,
    pub modification_date: NaiveDate,
    pub admin1_name: Option<String>,
    pub admin2_name: Option<String>,
    pub alternate_names: Option<String>,
}

/// A place farther away than this does not name where a photo was taken (Immich's 25 km).
const NEAREST_WITHIN_METRES: f64 = 25_000.0;

/// The nearest place within 25 km.
pub async fn nearest(pool: &PgPool, latitude: f64, longitude: f64) -> Result<Option<Place>> {
    Ok(sqlx::query_as!(
        Place,
        r#"SELECT name, latitude, longitude, "countryCode" AS country_code, "admin1Name" AS admin1_name, "admin2Name" AS admin2_name
           FROM geodata_places
           WHERE earth_box(ll_to_earth_public($1, $2), $3) @> ll_to_earth_public(latitude, longitude)
           ORDER BY earth_distance(ll_to_earth_public($1, $2), ll_to_earth_public(latitude, longitude))
           LIMIT 1"#,
        latitude,
        longitude,
        NEAREST_WITHIN_METRES
    )
    .fetch_optional(pool)
    .await?)
}

/// Up to 20 places whose name, county, state or other names resemble `name` (accents ignored),
/// closest first.
pub async fn search(pool: &PgPool, name: &str) -> Result<Vec<Place>> {
    Ok(sqlx::query_as!(
        Place,
        r#"SELECT name, latitude, longitude, "countryCode" AS country_code, "admin1Name" AS admin1_name, "admin2Name" AS admin2_name
           FROM geodata_places
           WHERE f_unaccent(name) %>> f_unaccent($1) OR f_unaccent("admin2Name") %>> f_unaccent($1)
              OR f_unaccent("admin1Name") %>> f_unaccent($1) OR f_unaccent("alternateNames") %>> f_unaccent($1)
           ORDER BY coalesce(f_unaccent(name) <->>> f_unaccent($1), 0.1) + coalesce(f_unaccent("admin2Name") <->>> f_unaccent($1), 0.1)
                  + coalesce(f_unaccent("admin1Name") <->>> f_unaccent($1), 0.1) + coalesce(f_unaccent("alternateNames") <->>> f_unaccent($1), 0.1)
           LIMIT 20"#,
        name
    )
    .fetch_all(pool)
    .await?)
}

/// One outer ring of a country's borders, as `(longitude, latitude)` points.
#[derive(Debug, Clone)]
pub struct CountryRow {
    pub admin: String,
    /// ISO 3166-1 alpha-3.
    pub admin_a3: String,
    pub kind: String,
    pub ring: Vec<(f64, f64)>,
}

/// The alpha-3 code of the country whose borders hold a position.
pub async fn country_at(pool: &PgPool, latitude: f64, longitude: f64) -> Result<Option<String>> {
    Ok(sqlx::query_scalar!(
        "SELECT admin_a3 FROM naturalearth_countries WHERE coordinates @> point($1, $2) LIMIT 1",
        longitude,
        latitude
    )
    .fetch_optional(pool)
    .await?)
}

/// Replaces every country's borders with `rows`, in one transaction.
pub async fn replace_countries(pool: &PgPool, rows: &[CountryRow]) -> Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query!("DELETE FROM naturalearth_countries")
        .execute(&mut *tx)
        .await?;
    for row in rows {
        let polygon = format!(
            "({})",
            row.ring
                .iter()
                .map(|(x, y)| format!("({x},{y})"))
                .collect::<Vec<_>>()
                .join(",")
        );
        sqlx::query!(
            "INSERT INTO naturalearth_countries (admin, admin_a3, type, coordinates) VALUES ($1, $2, $3, $4::text::polygon)",
            row.admin.chars().take(50).collect::<String>(),
            row.admin_a3.chars().take(3).collect::<String>(),
            row.kind.chars().take(50).collect::<String>(),
            polygon
        )
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Rows sent to PostgreSQL per COPY message.
const COPY_BATCH: usize = 2_000;

/// Replaces every place with `rows`, in one transaction: readers see the old places until the
/// new ones are all in. Returns how many were imported.
pub async fn replace_all(pool: &PgPool, rows: impl Iterator<Item = PlaceRow> + Send) -> Result<u64> {
    let mut tx = pool.begin().await?;
    sqlx::query!("DELETE FROM geodata_places").execute(&mut *tx).await?;
    let mut copy = tx
        .copy_in_raw(
            r#"COPY geodata_places (id, name, latitude, longitude, "countryCode", "admin1Code", "admin2Code",
                 "modificationDate", "admin1Name", "admin2Name", "alternateNames") FROM STDIN"#,
        )
        .await?;
    let mut buffer = String::new();
    let mut in_buffer = 0;
    for row in rows {
        write_copy_line(&mut buffer, &row);
        in_buffer += 1;
        if in_buffer == COPY_BATCH {
            copy.send(std::mem::take(&mut buffer).into_bytes()).await?;
            in_buffer = 0;
        }
    }
    if !buffer.is_empty() {
        copy.send(buffer.into_bytes()).await?;
    }
    let imported = copy.finish().await?;
    tx.commit().await?;
    // Fresh rows have no statistics; without them the planner scans instead of using the
    // trigram and distance indexes.
    sqlx::query!("ANALYZE geodata_places").execute(pool).await?;
    Ok(imported)
}

/// One line of COPY's text format.
fn write_copy_line(out: &mut String, row: &PlaceRow) {
    let fields = [
        Some(row.id.to_string()),
        Some(row.name.clone()),
        Some(row.latitude.to_string()),
        Some(row.longitude.to_string()),
        Some(row.country_code.clone()),
        row.admin1_code.clone(),
        row.admin2_code.clone(),
        Some(row.modification_date.to_string()),
        row.admin1_name.clone(),
        row.admin2_name.clone(),
        row.alternate_names.clone(),
    ];
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push('\t');
        }
        match field {
            None => out.push_str("\\N"),
            Some(text) => {
                for c in text.chars() {
                    match c {
                        '\\' => out.push_str("\\\\"),
                        '\t' => out.push_str("\\t"),
                        '\n' => out.push_str("\\n"),
                        '\r' => out.push_str("\\r"),
                        c => out.push(c),
                    }
                }
            }
        }
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_lines_escape_what_copy_treats_as_structure() {
        let row = PlaceRow {
            id: 7,
            name: "Tab\there\\".into(),
            latitude: 1.5,
            longitude: -2.25,
            country_code: "DE".into(),
            admin1_code: None,
            admin2_code: Some("x".into()),
            modification_date: NaiveDate::from_ymd_opt(2024, 1, 2).unwrap(),
            admin1_name: Some("Line\nbreak".into()),
            admin2_name: None,
            alternate_names: None,
        };
        let mut line = String::new();
        write_copy_line(&mut line, &row);
        assert_eq!(
            line,
            "7\tTab\\there\\\\\t1.5\t-2.25\tDE\t\\N\tx\t2024-01-02\tLine\\nbreak\t\\N\t\\N\n"
        );
    }
}
