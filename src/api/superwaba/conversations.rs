//! Conversations and messages over the Session API.
//!
//! SuperWaba lists conversations newest first with no `updatedAfter`; a
//! query for changes walks pages from the newest until it passes the
//! cursor. Messages page by message id (`before`); the app pages by time,
//! so the ids at the edges of pages already read are remembered.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::SuperWabaClient;
use super::mapping::{map_conversation, map_message, status_to_wire};
use super::wire::{self, WireConversation, WireMessage};
use crate::api::http::{HttpRequest, segment};
use crate::api::{ApiError, ApiResult};
use crate::domain::{
    Conversation, ConversationId, ConversationQuery, ConversationStatus, ConversationUpdate,
    Message, MessageQuery, OutgoingText, Page, PageCursor,
};

const DEFAULT_LIMIT: u32 = 20;
const MAX_LIMIT: u32 = 100;
/// Pages walked for one query for changes (10,000 conversations).
const MAX_CHANGE_PAGES: u32 = 100;
/// Pages walked to reach messages older or newer than a time.
const MAX_MESSAGE_PAGES: usize = 20;

/// One page as SuperWaba answers it.
pub(super) struct RawPage {
    pub items: Vec<Conversation>,
    pub has_next: bool,
    pub total: Option<u64>,
    pub skipped: usize,
}

/// The server-side filters of a query; `None` when nothing can match
/// (a status SuperWaba does not have).
fn filters(query: &ConversationQuery) -> Option<(Option<String>, Option<String>)> {
    let status = match query.status.as_slice() {
        [] => None,
        [one] => Some(status_to_wire(one)?),
        // Several: filtered here, after the answer.
        many => {
            many.iter().find_map(status_to_wire)?;
            None
        }
    };
    Some((status, query.assignee.as_ref().map(|a| a.0.clone())))
}

/// What the server could not filter.
fn keep(query: &ConversationQuery, c: &Conversation) -> bool {
    let status_ok = query.status.len() <= 1
        || query.status.iter().any(|s| {
            status_to_wire(s).is_some_and(|w| status_to_wire(&c.status).as_deref() == Some(&w))
        });
    let assignee_ok = !query.unassigned || c.assignee.is_none();
    let search_ok = query.search.as_deref().is_none_or(|needle| {
        let needle = needle.trim().to_lowercase();
        needle.is_empty() || c.contact_name.to_lowercase().contains(&needle)
    });
    status_ok && assignee_ok && search_ok
}

pub(super) async fn fetch_page(
    client: &SuperWabaClient,
    page: u32,
    limit: u32,
    status: Option<&str>,
    assignee: Option<&str>,
) -> ApiResult<RawPage> {
    let data = client
        .session_json(|| {
            let mut r = HttpRequest::get("whatsapp/conversations")
                .query("page", page.to_string())
                .query("limit", limit.to_string());
            if let Some(s) = status {
                r = r.query("status", s);
            }
            if let Some(a) = assignee {
                r = r.query("assignee", a);
            }
            r
        })
        .await?;
    let (rows, mut skipped) =
        wire::rows::<WireConversation>(&data, "conversations", "conversation")?;
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        match map_conversation(row) {
            Ok(c) => items.push(c),
            Err(e) => {
                tracing::warn!("superwaba: skipped a conversation: {e}");
                skipped += 1;
            }
        }
    }
    Ok(RawPage {
        items,
        has_next: wire::has_next(&data),
        total: wire::total(&data),
        skipped,
    })
}

fn page_of(
    items: Vec<Conversation>,
    next: Option<PageCursor>,
    total: Option<u64>,
    skipped: usize,
) -> Page<Conversation> {
    Page {
        items,
        next,
        total,
        skipped,
    }
}

pub(super) async fn list(
    client: &SuperWabaClient,
    query: &ConversationQuery,
) -> ApiResult<Page<Conversation>> {
    let Some((status, assignee)) = filters(query) else {
        return Ok(page_of(Vec::new(), None, Some(0), 0));
    };
    let limit = match query.limit {
        0 => DEFAULT_LIMIT,
        n => n.min(MAX_LIMIT),
    };
    let page = super::page_number(query.cursor.as_ref())?;
    let Some(since) = query.updated_since else {
        let raw = fetch_page(client, page, limit, status.as_deref(), assignee.as_deref()).await?;
        let items = raw.items.into_iter().filter(|c| keep(query, c)).collect();
        return Ok(page_of(
            items,
            super::next_cursor(page, raw.has_next),
            raw.total,
            raw.skipped,
        ));
    };
    // Changes: every one newer than `since` comes in the first answer.
    if page > 1 {
        return Ok(page_of(Vec::new(), None, None, 0));
    }
    let mut items = Vec::new();
    let mut skipped = 0;
    for n in 1..=MAX_CHANGE_PAGES {
        let raw = fetch_page(client, n, MAX_LIMIT, status.as_deref(), assignee.as_deref()).await?;
        skipped += raw.skipped;
        let passed = raw.items.iter().any(|c| c.updated_at < since);
        items.extend(
            raw.items
                .into_iter()
                .filter(|c| c.updated_at >= since && keep(query, c)),
        );
        if passed || !raw.has_next {
            break;
        }
        if n == MAX_CHANGE_PAGES {
            tracing::warn!(
                "superwaba: more changes than {MAX_CHANGE_PAGES} pages; the rest comes next time"
            );
        }
    }
    items.sort_by(|a, b| {
        a.updated_at
            .cmp(&b.updated_at)
            .then_with(|| a.id.cmp(&b.id))
    });
    if !query.oldest_first {
        items.reverse();
    }
    Ok(page_of(items, None, None, skipped))
}

