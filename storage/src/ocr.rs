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

/// A line of text read on an asset: its box's corners as fractions of the picture, and scores.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadText {
    pub corners: [(f32, f32); 4],
    pub box_score: f32,
    pub text_score: f32,
    pub text: String,
}

/// Replaces what was read on an asset, and its searchable text, in one transaction; records
/// when it was read.
pub async fn replace(pool: &PgPool, asset: Uuid, lines: &[ReadText], search_text: &str) -> Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query!(r#"DELETE FROM asset_ocr WHERE "assetId" = $1"#, asset)
        .execute(&mut *tx)
        .await?;
    for line in lines {
        let [(x1, y1), (x2, y2), (x3, y3), (x4, y4)] = line.corners;
        sqlx::query!(
            r#"INSERT INTO asset_ocr ("assetId", x1, y1, x2, y2, x3, y3, x4, y4, "boxScore", "textScore", text)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"#,
            asset,
            x1,
            y1,
            x2,
            y2,
            x3,
            y3,
            x4,
            y4,
            line.box_score,
            line.text_score,
            line.text
        )
        .execute(&mut *tx)
        .await?;
    }
    if lines.is_empty() {
        sqlx::query!(r#"DELETE FROM ocr_search WHERE "assetId" = $1"#, asset)
            .execute(&mut *tx)
            .await?;
    } else {
        sqlx::query!(
            r#"INSERT INTO ocr_search ("assetId", text) VALUES ($1, $2)
               ON CONFLICT ("assetId") DO UPDATE SET text = EXCLUDED.text"#,
            asset,
            search_text
        )
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query!(
        r#"INSERT INTO asset_job_status ("assetId", "ocrAt") VALUES ($1, now())
           ON CONFLICT ("assetId") DO UPDATE SET "ocrAt" = EXCLUDED."ocrAt""#,
        asset
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Assets to read text on: all with `force`, else those never read; only assets with a
/// preview, not hidden.
pub async fn needing_ocr(pool: &PgPool, force: bool) -> Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT a.id FROM asset a LEFT JOIN asset_job_status j ON j."assetId" = a.id
           WHERE a."deletedAt" IS NULL AND a.visibility <> 'hidden'
             AND EXISTS (SELECT 1 FROM asset_file f WHERE f."assetId" = a.id AND f.type = 'preview' AND NOT f."isEdited")
             AND ($1 OR j."ocrAt" IS NULL)
           ORDER BY a."createdAt""#,
        force
    )
    .fetch_all(pool)
    .await?)
}

/// Immich's search tokens: words split at spaces and control characters; runs of CJK
/// characters cut into overlapping pairs (a lone one kept), so trigrams match them.
pub fn search_tokens(text: &str) -> Vec<String> {
    fn is_cjk(c: char) -> bool {
        matches!(u32::from(c), 0x4E00..=0x9FFF | 0xAC00..=0xD7AF | 0x3040..=0x309F | 0x30A0..=0x30FF | 0x3400..=0x4DBF)
    }
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if u32::from(chars[i]) <= 32 {
            i += 1;
            continue;
        }
        let start = i;
        if is_cjk(chars[i]) {
            while i < chars.len() && is_cjk(chars[i]) {
                i += 1;
            }
            if i - start == 1 {
                tokens.push(chars[start].to_string());
            } else {
                tokens.extend(chars[start..i].windows(2).map(|pair| pair.iter().collect::<String>()));
            }
        } else {
            while i < chars.len() && u32::from(chars[i]) > 32 && !is_cjk(chars[i]) {
                i += 1;
            }
            tokens.push(chars[start..i].iter().collect());
        }
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_cjk_pairs() {
        assert_eq!(search_tokens("  Exit 12\tPorto "), ["Exit", "12", "Porto"]);
        assert_eq!(search_tokens("東京タワー"), ["東京", "京タ", "タワ", "ワー"]);
        assert_eq!(search_tokens("A東B"), ["A", "東", "B"]);
        assert_eq!(search_tokens("café 서울"), ["café", "서울"]);
        assert!(search_tokens(" \n").is_empty());
    }
}
