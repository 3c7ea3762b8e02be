//! The local state store: the in-memory projection of the account's
//! database. Conversations and threads keyed by id, the list order kept
//! sorted as pages arrive, contact names for the rows, the sync cursors.
//! `app::update` is its only writer; every change it makes is also recorded
//! in a journal that the runtime hands to the database writer, so the
//! projection and the file stay in step without the UI loop touching disk.

pub mod cache;
pub mod contact_edits;
pub mod db;
pub mod mutations;
pub mod outbox;
pub mod search_text;
pub mod template_memory;
pub mod views;
pub mod writer;

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use crate::bounded::BoundedSet;
use crate::domain::{
    Agent, AgentId, ChannelInfo, Contact, ContactId, Conversation, ConversationId, Message,
    MessageId, SenderKind, Template, UNKNOWN_CONTACT,
};
use crate::store::db::DbWrite;
use crate::sync::SyncCursors;
use crate::whatsapp_window::{LastInbound, ReplyWindow, WINDOW_HOURS, reply_window};

/// Threads kept in memory besides the open one and those with replies on
/// their way; the rest reload from the cache when opened again.
pub const THREADS_KEPT: usize = 50;
/// Contacts remembered as not existing; the oldest are forgotten past this
/// (and may be asked about again).
pub const MISSING_CONTACTS_KEPT: usize = 20_000;

#[derive(Debug, Clone, PartialEq)]
pub struct ConversationEntry {
    pub conversation: Conversation,
    pub unread: u32,
}

/// A hole in a thread: messages newer than `newest_before` up to the
/// oldest message after it were missed (a long outage) and are fetched
/// when the agent scrolls there. Kept, not deleted: what was read stays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap {
    /// Index of the first message after the hole.
    pub index: usize,
}

/// Messages of one conversation, oldest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Thread {
    pub messages: Vec<Message>,
    /// The server (or the cache) has older messages than the first one here.
    pub has_older: bool,
    pub loading_older: bool,
    /// The newest page has arrived from the server at least once.
    pub loaded: bool,
    pub gap: Option<Gap>,
    /// Bumped on every change, so layouts derived from the thread can be
    /// cached.
    pub revision: u64,
}

impl Thread {
    pub fn newest_inbound(&self) -> Option<&Message> {
        self.messages
            .iter()
            .rev()
            .find(|m| m.sender == SenderKind::Contact)
    }

    pub fn oldest_time(&self) -> Option<DateTime<Utc>> {
        self.messages.first().map(|m| m.created_at)
    }

    /// Where the next older page starts: above the gap if there is one.
    pub fn older_anchor(&self) -> Option<&Message> {
        match self.gap {
            Some(gap) => self.messages.get(gap.index),
            None => self.messages.first(),
        }
    }

    fn index_of(&self, message: &Message) -> Option<usize> {
        self.messages.iter().rposition(|m| {
            m.id == message.id || (message.client_id.is_some() && m.client_id == message.client_id)
        })
    }
}

/// What a merge changed, so the caller can decide what to show.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MergeSummary {
    pub added: usize,
    pub added_inbound: usize,
    pub updated: usize,
}

/// How complete the local copy is, for the status bar.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncTotals {
    pub conversations: Option<u64>,
    pub contacts: Option<u64>,
}

/// A contact as the cache's directory lists it: what rows show and what
/// the list's filter looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedContact {
    pub id: ContactId,
    pub label: String,
    pub phone: Option<String>,
    pub email: Option<String>,
}

/// Phone and e-mail of a contact, for the list's filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactDetails {
    pub phone: Option<String>,
    pub email: Option<String>,
}

impl ContactDetails {
    /// `None` when neither is known (blank counts as unknown).
    fn new(phone: Option<String>, email: Option<String>) -> Option<ContactDetails> {
        let known = |s: Option<String>| {
            s.filter(|s| !s.trim().is_empty()).map(|s| {
                if s.trim().len() == s.len() {
                    s
                } else {
                    s.trim().to_string()
                }
            })
        };
        let details = ContactDetails {
            phone: known(phone),
            email: known(email),
        };
        (details != ContactDetails::default()).then_some(details)
    }
}

/// What the store knows of a contact.
#[derive(Debug, Clone, PartialEq, Eq)]
struct KnownContact {
    label: String,
    details: Option<ContactDetails>,
}

/// Entries the change log keeps before it drops the older half; a reader
/// further behind rebuilds from the whole store.
const CHANGE_LOG_LIMIT: usize = 16_384;

/// Rows whose list data changed (their fields, unread count, contact name
/// or details), oldest first, so views kept over the store (see
/// `views::ViewEngine`) redo only those rows instead of all 50,000.
#[derive(Debug, Clone)]
struct ChangeLog {
    /// Tells stores apart: a view built over another store rebuilds.
    origin: u64,
    /// Entries dropped from the front so far.
    dropped: u64,
    ids: Vec<ConversationId>,
    /// Bumped whenever the list order changes.
    order_revision: u64,
}

impl Default for ChangeLog {
    fn default() -> Self {
        static ORIGINS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        ChangeLog {
            origin: ORIGINS.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            dropped: 0,
            ids: Vec::new(),
            order_revision: 0,
        }
    }
}

impl ChangeLog {
    fn push(&mut self, id: &ConversationId) {
        // The oldest half goes: a reader that keeps up is past it.
        if self.ids.len() >= CHANGE_LOG_LIMIT {
            let old = self.ids.len() / 2;
            self.ids.drain(..old);
            self.dropped += old as u64;
        }
        self.ids.push(id.clone());
    }
}

/// Where a reader of the change log stands (see [`Store::changes_since`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChangeCursor {
    origin: u64,
    position: u64,
    order_revision: u64,
}

/// What changed since a [`ChangeCursor`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Changes<'a> {
    /// These rows (possibly repeated); `reordered` when the order moved.
    Rows {
        ids: &'a [ConversationId],
        reordered: bool,
    },
    /// The cursor is from another store or too far behind: rebuild.
    Everything,
}

/// What the database holds, read once at start.
#[derive(Debug, Clone, Default)]
pub struct CacheSnapshot {
    pub conversations: Vec<(Conversation, u32)>,
    pub contacts: Vec<CachedContact>,
    pub agents: Vec<Agent>,
    pub channels: Vec<ChannelInfo>,
    pub templates: Vec<Template>,
    pub cursors: Option<SyncCursors>,
    /// Each account's cursors when several share the inbox.
    pub account_cursors: HashMap<String, SyncCursors>,
}

