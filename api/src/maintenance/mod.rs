//! Maintenance mode, as Immich 3 has it: the admin switches the server into it (or the setup
//! screen does, to restore a backup on an empty server); while it lasts the API answers only
//! the maintenance routes, the workers rest, and a restore can replace the database. Immich
//! restarts into a separate app for this; Darkroom switches in place and tells its other
//! processes through Redis, so nothing has to restart.
//!
//! The state is stored in `system_metadata` under Immich's key and shape, so a server started
//! during maintenance (or after a crash in it) comes back in it.

pub mod token;

use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use darkroom_storage::system_metadata;
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult, Context};
use crate::events::{self, ServerEvent};
use crate::services::database_backups::{self, RestoreStep};
use crate::state::AppState;

const STORAGE_KEY: &str = "maintenance-mode";
/// The cookie that carries the maintenance login.
pub const TOKEN_COOKIE: &str = "immich_maintenance_token";

/// The maintenance token a request's cookie carries.
pub fn token_cookie(headers: &axum::http::HeaderMap) -> Option<&str> {
    crate::auth::cookie(headers, TOKEN_COOKIE)
}
/// Socket.IO rooms of maintenance mode: signed in with the maintenance token, or not.
pub const PRIVATE_ROOM: &str = "maintenance-private";
pub const PUBLIC_ROOM: &str = "maintenance-public";
/// What the public hears of a failure; the details are for the signed-in admin and the logs.
const PUBLIC_ERROR: &str = "Something went wrong, see logs!";
/// PostgreSQL advisory lock held while a maintenance action runs (Immich's number).
const OPERATION_LOCK: i64 = 621;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaintenanceAction {
    Start,
    End,
    SelectDatabaseRestore,
    RestoreDatabase,
}

/// `SetMaintenanceModeDto`: what to do, and for a restore, which backup.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetMaintenanceMode {
    pub action: MaintenanceAction,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_backup_filename: Option<String>,
}

impl SetMaintenanceMode {
    fn just(action: MaintenanceAction) -> Self {
        Self {
            action,
            restore_backup_filename: None,
        }
    }
}

/// The step a running action is at.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    Ready,
    Backup,
    Restore,
    Migrations,
    Rollback,
    Error,
}

impl From<RestoreStep> for Task {
    fn from(step: RestoreStep) -> Self {
        match step {
            RestoreStep::Backup => Self::Backup,
            RestoreStep::Restore => Self::Restore,
            RestoreStep::Migrations => Self::Migrations,
            RestoreStep::Rollback => Self::Rollback,
        }
    }
}

/// `MaintenanceStatusResponseDto`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MaintenanceStatus {
    pub active: bool,
    pub action: MaintenanceAction,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<Task>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl MaintenanceStatus {
    fn of(action: MaintenanceAction) -> Self {
        Self {
            active: action != MaintenanceAction::End,
            action,
            progress: None,
            task: None,
            error: None,
        }
    }

    fn at(action: MaintenanceAction, task: Task, progress: f64) -> Self {
        Self {
            progress: Some(progress),
            task: Some(task),
            ..Self::of(action)
        }
    }

    /// What anyone may see: an error only as the fact that there was one.
    fn public(&self) -> Self {
        let mut status = self.clone();
        if status.error.is_some() {
            status.error = Some(PUBLIC_ERROR.to_owned());
        }
        status
    }
}

/// The stored state, `{"isMaintenanceMode": …, "secret": …, "action": {…}}` as Immich keeps it;
/// the default is "not in maintenance mode".
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredState {
    is_maintenance_mode: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    action: Option<SetMaintenanceMode>,
}

#[derive(Debug, Clone)]
struct Active {
    secret: String,
    status: MaintenanceStatus,
}

