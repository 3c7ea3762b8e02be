//! Keys to typed actions, per focus scope. The help overlay is generated
//! from this table, so it cannot go stale.
//!
//! The config's `[keys.<mode>]` tables change it (`Keymap::from_config`):
//! each entry `"key" = "action"` binds that key in that mode, replacing
//! whatever the key did there; the action keeps its other keys. `"none"`
//! (or `""`) unbinds a key. A mode's own keys come before the global ones.

use std::collections::BTreeMap;
use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::api::Capabilities;
use crate::config::SendKey;
use crate::domain::ConversationStatus;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Quit,
    Help,
    FocusNext,
    FocusPrev,
    Up,
    Down,
    Top,
    Bottom,
    PageUp,
    PageDown,
    Open,
    Reply,
    Back,
    RetryFailed,
    EditFailed,
    Send,
    NewLine,
    ExternalEditor,
    ReadMessage,
    Search,
    Palette,
    ViewMine,
    ViewUnassigned,
    ViewAll,
    Filter,
    FilterMenu,
    CycleSort,
    Mark,
    ClearMarks,
    Assign,
    AssignToMe,
    Unassign,
    Status,
    Resolve,
    Reopen,
    SetPending,
    Star,
    Priority,
    Tags,
    NextBest,
    NextUnread,
    Undo,
    ToggleProfile,
    Contacts,
    EditContact,
    NewContact,
    DeleteContact,
    Templates,
}

/// Every action with its name in the config's `[keys]` tables and the
/// palette.
pub const ACTIONS: &[(Action, &str)] = &[
    (Action::Quit, "quit"),
    (Action::Help, "help"),
    (Action::FocusNext, "next_pane"),
    (Action::FocusPrev, "previous_pane"),
    (Action::Up, "up"),
    (Action::Down, "down"),
    (Action::Top, "top"),
    (Action::Bottom, "bottom"),
    (Action::PageUp, "page_up"),
    (Action::PageDown, "page_down"),
    (Action::Open, "open"),
    (Action::Reply, "reply"),
    (Action::Back, "back"),
    (Action::RetryFailed, "retry_failed"),
    (Action::EditFailed, "edit_failed"),
    (Action::Send, "send"),
    (Action::NewLine, "new_line"),
    (Action::ExternalEditor, "external_editor"),
    (Action::ReadMessage, "read_message"),
    (Action::Search, "search"),
    (Action::Palette, "palette"),
    (Action::ViewMine, "view_mine"),
    (Action::ViewUnassigned, "view_unassigned"),
    (Action::ViewAll, "view_all"),
    (Action::Filter, "filter"),
    (Action::FilterMenu, "filter_menu"),
    (Action::CycleSort, "cycle_sort"),
    (Action::Mark, "mark"),
    (Action::ClearMarks, "clear_marks"),
    (Action::Assign, "assign"),
    (Action::AssignToMe, "assign_to_me"),
    (Action::Unassign, "unassign"),
    (Action::Status, "status"),
    (Action::Resolve, "resolve"),
    (Action::Reopen, "reopen"),
    (Action::SetPending, "pending"),
    (Action::Star, "star"),
    (Action::Priority, "priority"),
    (Action::Tags, "tags"),
    (Action::NextBest, "next_best"),
    (Action::NextUnread, "next_unread"),
    (Action::Undo, "undo"),
    (Action::ToggleProfile, "profile"),
    (Action::Contacts, "contacts"),
    (Action::EditContact, "edit_contact"),
    (Action::NewContact, "new_contact"),
    (Action::DeleteContact, "delete_contact"),
    (Action::Templates, "templates"),
];

/// The action names the config and the palette accept, in table order.
pub fn action_names() -> impl Iterator<Item = &'static str> {
    ACTIONS.iter().map(|(_, name)| *name)
}

/// The `[keys.<mode>]` table names; `conversation` is another name for
/// `thread`.
pub const MODES: &[(&str, Scope)] = &[
    ("global", Scope::Global),
    ("list", Scope::List),
    ("thread", Scope::Thread),
    ("conversation", Scope::Thread),
    ("composer", Scope::Composer),
    ("profile", Scope::Profile),
];

