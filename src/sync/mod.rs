//! The sync worker: polls the provider for conversations (incrementally
//! where it can) and keeps the open thread fresh, backing off with jitter on
//! errors. It only produces events; it never touches state.

pub mod backoff;
pub mod scheduler;

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;

use chrono::{DateTime, Utc};
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinHandle;

use crate::api::{ApiError, Provider};
use crate::app::event::{Event, SyncEvent};
use crate::domain::{ConversationId, ConversationQuery, MessageQuery};
use backoff::Backoff;

/// Pages of 100 fetched on the first load, newest first.
const INITIAL_PAGES: u32 = 10;
const PAGE_SIZE: u32 = 100;
/// Newest messages fetched when refreshing the open thread.
pub const THREAD_PAGE: u32 = 50;

pub struct SyncWorker {
    watched: watch::Sender<Option<ConversationId>>,
    nudge: Arc<Notify>,
    task: JoinHandle<()>,
}

impl SyncWorker {
    pub fn spawn(
        provider: Arc<dyn Provider>,
        interval: Duration,
        events: mpsc::UnboundedSender<Event>,
    ) -> Self {
        let (watched, watch_rx) = watch::channel(None);
        let nudge = Arc::new(Notify::new());
        let task = tokio::spawn(supervise(
            provider,
            interval,
            events,
            watch_rx,
            nudge.clone(),
        ));
        Self {
            watched,
            nudge,
            task,
        }
    }

    /// Keep this conversation's thread fresh (or none).
    pub fn watch(&self, id: Option<ConversationId>) {
        self.watched.send_replace(id);
    }

    /// Poll now instead of waiting for the interval.
    pub fn poll_now(&self) {
        self.nudge.notify_one();
    }
}

impl Drop for SyncWorker {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Runs the worker and restarts it if it ever panics, telling the agent:
/// a silent stop would leave the inbox frozen with no sign of it.
async fn supervise(
    provider: Arc<dyn Provider>,
    interval: Duration,
    events: mpsc::UnboundedSender<Event>,
    watched: watch::Receiver<Option<ConversationId>>,
    nudge: Arc<Notify>,
) {
    const RESTART_DELAY: Duration = Duration::from_secs(5);
    loop {
        let round = run(
            provider.clone(),
            interval,
            events.clone(),
            watched.clone(),
            nudge.clone(),
        );
        if AssertUnwindSafe(round).catch_unwind().await.is_ok() {
            return;
        }
        tracing::error!("the sync worker panicked; restarting it");
        let reported = events.send(Event::Sync(SyncEvent::Failed {
            error: ApiError::Decode("internal error in the sync worker; restarted it".into()),
            retry_in: RESTART_DELAY,
        }));
        if reported.is_err() {
            return;
        }
        tokio::time::sleep(RESTART_DELAY).await;
    }
}

async fn run(
    provider: Arc<dyn Provider>,
    interval: Duration,
    events: mpsc::UnboundedSender<Event>,
    mut watched: watch::Receiver<Option<ConversationId>>,
    nudge: Arc<Notify>,
) {
    let send = |event: Event| events.send(event).is_ok();
    if !send(Event::Sync(SyncEvent::Connecting)) {
        return;
    }
    let mut cursor: Option<DateTime<Utc>> = None;
    let mut agents_loaded = false;
    let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(60));
    loop {
        let wait = match poll_conversations(provider.as_ref(), &mut cursor, &events).await {
            Ok(()) => {
                backoff.reset();
                if !agents_loaded && provider.capabilities().agents {
                    match provider.list_agents().await {
                        Ok(agents) => {
                            agents_loaded = true;
                            send(Event::Sync(SyncEvent::Agents(agents)));
                        }
                        Err(error) => tracing::warn!(%error, "loading agents failed"),
                    }
                }
                let open = watched.borrow_and_update().clone();
                if let Some(id) = open {
                    refresh_thread(provider.as_ref(), id, &events).await;
                }
                interval
            }
            Err(error) => {
                let delay = match &error {
                    ApiError::RateLimited { retry_after } => *retry_after,
                    _ => backoff.next_delay(rand::random::<f64>()),
                };
                tracing::warn!(%error, ?delay, "sync failed");
                if !send(Event::Sync(SyncEvent::Failed {
                    error,
                    retry_in: delay,
                })) {
                    return;
                }
                delay
            }
        };
        if events.is_closed() {
            return;
        }
        // Opening a conversation loads it through the executor; the worker
        // keeps its own pace (and any back-off) and picks up the new choice
        // on its next round.
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = nudge.notified() => {}
        }
    }
}

/// First run: the newest pages. Later: only what changed since the cursor
/// (or the first page, for providers without incremental sync). The cursor
/// moves only when a round completes, so a failure halfway through is
/// retried from where it was, not skipped.
async fn poll_conversations(
    provider: &dyn Provider,
    cursor: &mut Option<DateTime<Utc>>,
    events: &mpsc::UnboundedSender<Event>,
) -> Result<(), ApiError> {
    let incremental = provider.capabilities().incremental_sync;
    let since = if incremental { *cursor } else { None };
    let max_pages = if cursor.is_none() || incremental {
        INITIAL_PAGES
    } else {
        1
    };
    let mut page = 1;
    let mut newest_seen = *cursor;
    loop {
        let query = ConversationQuery {
            page,
            limit: PAGE_SIZE,
            updated_since: since,
            ..ConversationQuery::default()
        };
        let result = provider.list_conversations(&query).await?;
        if let Some(newest) = result.items.iter().map(|c| c.updated_at).max() {
            newest_seen = Some(newest_seen.map_or(newest, |c| c.max(newest)));
        }
        let done = !result.has_more || page >= max_pages;
        let _ = events.send(Event::Sync(SyncEvent::Conversations {
            items: result.items,
            complete: done,
        }));
        if done {
            *cursor = newest_seen;
            return Ok(());
        }
        page += 1;
    }
}

async fn refresh_thread(
    provider: &dyn Provider,
    id: ConversationId,
    events: &mpsc::UnboundedSender<Event>,
) {
    let query = MessageQuery {
        conversation_id: id.clone(),
        before: None,
        after: None,
        limit: THREAD_PAGE,
    };
    match provider.list_messages(&query).await {
        Ok(page) => {
            let _ = events.send(Event::MessagesLoaded {
                conversation_id: id,
                page,
                older: false,
            });
        }
        // The next poll tries again; the conversation poll reports outages.
        Err(error) => tracing::warn!(%error, conversation = %id, "refreshing thread failed"),
    }
}
