//! A moment's memory of who a token or API key belongs to, so a burst of reads (the web
//! scrolling its timeline, a phone fetching thumbnails) does not ask the database each time.
//!
//! Safe by construction rather than by bookkeeping: an answer is kept for one second at most,
//! and every state-changing request this process serves (logout, a lock, a deleted key, a
//! changed user, …) forgets all of them once it is done — an answer read before such a change
//! is never used after it. Another process serving the API may go on trusting an answer for at
//! most that second.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::AuthContext;

const KEPT_FOR: Duration = Duration::from_secs(1);
/// More callers than this in one second: start afresh rather than grow.
const CAPACITY: usize = 4096;

/// What a session's or key's authentication found, and until when its PIN unlock holds (the
/// locked folder's access is judged again on every request).
#[derive(Debug, Clone)]
pub struct Remembered {
    pub context: AuthContext,
    pub pin_expires_at: Option<DateTime<Utc>>,
}

struct Entry {
    generation: u64,
    stored: Instant,
    remembered: Remembered,
}

#[derive(Default)]
pub struct AuthCache {
    generation: AtomicU64,
    entries: Mutex<HashMap<Vec<u8>, Entry>>,
}

impl AuthCache {
    /// Read before looking in the database: what is put back under it counts only while nothing
    /// has changed since.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub fn get(&self, secret_hash: &[u8]) -> Option<Remembered> {
        let entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let entry = entries.get(secret_hash)?;
        (entry.generation == self.generation() && entry.stored.elapsed() < KEPT_FOR).then(|| entry.remembered.clone())
    }

    pub fn put(&self, secret_hash: Vec<u8>, generation: u64, remembered: Remembered) {
        let mut entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(secret_hash, Entry { generation, stored: Instant::now(), remembered });
    }

    /// Something may have changed who may do what: nothing remembered so far counts.
    pub fn forget_everything(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use darkroom_storage::users::User;

    fn remembered() -> Remembered {
        let user = User::default();
        Remembered { context: AuthContext { user, session: None, api_key: None, shared_link: None }, pin_expires_at: None }
    }

    #[test]
    fn a_change_forgets_even_answers_read_before_it() {
        let cache = AuthCache::default();
        let read_at = cache.generation();
        cache.put(b"token".to_vec(), read_at, remembered());
        assert!(cache.get(b"token").is_some());
        assert!(cache.get(b"other").is_none());

        // An answer read from the database before a change, stored after it.
        let read_at = cache.generation();
        cache.forget_everything();
        cache.put(b"token".to_vec(), read_at, remembered());
        assert!(cache.get(b"token").is_none());
    }
}
