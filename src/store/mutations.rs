//! The agent's changes to conversations — assign, status, star, priority,
//! tags — kept as durable records from the keystroke until the server has
//! them. Replies (the outbox) are the other kind of record in the same log.
//!
//! A record is saved and shown at once, waits out the undo grace period,
//! is sent (one at a time per conversation, in the order made), retried
//! while the failure is transient and rolled back when the server refuses.
//! `updateConversation` sets values, so sending a record twice after a lost
//! answer leaves the conversation as the agent meant it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{
    AgentId, Conversation, ConversationId, ConversationStatus, ConversationUpdate, Priority, Tag,
};

/// The log's kind column for these records; replies are `reply`.
pub const KIND: &str = "conversation";

/// Fields left `None` are untouched. Tags carry their names so the row can
/// show them before the server answers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationChange {
    pub status: Option<ConversationStatus>,
    pub starred: Option<bool>,
    pub priority: Option<Option<Priority>>,
    pub assignee: Option<Option<AgentId>>,
    pub tags: Option<Vec<Tag>>,
}

impl ConversationChange {
    pub fn apply(&self, conversation: &mut Conversation) {
        if let Some(status) = &self.status {
            conversation.status = status.clone();
        }
        if let Some(starred) = self.starred {
            conversation.starred = starred;
        }
        if let Some(priority) = &self.priority {
            conversation.priority = priority.clone();
        }
        if let Some(assignee) = &self.assignee {
            conversation.assignee = assignee.clone();
        }
        if let Some(tags) = &self.tags {
            conversation.tags = tags.clone();
        }
    }

    /// The values `conversation` has now in the fields this change sets:
    /// applying it undoes the change.
    pub fn inverse(&self, conversation: &Conversation) -> ConversationChange {
        ConversationChange {
            status: self.status.as_ref().map(|_| conversation.status.clone()),
            starred: self.starred.map(|_| conversation.starred),
            priority: self
                .priority
                .as_ref()
                .map(|_| conversation.priority.clone()),
            assignee: self
                .assignee
                .as_ref()
                .map(|_| conversation.assignee.clone()),
            tags: self.tags.as_ref().map(|_| conversation.tags.clone()),
        }
    }

    /// The same change without the fields `later` sets: what a rollback
    /// may restore without undoing a newer action.
    pub fn without(&self, later: &ConversationChange) -> ConversationChange {
        ConversationChange {
            status: self.status.clone().filter(|_| later.status.is_none()),
            starred: self.starred.filter(|_| later.starred.is_none()),
            priority: self.priority.clone().filter(|_| later.priority.is_none()),
            assignee: self.assignee.clone().filter(|_| later.assignee.is_none()),
            tags: self.tags.clone().filter(|_| later.tags.is_none()),
        }
    }

    pub fn is_empty(&self) -> bool {
        *self == ConversationChange::default()
    }

