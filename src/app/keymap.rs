//! Keys to typed actions, per focus scope. The help overlay is generated
//! from this table, so it cannot go stale.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::config::SendKey;

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
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    Global,
    List,
    Thread,
    Composer,
}

impl Scope {
    pub fn title(self) -> &'static str {
        match self {
            Scope::Global => "Everywhere",
            Scope::List => "Conversation list",
            Scope::Thread => "Conversation",
            Scope::Composer => "Composer",
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
            (Scope::Composer, Binding::plain(K::Esc), Back),
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
            ]);
        }
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

    /// The action for a key in a scope. In the composer, plain keys type
    /// text, so only its own bindings and modified global keys apply.
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
        let sections = [
            (Scope::Global.title(), rows_of(Scope::Global)),
            (Scope::Composer.title(), rows_of(Scope::Composer)),
            ("List and conversation", shared.clone()),
            (Scope::List.title(), only(list)),
            (Scope::Thread.title(), only(thread)),
        ];
        sections
            .into_iter()
            .filter(|(_, rows)| !rows.is_empty())
            .map(|(title, rows)| {
                let rows = rows
                    .into_iter()
                    .map(|(action, keys)| (keys.join(" "), action.description()))
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
}
