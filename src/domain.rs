//! Provider-neutral types. Every provider maps its wire format into these at
//! its edge; text fields here have already been sanitized (see `text.rs`).

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_string())
            }
        }
    };
}

id_type!(
    /// Opaque conversation id as the provider issued it.
    ConversationId
);
id_type!(MessageId);
id_type!(ContactId);
id_type!(AgentId);
id_type!(ChannelId);
id_type!(TemplateId);
id_type!(TagId);

/// The messaging network a conversation or message travels on.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Channel {
    WhatsApp,
    Instagram,
    Messenger,
    Email,
    LiveChat,
    Telegram,
    Sms,
    Other(String),
}

impl Channel {
    pub fn label(&self) -> &str {
        match self {
            Channel::WhatsApp => "WhatsApp",
            Channel::Instagram => "Instagram",
            Channel::Messenger => "Messenger",
            Channel::Email => "Email",
            Channel::LiveChat => "Live chat",
            Channel::Telegram => "Telegram",
            Channel::Sms => "SMS",
            Channel::Other(name) => name,
        }
    }

    /// A fixed-width tag for dense list rows.
    pub fn short(&self) -> &'static str {
        match self {
            Channel::WhatsApp => "WA",
            Channel::Instagram => "IG",
            Channel::Messenger => "FB",
            Channel::Email => "EM",
            Channel::LiveChat => "LC",
            Channel::Telegram => "TG",
            Channel::Sms => "SM",
            Channel::Other(_) => "··",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ConversationStatus {
    Open,
    Pending,
    Resolved,
    Closed,
    Unknown(String),
}

impl ConversationStatus {
    pub fn label(&self) -> &str {
        match self {
            ConversationStatus::Open => "open",
            ConversationStatus::Pending => "pending",
            ConversationStatus::Resolved => "resolved",
            ConversationStatus::Closed => "closed",
            ConversationStatus::Unknown(s) => s,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Priority {
    Low,
    Medium,
    High,
    Urgent,
    Unknown(String),
}

impl Priority {
    pub fn label(&self) -> &str {
        match self {
            Priority::Low => "low",
            Priority::Medium => "medium",
            Priority::High => "high",
            Priority::Urgent => "urgent",
            Priority::Unknown(other) => other,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SenderKind {
    Contact,
    Agent,
    Bot,
    System,
    Unknown,
}

/// Delivery acknowledgement, ordered so that progress only moves forward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Ack {
    Unknown,
    Pending,
    Sent,
    Delivered,
    Read,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    pub id: TagId,
    pub name: String,
    pub color: Option<String>,
}

/// The newest message of a conversation, as shown in the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessagePreview {
    pub text: String,
    pub sender: SenderKind,
    pub kind: MessageKind,
    pub ack: Ack,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    pub id: ConversationId,
    pub contact_id: Option<ContactId>,
    /// Display name of the customer. Providers may leave it empty (Qpien
    /// does): the store labels rows from its contact directory.
    pub contact_name: String,
    pub channel: Channel,
    /// Channel to reply through (Qpien: `lastReceivedMessageChannel`).
    pub reply_channel_id: Option<ChannelId>,
    pub status: ConversationStatus,
    pub assignee: Option<AgentId>,
    pub starred: bool,
    pub priority: Option<Priority>,
    pub tags: Vec<Tag>,
    pub last_message: Option<MessagePreview>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    /// Unread count when the provider reports one; `None` lets the store derive it.
    pub unread: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum MessageKind {
    Text,
    Image,
    Video,
    Audio,
    File,
    Sticker,
    Location,
    Email,
    Template,
    Note,
    System,
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Media {
    /// Lower-case kind such as `image` or `document`.
    pub kind: String,
    pub url: Option<String>,
    pub file_name: Option<String>,
    pub mime_type: Option<String>,
    pub caption: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotedMessage {
    pub id: Option<MessageId>,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    /// Client-chosen idempotency key (Qpien `frontMsgId`), echoed by the server.
    pub client_id: Option<String>,
    pub sender: SenderKind,
    pub sender_name: Option<String>,
    pub kind: MessageKind,
    pub channel: Option<Channel>,
    /// Plain text: HTML bodies are already converted.
    pub text: String,
    pub subject: Option<String>,
    pub media: Vec<Media>,
    pub quoted: Option<QuotedMessage>,
    pub ack: Ack,
    pub failed_reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactPlatform {
    pub channel: Channel,
    pub external_id: Option<String>,
    pub username: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub id: ContactId,
    pub first_name: String,
    pub last_name: Option<String>,
    pub username: Option<String>,
    pub avatar: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub phone_country_code: Option<String>,
    pub country: Option<String>,
    pub gender: Option<String>,
    pub language: Option<String>,
    pub tags: Vec<Tag>,
    pub phone_usage_permission: Option<bool>,
    pub email_usage_permission: Option<bool>,
    pub owner: Option<String>,
    pub platforms: Vec<ContactPlatform>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// What a row shows for a contact nothing is known about.
impl Contact {
    /// A contact known only by id and first name; every other field empty.
    pub fn named(id: impl Into<String>, first_name: impl Into<String>) -> Contact {
        Contact {
            id: ContactId::new(id),
            first_name: first_name.into(),
            last_name: None,
            username: None,
            avatar: None,
            email: None,
            phone: None,
            phone_country_code: None,
            country: None,
            gender: None,
            language: None,
            tags: Vec::new(),
            phone_usage_permission: None,
            email_usage_permission: None,
            owner: None,
            platforms: Vec::new(),
            created_at: None,
            updated_at: None,
        }
    }
}

pub const UNKNOWN_CONTACT: &str = "Unknown contact";

impl Contact {
    pub fn display_name(&self) -> String {
        match self.last_name.as_deref().filter(|s| !s.is_empty()) {
            Some(last) => format!("{} {}", self.first_name, last),
            None => self.first_name.clone(),
        }
    }

    /// What the inbox calls the contact: the name, else the first of phone,
    /// username and e-mail, else a placeholder. One rule for the rows, the
    /// cache and search alike.
    pub fn label(&self) -> String {
        let name = self.display_name();
        if !name.trim().is_empty() {
            return name.trim().to_string();
        }
        [&self.phone, &self.username, &self.email]
            .into_iter()
            .flatten()
            .map(|s| s.trim())
            .find(|s| !s.is_empty())
            .unwrap_or(UNKNOWN_CONTACT)
            .to_string()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agent {
    pub id: AgentId,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    /// Provider role name, e.g. `ADMIN`.
    pub role: String,
    pub active: bool,
    pub is_bot: bool,
}

impl Agent {
    /// Whether the config's `agent` key (an id, or an e-mail in any case)
    /// names this agent.
    pub fn is_named_by(&self, id_or_email: &str) -> bool {
        let wanted = id_or_email.trim();
        self.id.as_str() == wanted || self.email.eq_ignore_ascii_case(wanted)
    }

    pub fn display_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
            .trim()
            .to_string()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelInfo {
    pub id: ChannelId,
    pub name: String,
    pub channel: Channel,
    pub connected: bool,
    /// Phone number, e-mail address or handle, whichever identifies it.
    pub address: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TemplateStatus {
    Approved,
    Pending,
    Rejected,
    Paused,
    Disabled,
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateButton {
    pub kind: String,
    pub text: String,
    pub url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    pub id: TemplateId,
    pub name: String,
    pub language: String,
    pub category: Option<String>,
    pub status: TemplateStatus,
    pub channel_id: Option<ChannelId>,
    /// Text of a TEXT header (may hold one placeholder).
    pub header: Option<String>,
    /// `TEXT`, `IMAGE`, `VIDEO`, `DOCUMENT` or `LOCATION`; a media header
    /// needs a URL at send time.
    #[serde(default)]
    pub header_format: Option<String>,
    pub body: String,
    pub footer: Option<String>,
    pub buttons: Vec<TemplateButton>,
    /// Why review refused it, when it did.
    #[serde(default)]
    pub rejected_reason: Option<String>,
}

impl Template {
    /// The header needs a media URL rather than text.
    pub fn has_media_header(&self) -> bool {
        self.header_format
            .as_deref()
            .is_some_and(|f| matches!(f, "IMAGE" | "VIDEO" | "DOCUMENT"))
    }
}

impl TemplateStatus {
    pub fn label(&self) -> &str {
        match self {
            TemplateStatus::Approved => "approved",
            TemplateStatus::Pending => "pending",
            TemplateStatus::Rejected => "rejected",
            TemplateStatus::Paused => "paused",
            TemplateStatus::Disabled => "disabled",
            TemplateStatus::Other(other) => other,
        }
    }

    /// Why a template in this state cannot be sent; `None` when it can.
    pub fn why_not_sendable(&self) -> Option<String> {
        match self {
            TemplateStatus::Approved => None,
            TemplateStatus::Pending => Some("waiting for WhatsApp's review".into()),
            TemplateStatus::Rejected => Some("rejected by WhatsApp's review".into()),
            TemplateStatus::Paused => {
                Some("paused by WhatsApp after poor customer feedback".into())
            }
            TemplateStatus::Disabled => Some("disabled by WhatsApp".into()),
            TemplateStatus::Other(other) => Some(format!("its status is {other}")),
        }
    }
}

/// The values that fill a template's placeholders. Body and header values
/// are keyed by the placeholder as written: `1`, `2`… or a name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateValues {
    /// Value of a TEXT header's placeholder.
    pub header_text: Option<String>,
    /// Public URL of an IMAGE, VIDEO or DOCUMENT header.
    pub header_media_url: Option<String>,
    /// That header's kind (`IMAGE`, `VIDEO`, `DOCUMENT`), from the template.
    #[serde(default)]
    pub header_media_format: Option<String>,
    /// One per distinct body placeholder, in order of first appearance.
    pub body: Vec<TemplateParam>,
    /// URL-button suffixes: the button's index among the buttons, and the value.
    pub buttons: Vec<(u32, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateParam {
    /// `1`, `2`… for positional placeholders, else the name.
    pub key: String,
    pub value: String,
}

/// Who a message starts with: a conversation, or a contact (the provider
/// finds or creates the conversation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Recipient {
    Conversation(ConversationId),
    Contact(ContactId),
}

/// A template message to send; like [`OutgoingText`], sending the same
/// `client_id` twice must yield one message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutgoingTemplate {
    pub client_id: String,
    pub recipient: Recipient,
    /// The WhatsApp number to send from; `None` lets the provider choose.
    pub channel_id: Option<ChannelId>,
    pub template_id: TemplateId,
    pub template_name: String,
    pub language: String,
    pub values: TemplateValues,
}

/// Where the next page of a list starts. Opaque: only the provider that
/// issued it reads it (a page number, an offset, a server token…).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PageCursor(String);

impl PageCursor {
    pub fn new(s: impl Into<String>) -> Self {
        PageCursor(s.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One page of a list; `next` is where the following page starts, `None`
/// on the last one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<PageCursor>,
    pub total: Option<u64>,
    /// Records the server sent that could not be read (logged, left out):
    /// one malformed record costs only itself, never its page.
    pub skipped: usize,
}

impl<T> Page<T> {
    /// The last page of its list.
    pub fn last(items: Vec<T>) -> Self {
        Page {
            items,
            next: None,
            total: None,
            skipped: 0,
        }
    }

    /// A page followed by the one at `next`.
    pub fn more(items: Vec<T>, next: PageCursor) -> Self {
        Page {
            items,
            next: Some(next),
            total: None,
            skipped: 0,
        }
    }

    /// Whether asking for the next page is useful.
    pub fn has_more(&self) -> bool {
        self.next.is_some()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConversationQuery {
    /// Where to start; `None` is the first page.
    pub cursor: Option<PageCursor>,
    pub limit: u32,
    pub updated_since: Option<DateTime<Utc>>,
    pub status: Vec<ConversationStatus>,
    pub assignee: Option<AgentId>,
    pub unassigned: bool,
    pub search: Option<String>,
    /// Least recently updated first: a saved cursor over changes resumes
    /// exactly where it stopped. The default is newest first.
    pub oldest_first: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageQuery {
    pub conversation_id: ConversationId,
    /// Only messages strictly older than this (paging backwards).
    pub before: Option<DateTime<Utc>>,
    /// Only messages strictly newer than this (incremental refresh).
    pub after: Option<DateTime<Utc>>,
    pub limit: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactQuery {
    /// Where to start; `None` is the first page.
    pub cursor: Option<PageCursor>,
    pub limit: u32,
    pub search: Option<String>,
    /// Only contacts changed at or after this time, oldest change first, so
    /// a directory sync can resume from the newest `updated_at` it saved.
    pub updated_since: Option<DateTime<Utc>>,
    /// Only the contact with this phone number (E.164), for finding the
    /// one a duplicate phone belongs to.
    pub phone: Option<String>,
}

/// A free-text reply. `client_id` is generated once per reply and reused on
/// every retry so the server never creates it twice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutgoingText {
    pub conversation_id: ConversationId,
    pub client_id: String,
    pub text: String,
    pub channel_id: Option<ChannelId>,
}

/// Fields left `None` are not changed. `assignee: Some(None)` unassigns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConversationUpdate {
    pub status: Option<ConversationStatus>,
    pub starred: Option<bool>,
    pub priority: Option<Priority>,
    pub assignee: Option<Option<AgentId>>,
    pub tags: Option<Vec<TagId>>,
}

impl ConversationUpdate {
    /// Nothing to change.
    pub fn is_empty(&self) -> bool {
        *self == ConversationUpdate::default()
    }
}

/// Changes to a contact, or the fields of a new one. Fields left `None`
/// are not sent; `Some(None)` clears an optional field. Tags carry their
/// names so the profile can show them before the server answers; the
/// request sends their ids and replaces the whole set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactUpdate {
    pub first_name: Option<String>,
    pub last_name: Option<Option<String>>,
    pub username: Option<Option<String>>,
    pub email: Option<Option<String>>,
    /// E.164.
    pub phone: Option<Option<String>>,
    /// The phone's calling code without `+`, sent with the phone.
    pub phone_country_code: Option<Option<String>>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<Option<String>>,
    pub gender: Option<Option<String>>,
    /// BCP 47.
    pub language: Option<Option<String>>,
    pub tags: Option<Vec<Tag>>,
    pub phone_usage_permission: Option<bool>,
    pub email_usage_permission: Option<bool>,
}

impl ContactUpdate {
    pub fn is_empty(&self) -> bool {
        *self == ContactUpdate::default()
    }

    /// The fields this update sets, in the editor's order.
    pub fn fields(&self) -> Vec<crate::contact_fields::ContactField> {
        use crate::contact_fields::ContactField as F;
        let mut fields = Vec::new();
        let mut add = |set: bool, field| {
            if set {
                fields.push(field);
            }
        };
        add(self.first_name.is_some(), F::FirstName);
        add(self.last_name.is_some(), F::LastName);
        add(self.username.is_some(), F::Username);
        add(self.phone.is_some(), F::Phone);
        add(self.email.is_some(), F::Email);
        add(self.country.is_some(), F::Country);
        add(self.language.is_some(), F::Language);
        add(self.gender.is_some(), F::Gender);
        add(self.phone_usage_permission.is_some(), F::PhonePermission);
        add(self.email_usage_permission.is_some(), F::EmailPermission);
        add(self.tags.is_some(), F::Tags);
        fields
    }

    /// `contact` with this update's values.
    pub fn apply(&self, contact: &mut Contact) {
        fn set<T: Clone>(target: &mut T, value: &Option<T>) {
            if let Some(value) = value {
                *target = value.clone();
            }
        }
        set(&mut contact.first_name, &self.first_name);
        set(&mut contact.last_name, &self.last_name);
        set(&mut contact.username, &self.username);
        set(&mut contact.email, &self.email);
        set(&mut contact.phone, &self.phone);
        set(&mut contact.phone_country_code, &self.phone_country_code);
        set(&mut contact.country, &self.country);
        set(&mut contact.gender, &self.gender);
        set(&mut contact.language, &self.language);
        set(&mut contact.tags, &self.tags);
        if let Some(value) = self.phone_usage_permission {
            contact.phone_usage_permission = Some(value);
        }
        if let Some(value) = self.email_usage_permission {
            contact.email_usage_permission = Some(value);
        }
    }
}
