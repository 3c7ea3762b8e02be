//! All application state: plain data, no locks, no channels.

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, Utc};
use ratatui_textarea::{TextArea, WrapMode};

use crate::api::{ApiError, Capabilities};
use crate::app::contact_form::ContactForm;
use crate::app::directory::Directory;
use crate::app::keymap::{Action, Keymap, Scope};
use crate::app::picker::Picker;
use crate::app::template_picker::TemplatePicker;
use crate::canned::CannedReply;
use crate::config::SendKey;
use crate::config::TriageConfig;
use crate::domain::{AgentId, Contact, ContactId, ConversationStatus};
use crate::domain::{ConversationId, MessageId};
use crate::store::Store;
use crate::store::contact_edits::ContactEdits;
use crate::store::db::SearchHit;
use crate::store::mutations::Mutations;
use crate::store::outbox::Outbox;
use crate::store::template_memory::TemplateMemory;
use crate::store::views::{ListView, Rows, ViewEngine, ViewSpec};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    List,
    Thread,
    Composer,
    /// The contact profile beside (or instead of) the thread.
    Profile,
}

impl Focus {
    pub fn scope(self) -> Scope {
        match self {
            Focus::List => Scope::List,
            Focus::Thread => Scope::Thread,
            Focus::Composer => Scope::Composer,
            Focus::Profile => Scope::Profile,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncStatus {
    Connecting,
    Synced {
        at: DateTime<Utc>,
    },
    Offline {
        /// When the outage began (the first failed round).
        since: DateTime<Utc>,
        retry_at: DateTime<Utc>,
        reason: String,
    },
    RateLimited {
        retry_at: DateTime<Utc>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeLevel {
    Info,
    Warning,
    Error,
}

/// A one-line message to the agent in the status bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub text: String,
    pub level: NoticeLevel,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Overlay {
    /// `scroll` lines down; the help is taller than small terminals.
    Help {
        scroll: usize,
    },
    ConfirmQuit,
    Search(SearchBox),
    /// The list's filter is being typed (`state.list_query`); every key
    /// goes to it.
    Filter,
    Picker(Picker),
    /// The contact editor (an edit, or a new contact).
    ContactForm(Box<ContactForm>),
    /// `Esc` on an editor with unsaved changes.
    ConfirmDiscard,
    /// Deleting a contact, once confirmed.
    ConfirmDeleteContact(DeleteContact),
    /// Every contact, filtered as typed.
    Directory(Box<Directory>),
    /// WhatsApp templates and canned replies, and the form that fills one.
    Templates(Box<TemplatePicker>),
}

/// What deleting a contact would do, said before it is done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteContact {
    pub contact_id: ContactId,
    pub label: String,
    /// Its conversations the cache holds: they stay, without a name.
    pub conversations: usize,
}

/// Where the profile of the open conversation's contact is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfilePlacement {
    Hidden,
    /// A third column (wide terminals).
    Beside,
    /// In the thread's place (narrow terminals, after `c`).
    Instead,
}

/// Full contact records read for the profile, the newest used last.
/// Bounded: the directory itself lives in the store and the cache.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContactCards {
    cards: Vec<Contact>,
}

impl ContactCards {
    const LIMIT: usize = 64;

    pub fn get(&self, id: &ContactId) -> Option<&Contact> {
        self.cards.iter().find(|c| &c.id == id)
    }

    pub fn put(&mut self, contact: Contact) {
        self.cards.retain(|c| c.id != contact.id);
        self.cards.push(contact);
        if self.cards.len() > Self::LIMIT {
            self.cards.remove(0);
        }
    }

    pub fn remove(&mut self, id: &ContactId) {
        self.cards.retain(|c| &c.id != id);
    }
}

/// Full-text search of the cache: the query as typed, and its results.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchBox {
    pub query: String,
    /// Results of `results_for`; older answers are dropped.
    pub results: Vec<SearchHit>,
    pub results_for: String,
    pub selected: usize,
    pub error: Option<String>,
}

/// The reply being written. `seen_inbound` is the newest customer message
/// the agent had in front of them; a send is held back once if newer ones
/// arrived while they typed.
#[derive(Debug, Clone)]
pub struct Composer {
    pub textarea: TextArea<'static>,
    pub seen_inbound: Option<MessageId>,
}

impl Default for Composer {
    fn default() -> Self {
        Self {
            textarea: new_textarea(Vec::new()),
            seen_inbound: None,
        }
    }
}

pub fn new_textarea(lines: Vec<String>) -> TextArea<'static> {
    let mut textarea = TextArea::new(lines);
    textarea.set_wrap_mode(WrapMode::WordOrGlyph);
    textarea.set_cursor_line_style(ratatui::style::Style::default());
    textarea.set_placeholder_text("Type a reply…");
    textarea
}

