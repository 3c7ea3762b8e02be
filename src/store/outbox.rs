//! Replies on their way out. Each has a client id, generated once and sent
//! as `frontMsgId` on every attempt. The server is not trusted to
//! de-duplicate it: after an answer that may have been lost, the thread is
//! searched for the echo before anything is sent again. Items are saved in
//! the database before the first attempt and stay until the server confirms
//! them, whatever happens (a crash included). Replies of one conversation go
//! out one at a time, in the order they were typed.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{
    ChannelId, ContactId, ConversationId, OutgoingTemplate, OutgoingText, Recipient, TemplateId,
    TemplateValues,
};

/// Garbled answers are retried this many times before the item is marked
/// failed (the text is kept; the agent can retry by hand). Outages are
/// waited out without a limit.
/// The mutation log's kind column for replies.
pub const KIND: &str = "reply";

pub const MAX_AUTOMATIC_ATTEMPTS: u32 = 8;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum OutboxState {
    /// Behind an earlier reply of the same conversation.
    Queued,
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxItem {
    pub client_id: String,
    pub conversation_id: ConversationId,
    pub channel_id: Option<ChannelId>,
    pub text: String,
    pub created_at: DateTime<Utc>,
    pub state: OutboxState,
    /// An earlier attempt may have reached the server (a timeout, a 5xx, an
    /// answer that never came): look for the echo before sending again.
    #[serde(default)]
    pub fate_unknown: bool,
    /// Set for a template message; `text` is then what the customer reads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<OutboxTemplate>,
}

/// The template a message is, and the values that fill it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxTemplate {
    pub template_id: TemplateId,
    pub template_name: String,
    pub language: String,
    pub values: TemplateValues,
    /// Starts a conversation with this contact: the item's conversation id
    /// is then [`new_conversation_key`] until the server names one.
    pub contact_id: Option<ContactId>,
}

/// What a reply or template becomes on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outgoing {
    Text(OutgoingText),
    Template(OutgoingTemplate),
}

impl Outgoing {
    pub fn client_id(&self) -> &str {
        match self {
            Outgoing::Text(t) => &t.client_id,
            Outgoing::Template(t) => &t.client_id,
        }
    }
}

const NEW_CONVERSATION_PREFIX: &str = "new-conversation:";

/// The outbox's key for messages that start a conversation with `contact`:
/// they queue behind each other like replies of one conversation.
pub fn new_conversation_key(contact: &ContactId) -> ConversationId {
    ConversationId::new(format!("{NEW_CONVERSATION_PREFIX}{contact}"))
}

impl OutboxItem {
    pub fn outgoing(&self) -> Outgoing {
        match &self.template {
            None => Outgoing::Text(OutgoingText {
                conversation_id: self.conversation_id.clone(),
                client_id: self.client_id.clone(),
                text: self.text.clone(),
                channel_id: self.channel_id.clone(),
            }),
            Some(template) => Outgoing::Template(OutgoingTemplate {
                client_id: self.client_id.clone(),
                recipient: match &template.contact_id {
                    Some(contact) => Recipient::Contact(contact.clone()),
                    None => Recipient::Conversation(self.conversation_id.clone()),
                },
                channel_id: self.channel_id.clone(),
                template_id: template.template_id.clone(),
                template_name: template.template_name.clone(),
                language: template.language.clone(),
                values: template.values.clone(),
            }),
        }
    }

    /// A message that starts a new conversation (no conversation yet).
    pub fn starts_conversation(&self) -> bool {
        self.template
            .as_ref()
            .is_some_and(|t| t.contact_id.is_some())
    }

    pub fn is_in_flight(&self) -> bool {
        !matches!(self.state, OutboxState::Failed { .. })
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
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

    /// The reply a conversation sends next: its oldest item, unless that one
    /// failed for good (later ones wait rather than overtake it).
    pub fn head_of<'a>(&'a self, id: &'a ConversationId) -> Option<&'a OutboxItem> {
        self.for_conversation(id).next()
    }

    /// Items read back from the database at start. Whatever was on its way
    /// when termdesk stopped may have reached the server: each such item is
    /// checked for its echo before it is sent again.
    pub fn restore(items: Vec<OutboxItem>) -> Outbox {
        let mut outbox = Outbox::default();
        for mut item in items {
            if matches!(
                item.state,
                OutboxState::Sending { .. } | OutboxState::WaitingRetry { .. }
            ) {
                item.fate_unknown = true;
                item.state = OutboxState::Queued;
            }
            outbox.push(item);
        }
        outbox
    }

    /// Conversations whose first reply is ready to go (queued at the head).
    pub fn ready_heads(&self) -> Vec<String> {
        let mut seen: Vec<&ConversationId> = Vec::new();
        let mut ready = Vec::new();
        for item in &self.items {
            if seen.contains(&&item.conversation_id) {
                continue;
            }
            seen.push(&item.conversation_id);
            if item.state == OutboxState::Queued {
                ready.push(item.client_id.clone());
            }
        }
        ready
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn item(client_id: &str, conversation: &str, state: OutboxState) -> OutboxItem {
        OutboxItem {
            client_id: client_id.into(),
            conversation_id: ConversationId::new(conversation),
            channel_id: None,
            text: format!("text of {client_id}"),
            created_at: DateTime::<Utc>::UNIX_EPOCH,
            state,
            fate_unknown: false,
            template: None,
        }
    }

    #[test]
    fn restoring_after_a_crash_queues_unfinished_sends_with_unknown_fate() {
        let outbox = Outbox::restore(vec![
            item("a", "c1", OutboxState::Sending { attempt: 2 }),
            item("b", "c1", OutboxState::Queued),
            item(
                "c",
                "c2",
                OutboxState::Failed {
                    reason: "refused".into(),
                },
            ),
        ]);
        let a = outbox.get("a").unwrap();
        assert_eq!(a.state, OutboxState::Queued);
        assert!(a.fate_unknown);
        assert!(!outbox.get("b").unwrap().fate_unknown);
        assert!(matches!(
            outbox.get("c").unwrap().state,
            OutboxState::Failed { .. }
        ));
        assert_eq!(
            outbox.ready_heads(),
            ["a"],
            "one per conversation, failed heads wait"
        );
    }

    #[test]
    fn items_survive_a_round_trip_through_json() {
        let original = item(
            "k",
            "c",
            OutboxState::WaitingRetry {
                attempt: 3,
                retry_at: DateTime::<Utc>::UNIX_EPOCH,
                reason: "timeout".into(),
            },
        );
        let back: OutboxItem = serde_json::from_str(&original.to_json()).unwrap();
        assert_eq!(back, original);
    }

    #[test]
    fn retry_delays_grow_and_cap() {
        assert_eq!(retry_delay(1), Duration::from_secs(1));
        assert_eq!(retry_delay(2), Duration::from_secs(2));
        assert_eq!(retry_delay(4), Duration::from_secs(8));
        assert_eq!(retry_delay(30), Duration::from_secs(60));
    }
}
