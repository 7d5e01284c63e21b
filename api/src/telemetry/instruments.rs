//! The instruments, and the two registries they are exported from. Everything is counted
//! whether or not it is exported; only the groups switched on are registered.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use prometheus::{CounterVec, Gauge, HistogramOpts, HistogramVec, IntCounter, IntGauge, IntGaugeVec, Opts, Registry};

use super::{Group, TelemetryConfig};
use crate::jobs::Queue;

/// Immich's buckets for every histogram in milliseconds.
const MILLISECOND_BUCKETS: [f64; 21] = [
    0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 25.0, 50.0, 75.0, 100.0, 250.0, 500.0, 750.0, 1000.0, 2500.0,
    5000.0, 7500.0, 10000.0,
];

/// Jobs take from milliseconds (a skipped check) to many minutes (a long video).
const JOB_SECONDS_BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 120.0, 600.0,
];

/// Machine-learning requests: a text embedding in milliseconds, OCR of a big photo in seconds.
const ML_SECONDS_BUCKETS: [f64; 12] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// How a job ended, for the duration histogram's `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobOutcome {
    Success,
    /// Given up: it failed for good or ran out of attempts.
    Failed,
    /// Failed this time and will be tried again.
    Retrying,
}

impl JobOutcome {
    fn as_str(self) -> &'static str {
        match self {
            JobOutcome::Success => "success",
            JobOutcome::Failed => "failed",
            JobOutcome::Retrying => "retrying",
        }
    }
}

pub struct Metrics {
    config: TelemetryConfig,
    /// Exported on the API's port.
    pub(super) api: Registry,
    /// Exported on the workers' port.
    pub(super) workers: Registry,

    http_duration: HistogramVec,
    upload_bytes: IntCounter,
    queue_started: HashMap<Queue, IntCounter>,
    queue_active: HashMap<Queue, IntGauge>,
    /// `immich_jobs_<job>_<status>_total`, registered as each job name is first seen.
    job_outcomes: Mutex<HashMap<(String, JobOutcome), IntCounter>>,
    job_duration: HistogramVec,
    ml_request_duration: HistogramVec,

    // Read when scraped.
    pub(super) users: IntGauge,
    pub(super) queue_jobs: IntGaugeVec,
    pub(super) backup_last_success: Gauge,
    pub(super) pool_connections: IntGaugeVec,
    pub(super) pool_max: IntGauge,
    pub(super) ml_available: IntGaugeVec,
    pub(super) disk_free: IntGauge,
    pub(super) disk_size: IntGauge,
    pub(super) library_assets: IntGauge,
    pub(super) library_bytes: IntGauge,
    pub(super) process_memory: IntGauge,
    pub(super) process_cpu: CounterVec,
}

// Metric names and labels are constants here: a bad one is a programming error, and the
// telemetry tests construct every instrument.
#[expect(clippy::expect_used, reason = "constant metric names")]
fn gauge(name: &str, help: &str) -> IntGauge {
    IntGauge::new(name, help).expect("a valid metric name")
}

#[expect(clippy::expect_used, reason = "constant metric names")]
fn gauge_vec(name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
    IntGaugeVec::new(Opts::new(name, help), labels).expect("a valid metric name")
}

#[expect(clippy::expect_used, reason = "constant metric names")]
fn histogram_vec(name: &str, help: &str, buckets: &[f64], labels: &[&str]) -> HistogramVec {
    HistogramVec::new(HistogramOpts::new(name, help).buckets(buckets.to_vec()), labels).expect("a valid metric name")
}

/// Immich's spelling of a name in a metric: `thumbnailGeneration` and `AssetGenerateThumbnails`
/// become `thumbnail_generation` and `asset_generate_thumbnails`.
pub(super) fn snake_case(name: &str) -> String {
    let mut snake = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                snake.push('_');
            }
            snake.push(c.to_ascii_lowercase());
        } else if c.is_ascii_alphanumeric() {
            snake.push(c);
        } else {
            snake.push('_');
        }
    }
    snake
}