#[derive(Debug, Clone, Default)]
pub struct Store {
    conversations: HashMap<ConversationId, ConversationEntry>,
    /// Most recently updated first; ties broken by id so the order is total.
    order: Vec<ConversationId>,
    threads: HashMap<ConversationId, Thread>,
    /// Threads by last use, most recent last, for eviction.
    thread_use: Vec<ConversationId>,
    agents: HashMap<AgentId, Agent>,
    channels: Vec<ChannelInfo>,
    templates: Vec<Template>,
    /// Each known contact: the name rows show, and the phone and e-mail
    /// the list's filter looks at.
    contacts: HashMap<ContactId, KnownContact>,
    /// Counts changes to `contacts`, so views of the directory know when
    /// to read it again.
    contacts_revision: u64,
    /// Contacts looked up by id that do not exist.
    missing_contacts: BoundedSet<ContactId, MISSING_CONTACTS_KEPT>,
    conversations_by_contact: HashMap<ContactId, Vec<ConversationId>>,
    /// The newest customer message seen per conversation (previews and
    /// threads), for WhatsApp's reply window.
    last_inbound: HashMap<ConversationId, DateTime<Utc>>,
    cursors: SyncCursors,
    /// Each account's cursors when several share the inbox (empty with one).
    account_cursors: HashMap<String, SyncCursors>,
    totals: SyncTotals,
    /// Changes not yet handed to the database writer.
    journal: Vec<DbWrite>,
    changes: ChangeLog,
}

/// Metadata key of a thread's gap: the id of the first message after it.
pub fn gap_key(id: &ConversationId) -> String {
    format!("gap.{}", id.as_str())
}

/// The list's order: most recently updated first, ties by id.
fn list_order(
    conversations: &HashMap<ConversationId, ConversationEntry>,
    a: &ConversationId,
    b: &ConversationId,
) -> std::cmp::Ordering {
    let (ca, cb) = (
        &conversations[a].conversation,
        &conversations[b].conversation,
    );
    cb.updated_at.cmp(&ca.updated_at).then_with(|| a.cmp(b))
}

impl Store {
    /// A store filled from the cache, ready before the network answers.
    pub fn from_cache(snapshot: CacheSnapshot) -> Store {
        let contacts = snapshot
            .contacts
            .into_iter()
            .map(|c| {
                let details = ContactDetails::new(c.phone, c.email);
                (
                    c.id,
                    KnownContact {
                        label: c.label,
                        details,
                    },
                )
            })
            .collect();
        let mut store = Store {
            contacts,
            agents: snapshot
                .agents
                .into_iter()
                .map(|a| (a.id.clone(), a))
                .collect(),
            channels: snapshot.channels,
            templates: snapshot.templates,
            cursors: snapshot.cursors.unwrap_or_else(SyncCursors::fresh),
            account_cursors: snapshot.account_cursors,
            ..Store::default()
        };
        store.totals = SyncTotals {
            conversations: store.cursors.total_conversations,
            contacts: store.cursors.total_contacts,
        };
        store.add_cached_conversations(snapshot.conversations);
        store
    }

    /// More cached rows (the cache is read in chunks so the first frame
    /// does not wait for all of it). Rows the network already brought win.
    pub fn add_cached_conversations(&mut self, rows: Vec<(Conversation, u32)>) {
        let mut added = Vec::with_capacity(rows.len());
        for (mut conversation, unread) in rows {
            if self.conversations.contains_key(&conversation.id) {
                continue;
            }
            self.note_preview(&conversation);
            self.label(&mut conversation);
            self.index_contact(&conversation);
            self.changes.push(&conversation.id);
            added.push(conversation.id.clone());
            self.conversations.insert(
                conversation.id.clone(),
                ConversationEntry {
                    conversation,
                    unread,
                },
            );
        }
        // The order is already sorted: merge the new rows into it instead
        // of sorting everything again (a large cache arrives in many chunks
        // and the loop waits for each).
        if added.is_empty() {
            return;
        }
        self.changes.order_revision += 1;
        let conversations = &self.conversations;
        added.sort_unstable_by(|a, b| list_order(conversations, a, b));
        let old = std::mem::take(&mut self.order);
        let mut merged = Vec::with_capacity(old.len() + added.len());
        let mut new = added.into_iter().peekable();
        for id in old {
            while let Some(next) = new.next_if(|n| list_order(conversations, n, &id).is_lt()) {
                merged.push(next);
            }
            merged.push(id);
        }
        merged.extend(new);
        self.order = merged;
    }

    /// Hands over the changes made since the last call.
    pub fn take_journal(&mut self) -> Vec<DbWrite> {
        std::mem::take(&mut self.journal)
    }

    pub fn record(&mut self, write: DbWrite) {
        self.journal.push(write);
    }

    /// Where the change log stands now.
    pub fn change_cursor(&self) -> ChangeCursor {
        ChangeCursor {
            origin: self.changes.origin,
            position: self.changes.dropped + self.changes.ids.len() as u64,
            order_revision: self.changes.order_revision,
        }
    }

