//! Running the external media tools (ffmpeg, ffprobe, heif-convert, exiftool) under a time
//! limit: at the limit the tool is killed, so a file that makes it hang costs seconds.

use std::process::Stdio;
use std::time::Duration;

use tokio::process::Command;

#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    #[error("{tool} failed: {message}")]
    Failed { tool: &'static str, message: String },
    #[error("{tool} took longer than {seconds} s and was stopped")]
    Timeout { tool: &'static str, seconds: u64 },
}

/// Runs `tool` with `args` and returns what it printed; its last error line on failure.
pub async fn run<S: AsRef<std::ffi::OsStr>>(
    tool: &'static str,
    args: &[S],
    timeout: Duration,
) -> Result<Vec<u8>, ToolError> {
    let child = Command::new(tool)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| ToolError::Failed {
            tool,
            message: e.to_string(),
        })?;
    match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Err(_) => Err(ToolError::Timeout {
            tool,
            seconds: timeout.as_secs(),
        }),
        Ok(Err(error)) => Err(ToolError::Failed {
            tool,
            message: error.to_string(),
        }),
        Ok(Ok(output)) if !output.status.success() => {
            let message = String::from_utf8_lossy(&output.stderr)
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("no output")
                .to_string();
            Err(ToolError::Failed { tool, message })
        }
        Ok(Ok(output)) => Ok(output.stdout),
    }
}

/// The versions of the media tools, as `GET /server/about` reports them; empty where a tool is
/// missing or does not answer.
#[derive(Debug, Clone, Default)]
pub struct ToolVersions {
    pub ffmpeg: String,
    pub exiftool: String,
}

pub async fn versions() -> ToolVersions {
    let first_line = |tool: &'static str, args: &'static [&'static str]| async move {
        run(tool, args, Duration::from_secs(10))
            .await
            .map(|out| {
                String::from_utf8_lossy(&out)
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_owned()
            })
            .unwrap_or_default()
    };
    let (ffmpeg, exiftool) = tokio::join!(first_line("ffmpeg", &["-version"]), first_line("exiftool", &["-ver"]));
    ToolVersions {
        ffmpeg: ffmpeg.trim_start_matches("ffmpeg version ").to_owned(),
        exiftool,
    }
}
