//! Replies on their way out. Each has a client id, generated once and sent
//! as the idempotency key on every attempt, so retries never duplicate. The
//! text stays here until the server confirms it, whatever happens.

use chrono::{DateTime, Utc};

use crate::domain::{ChannelId, ConversationId, OutgoingText};

/// Transient failures are retried this many times before the item is
/// marked failed (the text is kept; the agent can retry by hand).
pub const MAX_AUTOMATIC_ATTEMPTS: u32 = 8;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboxState {
    Sending {
        attempt: u32,
    },
    WaitingRetry {
        attempt: u32,
        retry_at: DateTime<Utc>,
        reason: String,
    },
    Failed {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem {
    pub client_id: String,
    pub conversation_id: ConversationId,
    pub channel_id: Option<ChannelId>,
    pub text: String,
    pub created_at: DateTime<Utc>,
    pub state: OutboxState,
}

impl OutboxItem {
    pub fn outgoing(&self) -> OutgoingText {
        OutgoingText {
            conversation_id: self.conversation_id.clone(),
            client_id: self.client_id.clone(),
            text: self.text.clone(),
            channel_id: self.channel_id.clone(),
        }
    }

    pub fn is_in_flight(&self) -> bool {
        !matches!(self.state, OutboxState::Failed { .. })
    }
}

/// Delay before automatic attempt `attempt + 1`: 1 s, 2 s, 4 s … capped at a minute.
pub fn retry_delay(attempt: u32) -> std::time::Duration {
    std::time::Duration::from_secs(1u64 << attempt.saturating_sub(1).min(6))
        .min(std::time::Duration::from_secs(60))
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outbox {
    items: Vec<OutboxItem>,
    /// Bumped on every possible change, for caches of what it looks like.
    revision: u64,
}

impl Outbox {
    pub fn revision(&self) -> u64 {
        self.revision
    }

    pub fn push(&mut self, item: OutboxItem) {
        self.revision += 1;
        self.items.push(item);
    }

    pub fn get(&self, client_id: &str) -> Option<&OutboxItem> {
        self.items.iter().find(|i| i.client_id == client_id)
    }

    pub fn get_mut(&mut self, client_id: &str) -> Option<&mut OutboxItem> {
        self.revision += 1;
        self.items.iter_mut().find(|i| i.client_id == client_id)
    }

    pub fn remove(&mut self, client_id: &str) -> Option<OutboxItem> {
        self.revision += 1;
        let index = self.items.iter().position(|i| i.client_id == client_id)?;
        Some(self.items.remove(index))
    }

    pub fn in_flight(&self) -> usize {
        self.items.iter().filter(|i| i.is_in_flight()).count()
    }

    pub fn for_conversation<'a>(
        &'a self,
        id: &'a ConversationId,
    ) -> impl Iterator<Item = &'a OutboxItem> + 'a {
        self.items.iter().filter(move |i| &i.conversation_id == id)
    }

    /// The newest failed item of a conversation: what "retry" and "edit" act on.
    pub fn latest_failed<'a>(&'a self, id: &'a ConversationId) -> Option<&'a OutboxItem> {
        self.for_conversation(id)
            .filter(|i| matches!(i.state, OutboxState::Failed { .. }))
            .last()
    }

    pub fn items(&self) -> &[OutboxItem] {
        &self.items
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn retry_delays_grow_and_cap() {
        assert_eq!(retry_delay(1), Duration::from_secs(1));
        assert_eq!(retry_delay(2), Duration::from_secs(2));
        assert_eq!(retry_delay(4), Duration::from_secs(8));
        assert_eq!(retry_delay(30), Duration::from_secs(60));
    }
}