    /// Rows changed since `cursor` was taken from this store.
    pub fn changes_since(&self, cursor: &ChangeCursor) -> Changes<'_> {
        let log = &self.changes;
        let end = log.dropped + log.ids.len() as u64;
        if cursor.origin != log.origin || cursor.position < log.dropped || cursor.position > end {
            return Changes::Everything;
        }
        let start = (cursor.position - log.dropped) as usize;
        Changes::Rows {
            ids: &log.ids[start..],
            reordered: cursor.order_revision != log.order_revision,
        }
    }

    pub fn order(&self) -> &[ConversationId] {
        &self.order
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    pub fn get(&self, id: &ConversationId) -> Option<&ConversationEntry> {
        self.conversations.get(id)
    }

    /// Every conversation, in no particular order (cheaper than looking
    /// each one up by the list's order).
    pub fn entries(&self) -> impl Iterator<Item = &ConversationEntry> {
        self.conversations.values()
    }

    pub fn agent(&self, id: &AgentId) -> Option<&Agent> {
        self.agents.get(id)
    }

    pub fn agents(&self) -> impl Iterator<Item = &Agent> {
        self.agents.values()
    }

    pub fn set_agents(&mut self, agents: Vec<Agent>) {
        self.journal.push(DbWrite::SetAgents(agents.clone()));
        self.agents = agents.into_iter().map(|a| (a.id.clone(), a)).collect();
    }

    pub fn channels(&self) -> &[ChannelInfo] {
        &self.channels
    }

    pub fn set_channels(&mut self, channels: Vec<ChannelInfo>) {
        self.journal.push(DbWrite::SetChannels(channels.clone()));
        self.channels = channels;
    }

    pub fn templates(&self) -> &[Template] {
        &self.templates
    }

    pub fn set_templates(&mut self, templates: Vec<Template>) {
        self.journal.push(DbWrite::SetTemplates(templates.clone()));
        self.templates = templates;
    }

    pub fn cursors(&self) -> &SyncCursors {
        &self.cursors
    }

    /// The store owns the cursors: saved with the data they describe.
    pub fn set_cursors(&mut self, cursors: SyncCursors) {
        if cursors == self.cursors {
            return;
        }
        match serde_json::to_string(&cursors) {
            Ok(json) => self.journal.push(DbWrite::SetMeta {
                key: crate::sync::cursor::META_KEY.to_string(),
                value: json,
            }),
            Err(error) => tracing::error!(%error, "cannot encode the sync cursors"),
        }
        self.cursors = cursors;
    }

    /// One account's cursors in a multi-account inbox (fresh when none saved).
    pub fn account_cursors(&self, account: &str) -> SyncCursors {
        self.account_cursors
            .get(account)
            .cloned()
            .unwrap_or_else(SyncCursors::fresh)
    }

    /// Saved under the account's own key, beside the others'.
    pub fn set_account_cursors(&mut self, account: &str, cursors: SyncCursors) {
        if self.account_cursors.get(account) == Some(&cursors) {
            return;
        }
        match serde_json::to_string(&cursors) {
            Ok(json) => self.journal.push(DbWrite::SetMeta {
                key: crate::sync::cursor::account_key(account),
                value: json,
            }),
            Err(error) => tracing::error!(%error, "cannot encode the sync cursors"),
        }
        self.account_cursors.insert(account.to_string(), cursors);
    }

    /// Whether the whole history, then the contact directory, have been
    /// read once: of every account when several share the inbox.
    pub fn history_loaded(&self) -> (bool, bool) {
        if self.account_cursors.is_empty() {
            return (self.cursors.backfill_done(), self.cursors.contacts_complete);
        }
        let all = |f: fn(&SyncCursors) -> bool| self.account_cursors.values().all(f);
        (
            all(SyncCursors::backfill_done),
            all(|c| c.contacts_complete),
        )
    }

    pub fn totals(&self) -> SyncTotals {
        self.totals
    }

    pub fn set_totals(&mut self, conversations: Option<u64>, contacts: Option<u64>) {
        if conversations.is_some() {
            self.totals.conversations = conversations;
        }
        if contacts.is_some() {
            self.totals.contacts = contacts;
        }
    }

    pub fn contact_count(&self) -> usize {
        self.contacts.len()
    }

    /// Rows still waiting for their contact's name.
    pub fn rows_without_name(&self) -> usize {
        self.conversations
            .values()
            .filter(|e| {
                e.conversation.contact_id.as_ref().is_some_and(|id| {
                    !self.contacts.contains_key(id) && !self.missing_contacts.contains(id)
                })
            })
            .count()
    }

    /// Contacts of rows still waiting for a name (and not known to be
    /// missing), each once.
    pub fn unnamed_contacts(&self) -> Vec<ContactId> {
        let mut ids: Vec<ContactId> = self
            .conversations
            .values()
            .filter_map(|e| e.conversation.contact_id.clone())
            .filter(|id| !self.contacts.contains_key(id) && !self.missing_contacts.contains(id))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// Contact ids the store holds a name for.
    pub fn known_contacts(&self) -> HashSet<ContactId> {
        self.contacts.keys().cloned().collect()
    }

    /// Fills the row's name from the contact directory, or says what is
    /// known while the name is on its way.
    fn label(&self, conversation: &mut Conversation) {
        if let Some(known) = conversation
            .contact_id
            .as_ref()
            .and_then(|id| self.contacts.get(id))
        {
            conversation.contact_name = known.label.clone();
        } else if conversation.contact_name.trim().is_empty() {
            conversation.contact_name = match &conversation.contact_id {
                Some(id) if self.missing_contacts.contains(id) => UNKNOWN_CONTACT.to_string(),
                // What is known while the name is on its way: the channel
                // and the end of the contact's id, so rows stay apart.
                Some(id) => {
                    let tail: String = id
                        .as_str()
                        .chars()
                        .rev()
                        .take(6)
                        .collect::<Vec<_>>()
                        .into_iter()
                        .rev()
                        .collect();
                    format!("{} contact …{}", conversation.channel.label(), tail)
                }
                None => UNKNOWN_CONTACT.to_string(),
            };
        }
    }

    fn index_contact(&mut self, conversation: &Conversation) {
        if let Some(contact) = &conversation.contact_id {
            let ids = self
                .conversations_by_contact
                .entry(contact.clone())
                .or_default();
            if !ids.contains(&conversation.id) {
                ids.push(conversation.id.clone());
            }
        }
    }

    /// New or changed contacts: names fill in on every row that shows them.
    /// Returns how many rows changed: their name, or the phone and e-mail
    /// the list's filter matches.
    pub fn upsert_contacts(&mut self, found: Vec<Contact>, missing: Vec<ContactId>) -> usize {
        let mut changed = 0;
        for contact in &found {
            let label = contact.label();
            self.missing_contacts.remove(&contact.id);
            let details = ContactDetails::new(contact.phone.clone(), contact.email.clone());
            let known = self.contacts.get(&contact.id);
            let new_details = known.and_then(|k| k.details.as_ref()) != details.as_ref();
            let renamed = known.map(|k| &k.label) != Some(&label);
            if !renamed && !new_details {
                continue;
            }
            self.contacts.insert(
                contact.id.clone(),
                KnownContact {
                    label: label.clone(),
                    details,
                },
            );
            self.contacts_revision += 1;
            for id in self
                .conversations_by_contact
                .get(&contact.id)
                .into_iter()
                .flatten()
            {
                let Some(entry) = self.conversations.get_mut(id) else {
                    continue;
                };
                let new_name = renamed && entry.conversation.contact_name != label;
                if new_name {
                    entry.conversation.contact_name = label.clone();
                }
                if new_name || new_details {
                    self.changes.push(id);
                    changed += 1;
                }
            }
        }
        self.missing_contacts.extend(missing);
        if !found.is_empty() {
            self.journal.push(DbWrite::UpsertContacts(found));
        }
        changed
    }

    /// Changes with every contact added, renamed or deleted.
    pub fn contacts_revision(&self) -> u64 {
        self.contacts_revision
    }

    /// The name rows show for a contact, when it is known.
    pub fn contact_label(&self, id: &ContactId) -> Option<&str> {
        self.contacts.get(id).map(|c| c.label.as_str())
    }

    /// Every known contact: id, name, and phone and e-mail where known.
    pub fn contact_directory(
        &self,
    ) -> impl Iterator<Item = (&ContactId, &str, Option<&ContactDetails>)> {
        self.contacts
            .iter()
            .map(|(id, c)| (id, c.label.as_str(), c.details.as_ref()))
    }

    /// The contact's conversations, latest activity first.
    pub fn conversations_of(&self, id: &ContactId) -> Vec<&Conversation> {
        let mut found: Vec<&Conversation> = self
            .conversations_by_contact
            .get(id)
            .into_iter()
            .flatten()
            .filter_map(|c| self.conversations.get(c))
            .map(|e| &e.conversation)
            .collect();
        found.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then(a.id.cmp(&b.id)));
        found
    }

    /// A contact deleted: its rows show "Unknown contact" from now on, as
    /// the server no longer knows the name.
    pub fn remove_contact(&mut self, id: &ContactId) {
        self.contacts.remove(id);
        self.contacts_revision += 1;
        self.missing_contacts.insert(id.clone());
        let rows: Vec<ConversationId> = self
            .conversations_by_contact
            .get(id)
            .cloned()
            .unwrap_or_default();
        for row in rows {
            if let Some(entry) = self.conversations.get_mut(&row) {
                entry.conversation.contact_name = UNKNOWN_CONTACT.to_string();
                self.changes.push(&row);
            }
        }
        self.journal.push(DbWrite::DeleteContact(id.clone()));
    }

    /// Phone and e-mail of a contact; `None` when neither is known.
    pub fn contact_details(&self, id: &ContactId) -> Option<&ContactDetails> {
        self.contacts.get(id).and_then(|c| c.details.as_ref())
    }

    /// Changes a row in place (an agent's action shown before the server
    /// has it). Returns false when the row is unknown.
    pub fn apply_local(
        &mut self,
        id: &ConversationId,
        change: impl FnOnce(&mut Conversation),
    ) -> bool {
        let Some(entry) = self.conversations.get_mut(id) else {
            return false;
        };
        let before = entry.conversation.clone();
        change(&mut entry.conversation);
        if entry.conversation != before {
            self.changes.push(id);
            self.journal.push(DbWrite::UpsertConversations(vec![(
                entry.conversation.clone(),
                entry.unread,
            )]));
        }
        true
    }

    fn note_inbound(&mut self, id: &ConversationId, messages: &[Message]) {
        if let Some(newest) = messages
            .iter()
            .filter(|m| m.sender == SenderKind::Contact)
            .map(|m| m.created_at)
            .max()
        {
            self.note_inbound_at(id, newest);
        }
    }

    fn note_preview(&mut self, conversation: &Conversation) {
        if let Some(last) = &conversation.last_message
            && last.sender == SenderKind::Contact
        {
            self.note_inbound_at(&conversation.id, last.created_at);
        }
    }

    /// The customer wrote in `id` at `at` (kept if newer than what is known).
    pub fn note_inbound_at(&mut self, id: &ConversationId, at: DateTime<Utc>) {
        let known = self.last_inbound.entry(id.clone()).or_insert(at);
        if *known < at {
            *known = at;
        }
    }

    /// The customer's last message in a conversation, as far as known:
    /// a thread read back far enough (or whole) answers even when the
    /// customer's message is older than it.
    pub fn last_inbound(&self, id: &ConversationId, now: DateTime<Utc>) -> LastInbound {
        if let Some(at) = self.last_inbound.get(id) {
            return LastInbound::At(*at);
        }
        let Some(thread) = self.threads.get(id).filter(|t| t.loaded) else {
            return LastInbound::Unknown;
        };
        if !thread.has_older {
            return LastInbound::Never;
        }
        // Nothing from the customer in what is loaded, which reaches back
        // past the window: it is closed, whenever they last wrote.
        match thread.oldest_time() {
            Some(oldest) if now - oldest >= chrono::Duration::hours(WINDOW_HOURS) => {
                LastInbound::At(oldest)
            }
            _ => LastInbound::Unknown,
        }
    }

    /// Whether free text may be sent in the conversation now.
    pub fn reply_window(&self, id: &ConversationId, now: DateTime<Utc>) -> ReplyWindow {
        match self.conversations.get(id) {
            Some(entry) => {
                reply_window(&entry.conversation.channel, self.last_inbound(id, now), now)
            }
            None => ReplyWindow::Unknown,
        }
    }

    pub fn thread(&self, id: &ConversationId) -> Option<&Thread> {
        self.threads.get(id)
    }

    pub fn thread_mut(&mut self, id: &ConversationId) -> &mut Thread {
        let thread = self.thread_entry(id);
        thread.revision += 1;
        thread
    }

    /// A thread, created (and counted for eviction) if not in memory.
    fn thread_entry(&mut self, id: &ConversationId) -> &mut Thread {
        if !self.threads.contains_key(id) {
            self.thread_use.push(id.clone());
        }
        self.threads.entry(id.clone()).or_default()
    }

    /// Whether the thread's messages are in memory.
    pub fn has_thread(&self, id: &ConversationId) -> bool {
        self.threads.contains_key(id)
    }

    /// Threads in memory.
    pub fn thread_count(&self) -> usize {
        self.threads.len()
    }

    /// Marks a thread as just used: the last to be dropped.
    pub fn touch_thread(&mut self, id: &ConversationId) {
        if let Some(at) = self.thread_use.iter().position(|t| t == id) {
            let id = self.thread_use.remove(at);
            self.thread_use.push(id);
        } else {
            self.thread_use.push(id.clone());
        }
    }

    /// Drops the least recently used threads beyond [`THREADS_KEPT`], except
    /// those `keep` says are in use (they reload from the cache when
    /// opened again). Returns how many were dropped.
    pub fn trim_threads(&mut self, keep: impl Fn(&ConversationId) -> bool) -> usize {
        if self.threads.len() <= THREADS_KEPT {
            return 0;
        }
        let threads = &self.threads;
        self.thread_use.retain(|id| threads.contains_key(id));
        let mut excess = self.threads.len().saturating_sub(THREADS_KEPT);
        let mut dropped = 0;
        let mut index = 0;
        while excess > 0 && index < self.thread_use.len() {
            if keep(&self.thread_use[index]) {
                index += 1;
                continue;
            }
            let id = self.thread_use.remove(index);
            self.threads.remove(&id);
            excess -= 1;
            dropped += 1;
        }
        dropped
    }

    /// Inserts or replaces conversations. A newer customer message in a
    /// conversation other than `open` counts as unread. Returns how many
    /// conversations were new or different, so callers can skip redraws.
    pub fn upsert_conversations(
        &mut self,
        conversations: Vec<Conversation>,
        open: Option<&ConversationId>,
    ) -> usize {
        let mut changed_rows = Vec::new();
        for mut conversation in conversations {
            self.note_preview(&conversation);
            self.label(&mut conversation);
            let is_open = open == Some(&conversation.id);
            match self.conversations.get_mut(&conversation.id) {
                Some(entry) => {
                    // A page older than what we hold (a backfill page that
                    // raced a poll) must not roll the row back.
                    if conversation.updated_at < entry.conversation.updated_at {
                        continue;
                    }
                    let newer_inbound =
                        match (&conversation.last_message, &entry.conversation.last_message) {
                            (Some(new_msg), Some(old_msg)) => {
                                new_msg.sender == SenderKind::Contact
                                    && new_msg.created_at > old_msg.created_at
                            }
                            (Some(new_msg), None) => new_msg.sender == SenderKind::Contact,
                            _ => false,
                        };
                    let unread = match conversation.unread {
                        Some(n) => n,
                        None if is_open => 0,
                        None if newer_inbound => entry.unread + 1,
                        None => entry.unread,
                    };
                    if unread != entry.unread || entry.conversation != conversation {
                        entry.unread = unread;
                        entry.conversation = conversation;
                        self.changes.push(&entry.conversation.id);
                        changed_rows.push((entry.conversation.clone(), unread));
                    }
                }
                None => {
                    // Without a provider count, a conversation whose newest
                    // message is the customer's is waiting on us: show one.
                    let unread = conversation.unread.unwrap_or_else(|| {
                        let waiting = conversation
                            .last_message
                            .as_ref()
                            .is_some_and(|m| m.sender == SenderKind::Contact);
                        u32::from(waiting && !is_open)
                    });
                    self.index_contact(&conversation);
                    self.changes.push(&conversation.id);
                    changed_rows.push((conversation.clone(), unread));
                    self.conversations.insert(
                        conversation.id.clone(),
                        ConversationEntry {
                            conversation,
                            unread,
                        },
                    );
                }
            }
        }
        let changed = changed_rows.len();
        if changed > 0 {
            // The account's tags, for pickers: every tag a row carries.
            let mut tags: Vec<crate::domain::Tag> = Vec::new();
            for (row, _) in &changed_rows {
                for tag in &row.tags {
                    if !tags.iter().any(|t| t.id == tag.id) {
                        tags.push(tag.clone());
                    }
                }
            }
            self.journal
                .push(DbWrite::UpsertConversations(changed_rows));
            if !tags.is_empty() {
                self.journal.push(DbWrite::UpsertTags(tags));
            }
            self.resort();
        }
        changed
    }

    fn resort(&mut self) {
        self.changes.order_revision += 1;
        let conversations = &self.conversations;
        self.order = conversations.keys().cloned().collect();
        self.order
            .sort_unstable_by(|a, b| list_order(conversations, a, b));
    }

    pub fn mark_read(&mut self, id: &ConversationId) {
        if let Some(entry) = self.conversations.get_mut(id)
            && entry.unread != 0
        {
            entry.unread = 0;
            self.changes.push(id);
            self.journal.push(DbWrite::SetUnread {
                conversation_id: id.clone(),
                unread: 0,
            });
        }
    }

    /// The newest messages of a thread that is not open, read ahead: kept
    /// in the cache for later. What lies between them and older cached
    /// messages is unknown, so a page with more behind it records a gap
    /// (shown, and filled from the server, if older messages are cached).
    pub fn read_ahead(&mut self, id: &ConversationId, messages: Vec<Message>, has_more: bool) {
        if messages.is_empty() {
            return;
        }
        self.note_inbound(id, &messages);
        if self.threads.contains_key(id) {
            self.merge_messages(id, messages, None, Some(has_more));
            return;
        }
        if has_more && let Some(oldest) = messages.iter().min_by_key(|m| m.created_at) {
            self.journal.push(DbWrite::SetMeta {
                key: gap_key(id),
                value: oldest.id.as_str().to_string(),
            });
        }
        self.journal.push(DbWrite::UpsertMessages(messages));
    }

    /// Messages read back from the cache when a thread is opened: shown at
    /// once, and not written back. `has_older` says the cache holds more.
    pub fn add_cached_messages(
        &mut self,
        id: &ConversationId,
        messages: Vec<Message>,
        has_older: bool,
        gap_before: Option<&MessageId>,
    ) {
        self.note_inbound(id, &messages);
        let thread = self.thread_mut(id);
        let older_than_all = thread.messages.is_empty()
            || messages
                .iter()
                .all(|m| m.created_at <= thread.messages[0].created_at);
        let mut added = 0;
        for message in messages {
            if thread.index_of(&message).is_none() {
                thread.messages.push(message);
                added += 1;
            }
        }
        if added > 0 {
            thread.messages.sort_by(|a, b| {
                a.created_at
                    .cmp(&b.created_at)
                    .then_with(|| a.id.cmp(&b.id))
            });
            if let Some(gap) = &mut thread.gap {
                gap.index += added;
            }
        }
        if older_than_all || !thread.loaded {
            thread.has_older = has_older || thread.has_older;
        }
        // A gap recorded before a restart is shown again, not papered over.
        if thread.gap.is_none()
            && let Some(first_after) = gap_before
            && let Some(index) = thread.messages.iter().position(|m| &m.id == first_after)
            && index > 0
        {
            thread.gap = Some(Gap { index });
            thread.has_older = true;
        }
    }

    /// Merges a page of messages (any order) into the thread: new ids are
    /// inserted in time order, known ids are updated in place (acks move
    /// forward). `older_page` carries `has_more` when this page was fetched
    /// backwards from the oldest message.
    pub fn merge_messages(
        &mut self,
        id: &ConversationId,
        messages: Vec<Message>,
        older_page: Option<bool>,
        newest_page_has_more: Option<bool>,
    ) -> MergeSummary {
        self.note_inbound(id, &messages);
        let thread = self.thread_mut(id);
        let mut summary = MergeSummary::default();
        let mut written = Vec::new();
        // A newest page that shares nothing with what we hold, with more
        // behind it, means messages were missed in between (a long outage):
        // mark the hole, keep what was there, and fetch it on scrolling up.
        let gap = newest_page_has_more == Some(true)
            && !messages.is_empty()
            && !thread.messages.is_empty()
            && !messages.iter().any(|new| thread.index_of(new).is_some())
            && messages.iter().all(|new| {
                thread
                    .messages
                    .last()
                    .is_some_and(|last| new.created_at > last.created_at)
            });
        let hole_at = gap.then_some(thread.messages.len());
        // An older page that reaches what lies below the gap closes it.
        let closes_gap = older_page.is_some()
            && thread.gap.is_some_and(|gap| {
                messages
                    .iter()
                    .any(|new| thread.index_of(new).is_some_and(|i| i < gap.index))
                    || messages.iter().any(|new| {
                        gap.index > 0 && new.created_at <= thread.messages[gap.index - 1].created_at
                    })
            });
        let mut needs_sort = false;
        let mut inserted_below_gap = 0;
        for message in messages {
            match thread.index_of(&message) {
                Some(index) => {
                    let current = &mut thread.messages[index];
                    if *current != message {
                        let keep_ack =
                            current.ack > message.ack && current.ack != crate::domain::Ack::Failed;
                        let ack = if keep_ack { current.ack } else { message.ack };
                        *current = message;
                        current.ack = ack;
                        written.push(current.clone());
                        summary.updated += 1;
                    }
                }
                None => {
                    if thread
                        .messages
                        .last()
                        .is_some_and(|last| message.created_at < last.created_at)
                    {
                        needs_sort = true;
                    }
                    // Only messages as old as the block below the hole
                    // move the hole; fill-ins belong above it.
                    if thread.gap.is_some_and(|gap| {
                        gap.index > 0
                            && message.created_at <= thread.messages[gap.index - 1].created_at
                    }) {
                        inserted_below_gap += 1;
                    }
                    if message.sender == SenderKind::Contact {
                        summary.added_inbound += 1;
                    }
                    written.push(message.clone());
                    thread.messages.push(message);
                    summary.added += 1;
                }
            }
        }
        if needs_sort {
            thread.messages.sort_by(|a, b| {
                a.created_at
                    .cmp(&b.created_at)
                    .then_with(|| a.id.cmp(&b.id))
            });
        }
        if let Some(gap) = &mut thread.gap {
            gap.index += inserted_below_gap;
        }
        let mut gap_record = None;
        if closes_gap {
            thread.gap = None;
            gap_record = Some(String::new());
        }
        if let Some(index) = hole_at {
            thread.gap = Some(Gap { index });
            thread.has_older = true;
            gap_record = thread
                .messages
                .get(index)
                .map(|m| m.id.as_str().to_string());
        }
        if let Some(has_more) = older_page {
            // Below a gap the cache still holds older messages.
            if thread.gap.is_none() {
                thread.has_older = has_more;
            }
            thread.loading_older = false;
        }
        if let Some(has_more) = newest_page_has_more {
            // Later polls of the newest page say nothing about older history.
            if !thread.loaded && thread.messages.len() <= written.len() {
                thread.has_older = has_more;
            } else if !thread.loaded {
                thread.has_older = thread.has_older || has_more;
            }
            thread.loaded = true;
        }
        if !written.is_empty() {
            self.journal.push(DbWrite::UpsertMessages(written));
        }
        if let Some(value) = gap_record {
            self.journal.push(DbWrite::SetMeta {
                key: gap_key(id),
                value,
            });
        }
        summary
    }
}

