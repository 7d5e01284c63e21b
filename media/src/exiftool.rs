//! One long-lived `exiftool -stay_open` process: starting Perl for every file would cost more
//! than reading it. Requests are serialised; a request that takes too long kills the process,
//! and the next request starts a fresh one.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::sync::Mutex;

#[derive(Debug, thiserror::Error)]
pub enum ExiftoolError {
    #[error("cannot start exiftool: {0}")]
    Start(std::io::Error),
    #[error("exiftool failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("exiftool took longer than {0:?} and was stopped")]
    Timeout(Duration),
    #[error("exiftool output is not JSON: {0}")]
    Output(String),
}

struct Process {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

pub struct Exiftool {
    process: Mutex<Option<Process>>,
    timeout: Duration,
}

impl Exiftool {
    pub fn new(timeout: Duration) -> Self {
        Self {
            process: Mutex::new(None),
            timeout,
        }
    }

    fn spawn() -> Result<Process, ExiftoolError> {
        let mut child = Command::new("exiftool")
            .args(["-stay_open", "True", "-@", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(ExiftoolError::Start)?;
        let stdin = child
            .stdin
            .take()
            .ok_or_else(|| ExiftoolError::Start(std::io::Error::other("no stdin")))?;
        let stdout = BufReader::new(
            child
                .stdout
                .take()
                .ok_or_else(|| ExiftoolError::Start(std::io::Error::other("no stdout")))?,
        );
        Ok(Process { child, stdin, stdout })
    }

    /// Runs one request (`args` then the file) and returns its printed output.
    async fn execute(process: &mut Process, args: &[&str], file: &Path) -> Result<String, ExiftoolError> {
        let mut request = String::new();
        for arg in args {
            request.push_str(arg);
            request.push('\n');
        }
        request.push_str(&file.to_string_lossy());
        request.push_str("\n-execute\n");
        process.stdin.write_all(request.as_bytes()).await?;
        process.stdin.flush().await?;
        let mut output = String::new();
        loop {
            let mut line = String::new();
            if process.stdout.read_line(&mut line).await? == 0 {
                return Err(ExiftoolError::Io(std::io::Error::other("exiftool exited")));
            }
            if line.trim_end() == "{ready}" {
                return Ok(output);
            }
            output.push_str(&line);
        }
    }

    /// Runs one request under the time limit, replacing the process if it breaks or hangs.
    async fn request(&self, args: &[&str], file: &Path) -> Result<String, ExiftoolError> {
        let mut guard = self.process.lock().await;
        if guard.is_none() {
            *guard = Some(Self::spawn()?);
        }
        let Some(process) = guard.as_mut() else {
            return Err(ExiftoolError::Start(std::io::Error::other("not started")));
        };
        match tokio::time::timeout(self.timeout, Self::execute(process, args, file)).await {
            Ok(Ok(output)) => Ok(output),
            Ok(Err(error)) => {
                *guard = None;
                Err(error)
            }
            Err(_) => {
                if let Some(mut process) = guard.take() {
                    let _ = process.child.start_kill();
                }
                Err(ExiftoolError::Timeout(self.timeout))
            }
        }
    }

    /// Writes `tags` (`-GROUP:Tag=value` arguments) into `file`, creating an XMP sidecar when
    /// `file` is one that does not exist yet.
    pub async fn write_tags(&self, file: &Path, tags: &[String]) -> Result<(), ExiftoolError> {
        // Arguments travel one per line, so a value with a line break (a description of two
        // lines) would be cut there; with `-E` exiftool reads them HTML-escaped instead.
        let escaped: Vec<String> = tags.iter().map(|tag| escape_html(tag)).collect();
        let mut args: Vec<&str> = vec!["-overwrite_original", "-n", "-E"];
        args.extend(escaped.iter().map(String::as_str));
        let output = self.request(&args, file).await?;
        if output.contains("files updated")
            || output.contains("files created")
            || output.contains("image files updated")
        {
            Ok(())
        } else {
            Err(ExiftoolError::Output(output.trim().chars().take(200).collect()))
        }
    }

    /// All tags of `file` as exiftool's JSON object (numbers as numbers, `-n`), or an error.
    pub async fn read_tags(&self, file: &Path) -> Result<Value, ExiftoolError> {
        let output = self
            .request(&["-json", "-n", "-api", "LargeFileSupport=1", "-fast"], file)
            .await?;
        let parsed: Value = serde_json::from_str(output.trim())
            .map_err(|_| ExiftoolError::Output(output.chars().take(200).collect()))?;
        Ok(parsed
            .as_array()
            .and_then(|a| a.first())
            .cloned()
            .unwrap_or(Value::Null))
    }
}

/// `text` as `-E` makes exiftool read it: `&`, `<`, `>` and line breaks as entities.
fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\n' => out.push_str("&#xa;"),
            '\r' => out.push_str("&#xd;"),
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A description of several lines with markup characters comes back exactly as written.
    #[tokio::test]
    async fn multi_line_values_survive_a_write() {
        let dir = std::env::temp_dir().join(format!("darkroom-exiftool-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let sidecar = dir.join("lines.xmp");
        let _ = std::fs::remove_file(&sidecar);
        let exiftool = Exiftool::new(Duration::from_secs(30));
        let description = "Sunset\nBeach & sea <3\r\nWith Zoë 🙂";
        exiftool
            .write_tags(&sidecar, &[format!("-XMP-dc:Description={description}")])
            .await
            .expect("write");
        let tags = exiftool.read_tags(&sidecar).await.expect("read");
        assert_eq!(tags["Description"], serde_json::json!(description));
        std::fs::remove_dir_all(&dir).expect("clean up");
    }
}
