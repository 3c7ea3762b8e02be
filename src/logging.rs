//! Logs go to a file, never to the terminal the TUI draws on.

use std::path::PathBuf;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

/// Starts file logging at `level` (`error` … `trace`, or an `EnvFilter`
/// directive). Returns the guard that flushes on drop and the log file path.
pub fn init(level: &str) -> Result<(WorkerGuard, PathBuf), String> {
    let filter =
        EnvFilter::try_new(level).map_err(|err| format!("invalid --log-level `{level}`: {err}"))?;
    let dir = crate::paths::log_dir();
    std::fs::create_dir_all(&dir)
        .map_err(|err| format!("cannot create log dir {}: {err}", dir.display()))?;
    let appender = tracing_appender::rolling::never(&dir, "termdesk.log");
    let (writer, guard) = tracing_appender::non_blocking(appender);
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false)
        .try_init()
        .map_err(|err| format!("cannot start logging: {err}"))?;
    Ok((guard, dir.join("termdesk.log")))
}