#[cfg(test)]
pub(crate) mod fixtures {
    use chrono::{DateTime, TimeZone, Utc};

    use crate::domain::*;

    pub fn t(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_760_000_000 + secs, 0).unwrap()
    }

    pub fn conversation(id: &str, updated: i64, from_contact: bool) -> Conversation {
        Conversation {
            id: ConversationId::new(id),
            contact_id: Some(ContactId::new(format!("c-{id}"))),
            contact_name: format!("Contact {id}"),
            channel: Channel::WhatsApp,
            reply_channel_id: None,
            status: ConversationStatus::Open,
            assignee: None,
            starred: false,
            priority: None,
            tags: Vec::new(),
            last_message: Some(MessagePreview {
                text: format!("last of {id}"),
                sender: if from_contact {
                    SenderKind::Contact
                } else {
                    SenderKind::Agent
                },
                kind: MessageKind::Text,
                ack: Ack::Read,
                created_at: t(updated),
            }),
            created_at: Some(t(0)),
            updated_at: t(updated),
            unread: None,
        }
    }

    pub fn agent(id: &str, first: &str, last: &str, email: &str) -> Agent {
        Agent {
            id: AgentId::new(id),
            first_name: first.into(),
            last_name: last.into(),
            email: email.into(),
            role: "PERSON".into(),
            active: true,
            is_bot: false,
        }
    }

    pub fn message(conv: &str, id: &str, at: i64, sender: SenderKind, text: &str) -> Message {
        Message {
            id: MessageId::new(id),
            conversation_id: ConversationId::new(conv),
            client_id: None,
            sender,
            sender_name: Some(match sender {
                SenderKind::Contact => "Deniz".to_string(),
                _ => "Agent Ada".to_string(),
            }),
            kind: MessageKind::Text,
            channel: Some(Channel::WhatsApp),
            text: text.to_string(),
            subject: None,
            media: Vec::new(),
            quoted: None,
            ack: Ack::Delivered,
            failed_reason: None,
            created_at: t(at),
        }
    }
}

