//! The loop: terminal input, worker events and a slow clock feed `update`;
//! the screen is drawn only when something visible changed.

use std::collections::VecDeque;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use crossterm::event::Event as TermEvent;
use futures::StreamExt;
use futures::stream::BoxStream;
use ratatui::Terminal;
use ratatui::backend::Backend;
use tokio::sync::mpsc;

use crate::api::Provider;
use crate::api::accounts::{AccountFocus, AccountProvider, Router};
use crate::app::command::Command;
use crate::app::event::{Env, Event};
use crate::app::executor::{CacheAccess, Executor};
use crate::app::state::AccountInfo;
use crate::app::state::AppState;
use crate::app::update::{self, update};
use crate::store::db::DbWrite;
use crate::sync::accounts::{AccountSync, AccountsSync, CachedLists, start_for};
use crate::sync::{SyncControl, SyncSettings, SyncStart, SyncWorker};
use crate::ui;
use crate::whatsapp_window::WINDOW_HOURS;

/// Terminal events taken in one batch at most.
const INPUT_BATCH: usize = 4096;

/// Rows read from the cache per chunk after the first frame.
const CACHE_CHUNK: usize = 2_000;

/// The account's cache, when it could be opened.
pub struct Storage {
    pub access: CacheAccess,
    /// Rows already in the store; the rest are read in the background.
    pub rows_loaded: usize,
    /// Reports of failed writes, from the writer's thread.
    pub failures: mpsc::UnboundedReceiver<String>,
    /// Keeps other termdesks off this cache while this one runs.
    pub lock: Option<std::fs::File>,
}

pub type InputStream = BoxStream<'static, io::Result<TermEvent>>;

/// What the loop needs from the terminal it runs in.
pub trait Host<B: Backend> {
    /// A fresh input stream (a new one after the editor ran).
    fn input(&mut self) -> InputStream;
    /// Hands the terminal to an external editor and takes it back.
    fn edit_externally(
        &mut self,
        terminal: &mut Terminal<B>,
        initial: &str,
    ) -> Result<String, String>;
    /// Hands the terminal to a pager showing `text` and takes it back.
    fn page(&mut self, _terminal: &mut Terminal<B>, _text: &str) -> Result<(), String> {
        Err("no pager in this terminal".into())
    }
    /// A customer wrote where the agent should notice.
    fn alert(&mut self, _title: &str, _body: &str) {}
}

/// Draws if dirty; returns the draw error as `io::Error`.
pub fn draw_if_dirty<B: Backend>(
    terminal: &mut Terminal<B>,
    state: &mut AppState,
) -> io::Result<()> {
    if state.dirty {
        terminal
            .draw(|frame| ui::draw(frame, state))
            .map_err(|err| io::Error::other(err.to_string()))?;
        state.dirty = false;
        state.time_labels = crate::app::view::labels::time_labels(state);
    }
    Ok(())
}

/// Runs until the agent quits, input ends or `shutdown` completes. Before
/// returning it saves what must survive (drafts) and waits for the cache to
/// have it on disk.
pub async fn run<B: Backend, H: Host<B>>(
    terminal: &mut Terminal<B>,
    host: &mut H,
    state: &mut AppState,
    provider: Arc<dyn Provider>,
    sync_settings: SyncSettings,
    storage: Option<Storage>,
    shutdown: impl std::future::Future<Output = ()>,
) -> io::Result<()> {
    let (sync_tx, sync_rx) = mpsc::unbounded_channel();
    let start = SyncStart {
        cursors: state.store.cursors().clone(),
        known_contacts: state.store.known_contacts(),
        unnamed_contacts: state.store.unnamed_contacts(),
    };
    let sync = SyncWorker::spawn(provider.clone(), sync_settings, start, sync_tx);
    let running = Running {
        provider,
        sync: Box::new(sync),
        sync_rx,
        focus: None,
    };
    run_with(terminal, host, state, running, storage, shutdown).await
}

/// One account of the inbox, as the config describes it.
pub struct AccountHandle {
    pub name: String,
    pub provider_label: String,
    pub provider: Arc<dyn Provider>,
    pub poll_interval: Duration,
}

