//! Faces: detection (each preview through the machine-learning service's face models into
//! `asset_face` + `face_search`), recognition (Immich's incremental clustering of faces into
//! people), and people's thumbnails (their cover face cut from its preview).

use std::collections::HashSet;

use darkroom_media::decode::{DecodeLimits, decode_still};
use darkroom_media::face_crop::{FaceBox, person_thumbnail as cut_face};
use darkroom_storage::face_recognition::{self as storage, DetectedFace, FaceQuery, KnownFace};
use darkroom_storage::{faces, system_metadata};
use serde_json::json;
use uuid::Uuid;

use super::handlers::{JobError, media_path, preview_to_analyse, system_config, write_atomically};
use super::thumbnails::sharded_thumbnail_path;
use super::{FaceJob, Job, PersonJob, Queue, RecognitionRun, enqueue};
use crate::machine_learning::BoundingBox;
use crate::machine_learning::is_face_recognition_enabled;
use crate::state::AppState;

/// Where the last recognition run is remembered (Immich's key).
const RECOGNITION_STATE: &str = "facial-recognition-state";

/// A person's thumbnail side, as Immich makes them.
const PERSON_THUMBNAIL_SIZE: u32 = 250;

/// Intersection over union of a stored face and a detected box (in the stored face's scale).
fn overlap(face: &KnownFace, found: &BoundingBox) -> f64 {
    let (fx1, fy1, fx2, fy2) = (
        f64::from(face.x1),
        f64::from(face.y1),
        f64::from(face.x2),
        f64::from(face.y2),
    );
    let width = (fx2.min(found.x2) - fx1.max(found.x1)).max(0.0);
    let height = (fy2.min(found.y2) - fy1.max(found.y1)).max(0.0);
    let intersection = width * height;
    let union = (fx2 - fx1) * (fy2 - fy1) + (found.x2 - found.x1) * (found.y2 - found.y1) - intersection;
    if union > 0.0 { intersection / union } else { 0.0 }
}

#[tracing::instrument(skip(state), fields(asset = %id))]
pub(super) async fn detect_faces(state: &AppState, id: Uuid) -> Result<(), JobError> {
    let config = system_config(state).await?;
    let ml = &config.machine_learning;
    if !is_face_recognition_enabled(ml) {
        return Ok(());
    }
    let Some(preview) = preview_to_analyse(state, id, "look for faces on").await? else {
        return Ok(());
    };
    let found = state.ml.detect_faces(ml, &preview).await?;
    let known = storage::known_faces(&state.db, id).await?;
    // Faces machine learning found before and no longer finds go.
    let mut not_found_again: HashSet<Uuid> = known.iter().filter(|f| f.from_machine_learning).map(|f| f.id).collect();
    // Stored boxes may be on a preview of another size: detected boxes are brought to their scale.
    let (scale_x, scale_y) = known.first().map_or((1.0, 1.0), |face| {
        (
            f64::from(face.image_width.max(1)) / f64::from(found.image_width.max(1)),
            f64::from(face.image_height.max(1)) / f64::from(found.image_height.max(1)),
        )
    });
    let mut added = Vec::new();
    let mut embeddings = Vec::new();
    for face in found.faces {
        let b = face.bounding_box;
        let scaled = BoundingBox {
            x1: b.x1 * scale_x,
            y1: b.y1 * scale_y,
            x2: b.x2 * scale_x,
            y2: b.y2 * scale_y,
        };
        match known.iter().find(|stored| overlap(stored, &scaled) > 0.5) {
            // Found again: kept as it is.
            Some(stored) if not_found_again.remove(&stored.id) => {}
            // A face drawn by hand or read from metadata gets the embedding it lacked.
            Some(stored) => embeddings.push((stored.id, face.embedding)),
            None => {
                let face_id = Uuid::new_v4();
                added.push(DetectedFace {
                    id: face_id,
                    image_width: found.image_width as i32,
                    image_height: found.image_height as i32,
                    x1: b.x1.round() as i32,
                    y1: b.y1.round() as i32,
                    x2: b.x2.round() as i32,
                    y2: b.y2.round() as i32,
                });
                embeddings.push((face_id, face.embedding));
            }
        }
    }
    let removed: Vec<Uuid> = not_found_again.into_iter().collect();
    storage::refresh_faces(&state.db, id, &added, &removed, &embeddings).await?;
    if !added.is_empty() {
        tracing::info!(count = added.len(), "detected new faces");
        let run = Job::FacialRecognitionQueueAll(RecognitionRun {
            force: false,
            nightly: false,
        });
        let recognise = added.iter().map(|face| {
            Job::FacialRecognition(FaceJob {
                id: face.id,
                deferred: false,
            })
        });
        enqueue(state, std::iter::once(run).chain(recognise)).await;
    }
    Ok(())
}