impl Metrics {
    /// The instruments; `serves_api` says which port carries the process-wide ones.
    #[expect(clippy::expect_used, reason = "constant metric names")]
    pub fn new(config: TelemetryConfig, serves_api: bool) -> Self {
        let per_queue = |what: &str| -> HashMap<Queue, (String, String)> {
            Queue::ALL
                .into_iter()
                .map(|queue| {
                    let name = format!("immich_queues_{}_{what}", snake_case(queue.as_str()));
                    (queue, (name, format!("The {} queue's jobs {what}", queue.as_str())))
                })
                .collect()
        };
        let metrics = Self {
            api: Registry::new(),
            workers: Registry::new(),
            http_duration: histogram_vec(
                "http_server_duration",
                "How long HTTP requests took in milliseconds, by method, route template and status",
                &MILLISECOND_BUCKETS,
                &["http_method", "http_route", "http_status_code"],
            ),
            upload_bytes: IntCounter::new("darkroom_upload_bytes_total", "Bytes of uploaded files stored")
                .expect("a valid metric name"),
            queue_started: per_queue("started")
                .into_iter()
                .map(|(queue, (name, help))| (queue, IntCounter::new(name, help).expect("a valid metric name")))
                .collect(),
            queue_active: per_queue("active")
                .into_iter()
                .map(|(queue, (name, help))| (queue, gauge(&name, &help)))
                .collect(),
            job_outcomes: Mutex::new(HashMap::new()),
            job_duration: histogram_vec(
                "darkroom_job_duration_seconds",
                "How long jobs ran, by queue and how they ended",
                &JOB_SECONDS_BUCKETS,
                &["queue", "status"],
            ),
            ml_request_duration: histogram_vec(
                "darkroom_ml_request_duration_seconds",
                "Requests to the machine-learning service, by task and outcome",
                &ML_SECONDS_BUCKETS,
                &["task", "outcome"],
            ),
            users: gauge("immich_users_total", "The users of this server"),
            queue_jobs: gauge_vec(
                "darkroom_queue_jobs",
                "Jobs in each queue, by state",
                &["queue", "state"],
            ),
            backup_last_success: Gauge::new(
                "darkroom_database_backup_last_success_timestamp_seconds",
                "When the newest routine database backup was written (0: there is none)",
            )
            .expect("a valid metric name"),
            pool_connections: gauge_vec(
                "darkroom_db_pool_connections",
                "Database connections of this process, busy or idle",
                &["state"],
            ),
            pool_max: gauge("darkroom_db_pool_max_connections", "The database pool's size limit"),
            ml_available: gauge_vec(
                "darkroom_ml_available",
                "Whether each machine-learning URL answered its last check or request",
                &["url"],
            ),
            disk_free: gauge(
                "darkroom_media_disk_free_bytes",
                "Free bytes on the media folder's file system",
            ),
            disk_size: gauge(
                "darkroom_media_disk_size_bytes",
                "Size of the media folder's file system",
            ),
            library_assets: gauge("darkroom_library_assets", "Assets not deleted"),
            library_bytes: gauge("darkroom_library_bytes", "Bytes the users' uploads take"),
            process_memory: gauge("process_memory_usage", "The process's resident memory in bytes"),
            process_cpu: CounterVec::new(
                Opts::new("process_cpu_time_total", "CPU time of the process in seconds, by state"),
                &["process_cpu_state"],
            )
            .expect("a valid metric name"),
            config,
        };
        metrics.register(serves_api);
        metrics
    }