#[cfg(test)]
mod tests_bounds;

#[cfg(test)]
mod tests {
    use super::fixtures::*;
    use super::*;
    use crate::domain::{Ack, SenderKind};

    #[test]
    fn cached_chunks_merge_into_the_order() {
        let mut store = Store::default();
        store.upsert_conversations(
            vec![conversation("n", 50, true), conversation("m", 25, true)],
            None,
        );
        store.add_cached_conversations(vec![
            (conversation("x", 40, true), 0),
            (conversation("y", 30, true), 0),
            (conversation("m", 99, true), 0),
        ]);
        store.add_cached_conversations(vec![
            (conversation("z", 10, true), 0),
            (conversation("b", 30, true), 0),
            (conversation("w", 60, true), 0),
        ]);
        let ids: Vec<_> = store.order().iter().map(|i| i.as_str()).collect();
        assert_eq!(ids, ["w", "n", "x", "b", "y", "m", "z"]);
    }

    #[test]
    fn a_reader_that_keeps_up_with_the_change_log_never_has_to_rebuild() {
        let mut store = Store::default();
        let first = store.change_cursor();
        let mut cursor = first;
        let mut seen = 0;
        for i in 0..CHANGE_LOG_LIMIT as i64 * 3 {
            store.upsert_conversations(vec![conversation("a", i + 1, i % 2 == 0)], None);
            match store.changes_since(&cursor) {
                Changes::Rows { ids, .. } => seen += ids.len(),
                Changes::Everything => panic!("lost track after {i} changes"),
            }
            cursor = store.change_cursor();
        }
        assert_eq!(seen, CHANGE_LOG_LIMIT * 3);
        // One that fell behind, or that follows another store, rebuilds.
        assert_eq!(store.changes_since(&first), Changes::Everything);
        assert_eq!(Store::default().changes_since(&cursor), Changes::Everything);
        // Nothing new: nothing to redo.
        assert_eq!(
            store.changes_since(&cursor),
            Changes::Rows {
                ids: &[],
                reordered: false
            }
        );
    }