/// This process's view of maintenance mode.
pub struct MaintenanceMode {
    active: RwLock<Option<Active>>,
    /// Tells this process's own announcements apart from other processes'.
    instance: Uuid,
    /// A restore runs here now.
    running: AtomicBool,
    /// Status updates: the last one made, and the last one sent out.
    sequence: AtomicU64,
    published: tokio::sync::Mutex<u64>,
}

impl Default for MaintenanceMode {
    fn default() -> Self {
        Self {
            active: RwLock::default(),
            instance: Uuid::new_v4(),
            running: AtomicBool::new(false),
            sequence: AtomicU64::new(0),
            published: tokio::sync::Mutex::new(0),
        }
    }
}

impl MaintenanceMode {
    pub fn is_active(&self) -> bool {
        self.active.read().is_ok_and(|active| active.is_some())
    }

    fn current(&self) -> Option<Active> {
        self.active.read().ok().and_then(|active| active.clone())
    }

    /// Sets the state; says whether the mode (on or off) changed.
    fn replace(&self, next: Option<Active>) -> bool {
        let Ok(mut active) = self.active.write() else {
            return false;
        };
        let switched = active.is_some() != next.is_some();
        *active = next;
        switched
    }

    fn set_status(&self, status: MaintenanceStatus) {
        if let Ok(mut active) = self.active.write()
            && let Some(active) = active.as_mut()
        {
            active.status = status;
        }
    }

    /// The user a maintenance token names, while in maintenance mode.
    pub fn verify(&self, token: &str) -> Option<String> {
        self.current().and_then(|active| token::verify(&active.secret, token))
    }
}

async fn load_stored(state: &AppState) -> ApiResult<StoredState> {
    let stored = system_metadata::get(&state.db, STORAGE_KEY).await?;
    Ok(stored
        .and_then(|value| serde_json::from_value::<StoredState>(value).ok())
        .unwrap_or_default())
}

async fn store(state: &AppState, stored: &StoredState) -> ApiResult<()> {
    let value = serde_json::to_value(stored).context("writing the maintenance state")?;
    system_metadata::set(&state.db, STORAGE_KEY, &value).await?;
    Ok(())
}

/// Reads the stored state into this process; returns the action still to run, if any.
pub async fn load(state: &AppState) -> ApiResult<Option<SetMaintenanceMode>> {
    let stored = load_stored(state).await?;
    let next = match (&stored.is_maintenance_mode, &stored.secret) {
        (true, Some(secret)) => {
            let action = stored.action.as_ref().map_or(MaintenanceAction::Start, |a| a.action);
            let status = state
                .maintenance
                .current()
                .filter(|active| active.secret == *secret)
                .map_or_else(|| MaintenanceStatus::of(action), |active| active.status);
            Some(Active {
                secret: secret.clone(),
                status,
            })
        }
        _ => None,
    };
    let entered = next.is_some();
    if state.maintenance.replace(next) {
        switched_here(state, entered);
    }
    Ok(stored.action.filter(|_| stored.is_maintenance_mode))
}

/// When the API starts: tells the admin where to sign in to maintenance mode if the server is
/// in it, and resumes a restore that was asked for but never began.
pub async fn resume(state: &AppState) -> ApiResult<()> {
    let pending = load(state).await?;
    let Some(active) = state.maintenance.current() else {
        return Ok(());
    };
    let url = login_url(state, &token::sign(&active.secret, "immich-admin")).await?;
    tracing::warn!("Darkroom is in maintenance mode; sign in to it at {url}");
    if let Some(action) = pending.filter(|a| a.action == MaintenanceAction::RestoreDatabase) {
        spawn_action(state, action);
    }
    Ok(())
}

/// `GET /admin/maintenance/status`: the full status for a signed-in maintenance admin, the
/// public one for anyone else, and "not in maintenance" outside it.
pub fn status(state: &AppState, token: Option<&str>) -> MaintenanceStatus {
    match state.maintenance.current() {
        None => MaintenanceStatus::of(MaintenanceAction::End),
        Some(active) if token.is_some_and(|t| token::verify(&active.secret, t).is_some()) => active.status,
        Some(active) => active.status.public(),
    }
}

