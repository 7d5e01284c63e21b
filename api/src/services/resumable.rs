//! Resumable uploads, whatever the protocol (tus 1.0 or the IETF draft): a row per upload, its
//! bytes in `upload/.darkroom-resumable/<id>.part` (the file's length is the offset), one writer
//! at a time, and on completion the same path as `POST /assets`.

use std::path::PathBuf;

use bytes::Bytes;
use chrono::{Duration, Utc};
use darkroom_storage::resumable::{self, NewResumableUpload, ResumableUpload};
use futures::{Stream, StreamExt};
use sha1::{Digest, Sha1};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use uuid::Uuid;

use crate::auth::AuthContext;
use crate::dto::ids::UploadId;
use crate::error::{ApiError, ApiResult};
use crate::services::incoming::IncomingFile;
use crate::services::uploads::{self, NamedFile, UploadFields, UploadResult};
use crate::state::AppState;

/// How long an unfinished upload is kept (the draft's `max-age`, Immich's 72 hours).
pub const MAX_AGE_HOURS: i64 = 72;

pub fn part_path(state: &AppState, id: Uuid) -> PathBuf {
    state.layout.resumable_dir().join(format!("{id}.part"))
}

/// Holds the right to write an upload; released when dropped.
pub struct Writer<'a> {
    state: &'a AppState,
    id: Uuid,
}

impl Drop for Writer<'_> {
    fn drop(&mut self) {
        if let Ok(mut busy) = self.state.busy_uploads.lock() {
            busy.remove(&self.id);
        }
    }
}

fn claim(state: &AppState, id: Uuid) -> ApiResult<Writer<'_>> {
    let mut busy = state
        .busy_uploads
        .lock()
        .map_err(|_| ApiError::internal("upload lock poisoned"))?;
    if !busy.insert(id) {
        return Err(ApiError::Locked);
    }
    Ok(Writer { state, id })
}

pub struct NewUpload<'a> {
    pub protocol: &'static str,
    pub length: Option<u64>,
    pub fields: UploadFields,
    pub raw_metadata: Option<&'a str>,
    pub checksum: Option<[u8; 20]>,
}

/// Opens an upload after checking its fields and quota; nothing is written yet.
pub async fn start(state: &AppState, auth: &AuthContext, upload: NewUpload<'_>) -> ApiResult<ResumableUpload> {
    uploads::check_fields(&upload.fields)?;
    if upload.length == Some(0) {
        return Err(ApiError::bad_request("Field(s) assetData should not be empty"));
    }
    let length = upload
        .length
        .map(i64::try_from)
        .transpose()
        .map_err(|_| ApiError::bad_request("Upload-Length is too large"))?;
    if let Some(length) = length {
        uploads::check_quota(auth, length)?;
    }
    let new = NewResumableUpload {
        owner_id: auth.user.id,
        protocol: upload.protocol,
        upload_length: length,
        fields: &upload.fields,
        raw_metadata: upload.raw_metadata,
        checksum: upload.checksum.as_ref().map(|c| c.as_slice()),
        expires_at: Utc::now() + Duration::hours(MAX_AGE_HOURS),
    };
    let id = resumable::create(&state.db, &new).await?;
    tokio::fs::create_dir_all(state.layout.resumable_dir()).await?;
    if let Err(error) = tokio::fs::File::create(part_path(state, id)).await {
        resumable::delete(&state.db, id).await?;
        return Err(error.into());
    }
    find(state, auth, id.into()).await
}

/// The caller's upload `id`: 404 when unknown, 410 (and removed) once expired.
pub async fn find(state: &AppState, auth: &AuthContext, id: UploadId) -> ApiResult<ResumableUpload> {
    let upload = resumable::get(&state.db, id.0, auth.user.id)
        .await?
        .ok_or_else(|| ApiError::not_found("Upload not found"))?;
    if upload.expires_at < Utc::now() {
        discard(state, id).await?;
        return Err(ApiError::Gone("Upload has expired".into()));
    }
    Ok(upload)
}

