//! A moment's memory of who a token or API key belongs to, so a burst of reads (the web
//! scrolling its timeline, a phone fetching thumbnails) does not ask the database each time.
//!
//! Safe by construction rather than by bookkeeping: an answer is kept for one second at most;
//! every state-changing request this process serves forgets all of them once it is done; and
//! PostgreSQL tells us (LISTEN/NOTIFY, from triggers) whenever any process changes a user, a
//! session or an API key, which forgets them too. An answer read before a change is never used
//! after it is heard of. Nothing is remembered while that word cannot be heard.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use darkroom_storage::auth_changes;

use super::AuthContext;
use crate::state::AppState;

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
    /// Whether changes made by other processes are being heard.
    hearing_changes: AtomicBool,
}

impl AuthCache {
    /// Read before looking in the database: what is put back under it counts only while nothing
    /// has changed since.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub fn get(&self, secret_hash: &[u8]) -> Option<Remembered> {
        if !self.hearing_changes.load(Ordering::Acquire) {
            return None;
        }
        let entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let entry = entries.get(secret_hash)?;
        (entry.generation == self.generation() && entry.stored.elapsed() < KEPT_FOR).then(|| entry.remembered.clone())
    }

    pub fn put(&self, secret_hash: Vec<u8>, generation: u64, remembered: Remembered) {
        let mut entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(
            secret_hash,
            Entry {
                generation,
                stored: Instant::now(),
                remembered,
            },
        );
    }

    /// Something may have changed who may do what: nothing remembered so far counts.
    pub fn forget_everything(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clear();
    }

    /// Whether other processes' changes are heard from now on (until then, and after the word is
    /// lost, every request asks the database).
    fn hear_changes(&self, hearing: bool) {
        self.hearing_changes.store(hearing, Ordering::Release);
        self.forget_everything();
    }
}

/// Listens for PostgreSQL's word of changed users, sessions and API keys for as long as the
/// server runs, forgetting remembered authentications at each; reconnects when the word is lost.
pub async fn follow_changes(state: AppState) {
    loop {
        match auth_changes::listen(&state.db).await {
            Ok(mut changes) => {
                state.auth_cache.hear_changes(true);
                loop {
                    match changes.next().await {
                        Ok(true) => state.auth_cache.forget_everything(),
                        Ok(false) => break,
                        Err(error) => {
                            tracing::warn!(%error, "lost the database's word of changed sessions");
                            break;
                        }
                    }
                }
                state.auth_cache.hear_changes(false);
            }
            Err(error) => tracing::warn!(%error, "cannot listen for changed sessions; authenticating every request"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use darkroom_storage::users::User;

    fn remembered() -> Remembered {
        let user = User::default();
        Remembered {
            context: AuthContext {
                user,
                session: None,
                api_key: None,
                shared_link: None,
            },
            pin_expires_at: None,
        }
    }

    #[test]
    fn a_change_forgets_even_answers_read_before_it() {
        let cache = AuthCache::default();
        cache.hear_changes(true);
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

    #[test]
    fn nothing_is_remembered_while_changes_go_unheard() {
        let cache = AuthCache::default();
        cache.put(b"token".to_vec(), cache.generation(), remembered());
        assert!(cache.get(b"token").is_none());
        cache.hear_changes(true);
        cache.put(b"token".to_vec(), cache.generation(), remembered());
        assert!(cache.get(b"token").is_some());
        cache.hear_changes(false);
        assert!(cache.get(b"token").is_none());
    }
}
