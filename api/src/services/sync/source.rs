//! Where a page of entities comes from: one storage stream with its scope.

use darkroom_storage::PgPool;
use darkroom_storage::sync::{self as store, Window};
use uuid::Uuid;

use super::wire::Entry;

/// Which entities a page comes from.
pub enum Source<'a> {
    AuthUser(Uuid),
    Users,
    UserDeletes,
    Partners(Uuid),
    PartnerDeletes(Uuid),
    Assets(&'a [Uuid], Uuid),
    AssetDeletes(&'a [Uuid]),
    AssetExifs(&'a [Uuid], Uuid),
    Stacks(&'a [Uuid]),
    StackDeletes(&'a [Uuid]),
    UserMetadata(Uuid),
    UserMetadataDeletes(Uuid),
    AssetMetadata(Uuid),
    AssetMetadataDeletes(Uuid),
    Albums(Uuid),
    AlbumsV1(Uuid),
    AlbumDeletes(Uuid),
    AlbumUsers(&'a [Uuid]),
    AlbumUserDeletes(&'a [Uuid]),
    AlbumToAssets(&'a [Uuid]),
    AlbumToAssetDeletes(&'a [Uuid]),
    AlbumAssets(&'a [Uuid], Uuid),
    AlbumAssetExifs(&'a [Uuid]),
    AlbumAssetUpdates(&'a [Uuid], Uuid, Uuid),
    AlbumAssetExifUpdates(&'a [Uuid], Uuid),
    Memories(Uuid),
    MemoryDeletes(Uuid),
    MemoryAssets(Uuid),
    MemoryAssetDeletes(Uuid),
    People(Uuid),
    PersonDeletes(Uuid),
    AssetFaces(Uuid),
    AssetFaceDeletes(Uuid),
    AssetOcr(Uuid),
    AssetOcrDeletes(Uuid),
    AssetEdits(Uuid),
    AssetEditDeletes(Uuid),
}

/// A page of `source` in `window`, as the entities to send.
pub async fn fetch(db: &PgPool, source: &Source<'_>, window: Window) -> darkroom_storage::Result<Vec<Entry>> {
    Ok(match *source {
        Source::AuthUser(user) => entries(store::auth_user(db, user, window).await?),
        Source::Users => entries(store::users(db, window).await?),
        Source::UserDeletes => entries(store::user_deletes(db, window).await?),
        Source::Partners(user) => entries(store::partners(db, user, window).await?),
        Source::PartnerDeletes(user) => entries(store::partner_deletes(db, user, window).await?),
        Source::Assets(owners, viewer) => entries(store::assets(db, owners, viewer, window).await?),
        Source::AssetDeletes(owners) => entries(store::asset_deletes(db, owners, window).await?),
        Source::AssetExifs(owners, viewer) => entries(store::asset_exifs(db, owners, viewer, window).await?),
        Source::Stacks(owners) => entries(store::stacks(db, owners, window).await?),
        Source::StackDeletes(owners) => entries(store::stack_deletes(db, owners, window).await?),
        Source::UserMetadata(user) => entries(store::user_metadata(db, user, window).await?),
        Source::UserMetadataDeletes(user) => entries(store::user_metadata_deletes(db, user, window).await?),
        Source::AssetMetadata(user) => entries(store::asset_metadata(db, user, window).await?),
        Source::AssetMetadataDeletes(user) => entries(store::asset_metadata_deletes(db, user, window).await?),
        Source::Albums(user) => entries(store::albums(db, user, false, window).await?),
        Source::AlbumsV1(user) => entries(store::albums(db, user, true, window).await?),
        Source::AlbumDeletes(user) => entries(store::album_deletes(db, user, window).await?),
        Source::AlbumUsers(albums) => entries(store::album_users(db, albums, window).await?),
        Source::AlbumUserDeletes(albums) => entries(store::album_user_deletes(db, albums, window).await?),
        Source::AlbumToAssets(albums) => entries(store::album_to_assets(db, albums, window).await?),
        Source::AlbumToAssetDeletes(albums) => entries(store::album_to_asset_deletes(db, albums, window).await?),
        Source::AlbumAssets(albums, viewer) => entries(store::album_assets(db, albums, viewer, window).await?),
        Source::AlbumAssetExifs(albums) => entries(store::album_asset_exifs(db, albums, window).await?),
        Source::AlbumAssetUpdates(albums, viewer, added_until) => {
            entries(store::album_asset_updates(db, albums, viewer, added_until, window).await?)
        }
        Source::AlbumAssetExifUpdates(albums, added_until) => {
            entries(store::album_asset_exif_updates(db, albums, added_until, window).await?)
        }
        Source::Memories(user) => entries(store::memories(db, user, window).await?),
        Source::MemoryDeletes(user) => entries(store::memory_deletes(db, user, window).await?),
        Source::MemoryAssets(user) => entries(store::memory_assets(db, user, window).await?),
        Source::MemoryAssetDeletes(user) => entries(store::memory_asset_deletes(db, user, window).await?),
        Source::People(user) => entries(store::people(db, user, window).await?),
        Source::PersonDeletes(user) => entries(store::person_deletes(db, user, window).await?),
        Source::AssetFaces(user) => entries(store::asset_faces(db, user, window).await?),
        Source::AssetFaceDeletes(user) => entries(store::asset_face_deletes(db, user, window).await?),
        Source::AssetOcr(user) => entries(store::asset_ocr(db, user, window).await?),
        Source::AssetOcrDeletes(user) => entries(store::asset_ocr_deletes(db, user, window).await?),
        Source::AssetEdits(user) => entries(store::asset_edits(db, user, window).await?),
        Source::AssetEditDeletes(user) => entries(store::asset_edit_deletes(db, user, window).await?),
    })
}

/// Rows in the order read, each as the entity it becomes.
fn entries<Row: Into<Entry>>(rows: Vec<Row>) -> Vec<Entry> {
    rows.into_iter().map(Into::into).collect()
}
