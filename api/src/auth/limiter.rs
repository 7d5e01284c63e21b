//! Login brute-force protection (beyond Immich), without lock-out: failed logins are counted
//! per client address and per account-and-address, in Redis so that every API process sees the
//! same counts. Past a limit, that address's logins answer 429 with `Retry-After` until the
//! window has moved on. Nothing is counted per account alone: a stranger's guesses never keep
//! the account's owner out from an address that has not been failing.

use std::net::IpAddr;
use std::time::Duration;

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
}

fn address_counter(ip: IpAddr) -> String {
    format!("login:address:{ip}")
}

fn account_counter(ip: IpAddr, account: &str) -> String {
    format!("login:address-account:{ip}:{account}")
}

impl LoginLimiter {
    pub fn new(limits: LoginLimits) -> Self {
        Self { limits }
    }

    /// `Err(seconds)` when this address must wait before trying this account again. Without
    /// Redis nothing is refused: logins keep working, and the failure is logged.
    pub async fn check(&self, jobs: &JobQueue, ip: IpAddr, account: &str) -> Result<(), u64> {
        let counters = [
            Counter {
                name: address_counter(ip),
                limit: self.limits.per_address,
            },
            Counter {
                name: account_counter(ip, account),
                limit: self.limits.per_account_and_address,
            },
        ];
        match jobs.throttle_wait(&counters, self.limits.window).await {
            Ok(wait) if wait.is_zero() => Ok(()),
            Ok(wait) => Err(wait.as_secs_f64().ceil().max(1.0) as u64),
            Err(error) => {
                tracing::warn!(%error, "cannot read the failed-login counts; not throttling");
                Ok(())
            }
        }
    }

    pub async fn record_failure(&self, jobs: &JobQueue, ip: IpAddr, account: &str) {
        let names = [address_counter(ip), account_counter(ip, account)];
        let names = [names[0].as_str(), names[1].as_str()];
        if let Err(error) = jobs.throttle_record(&names, self.limits.window).await {
            tracing::warn!(%error, "cannot count a failed login");
        }
    }

    /// The right password clears that account's count from that address; the address's own
    /// count stays (signing in to one's own account must not excuse guessing at others).
    pub async fn record_success(&self, jobs: &JobQueue, ip: IpAddr, account: &str) {
        if let Err(error) = jobs.throttle_clear(&account_counter(ip, account)).await {
            tracing::warn!(%error, "cannot clear a failed-login count");
        }
    }
}
