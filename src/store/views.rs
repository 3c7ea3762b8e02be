//! Views are queries over the store: a tab (Mine, Unassigned, All),
//! filters that combine, a sort, and the filter typed with `/`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{
    AgentId, Channel, Conversation, ConversationId, ConversationStatus, Priority, SenderKind, TagId,
};
use crate::store::{ConversationEntry, Store};

/// Metadata key of the saved view.
pub const META_KEY: &str = "view";
/// Metadata key of the agent chosen as "me" when the config names none.
pub const ME_KEY: &str = "me.agent";

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Tab {
    Mine,
    Unassigned,
    #[default]
    All,
}

impl Tab {
    pub const ALL: [Tab; 3] = [Tab::Mine, Tab::Unassigned, Tab::All];

    pub fn label(self) -> &'static str {
        match self {
            Tab::Mine => "Mine",
            Tab::Unassigned => "Unassigned",
            Tab::All => "All",
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SortOrder {
    #[default]
    LatestActivity,
    LongestWaiting,
    Priority,
}

impl SortOrder {
    pub const ALL: [SortOrder; 3] = [
        SortOrder::LatestActivity,
        SortOrder::LongestWaiting,
        SortOrder::Priority,
    ];

    pub fn label(self) -> &'static str {
        match self {
            SortOrder::LatestActivity => "latest activity",
            SortOrder::LongestWaiting => "longest waiting",
            SortOrder::Priority => "priority",
        }
    }

    pub fn next(self) -> SortOrder {
        let index = SortOrder::ALL.iter().position(|s| *s == self).unwrap_or(0);
        SortOrder::ALL[(index + 1) % SortOrder::ALL.len()]
    }
}

/// Filters combine: a row must pass every one that is set. Within one
/// list (statuses, channels…) any value passes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Filters {
    pub statuses: Vec<ConversationStatus>,
    pub channels: Vec<Channel>,
    pub tags: Vec<TagId>,
    pub priorities: Vec<Priority>,
    pub starred: bool,
    pub unread: bool,
}

impl Filters {
    pub fn is_empty(&self) -> bool {
        *self == Filters::default()
    }

    pub fn matches(&self, entry: &ConversationEntry) -> bool {
        let c = &entry.conversation;
        (self.statuses.is_empty() || self.statuses.contains(&c.status))
            && (self.channels.is_empty() || self.channels.contains(&c.channel))
            && (self.tags.is_empty() || c.tags.iter().any(|t| self.tags.contains(&t.id)))
            && (self.priorities.is_empty()
                || c.priority
                    .as_ref()
                    .is_some_and(|p| self.priorities.contains(p)))
            && (!self.starred || c.starred)
            && (!self.unread || entry.unread > 0)
    }
}

/// What the list shows; saved, so it survives a restart.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ViewSpec {
    pub tab: Tab,
    pub filters: Filters,
    pub sort: SortOrder,
}

/// Rows in each tab under the current filters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TabCounts {
    pub mine: usize,
    pub unassigned: usize,
    pub all: usize,
}

impl TabCounts {
    pub fn get(&self, tab: Tab) -> usize {
        match tab {
            Tab::Mine => self.mine,
            Tab::Unassigned => self.unassigned,
            Tab::All => self.all,
        }
    }
}

/// The rows on screen, in order, and the tab counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListView {
    pub rows: Vec<ConversationId>,
    pub counts: TabCounts,
}

pub fn in_tab(tab: Tab, conversation: &Conversation, me: Option<&AgentId>) -> bool {
    match tab {
        Tab::All => true,
        Tab::Unassigned => conversation.assignee.is_none(),
        Tab::Mine => me.is_some() && conversation.assignee.as_ref() == me,
    }
}

/// Since when the customer has waited: their message is the newest one,
/// so nobody has answered it yet.
pub fn waiting_since(conversation: &Conversation) -> Option<DateTime<Utc>> {
    let last = conversation.last_message.as_ref()?;
    let done = matches!(
        conversation.status,
        ConversationStatus::Resolved | ConversationStatus::Closed
    );
    (last.sender == SenderKind::Contact && !done).then_some(last.created_at)
}

