//! The job queue on Redis: one stream per queue read through a consumer group, so a job stays
//! pending until a worker acknowledges it and a worker that dies leaves its jobs to be claimed
//! again (at-least-once). Retries wait in a sorted set, failures in a list, counters and the
//! paused flag in plain keys — all under one key prefix.

use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};

const GROUP: &str = "workers";

#[derive(Debug, thiserror::Error)]
#[error("redis: {0}")]
pub struct QueueError(#[from] redis::RedisError);

pub type QueueResult<T> = std::result::Result<T, QueueError>;

/// A job as stored: what to do (`name`), with what (`data`), and how often it was tried.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct JobData {
    pub name: String,
    pub data: serde_json::Value,
    #[serde(default)]
    pub attempts: u32,
    /// When it was first queued, in milliseconds since the epoch.
    pub timestamp: i64,
}

/// A job taken from a queue: `id` is its stream entry, needed to acknowledge it.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: String,
    pub job: JobData,
}

/// A failed job kept for inspection.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FailedJob {
    #[serde(flatten)]
    pub job: JobData,
    pub error: String,
    pub failed_at: i64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct QueueCounts {
    pub active: u64,
    pub completed: u64,
    pub failed: u64,
    pub delayed: u64,
    pub waiting: u64,
    pub paused: u64,
}

/// How many jobs one sweep of the workers wants from a queue.
#[derive(Debug, Clone, Copy)]
pub struct Wanted<'a> {
    pub queue: &'a str,
    pub count: usize,
}

/// The jobs a sweep took from a queue; the first `reclaimed` were taken over from a worker
/// that stopped.
#[derive(Debug, Default)]
pub struct Taken {
    pub jobs: Vec<Job>,
    pub reclaimed: usize,
}

/// The workers' sweep (see [`JobQueue::take_due`]). KEYS: stream, delayed set and paused flag
/// of each queue; ARGV: group, consumer, now (ms), idle (ms), then each queue's count.
static SWEEP: std::sync::LazyLock<redis::Script> = std::sync::LazyLock::new(|| {
    redis::Script::new(
        r"local group, consumer, now, idle = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
          local swept = {}
          for queue = 1, #KEYS / 3 do
            local stream, delayed, paused = KEYS[3 * queue - 2], KEYS[3 * queue - 1], KEYS[3 * queue]
            local count = tonumber(ARGV[4 + queue])
            local taken, reclaimed = {}, 0
            if count > 0 and redis.call('EXISTS', paused) == 0 then
              redis.pcall('XGROUP', 'CREATE', stream, group, '0', 'MKSTREAM')
              local due = redis.call('ZRANGEBYSCORE', delayed, '-inf', now, 'LIMIT', 0, 100)
              for _, job in ipairs(due) do
                redis.call('XADD', stream, '*', 'job', job)
                redis.call('ZREM', delayed, job)
              end
              taken = redis.call('XAUTOCLAIM', stream, group, consumer, idle, '0', 'COUNT', count)[2]
              reclaimed = #taken
              if #taken < count then
                local fresh = redis.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', count - #taken,
                                         'STREAMS', stream, '>')
                if fresh then
                  for _, entry in ipairs(fresh[1][2]) do
                    table.insert(taken, entry)
                  end
                end
              end
            end
            swept[queue] = {reclaimed, taken}
          end
          return swept",
    )
});

#[derive(Clone)]
pub struct JobQueue {
    pub(crate) conn: ConnectionManager,
    pub(crate) prefix: String,
    consumer: String,
}

pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

type StreamEntries = Vec<(String, Vec<(String, String)>)>;

fn decode_entries(entries: StreamEntries) -> Vec<Job> {
    entries
        .into_iter()
        .map(|(id, fields)| {
            let raw = fields
                .into_iter()
                .find(|(key, _)| key == "job")
                .map(|(_, raw)| raw)
                .unwrap_or_default();
            // An entry that does not read as a job is handed on nameless, with its text, so the
            // worker sets it aside instead of leaving it pending to be taken over forever.
            let job = serde_json::from_str(&raw).unwrap_or_else(|_| JobData {
                name: String::new(),
                data: serde_json::Value::String(raw),
                attempts: 0,
                timestamp: now_ms(),
            });
            Job { id, job }
        })
        .collect()
}