/// `POST /admin/maintenance/login`: who the token (or cookie) names.
pub fn login(state: &AppState, token: Option<&str>) -> ApiResult<String> {
    if !state.maintenance.is_active() {
        return Err(ApiError::bad_request("Not in maintenance mode"));
    }
    let token = token.ok_or_else(|| ApiError::unauthorized("Missing JWT Token"))?;
    state
        .maintenance
        .verify(token)
        .ok_or_else(|| ApiError::unauthorized("Invalid JWT Token"))
}

/// Enters maintenance mode for `action` on behalf of `username`; returns their login token.
#[tracing::instrument(skip(state))]
pub async fn start(state: &AppState, action: SetMaintenanceMode, username: &str) -> ApiResult<String> {
    let secret = token::new_secret();
    store(
        state,
        &StoredState {
            is_maintenance_mode: true,
            secret: Some(secret.clone()),
            action: Some(action.clone()),
        },
    )
    .await?;
    tracing::info!(action = ?action.action, "entering maintenance mode");
    let switched = state.maintenance.replace(Some(Active {
        secret: secret.clone(),
        status: MaintenanceStatus::of(action.action),
    }));
    announce(state, switched, true).await;
    spawn_action(state, action);
    Ok(token::sign(&secret, username))
}

/// `POST /admin/database-backups/start-restore`: on a server nobody has set up yet, enters
/// maintenance mode to pick a backup to restore.
pub async fn start_restore_flow(state: &AppState) -> ApiResult<String> {
    if darkroom_storage::users::get_admin(&state.db).await?.is_some() {
        return Err(ApiError::bad_request("The server already has an admin"));
    }
    start(
        state,
        SetMaintenanceMode::just(MaintenanceAction::SelectDatabaseRestore),
        "admin",
    )
    .await
}

/// `POST /admin/maintenance` inside maintenance mode: the new action is the status at once,
/// and runs in the background. Nothing else starts while a restore runs: leaving halfway
/// would leave a database half restored.
pub fn set_action(state: &AppState, action: SetMaintenanceMode) {
    if state.maintenance.running.load(Ordering::SeqCst) {
        tracing::warn!(action = ?action.action, "a restore is running; the new action is ignored");
        return;
    }
    publish_status(state, MaintenanceStatus::of(action.action));
    spawn_action(state, action);
}

fn spawn_action(state: &AppState, action: SetMaintenanceMode) {
    let state = state.clone();
    tokio::spawn(async move {
        let result = match action.action {
            MaintenanceAction::Start | MaintenanceAction::SelectDatabaseRestore => Ok(()),
            MaintenanceAction::End => end(&state).await,
            MaintenanceAction::RestoreDatabase => restore(&state, action.restore_backup_filename).await,
        };
        if let Err(error) = result {
            tracing::error!(%error, action = ?action.action, "maintenance action failed");
        }
    });
}

/// Leaves maintenance mode; the API and the workers are back at once.
#[tracing::instrument(skip(state))]
pub async fn end(state: &AppState) -> ApiResult<()> {
    store(state, &StoredState::default()).await?;
    tracing::info!("leaving maintenance mode");
    let switched = state.maintenance.replace(None);
    announce(state, switched, false).await;
    Ok(())
}