pub(super) async fn get(client: &SuperWabaClient, id: &ConversationId) -> ApiResult<Conversation> {
    let path = format!("whatsapp/conversations/{}", segment(id.as_str()));
    let data = client
        .session_json(|| HttpRequest::get(path.clone()))
        .await?;
    map_conversation(wire::decode(&data, "conversation")?)
}

/// The raw conversation, for the contact's phone.
pub(super) async fn get_raw(client: &SuperWabaClient, id: &ConversationId) -> ApiResult<Value> {
    let path = format!("whatsapp/conversations/{}", segment(id.as_str()));
    client.session_json(|| HttpRequest::get(path.clone())).await
}

pub(super) async fn update(
    client: &SuperWabaClient,
    id: &ConversationId,
    update: &ConversationUpdate,
) -> ApiResult<Conversation> {
    if update.starred.is_some() {
        return Err(ApiError::Unsupported("starring SuperWaba conversations"));
    }
    if update.priority.is_some() {
        return Err(ApiError::Unsupported(
            "priorities on SuperWaba conversations",
        ));
    }
    if update.tags.is_some() {
        return Err(ApiError::Unsupported("tags on SuperWaba conversations"));
    }
    let close = match &update.status {
        None => false,
        Some(ConversationStatus::Closed | ConversationStatus::Resolved) => true,
        Some(other) => {
            return Err(ApiError::Rejected {
                code: None,
                message: format!(
                    "SuperWaba conversations can only be closed, not set to {}; they reopen when the customer writes",
                    other.label()
                ),
            });
        }
    };
    let base = format!("whatsapp/conversations/{}", segment(id.as_str()));
    let mut last = None;
    if close {
        let path = format!("{base}/close");
        last = Some(
            client
                .session_json(|| HttpRequest::post(path.clone()))
                .await?,
        );
    }
    if let Some(assignee) = &update.assignee {
        let path = format!("{base}/assign");
        let body = json!({ "assigneeId": assignee.as_ref().map(|a| a.0.clone()) });
        last = Some(
            client
                .session_json(|| HttpRequest::post(path.clone()).json(body.clone()))
                .await?,
        );
    }
    match last {
        Some(data) => map_conversation(wire::decode(&data, "conversation")?),
        None => get(client, id).await,
    }
}

/// One page of messages, newest first, and whether older ones exist.
async fn fetch_messages(
    client: &SuperWabaClient,
    conversation: &str,
    limit: u32,
    before: Option<&str>,
) -> ApiResult<(Vec<Message>, bool, usize)> {
    let body = client
        .session_body(|| {
            let mut r = HttpRequest::get("whatsapp/messages")
                .query("conversationId", conversation)
                .query("limit", limit.to_string());
            if let Some(b) = before {
                r = r.query("before", b);
            }
            r
        })
        .await?;
    let data = body.get("data").cloned().unwrap_or(Value::Null);
    let (rows, mut skipped) = wire::rows::<WireMessage>(&data, "data", "message")?;
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        match map_message(row, conversation) {
            Ok(m) => items.push(m),
            Err(e) => {
                tracing::warn!("superwaba: skipped a message: {e}");
                skipped += 1;
            }
        }
    }
    // The order is not documented: newest first by time.
    items.sort_by(|a, b| {
        b.created_at
            .cmp(&a.created_at)
            .then_with(|| b.id.cmp(&a.id))
    });
    if let Some(oldest) = items.last() {
        client.remember_cursor(conversation, oldest.created_at, oldest.id.as_str());
    }
    // Paging sits beside `data`, or inside it when a server wraps it.
    Ok((
        items,
        wire::has_next(&body) || wire::has_next(&data),
        skipped,
    ))
}

pub(super) async fn messages(
    client: &SuperWabaClient,
    query: &MessageQuery,
) -> ApiResult<Page<Message>> {
    messages_page(client, query, 1).await
}