impl JobQueue {
    /// Connects (with reconnection) to `url`; every key starts with `prefix`.
    pub async fn connect(url: &str, prefix: &str) -> QueueResult<Self> {
        let client = redis::Client::open(url)?;
        let conn = ConnectionManager::new(client).await?;
        let consumer = format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple());
        Ok(Self {
            conn,
            prefix: prefix.to_string(),
            consumer,
        })
    }

    fn key(&self, queue: &str, part: &str) -> String {
        format!("{}:{queue}:{part}", self.prefix)
    }

    async fn ensure_group(&self, queue: &str) -> QueueResult<()> {
        let mut conn = self.conn.clone();
        let created: redis::RedisResult<()> = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(self.key(queue, "stream"))
            .arg(GROUP)
            .arg("0")
            .arg("MKSTREAM")
            .query_async(&mut conn)
            .await;
        match created {
            Err(error) if error.code() == Some("BUSYGROUP") => Ok(()),
            other => Ok(other?),
        }
    }

    pub async fn push(&self, queue: &str, name: &str, data: serde_json::Value) -> QueueResult<()> {
        self.push_many(queue, name, vec![data]).await
    }

    /// Queues one job per entry of `data`, in one round trip.
    pub async fn push_many(&self, queue: &str, name: &str, data: Vec<serde_json::Value>) -> QueueResult<()> {
        if data.is_empty() {
            return Ok(());
        }
        self.ensure_group(queue).await?;
        let stream = self.key(queue, "stream");
        let mut pipe = redis::pipe();
        for data in data {
            let job = JobData {
                name: name.to_string(),
                data,
                attempts: 0,
                timestamp: now_ms(),
            };
            pipe.cmd("XADD")
                .arg(&stream)
                .arg("*")
                .arg("job")
                .arg(serde_json::to_string(&job).unwrap_or_default())
                .ignore();
        }
        let mut conn = self.conn.clone();
        pipe.query_async::<()>(&mut conn).await?;
        Ok(())
    }

    /// One sweep of the workers, in one round trip and atomically: for each queue wanted and
    /// not paused, due retries move back into it, jobs another worker took but left untouched
    /// for `idle_ms` (it most likely died with them) are taken over, then jobs nobody has taken
    /// yet, up to the count wanted in all. The answer follows the order of `wanted`.
    pub async fn take_due(&self, wanted: &[Wanted<'_>], idle_ms: u64) -> QueueResult<Vec<Taken>> {
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let mut invocation = SWEEP.prepare_invoke();
        invocation.arg(GROUP).arg(&self.consumer).arg(now_ms()).arg(idle_ms);
        for want in wanted {
            invocation
                .key(self.key(want.queue, "stream"))
                .key(self.key(want.queue, "delayed"))
                .key(self.key(want.queue, "paused"))
                .arg(want.count);
        }
        let mut conn = self.conn.clone();
        let reply: Vec<(usize, StreamEntries)> = invocation.invoke_async(&mut conn).await?;
        Ok(reply
            .into_iter()
            .map(|(reclaimed, entries)| Taken {
                jobs: decode_entries(entries),
                reclaimed,
            })
            .collect())
    }

    /// Tells the others that these jobs are still being worked on.
    pub async fn heartbeat(&self, queue: &str, ids: &[String]) -> QueueResult<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut conn = self.conn.clone();
        redis::cmd("XCLAIM")
            .arg(self.key(queue, "stream"))
            .arg(GROUP)
            .arg(&self.consumer)
            .arg(0)
            .arg(ids)
            .arg("JUSTID")
            .query_async::<Vec<String>>(&mut conn)
            .await?;
        Ok(())
    }

    /// Acknowledges and deletes a job's entry, in a transaction that may go on with what
    /// becomes of the job, so it is never both gone and unrecorded.
    fn removal(&self, queue: &str, id: &str) -> redis::Pipeline {
        let stream = self.key(queue, "stream");
        let mut pipe = redis::pipe();
        pipe.atomic()
            .cmd("XACK")
            .arg(&stream)
            .arg(GROUP)
            .arg(id)
            .ignore()
            .cmd("XDEL")
            .arg(&stream)
            .arg(id)
            .ignore();
        pipe
    }

    pub async fn complete(&self, queue: &str, job: &Job) -> QueueResult<()> {
        let mut conn = self.conn.clone();
        self.removal(queue, &job.id)
            .incr(self.key(queue, "completed"), 1)
            .ignore()
            .query_async::<()>(&mut conn)
            .await?;
        Ok(())
    }

    /// Takes an entry no worker can read off the queue into `<queue>:unreadable` (the newest
    /// 1,000 are kept, with the reason), so it is neither retried nor taken over forever.
    pub async fn set_aside(&self, queue: &str, job: &Job, reason: &str) -> QueueResult<()> {
        let entry = FailedJob {
            job: job.job.clone(),
            error: reason.to_string(),
            failed_at: now_ms(),
        };
        let key = self.key(queue, "unreadable");
        let mut conn = self.conn.clone();
        self.removal(queue, &job.id)
            .lpush(&key, serde_json::to_string(&entry).unwrap_or_default())
            .ignore()
            .ltrim(&key, 0, 999)
            .ignore()
            .query_async::<()>(&mut conn)
            .await?;
        Ok(())
    }

    /// Takes a job off the queue as failed: back later when `retry_at_ms` is given, else into
    /// the failed list with `error`.
    pub async fn fail(&self, queue: &str, job: &Job, error: &str, retry_at_ms: Option<i64>) -> QueueResult<()> {
        let mut next = job.job.clone();
        next.attempts += 1;
        let mut pipe = self.removal(queue, &job.id);
        match retry_at_ms {
            Some(at) => pipe.zadd(
                self.key(queue, "delayed"),
                serde_json::to_string(&next).unwrap_or_default(),
                at,
            ),
            None => {
                let failed = FailedJob {
                    job: next,
                    error: error.to_string(),
                    failed_at: now_ms(),
                };
                pipe.lpush(
                    self.key(queue, "failed"),
                    serde_json::to_string(&failed).unwrap_or_default(),
                )
            }
        };
        let mut conn = self.conn.clone();
        pipe.ignore().query_async::<()>(&mut conn).await?;
        Ok(())
    }

    pub async fn counts(&self, queue: &str) -> QueueResult<QueueCounts> {
        self.ensure_group(queue).await?;
        let stream = self.key(queue, "stream");
        let mut conn = self.conn.clone();
        let (length, pending, completed, failed, delayed, paused): (u64, redis::Value, Option<u64>, u64, u64, bool) =
            redis::pipe()
                .cmd("XLEN")
                .arg(&stream)
                .cmd("XPENDING")
                .arg(&stream)
                .arg(GROUP)
                .get(self.key(queue, "completed"))
                .llen(self.key(queue, "failed"))
                .zcard(self.key(queue, "delayed"))
                .exists(self.key(queue, "paused"))
                .query_async(&mut conn)
                .await?;
        let active = match pending {
            redis::Value::Array(items) => items
                .first()
                .and_then(|v| redis::from_redis_value::<u64>(v.clone()).ok())
                .unwrap_or(0),
            _ => 0,
        };
        // Acknowledged jobs are deleted, so the stream holds exactly the waiting and active ones.
        let waiting = length.saturating_sub(active);
        Ok(QueueCounts {
            active,
            completed: completed.unwrap_or(0),
            failed,
            delayed,
            waiting: if paused { 0 } else { waiting },
            paused: if paused { waiting } else { 0 },
        })
    }

    pub async fn is_paused(&self, queue: &str) -> QueueResult<bool> {
        let mut conn = self.conn.clone();
        Ok(conn.exists(self.key(queue, "paused")).await?)
    }

    pub async fn set_paused(&self, queue: &str, paused: bool) -> QueueResult<()> {
        let mut conn = self.conn.clone();
        if paused {
            let _: () = conn.set(self.key(queue, "paused"), 1).await?;
        } else {
            let _: i64 = conn.del(self.key(queue, "paused")).await?;
        }
        Ok(())
    }

    /// Ids of the jobs taken and not yet finished.
    async fn pending_ids(&self, queue: &str) -> QueueResult<Vec<String>> {
        let mut conn = self.conn.clone();
        let pending: Vec<(String, String, u64, u64)> = redis::cmd("XPENDING")
            .arg(self.key(queue, "stream"))
            .arg(GROUP)
            .arg("-")
            .arg("+")
            .arg(100_000)
            .query_async(&mut conn)
            .await?;
        Ok(pending.into_iter().map(|(id, ..)| id).collect())
    }

    /// Drops every waiting job (and the retries); jobs being worked on finish.
    pub async fn empty(&self, queue: &str) -> QueueResult<()> {
        self.ensure_group(queue).await?;
        let active: std::collections::HashSet<String> = self.pending_ids(queue).await?.into_iter().collect();
        let stream = self.key(queue, "stream");
        let mut conn = self.conn.clone();
        let entries: StreamEntries = redis::cmd("XRANGE")
            .arg(&stream)
            .arg("-")
            .arg("+")
            .query_async(&mut conn)
            .await?;
        let waiting: Vec<String> = entries
            .into_iter()
            .map(|(id, _)| id)
            .filter(|id| !active.contains(id))
            .collect();
        for batch in waiting.chunks(1000) {
            redis::cmd("XDEL")
                .arg(&stream)
                .arg(batch)
                .query_async::<i64>(&mut conn)
                .await?;
        }
        // Undelivered entries are gone; move the group's cursor past them.
        redis::cmd("XGROUP")
            .arg("SETID")
            .arg(&stream)
            .arg(GROUP)
            .arg("$")
            .query_async::<()>(&mut conn)
            .await?;
        let _: i64 = conn.del(self.key(queue, "delayed")).await?;
        Ok(())
    }

    pub async fn clear_failed(&self, queue: &str) -> QueueResult<()> {
        let mut conn = self.conn.clone();
        let _: i64 = conn.del(self.key(queue, "failed")).await?;
        Ok(())
    }

    /// Jobs by state, for the queue inspection API (at most `limit` of each).
    pub async fn jobs(
        &self,
        queue: &str,
        waiting: bool,
        active: bool,
        failed: bool,
        delayed: bool,
        limit: usize,
    ) -> QueueResult<Vec<JobData>> {
        self.ensure_group(queue).await?;
        let mut out = Vec::new();
        let mut conn = self.conn.clone();
        if waiting || active {
            let pending: std::collections::HashSet<String> = self.pending_ids(queue).await?.into_iter().collect();
            let entries: StreamEntries = redis::cmd("XRANGE")
                .arg(self.key(queue, "stream"))
                .arg("-")
                .arg("+")
                .arg("COUNT")
                .arg(limit * 2)
                .query_async(&mut conn)
                .await?;
            for job in decode_entries(entries) {
                let is_active = pending.contains(&job.id);
                if (is_active && active) || (!is_active && waiting) {
                    out.push(job.job);
                }
            }
        }
        if failed {
            let raw: Vec<String> = conn.lrange(self.key(queue, "failed"), 0, limit as isize - 1).await?;
            out.extend(
                raw.iter()
                    .filter_map(|r| serde_json::from_str::<FailedJob>(r).ok())
                    .map(|f| f.job),
            );
        }
        if delayed {
            let raw: Vec<String> = conn.zrange(self.key(queue, "delayed"), 0, limit as isize - 1).await?;
            out.extend(raw.iter().filter_map(|r| serde_json::from_str::<JobData>(r).ok()));
        }
        out.truncate(limit);
        Ok(out)
    }

    /// True for exactly one caller per `name` within `ttl`: how the processes of one
    /// installation agree which of them queues a scheduled run.
    pub async fn claim_once(&self, name: &str, ttl: std::time::Duration) -> QueueResult<bool> {
        let mut conn = self.conn.clone();
        let claimed: Option<String> = redis::cmd("SET")
            .arg(format!("{}:claim:{name}", self.prefix))
            .arg(&self.consumer)
            .arg("NX")
            .arg("PX")
            .arg(ttl.as_millis() as u64)
            .query_async(&mut conn)
            .await?;
        Ok(claimed.is_some())
    }

    /// Publishes `message` on a pub/sub `channel` (live events between processes).
    pub async fn publish(&self, channel: &str, message: &str) -> QueueResult<()> {
        let mut conn = self.conn.clone();
        let _: i64 = conn.publish(channel, message).await?;
        Ok(())
    }

    /// The failed jobs with their errors (newest first).
    pub async fn failed(&self, queue: &str, limit: usize) -> QueueResult<Vec<FailedJob>> {
        let mut conn = self.conn.clone();
        let raw: Vec<String> = conn.lrange(self.key(queue, "failed"), 0, limit as isize - 1).await?;
        Ok(raw.iter().filter_map(|r| serde_json::from_str(r).ok()).collect())
    }
}
