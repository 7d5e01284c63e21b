//! `PersonResponseDto`: a person as the people page, faces and assets show them.

use chrono::{DateTime, NaiveDate, Utc};
use darkroom_storage::people::Person;
use serde::Serialize;
use uuid::Uuid;

use super::serialize_iso;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PersonResponseDto {
    id: Uuid,
    name: String,
    birth_date: Option<NaiveDate>,
    thumbnail_path: String,
    is_hidden: bool,
    is_favorite: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    color: Option<String>,
    #[serde(serialize_with = "serialize_iso")]
    updated_at: DateTime<Utc>,
}

impl From<Person> for PersonResponseDto {
    fn from(p: Person) -> Self {
        Self {
            id: p.id,
            name: p.name,
            birth_date: p.birth_date,
            thumbnail_path: p.thumbnail_path,
            is_hidden: p.is_hidden,
            is_favorite: p.is_favorite,
            color: p.color,
            updated_at: p.updated_at,
        }
    }
}
