//! The closed sets of Immich's media settings (`ffmpeg.*`, `image.*`), spelled as the settings
//! spell them, so the system config reads straight into them.

use serde::{Deserialize, Serialize};

/// Declares an enum whose variants are written as the given setting values.
macro_rules! setting_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$attr:meta])* $variant:ident = $text:literal,)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$attr])* #[serde(rename = $text)] $variant,)*
        }

        impl $name {
            /// The setting's spelling, which is also ffmpeg's name where ffmpeg has one.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)*
                }
            }
        }
    };
}

setting_enum! {
    /// `ffmpeg.targetVideoCodec`, `acceptedVideoCodecs`, `realtime.videoCodecs`.
    VideoCodec { H264 = "h264", Hevc = "hevc", Vp9 = "vp9", Av1 = "av1", }
}

setting_enum! {
    /// `ffmpeg.targetAudioCodec`, `acceptedAudioCodecs`.
    AudioCodec { Mp3 = "mp3", Aac = "aac", Opus = "opus", PcmS16le = "pcm_s16le", }
}

setting_enum! {
    /// `ffmpeg.acceptedContainers`.
    Container { Mov = "mov", Mp4 = "mp4", Ogg = "ogg", Webm = "webm", }
}

setting_enum! {
    /// `ffmpeg.transcode`: which videos are converted.
    TranscodePolicy { All = "all", Optimal = "optimal", Bitrate = "bitrate", Required = "required", Disabled = "disabled", }
}

setting_enum! {
    /// `ffmpeg.tonemap`: how HDR is brought to SDR.
    ToneMapping { Hable = "hable", Mobius = "mobius", Reinhard = "reinhard", Disabled = "disabled", }
}

setting_enum! {
    /// `ffmpeg.cqMode`: the constant-quality mode of hardware encoders.
    CqMode { Auto = "auto", Cqp = "cqp", Icq = "icq", }
}

setting_enum! {
    /// `ffmpeg.accel`: the hardware that encodes (and may decode).
    Accel { Nvenc = "nvenc", Qsv = "qsv", Vaapi = "vaapi", Rkmpp = "rkmpp", Disabled = "disabled", }
}

setting_enum! {
    /// `image.*.format` of generated images.
    ImageFormat { Jpeg = "jpeg", Webp = "webp", }
}

setting_enum! {
    /// `image.colorspace` of generated images.
    #[derive(Default)]
    Colorspace { Srgb = "srgb", #[default] P3 = "p3", }
}

impl ImageFormat {
    pub fn extension(self) -> &'static str {
        self.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_read_as_immich_spells_them() {
        let codec: AudioCodec = serde_json::from_str("\"pcm_s16le\"").unwrap();
        assert_eq!(codec, AudioCodec::PcmS16le);
        assert_eq!(
            serde_json::to_string(&TranscodePolicy::Required).unwrap(),
            "\"required\""
        );
        assert!(serde_json::from_str::<Accel>("\"cuda\"").is_err());
    }
}
