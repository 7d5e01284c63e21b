//! Real media made at test time with ffmpeg, exiftool and heif-enc (installed by `scripts/setup`).

use std::path::Path;
use std::process::Command;

fn run(program: &str, args: &[&str]) {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} is missing ({e}); run ./scripts/setup"));
    assert!(
        output.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn ffmpeg_still(path: &Path, size: &str, seed: u32) {
    let source = format!("testsrc2=size={size}:rate=1,hue=h={seed}");
    run(
        "ffmpeg",
        &[
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            &source,
            "-frames:v",
            "1",
            path.to_str().unwrap(),
        ],
    );
}

/// A JPEG with camera, date and GPS tags; `seed` makes its pixels (and checksum) unique.
pub fn jpeg_with_exif(path: &Path, seed: u32) {
    ffmpeg_still(path, "320x240", seed);
    run(
        "exiftool",
        &[
            "-q",
            "-overwrite_original",
            "-DateTimeOriginal=2023:07:14 10:20:30",
            "-OffsetTimeOriginal=+02:00",
            "-Make=Darkroom",
            "-Model=TestCam",
            "-GPSLatitude=48.8584",
            "-GPSLatitudeRef=N",
            "-GPSLongitude=2.2945",
            "-GPSLongitudeRef=E",
            path.to_str().unwrap(),
        ],
    );
}

/// PNG, WebP or any still format ffmpeg writes from the extension.
pub fn still(path: &Path, seed: u32) {
    ffmpeg_still(path, "320x240", seed);
}

/// A one-second H.264/AAC MP4.
pub fn mp4(path: &Path, seed: u32) {
    let video = format!("testsrc2=size=320x240:rate=10,hue=h={seed}");
    run(
        "ffmpeg",
        &[
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            &video,
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440",
            "-t",
            "1",
            "-pix_fmt",
            "yuv420p",
            "-c:v",
            "libx264",
            "-c:a",
            "aac",
            "-shortest",
            path.to_str().unwrap(),
        ],
    );
}

/// A HEIC still (via a PNG and heif-enc).
pub fn heic(path: &Path, seed: u32) {
    let png = path.with_extension("source.png");
    still(&png, seed);
    run(
        "heif-enc",
        &["-q", "50", "-o", path.to_str().unwrap(), png.to_str().unwrap()],
    );
    std::fs::remove_file(png).unwrap();
}

/// A Google-style motion photo: a JPEG whose XMP says the last bytes are an MP4, then the MP4.
pub fn motion_photo(path: &Path, seed: u32) -> Vec<u8> {
    let video = path.with_extension("motion.mp4");
    mp4(&video, seed);
    let video_bytes = std::fs::read(&video).unwrap();
    std::fs::remove_file(&video).unwrap();
    jpeg_with_exif(path, seed);
    let offset = format!("-XMP-GCamera:MicroVideoOffset={}", video_bytes.len());
    run(
        "exiftool",
        &[
            "-q",
            "-overwrite_original",
            "-XMP-GCamera:MicroVideo=1",
            "-XMP-GCamera:MicroVideoVersion=1",
            &offset,
            path.to_str().unwrap(),
        ],
    );
    let mut still = std::fs::read(path).unwrap();
    still.extend_from_slice(&video_bytes);
    std::fs::write(path, still).unwrap();
    video_bytes
}

/// An Apple live photo: a JPEG whose Apple maker note holds `identifier` (exiftool's
/// `MediaGroupUUID`) and a QuickTime video whose `com.apple.quicktime.content.identifier` key
/// (exiftool's `ContentIdentifier`) holds the same.
pub fn live_photo(still: &Path, video: &Path, identifier: &str, seed: u32) {
    ffmpeg_still(still, "320x240", seed);
    // "Apple iOS\0", version 1, big-endian TIFF-style directory with two entries:
    // 0x0001 MakerNoteVersion and 0x0011 the media group UUID (offsets from the note's start).
    let mut value = identifier.as_bytes().to_vec();
    value.push(0);
    let header = b"Apple iOS\0\x00\x01MM";
    let entries: u16 = 2;
    let value_at = (header.len() + 2 + 12 * entries as usize + 4) as u32;
    let mut note = header.to_vec();
    note.extend_from_slice(&entries.to_be_bytes());
    for (tag, kind, count, data) in [
        (0x0001u16, 9u16, 1u32, 14u32),
        (0x0011, 2, value.len() as u32, value_at),
    ] {
        note.extend_from_slice(&tag.to_be_bytes());
        note.extend_from_slice(&kind.to_be_bytes());
        note.extend_from_slice(&count.to_be_bytes());
        note.extend_from_slice(&data.to_be_bytes());
    }
    note.extend_from_slice(&[0; 4]);
    note.extend_from_slice(&value);
    let note_path = still.with_extension("makernote");
    std::fs::write(&note_path, note).unwrap();
    let note_arg = format!("-MakerNotes<={}", note_path.display());
    run(
        "exiftool",
        &[
            "-q",
            "-overwrite_original",
            "-Make=Apple",
            "-Model=iPhone 15",
            &note_arg,
            still.to_str().unwrap(),
        ],
    );
    std::fs::remove_file(note_path).unwrap();
    let source = format!("testsrc2=size=320x240:rate=10,hue=h={seed}");
    let key = format!("com.apple.quicktime.content.identifier={identifier}");
    run(
        "ffmpeg",
        &[
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            &source,
            "-t",
            "1",
            "-pix_fmt",
            "yuv420p",
            "-c:v",
            "libx264",
            "-movflags",
            "use_metadata_tags",
            "-metadata",
            &key,
            video.to_str().unwrap(),
        ],
    );
}

/// A small DNG: IFD0 is a 640×480 JPEG preview, its sub-IFD a 16×16 16-bit Bayer raw.
pub fn dng(path: &Path, seed: u32) {
    let preview_path = path.with_extension("preview.jpg");
    ffmpeg_still(&preview_path, "640x480", seed);
    let preview = std::fs::read(&preview_path).unwrap();
    std::fs::remove_file(&preview_path).unwrap();
    let raw: Vec<u8> = (0..16 * 16u32)
        .flat_map(|i| (((i % 16) * 256) as u16).to_le_bytes())
        .collect();

    /// (tag, TIFF type, little-endian value bytes); values over 4 bytes go after the directory.
    type Entry = (u16, u16, Vec<u8>);
    fn directory(mut entries: Vec<Entry>, at: u32) -> Vec<u8> {
        entries.sort_by_key(|e| e.0);
        let width = |kind: u16| match kind {
            3 => 2,
            4 => 4,
            _ => 1,
        };
        let extra_at = at + 2 + 12 * entries.len() as u32 + 4;
        let (mut table, mut extra) = ((entries.len() as u16).to_le_bytes().to_vec(), Vec::new());
        for (tag, kind, data) in entries {
            table.extend_from_slice(&tag.to_le_bytes());
            table.extend_from_slice(&kind.to_le_bytes());
            table.extend_from_slice(&((data.len() / width(kind)) as u32).to_le_bytes());
            if data.len() <= 4 {
                table.extend_from_slice(&data);
                table.extend(std::iter::repeat_n(0, 4 - data.len()));
            } else {
                table.extend_from_slice(&(extra_at + extra.len() as u32).to_le_bytes());
                extra.extend_from_slice(&data);
                if data.len() % 2 == 1 {
                    extra.push(0);
                }
            }
        }
        table.extend_from_slice(&[0; 4]);
        table.extend(extra);
        table
    }
    let long = |v: u32| v.to_le_bytes().to_vec();
    let short = |v: u16| v.to_le_bytes().to_vec();
    let text = |s: &str| [s.as_bytes(), b"\0"].concat();
    let preview_at = 8u32;
    let raw_at = preview_at + preview.len() as u32 + (preview.len() as u32 & 1);
    let first_at = raw_at + raw.len() as u32;
    let first = |sub_at: u32| {
        directory(
            vec![
                (0x00FE, 4, long(1)),
                (0x0100, 4, long(640)),
                (0x0101, 4, long(480)),
                (0x0102, 3, [short(8), short(8), short(8)].concat()),
                (0x0103, 3, short(7)),
                (0x0106, 3, short(6)),
                (0x010F, 2, text("Darkroom")),
                (0x0110, 2, text("RawCam")),
                (0x0111, 4, long(preview_at)),
                (0x0115, 3, short(3)),
                (0x0116, 4, long(480)),
                (0x0117, 4, long(preview.len() as u32)),
                (0x014A, 4, long(sub_at)),
                (0xC612, 1, vec![1, 4, 0, 0]),
                (0xC613, 1, vec![1, 1, 0, 0]),
                (0xC614, 2, text("Darkroom RawCam")),
            ],
            first_at,
        )
    };
    let sub_at = first_at + first(0).len() as u32;
    let sub = directory(
        vec![
            (0x00FE, 4, long(0)),
            (0x0100, 4, long(16)),
            (0x0101, 4, long(16)),
            (0x0102, 3, short(16)),
            (0x0103, 3, short(1)),
            (0x0106, 3, short(32803)),
            (0x0111, 4, long(raw_at)),
            (0x0115, 3, short(1)),
            (0x0116, 4, long(16)),
            (0x0117, 4, long(raw.len() as u32)),
            (0x828D, 3, [short(2), short(2)].concat()),
            (0x828E, 1, vec![0, 1, 1, 2]),
        ],
        sub_at,
    );
    let mut file = b"II*\0".to_vec();
    file.extend_from_slice(&first_at.to_le_bytes());
    file.extend_from_slice(&preview);
    if preview.len() % 2 == 1 {
        file.push(0);
    }
    file.extend_from_slice(&raw);
    file.extend(first(sub_at));
    file.extend(sub);
    std::fs::write(path, file).unwrap();
}

/// Two seconds of HDR10 video: 10-bit HEVC, BT.2020 primaries, PQ transfer.
pub fn hdr10_video(path: &Path) {
    run(
        "ffmpeg",
        &[
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=640x360:rate=30:duration=2",
            "-c:v",
            "libx265",
            "-preset",
            "ultrafast",
            "-crf",
            "28",
            "-pix_fmt",
            "yuv420p10le",
            "-color_primaries",
            "bt2020",
            "-color_trc",
            "smpte2084",
            "-colorspace",
            "bt2020nc",
            "-x265-params",
            "log-level=error:hdr10=1:colorprim=bt2020:transfer=smpte2084:colormatrix=bt2020nc",
            "-tag:v",
            "hvc1",
            path.to_str().unwrap(),
        ],
    );
}

/// A small PNG made in memory (no external tools), for tests that need any valid image.
pub fn png_bytes() -> Vec<u8> {
    let image = image::RgbImage::from_fn(32, 24, |x, y| image::Rgb([(x * 8) as u8, (y * 10) as u8, 128]));
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(image)
        .write_to(&mut out, image::ImageFormat::Png)
        .expect("encode PNG");
    out.into_inner()
}