impl Action {
    pub fn name(self) -> &'static str {
        ACTIONS
            .iter()
            .find(|(action, _)| *action == self)
            .map(|(_, name)| *name)
            .unwrap_or("unknown")
    }

    pub fn from_name(name: &str) -> Option<Action> {
        ACTIONS
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(action, _)| *action)
    }

    pub fn description(self) -> &'static str {
        match self {
            Action::Quit => "quit (asks first while a reply is still sending)",
            Action::Help => "show or hide this help",
            Action::FocusNext => "next pane",
            Action::FocusPrev => "previous pane",
            Action::Up => "move up / scroll up",
            Action::Down => "move down / scroll down",
            Action::Top => "first / oldest",
            Action::Bottom => "last / newest",
            Action::PageUp => "page up (older messages load at the top)",
            Action::PageDown => "page down",
            Action::Open => "open the selected conversation",
            Action::Reply => "reply: focus the composer",
            Action::Back => "go back (drafts are kept)",
            Action::RetryFailed => "retry the failed reply",
            Action::EditFailed => "edit the failed reply",
            Action::Send => "send the reply",
            Action::NewLine => "new line",
            Action::ExternalEditor => "edit the reply in $EDITOR",
            Action::ReadMessage => "read a long message whole in $PAGER",
            Action::Search => "search every synced message and contact",
            Action::Palette => "command palette: every action by name",
            Action::ViewMine => "view: Mine",
            Action::ViewUnassigned => "view: Unassigned",
            Action::ViewAll => "view: All",
            Action::Filter => "filter the list as you type (Esc clears)",
            Action::FilterMenu => "filter by status, channel, tag, priority, starred, unread",
            Action::CycleSort => "sort: latest activity / longest waiting / priority",
            Action::Mark => "mark for a bulk action",
            Action::ClearMarks => "clear the marks and the typed filter",
            Action::Assign => "assign to an agent",
            Action::AssignToMe => "assign to me",
            Action::Unassign => "unassign",
            Action::Status => "change status",
            Action::Resolve => "resolve",
            Action::Reopen => "reopen",
            Action::SetPending => "set pending",
            Action::Star => "star / unstar",
            Action::Priority => "set priority",
            Action::Tags => "add / remove tags",
            Action::NextBest => {
                "next conversation that most needs you: mine waiting longest, then WhatsApp windows closing soonest, then unassigned waiting longest"
            }
            Action::NextUnread => "next unread conversation",
            Action::Undo => "undo the last action while it waits to be sent",
            Action::ToggleProfile => "show / hide the contact's profile",
            Action::Contacts => "contacts directory: find, open, edit",
            Action::EditContact => "edit the contact (Ctrl-S saves)",
            Action::NewContact => "new contact",
            Action::DeleteContact => "delete the contact (asks first)",
            Action::Templates => "WhatsApp templates and canned replies",
        }
    }

    /// What the action needs from the provider, as a test of its
    /// capabilities and the thing offered in words ("starring"); `None`
    /// when every provider can do it.
    pub fn needs(self) -> Option<(Offered, &'static str)> {
        let need: (Offered, &'static str) = match self {
            Action::Reply | Action::Send => (|c| c.send_text, "sending replies"),
            Action::Assign | Action::AssignToMe | Action::Unassign => {
                (|c| c.assign, "assigning conversations")
            }
            Action::Status | Action::Resolve | Action::Reopen | Action::SetPending => {
                (|c| c.update_status, "status changes")
            }
            Action::Star => (|c| c.star, "starring"),
            Action::Priority => (|c| c.priority, "priorities"),
            Action::Tags => (|c| c.conversation_tags, "conversation tags"),
            Action::Contacts | Action::EditContact | Action::NewContact | Action::DeleteContact => {
                (|c| c.contacts, "contacts")
            }
            // Canned replies work everywhere; the picker itself says when
            // the provider has no templates.
            _ => return None,
        };
        Some(need)
    }

    /// Why `provider` cannot do the action, or `None` when it can.
    pub fn unavailable(self, capabilities: &Capabilities, provider: &str) -> Option<String> {
        let (offered, what) = self.needs()?;
        (!offered(capabilities)).then(|| format!("{provider} does not offer {what}"))
    }

    /// The status the action sets without asking, for the shortcuts.
    pub fn sets_status(self) -> Option<ConversationStatus> {
        match self {
            Action::Resolve => Some(ConversationStatus::Resolved),
            Action::Reopen => Some(ConversationStatus::Open),
            Action::SetPending => Some(ConversationStatus::Pending),
            _ => None,
        }
    }

    /// Why the action cannot be done with the provider's status set
    /// (`statuses`), or `None` when it can or needs none.
    pub fn missing_status(self, statuses: &[ConversationStatus], provider: &str) -> Option<String> {
        let about_status = matches!(
            self,
            Action::Status | Action::Resolve | Action::Reopen | Action::SetPending
        );
        if about_status && statuses.is_empty() {
            return Some(format!("{provider} does not offer conversation statuses"));
        }
        let status = self.sets_status()?;
        (!statuses.contains(&status))
            .then(|| format!("{provider} has no \"{}\" status", status.label()))
    }
}

/// Whether a provider's capabilities include what an action needs.
pub type Offered = fn(&Capabilities) -> bool;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    Global,
    List,
    Thread,
    Composer,
    Profile,
}

