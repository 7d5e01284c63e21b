//! Scheduled work: Immich's nightly tasks at `nightlyTasks.startTime` and the database backup
//! on `backup.database.cronExpression`, both in the server's local time. Every process with
//! workers keeps the clock; a claim in Redis lets exactly one of them queue each run.

use std::time::Duration;

use chrono::{DateTime, Datelike, Local, Timelike};

use super::{Job, Queue, RecognitionRun, enqueue};
use crate::state::AppState;
use crate::system_config::SystemConfig;

/// One field of a cron expression: `*`, `5`, `1-5`, `*/15`, `0-30/10`, and lists of them.
fn field_matches(field: &str, value: u32, min: u32, max: u32) -> Option<bool> {
    let mut any = false;
    for part in field.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((range, step)) => (range, step.parse::<u32>().ok().filter(|s| *s > 0)?),
            None => (part, 1),
        };
        let (low, high) = match range {
            "*" => (min, max),
            _ => match range.split_once('-') {
                Some((low, high)) => (low.parse().ok()?, high.parse().ok()?),
                None => {
                    let single: u32 = range.parse().ok()?;
                    // `5/10` means from 5 on, every 10.
                    (single, if part.contains('/') { max } else { single })
                }
            },
        };
        if low < min || high > max || low > high {
            return None;
        }
        any |= value >= low && value <= high && (value - low).is_multiple_of(step);
    }
    Some(any)
}

/// Whether a 5-field (or 6-field, seconds first) cron expression fires at `minute`; `None`
/// when the expression cannot be read.
pub fn cron_matches(expression: &str, minute: DateTime<Local>) -> Option<bool> {
    let fields: Vec<&str> = expression.split_whitespace().collect();
    let fields = match fields.len() {
        5 => &fields[..],
        6 => &fields[1..],
        _ => return None,
    };
    let weekday = minute.weekday().num_days_from_sunday();
    let day_of_month = field_matches(fields[2], minute.day(), 1, 31)?;
    // Sunday is 0 or 7.
    let day_of_week = field_matches(fields[4], weekday, 0, 7)? || (weekday == 0 && field_matches(fields[4], 7, 0, 7)?);
    // As in cron: when both day fields are restricted, either may match.
    let day = match (fields[2] == "*", fields[4] == "*") {
        (false, false) => day_of_month || day_of_week,
        _ => day_of_month && day_of_week,
    };
    Some(
        field_matches(fields[0], minute.minute(), 0, 59)?
            && field_matches(fields[1], minute.hour(), 0, 23)?
            && field_matches(fields[3], minute.month(), 1, 12)?
            && day,
    )
}

/// `HH:MM` as the cron expression of a daily run.
pub fn daily_at(start_time: &str) -> Option<String> {
    let (hours, minutes) = start_time.split_once(':')?;
    let (hours, minutes): (u32, u32) = (hours.parse().ok()?, minutes.parse().ok()?);
    (hours < 24 && minutes < 60).then(|| format!("{minutes} {hours} * * *"))
}

/// What the nightly run queues, as `nightlyTasks.*` asks.
pub async fn queue_nightly(state: &AppState, config: &SystemConfig) {
    let tasks = &config.nightly_tasks;
    if tasks.database_cleanup {
        let cleanups = [
            Job::AssetDeleteCheck {},
            Job::UserDeleteCheck {},
            Job::MemoryCleanup {},
            Job::SessionCleanup {},
            Job::AuditTableCleanup {},
        ];
        enqueue(state, cleanups).await;
    }
    if tasks.generate_memories {
        enqueue(state, [Job::MemoryGenerate {}]).await;
    }
    if tasks.sync_quota_usage {
        enqueue(state, [Job::UserSyncUsage {}]).await;
    }
    if tasks.cluster_new_faces {
        let run = RecognitionRun {
            force: false,
            nightly: true,
        };
        enqueue(state, [Job::FacialRecognitionQueueAll(run)]).await;
    }
    if tasks.missing_thumbnails
        && let Err(error) = super::queue_all(state, Queue::ThumbnailGeneration, false).await
    {
        tracing::warn!(%error, "could not queue missing thumbnails");
    }
}

