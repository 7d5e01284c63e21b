//! The mobile sync stream (`POST /sync/stream`): every entity the session has not acknowledged,
//! type by type in Immich's fixed order — deletes, then backfills of newly shared partners
//! and albums, then upserts — as JSON lines, ending with `SyncCompleteV1`. Entities are read
//! a page at a time and written as they come, so memory stays flat however large the library.

mod lines;
mod protocol;
mod source;
mod wire;

use darkroom_storage::PgPool;
use darkroom_storage::sync::{self as store, Share, Window};
use uuid::Uuid;

pub use lines::{Lines, StreamError};
pub use protocol::{Checkpoint, Checkpoints, ENTITY_TYPES, REQUEST_ORDER, replacement};
use source::{Source, fetch};

/// Rows per query: large enough to amortise round trips, small enough to stay flat.
const PAGE: i64 = 5_000;

/// One stream's state: who asks, up to when, and what they already have.
pub struct Sync<'a> {
    pub db: &'a PgPool,
    pub session: Uuid,
    pub user: Uuid,
    pub now: Uuid,
    pub checkpoints: Checkpoints,
    pub lines: Lines,
}

impl Sync<'_> {
    fn after(&self, kind: &str) -> Option<Uuid> {
        self.checkpoints.get(kind).and_then(|c| c.update_id)
    }

    /// Sends every row of `source` in `window` as `kind` lines acked `<ack_prefix>|<cursor>`
    /// (rows no longer visible to the viewer as `removed_kind` lines, or not at all); returns
    /// how many rows there were.
    async fn send(
        &mut self,
        kind: &str,
        removed_kind: Option<&str>,
        ack_prefix: &str,
        source: Source<'_>,
        window: Window,
    ) -> Result<usize, StreamError> {
        let db = self.db;
        let lines = &mut self.lines;
        let mut sent = 0;
        let mut rows = fetch(db, &source, window).await?;
        loop {
            // The next page is read while this one is written.
            let next_window = rows
                .last()
                .filter(|_| rows.len() as i64 == window.limit)
                .map(|last| Window {
                    after: Some(last.ack),
                    ..window
                });
            let prefetch = async {
                match next_window {
                    Some(next) => Some(fetch(db, &source, next).await),
                    None => None,
                }
            };
            let write = async {
                for entry in &rows {
                    let line_kind = match (entry.removed(), removed_kind) {
                        (false, _) => kind,
                        (true, Some(removed)) => removed,
                        (true, None) => continue,
                    };
                    lines
                        .entry(line_kind, &entry.data, &format!("{ack_prefix}|{}", entry.ack))
                        .await?;
                }
                Ok::<(), StreamError>(())
            };
            let (next, written) = tokio::join!(prefetch, write);
            written?;
            sent += rows.len();
            match next {
                Some(page) => rows = page?,
                None => return Ok(sent),
            }
        }
    }

    /// Everything of `source` newer than the client's `kind` checkpoint.
    async fn send_new(&mut self, kind: &str, source: Source<'_>) -> Result<usize, StreamError> {
        self.send_new_or_removed(kind, None, source).await
    }

    async fn send_new_or_removed(
        &mut self,
        kind: &str,
        removed_kind: Option<&str>,
        source: Source<'_>,
    ) -> Result<usize, StreamError> {
        let window = Window {
            after: self.after(kind),
            until: None,
            now: self.now,
            limit: PAGE,
        };
        self.send(kind, removed_kind, kind, source, window).await
    }

    /// The older entities of shares (partners, albums) that began after the client last
    /// synced `upsert_type`: each share's rows up to that checkpoint, then `…|complete`.
    /// A client that never synced `upsert_type` gets everything from the upserts, so its
    /// backfill is simply marked done.
    async fn backfill(
        &mut self,
        kind: &str,
        upsert_type: &str,
        shares: &[Share],
        source: impl Fn(&[Uuid]) -> Source<'_>,
    ) -> Result<(), StreamError> {
        let done = self.checkpoints.get(kind).cloned().unwrap_or_default();
        let Some(until) = self.after(upsert_type) else {
            if let Some(last) = shares.last() {
                store::save_checkpoints(
                    self.db,
                    self.session,
                    &[(kind.to_string(), format!("{kind}|{}|complete", last.create_id))],
                )
                .await?;
            }
            return Ok(());
        };
        for share in shares {
            let this_one = done.update_id == Some(share.create_id);
            if this_one && done.extra.as_deref() == Some("complete") {
                continue;
            }
            let after = if this_one {
                done.extra.as_deref().and_then(|e| Uuid::parse_str(e).ok())
            } else {
                None
            };
            let ids = [share.id];
            let window = Window {
                after,
                until: Some(until),
                now: self.now,
                limit: PAGE,
            };
            self.send(kind, None, &format!("{kind}|{}", share.create_id), source(&ids), window)
                .await?;
            self.lines
                .line("SyncAckV1", "{}", &format!("{kind}|{}|complete", share.create_id))
                .await?;
        }
        Ok(())
    }

    async fn partner_shares(&self, backfill_type: &str) -> Result<Vec<Share>, StreamError> {
        Ok(store::partner_shares(self.db, self.user, self.after(backfill_type), self.now).await?)
    }

    async fn album_memberships(&self, backfill_type: &str) -> Result<Vec<Share>, StreamError> {
        Ok(store::album_memberships(self.db, self.user, self.after(backfill_type), self.now).await?)
    }

    async fn my_albums(&self) -> Result<Vec<Uuid>, StreamError> {
        Ok(store::album_memberships(self.db, self.user, None, self.now)
            .await?
            .into_iter()
            .map(|s| s.id)
            .collect())
    }

    async fn my_partners(&self) -> Result<Vec<Uuid>, StreamError> {
        Ok(store::partner_shares(self.db, self.user, None, self.now)
            .await?
            .into_iter()
            .map(|s| s.id)
            .collect())
    }

    /// Answers one request type.
    pub async fn request(&mut self, request_type: &str) -> Result<(), StreamError> {
        let me = self.user;
        let mine = [me];
        match request_type {
            "AuthUsersV1" => {
                self.send_new("AuthUserV1", Source::AuthUser(me)).await?;
            }
            "UsersV1" => {
                self.send_new("UserDeleteV1", Source::UserDeletes).await?;
                self.send_new("UserV1", Source::Users).await?;
            }
            "PartnersV1" => {
                self.send_new("PartnerDeleteV1", Source::PartnerDeletes(me)).await?;
                self.send_new("PartnerV1", Source::Partners(me)).await?;
            }
            "AssetsV2" => {
                self.send_new("AssetDeleteV1", Source::AssetDeletes(&mine)).await?;
                self.send_new("AssetV2", Source::Assets(&mine, me)).await?;
            }
            "StacksV1" => {
                self.send_new("StackDeleteV1", Source::StackDeletes(&mine)).await?;
                self.send_new("StackV1", Source::Stacks(&mine)).await?;
            }
            "PartnerAssetsV2" => {
                let partners = self.my_partners().await?;
                self.send_new("PartnerAssetDeleteV1", Source::AssetDeletes(&partners))
                    .await?;
                let shares = self.partner_shares("PartnerAssetBackfillV2").await?;
                self.backfill("PartnerAssetBackfillV2", "PartnerAssetV2", &shares, |owners| {
                    Source::Assets(owners, me)
                })
                .await?;
                // A partner's asset moved to their locked folder disappears from this device.
                self.send_new_or_removed(
                    "PartnerAssetV2",
                    Some("PartnerAssetDeleteV1"),
                    Source::Assets(&partners, me),
                )
                .await?;
            }
            "PartnerStacksV1" => {
                let partners = self.my_partners().await?;
                self.send_new("PartnerStackDeleteV1", Source::StackDeletes(&partners))
                    .await?;
                let shares = self.partner_shares("PartnerStackBackfillV1").await?;
                self.backfill("PartnerStackBackfillV1", "PartnerStackV1", &shares, |owners| {
                    Source::Stacks(owners)
                })
                .await?;
                self.send_new("PartnerStackV1", Source::Stacks(&partners)).await?;
            }
            "PartnerAssetExifsV1" => {
                let partners = self.my_partners().await?;
                let shares = self.partner_shares("PartnerAssetExifBackfillV1").await?;
                self.backfill("PartnerAssetExifBackfillV1", "PartnerAssetExifV1", &shares, |owners| {
                    Source::AssetExifs(owners, me)
                })
                .await?;
                self.send_new("PartnerAssetExifV1", Source::AssetExifs(&partners, me))
                    .await?;
            }
            "AlbumsV1" => {
                self.send_new("AlbumDeleteV1", Source::AlbumDeletes(me)).await?;
                self.send_new("AlbumV1", Source::AlbumsV1(me)).await?;
            }
            "AlbumsV2" => {
                self.send_new("AlbumDeleteV1", Source::AlbumDeletes(me)).await?;
                self.send_new("AlbumV2", Source::Albums(me)).await?;
            }
            "AlbumUsersV1" => {
                let albums = self.my_albums().await?;
                self.send_new("AlbumUserDeleteV1", Source::AlbumUserDeletes(&albums))
                    .await?;
                let shares = self.album_memberships("AlbumUserBackfillV1").await?;
                self.backfill("AlbumUserBackfillV1", "AlbumUserV1", &shares, |albums| {
                    Source::AlbumUsers(albums)
                })
                .await?;
                self.send_new("AlbumUserV1", Source::AlbumUsers(&albums)).await?;
            }
            "AlbumToAssetsV1" => {
                let albums = self.my_albums().await?;
                self.send_new("AlbumToAssetDeleteV1", Source::AlbumToAssetDeletes(&albums))
                    .await?;
                let shares = self.album_memberships("AlbumToAssetBackfillV1").await?;
                self.backfill("AlbumToAssetBackfillV1", "AlbumToAssetV1", &shares, |albums| {
                    Source::AlbumToAssets(albums)
                })
                .await?;
                self.send_new("AlbumToAssetV1", Source::AlbumToAssets(&albums)).await?;
            }
            "AlbumAssetsV2" => {
                let albums = self.my_albums().await?;
                let shares = self.album_memberships("AlbumAssetBackfillV2").await?;
                self.backfill("AlbumAssetBackfillV2", "AlbumAssetCreateV2", &shares, |albums| {
                    Source::AlbumAssets(albums, me)
                })
                .await?;
                self.created_and_updated(
                    "AlbumAssetCreateV2",
                    "AlbumAssetUpdateV2",
                    &albums,
                    |albums, until| Source::AlbumAssetUpdates(albums, me, until),
                    Source::AlbumAssets(&albums, me),
                )
                .await?;
            }
            "AlbumAssetExifsV1" => {
                let albums = self.my_albums().await?;
                let shares = self.album_memberships("AlbumAssetExifBackfillV1").await?;
                self.backfill(
                    "AlbumAssetExifBackfillV1",
                    "AlbumAssetExifCreateV1",
                    &shares,
                    |albums| Source::AlbumAssetExifs(albums),
                )
                .await?;
                self.created_and_updated(
                    "AlbumAssetExifCreateV1",
                    "AlbumAssetExifUpdateV1",
                    &albums,
                    Source::AlbumAssetExifUpdates,
                    Source::AlbumAssetExifs(&albums),
                )
                .await?;
            }
            "AssetExifsV1" => {
                self.send_new("AssetExifV1", Source::AssetExifs(&mine, me)).await?;
            }
            "UserMetadataV1" => {
                self.send_new("UserMetadataDeleteV1", Source::UserMetadataDeletes(me))
                    .await?;
                self.send_new("UserMetadataV1", Source::UserMetadata(me)).await?;
            }
            "AssetMetadataV1" => {
                self.send_new("AssetMetadataDeleteV1", Source::AssetMetadataDeletes(me))
                    .await?;
                self.send_new("AssetMetadataV1", Source::AssetMetadata(me)).await?;
            }
            "MemoriesV1" => {
                self.send_new("MemoryDeleteV1", Source::MemoryDeletes(me)).await?;
                self.send_new("MemoryV1", Source::Memories(me)).await?;
            }
            "MemoryToAssetsV1" => {
                self.send_new("MemoryToAssetDeleteV1", Source::MemoryAssetDeletes(me))
                    .await?;
                self.send_new("MemoryToAssetV1", Source::MemoryAssets(me)).await?;
            }
            "PeopleV1" => {
                self.send_new("PersonDeleteV1", Source::PersonDeletes(me)).await?;
                self.send_new("PersonV1", Source::People(me)).await?;
            }
            "AssetFacesV2" => {
                self.send_new("AssetFaceDeleteV1", Source::AssetFaceDeletes(me)).await?;
                self.send_new("AssetFaceV2", Source::AssetFaces(me)).await?;
            }
            "AssetOcrV1" => {
                self.send_new("AssetOcrDeleteV1", Source::AssetOcrDeletes(me)).await?;
                self.send_new("AssetOcrV1", Source::AssetOcr(me)).await?;
            }
            "AssetEditsV1" => {
                self.send_new("AssetEditDeleteV1", Source::AssetEditDeletes(me)).await?;
                self.send_new("AssetEditV1", Source::AssetEdits(me)).await?;
            }
            // Deprecated types were refused before the stream began.
            _ => {}
        }
        Ok(())
    }

    /// Album assets: changes to those the client already has (by its create checkpoint), then
    /// those added since, which carry their current state — so the update checkpoint moves
    /// up to now before the first of them.
    async fn created_and_updated<'s>(
        &mut self,
        create_type: &str,
        update_type: &str,
        albums: &'s [Uuid],
        updates: impl Fn(&'s [Uuid], Uuid) -> Source<'s>,
        creates: Source<'s>,
    ) -> Result<(), StreamError> {
        if let Some(created_until) = self.after(create_type) {
            self.send_new(update_type, updates(albums, created_until)).await?;
        }
        let window = Window {
            after: self.after(create_type),
            until: None,
            now: self.now,
            limit: PAGE,
        };
        let first = fetch(self.db, &creates, Window { limit: 1, ..window }).await?;
        if !first.is_empty() {
            self.lines
                .line("SyncAckV1", "{}", &format!("{update_type}|{}", self.now))
                .await?;
            self.send(create_type, None, create_type, creates, window).await?;
        }
        Ok(())
    }
}
