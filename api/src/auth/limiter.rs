//! Login brute-force protection (beyond Immich), without lock-out: failed logins are counted
//! per client address and per account-and-address, in Redis so that every API process sees the
//! same counts. Past a limit, that address's logins answer 429 with `Retry-After` until the
//! window has moved on. Nothing is counted per account alone: a stranger's guesses never keep
//! the account's owner out from an address that has not been failing. While Redis cannot be
//! reached, each process counts on its own, so guessing is still slowed.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use darkroom_storage::queue::JobQueue;
use darkroom_storage::throttle::Counter;

/// The limits, from `DARKROOM_LOGIN_FAILURES_PER_ADDRESS`,
/// `DARKROOM_LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS` and `DARKROOM_LOGIN_FAILURE_WINDOW_SECONDS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginLimits {
    /// Failures from one address, whatever the accounts (password spraying).
    pub per_address: u32,
    /// Failures from one address for one account (guessing one password).
    pub per_account_and_address: u32,
    pub window: Duration,
}

impl Default for LoginLimits {
    fn default() -> Self {
        Self {
            per_address: 30,
            per_account_and_address: 10,
            window: Duration::from_secs(15 * 60),
        }
    }
}

#[derive(Debug)]
pub struct LoginLimiter {
    limits: LoginLimits,
    /// This process's own counts, used while Redis cannot be reached.
    local: Mutex<HashMap<String, Vec<Instant>>>,
}

fn address_counter(ip: IpAddr) -> String {
    format!("login:address:{ip}")
}

fn account_counter(ip: IpAddr, account: &str) -> String {
    format!("login:address-account:{ip}:{account}")
}

impl LoginLimiter {
    pub fn new(limits: LoginLimits) -> Self {
        Self {
            limits,
            local: Mutex::default(),
        }
    }

    fn counters(&self, ip: IpAddr, account: &str) -> [Counter; 2] {
        [
            Counter {
                name: address_counter(ip),
                limit: self.limits.per_address,
            },
            Counter {
                name: account_counter(ip, account),
                limit: self.limits.per_account_and_address,
            },
        ]
    }

    fn local_counts(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<Instant>>> {
        self.local.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// How long until every counter is under its limit, by this process's own counts.
    fn local_wait(&self, counters: &[Counter]) -> Duration {
        let (now, window) = (Instant::now(), self.limits.window);
        let mut local = self.local_counts();
        let mut wait = Duration::ZERO;
        for counter in counters {
            let Some(times) = local.get_mut(&counter.name) else {
                continue;
            };
            times.retain(|t| now.duration_since(*t) < window);
            let limit = counter.limit.max(1) as usize;
            if times.len() >= limit {
                let oldest = times[times.len() - limit];
                wait = wait.max(window.saturating_sub(now.duration_since(oldest)));
            }
        }
        wait
    }

    fn local_record(&self, counters: &[Counter]) {
        let (now, window) = (Instant::now(), self.limits.window);
        let mut local = self.local_counts();
        for counter in counters {
            local.entry(counter.name.clone()).or_default().push(now);
        }
        // Bounded under a spray of addresses: what left the window goes.
        if local.len() > 100_000 {
            local.retain(|_, times| {
                times.retain(|t| now.duration_since(*t) < window);
                !times.is_empty()
            });
        }
    }

    /// `Err(seconds)` when this address must wait before trying this account again.
    pub async fn check(&self, jobs: &JobQueue, ip: IpAddr, account: &str) -> Result<(), u64> {
        let counters = self.counters(ip, account);
        let wait = match jobs.throttle_wait(&counters, self.limits.window).await {
            Ok(wait) => wait,
            Err(error) => {
                tracing::warn!(%error, "cannot read the failed-login counts in Redis; counting in this process");
                self.local_wait(&counters)
            }
        };
        if wait.is_zero() {
            Ok(())
        } else {
            Err(wait.as_secs_f64().ceil().max(1.0) as u64)
        }
    }

    pub async fn record_failure(&self, jobs: &JobQueue, ip: IpAddr, account: &str) {
        let counters = self.counters(ip, account);
        let names = counters.each_ref().map(|counter| counter.name.as_str());
        if let Err(error) = jobs.throttle_record(&names, self.limits.window).await {
            tracing::warn!(%error, "cannot count a failed login in Redis; counting in this process");
            self.local_record(&counters);
        }
    }

    /// The right password clears that account's count from that address; the address's own
    /// count stays (signing in to one's own account must not excuse guessing at others).
    pub async fn record_success(&self, jobs: &JobQueue, ip: IpAddr, account: &str) {
        let name = account_counter(ip, account);
        self.local_counts().remove(&name);
        if let Err(error) = jobs.throttle_clear(&name).await {
            tracing::warn!(%error, "cannot clear a failed-login count");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_redis_the_process_counts_per_address_and_per_account_and_address() {
        let limiter = LoginLimiter::new(LoginLimits {
            per_address: 4,
            per_account_and_address: 2,
            window: Duration::from_secs(60),
        });
        let (stranger, owner): (IpAddr, IpAddr) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        let record = |ip, account| limiter.local_record(&limiter.counters(ip, account));
        record(stranger, "admin@x");
        assert!(limiter.local_wait(&limiter.counters(stranger, "admin@x")).is_zero());
        record(stranger, "admin@x");
        let wait = limiter.local_wait(&limiter.counters(stranger, "admin@x"));
        assert!(
            wait > Duration::from_secs(58) && wait <= Duration::from_secs(60),
            "{wait:?}"
        );
        // The owner, from another address, is not held up.
        assert!(limiter.local_wait(&limiter.counters(owner, "admin@x")).is_zero());
        // Spraying other accounts from the stranger's address reaches its own limit.
        record(stranger, "b@x");
        assert!(limiter.local_wait(&limiter.counters(stranger, "c@x")).is_zero());
        record(stranger, "c@x");
        assert!(!limiter.local_wait(&limiter.counters(stranger, "d@x")).is_zero());
    }
}
