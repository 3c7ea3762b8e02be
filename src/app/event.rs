//! Everything that can happen to the app.

use std::time::Duration;

use crossterm::event::KeyEvent;

use crate::api::ApiError;
use crate::domain::{Agent, Conversation, ConversationId, Message, Page};

#[derive(Debug, Clone)]
pub enum Event {
    Key(KeyEvent),
    Paste(String),
    Resize {
        width: u16,
        height: u16,
    },
    /// The slow clock for time-based text.
    Tick,
    Sync(SyncEvent),
    /// A page of messages; `older` when it was fetched backwards.
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
    },
    SendFailed {
        client_id: String,
        error: ApiError,
    },
    /// The wait before an automatic resend is over.
    RetryDue {
        client_id: String,
    },
    /// `$EDITOR` returned: the new text, or why it failed.
    EditorClosed(Result<String, String>),
}

#[derive(Debug, Clone)]
pub enum SyncEvent {
    Connecting,
    Conversations {
        items: Vec<Conversation>,
        /// The first, full load has finished.
        complete: bool,
    },
    Agents(Vec<Agent>),
    Failed {
        error: ApiError,
        retry_in: Duration,
    },
}
