//! Login brute-force protection (beyond Immich): failed logins are counted per client IP and per
//! account in a sliding window; past the limit, logins answer 429 with `Retry-After` until the
//! window has moved on. A successful login clears the account's count.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy)]
pub struct LoginLimits {
    pub per_ip: usize,
    pub per_account: usize,
    pub window: Duration,
}

impl Default for LoginLimits {
    fn default() -> Self {
        Self {
            per_ip: 30,
            per_account: 10,
            window: Duration::from_secs(15 * 60),
        }
    }
}

#[derive(Debug, Default)]
struct Failures {
    by_ip: HashMap<IpAddr, Vec<Instant>>,
    by_account: HashMap<String, Vec<Instant>>,
}

#[derive(Debug)]
pub struct LoginLimiter {
    limits: LoginLimits,
    failures: Mutex<Failures>,
}

impl LoginLimiter {
    pub fn new(limits: LoginLimits) -> Self {
        Self {
            limits,
            failures: Mutex::new(Failures::default()),
        }
    }

    /// `Err(seconds)` when this IP or account must wait before trying again.
    pub fn check(&self, ip: IpAddr, account: &str) -> Result<(), u64> {
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let window = self.limits.window;
        let ip_wait = wait(failures.by_ip.get_mut(&ip), self.limits.per_ip, window, now);
        let account_wait = wait(
            failures.by_account.get_mut(account),
            self.limits.per_account,
            window,
            now,
        );
        match ip_wait.max(account_wait) {
            Some(wait) => Err(wait.as_secs().max(1)),
            None => Ok(()),
        }
    }

    pub fn record_failure(&self, ip: IpAddr, account: &str) {
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        failures.by_ip.entry(ip).or_default().push(now);
        failures.by_account.entry(account.to_string()).or_default().push(now);
        // Keep memory bounded under a spray of distinct IPs or e-mails.
        if failures.by_ip.len() + failures.by_account.len() > 100_000 {
            let window = self.limits.window;
            failures.by_ip.retain(|_, times| prune(times, window, now));
            failures.by_account.retain(|_, times| prune(times, window, now));
        }
    }

    pub fn record_success(&self, account: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        failures.by_account.remove(account);
    }
}

/// Drops attempts older than the window; returns whether any remain.
fn prune(times: &mut Vec<Instant>, window: Duration, now: Instant) -> bool {
    times.retain(|t| now.duration_since(*t) < window);
    !times.is_empty()
}

fn wait(times: Option<&mut Vec<Instant>>, limit: usize, window: Duration, now: Instant) -> Option<Duration> {
    let times = times?;
    prune(times, window, now);
    if times.len() < limit {
        return None;
    }
    // Free again once the oldest attempt that keeps us at the limit leaves the window.
    let oldest = times[times.len() - limit];
    Some(window.saturating_sub(now.duration_since(oldest)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_the_limit_and_success_clears_the_account() {
        let limiter = LoginLimiter::new(LoginLimits {
            per_ip: 5,
            per_account: 3,
            window: Duration::from_secs(60),
        });
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..3 {
            assert!(limiter.check(ip, "a@x").is_ok());
            limiter.record_failure(ip, "a@x");
        }
        let wait = limiter.check(ip, "a@x").unwrap_err();
        assert!((1..=60).contains(&wait));
        assert!(
            limiter.check(ip, "b@x").is_ok(),
            "other accounts from the same IP still pass below the IP limit"
        );
        limiter.record_success("a@x");
        assert!(limiter.check(ip, "a@x").is_ok());
        limiter.record_failure(ip, "b@x");
        limiter.record_failure(ip, "c@x");
        assert!(limiter.check(ip, "d@x").is_err(), "the IP reached its limit of 5");
    }
}
