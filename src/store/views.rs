//! Views are queries over the store: a tab (Mine, Unassigned, All),
//! filters that combine, a sort, and the filter typed with `/`.
//!
//! [`ViewEngine`] answers them on every key for 50,000 conversations: it
//! keeps what each row needs (its facets and the text the filter matches)
//! and redoes only the rows the store reports changed; it keeps the rows of
//! the tab under its filters and sort until one of those changes; and a
//! typed filter that extends the previous one only re-matches its hits.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use nucleo_matcher::pattern::{Atom, AtomKind, CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Matcher, Utf32String};
use serde::{Deserialize, Serialize};

use crate::domain::{
    AgentId, Channel, Conversation, ConversationId, ConversationStatus, Priority, SenderKind, TagId,
};
use crate::store::{ChangeCursor, Changes, ConversationEntry, Store};
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

    /// For a narrow list.
    pub fn short_label(self) -> &'static str {
        match self {
            Tab::Mine => "Mine",
            Tab::Unassigned => "Unasg.",
            Tab::All => "All",
        }
    }

    /// For a very narrow list.
    pub fn initial(self) -> &'static str {
        match self {
            Tab::Mine => "M",
            Tab::Unassigned => "U",
            Tab::All => "A",
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
        self.admits(
            &c.status,
            &c.channel,
            c.tags.iter().map(|t| &t.id),
            c.priority.as_ref(),
            c.starred,
            entry.unread > 0,
        )
    }

    fn admits<'a>(
        &self,
        status: &ConversationStatus,
        channel: &Channel,
        mut tags: impl Iterator<Item = &'a TagId>,
        priority: Option<&Priority>,
        starred: bool,
        unread: bool,
    ) -> bool {
        (self.statuses.is_empty() || self.statuses.contains(status))
            && (self.channels.is_empty() || self.channels.contains(channel))
            && (self.tags.is_empty() || tags.any(|t| self.tags.contains(t)))
            && (self.priorities.is_empty() || priority.is_some_and(|p| self.priorities.contains(p)))
            && (!self.starred || starred)
            && (!self.unread || unread)
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
    tab_admits(tab, conversation.assignee.as_ref(), me)
}

