//! Real media made at test time with ffmpeg, exiftool and heif-enc (installed by `scripts/setup`).

use std::path::Path;
use std::process::Command;

fn run(program: &str, args: &[&str]) {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} is missing ({e}); run ./scripts/setup"));
    assert!(output.status.success(), "{program} {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
}

fn ffmpeg_still(path: &Path, size: &str, seed: u32) {
    let source = format!("testsrc2=size={size}:rate=1,hue=h={seed}");
    run("ffmpeg", &["-v", "error", "-y", "-f", "lavfi", "-i", &source, "-frames:v", "1", path.to_str().unwrap()]);
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
            "-v", "error", "-y", "-f", "lavfi", "-i", &video, "-f", "lavfi", "-i", "sine=frequency=440", "-t", "1",
            "-pix_fmt", "yuv420p", "-c:v", "libx264", "-c:a", "aac", "-shortest", path.to_str().unwrap(),
        ],
    );
}

/// A HEIC still (via a PNG and heif-enc).
pub fn heic(path: &Path, seed: u32) {
    let png = path.with_extension("source.png");
    still(&png, seed);
    run("heif-enc", &["-q", "50", "-o", path.to_str().unwrap(), png.to_str().unwrap()]);
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
    run("exiftool", &["-q", "-overwrite_original", "-XMP-GCamera:MicroVideo=1", "-XMP-GCamera:MicroVideoVersion=1", &offset, path.to_str().unwrap()]);
    let mut still = std::fs::read(path).unwrap();
    still.extend_from_slice(&video_bytes);
    std::fs::write(path, still).unwrap();
    video_bytes
}