impl Scope {
    pub fn title(self) -> &'static str {
        match self {
            Scope::Global => "Everywhere",
            Scope::List => "Conversation list",
            Scope::Thread => "Conversation",
            Scope::Composer => "Composer",
            Scope::Profile => "Contact profile",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Binding {
    pub code: KeyCode,
    pub modifiers: KeyModifiers,
}

impl Binding {
    pub const fn new(code: KeyCode, modifiers: KeyModifiers) -> Self {
        Self { code, modifiers }
    }

    const fn plain(code: KeyCode) -> Self {
        Self::new(code, KeyModifiers::NONE)
    }

    const fn ctrl(c: char) -> Self {
        Self::new(KeyCode::Char(c), KeyModifiers::CONTROL)
    }

    /// Reads a key as the config writes it: `x`, `X`, `*`, `ctrl-r`,
    /// `alt-enter`, `shift-tab`, `pgdn`, `f5`. Modifiers and key names
    /// ignore case; a single character keeps it (`g` and `G` differ), except
    /// after `ctrl-`, where terminals send both cases alike.
    pub fn parse(text: &str) -> Result<Binding, KeyParseError> {
        if text.is_empty() {
            return Err(KeyParseError::Empty);
        }
        let mut modifiers = KeyModifiers::NONE;
        let mut rest = text;
        while let Some((head, tail)) = rest.split_once('-') {
            // A lone `-`, or `ctrl--`, is the minus key itself.
            if head.is_empty() || tail.is_empty() {
                break;
            }
            let (modifier, name) = modifier_named(head)
                .ok_or_else(|| KeyParseError::UnknownModifier(head.to_string()))?;
            if modifiers.contains(modifier) {
                return Err(KeyParseError::RepeatedModifier(name));
            }
            modifiers |= modifier;
            rest = tail;
        }
        if let Some(head) = rest.strip_suffix('-')
            && modifier_named(head).is_some()
        {
            return Err(KeyParseError::MissingKey(text.to_string()));
        }
        let code = match rest.to_ascii_lowercase().as_str() {
            "enter" | "return" => KeyCode::Enter,
            "esc" | "escape" => KeyCode::Esc,
            "space" => KeyCode::Char(' '),
            "tab" => KeyCode::Tab,
            "backtab" => KeyCode::BackTab,
            "backspace" => KeyCode::Backspace,
            "delete" | "del" => KeyCode::Delete,
            "insert" | "ins" => KeyCode::Insert,
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "pgup" | "pageup" => KeyCode::PageUp,
            "pgdn" | "pgdown" | "pagedown" => KeyCode::PageDown,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            name => match function_key(name) {
                Some(n) => KeyCode::F(n),
                None => {
                    let mut chars = rest.chars();
                    match (chars.next(), chars.next()) {
                        (Some(c), None) => KeyCode::Char(c),
                        _ => return Err(KeyParseError::UnknownKey(rest.to_string())),
                    }
                }
            },
        };
        Self::normalized(code, modifiers)
    }

    /// The form crossterm reports the key in, so that `matches` finds it.
    fn normalized(code: KeyCode, modifiers: KeyModifiers) -> Result<Binding, KeyParseError> {
        let shift = modifiers.contains(KeyModifiers::SHIFT);
        let ctrl = modifiers.contains(KeyModifiers::CONTROL);
        match code {
            // Shift-Tab arrives as BackTab.
            KeyCode::Tab | KeyCode::BackTab if shift || code == KeyCode::BackTab => Ok(
                Binding::new(KeyCode::BackTab, modifiers | KeyModifiers::SHIFT),
            ),
            // Shift is part of the character (`G`, `?`), not a modifier.
            KeyCode::Char(c) if shift => {
                let mut upper = c.to_uppercase();
                let shifted = match (upper.next(), upper.next()) {
                    (Some(u), None) if c.is_lowercase() || c.is_uppercase() => u,
                    _ => return Err(KeyParseError::ShiftedSymbol(c)),
                };
                if ctrl {
                    return Err(KeyParseError::CtrlShiftLetter(
                        shifted.to_lowercase().next().unwrap_or(c),
                    ));
                }
                Ok(Binding::new(
                    KeyCode::Char(shifted),
                    modifiers - KeyModifiers::SHIFT,
                ))
            }
            // Terminals send Ctrl-R and Ctrl-r as the same byte.
            KeyCode::Char(c) if ctrl => Ok(Binding::new(
                KeyCode::Char(c.to_ascii_lowercase()),
                modifiers,
            )),
            _ => Ok(Binding::new(code, modifiers)),
        }
    }

    /// A character without Ctrl or Alt: in the composer it is typed text.
    pub fn types_text(&self) -> bool {
        matches!(self.code, KeyCode::Char(_))
            && !self
                .modifiers
                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
    }

    /// Whether both bindings fire on the same key press.
    pub fn same_key(&self, other: &Binding) -> bool {
        self.matches(&KeyEvent::new(other.code, other.modifiers))
    }

    fn matches(&self, key: &KeyEvent) -> bool {
        // Shift is implied by the character itself (`G`, `?`), so compare
        // it only for non-character keys.
        let relevant = if matches!(key.code, KeyCode::Char(_)) {
            KeyModifiers::CONTROL | KeyModifiers::ALT
        } else {
            KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT
        };
        let code_matches = match (self.code, key.code) {
            (KeyCode::Char(a), KeyCode::Char(b)) => a == b,
            (a, b) => a == b,
        };
        code_matches && (key.modifiers & relevant) == (self.modifiers & relevant)
    }

    /// `Ctrl-C`, `Alt-Enter`, `PgUp`, `j`.
    pub fn label(&self) -> String {
        let mut out = String::new();
        if self.modifiers.contains(KeyModifiers::CONTROL) {
            out.push_str("Ctrl-");
        }
        if self.modifiers.contains(KeyModifiers::ALT) {
            out.push_str("Alt-");
        }
        if self.modifiers.contains(KeyModifiers::SHIFT) && !matches!(self.code, KeyCode::BackTab) {
            out.push_str("Shift-");
        }
        let key = match self.code {
            KeyCode::Char(' ') => "Space".to_string(),
            KeyCode::Char(c) if self.modifiers.contains(KeyModifiers::CONTROL) => {
                c.to_ascii_uppercase().to_string()
            }
            KeyCode::Char(c) => c.to_string(),
            KeyCode::Enter => "Enter".into(),
            KeyCode::Esc => "Esc".into(),
            KeyCode::Tab => "Tab".into(),
            KeyCode::BackTab => "Shift-Tab".into(),
            KeyCode::Up => "↑".into(),
            KeyCode::Down => "↓".into(),
            KeyCode::Left => "←".into(),
            KeyCode::Right => "→".into(),
            KeyCode::PageUp => "PgUp".into(),
            KeyCode::PageDown => "PgDn".into(),
            KeyCode::Home => "Home".into(),
            KeyCode::End => "End".into(),
            other => format!("{other:?}"),
        };
        out.push_str(&key);
        out
    }
}

fn modifier_named(name: &str) -> Option<(KeyModifiers, &'static str)> {
    match name.to_ascii_lowercase().as_str() {
        "ctrl" | "control" => Some((KeyModifiers::CONTROL, "ctrl")),
        "alt" => Some((KeyModifiers::ALT, "alt")),
        "shift" => Some((KeyModifiers::SHIFT, "shift")),
        _ => None,
    }
}

fn function_key(name: &str) -> Option<u8> {
    let number: u8 = name.strip_prefix('f')?.parse().ok()?;
    (1..=12).contains(&number).then_some(number)
}

const NAMED_KEYS: &str = "enter, esc, space, tab, backspace, delete, insert, up, down, left, right, pgup, pgdn, home, end, f1 to f12";

/// Why a key written in the config cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyParseError {
    #[error("the key is empty")]
    Empty,
    #[error("unknown modifier {0:?} (the modifiers are ctrl-, alt- and shift-)")]
    UnknownModifier(String),
    #[error("{0}- is written twice")]
    RepeatedModifier(&'static str),
    #[error("{0:?} names no key after its modifiers")]
    MissingKey(String),
    #[error("unknown key {0:?}: write one character or one of {NAMED_KEYS}")]
    UnknownKey(String),
    #[error(
        "shift- only goes with letters and named keys: write the character it types instead of shift-{0}"
    )]
    ShiftedSymbol(char),
    #[error(
        "terminals send ctrl-shift-{0} as ctrl-{0}: bind ctrl-{0}, or alt- with the capital letter"
    )]
    CtrlShiftLetter(char),
}

