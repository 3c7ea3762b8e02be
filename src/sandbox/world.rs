//! The sandbox's mutable state. Entities serialize straight into the JSON
//! shape of the SDL types (camelCase, `_id`), which the generic GraphQL
//! resolvers then walk.

use std::collections::HashMap;

use chrono::{DateTime, Duration as ChronoDuration, SubsecRound, Utc};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use serde_json::Value;

/// The current time at the millisecond precision dates are served with.
pub(crate) fn now_ms() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

/// `Date` output format: ISO-8601 UTC with milliseconds.
pub(crate) fn fmt_date(d: &DateTime<Utc>) -> String {
    d.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

pub(crate) mod date_fmt {
    use chrono::{DateTime, Utc};
    use serde::Serializer;

    pub fn serialize<S: Serializer>(d: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::fmt_date(d))
    }
}

/// 24-hex MongoDB-style id drawn from the seeded rng.
pub(crate) fn new_id(rng: &mut ChaCha8Rng) -> String {
    let hi: u32 = rng.random();
    let lo: u64 = rng.random();
    format!("{hi:08x}{lo:016x}")
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Tag {
    #[serde(rename = "_id")]
    pub id: String,
    pub name: String,
    pub color: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Platform {
    #[serde(rename = "_id")]
    pub id: String,
    pub name: String,
    pub status: String,
    pub channel_id: String,
    pub channel_type: String,
    pub sender_email_address: Option<String>,
    pub phone_number: Option<String>,
    pub username: Option<String>,
    #[serde(with = "date_fmt")]
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Agent {
    #[serde(rename = "_id")]
    pub id: String,
    pub customer: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub status: String,
    pub first_name: String,
    pub last_name: String,
    pub profile_photo: Option<String>,
    pub email: String,
    pub phone: Option<String>,
    pub language: Option<String>,
}

impl Agent {
    pub fn name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
            .trim()
            .to_string()
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ContactPlatform {
    pub channel_type: String,
    pub platform_id: String,
    pub external_id: String,
    pub username: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Contact {
    #[serde(rename = "_id")]
    pub id: String,
    pub customer: String,
    pub first_name: String,
    pub last_name: Option<String>,
    pub username: Option<String>,
    pub avatar: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub phone_country_code: Option<String>,
    pub country: Option<String>,
    pub gender: Option<String>,
    pub tags: Vec<Tag>,
    #[serde(with = "date_fmt")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "date_fmt")]
    pub updated_at: DateTime<Utc>,
    pub phone_usage_permission: bool,
    pub email_usage_permission: bool,
    pub language: Option<String>,
    pub platforms: Vec<ContactPlatform>,
    pub owner: Option<String>,
}

impl Contact {
    pub fn name(&self) -> String {
        match self.last_name.as_deref() {
            Some(l) if !l.is_empty() => format!("{} {}", self.first_name, l),
            _ => self.first_name.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ChannelOut {
    #[serde(rename = "_id")]
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub channel_id: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LastMessage {
    #[serde(rename = "_id")]
    pub id: String,
    pub content: Option<String>,
    pub message_type: String,
    pub channel_type: String,
    pub sender_type: String,
    pub ack_status: Option<String>,
    #[serde(with = "date_fmt")]
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Conversation {
    #[serde(rename = "_id")]
    pub id: String,
    pub customer: String,
    pub joined_person: String,
    #[serde(rename = "joinedCPerson")]
    pub joined_c_person: Option<String>,
    pub is_starred: bool,
    pub status: String,
    pub is_group_or_channel: bool,
    pub last_message: Option<LastMessage>,
    pub last_received_message_channel: String,
    pub tags: Vec<Tag>,
    pub channels: Vec<ChannelOut>,
    #[serde(rename = "type")]
    pub kind: String,
    pub priority: Option<String>,
    #[serde(with = "date_fmt")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "date_fmt")]
    pub updated_at: DateTime<Utc>,
}

impl Conversation {
    /// A new open one-to-one conversation with `contact_id` on `platform`.
    pub fn direct(
        id: String,
        customer: String,
        contact_id: String,
        platform: &Platform,
        now: DateTime<Utc>,
    ) -> Conversation {
        Conversation {
            id,
            customer,
            joined_person: contact_id,
            joined_c_person: None,
            is_starred: false,
            status: "OPEN".into(),
            is_group_or_channel: false,
            last_message: None,
            last_received_message_channel: platform.id.clone(),
            tags: Vec::new(),
            channels: vec![ChannelOut {
                id: platform.id.clone(),
                name: platform.name.clone(),
                kind: platform.channel_type.clone(),
                channel_id: platform.channel_id.clone(),
            }],
            kind: "DIRECT".into(),
            priority: None,
            created_at: now,
            updated_at: now,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Sender {
    #[serde(rename = "_id")]
    pub id: String,
    pub name: String,
    pub avatar: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MediaItem {
    #[serde(rename = "_id")]
    pub id: String,
    pub url: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub mime_type: Option<String>,
    pub file_name: Option<String>,
    pub size: Option<u64>,
    pub caption: Option<String>,
    pub thumbnail_url: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct FailedReason {
    pub code: String,
    pub message: String,
    pub details: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Quoted {
    #[serde(rename = "_id")]
    pub id: String,
    pub content: Option<String>,
    pub message_type: String,
    pub sender_type: String,
    pub channel_message_id: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EmailData {
    pub from: String,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub bcc: Vec<String>,
    pub reply_to: Option<String>,
    pub message_id: String,
    pub in_reply_to: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Message {
    #[serde(rename = "_id")]
    pub id: String,
    pub sender: Sender,
    pub conversation: String,
    pub message_type: String,
    pub channel_type: String,
    pub sender_type: String,
    pub content: Option<String>,
    pub content_html: Option<String>,
    pub subject: Option<String>,
    pub email_data: Option<EmailData>,
    pub media: Vec<MediaItem>,
    pub channel_message_id: Option<String>,
    pub ack_status: Option<String>,
    #[serde(with = "date_fmt")]
    pub created_at: DateTime<Utc>,
    pub auto_create: bool,
    pub failed_reason: Option<FailedReason>,
    pub quoted_message: Option<Quoted>,
    pub reactions: Option<String>,
    pub front_msg_id: Option<String>,
}

impl Message {
    pub fn preview(&self) -> LastMessage {
        LastMessage {
            id: self.id.clone(),
            content: self.content.clone(),
            message_type: self.message_type.clone(),
            channel_type: self.channel_type.clone(),
            sender_type: self.sender_type.clone(),
            ack_status: self.ack_status.clone(),
            created_at: self.created_at,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Template {
    #[serde(rename = "_id")]
    pub id: String,
    pub name: String,
    pub language: String,
    pub category: String,
    pub status: String,
    pub components: Value,
    pub channel_id: String,
    pub waba_id: String,
    pub meta_template_id: String,
    pub rejected_reason: Option<String>,
    pub quality_score: String,
    #[serde(with = "date_fmt")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "date_fmt")]
    pub updated_at: DateTime<Utc>,
}

/// Simulation-only facts about a conversation (never served).
#[derive(Debug, Clone)]
pub(crate) struct ConvMeta {
    pub lang: &'static str,
}

/// A scheduled acknowledgement change of an agent message (live mode).
#[derive(Debug, Clone)]
pub(crate) struct PendingAck {
    pub message_id: String,
    pub due: DateTime<Utc>,
    pub status: &'static str,
    pub failed: Option<FailedReason>,
}

pub(crate) struct World {
    pub customer: String,
    pub tags: Vec<Tag>,
    pub platforms: Vec<Platform>,
    pub agents: Vec<Agent>,
    pub contacts: Vec<Contact>,
    pub contact_idx: HashMap<String, usize>,
    pub conversations: Vec<Conversation>,
    pub conv_meta: Vec<ConvMeta>,
    pub conv_idx: HashMap<String, usize>,
    /// Per conversation (same index), oldest first.
    pub messages: Vec<Vec<Message>>,
    /// message id -> (conversation index, message index)
    pub msg_idx: HashMap<String, (usize, usize)>,
    /// frontMsgId -> message id, for createMessage idempotency.
    pub front_ids: HashMap<String, String>,
    pub templates: Vec<Template>,
    /// Continues the seeded stream for ids and live content.
    pub rng: ChaCha8Rng,
    pub live: bool,
    pub pending_acks: Vec<PendingAck>,
}

impl World {
    pub fn conversation(&self, id: &str) -> Option<(usize, &Conversation)> {
        let i = *self.conv_idx.get(id)?;
        self.conversations.get(i).map(|c| (i, c))
    }

    pub fn contact(&self, id: &str) -> Option<&Contact> {
        self.contact_idx.get(id).and_then(|&i| self.contacts.get(i))
    }

    pub fn message(&self, id: &str) -> Option<&Message> {
        let &(c, m) = self.msg_idx.get(id)?;
        self.messages.get(c)?.get(m)
    }

    pub fn platform(&self, id: &str) -> Option<&Platform> {
        self.platforms.iter().find(|p| p.id == id)
    }

    pub fn count_front_id(&self, front: &str) -> usize {
        self.messages
            .iter()
            .flatten()
            .filter(|m| m.front_msg_id.as_deref() == Some(front))
            .count()
    }

    pub fn count_front_id_in(&self, conversation_id: &str, front: &str) -> usize {
        let Some(&i) = self.conv_idx.get(conversation_id) else {
            return 0;
        };
        self.messages[i]
            .iter()
            .filter(|m| m.front_msg_id.as_deref() == Some(front))
            .count()
    }

    pub fn count_content(&self, conversation_id: &str, text: &str) -> usize {
        let Some(&i) = self.conv_idx.get(conversation_id) else {
            return 0;
        };
        self.messages[i]
            .iter()
            .filter(|m| m.content.as_deref() == Some(text))
            .count()
    }

    pub fn contents(&self, conversation_id: &str) -> Vec<String> {
        let Some(&i) = self.conv_idx.get(conversation_id) else {
            return Vec::new();
        };
        self.messages[i]
            .iter()
            .map(|m| m.content.clone().unwrap_or_default())
            .collect()
    }

    pub fn conversation_ids_by_update(&self) -> Vec<String> {
        let mut convs: Vec<&Conversation> = self.conversations.iter().collect();
        convs.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then(a.id.cmp(&b.id)));
        convs.into_iter().map(|c| c.id.clone()).collect()
    }

    /// Appends a message, keeping per-thread timestamps strictly increasing,
    /// and refreshes the conversation's preview fields.
    pub fn push_message(&mut self, ci: usize, mut msg: Message) -> String {
        // Served dates have millisecond precision; store exactly what clients see
        // so `before`/`after` round-trips are exact.
        msg.created_at = msg.created_at.trunc_subsecs(3);
        if let Some(last) = self.messages[ci].last()
            && msg.created_at <= last.created_at
        {
            msg.created_at = last.created_at + ChronoDuration::milliseconds(1);
        }
        let id = msg.id.clone();
        let conv = &mut self.conversations[ci];
        conv.last_message = Some(msg.preview());
        conv.updated_at = conv.updated_at.max(msg.created_at);
        if msg.sender_type == "CONTACT"
            && let Some(ch) = conv.channels.first()
        {
            conv.last_received_message_channel = ch.id.clone();
        }
        if let Some(front) = &msg.front_msg_id {
            self.front_ids.insert(front.clone(), id.clone());
        }
        self.msg_idx
            .insert(id.clone(), (ci, self.messages[ci].len()));
        self.messages[ci].push(msg);
        id
    }

    /// A customer message arriving now; reopens closed conversations like a
    /// real inbox does.
    pub fn add_incoming(
        &mut self,
        conversation_id: &str,
        text: &str,
        now: DateTime<Utc>,
    ) -> Option<String> {
        let &ci = self.conv_idx.get(conversation_id)?;
        let conv = &self.conversations[ci];
        let contact = self.contact(&conv.joined_person).cloned();
        let channel_type = conv
            .channels
            .first()
            .map(|c| c.kind.clone())
            .unwrap_or_else(|| "WHATSAPP".into());
        let id = new_id(&mut self.rng);
        let wamid = format!("wamid.{}", new_id(&mut self.rng));
        let is_email = channel_type == "EMAIL";
        let msg = Message {
            id,
            sender: Sender {
                id: contact.as_ref().map(|c| c.id.clone()).unwrap_or_default(),
                name: contact.as_ref().map(|c| c.name()).unwrap_or_default(),
                avatar: contact.as_ref().map(|c| c.avatar.clone()),
                email: contact.as_ref().and_then(|c| c.email.clone()),
                phone: contact.as_ref().and_then(|c| c.phone.clone()),
            },
            conversation: conversation_id.to_string(),
            message_type: if is_email { "EMAIL" } else { "TEXT" }.into(),
            channel_type,
            sender_type: "CONTACT".into(),
            content: Some(text.to_string()),
            content_html: is_email.then(|| format!("<p>{}</p>", html_escape(text))),
            subject: None,
            email_data: None,
            media: Vec::new(),
            channel_message_id: Some(wamid),
            ack_status: None,
            created_at: now,
            auto_create: false,
            failed_reason: None,
            quoted_message: None,
            reactions: None,
            front_msg_id: None,
        };
        let id = self.push_message(ci, msg);
        let conv = &mut self.conversations[ci];
        if conv.status == "RESOLVED" || conv.status == "CLOSED" {
            conv.status = "OPEN".into();
        }
        conv.updated_at = conv.updated_at.max(now);
        Some(id)
    }

    /// Plans SENT -> DELIVERED -> READ (or FAILED) for an agent message.
    pub fn schedule_acks(&mut self, message_id: &str, now: DateTime<Utc>) {
        let Some(&(ci, mi)) = self.msg_idx.get(message_id) else {
            return;
        };
        let msg = &self.messages[ci][mi];
        let window_closed = !self.free_form_allowed(ci, msg, now);
        let d1 = ChronoDuration::milliseconds(self.rng.random_range(800..2500));
        let d2 = d1 + ChronoDuration::milliseconds(self.rng.random_range(1500..6000));
        let id = message_id.to_string();
        if window_closed {
            self.pending_acks.push(PendingAck {
                message_id: id,
                due: now + d1,
                status: "FAILED",
                failed: Some(reason_24h()),
            });
        } else if self.rng.random_range(0..15) == 0 {
            self.pending_acks.push(PendingAck {
                message_id: id,
                due: now + d1,
                status: "FAILED",
                failed: Some(FailedReason {
                    code: "131026".into(),
                    message: "Message undeliverable".into(),
                    details: Some("The recipient's phone could not be reached.".into()),
                }),
            });
        } else {
            self.pending_acks.push(PendingAck {
                message_id: id.clone(),
                due: now + d1,
                status: "DELIVERED",
                failed: None,
            });
            self.pending_acks.push(PendingAck {
                message_id: id,
                due: now + d2,
                status: "READ",
                failed: None,
            });
        }
    }

    /// Applies acknowledgements that are due.
    pub fn apply_due_acks(&mut self, now: DateTime<Utc>) {
        let (due, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut self.pending_acks)
            .into_iter()
            .partition(|a| a.due <= now);
        self.pending_acks = rest;
        for ack in due {
            let Some(&(ci, mi)) = self.msg_idx.get(&ack.message_id) else {
                continue;
            };
            let msg = &mut self.messages[ci][mi];
            if msg.ack_status.as_deref() == Some("FAILED") {
                continue;
            }
            msg.ack_status = Some(ack.status.to_string());
            msg.failed_reason = ack.failed;
            let conv = &mut self.conversations[ci];
            if let Some(last) = conv.last_message.as_mut()
                && last.id == ack.message_id
            {
                last.ack_status = Some(ack.status.to_string());
            }
        }
    }

    /// WhatsApp allows free-form replies for 24 h after the customer's last
    /// message; a customer who never wrote has no window.
    pub fn whatsapp_window_open(&self, ci: usize, now: DateTime<Utc>) -> bool {
        self.messages[ci]
            .iter()
            .rev()
            .find(|m| m.sender_type == "CONTACT")
            .is_some_and(|m| now - m.created_at < ChronoDuration::hours(24))
    }

    /// The one rule for outgoing messages in conversation `ci`: anything
    /// goes on other channels, and on WhatsApp a template goes whenever
    /// (that is what templates are for) while free-form text and media
    /// need the 24-hour window open. A message this refuses is accepted by
    /// the API and then fails delivery with [`reason_24h`], as on WhatsApp.
    pub fn free_form_allowed(&self, ci: usize, msg: &Message, now: DateTime<Utc>) -> bool {
        msg.channel_type != "WHATSAPP"
            || msg.message_type == "TEMPLATE"
            || self.whatsapp_window_open(ci, now)
    }

    /// Moves the whole thread back in time so that the customer's newest
    /// message is 25 hours old: the WhatsApp window is closed. False when
    /// the conversation is unknown.
    pub fn close_whatsapp_window(&mut self, ci: usize, now: DateTime<Utc>) -> bool {
        let Some(thread) = self.messages.get_mut(ci) else {
            return false;
        };
        let Some(newest) = thread
            .iter()
            .rev()
            .find(|m| m.sender_type == "CONTACT")
            .map(|m| m.created_at)
        else {
            return true;
        };
        let shift = newest - (now - ChronoDuration::hours(25));
        if shift <= ChronoDuration::zero() {
            return true;
        }
        for m in thread.iter_mut() {
            m.created_at -= shift;
        }
        let newest_id = thread.last().map(|m| (m.id.clone(), m.created_at));
        if let Some(last) = self.conversations[ci].last_message.as_mut()
            && let Some((id, at)) = newest_id
            && last.id == id
        {
            last.created_at = at;
        }
        true
    }
}

pub(crate) fn reason_24h() -> FailedReason {
    FailedReason {
        code: "131047".into(),
        message:
            "Re-engagement message: more than 24 hours have passed since the customer last replied"
                .into(),
        details: Some("Send a template message to re-open the conversation.".into()),
    }
}

pub(crate) fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