/// Restores backup `filename`, reporting each step; leaves maintenance mode when it worked
/// and stays in it with the error when it did not (the database is then as it was).
#[tracing::instrument(skip(state))]
async fn restore(state: &AppState, filename: Option<String>) -> ApiResult<()> {
    let Some(active) = state.maintenance.current() else {
        return Ok(());
    };
    let Some(_lock) = OperationLock::take(state).await? else {
        tracing::warn!("a maintenance action already runs; this restore is not started");
        return Ok(());
    };
    // A crash from here on comes back to plain maintenance mode, not into another restore.
    store(
        state,
        &StoredState {
            is_maintenance_mode: true,
            secret: Some(active.secret.clone()),
            action: Some(SetMaintenanceMode::just(MaintenanceAction::Start)),
        },
    )
    .await?;
    let action = MaintenanceAction::RestoreDatabase;
    publish_status(state, MaintenanceStatus::at(action, Task::Ready, 0.0));
    let restored = match filename.filter(|name| !name.is_empty()) {
        None => Err(ApiError::bad_request(
            "Expected restoreBackupFilename but it's missing!",
        )),
        Some(name) => {
            let report = |step: RestoreStep, progress: f64| {
                publish_status(state, MaintenanceStatus::at(action, step.into(), progress));
            };
            database_backups::restore(state, &name, &report).await
        }
    };
    match restored {
        Ok(()) => end(state).await,
        Err(error) => {
            tracing::error!(%error, "the restore failed");
            publish_status(
                state,
                MaintenanceStatus {
                    task: Some(Task::Error),
                    error: Some(error.to_string()),
                    ..MaintenanceStatus::of(action)
                },
            );
            Ok(())
        }
    }
}

/// Held while a restore runs: in this process, and in PostgreSQL so that two processes never
/// run one each.
struct OperationLock {
    _held: darkroom_storage::database::AdvisoryLock,
    state: AppState,
}

impl OperationLock {
    async fn take(state: &AppState) -> ApiResult<Option<Self>> {
        if state.maintenance.running.swap(true, Ordering::SeqCst) {
            return Ok(None);
        }
        let taken = darkroom_storage::database::try_advisory_lock(&state.db, OPERATION_LOCK).await;
        if !matches!(taken, Ok(Some(_))) {
            state.maintenance.running.store(false, Ordering::SeqCst);
        }
        Ok(taken?.map(|held| Self {
            _held: held,
            state: state.clone(),
        }))
    }
}

impl Drop for OperationLock {
    fn drop(&mut self) {
        self.state.maintenance.running.store(false, Ordering::SeqCst);
    }
}

/// Sets the status here and in every other process, and tells the maintenance page. Updates
/// go out in order: one that lost the race to a newer one is dropped.
fn publish_status(state: &AppState, status: MaintenanceStatus) {
    state.maintenance.set_status(status.clone());
    let sequence = state.maintenance.sequence.fetch_add(1, Ordering::SeqCst) + 1;
    let state = state.clone();
    tokio::spawn(async move {
        let mut published = state.maintenance.published.lock().await;
        if *published >= sequence {
            return;
        }
        *published = sequence;
        let origin = state.maintenance.instance;
        events::to_servers(
            &state,
            ServerEvent::MaintenanceStatus {
                origin,
                status: status.clone(),
            },
        )
        .await;
        let public = serde_json::to_value(status.public()).unwrap_or_default();
        let private = serde_json::to_value(status).unwrap_or_default();
        events::send(&state, PRIVATE_ROOM, "MaintenanceStatusV1", private).await;
        events::send(&state, PUBLIC_ROOM, "MaintenanceStatusV1", public).await;
    });
}

/// Tells every process and client that the mode changed.
async fn announce(state: &AppState, switched: bool, is_maintenance_mode: bool) {
    let origin = state.maintenance.instance;
    events::to_servers(state, ServerEvent::MaintenanceChanged { origin }).await;
    events::broadcast(
        state,
        "AppRestartV1",
        Some(json!({ "isMaintenanceMode": is_maintenance_mode })),
    )
    .await;
    if switched {
        switched_here(state, is_maintenance_mode);
    }
}