/// Bytes stored so far.
pub async fn offset(state: &AppState, upload: &ResumableUpload) -> ApiResult<u64> {
    if upload.asset.is_some() {
        return Ok(upload.upload_length.unwrap_or(0) as u64);
    }
    match tokio::fs::metadata(part_path(state, upload.id)).await {
        Ok(metadata) => Ok(metadata.len()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(0),
        Err(error) => Err(error.into()),
    }
}

/// Appends `body` at `provided_offset`. The offset must be the upload's; bytes beyond the
/// declared length, or a chunk whose SHA-1 differs from `chunk_sha1`, are taken back so the
/// offset does not move. Returns the new offset.
pub async fn append<S, E>(
    state: &AppState,
    upload: &ResumableUpload,
    provided_offset: u64,
    mut body: S,
    chunk_sha1: Option<[u8; 20]>,
) -> ApiResult<u64>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let _writer = claim(state, upload.id)?;
    if upload.asset.is_some() {
        let expected = offset(state, upload).await?;
        return if provided_offset == expected {
            Ok(expected)
        } else {
            Err(ApiError::OffsetMismatch {
                expected,
                provided: provided_offset,
            })
        };
    }
    let path = part_path(state, upload.id);
    let start = offset(state, upload).await?;
    if provided_offset != start {
        return Err(ApiError::OffsetMismatch {
            expected: start,
            provided: provided_offset,
        });
    }
    let mut file = tokio::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(&path)
        .await?;
    let mut hasher = Sha1::new();
    let mut written = 0u64;
    let limit = upload.upload_length.map(|l| l as u64);
    let outcome: ApiResult<()> = async {
        while let Some(chunk) = body.next().await {
            // A client that goes away keeps what arrived: that is what it resumes from.
            let chunk = match chunk {
                Ok(chunk) => chunk,
                Err(error) => {
                    tracing::info!(upload = %upload.id, %error, "upload request ended early");
                    break;
                }
            };
            if limit.is_some_and(|limit| start + written + chunk.len() as u64 > limit) {
                return Err(ApiError::PayloadTooLarge);
            }
            hasher.update(&chunk);
            file.write_all(&chunk).await?;
            written += chunk.len() as u64;
        }
        if let Some(expected) = chunk_sha1
            && <[u8; 20]>::from(hasher.finalize()) != expected
        {
            return Err(ApiError::ChecksumMismatch(
                "Checksum of the uploaded data does not match Upload-Checksum".into(),
            ));
        }
        Ok(())
    }
    .await;
    match outcome {
        Ok(()) => {
            file.sync_all().await?;
            Ok(start + written)
        }
        Err(error) => {
            // Refused bytes never count: back to where this request began.
            file.set_len(start).await?;
            file.sync_all().await?;
            Err(error)
        }
    }
}

async fn sha1_of(path: &std::path::Path) -> ApiResult<[u8; 20]> {
    let mut file = tokio::fs::File::open(path).await?;
    let mut hasher = Sha1::new();
    let mut buffer = vec![0u8; 256 * 1024];
    loop {
        let n = file.read(&mut buffer).await?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hasher.finalize().into())
}

/// Turns a fully received upload into an asset, as `POST /assets` would; the answer is kept
/// on the upload so that asking again returns it.
pub async fn complete(state: &AppState, auth: &AuthContext, upload: &ResumableUpload) -> ApiResult<UploadResult> {
    if let Some((id, status)) = &upload.asset {
        return Ok(if status == "created" {
            UploadResult::Created(*id)
        } else {
            UploadResult::Duplicate(*id)
        });
    }
    let _writer = claim(state, upload.id)?;
    let path = part_path(state, upload.id);
    let size = offset(state, upload).await?;
    if upload.upload_length.is_some_and(|length| length as u64 != size) {
        return Err(ApiError::bad_request(format!(
            "Upload is incomplete: {size} of {} bytes received",
            upload.upload_length.unwrap_or(0)
        )));
    }
    let sha1 = sha1_of(&path).await?;
    if upload.checksum.as_deref().is_some_and(|expected| expected != sha1) {
        discard(state, upload.id.into()).await?;
        return Err(ApiError::ChecksumMismatch(
            "File on server does not match provided checksum".into(),
        ));
    }
    let name = upload.fields.get("filename").cloned().unwrap_or_default();
    let file = NamedFile {
        file: IncomingFile::adopt(path, size, sha1),
        name,
    };
    let result = uploads::create_asset(state, auth, &upload.fields, Some(file), None).await;
    match result {
        Ok(result) => {
            let (id, status) = match result {
                UploadResult::Created(id) => (id, "created"),
                UploadResult::Duplicate(id) => (id, "duplicate"),
            };
            resumable::complete(&state.db, upload.id, size as i64, id, status).await?;
            Ok(result)
        }
        Err(error) => {
            // The bytes are gone with the refused asset; so is the upload.
            resumable::delete(&state.db, upload.id).await?;
            Err(error)
        }
    }
}

/// Forgets an upload and its bytes.
pub async fn discard(state: &AppState, id: UploadId) -> ApiResult<()> {
    resumable::delete(&state.db, id.0).await?;
    match tokio::fs::remove_file(part_path(state, id.0)).await {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(error.into()),
    }
}

/// Removes expired uploads, and files no upload row knows; returns how many uploads went.
pub async fn sweep(state: &AppState) -> ApiResult<usize> {
    let expired = resumable::delete_expired(&state.db).await?;
    for id in &expired {
        let _ = tokio::fs::remove_file(part_path(state, *id)).await;
    }
    let known: std::collections::HashSet<Uuid> = resumable::all_ids(&state.db).await?.into_iter().collect();
    if let Ok(mut entries) = tokio::fs::read_dir(state.layout.resumable_dir()).await {
        while let Ok(Some(entry)) = entries.next_entry().await {
            let name = entry.file_name();
            let id = name
                .to_str()
                .and_then(|n| n.strip_suffix(".part"))
                .and_then(|n| Uuid::parse_str(n).ok());
            if id.is_none_or(|id| !known.contains(&id)) {
                let _ = tokio::fs::remove_file(entry.path()).await;
            }
        }
    }
    Ok(expired.len())
}
