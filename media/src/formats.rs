//! The file types Immich accepts, keyed by lower-case extension (with the dot, as Immich lists them).

/// What a file is, for the server's purposes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    Image,
    Video,
    Sidecar,
}

#[derive(Debug, Clone, Copy)]
pub struct MediaType {
    pub extension: &'static str,
    /// Accepted MIME types; the first is the canonical one.
    pub mime_types: &'static [&'static str],
    pub kind: MediaKind,
    /// Browsers can show it directly (no conversion needed for the web).
    pub web_supported: bool,
    /// A camera RAW format.
    pub raw: bool,
    /// Accepted as a profile picture.
    pub profile: bool,
}

const fn image(extension: &'static str, mime_types: &'static [&'static str]) -> MediaType {
    MediaType {
        extension,
        mime_types,
        kind: MediaKind::Image,
        web_supported: false,
        raw: false,
        profile: false,
    }
}

const fn web(t: MediaType) -> MediaType {
    MediaType {
        web_supported: true,
        ..t
    }
}

const fn raw(t: MediaType) -> MediaType {
    MediaType { raw: true, ..t }
}

const fn profile(t: MediaType) -> MediaType {
    MediaType { profile: true, ..t }
}

const fn video(extension: &'static str, mime_types: &'static [&'static str]) -> MediaType {
    MediaType {
        extension,
        mime_types,
        kind: MediaKind::Video,
        web_supported: false,
        raw: false,
        profile: false,
    }
}

/// In the order Immich reports them: web-supported images, RAW formats, other images, videos, sidecars.
static MEDIA_TYPES: &[MediaType] = &[
    profile(web(image(".avif", &["image/avif"]))),
    web(image(".bmp", &["image/bmp"])),
    web(image(".gif", &["image/gif"])),
    profile(web(image(".jpeg", &["image/jpeg"]))),
    profile(web(image(".jpg", &["image/jpeg"]))),
    profile(web(image(".png", &["image/png", "image/apng"]))),
    profile(web(image(".webp", &["image/webp"]))),
    raw(image(".3fr", &["image/3fr", "image/x-hasselblad-3fr"])),
    raw(image(".ari", &["image/ari", "image/x-arriflex-ari"])),
    raw(image(".arw", &["image/arw", "image/x-sony-arw"])),
    raw(image(".cap", &["image/cap", "image/x-phaseone-cap"])),
    raw(image(".cin", &["image/cin", "image/x-phantom-cin"])),
    raw(image(".cr2", &["image/cr2", "image/x-canon-cr2"])),
    raw(image(".cr3", &["image/cr3", "image/x-canon-cr3"])),
    raw(image(".crw", &["image/crw", "image/x-canon-crw"])),
    raw(image(".dcr", &["image/dcr", "image/x-kodak-dcr"])),
    profile(raw(image(".dng", &["image/dng", "image/x-adobe-dng"]))),
    raw(image(".erf", &["image/erf", "image/x-epson-erf"])),
    raw(image(".fff", &["image/fff", "image/x-hasselblad-fff"])),
    raw(image(".iiq", &["image/iiq", "image/x-phaseone-iiq"])),
    raw(image(".k25", &["image/k25", "image/x-kodak-k25"])),
    raw(image(".kdc", &["image/kdc", "image/x-kodak-kdc"])),
    raw(image(".mrw", &["image/mrw", "image/x-minolta-mrw"])),
    raw(image(".nef", &["image/nef", "image/x-nikon-nef"])),
    raw(image(".nrw", &["image/nrw", "image/x-nikon-nrw"])),
    raw(image(".orf", &["image/orf", "image/x-olympus-orf"])),
    raw(image(".ori", &["image/ori", "image/x-olympus-ori"])),
    raw(image(".pef", &["image/pef", "image/x-pentax-pef"])),
    raw(image(".psd", &["image/psd", "image/vnd.adobe.photoshop"])),
    raw(image(".raf", &["image/raf", "image/x-fuji-raf"])),
    raw(image(".raw", &["image/raw", "image/x-panasonic-raw"])),
    raw(image(".rw2", &["image/rw2", "image/x-panasonic-rw2"])),
    raw(image(".rwl", &["image/rwl", "image/x-leica-rwl"])),
    raw(image(".sr2", &["image/sr2", "image/x-sony-sr2"])),
    raw(image(".srf", &["image/srf", "image/x-sony-srf"])),
    raw(image(".srw", &["image/srw", "image/x-samsung-srw"])),
    raw(image(".x3f", &["image/x3f", "image/x-sigma-x3f"])),
    profile(image(".heic", &["image/heic"])),
    profile(image(".heif", &["image/heif"])),
    image(".hif", &["image/hif"]),
    image(".insp", &["image/jpeg"]),
    image(".jp2", &["image/jp2"]),
    image(".jpe", &["image/jpeg"]),
    image(".jxl", &["image/jxl"]),
    image(".mpo", &["image/jpeg"]),
    profile(image(".svg", &["image/svg"])),
    image(".tif", &["image/tiff"]),
    image(".tiff", &["image/tiff"]),
    video(".3gp", &["video/3gpp"]),
    video(".3gpp", &["video/3gpp"]),
    video(
        ".avi",
        &["video/avi", "video/msvideo", "video/vnd.avi", "video/x-msvideo"],
    ),
    video(".flv", &["video/x-flv"]),
    video(".insv", &["video/mp4"]),
    video(".m2t", &["video/mp2t"]),
    video(".m2ts", &["video/mp2t"]),
    video(".m4v", &["video/x-m4v"]),
    video(".mkv", &["video/x-matroska"]),
    video(".mov", &["video/quicktime"]),
    video(".mp4", &["video/mp4"]),
    video(".mpe", &["video/mpeg"]),
    video(".mpeg", &["video/mpeg"]),
    video(".mpg", &["video/mpeg"]),
    video(".mts", &["video/mp2t"]),
    video(".mxf", &["application/mxf"]),
    video(".ts", &["video/mp2t"]),
    video(".vob", &["video/mpeg"]),
    video(".webm", &["video/webm"]),
    video(".wmv", &["video/x-ms-wmv"]),
    MediaType {
        extension: ".xmp",
        mime_types: &["application/xml", "text/xml"],
        kind: MediaKind::Sidecar,
        web_supported: false,
        raw: false,
        profile: false,
    },
];

/// Every accepted type, in Immich's order.
pub fn media_types() -> &'static [MediaType] {
    MEDIA_TYPES
}

/// The lower-case extension of `filename`, with its dot (`"IMG_1.JPG"` → `".jpg"`).
pub fn extension_of(filename: &str) -> Option<String> {
    let name = filename.rsplit(['/', '\\']).next().unwrap_or(filename);
    let dot = name.rfind('.').filter(|&i| i > 0)?;
    Some(name[dot..].to_ascii_lowercase())
}

/// The accepted type of `filename`, judged by its extension.
pub fn lookup(filename: &str) -> Option<&'static MediaType> {
    let extension = extension_of(filename)?;
    MEDIA_TYPES.iter().find(|t| t.extension == extension)
}

