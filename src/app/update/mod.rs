//! The only place state changes. Pure: no IO, no clock reads (the time of
//! each event is passed in), no awaiting. Returns what to do next.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind};

use crate::api::ApiError;
use crate::app::command::Command;
use crate::app::event::{Env, Event, SyncEvent};
use crate::app::keymap::Action;
use crate::app::state::{AppState, Composer, Focus, NoticeLevel, Overlay, SearchBox, SyncStatus};
use crate::app::view::{self, ensure_selected_visible, labels, max_thread_scroll, thread_height};
use crate::domain::{ConversationId, Message, MessageId, MessagePreview};
use crate::store::db::{DbWrite, SearchHit};
use crate::store::outbox::{OutboxItem, OutboxState};
use crate::text;

/// Drafts are saved this long after the last keystroke.
const DRAFT_SAVE_DELAY: chrono::Duration = chrono::Duration::seconds(1);
/// Messages read from the cache per page.
pub const CACHE_PAGE: usize = 200;

pub mod accounts;
pub mod contacts;
pub mod directory;
mod mouse;
mod replies;
mod search;
pub mod templates;
mod thread;
pub mod triage;

pub use replies::next_sends;
use replies::*;
use search::*;
use thread::*;

pub fn update(state: &mut AppState, event: Event, env: impl Into<Env>) -> Vec<Command> {
    let env = env.into();
    state.now = env.now;
    let waiting = replies::waiting_retries(state);
    let mut commands = handle(state, event, env);
    // Whatever moved the selection or showed the profile, its contact is
    // read once.
    commands.extend(contacts::load_profile(state));
    commands.extend(replies::cancel_left_retries(state, waiting));
    // Threads in use stay: the open one and those with replies on their way.
    let (open, outbox) = (state.open.as_ref(), &state.outbox);
    state
        .store
        .trim_threads(|id| open == Some(id) || outbox.for_conversation(id).next().is_some());
    commands
}

