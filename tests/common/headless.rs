//! The whole app — runtime, sync worker, executor, cache, Qpien client —
//! against an in-process sandbox over HTTP, with a scripted keyboard and an
//! in-memory screen. Tests wait for conditions (with a deadline), never for
//! a fixed time.
#![allow(dead_code)]

use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
use futures::StreamExt;
use ratatui::Terminal;
use ratatui::backend::{Backend, ClearType, TestBackend, WindowSize};
use ratatui::buffer::Cell;
use ratatui::layout::{Position, Size};
use secrecy::SecretString;
use tokio::sync::{mpsc, oneshot};

use termdesk::api::Provider;
use termdesk::api::qpien::{QpienClient, QpienConfig};
use termdesk::app::AppState;
use termdesk::app::runtime::{self, Host, InputStream};
use termdesk::app::startup;
use termdesk::config::SendKey;
use termdesk::sandbox::{Sandbox, SandboxOptions};
use termdesk::store::db::{Db, DbError};
use termdesk::store::mutations::{self, ConversationMutation};
use termdesk::store::outbox::OutboxItem;
use termdesk::sync::SyncSettings;
use termdesk::sync::cursor::{META_KEY, SyncCursors};

/// How long any condition may take before the test fails.
pub const DEADLINE: Duration = Duration::from_secs(30);
/// How often a condition is checked.
pub const POLL: Duration = Duration::from_millis(25);

/// Waits until `check` holds, checking every [`POLL`]; fails the test
/// after [`DEADLINE`].
pub async fn wait_until(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(POLL).await;
    }
}

/// A sandbox on a free local port.
pub async fn sandbox(options: SandboxOptions) -> Sandbox {
    Sandbox::start(([127, 0, 0, 1], 0).into(), options)
        .await
        .unwrap()
}

/// Options with a budget no test run can reach: for tests about something
/// other than the rate limit.
pub fn roomy(options: SandboxOptions) -> SandboxOptions {
    SandboxOptions {
        rate_limit: 1_000_000,
        ..options
    }
}

/// A client for the sandbox whose scheduler matches a roomy sandbox.
pub fn roomy_client(sandbox: &Sandbox) -> Arc<QpienClient> {
    let mut config = QpienConfig::new(sandbox.base_url(), "demo", SecretString::from("demo"));
    config.requests_per_minute = 1_000_000;
    Arc::new(QpienClient::new(config).unwrap())
}

/// A fresh, not yet existing cache file in a directory of its own.
pub fn fresh_cache() -> PathBuf {
    tempfile::tempdir().unwrap().keep().join("cache.sqlite")
}

/// A TestBackend the test can read while the app owns the terminal.
#[derive(Clone)]
pub struct SharedBackend(Arc<Mutex<TestBackend>>);

impl SharedBackend {
    pub fn screen(&self) -> String {
        self.0.lock().unwrap().to_string()
    }
}

impl Backend for SharedBackend {
    type Error = <TestBackend as Backend>::Error;

    fn draw<'a, I>(&mut self, content: I) -> Result<(), Self::Error>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        self.0.lock().unwrap().draw(content)
    }
    fn hide_cursor(&mut self) -> Result<(), Self::Error> {
        self.0.lock().unwrap().hide_cursor()
    }
    fn show_cursor(&mut self) -> Result<(), Self::Error> {
        self.0.lock().unwrap().show_cursor()
    }
    fn get_cursor_position(&mut self) -> Result<Position, Self::Error> {
        self.0.lock().unwrap().get_cursor_position()
    }
    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> Result<(), Self::Error> {
        self.0.lock().unwrap().set_cursor_position(position)
    }
    fn clear(&mut self) -> Result<(), Self::Error> {
        self.0.lock().unwrap().clear()
    }
    fn clear_region(&mut self, clear_type: ClearType) -> Result<(), Self::Error> {
        self.0.lock().unwrap().clear_region(clear_type)
    }
    fn size(&self) -> Result<Size, Self::Error> {
        self.0.lock().unwrap().size()
    }
    fn window_size(&mut self) -> Result<WindowSize, Self::Error> {
        self.0.lock().unwrap().window_size()
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        self.0.lock().unwrap().flush()
    }
}

