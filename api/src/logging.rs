//! Log output following `IMMICH_LOG_LEVEL` and `IMMICH_LOG_FORMAT`.

use tracing_subscriber::EnvFilter;

use crate::config::{LogFormat, LogLevel};

pub fn init(level: LogLevel, format: LogFormat) {
    // Our crates log at the chosen level; dependencies only warn unless RUST_LOG says otherwise.
    let directives = std::env::var("RUST_LOG").unwrap_or_else(|_| {
        let ours = level.as_filter();
        format!("warn,darkroom_api={ours},darkroom_storage={ours},darkroom_server={ours}")
    });
    let filter = EnvFilter::try_new(&directives).unwrap_or_else(|_| EnvFilter::new("info"));
    // Colours only for a person at a terminal: the journal and log shippers get plain text.
    let colours = std::io::IsTerminal::is_terminal(&std::io::stdout()) && std::env::var_os("NO_COLOR").is_none();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(colours);
    let result = match format {
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).try_init(),
        LogFormat::Console => builder.try_init(),
    };
    // A second init (tests) keeps the first subscriber.
    drop(result);
}
