//! Motion photos: Google's and Samsung's stills carry their short video inside the file.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

/// How many bytes at the end of the file are the video, when the tags say so: Google's
/// `MicroVideoOffset`, or the `MotionPhoto` item of the newer container directory.
pub fn trailing_video_length(tags: &Value) -> Option<u64> {
    if let Some(offset) = tags["MicroVideoOffset"].as_u64().filter(|o| *o > 0) {
        return Some(offset);
    }
    let semantics = tags["DirectoryItemSemantic"].as_array()?;
    let lengths = tags["DirectoryItemLength"].as_array()?;
    let index = semantics.iter().position(|s| s.as_str() == Some("MotionPhoto"))?;
    lengths.get(index).and_then(Value::as_u64).filter(|l| *l > 0)
}

/// The embedded video of a motion photo, if it has one.
pub async fn embedded_video(path: &Path, tags: &Value, timeout: Duration) -> std::io::Result<Option<Vec<u8>>> {
    if let Some(length) = trailing_video_length(tags) {
        let mut file = tokio::fs::File::open(path).await?;
        let size = file.metadata().await?.len();
        if length >= size {
            return Ok(None);
        }
        file.seek(std::io::SeekFrom::Start(size - length)).await?;
        let mut video = Vec::with_capacity(length as usize);
        file.take(length).read_to_end(&mut video).await?;
        return Ok(Some(video));
    }
    // Samsung keeps it in a trailer exiftool reads as EmbeddedVideoFile (or MotionPhotoVideo).
    for tag in ["EmbeddedVideoFile", "MotionPhotoVideo"] {
        if tags.get(tag).is_none() {
            continue;
        }
        let args = [
            std::ffi::OsString::from("-b"),
            format!("-{tag}").into(),
            path.as_os_str().to_owned(),
        ];
        let video = crate::tools::run("exiftool", &args, timeout)
            .await
            .map_err(std::io::Error::other)?;
        if video.len() > 100 {
            return Ok(Some(video));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn google_tags_give_the_trailing_length() {
        assert_eq!(
            trailing_video_length(&json!({"MicroVideo": 1, "MicroVideoOffset": 1234})),
            Some(1234)
        );
        let directory = json!({"DirectoryItemSemantic": ["Primary", "MotionPhoto"], "DirectoryItemLength": [0, 5678]});
        assert_eq!(trailing_video_length(&directory), Some(5678));
        assert_eq!(trailing_video_length(&json!({})), None);
    }
}