fn handle(state: &mut AppState, event: Event, env: Env) -> Vec<Command> {
    match event {
        Event::Key(key) => on_key(state, key, env.fresh_id),
        Event::Paste(pasted) => {
            on_paste(state, &pasted);
            Vec::new()
        }
        Event::Resize { width, height } => {
            state.width = width;
            state.height = height;
            ensure_selected_visible(state);
            state.dirty = true;
            Vec::new()
        }
        Event::Tick => {
            if state
                .draft_changed_at
                .is_some_and(|at| state.now - at >= DRAFT_SAVE_DELAY)
            {
                save_draft(state);
            }
            let labels = labels::time_labels(state);
            if labels != state.time_labels {
                state.time_labels = labels;
                state.dirty = true;
            }
            let mut commands = triage::on_tick(state);
            commands.extend(contacts::on_tick(state));
            commands.extend(directory::on_tick(state, env.now));
            commands
        }
        Event::Sync(sync) => on_sync(state, sync),
        Event::RecentInbound(recent) => {
            for (id, at) in recent {
                state.store.note_inbound_at(&id, at);
            }
            state.dirty = true;
            Vec::new()
        }
        Event::CacheRows(rows) => {
            let ids: Vec<ConversationId> = rows.iter().map(|(c, _)| c.id.clone()).collect();
            state.store.add_cached_conversations(rows);
            triage::reapply_pending(state, &ids);
            triage::refresh_list(state);
            follow_top(state);
            Vec::new()
        }
        Event::CachedMessages {
            conversation_id,
            messages,
            has_older,
            older,
            gap_before,
        } => on_cached_messages(
            state,
            conversation_id,
            messages,
            has_older,
            older,
            gap_before,
        ),
        Event::MessagesLoaded {
            conversation_id,
            page,
            older,
        } => on_messages(
            state,
            conversation_id,
            page.items,
            page.next.is_some(),
            older,
        ),
        Event::MessagesFailed {
            conversation_id,
            error,
            older,
        } => {
            if older && state.store.has_thread(&conversation_id) {
                state.store.thread_mut(&conversation_id).loading_older = false;
            }
            state.notify_error("Could not load messages", &error);
            Vec::new()
        }
        Event::SendConfirmed {
            client_id,
            message,
            found_echo,
        } => {
            if found_echo {
                state.notify(
                    NoticeLevel::Info,
                    "A reply whose answer was lost had reached the customer; not sent again.",
                );
            }
            on_send_confirmed(state, &client_id, *message)
        }
        Event::SendFailed { client_id, error } => on_send_failed(state, &client_id, &error),
        Event::TemplatesFailed(error) => {
            state.notify_error(
                "Could not read the templates; showing the saved ones",
                &error,
            );
            Vec::new()
        }
        Event::EchoChecked { client_id, result } => on_echo_checked(state, &client_id, result),
        Event::RetryDue { client_id } => update_retry_due(state, client_id),
        Event::SearchResults { query, result } => {
            if let Some(Overlay::Search(search)) = state.overlay_mut()
                && search.query == query
            {
                match result {
                    Ok(hits) => {
                        search.results = hits;
                        search.error = None;
                    }
                    Err(error) => {
                        search.results.clear();
                        search.error = Some(error);
                    }
                }
                search.results_for = query;
                search.selected = 0;
                state.dirty = true;
            }
            Vec::new()
        }
        Event::MutationSent {
            mutation_id,
            result,
        } => triage::on_mutation_sent(state, &mutation_id, result),
        Event::ConversationsFound { query, result } => {
            triage::on_conversations_found(state, query, result);
            Vec::new()
        }
        Event::ContactLoaded {
            contact_id,
            from_server,
            result,
        } => contacts::on_contact_loaded(state, contact_id, from_server, result),
        Event::ContactSaved { edit_id, result } => {
            contacts::on_contact_saved(state, &edit_id, result)
        }
        Event::ContactsFound { query, result } => {
            directory::on_contacts_found(state, query, result);
            Vec::new()
        }
        Event::Mouse(mouse) => mouse::on_mouse(state, mouse, env.fresh_id),
        Event::StorageFailed(reason) => {
            state.notify(
                NoticeLevel::Error,
                format!("Cannot save to the cache: {reason}. Going on from memory."),
            );
            Vec::new()
        }
        Event::PagerClosed(result) => {
            if let Err(reason) = result {
                state.notify(NoticeLevel::Error, format!("$PAGER failed: {reason}"));
            }
            state.dirty = true;
            Vec::new()
        }
        Event::EditorClosed(result) => {
            match result {
                Ok(edited) => {
                    state.composer.set_text(text::sanitize(&edited).trim_end());
                    state.draft_changed_at = Some(state.now);
                    state.focus = Focus::Composer;
                }
                Err(reason) => {
                    state.notify(NoticeLevel::Error, format!("$EDITOR failed: {reason}"))
                }
            }
            state.dirty = true;
            Vec::new()
        }
    }
}

pub(super) fn on_key(state: &mut AppState, key: KeyEvent, fresh_id: String) -> Vec<Command> {
    if key.kind == KeyEventKind::Release {
        return Vec::new();
    }
    state.dirty = true;
    if state
        .notice
        .as_ref()
        .is_some_and(|n| n.level == NoticeLevel::Info)
    {
        state.notice = None;
    }
    // The top overlay takes every key: nothing typed into a box leaks into
    // the panes under it.
    match state.overlay() {
        Some(Overlay::Search(_)) => return on_search_key(state, key),
        Some(Overlay::Filter) => return triage::on_filter_key(state, key),
        Some(Overlay::Picker(_)) => return triage::on_picker_key(state, key, fresh_id),
        Some(Overlay::Help { .. }) => {
            on_help_key(state, key);
            return Vec::new();
        }
        Some(Overlay::ContactForm(_)) => return contacts::on_form_key(state, key, fresh_id),
        Some(Overlay::ConfirmDiscard) => return contacts::on_confirm_discard_key(state, key),
        Some(Overlay::ConfirmDeleteContact(_)) => {
            return contacts::on_confirm_delete_key(state, key, fresh_id);
        }
        Some(Overlay::Directory(_)) => return directory::on_directory_key(state, key),
        Some(Overlay::Templates(_)) => return templates::on_key(state, key, fresh_id),
        Some(Overlay::ConfirmQuit) => {
            return match key.code {
                KeyCode::Char('y') | KeyCode::Char('Y') | KeyCode::Enter => quit(state),
                KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc => {
                    state.close_overlay();
                    Vec::new()
                }
                _ => Vec::new(),
            };
        }
        None => {}
    }
    if state.focus == Focus::Profile
        && let Some(commands) = contacts::on_profile_key(state, key)
    {
        return commands;
    }
    let Some(action) = state.keymap.lookup(state.focus.scope(), &key) else {
        if state.focus == Focus::Composer && state.composer.textarea.input(key) {
            state.draft_changed_at = Some(state.now);
        }
        return Vec::new();
    };
    on_action(state, action, fresh_id)
}

