//! PostgreSQL's word that a user, session or API key changed — from any process: another API
//! server, the workers' nightly clean-up, the admin commands, even Immich itself — so that
//! whoever remembers authentications can forget them.

use sqlx::PgPool;
use sqlx::postgres::PgListener;

use crate::Result;

/// The channel the `auth_changed` triggers notify.
const CHANNEL: &str = "darkroom_auth_changed";

pub struct AuthChanges(PgListener);

/// Starts listening; changes committed from now on are heard.
pub async fn listen(pool: &PgPool) -> Result<AuthChanges> {
    let mut listener = PgListener::connect_with(pool).await?;
    // A lost connection is reported (`Ok(false)`), not silently mended: changes made meanwhile
    // were never heard.
    listener.eager_reconnect(false);
    listener.listen(CHANNEL).await?;
    Ok(AuthChanges(listener))
}

impl AuthChanges {
    /// Waits for the next change: `true`, or `false` when the connection was lost.
    pub async fn next(&mut self) -> Result<bool> {
        Ok(self.0.try_recv().await?.is_some())
    }
}