    /// The request. A priority cannot be cleared through the API, so
    /// `Some(None)` sends nothing for it.
    pub fn to_update(&self) -> ConversationUpdate {
        ConversationUpdate {
            status: self.status.clone(),
            starred: self.starred,
            priority: self.priority.clone().flatten(),
            assignee: self.assignee.clone(),
            tags: self
                .tags
                .as_ref()
                .map(|tags| tags.iter().map(|t| t.id.clone()).collect()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum MutationState {
    /// In its grace period until `send_at`; `u` can still undo it.
    Waiting,
    Sending,
    /// A transient failure; sent again at `retry_at`.
    Retrying {
        attempts: u32,
        retry_at: DateTime<Utc>,
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationMutation {
    /// Client id of the record.
    pub id: String,
    /// Records made by one bulk action share a group; undo takes the group.
    pub group: String,
    pub conversation_id: ConversationId,
    /// What the agent did, in words: "resolve", "assign to Ayşe".
    pub label: String,
    pub change: ConversationChange,
    /// The values before the change, restored by undo or rollback.
    pub before: ConversationChange,
    pub created_at: DateTime<Utc>,
    /// End of the grace period.
    pub send_at: DateTime<Utc>,
    pub state: MutationState,
}

impl ConversationMutation {
    /// When it should go out next, unless something is in the way.
    pub fn due_at(&self) -> Option<DateTime<Utc>> {
        match &self.state {
            MutationState::Waiting => Some(self.send_at),
            MutationState::Sending => None,
            MutationState::Retrying { retry_at, .. } => Some(*retry_at),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Records not yet confirmed by the server, in the order made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mutations {
    items: Vec<ConversationMutation>,
}

/// What the status bar says about waiting actions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraceSummary {
    pub label: String,
    /// The conversation, when the group holds one.
    pub conversation: ConversationId,
    pub conversations: usize,
    pub seconds_left: i64,
}

impl Mutations {
    /// Records read back from the log at start. One that was being sent
    /// when termdesk stopped may or may not have arrived; sending it again
    /// sets the same values, so it goes again at once.
    pub fn restore(mut items: Vec<ConversationMutation>, now: DateTime<Utc>) -> Self {
        for item in &mut items {
            if item.state == MutationState::Sending {
                item.state = MutationState::Retrying {
                    attempts: 0,
                    retry_at: now,
                    reason: "termdesk stopped while it was sending".into(),
                };
            }
        }
        Self { items }
    }

    pub fn items(&self) -> &[ConversationMutation] {
        &self.items
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn get(&self, id: &str) -> Option<&ConversationMutation> {
        self.items.iter().find(|m| m.id == id)
    }

    pub fn get_mut(&mut self, id: &str) -> Option<&mut ConversationMutation> {
        self.items.iter_mut().find(|m| m.id == id)
    }

    pub fn push(&mut self, mutation: ConversationMutation) {
        self.items.push(mutation);
    }

    pub fn remove(&mut self, id: &str) -> Option<ConversationMutation> {
        let index = self.items.iter().position(|m| m.id == id)?;
        Some(self.items.remove(index))
    }

    /// Records still to be confirmed for a conversation, oldest first.
    pub fn for_conversation<'a>(
        &'a self,
        id: &'a ConversationId,
    ) -> impl Iterator<Item = &'a ConversationMutation> + 'a {
        self.items.iter().filter(move |m| &m.conversation_id == id)
    }

    /// Records to send now: due, and first in line for their conversation.
    pub fn due(&self, now: DateTime<Utc>) -> Vec<String> {
        let mut blocked: Vec<&ConversationId> = Vec::new();
        let mut due = Vec::new();
        for item in &self.items {
            if blocked.contains(&&item.conversation_id) {
                continue;
            }
            blocked.push(&item.conversation_id);
            if item.due_at().is_some_and(|at| at <= now) {
                due.push(item.id.clone());
            }
        }
        due
    }

    /// The newest group still inside its grace period, taken out of the
    /// log (newest record first) to be undone.
    pub fn take_last_undoable(&mut self) -> Vec<ConversationMutation> {
        let Some(group) = self
            .items
            .iter()
            .rev()
            .find(|m| m.state == MutationState::Waiting)
            .map(|m| m.group.clone())
        else {
            return Vec::new();
        };
        if self
            .items
            .iter()
            .any(|m| m.group == group && m.state != MutationState::Waiting)
        {
            return Vec::new();
        }
        let mut taken = Vec::new();
        self.items.retain(|m| {
            if m.group == group {
                taken.push(m.clone());
                false
            } else {
                true
            }
        });
        taken.reverse();
        taken
    }

    /// The newest waiting group, for the status bar's countdown.
    pub fn grace_summary(&self, now: DateTime<Utc>) -> Option<GraceSummary> {
        let last = self
            .items
            .iter()
            .rev()
            .find(|m| m.state == MutationState::Waiting)?;
        let conversations = self.items.iter().filter(|m| m.group == last.group).count();
        Some(GraceSummary {
            label: last.label.clone(),
            conversation: last.conversation_id.clone(),
            conversations,
            seconds_left: ((last.send_at - now).num_milliseconds().max(0) + 999) / 1000,
        })
    }

    /// Something is waiting for a time: the clock must tick.
    pub fn needs_clock(&self) -> bool {
        self.items.iter().any(|m| m.due_at().is_some())
    }

    /// Records sent and not answered yet, or waiting to be sent again.
    pub fn on_their_way(&self) -> (usize, Option<DateTime<Utc>>) {
        let mut count = 0;
        let mut next_retry: Option<DateTime<Utc>> = None;
        for item in &self.items {
            match &item.state {
                MutationState::Waiting => {}
                MutationState::Sending => count += 1,
                MutationState::Retrying { retry_at, .. } => {
                    count += 1;
                    next_retry = Some(next_retry.map_or(*retry_at, |at| at.min(*retry_at)));
                }
            }
        }
        (count, next_retry)
    }

    /// Records waiting or on their way, for the quit question.
    pub fn unsent(&self) -> usize {
        self.items.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::fixtures::{conversation, t};

    fn record(id: &str, group: &str, conv: &str, send_at: i64) -> ConversationMutation {
        ConversationMutation {
            id: id.into(),
            group: group.into(),
            conversation_id: ConversationId::new(conv),
            label: "resolve".into(),
            change: ConversationChange {
                status: Some(ConversationStatus::Resolved),
                ..Default::default()
            },
            before: ConversationChange {
                status: Some(ConversationStatus::Open),
                ..Default::default()
            },
            created_at: t(0),
            send_at: t(send_at),
            state: MutationState::Waiting,
        }
    }

    #[test]
    fn inverse_restores_exactly_the_fields_changed() {
        let mut row = conversation("c", 10, true);
        row.starred = true;
        let change = ConversationChange {
            status: Some(ConversationStatus::Resolved),
            starred: Some(false),
            ..Default::default()
        };
        let before = change.inverse(&row);
        let original = row.clone();
        change.apply(&mut row);
        assert_eq!(row.status, ConversationStatus::Resolved);
        assert!(!row.starred);
        before.apply(&mut row);
        assert_eq!(row, original);
        assert!(before.tags.is_none() && before.assignee.is_none());
    }

    #[test]
    fn one_record_per_conversation_goes_out_at_a_time_in_order() {
        let mut log = Mutations::default();
        log.push(record("1", "g1", "a", 5));
        log.push(record("2", "g2", "a", 5));
        log.push(record("3", "g3", "b", 5));
        assert!(log.due(t(4)).is_empty(), "still in the grace period");
        assert_eq!(log.due(t(5)), ["1", "3"]);
        log.get_mut("1").unwrap().state = MutationState::Sending;
        assert_eq!(log.due(t(6)), ["3"], "2 waits for 1");
        log.remove("1");
        assert_eq!(log.due(t(6)), ["2", "3"]);
    }

    #[test]
    fn undo_takes_the_newest_waiting_group_whole() {
        let mut log = Mutations::default();
        log.push(record("1", "g1", "a", 5));
        log.push(record("2", "g2", "b", 5));
        log.push(record("3", "g2", "c", 5));
        let summary = log.grace_summary(t(2)).unwrap();
        assert_eq!(summary.conversations, 2);
        assert_eq!(summary.seconds_left, 3);
        let undone: Vec<String> = log.take_last_undoable().into_iter().map(|m| m.id).collect();
        assert_eq!(undone, ["3", "2"]);
        assert_eq!(log.items().len(), 1);
        log.get_mut("1").unwrap().state = MutationState::Sending;
        assert!(log.take_last_undoable().is_empty(), "already on its way");
    }

    #[test]
    fn a_record_cut_off_mid_send_goes_again_after_a_restart() {
        let mut sending = record("1", "g1", "a", 5);
        sending.state = MutationState::Sending;
        let log = Mutations::restore(vec![sending], t(100));
        assert_eq!(log.due(t(100)), ["1"]);
    }
}