/// How many of the nearest faces recognition reads at once, and then, when all of them are
/// within reach and nobody's, how many more.
const NEIGHBOURHOOD: i64 = 64;
const WIDER_NEIGHBOURHOOD: i64 = 256;

/// Immich's incremental clustering: a face with at least `minFaces` look-alikes within
/// `maxDistance` (itself included) on the timeline is a core face and joins their person or
/// founds one; others wait (deferred) and then join the nearest face that has a person.
#[tracing::instrument(skip(state), fields(face = %job.id, deferred = job.deferred))]
pub(super) async fn recognise_face(state: &AppState, job: FaceJob) -> Result<(), JobError> {
    let config = system_config(state).await?;
    let ml = &config.machine_learning;
    if !is_face_recognition_enabled(ml) {
        return Ok(());
    }
    let Some(face) = storage::recognition_subject(&state.db, job.id).await? else {
        return Ok(()); // deleted meanwhile
    };
    if !face.from_machine_learning || face.person_id.is_some() {
        return Ok(());
    }
    let embedding = face
        .embedding
        .ok_or_else(|| JobError::Fatal("the face has no embedding".to_owned()))?;
    let settings = &ml.facial_recognition;
    let min_faces = settings.min_faces.max(1);
    // One search answers both of Immich's questions: whether the face is a core face (it has
    // `minFaces` look-alikes within reach) and the nearest face within reach that is someone's.
    // A page that is not full has seen every face within reach; only a full one leaves a person
    // to look for further away, as Immich's second search does.
    let neighbourhood = min_faces.max(NEIGHBOURHOOD);
    let mut query = FaceQuery {
        owner: face.owner_id,
        embedding: &embedding,
        max_distance: settings.max_distance.as_f64().unwrap_or(0.5),
        limit: neighbourhood,
        with_person: false,
        taken_on: face.file_created_at.date_naive(),
    };
    let matches = storage::near_faces(&state.db, &query).await?;
    if min_faces > 1 && matches.len() <= 1 {
        return Ok(()); // only itself
    }
    let is_core = matches.len() as i64 >= min_faces && face.on_timeline;
    if !is_core && !job.deferred {
        let again = FaceJob {
            id: job.id,
            deferred: true,
        };
        enqueue(state, [Job::FacialRecognition(again)]).await;
        return Ok(());
    }
    let mut person = matches.iter().find_map(|near| near.person_id);
    let mut full = matches.len() as i64 >= neighbourhood;
    if person.is_none() && full {
        query.limit = WIDER_NEIGHBOURHOOD;
        let wider = storage::near_faces(&state.db, &query).await?;
        person = wider.iter().find_map(|near| near.person_id);
        full = wider.len() as i64 >= WIDER_NEIGHBOURHOOD;
    }
    if person.is_none() && full {
        // Only here is a filtered search worth its cost: its plan grows with everyone's faces.
        query.limit = 1;
        query.with_person = true;
        person = storage::near_faces(&state.db, &query)
            .await?
            .first()
            .and_then(|near| near.person_id);
    }
    match person {
        Some(person) => faces::reassign(&state.db, job.id, person).await?,
        None if is_core => {
            let person = storage::create_person_from(&state.db, face.owner_id, job.id).await?;
            tracing::info!(%person, "a new person");
            enqueue(state, [Job::PersonGenerateThumbnail(PersonJob { id: person })]).await;
        }
        None => {}
    }
    Ok(())
}