struct ScriptedHost {
    keys: Option<mpsc::UnboundedReceiver<io::Result<TermEvent>>>,
}

impl Host<SharedBackend> for ScriptedHost {
    fn input(&mut self) -> InputStream {
        match self.keys.take() {
            Some(rx) => {
                futures::stream::unfold(
                    rx,
                    |mut rx| async move { rx.recv().await.map(|e| (e, rx)) },
                )
                .boxed()
            }
            None => futures::stream::pending().boxed(),
        }
    }

    fn edit_externally(
        &mut self,
        _: &mut Terminal<SharedBackend>,
        _: &str,
    ) -> Result<String, String> {
        Err("no editor in this test".into())
    }
}

pub struct RunningApp {
    screen: SharedBackend,
    keys: mpsc::UnboundedSender<io::Result<TermEvent>>,
    shutdown: Option<oneshot::Sender<()>>,
    app: tokio::task::JoinHandle<AppState>,
    pub cache: PathBuf,
}

pub const WIDTH: u16 = 120;
pub const HEIGHT: u16 = 36;

impl RunningApp {
    /// Starts the real runtime against `provider` on a 120x36 in-memory
    /// screen, with a fresh cache of its own.
    pub fn start(provider: Arc<dyn Provider>) -> Self {
        Self::start_with_cache(provider, fresh_cache())
    }

    /// Starts it over an existing cache file (a restart), polling every 300 ms.
    pub fn start_with_cache(provider: Arc<dyn Provider>, cache: PathBuf) -> Self {
        Self::start_with(
            provider,
            cache,
            SyncSettings::new(Duration::from_millis(300)),
        )
    }

    pub fn start_with(provider: Arc<dyn Provider>, cache: PathBuf, settings: SyncSettings) -> Self {
        Self::start_configured(provider, cache, settings, |_| {})
    }

    /// Like `start_with`, with the state adjusted before the cache opens
    /// (the settings a config file would give).
    pub fn start_configured(
        provider: Arc<dyn Provider>,
        cache: PathBuf,
        settings: SyncSettings,
        configure: impl FnOnce(&mut AppState) + Send + 'static,
    ) -> Self {
        let backend = SharedBackend(Arc::new(Mutex::new(TestBackend::new(WIDTH, HEIGHT))));
        let (keys, keys_rx) = mpsc::unbounded_channel();
        let (shutdown, shutdown_rx) = oneshot::channel::<()>();
        let screen = backend.clone();
        let path = cache.clone();
        let app = tokio::spawn(async move {
            let mut terminal = Terminal::new(backend).unwrap();
            let mut state = AppState::new(
                "demo",
                "Qpien sandbox",
                true,
                SendKey::Enter,
                Utc::now(),
                (WIDTH, HEIGHT),
            );
            configure(&mut state);
            let mut host = ScriptedHost {
                keys: Some(keys_rx),
            };
            let storage = startup::open_cache(&path, &mut state);
            assert!(storage.is_some(), "the cache opens");
            runtime::run(
                &mut terminal,
                &mut host,
                &mut state,
                provider,
                settings,
                storage,
                async move {
                    let _ = shutdown_rx.await;
                },
            )
            .await
            .unwrap();
            state
        });
        Self {
            screen,
            keys,
            shutdown: Some(shutdown),
            app,
            cache,
        }
    }

