//! Text recognised in assets (`asset_ocr`): four corners per box as fractions of the picture.

use sqlx::PgPool;
use uuid::Uuid;

use crate::Result;

#[derive(Debug, Clone)]
pub struct OcrBox {
    pub id: Uuid,
    pub asset_id: Uuid,
    /// Corners 1–4 as (x, y).
    pub corners: [(f64, f64); 4],
    pub box_score: f64,
    pub text_score: f64,
    pub text: String,
}

/// The asset's visible text boxes. The `real` columns go through their shortest text form, so
/// 0.1 reads as 0.1 and not as the nearest double of a float.
pub async fn for_asset(pool: &PgPool, asset: Uuid) -> Result<Vec<OcrBox>> {
    let rows = sqlx::query!(
        r#"SELECT id, "assetId" AS asset_id, x1::text::float8 AS "x1!", y1::text::float8 AS "y1!", x2::text::float8 AS "x2!",
                  y2::text::float8 AS "y2!", x3::text::float8 AS "x3!", y3::text::float8 AS "y3!", x4::text::float8 AS "x4!",
                  y4::text::float8 AS "y4!", "boxScore"::text::float8 AS "box_score!", "textScore"::text::float8 AS "text_score!", text
           FROM asset_ocr WHERE "assetId" = $1 AND "isVisible" IS TRUE"#,
        asset
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| OcrBox {
            id: r.id,
            asset_id: r.asset_id,
            corners: [(r.x1, r.y1), (r.x2, r.y2), (r.x3, r.y3), (r.x4, r.y4)],
            box_score: r.box_score,
            text_score: r.text_score,
            text: r.text,
        })
        .collect())
}