impl Composer {
    pub fn text(&self) -> String {
        self.textarea.lines().join("\n")
    }

    pub fn set_text(&mut self, text: &str) {
        let lines = text.split('\n').map(str::to_string).collect();
        self.textarea = new_textarea(lines);
        self.textarea
            .move_cursor(ratatui_textarea::CursorMove::Bottom);
        self.textarea.move_cursor(ratatui_textarea::CursorMove::End);
    }

    pub fn is_blank(&self) -> bool {
        self.textarea.lines().iter().all(|l| l.trim().is_empty())
    }
}

#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Store,
    pub outbox: Outbox,
    pub focus: Focus,
    pub selected: Option<ConversationId>,
    /// The agent has moved the selection: rows arriving later (cache
    /// chunks, backfill pages) no longer move it to the top.
    pub selection_chosen: bool,
    /// Index of the selected row when it was last moved (checked before use).
    pub selected_hint: usize,
    /// First visible row of the conversation list.
    pub list_offset: usize,
    pub open: Option<ConversationId>,
    /// Lines scrolled up from the newest message; 0 follows new messages.
    pub thread_scroll: usize,
    pub composer: Composer,
    pub drafts: HashMap<ConversationId, String>,
    /// The composer changed at this time and is not saved yet.
    pub draft_changed_at: Option<DateTime<Utc>>,
    /// The database is there: drafts, replies and the inbox survive a
    /// restart. Without it (a broken cache file) termdesk runs from memory.
    pub persistent: bool,
    /// A message to bring into view once its thread has it (search).
    pub focus_message: Option<MessageId>,
    pub sync: SyncStatus,
    pub notice: Option<Notice>,
    /// Boxes over the panes, the top one last: it gets the keys first and
    /// closing it shows the one below.
    pub overlays: Vec<Overlay>,
    pub width: u16,
    pub height: u16,
    /// Account name, or "demo".
    pub account_label: String,
    pub is_demo: bool,
    pub provider_name: String,
    /// What the provider offers; actions it lacks are greyed and explained.
    pub capabilities: Capabilities,
    /// The statuses the provider's conversations have: the status picker
    /// and filter offer only these.
    pub statuses: Vec<ConversationStatus>,
    pub keymap: Keymap,
    /// Tab, filters and sort of the list; saved.
    pub view: ViewSpec,
    /// The filter typed with `/`.
    pub list_query: String,
    /// When the filter last changed, to ask the server once typing pauses.
    pub list_query_changed_at: Option<DateTime<Utc>>,
    /// The filter the server was last asked about.
    pub server_searched: Option<String>,
    /// The rows the list shows, kept in step with the store and the view.
    pub list: ListView,
    /// Rows just acted on: shown until the selection moves, even when the
    /// action took them out of the view.
    pub sticky: Vec<ConversationId>,
    /// Computes `list` from what changed since the last time.
    pub view_engine: ViewEngine,
    /// Rows marked for a bulk action.
    pub marked: std::collections::BTreeSet<ConversationId>,
    /// Actions on conversations not yet confirmed by the server.
    pub mutations: Mutations,
    /// The agent using termdesk, once known (config or asked once).
    pub me: Option<AgentId>,
    /// The config's `agent` key, matched against the agents when they arrive.
    pub me_hint: Option<String>,
    pub triage: TriageConfig,
    /// The profile pane: `None` follows the width (shown at 160 columns
    /// and wider); `c` sets it.
    pub profile_shown: Option<bool>,
    /// Index of the selected row among the profile's conversations.
    pub profile_selected: usize,
    pub contact_cards: ContactCards,
    /// Contacts being read (cache, then server), not asked again meanwhile.
    pub contacts_loading: Vec<ContactId>,
    /// Contacts the cache has no record of, asked of the server only once
    /// the agent opens them (most recent last, bounded).
    pub contacts_uncached: Vec<ContactId>,
    /// Contacts the server could not give, not asked again before the time.
    pub contacts_failed: Vec<(ContactId, DateTime<Utc>)>,
    /// The editor opens on this contact once its record is read.
    pub open_editor_for: Option<ContactId>,
    /// Changes to contacts not yet confirmed by the server.
    pub contact_edits: ContactEdits,
    /// The account's country (ISO 3166-1 alpha-2) for phone numbers typed
    /// without `+`.
    pub account_country: Option<String>,
    /// The team's canned replies (`canned_replies.toml` beside the config).
    pub canned: Vec<CannedReply>,
    /// Why that file could not be read.
    pub canned_error: Option<String>,
    /// Values last sent with each template, and the templates behind
    /// recent messages.
    pub template_memory: TemplateMemory,
    /// A conversation just started by a template: opened once it arrives.
    pub open_when_loaded: Option<ConversationId>,
    /// When the templates were last read from the provider.
    pub templates_fetched_at: Option<DateTime<Utc>>,
    /// Ring the terminal bell when a customer writes in Mine or Unassigned.
    pub bell: bool,
    pub now: DateTime<Utc>,
    /// Offset for showing times; fixed at start-up so drawing stays pure.
    pub utc_offset: FixedOffset,
    /// Something visible changed since the last frame.
    pub dirty: bool,
    pub quitting: bool,
    /// Text of time-based labels at the last frame, to skip needless redraws.
    pub time_labels: String,
    /// Height in lines of the open thread at a given width: rebuilding it
    /// on every scroll key would be slow for long threads.
    pub thread_lines_cache: Option<(ThreadLinesKey, usize)>,
}