/// One `"key" = "action"` line of a `[keys.<mode>]` table, for errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyEntry {
    pub mode: String,
    pub key: String,
    pub action: String,
}

impl fmt::Display for KeyEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[keys.{}] {:?} = {:?}", self.mode, self.key, self.action)
    }
}

/// A `[keys]` entry that cannot be applied; the text names the entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeymapError {
    #[error(
        "[keys.{mode}]: unknown mode {mode:?}{}; the modes are global, list, thread (or conversation) and composer",
        did_you_mean(*.suggestion)
    )]
    UnknownMode {
        mode: String,
        suggestion: Option<&'static str>,
    },
    #[error("{entry}: {source}")]
    BadKey {
        entry: KeyEntry,
        source: KeyParseError,
    },
    #[error(
        "{entry}: unknown action {:?}{}",
        entry.action,
        match .suggestion {
            Some(name) => format!(" (did you mean {name:?}?)"),
            None => " (the README's Keys section lists every action)".to_string(),
        }
    )]
    UnknownAction {
        entry: KeyEntry,
        suggestion: Option<&'static str>,
    },
    #[error(
        "{entry}: a plain character types text in the composer; use ctrl- or alt- with it, or a named key such as f2"
    )]
    TypedText { entry: KeyEntry },
    #[error("{entry}: the same key as {other}")]
    SameKey {
        entry: KeyEntry,
        other: Box<KeyEntry>,
    },
}

fn did_you_mean(suggestion: Option<&str>) -> String {
    suggestion
        .map(|name| format!(" (did you mean {name:?}?)"))
        .unwrap_or_default()
}