    #[test]
    fn orders_by_recency_and_journals_every_change() {
        let mut store = Store::default();
        store.upsert_conversations(
            vec![
                conversation("a", 10, true),
                conversation("b", 30, false),
                conversation("c", 20, true),
            ],
            None,
        );
        let ids: Vec<_> = store.order().iter().map(|i| i.as_str()).collect();
        assert_eq!(ids, ["b", "c", "a"]);
        assert_eq!(store.get(&"a".into()).unwrap().unread, 1);
        assert_eq!(store.get(&"b".into()).unwrap().unread, 0);
        let journal = store.take_journal();
        assert!(
            matches!(&journal[..], [DbWrite::UpsertConversations(rows)] if rows.len() == 3),
            "{journal:?}"
        );
        // Nothing new: nothing to write.
        store.upsert_conversations(vec![conversation("a", 10, true)], None);
        assert!(store.take_journal().is_empty());
    }

    #[test]
    fn rows_without_a_name_are_listed_once_until_named_or_known_missing() {
        let mut store = Store::default();
        let mut a = conversation("a", 10, true);
        a.contact_id = Some(ContactId::new("p1"));
        let mut b = conversation("b", 20, true);
        b.contact_id = Some(ContactId::new("p1"));
        let mut c = conversation("c", 30, true);
        c.contact_id = Some(ContactId::new("p2"));
        store.upsert_conversations(vec![a, b, c], None);
        assert_eq!(
            store.unnamed_contacts(),
            [ContactId::new("p1"), ContactId::new("p2")]
        );
        store.upsert_contacts(Vec::new(), vec![ContactId::new("p2")]);
        assert_eq!(store.unnamed_contacts(), [ContactId::new("p1")]);
        assert_eq!(store.rows_without_name(), 2);
    }

