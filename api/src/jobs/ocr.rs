//! The OCR queue: the lines of text machine learning reads on each preview, into `asset_ocr`
//! (shown over the photo) and `ocr_search` (what the text search matches).

use darkroom_storage::ocr::{self, ReadText};
use uuid::Uuid;

use super::handlers::{JobError, preview_to_analyse, system_config};
use crate::machine_learning::is_ocr_enabled;
use crate::state::AppState;

#[tracing::instrument(skip(state), fields(asset = %id))]
pub(super) async fn read_text(state: &AppState, id: Uuid) -> Result<(), JobError> {
    let config = system_config(state).await?;
    let ml = &config.machine_learning;
    if !is_ocr_enabled(ml) {
        return Ok(());
    }
    let Some(preview) = preview_to_analyse(state, id, "read text on").await? else {
        return Ok(());
    };
    let read = state.ml.read_text(ml, &preview).await?;
    let expected = read.text.len();
    if read.boxes.len() != expected * 8 || read.box_scores.len() != expected || read.text_scores.len() != expected {
        return Err(JobError::Fatal(format!(
            "the machine-learning service answered {expected} texts with {} box numbers and {}/{} scores",
            read.boxes.len(),
            read.box_scores.len(),
            read.text_scores.len()
        )));
    }
    let mut search_tokens = Vec::new();
    let lines: Vec<ReadText> = read
        .text
        .into_iter()
        .zip(read.boxes.chunks_exact(8))
        .zip(read.box_scores.into_iter().zip(read.text_scores))
        .map(|((text, corners), (box_score, text_score))| {
            search_tokens.extend(ocr::search_tokens(&text));
            ReadText {
                corners: [
                    (corners[0], corners[1]),
                    (corners[2], corners[3]),
                    (corners[4], corners[5]),
                    (corners[6], corners[7]),
                ],
                box_score,
                text_score,
                text,
            }
        })
        .collect();
    tracing::debug!(lines = lines.len(), "text read");
    ocr::replace(&state.db, id, &lines, &search_tokens.join(" ")).await?;
    Ok(())
}
