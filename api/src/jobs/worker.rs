//! The workers: per queue, as many jobs at once as its configured concurrency (re-read while
//! running), jobs of dead workers taken over, retries with backoff, heartbeats for long jobs.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use darkroom_storage::queue::{Job as StoredJob, Wanted};
use tokio::sync::Notify;
use tracing::Instrument;

use super::handlers::{self, JobError};
use super::{Queue, concurrency};
use crate::state::AppState;
use crate::system_config::SystemConfig;
use crate::telemetry::JobOutcome;

/// Attempts before a job that keeps failing is given up.
const MAX_ATTEMPTS: u32 = 3;

/// How long to wait before the `attempt`-th retry: 5 s, 10 s, 20 s, …
fn backoff(attempt: u32) -> Duration {
    Duration::from_secs(5 * 2u64.saturating_pow(attempt.min(10)))
}

#[derive(Default)]
struct InFlight {
    /// Stream ids of the jobs running now, per queue.
    ids: HashMap<Queue, Vec<String>>,
}

/// Runs the workers, and the clock of scheduled tasks, until the task is dropped.
pub async fn run(state: AppState) {
    tokio::join!(work(state.clone()), super::schedule::run(state));
}

async fn work(state: AppState) {
    let in_flight = Arc::new(Mutex::new(InFlight::default()));
    let finished = Arc::new(Notify::new());
    let reclaim_after = state.config.job_reclaim_after;
    // The workers start once the configuration can be read (the database may still be starting).
    let mut config = loop {
        match state.system_config.typed(&state.db).await {
            Ok(config) => break config,
            Err(error) => tracing::warn!(%error, "the workers wait for the system config"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    let mut config_read = Instant::now();
    let mut last_heartbeat = Instant::now();
    loop {
        if config_read.elapsed() > Duration::from_secs(2) {
            if let Ok(fresh) = state.system_config.typed(&state.db).await {
                config = fresh;
            }
            config_read = Instant::now();
        }
        let started_any = match fill(&state, &config, &in_flight, &finished, reclaim_after).await {
            Ok(started) => started > 0,
            Err(error) => {
                tracing::warn!(%error, "job queues unavailable");
                false
            }
        };
        if last_heartbeat.elapsed() > reclaim_after / 3 {
            heartbeat(&state, &in_flight).await;
            last_heartbeat = Instant::now();
        }
        if !started_any {
            // Sleep until a job is queued here, one finishes, or (for other processes' jobs) a moment passes.
            let wait = Duration::from_millis(500).min(reclaim_after / 3);
            tokio::select! {
                () = state.job_wake.notified() => {}
                () = finished.notified() => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
    }
}

async fn heartbeat(state: &AppState, in_flight: &Mutex<InFlight>) {
    let running: Vec<(Queue, Vec<String>)> = match in_flight.lock() {
        Ok(guard) => guard.ids.iter().map(|(q, ids)| (*q, ids.clone())).collect(),
        Err(_) => return,
    };
    for (queue, ids) in running {
        if let Err(error) = state.jobs.heartbeat(queue.as_str(), &ids).await {
            tracing::warn!(%queue, %error, "job heartbeat failed");
        }
    }
}

/// Starts jobs on every queue up to its concurrency, in one round trip to Redis; returns how
/// many it started.
async fn fill(
    state: &AppState,
    config: &SystemConfig,
    in_flight: &Arc<Mutex<InFlight>>,
    finished: &Arc<Notify>,
    reclaim_after: Duration,
) -> Result<usize, darkroom_storage::queue::QueueError> {
    // Maintenance mode rests the workers; the jobs wait in their queues.
    if state.maintenance.is_active() {
        return Ok(0);
    }
    let places_loading = state.places_loading.load(Ordering::SeqCst);
    let wanted: Vec<(Queue, usize)> = {
        let Ok(running) = in_flight.lock() else {
            return Ok(0);
        };
        Queue::RUNNING
            .into_iter()
            .filter(|&queue| !(queue == Queue::MetadataExtraction && places_loading))
            .map(|queue| {
                let busy = running.ids.get(&queue).map_or(0, Vec::len);
                (queue, concurrency(config, queue).saturating_sub(busy))
            })
            .filter(|&(_, free)| free > 0)
            .collect()
    };
    let asked: Vec<Wanted<'_>> = wanted
        .iter()
        .map(|&(queue, count)| Wanted {
            queue: queue.as_str(),
            count,
        })
        .collect();
    let swept = state.jobs.take_due(&asked, reclaim_after.as_millis() as u64).await?;
    let mut started = 0;
    for (&(queue, _), taken) in wanted.iter().zip(swept) {
        if taken.reclaimed > 0 {
            tracing::info!(%queue, count = taken.reclaimed, "took over jobs of a worker that stopped");
        }
        started += taken.jobs.len();
        for job in taken.jobs {
            if let Ok(mut guard) = in_flight.lock() {
                guard.ids.entry(queue).or_default().push(job.id.clone());
            }
            let (state, in_flight, finished) = (state.clone(), in_flight.clone(), finished.clone());
            tokio::spawn(async move {
                execute(&state, queue, &job).await;
                if let Ok(mut guard) = in_flight.lock()
                    && let Some(ids) = guard.ids.get_mut(&queue)
                {
                    ids.retain(|id| *id != job.id);
                }
                // A permit is kept when the sweep is busy elsewhere, so the next one starts at once.
                finished.notify_one();
            });
        }
    }
    Ok(started)
}

/// Reads a stored job as a kind this worker knows, on the queue that kind belongs to.
fn decode(queue: Queue, stored: &StoredJob) -> Result<super::Job, String> {
    let job = super::Job::from_stored(&stored.job.name, &stored.job.data)
        .map_err(|error| format!("the job cannot be read: {error}"))?;
    if job.queue() != queue {
        return Err(format!("the job belongs on the {} queue", job.queue()));
    }
    Ok(job)
}

async fn execute(state: &AppState, queue: Queue, job: &StoredJob) {
    let span = tracing::info_span!("job", %queue, name = %job.job.name, id = %job.id);
    let kind = match decode(queue, job) {
        Ok(kind) => kind,
        Err(reason) => {
            // Neither retried nor left pending to be taken over forever.
            tracing::error!(%queue, job = %job.job.name, data = %job.job.data, %reason, "job set aside as unreadable");
            if let Err(error) = state.jobs.set_aside(queue.as_str(), job, &reason).await {
                tracing::error!(%queue, %error, "could not set an unreadable job aside");
            }
            return;
        }
    };
    let started = Instant::now();
    state.metrics.job_started(queue);
    let outcome = handlers::run(state, kind).instrument(span).await;
    let (recorded, ended) = match outcome {
        Ok(()) => (state.jobs.complete(queue.as_str(), job).await, JobOutcome::Success),
        Err(JobError::Fatal(reason)) => {
            tracing::warn!(%queue, job = %job.job.name, data = %job.job.data, %reason, "job failed");
            crate::services::notifications::job_failed(state, &job.job.name, &reason);
            (
                state.jobs.fail(queue.as_str(), job, &reason, None).await,
                JobOutcome::Failed,
            )
        }
        Err(JobError::Retry(reason)) => {
            let attempt = job.job.attempts + 1;
            let retry_at = (attempt < MAX_ATTEMPTS)
                .then(|| chrono::Utc::now().timestamp_millis() + backoff(attempt).as_millis() as i64);
            tracing::warn!(%queue, job = %job.job.name, %reason, attempt, retrying = retry_at.is_some(), "job did not finish");
            if retry_at.is_none() {
                crate::services::notifications::job_failed(state, &job.job.name, &reason);
            }
            let ended = if retry_at.is_some() {
                JobOutcome::Retrying
            } else {
                JobOutcome::Failed
            };
            (state.jobs.fail(queue.as_str(), job, &reason, retry_at).await, ended)
        }
    };
    state
        .metrics
        .job_finished(queue, &job.job.name, ended, started.elapsed());
    if let Err(error) = recorded {
        // The job stays pending and another worker takes it over later.
        tracing::error!(%queue, %error, "could not record a job's outcome");
    }
}