/// The candidate nearest to a misspelt `word`, if it is close enough to
/// be what was meant.
fn closest(word: &str, candidates: impl Iterator<Item = &'static str>) -> Option<&'static str> {
    let limit = word.chars().count().div_ceil(3).max(1);
    candidates
        .map(|candidate| (edit_distance(word, candidate), candidate))
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

/// `Some(None)` unbinds; `None` is not an action name. Case and `-` for
/// `_` are forgiven.
fn parse_action(name: &str) -> Option<Option<Action>> {
    let name = name.trim().to_ascii_lowercase().replace('-', "_");
    if name.is_empty() || name == "none" {
        return Some(None);
    }
    Action::from_name(&name).map(Some)
}

/// The help's section of actions that have no key.
pub const PALETTE_ONLY: &str = "No key: run from the palette (:)";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keymap {
    entries: Vec<(Scope, Binding, Action)>,
}

impl Keymap {
    pub fn new(send_key: SendKey) -> Self {
        use Action::*;
        use KeyCode as K;
        let none = KeyModifiers::NONE;
        let alt = KeyModifiers::ALT;
        let (send, newline) = match send_key {
            SendKey::Enter => (Binding::new(K::Enter, none), Binding::new(K::Enter, alt)),
            SendKey::AltEnter => (Binding::new(K::Enter, alt), Binding::new(K::Enter, none)),
        };
        let mut entries = vec![
            (Scope::Global, Binding::plain(K::Char('?')), Help),
            (Scope::Global, Binding::plain(K::Char('q')), Quit),
            (Scope::Global, Binding::ctrl('c'), Quit),
            (Scope::Global, Binding::ctrl('f'), Search),
            (Scope::Global, Binding::plain(K::Char(':')), Palette),
            (Scope::Global, Binding::plain(K::Char('u')), Undo),
            (Scope::Global, Binding::plain(K::Tab), FocusNext),
            (
                Scope::Global,
                Binding::new(K::BackTab, KeyModifiers::SHIFT),
                FocusPrev,
            ),
            (Scope::Composer, send, Send),
            (Scope::Composer, newline, NewLine),
            (
                Scope::Composer,
                Binding::new(K::Enter, KeyModifiers::SHIFT),
                NewLine,
            ),
            (Scope::Composer, Binding::ctrl('e'), ExternalEditor),
            (Scope::Composer, Binding::ctrl('t'), Templates),
            (Scope::Composer, Binding::plain(K::Esc), Back),
            (Scope::Thread, Binding::plain(K::Char('v')), ReadMessage),
        ];
        for scope in [Scope::List, Scope::Thread] {
            entries.extend([
                (scope, Binding::plain(K::Char('k')), Up),
                (scope, Binding::plain(K::Up), Up),
                (scope, Binding::plain(K::Char('j')), Down),
                (scope, Binding::plain(K::Down), Down),
                (scope, Binding::plain(K::Char('g')), Top),
                (scope, Binding::plain(K::Home), Top),
                (scope, Binding::plain(K::Char('G')), Bottom),
                (scope, Binding::plain(K::End), Bottom),
                (scope, Binding::plain(K::PageUp), PageUp),
                (scope, Binding::plain(K::PageDown), PageDown),
                (scope, Binding::plain(K::Char('r')), Reply),
                (scope, Binding::plain(K::Char('R')), RetryFailed),
                (scope, Binding::plain(K::Char('e')), EditFailed),
                (scope, Binding::plain(K::Char('a')), Assign),
                (scope, Binding::plain(K::Char('A')), AssignToMe),
                (scope, Binding::plain(K::Char('s')), Status),
                (scope, Binding::plain(K::Char('x')), Resolve),
                (scope, Binding::plain(K::Char('*')), Star),
                (scope, Binding::plain(K::Char('p')), Priority),
                (scope, Binding::plain(K::Char('#')), Tags),
                (scope, Binding::plain(K::Char('n')), NextBest),
                (scope, Binding::plain(K::Char('N')), NextUnread),
                (scope, Binding::plain(K::Char('E')), EditContact),
            ]);
        }
        for scope in [Scope::List, Scope::Thread, Scope::Profile] {
            entries.extend([
                (scope, Binding::plain(K::Char('c')), ToggleProfile),
                (scope, Binding::plain(K::Char('C')), Contacts),
                (scope, Binding::plain(K::Char('t')), Templates),
            ]);
        }
        entries.extend([
            (Scope::Profile, Binding::plain(K::Char('k')), Up),
            (Scope::Profile, Binding::plain(K::Up), Up),
            (Scope::Profile, Binding::plain(K::Char('j')), Down),
            (Scope::Profile, Binding::plain(K::Down), Down),
            (Scope::Profile, Binding::plain(K::Enter), Open),
            (Scope::Profile, Binding::plain(K::Char('e')), EditContact),
            (Scope::Profile, Binding::plain(K::Char('D')), DeleteContact),
            (Scope::Profile, Binding::plain(K::Esc), Back),
        ]);
        entries.extend([
            (Scope::List, Binding::plain(K::Char('1')), ViewMine),
            (Scope::List, Binding::plain(K::Char('2')), ViewUnassigned),
            (Scope::List, Binding::plain(K::Char('3')), ViewAll),
            (Scope::List, Binding::plain(K::Char('/')), Filter),
            (Scope::List, Binding::plain(K::Char('f')), FilterMenu),
            (Scope::List, Binding::plain(K::Char('o')), CycleSort),
            (Scope::List, Binding::plain(K::Char(' ')), Mark),
            (Scope::List, Binding::plain(K::Esc), ClearMarks),
        ]);
        entries.push((Scope::List, Binding::plain(K::Enter), Open));
        entries.push((Scope::Thread, Binding::plain(K::Esc), Back));
        Self { entries }
    }

    /// The default keys changed by the config's `[keys.<mode>]` tables
    /// (`Config::keys`). An entry binds its key in that mode, replacing what
    /// the key did there; the action keeps its other keys, and `"none"`
    /// unbinds a key. Plain characters cannot be bound in the composer,
    /// where they are typed text.
    pub fn from_config(
        send_key: SendKey,
        keys: &BTreeMap<String, BTreeMap<String, String>>,
    ) -> Result<Keymap, KeymapError> {
        let mut map = Keymap::new(send_key);
        let mut applied: Vec<(Scope, Binding, KeyEntry)> = Vec::new();
        for (mode, table) in keys {
            let scope = MODES
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(mode))
                .map(|(_, scope)| *scope)
                .ok_or_else(|| KeymapError::UnknownMode {
                    mode: mode.clone(),
                    suggestion: closest(
                        &mode.to_ascii_lowercase(),
                        MODES.iter().map(|(name, _)| *name),
                    ),
                })?;
            for (key, action) in table {
                let entry = KeyEntry {
                    mode: mode.clone(),
                    key: key.clone(),
                    action: action.clone(),
                };
                let binding = match Binding::parse(key) {
                    Ok(binding) => binding,
                    Err(source) => return Err(KeymapError::BadKey { entry, source }),
                };
                let Some(action) = parse_action(action) else {
                    let wanted = action.trim().to_ascii_lowercase().replace('-', "_");
                    let suggestion = closest(&wanted, action_names());
                    return Err(KeymapError::UnknownAction { entry, suggestion });
                };
                if scope == Scope::Composer && action.is_some() && binding.types_text() {
                    return Err(KeymapError::TypedText { entry });
                }
                if let Some((_, _, other)) = applied
                    .iter()
                    .find(|(s, b, _)| *s == scope && b.same_key(&binding))
                {
                    return Err(KeymapError::SameKey {
                        entry,
                        other: Box::new(other.clone()),
                    });
                }
                map.entries
                    .retain(|(s, b, _)| !(*s == scope && b.same_key(&binding)));
                if let Some(action) = action {
                    map.entries.push((scope, binding, action));
                }
                applied.push((scope, binding, entry));
            }
        }
        Ok(map)
    }

    /// Keys bound to an action anywhere, for the palette and hints.
    pub fn keys_for(&self, action: Action) -> Vec<String> {
        let mut keys: Vec<String> = Vec::new();
        for (_, binding, bound) in &self.entries {
            let label = binding.label();
            if *bound == action && !keys.contains(&label) {
                keys.push(label);
            }
        }
        keys
    }

    /// The action for a key in a scope. In the composer, plain keys type
    /// text, so only its own bindings and modified global keys apply.
    pub fn lookup(&self, scope: Scope, key: &KeyEvent) -> Option<Action> {
        let find = |s: Scope| {
            self.entries
                .iter()
                .find(|(entry_scope, binding, _)| *entry_scope == s && binding.matches(key))
                .map(|(_, _, action)| *action)
        };
        if let Some(action) = find(scope) {
            return Some(action);
        }
        let typed_text = scope == Scope::Composer
            && matches!(key.code, KeyCode::Char(_))
            && !key
                .modifiers
                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
        if typed_text {
            return None;
        }
        find(Scope::Global)
    }

    /// Sections for the help overlay: title, then (keys, description) with
    /// every key of an action joined. Bindings the list and the conversation
    /// share are listed once.
    pub fn help(&self) -> Vec<(&'static str, Vec<(String, &'static str)>)> {
        self.help_actions()
            .into_iter()
            .map(|(title, rows)| {
                let rows = rows
                    .into_iter()
                    .map(|(keys, action)| (keys, action.description()))
                    .collect();
                (title, rows)
            })
            .collect()
    }

    /// Like [`Keymap::help`], with the action of each row.
    pub fn help_actions(&self) -> Vec<(&'static str, Vec<(String, Action)>)> {
        let rows_of = |scope: Scope| {
            let mut rows: Vec<(Action, Vec<String>)> = Vec::new();
            for (entry_scope, binding, action) in &self.entries {
                if *entry_scope != scope {
                    continue;
                }
                match rows.iter_mut().find(|(a, _)| a == action) {
                    Some((_, keys)) => keys.push(binding.label()),
                    None => rows.push((*action, vec![binding.label()])),
                }
            }
            rows
        };
        let list = rows_of(Scope::List);
        let thread = rows_of(Scope::Thread);
        let shared: Vec<_> = list
            .iter()
            .filter(|row| thread.contains(row))
            .cloned()
            .collect();
        let only = |rows: Vec<(Action, Vec<String>)>| -> Vec<_> {
            rows.into_iter()
                .filter(|row| !shared.contains(row))
                .collect()
        };
        // Actions without a key still belong in the help: the palette runs them.
        let palette_only: Vec<(Action, Vec<String>)> = ACTIONS
            .iter()
            .filter(|(action, _)| !self.entries.iter().any(|(_, _, a)| a == action))
            .map(|(action, _)| (*action, Vec::new()))
            .collect();
        let sections = [
            (Scope::Global.title(), rows_of(Scope::Global)),
            (Scope::Composer.title(), rows_of(Scope::Composer)),
            ("List and conversation", shared.clone()),
            (Scope::List.title(), only(list)),
            (Scope::Thread.title(), only(thread)),
            (Scope::Profile.title(), rows_of(Scope::Profile)),
            (PALETTE_ONLY, palette_only),
        ];
        sections
            .into_iter()
            .filter(|(_, rows)| !rows.is_empty())
            .map(|(title, rows)| {
                let rows = rows
                    .into_iter()
                    .map(|(action, keys)| (keys.join(" "), action))
                    .collect();
                (title, rows)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

    #[test]
    fn composer_types_plain_characters_but_honours_ctrl() {
        let map = Keymap::new(SendKey::Enter);
        assert_eq!(
            map.lookup(
                Scope::Composer,
                &key(KeyCode::Char('q'), KeyModifiers::NONE)
            ),
            None
        );
        assert_eq!(
            map.lookup(
                Scope::Composer,
                &key(KeyCode::Char('c'), KeyModifiers::CONTROL)
            ),
            Some(Action::Quit)
        );
        assert_eq!(
            map.lookup(Scope::List, &key(KeyCode::Char('q'), KeyModifiers::NONE)),
            Some(Action::Quit)
        );
    }

    #[test]
    fn send_key_is_swappable() {
        let enter = key(KeyCode::Enter, KeyModifiers::NONE);
        let alt_enter = key(KeyCode::Enter, KeyModifiers::ALT);
        let default = Keymap::new(SendKey::Enter);
        assert_eq!(default.lookup(Scope::Composer, &enter), Some(Action::Send));
        assert_eq!(
            default.lookup(Scope::Composer, &alt_enter),
            Some(Action::NewLine)
        );
        let swapped = Keymap::new(SendKey::AltEnter);
        assert_eq!(
            swapped.lookup(Scope::Composer, &enter),
            Some(Action::NewLine)
        );
        assert_eq!(
            swapped.lookup(Scope::Composer, &alt_enter),
            Some(Action::Send)
        );
    }

    #[test]
    fn shifted_characters_match_without_shift_in_binding() {
        let map = Keymap::new(SendKey::Enter);
        assert_eq!(
            map.lookup(Scope::List, &key(KeyCode::Char('G'), KeyModifiers::SHIFT)),
            Some(Action::Bottom)
        );
        assert_eq!(
            map.lookup(Scope::List, &key(KeyCode::Char('?'), KeyModifiers::SHIFT)),
            Some(Action::Help)
        );
    }

    #[test]
    fn help_lists_every_bound_action() {
        let map = Keymap::new(SendKey::Enter);
        let help = map.help();
        let all: Vec<&str> = help
            .iter()
            .flat_map(|(_, rows)| rows.iter().map(|(_, d)| *d))
            .collect();
        for action in [
            Action::Quit,
            Action::Open,
            Action::Send,
            Action::ExternalEditor,
            Action::RetryFailed,
        ] {
            assert!(
                all.contains(&action.description()),
                "{action:?} missing from help"
            );
        }
        let list = &help
            .iter()
            .find(|(t, _)| *t == "List and conversation")
            .unwrap()
            .1;
        assert!(list.iter().any(|(keys, _)| keys == "k ↑"));
    }

    fn keys(tables: &[(&str, &[(&str, &str)])]) -> BTreeMap<String, BTreeMap<String, String>> {
        tables
            .iter()
            .map(|(mode, entries)| {
                let table = entries
                    .iter()
                    .map(|(k, a)| (k.to_string(), a.to_string()))
                    .collect();
                (mode.to_string(), table)
            })
            .collect()
    }

    fn configured(tables: &[(&str, &[(&str, &str)])]) -> Result<Keymap, KeymapError> {
        Keymap::from_config(SendKey::Enter, &keys(tables))
    }

    fn error(tables: &[(&str, &[(&str, &str)])]) -> String {
        configured(tables).unwrap_err().to_string()
    }

    fn parsed(text: &str) -> (KeyCode, KeyModifiers) {
        let binding = Binding::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        (binding.code, binding.modifiers)
    }

    #[test]
    fn parses_the_key_syntax() {
        let none = KeyModifiers::NONE;
        let ctrl = KeyModifiers::CONTROL;
        let alt = KeyModifiers::ALT;
        let shift = KeyModifiers::SHIFT;
        for (text, code, modifiers) in [
            ("x", KeyCode::Char('x'), none),
            ("X", KeyCode::Char('X'), none),
            ("*", KeyCode::Char('*'), none),
            ("#", KeyCode::Char('#'), none),
            (":", KeyCode::Char(':'), none),
            ("/", KeyCode::Char('/'), none),
            ("-", KeyCode::Char('-'), none),
            ("ş", KeyCode::Char('ş'), none),
            ("ctrl-r", KeyCode::Char('r'), ctrl),
            ("Ctrl-R", KeyCode::Char('r'), ctrl),
            ("CONTROL-r", KeyCode::Char('r'), ctrl),
            ("ctrl--", KeyCode::Char('-'), ctrl),
            ("alt-x", KeyCode::Char('x'), alt),
            ("alt-X", KeyCode::Char('X'), alt),
            ("shift-x", KeyCode::Char('X'), none),
            ("alt-shift-x", KeyCode::Char('X'), alt),
            ("alt-enter", KeyCode::Enter, alt),
            ("Shift-Enter", KeyCode::Enter, shift),
            ("enter", KeyCode::Enter, none),
            ("return", KeyCode::Enter, none),
            ("esc", KeyCode::Esc, none),
            ("Escape", KeyCode::Esc, none),
            ("space", KeyCode::Char(' '), none),
            ("ctrl-space", KeyCode::Char(' '), ctrl),
            ("tab", KeyCode::Tab, none),
            ("shift-tab", KeyCode::BackTab, shift),
            ("backtab", KeyCode::BackTab, shift),
            ("backspace", KeyCode::Backspace, none),
            ("delete", KeyCode::Delete, none),
            ("up", KeyCode::Up, none),
            ("DOWN", KeyCode::Down, none),
            ("left", KeyCode::Left, none),
            ("right", KeyCode::Right, none),
            ("ctrl-up", KeyCode::Up, ctrl),
            ("pgup", KeyCode::PageUp, none),
            ("PgDn", KeyCode::PageDown, none),
            ("pagedown", KeyCode::PageDown, none),
            ("home", KeyCode::Home, none),
            ("end", KeyCode::End, none),
            ("f1", KeyCode::F(1), none),
            ("F12", KeyCode::F(12), none),
            ("f", KeyCode::Char('f'), none),
        ] {
            assert_eq!(parsed(text), (code, modifiers), "{text}");
        }
    }

    #[test]
    fn rejects_malformed_keys() {
        for (text, expected) in [
            ("", KeyParseError::Empty),
            ("hyper-x", KeyParseError::UnknownModifier("hyper".into())),
            ("ctrl-ctrl-x", KeyParseError::RepeatedModifier("ctrl")),
            ("ctrl-", KeyParseError::MissingKey("ctrl-".into())),
            ("gg", KeyParseError::UnknownKey("gg".into())),
            ("f13", KeyParseError::UnknownKey("f13".into())),
            ("ctrl+r", KeyParseError::UnknownKey("ctrl+r".into())),
            ("shift-/", KeyParseError::ShiftedSymbol('/')),
            ("ctrl-shift-x", KeyParseError::CtrlShiftLetter('x')),
        ] {
            assert_eq!(Binding::parse(text), Err(expected), "{text:?}");
        }
    }

    #[test]
    fn parsed_keys_match_what_the_terminal_sends() {
        let map = configured(&[(
            "list",
            &[
                ("ctrl-O", "reopen"),
                ("shift-u", "unassign"),
                ("shift-tab", "pending"),
            ],
        )])
        .unwrap();
        let lookup = |code, modifiers| map.lookup(Scope::List, &key(code, modifiers));
        assert_eq!(
            lookup(KeyCode::Char('o'), KeyModifiers::CONTROL),
            Some(Action::Reopen)
        );
        assert_eq!(
            lookup(KeyCode::Char('U'), KeyModifiers::SHIFT),
            Some(Action::Unassign)
        );
        assert_eq!(
            lookup(KeyCode::BackTab, KeyModifiers::SHIFT),
            Some(Action::SetPending)
        );
        // Plain `u` still undoes: `U` is another key.
        assert_eq!(
            lookup(KeyCode::Char('u'), KeyModifiers::NONE),
            Some(Action::Undo)
        );
    }

    #[test]
    fn an_entry_replaces_the_key_in_its_mode_only() {
        let map = configured(&[("list", &[("x", "reopen")])]).unwrap();
        let x = key(KeyCode::Char('x'), KeyModifiers::NONE);
        assert_eq!(map.lookup(Scope::List, &x), Some(Action::Reopen));
        assert_eq!(map.lookup(Scope::Thread, &x), Some(Action::Resolve));
        assert_eq!(map.keys_for(Action::Reopen), vec!["x"]);
    }

    #[test]
    fn a_rebound_action_keeps_its_other_keys_until_unbound() {
        let map = configured(&[("list", &[("ctrl-r", "resolve")])]).unwrap();
        let ctrl_r = key(KeyCode::Char('r'), KeyModifiers::CONTROL);
        let x = key(KeyCode::Char('x'), KeyModifiers::NONE);
        assert_eq!(map.lookup(Scope::List, &ctrl_r), Some(Action::Resolve));
        assert_eq!(map.lookup(Scope::List, &x), Some(Action::Resolve));

        let map = configured(&[("list", &[("ctrl-r", "resolve"), ("x", "none")])]).unwrap();
        assert_eq!(map.lookup(Scope::List, &ctrl_r), Some(Action::Resolve));
        assert_eq!(map.lookup(Scope::List, &x), None);
        let map = configured(&[("thread", &[("x", "")])]).unwrap();
        assert_eq!(map.lookup(Scope::Thread, &x), None);
        assert_eq!(map.lookup(Scope::List, &x), Some(Action::Resolve));
    }

    #[test]
    fn a_mode_key_shadows_the_global_one_and_unbinding_uncovers_it() {
        let map = configured(&[("thread", &[("q", "back")])]).unwrap();
        let q = key(KeyCode::Char('q'), KeyModifiers::NONE);
        assert_eq!(map.lookup(Scope::Thread, &q), Some(Action::Back));
        assert_eq!(map.lookup(Scope::List, &q), Some(Action::Quit));
        // Unbinding a list key lets the global binding of that key through.
        let map = configured(&[
            ("global", &[("j", "next_best")]),
            ("list", &[("j", "none")]),
        ])
        .unwrap();
        let j = key(KeyCode::Char('j'), KeyModifiers::NONE);
        assert_eq!(map.lookup(Scope::List, &j), Some(Action::NextBest));
        assert_eq!(map.lookup(Scope::Thread, &j), Some(Action::Down));
    }

    #[test]
    fn conversation_is_another_name_for_thread_and_names_forgive_case() {
        let map = configured(&[
            ("conversation", &[("o", "Reopen")]),
            ("List", &[("P", "set-pending")]),
        ]);
        let err = map.unwrap_err().to_string();
        assert!(err.contains(r#"did you mean "pending""#), "{err}");
        let map = configured(&[
            ("conversation", &[("o", "Reopen")]),
            ("List", &[("P", "next-unread")]),
        ])
        .unwrap();
        let o = key(KeyCode::Char('o'), KeyModifiers::NONE);
        assert_eq!(map.lookup(Scope::Thread, &o), Some(Action::Reopen));
        let p = key(KeyCode::Char('P'), KeyModifiers::SHIFT);
        assert_eq!(map.lookup(Scope::List, &p), Some(Action::NextUnread));
    }

    #[test]
    fn composer_takes_modified_and_named_keys_but_not_plain_characters() {
        let map = configured(&[(
            "composer",
            &[
                ("ctrl-s", "send"),
                ("alt-x", "resolve"),
                ("f2", "external_editor"),
                ("q", "none"),
            ],
        )])
        .unwrap();
        let ctrl_s = key(KeyCode::Char('s'), KeyModifiers::CONTROL);
        assert_eq!(map.lookup(Scope::Composer, &ctrl_s), Some(Action::Send));
        let f2 = key(KeyCode::F(2), KeyModifiers::NONE);
        assert_eq!(
            map.lookup(Scope::Composer, &f2),
            Some(Action::ExternalEditor)
        );
        for plain in ["x", "X", "shift-x", "space", "*"] {
            let err = error(&[("composer", &[(plain, "resolve")])]);
            assert!(err.contains("types text in the composer"), "{plain}: {err}");
            assert!(err.starts_with("[keys.composer]"), "{err}");
        }
    }

    #[test]
    fn errors_name_the_entry() {
        assert_eq!(
            error(&[("list", &[("ctrl-q", "resolv")])]),
            r#"[keys.list] "ctrl-q" = "resolv": unknown action "resolv" (did you mean "resolve"?)"#
        );
        let err = error(&[("list", &[("ctrl-q", "frobnicate")])]);
        assert!(
            err.contains(r#"unknown action "frobnicate" (the README"#),
            "{err}"
        );
        let err = error(&[("lists", &[("x", "resolve")])]);
        assert!(
            err.starts_with(r#"[keys.lists]: unknown mode "lists" (did you mean "list"?)"#),
            "{err}"
        );
        let err = error(&[("sidebar", &[("x", "resolve")])]);
        assert!(err.contains("the modes are global, list, thread"), "{err}");
        assert!(!err.contains("did you mean"), "{err}");
        let err = error(&[("thread", &[("hyper-x", "resolve")])]);
        assert_eq!(
            err,
            r#"[keys.thread] "hyper-x" = "resolve": unknown modifier "hyper" (the modifiers are ctrl-, alt- and shift-)"#
        );
        let err = error(&[("thread", &[("pgdwn", "down")])]);
        assert!(
            err.contains(r#"unknown key "pgdwn": write one character or one of enter"#),
            "{err}"
        );
        let err = error(&[("list", &[("Ctrl-R", "reply"), ("ctrl-r", "reopen")])]);
        assert_eq!(
            err,
            r#"[keys.list] "ctrl-r" = "reopen": the same key as [keys.list] "Ctrl-R" = "reply""#
        );
        let err = error(&[
            ("conversation", &[("o", "reopen")]),
            ("thread", &[("o", "none")]),
        ]);
        assert!(
            err.contains(r#"the same key as [keys.conversation] "o""#),
            "{err}"
        );
    }

    #[test]
    fn every_action_has_a_distinct_name_and_a_description() {
        let names: Vec<&str> = action_names().collect();
        for (index, (action, name)) in ACTIONS.iter().enumerate() {
            assert!(!names[..index].contains(name), "{name} twice");
            assert_eq!(Action::from_name(name), Some(*action));
            assert_eq!(action.name(), *name);
            assert!(!action.description().is_empty());
        }
    }

    #[test]
    fn readme_lists_every_action_name() {
        let readme = include_str!("../../README.md");
        let section = readme
            .split("### Keys")
            .nth(1)
            .expect("README has a Keys section");
        for name in action_names() {
            assert!(
                section.contains(&format!("`{name}`")),
                "README misses {name}"
            );
        }
    }

    #[test]
    fn example_config_keys_are_valid_once_uncommented() {
        // The example's `[keys]` tables are commented out; they must still work.
        let example = include_str!("../../config.example.toml");
        let uncommented: String = example
            .lines()
            .filter_map(|line| line.strip_prefix("# "))
            .filter(|line| {
                let header =
                    line.starts_with("[keys.") && line.ends_with(']') && !line.contains(' ');
                header || (line.starts_with('"') && line.contains("\" = \""))
            })
            .map(|line| format!("{line}\n"))
            .collect();
        #[derive(serde::Deserialize)]
        struct Keys {
            keys: BTreeMap<String, BTreeMap<String, String>>,
        }
        let parsed: Keys = toml::from_str(&uncommented).expect(&uncommented);
        assert!(!parsed.keys.is_empty());
        Keymap::from_config(SendKey::Enter, &parsed.keys).expect(&uncommented);
    }

    #[test]
    fn help_lists_actions_without_keys_and_follows_the_config() {
        let map = Keymap::new(SendKey::Enter);
        let help = map.help();
        let palette_only = &help.iter().find(|(t, _)| *t == PALETTE_ONLY).unwrap().1;
        for action in [Action::Reopen, Action::SetPending, Action::Unassign] {
            assert!(
                palette_only
                    .iter()
                    .any(|(keys, d)| keys.is_empty() && *d == action.description())
            );
        }
        let map =
            configured(&[("list", &[("O", "reopen")]), ("thread", &[("O", "reopen")])]).unwrap();
        let help = map.help();
        let palette_only = &help.iter().find(|(t, _)| *t == PALETTE_ONLY).unwrap().1;
        assert!(
            !palette_only
                .iter()
                .any(|(_, d)| *d == Action::Reopen.description())
        );
        let shared = &help
            .iter()
            .find(|(t, _)| *t == "List and conversation")
            .unwrap()
            .1;
        assert!(shared.contains(&("O".to_string(), Action::Reopen.description())));
        let next_best = shared
            .iter()
            .find(|(keys, _)| keys == "n")
            .expect("n is next best");
        assert!(next_best.1.contains("mine waiting longest"));
    }
}
