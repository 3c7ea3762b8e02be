//! The whole app — runtime, sync worker, executor, Qpien client — against
//! the sandbox over HTTP, with a scripted keyboard and an in-memory screen.

use std::io;
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
use tokio::sync::mpsc;

use termdesk::api::qpien::{QpienClient, QpienConfig};
use termdesk::app::AppState;
use termdesk::app::runtime::{self, Host, InputStream};
use termdesk::app::startup;
use termdesk::config::SendKey;
use termdesk::domain::ConversationId;
use termdesk::sandbox::{Faults, Sandbox, SandboxOptions};
use termdesk::sync::SyncSettings;

/// A TestBackend the test can read while the app owns the terminal.
#[derive(Clone)]
struct SharedBackend(Arc<Mutex<TestBackend>>);

impl SharedBackend {
    fn screen(&self) -> String {
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

async fn wait_until(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

struct RunningApp {
    screen: SharedBackend,
    keys: mpsc::UnboundedSender<io::Result<TermEvent>>,
    app: tokio::task::JoinHandle<AppState>,
}

impl RunningApp {
    /// Starts the real runtime against `provider` on a 120x36 in-memory
    /// screen, with a fresh cache of its own.
    fn start(provider: Arc<QpienClient>) -> Self {
        let cache = tempfile::tempdir().unwrap().keep().join("cache.sqlite");
        Self::start_with_cache(provider, cache)
    }

    /// Starts it over an existing cache file (a restart).
    fn start_with_cache(provider: Arc<QpienClient>, cache: std::path::PathBuf) -> Self {
        let backend = SharedBackend(Arc::new(Mutex::new(TestBackend::new(120, 36))));
        let (keys, keys_rx) = mpsc::unbounded_channel();
        let screen = backend.clone();
        let app = tokio::spawn(async move {
            let mut terminal = Terminal::new(backend).unwrap();
            let mut state = AppState::new(
                "demo",
                "Qpien sandbox",
                true,
                SendKey::Enter,
                Utc::now(),
                (120, 36),
            );
            let mut host = ScriptedHost {
                keys: Some(keys_rx),
            };
            let storage = startup::open_cache(&cache, &mut state);
            assert!(storage.is_some(), "the cache opens");
            runtime::run(
                &mut terminal,
                &mut host,
                &mut state,
                provider,
                SyncSettings::new(Duration::from_millis(300)),
                storage,
                std::future::pending(),
            )
            .await
            .unwrap();
            state
        });
        Self { screen, keys, app }
    }

    fn press(&self, code: KeyCode) {
        self.keys
            .send(Ok(TermEvent::Key(KeyEvent::new(code, KeyModifiers::NONE))))
            .unwrap();
    }

    fn type_text(&self, text: &str) {
        text.chars().for_each(|c| self.press(KeyCode::Char(c)));
    }

    fn screen(&self) -> String {
        self.screen.screen()
    }

    /// Leaves the composer, quits, and returns the final state.
    async fn quit(self) -> AppState {
        self.press(KeyCode::Esc);
        self.press(KeyCode::Char('q'));
        tokio::time::timeout(Duration::from_secs(10), self.app)
            .await
            .expect("the app quits")
            .unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_replies_and_sees_new_messages_end_to_end() {
    let sandbox = Sandbox::start(([127, 0, 0, 1], 0).into(), SandboxOptions::default())
        .await
        .unwrap();
    let control = sandbox.control();
    let top = control.conversation_ids()[0].clone();
    let provider = Arc::new(
        QpienClient::new(QpienConfig::new(
            sandbox.base_url(),
            "demo",
            SecretString::from("demo"),
        ))
        .unwrap(),
    );
    let app = RunningApp::start(provider);

    wait_until("the first page of conversations", || {
        app.screen().contains("Conversations (320)")
    })
    .await;
    assert!(app.screen().contains("DEMO"));
    app.press(KeyCode::Enter);
    wait_until("the thread to load", || {
        let s = app.screen();
        s.contains("start of conversation") || s.contains("older messages")
    })
    .await;

    let reply = "Headless reply ✅ 42";
    app.press(KeyCode::Char('r'));
    app.type_text(reply);
    app.press(KeyCode::Enter);
    wait_until("the sandbox to hold the reply", || {
        control.messages_containing(&top, reply) == 1
    })
    .await;
    wait_until("the confirmed reply on screen", || {
        let s = app.screen();
        s.contains(reply) && !s.contains("sending…")
    })
    .await;

    control.inject_incoming_message(&top, "Customer follow-up 🚚");
    wait_until("the new customer message in the open thread", || {
        app.screen().contains("Customer follow-up")
    })
    .await;

    let state = app.quit().await;
    assert_eq!(
        control.messages_containing(&top, reply),
        1,
        "sent exactly once"
    );
    assert_eq!(state.outbox.in_flight(), 0);
    let thread = state
        .store
        .thread(&ConversationId::new(top.clone()))
        .unwrap();
    assert_eq!(
        thread.messages.iter().filter(|m| m.text == reply).count(),
        1
    );
    assert!(
        thread
            .messages
            .iter()
            .any(|m| m.text.contains("Customer follow-up"))
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn survives_an_outage_and_a_lost_response_without_duplicates() {
    let sandbox = Sandbox::start(([127, 0, 0, 1], 0).into(), SandboxOptions::default())
        .await
        .unwrap();
    let control = sandbox.control();
    let top = control.conversation_ids()[0].clone();
    let mut config = QpienConfig::new(sandbox.base_url(), "demo", SecretString::from("demo"));
    config.request_timeout = Duration::from_millis(700);
    let app = RunningApp::start(Arc::new(QpienClient::new(config).unwrap()));
    wait_until("the conversation list", || {
        app.screen().contains("Conversations (320)")
    })
    .await;

    // The server goes away: the status bar says so, then recovers by itself.
    control.set_faults(Faults {
        fail_next: 3,
        ..Faults::default()
    });
    wait_until("the offline status", || {
        app.screen().contains("offline since")
    })
    .await;
    wait_until("the recovery", || app.screen().contains("synced")).await;

    app.press(KeyCode::Enter);
    wait_until("the thread", || {
        let s = app.screen();
        s.contains("Reply to")
            && (s.contains("start of conversation") || s.contains("older messages"))
    })
    .await;

    // Answers now come too late: the reply times out, is kept, and retried.
    control.set_faults(Faults {
        delay: Some(Duration::from_millis(1500)),
        ..Faults::default()
    });
    let reply = "Sent once, whatever happens";
    app.press(KeyCode::Char('r'));
    app.type_text(reply);
    app.press(KeyCode::Enter);
    wait_until("the retry notice", || app.screen().contains("retrying in")).await;
    control.set_faults(Faults::default());
    wait_until("the confirmed reply", || {
        let s = app.screen();
        s.contains(reply) && !s.contains("sending…") && !s.contains("not sent")
    })
    .await;
    // Let a few more polls run: the echo must not add a second copy.
    tokio::time::sleep(Duration::from_millis(1200)).await;

    let state = app.quit().await;
    assert_eq!(
        control.messages_containing(&top, reply),
        1,
        "the server holds exactly one copy"
    );
    let thread = state
        .store
        .thread(&ConversationId::new(top.clone()))
        .unwrap();
    assert_eq!(
        thread.messages.iter().filter(|m| m.text == reply).count(),
        1,
        "and so does the screen"
    );
    sandbox.shutdown().await;
}
