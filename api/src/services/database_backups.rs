//! The database backups in `backups/` as the admin manages them (`/admin/database-backups*`):
//! listed, downloaded, deleted, uploaded, and restored into the database.

use std::path::PathBuf;
use std::process::Stdio;

use darkroom_storage::media_layout::StorageFolder;
use futures::{Stream, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::error::{ApiError, ApiResult, Context};
use crate::jobs::backup as dumps;
use crate::state::AppState;

const INVALID_NAME: &str = "Invalid backup name!";

/// A backup file: Immich's `[\d\w-.]+\.sql(\.gz)?` — ASCII letters and digits (JavaScript's
/// `\w`), `_`, `-` and `.` only, so a name never leaves the folder.
pub fn is_valid_name(name: &str) -> bool {
    let stem = name.strip_suffix(".sql.gz").or_else(|| name.strip_suffix(".sql"));
    stem.is_some_and(|stem| {
        !stem.is_empty()
            && name != ".sql"
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
            && !name.starts_with('.')
    })
}

fn folder(state: &AppState) -> PathBuf {
    state.layout.folder(StorageFolder::Backups)
}

/// The path of backup `name`, refused with Immich's message unless the name is valid.
pub fn path_of(state: &AppState, name: &str) -> ApiResult<PathBuf> {
    if !is_valid_name(name) {
        return Err(ApiError::bad_request(INVALID_NAME));
    }
    Ok(folder(state).join(name))
}

#[derive(Debug, Clone)]
pub struct BackupFile {
    pub filename: String,
    pub filesize: u64,
}

/// The backups, newest name first, uploaded ones after the server's own.
pub async fn list(state: &AppState) -> ApiResult<Vec<BackupFile>> {
    let mut found = Vec::new();
    let mut entries = match tokio::fs::read_dir(folder(state)).await {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(found),
        Err(error) => return Err(ApiError::internal_from("reading the backups folder", error)),
    };
    while let Some(entry) = entries.next_entry().await.context("reading the backups folder")? {
        let filename = entry.file_name().to_string_lossy().into_owned();
        if !is_valid_name(&filename) {
            continue;
        }
        let metadata = entry.metadata().await.context("reading a backup's size")?;
        if metadata.is_file() {
            found.push(BackupFile {
                filename,
                filesize: metadata.len(),
            });
        }
    }
    found.sort_by(|a, b| {
        let uploaded = |file: &BackupFile| file.filename.starts_with("uploaded-");
        uploaded(a).cmp(&uploaded(b)).then_with(|| b.filename.cmp(&a.filename))
    });
    Ok(found)
}

/// Deletes every backup named, or none when a name is invalid or names no backup.
pub async fn delete(state: &AppState, names: &[String]) -> ApiResult<()> {
    let mut paths = Vec::with_capacity(names.len());
    for name in names {
        let path = path_of(state, name)?;
        if !tokio::fs::try_exists(&path).await.unwrap_or(false) {
            return Err(ApiError::bad_request(format!("Backup {name} not found")));
        }
        paths.push(path);
    }
    for path in paths {
        tokio::fs::remove_file(&path)
            .await
            .map_err(|error| ApiError::internal_from(format!("deleting {}", path.display()), error))?;
    }
    Ok(())
}

/// Stores an uploaded backup as `uploaded-<name>`; the file appears only once complete.
pub async fn store_upload(
    state: &AppState,
    original_name: &str,
    mut body: impl Stream<Item = Result<bytes::Bytes, ApiError>> + Unpin,
) -> ApiResult<String> {
    let base = original_name.rsplit(['/', '\\']).next().unwrap_or_default();
    if !is_valid_name(base) {
        return Err(ApiError::bad_request(INVALID_NAME));
    }
    let name = format!("uploaded-{base}");
    let target = path_of(state, &name)?;
    tokio::fs::create_dir_all(folder(state))
        .await
        .context("creating the backups folder")?;
    let partial = target.with_file_name(format!(".{name}.{}.part", uuid::Uuid::new_v4().simple()));
    let written = async {
        let mut file = tokio::fs::File::create(&partial)
            .await
            .context("creating the uploaded backup")?;
        while let Some(chunk) = body.next().await {
            file.write_all(&chunk?).await.context("writing the uploaded backup")?;
        }
        file.sync_all().await.context("writing the uploaded backup")?;
        tokio::fs::rename(&partial, &target)
            .await
            .context("storing the uploaded backup")
    }
    .await;
    if written.is_err() {
        let _ = tokio::fs::remove_file(&partial).await;
    }
    written.map(|()| name)
}

/// The steps of a restore, as maintenance mode reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestoreStep {
    Backup,
    Restore,
    Migrations,
    Rollback,
}

