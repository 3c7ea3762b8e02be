//! The agent's changes to contacts — edits, new contacts, deletions — kept
//! as durable records of the mutation log from `Ctrl-S` until the server
//! has them. A record the server refused stays, with the reason, until the
//! agent fixes or discards it: a failed save never loses what was typed.
//!
//! Exactly once: an edit sets values, so sending it again is harmless; a
//! create whose answer was lost is found by its phone before it is sent
//! again; a delete whose answer was lost finds the contact gone.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::contact_fields::ContactField;
use crate::domain::{Contact, ContactId, ContactUpdate};

/// The log's kind column for these records.
pub const KIND: &str = "contact";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ContactOp {
    /// `base` is the contact as it was when editing began: a field the
    /// server has changed since then is a conflict, not an overwrite.
    Update {
        contact_id: ContactId,
        base: Box<Contact>,
        changes: ContactUpdate,
    },
    Create {
        fields: ContactUpdate,
    },
    Delete {
        contact_id: ContactId,
        /// The name, for messages once the contact is gone.
        label: String,
    },
}

impl ContactOp {
    /// The contact concerned; `None` for one not created yet.
    pub fn contact_id(&self) -> Option<&ContactId> {
        match self {
            ContactOp::Update { contact_id, .. } | ContactOp::Delete { contact_id, .. } => {
                Some(contact_id)
            }
            ContactOp::Create { .. } => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum EditState {
    Sending,
    /// A transient failure; sent again at `retry_at`.
    Retrying {
        retry_at: DateTime<Utc>,
        reason: String,
    },
    /// The server refused; the agent fixes the field or discards.
    Refused {
        reason: String,
        field: Option<ContactField>,
    },
    /// The server's contact changed since editing began, in fields this
    /// edit also changes: the agent chooses per field.
    Conflict {
        server: Box<Contact>,
    },
    /// Another contact already has the phone.
    Duplicate {
        existing: Box<Contact>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactEdit {
    /// Client id of the record.
    pub id: String,
    pub op: ContactOp,
    pub created_at: DateTime<Utc>,
    pub state: EditState,
    /// Sends tried so far. After one whose answer was lost, a create looks
    /// for its contact before creating it again.
    pub attempts: u32,
}

impl ContactEdit {
    pub fn new(id: String, op: ContactOp, now: DateTime<Utc>) -> ContactEdit {
        ContactEdit {
            id,
            op,
            created_at: now,
            state: EditState::Sending,
            attempts: 0,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Waiting for the agent (refused, conflict, duplicate), not for the
    /// server.
    pub fn needs_agent(&self) -> bool {
        matches!(
            self.state,
            EditState::Refused { .. } | EditState::Conflict { .. } | EditState::Duplicate { .. }
        )
    }
}

/// Records not yet confirmed by the server, in the order made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactEdits {
    items: Vec<ContactEdit>,
}

impl ContactEdits {
    /// Records read back at start. One cut off mid-send goes again at once
    /// (an edit sets values; a create is looked for first).
    pub fn restore(mut items: Vec<ContactEdit>, now: DateTime<Utc>) -> Self {
        for item in &mut items {
            if item.state == EditState::Sending {
                item.attempts = item.attempts.max(1);
                item.state = EditState::Retrying {
                    retry_at: now,
                    reason: "termdesk stopped while it was saving".into(),
                };
            }
        }
        Self { items }
    }

    pub fn items(&self) -> &[ContactEdit] {
        &self.items
    }

    pub fn get(&self, id: &str) -> Option<&ContactEdit> {
        self.items.iter().find(|e| e.id == id)
    }

    pub fn get_mut(&mut self, id: &str) -> Option<&mut ContactEdit> {
        self.items.iter_mut().find(|e| e.id == id)
    }

    pub fn push(&mut self, edit: ContactEdit) {
        self.items.push(edit);
    }

    pub fn remove(&mut self, id: &str) -> Option<ContactEdit> {
        let index = self.items.iter().position(|e| e.id == id)?;
        Some(self.items.remove(index))
    }

    /// The unconfirmed edit of a contact, if any (one at a time: the editor
    /// resumes it instead of starting another).
    pub fn for_contact(&self, id: &ContactId) -> Option<&ContactEdit> {
        self.items
            .iter()
            .find(|e| matches!(&e.op, ContactOp::Update { contact_id, .. } if contact_id == id))
    }

    /// A delete of this contact is on its way.
    pub fn deleting(&self, id: &ContactId) -> bool {
        self.items
            .iter()
            .any(|e| matches!(&e.op, ContactOp::Delete { contact_id, .. } if contact_id == id))
    }

    /// Records whose retry time has come.
    pub fn due(&self, now: DateTime<Utc>) -> Vec<String> {
        self.items
            .iter()
            .filter(
                |e| matches!(&e.state, EditState::Retrying { retry_at, .. } if *retry_at <= now),
            )
            .map(|e| e.id.clone())
            .collect()
    }

    pub fn needs_clock(&self) -> bool {
        self.items
            .iter()
            .any(|e| matches!(e.state, EditState::Retrying { .. }))
    }

    /// Records the server has not confirmed, for the quit question.
    pub fn unsent(&self) -> usize {
        self.items.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::fixtures::t;

    fn edit(id: &str, contact: &str) -> ContactEdit {
        ContactEdit::new(
            id.into(),
            ContactOp::Update {
                contact_id: ContactId::new(contact),
                base: Box::new(Contact::named(contact, "Ayşe")),
                changes: ContactUpdate {
                    email: Some(Some("a@example.com".into())),
                    ..Default::default()
                },
            },
            t(0),
        )
    }

    #[test]
    fn a_save_cut_off_goes_again_after_a_restart_counted_as_tried() {
        let log = ContactEdits::restore(vec![edit("1", "c1")], t(50));
        assert_eq!(log.due(t(50)), ["1"]);
        assert_eq!(log.get("1").unwrap().attempts, 1);
        let json = log.get("1").unwrap().to_json();
        let back: ContactEdit = serde_json::from_str(&json).unwrap();
        assert_eq!(&back, log.get("1").unwrap());
    }

    #[test]
    fn refused_edits_wait_for_the_agent_and_are_found_by_contact() {
        let mut log = ContactEdits::default();
        log.push(edit("1", "c1"));
        log.get_mut("1").unwrap().state = EditState::Refused {
            reason: "Invalid e-mail".into(),
            field: Some(ContactField::Email),
        };
        assert!(log.due(t(100)).is_empty());
        assert!(log.get("1").unwrap().needs_agent());
        assert_eq!(log.for_contact(&ContactId::new("c1")).unwrap().id, "1");
        assert!(log.for_contact(&ContactId::new("c2")).is_none());
    }
}
