//! The terminal: raw mode and alternate screen on the way in, always undone
//! on the way out (also after a panic), and handed over to `$EDITOR`.

use std::io::{self, Stdout, Write};
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
};
use crossterm::terminal::{self, EnterAlternateScreen, LeaveAlternateScreen};
use crossterm::{cursor, execute};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

pub type Tui = Terminal<CrosstermBackend<Stdout>>;

static PANIC_HOOK: Once = Once::new();
static MOUSE: AtomicBool = AtomicBool::new(false);

/// Whether the terminal reports clicks and the wheel (set before `enter`).
pub fn set_mouse(enabled: bool) {
    MOUSE.store(enabled, Ordering::Relaxed);
}

/// Rings the terminal bell, and with the `desktop-notify` feature also
/// shows a desktop notification (text already sanitized).
pub fn alert(title: &str, body: &str) {
    let mut stdout = io::stdout();
    let _ = stdout.write_all(b"\x07");
    let _ = stdout.flush();
    #[cfg(feature = "desktop-notify")]
    if DESKTOP_NOTIFY.load(Ordering::Relaxed) {
        let (title, body) = (title.to_string(), body.to_string());
        // The notification daemon may be slow or absent: never wait for it.
        std::thread::spawn(move || {
            if let Err(error) = notify_rust::Notification::new()
                .summary(&title)
                .body(&body)
                .appname("termdesk")
                .show()
            {
                tracing::warn!(%error, "desktop notification failed");
            }
        });
    }
    #[cfg(not(feature = "desktop-notify"))]
    let _ = (title, body);
}

#[cfg(feature = "desktop-notify")]
static DESKTOP_NOTIFY: AtomicBool = AtomicBool::new(false);

/// Turns desktop notifications on (only in builds with `desktop-notify`).
pub fn set_desktop_notifications(enabled: bool) {
    #[cfg(feature = "desktop-notify")]
    DESKTOP_NOTIFY.store(enabled, Ordering::Relaxed);
    #[cfg(not(feature = "desktop-notify"))]
    if enabled {
        tracing::warn!(
            "desktop_notifications is set, but this build has no desktop-notify feature"
        );
    }
}

/// Enters the TUI. The returned guard restores the terminal when dropped.
pub fn enter() -> io::Result<(Tui, TerminalGuard)> {
    PANIC_HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            // The TUI runs on the main thread. A panic in a background task
            // is caught and reported by the app, which keeps running: there,
            // restoring the terminal or printing to it would wreck the screen.
            if std::thread::current().name() == Some("main") {
                let _ = restore();
                previous(info);
                eprintln!("{}", crate::logging::crash_notice());
            } else {
                crate::logging::log_panic(info);
            }
        }));
    });
    setup()?;
    let guard = TerminalGuard;
    let terminal = Terminal::new(CrosstermBackend::new(io::stdout()))?;
    Ok((terminal, guard))
}

fn setup() -> io::Result<()> {
    terminal::enable_raw_mode()?;
    execute!(
        io::stdout(),
        EnterAlternateScreen,
        EnableBracketedPaste,
        cursor::Hide
    )?;
    if MOUSE.load(Ordering::Relaxed) {
        execute!(io::stdout(), EnableMouseCapture)?;
    }
    Ok(())
}

/// Leaves raw mode and the alternate screen. Safe to call twice.
pub fn restore() -> io::Result<()> {
    let mut stdout = io::stdout();
    if MOUSE.load(Ordering::Relaxed) {
        let _ = execute!(stdout, DisableMouseCapture);
    }
    let _ = execute!(
        stdout,
        DisableBracketedPaste,
        LeaveAlternateScreen,
        cursor::Show
    );
    let result = terminal::disable_raw_mode();
    let _ = stdout.flush();
    result
}

pub struct TerminalGuard;

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        let _ = restore();
    }
}

/// Clears the screen and forgets what was drawn, so the next frame repaints
/// everything. (`Terminal::clear` would query the cursor position, which can
/// time out right after another program had the terminal.)
fn force_full_redraw(terminal: &mut Tui) -> io::Result<()> {
    execute!(io::stdout(), terminal::Clear(terminal::ClearType::All))?;
    terminal.current_buffer_mut().reset();
    terminal.swap_buffers();
    Ok(())
}

/// Suspends the TUI, shows `text` in `$PAGER` (default `less`) and resumes.
/// The caller must have stopped reading input.
pub fn page(terminal: &mut Tui, text: &str) -> Result<(), String> {
    // Private (0600) and removed on drop: the message is customer data.
    let mut file = tempfile::Builder::new()
        .prefix("termdesk-message-")
        .suffix(".txt")
        .tempfile()
        .map_err(|err| format!("cannot create a temporary file: {err}"))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.flush())
        .map_err(|err| format!("cannot write the temporary file: {err}"))?;
    let pager = std::env::var("PAGER").unwrap_or_else(|_| "less".to_string());
    let _ = restore();
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{pager} \"$1\""))
        .arg("sh")
        .arg(file.path())
        .status();
    let resumed = setup().and_then(|()| force_full_redraw(terminal));
    if let Err(err) = resumed {
        tracing::error!(%err, "cannot restore the terminal after the pager");
    }
    match status {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(format!("{pager} exited with {status}")),
        Err(err) => Err(format!("cannot start {pager}: {err}")),
    }
}

/// Suspends the TUI, edits `initial` in `$VISUAL`/`$EDITOR` (default `vi`)
/// and resumes. The caller must have stopped reading input.
pub fn edit_externally(terminal: &mut Tui, initial: &str) -> Result<String, String> {
    // Private (0600) and removed on drop: the reply may hold customer data.
    let mut file = tempfile::Builder::new()
        .prefix("termdesk-reply-")
        .suffix(".txt")
        .tempfile()
        .map_err(|err| format!("cannot create a temporary file: {err}"))?;
    file.write_all(initial.as_bytes())
        .and_then(|()| file.flush())
        .map_err(|err| format!("cannot write the temporary file: {err}"))?;
    let path = file.path().to_path_buf();
    let editor = std::env::var("VISUAL")
        .or_else(|_| std::env::var("EDITOR"))
        .unwrap_or_else(|_| "vi".to_string());
    let _ = restore();
    // Through the shell so EDITOR may carry arguments, e.g. "code --wait".
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("sh")
        .arg(&path)
        .status();
    let resumed = setup().and_then(|()| force_full_redraw(terminal));
    let result = match status {
        Ok(status) if status.success() => std::fs::read_to_string(&path)
            .map_err(|err| format!("cannot read the edited reply: {err}")),
        Ok(status) => Err(format!(
            "{editor} exited with {status}; the reply is unchanged"
        )),
        Err(err) => Err(format!("cannot start {editor}: {err}")),
    };
    if let Err(err) = resumed {
        tracing::error!(%err, "cannot restore the terminal after the editor");
    }
    result
}
