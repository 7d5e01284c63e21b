//! API-key permissions: Immich's `Permission` enum (3.0.3 plus the 3.2 additions).

use std::fmt;
use std::str::FromStr;

macro_rules! permissions {
    ($($variant:ident => $name:literal,)*) => {
        /// What an API key may do. `All` grants everything.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Permission {
            $($variant,)*
        }

        impl Permission {
            pub const ALL_VALUES: &'static [Permission] = &[$(Permission::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Permission::$variant => $name,)*
                }
            }
        }

        impl FromStr for Permission {
            type Err = ();

            fn from_str(value: &str) -> Result<Self, ()> {
                match value {
                    $($name => Ok(Permission::$variant),)*
                    _ => Err(()),
                }
            }
        }
    };
}

permissions! {
    All => "all",
    ActivityCreate => "activity.create",
    ActivityRead => "activity.read",
    ActivityUpdate => "activity.update",
    ActivityDelete => "activity.delete",
    ActivityStatistics => "activity.statistics",
    ApiKeyCreate => "apiKey.create",
    ApiKeyRead => "apiKey.read",
    ApiKeyUpdate => "apiKey.update",
    ApiKeyDelete => "apiKey.delete",
    AssetRead => "asset.read",
    AssetUpdate => "asset.update",
    AssetDelete => "asset.delete",
    AssetStatistics => "asset.statistics",
    AssetShare => "asset.share",
    AssetView => "asset.view",
    AssetDownload => "asset.download",
    AssetUpload => "asset.upload",
    AssetCopy => "asset.copy",
    AssetDerive => "asset.derive",
    AssetEditGet => "asset.edit.get",
    AssetEditCreate => "asset.edit.create",
    AssetEditDelete => "asset.edit.delete",
    AlbumCreate => "album.create",
    AlbumRead => "album.read",
    AlbumUpdate => "album.update",
    AlbumDelete => "album.delete",
    AlbumStatistics => "album.statistics",
    AlbumShare => "album.share",
    AlbumDownload => "album.download",
    AlbumAssetCreate => "albumAsset.create",
    AlbumAssetDelete => "albumAsset.delete",
    AlbumUserCreate => "albumUser.create",
    AlbumUserUpdate => "albumUser.update",
    AlbumUserDelete => "albumUser.delete",
    AuthChangePassword => "auth.changePassword",
    AuthDeviceDelete => "authDevice.delete",
    ArchiveRead => "archive.read",
    BackupList => "backup.list",
    BackupDownload => "backup.download",
    BackupUpload => "backup.upload",
    BackupDelete => "backup.delete",
    DuplicateRead => "duplicate.read",
    DuplicateDelete => "duplicate.delete",
    FaceCreate => "face.create",
    FaceRead => "face.read",
    FaceUpdate => "face.update",
    FaceDelete => "face.delete",
    FolderRead => "folder.read",
    JobCreate => "job.create",
    JobRead => "job.read",
    LibraryCreate => "library.create",
    LibraryRead => "library.read",
    LibraryUpdate => "library.update",
    LibraryDelete => "library.delete",
    LibraryStatistics => "library.statistics",
    TimelineRead => "timeline.read",
    TimelineDownload => "timeline.download",
    Maintenance => "maintenance",
    MapRead => "map.read",
    MapSearch => "map.search",
    MemoryCreate => "memory.create",
    MemoryRead => "memory.read",
    MemoryUpdate => "memory.update",
    MemoryDelete => "memory.delete",
    MemoryStatistics => "memory.statistics",
    MemoryAssetCreate => "memoryAsset.create",
    MemoryAssetDelete => "memoryAsset.delete",
    NotificationCreate => "notification.create",
    NotificationRead => "notification.read",
    NotificationUpdate => "notification.update",
    NotificationDelete => "notification.delete",
    PartnerCreate => "partner.create",
    PartnerRead => "partner.read",
    PartnerUpdate => "partner.update",
    PartnerDelete => "partner.delete",
    PersonCreate => "person.create",
    PersonRead => "person.read",
    PersonUpdate => "person.update",
    PersonDelete => "person.delete",
    PersonStatistics => "person.statistics",
    PersonMerge => "person.merge",
    PersonReassign => "person.reassign",
    PinCodeCreate => "pinCode.create",
    PinCodeUpdate => "pinCode.update",
    PinCodeDelete => "pinCode.delete",
    PluginCreate => "plugin.create",
    PluginRead => "plugin.read",
    PluginUpdate => "plugin.update",
    PluginDelete => "plugin.delete",
    ServerAbout => "server.about",
    ServerApkLinks => "server.apkLinks",
    ServerStorage => "server.storage",
    ServerStatistics => "server.statistics",
    ServerVersionCheck => "server.versionCheck",
    ServerLicenseRead => "serverLicense.read",
    ServerLicenseUpdate => "serverLicense.update",
    ServerLicenseDelete => "serverLicense.delete",
    SessionCreate => "session.create",
    SessionRead => "session.read",
    SessionUpdate => "session.update",
    SessionDelete => "session.delete",
    SessionLock => "session.lock",
    SharedLinkCreate => "sharedLink.create",
    SharedLinkRead => "sharedLink.read",
    SharedLinkUpdate => "sharedLink.update",
    SharedLinkDelete => "sharedLink.delete",
    StackCreate => "stack.create",
    StackRead => "stack.read",
    StackUpdate => "stack.update",
    StackDelete => "stack.delete",
    SyncStream => "sync.stream",
    SyncCheckpointRead => "syncCheckpoint.read",
    SyncCheckpointUpdate => "syncCheckpoint.update",
    SyncCheckpointDelete => "syncCheckpoint.delete",
    SystemConfigRead => "systemConfig.read",
    SystemConfigUpdate => "systemConfig.update",
    SystemMetadataRead => "systemMetadata.read",
    SystemMetadataUpdate => "systemMetadata.update",
    TagCreate => "tag.create",
    TagRead => "tag.read",
    TagUpdate => "tag.update",
    TagDelete => "tag.delete",
    TagAsset => "tag.asset",
    UserRead => "user.read",
    UserUpdate => "user.update",
    UserLicenseCreate => "userLicense.create",
    UserLicenseRead => "userLicense.read",
    UserLicenseUpdate => "userLicense.update",
    UserLicenseDelete => "userLicense.delete",
    UserOnboardingRead => "userOnboarding.read",
    UserOnboardingUpdate => "userOnboarding.update",
    UserOnboardingDelete => "userOnboarding.delete",
    UserPreferenceRead => "userPreference.read",
    UserPreferenceUpdate => "userPreference.update",
    UserProfileImageCreate => "userProfileImage.create",
    UserProfileImageRead => "userProfileImage.read",
    UserProfileImageUpdate => "userProfileImage.update",
    UserProfileImageDelete => "userProfileImage.delete",
    QueueRead => "queue.read",
    QueueUpdate => "queue.update",
    QueueJobCreate => "queueJob.create",
    QueueJobRead => "queueJob.read",
    QueueJobUpdate => "queueJob.update",
    QueueJobDelete => "queueJob.delete",
    WorkflowCreate => "workflow.create",
    WorkflowRead => "workflow.read",
    WorkflowUpdate => "workflow.update",
    WorkflowDelete => "workflow.delete",
    AdminUserCreate => "adminUser.create",
    AdminUserRead => "adminUser.read",
    AdminUserUpdate => "adminUser.update",
    AdminUserDelete => "adminUser.delete",
    AdminSessionRead => "adminSession.read",
    AdminAuthUnlinkAll => "adminAuth.unlinkAll",
    AdminConfigRead => "adminConfig.read",
    AdminConfigUpdate => "adminConfig.update",
    ApiKeyRotate => "apiKey.rotate",
    AssetFileRead => "assetFile.read",
    AssetFileDelete => "assetFile.delete",
    AssetFileDownload => "assetFile.download",
    ClusterGroupRead => "clusterGroup.read",
    ClusterGroupLeave => "clusterGroup.leave",
    ClusterGroupRequestCreate => "clusterGroupRequest.create",
    ClusterGroupRequestRead => "clusterGroupRequest.read",
    ClusterGroupRequestDelete => "clusterGroupRequest.delete",
    UserConfigRead => "userConfig.read",
    WorkflowLogs => "workflow.logs",
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Permission {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// Whether a key holding `held` may do what `wanted` needs.
pub fn grants(held: &[Permission], wanted: Permission) -> bool {
    held.contains(&Permission::All) || held.contains(&wanted)
}

/// Whether `held` covers every one of `requested` (a key can never hand out more than it has;
/// only an `all` key may create another `all` key).
pub fn covers(held: &[Permission], requested: &[Permission]) -> bool {
    requested.iter().all(|p| {
        if *p == Permission::All {
            held.contains(&Permission::All)
        } else {
            grants(held, *p)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for p in Permission::ALL_VALUES {
            assert_eq!(p.as_str().parse::<Permission>(), Ok(*p));
        }
        assert_eq!(Permission::ALL_VALUES.len(), 168);
        assert_eq!(Permission::AssetEditGet.as_str(), "asset.edit.get");
    }

    #[test]
    fn a_key_cannot_exceed_its_holder() {
        let held = [Permission::AssetRead, Permission::ApiKeyCreate];
        assert!(covers(&held, &[Permission::AssetRead]));
        assert!(!covers(&held, &[Permission::AssetDelete]));
        assert!(!covers(&held, &[Permission::All]));
        assert!(covers(&[Permission::All], &[Permission::All, Permission::AssetDelete]));
    }
}
