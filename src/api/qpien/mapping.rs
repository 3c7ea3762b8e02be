//! Wire → domain mapping. Pure functions, no I/O.
//!
//! `graphql_client` generates a separate set of types per operation, even
//! when selections are identical. The `wire_*!` macros copy any of them into
//! one neutral `Wire*` struct (field access is resolved by inference, so one
//! macro serves every operation with the same selection); the `map_*`
//! functions then turn those into domain types. All network text is
//! sanitized here.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::api::ApiError;
use crate::domain::{
    Ack, Agent, AgentId, Channel, ChannelId, ChannelInfo, Contact, ContactId, ContactPlatform,
    Conversation, ConversationId, ConversationStatus, Media, Message, MessageId, MessageKind,
    MessagePreview, Priority, QuotedMessage, SenderKind, Tag, TagId, Template, TemplateButton,
    TemplateId, TemplateStatus,
};
use crate::text::{html_to_text, sanitize, sanitize_line};

/// Width used when rendering HTML bodies to text.
const HTML_WIDTH: usize = 100;

/// Name of a generated enum value as sent on the wire, including the
/// `Other(String)` catch-all that `graphql_client` adds for unknown values.
pub fn enum_name<E: Serialize>(value: &E) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct WireTag {
    pub id: String,
    pub name: String,
    pub color: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct WireChannelRef {
    pub id: Option<String>,
    pub name: Option<String>,
    pub channel_type: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct WireLastMessage {
    pub content: Option<String>,
    pub message_type: Option<String>,
    pub channel_type: Option<String>,
    pub sender_type: Option<String>,
    pub ack_status: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct WireConversation {
    pub id: Option<String>,
    pub status: Option<String>,
    pub is_starred: Option<bool>,
    pub priority: Option<String>,
    pub joined_person: Option<String>,
    pub joined_c_person: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub last_received_message_channel: Option<String>,
    pub last_message: Option<WireLastMessage>,
    pub tags: Vec<WireTag>,
    pub channels: Vec<WireChannelRef>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct WireMedia {
    pub url: Option<String>,
    pub media_type: Option<String>,
    pub mime_type: Option<String>,
    pub file_name: Option<String>,
    pub caption: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct WireQuoted {
    pub id: Option<String>,
    pub content: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct WireMessage {
    pub id: Option<String>,
    pub conversation: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub message_type: Option<String>,
    pub channel_type: Option<String>,
    pub sender_type: Option<String>,
    pub content: Option<String>,
    pub content_html: Option<String>,
    pub subject: Option<String>,
    pub ack_status: Option<String>,
    pub front_msg_id: Option<String>,
    pub sender_name: Option<String>,
    pub media: Vec<WireMedia>,
    pub quoted: Option<WireQuoted>,
    pub failed_code: Option<String>,
    pub failed_message: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct WirePlatform {
    pub channel_type: Option<String>,
    pub external_id: Option<String>,
    pub username: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct WireContact {
    pub id: String,
    pub first_name: String,
    pub last_name: Option<String>,
    pub username: Option<String>,
    pub avatar: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub phone_country_code: Option<String>,
    pub country: Option<String>,
    pub gender: Option<String>,
    pub language: Option<String>,
    pub tags: Vec<WireTag>,
    pub phone_usage_permission: Option<bool>,
    pub email_usage_permission: Option<bool>,
    pub owner: Option<String>,
    pub platforms: Vec<WirePlatform>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct WireAgent {
    pub id: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub agent_type: String,
    pub status: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct WireChannel {
    pub id: String,
    pub name: Option<String>,
    pub status: Option<String>,
    pub channel_type: Option<String>,
    pub sender_email_address: Option<String>,
    pub phone_number: Option<String>,
    pub username: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct WireButton {
    pub button_type: String,
    pub text: Option<String>,
    pub url: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct WireComponent {
    pub component_type: String,
    pub format: Option<String>,
    pub text: Option<String>,
    pub buttons: Vec<WireButton>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct WireTemplate {
    pub id: String,
    pub name: String,
    pub language: String,
    pub category: Option<String>,
    pub status: Option<String>,
    pub channel_id: Option<String>,
    pub components: Vec<WireComponent>,
    pub rejected_reason: Option<String>,
}

// ---------------------------------------------------------------------------
// Generated types → Wire*
// ---------------------------------------------------------------------------

macro_rules! wire_tags {
    ($tags:expr) => {
        $tags
            .into_iter()
            .flatten()
            .flatten()
            .map(|t| $crate::api::qpien::mapping::WireTag {
                id: t.id,
                name: t.name,
                color: t.color,
            })
            .collect()
    };
}
pub(crate) use wire_tags;

/// Any generated conversation object (same selection in every document).
macro_rules! wire_conversation {
    ($conv:expr) => {{
        use $crate::api::qpien::mapping::{
            WireChannelRef, WireConversation, WireLastMessage, enum_name,
        };
        let c = $conv;
        WireConversation {
            id: c.id,
            status: c.status.as_ref().map(enum_name),
            is_starred: c.is_starred,
            priority: c.priority.as_ref().map(enum_name),
            joined_person: c.joined_person,
            joined_c_person: c.joined_c_person,
            created_at: c.created_at.map(|d| d.0),
            updated_at: c.updated_at.map(|d| d.0),
            last_received_message_channel: c.last_received_message_channel,
            last_message: c.last_message.map(|m| WireLastMessage {
                content: m.content,
                message_type: m.message_type.as_ref().map(enum_name),
                channel_type: m.channel_type.as_ref().map(enum_name),
                sender_type: m.sender_type.as_ref().map(enum_name),
                ack_status: m.ack_status.as_ref().map(enum_name),
                created_at: m.created_at.map(|d| d.0),
            }),
            tags: $crate::api::qpien::mapping::wire_tags!(c.tags),
            channels: c
                .channels
                .into_iter()
                .flatten()
                .flatten()
                .map(|ch| WireChannelRef {
                    id: ch.id,
                    name: ch.name,
                    channel_type: ch.type_.as_ref().map(enum_name),
                })
                .collect(),
        }
    }};
}
pub(crate) use wire_conversation;

/// Any generated message object (same selection in every document).
macro_rules! wire_message {
    ($msg:expr) => {{
        use $crate::api::qpien::mapping::{WireMedia, WireMessage, WireQuoted, enum_name};
        let m = $msg;
        let (failed_code, failed_message) = match m.failed_reason {
            Some(f) => (f.code, f.message),
            None => (None, None),
        };
        WireMessage {
            id: m.id,
            conversation: m.conversation,
            created_at: m.created_at.map(|d| d.0),
            message_type: m.message_type.as_ref().map(enum_name),
            channel_type: m.channel_type.as_ref().map(enum_name),
            sender_type: m.sender_type.as_ref().map(enum_name),
            content: m.content,
            content_html: m.content_html,
            subject: m.subject,
            ack_status: m.ack_status.as_ref().map(enum_name),
            front_msg_id: m.front_msg_id,
            sender_name: m.sender.and_then(|s| s.name),
            media: m
                .media
                .into_iter()
                .flatten()
                .flatten()
                .map(|x| WireMedia {
                    url: x.url,
                    media_type: x.type_.as_ref().map(enum_name),
                    mime_type: x.mime_type,
                    file_name: x.file_name,
                    caption: x.caption,
                })
                .collect(),
            quoted: m.quoted_message.map(|q| WireQuoted {
                id: q.id,
                content: q.content,
            }),
            failed_code,
            failed_message,
        }
    }};
}
pub(crate) use wire_message;

/// Any generated contact object (same selection in every document).
macro_rules! wire_contact {
    ($contact:expr) => {{
        use $crate::api::qpien::mapping::{WireContact, WirePlatform, enum_name};
        let c = $contact;
        WireContact {
            id: c.id,
            first_name: c.first_name,
            last_name: c.last_name,
            username: c.username,
            avatar: c.avatar,
            email: c.email,
            phone: c.phone,
            phone_country_code: c.phone_country_code,
            country: c.country,
            gender: c.gender,
            language: c.language,
            tags: $crate::api::qpien::mapping::wire_tags!(c.tags),
            phone_usage_permission: c.phone_usage_permission,
            email_usage_permission: c.email_usage_permission,
            owner: c.owner,
            platforms: c
                .platforms
                .into_iter()
                .flatten()
                .flatten()
                .map(|p| WirePlatform {
                    channel_type: p.channel_type.as_ref().map(enum_name),
                    external_id: p.external_id,
                    username: p.username,
                })
                .collect(),
            created_at: c.created_at.map(|d| d.0),
            updated_at: c.updated_at.map(|d| d.0),
        }
    }};
}
pub(crate) use wire_contact;

macro_rules! wire_agent {
    ($agent:expr) => {{
        use $crate::api::qpien::mapping::{WireAgent, enum_name};
        let a = $agent;
        WireAgent {
            id: a.id,
            first_name: a.first_name,
            last_name: a.last_name,
            email: a.email,
            agent_type: enum_name(&a.type_),
            status: enum_name(&a.status),
        }
    }};
}
pub(crate) use wire_agent;

macro_rules! wire_channel {
    ($channel:expr) => {{
        use $crate::api::qpien::mapping::{WireChannel, enum_name};
        let c = $channel;
        WireChannel {
            id: c.id,
            name: c.name,
            status: c.status.as_ref().map(enum_name),
            channel_type: c.channel_type.as_ref().map(enum_name),
            sender_email_address: c.sender_email_address,
            phone_number: c.phone_number,
            username: c.username,
        }
    }};
}
pub(crate) use wire_channel;

macro_rules! wire_template {
    ($template:expr) => {{
        use $crate::api::qpien::mapping::{WireButton, WireComponent, WireTemplate, enum_name};
        let t = $template;
        WireTemplate {
            id: t.id,
            name: t.name,
            language: t.language,
            category: t.category.as_ref().map(enum_name),
            status: t.status.as_ref().map(enum_name),
            channel_id: t.channel_id,
            rejected_reason: t.rejected_reason,
            components: t
                .components
                .into_iter()
                .flatten()
                .map(|c| WireComponent {
                    component_type: enum_name(&c.type_),
                    format: c.format.as_ref().map(enum_name),
                    text: c.text,
                    buttons: c
                        .buttons
                        .into_iter()
                        .flatten()
                        .map(|b| WireButton {
                            button_type: enum_name(&b.type_),
                            text: b.text,
                            url: b.url,
                        })
                        .collect(),
                })
                .collect(),
        }
    }};
}
pub(crate) use wire_template;

// ---------------------------------------------------------------------------
// Enums
// ---------------------------------------------------------------------------

/// `TRENDYOL` → `Trendyol`, `SOME_THING` → `Some thing`, sanitized.
fn pretty_label(raw: &str) -> String {
    let clean = sanitize_line(raw).replace('_', " ");
    let mut chars = clean.trim().chars();
    match chars.next() {
        Some(first) => first
            .to_uppercase()
            .chain(chars.flat_map(char::to_lowercase))
            .collect(),
        None => "Unknown".to_string(),
    }
}

pub fn channel_from_wire(raw: &str) -> Channel {
    match raw {
        "WHATSAPP" => Channel::WhatsApp,
        "INSTAGRAM" => Channel::Instagram,
        "FACEBOOK" => Channel::Messenger,
        "EMAIL" => Channel::Email,
        "LIVECHAT" => Channel::LiveChat,
        "TELEGRAM" => Channel::Telegram,
        "SMS" => Channel::Sms,
        other => Channel::Other(pretty_label(other)),
    }
}

pub fn status_from_wire(raw: &str) -> ConversationStatus {
    match raw {
        "OPEN" => ConversationStatus::Open,
        "PENDING" => ConversationStatus::Pending,
        "RESOLVED" => ConversationStatus::Resolved,
        "CLOSED" => ConversationStatus::Closed,
        other => ConversationStatus::Unknown(sanitize_line(other)),
    }
}

/// Domain status → wire name; `Unknown` round-trips its original name.
pub fn status_to_wire(status: &ConversationStatus) -> String {
    match status {
        ConversationStatus::Open => "OPEN".into(),
        ConversationStatus::Pending => "PENDING".into(),
        ConversationStatus::Resolved => "RESOLVED".into(),
        ConversationStatus::Closed => "CLOSED".into(),
        ConversationStatus::Unknown(s) => s.clone(),
    }
}

pub fn priority_from_wire(raw: &str) -> Priority {
    match raw {
        "LOW" => Priority::Low,
        "MEDIUM" => Priority::Medium,
        "HIGH" => Priority::High,
        "URGENT" => Priority::Urgent,
        other => Priority::Unknown(sanitize_line(other)),
    }
}

pub fn priority_to_wire(priority: &Priority) -> String {
    match priority {
        Priority::Low => "LOW".into(),
        Priority::Medium => "MEDIUM".into(),
        Priority::High => "HIGH".into(),
        Priority::Urgent => "URGENT".into(),
        Priority::Unknown(s) => s.clone(),
    }
}

pub fn sender_from_wire(raw: Option<&str>) -> SenderKind {
    match raw {
        Some("CONTACT") => SenderKind::Contact,
        Some("AGENT") => SenderKind::Agent,
        Some("BOT") => SenderKind::Bot,
        Some("SYSTEM") => SenderKind::System,
        _ => SenderKind::Unknown,
    }
}

pub fn ack_from_wire(raw: Option<&str>) -> Ack {
    match raw {
        Some("PENDING") => Ack::Pending,
        Some("SENT") => Ack::Sent,
        Some("DELIVERED") => Ack::Delivered,
        Some("READ") => Ack::Read,
        Some("FAILED") => Ack::Failed,
        _ => Ack::Unknown,
    }
}

pub fn kind_from_wire(raw: Option<&str>) -> MessageKind {
    match raw {
        None | Some("TEXT") => MessageKind::Text,
        Some("IMAGE") => MessageKind::Image,
        Some("VIDEO") => MessageKind::Video,
        Some("AUDIO") => MessageKind::Audio,
        Some("FILE") => MessageKind::File,
        Some("STICKER") => MessageKind::Sticker,
        Some("LOCATION") => MessageKind::Location,
        Some("EMAIL") => MessageKind::Email,
        Some("TEMPLATE") => MessageKind::Template,
        Some("NOTE") => MessageKind::Note,
        Some("SYSTEM") => MessageKind::System,
        Some(other) => MessageKind::Other(sanitize_line(other).to_lowercase()),
    }
}

pub fn template_status_from_wire(raw: Option<&str>) -> TemplateStatus {
    match raw {
        Some("APPROVED") => TemplateStatus::Approved,
        Some("PENDING") => TemplateStatus::Pending,
        Some("REJECTED") => TemplateStatus::Rejected,
        Some("PAUSED") => TemplateStatus::Paused,
        Some("DISABLED") => TemplateStatus::Disabled,
        Some(other) => TemplateStatus::Other(sanitize_line(other)),
        None => TemplateStatus::Other("unknown".into()),
    }
}

// ---------------------------------------------------------------------------
// Entities
// ---------------------------------------------------------------------------

/// A sanitized one-line value, `None` when empty.
fn line(value: Option<&str>) -> Option<String> {
    value.map(sanitize_line).filter(|s| !s.trim().is_empty())
}

/// Ids travel back to the server as sent, so they are never cleaned; one
/// holding anything the sanitizer would strip is no id at all.
fn non_empty_id(value: Option<String>) -> Option<String> {
    value.filter(|s| !s.trim().is_empty() && sanitize_line(s) == *s)
}

fn map_tags(tags: Vec<WireTag>) -> Vec<Tag> {
    tags.into_iter()
        .map(|t| Tag {
            id: TagId(t.id),
            name: sanitize_line(&t.name),
            color: line(t.color.as_deref()),
        })
        .collect()
}

fn missing(field: &str, what: &str) -> ApiError {
    ApiError::Decode(format!("missing field `{field}` in {what}"))
}

/// A label for non-text messages that have no text, e.g. `[image]`.
fn placeholder_text(kind: &MessageKind) -> String {
    let name = match kind {
        MessageKind::Text => return String::new(),
        MessageKind::Image => "image",
        MessageKind::Video => "video",
        MessageKind::Audio => "audio",
        MessageKind::File => "file",
        MessageKind::Sticker => "sticker",
        MessageKind::Location => "location",
        MessageKind::Email => "e-mail",
        MessageKind::Template => "template",
        MessageKind::Note => "note",
        MessageKind::System => "system",
        MessageKind::Other(other) => other,
    };
    format!("[{name}]")
}

/// The conversation with `contact_name` left empty: the store labels it
/// from its contact directory (see [`Contact::label`]). Nothing else on the
/// wire names the customer: `channels[].channelId` is the business's own
/// channel id, shared by every conversation on that channel.
pub fn map_conversation(w: WireConversation) -> Result<Conversation, ApiError> {
    let id = non_empty_id(w.id).ok_or_else(|| missing("_id", "conversation"))?;
    let what = || format!("conversation {}", sanitize_line(&id));

    let last_message = w.last_message.as_ref().and_then(|m| {
        // A preview without a time cannot be ordered; drop it rather than fail.
        let created_at = m.created_at?;
        let kind = kind_from_wire(m.message_type.as_deref());
        let text = line(m.content.as_deref()).unwrap_or_else(|| placeholder_text(&kind));
        Some(MessagePreview {
            text,
            sender: sender_from_wire(m.sender_type.as_deref()),
            kind,
            ack: ack_from_wire(m.ack_status.as_deref()),
            created_at,
        })
    });

    let updated_at = w
        .updated_at
        .or_else(|| w.last_message.as_ref().and_then(|m| m.created_at))
        .or(w.created_at)
        .ok_or_else(|| missing("updatedAt", &what()))?;

    let channel = w
        .channels
        .iter()
        .find_map(|c| c.channel_type.as_deref())
        .or_else(|| {
            w.last_message
                .as_ref()
                .and_then(|m| m.channel_type.as_deref())
        })
        .map(channel_from_wire)
        .unwrap_or_else(|| Channel::Other("Unknown".into()));

    let reply_channel_id = non_empty_id(w.last_received_message_channel)
        .or_else(|| w.channels.iter().find_map(|c| non_empty_id(c.id.clone())))
        .map(ChannelId);

    Ok(Conversation {
        id: ConversationId(id),
        contact_id: non_empty_id(w.joined_person).map(ContactId),
        contact_name: String::new(),
        channel,
        reply_channel_id,
        status: w
            .status
            .as_deref()
            .map(status_from_wire)
            .unwrap_or_else(|| ConversationStatus::Unknown("unknown".into())),
        assignee: non_empty_id(w.joined_c_person).map(AgentId),
        starred: w.is_starred.unwrap_or(false),
        priority: w.priority.as_deref().map(priority_from_wire),
        tags: map_tags(w.tags),
        last_message,
        created_at: w.created_at,
        updated_at,
        unread: None,
    })
}

/// `fallback_conversation` is used when the message does not name its
/// conversation (the caller usually knows it).
pub fn map_message(
    w: WireMessage,
    fallback_conversation: Option<&str>,
) -> Result<Message, ApiError> {
    let id = non_empty_id(w.id).ok_or_else(|| missing("_id", "message"))?;
    let what = || format!("message {}", sanitize_line(&id));
    let conversation = non_empty_id(w.conversation)
        .or_else(|| fallback_conversation.map(str::to_string))
        .ok_or_else(|| missing("conversation", &what()))?;
    let created_at = w.created_at.ok_or_else(|| missing("createdAt", &what()))?;

    let kind = kind_from_wire(w.message_type.as_deref());
    let text = match (w.content.as_deref(), w.content_html.as_deref()) {
        (Some(content), _) if !content.trim().is_empty() => sanitize(content),
        (_, Some(html)) if !html.trim().is_empty() => html_to_text(html, HTML_WIDTH),
        _ => String::new(),
    };

    let failed_reason = match (
        line(w.failed_code.as_deref()),
        line(w.failed_message.as_deref()),
    ) {
        (Some(code), Some(message)) => Some(format!("{code}: {message}")),
        (Some(one), None) | (None, Some(one)) => Some(one),
        (None, None) => None,
    };

    let media = w
        .media
        .into_iter()
        .map(|m| Media {
            kind: m
                .media_type
                .as_deref()
                .map(|t| sanitize_line(t).to_lowercase())
                .unwrap_or_else(|| "file".into()),
            url: line(m.url.as_deref()),
            file_name: line(m.file_name.as_deref()),
            mime_type: line(m.mime_type.as_deref()),
            caption: m.caption.as_deref().map(sanitize).filter(|s| !s.is_empty()),
        })
        .collect();

    Ok(Message {
        id: MessageId(id),
        conversation_id: ConversationId(conversation),
        client_id: non_empty_id(w.front_msg_id),
        sender: sender_from_wire(w.sender_type.as_deref()),
        sender_name: line(w.sender_name.as_deref()),
        kind,
        channel: w.channel_type.as_deref().map(channel_from_wire),
        text,
        subject: line(w.subject.as_deref()),
        media,
        quoted: w.quoted.map(|q| QuotedMessage {
            id: non_empty_id(q.id).map(MessageId),
            text: q.content.as_deref().map(sanitize).unwrap_or_default(),
        }),
        ack: ack_from_wire(w.ack_status.as_deref()),
        failed_reason,
        created_at,
    })
}

pub fn map_contact(w: WireContact) -> Contact {
    Contact {
        id: ContactId(w.id),
        first_name: sanitize_line(&w.first_name),
        last_name: line(w.last_name.as_deref()),
        username: line(w.username.as_deref()),
        avatar: line(Some(&w.avatar)),
        email: line(w.email.as_deref()),
        phone: line(w.phone.as_deref()),
        phone_country_code: line(w.phone_country_code.as_deref()),
        country: line(w.country.as_deref()),
        gender: line(w.gender.as_deref()),
        language: line(w.language.as_deref()),
        tags: map_tags(w.tags),
        phone_usage_permission: w.phone_usage_permission,
        email_usage_permission: w.email_usage_permission,
        owner: line(w.owner.as_deref()),
        platforms: w
            .platforms
            .into_iter()
            .map(|p| ContactPlatform {
                channel: p
                    .channel_type
                    .as_deref()
                    .map(channel_from_wire)
                    .unwrap_or_else(|| Channel::Other("Unknown".into())),
                external_id: line(p.external_id.as_deref()),
                username: line(p.username.as_deref()),
            })
            .collect(),
        created_at: w.created_at,
        updated_at: w.updated_at,
    }
}

pub fn map_agent(w: WireAgent) -> Agent {
    Agent {
        id: AgentId(w.id),
        first_name: sanitize_line(&w.first_name),
        last_name: sanitize_line(&w.last_name),
        email: sanitize_line(&w.email),
        is_bot: w.agent_type == "ROBOT",
        active: w.status == "ACTIVE",
        role: sanitize_line(&w.agent_type),
    }
}

pub fn map_channel(w: WireChannel) -> ChannelInfo {
    let channel = w
        .channel_type
        .as_deref()
        .map(channel_from_wire)
        .unwrap_or_else(|| Channel::Other("Unknown".into()));
    let address = line(w.phone_number.as_deref())
        .or_else(|| line(w.sender_email_address.as_deref()))
        .or_else(|| line(w.username.as_deref()));
    ChannelInfo {
        id: ChannelId(w.id),
        name: line(w.name.as_deref()).unwrap_or_else(|| channel.label().to_string()),
        channel,
        // A platform without a reported status is listed, so assume it works.
        connected: matches!(w.status.as_deref(), None | Some("ACTIVE")),
        address,
    }
}

pub fn map_template(w: WireTemplate) -> Template {
    let text_of = |kind: &str| {
        w.components
            .iter()
            .find(|c| c.component_type == kind)
            .and_then(|c| c.text.as_deref())
    };
    let header = line(text_of("HEADER"));
    let header_format = w
        .components
        .iter()
        .find(|c| c.component_type == "HEADER")
        .and_then(|c| line(c.format.as_deref()));
    let body = text_of("BODY").map(sanitize).unwrap_or_default();
    let footer = line(text_of("FOOTER"));
    let buttons = w
        .components
        .iter()
        .filter(|c| c.component_type == "BUTTONS")
        .flat_map(|c| c.buttons.iter())
        .map(|b| TemplateButton {
            kind: sanitize_line(&b.button_type),
            text: b.text.as_deref().map(sanitize_line).unwrap_or_default(),
            url: line(b.url.as_deref()),
        })
        .collect();
    Template {
        id: TemplateId(w.id),
        name: sanitize_line(&w.name),
        language: sanitize_line(&w.language),
        category: line(w.category.as_deref()),
        status: template_status_from_wire(w.status.as_deref()),
        channel_id: non_empty_id(w.channel_id).map(ChannelId),
        header,
        header_format,
        body,
        footer,
        buttons,
        rejected_reason: line(w.rejected_reason.as_deref()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::api::qpien::operations::{
        agents, channels, contact, conversation, message, templates,
    };

    fn ts(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    /// Decodes `doc` as the generated type of a real operation, then copies
    /// it into the wire struct: the same path responses take.
    fn wire_conv(doc: Value) -> WireConversation {
        let data: conversation::ResponseData =
            serde_json::from_value(json!({"getConversation": {"success": true, "data": doc}}))
                .unwrap();
        wire_conversation!(data.get_conversation.data.unwrap())
    }

    fn wire_msg(doc: Value) -> WireMessage {
        let data: message::ResponseData =
            serde_json::from_value(json!({"getMessage": {"success": true, "data": doc}})).unwrap();
        wire_message!(data.get_message.data.unwrap())
    }

    fn wire_cont(doc: Value) -> WireContact {
        let data: contact::ResponseData =
            serde_json::from_value(json!({"getContact": {"success": true, "data": doc}})).unwrap();
        wire_contact!(data.get_contact.data.unwrap())
    }

    fn full_conversation() -> Value {
        json!({
            "_id": "c1",
            "status": "PENDING",
            "isStarred": true,
            "priority": "HIGH",
            "type": "DIRECT",
            "joinedPerson": "p1",
            "joinedCPerson": "a1",
            "createdAt": "2025-10-01T08:00:00.000Z",
            "updatedAt": "2025-10-02T09:15:00.000Z",
            "lastReceivedMessageChannel": "ch1",
            "lastMessage": {"_id": "m9", "content": "Is my order\non the way?", "messageType": "TEXT",
                            "channelType": "WHATSAPP", "senderType": "CONTACT", "ackStatus": "READ",
                            "createdAt": 1759396499000_i64},
            "tags": [{"_id": "t1", "name": "vip", "color": "#FF8800"}, null],
            "channels": [{"_id": "ch1", "name": "Shop WA", "type": "INSTAGRAM", "channelId": "x"}]
        })
    }

    #[test]
    fn conversation_full() {
        let c = map_conversation(wire_conv(full_conversation())).unwrap();
        assert_eq!(c.id.as_str(), "c1");
        assert_eq!(c.contact_id, Some(ContactId::from("p1")));
        assert_eq!(c.contact_name, "");
        assert_eq!(c.channel, Channel::Instagram);
        assert_eq!(c.reply_channel_id, Some(ChannelId::from("ch1")));
        assert_eq!(c.status, ConversationStatus::Pending);
        assert_eq!(c.assignee, Some(AgentId::from("a1")));
        assert!(c.starred);
        assert_eq!(c.priority, Some(Priority::High));
        assert_eq!(c.tags.len(), 1);
        assert_eq!(c.tags[0].name, "vip");
        assert_eq!(c.tags[0].color.as_deref(), Some("#FF8800"));
        let last = c.last_message.unwrap();
        assert_eq!(last.text, "Is my order on the way?");
        assert_eq!(last.sender, SenderKind::Contact);
        assert_eq!(last.ack, Ack::Read);
        assert_eq!(last.created_at.timestamp_millis(), 1_759_396_499_000);
        assert_eq!(c.created_at, Some(ts("2025-10-01T08:00:00Z")));
        assert_eq!(c.updated_at, ts("2025-10-02T09:15:00Z"));
    }

    #[test]
    fn conversation_nulls_everywhere() {
        let c = map_conversation(wire_conv(json!({
            "_id": "c2", "status": null, "isStarred": null, "priority": null, "type": null,
            "joinedPerson": null, "joinedCPerson": null, "createdAt": null,
            "updatedAt": "2025-10-02T09:15:00Z", "lastReceivedMessageChannel": null,
            "lastMessage": null, "tags": null, "channels": null
        })))
        .unwrap();
        assert_eq!(c.contact_id, None);
        assert_eq!(c.assignee, None);
        assert!(!c.starred);
        assert_eq!(c.priority, None);
        assert!(c.tags.is_empty());
        assert_eq!(c.last_message, None);
        assert_eq!(c.reply_channel_id, None);
        assert_eq!(c.channel, Channel::Other("Unknown".into()));
        assert!(matches!(c.status, ConversationStatus::Unknown(_)));
    }

    #[test]
    fn conversation_unknown_enums() {
        let c = map_conversation(wire_conv(json!({
            "_id": "c3", "status": "SNOOZED", "priority": "CRITICAL",
            "updatedAt": "2025-10-02T09:15:00Z",
            "channels": [{"type": "TRENDYOL"}],
            "lastMessage": {"messageType": "HOLOGRAM", "senderType": "ALIEN", "ackStatus": "BOUNCED",
                            "createdAt": "2025-10-02T09:15:00Z"}
        })))
        .unwrap();
        assert_eq!(c.status, ConversationStatus::Unknown("SNOOZED".into()));
        assert_eq!(c.priority, Some(Priority::Unknown("CRITICAL".into())));
        assert_eq!(c.channel, Channel::Other("Trendyol".into()));
        let last = c.last_message.unwrap();
        assert_eq!(last.kind, MessageKind::Other("hologram".into()));
        assert_eq!(last.sender, SenderKind::Unknown);
        assert_eq!(last.ack, Ack::Unknown);
        assert_eq!(last.text, "[hologram]");
    }

    #[test]
    fn conversation_channel_and_time_fallbacks() {
        let c = map_conversation(wire_conv(json!({
            "_id": "c4",
            "lastMessage": {"channelType": "FACEBOOK", "createdAt": "2025-10-03T00:00:00Z"},
            "createdAt": "2025-10-01T00:00:00Z"
        })))
        .unwrap();
        assert_eq!(c.channel, Channel::Messenger);
        assert_eq!(c.updated_at, ts("2025-10-03T00:00:00Z"));

        let c = map_conversation(wire_conv(
            json!({"_id": "c5", "createdAt": "2025-10-01T00:00:00Z"}),
        ))
        .unwrap();
        assert_eq!(c.updated_at, ts("2025-10-01T00:00:00Z"));
    }

    #[test]
    fn conversation_missing_id_or_time_is_an_error() {
        let err =
            map_conversation(wire_conv(json!({"updatedAt": "2025-10-01T00:00:00Z"}))).unwrap_err();
        assert!(
            matches!(&err, ApiError::Decode(m) if m.contains("`_id`")),
            "{err:?}"
        );
        let err = map_conversation(wire_conv(json!({"_id": "c6"}))).unwrap_err();
        assert!(
            matches!(&err, ApiError::Decode(m) if m.contains("`updatedAt`")),
            "{err:?}"
        );
    }

    #[test]
    fn channel_names() {
        for (raw, ch) in [
            ("WHATSAPP", Channel::WhatsApp),
            ("INSTAGRAM", Channel::Instagram),
            ("FACEBOOK", Channel::Messenger),
            ("EMAIL", Channel::Email),
            ("LIVECHAT", Channel::LiveChat),
            ("TELEGRAM", Channel::Telegram),
            ("SMS", Channel::Sms),
            ("API", Channel::Other("Api".into())),
            ("", Channel::Other("Unknown".into())),
        ] {
            assert_eq!(channel_from_wire(raw), ch);
        }
    }

    #[test]
    fn message_full() {
        let m = map_message(
            wire_msg(json!({
                "_id": "m1", "conversation": "c1", "createdAt": "2025-10-02T09:14:59.000Z",
                "messageType": "IMAGE", "channelType": "WHATSAPP", "senderType": "AGENT",
                "content": "line one\nline two", "contentHtml": "<b>ignored</b>", "subject": "Re: order",
                "ackStatus": "FAILED", "frontMsgId": "f-1", "channelMessageId": "wamid.1",
                "sender": {"_id": "a1", "name": "Deniz"},
                "media": [{"url": "https://x/y.jpg", "type": "IMAGE", "mimeType": "image/jpeg",
                           "fileName": "y.jpg", "caption": "look"}, null],
                "quotedMessage": {"_id": "m0", "content": "earlier"},
                "failedReason": {"code": "131047", "message": "Re-engagement message"}
            })),
            None,
        )
        .unwrap();
        assert_eq!(m.id.as_str(), "m1");
        assert_eq!(m.conversation_id.as_str(), "c1");
        assert_eq!(m.client_id.as_deref(), Some("f-1"));
        assert_eq!(m.sender, SenderKind::Agent);
        assert_eq!(m.sender_name.as_deref(), Some("Deniz"));
        assert_eq!(m.kind, MessageKind::Image);
        assert_eq!(m.channel, Some(Channel::WhatsApp));
        assert_eq!(m.text, "line one\nline two");
        assert_eq!(m.subject.as_deref(), Some("Re: order"));
        assert_eq!(
            m.media,
            vec![Media {
                kind: "image".into(),
                url: Some("https://x/y.jpg".into()),
                file_name: Some("y.jpg".into()),
                mime_type: Some("image/jpeg".into()),
                caption: Some("look".into()),
            }]
        );
        assert_eq!(
            m.quoted,
            Some(QuotedMessage {
                id: Some(MessageId::from("m0")),
                text: "earlier".into()
            })
        );
        assert_eq!(m.ack, Ack::Failed);
        assert_eq!(
            m.failed_reason.as_deref(),
            Some("131047: Re-engagement message")
        );
    }

    #[test]
    fn message_nulls_and_fallback_conversation() {
        let m = map_message(
            wire_msg(json!({
                "_id": "m2", "conversation": null, "createdAt": 1759396499000_i64,
                "messageType": null, "channelType": null, "senderType": null, "content": null,
                "contentHtml": null, "subject": null, "ackStatus": null, "frontMsgId": null,
                "sender": null, "media": null, "quotedMessage": null, "failedReason": null
            })),
            Some("c9"),
        )
        .unwrap();
        assert_eq!(m.conversation_id.as_str(), "c9");
        assert_eq!(m.kind, MessageKind::Text);
        assert_eq!(m.text, "");
        assert_eq!(m.ack, Ack::Unknown);
        assert_eq!(m.sender, SenderKind::Unknown);
        assert!(m.media.is_empty() && m.quoted.is_none() && m.failed_reason.is_none());

        let err = map_message(wire_msg(json!({"_id": "m3", "createdAt": 1})), None).unwrap_err();
        assert!(matches!(&err, ApiError::Decode(m) if m.contains("`conversation`")));
        let err =
            map_message(wire_msg(json!({"conversation": "c", "createdAt": 1})), None).unwrap_err();
        assert!(matches!(&err, ApiError::Decode(m) if m.contains("`_id`")));
        let err =
            map_message(wire_msg(json!({"_id": "m4", "conversation": "c"})), None).unwrap_err();
        assert!(matches!(&err, ApiError::Decode(m) if m.contains("`createdAt`")));
    }

    #[test]
    fn message_html_body_becomes_text() {
        let m = map_message(
            wire_msg(json!({
                "_id": "m5", "conversation": "c1", "createdAt": 1,
                "messageType": "EMAIL", "contentHtml": "<p>Hello <b>there</b></p><p>Second\u{1b}[2J para</p>"
            })),
            None,
        )
        .unwrap();
        assert!(m.text.contains("Hello"), "{}", m.text);
        assert!(m.text.contains("Second"), "{}", m.text);
        assert!(
            !m.text.contains('<') && !m.text.contains('\u{1b}'),
            "{}",
            m.text
        );
    }

    #[test]
    fn hostile_text_is_stripped() {
        let evil = "hi\u{1b}[31m red\u{1b}]0;owned\u{7}\u{9b}2J end\r\nnext";
        let m = map_message(
            wire_msg(json!({
                "_id": "m6", "conversation": "c1", "createdAt": 1, "content": evil,
                "subject": evil, "sender": {"name": evil},
                "failedReason": {"code": "\u{1b}[1mX", "message": evil}
            })),
            None,
        )
        .unwrap();
        for s in [
            m.text.as_str(),
            m.subject.as_deref().unwrap(),
            m.sender_name.as_deref().unwrap(),
            m.failed_reason.as_deref().unwrap(),
        ] {
            assert!(
                !s.contains('\u{1b}') && !s.contains('\u{9b}') && !s.contains('\u{7}'),
                "{s:?}"
            );
            assert!(!s.contains("owned"), "{s:?}");
        }
        assert!(m.text.contains('\n'));
        assert!(!m.subject.unwrap().contains('\n'));

        let mut doc = full_conversation();
        doc["tags"] = json!([{"_id": "t", "name": evil}]);
        doc["lastMessage"]["content"] = json!(evil);
        let c = map_conversation(wire_conv(doc)).unwrap();
        assert!(!c.tags[0].name.contains('\u{1b}') && !c.tags[0].name.contains('\n'));
        let text = c.last_message.unwrap().text;
        assert!(!text.contains('\u{1b}') && !text.contains('\n'), "{text:?}");
    }

    #[test]
    fn contact_mapping_and_label() {
        let c = map_contact(wire_cont(json!({
            "_id": "p1", "customer": "acc", "firstName": "Deniz\u{1b}[5m", "lastName": "Yılmaz",
            "avatar": "", "phone": "+905321234567", "email": null, "tags": null,
            "platforms": [{"channelType": "WHATSAPP", "externalId": "905321234567"}, null],
            "createdAt": "2025-01-01T00:00:00Z", "unknownField": 1
        })));
        assert_eq!(c.first_name, "Deniz");
        assert_eq!(c.avatar, None);
        assert_eq!(c.platforms.len(), 1);
        assert_eq!(c.platforms[0].channel, Channel::WhatsApp);
        assert_eq!(c.label(), "Deniz Yılmaz");

        let phone_only = map_contact(wire_cont(json!({
            "_id": "p2", "customer": "acc", "firstName": " ", "avatar": "", "phone": "+90532"
        })));
        assert_eq!(phone_only.label(), "+90532");
        let nothing = map_contact(wire_cont(json!({
            "_id": "p3", "customer": "acc", "firstName": "", "avatar": ""
        })));
        assert_eq!(nothing.label(), "Unknown contact");
    }

    #[test]
    fn agents_channels_templates() {
        let data: agents::ResponseData = serde_json::from_value(json!({"getCustomerPersonList": {
            "success": true, "data": {"totalDocs": 2, "hasNextPage": false, "docs": [
                {"_id": "a1", "firstName": "Ada", "lastName": "L", "email": "a@x", "type": "ADMIN", "status": "ACTIVE"},
                {"_id": "a2", "firstName": "Bot", "lastName": "", "email": "b@x", "type": "ROBOT", "status": "WEIRD"}
            ]}}}))
        .unwrap();
        let list: Vec<Agent> = data
            .get_customer_person_list
            .data
            .unwrap()
            .docs
            .into_iter()
            .map(|a| map_agent(wire_agent!(a)))
            .collect();
        assert!(list[0].active && !list[0].is_bot && list[0].role == "ADMIN");
        assert!(!list[1].active && list[1].is_bot);
        assert_eq!(list[1].display_name(), "Bot");

        let data: channels::ResponseData = serde_json::from_value(json!({"getAllConnectedPlatformList": {
            "success": true, "data": [
                {"_id": "ch1", "name": "Shop", "status": "ACTIVE", "channelType": "WHATSAPP", "phoneNumber": "+1"},
                {"_id": "ch2", "name": null, "status": "DISCONNECTED", "channelType": "EMAIL",
                 "senderEmailAddress": "help@x"},
                {"_id": "ch3", "channelType": "PIGEON"}
            ]}}))
        .unwrap();
        let list: Vec<ChannelInfo> = data
            .get_all_connected_platform_list
            .data
            .unwrap()
            .into_iter()
            .map(|c| map_channel(wire_channel!(c)))
            .collect();
        assert_eq!(list[0].address.as_deref(), Some("+1"));
        assert!(list[0].connected);
        assert_eq!(list[1].name, "Email");
        assert!(!list[1].connected);
        assert_eq!(list[1].address.as_deref(), Some("help@x"));
        assert_eq!(list[2].channel, Channel::Other("Pigeon".into()));

        let data: templates::ResponseData =
            serde_json::from_value(json!({"getWhatsappBusinessTemplateList": {
            "success": true, "data": {"totalDocs": 1, "hasNextPage": false, "docs": [{
                "_id": "t1", "name": "order_shipped", "language": "en", "category": "UTILITY",
                "status": "APPROVED", "channelId": "ch1",
                "components": [
                    {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}"},
                    {"type": "BODY", "text": "Hi {{1}},\nyour order {{2}} left."},
                    {"type": "FOOTER", "text": "Reply STOP"},
                    {"type": "BUTTONS", "buttons": [
                        {"type": "URL", "text": "Track", "url": "https://shop/t/{{1}}"},
                        {"type": "QUICK_REPLY", "text": "Talk to us"}]}
                ]}]}}}))
            .unwrap();
        let t = data
            .get_whatsapp_business_template_list
            .data
            .unwrap()
            .docs
            .into_iter()
            .map(|t| map_template(wire_template!(t)))
            .next()
            .unwrap();
        assert_eq!(t.status, TemplateStatus::Approved);
        assert_eq!(t.header.as_deref(), Some("Order {{1}}"));
        assert_eq!(t.body, "Hi {{1}},\nyour order {{2}} left.");
        assert_eq!(t.footer.as_deref(), Some("Reply STOP"));
        assert_eq!(t.buttons.len(), 2);
        assert_eq!(t.buttons[0].kind, "URL");
        assert_eq!(t.buttons[0].url.as_deref(), Some("https://shop/t/{{1}}"));
        assert_eq!(t.channel_id, Some(ChannelId::from("ch1")));
        assert_eq!(
            template_status_from_wire(Some("IN_APPEAL")),
            TemplateStatus::Other("IN_APPEAL".into())
        );
    }

    #[test]
    fn domain_enums_round_trip_to_wire() {
        for s in [
            ConversationStatus::Open,
            ConversationStatus::Pending,
            ConversationStatus::Resolved,
            ConversationStatus::Closed,
        ] {
            assert_eq!(status_from_wire(&status_to_wire(&s)), s);
        }
        for p in [
            Priority::Low,
            Priority::Medium,
            Priority::High,
            Priority::Urgent,
        ] {
            assert_eq!(priority_from_wire(&priority_to_wire(&p)), p);
        }
    }
}
