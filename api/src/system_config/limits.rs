//! The limits Immich's `SystemConfigDto` puts on numbers; the types hold the rest (enums for
//! closed sets, `i64` for integers, `Option` where null is allowed).

use serde_json::Number;

use super::sections::SystemConfig;
use crate::error::ValidationIssue;
use crate::validation::{Validate, rules};

/// JavaScript's `Number.MAX_SAFE_INTEGER`, zod's bound for "any integer".
const MAX_SAFE: i64 = 9_007_199_254_740_991;

/// The resolutions `ffmpeg.realtime.resolutions` may list.
const REALTIME_RESOLUTIONS: [i64; 5] = [480, 720, 1080, 1440, 2160];

impl Validate for SystemConfig {
    fn validate(&self) -> Vec<ValidationIssue> {
        let mut issues = Vec::new();
        integer(
            &mut issues,
            &["backup", "database", "keepLastAmount"],
            self.backup.database.keep_last_amount,
            1,
            MAX_SAFE,
        );
        integer(&mut issues, &["ffmpeg", "bframes"], self.ffmpeg.bframes, -1, 16);
        integer(&mut issues, &["ffmpeg", "crf"], self.ffmpeg.crf, 0, 51);
        integer(&mut issues, &["ffmpeg", "gopSize"], self.ffmpeg.gop_size, 0, MAX_SAFE);
        integer(&mut issues, &["ffmpeg", "refs"], self.ffmpeg.refs, 0, 6);
        integer(&mut issues, &["ffmpeg", "threads"], self.ffmpeg.threads, 0, MAX_SAFE);
        integer(
            &mut issues,
            &["image", "fullsize", "quality"],
            self.image.fullsize.quality,
            1,
            100,
        );
        integer(
            &mut issues,
            &["image", "preview", "quality"],
            self.image.preview.quality,
            1,
            100,
        );
        integer(
            &mut issues,
            &["image", "preview", "size"],
            self.image.preview.size,
            1,
            MAX_SAFE,
        );
        integer(
            &mut issues,
            &["image", "thumbnail", "quality"],
            self.image.thumbnail.quality,
            1,
            100,
        );
        integer(
            &mut issues,
            &["image", "thumbnail", "size"],
            self.image.thumbnail.size,
            1,
            MAX_SAFE,
        );
        fraction(
            &mut issues,
            &["integrityChecks", "checksumFiles", "percentageLimit"],
            &self.integrity_checks.checksum_files.percentage_limit,
            0.0,
            1.0,
        );
        integer(
            &mut issues,
            &["integrityChecks", "checksumFiles", "timeLimit"],
            self.integrity_checks.checksum_files.time_limit,
            0,
            MAX_SAFE,
        );
        for (queue, config) in self.job.queues() {
            integer(
                &mut issues,
                &["job", queue, "concurrency"],
                config.concurrency,
                1,
                MAX_SAFE,
            );
        }
        integer(
            &mut issues,
            &["machineLearning", "availabilityChecks", "interval"],
            self.machine_learning.availability_checks.interval,
            -MAX_SAFE,
            MAX_SAFE,
        );
        integer(
            &mut issues,
            &["machineLearning", "availabilityChecks", "timeout"],
            self.machine_learning.availability_checks.timeout,
            -MAX_SAFE,
            MAX_SAFE,
        );
        fraction(
            &mut issues,
            &["machineLearning", "duplicateDetection", "maxDistance"],
            &self.machine_learning.duplicate_detection.max_distance,
            0.001,
            0.1,
        );
        fraction(
            &mut issues,
            &["machineLearning", "facialRecognition", "maxDistance"],
            &self.machine_learning.facial_recognition.max_distance,
            0.1,
            2.0,
        );
        integer(
            &mut issues,
            &["machineLearning", "facialRecognition", "minFaces"],
            self.machine_learning.facial_recognition.min_faces,
            1,
            MAX_SAFE,
        );
        fraction(
            &mut issues,
            &["machineLearning", "facialRecognition", "minScore"],
            &self.machine_learning.facial_recognition.min_score,
            0.1,
            1.0,
        );
        integer(
            &mut issues,
            &["machineLearning", "ocr", "maxResolution"],
            self.machine_learning.ocr.max_resolution,
            1,
            MAX_SAFE,
        );
        fraction(
            &mut issues,
            &["machineLearning", "ocr", "minDetectionScore"],
            &self.machine_learning.ocr.min_detection_score,
            0.1,
            1.0,
        );
        fraction(
            &mut issues,
            &["machineLearning", "ocr", "minRecognitionScore"],
            &self.machine_learning.ocr.min_recognition_score,
            0.1,
            1.0,
        );
        integer(
            &mut issues,
            &["notifications", "smtp", "transport", "port"],
            self.notifications.smtp.transport.port,
            0,
            65535,
        );
        if let Some(value) = self.oauth.default_storage_quota {
            integer(&mut issues, &["oauth", "defaultStorageQuota"], value, 0, MAX_SAFE);
        }
        integer(&mut issues, &["oauth", "timeout"], self.oauth.timeout, 1, MAX_SAFE);
        let oauth = &self.oauth;
        let mobile_uri = if oauth.mobile_override_enabled {
            oauth.mobile_redirect_uri.as_str()
        } else {
            ""
        };
        let urls = [
            ("issuerUrl", oauth.issuer_url.as_str(), "Issuer URL"),
            (
                "endSessionEndpoint",
                oauth.end_session_endpoint.as_str(),
                "endSessionEndpoint",
            ),
            ("mobileRedirectUri", mobile_uri, "Mobile redirect URI"),
            (
                "accountManagementUrl",
                oauth.account_management_url.as_deref().unwrap_or_default(),
                "Account management URL",
            ),
        ];
        for (key, url, name) in urls {
            if !url.is_empty() && reqwest::Url::parse(url).is_err() {
                let message = format!("{name} must be an empty string or a valid URL");
                issues.push(ValidationIssue::with_code("custom", &["oauth", key], message));
            }
        }
        integer(&mut issues, &["trash", "days"], self.trash.days, 0, MAX_SAFE);
        integer(
            &mut issues,
            &["user", "deleteDelay"],
            self.user.delete_delay,
            1,
            MAX_SAFE,
        );
        for (index, resolution) in self.ffmpeg.realtime.resolutions.iter().enumerate() {
            if !REALTIME_RESOLUTIONS.contains(resolution) {
                let index = index.to_string();
                let options: Vec<String> = REALTIME_RESOLUTIONS.iter().map(|r| format!("\"{r}\"")).collect();
                issues.push(ValidationIssue::with_code(
                    "invalid_value",
                    &["ffmpeg", "realtime", "resolutions", &index],
                    format!("Invalid option: expected one of {}", options.join("|")),
                ));
            }
        }
        issues
    }
}

fn integer(issues: &mut Vec<ValidationIssue>, path: &[&str], value: i64, low: i64, high: i64) {
    rules::number_between(issues, path, value as f64, low as f64, high as f64);
}

fn fraction(issues: &mut Vec<ValidationIssue>, path: &[&str], value: &Number, low: f64, high: f64) {
    rules::number_between(issues, path, value.as_f64().unwrap_or(f64::NAN), low, high);
}
