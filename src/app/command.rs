//! What `update` asks the outside world to do.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::domain::{ContactId, ConversationId, ConversationUpdate, MessageId};
use crate::store::contact_edits::ContactOp;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Read the newest messages of a thread from the cache.
    LoadCachedThread {
        conversation_id: ConversationId,
    },
    /// Fetch a page of messages: the newest, or those before a message.
    /// `cache_first` reads older pages from the cache before the server
    /// (not across a gap, which only the server can fill).
    LoadMessages {
        conversation_id: ConversationId,
        before: Option<(DateTime<Utc>, MessageId)>,
        /// Messages held that share the anchor's time: where paging resumes
        /// when more of them exist than a page holds.
        held_at_anchor: usize,
        cache_first: bool,
    },
    /// Tell the sync worker which thread to keep fresh.
    WatchConversation(Option<ConversationId>),
    /// Send a reply once it is safely on disk. With `check_echo`, look for it
    /// on the server first: an earlier attempt may have arrived.
    Send {
        outgoing: crate::store::outbox::Outgoing,
        check_echo: bool,
        created_at: DateTime<Utc>,
    },
    /// Look for a reply on the server without sending it.
    CheckEcho {
        client_id: String,
        conversation_id: ConversationId,
        created_at: DateTime<Utc>,
    },
    /// Emit `Event::RetryDue` after a delay.
    ScheduleRetry {
        client_id: String,
        after: Duration,
    },
    /// Stop the retry timer of a reply that left the outbox.
    CancelRetry {
        client_id: String,
    },
    /// Full-text search of the cache.
    Search {
        query: String,
    },
    /// Send an action on a conversation (a record of the mutation log, on
    /// disk already) with the priority of the agent's own actions.
    UpdateConversation {
        mutation_id: String,
        conversation_id: ConversationId,
        update: ConversationUpdate,
    },
    /// Read the provider's templates again.
    LoadTemplates,
    /// Fetch one conversation as the server has it (after a refusal).
    RefreshConversation(ConversationId),
    /// Ask the provider for conversations matching a filter the cache
    /// cannot answer.
    SearchConversations {
        query: String,
    },
    /// Read a contact's full record from the cache and, with
    /// `from_server`, then from the provider.
    LoadContact {
        contact_id: ContactId,
        from_server: bool,
    },
    /// Send a change to a contact (a record of the mutation log, on disk
    /// already). `attempts` earlier sends may have arrived.
    SaveContact {
        edit_id: String,
        op: ContactOp,
        attempts: u32,
    },
    /// Ask the provider for contacts the cache lacks.
    SearchContacts {
        query: String,
    },
    /// Ring the terminal bell (and notify the desktop where built in).
    Alert {
        title: String,
        body: String,
    },
    /// Suspend the TUI and edit this text in `$EDITOR`.
    OpenEditor {
        initial: String,
    },
    /// Suspend the TUI and show this text in `$PAGER`.
    OpenPager {
        text: String,
    },
    Quit,
}