/// Page `page` (from 1) of what `query` selects. Pages past the first are
/// read from the edge of what is selected, so messages sharing one time
/// are each read once however many there are (within the pages allowed).
pub(super) async fn messages_page(
    client: &SuperWabaClient,
    query: &MessageQuery,
    page: u32,
) -> ApiResult<Page<Message>> {
    let conversation = query.conversation_id.as_str();
    let limit = match query.limit {
        0 => 50,
        n => n.min(MAX_LIMIT),
    } as usize;
    let skip = limit * (page.max(1) as usize - 1);
    let want = skip + limit;
    let in_range = |m: &Message| {
        query.before.is_none_or(|b| m.created_at < b)
            && query.after.is_none_or(|a| m.created_at > a)
    };
    // Start right at the page edge when it is known.
    let mut cursor = query.before.and_then(|b| client.cursor_at(conversation, b));
    let direct = cursor.is_some() || query.before.is_none();
    let mut items: Vec<Message> = Vec::new();
    let mut skipped = 0;
    let mut more = false;
    for _ in 0..MAX_MESSAGE_PAGES {
        let ask = if direct && query.after.is_none() && skip == 0 {
            limit as u32
        } else {
            MAX_LIMIT
        };
        let (page, has_next, bad) =
            fetch_messages(client, conversation, ask, cursor.as_deref()).await?;
        skipped += bad;
        let oldest: Option<(DateTime<Utc>, String)> =
            page.last().map(|m| (m.created_at, m.id.0.clone()));
        items.extend(page.into_iter().filter(|m| in_range(m)));
        let past_after = query
            .after
            .is_some_and(|a| oldest.as_ref().is_some_and(|(t, _)| *t <= a));
        more = has_next && !past_after;
        if items.len() >= want || !more {
            break;
        }
        cursor = oldest.map(|(_, id)| id);
        if cursor.is_none() {
            break;
        }
    }
    // By time only, keeping the order read for messages sharing one: each
    // request reads further back, so a wider read begins the same way as a
    // narrower one and pages past the first neither skip nor repeat.
    items.sort_by_key(|m| std::cmp::Reverse(m.created_at));
    if items.len() > want {
        items.truncate(want);
        more = true;
    }
    items.drain(..skip.min(items.len()));
    if let Some(oldest) = items.last() {
        client.remember_cursor(conversation, oldest.created_at, oldest.id.as_str());
    }
    // Messages page by time; the cursor names the oldest one read.
    let next = more
        .then(|| items.last().map(|m| PageCursor::new(m.id.as_str())))
        .flatten();
    Ok(Page {
        items,
        next,
        total: None,
        skipped,
    })
}

pub(super) async fn send_text(
    client: &SuperWabaClient,
    message: &OutgoingText,
) -> ApiResult<Message> {
    let conversation = message.conversation_id.as_str();
    let body = json!({
        "conversationId": conversation,
        "type": "text",
        "content": { "text": message.text },
        // Not documented; where the server keeps it, the echo can be found.
        "clientMessageId": message.client_id,
    });
    let data = client
        .session_json(|| HttpRequest::post("whatsapp/messages").json(body.clone()))
        .await?;
    let mut sent = map_message(wire::decode(&data, "sent message")?, conversation)?;
    sent.client_id
        .get_or_insert_with(|| message.client_id.clone());
    Ok(sent)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::AgentId;

    fn conversation(status: ConversationStatus, assignee: Option<&str>) -> Conversation {
        Conversation {
            id: ConversationId::new("conv_1"),
            contact_id: None,
            contact_name: "Layla Nasser".into(),
            channel: crate::domain::Channel::WhatsApp,
            reply_channel_id: None,
            status,
            assignee: assignee.map(AgentId::new),
            starred: false,
            priority: None,
            tags: Vec::new(),
            last_message: None,
            created_at: None,
            updated_at: Utc::now(),
            unread: None,
        }
    }

    #[test]
    fn filters_go_to_the_server_where_it_can_take_them() {
        let one = ConversationQuery {
            status: vec![ConversationStatus::Resolved],
            ..ConversationQuery::default()
        };
        assert_eq!(filters(&one), Some((Some("closed".into()), None)));
        let none = ConversationQuery {
            status: vec![ConversationStatus::Pending],
            ..ConversationQuery::default()
        };
        assert_eq!(filters(&none), None);
        let many = ConversationQuery {
            status: vec![ConversationStatus::Open, ConversationStatus::Pending],
            unassigned: true,
            search: Some("layla".into()),
            ..ConversationQuery::default()
        };
        assert_eq!(filters(&many), Some((None, None)));
        assert!(keep(&many, &conversation(ConversationStatus::Open, None)));
        assert!(!keep(
            &many,
            &conversation(ConversationStatus::Closed, None)
        ));
        assert!(!keep(
            &many,
            &conversation(ConversationStatus::Open, Some("user_1"))
        ));
    }
}
