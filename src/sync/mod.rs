//! Keeping the local store in step with the provider: the newest
//! conversations first, then the whole history in the background, then
//! only what changed — all inside the account's request budget, which the
//! scheduler owns. The worker only produces [`SyncEvent`]s; it never touches
//! application state.

pub mod accounts;
pub mod backoff;
pub mod cursor;
mod engine;
pub mod older;
pub mod scheduler;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinHandle;

use crate::api::{ApiError, Provider};
use crate::domain::{
    Agent, ChannelInfo, Contact, ContactId, Conversation, ConversationId, Message, Page, Template,
};
pub use cursor::SyncCursors;

/// Newest messages fetched when refreshing the open thread.
pub const THREAD_PAGE: u32 = 50;

/// What the worker reports. The app wraps these in its own event type.
#[derive(Debug, Clone)]
pub enum SyncEvent {
    Connecting,
    /// Conversations from the first page, the backfill or a poll of changes.
    Conversations(Vec<Conversation>),
    /// Contacts from the directory or a batch lookup; `missing` were asked
    /// for by id and do not exist.
    Contacts {
        found: Vec<Contact>,
        missing: Vec<ContactId>,
    },
    Agents(Vec<Agent>),
    /// Who the credentials belong to, from a provider without an agent
    /// list (the sign-in says who it is).
    SignedIn(Agent),
    Channels(Vec<ChannelInfo>),
    Templates(Vec<Template>),
    /// The newest page of the thread the agent has open.
    Messages {
        conversation_id: ConversationId,
        page: Page<Message>,
    },
    /// The newest messages of recently active threads, read ahead so they
    /// open (and are searchable) offline.
    ThreadsRead(Vec<(ConversationId, Page<Message>)>),
    /// The cursors moved; the store saves them.
    Cursors(SyncCursors),
    /// The server's totals, for the progress shown while history loads.
    Totals {
        conversations: Option<u64>,
        contacts: Option<u64>,
    },
    /// A round of polling succeeded.
    Synced,
    /// The server's rate limit was hit (or its budget reported spent):
    /// nothing is sent until then. `None` when requests flow again.
    Paused(Option<std::time::Duration>),
    Failed {
        error: ApiError,
        retry_in: Duration,
    },
    /// Several accounts share the inbox: how the account at `index` is
    /// doing (`Connecting`, `Synced`, `Paused` or `Failed`).
    Account {
        index: usize,
        state: Box<SyncEvent>,
    },
    /// Several accounts share the inbox: one account's cursors moved.
    AccountCursors {
        account: String,
        cursors: SyncCursors,
    },
}

/// What the app can ask of the sync, however many accounts it runs.
pub trait SyncControl: Send + Sync {
    /// Keep this conversation's thread fresh (or none).
    fn watch(&self, id: Option<ConversationId>);
    /// Poll now instead of waiting for the interval.
    fn poll_now(&self);
}

impl<T: SyncControl + ?Sized> SyncControl for Box<T> {
    fn watch(&self, id: Option<ConversationId>) {
        (**self).watch(id);
    }

    fn poll_now(&self) {
        (**self).poll_now();
    }
}

impl SyncControl for SyncWorker {
    fn watch(&self, id: Option<ConversationId>) {
        SyncWorker::watch(self, id);
    }

    fn poll_now(&self) {
        SyncWorker::poll_now(self);
    }
}

#[derive(Debug, Clone)]
pub struct SyncSettings {
    pub interval: Duration,
    /// Pages fetched in one request (GraphQL aliases) during backfill.
    pub pages_per_request: u32,
    /// Contacts looked up by id in one request.
    pub contact_batch: usize,
    /// How often the contact directory is checked for changes once complete.
    pub directory_interval: Duration,
    /// Most recently active threads read ahead once the list is complete
    /// (only where the provider reads many in one request).
    pub threads_read_ahead: usize,
}

impl SyncSettings {
    pub fn new(interval: Duration) -> Self {
        SyncSettings {
            interval,
            pages_per_request: 3,
            contact_batch: 100,
            directory_interval: Duration::from_secs(120),
            threads_read_ahead: 200,
        }
    }
}

/// Where the last run left off: loaded from the store at start.
#[derive(Debug, Clone, Default)]
pub struct SyncStart {
    pub cursors: SyncCursors,
    /// Contacts the store already holds: never looked up again.
    pub known_contacts: HashSet<ContactId>,
    /// Contacts of cached rows that still have no name.
    pub unnamed_contacts: Vec<ContactId>,
}

pub struct SyncWorker {
    watched: watch::Sender<Option<ConversationId>>,
    nudge: Arc<Notify>,
    tasks: Vec<JoinHandle<()>>,
}

impl SyncWorker {
    pub fn spawn(
        provider: Arc<dyn Provider>,
        settings: SyncSettings,
        start: SyncStart,
        events: mpsc::UnboundedSender<SyncEvent>,
    ) -> Self {
        let (watched, watch_rx) = watch::channel(None);
        let nudge = Arc::new(Notify::new());
        let tasks = engine::spawn(provider, settings, start, events, watch_rx, nudge.clone());
        Self {
            watched,
            nudge,
            tasks,
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
        for task in &self.tasks {
            task.abort();
        }
    }
}