/// This process changed mode: its clients of the other mode reconnect (the web app reloads
/// when its socket comes back, as after Immich's restart) and its workers look at the queues
/// again. Clients that already connected in the new mode stay. Leaving, it forgets what it
/// knew of a database that a restore may have replaced.
fn switched_here(state: &AppState, entered: bool) {
    state.job_wake.notify_waiters();
    let state = state.clone();
    tokio::spawn(async move {
        if !entered {
            darkroom_storage::database::renew_idle_connections(&state.db).await;
            state.auth_cache.forget_everything();
        }
        // Time for `AppRestartV1` to reach them first.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let rooms = [PRIVATE_ROOM, PUBLIC_ROOM];
        let of_the_old_mode = if entered {
            state.io.except(rooms)
        } else {
            state.io.within(rooms)
        };
        if let Err(error) = of_the_old_mode.disconnect().await {
            tracing::debug!(%error, "could not close the sockets of the old mode");
        }
    });
}

/// Another process entered, left or progressed in maintenance mode.
pub async fn on_server_event(state: &AppState, event: ServerEvent) {
    match event {
        ServerEvent::MaintenanceChanged { origin } if origin != state.maintenance.instance => {
            if let Err(error) = load(state).await {
                tracing::warn!(%error, "could not read the maintenance state another process set");
            }
        }
        ServerEvent::MaintenanceStatus { origin, status } if origin != state.maintenance.instance => {
            state.maintenance.set_status(status);
        }
        _ => {}
    }
}

/// The link that signs in to maintenance mode with `token`, as Immich logs it.
async fn login_url(state: &AppState, token: &str) -> ApiResult<String> {
    let config = state.system_config.typed(&state.db).await?;
    let domain = match config.server.external_domain.trim_end_matches('/') {
        "" => "https://my.immich.app",
        domain => domain,
    };
    Ok(format!("{domain}/maintenance?token={token}"))
}

/// `darkroom-server enable-maintenance-mode`: enters maintenance mode (or stays in it) and
/// returns a sign-in link, and whether it was on already.
pub async fn enable_from_command_line(state: &AppState) -> ApiResult<(String, bool)> {
    const USERNAME: &str = "cli-admin";
    let stored = load_stored(state).await?;
    if let (true, Some(secret)) = (stored.is_maintenance_mode, &stored.secret) {
        return Ok((login_url(state, &token::sign(secret, USERNAME)).await?, true));
    }
    let token = start(state, SetMaintenanceMode::just(MaintenanceAction::Start), USERNAME).await?;
    Ok((login_url(state, &token).await?, false))
}

/// `darkroom-server disable-maintenance-mode`: whether it was off already.
pub async fn disable_from_command_line(state: &AppState) -> ApiResult<bool> {
    if !load_stored(state).await?.is_maintenance_mode {
        return Ok(true);
    }
    end(state).await?;
    Ok(false)
}

/// What one media folder holds, for the restore screen: whether an install was here before.
#[derive(Debug, Serialize)]
pub struct FolderReport {
    pub folder: &'static str,
    pub readable: bool,
    pub writable: bool,
    pub files: usize,
}

/// `GET /admin/maintenance/detect-install`: per media folder, whether its `.immich` marker
/// reads and writes, and how many entries sit beside it.
pub async fn detect_install(state: &AppState) -> Vec<FolderReport> {
    let mut reports = Vec::new();
    for folder in darkroom_storage::media_layout::StorageFolder::ALL {
        let dir = state.layout.folder(folder);
        let mut files = 0;
        if let Ok(mut entries) = tokio::fs::read_dir(&dir).await {
            while let Ok(Some(entry)) = entries.next_entry().await {
                files += usize::from(entry.file_name() != darkroom_storage::media_layout::MOUNT_MARKER);
            }
        }
        let marker = dir.join(darkroom_storage::media_layout::MOUNT_MARKER);
        let readable = tokio::fs::read(&marker).await.is_ok();
        let stamp = chrono::Utc::now().timestamp_millis().to_string();
        let writable = readable && tokio::fs::write(&marker, stamp).await.is_ok();
        reports.push(FolderReport {
            folder: folder.dir_name(),
            readable,
            writable,
            files,
        });
    }
    reports
}
