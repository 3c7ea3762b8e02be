//! Paging a thread back from its oldest message held, when many messages
//! share one time. `before` the anchor's time would skip those not yet
//! held, and "at or before" it would bring the same page forever; so the
//! anchor's time stays fixed and the page number advances until a page
//! reaches older messages, each message returned once.

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use crate::api::{ApiResult, Provider};
use crate::domain::{ConversationId, Message, MessageQuery, Page, PageCursor};

/// Pages read for one load at most: past this the load returns what it
/// has, and the next one resumes from the messages then held.
pub const MAX_PAGES_PER_LOAD: u32 = 20;

/// Messages older than what is held, newest first, starting with those
/// sharing the anchor's time that are not held yet. `held_at_anchor`
/// messages at `anchor` are held already (the newest ones at that time).
pub async fn older_messages(
    provider: &dyn Provider,
    conversation_id: &ConversationId,
    anchor: DateTime<Utc>,
    held_at_anchor: usize,
    limit: u32,
) -> ApiResult<Page<Message>> {
    let limit = limit.max(1);
    let query = MessageQuery {
        conversation_id: conversation_id.clone(),
        // Times are kept to the millisecond: this is "at or before".
        before: Some(anchor + chrono::Duration::milliseconds(1)),
        after: None,
        limit,
    };
    let first = u32::try_from(held_at_anchor / limit as usize)
        .unwrap_or(u32::MAX - MAX_PAGES_PER_LOAD)
        .saturating_add(1);
    let mut items: Vec<Message> = Vec::new();
    let mut seen: HashSet<crate::domain::MessageId> = HashSet::new();
    let mut skipped = 0;
    let mut more = true;
    for page in first..first.saturating_add(MAX_PAGES_PER_LOAD) {
        let got = provider.list_messages_page(&query, page).await?;
        more = got.has_more() && !got.items.is_empty();
        skipped += got.skipped;
        let reached_older = got.items.iter().any(|m| m.created_at < anchor);
        for message in got.items {
            if seen.insert(message.id.clone()) {
                items.push(message);
            }
        }
        if reached_older || !more {
            break;
        }
    }
    items.sort_by(|a, b| {
        b.created_at
            .cmp(&a.created_at)
            .then_with(|| b.id.cmp(&a.id))
    });
    Ok(Page {
        items,
        next: more.then(|| PageCursor::new("older")),
        total: None,
        skipped,
    })
}
