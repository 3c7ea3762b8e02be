//! The local state store: conversations and threads keyed by id, plus the
//! list order, kept sorted as pages arrive. Plain data; `app::update` is its
//! only writer.

pub mod db;
pub mod outbox;
pub mod search_text;
pub mod writer;

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::domain::{Agent, AgentId, Conversation, ConversationId, Message, SenderKind};

#[derive(Debug, Clone, PartialEq)]
pub struct ConversationEntry {
    pub conversation: Conversation,
    pub unread: u32,
}

/// Messages of one conversation, oldest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Thread {
    pub messages: Vec<Message>,
    /// The server has older messages than the first one here.
    pub has_older: bool,
    pub loading_older: bool,
    /// The newest page has arrived at least once.
    pub loaded: bool,
    /// Bumped on every change, so layouts derived from the thread can be
    /// cached.
    pub revision: u64,
}

impl Thread {
    pub fn newest_inbound(&self) -> Option<&Message> {
        self.messages
            .iter()
            .rev()
            .find(|m| m.sender == SenderKind::Contact)
    }

    pub fn oldest_time(&self) -> Option<DateTime<Utc>> {
        self.messages.first().map(|m| m.created_at)
    }
}

/// What a merge changed, so the caller can decide what to show.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MergeSummary {
    pub added: usize,
    pub added_inbound: usize,
    pub updated: usize,
}

#[derive(Debug, Clone, Default)]
pub struct Store {
    conversations: HashMap<ConversationId, ConversationEntry>,
    /// Most recently updated first; ties broken by id so the order is total.
    order: Vec<ConversationId>,
    threads: HashMap<ConversationId, Thread>,
    /// Newest `updated_at` seen: the incremental sync cursor.
    cursor: Option<DateTime<Utc>>,
    agents: HashMap<AgentId, Agent>,
}