/// Replaces the database with backup `name`: a restore point is written first, the schema is
/// emptied and the backup read in one transaction, then migrations bring it to this version.
/// When the result has no admin, the restore point goes back in and the restore fails.
/// `report` hears each step with its progress (0 to 1).
#[tracing::instrument(skip(state, report))]
pub async fn restore(state: &AppState, name: &str, report: &(dyn Fn(RestoreStep, f64) + Sync)) -> ApiResult<()> {
    let path = path_of(state, name)?;
    if !tokio::fs::try_exists(&path).await.unwrap_or(false) {
        return Err(ApiError::bad_request(format!("Backup {name} not found")));
    }
    let (_, major) = dumps::supported_server_version(state).await.map_err(job_failed)?;
    let psql = dumps::pg_tool(major, "psql");
    report(RestoreStep::Backup, 0.05);
    let folder = dumps::write_backup(state, "restore-point-").await.map_err(job_failed)?;
    let restore_point = newest_restore_point(&folder).await?;
    let restored = async {
        load(state, &psql, &path, &|done| report(RestoreStep::Restore, done)).await?;
        report(RestoreStep::Migrations, 0.9);
        finish_restore(state).await
    }
    .await;
    if let Err(error) = restored {
        tracing::error!(%error, "the restore failed; putting the restore point back");
        report(RestoreStep::Rollback, 0.0);
        load(state, &psql, &restore_point, &|done| {
            report(RestoreStep::Rollback, done)
        })
        .await?;
        finish_restore(state).await?;
        return Err(error);
    }
    tracing::info!(backup = name, "database restored");
    Ok(())
}

/// The backup code shared with the job answers in the job's terms.
fn job_failed(error: crate::jobs::JobError) -> ApiError {
    match error {
        crate::jobs::JobError::Retry(reason) | crate::jobs::JobError::Fatal(reason) => ApiError::internal(reason),
    }
}

async fn newest_restore_point(folder: &std::path::Path) -> ApiResult<PathBuf> {
    let mut newest: Option<String> = None;
    let mut entries = tokio::fs::read_dir(folder)
        .await
        .context("reading the backups folder")?;
    while let Some(entry) = entries.next_entry().await.context("reading the backups folder")? {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("restore-point-") && name.ends_with(".sql.gz") && newest.as_ref().is_none_or(|n| name > *n)
        {
            newest = Some(name);
        }
    }
    newest
        .map(|name| folder.join(name))
        .ok_or_else(|| ApiError::internal("the restore point was not written"))
}

