//! The API's route table. Each line names method(s), path, who may call it and the handler;
//! the same table builds the router and is exported for the conformance tests.

mod activities;
mod albums;
mod api_keys;
mod asset_media;
mod assets;
mod auth;
mod config;
mod database_backups;
mod download;
mod duplicates;
mod faces;
mod jobs;
pub mod maintenance;
mod map;
mod memories;
mod notifications;
mod notifications_admin;
mod oauth;
mod partners;
mod people;
mod resumable;
mod search;
mod server;
mod sessions;
mod shared_links;
mod stacks;
mod sync;
mod system_config;
mod system_metadata;
mod tags;
mod timeline;
mod trash;
mod users;
mod users_admin;
mod view;

pub use auth::mark_onboarded_when_config_file;
pub use resumable::routes as resumable_routes;

use axum::Router;
use axum::handler::Handler;
use axum::routing::{MethodFilter, MethodRouter, on};

use crate::auth::{Access, authorize};
use crate::permission::Permission as P;
use crate::state::AppState;

/// One registered operation.
#[derive(Debug, Clone, Copy)]
pub struct RouteInfo {
    pub method: &'static str,
    pub path: &'static str,
    pub access: Access,
}

fn endpoint<H, T>(state: &AppState, method: MethodFilter, access: Access, handler: H) -> MethodRouter<AppState>
where
    H: Handler<T, AppState>,
    T: 'static,
{
    let route = on(method, handler);
    match access {
        Access::Public => route,
        _ => route.layer(axum::middleware::from_fn_with_state((state.clone(), access), authorize)),
    }
}

macro_rules! api_routes {
    ($( $($method:ident)|+ $path:literal, $access:expr => $handler:path; )*) => {
        /// Every operation under `/api`, as registered.
        pub fn route_table() -> Vec<RouteInfo> {
            vec![$($(RouteInfo { method: stringify!($method), path: $path, access: $access },)+)*]
        }

        pub fn api_router(state: &AppState) -> Router<AppState> {
            let mut router = Router::new();
            $($(router = router.route($path, endpoint(state, MethodFilter::$method, $access, $handler));)+)*
            router
        }
    };
}