    #[test]
    fn an_older_copy_of_a_row_never_rolls_it_back() {
        let mut store = Store::default();
        store.upsert_conversations(vec![conversation("a", 50, true)], None);
        store.upsert_conversations(vec![conversation("a", 10, false)], None);
        assert_eq!(
            store.get(&"a".into()).unwrap().conversation.updated_at,
            t(50)
        );
    }

    #[test]
    fn names_fill_in_when_the_contact_arrives() {
        let mut store = Store::default();
        let mut row = conversation("a", 10, true);
        row.contact_name = String::new();
        store.upsert_conversations(vec![row], None);
        let row = &store.get(&"a".into()).unwrap().conversation;
        assert!(
            row.contact_name.contains("WhatsApp contact"),
            "{}",
            row.contact_name
        );
        let contact = Contact {
            last_name: Some("Yılmaz".into()),
            ..Contact::named("c-a", "Deniz")
        };
        assert_eq!(store.upsert_contacts(vec![contact], Vec::new()), 1);
        assert_eq!(
            store.get(&"a".into()).unwrap().conversation.contact_name,
            "Deniz Yılmaz"
        );
        // A later page of the same row keeps the name.
        let mut later = conversation("a", 20, true);
        later.contact_name = String::new();
        store.upsert_conversations(vec![later], None);
        assert_eq!(
            store.get(&"a".into()).unwrap().conversation.contact_name,
            "Deniz Yılmaz"
        );
    }

    #[test]
    fn newer_inbound_message_adds_unread_except_when_open() {
        let mut store = Store::default();
        store.upsert_conversations(
            vec![conversation("a", 10, false), conversation("b", 10, false)],
            None,
        );
        store.upsert_conversations(
            vec![conversation("a", 40, true), conversation("b", 40, true)],
            Some(&"b".into()),
        );
        assert_eq!(store.get(&"a".into()).unwrap().unread, 1);
        assert_eq!(store.get(&"b".into()).unwrap().unread, 0);
        assert_eq!(store.order()[0].as_str(), "a");
        store.mark_read(&"a".into());
        assert_eq!(store.get(&"a".into()).unwrap().unread, 0);
    }