    /// Starts the real runtime over several accounts (`run_accounts`),
    /// each polled every `poll`, on a 120x36 screen over `cache`.
    pub fn start_accounts(
        accounts: Vec<(&str, Arc<dyn Provider>)>,
        cache: PathBuf,
        poll: Duration,
    ) -> Self {
        let handles: Vec<runtime::AccountHandle> = accounts
            .into_iter()
            .map(|(name, provider)| runtime::AccountHandle {
                name: name.to_string(),
                provider_label: provider.name().to_string(),
                provider,
                poll_interval: poll,
            })
            .collect();
        let backend = SharedBackend(Arc::new(Mutex::new(TestBackend::new(WIDTH, HEIGHT))));
        let (keys, keys_rx) = mpsc::unbounded_channel();
        let (shutdown, shutdown_rx) = oneshot::channel::<()>();
        let screen = backend.clone();
        let path = cache.clone();
        let app = tokio::spawn(async move {
            let mut terminal = Terminal::new(backend).unwrap();
            let label = handles.first().map(|h| h.name.clone()).unwrap_or_default();
            let mut state = AppState::new(
                label,
                "Qpien",
                false,
                SendKey::Enter,
                Utc::now(),
                (WIDTH, HEIGHT),
            );
            let mut host = ScriptedHost {
                keys: Some(keys_rx),
            };
            let storage = startup::open_cache(&path, &mut state);
            assert!(storage.is_some(), "the cache opens");
            runtime::run_accounts(
                &mut terminal,
                &mut host,
                &mut state,
                handles,
                storage,
                async move {
                    let _ = shutdown_rx.await;
                },
            )
            .await
            .unwrap();
            state
        });
        Self {
            screen,
            keys,
            shutdown: Some(shutdown),
            app,
            cache,
        }
    }

    pub fn press(&self, code: KeyCode) {
        self.press_with(code, KeyModifiers::NONE);
    }

    pub fn press_with(&self, code: KeyCode, modifiers: KeyModifiers) {
        self.keys
            .send(Ok(TermEvent::Key(KeyEvent::new(code, modifiers))))
            .unwrap();
    }

    pub fn type_text(&self, text: &str) {
        text.chars().for_each(|c| self.press(KeyCode::Char(c)));
    }

    pub fn screen(&self) -> String {
        self.screen.screen()
    }

    /// Waits until the screen satisfies `check`; fails with the screen.
    pub async fn wait_for_screen(&self, what: &str, check: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let screen = self.screen();
            if check(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; screen:\n{screen}"
            );
            tokio::time::sleep(POLL).await;
        }
    }

    /// Opens the selected conversation and waits for its thread.
    pub async fn open_selected(&self) {
        self.press(KeyCode::Enter);
        self.wait_for_screen("the open thread", |s| {
            s.contains("Reply to")
                && (s.contains("start of conversation") || s.contains("older messages"))
        })
        .await;
    }

    /// Leaves the composer, quits, and returns the final state. An answer
    /// still on its way when `q` arrives makes termdesk ask "Quit?" (a
    /// busy machine can delay one past what the test waited for); the
    /// agent quits anyway, as the test asked.
    pub async fn quit(self) -> AppState {
        self.press(KeyCode::Esc);
        self.press(KeyCode::Char('q'));
        let screen = self.screen.clone();
        let keys = self.keys.clone();
        let confirm = tokio::spawn(async move {
            while !screen.screen().contains("Quit?") {
                tokio::time::sleep(POLL).await;
            }
            let yes = KeyEvent::new(KeyCode::Char('y'), KeyModifiers::NONE);
            let _ = keys.send(Ok(TermEvent::Key(yes)));
        });
        let state = self.join().await;
        confirm.abort();
        state
    }

    /// Ends the app the way SIGTERM or a closed terminal does.
    pub async fn stop(mut self) -> AppState {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        self.join().await
    }

    async fn join(self) -> AppState {
        let screen = self.screen.clone();
        match tokio::time::timeout(DEADLINE, self.app).await {
            Ok(state) => state.unwrap(),
            Err(_) => panic!("the app did not exit; screen:\n{}", screen.screen()),
        }
    }
}

