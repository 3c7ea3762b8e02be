//! Logs go to a file, never to the terminal the TUI draws on.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

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
    let path = dir.join("termdesk.log");
    let _ = LOG_FILE.set(path.clone());
    install_panic_hook();
    Ok((guard, path))
}

static LOG_FILE: OnceLock<PathBuf> = OnceLock::new();

/// The log file, once logging has started.
pub fn log_file() -> Option<&'static Path> {
    LOG_FILE.get().map(PathBuf::as_path)
}

/// Writes a panic and its backtrace to the log. A panic message may quote
/// remote text, so it is sanitized like everything else that is shown.
pub fn log_panic(info: &std::panic::PanicHookInfo<'_>) {
    let backtrace = std::backtrace::Backtrace::force_capture();
    let thread = std::thread::current();
    tracing::error!(
        thread = thread.name().unwrap_or("unnamed"),
        panic = %crate::text::sanitize(&info.to_string()),
        %backtrace,
        "panicked"
    );
}

/// What to tell the person at the terminal after a crash.
pub fn crash_notice() -> String {
    let place = log_file()
        .map(|path| format!("the details and a backtrace are in {}", path.display()))
        .unwrap_or_else(|| "no log file was open".to_string());
    format!(
        "termdesk stopped after an internal error; {place}. Drafts and unsent replies are kept and go out on the next start."
    )
}

/// Every panic reaches the log with its backtrace, then the usual report.
fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        log_panic(info);
        previous(info);
    }));
}