/// Queues recognition of the faces that are nobody's (all of them, people made anew, with
/// `force`). A nightly run without new faces since the last does nothing; a run while faces
/// wait in the queue leaves them to it.
#[tracing::instrument(skip(state))]
pub(super) async fn queue_recognition(state: &AppState, run: RecognitionRun) -> Result<(), JobError> {
    let config = system_config(state).await?;
    if !is_face_recognition_enabled(&config.machine_learning) {
        return Ok(());
    }
    if run.nightly {
        let last_run = system_metadata::get(&state.db, RECOGNITION_STATE)
            .await?
            .and_then(|state| state["lastRun"].as_str().map(str::to_owned))
            .and_then(|text| chrono::DateTime::parse_from_rfc3339(&text).ok());
        let latest = storage::latest_face_added(&state.db).await?;
        if let (Some(last_run), Some(latest)) = (last_run, latest)
            && last_run > latest
        {
            return Ok(());
        }
    }
    if run.force {
        let thumbnails = storage::unassign_detected_faces(&state.db).await?;
        remove_thumbnails(state, thumbnails).await;
    } else {
        let waiting = state
            .jobs
            .counts(Queue::FacialRecognition.as_str())
            .await
            .map_err(|error| JobError::Retry(error.to_string()))?
            .waiting;
        if waiting > 0 {
            return Ok(());
        }
    }
    let started = chrono::Utc::now();
    let faces = storage::faces_to_recognise(&state.db, run.force).await?;
    for chunk in faces.chunks(1000) {
        let jobs = chunk
            .iter()
            .map(|&id| Job::FacialRecognition(FaceJob { id, deferred: false }));
        enqueue(state, jobs).await;
    }
    system_metadata::set(
        &state.db,
        RECOGNITION_STATE,
        &json!({ "lastRun": started.to_rfc3339() }),
    )
    .await?;
    Ok(())
}

#[tracing::instrument(skip(state), fields(person = %id))]
pub(super) async fn person_thumbnail(state: &AppState, id: Uuid) -> Result<(), JobError> {
    let Some(source) = storage::thumbnail_source(&state.db, id).await? else {
        return Ok(()); // gone, or no cover face with a preview
    };
    let preview = media_path(state, &source.preview_path)?;
    let face = FaceBox {
        image_width: source.image_width.max(1) as u32,
        image_height: source.image_height.max(1) as u32,
        x1: f64::from(source.x1),
        y1: f64::from(source.y1),
        x2: f64::from(source.x2),
        y2: f64::from(source.y2),
    };
    let quality = system_config(state).await?.image.thumbnail.quality.clamp(1, 100) as u8;
    let limits = DecodeLimits {
        max_pixels: state.config.max_image_pixels,
        tool_timeout: state.config.media_tool_timeout,
        shorter_side_at_least: None,
    };
    let jpeg = tokio::task::spawn_blocking(move || {
        let picture = decode_still(&preview, limits).map_err(|error| JobError::Fatal(error.to_string()))?;
        cut_face(&picture.image.to_rgb8(), face, PERSON_THUMBNAIL_SIZE, quality)
            .map_err(|error| JobError::Fatal(error.to_string()))
    })
    .await
    .map_err(|error| JobError::Fatal(format!("cutting the face stopped: {error}")))??;
    // `thumbs/<owner>/<id[0:2]>/<id[2:4]>/<id>.jpeg`, as Immich files people's thumbnails.
    let path = sharded_thumbnail_path(state, source.owner_id, id, &format!("{id}.jpeg"));
    write_atomically(&path, &jpeg).await?;
    storage::set_thumbnail(&state.db, id, &path.to_string_lossy()).await?;
    crate::events::send(state, source.owner_id, "on_person_thumbnail", json!(id)).await;
    Ok(())
}

/// Removes the files of people who are gone (a missing file is no matter).
pub(super) async fn remove_thumbnails(state: &AppState, paths: Vec<String>) {
    for path in paths.into_iter().filter(|path| !path.is_empty()) {
        if let Ok(path) = media_path(state, &path) {
            let _ = tokio::fs::remove_file(path).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlap_is_intersection_over_union() {
        let stored = KnownFace {
            id: Uuid::nil(),
            image_width: 100,
            image_height: 100,
            x1: 0,
            y1: 0,
            x2: 10,
            y2: 10,
            from_machine_learning: true,
        };
        let same = BoundingBox {
            x1: 0.0,
            y1: 0.0,
            x2: 10.0,
            y2: 10.0,
        };
        assert!((overlap(&stored, &same) - 1.0).abs() < 1e-9);
        let half = BoundingBox {
            x1: 5.0,
            y1: 0.0,
            x2: 15.0,
            y2: 10.0,
        };
        // 50 shared of 150 covered.
        assert!((overlap(&stored, &half) - 1.0 / 3.0).abs() < 1e-9);
        let apart = BoundingBox {
            x1: 20.0,
            y1: 20.0,
            x2: 30.0,
            y2: 30.0,
        };
        assert_eq!(overlap(&stored, &apart), 0.0);
    }
}