impl Store {
    pub fn order(&self) -> &[ConversationId] {
        &self.order
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    pub fn get(&self, id: &ConversationId) -> Option<&ConversationEntry> {
        self.conversations.get(id)
    }

    pub fn agent(&self, id: &AgentId) -> Option<&Agent> {
        self.agents.get(id)
    }

    pub fn set_agents(&mut self, agents: Vec<Agent>) {
        self.agents = agents.into_iter().map(|a| (a.id.clone(), a)).collect();
    }

    pub fn cursor(&self) -> Option<DateTime<Utc>> {
        self.cursor
    }

    pub fn thread(&self, id: &ConversationId) -> Option<&Thread> {
        self.threads.get(id)
    }

    pub fn thread_mut(&mut self, id: &ConversationId) -> &mut Thread {
        let thread = self.threads.entry(id.clone()).or_default();
        thread.revision += 1;
        thread
    }

    /// Inserts or replaces conversations. A newer customer message in a
    /// conversation other than `open` counts as unread. Returns how many
    /// conversations were new or different, so callers can skip redraws.
    pub fn upsert_conversations(
        &mut self,
        conversations: Vec<Conversation>,
        open: Option<&ConversationId>,
    ) -> usize {
        let mut changed = 0;
        for conversation in conversations {
            if self.cursor.is_none_or(|c| conversation.updated_at > c) {
                self.cursor = Some(conversation.updated_at);
            }
            let is_open = open == Some(&conversation.id);
            match self.conversations.get_mut(&conversation.id) {
                Some(entry) => {
                    let newer_inbound =
                        match (&conversation.last_message, &entry.conversation.last_message) {
                            (Some(new_msg), Some(old_msg)) => {
                                new_msg.sender == SenderKind::Contact
                                    && new_msg.created_at > old_msg.created_at
                            }
                            (Some(new_msg), None) => new_msg.sender == SenderKind::Contact,
                            _ => false,
                        };
                    let unread = match conversation.unread {
                        Some(n) => n,
                        None if is_open => 0,
                        None if newer_inbound => entry.unread + 1,
                        None => entry.unread,
                    };
                    if unread != entry.unread || entry.conversation != conversation {
                        changed += 1;
                        entry.unread = unread;
                        entry.conversation = conversation;
                    }
                }
                None => {
                    changed += 1;
                    // Without a provider count, a conversation whose newest
                    // message is the customer's is waiting on us: show one.
                    let unread = conversation.unread.unwrap_or_else(|| {
                        let waiting = conversation
                            .last_message
                            .as_ref()
                            .is_some_and(|m| m.sender == SenderKind::Contact);
                        u32::from(waiting && !is_open)
                    });
                    self.conversations.insert(
                        conversation.id.clone(),
                        ConversationEntry {
                            conversation,
                            unread,
                        },
                    );
                }
            }
        }
        if changed > 0 {
            self.resort();
        }
        changed
    }

    fn resort(&mut self) {
        let conversations = &self.conversations;
        self.order = conversations.keys().cloned().collect();
        self.order.sort_by(|a, b| {
            let (ca, cb) = (
                &conversations[a].conversation,
                &conversations[b].conversation,
            );
            cb.updated_at.cmp(&ca.updated_at).then_with(|| a.cmp(b))
        });
    }

    pub fn mark_read(&mut self, id: &ConversationId) {
        if let Some(entry) = self.conversations.get_mut(id) {
            entry.unread = 0;
        }
    }

    /// Merges a page of messages (any order) into the thread: new ids are
    /// inserted in time order, known ids are updated in place (acks move
    /// forward). `older_page` carries `has_more` when this page was fetched
    /// backwards from the oldest message.
    pub fn merge_messages(
        &mut self,
        id: &ConversationId,
        messages: Vec<Message>,
        older_page: Option<bool>,
        newest_page_has_more: Option<bool>,
    ) -> MergeSummary {
        let thread = self.thread_mut(id);
        let mut summary = MergeSummary::default();
        // A newest page that shares nothing with what we hold, with more
        // behind it, means messages were missed in between (a long outage):
        // start again from this page rather than show a thread with a hole.
        let gap = newest_page_has_more == Some(true)
            && thread.loaded
            && !messages.is_empty()
            && !thread.messages.is_empty()
            && !messages.iter().any(|new| {
                thread.messages.iter().any(|m| {
                    m.id == new.id || (new.client_id.is_some() && m.client_id == new.client_id)
                })
            });
        if gap {
            thread.messages.clear();
            thread.has_older = true;
        }
        let mut needs_sort = false;
        for message in messages {
            let existing = thread.messages.iter_mut().rev().find(|m| {
                m.id == message.id
                    || (message.client_id.is_some() && m.client_id == message.client_id)
            });
            match existing {
                Some(current) => {
                    if *current != message {
                        let keep_ack =
                            current.ack > message.ack && current.ack != crate::domain::Ack::Failed;
                        let ack = if keep_ack { current.ack } else { message.ack };
                        *current = message;
                        current.ack = ack;
                        summary.updated += 1;
                    }
                }
                None => {
                    if thread
                        .messages
                        .last()
                        .is_some_and(|last| message.created_at < last.created_at)
                    {
                        needs_sort = true;
                    }
                    if message.sender == SenderKind::Contact {
                        summary.added_inbound += 1;
                    }
                    thread.messages.push(message);
                    summary.added += 1;
                }
            }
        }
        if needs_sort {
            thread.messages.sort_by(|a, b| {
                a.created_at
                    .cmp(&b.created_at)
                    .then_with(|| a.id.cmp(&b.id))
            });
        }
        if let Some(has_more) = older_page {
            thread.has_older = has_more;
            thread.loading_older = false;
        }
        if let Some(has_more) = newest_page_has_more {
            // Later polls of the newest page say nothing about older history.
            if !thread.loaded {
                thread.has_older = has_more;
            }
            thread.loaded = true;
        }
        summary
    }
}

#[cfg(test)]
pub(crate) mod fixtures {
    use chrono::{DateTime, TimeZone, Utc};

    use crate::domain::*;

    pub fn t(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_760_000_000 + secs, 0).unwrap()
    }

    pub fn conversation(id: &str, updated: i64, from_contact: bool) -> Conversation {
        Conversation {
            id: ConversationId::new(id),
            contact_id: Some(ContactId::new(format!("c-{id}"))),
            contact_name: format!("Contact {id}"),
            channel: Channel::WhatsApp,
            reply_channel_id: None,
            status: ConversationStatus::Open,
            assignee: None,
            starred: false,
            priority: None,
            tags: Vec::new(),
            last_message: Some(MessagePreview {
                text: format!("last of {id}"),
                sender: if from_contact {
                    SenderKind::Contact
                } else {
                    SenderKind::Agent
                },
                kind: MessageKind::Text,
                ack: Ack::Read,
                created_at: t(updated),
            }),
            created_at: Some(t(0)),
            updated_at: t(updated),
            unread: None,
        }
    }

