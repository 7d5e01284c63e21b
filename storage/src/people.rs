//! People (`person`): named by their owner, found by name.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::Result;

#[derive(Debug, Clone)]
pub struct Person {
    pub id: Uuid,
    pub name: String,
    pub birth_date: Option<NaiveDate>,
    pub thumbnail_path: String,
    pub is_hidden: bool,
    pub is_favorite: bool,
    pub color: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// Up to 100 of `owner`'s people whose name has a word like `name` (accents ignored), the
/// closest first; hidden people only when asked for.
pub async fn search_by_name(pool: &PgPool, owner: Uuid, name: &str, with_hidden: bool) -> Result<Vec<Person>> {
    let mut tx = pool.begin().await?;
    // Immich's threshold: half the trigrams of a word must match.
    sqlx::query_scalar!("SELECT set_config('pg_trgm.word_similarity_threshold', '0.5', true)").fetch_one(&mut *tx).await?;
    let people = sqlx::query_as!(
        Person,
        r#"SELECT id, name, "birthDate" AS birth_date, "thumbnailPath" AS thumbnail_path, "isHidden" AS is_hidden,
                  "isFavorite" AS is_favorite, color, "updatedAt" AS updated_at
           FROM person
           WHERE "ownerId" = $1 AND f_unaccent(name) %> f_unaccent($2) AND ($3 OR NOT "isHidden")
           ORDER BY f_unaccent(name) <->>> f_unaccent($2)
           LIMIT 100"#,
        owner,
        name,
        with_hidden
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(people)
}