/// Runs the inbox over `accounts`. With one account this is [`run`]:
/// ids, cursors and the screen are as they always were. With several,
/// every id is `"{account}:{id}"`, each account syncs on its own, and
/// the list, pickers and status bar say which account a row is from.
pub async fn run_accounts<B: Backend, H: Host<B>>(
    terminal: &mut Terminal<B>,
    host: &mut H,
    state: &mut AppState,
    accounts: Vec<AccountHandle>,
    storage: Option<Storage>,
    shutdown: impl std::future::Future<Output = ()>,
) -> io::Result<()> {
    if accounts.len() <= 1 {
        let Some(account) = accounts.into_iter().next() else {
            return Err(io::Error::other("no account to run"));
        };
        state.capabilities = account.provider.capabilities();
        state.statuses = account.provider.statuses().to_vec();
        let settings = SyncSettings::new(account.poll_interval);
        return run(
            terminal,
            host,
            state,
            account.provider,
            settings,
            storage,
            shutdown,
        )
        .await;
    }
    let wrapped: Vec<Arc<AccountProvider>> = accounts
        .iter()
        .map(|a| Arc::new(AccountProvider::new(a.name.clone(), a.provider.clone())))
        .collect();
    let router = Router::new(wrapped.clone());
    state.accounts = accounts
        .iter()
        .map(|a| {
            AccountInfo::new(
                &a.name,
                &a.provider_label,
                a.provider.capabilities(),
                a.provider.statuses(),
            )
        })
        .collect();
    state.capabilities = router.capabilities();
    state.statuses = crate::api::accounts::statuses_of(wrapped.iter().map(|a| a.statuses()));
    state.provider_name = router.name().to_string();
    if state.view.filters.account.is_some() && state.filtered_account().is_none() {
        // The saved view names an account the config no longer has.
        state.view.filters.account = None;
    }
    update::triage::refresh_list(state);
    let (sync_tx, sync_rx) = mpsc::unbounded_channel();
    let cached = CachedLists {
        agents: state.store.agents().cloned().collect(),
        channels: state.store.channels().to_vec(),
        templates: state.store.templates().to_vec(),
    };
    let workers = accounts
        .iter()
        .zip(&wrapped)
        .map(|(account, provider)| AccountSync {
            name: account.name.clone(),
            provider: provider.clone(),
            settings: SyncSettings::new(account.poll_interval),
            start: start_for(&state.store, &account.name),
        })
        .collect();
    let sync = AccountsSync::spawn(workers, cached, sync_tx);
    let focus = router.focus();
    let running = Running {
        provider: Arc::new(router),
        sync: Box::new(sync),
        sync_rx,
        focus: Some(focus),
    };
    run_with(terminal, host, state, running, storage, shutdown).await
}

/// What the loop runs against: one provider (or the router over several
/// accounts) and its sync.
struct Running {
    provider: Arc<dyn Provider>,
    sync: Box<dyn SyncControl>,
    sync_rx: mpsc::UnboundedReceiver<crate::sync::SyncEvent>,
    /// Several accounts: which one account-wide actions act on.
    focus: Option<Arc<AccountFocus>>,
}

async fn run_with<B: Backend, H: Host<B>>(
    terminal: &mut Terminal<B>,
    host: &mut H,
    state: &mut AppState,
    running: Running,
    storage: Option<Storage>,
    shutdown: impl std::future::Future<Output = ()>,
) -> io::Result<()> {
    let Running {
        provider,
        sync,
        mut sync_rx,
        focus,
    } = running;
    let (events_tx, mut events_rx) = mpsc::unbounded_channel();
    let (access, mut failures, _cache_lock) = match storage {
        Some(storage) => {
            spawn_cache_reader(&storage.access, storage.rows_loaded, events_tx.clone());
            (Some(storage.access), Some(storage.failures), storage.lock)
        }
        None => (None, None, None),
    };
    let writer = access.as_ref().map(|a| a.writer.clone());
    let executor = Executor::new(provider, events_tx, sync, access);
    let result = event_loop(
        terminal,
        host,
        state,
        &executor,
        writer.as_ref(),
        &mut events_rx,
        &mut sync_rx,
        &mut failures,
        focus.as_deref(),
        shutdown,
    )
    .await;
    update::persist_before_exit(state);
    if let Some(writer) = &writer {
        writer.write(state.store.take_journal());
        if let Err(error) = writer.flush().await {
            tracing::error!(%error, "could not save everything before exit");
        }
    }
    result
}