    pub fn message(conv: &str, id: &str, at: i64, sender: SenderKind, text: &str) -> Message {
        Message {
            id: MessageId::new(id),
            conversation_id: ConversationId::new(conv),
            client_id: None,
            sender,
            sender_name: Some(match sender {
                SenderKind::Contact => "Deniz".to_string(),
                _ => "Agent Ada".to_string(),
            }),
            kind: MessageKind::Text,
            channel: Some(Channel::WhatsApp),
            text: text.to_string(),
            subject: None,
            media: Vec::new(),
            quoted: None,
            ack: Ack::Delivered,
            failed_reason: None,
            created_at: t(at),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::*;
    use super::*;
    use crate::domain::{Ack, SenderKind};

    #[test]
    fn orders_by_recency_and_tracks_cursor() {
        let mut store = Store::default();
        store.upsert_conversations(
            vec![
                conversation("a", 10, true),
                conversation("b", 30, false),
                conversation("c", 20, true),
            ],
            None,
        );
        let ids: Vec<_> = store.order().iter().map(|i| i.as_str()).collect();
        assert_eq!(ids, ["b", "c", "a"]);
        assert_eq!(store.cursor(), Some(t(30)));
        assert_eq!(store.get(&"a".into()).unwrap().unread, 1);
        assert_eq!(store.get(&"b".into()).unwrap().unread, 0);
    }

    #[test]
    fn newer_inbound_message_adds_unread_except_when_open() {
        let mut store = Store::default();
        store.upsert_conversations(
            vec![conversation("a", 10, false), conversation("b", 10, false)],
            None,
        );
        store.upsert_conversations(
            vec![conversation("a", 40, true), conversation("b", 40, true)],
            Some(&"b".into()),
        );
        assert_eq!(store.get(&"a".into()).unwrap().unread, 1);
        assert_eq!(store.get(&"b".into()).unwrap().unread, 0);
        assert_eq!(store.order()[0].as_str(), "a");
        store.mark_read(&"a".into());
        assert_eq!(store.get(&"a".into()).unwrap().unread, 0);
    }

    #[test]
    fn merge_dedups_inserts_in_order_and_keeps_ack_progress() {
        let mut store = Store::default();
        let id = ConversationId::new("a");
        let first = vec![
            message("a", "m3", 30, SenderKind::Contact, "three"),
            message("a", "m2", 20, SenderKind::Agent, "two"),
        ];
        let summary = store.merge_messages(&id, first, None, Some(true));
        assert_eq!(summary.added, 2);
        assert!(store.thread(&id).unwrap().has_older);
        let mut read = message("a", "m2", 20, SenderKind::Agent, "two");
        read.ack = Ack::Read;
        let summary = store.merge_messages(
            &id,
            vec![read, message("a", "m1", 10, SenderKind::Contact, "one")],
            Some(false),
            None,
        );
        assert_eq!(
            summary,
            MergeSummary {
                added: 1,
                added_inbound: 1,
                updated: 1
            }
        );
        let thread = store.thread(&id).unwrap();
        let texts: Vec<_> = thread.messages.iter().map(|m| m.text.as_str()).collect();
        assert_eq!(texts, ["one", "two", "three"]);
        assert!(!thread.has_older);
        // A stale page must not move an ack backwards.
        store.merge_messages(
            &id,
            vec![message("a", "m2", 20, SenderKind::Agent, "two")],
            None,
            Some(true),
        );
        assert_eq!(store.thread(&id).unwrap().messages[1].ack, Ack::Read);
    }

    #[test]
    fn a_newest_page_with_no_overlap_replaces_the_thread_so_no_hole_is_shown() {
        let mut store = Store::default();
        let id = ConversationId::new("a");
        store.merge_messages(
            &id,
            vec![message("a", "m1", 10, SenderKind::Contact, "old")],
            None,
            Some(false),
        );
        let later = vec![message("a", "m99", 990, SenderKind::Contact, "much later")];
        store.merge_messages(&id, later, None, Some(true));
        let thread = store.thread(&id).unwrap();
        assert_eq!(thread.messages.len(), 1);
        assert_eq!(thread.messages[0].text, "much later");
        assert!(thread.has_older, "the rest loads on scrolling up");
    }

    #[test]
    fn echo_with_same_client_id_replaces_instead_of_duplicating() {
        let mut store = Store::default();
        let id = ConversationId::new("a");
        let mut local = message("a", "tmp", 10, SenderKind::Agent, "hi");
        local.client_id = Some("k1".into());
        store.merge_messages(&id, vec![local], None, Some(false));
        let mut echo = message("a", "server-id", 10, SenderKind::Agent, "hi");
        echo.client_id = Some("k1".into());
        store.merge_messages(&id, vec![echo], None, None);
        assert_eq!(store.thread(&id).unwrap().messages.len(), 1);
        assert_eq!(
            store.thread(&id).unwrap().messages[0].id.as_str(),
            "server-id"
        );
    }
}
