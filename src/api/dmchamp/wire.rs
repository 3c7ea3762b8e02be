//! DM Champ's answers as they come over the wire, decoded leniently:
//! every endpoint has its own shape, lists come bare or wrapped in
//! `{success, data}`, names mix camelCase and snake_case, and one bad
//! record costs only itself. Mapping to domain types (sanitized) is here
//! too, so nothing unsanitized leaves this module.

use chrono::{DateTime, TimeZone, Utc};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::api::{ApiError, ApiResult};
use crate::domain::{
    Ack, Channel, ContactId, ConversationId, Message, MessageId, MessageKind, SenderKind, Tag,
    TagId, Template, TemplateId, TemplateStatus,
};
use crate::text::{sanitize, sanitize_line};

/// `GET /contacts` → `{success, contactId}`; `POST /contacts` →
/// `{success, data: {message, contactId}}`. Either is read for either.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactIdAnswer {
    #[serde(default, alias = "contact_id", alias = "id")]
    contact_id: Option<Value>,
    #[serde(default)]
    data: Option<Value>,
}

fn id_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl ContactIdAnswer {
    /// The contact id wherever the answer put it.
    pub fn contact_id(&self) -> ApiResult<ContactId> {
        let nested = self.data.as_ref().and_then(|d| {
            ["contactId", "contact_id", "id"]
                .iter()
                .find_map(|k| d.get(k).and_then(id_text))
        });
        self.contact_id
            .as_ref()
            .and_then(id_text)
            .or(nested)
            .map(|id| ContactId(sanitize_line(&id)))
            .ok_or_else(|| ApiError::Decode("the answer carries no contactId".into()))
    }
}

/// `POST /send-custom-channel-message` → `{success, messageId}`.
#[derive(Debug, Default, Deserialize)]
pub struct SendAnswer {
    #[serde(default, alias = "message_id", alias = "id")]
    #[serde(rename = "messageId")]
    message_id: Option<Value>,
    #[serde(default)]
    data: Option<Value>,
}

impl SendAnswer {
    pub fn message_id(&self) -> Option<String> {
        self.message_id
            .as_ref()
            .and_then(id_text)
            .or_else(|| {
                let d = self.data.as_ref()?;
                d.get("messageId").or_else(|| d.get("id")).and_then(id_text)
            })
            .map(|id| sanitize_line(&id))
    }
}

#[derive(Debug, Deserialize)]
pub struct WireTag {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireMessage {
    #[serde(default, alias = "_id", alias = "messageId", alias = "message_id")]
    pub id: Option<Value>,
    #[serde(default)]
    pub direction: Option<String>,
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default, alias = "body", alias = "text", alias = "message")]
    pub content: Option<String>,
    #[serde(default, alias = "message_type", alias = "type")]
    pub message_type: Option<String>,
    #[serde(default)]
    pub channel: Option<String>,
    #[serde(default, alias = "created_at", alias = "timestamp", alias = "date")]
    pub created_at: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireTemplate {
    #[serde(alias = "_id", alias = "templateId")]
    pub id: Value,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
}

/// The records of a list answer: a bare array, or the array under `data`
/// (also `messages`, `tags`, `templates`). Records that do not decode are
/// logged and counted, never fatal.
pub fn records<T: DeserializeOwned>(body: Value, what: &str) -> ApiResult<(Vec<T>, usize)> {
    let items = match body {
        Value::Array(items) => items,
        Value::Object(mut map) => {
            let inner = ["data", "messages", "tags", "templates", "items"]
                .iter()
                .find_map(|k| match map.remove(*k) {
                    Some(Value::Array(items)) => Some(items),
                    Some(Value::Object(mut nested)) => ["messages", "items", "data"]
                        .iter()
                        .find_map(|k| match nested.remove(*k) {
                            Some(Value::Array(items)) => Some(items),
                            _ => None,
                        }),
                    _ => None,
                });
            inner.ok_or_else(|| ApiError::Decode(format!("the {what} answer holds no list")))?
        }
        Value::Null => Vec::new(),
        _ => return Err(ApiError::Decode(format!("the {what} answer is not a list"))),
    };
    let mut skipped = 0;
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        match serde_path_to_error::deserialize::<_, T>(item) {
            Ok(v) => out.push(v),
            Err(e) => {
                tracing::warn!(error = %e, "skipping a malformed DM Champ {what}");
                skipped += 1;
            }
        }
    }
    Ok((out, skipped))
}

