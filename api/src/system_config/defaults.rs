//! Immich's default system config (as of Immich 3.0.3): what a new server starts with and what
//! an admin's saved differences are laid over.

use serde_json::Number;

use super::sections::*;

impl Default for SystemConfig {
    fn default() -> Self {
        SystemConfig {
            backup: BackupConfig {
                database: BackupDatabaseConfig {
                    enabled: true,
                    cron_expression: "0 02 * * *".into(),
                    keep_last_amount: 14,
                },
            },
            ffmpeg: FfmpegConfig {
                crf: 23,
                threads: 0,
                preset: "ultrafast".into(),
                target_video_codec: VideoCodec::H264,
                accepted_video_codecs: vec![VideoCodec::H264],
                target_audio_codec: AudioCodec::Aac,
                accepted_audio_codecs: vec![AudioCodec::Aac, AudioCodec::Mp3, AudioCodec::Opus],
                accepted_containers: vec![Container::Mov, Container::Ogg, Container::Webm],
                target_resolution: "720".into(),
                max_bitrate: "0".into(),
                bframes: -1,
                refs: 0,
                gop_size: 0,
                temporal_aq: false,
                cq_mode: CqMode::Auto,
                two_pass: false,
                preferred_hw_device: "auto".into(),
                transcode: TranscodePolicy::Required,
                tonemap: ToneMapping::Hable,
                accel: Accel::Disabled,
                accel_decode: true,
                realtime: FfmpegRealtimeConfig {
                    enabled: false,
                    video_codecs: vec![VideoCodec::H264, VideoCodec::Hevc],
                    resolutions: vec![480, 720, 1080],
                },
            },
            integrity_checks: IntegrityChecksConfig {
                missing_files: ScheduledConfig {
                    enabled: true,
                    cron_expression: "0 03 * * *".into(),
                },
                untracked_files: ScheduledConfig {
                    enabled: true,
                    cron_expression: "0 03 * * *".into(),
                },
                checksum_files: IntegrityChecksChecksumFilesConfig {
                    enabled: true,
                    cron_expression: "0 03 * * *".into(),
                    time_limit: 3600000,
                    percentage_limit: Number::from(1),
                },
            },
            job: JobConfig {
                background_task: QueueConfig { concurrency: 5 },
                smart_search: QueueConfig { concurrency: 2 },
                metadata_extraction: QueueConfig { concurrency: 5 },
                face_detection: QueueConfig { concurrency: 2 },
                search: QueueConfig { concurrency: 5 },
                sidecar: QueueConfig { concurrency: 5 },
                library: QueueConfig { concurrency: 5 },
                migration: QueueConfig { concurrency: 5 },
                thumbnail_generation: QueueConfig { concurrency: 3 },
                video_conversion: QueueConfig { concurrency: 1 },
                notifications: QueueConfig { concurrency: 5 },
                ocr: QueueConfig { concurrency: 1 },
                workflow: QueueConfig { concurrency: 5 },
                integrity_check: QueueConfig { concurrency: 1 },
                editor: QueueConfig { concurrency: 2 },
            },
            logging: LoggingConfig {
                enabled: true,
                level: LogLevel::Log,
            },
            machine_learning: MachineLearningConfig {
                enabled: true,
                urls: vec!["http://immich-machine-learning:3003".into()],
                availability_checks: MachineLearningAvailabilityChecksConfig {
                    enabled: true,
                    timeout: 2000,
                    interval: 30000,
                },
                clip: MachineLearningClipConfig {
                    enabled: true,
                    model_name: "ViT-B-32__openai".into(),
                },
                duplicate_detection: MachineLearningDuplicateDetectionConfig {
                    enabled: true,
                    max_distance: fraction(0.01),
                },
                facial_recognition: MachineLearningFacialRecognitionConfig {
                    enabled: true,
                    model_name: "buffalo_l".into(),
                    min_score: fraction(0.7),
                    max_distance: fraction(0.5),
                    min_faces: 3,
                },
                ocr: MachineLearningOcrConfig {
                    enabled: true,
                    model_name: "PP-OCRv5_mobile".into(),
                    min_detection_score: fraction(0.5),
                    min_recognition_score: fraction(0.8),
                    max_resolution: 736,
                },
            },
            map: MapConfig {
                enabled: true,
                light_style: "https://tiles.immich.cloud/v1/style/light.json".into(),
                dark_style: "https://tiles.immich.cloud/v1/style/dark.json".into(),
            },
            reverse_geocoding: EnabledConfig { enabled: true },
            metadata: MetadataConfig {
                faces: MetadataFacesConfig { import: false },
            },
            oauth: OauthConfig {
                auto_launch: false,
                auto_register: true,
                button_text: "Login with OAuth".into(),
                client_id: String::new(),
                client_secret: String::new(),
                default_storage_quota: None,
                enabled: false,
                issuer_url: String::new(),
                end_session_endpoint: String::new(),
                mobile_override_enabled: false,
                mobile_redirect_uri: String::new(),
                prompt: String::new(),
                scope: "openid email profile".into(),
                signing_algorithm: "RS256".into(),
                profile_signing_algorithm: "none".into(),
                storage_label_claim: "preferred_username".into(),
                storage_quota_claim: "immich_quota".into(),
                role_claim: "immich_role".into(),
                token_endpoint_auth_method: TokenEndpointAuthMethod::ClientSecretPost,
                timeout: 30000,
                allow_insecure_requests: false,
                account_management_url: None,
            },
            password_login: EnabledConfig { enabled: true },
            storage_template: StorageTemplateConfig {
                enabled: false,
                hash_verification_enabled: true,
                template: "{{y}}/{{y}}-{{MM}}-{{dd}}/{{filename}}".into(),
            },
            image: ImageConfig {
                thumbnail: ImageFileConfig {
                    format: ImageFormat::Webp,
                    size: 250,
                    quality: 80,
                    progressive: false,
                },
                preview: ImageFileConfig {
                    format: ImageFormat::Jpeg,
                    size: 1440,
                    quality: 80,
                    progressive: false,
                },
                colorspace: Colorspace::P3,
                extract_embedded: false,
                fullsize: ImageFullsizeConfig {
                    enabled: false,
                    format: ImageFormat::Jpeg,
                    quality: 80,
                    progressive: false,
                },
            },
            new_version_check: NewVersionCheckConfig {
                enabled: true,
                channel: ReleaseChannel::Stable,
            },
            nightly_tasks: NightlyTasksConfig {
                start_time: "00:00".into(),
                database_cleanup: true,
                generate_memories: true,
                sync_quota_usage: true,
                missing_thumbnails: true,
                cluster_new_faces: true,
            },
            trash: TrashConfig {
                enabled: true,
                days: 30,
            },
            theme: ThemeConfig {
                custom_css: String::new(),
            },
            library: LibraryConfig {
                scan: ScheduledConfig {
                    enabled: true,
                    cron_expression: "0 0 * * *".into(),
                },
                watch: EnabledConfig { enabled: false },
            },
            server: ServerConfig {
                external_domain: String::new(),
                login_page_message: String::new(),
                public_users: true,
            },
            notifications: NotificationsConfig {
                smtp: NotificationsSmtpConfig {
                    enabled: false,
                    from: String::new(),
                    reply_to: String::new(),
                    transport: NotificationsSmtpTransportConfig {
                        ignore_cert: false,
                        host: String::new(),
                        port: 587,
                        secure: false,
                        username: String::new(),
                        password: String::new(),
                    },
                },
            },
            templates: TemplatesConfig {
                email: TemplatesEmailConfig {
                    welcome_template: String::new(),
                    album_invite_template: String::new(),
                    album_update_template: String::new(),
                },
            },
            user: UserConfig { delete_delay: 7 },
        }
    }
}

/// A fractional setting; the defaults are finite, so the fallback is never used.
fn fraction(value: f64) -> Number {
    Number::from_f64(value).unwrap_or_else(|| Number::from(0))
}
