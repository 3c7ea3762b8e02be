//! Runs the real termdesk binary in a pseudo-terminal and reads its screen
//! through a VT parser.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, PtySize, native_pty_system};

pub struct Tty {
    parser: Arc<Mutex<vt100::Parser>>,
    output: Arc<Mutex<Vec<u8>>>,
    writer: Box<dyn Write + Send>,
    pub child: Box<dyn Child + Send + Sync>,
    pub started: Instant,
    /// When the first byte arrived.
    pub first_output: Arc<Mutex<Option<Instant>>>,
    /// The reader saw the end of the output.
    done: Arc<std::sync::atomic::AtomicBool>,
}

/// A scratch directory standing in for HOME, so no real config is read and
/// logs stay out of the way.
pub fn scratch_home() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("termdesk-test-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

impl Tty {
    pub fn spawn(
        binary: &Path,
        args: &[&str],
        home: &Path,
        env: &[(&str, &str)],
        cols: u16,
        rows: u16,
    ) -> Tty {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("open a pty");
        let mut command = CommandBuilder::new(binary);
        command.args(args);
        command.env("HOME", home);
        command.env("XDG_CONFIG_HOME", home.join("config"));
        command.env("XDG_STATE_HOME", home.join("state"));
        command.env("XDG_DATA_HOME", home.join("data"));
        command.env("TERM", "xterm-256color");
        for (key, value) in env {
            command.env(key, value);
        }
        let started = Instant::now();
        let child = pair.slave.spawn_command(command).expect("spawn termdesk");
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().unwrap();
        let writer = pair.master.take_writer().unwrap();
        let parser = Arc::new(Mutex::new(vt100::Parser::new(
            std::num::NonZeroU16::new(rows.max(1)).unwrap(),
            std::num::NonZeroU16::new(cols.max(1)).unwrap(),
            0,
        )));
        let output = Arc::new(Mutex::new(Vec::new()));
        let first_output = Arc::new(Mutex::new(None));
        let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        {
            let (parser, output, first_output, done) = (
                parser.clone(),
                output.clone(),
                first_output.clone(),
                done.clone(),
            );
            std::thread::spawn(move || {
                let _master = pair.master;
                let mut buf = [0u8; 8192];
                while let Ok(n) = reader.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    first_output
                        .lock()
                        .unwrap()
                        .get_or_insert_with(Instant::now);
                    parser.lock().unwrap().process(&buf[..n]);
                    output.lock().unwrap().extend_from_slice(&buf[..n]);
                }
                done.store(true, std::sync::atomic::Ordering::SeqCst);
            });
        }
        Tty {
            parser,
            output,
            writer,
            child,
            started,
            first_output,
            done,
        }
    }

    pub fn screen(&self) -> String {
        self.parser.lock().unwrap().screen().contents()
    }

    pub fn output_len(&self) -> usize {
        self.output.lock().unwrap().len()
    }

    pub fn output(&self) -> Vec<u8> {
        self.output.lock().unwrap().clone()
    }

    pub fn send(&mut self, bytes: &str) {
        self.writer.write_all(bytes.as_bytes()).unwrap();
        self.writer.flush().unwrap();
        // Lone ESC and the next key must not merge into one sequence.
        std::thread::sleep(Duration::from_millis(60));
    }

    /// Writes at once, without the pause `send` makes: for timing a burst.
    pub fn write_now(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).unwrap();
        self.writer.flush().unwrap();
    }

    /// Waits until the screen satisfies `check`, or fails with the screen.
    pub fn wait_for(
        &self,
        what: &str,
        timeout: Duration,
        check: impl Fn(&str) -> bool,
    ) -> Duration {
        let deadline = Instant::now() + timeout;
        loop {
            let screen = self.screen();
            if check(&screen) {
                return self.started.elapsed();
            }
            if Instant::now() > deadline {
                panic!("timed out waiting for {what}; screen:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn wait_exit(&mut self, timeout: Duration) -> portable_pty::ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // Let the reader drain what the process wrote last.
                let drained = Instant::now() + Duration::from_secs(2);
                while !self.done.load(std::sync::atomic::Ordering::SeqCst)
                    && Instant::now() < drained
                {
                    std::thread::sleep(Duration::from_millis(10));
                }
                return status;
            }
            if Instant::now() > deadline {
                // The screen as termdesk left it, before the kill redraws it.
                let screen = self.screen();
                let _ = self.child.kill();
                panic!("termdesk did not exit; screen:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Tty {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
    }
}

/// How long an end-to-end step may take before the test fails.
pub const LONG: Duration = Duration::from_secs(30);

/// Polls `check` every 20 ms; fails after `LONG`.
pub fn wait(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + LONG;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Writes a config with one Qpien account named `name` at `base_url`
/// (its secret in `TERMDESK_E2E_SECRET`), polling every second, followed
/// by `extra` lines; returns the file's path for `--config`.
pub fn account_config(home: &Path, name: &str, base_url: &str, extra: &str) -> String {
    let config = home.join("termdesk.toml");
    std::fs::write(
        &config,
        format!(
            "[[accounts]]\nname = \"{name}\"\nprovider = \"qpien\"\nbase_url = \"{base_url}\"\n\
             client_id = \"demo\"\nclient_secret_env = \"TERMDESK_E2E_SECRET\"\n\
             poll_interval_secs = 1\n{extra}"
        ),
    )
    .unwrap();
    config.to_string_lossy().to_string()
}

/// The account's cache file under the scratch home's data dir.
pub fn find_cache(dir: &Path) -> Option<PathBuf> {
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if let Some(found) = find_cache(&path) {
                return Some(found);
            }
        } else if path.extension().is_some_and(|e| e == "sqlite") {
            return Some(path);
        }
    }
    None
}