fn priority_rank(priority: Option<&Priority>) -> u8 {
    match priority {
        Some(Priority::Urgent) => 0,
        Some(Priority::High) => 1,
        Some(Priority::Medium) => 2,
        Some(Priority::Low) => 3,
        Some(Priority::Unknown(_)) | None => 4,
    }
}

/// Case- and accent-insensitive text a `/` filter is matched against:
/// contact name, phone, e-mail and the last message.
fn matches_query(store: &Store, entry: &ConversationEntry, folded_query: &str) -> bool {
    if folded_query.is_empty() {
        return true;
    }
    let c = &entry.conversation;
    let mut haystack = c.contact_name.clone();
    if let Some(details) = c
        .contact_id
        .as_ref()
        .and_then(|id| store.contact_details(id))
    {
        haystack.push(' ');
        haystack.push_str(details);
    }
    if let Some(last) = &c.last_message {
        haystack.push(' ');
        haystack.push_str(&last.text);
    }
    crate::store::search_text::fold(&haystack).contains(folded_query)
}

/// The list for `spec` and `query`, with the tab counts.
pub fn compute(
    store: &Store,
    spec: &ViewSpec,
    query: &str,
    me: Option<&AgentId>,
    now: DateTime<Utc>,
) -> ListView {
    let folded = crate::store::search_text::fold(query.trim());
    let mut counts = TabCounts::default();
    let mut rows: Vec<&ConversationEntry> = Vec::new();
    for id in store.order() {
        let Some(entry) = store.get(id) else { continue };
        if !spec.filters.matches(entry) {
            continue;
        }
        let c = &entry.conversation;
        counts.all += 1;
        if in_tab(Tab::Unassigned, c, me) {
            counts.unassigned += 1;
        }
        if in_tab(Tab::Mine, c, me) {
            counts.mine += 1;
        }
        if in_tab(spec.tab, c, me) && matches_query(store, entry, &folded) {
            rows.push(entry);
        }
    }
    // The store's order is latest activity already; the other sorts are
    // stable on it, so ties keep that order.
    match spec.sort {
        SortOrder::LatestActivity => {}
        SortOrder::LongestWaiting => rows.sort_by_key(|e| {
            waiting_since(&e.conversation).unwrap_or(now + chrono::Duration::days(36500))
        }),
        SortOrder::Priority => {
            rows.sort_by_key(|e| priority_rank(e.conversation.priority.as_ref()))
        }
    }
    ListView {
        rows: rows
            .into_iter()
            .map(|e| e.conversation.id.clone())
            .collect(),
        counts,
    }
}

/// WhatsApp lets a business answer freely for 24 hours after the
/// customer's last message.
pub const WHATSAPP_WINDOW: chrono::Duration = chrono::Duration::hours(24);

/// The conversation that most needs the agent now, other than `skip`:
/// mine with a customer waiting (longest first), then WhatsApp windows
/// closing soonest, then unassigned with a customer waiting (longest first).
pub fn next_best(
    store: &Store,
    me: Option<&AgentId>,
    now: DateTime<Utc>,
    skip: Option<&ConversationId>,
) -> Option<ConversationId> {
    // (group, sort key, id): the smallest wins.
    let mut best: Option<(u8, DateTime<Utc>, &ConversationId)> = None;
    for id in store.order() {
        if Some(id) == skip {
            continue;
        }
        let Some(entry) = store.get(id) else { continue };
        let c = &entry.conversation;
        let Some(since) = waiting_since(c) else {
            continue;
        };
        let mine = me.is_some() && c.assignee.as_ref() == me;
        let unassigned = c.assignee.is_none();
        let window_closes = since + WHATSAPP_WINDOW;
        let candidate = if mine {
            (0, since)
        } else if c.channel == Channel::WhatsApp && window_closes > now && unassigned {
            (1, window_closes)
        } else if unassigned {
            (2, since)
        } else {
            continue;
        };
        if best.is_none_or(|(group, key, best_id)| {
            (candidate.0, candidate.1, id) < (group, key, best_id)
        }) {
            best = Some((candidate.0, candidate.1, id));
        }
    }
    best.map(|(_, _, id)| id.clone())
}