/// RFC 3339 text, or epoch milliseconds (seconds when small).
pub fn parse_time(v: &Value) -> Option<DateTime<Utc>> {
    match v {
        Value::String(s) => DateTime::parse_from_rfc3339(s.trim())
            .ok()
            .map(|t| t.with_timezone(&Utc))
            .or_else(|| s.trim().parse::<i64>().ok().and_then(epoch)),
        Value::Number(n) => n.as_i64().and_then(epoch),
        _ => None,
    }
}

fn epoch(n: i64) -> Option<DateTime<Utc>> {
    if n.abs() < 100_000_000_000 {
        Utc.timestamp_opt(n, 0).single()
    } else {
        Utc.timestamp_millis_opt(n).single()
    }
}

fn line(s: Option<&str>) -> Option<String> {
    s.map(sanitize_line).filter(|s| !s.trim().is_empty())
}

pub fn map_tag(t: WireTag) -> Option<Tag> {
    let name = sanitize_line(t.name.trim());
    (!name.is_empty()).then(|| Tag {
        id: TagId(name.clone()),
        name,
        color: None,
    })
}

pub fn channel_from_wire(raw: &str) -> Channel {
    match raw.trim().to_ascii_lowercase().as_str() {
        "whatsapp" | "wa" => Channel::WhatsApp,
        "sms" => Channel::Sms,
        "instagram" | "ig" => Channel::Instagram,
        "messenger" | "facebook" => Channel::Messenger,
        "widget" | "chat_widget" | "chatwidget" | "webchat" => Channel::LiveChat,
        "email" => Channel::Email,
        "custom" | "custom_channel" | "customchannel" => Channel::Other("Custom channel".into()),
        other => Channel::Other(sanitize_line(other)),
    }
}

fn sender(direction: Option<&str>, role: Option<&str>) -> SenderKind {
    let role = role.map(str::to_ascii_lowercase);
    match role.as_deref() {
        Some("user" | "customer" | "contact") => SenderKind::Contact,
        Some("assistant" | "bot" | "ai") => SenderKind::Bot,
        Some("agent" | "human" | "operator") => SenderKind::Agent,
        Some("system") => SenderKind::System,
        _ => match direction.map(str::to_ascii_lowercase).as_deref() {
            Some("inbound" | "incoming" | "in") => SenderKind::Contact,
            Some("outbound" | "outgoing" | "out") => SenderKind::Agent,
            _ => SenderKind::Unknown,
        },
    }
}

fn kind(raw: Option<&str>) -> MessageKind {
    match raw.map(|k| k.trim().to_ascii_lowercase()).as_deref() {
        None | Some("" | "text") => MessageKind::Text,
        Some("image") => MessageKind::Image,
        Some("video") => MessageKind::Video,
        Some("audio" | "voice") => MessageKind::Audio,
        Some("document" | "file") => MessageKind::File,
        Some("sticker") => MessageKind::Sticker,
        Some("location") => MessageKind::Location,
        Some("template") => MessageKind::Template,
        Some(other) => MessageKind::Other(sanitize_line(other)),
    }
}

/// A message of `contact`'s thread; `index` names a record without an id.
pub fn map_message(w: WireMessage, contact: &ContactId, index: usize) -> ApiResult<Message> {
    let created_at = w
        .created_at
        .as_ref()
        .and_then(parse_time)
        .ok_or_else(|| ApiError::Decode("a message has no readable createdAt".into()))?;
    let id =
        w.id.as_ref()
            .and_then(id_text)
            .map(|id| sanitize_line(&id))
            // Stable across fetches: the thread only grows at its end.
            .unwrap_or_else(|| format!("{contact}#{}#{index}", created_at.timestamp_millis()));
    let sender = sender(w.direction.as_deref(), w.role.as_deref());
    Ok(Message {
        id: MessageId(id),
        conversation_id: ConversationId(contact.0.clone()),
        client_id: None,
        sender_name: (sender == SenderKind::Bot).then(|| "AI bot".to_string()),
        sender,
        kind: kind(w.message_type.as_deref()),
        channel: w.channel.as_deref().map(channel_from_wire),
        text: w.content.as_deref().map(sanitize).unwrap_or_default(),
        subject: None,
        media: Vec::new(),
        quoted: None,
        ack: Ack::Unknown,
        failed_reason: None,
        created_at,
    })
}