/// Everything the open thread's line count depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadLinesKey {
    pub conversation: Option<ConversationId>,
    pub width: u16,
    pub thread_revision: Option<u64>,
    pub outbox_revision: u64,
    pub day: chrono::NaiveDate,
}

impl AppState {
    pub fn new(
        account_label: impl Into<String>,
        provider_name: impl Into<String>,
        is_demo: bool,
        send_key: SendKey,
        now: DateTime<Utc>,
        (width, height): (u16, u16),
    ) -> Self {
        Self {
            store: Store::default(),
            outbox: Outbox::default(),
            focus: Focus::List,
            selected: None,
            list_offset: 0,
            open: None,
            thread_scroll: 0,
            composer: Composer::default(),
            selection_chosen: false,
            selected_hint: 0,
            drafts: HashMap::new(),
            draft_changed_at: None,
            persistent: false,
            focus_message: None,
            sync: SyncStatus::Connecting,
            notice: None,
            overlays: Vec::new(),
            width,
            height,
            account_label: account_label.into(),
            is_demo,
            provider_name: provider_name.into(),
            capabilities: Capabilities::all(),
            statuses: vec![
                ConversationStatus::Open,
                ConversationStatus::Pending,
                ConversationStatus::Resolved,
                ConversationStatus::Closed,
            ],
            keymap: Keymap::new(send_key),
            view: ViewSpec::default(),
            list_query: String::new(),
            list_query_changed_at: None,
            server_searched: None,
            list: ListView::default(),
            view_engine: ViewEngine::default(),
            marked: Default::default(),
            sticky: Vec::new(),
            mutations: Mutations::default(),
            me: None,
            me_hint: None,
            triage: TriageConfig::default(),
            profile_shown: None,
            profile_selected: 0,
            contact_cards: ContactCards::default(),
            contacts_loading: Vec::new(),
            contact_edits: ContactEdits::default(),
            open_editor_for: None,
            contacts_uncached: Vec::new(),
            contacts_failed: Vec::new(),
            account_country: None,
            canned: Vec::new(),
            canned_error: None,
            template_memory: TemplateMemory::default(),
            templates_fetched_at: None,
            open_when_loaded: None,
            bell: false,
            now,
            utc_offset: crate::timefmt::local_offset(),
            dirty: true,
            quitting: false,
            time_labels: String::new(),
            thread_lines_cache: None,
        }
    }