    #[test]
    fn merge_dedups_inserts_in_order_and_keeps_ack_progress() {
        let mut store = Store::default();
        let id = ConversationId::new("a");
        let first = vec![
            message("a", "m3", 30, SenderKind::Contact, "three"),
            message("a", "m2", 20, SenderKind::Agent, "two"),
        ];
        let summary = store.merge_messages(&id, first, None, Some(true));
        assert_eq!(summary.added, 2);
        assert!(store.thread(&id).unwrap().has_older);
        let mut read = message("a", "m2", 20, SenderKind::Agent, "two");
        read.ack = Ack::Read;
        let summary = store.merge_messages(
            &id,
            vec![read, message("a", "m1", 10, SenderKind::Contact, "one")],
            Some(false),
            None,
        );
        assert_eq!(
            summary,
            MergeSummary {
                added: 1,
                added_inbound: 1,
                updated: 1
            }
        );
        let thread = store.thread(&id).unwrap();
        let texts: Vec<_> = thread.messages.iter().map(|m| m.text.as_str()).collect();
        assert_eq!(texts, ["one", "two", "three"]);
        assert!(!thread.has_older);
        // A stale page must not move an ack backwards.
        store.merge_messages(
            &id,
            vec![message("a", "m2", 20, SenderKind::Agent, "two")],
            None,
            Some(true),
        );
        assert_eq!(store.thread(&id).unwrap().messages[1].ack, Ack::Read);
    }

    #[test]
    fn a_newest_page_with_no_overlap_marks_a_gap_and_keeps_what_was_read() {
        let mut store = Store::default();
        let id = ConversationId::new("a");
        store.merge_messages(
            &id,
            vec![message("a", "m1", 10, SenderKind::Contact, "old")],
            None,
            Some(false),
        );
        let later = vec![message("a", "m99", 990, SenderKind::Contact, "much later")];
        store.merge_messages(&id, later, None, Some(true));
        let thread = store.thread(&id).unwrap();
        let texts: Vec<_> = thread.messages.iter().map(|m| m.text.as_str()).collect();
        assert_eq!(texts, ["old", "much later"]);
        assert_eq!(thread.gap, Some(Gap { index: 1 }));
        assert_eq!(
            thread.older_anchor().unwrap().id.as_str(),
            "m99",
            "older pages are fetched from above the gap"
        );
        // The missed messages arrive by scrolling up; reaching the old block
        // closes the gap.
        let missed = vec![
            message("a", "m50", 500, SenderKind::Agent, "missed"),
            message("a", "m1", 10, SenderKind::Contact, "old"),
        ];
        store.merge_messages(&id, missed, Some(false), None);
        let thread = store.thread(&id).unwrap();
        let texts: Vec<_> = thread.messages.iter().map(|m| m.text.as_str()).collect();
        assert_eq!(texts, ["old", "missed", "much later"]);
        assert_eq!(thread.gap, None);
    }

    #[test]
    fn a_gap_is_recorded_and_shown_again_after_a_restart() {
        let mut store = Store::default();
        let id = ConversationId::new("a");
        let old = message("a", "m1", 10, SenderKind::Contact, "old");
        let new = message("a", "m99", 990, SenderKind::Contact, "new");
        store.merge_messages(&id, vec![old.clone()], None, Some(false));
        store.merge_messages(&id, vec![new.clone()], None, Some(true));
        let recorded = store.take_journal().into_iter().find_map(|w| match w {
            DbWrite::SetMeta { key, value } if key == gap_key(&id) => Some(value),
            _ => None,
        });
        assert_eq!(recorded.as_deref(), Some("m99"));
        // A new start reads both messages from the cache, with the record.
        let mut restarted = Store::default();
        let first_after = MessageId::new("m99");
        restarted.add_cached_messages(&id, vec![old, new], false, Some(&first_after));
        let thread = restarted.thread(&id).unwrap();
        assert_eq!(thread.gap, Some(Gap { index: 1 }));
        assert!(thread.has_older, "the hole is still to be fetched");
    }

    #[test]
    fn a_thread_read_ahead_goes_to_the_cache_with_a_gap_record_when_more_lies_behind() {
        let mut store = Store::default();
        let id = ConversationId::new("a");
        let page = vec![
            message("a", "m9", 90, SenderKind::Contact, "newest"),
            message("a", "m8", 80, SenderKind::Agent, "older"),
        ];
        store.read_ahead(&id, page, true);
        assert!(store.thread(&id).is_none(), "not kept in memory");
        let journal = store.take_journal();
        assert!(journal.iter().any(|w| matches!(w,
            DbWrite::SetMeta { key, value } if *key == gap_key(&id) && value == "m8")));
        assert!(
            journal
                .iter()
                .any(|w| matches!(w, DbWrite::UpsertMessages(m) if m.len() == 2))
        );
        // A whole thread leaves no gap behind.
        store.read_ahead(
            &id,
            vec![message("a", "m1", 10, SenderKind::Contact, "hi")],
            false,
        );
        assert!(
            !store
                .take_journal()
                .iter()
                .any(|w| matches!(w, DbWrite::SetMeta { .. }))
        );
    }

    #[test]
    fn a_page_inside_the_gap_keeps_it_open() {
        let mut store = Store::default();
        let id = ConversationId::new("a");
        store.merge_messages(
            &id,
            vec![message("a", "m1", 10, SenderKind::Contact, "old")],
            None,
            Some(false),
        );
        store.merge_messages(
            &id,
            vec![message("a", "m99", 990, SenderKind::Contact, "new")],
            None,
            Some(true),
        );
        store.merge_messages(
            &id,
            vec![message("a", "m70", 700, SenderKind::Contact, "mid")],
            Some(true),
            None,
        );
        let thread = store.thread(&id).unwrap();
        assert_eq!(thread.gap, Some(Gap { index: 1 }));
        assert_eq!(thread.older_anchor().unwrap().id.as_str(), "m70");
        assert!(thread.has_older);
    }

    #[test]
    fn echo_with_same_client_id_replaces_instead_of_duplicating() {
        let mut store = Store::default();
        let id = ConversationId::new("a");
        let mut local = message("a", "tmp", 10, SenderKind::Agent, "hi");
        local.client_id = Some("k1".into());
        store.merge_messages(&id, vec![local], None, Some(false));
        let mut echo = message("a", "server-id", 10, SenderKind::Agent, "hi");
        echo.client_id = Some("k1".into());
        store.merge_messages(&id, vec![echo], None, None);
        assert_eq!(store.thread(&id).unwrap().messages.len(), 1);
        assert_eq!(
            store.thread(&id).unwrap().messages[0].id.as_str(),
            "server-id"
        );
    }
}
