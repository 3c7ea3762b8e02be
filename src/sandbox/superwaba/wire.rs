//! The JSON the SuperWaba sandbox answers with, in the reference's shapes
//! and its mixed naming (camelCase reads, snake_case PATCH answers).

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::world::{Contact, Conversation, Message, Template, World, iso, preview_text};
use crate::sandbox::rest::json_response;

pub(crate) fn ok(data: Value) -> Response {
    json_response(StatusCode::OK, &json!({ "success": true, "data": data }))
}

pub(crate) fn created(data: Value) -> Response {
    json_response(
        StatusCode::CREATED,
        &json!({ "success": true, "data": data }),
    )
}

/// The overview's error envelope: `{ success: false, message }`.
pub(crate) fn error(status: StatusCode, message: &str) -> Response {
    json_response(status, &json!({ "success": false, "message": message }))
}

/// The Contacts page's variant: `error` instead of `message`.
pub(crate) fn contact_error(status: StatusCode, message: &str) -> Response {
    json_response(status, &json!({ "success": false, "error": message }))
}

/// The Developer API's variant, with a code and a hint.
pub(crate) fn developer_error(
    status: StatusCode,
    message: &str,
    code: &str,
    fix: &str,
) -> Response {
    let mut body = json!({ "success": false, "message": message, "code": code });
    if !fix.is_empty() {
        body["fix"] = json!(fix);
    }
    json_response(status, &body)
}

/// A contact as lists show it; `full` adds what only single-contact
/// answers carry (`vendorContactId`, `params`).
pub(crate) fn contact(world: &World, c: &Contact, full: bool) -> Value {
    let mut v = json!({
        "id": c.id,
        "name": c.name,
        "phone": c.phone,
        "email": c.email,
        "countryCode": c.country_code,
        "tags": c.tags,
        "labels": c.labels,
        "source": c.source,
        "optedIn": c.opted_in,
        "isBlocked": c.is_blocked,
        "lastMessageAt": world.last_message_at(&c.id).map(iso),
        "conversationCount": world.conversation_count(&c.id),
        "createdAt": iso(c.created_at),
        "updatedAt": iso(c.updated_at),
    });
    if full {
        v["vendorContactId"] = json!(c.vendor_id);
        v["params"] = Value::Object(c.params.clone());
    }
    v
}

/// The PATCH answer: snake_case and partial, as published.
pub(crate) fn contact_patched(c: &Contact) -> Value {
    json!({
        "id": c.id,
        "name": c.name,
        "phone": c.phone,
        "email": c.email,
        "country_code": c.country_code,
        "tags": c.tags,
        "params": c.params,
        "is_blocked": c.is_blocked,
        "opted_in": c.opted_in,
        "source": c.source,
        "updated_at": iso(c.updated_at),
    })
}

pub(crate) fn conversation(world: &World, c: &Conversation) -> Value {
    let contact = world
        .contacts
        .iter()
        .find(|k| k.id == c.contact_id)
        .map(|k| json!({ "id": k.id, "name": k.name, "phone": k.phone, "avatar": null }));
    let last = world.last_message(&c.id).map(|m| {
        json!({ "text": preview_text(m), "timestamp": iso(m.timestamp), "direction": m.direction })
    });
    json!({
        "id": c.id,
        "contactId": c.contact_id,
        "contact": contact,
        "status": c.status,
        "assigneeId": c.assignee_id,
        "channel": "whatsapp",
        "lastMessage": last,
        "unreadCount": world.unread(&c.id),
        "aiHandling": c.status == "ai_handling",
        "createdAt": iso(c.created_at),
        "updatedAt": iso(c.updated_at),
    })
}

pub(crate) fn message(world: &World, m: &Message) -> Value {
    let sender = (m.direction == "inbound")
        .then(|| {
            world
                .conversations
                .iter()
                .find(|c| c.id == m.conversation_id)
                .map(|c| c.contact_id.clone())
        })
        .flatten();
    let mut v = json!({
        "id": m.id,
        "waMessageId": m.wa_message_id,
        "conversationId": m.conversation_id,
        "direction": m.direction,
        "type": m.kind,
        "content": m.content,
        "status": m.status,
        "timestamp": iso(m.timestamp),
        "senderId": sender,
    });
    if let Some(client) = &m.client_message_id {
        v["clientMessageId"] = json!(client);
    }
    v
}

pub(crate) fn template(t: &Template) -> Value {
    json!({
        "id": t.id,
        "name": t.name,
        "language": t.language,
        "category": t.category,
        "status": t.status,
        "components": t.components,
    })
}