/// Reads an account's cache file from outside the app, the way a second
/// termdesk (`termdesk search`) would: what is here survives a crash.
#[derive(Clone)]
pub struct CacheProbe {
    path: PathBuf,
}

impl CacheProbe {
    pub fn new(path: &Path) -> Self {
        Self {
            path: path.to_path_buf(),
        }
    }

    /// `None` only while the file does not exist. A read that fails while
    /// the app opens, checkpoints or closes the file is tried again; one
    /// that keeps failing fails the test instead of passing for "empty".
    fn with<T>(&self, read: impl Fn(&Db) -> Result<T, DbError>) -> Option<T> {
        let deadline = Instant::now() + DEADLINE;
        loop {
            if !self.path.exists() {
                return None;
            }
            match Db::open_read_only(&self.path).and_then(|db| read(&db)) {
                Ok(value) => return Some(value),
                Err(error) => {
                    assert!(
                        Instant::now() < deadline,
                        "the cache cannot be read: {error}"
                    );
                    std::thread::sleep(POLL);
                }
            }
        }
    }

    pub fn cursors(&self) -> Option<SyncCursors> {
        self.with(|db| db.get_meta(META_KEY))
            .flatten()
            .and_then(|json| serde_json::from_str(&json).ok())
    }

    /// One account's cursors when several share the cache.
    pub fn account_cursors(&self, account: &str) -> Option<SyncCursors> {
        self.with(|db| db.get_meta(&termdesk::sync::cursor::account_key(account)))
            .flatten()
            .and_then(|json| serde_json::from_str(&json).ok())
    }

    /// The whole history and the contact directory have been read once.
    pub fn fully_synced(&self) -> bool {
        self.cursors()
            .is_some_and(|c| c.backfill_done() && c.contacts_complete)
    }

    pub fn outbox(&self) -> Vec<OutboxItem> {
        self.with(|db| db.load_outbox())
            .unwrap_or_default()
            .iter()
            .filter_map(|json| serde_json::from_str(json).ok())
            .collect()
    }

    /// Actions on conversations waiting in the log.
    pub fn pending_actions(&self) -> Vec<ConversationMutation> {
        self.with(|db| db.load_mutations(mutations::KIND))
            .unwrap_or_default()
            .iter()
            .filter_map(|json| serde_json::from_str(json).ok())
            .collect()
    }

    pub fn conversation_count(&self) -> usize {
        self.with(|db| db.conversation_count()).unwrap_or(0)
    }

    pub fn contact_count(&self) -> usize {
        self.with(|db| db.contact_count()).unwrap_or(0)
    }

    /// Every cached conversation's id and the text of its last message.
    pub fn last_messages(&self) -> Vec<(String, String)> {
        self.with(|db| db.load_conversations(0, 1_000_000))
            .unwrap_or_default()
            .into_iter()
            .map(|row| {
                let text = row
                    .conversation
                    .last_message
                    .map(|m| m.text)
                    .unwrap_or_default();
                (row.conversation.id.as_str().to_string(), text)
            })
            .collect()
    }

    pub fn drafts(&self) -> Vec<(String, String)> {
        self.with(|db| db.load_drafts())
            .unwrap_or_default()
            .into_iter()
            .map(|(id, text)| (id.as_str().to_string(), text))
            .collect()
    }
}

/// Runs `f` on a blocking thread: for reads of the cache while the app runs.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

/// `wait_until` for checks that read files.
pub async fn wait_until_blocking<F>(what: &str, check: F)
where
    F: Fn() -> bool + Send + Sync + Clone + 'static,
{
    let deadline = Instant::now() + DEADLINE;
    loop {
        let check = check.clone();
        if blocking(check).await {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(POLL).await;
    }
}

/// Runs `future` and fails the test if it takes longer than [`DEADLINE`].
pub async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(DEADLINE, future)
        .await
        .unwrap_or_else(|_| panic!("timed out: {what}"))
}
