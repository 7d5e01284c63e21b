//! Immich's `SystemConfig` as types: every section and field, in Immich's order, so the JSON
//! served and accepted is exactly Immich's. Their defaults are in `defaults.rs`, the limits on
//! their numbers in `limits.rs`.

pub use darkroom_media::settings::{
    Accel, AudioCodec, Colorspace, Container, CqMode, ImageFormat, ToneMapping, TranscodePolicy, VideoCodec,
};
use serde::{Deserialize, Serialize};

pub use crate::config::LogLevel;

/// Immich's `SystemConfig`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SystemConfig {
    pub backup: BackupConfig,
    pub ffmpeg: FfmpegConfig,
    pub integrity_checks: IntegrityChecksConfig,
    pub job: JobConfig,
    pub logging: LoggingConfig,
    pub machine_learning: MachineLearningConfig,
    pub map: MapConfig,
    pub reverse_geocoding: EnabledConfig,
    pub metadata: MetadataConfig,
    pub oauth: OauthConfig,
    pub password_login: EnabledConfig,
    pub storage_template: StorageTemplateConfig,
    pub image: ImageConfig,
    pub new_version_check: NewVersionCheckConfig,
    pub nightly_tasks: NightlyTasksConfig,
    pub trash: TrashConfig,
    pub theme: ThemeConfig,
    pub library: LibraryConfig,
    pub server: ServerConfig,
    pub notifications: NotificationsConfig,
    pub templates: TemplatesConfig,
    pub user: UserConfig,
}

/// `user`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserConfig {
    pub delete_delay: i64,
}

/// `templates`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplatesConfig {
    pub email: TemplatesEmailConfig,
}

/// `templates.email`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplatesEmailConfig {
    pub welcome_template: String,
    pub album_invite_template: String,
    pub album_update_template: String,
}

/// `notifications`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationsConfig {
    pub smtp: NotificationsSmtpConfig,
}

/// `notifications.smtp`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationsSmtpConfig {
    pub enabled: bool,
    pub from: String,
    pub reply_to: String,
    pub transport: NotificationsSmtpTransportConfig,
}

/// `notifications.smtp.transport`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationsSmtpTransportConfig {
    pub ignore_cert: bool,
    pub host: String,
    pub port: i64,
    pub secure: bool,
    pub username: String,
    pub password: String,
}

/// `server`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerConfig {
    pub external_domain: String,
    pub login_page_message: String,
    pub public_users: bool,
}

/// `library`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LibraryConfig {
    pub scan: ScheduledConfig,
    pub watch: EnabledConfig,
}

/// A section that is only switched on or off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnabledConfig {
    pub enabled: bool,
}

/// Work switched on or off and run on a cron schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduledConfig {
    pub enabled: bool,
    pub cron_expression: String,
}

/// `theme`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThemeConfig {
    pub custom_css: String,
}

/// `trash`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrashConfig {
    pub enabled: bool,
    pub days: i64,
}

/// `nightlyTasks`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NightlyTasksConfig {
    pub start_time: String,
    pub database_cleanup: bool,
    pub generate_memories: bool,
    pub sync_quota_usage: bool,
    pub missing_thumbnails: bool,
    pub cluster_new_faces: bool,
}

/// `newVersionCheck`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewVersionCheckConfig {
    pub enabled: bool,
    pub channel: ReleaseChannel,
}

/// `image`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageConfig {
    pub thumbnail: ImageFileConfig,
    pub preview: ImageFileConfig,
    pub colorspace: Colorspace,
    pub extract_embedded: bool,
    pub fullsize: ImageFullsizeConfig,
}

/// `image.fullsize`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageFullsizeConfig {
    pub enabled: bool,
    pub format: ImageFormat,
    pub quality: i64,
    pub progressive: bool,
}

/// `image.preview` and `image.thumbnail`: one generated image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageFileConfig {
    pub format: ImageFormat,
    pub size: i64,
    pub quality: i64,
    pub progressive: bool,
}

/// `storageTemplate`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StorageTemplateConfig {
    pub enabled: bool,
    pub hash_verification_enabled: bool,
    pub template: String,
}

/// `oauth`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OauthConfig {
    pub auto_launch: bool,
    pub auto_register: bool,
    pub button_text: String,
    pub client_id: String,
    pub client_secret: String,
    pub default_storage_quota: Option<i64>,
    pub enabled: bool,
    pub issuer_url: String,
    pub end_session_endpoint: String,
    pub mobile_override_enabled: bool,
    pub mobile_redirect_uri: String,
    pub prompt: String,
    pub scope: String,
    pub signing_algorithm: String,
    pub profile_signing_algorithm: String,
    pub storage_label_claim: String,
    pub storage_quota_claim: String,
    pub role_claim: String,
    pub token_endpoint_auth_method: TokenEndpointAuthMethod,
    pub timeout: i64,
    pub allow_insecure_requests: bool,
    /// Where users manage their provider account (Immich 3.2's optional setting, shown in the
    /// web app's user settings); absent from Immich 3.0's config, so only present when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_management_url: Option<String>,
}

/// `metadata`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetadataConfig {
    pub faces: MetadataFacesConfig,
}

/// `metadata.faces`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetadataFacesConfig {
    pub import: bool,
}