/// The help closes on Esc, `?`, `q` or Enter and scrolls like a list.
fn on_help_key(state: &mut AppState, key: KeyEvent) {
    let area = ratatui::layout::Rect::new(0, 0, state.width, state.height);
    let help = crate::app::view::help::for_state(state, area);
    let Some(Overlay::Help { scroll }) = state.overlay_mut() else {
        return;
    };
    let max = help.max_scroll();
    let current = (*scroll).min(max);
    *scroll = match key.code {
        KeyCode::Esc | KeyCode::Char('?') | KeyCode::Char('q') | KeyCode::Enter => {
            state.close_overlay();
            return;
        }
        KeyCode::Char('j') | KeyCode::Down => current + 1,
        KeyCode::Char('k') | KeyCode::Up => current.saturating_sub(1),
        KeyCode::PageDown | KeyCode::Char(' ') => current + help.page(),
        KeyCode::PageUp => current.saturating_sub(help.page()),
        KeyCode::Char('g') | KeyCode::Home => 0,
        KeyCode::Char('G') | KeyCode::End => max,
        _ => current,
    }
    .min(max);
}

/// Every action comes here, whether by key, palette or mouse: one the
/// provider does not offer only says so.
pub(super) fn on_action(state: &mut AppState, action: Action, fresh_id: String) -> Vec<Command> {
    if let Some(reason) = state.unavailable(action) {
        state.notify(NoticeLevel::Info, format!("{reason}."));
        return Vec::new();
    }
    match action {
        Action::Search => {
            state.open_overlay(Overlay::Search(SearchBox::default()));
            Vec::new()
        }
        Action::Quit => request_quit(state),
        Action::Help => {
            state.open_overlay(Overlay::Help { scroll: 0 });
            Vec::new()
        }
        Action::FocusNext | Action::FocusPrev => {
            let mut order = vec![Focus::List];
            if state.open.is_some() {
                order.extend([Focus::Thread, Focus::Composer]);
            }
            if view::profile_placement(state) == view::layout::ProfilePlacement::Beside {
                order.push(Focus::Profile);
            }
            let index = order.iter().position(|f| *f == state.focus).unwrap_or(0);
            let next = if action == Action::FocusNext {
                (index + 1) % order.len()
            } else {
                (index + order.len() - 1) % order.len()
            };
            if order[next] == Focus::Composer {
                begin_compose(state);
            } else {
                state.focus = order[next];
            }
            Vec::new()
        }
        Action::Up
        | Action::Down
        | Action::Top
        | Action::Bottom
        | Action::PageUp
        | Action::PageDown => match state.focus {
            Focus::List => {
                move_selection(state, action);
                Vec::new()
            }
            Focus::Profile => contacts::on_profile_action(state, action),
            _ => scroll_thread(state, action),
        },
        Action::Open | Action::Back if state.focus == Focus::Profile => {
            contacts::on_profile_action(state, action)
        }
        Action::Open => match state.selected.clone() {
            Some(id) => {
                let commands = open_conversation(state, id);
                state.focus = Focus::Thread;
                commands
            }
            None => Vec::new(),
        },
        Action::Reply => {
            let mut commands = Vec::new();
            if state.focus == Focus::List
                && let Some(id) = state.selected.clone()
            {
                commands = open_conversation(state, id);
            }
            if state.open.is_some() {
                begin_compose(state);
            }
            commands
        }
        Action::Back => {
            state.focus = match state.focus {
                Focus::Composer => Focus::Thread,
                _ => Focus::List,
            };
            Vec::new()
        }
        Action::RetryFailed => retry_failed(state, fresh_id),
        Action::EditFailed => edit_failed(state),
        Action::Send => try_send(state, fresh_id),
        Action::NewLine => {
            state.composer.textarea.insert_newline();
            state.draft_changed_at = Some(state.now);
            Vec::new()
        }
        Action::ExternalEditor => vec![Command::OpenEditor {
            initial: state.composer.text(),
        }],
        Action::ReadMessage => read_message(state),
        Action::Palette
        | Action::ViewMine
        | Action::ViewUnassigned
        | Action::ViewAll
        | Action::Filter
        | Action::FilterMenu
        | Action::CycleSort
        | Action::Mark
        | Action::ClearMarks
        | Action::Assign
        | Action::AssignToMe
        | Action::Unassign
        | Action::Status
        | Action::Resolve
        | Action::Reopen
        | Action::SetPending
        | Action::Star
        | Action::Priority
        | Action::Tags
        | Action::NextBest
        | Action::NextUnread
        | Action::Undo => triage::on_triage_action(state, action, fresh_id),
        Action::ToggleProfile
        | Action::Contacts
        | Action::EditContact
        | Action::NewContact
        | Action::DeleteContact => contacts::on_contact_action(state, action, fresh_id),
        Action::Templates => templates::open_picker(state),
    }
}