#[allow(clippy::too_many_arguments)]
async fn event_loop<B: Backend, H: Host<B>>(
    terminal: &mut Terminal<B>,
    host: &mut H,
    state: &mut AppState,
    executor: &Executor,
    writer: Option<&crate::store::writer::DbWriter>,
    events_rx: &mut mpsc::UnboundedReceiver<Event>,
    sync_rx: &mut mpsc::UnboundedReceiver<crate::sync::SyncEvent>,
    failures: &mut Option<mpsc::UnboundedReceiver<String>>,
    focus: Option<&AccountFocus>,
    shutdown: impl std::future::Future<Output = ()>,
) -> io::Result<()> {
    // Everything the terminal has ready arrives as one batch, polled with
    // the loop's own waker: a burst of keys costs one frame.
    let mut input = host.input().ready_chunks(INPUT_BATCH);
    let mut clock = tokio::time::interval(Duration::from_secs(1));
    clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut pending = VecDeque::new();
    let mut commands = Vec::new();
    // Replies restored from the cache resume before anything else.
    commands.extend(update::next_sends(state));
    tokio::pin!(shutdown);
    loop {
        // Without a cache the journal is dropped, so it cannot grow.
        let journal = state.store.take_journal();
        if let Some(writer) = writer
            && !journal.is_empty()
        {
            // A reply is on disk before the screen says it is sending: a
            // `kill -9` at any moment from then on cannot lose it.
            let holds_reply = journal
                .iter()
                .any(|w| matches!(w, DbWrite::PutMutation { .. }));
            writer.write(journal);
            if holds_reply && let Err(error) = writer.flush().await {
                tracing::warn!(%error, "could not save a reply");
            }
        }
        // Account-wide actions (new contacts, templates) act on the
        // account the agent is in; set before the commands run.
        if let Some(focus) = focus {
            focus.set_current(state.filtered_account());
            focus.set_selected(state.selected_account());
        }
        for command in commands.drain(..) {
            executor.run(command);
        }
        draw_if_dirty(terminal, state)?;
        let clock_needed = !state.time_labels.is_empty()
            || state.draft_changed_at.is_some()
            || state.mutations.needs_clock()
            || state.contact_edits.needs_clock()
            || state.overlays.iter().any(|o| {
                matches!(o, crate::app::state::Overlay::Directory(d) if d.query_changed_at.is_some())
            })
            || state.list_query_changed_at.is_some();
        tokio::select! {
            batch = input.next() => match batch {
                Some(batch) => {
                    for term in batch {
                        match convert(Some(term)) {
                            Converted::Event(event) => pending.push_back(event),
                            Converted::Skip => {}
                            Converted::End(result) => return result,
                        }
                    }
                }
                None => return Ok(()),
            },
            Some(event) = events_rx.recv() => pending.push_back(event),
            Some(event) = sync_rx.recv() => pending.push_back(Event::Sync(event)),
            Some(reason) = next_failure(failures) => pending.push_back(Event::StorageFailed(reason)),
            _ = clock.tick(), if clock_needed => pending.push_back(Event::Tick),
            // A closed terminal or `kill`: leave cleanly instead of dying.
            _ = &mut shutdown => return Ok(()),
        };
        // Everything else already queued is handled before the next frame.
        while let Ok(event) = events_rx.try_recv() {
            pending.push_back(event);
        }
        while let Ok(event) = sync_rx.try_recv() {
            pending.push_back(Event::Sync(event));
        }
        while let Some(event) = pending.pop_front() {
            for command in update(state, event, Env::new(Utc::now())) {
                match command {
                    Command::Quit => {
                        draw_if_dirty(terminal, state)?;
                        return Ok(());
                    }
                    Command::OpenEditor { initial } => {
                        drop(std::mem::replace(
                            &mut input,
                            futures::stream::empty().boxed().ready_chunks(1),
                        ));
                        let result = host.edit_externally(terminal, &initial);
                        input = host.input().ready_chunks(INPUT_BATCH);
                        state.dirty = true;
                        pending.push_back(Event::EditorClosed(result));
                    }
                    Command::OpenPager { text } => {
                        drop(std::mem::replace(
                            &mut input,
                            futures::stream::empty().boxed().ready_chunks(1),
                        ));
                        let result = host.page(terminal, &text);
                        input = host.input().ready_chunks(INPUT_BATCH);
                        state.dirty = true;
                        pending.push_back(Event::PagerClosed(result));
                    }
                    Command::Alert { title, body } => host.alert(&title, &body),
                    other => commands.push(other),
                }
            }
        }
    }
}

