//! Session API conversations and messages (superwaba.md §6, §7): list,
//! get, close, assign; messages listed by `before` cursor (no `success`
//! wrapper) and sent as text within WhatsApp's 24-hour window.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use super::contacts::paging;
use super::world::now_ms;
use super::{Shared, auth, wire};
use crate::sandbox::lock;
use crate::sandbox::rest::json_response;

pub(crate) const STATUSES: [&str; 4] = ["open", "closed", "ai_handling", "escalated"];
const NOT_FOUND: &str = "Conversation not found";

pub(crate) async fn list(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Err(refusal) = auth::session(&shared, &headers) {
        return *refusal;
    }
    let (page, limit) = match paging(&query, 20) {
        Ok(p) => p,
        Err(refusal) => return *refusal,
    };
    let status = query
        .get("status")
        .map(String::as_str)
        .filter(|s| !s.is_empty());
    if let Some(s) = status
        && !STATUSES.contains(&s)
    {
        return wire::error(
            StatusCode::BAD_REQUEST,
            &format!("status must be one of {}, not {s}", STATUSES.join(", ")),
        );
    }
    let assignee = query
        .get("assignee")
        .map(String::as_str)
        .filter(|s| !s.is_empty());
    let world = lock(&shared.world);
    let mut rows: Vec<_> = world
        .conversations
        .iter()
        .filter(|c| status.is_none_or(|s| c.status == s))
        .filter(|c| assignee.is_none_or(|a| c.assignee_id.as_deref() == Some(a)))
        .collect();
    rows.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then(b.id.cmp(&a.id)));
    let total = rows.len();
    let start = (page - 1).saturating_mul(limit);
    let conversations: Vec<Value> = rows
        .iter()
        .skip(start)
        .take(limit)
        .map(|c| wire::conversation(&world, c))
        .collect();
    wire::ok(json!({
        "conversations": conversations,
        "total": total,
        "page": page,
        "limit": limit,
        "hasNext": start + limit < total,
    }))
}

pub(crate) async fn get(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(refusal) = auth::session(&shared, &headers) {
        return *refusal;
    }
    let world = lock(&shared.world);
    match world.conversation_index(&id) {
        Some(i) => wire::ok(wire::conversation(&world, &world.conversations[i])),
        None => wire::error(StatusCode::NOT_FOUND, NOT_FOUND),
    }
}

pub(crate) async fn close(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(refusal) = auth::session(&shared, &headers) {
        return *refusal;
    }
    let mut world = lock(&shared.world);
    let Some(i) = world.conversation_index(&id) else {
        return wire::error(StatusCode::NOT_FOUND, NOT_FOUND);
    };
    if world.conversations[i].status != "closed" {
        world.conversations[i].status = "closed".into();
        world.touch_conversation(i);
    }
    wire::ok(wire::conversation(&world, &world.conversations[i]))
}

pub(crate) async fn assign(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(refusal) = auth::session(&shared, &headers) {
        return *refusal;
    }
    let body: Value = match serde_json::from_slice(&body) {
        Ok(v @ Value::Object(_)) => v,
        _ => {
            return wire::error(
                StatusCode::BAD_REQUEST,
                "Request body must be a JSON object",
            );
        }
    };
    let assignee = match body.get("assigneeId") {
        Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        _ => {
            return wire::error(
                StatusCode::BAD_REQUEST,
                "assigneeId is required (a user id, or null to unassign)",
            );
        }
    };
    let mut world = lock(&shared.world);
    let Some(i) = world.conversation_index(&id) else {
        return wire::error(StatusCode::NOT_FOUND, NOT_FOUND);
    };
    if let Some(a) = &assignee
        && world.user(a).is_none()
    {
        return wire::error(
            StatusCode::BAD_REQUEST,
            &format!("{a} is not a member of this organization"),
        );
    }
    world.conversations[i].assignee_id = assignee;
    world.touch_conversation(i);
    wire::ok(wire::conversation(&world, &world.conversations[i]))
}

pub(crate) async fn messages(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Err(refusal) = auth::session(&shared, &headers) {
        return *refusal;
    }
    let Some(conversation) = query.get("conversationId").filter(|s| !s.is_empty()) else {
        return wire::error(StatusCode::BAD_REQUEST, "conversationId is required");
    };
    let limit = match query.get("limit").map(|l| l.trim().parse::<usize>()) {
        None => 50,
        Some(Ok(n)) if (1..=100).contains(&n) => n,
        Some(_) => return wire::error(StatusCode::BAD_REQUEST, "limit must be between 1 and 100"),
    };
    let world = lock(&shared.world);
    if world.conversation_index(conversation).is_none() {
        return wire::error(StatusCode::NOT_FOUND, NOT_FOUND);
    }
    let all = world.messages_of(conversation);
    let end = match query.get("before").filter(|s| !s.is_empty()) {
        None => all.len(),
        Some(before) => match all.iter().position(|m| &m.id == before) {
            Some(i) => i,
            None => {
                return wire::error(
                    StatusCode::BAD_REQUEST,
                    &format!("before: no message {before} in this conversation"),
                );
            }
        },
    };
    let start = end.saturating_sub(limit);
    let data: Vec<Value> = all[start..end]
        .iter()
        .map(|m| wire::message(&world, m))
        .collect();
    // The documented list answer has no `success` wrapper.
    json_response(
        StatusCode::OK,
        &json!({ "data": data, "total": all.len(), "page": 1, "hasNext": start > 0 }),
    )
}

pub(crate) async fn send(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(refusal) = auth::session(&shared, &headers) {
        return *refusal;
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let Some(conversation) = body.get("conversationId").and_then(Value::as_str) else {
        return wire::error(StatusCode::BAD_REQUEST, "conversationId is required");
    };
    if body.get("type").and_then(Value::as_str) != Some("text") {
        return wire::error(
            StatusCode::BAD_REQUEST,
            "Only type \"text\" can be sent here; send templates through the Developer API",
        );
    }
    let Some(text) = body
        .pointer("/content/text")
        .and_then(Value::as_str)
        .filter(|t| !t.trim().is_empty())
    else {
        return wire::error(StatusCode::BAD_REQUEST, "content.text is required");
    };
    let client = body
        .get("clientMessageId")
        .and_then(Value::as_str)
        .map(str::to_string);
    let mut world = lock(&shared.world);
    if world.conversation_index(conversation).is_none() {
        return wire::error(StatusCode::NOT_FOUND, NOT_FOUND);
    }
    if !world.window_open(conversation, now_ms()) {
        return json_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            &json!({
                "success": false,
                "message": "The 24-hour customer service window is closed: send an approved template instead",
                "code": "OUTSIDE_24H_WINDOW",
            }),
        );
    }
    let message = world.add_outbound(conversation, "text", json!({ "text": text }), client);
    wire::created(wire::message(&world, &message))
}
