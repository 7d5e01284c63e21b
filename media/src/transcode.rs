//! Video conversion with ffmpeg following Immich's `ffmpeg.*` settings: whether a video needs
//! converting (policy, accepted codecs and containers), and the command for each kind of
//! hardware — built by one function, so each case is a unit test.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

pub use crate::settings::{Accel, AudioCodec, Container, ToneMapping, TranscodePolicy, VideoCodec};

#[derive(Debug, thiserror::Error)]
pub enum TranscodeError {
    #[error("{tool} failed: {message}")]
    Tool { tool: &'static str, message: String },
    #[error("{tool} took longer than {seconds} s and was stopped")]
    Timeout { tool: &'static str, seconds: u64 },
    #[error("ffprobe found no video stream")]
    NoVideo,
}

/// What ffprobe says about a file's first video and audio streams.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VideoInfo {
    pub codec: String,
    pub pixel_format: String,
    pub width: u32,
    pub height: u32,
    pub bitrate: u64,
    pub hdr: bool,
    pub format_name: String,
    pub format_long_name: String,
    pub audio_codec: Option<String>,
    /// Degrees the player turns the picture (the display matrix; -90 is a phone held upright).
    pub rotation: i32,
    pub duration_seconds: Option<f64>,
}

impl VideoInfo {
    pub fn from_probe(probe: &Value) -> Result<Self, TranscodeError> {
        let streams = probe["streams"].as_array().cloned().unwrap_or_default();
        let video = streams
            .iter()
            .find(|s| s["codec_type"] == "video")
            .ok_or(TranscodeError::NoVideo)?;
        let audio = streams.iter().find(|s| s["codec_type"] == "audio");
        let text = |v: &Value| v.as_str().unwrap_or("").to_string();
        let number = |v: &Value| {
            v.as_u64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                .unwrap_or(0)
        };
        let transfer = text(&video["color_transfer"]);
        Ok(Self {
            codec: text(&video["codec_name"]),
            pixel_format: text(&video["pix_fmt"]),
            width: number(&video["width"]) as u32,
            height: number(&video["height"]) as u32,
            bitrate: number(&video["bit_rate"]).max(number(&probe["format"]["bit_rate"])),
            hdr: matches!(transfer.as_str(), "smpte2084" | "arib-std-b67"),
            format_name: text(&probe["format"]["format_name"]),
            format_long_name: text(&probe["format"]["format_long_name"]),
            audio_codec: audio.map(|a| text(&a["codec_name"])),
            rotation: rotation(video),
            duration_seconds: probe["format"]["duration"]
                .as_str()
                .and_then(|d| d.parse().ok())
                .filter(|d: &f64| d.is_finite() && *d > 0.0),
        })
    }
}

/// The display matrix's rotation, or the old `rotate` tag (which turns the other way).
fn rotation(video: &Value) -> i32 {
    let from_matrix = video["side_data_list"]
        .as_array()
        .and_then(|list| list.iter().find_map(|d| d["rotation"].as_f64()));
    let from_tag = || {
        video["tags"]["rotate"]
            .as_str()
            .and_then(|r| r.parse::<f64>().ok())
            .map(|r| -r)
    };
    let degrees = from_matrix.or_else(from_tag).unwrap_or(0.0).round() as i32;
    // -270 is 90, 270 is -90, 180 and -180 are the same.
    match degrees.rem_euclid(360) {
        90 => 90,
        180 => 180,
        270 => -90,
        _ => 0,
    }
}

async fn run(tool: &'static str, args: &[String], timeout: Duration) -> Result<Vec<u8>, TranscodeError> {
    crate::tools::run(tool, args, timeout)
        .await
        .map_err(|error| match error {
            crate::tools::ToolError::Failed { tool, message } => TranscodeError::Tool { tool, message },
            crate::tools::ToolError::Timeout { tool, seconds } => TranscodeError::Timeout { tool, seconds },
        })
}

pub async fn probe(path: &Path, timeout: Duration) -> Result<VideoInfo, TranscodeError> {
    let args: Vec<String> = ["-v", "error", "-print_format", "json", "-show_streams", "-show_format"]
        .iter()
        .map(|s| s.to_string())
        .chain([path.to_string_lossy().to_string()])
        .collect();
    let output = run("ffprobe", &args, timeout).await?;
    let probe: Value = serde_json::from_slice(&output).map_err(|e| TranscodeError::Tool {
        tool: "ffprobe",
        message: e.to_string(),
    })?;
    VideoInfo::from_probe(&probe)
}

/// Immich's `ffmpeg` settings, as far as conversion uses them.
#[derive(Debug, Clone, PartialEq)]
pub struct TranscodeConfig {
    pub crf: u32,
    pub threads: u32,
    pub preset: String,
    pub target_video_codec: VideoCodec,
    pub accepted_video_codecs: Vec<VideoCodec>,
    pub target_audio_codec: AudioCodec,
    pub accepted_audio_codecs: Vec<AudioCodec>,
    pub accepted_containers: Vec<Container>,
    pub target_resolution: String,
    pub max_bitrate: String,
    pub bframes: i32,
    pub refs: u32,
    pub gop_size: u32,
    pub two_pass: bool,
    pub transcode: TranscodePolicy,
    pub tonemap: ToneMapping,
    pub accel: Accel,
    pub accel_decode: bool,
    /// The render device for VAAPI/QSV (`preferredHwDevice`, resolved from `auto`).
    pub device: String,
}

impl TranscodeConfig {
    /// `maxBitrate` (`"0"`, `"5000k"`, `"8M"`) in kbit/s.
    fn max_bitrate_kbps(&self) -> u64 {
        let text = self.max_bitrate.trim().to_ascii_lowercase();
        let (number, scale) = match text.strip_suffix('m') {
            Some(n) => (n, 1000.0),
            None => (text.strip_suffix('k').unwrap_or(&text), 1.0),
        };
        number.trim().parse::<f64>().map_or(0, |n| (n * scale) as u64)
    }