    fn register(&self, serves_api: bool) {
        let process_wide = if serves_api { &self.api } else { &self.workers };
        let mut plan: Vec<(&Registry, Group, Box<dyn prometheus::core::Collector>)> = vec![
            (&self.api, Group::Api, Box::new(self.http_duration.clone())),
            (&self.api, Group::Api, Box::new(self.upload_bytes.clone())),
            (&self.api, Group::Api, Box::new(self.users.clone())),
            (&self.workers, Group::Job, Box::new(self.job_duration.clone())),
            (&self.workers, Group::Job, Box::new(self.queue_jobs.clone())),
            (&self.workers, Group::Job, Box::new(self.backup_last_success.clone())),
            (process_wide, Group::Io, Box::new(self.ml_request_duration.clone())),
            (process_wide, Group::Io, Box::new(self.ml_available.clone())),
            (process_wide, Group::Repo, Box::new(self.pool_connections.clone())),
            (process_wide, Group::Repo, Box::new(self.pool_max.clone())),
            (process_wide, Group::Host, Box::new(self.disk_free.clone())),
            (process_wide, Group::Host, Box::new(self.disk_size.clone())),
            (process_wide, Group::Host, Box::new(self.library_assets.clone())),
            (process_wide, Group::Host, Box::new(self.library_bytes.clone())),
            (process_wide, Group::Host, Box::new(self.process_memory.clone())),
            (process_wide, Group::Host, Box::new(self.process_cpu.clone())),
        ];
        for counter in self.queue_started.values() {
            plan.push((&self.api, Group::Api, Box::new(counter.clone())));
        }
        for gauge in self.queue_active.values() {
            plan.push((&self.workers, Group::Job, Box::new(gauge.clone())));
        }
        for (registry, group, collector) in plan {
            if self.config.is_on(group)
                && let Err(error) = registry.register(collector)
            {
                tracing::warn!(%error, "a metric could not be registered");
            }
        }
    }

    pub fn config(&self) -> &TelemetryConfig {
        &self.config
    }

    /// One answered HTTP request; `route` is its template (`/api/assets/{id}`), empty when no
    /// route matched.
    pub fn request_finished(&self, method: &str, route: &str, status: u16, took: Duration) {
        self.http_duration
            .with_label_values(&[method, route, &status.to_string()])
            .observe(took.as_secs_f64() * 1000.0);
    }

    pub fn uploaded(&self, bytes: u64) {
        self.upload_bytes.inc_by(bytes);
    }

    /// An admin started a queue (`PUT /jobs/{queue}` with `start`).
    pub fn queue_started(&self, queue: Queue) {
        if let Some(counter) = self.queue_started.get(&queue) {
            counter.inc();
        }
    }

    pub fn job_started(&self, queue: Queue) {
        if let Some(gauge) = self.queue_active.get(&queue) {
            gauge.inc();
        }
    }

    /// A job of `queue` named `job` (Immich's job name) ended after `took`.
    pub fn job_finished(&self, queue: Queue, job: &str, outcome: JobOutcome, took: Duration) {
        if let Some(gauge) = self.queue_active.get(&queue) {
            gauge.dec();
        }
        self.job_duration
            .with_label_values(&[queue.as_str(), outcome.as_str()])
            .observe(took.as_secs_f64());
        // Immich counts what the handler answered; a retry is a failure there too.
        let status = if outcome == JobOutcome::Success {
            JobOutcome::Success
        } else {
            JobOutcome::Failed
        };
        let mut outcomes = self
            .job_outcomes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let key = (job.to_owned(), status);
        if !outcomes.contains_key(&key) {
            let name = format!("immich_jobs_{}_{}_total", snake_case(job), status.as_str());
            let counter = match IntCounter::new(name, format!("{job} jobs that ended in {}", status.as_str())) {
                Ok(counter) => counter,
                Err(error) => {
                    tracing::warn!(%error, job, "no metric for this job");
                    return;
                }
            };
            if self.config.is_on(Group::Job)
                && let Err(error) = self.workers.register(Box::new(counter.clone()))
            {
                tracing::warn!(%error, "a metric could not be registered");
            }
            outcomes.insert(key.clone(), counter);
        }
        let Some(counter) = outcomes.get(&key) else { return };
        counter.inc();
    }

    /// A request to machine learning for `task` (`clip`, `facial-recognition`, `ocr`).
    pub fn ml_request_finished(&self, task: &str, ok: bool, took: Duration) {
        self.ml_request_duration
            .with_label_values(&[task, if ok { "ok" } else { "error" }])
            .observe(took.as_secs_f64());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_spelled_as_immich_spells_them() {
        assert_eq!(snake_case("thumbnailGeneration"), "thumbnail_generation");
        assert_eq!(snake_case("AssetGenerateThumbnails"), "asset_generate_thumbnails");
        assert_eq!(snake_case("ocr"), "ocr");
    }
}