/// Feeds a backup (gzipped or not) to psql after emptying the schema, all in one transaction:
/// any error leaves the database as it was. `progress` hears the share of the file read.
async fn load(
    state: &AppState,
    psql: &str,
    backup: &std::path::Path,
    progress: &(dyn Fn(f64) + Sync),
) -> ApiResult<()> {
    let user = state.config.database.username.replace('"', "\"\"");
    // Other processes' connections go (their locks would hold the restore up); this process's
    // pool keeps its own, which hold nothing while the restore runs. Notices (every object the
    // drop takes along) would bury the error a failed restore reports.
    let ours = crate::config::DatabaseConfig::application_name();
    let reset = format!(
        "SET client_min_messages = warning; \
         SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
           WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name <> '{ours}'; \
         DROP SCHEMA public CASCADE; CREATE SCHEMA public; \
         GRANT ALL ON SCHEMA public TO \"{user}\"; GRANT ALL ON SCHEMA public TO public;"
    );
    let file = tokio::fs::File::open(backup)
        .await
        .map_err(|error| ApiError::internal_from(format!("opening {}", backup.display()), error))?;
    let size = file.metadata().await.map_or(0, |m| m.len());
    // The file goes through this process (gzip's input, or else psql's) so its progress shows.
    let mut unzip = None;
    let psql_input = if backup.extension().is_some_and(|e| e == "gz") {
        let mut gzip = tokio::process::Command::new("gzip")
            .arg("-dc")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("running gzip")?;
        let out: Stdio = gzip
            .stdout
            .take()
            .ok_or_else(|| ApiError::internal("reading gzip's output"))?
            .try_into()
            .context("passing gzip's output on")?;
        unzip = Some(gzip);
        out
    } else {
        Stdio::piped()
    };
    let mut psql = dumps::pg_command(state, psql)
        .args([
            "--single-transaction",
            "--set",
            "ON_ERROR_STOP=on",
            "--quiet",
            "--output=/dev/null",
        ])
        .args(["--command", &reset, "--file", "-"])
        .stdin(psql_input)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .context("running psql")?;
    let input = match unzip.as_mut() {
        Some(gzip) => gzip.stdin.take(),
        None => psql.stdin.take(),
    }
    .ok_or_else(|| ApiError::internal("writing to psql"))?;
    let (fed, psql) = tokio::join!(feed(file, input, size, progress), psql.wait_with_output());
    let psql = psql.context("waiting for psql")?;
    if let Some(gzip) = unzip {
        let unzipped = gzip.wait_with_output().await.context("waiting for gzip")?;
        if !unzipped.status.success() {
            let stderr = String::from_utf8_lossy(&unzipped.stderr);
            return Err(ApiError::bad_request(format!(
                "The backup could not be read: {}",
                stderr.trim()
            )));
        }
    }
    if !psql.status.success() {
        let stderr = String::from_utf8_lossy(&psql.stderr);
        return Err(ApiError::bad_request(format!(
            "The backup could not be restored: {}",
            stderr.trim()
        )));
    }
    fed
}

/// Copies the backup into `input`, reporting each further percent read. A reader that stops
/// early (psql failing) ends the copy; its own error says why.
async fn feed(
    mut file: tokio::fs::File,
    mut input: impl tokio::io::AsyncWrite + Unpin,
    size: u64,
    progress: &(dyn Fn(f64) + Sync),
) -> ApiResult<()> {
    let mut buffer = vec![0u8; 256 * 1024];
    let (mut read, mut reported) = (0u64, 0u64);
    loop {
        let count = file.read(&mut buffer).await.context("reading the backup")?;
        if count == 0 {
            break;
        }
        if input.write_all(&buffer[..count]).await.is_err() {
            return Ok(());
        }
        read += count as u64;
        let percent = read * 100 / size.max(1);
        if percent > reported {
            reported = percent;
            progress(read as f64 / size.max(1) as f64);
        }
    }
    let _ = input.shutdown().await;
    Ok(())
}

/// Brings a restored schema to this version and checks it has an admin; forgets what this
/// process remembered of the old database.
async fn finish_restore(state: &AppState) -> ApiResult<()> {
    darkroom_storage::database::renew_idle_connections(&state.db).await;
    darkroom_storage::database::Database::from_pool(state.db.clone())
        .prepare(Some(state.vector_extension))
        .await
        .context("migrating the restored database")?;
    state.auth_cache.forget_everything();
    if darkroom_storage::users::get_admin(&state.db).await?.is_none() {
        return Err(ApiError::bad_request("Server health check failed, no admin exists."));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::is_valid_name;

    #[test]
    fn backup_names_stay_in_their_folder() {
        assert!(is_valid_name("immich-db-backup-20261126T020000-v3.2.2-pg15.19.sql.gz"));
        assert!(is_valid_name("uploaded-mine.sql"));
        for bad in [
            "../etc/passwd.sql",
            "a b.sql.gz",
            "notes.txt",
            ".sql",
            "x.sql.gz.tmp",
            "/abs.sql",
            "été.sql",
        ] {
            assert!(!is_valid_name(bad), "{bad}");
        }
    }
}