/// Until the agent picks a row, the selection stays on the top one as rows
/// arrive.
fn follow_top(state: &mut AppState) {
    if !state.selection_chosen {
        state.selected = state.rows().first().cloned();
        state.selected_hint = 0;
    }
    ensure_selected_visible(state);
}

pub(super) fn request_quit(state: &mut AppState) -> Vec<Command> {
    if state.unsent_summary().is_some() {
        state.open_overlay(Overlay::ConfirmQuit);
        Vec::new()
    } else {
        quit(state)
    }
}

pub(super) fn quit(state: &mut AppState) -> Vec<Command> {
    state.overlays.clear();
    state.quitting = true;
    vec![Command::Quit]
}

pub(super) fn move_selection(state: &mut AppState, action: Action) {
    let len = state.rows().len();
    if len == 0 {
        return;
    }
    let page = view::list_page(state);
    let index = state.selected_index().unwrap_or(0);
    let target = match action {
        Action::Up => index.saturating_sub(1),
        Action::Down => (index + 1).min(len - 1),
        Action::Top => 0,
        Action::Bottom => len - 1,
        Action::PageUp => index.saturating_sub(page),
        Action::PageDown => (index + page).min(len - 1),
        _ => index,
    };
    state.selected = Some(state.rows()[target].clone());
    state.selected_hint = target;
    state.selection_chosen = true;
    if !state.sticky.is_empty() {
        // Moving on lets rows that left the view go; the selection stays
        // on the row moved to, or near where it was.
        state.sticky.clear();
        let chosen = state.selected.clone();
        triage::refresh_list(state);
        if state.selected != chosen && !state.rows().is_empty() {
            let index = target.min(state.rows().len() - 1);
            state.selected = Some(state.rows()[index].clone());
            state.selected_hint = index;
        }
    }
    ensure_selected_visible(state);
}

pub(super) fn scroll_thread(state: &mut AppState, action: Action) -> Vec<Command> {
    if state.open.is_none() {
        return Vec::new();
    }
    let page = view::thread_page(state);
    let max = max_thread_scroll(state);
    state.thread_scroll = match action {
        Action::Up => state.thread_scroll + 1,
        Action::Down => state.thread_scroll.saturating_sub(1),
        Action::PageUp => state.thread_scroll + page,
        Action::PageDown => state.thread_scroll.saturating_sub(page),
        Action::Top => max,
        Action::Bottom => 0,
        _ => state.thread_scroll,
    }
    .min(max);
    if state.thread_scroll >= max {
        return load_older_if_possible(state);
    }
    Vec::new()
}

pub(super) fn open_conversation(state: &mut AppState, id: ConversationId) -> Vec<Command> {
    if state.open.as_ref() == Some(&id) {
        state.store.mark_read(&id);
        return Vec::new();
    }
    if state.open.is_some() {
        save_draft(state);
        state.open = None;
        state.composer = Composer::default();
    }
    if let Some(draft) = state.drafts.get(&id) {
        state.composer.set_text(draft);
    }
    state.selected = Some(id.clone());
    state.selection_chosen = true;
    state.open = Some(id.clone());
    state.thread_scroll = 0;
    state.store.mark_read(&id);
    state.store.touch_thread(&id);
    let mut commands = vec![Command::WatchConversation(Some(id.clone()))];
    let thread = state.store.thread(&id);
    if thread.is_none_or(|t| t.messages.is_empty()) {
        commands.push(Command::LoadCachedThread {
            conversation_id: id.clone(),
        });
    }
    if !thread.is_some_and(|t| t.loaded) {
        commands.push(Command::LoadMessages {
            conversation_id: id,
            before: None,
            held_at_anchor: 0,
            cache_first: false,
        });
    }
    commands
}