// `PUT|PATCH`: Immich 3 accepts PATCH on its (deprecated) PUT routes.
api_routes! {
    // Authentication
    POST "/auth/admin-sign-up", Access::public() => auth::sign_up_admin;
    POST "/auth/login", Access::public() => auth::login;
    POST "/auth/logout", Access::permission(P::All) => auth::logout;
    POST "/auth/validateToken", Access::any() => auth::validate_token;
    POST "/auth/change-password", Access::permission(P::AuthChangePassword) => auth::change_password;
    GET "/auth/status", Access::permission(P::All) => auth::status;
    POST "/auth/pin-code", Access::permission(P::PinCodeCreate) => auth::setup_pin_code;
    PUT "/auth/pin-code", Access::permission(P::PinCodeUpdate) => auth::change_pin_code;
    DELETE "/auth/pin-code", Access::permission(P::PinCodeDelete) => auth::reset_pin_code;
    POST "/auth/session/lock", Access::permission(P::All) => auth::lock_session;
    POST "/auth/session/unlock", Access::permission(P::All) => auth::unlock_session;
    POST "/admin/auth/unlink-all", Access::admin(P::AdminAuthUnlinkAll) => oauth::unlink_all;
    GET "/oauth/mobile-redirect", Access::public() => oauth::mobile_redirect;
    POST "/oauth/authorize", Access::public() => oauth::authorize;
    POST "/oauth/callback", Access::public() => oauth::callback;
    POST "/oauth/link", Access::permission(P::All) => oauth::link;
    POST "/oauth/unlink", Access::permission(P::All) => oauth::unlink;
    POST "/oauth/backchannel-logout", Access::public() => oauth::backchannel_logout;

    // API keys
    GET "/api-keys", Access::permission(P::ApiKeyRead) => api_keys::list;
    POST "/api-keys", Access::permission(P::ApiKeyCreate) => api_keys::create;
    GET "/api-keys/me", Access::any() => api_keys::me;
    GET "/api-keys/{id}", Access::permission(P::ApiKeyRead) => api_keys::get;
    PUT|PATCH "/api-keys/{id}", Access::permission(P::ApiKeyUpdate) => api_keys::update;
    DELETE "/api-keys/{id}", Access::permission(P::ApiKeyDelete) => api_keys::delete;
    POST "/api-keys/{id}/rotate", Access::permission(P::ApiKeyRotate) => api_keys::rotate;

    // Sessions
    GET "/sessions", Access::permission(P::SessionRead) => sessions::list;
    POST "/sessions", Access::permission(P::SessionCreate) => sessions::create;
    DELETE "/sessions", Access::permission(P::SessionDelete) => sessions::delete_all;
    PUT|PATCH "/sessions/{id}", Access::permission(P::SessionUpdate) => sessions::update;
    DELETE "/sessions/{id}", Access::permission(P::SessionDelete) => sessions::delete;
    POST "/sessions/{id}/lock", Access::permission(P::SessionLock) => sessions::lock;

    // Users
    GET "/users", Access::permission(P::UserRead) => users::search;
    GET "/users/me", Access::permission(P::UserRead) => users::get_me;
    PUT|PATCH "/users/me", Access::permission(P::UserUpdate) => users::update_me;
    GET "/users/me/preferences", Access::permission(P::UserPreferenceRead) => users::get_my_preferences;
    PUT|PATCH "/users/me/preferences", Access::permission(P::UserPreferenceUpdate) => users::update_my_preferences;
    GET "/users/me/onboarding", Access::permission(P::UserOnboardingRead) => users::get_onboarding;
    PUT "/users/me/onboarding", Access::permission(P::UserOnboardingUpdate) => users::set_onboarding;
    DELETE "/users/me/onboarding", Access::permission(P::UserOnboardingDelete) => users::delete_onboarding;
    GET "/users/me/calendar-heatmap", Access::permission(P::UserRead) => users::calendar_heatmap;
    GET "/users/me/license", Access::permission(P::UserLicenseRead) => users::get_license;
    PUT "/users/me/license", Access::permission(P::UserLicenseUpdate) => users::set_license;
    DELETE "/users/me/license", Access::permission(P::UserLicenseDelete) => users::delete_license;
    POST "/users/profile-image", Access::permission(P::UserProfileImageUpdate) => users::create_profile_image;
    DELETE "/users/profile-image", Access::permission(P::UserProfileImageDelete) => users::delete_profile_image;
    GET "/users/{id}", Access::permission(P::UserRead) => users::get;
    GET "/users/{id}/profile-image", Access::permission(P::UserProfileImageRead) => users::get_profile_image;

    // Database backups (admin)
    GET "/admin/database-backups", Access::admin(P::Maintenance) => database_backups::list;
    DELETE "/admin/database-backups", Access::admin(P::BackupDelete) => database_backups::delete;
    POST "/admin/database-backups/upload", Access::admin(P::BackupUpload) => database_backups::upload;
    GET "/admin/database-backups/{filename}", Access::admin(P::BackupDownload) => database_backups::download;
    POST "/admin/database-backups/start-restore", Access::public() => maintenance::start_restore;

    // Maintenance (admin); in maintenance mode `maintenance::router` answers instead
    POST "/admin/maintenance", Access::admin(P::Maintenance) => maintenance::enter;
    GET "/admin/maintenance/status", Access::public() => maintenance::status;
    GET "/admin/maintenance/detect-install", Access::admin(P::Maintenance) => maintenance::detect_install;
    POST "/admin/maintenance/login", Access::public() => maintenance::login;

    // Users (admin)
    GET "/admin/users", Access::admin(P::AdminUserRead) => users_admin::search;
    POST "/admin/users", Access::admin(P::AdminUserCreate) => users_admin::create;
    GET "/admin/users/{id}", Access::admin(P::AdminUserRead) => users_admin::get;
    PUT|PATCH "/admin/users/{id}", Access::admin(P::AdminUserUpdate) => users_admin::update;
    DELETE "/admin/users/{id}", Access::admin(P::AdminUserDelete) => users_admin::delete;
    POST "/admin/users/{id}/restore", Access::admin(P::AdminUserDelete) => users_admin::restore;
    GET "/admin/users/{id}/preferences", Access::admin(P::AdminUserRead) => users_admin::get_preferences;
    PUT|PATCH "/admin/users/{id}/preferences", Access::admin(P::AdminUserUpdate) => users_admin::update_preferences;
    GET "/admin/users/{id}/sessions", Access::admin(P::AdminSessionRead) => users_admin::sessions;
    GET "/admin/users/{id}/statistics", Access::admin(P::AdminUserRead) => users_admin::statistics;
    // Immich asks only for `user.read` here, not for an admin.
    GET "/admin/users/{id}/calendar-heatmap", Access::permission(P::UserRead) => users_admin::calendar_heatmap;

    // Assets
    POST "/assets", Access::shared(P::AssetUpload) => asset_media::upload;
    PUT|PATCH "/assets", Access::permission(P::AssetUpdate) => assets::update_many;
    DELETE "/assets", Access::permission(P::AssetDelete) => assets::delete;
    POST "/assets/bulk-upload-check", Access::permission(P::AssetUpload) => asset_media::bulk_upload_check;
    PUT "/assets/copy", Access::permission(P::AssetCopy) => assets::copy;
    POST "/assets/jobs", Access::permission(P::JobCreate) => jobs::asset_jobs;
    PUT "/assets/metadata", Access::permission(P::AssetUpdate) => assets::upsert_metadata_bulk;
    DELETE "/assets/metadata", Access::permission(P::AssetUpdate) => assets::delete_metadata_bulk;
    GET "/assets/statistics", Access::permission(P::AssetStatistics) => assets::statistics;
    GET "/assets/{id}", Access::shared(P::AssetRead) => assets::get;
    PUT|PATCH "/assets/{id}", Access::permission(P::AssetUpdate) => assets::update;
    GET "/assets/{id}/original", Access::shared(P::AssetDownload) => asset_media::download_original;
    GET "/assets/{id}/thumbnail", Access::shared(P::AssetView) => asset_media::thumbnail;
    GET "/assets/{id}/video/playback", Access::shared(P::AssetView) => asset_media::video_playback;
    GET "/assets/{id}/metadata", Access::permission(P::AssetRead) => assets::get_metadata;
    PUT "/assets/{id}/metadata", Access::permission(P::AssetUpdate) => assets::upsert_metadata;
    GET "/assets/{id}/metadata/{key}", Access::permission(P::AssetRead) => assets::get_metadata_key;
    DELETE "/assets/{id}/metadata/{key}", Access::permission(P::AssetUpdate) => assets::delete_metadata_key;

    // Downloads
    POST "/download/info", Access::shared(P::AssetDownload) => download::info;
    POST "/download/archive", Access::shared(P::AssetDownload) => download::archive;

    // Folders
    GET "/view/folder/unique-paths", Access::permission(P::FolderRead) => view::unique_paths;
    GET "/view/folder", Access::permission(P::FolderRead) => view::folder;

    // Albums
    GET "/albums", Access::permission(P::AlbumRead) => albums::list;
    POST "/albums", Access::permission(P::AlbumCreate) => albums::create;
    PUT "/albums/assets", Access::permission(P::AlbumAssetCreate) => albums::add_assets_to_albums;
    GET "/albums/statistics", Access::permission(P::AlbumStatistics) => albums::statistics;
    GET "/albums/{id}", Access::shared(P::AlbumRead) => albums::get;
    PATCH "/albums/{id}", Access::permission(P::AlbumUpdate) => albums::update;
    DELETE "/albums/{id}", Access::permission(P::AlbumDelete) => albums::delete;
    PUT "/albums/{id}/assets", Access::permission(P::AlbumAssetCreate) => albums::add_assets;
    DELETE "/albums/{id}/assets", Access::permission(P::AlbumAssetDelete) => albums::remove_assets;
    GET "/albums/{id}/map-markers", Access::shared(P::AlbumRead) => albums::map_markers;
    PUT "/albums/{id}/users", Access::permission(P::AlbumUserCreate) => albums::add_users;
    PUT "/albums/{id}/user/{userId}", Access::permission(P::AlbumUserUpdate) => albums::update_user;
    DELETE "/albums/{id}/user/{userId}", Access::permission(P::AlbumUserDelete) => albums::remove_user;

    // Partners
    GET "/partners", Access::permission(P::PartnerRead) => partners::search;
    POST "/partners", Access::permission(P::PartnerCreate) => partners::create;
    POST "/partners/{id}", Access::permission(P::PartnerCreate) => partners::create_deprecated;
    PUT "/partners/{id}", Access::permission(P::PartnerUpdate) => partners::update;
    DELETE "/partners/{id}", Access::permission(P::PartnerDelete) => partners::remove;

    // Mobile sync
    POST "/sync/stream", Access::permission(P::SyncStream) => sync::stream;
    GET "/sync/ack", Access::permission(P::SyncCheckpointRead) => sync::get_acks;
    POST "/sync/ack", Access::permission(P::SyncCheckpointUpdate) => sync::set_acks;
    DELETE "/sync/ack", Access::permission(P::SyncCheckpointDelete) => sync::delete_acks;

    // Stacks, duplicates, map
    GET "/stacks", Access::permission(P::StackRead) => stacks::search;
    POST "/stacks", Access::permission(P::StackCreate) => stacks::create;
    DELETE "/stacks", Access::permission(P::StackDelete) => stacks::delete_all;
    GET "/stacks/{id}", Access::permission(P::StackRead) => stacks::get;
    PUT|PATCH "/stacks/{id}", Access::permission(P::StackUpdate) => stacks::update;
    DELETE "/stacks/{id}", Access::permission(P::StackDelete) => stacks::delete;
    DELETE "/stacks/{id}/assets/{assetId}", Access::permission(P::StackUpdate) => stacks::remove_asset;
    GET "/duplicates", Access::permission(P::DuplicateRead) => duplicates::list;
    DELETE "/duplicates", Access::permission(P::DuplicateDelete) => duplicates::dismiss_many;
    DELETE "/duplicates/{id}", Access::permission(P::DuplicateDelete) => duplicates::dismiss_one;
    POST "/duplicates/resolve", Access::permission(P::DuplicateDelete) => duplicates::resolve;
    GET "/map/markers", Access::permission(P::MapRead) => map::markers;
    GET "/map/reverse-geocode", Access::permission(P::MapSearch) => map::reverse_geocode;

    // Memories
    GET "/memories", Access::permission(P::MemoryRead) => memories::search;
    POST "/memories", Access::permission(P::MemoryCreate) => memories::create;
    GET "/memories/statistics", Access::permission(P::MemoryStatistics) => memories::statistics;
    GET "/memories/{id}", Access::permission(P::MemoryRead) => memories::get;
    PUT|PATCH "/memories/{id}", Access::permission(P::MemoryUpdate) => memories::update;
    DELETE "/memories/{id}", Access::permission(P::MemoryDelete) => memories::delete;
    PUT "/memories/{id}/assets", Access::permission(P::MemoryAssetCreate) => memories::add_assets;
    DELETE "/memories/{id}/assets", Access::permission(P::MemoryAssetDelete) => memories::remove_assets;

    // Tags
    GET "/tags", Access::permission(P::TagRead) => tags::list;
    POST "/tags", Access::permission(P::TagCreate) => tags::create;
    PUT "/tags", Access::permission(P::TagCreate) => tags::upsert;
    PUT "/tags/assets", Access::permission(P::TagAsset) => tags::tag_many;
    GET "/tags/{id}", Access::permission(P::TagRead) => tags::get;
    PUT|PATCH "/tags/{id}", Access::permission(P::TagUpdate) => tags::update;
    DELETE "/tags/{id}", Access::permission(P::TagDelete) => tags::delete;
    PUT "/tags/{id}/assets", Access::permission(P::TagAsset) => tags::add_assets;
    DELETE "/tags/{id}/assets", Access::permission(P::TagAsset) => tags::remove_assets;

    // People and faces
    GET "/people", Access::permission(P::PersonRead) => people::list;
    POST "/people", Access::permission(P::PersonCreate) => people::create;
    PUT "/people", Access::permission(P::PersonUpdate) => people::update_many;
    DELETE "/people", Access::permission(P::PersonDelete) => people::delete_many;
    GET "/people/{id}", Access::permission(P::PersonRead) => people::get;
    PUT|PATCH "/people/{id}", Access::permission(P::PersonUpdate) => people::update;
    DELETE "/people/{id}", Access::permission(P::PersonDelete) => people::delete;
    POST "/people/{id}/merge", Access::permission(P::PersonMerge) => people::merge;
    PUT "/people/{id}/reassign", Access::permission(P::PersonReassign) => people::reassign;
    GET "/people/{id}/statistics", Access::permission(P::PersonStatistics) => people::statistics;
    GET "/people/{id}/thumbnail", Access::permission(P::PersonRead) => people::thumbnail;
    GET "/faces", Access::permission(P::FaceRead) => faces::list;
    POST "/faces", Access::permission(P::FaceCreate) => faces::create;
    PUT "/faces/{id}", Access::permission(P::FaceUpdate) => faces::reassign;
    DELETE "/faces/{id}", Access::permission(P::FaceDelete) => faces::delete;
    GET "/assets/{id}/ocr", Access::permission(P::AssetRead) => assets::get_ocr;

    // Search by metadata
    POST "/search/metadata", Access::shared(P::AssetRead) => search::metadata;
    POST "/search/smart", Access::permission(P::AssetRead) => search::smart;
    POST "/search/random", Access::permission(P::AssetRead) => search::random;
    POST "/search/statistics", Access::permission(P::AssetStatistics) => search::statistics;
    POST "/search/large-assets", Access::permission(P::AssetRead) => search::large_assets;
    GET "/search/suggestions", Access::permission(P::AssetRead) => search::suggestions;
    GET "/search/explore", Access::permission(P::AssetRead) => search::explore;
    GET "/search/cities", Access::permission(P::AssetRead) => search::cities;
    GET "/search/places", Access::permission(P::AssetRead) => search::places;
    GET "/search/person", Access::permission(P::PersonRead) => search::person;

    // Timeline
    GET "/timeline/buckets", Access::shared(P::AssetRead) => timeline::buckets;
    GET "/timeline/bucket", Access::shared(P::AssetRead) => timeline::bucket;

    // Album activity
    GET "/activities", Access::permission(P::ActivityRead) => activities::list;
    POST "/activities", Access::permission(P::ActivityCreate) => activities::create;
    GET "/activities/statistics", Access::permission(P::ActivityStatistics) => activities::statistics;
    DELETE "/activities/{id}", Access::permission(P::ActivityDelete) => activities::delete;

    // Shared links
    GET "/shared-links", Access::permission(P::SharedLinkRead) => shared_links::list;
    POST "/shared-links", Access::permission(P::SharedLinkCreate) => shared_links::create;
    POST "/shared-links/login", Access::link_guest() => shared_links::login;
    GET "/shared-links/me", Access::link_guest() => shared_links::me;
    GET "/shared-links/{id}", Access::permission(P::SharedLinkRead) => shared_links::get;
    PATCH "/shared-links/{id}", Access::permission(P::SharedLinkUpdate) => shared_links::update;
    DELETE "/shared-links/{id}", Access::permission(P::SharedLinkDelete) => shared_links::delete;
    PUT "/shared-links/{id}/assets", Access::permission(P::SharedLinkUpdate) => shared_links::add_assets;
    DELETE "/shared-links/{id}/assets", Access::permission(P::SharedLinkUpdate) => shared_links::remove_assets;

    // Jobs and queues
    GET "/jobs", Access::admin(P::JobRead) => jobs::get_all_legacy;
    POST "/jobs", Access::admin(P::JobCreate) => jobs::create;
    PUT "/jobs/{name}", Access::admin(P::JobCreate) => jobs::command;
    GET "/queues", Access::admin(P::QueueRead) => jobs::list_queues;
    GET "/queues/{name}", Access::admin(P::QueueRead) => jobs::get_queue;
    PUT "/queues/{name}", Access::admin(P::QueueUpdate) => jobs::update_queue;
    GET "/queues/{name}/jobs", Access::admin(P::QueueJobRead) => jobs::queue_jobs;
    DELETE "/queues/{name}/jobs", Access::admin(P::QueueJobDelete) => jobs::delete_queue_jobs;

    // Notifications
    GET "/notifications", Access::permission(P::NotificationRead) => notifications::search;
    PUT "/notifications", Access::permission(P::NotificationUpdate) => notifications::update_many;
    DELETE "/notifications", Access::permission(P::NotificationDelete) => notifications::delete_many;
    GET "/notifications/{id}", Access::permission(P::NotificationRead) => notifications::get;
    PUT "/notifications/{id}", Access::permission(P::NotificationUpdate) => notifications::update;
    DELETE "/notifications/{id}", Access::permission(P::NotificationDelete) => notifications::delete;
    POST "/admin/notifications", Access::admin(P::All) => notifications_admin::create;
    POST "/admin/notifications/test-email", Access::admin(P::All) => notifications_admin::send_test_email;
    POST "/admin/notifications/templates/{name}", Access::admin(P::All) => notifications_admin::template;

    // Trash
    POST "/trash/empty", Access::permission(P::AssetDelete) => trash::empty;
    POST "/trash/restore", Access::permission(P::AssetDelete) => trash::restore;
    POST "/trash/restore/assets", Access::permission(P::AssetDelete) => trash::restore_assets;

    // Server
    GET "/server/ping", Access::public() => server::ping;
    GET "/server/version", Access::public() => server::version;
    GET "/server/version-history", Access::public() => server::version_history;
    GET "/server/features", Access::public() => server::features;
    GET "/server/config", Access::public() => server::config;
    GET "/server/media-types", Access::public() => server::media_types;
    GET "/server/about", Access::permission(P::ServerAbout) => server::about;
    GET "/server/storage", Access::permission(P::ServerStorage) => server::storage;
    GET "/server/version-check", Access::permission(P::ServerVersionCheck) => server::version_check;
    GET "/server/statistics", Access::admin(P::ServerStatistics) => server::statistics;
    GET "/server/apk-links", Access::permission(P::ServerApkLinks) => server::apk_links;
    GET "/server/license", Access::admin(P::ServerLicenseRead) => server::get_license;
    PUT "/server/license", Access::admin(P::ServerLicenseUpdate) => server::set_license;
    DELETE "/server/license", Access::admin(P::ServerLicenseDelete) => server::delete_license;

    // System config (3.0) and its 3.2 successors
    GET "/system-config", Access::admin(P::SystemConfigRead) => system_config::get;
    PUT "/system-config", Access::admin(P::SystemConfigUpdate) => system_config::update;
    GET "/system-config/defaults", Access::admin(P::SystemConfigRead) => system_config::defaults;
    GET "/system-config/storage-template-options", Access::admin(P::SystemConfigRead) => system_config::storage_template_options;
    GET "/admin/config", Access::admin(P::AdminConfigRead) => system_config::get;
    PUT "/admin/config", Access::admin(P::AdminConfigUpdate) => system_config::update;
    GET "/admin/config/defaults", Access::admin(P::AdminConfigRead) => system_config::defaults;
    GET "/public/config", Access::public() => config::public;
    GET "/public/config/defaults", Access::public() => config::public_defaults;
    GET "/config", Access::permission(P::UserConfigRead) => config::user;
    GET "/config/defaults", Access::permission(P::UserConfigRead) => config::user_defaults;

    // System metadata
    GET "/system-metadata/admin-onboarding", Access::admin(P::SystemMetadataRead) => system_metadata::get_admin_onboarding;
    POST "/system-metadata/admin-onboarding", Access::admin(P::SystemMetadataUpdate) => system_metadata::set_admin_onboarding;
    GET "/system-metadata/reverse-geocoding-state", Access::admin(P::SystemMetadataRead) => system_metadata::reverse_geocoding_state;
    GET "/system-metadata/version-check-state", Access::admin(P::SystemMetadataRead) => system_metadata::version_check_state;
}
