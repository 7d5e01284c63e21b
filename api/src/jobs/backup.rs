//! `DatabaseBackup`: `pg_dump | gzip --rsyncable` into `backups/` with Immich's file names,
//! keeping the newest `backup.database.keepLastAmount`. A dump is written under a `.tmp` name
//! and renamed when complete, so a half-written backup never looks like a backup.

use std::path::Path;
use std::process::Stdio;

use darkroom_storage::media_layout::StorageFolder;
use tokio::process::Command;

use super::handlers::{JobError, system_config};
use crate::state::AppState;

const PREFIX: &str = "immich-db-backup-";

/// `immich-db-backup-<yyyyMMddTHHmmss>-v<api version>-pg<server version>.sql.gz` (routine
/// backups; uploaded and restore-point files have other prefixes and are never pruned).
fn is_routine_backup(name: &str) -> bool {
    let Some(rest) = name.strip_prefix(PREFIX).and_then(|r| r.strip_suffix(".sql.gz")) else {
        return false;
    };
    let stamp = rest.split('-').next().unwrap_or("");
    let new_style = stamp.len() == 15
        && stamp.as_bytes()[8] == b'T'
        && stamp.chars().filter(char::is_ascii_digit).count() == 14
        && rest.contains("-v")
        && rest.contains("-pg");
    let old_style = !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit());
    new_style || old_style
}

/// When the newest routine backup in `folder` was written; `None` when there is none.
pub async fn last_routine_backup(folder: &Path) -> Option<std::time::SystemTime> {
    let mut newest = None;
    let mut entries = tokio::fs::read_dir(folder).await.ok()?;
    while let Ok(Some(entry)) = entries.next_entry().await {
        if is_routine_backup(&entry.file_name().to_string_lossy())
            && let Ok(written) = entry.metadata().await.and_then(|m| m.modified())
        {
            newest = newest.max(Some(written));
        }
    }
    newest
}

/// A PostgreSQL client program matching the server's major version (Debian keeps one per
/// version).
pub fn pg_tool(major: u32, program: &str) -> String {
    let versioned = format!("/usr/lib/postgresql/{major}/bin/{program}");
    if Path::new(&versioned).exists() {
        versioned
    } else {
        program.into()
    }
}

/// The server's version and major version; only 14 to 18 can be backed up and restored, as in
/// Immich.
pub async fn supported_server_version(state: &AppState) -> Result<(String, u32), JobError> {
    let version = darkroom_storage::maintenance::server_version(&state.db).await?;
    let major: u32 = version.split('.').next().and_then(|m| m.parse().ok()).unwrap_or(0);
    if !(14..19).contains(&major) {
        return Err(JobError::Fatal(format!("Unsupported PostgreSQL version: {version}")));
    }
    Ok((version, major))
}

#[tracing::instrument(skip_all)]
pub async fn database_backup(state: &AppState) -> Result<(), JobError> {
    let folder = write_backup(state, "").await?;
    let keep = system_config(state).await?.backup.database.keep_last_amount.max(1) as usize;
    prune(&folder, keep).await?;
    Ok(())
}

/// Writes `<prefix>immich-db-backup-<stamp>-v<version>-pg<version>.sql.gz` into `backups/`
/// (`restore-point-` before a restore); returns the folder.
pub async fn write_backup(state: &AppState, prefix: &str) -> Result<std::path::PathBuf, JobError> {
    let (version, major) = supported_server_version(state).await?;
    let folder = state.layout.folder(StorageFolder::Backups);
    tokio::fs::create_dir_all(&folder).await?;
    let (major_api, minor_api, patch_api) = crate::version::API_VERSION;
    let stamp = chrono::Local::now().format("%Y%m%dT%H%M%S");
    let name = format!("{prefix}{PREFIX}{stamp}-v{major_api}.{minor_api}.{patch_api}-pg{version}.sql.gz");
    let target = folder.join(&name);
    let partial = folder.join(format!("{name}.tmp"));
    if let Err(error) = dump(state, &pg_tool(major, "pg_dump"), &partial).await {
        let _ = tokio::fs::remove_file(&partial).await;
        tracing::error!(%error, "database backup failed");
        return Err(JobError::Fatal(format!("Database Backup Failure: {error}")));
    }
    tokio::fs::rename(&partial, &target).await?;
    tracing::info!(file = %target.display(), "database backup written");
    Ok(folder)
}