/// The canonical MIME type for `filename`, or `application/octet-stream`.
pub fn mime_type_of(filename: &str) -> &'static str {
    lookup(filename).map_or("application/octet-stream", |t| t.mime_types[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_are_case_insensitive_and_need_a_dot() {
        assert_eq!(extension_of("IMG_0001.JPG").as_deref(), Some(".jpg"));
        assert_eq!(extension_of("dir.d/archive.tar.gz").as_deref(), Some(".gz"));
        assert_eq!(extension_of(".hidden"), None);
        assert_eq!(extension_of("noext"), None);
        assert_eq!(mime_type_of("clip.MOV"), "video/quicktime");
        assert_eq!(mime_type_of("file.exe"), "application/octet-stream");
    }

    #[test]
    fn extensions_are_unique() {
        let mut seen = std::collections::HashSet::new();
        assert!(MEDIA_TYPES.iter().all(|t| seen.insert(t.extension)));
    }

    #[test]
    fn profile_pictures_are_the_common_still_formats() {
        let profile: Vec<_> = MEDIA_TYPES.iter().filter(|t| t.profile).map(|t| t.extension).collect();
        assert_eq!(
            profile,
            [
                ".avif", ".jpeg", ".jpg", ".png", ".webp", ".dng", ".heic", ".heif", ".svg"
            ]
        );
    }
}
