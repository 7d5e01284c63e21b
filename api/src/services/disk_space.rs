//! How full the media folder's file system is (`GET /server/storage`, the metrics).

use darkroom_storage::media_layout::{MediaLayout, StorageFolder};

/// Sizes in bytes; `available` is what an unprivileged writer may still use.
#[derive(Debug, Clone, Copy)]
pub struct DiskSpace {
    pub total: u64,
    pub free: u64,
    pub available: u64,
}

impl DiskSpace {
    pub fn used(&self) -> u64 {
        self.total.saturating_sub(self.free)
    }
}

/// The file system holding the library (the media folder's, when the library folder is missing).
pub fn of_media(layout: &MediaLayout) -> nix::Result<DiskSpace> {
    let stat = nix::sys::statvfs::statvfs(&layout.folder(StorageFolder::Library))
        .or_else(|_| nix::sys::statvfs::statvfs(layout.root()))?;
    let block = stat.fragment_size() as u64;
    Ok(DiskSpace {
        total: stat.blocks() as u64 * block,
        free: stat.blocks_free() as u64 * block,
        available: stat.blocks_available() as u64 * block,
    })
}