fn template_status(raw: Option<&str>) -> TemplateStatus {
    match raw.map(|s| s.trim().to_ascii_lowercase()).as_deref() {
        Some("approved") => TemplateStatus::Approved,
        Some("pending" | "in_review" | "submitted") => TemplateStatus::Pending,
        Some("rejected") => TemplateStatus::Rejected,
        Some("paused") => TemplateStatus::Paused,
        Some("disabled") => TemplateStatus::Disabled,
        Some(other) => TemplateStatus::Other(sanitize_line(other)),
        None => TemplateStatus::Other("unknown".into()),
    }
}

/// DM Champ returns no template text: the body says so, and the name is
/// what the agent picks by.
pub fn map_template(w: WireTemplate) -> ApiResult<Template> {
    let id = id_text(&w.id)
        .map(|id| sanitize_line(&id))
        .ok_or_else(|| ApiError::Decode("a template has no id".into()))?;
    let name = line(w.name.as_deref()).unwrap_or_else(|| id.clone());
    Ok(Template {
        id: TemplateId(id),
        body: format!(
            "{name} (DM Champ does not share template texts; variables are filled from the contact's fields)"
        ),
        name,
        language: line(w.language.as_deref()).unwrap_or_default(),
        category: line(w.category.as_deref()),
        status: template_status(w.status.as_deref()),
        channel_id: None,
        header: None,
        header_format: None,
        footer: None,
        buttons: Vec::new(),
        rejected_reason: None,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn contact() -> ContactId {
        ContactId::new("c_81f2")
    }

    #[test]
    fn contact_ids_are_read_from_either_documented_shape() {
        let lookup: ContactIdAnswer =
            serde_json::from_value(json!({ "success": true, "contactId": "c_81f2" })).unwrap();
        assert_eq!(lookup.contact_id(), Ok(contact()));
        let created: ContactIdAnswer = serde_json::from_value(json!({ "success": true,
            "data": { "message": "Successfully created new contact", "contactId": "c_81f2" } }))
        .unwrap();
        assert_eq!(created.contact_id(), Ok(contact()));
        let numeric: ContactIdAnswer = serde_json::from_value(json!({ "id": 42 })).unwrap();
        assert_eq!(numeric.contact_id(), Ok(ContactId::new("42")));
        let none: ContactIdAnswer = serde_json::from_value(json!({ "success": true })).unwrap();
        assert!(matches!(none.contact_id(), Err(ApiError::Decode(m)) if m.contains("contactId")));
    }

    #[test]
    fn lists_come_bare_or_wrapped_and_bad_records_are_skipped() {
        let bare = json!([{ "name": "vip", "description": "Top" }, { "description": "no name" }]);
        let (tags, skipped) = records::<WireTag>(bare, "tag").unwrap();
        assert_eq!((tags.len(), skipped), (1, 1));
        let wrapped =
            json!({ "success": true, "data": [{ "name": "a" }, { "name": "b", "extra": 1 }] });
        let (tags, skipped) = records::<WireTag>(wrapped, "tag").unwrap();
        assert_eq!((tags.len(), skipped), (2, 0));
        let nested = json!({ "data": { "messages": [{ "content": "x" }] } });
        assert_eq!(
            records::<WireMessage>(nested, "message").unwrap().0.len(),
            1
        );
        assert!(records::<WireTag>(json!({ "success": true }), "tag").is_err());
        assert!(records::<WireTag>(json!("text"), "tag").is_err());
        assert_eq!(records::<WireTag>(Value::Null, "tag").unwrap().0.len(), 0);
    }

    #[test]
    fn messages_map_senders_kinds_times_and_sanitize_text() {
        let w: WireMessage = serde_json::from_value(json!({
            "id": "m_01", "direction": "inbound", "role": "user",
            "content": "Hi\u{1b}[31m there", "messageType": "text",
            "channel": "whatsapp", "createdAt": "2026-03-02T10:15:00.000Z", "unknown": null
        }))
        .unwrap();
        let m = map_message(w, &contact(), 0).unwrap();
        assert_eq!(m.id.as_str(), "m_01");
        assert_eq!(m.conversation_id.as_str(), "c_81f2");
        assert_eq!(m.sender, SenderKind::Contact);
        assert_eq!(m.text, "Hi there");
        assert_eq!(m.channel, Some(Channel::WhatsApp));
        assert_eq!(m.created_at.to_rfc3339(), "2026-03-02T10:15:00+00:00");

        let w: WireMessage = serde_json::from_value(json!({
            "direction": "outbound", "role": "assistant", "body": "Yes",
            "type": "reaction", "created_at": 1_772_446_504_000_i64
        }))
        .unwrap();
        let m = map_message(w, &contact(), 3).unwrap();
        assert_eq!(m.sender, SenderKind::Bot);
        assert_eq!(m.kind, MessageKind::Other("reaction".into()));
        assert_eq!(m.id.as_str(), "c_81f2#1772446504000#3");
        assert_eq!(m.text, "Yes");

        let w: WireMessage = serde_json::from_value(json!({ "direction": "outbound" })).unwrap();
        assert!(matches!(
            map_message(w, &contact(), 0),
            Err(ApiError::Decode(_))
        ));
        for (direction, role, want) in [
            (Some("outbound"), None, SenderKind::Agent),
            (None, Some("agent"), SenderKind::Agent),
            (None, None, SenderKind::Unknown),
        ] {
            assert_eq!(sender(direction, role), want);
        }
    }

    #[test]
    fn times_read_rfc3339_and_epoch_seconds_or_millis() {
        let t = parse_time(&json!("2026-03-02T10:15:00Z")).unwrap();
        assert_eq!(parse_time(&json!(t.timestamp())), Some(t));
        assert_eq!(parse_time(&json!(t.timestamp_millis())), Some(t));
        assert_eq!(
            parse_time(&json!(t.timestamp_millis().to_string())),
            Some(t)
        );
        assert_eq!(parse_time(&json!(true)), None);
        assert_eq!(parse_time(&json!("yesterday")), None);
    }

    #[test]
    fn templates_keep_their_name_and_say_the_text_is_unknown() {
        let w: WireTemplate = serde_json::from_value(json!({
            "id": "tpl_4410", "name": "appointment_reminder", "status": "approved",
            "language": "en_US", "category": "UTILITY", "createdAt": "2025-11-04T08:00:00.000Z"
        }))
        .unwrap();
        let t = map_template(w).unwrap();
        assert_eq!(
            (t.id.as_str(), t.name.as_str()),
            ("tpl_4410", "appointment_reminder")
        );
        assert_eq!(t.status, TemplateStatus::Approved);
        assert!(t.body.contains("does not share template texts"));
        let w: WireTemplate =
            serde_json::from_value(json!({ "id": 7, "status": "IN_REVIEW" })).unwrap();
        let t = map_template(w).unwrap();
        assert_eq!((t.name.as_str(), t.status), ("7", TemplateStatus::Pending));
        assert!(serde_json::from_value::<WireTemplate>(json!({ "name": "x" })).is_err());
    }

    #[test]
    fn send_answers_and_tags() {
        let a: SendAnswer =
            serde_json::from_value(json!({ "success": true, "messageId": 123 })).unwrap();
        assert_eq!(a.message_id().as_deref(), Some("123"));
        let a: SendAnswer = serde_json::from_value(json!({ "success": true })).unwrap();
        assert_eq!(a.message_id(), None);
        assert!(
            map_tag(WireTag {
                name: "  ".into(),
                description: None
            })
            .is_none()
        );
        let t = map_tag(WireTag {
            name: "hot\u{7}-lead".into(),
            description: None,
        })
        .unwrap();
        assert_eq!(t.name, "hot-lead");
        assert_eq!(
            channel_from_wire("custom"),
            Channel::Other("Custom channel".into())
        );
    }
}