/// Saves the composer's text as the open conversation's draft (an empty
/// composer deletes it).
pub fn save_draft(state: &mut AppState) {
    state.draft_changed_at = None;
    let Some(id) = state.open.clone() else {
        return;
    };
    let text = if state.composer.is_blank() {
        String::new()
    } else {
        state.composer.text()
    };
    if state.drafts.get(&id).map(String::as_str).unwrap_or("") == text {
        return;
    }
    if text.is_empty() {
        state.drafts.remove(&id);
    } else {
        state.drafts.insert(id.clone(), text.clone());
    }
    state.store.record(DbWrite::SetDraft {
        conversation_id: id,
        text,
    });
}

/// What must reach the disk before termdesk exits (quit, SIGTERM, SIGHUP).
pub fn persist_before_exit(state: &mut AppState) {
    save_draft(state);
}

/// The agent has seen the newest customer message only if the thread is
/// scrolled to the bottom; otherwise the earlier snapshot stands.
pub(super) fn begin_compose(state: &mut AppState) {
    state.focus = Focus::Composer;
    if state.thread_scroll == 0 {
        state.composer.seen_inbound = newest_inbound_id(state);
    }
}

pub(super) fn newest_inbound_id(state: &AppState) -> Option<crate::domain::MessageId> {
    let id = state.open.as_ref()?;
    state
        .store
        .thread(id)?
        .newest_inbound()
        .map(|m| m.id.clone())
}

pub(super) fn on_paste(state: &mut AppState, pasted: &str) {
    if contacts::paste_into_form(state, pasted) {
        return;
    }
    if state.focus != Focus::Composer {
        if state.open.is_none() {
            return;
        }
        begin_compose(state);
    }
    state.composer.textarea.insert_str(text::sanitize(pasted));
    state.draft_changed_at = Some(state.now);
    state.dirty = true;
}

