//! Everything that can happen to the app.

use chrono::{DateTime, Utc};
use crossterm::event::KeyEvent;

use crate::api::ApiError;
use crate::domain::{Contact, ContactId, Conversation, ConversationId, Message, Page};
use crate::store::db::SearchHit;
pub use crate::sync::SyncEvent;

#[derive(Debug, Clone)]
pub enum Event {
    Key(KeyEvent),
    Paste(String),
    Resize {
        width: u16,
        height: u16,
    },
    /// The slow clock for time-based text and saving drafts.
    Tick,
    Sync(SyncEvent),
    /// More rows from the cache, read after the first frame.
    CacheRows(Vec<(Conversation, u32)>),
    /// The newest customer message of the last 24 hours per conversation,
    /// read from the cache after the rows.
    RecentInbound(Vec<(ConversationId, DateTime<Utc>)>),
    /// Messages of a thread read from the cache; `older` when paging back.
    CachedMessages {
        conversation_id: ConversationId,
        messages: Vec<Message>,
        has_older: bool,
        older: bool,
        /// A gap recorded in the thread: the first message after it.
        gap_before: Option<crate::domain::MessageId>,
    },
    /// A page of messages from the server; `older` when fetched backwards.
    MessagesLoaded {
        conversation_id: ConversationId,
        page: Page<Message>,
        older: bool,
    },
    MessagesFailed {
        conversation_id: ConversationId,
        error: ApiError,
        older: bool,
    },
    SendConfirmed {
        client_id: String,
        message: Box<Message>,
        /// Found on the server by its echo, not sent by this attempt.
        found_echo: bool,
    },
    SendFailed {
        client_id: String,
        error: ApiError,
    },
    /// The templates could not be read (the cached ones stay).
    TemplatesFailed(ApiError),
    /// The server was searched for a reply whose fate was unknown.
    EchoChecked {
        client_id: String,
        result: Result<Option<Box<Message>>, ApiError>,
    },
    /// The wait before an automatic resend is over.
    RetryDue {
        client_id: String,
    },
    /// `$EDITOR` returned: the new text, or why it failed.
    EditorClosed(Result<String, String>),
    /// The pager showing a long message returned (or could not start).
    PagerClosed(Result<(), String>),
    SearchResults {
        query: String,
        result: Result<Vec<SearchHit>, String>,
    },
    /// The server answered an action on a conversation.
    MutationSent {
        mutation_id: String,
        result: Result<Box<Conversation>, ApiError>,
    },
    /// Conversations the provider found for the list's filter.
    ConversationsFound {
        query: String,
        result: Result<Vec<Conversation>, ApiError>,
    },
    /// A contact's full record, from the cache or (`from_server`) the
    /// provider. `NotFound` from the cache means only the server may know.
    ContactLoaded {
        contact_id: ContactId,
        from_server: bool,
        result: Result<Box<Contact>, ApiError>,
    },
    /// The server answered a change to a contact.
    ContactSaved {
        edit_id: String,
        result: Result<ContactSaved, ContactSaveError>,
    },
    /// Contacts the provider found for the directory's filter.
    ContactsFound {
        query: String,
        result: Result<Vec<Contact>, ApiError>,
    },
    /// A left click or wheel turn at a cell of the terminal.
    Mouse(crossterm::event::MouseEvent),
    /// The database could not be written; termdesk goes on from memory.
    StorageFailed(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContactSaved {
    /// The contact as the server has it after an edit or a create.
    Saved(Box<Contact>),
    Deleted,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContactSaveError {
    Api(ApiError),
    /// The server's copy changed since editing began in fields the edit
    /// also changes; nothing was sent.
    Conflict(Box<Contact>),
    /// Another contact already has the phone.
    Duplicate(Box<Contact>),
}

/// What `update` gets from outside besides the event: the time, and a fresh
/// id in case the event creates something (a reply's client id).
#[derive(Debug, Clone)]
pub struct Env {
    pub now: DateTime<Utc>,
    pub fresh_id: String,
}

/// For callers that have only the time (tests, benches): the id is made
/// here, outside `update`.
impl From<DateTime<Utc>> for Env {
    fn from(now: DateTime<Utc>) -> Env {
        Env::new(now)
    }
}

impl Env {
    pub fn new(now: DateTime<Utc>) -> Env {
        Env {
            now,
            fresh_id: uuid::Uuid::new_v4().to_string(),
        }
    }
}