    fn target_height(&self) -> Option<u32> {
        if self.target_resolution == "original" {
            None
        } else {
            self.target_resolution.parse().ok()
        }
    }
}

/// Which streams need converting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    None,
    Audio,
    Video,
    All,
}

pub fn target(config: &TranscodeConfig, info: &VideoInfo) -> Target {
    let audio = info.audio_codec.as_ref().is_some_and(|codec| match config.transcode {
        TranscodePolicy::Disabled => false,
        TranscodePolicy::All => true,
        _ => !config.accepted_audio_codecs.iter().any(|c| c.as_str() == codec),
    });
    let required =
        !config.accepted_video_codecs.iter().any(|c| c.as_str() == info.codec) || !info.pixel_format.ends_with("420p");
    let larger = config
        .target_height()
        .is_some_and(|target| info.width.min(info.height) > target);
    let too_fast = config.max_bitrate_kbps() > 0 && info.bitrate > config.max_bitrate_kbps() * 1000;
    let video = match config.transcode {
        TranscodePolicy::Disabled => false,
        TranscodePolicy::All => true,
        TranscodePolicy::Optimal => required || larger,
        TranscodePolicy::Bitrate => required || too_fast,
        TranscodePolicy::Required => required,
    };
    match (audio, video) {
        (true, true) => Target::All,
        (true, false) => Target::Audio,
        (false, true) => Target::Video,
        (false, false) => Target::None,
    }
}

/// The container needs changing even when the streams do not.
pub fn remux_required(config: &TranscodeConfig, info: &VideoInfo) -> bool {
    if config.transcode == TranscodePolicy::Disabled {
        return false;
    }
    let name = match info.format_long_name.as_str() {
        "QuickTime / MOV" => "mov",
        "Matroska / WebM" => "webm",
        _ => info.format_name.as_str(),
    };
    name != "mp4" && !config.accepted_containers.iter().any(|c| c.as_str() == name)
}