/// Polls that bring nothing new change nothing on screen: no redraw.
pub(super) fn on_sync(state: &mut AppState, sync: SyncEvent) -> Vec<Command> {
    let status_before = labels::sync_text(state);
    let mut commands = Vec::new();
    match sync {
        SyncEvent::Connecting => {
            if state.store.is_empty() {
                state.sync = SyncStatus::Connecting;
            }
        }
        SyncEvent::Conversations(items) => {
            let ids: Vec<ConversationId> = items.iter().map(|c| c.id.clone()).collect();
            // Only live changes ring: not the first load or the backfill.
            let live = matches!(state.sync, SyncStatus::Synced { .. });
            let attention = if live && state.bell {
                items
                    .iter()
                    .find(|c| {
                        triage::wants_attention(
                            state.store.get(&c.id).map(|e| &e.conversation),
                            c,
                            state.me.as_ref(),
                            state.now,
                        )
                    })
                    .map(|c| {
                        (
                            c.id.clone(),
                            c.last_message
                                .as_ref()
                                .map(|m| m.text.clone())
                                .unwrap_or_default(),
                        )
                    })
            } else {
                None
            };
            if state.store.upsert_conversations(items, state.open.as_ref()) > 0 {
                triage::reapply_pending(state, &ids);
                triage::refresh_list(state);
            }
            follow_top(state);
            if let Some(started) = state.open_when_loaded.clone()
                && state.store.get(&started).is_some()
            {
                state.open_when_loaded = None;
                commands.extend(open_conversation(state, started));
                state.focus = Focus::Thread;
            }
            if let Some((id, text)) = attention {
                let name = state
                    .store
                    .get(&id)
                    .map(|e| e.conversation.contact_name.clone())
                    .unwrap_or_default();
                commands.push(Command::Alert {
                    title: name,
                    body: text::sanitize_line(&text).chars().take(120).collect(),
                });
            }
        }
        SyncEvent::Contacts { found, missing } => {
            contacts::on_contacts_synced(state, &found);
            // Also without a typed filter: the view takes the changed rows
            // a page at a time instead of all at once later.
            if state.store.upsert_contacts(found, missing) > 0 {
                triage::refresh_list(state);
            }
            state.dirty = true;
        }
        SyncEvent::Agents(agents) => {
            state.store.set_agents(agents);
            triage::resolve_me(state);
            state.dirty = true;
        }
        SyncEvent::SignedIn(agent) => triage::signed_in_as(state, agent),
        SyncEvent::Channels(channels) => state.store.set_channels(channels),
        SyncEvent::Templates(templates) => {
            let templates = accounts::merged_templates(state, templates);
            state.store.set_templates(templates);
            templates::on_templates(state);
        }
        SyncEvent::Messages {
            conversation_id,
            page,
        } => {
            commands = on_messages(
                state,
                conversation_id,
                page.items,
                page.next.is_some(),
                false,
            );
        }
        SyncEvent::ThreadsRead(threads) => {
            for (id, page) in threads {
                if state.open.as_ref() == Some(&id) {
                    commands.extend(on_messages(
                        state,
                        id,
                        page.items,
                        page.next.is_some(),
                        false,
                    ));
                } else {
                    state.store.read_ahead(&id, page.items, page.next.is_some());
                }
            }
        }
        SyncEvent::Cursors(cursors) => state.store.set_cursors(cursors),
        SyncEvent::AccountCursors { account, cursors } => {
            state.store.set_account_cursors(&account, cursors)
        }
        SyncEvent::Account {
            index,
            state: event,
        } => accounts::on_account_sync(state, index, &event),
        SyncEvent::Totals {
            conversations,
            contacts,
        } => state.store.set_totals(conversations, contacts),
        SyncEvent::Paused(Some(wait)) => {
            let retry_at = state.now + chrono::Duration::from_std(wait).unwrap_or_default();
            state.sync = SyncStatus::RateLimited { retry_at };
        }
        SyncEvent::Paused(None) => {
            if matches!(state.sync, SyncStatus::RateLimited { .. }) {
                state.sync = SyncStatus::Synced { at: state.now };
            }
        }
        SyncEvent::Synced => {
            let was_offline = matches!(state.sync, SyncStatus::Offline { .. });
            state.sync = SyncStatus::Synced { at: state.now };
            if was_offline {
                // Back online: replies waiting for a retry go now.
                commands.extend(retry_waiting_now(state));
            }
        }
        SyncEvent::Failed { error, retry_in } => {
            let retry_at = state.now + chrono::Duration::from_std(retry_in).unwrap_or_default();
            state.sync = match error {
                ApiError::RateLimited { .. } => SyncStatus::RateLimited { retry_at },
                ref other => SyncStatus::Offline {
                    since: match &state.sync {
                        SyncStatus::Offline { since, .. } => *since,
                        _ => state.now,
                    },
                    retry_at,
                    reason: other.to_string(),
                },
            };
            // With several accounts the account's own event names it.
            if !error.is_transient() && !state.multi_account() {
                state.notify_error("Sync failed", &error);
            }
        }
    }
    if labels::sync_text(state) != status_before {
        state.dirty = true;
    }
    commands
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_accounts;
#[cfg(test)]
mod tests_contacts;
#[cfg(test)]
mod tests_directory;
#[cfg(test)]
mod tests_memory;
#[cfg(test)]
mod tests_statuses;
#[cfg(test)]
mod tests_templates;
#[cfg(test)]
mod tests_triage;

/// The newest message of the open thread that the thread shows only in
/// part, handed whole to the pager.
fn read_message(state: &mut AppState) -> Vec<Command> {
    let long = state
        .open
        .as_ref()
        .and_then(|id| state.store.thread(id))
        .and_then(|t| {
            t.messages
                .iter()
                .rev()
                .find(|m| crate::app::view::long_text::is_cut(&m.text))
        })
        .map(|m| m.text.clone());
    match long {
        Some(text) => vec![Command::OpenPager { text }],
        None => {
            state.notify(
                NoticeLevel::Info,
                "Every message here is shown whole".to_string(),
            );
            Vec::new()
        }
    }
}
