//! The SuperWaba sandbox's mutable world: contacts, conversations, messages,
//! templates and the organization's users, and the operations the handlers
//! perform on them. Wire shapes live in `wire.rs`.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value};

#[derive(Debug, Clone)]
pub(crate) struct User {
    pub id: String,
    pub email: String,
    pub name: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Contact {
    pub id: String,
    pub vendor_id: String,
    pub name: String,
    pub phone: String,
    pub email: Option<String>,
    pub country_code: Option<String>,
    pub tags: Vec<String>,
    pub labels: Vec<String>,
    pub params: Map<String, Value>,
    pub source: String,
    pub opted_in: bool,
    pub is_blocked: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub(crate) struct Conversation {
    pub id: String,
    pub contact_id: String,
    /// `open`, `closed`, `ai_handling` or `escalated`.
    pub status: String,
    pub assignee_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The corpus language its customer writes in (live traffic).
    pub lang: &'static str,
}

#[derive(Debug, Clone)]
pub(crate) struct Message {
    pub id: String,
    pub wa_message_id: String,
    pub conversation_id: String,
    /// `inbound` or `outbound`.
    pub direction: String,
    /// `text`, `image`, `document`, … or a type the reference leaves open.
    pub kind: String,
    pub content: Value,
    pub status: String,
    pub timestamp: DateTime<Utc>,
    /// The client's reference sent with a reply or template, echoed back.
    pub client_message_id: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Template {
    pub id: String,
    pub name: String,
    pub language: String,
    pub category: String,
    pub status: String,
    pub components: Value,
}

pub(crate) struct World {
    pub rng: ChaCha8Rng,
    pub users: Vec<User>,
    pub contacts: Vec<Contact>,
    pub conversations: Vec<Conversation>,
    /// By conversation id, oldest first.
    pub messages: HashMap<String, Vec<Message>>,
    pub templates: Vec<Template>,
}

/// Milliseconds are the wire's precision; keeping only those makes a
/// stored time equal to what a client reads back.
pub(crate) fn now_ms() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now)
}

/// `2026-05-16T09:41:00.000Z`, as the reference writes times.
pub(crate) fn iso(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

pub(crate) fn hex(rng: &mut ChaCha8Rng, n: usize) -> String {
    (0..n)
        .map(|_| char::from_digit(rng.random_range(0..16u32), 16).unwrap_or('0'))
        .collect()
}

/// `prefix_8-4-4-4-12`: UUID-looking, yet prefixed like the reference's samples.
pub(crate) fn prefixed_id(rng: &mut ChaCha8Rng, prefix: &str) -> String {
    format!(
        "{prefix}_{}-{}-{}-{}-{}",
        hex(rng, 8),
        hex(rng, 4),
        hex(rng, 4),
        hex(rng, 4),
        hex(rng, 12)
    )
}

pub(crate) fn wamid(rng: &mut ChaCha8Rng) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let tail: String = (0..28)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect();
    format!("wamid.HBgM{tail}")
}

/// The text a message shows in a conversation preview.
pub(crate) fn preview_text(m: &Message) -> String {
    m.content
        .get("text")
        .or_else(|| m.content.get("caption"))
        .or_else(|| m.content.get("filename"))
        .or_else(|| m.content.get("name"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| format!("[{}]", m.kind))
}

impl World {
    pub fn contact_index(&self, id_or_vendor: &str) -> Option<usize> {
        self.contacts
            .iter()
            .position(|c| c.id == id_or_vendor || c.vendor_id == id_or_vendor)
    }

    pub fn contact_by_phone(&self, phone: &str) -> Option<usize> {
        self.contacts.iter().position(|c| c.phone == phone)
    }

    pub fn conversation_index(&self, id: &str) -> Option<usize> {
        self.conversations.iter().position(|c| c.id == id)
    }

    pub fn user(&self, id: &str) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }

    pub fn messages_of(&self, conversation_id: &str) -> &[Message] {
        self.messages
            .get(conversation_id)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    pub fn last_message(&self, conversation_id: &str) -> Option<&Message> {
        self.messages_of(conversation_id).last()
    }

    /// Inbound messages after the last outbound one.
    pub fn unread(&self, conversation_id: &str) -> usize {
        self.messages_of(conversation_id)
            .iter()
            .rev()
            .take_while(|m| m.direction == "inbound")
            .count()
    }

    pub fn last_message_at(&self, contact_id: &str) -> Option<DateTime<Utc>> {
        self.conversations
            .iter()
            .filter(|c| c.contact_id == contact_id)
            .filter_map(|c| self.last_message(&c.id).map(|m| m.timestamp))
            .max()
    }

    pub fn conversation_count(&self, contact_id: &str) -> usize {
        self.conversations
            .iter()
            .filter(|c| c.contact_id == contact_id)
            .count()
    }

    /// WhatsApp's rule: free-form replies only within 24 hours of the
    /// customer's last message.
    pub fn window_open(&self, conversation_id: &str, now: DateTime<Utc>) -> bool {
        self.messages_of(conversation_id)
            .iter()
            .rev()
            .find(|m| m.direction == "inbound")
            .is_some_and(|m| now - m.timestamp < Duration::hours(24))
    }

    /// A new, unique `updatedAt` for something changed now.
    fn touch(previous: DateTime<Utc>, now: DateTime<Utc>) -> DateTime<Utc> {
        now.max(previous + Duration::milliseconds(1))
    }

    pub fn push_message(&mut self, message: Message) {
        if let Some(i) = self.conversation_index(&message.conversation_id) {
            let c = &mut self.conversations[i];
            c.updated_at = Self::touch(c.updated_at, message.timestamp);
            if message.direction == "inbound" && c.status == "closed" {
                c.status = "open".into();
            }
        }
        self.messages
            .entry(message.conversation_id.clone())
            .or_default()
            .push(message);
    }

    /// A customer writes; returns the message id (`None` for an unknown conversation).
    pub fn add_inbound(&mut self, conversation_id: &str, text: &str) -> Option<String> {
        self.conversation_index(conversation_id)?;
        let now = now_ms();
        let id = format!("msg_{}", hex(&mut self.rng, 12));
        let message = Message {
            id: id.clone(),
            wa_message_id: wamid(&mut self.rng),
            conversation_id: conversation_id.to_string(),
            direction: "inbound".into(),
            kind: "text".into(),
            content: serde_json::json!({ "text": text }),
            status: "delivered".into(),
            timestamp: now,
            client_message_id: None,
        };
        self.push_message(message);
        Some(id)
    }

    /// An agent's message, stored as sent.
    pub fn add_outbound(
        &mut self,
        conversation_id: &str,
        kind: &str,
        content: Value,
        client_message_id: Option<String>,
    ) -> Message {
        let message = Message {
            id: format!("msg_{}", hex(&mut self.rng, 12)),
            wa_message_id: wamid(&mut self.rng),
            conversation_id: conversation_id.to_string(),
            direction: "outbound".into(),
            kind: kind.to_string(),
            content,
            status: "sent".into(),
            timestamp: now_ms(),
            client_message_id,
        };
        self.push_message(message.clone());
        message
    }

    pub fn new_contact(&mut self, phone: &str, name: &str, source: &str) -> usize {
        let now = now_ms();
        let contact = Contact {
            id: prefixed_id(&mut self.rng, "contact"),
            vendor_id: hex(&mut self.rng, 24),
            name: name.to_string(),
            phone: phone.to_string(),
            email: None,
            country_code: None,
            tags: Vec::new(),
            labels: Vec::new(),
            params: Map::new(),
            source: source.to_string(),
            opted_in: false,
            is_blocked: false,
            created_at: now,
            updated_at: now,
        };
        self.contacts.push(contact);
        self.contacts.len() - 1
    }

    pub fn touch_contact(&mut self, i: usize) {
        let c = &mut self.contacts[i];
        c.updated_at = Self::touch(c.updated_at, now_ms());
    }

    pub fn touch_conversation(&mut self, i: usize) {
        let c = &mut self.conversations[i];
        c.updated_at = Self::touch(c.updated_at, now_ms());
    }

    /// The contact's most recent conversation, or a new open one.
    pub fn conversation_for_contact(&mut self, contact_id: &str) -> String {
        if let Some(c) = self
            .conversations
            .iter()
            .filter(|c| c.contact_id == contact_id)
            .max_by_key(|c| c.updated_at)
        {
            return c.id.clone();
        }
        let now = now_ms();
        let id = prefixed_id(&mut self.rng, "conv");
        self.conversations.push(Conversation {
            id: id.clone(),
            contact_id: contact_id.to_string(),
            status: "open".into(),
            assignee_id: None,
            created_at: now,
            updated_at: now,
            lang: "en",
        });
        id
    }
}
