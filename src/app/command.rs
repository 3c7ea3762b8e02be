//! What `update` asks the outside world to do.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::domain::{ConversationId, OutgoingText};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Fetch a page of messages: the newest, or those before a time.
    LoadMessages {
        conversation_id: ConversationId,
        before: Option<DateTime<Utc>>,
    },
    /// Tell the sync worker which thread to keep fresh.
    WatchConversation(Option<ConversationId>),
    Send(OutgoingText),
    /// Emit `Event::RetryDue` after a delay.
    ScheduleRetry {
        client_id: String,
        after: Duration,
    },
    /// Suspend the TUI and edit this text in `$EDITOR`.
    OpenEditor {
        initial: String,
    },
    Quit,
}