fn tab_admits(tab: Tab, assignee: Option<&AgentId>, me: Option<&AgentId>) -> bool {
    match tab {
        Tab::All => true,
        Tab::Unassigned => assignee.is_none(),
        Tab::Mine => me.is_some() && assignee == me,
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

/// Characters of the last message the filter looks at: a preview's worth,
/// which bounds the work per key and the memory kept per row.
const MESSAGE_CHARS: usize = 300;

/// What the view needs of one conversation, kept so that a tab switch or a
/// key does not walk the store's maps.
#[derive(Debug, Clone)]
struct Row {
    id: ConversationId,
    status: ConversationStatus,
    channel: Channel,
    tags: Vec<TagId>,
    priority: Option<Priority>,
    starred: bool,
    unread: bool,
    assignee: Option<AgentId>,
    waiting_since: Option<DateTime<Utc>>,
    /// Contact name, phone and e-mail, matched fuzzily.
    people: [Utf32String; 3],
    /// The start of the last message, matched word by word.
    message: Utf32String,
}

impl Row {
    fn new(store: &Store, entry: &ConversationEntry) -> Row {
        let c = &entry.conversation;
        let details = c
            .contact_id
            .as_ref()
            .and_then(|id| store.contact_details(id));
        let text = |s: Option<&String>| s.map_or_else(Utf32String::default, |s| s.as_str().into());
        let message = c
            .last_message
            .as_ref()
            .map_or_else(Utf32String::default, |m| {
                let end = m
                    .text
                    .char_indices()
                    .nth(MESSAGE_CHARS)
                    .map_or(m.text.len(), |(end, _)| end);
                // nucleo-matcher 0.3.1 never finds a word at the very end of a
                // non-ASCII text; a trailing space keeps the last word findable.
                format!("{} ", &m.text[..end]).into()
            });
        Row {
            id: c.id.clone(),
            status: c.status.clone(),
            channel: c.channel.clone(),
            tags: c.tags.iter().map(|t| t.id.clone()).collect(),
            priority: c.priority.clone(),
            starred: c.starred,
            unread: entry.unread > 0,
            assignee: c.assignee.clone(),
            waiting_since: waiting_since(c),
            people: [
                c.contact_name.as_str().into(),
                text(details.and_then(|d| d.phone.as_ref())),
                text(details.and_then(|d| d.email.as_ref())),
            ],
            message,
        }
    }

    fn admitted_by(&self, filters: &Filters) -> bool {
        filters.admits(
            &self.status,
            &self.channel,
            self.tags.iter(),
            self.priority.as_ref(),
            self.starred,
            self.unread,
        )
    }
}

/// The filter typed with `/`, one word at a time (split at spaces): every
/// word must match the contact's name, phone or e-mail fuzzily (its letters
/// in order, gaps allowed: `5551234` finds `+90 555 123 4567`) or appear in
/// the last message. A short word matches almost any long message fuzzily,
/// so there it must appear as typed. A word in lower case ignores case, one
/// with a capital respects it; plain letters also match accented ones
/// (`ayse` finds `Ayşe`) unless the word has accents itself.
///
/// Every rule only gets stricter as a word grows or words are added, so the
/// hits of a longer query are among the hits of its beginning.
struct Query {
    /// (fuzzy for the people fields, substring for the message) per word.
    words: Vec<(Atom, Atom)>,
}

impl Query {
    fn new(query: &str) -> Query {
        let atoms =
            |kind| Pattern::new(query, CaseMatching::Smart, Normalization::Smart, kind).atoms;
        Query {
            words: atoms(AtomKind::Fuzzy)
                .into_iter()
                .zip(atoms(AtomKind::Substring))
                .collect(),
        }
    }

    fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    fn matches(&self, row: &Row, matcher: &mut Matcher) -> bool {
        self.words.iter().all(|(fuzzy, substring)| {
            row.people
                .iter()
                .any(|field| fuzzy.score(field.slice(..), matcher).is_some())
                || substring.score(row.message.slice(..), matcher).is_some()
        })
    }
}

/// `query` only narrows what `previous` matched. A trailing backslash may
/// escape the space typed next (nucleo's syntax), which joins two words.
fn extends(previous: &str, query: &str) -> bool {
    query.starts_with(previous) && !previous.ends_with('\\')
}

/// What the rows of a view depend on besides the typed filter.
#[derive(Debug, Clone, PartialEq)]
struct BaseKey {
    generation: u64,
    spec: ViewSpec,
    me: Option<AgentId>,
}

/// The tab's rows under the filters, in the chosen order, and the counts.
#[derive(Debug, Clone)]
struct Base {
    key: BaseKey,
    slots: Vec<u32>,
    counts: TabCounts,
}

/// The rows the last typed filter matched, to narrow on the next key.
#[derive(Debug, Clone)]
struct Narrowed {
    key: BaseKey,
    query: String,
    slots: Vec<u32>,
}

/// The list's view over the store, kept between calls (see the module's
/// comment). It follows one store at a time: given another one, or one
/// whose change log it fell behind, it rebuilds.
///
/// With a typed filter, the matching rows keep the chosen sort rather than
/// being ranked by match quality: the list does not jump about while the
/// agent types, and "longest waiting" keeps meaning what it says.
#[derive(Debug, Clone, Default)]
pub struct ViewEngine {
    /// Where the store's change log stood at the last sync; `None` before
    /// the first build.
    cursor: Option<ChangeCursor>,
    rows: Vec<Row>,
    slots: HashMap<ConversationId, u32>,
    /// Slots in the store's order (latest activity).
    order: Vec<u32>,
    /// `order` by longest waiting and by priority, made on first use.
    by_waiting: Option<Vec<u32>>,
    by_priority: Option<Vec<u32>>,
    /// Bumped whenever a row or the order changes.
    generation: u64,
    base: Option<Base>,
    narrowed: Option<Narrowed>,
    tag_names: HashMap<TagId, String>,
    matcher: Matcher,
}

impl ViewEngine {
    /// The list for `spec` and `query`, with the tab counts (which ignore
    /// the query).
    pub fn compute(
        &mut self,
        store: &Store,
        spec: &ViewSpec,
        query: &str,
        me: Option<&AgentId>,
    ) -> ListView {
        self.sync(store);
        let key = BaseKey {
            generation: self.generation,
            spec: spec.clone(),
            me: me.cloned(),
        };
        if self.base.as_ref().is_none_or(|base| base.key != key) {
            self.base = Some(self.base_for(key.clone()));
        }
        let Some(base) = &self.base else {
            return ListView::default();
        };
        let pattern = Query::new(query);
        let slots: &[u32] = if pattern.is_empty() {
            self.narrowed = None;
            &base.slots
        } else {
            let previous = self
                .narrowed
                .take()
                .filter(|n| n.key == key && extends(&n.query, query));
            let (rows, matcher) = (&self.rows, &mut self.matcher);
            let slots = match previous {
                Some(previous) if previous.query == query => previous.slots,
                Some(previous) => matching(rows, matcher, &pattern, &previous.slots),
                None => matching(rows, matcher, &pattern, &base.slots),
            };
            &self
                .narrowed
                .insert(Narrowed {
                    key,
                    query: query.to_string(),
                    slots,
                })
                .slots
        };
        ListView {
            rows: slots
                .iter()
                .map(|&slot| self.rows[slot as usize].id.clone())
                .collect(),
            counts: base.counts,
        }
    }

    /// The name of a tag seen on a conversation, for the list's title.
    pub fn tag_name(&self, id: &TagId) -> Option<&str> {
        self.tag_names.get(id).map(String::as_str)
    }

    /// Brings the rows in step with the store: only those it reports changed.
    fn sync(&mut self, store: &Store) {
        let changes = match &self.cursor {
            Some(cursor) => store.changes_since(cursor),
            None => Changes::Everything,
        };
        match changes {
            Changes::Everything => self.rebuild(store),
            Changes::Rows { ids, reordered } => {
                if ids.is_empty() && !reordered {
                    return;
                }
                for id in ids {
                    self.update_row(store, id);
                }
                if reordered {
                    self.reorder(store);
                }
                self.changed();
            }
        }
        self.cursor = Some(store.change_cursor());
    }

    fn rebuild(&mut self, store: &Store) {
        self.rows.clear();
        self.slots.clear();
        self.tag_names.clear();
        for id in store.order() {
            self.update_row(store, id);
        }
        self.reorder(store);
        self.changed();
    }

    fn update_row(&mut self, store: &Store, id: &ConversationId) {
        let Some(entry) = store.get(id) else {
            return;
        };
        for tag in &entry.conversation.tags {
            if self.tag_names.get(&tag.id) != Some(&tag.name) {
                self.tag_names.insert(tag.id.clone(), tag.name.clone());
            }
        }
        let row = Row::new(store, entry);
        match self.slots.get(id) {
            Some(&slot) => self.rows[slot as usize] = row,
            None => {
                self.slots.insert(id.clone(), self.rows.len() as u32);
                self.rows.push(row);
            }
        }
    }

    fn reorder(&mut self, store: &Store) {
        let mut order = Vec::with_capacity(store.len());
        for id in store.order() {
            if !self.slots.contains_key(id) {
                // Not reported as changed: a store from before the log.
                self.update_row(store, id);
            }
            if let Some(&slot) = self.slots.get(id) {
                order.push(slot);
            }
        }
        self.order = order;
    }

    fn changed(&mut self) {
        self.generation += 1;
        self.by_waiting = None;
        self.by_priority = None;
    }

    /// The store's order re-sorted for `sort`; stable, so ties keep the
    /// latest activity first.
    fn sorted(&mut self, sort: SortOrder) -> &[u32] {
        let (rows, order) = (&self.rows, &self.order);
        match sort {
            SortOrder::LatestActivity => order,
            SortOrder::LongestWaiting => self.by_waiting.get_or_insert_with(|| {
                let mut slots = order.clone();
                slots.sort_by_key(|&slot| {
                    let since = rows[slot as usize].waiting_since;
                    (since.is_none(), since)
                });
                slots
            }),
            SortOrder::Priority => self.by_priority.get_or_insert_with(|| {
                let mut slots = order.clone();
                slots.sort_by_key(|&slot| priority_rank(rows[slot as usize].priority.as_ref()));
                slots
            }),
        }
    }

    fn base_for(&mut self, key: BaseKey) -> Base {
        let me = key.me.clone();
        let spec = key.spec.clone();
        let sorted = self.sorted(spec.sort).to_vec();
        let mut counts = TabCounts::default();
        let mut slots = Vec::new();
        for slot in sorted {
            let row = &self.rows[slot as usize];
            if !row.admitted_by(&spec.filters) {
                continue;
            }
            let assignee = row.assignee.as_ref();
            counts.all += 1;
            counts.unassigned += usize::from(tab_admits(Tab::Unassigned, assignee, me.as_ref()));
            counts.mine += usize::from(tab_admits(Tab::Mine, assignee, me.as_ref()));
            if tab_admits(spec.tab, assignee, me.as_ref()) {
                slots.push(slot);
            }
        }
        Base { key, slots, counts }
    }
}

fn matching(rows: &[Row], matcher: &mut Matcher, query: &Query, candidates: &[u32]) -> Vec<u32> {
    candidates
        .iter()
        .copied()
        .filter(|&slot| query.matches(&rows[slot as usize], matcher))
        .collect()
}

/// The list for `spec` and `query`, computed from scratch (the app keeps a
/// [`ViewEngine`] instead).
pub fn compute(store: &Store, spec: &ViewSpec, query: &str, me: Option<&AgentId>) -> ListView {
    ViewEngine::default().compute(store, spec, query, me)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Contact, ContactId, Tag};
    use crate::store::fixtures::{conversation, t};

    fn contact(id: &str, name: &str, phone: Option<&str>, email: Option<&str>) -> Contact {
        Contact {
            id: ContactId::new(id),
            first_name: name.into(),
            last_name: None,
            username: None,
            avatar: None,
            email: email.map(Into::into),
            phone: phone.map(Into::into),
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

    fn me() -> AgentId {
        AgentId::new("me")
    }

    fn tag(id: &str) -> Tag {
        Tag {
            id: TagId::new(id),
            name: format!("tag {id}"),
            color: None,
        }
    }

    /// a: mine, open, WhatsApp, waiting since 10, urgent, starred, tag vip
    /// b: unassigned, pending, Instagram, waiting since 20, high
    /// c: someone else's, open, Email, answered at 30, tag vip
    /// d: unassigned, resolved, WhatsApp, customer wrote last at 40, low
    /// e: mine, open, WhatsApp, answered at 50, read
    fn store() -> Store {
        let mut a = conversation("a", 10, true);
        a.assignee = Some(me());
        a.priority = Some(Priority::Urgent);
        a.starred = true;
        a.tags = vec![tag("vip")];
        let mut b = conversation("b", 20, true);
        b.last_message.as_mut().unwrap().text = "Kargom nerede? Sipariş A-1042".into();
        b.status = ConversationStatus::Pending;
        b.channel = Channel::Instagram;
        b.priority = Some(Priority::High);
        let mut c = conversation("c", 30, false);
        c.assignee = Some(AgentId::new("other"));
        c.channel = Channel::Email;
        c.tags = vec![tag("vip")];
        let mut d = conversation("d", 40, true);
        d.status = ConversationStatus::Resolved;
        d.priority = Some(Priority::Low);
        let mut e = conversation("e", 50, false);
        e.assignee = Some(me());
        let mut store = Store::default();
        store.upsert_conversations(vec![a, b, c, d, e], None);
        store.upsert_contacts(
            vec![
                contact("c-a", "Deniz Yılmaz", Some("+90 555 123 4567"), None),
                contact("c-b", "Ayşe Kaya", None, Some("ayse.kaya@example.com")),
                contact("c-c", "Liam Chen", Some("+1 415 555 0100"), None),
            ],
            Vec::new(),
        );
        store
    }

    fn ids(view: &ListView) -> Vec<&str> {
        view.rows.iter().map(|id| id.as_str()).collect()
    }

    fn spec(tab: Tab, filters: Filters, sort: SortOrder) -> ViewSpec {
        ViewSpec { tab, filters, sort }
    }

    fn all(filters: Filters) -> ViewSpec {
        spec(Tab::All, filters, SortOrder::LatestActivity)
    }

    fn find(store: &Store, query: &str) -> Vec<String> {
        compute(store, &ViewSpec::default(), query, None)
            .rows
            .iter()
            .map(|id| id.to_string())
            .collect()
    }

    #[test]
    fn tabs_split_the_list_and_count_each() {
        let store = store();
        let mine = compute(
            &store,
            &spec(Tab::Mine, Filters::default(), SortOrder::LatestActivity),
            "",
            Some(&me()),
        );
        assert_eq!(ids(&mine), ["e", "a"]);
        assert_eq!(
            mine.counts,
            TabCounts {
                mine: 2,
                unassigned: 2,
                all: 5
            }
        );
        let unassigned = compute(
            &store,
            &spec(
                Tab::Unassigned,
                Filters::default(),
                SortOrder::LatestActivity,
            ),
            "",
            Some(&me()),
        );
        assert_eq!(ids(&unassigned), ["d", "b"]);
        assert_eq!(
            ids(&compute(&store, &ViewSpec::default(), "", None)),
            ["e", "d", "c", "b", "a"]
        );
        // Without knowing who "me" is, Mine is empty.
        let nobody = compute(
            &store,
            &spec(Tab::Mine, Filters::default(), SortOrder::LatestActivity),
            "",
            None,
        );
        assert!(nobody.rows.is_empty());
        assert_eq!(nobody.counts.mine, 0);
    }

    #[test]
    fn each_filter_keeps_only_what_it_names() {
        let store = store();
        let cases: Vec<(Filters, Vec<&str>)> = vec![
            (
                Filters {
                    statuses: vec![ConversationStatus::Pending, ConversationStatus::Resolved],
                    ..Filters::default()
                },
                vec!["d", "b"],
            ),
            (
                Filters {
                    channels: vec![Channel::Email],
                    ..Filters::default()
                },
                vec!["c"],
            ),
            (
                Filters {
                    tags: vec![TagId::new("vip")],
                    ..Filters::default()
                },
                vec!["c", "a"],
            ),
            (
                Filters {
                    priorities: vec![Priority::Urgent, Priority::Low],
                    ..Filters::default()
                },
                vec!["d", "a"],
            ),
            (
                Filters {
                    starred: true,
                    ..Filters::default()
                },
                vec!["a"],
            ),
            (
                Filters {
                    unread: true,
                    ..Filters::default()
                },
                vec!["d", "b", "a"],
            ),
        ];
        for (filters, expected) in cases {
            let view = compute(&store, &all(filters.clone()), "", Some(&me()));
            assert_eq!(ids(&view), expected, "{filters:?}");
            assert_eq!(view.counts.all, expected.len(), "counts follow the filters");
        }
    }

    #[test]
    fn filters_combine_and_counts_follow_them() {
        let store = store();
        let filters = Filters {
            statuses: vec![ConversationStatus::Open],
            channels: vec![Channel::WhatsApp, Channel::Email],
            tags: vec![TagId::new("vip")],
            ..Filters::default()
        };
        let view = compute(&store, &all(filters.clone()), "", Some(&me()));
        assert_eq!(ids(&view), ["c", "a"]);
        assert_eq!(
            view.counts,
            TabCounts {
                mine: 1,
                unassigned: 0,
                all: 2
            }
        );
        let starred_too = Filters {
            starred: true,
            ..filters
        };
        assert_eq!(
            ids(&compute(&store, &all(starred_too), "", Some(&me()))),
            ["a"]
        );
    }

    #[test]
    fn sorts_keep_latest_activity_for_ties() {
        let store = store();
        let sorted = |sort| {
            ids(&compute(
                &store,
                &spec(Tab::All, Filters::default(), sort),
                "",
                None,
            ))
            .join("")
        };
        assert_eq!(sorted(SortOrder::LatestActivity), "edcba");
        // Customers waiting longest first (d is resolved: not waiting),
        // then the rest by latest activity.
        assert_eq!(sorted(SortOrder::LongestWaiting), "abedc");
        assert_eq!(sorted(SortOrder::Priority), "abdec");
    }

    #[test]
    fn the_typed_filter_matches_name_phone_email_and_last_message() {
        let store = store();
        // Fuzzy names, case and accents ignored for plain lower case.
        assert_eq!(find(&store, "dnz"), ["a"]);
        assert_eq!(find(&store, "ayse"), ["b"]);
        assert_eq!(find(&store, "yilmaz"), ["a"]);
        // A capital makes the word case-sensitive.
        assert_eq!(find(&store, "Liam"), ["c"]);
        assert!(find(&store, "LIAM").is_empty());
        // Phones with or without their spaces, e-mail addresses.
        assert_eq!(find(&store, "5551234567"), ["a"]);
        assert_eq!(find(&store, "+1 415"), ["c"]);
        assert_eq!(find(&store, "kaya@example"), ["b"]);
        // Words of the last message, each anywhere in it, accents ignored.
        assert_eq!(find(&store, "nerede kargo"), ["b"]);
        assert_eq!(find(&store, "siparis a-1042"), ["b"]);
        // Words must all match, each in any field.
        assert_eq!(find(&store, "deniz 555"), ["a"]);
        assert!(find(&store, "deniz kaya").is_empty());
        // The message is not matched fuzzily: "kgm" is not "Kargom".
        assert!(find(&store, "kgm").is_empty());
    }

    #[test]
    fn counts_ignore_the_typed_filter_and_rows_keep_the_sort() {
        let store = store();
        let view = compute(
            &store,
            &spec(Tab::All, Filters::default(), SortOrder::LongestWaiting),
            "last",
            None,
        );
        assert_eq!(ids(&view), ["a", "e", "d", "c"]);
        let view = compute(&store, &ViewSpec::default(), "deniz", None);
        assert_eq!(view.counts.all, 5);
    }

    #[test]
    fn narrowing_as_the_agent_types_matches_a_fresh_compute() {
        let mut store = store();
        let mut more = Vec::new();
        for i in 0..200 {
            let mut row = conversation(&format!("n{i}"), 100 + i, i % 3 == 0);
            row.last_message.as_mut().unwrap().text = match i % 4 {
                0 => "Kargom nerede? Sipariş A-1042".into(),
                1 => "Can I change my booking for Saturday?".into(),
                2 => "İade etmek istiyorum".into(),
                _ => "Thanks a lot!".into(),
            };
            row.contact_name =
                ["Deniz Kaya", "Dana Smith", "Ayşe Demir", "Denis Ng"][i as usize % 4].into();
            if i % 5 == 0 {
                row.assignee = Some(me());
            }
            more.push(row);
        }
        store.upsert_conversations(more, None);
        let specs = [
            ViewSpec::default(),
            spec(
                Tab::Unassigned,
                Filters::default(),
                SortOrder::LongestWaiting,
            ),
            spec(
                Tab::Mine,
                Filters {
                    unread: true,
                    ..Filters::default()
                },
                SortOrder::Priority,
            ),
        ];
        let mut engine = ViewEngine::default();
        for view in &specs {
            for typed in [
                "deniz kaya",
                "Dana",
                "iade et",
                "a-1042",
                "sipariş",
                "de\\ k",
                "555 123",
            ] {
                let mut query = String::new();
                for c in typed.chars() {
                    query.push(c);
                    assert_eq!(
                        engine.compute(&store, view, &query, Some(&me())),
                        compute(&store, view, &query, Some(&me())),
                        "{view:?} {query:?}"
                    );
                }
                // Backspace widens again.
                while query.pop().is_some() {
                    assert_eq!(
                        engine.compute(&store, view, &query, Some(&me())),
                        compute(&store, view, &query, Some(&me())),
                        "{view:?} {query:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_engine_follows_the_store_row_by_row() {
        let mut store = store();
        let mut engine = ViewEngine::default();
        let view = ViewSpec::default();
        assert!(engine.compute(&store, &view, "7946", None).rows.is_empty());
        // A phone learnt later is found at once.
        store.upsert_contacts(
            vec![contact("c-e", "Emre", Some("+44 20 7946 0100"), None)],
            Vec::new(),
        );
        assert_eq!(ids(&engine.compute(&store, &view, "7946", None)), ["e"]);
        assert_eq!(
            ids(&engine.compute(&store, &view, "0100", None)),
            ["e", "c"]
        );
        // A row changed in place leaves the tab and the counts follow.
        store.apply_local(&ConversationId::new("e"), |c| c.assignee = None);
        let mine = spec(Tab::Mine, Filters::default(), SortOrder::LatestActivity);
        let view_now = engine.compute(&store, &mine, "", Some(&me()));
        assert_eq!(ids(&view_now), ["a"]);
        assert_eq!(
            view_now.counts,
            compute(&store, &mine, "", Some(&me())).counts
        );
        // A newer message moves a row up and changes its waiting time.
        store.upsert_conversations(vec![conversation("a", 99, false)], None);
        let waiting = spec(Tab::All, Filters::default(), SortOrder::LongestWaiting);
        assert_eq!(
            engine.compute(&store, &waiting, "", None),
            compute(&store, &waiting, "", None)
        );
        assert_eq!(ids(&engine.compute(&store, &view, "", None))[0], "a");
        // Reading a row clears it from the unread filter.
        store.mark_read(&ConversationId::new("b"));
        let unread = all(Filters {
            unread: true,
            ..Filters::default()
        });
        assert_eq!(ids(&engine.compute(&store, &unread, "", None)), ["a", "d"]);
        // Another store (a restart from the cache) is rebuilt from scratch.
        let other = Store::default();
        assert!(engine.compute(&other, &view, "", None).rows.is_empty());
        assert_eq!(
            engine.compute(&store, &view, "", None),
            compute(&store, &view, "", None)
        );
        assert_eq!(engine.tag_name(&TagId::new("vip")), Some("tag vip"));
    }

    #[test]
    fn next_best_is_mine_waiting_then_closing_windows_then_unassigned_waiting() {
        let now = t(3600);
        let mut mine_old = conversation("mine-old", 100, true);
        mine_old.assignee = Some(me());
        let mut mine_new = conversation("mine-new", 900, true);
        mine_new.assignee = Some(me());
        let mut mine_resolved = conversation("mine-resolved", 50, true);
        mine_resolved.assignee = Some(me());
        mine_resolved.status = ConversationStatus::Resolved;
        // Unassigned WhatsApp: the window of the oldest closes first.
        let wa_old = conversation("wa-old", 200, true);
        let wa_new = conversation("wa-new", 300, true);
        let mut mail = conversation("mail", 10, true);
        mail.channel = Channel::Email;
        let mut answered = conversation("answered", 5, false);
        answered.channel = Channel::Email;
        let mut others = conversation("others", 1, true);
        others.assignee = Some(AgentId::new("other"));
        let mut store = Store::default();
        store.upsert_conversations(
            vec![
                mine_old,
                mine_new,
                mine_resolved,
                wa_old,
                wa_new,
                mail,
                answered,
                others,
            ],
            None,
        );
        let mut order = Vec::new();
        let mut skip: Option<ConversationId> = None;
        let mut done = std::collections::HashSet::new();
        while let Some(id) = next_best(&store, Some(&me()), now, skip.as_ref()) {
            if !done.insert(id.clone()) {
                break;
            }
            order.push(id.to_string());
            // Answering takes it out of the running.
            store.apply_local(&id, |c| {
                if let Some(last) = &mut c.last_message {
                    last.sender = SenderKind::Agent;
                }
            });
            skip = Some(id);
        }
        assert_eq!(order, ["mine-old", "mine-new", "wa-old", "wa-new", "mail"]);
    }

    #[test]
    fn next_best_skips_the_open_one_and_closed_whatsapp_windows() {
        let now = t(0) + WHATSAPP_WINDOW + chrono::Duration::seconds(150);
        // Its window closed 50 s ago: an unassigned waiting row like others.
        let expired = conversation("expired", 100, true);
        let mut open = conversation("open", 200, true);
        open.channel = Channel::Email;
        let live = conversation("live", 300, true);
        let mut store = Store::default();
        store.upsert_conversations(vec![expired, open, live], None);
        let first = next_best(&store, Some(&me()), now, None);
        assert_eq!(first.as_ref().map(|i| i.as_str()), Some("live"));
        let skip = ConversationId::new("live");
        assert_eq!(
            next_best(&store, Some(&me()), now, Some(&skip)).map(|i| i.to_string()),
            Some("expired".to_string())
        );
    }
}