/// `map`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MapConfig {
    pub enabled: bool,
    pub light_style: String,
    pub dark_style: String,
}

/// `machineLearning`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MachineLearningConfig {
    pub enabled: bool,
    pub urls: Vec<String>,
    pub availability_checks: MachineLearningAvailabilityChecksConfig,
    pub clip: MachineLearningClipConfig,
    pub duplicate_detection: MachineLearningDuplicateDetectionConfig,
    pub facial_recognition: MachineLearningFacialRecognitionConfig,
    pub ocr: MachineLearningOcrConfig,
}

/// `machineLearning.ocr`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MachineLearningOcrConfig {
    pub enabled: bool,
    pub model_name: String,
    pub min_detection_score: serde_json::Number,
    pub min_recognition_score: serde_json::Number,
    pub max_resolution: i64,
}

/// `machineLearning.facialRecognition`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MachineLearningFacialRecognitionConfig {
    pub enabled: bool,
    pub model_name: String,
    pub min_score: serde_json::Number,
    pub max_distance: serde_json::Number,
    pub min_faces: i64,
}

/// `machineLearning.duplicateDetection`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MachineLearningDuplicateDetectionConfig {
    pub enabled: bool,
    pub max_distance: serde_json::Number,
}

/// `machineLearning.clip`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MachineLearningClipConfig {
    pub enabled: bool,
    pub model_name: String,
}

/// `machineLearning.availabilityChecks`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MachineLearningAvailabilityChecksConfig {
    pub enabled: bool,
    pub timeout: i64,
    pub interval: i64,
}

/// `logging`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoggingConfig {
    pub enabled: bool,
    pub level: LogLevel,
}

/// `job`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobConfig {
    pub background_task: QueueConfig,
    pub smart_search: QueueConfig,
    pub metadata_extraction: QueueConfig,
    pub face_detection: QueueConfig,
    pub search: QueueConfig,
    pub sidecar: QueueConfig,
    pub library: QueueConfig,
    pub migration: QueueConfig,
    pub thumbnail_generation: QueueConfig,
    pub video_conversion: QueueConfig,
    pub notifications: QueueConfig,
    pub ocr: QueueConfig,
    pub workflow: QueueConfig,
    pub integrity_check: QueueConfig,
    pub editor: QueueConfig,
}

impl JobConfig {
    /// Each queue's settings under its name in `job`.
    pub fn queues(&self) -> [(&'static str, &QueueConfig); 15] {
        [
            ("backgroundTask", &self.background_task),
            ("smartSearch", &self.smart_search),
            ("metadataExtraction", &self.metadata_extraction),
            ("faceDetection", &self.face_detection),
            ("search", &self.search),
            ("sidecar", &self.sidecar),
            ("library", &self.library),
            ("migration", &self.migration),
            ("thumbnailGeneration", &self.thumbnail_generation),
            ("videoConversion", &self.video_conversion),
            ("notifications", &self.notifications),
            ("ocr", &self.ocr),
            ("workflow", &self.workflow),
            ("integrityCheck", &self.integrity_check),
            ("editor", &self.editor),
        ]
    }
}

/// A queue of `job`: how many of its jobs run at once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueConfig {
    pub concurrency: i64,
}

/// `integrityChecks`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IntegrityChecksConfig {
    pub missing_files: ScheduledConfig,
    pub untracked_files: ScheduledConfig,
    pub checksum_files: IntegrityChecksChecksumFilesConfig,
}

/// `integrityChecks.checksumFiles`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IntegrityChecksChecksumFilesConfig {
    pub enabled: bool,
    pub cron_expression: String,
    pub time_limit: i64,
    pub percentage_limit: serde_json::Number,
}

/// `ffmpeg`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FfmpegConfig {
    pub crf: i64,
    pub threads: i64,
    pub preset: String,
    pub target_video_codec: VideoCodec,
    pub accepted_video_codecs: Vec<VideoCodec>,
    pub target_audio_codec: AudioCodec,
    pub accepted_audio_codecs: Vec<AudioCodec>,
    pub accepted_containers: Vec<Container>,
    pub target_resolution: String,
    pub max_bitrate: String,
    pub bframes: i64,
    pub refs: i64,
    pub gop_size: i64,
    #[serde(rename = "temporalAQ")]
    pub temporal_aq: bool,
    pub cq_mode: CqMode,
    pub two_pass: bool,
    pub preferred_hw_device: String,
    pub transcode: TranscodePolicy,
    pub tonemap: ToneMapping,
    pub accel: Accel,
    pub accel_decode: bool,
    pub realtime: FfmpegRealtimeConfig,
}

/// `ffmpeg.realtime`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FfmpegRealtimeConfig {
    pub enabled: bool,
    pub video_codecs: Vec<VideoCodec>,
    pub resolutions: Vec<i64>,
}

/// `backup`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupConfig {
    pub database: BackupDatabaseConfig,
}

/// `backup.database`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupDatabaseConfig {
    pub enabled: bool,
    pub cron_expression: String,
    pub keep_last_amount: i64,
}

/// `newVersionCheck.channel`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ReleaseChannel {
    Stable,
    ReleaseCandidate,
}

/// `oauth.tokenEndpointAuthMethod`: how the client authenticates to the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenEndpointAuthMethod {
    ClientSecretPost,
    ClientSecretBasic,
}
