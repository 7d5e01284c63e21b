//! Assets per UTC day, for the calendar heatmap of the account page.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::Result;

/// Which date of an asset a day counts it by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeatmapDate {
    /// When it was uploaded (`createdAt`).
    Uploaded,
    /// When it was taken, on the local clock (`localDateTime`).
    Taken,
}

/// The owner's live assets counted per day in `[from, to)`, days without any left out. One
/// query per date column (`query!` needs literal SQL; a CASE on the column would lose its index).
pub async fn daily_counts(
    pool: &PgPool,
    owner: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    by: HeatmapDate,
) -> Result<Vec<(NaiveDate, i64)>> {
    let rows = match by {
        HeatmapDate::Uploaded => sqlx::query!(
            r#"SELECT ("createdAt" AT TIME ZONE 'UTC')::date AS "day!", count(*) AS "count!"
               FROM asset WHERE "ownerId" = $1 AND "createdAt" >= $2 AND "createdAt" < $3 AND "deletedAt" IS NULL
               GROUP BY 1 ORDER BY 1"#,
            owner,
            from,
            to
        )
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|row| (row.day, row.count))
        .collect(),
        HeatmapDate::Taken => sqlx::query!(
            r#"SELECT ("localDateTime" AT TIME ZONE 'UTC')::date AS "day!", count(*) AS "count!"
               FROM asset WHERE "ownerId" = $1 AND "localDateTime" >= $2 AND "localDateTime" < $3 AND "deletedAt" IS NULL
               GROUP BY 1 ORDER BY 1"#,
            owner,
            from,
            to
        )
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|row| (row.day, row.count))
        .collect(),
    };
    Ok(rows)
}