/// The arguments that point a PostgreSQL client program at our database, and the password to
/// give it in its environment.
pub fn connection_args(state: &AppState) -> (Vec<String>, Option<String>) {
    let database = &state.config.database;
    match &database.url {
        Some(url) => (vec![url.expose().to_owned()], None),
        None => (
            vec![
                "--username".into(),
                database.username.clone(),
                "--host".into(),
                database.hostname.clone(),
                "--port".into(),
                database.port.to_string(),
                "--dbname".into(),
                database.database_name.clone(),
            ],
            Some(database.password.expose().to_owned()),
        ),
    }
}

/// A PostgreSQL client command with only `PATH` (and the password) in its environment.
pub fn pg_command(state: &AppState, program: &str) -> Command {
    let (args, password) = connection_args(state);
    let mut command = Command::new(program);
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .args(args);
    if let Some(password) = password {
        command.env("PGPASSWORD", password);
    }
    command
}

async fn dump(state: &AppState, pg_dump: &str, output: &Path) -> Result<(), String> {
    let mut command = pg_command(state, pg_dump);
    command
        .args(["--clean", "--if-exists"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut dumper = command.spawn().map_err(|e| format!("cannot run {pg_dump}: {e}"))?;
    let dumped: Stdio = dumper
        .stdout
        .take()
        .ok_or("pg_dump gave no output")?
        .try_into()
        .map_err(|e| format!("{e}"))?;
    let file = std::fs::File::create(output).map_err(|e| format!("cannot write {}: {e}", output.display()))?;
    let mut gzip = Command::new("gzip")
        .arg("--rsyncable")
        .stdin(dumped)
        .stdout(Stdio::from(file))
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot run gzip: {e}"))?;
    let (dumped, zipped) = tokio::join!(dumper.wait_with_output(), gzip.wait());
    let dumped = dumped.map_err(|e| e.to_string())?;
    if !dumped.status.success() {
        let stderr = String::from_utf8_lossy(&dumped.stderr);
        return Err(format!(
            "pg_dump non-zero exit code ({}): {}",
            dumped.status.code().unwrap_or(-1),
            stderr.trim()
        ));
    }
    match zipped {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(format!("gzip non-zero exit code ({})", status.code().unwrap_or(-1))),
        Err(error) => Err(error.to_string()),
    }
}

/// Keeps the newest `keep` routine backups and removes leftovers of failed runs.
async fn prune(folder: &Path, keep: usize) -> Result<(), JobError> {
    let mut routine = Vec::new();
    let mut entries = tokio::fs::read_dir(folder).await?;
    while let Some(entry) = entries.next_entry().await? {
        let name = entry.file_name().to_string_lossy().to_string();
        if is_routine_backup(&name) {
            routine.push(name);
        } else if name.starts_with(PREFIX) && name.ends_with(".sql.gz.tmp") {
            let _ = tokio::fs::remove_file(entry.path()).await;
        }
    }
    routine.sort_unstable_by(|a, b| b.cmp(a));
    for old in routine.into_iter().skip(keep) {
        tracing::info!(file = old, "removing an old database backup");
        let _ = tokio::fs::remove_file(folder.join(old)).await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::is_routine_backup;

    #[test]
    fn routine_backup_names() {
        assert!(is_routine_backup(
            "immich-db-backup-20261126T020000-v3.2.2-pg15.19.sql.gz"
        ));
        assert!(is_routine_backup("immich-db-backup-1732586400000.sql.gz"));
        assert!(!is_routine_backup(
            "uploaded-immich-db-backup-20261126T020000-v3.2.2-pg15.19.sql.gz"
        ));
        assert!(!is_routine_backup(
            "restore-point-immich-db-backup-20261126T020000-v3.2.2-pg15.19.sql.gz"
        ));
        assert!(!is_routine_backup(
            "immich-db-backup-20261126T020000-v3.2.2-pg15.19.sql.gz.tmp"
        ));
        assert!(!is_routine_backup("notes.txt"));
    }
}