fn encoder(codec: VideoCodec, accel: Accel) -> String {
    match (accel, codec.as_str()) {
        (Accel::Disabled, "h264") => "libx264".into(),
        (Accel::Disabled, "hevc") => "libx265".into(),
        (Accel::Disabled, "vp9") => "libvpx-vp9".into(),
        (Accel::Disabled, _) => "libsvtav1".into(),
        (Accel::Vaapi, codec) => format!("{codec}_vaapi"),
        (Accel::Qsv, codec) => format!("{codec}_qsv"),
        (Accel::Nvenc, codec) => format!("{codec}_nvenc"),
        (Accel::Rkmpp, codec) => format!("{codec}_rkmpp"),
    }
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// The ffmpeg invocations (one, or two for two-pass) that convert `input` into `output`.
pub fn commands(
    config: &TranscodeConfig,
    info: &VideoInfo,
    target: Target,
    input: &str,
    output: &str,
) -> Vec<Vec<String>> {
    let accel = config.accel;
    let hw_decode = accel != Accel::Disabled && config.accel_decode;
    let mut head = args(&["-nostdin", "-y", "-v", "error"]);
    match accel {
        Accel::Vaapi => head.extend(args(&[
            "-init_hw_device",
            &format!("vaapi=accel:{}", config.device),
            "-filter_hw_device",
            "accel",
        ])),
        Accel::Qsv => head.extend(args(&[
            "-init_hw_device",
            &format!("qsv=hw,child_device={}", config.device),
            "-filter_hw_device",
            "hw",
        ])),
        _ => {}
    }
    if hw_decode {
        head.extend(match accel {
            Accel::Vaapi => args(&[
                "-hwaccel",
                "vaapi",
                "-hwaccel_output_format",
                "vaapi",
                "-hwaccel_device",
                "accel",
            ]),
            Accel::Qsv => args(&[
                "-hwaccel",
                "qsv",
                "-hwaccel_output_format",
                "qsv",
                "-hwaccel_device",
                "hw",
            ]),
            Accel::Nvenc => args(&["-hwaccel", "cuda", "-hwaccel_output_format", "cuda"]),
            Accel::Rkmpp => args(&["-hwaccel", "rkmpp", "-hwaccel_output_format", "drm_prime"]),
            Accel::Disabled => Vec::new(),
        });
    }
    head.extend(args(&["-i", input, "-map", "0:v:0", "-map", "0:a:0?"]));

    let mut body = Vec::new();
    let video = matches!(target, Target::Video | Target::All);
    if video {
        body.extend(args(&["-c:v", &encoder(config.target_video_codec, accel)]));
        // The shorter side goes to the target height; -2 keeps the other even.
        let scale = config
            .target_height()
            .filter(|t| info.width.min(info.height) > *t)
            .map(|t| {
                if info.width >= info.height {
                    (String::from("-2"), t.to_string())
                } else {
                    (t.to_string(), String::from("-2"))
                }
            });
        let mut filters: Vec<String> = Vec::new();
        match accel {
            Accel::Disabled => {
                if info.hdr {
                    filters.push(format!(
                        "zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,tonemap=tonemap={}:desat=0,zscale=t=bt709:m=bt709:r=tv",
                        config.tonemap.as_str()
                    ));
                }
                if let Some((w, h)) = &scale {
                    filters.push(format!("scale={w}:{h}"));
                }
                filters.push("format=yuv420p".into());
            }
            Accel::Vaapi => {
                if !hw_decode {
                    filters.push("format=nv12,hwupload".into());
                }
                let size = scale.as_ref().map_or(String::new(), |(w, h)| format!("w={w}:h={h}:"));
                filters.push(format!("scale_vaapi={size}format=nv12"));
            }
            Accel::Qsv => {
                if !hw_decode {
                    filters.push("format=nv12,hwupload=extra_hw_frames=64".into());
                }
                let size = scale.as_ref().map_or(String::new(), |(w, h)| format!("w={w}:h={h}:"));
                filters.push(format!("scale_qsv={size}format=nv12"));
            }
            Accel::Nvenc => {
                if !hw_decode {
                    filters.push("format=nv12,hwupload_cuda".into());
                }
                let size = scale
                    .as_ref()
                    .map_or(String::from("-1:-1"), |(w, h)| format!("{w}:{h}"));
                filters.push(format!("scale_cuda={size}:format=nv12"));
            }
            Accel::Rkmpp => {
                let size = scale.as_ref().map_or(String::new(), |(w, h)| format!("w={w}:h={h}:"));
                filters.push(format!("scale_rkrga={size}format=nv12"));
            }
        }
        body.extend(args(&["-vf", &filters.join(",")]));
        let crf = config.crf.to_string();
        match accel {
            Accel::Disabled => {
                body.extend(args(&["-preset", &config.preset]));
                if config.target_video_codec == VideoCodec::Vp9 {
                    body.extend(args(&["-b:v", "0"]));
                }
                if !config.two_pass || config.max_bitrate_kbps() == 0 {
                    body.extend(args(&["-crf", &crf]));
                }
            }
            Accel::Vaapi => body.extend(args(&["-rc_mode", "CQP", "-qp", &crf])),
            Accel::Qsv => body.extend(args(&["-global_quality", &crf])),
            Accel::Nvenc => body.extend(args(&["-rc", "vbr", "-cq", &crf, "-preset", "p1"])),
            Accel::Rkmpp => body.extend(args(&["-rc_mode", "CQP", "-qp_init", &crf])),
        }
        if config.max_bitrate_kbps() > 0 {
            let rate = format!("{}k", config.max_bitrate_kbps());
            let buffer = format!("{}k", config.max_bitrate_kbps() * 2);
            if config.two_pass && accel == Accel::Disabled {
                body.extend(args(&["-b:v", &rate]));
            } else {
                body.extend(args(&["-maxrate", &rate, "-bufsize", &buffer]));
            }
        }
        if config.target_video_codec == VideoCodec::Hevc {
            body.extend(args(&["-tag:v", "hvc1"]));
        }
        if config.gop_size > 0 {
            body.extend(args(&["-g", &config.gop_size.to_string()]));
        }
        if config.bframes >= 0 {
            body.extend(args(&["-bf", &config.bframes.to_string()]));
        }
        if config.refs > 0 {
            body.extend(args(&["-refs", &config.refs.to_string()]));
        }
        if config.threads > 0 {
            body.extend(args(&["-threads", &config.threads.to_string()]));
        }
    } else {
        body.extend(args(&["-c:v", "copy"]));
    }
    if matches!(target, Target::Audio | Target::All) {
        body.extend(args(&["-c:a", config.target_audio_codec.as_str()]));
    } else {
        body.extend(args(&["-c:a", "copy"]));
    }
    body.extend(args(&[
        "-movflags",
        "faststart",
        "-fps_mode",
        "passthrough",
        "-f",
        "mp4",
    ]));

    if config.two_pass && video && accel == Accel::Disabled && config.max_bitrate_kbps() > 0 {
        let log = format!("{output}.passlog");
        let mut first = head.clone();
        first.extend(body.iter().cloned());
        first.extend(args(&["-pass", "1", "-passlogfile", &log, "-an", "/dev/null"]));
        // The first pass writes no audio; the "-f mp4" still applies to /dev/null harmlessly.
        let mut second = head;
        second.extend(body);
        second.extend(args(&["-pass", "2", "-passlogfile", &log, output]));
        return vec![first, second];
    }
    let mut command = head;
    command.extend(body);
    command.push(output.to_string());
    vec![command]
}

/// Runs the conversion; each pass gets `timeout`.
pub async fn transcode(commands: &[Vec<String>], timeout: Duration) -> Result<(), TranscodeError> {
    for command in commands {
        run("ffmpeg", command, timeout).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Immich's default `ffmpeg` settings with the given acceleration.
    fn config(accel: Accel) -> TranscodeConfig {
        TranscodeConfig {
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
            two_pass: false,
            transcode: TranscodePolicy::Required,
            tonemap: ToneMapping::Hable,
            accel,
            accel_decode: true,
            device: "/dev/dri/renderD128".into(),
        }
    }

    fn hevc_4k() -> VideoInfo {
        VideoInfo {
            codec: "hevc".into(),
            pixel_format: "yuv420p10le".into(),
            width: 3840,
            height: 2160,
            bitrate: 40_000_000,
            hdr: true,
            format_name: "mov,mp4,m4a,3gp,3g2,mj2".into(),
            format_long_name: "QuickTime / MOV".into(),
            audio_codec: Some("aac".into()),
            rotation: 0,
            duration_seconds: Some(10.0),
        }
    }

    #[test]
    fn policies_decide_what_to_convert() {
        let h264 = VideoInfo {
            codec: "h264".into(),
            pixel_format: "yuv420p".into(),
            width: 1920,
            height: 1080,
            hdr: false,
            ..hevc_4k()
        };
        assert_eq!(target(&config(Accel::Disabled), &h264), Target::None);
        assert_eq!(target(&config(Accel::Disabled), &hevc_4k()), Target::Video);
        let mut optimal = config(Accel::Disabled);
        optimal.transcode = TranscodePolicy::Optimal;
        assert_eq!(target(&optimal, &h264), Target::Video, "larger than 720p");
        let mut all = config(Accel::Disabled);
        all.transcode = TranscodePolicy::All;
        assert_eq!(target(&all, &h264), Target::All);
        let opus_less = VideoInfo {
            audio_codec: Some("pcm_s16le".into()),
            ..h264.clone()
        };
        assert_eq!(target(&config(Accel::Disabled), &opus_less), Target::Audio);
        assert!(
            !remux_required(&config(Accel::Disabled), &h264),
            "QuickTime is an accepted container"
        );
        let mkv = VideoInfo {
            format_name: "matroska,webm".into(),
            format_long_name: "Matroska".into(),
            ..h264
        };
        assert!(remux_required(&config(Accel::Disabled), &mkv));
    }

    #[test]
    fn software_commands_scale_tonemap_and_encode() {
        let command = &commands(&config(Accel::Disabled), &hevc_4k(), Target::Video, "in.mov", "out.mp4")[0];
        let line = command.join(" ");
        assert!(line.contains("-c:v libx264"), "{line}");
        assert!(
            line.contains("tonemap=tonemap=hable") && line.contains("scale=-2:720") && line.contains("format=yuv420p"),
            "{line}"
        );
        assert!(line.contains("-crf 23 ") || line.contains("-crf 23"), "{line}");
        assert!(line.contains("-c:a copy") && line.ends_with("out.mp4"), "{line}");
        let mut two_pass = config(Accel::Disabled);
        two_pass.two_pass = true;
        two_pass.max_bitrate = "5M".into();
        let passes = commands(&two_pass, &hevc_4k(), Target::All, "in.mov", "out.mp4");
        assert_eq!(passes.len(), 2);
        assert!(passes[0].join(" ").contains("-pass 1") && passes[1].join(" ").contains("-b:v 5000k"));
    }

    #[test]
    fn hardware_commands_for_each_accelerator() {
        let vaapi = commands(&config(Accel::Vaapi), &hevc_4k(), Target::Video, "in.mov", "out.mp4")[0].join(" ");
        assert!(
            vaapi.contains("-init_hw_device vaapi=accel:/dev/dri/renderD128") && vaapi.contains("-hwaccel vaapi"),
            "{vaapi}"
        );
        assert!(
            vaapi.contains("h264_vaapi")
                && vaapi.contains("scale_vaapi=w=-2:h=720:format=nv12")
                && vaapi.contains("-qp 23"),
            "{vaapi}"
        );
        let mut software_decode = config(Accel::Vaapi);
        software_decode.accel_decode = false;
        let upload = commands(&software_decode, &hevc_4k(), Target::Video, "in.mov", "out.mp4")[0].join(" ");
        assert!(
            !upload.contains("-hwaccel ") && upload.contains("format=nv12,hwupload"),
            "{upload}"
        );
        let qsv = commands(&config(Accel::Qsv), &hevc_4k(), Target::Video, "in", "out")[0].join(" ");
        assert!(
            qsv.contains("h264_qsv") && qsv.contains("scale_qsv") && qsv.contains("-global_quality 23"),
            "{qsv}"
        );
        let nvenc = commands(&config(Accel::Nvenc), &hevc_4k(), Target::Video, "in", "out")[0].join(" ");
        assert!(
            nvenc.contains("-hwaccel cuda") && nvenc.contains("h264_nvenc") && nvenc.contains("scale_cuda=-2:720"),
            "{nvenc}"
        );
        let rkmpp = commands(&config(Accel::Rkmpp), &hevc_4k(), Target::Video, "in", "out")[0].join(" ");
        assert!(rkmpp.contains("h264_rkmpp") && rkmpp.contains("scale_rkrga"), "{rkmpp}");
    }
}
