//! SuperWaba wire → domain and domain → request bodies. Pure functions;
//! every remote text is sanitized here.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::wire::{WireContact, WireConversation, WireMessage, WireTemplate};
use crate::api::{ApiError, ApiResult};
use crate::domain::{
    Ack, AgentId, Channel, Contact, ContactId, ContactPlatform, ContactUpdate, Conversation,
    ConversationId, ConversationStatus, Media, Message, MessageId, MessageKind, MessagePreview,
    SenderKind, Tag, TagId, Template, TemplateButton, TemplateId, TemplateStatus,
};
use crate::text::{sanitize, sanitize_line};

/// The statuses SuperWaba's conversations have, in picker order; the AI
/// agent's two have no domain name and come through as `Unknown`.
pub static STATUSES: std::sync::LazyLock<Vec<ConversationStatus>> =
    std::sync::LazyLock::new(|| {
        vec![
            ConversationStatus::Open,
            ConversationStatus::Unknown("ai_handling".into()),
            ConversationStatus::Unknown("escalated".into()),
            ConversationStatus::Closed,
        ]
    });

fn missing(field: &str, what: &str) -> ApiError {
    ApiError::Decode(format!("{what} has no {field}"))
}

fn line(s: Option<&str>) -> Option<String> {
    s.map(sanitize_line)
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// Ids travel back into URLs: kept as sent, but never blank nor with
/// anything the sanitizer would strip (controls, bidi, invisibles).
fn id(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty() && sanitize_line(s) == *s)
}

pub fn time(s: Option<&str>) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s?.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

pub fn status_from_wire(s: Option<&str>) -> ConversationStatus {
    match s.map(str::trim) {
        Some("open") | None => ConversationStatus::Open,
        Some("closed") => ConversationStatus::Closed,
        Some(other) => ConversationStatus::Unknown(sanitize_line(other)),
    }
}

/// The `status` filter value; `None` when SuperWaba has no such status.
pub fn status_to_wire(s: &ConversationStatus) -> Option<String> {
    match s {
        ConversationStatus::Open => Some("open".into()),
        ConversationStatus::Closed | ConversationStatus::Resolved => Some("closed".into()),
        ConversationStatus::Pending => None,
        ConversationStatus::Unknown(other) => Some(other.clone()),
    }
}

fn channel(s: Option<&str>) -> Channel {
    match s.map(|s| s.trim().to_ascii_lowercase()).as_deref() {
        Some("whatsapp") | None => Channel::WhatsApp,
        Some("instagram") => Channel::Instagram,
        Some("messenger") | Some("facebook") => Channel::Messenger,
        Some(other) => Channel::Other(sanitize_line(other)),
    }
}

fn tags(names: &[String]) -> Vec<Tag> {
    names
        .iter()
        .filter_map(|n| line(Some(n)))
        .map(|name| Tag {
            id: TagId(name.clone()),
            name,
            color: None,
        })
        .collect()
}

pub fn map_contact(w: WireContact) -> ApiResult<Contact> {
    let contact_id = id(w.id).ok_or_else(|| missing("id", "a contact"))?;
    let phone = line(w.phone.as_deref());
    let phone_country_code = phone
        .as_deref()
        .and_then(|p| crate::contact_fields::parse_phone(p, &[]).ok())
        .map(|p| p.calling_code);
    Ok(Contact {
        first_name: line(w.name.as_deref()).unwrap_or_default(),
        last_name: None,
        username: None,
        avatar: None,
        email: line(w.email.as_deref()),
        platforms: vec![ContactPlatform {
            channel: Channel::WhatsApp,
            external_id: phone.clone(),
            username: None,
        }],
        phone,
        phone_country_code,
        country: line(w.country_code.as_deref()).map(|c| c.to_ascii_uppercase()),
        gender: None,
        language: None,
        tags: tags(&w.tags),
        phone_usage_permission: w.opted_in,
        email_usage_permission: None,
        owner: None,
        created_at: time(w.created_at.as_deref()),
        updated_at: time(w.updated_at.as_deref()),
        id: ContactId(contact_id),
    })
}