    /// The overlay that gets the keys, if any.
    pub fn overlay(&self) -> Option<&Overlay> {
        self.overlays.last()
    }

    pub fn overlay_mut(&mut self) -> Option<&mut Overlay> {
        self.overlays.last_mut()
    }

    pub fn open_overlay(&mut self, overlay: Overlay) {
        self.overlays.push(overlay);
        self.dirty = true;
    }

    /// Closes the top overlay, uncovering the one below.
    pub fn close_overlay(&mut self) {
        self.overlays.pop();
        self.dirty = true;
    }

    pub fn notify(&mut self, level: NoticeLevel, text: impl Into<String>) {
        self.notice = Some(Notice {
            text: text.into(),
            level,
        });
        self.dirty = true;
    }

    /// Why the provider cannot do `action`, or `None` when it can.
    pub fn unavailable(&self, action: Action) -> Option<String> {
        action
            .unavailable(&self.capabilities, &self.provider_name)
            .or_else(|| action.missing_status(&self.statuses, &self.provider_name))
    }

    pub fn notify_error(&mut self, what: &str, error: &ApiError) {
        self.notify(NoticeLevel::Error, format!("{what}: {error}"));
    }

    /// What quitting now would hold back or lose, in words; `None` when
    /// nothing. With the database, drafts and failed replies are saved and
    /// only replies still on their way are worth a question; without it,
    /// everything unsent would be lost.
    pub fn unsent_summary(&self) -> Option<String> {
        let sending = self.outbox.in_flight();
        let (failed, drafts) = if self.persistent {
            (0, 0)
        } else {
            let drafts = self
                .drafts
                .values()
                .filter(|d| !d.trim().is_empty())
                .count()
                + usize::from(!self.composer.is_blank());
            (self.outbox.items().len() - sending, drafts)
        };
        let count = |n: usize, one: &str, many: &str| match n {
            0 => None,
            1 => Some(format!("1 {one}")),
            n => Some(format!("{n} {many}")),
        };
        // Saved either way, but sent only when termdesk runs again.
        let actions = self.mutations.unsent();
        // Like failed replies, an edit the server refused is kept on disk
        // for the agent to fix; only one still on its way is worth asking.
        let contact_changes = self
            .contact_edits
            .items()
            .iter()
            .filter(|e| !self.persistent || !e.needs_agent())
            .count();
        let parts: Vec<String> = [
            count(sending, "reply still sending", "replies still sending"),
            count(
                actions,
                "action not sent yet (it goes out when termdesk next starts)",
                "actions not sent yet (they go out when termdesk next starts)",
            ),
            count(
                contact_changes,
                "contact change not confirmed (kept, and sent when termdesk next starts)",
                "contact changes not confirmed (kept, and sent when termdesk next starts)",
            ),
            count(failed, "failed reply", "failed replies"),
            count(drafts, "unsent draft", "unsent drafts"),
        ]
        .into_iter()
        .flatten()
        .collect();
        match parts.len() {
            0 => None,
            1 => Some(parts[0].clone()),
            n => Some(format!(
                "{} and {}",
                parts[..n - 1].join(", "),
                parts[n - 1]
            )),
        }
    }

    /// The rows of the list as shown: the view over the store.
    pub fn rows(&self) -> &Rows {
        &self.list.rows
    }

    pub fn selected_index(&self) -> Option<usize> {
        let selected = self.selected.as_ref()?;
        let order = self.rows();
        // Where the selection was last put: a scan of 50,000 rows per key
        // would make a burst of keys slow.
        if order.get(self.selected_hint) == Some(selected) {
            return Some(self.selected_hint);
        }
        order.iter().position(|id| id == selected)
    }
}
