//! Failed attempts counted in sliding windows in Redis, so that every process of a server sees
//! the same counts (several API processes share one Redis).

use std::time::Duration;

use redis::AsyncCommands;

use crate::queue::{JobQueue, QueueResult, now_ms};

/// One count of failures, and how many a window may hold before the next attempt waits.
#[derive(Debug, Clone)]
pub struct Counter {
    pub name: String,
    pub limit: u32,
}

/// KEYS: the counters; ARGV: now (ms), window (ms), then each counter's limit. Forgets what
/// left the window and answers how many milliseconds until every counter is under its limit.
static WAIT: std::sync::LazyLock<redis::Script> = std::sync::LazyLock::new(|| {
    redis::Script::new(
        r"local now, window = tonumber(ARGV[1]), tonumber(ARGV[2])
          local wait = 0
          for i, key in ipairs(KEYS) do
            redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
            local limit, count = tonumber(ARGV[2 + i]), redis.call('ZCARD', key)
            if count >= limit then
              local oldest = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
              wait = math.max(wait, tonumber(oldest[2]) + window - now)
            end
          end
          return wait",
    )
});

impl JobQueue {
    fn counter_key(&self, name: &str) -> String {
        format!("{}:throttle:{name}", self.prefix)
    }

    /// How long until every counter is under its limit again: zero when it is now.
    pub async fn throttle_wait(&self, counters: &[Counter], window: Duration) -> QueueResult<Duration> {
        let mut invocation = WAIT.prepare_invoke();
        invocation.arg(now_ms()).arg(window.as_millis() as i64);
        for counter in counters {
            invocation
                .key(self.counter_key(&counter.name))
                .arg(counter.limit.max(1));
        }
        let mut conn = self.conn.clone();
        let wait: i64 = invocation.invoke_async(&mut conn).await?;
        Ok(Duration::from_millis(wait.max(0) as u64))
    }

    /// Counts one failure in each named counter; each is forgotten a window after its last one.
    pub async fn throttle_record(&self, names: &[&str], window: Duration) -> QueueResult<()> {
        let now = now_ms();
        let window_ms = window.as_millis() as i64;
        let mut pipe = redis::pipe();
        for name in names {
            let key = self.counter_key(name);
            let member = format!("{now}-{}", uuid::Uuid::new_v4().simple());
            pipe.zadd(&key, member, now).ignore();
            pipe.pexpire(&key, window_ms).ignore();
        }
        let mut conn = self.conn.clone();
        let () = pipe.query_async(&mut conn).await?;
        Ok(())
    }

    /// Forgets a counter's failures.
    pub async fn throttle_clear(&self, name: &str) -> QueueResult<()> {
        let mut conn = self.conn.clone();
        let _: i64 = conn.del(self.counter_key(name)).await?;
        Ok(())
    }
}