fn direction_sender(direction: Option<&str>) -> SenderKind {
    match direction {
        Some("inbound") => SenderKind::Contact,
        Some("outbound") => SenderKind::Agent,
        _ => SenderKind::Unknown,
    }
}

pub fn map_conversation(w: WireConversation) -> ApiResult<Conversation> {
    let conversation_id = id(w.id).ok_or_else(|| missing("id", "a conversation"))?;
    let what = format!("conversation {}", sanitize_line(&conversation_id));
    let updated_at =
        time(w.updated_at.as_deref()).ok_or_else(|| missing("valid updatedAt", &what))?;
    let contact_id = id(w.contact_id).or_else(|| w.contact.as_ref().and_then(|c| id(c.id.clone())));
    let contact_name = w
        .contact
        .as_ref()
        .and_then(|c| line(c.name.as_deref()).or_else(|| line(c.phone.as_deref())))
        .unwrap_or_default();
    let last_message = w.last_message.and_then(|m| {
        Some(MessagePreview {
            created_at: time(m.timestamp.as_deref())?,
            text: m.text.as_deref().map(sanitize_line).unwrap_or_default(),
            sender: direction_sender(m.direction.as_deref()),
            kind: MessageKind::Text,
            ack: Ack::Unknown,
        })
    });
    Ok(Conversation {
        id: ConversationId(conversation_id),
        contact_id: contact_id.map(ContactId),
        contact_name,
        channel: channel(w.channel.as_deref()),
        reply_channel_id: None,
        status: status_from_wire(w.status.as_deref()),
        assignee: id(w.assignee_id).map(AgentId),
        starred: false,
        priority: None,
        tags: Vec::new(),
        last_message,
        created_at: time(w.created_at.as_deref()),
        updated_at,
        unread: w.unread_count,
    })
}

fn ack(s: Option<&str>) -> Ack {
    match s {
        Some("sent") => Ack::Sent,
        Some("delivered") => Ack::Delivered,
        Some("read") => Ack::Read,
        Some("failed") => Ack::Failed,
        Some("pending") | Some("queued") => Ack::Pending,
        _ => Ack::Unknown,
    }
}

fn content_str(content: &Value, key: &str) -> Option<String> {
    content.get(key).and_then(Value::as_str).map(str::to_string)
}