async fn tick(state: &AppState, minute: DateTime<Local>) {
    let config = match state.system_config.typed(&state.db).await {
        Ok(config) => config,
        Err(error) => return tracing::warn!(%error, "scheduled tasks skipped: no system config"),
    };
    let stamp = minute.format("%Y%m%dT%H%M").to_string();
    let claim = |what: &str| {
        let name = format!("{what}:{stamp}");
        async move {
            state
                .jobs
                .claim_once(&name, Duration::from_secs(24 * 3600))
                .await
                .unwrap_or(false)
        }
    };
    let nightly = daily_at(&config.nightly_tasks.start_time);
    if nightly.is_some_and(|cron| cron_matches(&cron, minute) == Some(true)) && claim("nightly").await {
        tracing::info!("queueing the nightly tasks");
        queue_nightly(state, &config).await;
    }
    let backup = &config.backup.database;
    if backup.enabled {
        let expression = backup.cron_expression.as_str();
        match cron_matches(expression, minute) {
            Some(true) if claim("backup").await => enqueue(state, [Job::DatabaseBackup {}]).await,
            None => tracing::warn!(
                expression,
                "backup.database.cronExpression cannot be read; no scheduled backups"
            ),
            _ => {}
        }
    }
}

/// Runs until the task is dropped, looking at the clock at the start of every minute (and
/// catching up on minutes a suspended machine missed, up to an hour).
pub async fn run(state: AppState) {
    let truncate = |time: DateTime<Local>| time.with_second(0).and_then(|t| t.with_nanosecond(0)).unwrap_or(time);
    let mut last = truncate(Local::now());
    loop {
        let now = Local::now();
        let until_next_minute = 60 - now.second() as u64;
        tokio::time::sleep(Duration::from_secs(until_next_minute) + Duration::from_millis(200)).await;
        let current = truncate(Local::now());
        let mut minute = (current - chrono::Duration::hours(1)).max(last + chrono::Duration::minutes(1));
        while minute <= current {
            // Nothing is scheduled in maintenance mode: its minutes pass unqueued.
            if !state.maintenance.is_active() {
                tick(&state, minute).await;
            }
            minute += chrono::Duration::minutes(1);
        }
        last = current;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(text: &str) -> DateTime<Local> {
        Local
            .from_local_datetime(&chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap())
            .unwrap()
    }

    #[test]
    fn cron_expressions() {
        assert_eq!(cron_matches("0 02 * * *", at("2026-11-26 02:00")), Some(true));
        assert_eq!(cron_matches("0 02 * * *", at("2026-11-26 03:00")), Some(false));
        assert_eq!(cron_matches("*/15 * * * *", at("2026-11-26 03:45")), Some(true));
        assert_eq!(cron_matches("*/15 * * * *", at("2026-11-26 03:46")), Some(false));
        // 2026-11-29 is a Sunday.
        assert_eq!(cron_matches("30 4 * * 0", at("2026-11-29 04:30")), Some(true));
        assert_eq!(cron_matches("30 4 * * 7", at("2026-11-29 04:30")), Some(true));
        assert_eq!(cron_matches("30 4 * * 1-5", at("2026-11-29 04:30")), Some(false));
        assert_eq!(cron_matches("0 0 1,15 * *", at("2026-11-15 00:00")), Some(true));
        assert_eq!(
            cron_matches("0 0 0 1 * *", at("2026-12-01 00:00")),
            Some(true),
            "six fields: seconds first"
        );
        for bad in ["", "* * *", "61 * * * *", "a b c d e", "*/0 * * * *"] {
            assert_eq!(cron_matches(bad, at("2026-11-26 02:00")), None, "{bad}");
        }
    }

    #[test]
    fn start_times() {
        assert_eq!(daily_at("00:00").as_deref(), Some("0 0 * * *"));
        assert_eq!(daily_at("23:05").as_deref(), Some("5 23 * * *"));
        assert_eq!(daily_at("24:00"), None);
        assert_eq!(daily_at("noon"), None);
    }
}