enum Converted {
    Event(Event),
    Skip,
    End(io::Result<()>),
}

fn convert(term: Option<io::Result<TermEvent>>) -> Converted {
    match term {
        Some(Ok(TermEvent::Key(key))) => Converted::Event(Event::Key(key)),
        Some(Ok(TermEvent::Paste(text))) => Converted::Event(Event::Paste(text)),
        Some(Ok(TermEvent::Mouse(mouse))) => match mouse.kind {
            crossterm::event::MouseEventKind::Down(_)
            | crossterm::event::MouseEventKind::ScrollUp
            | crossterm::event::MouseEventKind::ScrollDown => Converted::Event(Event::Mouse(mouse)),
            // Moves and drags would redraw for nothing.
            _ => Converted::Skip,
        },
        Some(Ok(TermEvent::Resize(width, height))) => {
            Converted::Event(Event::Resize { width, height })
        }
        Some(Ok(_)) => Converted::Skip,
        Some(Err(err)) => Converted::End(Err(err)),
        None => Converted::End(Ok(())),
    }
}

async fn next_failure(failures: &mut Option<mpsc::UnboundedReceiver<String>>) -> Option<String> {
    match failures {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// Reads the rest of the cached list in chunks after the first frame, so a
/// large cache never delays it.
fn spawn_cache_reader(
    access: &CacheAccess,
    mut offset: usize,
    events: mpsc::UnboundedSender<Event>,
) {
    let reader = access.reader.clone();
    tokio::task::spawn_blocking(move || {
        loop {
            let rows = {
                let Ok(db) = reader.lock() else {
                    return;
                };
                db.load_conversations(offset, CACHE_CHUNK)
            };
            match rows {
                Ok(rows) if rows.is_empty() => break,
                Ok(rows) => {
                    offset += rows.len();
                    let done = rows.len() < CACHE_CHUNK;
                    let rows = rows
                        .into_iter()
                        .map(|r| (r.conversation, r.unread))
                        .collect();
                    if events.send(Event::CacheRows(rows)).is_err() {
                        return;
                    }
                    if done {
                        break;
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "reading the cached list failed");
                    break;
                }
            }
        }
        // Then the customers' recent messages, for WhatsApp's reply window
        // on rows whose last message is the agent's.
        let since = Utc::now() - chrono::Duration::hours(WINDOW_HOURS);
        let recent = match reader.lock() {
            Ok(db) => db.recent_inbound(since),
            Err(_) => return,
        };
        match recent {
            Ok(recent) if !recent.is_empty() => {
                let _ = events.send(Event::RecentInbound(recent));
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "reading recent customer messages failed"),
        }
    });
}

/// Completes on SIGTERM, SIGHUP (a closed terminal), SIGINT or SIGQUIT. The handlers are
/// installed when this is called, so call it before painting anything.
#[cfg(unix)]
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{SignalKind, signal};
    // Ctrl-C and Ctrl-\ reach termdesk as keys in raw mode; these come from
    // `kill` or a closing terminal, and must not leave it in raw mode.
    let signals = [
        SignalKind::terminate(),
        SignalKind::hangup(),
        SignalKind::interrupt(),
        SignalKind::quit(),
    ]
    .map(signal);
    async move {
        let mut streams = Vec::new();
        for stream in signals {
            match stream {
                Ok(stream) => streams.push(stream),
                Err(_) => return std::future::pending().await,
            }
        }
        let waits = streams.iter_mut().map(|s| Box::pin(s.recv()));
        futures::future::select_all(waits).await;
    }
}

#[cfg(not(unix))]
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    std::future::pending()
}

/// The real terminal.
pub struct CrosstermHost;

impl Host<ratatui::backend::CrosstermBackend<io::Stdout>> for CrosstermHost {
    fn input(&mut self) -> InputStream {
        crossterm::event::EventStream::new().boxed()
    }

    fn edit_externally(
        &mut self,
        terminal: &mut crate::tui::Tui,
        initial: &str,
    ) -> Result<String, String> {
        crate::tui::edit_externally(terminal, initial)
    }

    fn page(&mut self, terminal: &mut crate::tui::Tui, text: &str) -> Result<(), String> {
        crate::tui::page(terminal, text)
    }

    fn alert(&mut self, title: &str, body: &str) {
        crate::tui::alert(title, body);
    }
}