pub fn map_message(w: WireMessage, fallback_conversation: &str) -> ApiResult<Message> {
    let message_id = id(w.id).ok_or_else(|| missing("id", "a message"))?;
    let what = format!("message {}", sanitize_line(&message_id));
    let created_at =
        time(w.timestamp.as_deref()).ok_or_else(|| missing("valid timestamp", &what))?;
    let kind_name = w
        .kind
        .as_deref()
        .map(|k| sanitize_line(k).to_ascii_lowercase())
        .unwrap_or_else(|| "text".into());
    let c = &w.content;
    let text_of = |key: &str| {
        content_str(c, key)
            .map(|t| sanitize(&t))
            .unwrap_or_default()
    };
    let media = |kind: &str| Media {
        kind: kind.to_string(),
        url: line(content_str(c, "url").as_deref()),
        file_name: line(content_str(c, "filename").as_deref()),
        mime_type: line(
            content_str(c, "mimeType")
                .or_else(|| content_str(c, "mime_type"))
                .as_deref(),
        ),
        caption: content_str(c, "caption")
            .map(|t| sanitize(&t))
            .filter(|t| !t.is_empty()),
    };
    let (kind, text, media) = match kind_name.as_str() {
        "text" => (MessageKind::Text, text_of("text"), Vec::new()),
        "image" => (MessageKind::Image, text_of("caption"), vec![media("image")]),
        "video" => (MessageKind::Video, text_of("caption"), vec![media("video")]),
        "audio" => (MessageKind::Audio, String::new(), vec![media("audio")]),
        "document" => (MessageKind::File, String::new(), vec![media("document")]),
        "sticker" => (MessageKind::Sticker, String::new(), vec![media("sticker")]),
        "template" => (MessageKind::Template, text_of("text"), Vec::new()),
        "location" => {
            let place = [content_str(c, "name"), content_str(c, "address")]
                .into_iter()
                .flatten()
                .map(|s| sanitize_line(&s))
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(", ");
            let coords = match (
                c.get("latitude").and_then(Value::as_f64),
                c.get("longitude").and_then(Value::as_f64),
            ) {
                (Some(lat), Some(lon)) => format!("{lat:.5}, {lon:.5}"),
                _ => String::new(),
            };
            let text = match (place.is_empty(), coords.is_empty()) {
                (false, false) => format!("{place} ({coords})"),
                (false, true) => place,
                _ => coords,
            };
            (MessageKind::Location, text, Vec::new())
        }
        other => {
            let text = content_str(c, "text")
                .map(|t| sanitize(&t))
                .filter(|t| !t.is_empty());
            (
                MessageKind::Other(other.to_string()),
                text.unwrap_or_else(|| format!("unsupported: {other}")),
                Vec::new(),
            )
        }
    };
    Ok(Message {
        id: MessageId(message_id),
        conversation_id: ConversationId(
            id(w.conversation_id).unwrap_or_else(|| fallback_conversation.to_string()),
        ),
        client_id: id(w.client_message_id),
        sender: direction_sender(w.direction.as_deref()),
        sender_name: None,
        kind,
        channel: Some(Channel::WhatsApp),
        text,
        subject: None,
        media,
        quoted: None,
        ack: ack(w.status.as_deref()),
        failed_reason: (w.status.as_deref() == Some("failed"))
            .then(|| "WhatsApp could not deliver the message".to_string()),
        created_at,
    })
}

fn template_status(s: Option<&str>) -> TemplateStatus {
    match s.map(|s| s.trim().to_ascii_uppercase()).as_deref() {
        // The endpoint lists approved templates; one without a status is one.
        Some("APPROVED") | None => TemplateStatus::Approved,
        Some("PENDING") | Some("IN_APPEAL") => TemplateStatus::Pending,
        Some("REJECTED") => TemplateStatus::Rejected,
        Some("PAUSED") => TemplateStatus::Paused,
        Some("DISABLED") => TemplateStatus::Disabled,
        Some(other) => TemplateStatus::Other(sanitize_line(other).to_ascii_lowercase()),
    }
}

