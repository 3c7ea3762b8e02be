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
use crate::app::command::Command;
use crate::app::event::Event;
use crate::app::executor::Executor;
use crate::app::state::AppState;
use crate::app::update::update;
use crate::sync::SyncWorker;
use crate::ui;

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
        state.time_labels = ui::time_labels(state);
    }
    Ok(())
}

/// Runs until the agent quits, input ends or `shutdown` completes.
pub async fn run<B: Backend, H: Host<B>>(
    terminal: &mut Terminal<B>,
    host: &mut H,
    state: &mut AppState,
    provider: Arc<dyn Provider>,
    poll_interval: Duration,
    shutdown: impl std::future::Future<Output = ()>,
) -> io::Result<()> {
    let (events_tx, mut events_rx) = mpsc::unbounded_channel();
    let sync = SyncWorker::spawn(provider.clone(), poll_interval, events_tx.clone());
    let executor = Executor::new(provider, events_tx, sync);
    let mut input = host.input();
    let mut clock = tokio::time::interval(Duration::from_secs(1));
    clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut pending = VecDeque::new();
    tokio::pin!(shutdown);
    loop {
        draw_if_dirty(terminal, state)?;
        let time_on_screen = !state.time_labels.is_empty();
        let event = tokio::select! {
            term = input.next() => match term {
                Some(Ok(TermEvent::Key(key))) => Event::Key(key),
                Some(Ok(TermEvent::Paste(text))) => Event::Paste(text),
                Some(Ok(TermEvent::Resize(width, height))) => Event::Resize { width, height },
                Some(Ok(_)) => continue,
                Some(Err(err)) => return Err(err),
                None => return Ok(()),
            },
            Some(event) = events_rx.recv() => event,
            _ = clock.tick(), if time_on_screen => Event::Tick,
            // A closed terminal or `kill`: leave cleanly instead of dying.
            _ = &mut shutdown => return Ok(()),
        };
        pending.push_back(event);
        while let Some(event) = pending.pop_front() {
            for command in update(state, event, Utc::now()) {
                match command {
                    Command::Quit => {
                        draw_if_dirty(terminal, state)?;
                        return Ok(());
                    }
                    Command::OpenEditor { initial } => {
                        drop(std::mem::replace(
                            &mut input,
                            futures::stream::empty().boxed(),
                        ));
                        let result = host.edit_externally(terminal, &initial);
                        input = host.input();
                        state.dirty = true;
                        pending.push_back(Event::EditorClosed(result));
                    }
                    other => executor.run(other),
                }
            }
        }
    }
}

/// Completes on SIGTERM or SIGHUP (a closed terminal). The handlers are
/// installed when this is called, so call it before painting anything.
#[cfg(unix)]
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{SignalKind, signal};
    let signals = (
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    );
    async move {
        match signals {
            (Ok(mut terminate), Ok(mut hangup)) => {
                tokio::select! {
                    _ = terminate.recv() => {}
                    _ = hangup.recv() => {}
                }
            }
            _ => std::future::pending().await,
        }
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
}