pub fn map_template(w: WireTemplate) -> ApiResult<Template> {
    let name = line(w.name.as_deref()).ok_or_else(|| missing("name", "a template"))?;
    let language = line(w.language.as_deref()).unwrap_or_else(|| "en".into());
    let component = |kind: &str| {
        w.components.iter().find(|c| {
            c.kind
                .as_deref()
                .is_some_and(|k| k.eq_ignore_ascii_case(kind))
        })
    };
    let header = component("HEADER");
    let buttons = component("BUTTONS")
        .map(|c| {
            c.buttons
                .iter()
                .map(|b| TemplateButton {
                    kind: line(b.kind.as_deref())
                        .unwrap_or_default()
                        .to_ascii_uppercase(),
                    text: line(b.text.as_deref()).unwrap_or_default(),
                    url: line(b.url.as_deref()),
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Template {
        // SuperWaba sends templates by name and language.
        id: TemplateId(id(w.id).unwrap_or_else(|| format!("{name}:{language}"))),
        category: line(w.category.as_deref()),
        status: template_status(w.status.as_deref()),
        channel_id: None,
        header: header.and_then(|h| h.text.as_deref()).map(sanitize),
        header_format: line(header.and_then(|h| h.format.as_deref()))
            .map(|f| f.to_ascii_uppercase()),
        body: component("BODY")
            .and_then(|b| b.text.as_deref())
            .map(sanitize)
            .unwrap_or_default(),
        footer: component("FOOTER")
            .and_then(|f| f.text.as_deref())
            .map(sanitize),
        buttons,
        rejected_reason: line(w.rejected_reason.as_deref()),
        name,
        language,
    })
}

/// A field a SuperWaba contact does not have, named for the agent.
fn refuse(field: &str) -> ApiError {
    ApiError::Rejected {
        code: None,
        message: format!("SuperWaba contacts have no {field}; leave it empty"),
    }
}

/// Fields of `update` SuperWaba cannot take, refused by name.
fn refuse_unsupported(update: &ContactUpdate) -> ApiResult<()> {
    if update.username.as_ref().is_some_and(Option::is_some) {
        return Err(refuse("username"));
    }
    if update.gender.as_ref().is_some_and(Option::is_some) {
        return Err(refuse("gender"));
    }
    if update.language.as_ref().is_some_and(Option::is_some) {
        return Err(refuse("language"));
    }
    if update.email_usage_permission.is_some() {
        return Err(refuse("email usage permission (only the WhatsApp opt-in)"));
    }
    Ok(())
}

/// One display name from the domain's first and last name.
pub fn display_name(first: &str, last: Option<&str>) -> String {
    match last.map(str::trim).filter(|l| !l.is_empty()) {
        Some(last) => format!("{} {last}", first.trim()),
        None => first.trim().to_string(),
    }
}

fn tag_names(tags: &[Tag]) -> Vec<String> {
    tags.iter().map(|t| t.name.clone()).collect()
}

/// The create body (`userNumber`, `userName`, …), and whether the opt-in
/// must follow in a PATCH (create does not take it).
pub fn create_body(fields: &ContactUpdate) -> ApiResult<(Value, Option<bool>)> {
    refuse_unsupported(fields)?;
    let phone = fields
        .phone
        .clone()
        .flatten()
        .filter(|p| !p.trim().is_empty())
        .ok_or_else(|| ApiError::Rejected {
            code: None,
            message: "a phone number is required to create a SuperWaba contact".into(),
        })?;
    let mut body = Map::new();
    body.insert("userNumber".into(), json!(phone.trim()));
    let name = display_name(
        fields.first_name.as_deref().unwrap_or_default(),
        fields.last_name.clone().flatten().as_deref(),
    );
    if !name.is_empty() {
        body.insert("userName".into(), json!(name));
    }
    if let Some(Some(email)) = &fields.email {
        body.insert("email".into(), json!(email));
    }
    if let Some(Some(country)) = &fields.country {
        body.insert("countryCode".into(), json!(country));
    }
    if let Some(tags) = &fields.tags {
        body.insert("tags".into(), json!(tag_names(tags)));
    }
    Ok((Value::Object(body), fields.phone_usage_permission))
}

/// The PATCH body, snake_case as published. `current_name` is the
/// contact's name when only one half of it changes.
pub fn patch_body(update: &ContactUpdate, current_name: Option<&str>) -> ApiResult<Value> {
    refuse_unsupported(update)?;
    if update.phone.is_some() || update.phone_country_code.is_some() {
        return Err(ApiError::Rejected {
            code: None,
            message:
                "SuperWaba cannot change a contact's phone number; create a new contact instead"
                    .into(),
        });
    }
    let mut body = Map::new();
    if update.first_name.is_some() || update.last_name.is_some() {
        let first = update
            .first_name
            .clone()
            .or_else(|| current_name.map(str::to_string))
            .unwrap_or_default();
        let name = display_name(&first, update.last_name.clone().flatten().as_deref());
        if name.is_empty() {
            return Err(ApiError::Rejected {
                code: None,
                message: "the first name cannot be empty: SuperWaba contacts need a name".into(),
            });
        }
        body.insert("name".into(), json!(name));
    }
    if let Some(email) = &update.email {
        body.insert("email".into(), json!(email));
    }
    if let Some(country) = &update.country {
        body.insert("country_code".into(), json!(country));
    }
    if let Some(tags) = &update.tags {
        body.insert("tags".into(), json!(tag_names(tags)));
    }
    if let Some(opted_in) = update.phone_usage_permission {
        body.insert("opted_in".into(), json!(opted_in));
    }
    Ok(Value::Object(body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    use crate::api::superwaba::wire::decode;

    #[test]
    fn a_conversation_maps_with_its_contact_and_unknown_statuses_kept() {
        let w: WireConversation = decode(
            &json!({ "id": "conv_1", "contact": { "id": "contact_1", "name": "Layla\u{1b}[2J Nasser" },
                "status": "ai_handling", "assigneeId": "user_1", "channel": "whatsapp",
                "lastMessage": { "text": "Hi", "timestamp": "2026-05-16T09:41:00.000Z", "direction": "inbound" },
                "unreadCount": 2, "updatedAt": "2026-05-16T09:41:00.000Z" }),
            "c",
        )
        .unwrap();
        let c = map_conversation(w).unwrap();
        assert_eq!(c.contact_id, Some(ContactId::new("contact_1")));
        assert_eq!(c.contact_name, "Layla Nasser");
        assert_eq!(c.status, ConversationStatus::Unknown("ai_handling".into()));
        assert_eq!(c.assignee, Some(AgentId::new("user_1")));
        assert_eq!(c.last_message.map(|m| m.sender), Some(SenderKind::Contact));
        assert_eq!(c.unread, Some(2));
        let no_time: WireConversation =
            decode(&json!({ "id": "conv_2", "updatedAt": "yesterday" }), "c").unwrap();
        let err = map_conversation(no_time).unwrap_err().to_string();
        assert!(err.contains("updatedAt") && err.contains("conv_2"), "{err}");
    }

    #[test]
    fn messages_map_each_content_shape_and_unknown_types() {
        let m = |v: Value| map_message(decode(&v, "m").unwrap(), "conv_9").unwrap();
        let text = m(
            json!({ "id": "m1", "direction": "outbound", "type": "text", "content": { "text": "Yes" },
            "status": "read", "timestamp": "2026-05-16T09:43:10.000Z", "clientMessageId": "c-1" }),
        );
        assert_eq!(
            (text.text.as_str(), text.sender, text.ack),
            ("Yes", SenderKind::Agent, Ack::Read)
        );
        assert_eq!(text.client_id.as_deref(), Some("c-1"));
        assert_eq!(text.conversation_id.as_str(), "conv_9");
        let doc = m(
            json!({ "id": "m2", "type": "document", "timestamp": "2026-05-16T09:43:10Z",
            "content": { "url": "https://x/i.pdf", "mimeType": "application/pdf", "filename": "invoice.pdf" } }),
        );
        assert_eq!(doc.kind, MessageKind::File);
        assert_eq!(doc.media[0].file_name.as_deref(), Some("invoice.pdf"));
        let place = m(
            json!({ "id": "m3", "type": "location", "timestamp": "2026-05-16T09:43:10Z",
            "content": { "latitude": 25.2, "longitude": 55.27, "name": "Shop" } }),
        );
        assert_eq!(place.text, "Shop (25.20000, 55.27000)");
        let odd = m(
            json!({ "id": "m4", "type": "reaction", "timestamp": "2026-05-16T09:43:10Z", "content": { "emoji": "👍" } }),
        );
        assert_eq!(odd.text, "unsupported: reaction");
        assert!(map_message(decode(&json!({ "id": "m5" }), "m").unwrap(), "c").is_err());
    }

    #[test]
    fn contacts_and_templates_map() {
        let c = map_contact(
            decode(
                &json!({ "id": "contact_1", "name": "Layla", "phone": "+971502468013",
            "country_code": "ae", "tags": ["vip"], "opted_in": true }),
                "c",
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(c.phone_country_code.as_deref(), Some("971"));
        assert_eq!(c.country.as_deref(), Some("AE"));
        assert_eq!(c.tags[0].name, "vip");
        assert_eq!(c.phone_usage_permission, Some(true));
        let t = map_template(decode(&json!({ "id": "1", "name": "order_update", "language": "en", "components": [
            { "type": "HEADER", "format": "TEXT", "text": "Order {{1}}" },
            { "type": "BODY", "text": "Hi {{1}}" },
            { "type": "BUTTONS", "buttons": [ { "type": "URL", "text": "Track", "url": "https://x/{{1}}" } ] } ] }), "t").unwrap()).unwrap();
        assert_eq!(
            (t.header.as_deref(), t.body.as_str()),
            (Some("Order {{1}}"), "Hi {{1}}")
        );
        assert_eq!(t.buttons[0].url.as_deref(), Some("https://x/{{1}}"));
        assert_eq!(t.status, TemplateStatus::Approved);
    }

    #[test]
    fn contact_bodies_use_each_endpoints_names_and_refuse_what_superwaba_lacks() {
        let fields = ContactUpdate {
            first_name: Some("Layla".into()),
            last_name: Some(Some("Nasser".into())),
            phone: Some(Some("+971502468013".into())),
            country: Some(Some("AE".into())),
            phone_usage_permission: Some(true),
            ..ContactUpdate::default()
        };
        let (body, opt_in) = create_body(&fields).unwrap();
        assert_eq!(
            body,
            json!({ "userNumber": "+971502468013", "userName": "Layla Nasser", "countryCode": "AE" })
        );
        assert_eq!(opt_in, Some(true));
        let patch = ContactUpdate {
            last_name: Some(Some("N.".into())),
            email: Some(None),
            phone_usage_permission: Some(false),
            ..ContactUpdate::default()
        };
        assert_eq!(
            patch_body(&patch, Some("Layla")).unwrap(),
            json!({ "name": "Layla N.", "email": null, "opted_in": false })
        );
        let phone = ContactUpdate {
            phone: Some(Some("+1".into())),
            ..ContactUpdate::default()
        };
        let err = patch_body(&phone, None).unwrap_err().to_string();
        assert!(err.contains("phone"), "{err}");
        let gender = ContactUpdate {
            gender: Some(Some("female".into())),
            ..ContactUpdate::default()
        };
        assert!(
            patch_body(&gender, None)
                .unwrap_err()
                .to_string()
                .contains("gender")
        );
        assert!(
            create_body(&ContactUpdate::default())
                .unwrap_err()
                .to_string()
                .contains("phone")
        );
        // Each refusal names its field the way the editor finds it.
        use crate::contact_fields::ContactField;
        let named = |u: ContactUpdate| match patch_body(&u, Some("Layla")) {
            Err(ApiError::Rejected { message, .. }) => ContactField::named_in(&message),
            other => panic!("{other:?}"),
        };
        assert_eq!(named(phone), Some(ContactField::Phone));
        assert_eq!(named(gender), Some(ContactField::Gender));
        assert_eq!(
            named(ContactUpdate {
                email_usage_permission: Some(true),
                ..ContactUpdate::default()
            }),
            Some(ContactField::EmailPermission)
        );
        assert_eq!(
            named(ContactUpdate {
                first_name: Some(" ".into()),
                ..ContactUpdate::default()
            }),
            Some(ContactField::FirstName)
        );
        assert_eq!(
            named(ContactUpdate {
                language: Some(Some("en".into())),
                ..ContactUpdate::default()
            }),
            Some(ContactField::Language)
        );
        assert_eq!(
            named(ContactUpdate {
                username: Some(Some("x".into())),
                ..ContactUpdate::default()
            }),
            Some(ContactField::Username)
        );
        assert_eq!(status_to_wire(&ConversationStatus::Pending), None);
    }
}
