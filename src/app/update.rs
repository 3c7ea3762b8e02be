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
use crate::store::outbox::{self, OutboxItem, OutboxState};
use crate::text;

/// Drafts are saved this long after the last keystroke.
const DRAFT_SAVE_DELAY: chrono::Duration = chrono::Duration::seconds(1);
/// Messages read from the cache per page.
pub const CACHE_PAGE: usize = 200;

pub fn update(state: &mut AppState, event: Event, env: impl Into<Env>) -> Vec<Command> {
    let env = env.into();
    state.now = env.now;
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
            Vec::new()
        }
        Event::Sync(sync) => on_sync(state, sync),
        Event::CacheRows(rows) => {
            state.store.add_cached_conversations(rows);
            if !state.selection_chosen {
                state.selected = state.store.order().first().cloned();
            }
            ensure_selected_visible(state);
            state.dirty = true;
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
        } => on_messages(state, conversation_id, page.items, page.has_more, older),
        Event::MessagesFailed {
            conversation_id,
            error,
            older,
        } => {
            if older {
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
        Event::EchoChecked { client_id, result } => on_echo_checked(state, &client_id, result),
        Event::RetryDue { client_id } => update_retry_due(state, client_id),
        Event::SearchResults { query, result } => {
            if let Some(Overlay::Search(search)) = &mut state.overlay
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
        Event::StorageFailed(reason) => {
            state.notify(
                NoticeLevel::Error,
                format!("Cannot save to the cache: {reason}. Going on from memory."),
            );
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

fn on_key(state: &mut AppState, key: KeyEvent, fresh_id: String) -> Vec<Command> {
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
    match &state.overlay {
        Some(Overlay::Search(_)) => return on_search_key(state, key),
        Some(Overlay::Help) => {
            if matches!(
                key.code,
                KeyCode::Esc | KeyCode::Char('?') | KeyCode::Char('q') | KeyCode::Enter
            ) {
                state.overlay = None;
            }
            return Vec::new();
        }
        Some(Overlay::ConfirmQuit) => {
            return match key.code {
                KeyCode::Char('y') | KeyCode::Char('Y') | KeyCode::Enter => quit(state),
                KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc => {
                    state.overlay = None;
                    Vec::new()
                }
                _ => Vec::new(),
            };
        }
        None => {}
    }
    let Some(action) = state.keymap.lookup(state.focus.scope(), &key) else {
        if state.focus == Focus::Composer && state.composer.textarea.input(key) {
            state.draft_changed_at = Some(state.now);
        }
        return Vec::new();
    };
    on_action(state, action, fresh_id)
}

fn on_action(state: &mut AppState, action: Action, fresh_id: String) -> Vec<Command> {
    match action {
        Action::Search => {
            state.overlay = Some(Overlay::Search(SearchBox::default()));
            Vec::new()
        }
        Action::Quit => request_quit(state),
        Action::Help => {
            state.overlay = Some(Overlay::Help);
            Vec::new()
        }
        Action::FocusNext | Action::FocusPrev => {
            let order = if state.open.is_some() {
                &[Focus::List, Focus::Thread, Focus::Composer][..]
            } else {
                &[Focus::List][..]
            };
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
            _ => scroll_thread(state, action),
        },
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
        Action::RetryFailed => retry_failed(state),
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
    }
}

fn request_quit(state: &mut AppState) -> Vec<Command> {
    if state.unsent_summary().is_some() {
        state.overlay = Some(Overlay::ConfirmQuit);
        Vec::new()
    } else {
        quit(state)
    }
}

fn quit(state: &mut AppState) -> Vec<Command> {
    state.overlay = None;
    state.quitting = true;
    vec![Command::Quit]
}

fn move_selection(state: &mut AppState, action: Action) {
    let len = state.store.len();
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
    state.selected = Some(state.store.order()[target].clone());
    state.selected_hint = target;
    state.selection_chosen = true;
    ensure_selected_visible(state);
}

fn scroll_thread(state: &mut AppState, action: Action) -> Vec<Command> {
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

fn load_older_if_possible(state: &mut AppState) -> Vec<Command> {
    let Some(id) = state.open.clone() else {
        return Vec::new();
    };
    let thread = state.store.thread_mut(&id);
    if thread.messages.is_empty() || !thread.has_older || thread.loading_older {
        return Vec::new();
    }
    let Some(anchor) = thread.older_anchor() else {
        return Vec::new();
    };
    let before = (anchor.created_at, anchor.id.clone());
    let cache_first = thread.gap.is_none();
    thread.loading_older = true;
    vec![Command::LoadMessages {
        conversation_id: id,
        before: Some(before),
        cache_first,
    }]
}

fn open_conversation(state: &mut AppState, id: ConversationId) -> Vec<Command> {
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
fn begin_compose(state: &mut AppState) {
    state.focus = Focus::Composer;
    if state.thread_scroll == 0 {
        state.composer.seen_inbound = newest_inbound_id(state);
    }
}

fn newest_inbound_id(state: &AppState) -> Option<crate::domain::MessageId> {
    let id = state.open.as_ref()?;
    state
        .store
        .thread(id)?
        .newest_inbound()
        .map(|m| m.id.clone())
}

fn try_send(state: &mut AppState, client_id: String) -> Vec<Command> {
    let Some(id) = state.open.clone() else {
        state.notify(NoticeLevel::Warning, "Open a conversation before replying.");
        return Vec::new();
    };
    if state.composer.is_blank() {
        state.notify(NoticeLevel::Warning, "Nothing to send: the reply is empty.");
        return Vec::new();
    }
    let newest = newest_inbound_id(state);
    if newest.is_some() && newest != state.composer.seen_inbound {
        let seen = state.composer.seen_inbound.take();
        let arrived = seen
            .as_ref()
            .map(|seen| count_inbound_after(state, &id, seen));
        state.composer.seen_inbound = newest;
        state.thread_scroll = 0;
        let who = state
            .store
            .get(&id)
            .map(|e| e.conversation.contact_name.clone())
            .unwrap_or_else(|| "the customer".into());
        let what = match arrived {
            Some(1) => "1 new message".to_string(),
            Some(n) if n > 1 => format!("{n} new messages"),
            _ => "New messages".to_string(),
        };
        state.notify(
            NoticeLevel::Warning,
            format!(
                "{what} from {who} while you typed; read them, then press Enter again to send."
            ),
        );
        return Vec::new();
    }
    // One reply of a conversation on its way at a time: replies arrive in
    // the order they were typed.
    let first_in_line = state.outbox.head_of(&id).is_none();
    let item = OutboxItem {
        client_id: client_id.clone(),
        conversation_id: id.clone(),
        channel_id: state
            .store
            .get(&id)
            .and_then(|e| e.conversation.reply_channel_id.clone()),
        text: state.composer.text().trim_end().to_string(),
        created_at: state.now,
        state: if first_in_line {
            OutboxState::Sending { attempt: 1 }
        } else {
            OutboxState::Queued
        },
        fate_unknown: false,
    };
    let command = send_command(&item);
    state.outbox.push(item);
    persist_outbox_item(state, &client_id);
    state.composer = Composer {
        seen_inbound: newest,
        ..Composer::default()
    };
    save_draft(state);
    state.thread_scroll = 0;
    if first_in_line {
        vec![command]
    } else {
        Vec::new()
    }
}

fn send_command(item: &OutboxItem) -> Command {
    Command::Send {
        outgoing: item.outgoing(),
        check_echo: item.fate_unknown,
        created_at: item.created_at,
    }
}

/// Writes an outbox item's current state to the journal, or its removal.
fn persist_outbox_item(state: &mut AppState, client_id: &str) {
    let write = match state.outbox.get(client_id) {
        Some(item) => DbWrite::UpsertOutbox {
            client_id: item.client_id.clone(),
            conversation_id: item.conversation_id.clone(),
            json: item.to_json(),
        },
        None => DbWrite::RemoveOutbox {
            client_id: client_id.to_string(),
        },
    };
    state.store.record(write);
}

fn remove_outbox_item(state: &mut AppState, client_id: &str) -> bool {
    let removed = state.outbox.remove(client_id).is_some();
    if removed {
        persist_outbox_item(state, client_id);
    }
    removed
}

/// Starts the next reply of every conversation whose line is free: after a
/// confirmation, and at start for replies restored from the database.
pub fn next_sends(state: &mut AppState) -> Vec<Command> {
    let mut commands = Vec::new();
    for client_id in state.outbox.ready_heads() {
        let Some(item) = state.outbox.get_mut(&client_id) else {
            continue;
        };
        item.state = OutboxState::Sending { attempt: 1 };
        commands.push(send_command(item));
        persist_outbox_item(state, &client_id);
        state.dirty = true;
    }
    commands
}

/// Customer messages after `seen` (all of them if `seen` is no longer in
/// the thread).
fn count_inbound_after(state: &AppState, id: &ConversationId, seen: &MessageId) -> usize {
    let Some(thread) = state.store.thread(id) else {
        return 0;
    };
    let start = thread
        .messages
        .iter()
        .position(|m| &m.id == seen)
        .map(|i| i + 1)
        .unwrap_or(0);
    thread.messages[start..]
        .iter()
        .filter(|m| m.sender == crate::domain::SenderKind::Contact)
        .count()
}

/// A failed reply whose echo is in the thread did reach the server (its
/// answer was lost): resending it would duplicate it.
fn already_delivered(state: &mut AppState, client_id: &str) -> bool {
    let Some(item) = state.outbox.get(client_id) else {
        return false;
    };
    let delivered = state.store.thread(&item.conversation_id).is_some_and(|t| {
        t.messages
            .iter()
            .any(|m| m.client_id.as_deref() == Some(client_id))
    });
    if delivered {
        remove_outbox_item(state, client_id);
        state.notify(
            NoticeLevel::Info,
            "That reply reached the customer after all; nothing to resend.",
        );
    }
    delivered
}

fn retry_failed(state: &mut AppState) -> Vec<Command> {
    let Some(id) = state.open.clone().or_else(|| state.selected.clone()) else {
        return Vec::new();
    };
    let Some(client_id) = state.outbox.latest_failed(&id).map(|i| i.client_id.clone()) else {
        state.notify(NoticeLevel::Info, "No failed reply here to retry.");
        return Vec::new();
    };
    if already_delivered(state, &client_id) {
        return next_sends(state);
    }
    let Some(item) = state.outbox.get_mut(&client_id) else {
        return Vec::new();
    };
    item.state = OutboxState::Sending { attempt: 1 };
    let command = send_command(item);
    persist_outbox_item(state, &client_id);
    vec![command]
}

fn edit_failed(state: &mut AppState) -> Vec<Command> {
    let Some(id) = state.open.clone() else {
        return Vec::new();
    };
    let Some(client_id) = state.outbox.latest_failed(&id).map(|i| i.client_id.clone()) else {
        state.notify(NoticeLevel::Info, "No failed reply here to edit.");
        return Vec::new();
    };
    if already_delivered(state, &client_id) {
        return Vec::new();
    }
    let Some(item) = state.outbox.get(&client_id) else {
        return Vec::new();
    };
    if item.fate_unknown {
        // It may be on the server already: editing and sending it again
        // could deliver it twice. Ask the server first.
        let command = Command::CheckEcho {
            client_id,
            conversation_id: item.conversation_id.clone(),
            created_at: item.created_at,
        };
        state.notify(
            NoticeLevel::Info,
            "Checking whether that reply arrived after all…",
        );
        return vec![command];
    }
    move_to_composer(state, &client_id);
    Vec::new()
}

/// Takes a failed reply out of the outbox and into the composer.
fn move_to_composer(state: &mut AppState, client_id: &str) {
    let Some(item) = state.outbox.remove(client_id) else {
        return;
    };
    persist_outbox_item(state, client_id);
    let text = if state.composer.is_blank() {
        item.text
    } else {
        format!("{}\n{}", state.composer.text(), item.text)
    };
    state.composer.set_text(&text);
    state.draft_changed_at = Some(state.now);
    begin_compose(state);
}

fn on_echo_checked(
    state: &mut AppState,
    client_id: &str,
    result: Result<Option<Box<Message>>, ApiError>,
) -> Vec<Command> {
    match result {
        Ok(Some(message)) => {
            state.notify(
                NoticeLevel::Info,
                "That reply reached the customer after all; nothing to edit or resend.",
            );
            on_send_confirmed(state, client_id, *message)
        }
        Ok(None) => {
            if let Some(item) = state.outbox.get_mut(client_id) {
                item.fate_unknown = false;
            }
            move_to_composer(state, client_id);
            state.dirty = true;
            Vec::new()
        }
        Err(error) => {
            state.notify_error(
                "Could not check whether the reply arrived; try again when online",
                &error,
            );
            Vec::new()
        }
    }
}

fn on_paste(state: &mut AppState, pasted: &str) {
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
fn on_sync(state: &mut AppState, sync: SyncEvent) -> Vec<Command> {
    let status_before = labels::sync_text(state);
    let mut commands = Vec::new();
    match sync {
        SyncEvent::Connecting => {
            if state.store.is_empty() {
                state.sync = SyncStatus::Connecting;
            }
        }
        SyncEvent::Conversations(items) => {
            if state.store.upsert_conversations(items, state.open.as_ref()) > 0 {
                state.dirty = true;
            }
            if !state.selection_chosen {
                state.selected = state.store.order().first().cloned();
            }
            ensure_selected_visible(state);
        }
        SyncEvent::Contacts { found, missing } => {
            if state.store.upsert_contacts(found, missing) > 0 {
                state.dirty = true;
            }
        }
        SyncEvent::Agents(agents) => {
            state.store.set_agents(agents);
            state.dirty = true;
        }
        SyncEvent::Channels(channels) => state.store.set_channels(channels),
        SyncEvent::Templates(templates) => state.store.set_templates(templates),
        SyncEvent::Messages {
            conversation_id,
            page,
        } => {
            commands = on_messages(state, conversation_id, page.items, page.has_more, false);
        }
        SyncEvent::Cursors(cursors) => state.store.set_cursors(cursors),
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
            if !error.is_transient() {
                state.notify_error("Sync failed", &error);
            }
        }
    }
    if labels::sync_text(state) != status_before {
        state.dirty = true;
    }
    commands
}

/// Replies waiting out a retry delay are sent at once when the connection
/// comes back, instead of when their timers run out.
fn retry_waiting_now(state: &mut AppState) -> Vec<Command> {
    let waiting: Vec<String> = state
        .outbox
        .items()
        .iter()
        .filter(|i| matches!(i.state, OutboxState::WaitingRetry { .. }))
        .map(|i| i.client_id.clone())
        .collect();
    waiting
        .into_iter()
        .flat_map(|client_id| update_retry_due(state, client_id))
        .collect()
}

fn update_retry_due(state: &mut AppState, client_id: String) -> Vec<Command> {
    if already_delivered(state, &client_id) {
        return next_sends(state);
    }
    let Some(item) = state.outbox.get_mut(&client_id) else {
        return Vec::new();
    };
    let OutboxState::WaitingRetry { attempt, .. } = item.state else {
        return Vec::new();
    };
    item.state = OutboxState::Sending {
        attempt: attempt + 1,
    };
    state.dirty = true;
    let command = send_command(item);
    persist_outbox_item(state, &client_id);
    vec![command]
}

fn on_cached_messages(
    state: &mut AppState,
    id: ConversationId,
    messages: Vec<Message>,
    has_older: bool,
    older: bool,
    gap_before: Option<MessageId>,
) -> Vec<Command> {
    let is_open = state.open.as_ref() == Some(&id);
    if older {
        state.store.thread_mut(&id).loading_older = false;
        if messages.is_empty() {
            // The cache has nothing older: ask the server.
            let thread = state.store.thread_mut(&id);
            thread.has_older = true;
            return if is_open {
                load_older_from_server(state)
            } else {
                Vec::new()
            };
        }
    }
    let follow = is_open && state.thread_scroll > 0 && !older;
    let before = if follow { thread_height(state) } else { 0 };
    state
        .store
        .add_cached_messages(&id, messages, has_older, gap_before.as_ref());
    if follow {
        let grown = thread_height(state).saturating_sub(before);
        state.thread_scroll += grown;
    }
    if !is_open {
        return Vec::new();
    }
    state.dirty = true;
    let mut commands = bring_focus_message_into_view(state);
    let max = max_thread_scroll(state);
    if commands.is_empty() && (max == 0 || (older && state.thread_scroll >= max)) {
        commands = load_older_if_possible(state);
    }
    commands
}

fn load_older_from_server(state: &mut AppState) -> Vec<Command> {
    let Some(id) = state.open.clone() else {
        return Vec::new();
    };
    let thread = state.store.thread_mut(&id);
    let Some(anchor) = thread.older_anchor() else {
        return Vec::new();
    };
    let before = (anchor.created_at, anchor.id.clone());
    thread.loading_older = true;
    vec![Command::LoadMessages {
        conversation_id: id,
        before: Some(before),
        cache_first: false,
    }]
}

/// After a search opened a thread at a message: scroll so the message shows,
/// loading older pages until it is there.
fn bring_focus_message_into_view(state: &mut AppState) -> Vec<Command> {
    let Some(target) = state.focus_message.clone() else {
        return Vec::new();
    };
    let Some(id) = state.open.clone() else {
        return Vec::new();
    };
    let Some(thread) = state.store.thread(&id) else {
        return Vec::new();
    };
    if !thread.messages.iter().any(|m| m.id == target) {
        if thread.has_older && !thread.loading_older {
            return load_older_if_possible(state);
        }
        return Vec::new();
    }
    state.focus_message = None;
    if let Some(offset) = view::scroll_to_message(state, &target) {
        state.thread_scroll = offset;
    }
    state.dirty = true;
    Vec::new()
}

fn on_search_key(state: &mut AppState, key: KeyEvent) -> Vec<Command> {
    let Some(Overlay::Search(search)) = &mut state.overlay else {
        return Vec::new();
    };
    let ctrl = key
        .modifiers
        .contains(crossterm::event::KeyModifiers::CONTROL);
    match key.code {
        KeyCode::Esc => {
            state.overlay = None;
            Vec::new()
        }
        KeyCode::Char('c') if ctrl => {
            state.overlay = None;
            Vec::new()
        }
        KeyCode::Down | KeyCode::Tab => {
            if search.selected + 1 < search.results.len() {
                search.selected += 1;
            }
            Vec::new()
        }
        KeyCode::Char('n') if ctrl => {
            if search.selected + 1 < search.results.len() {
                search.selected += 1;
            }
            Vec::new()
        }
        KeyCode::Up | KeyCode::BackTab => {
            search.selected = search.selected.saturating_sub(1);
            Vec::new()
        }
        KeyCode::Char('p') if ctrl => {
            search.selected = search.selected.saturating_sub(1);
            Vec::new()
        }
        KeyCode::Enter => {
            let Some(hit) = search.results.get(search.selected).cloned() else {
                return Vec::new();
            };
            state.overlay = None;
            open_search_hit(state, hit)
        }
        KeyCode::Backspace => {
            search.query.pop();
            search_command(search)
        }
        KeyCode::Char(c) if !ctrl => {
            search.query.push(c);
            search_command(search)
        }
        _ => Vec::new(),
    }
}

fn search_command(search: &mut SearchBox) -> Vec<Command> {
    if search.query.trim().is_empty() {
        search.results.clear();
        search.results_for.clear();
        search.error = None;
        return Vec::new();
    }
    vec![Command::Search {
        query: search.query.clone(),
    }]
}

fn open_search_hit(state: &mut AppState, hit: SearchHit) -> Vec<Command> {
    let (conversation_id, message_id) = match hit {
        SearchHit::Message {
            conversation_id,
            message_id,
            ..
        } => (conversation_id, Some(message_id)),
        SearchHit::Contact { contact_id, .. } => {
            let first = state
                .store
                .order()
                .iter()
                .find(|id| {
                    state
                        .store
                        .get(id)
                        .is_some_and(|e| e.conversation.contact_id.as_ref() == Some(&contact_id))
                })
                .cloned();
            let Some(conversation_id) = first else {
                state.notify(
                    NoticeLevel::Info,
                    "That contact has no conversation in the cache yet.",
                );
                return Vec::new();
            };
            (conversation_id, None)
        }
    };
    if state.store.get(&conversation_id).is_none() {
        state.notify(
            NoticeLevel::Info,
            "That conversation is not in the list yet.",
        );
        return Vec::new();
    }
    let mut commands = open_conversation(state, conversation_id);
    state.focus = Focus::Thread;
    ensure_selected_visible(state);
    state.focus_message = message_id;
    commands.extend(bring_focus_message_into_view(state));
    commands
}

fn on_messages(
    state: &mut AppState,
    id: ConversationId,
    messages: Vec<Message>,
    has_more: bool,
    older: bool,
) -> Vec<Command> {
    let is_open = state.open.as_ref() == Some(&id);
    let follow_new = is_open && !older && state.thread_scroll > 0;
    let lines_before = if follow_new { thread_height(state) } else { 0 };
    let confirmed: Vec<String> = messages
        .iter()
        .filter_map(|m| m.client_id.clone())
        .collect();
    let was_loaded = state.store.thread(&id).is_some_and(|t| t.loaded);
    let summary = if older {
        state
            .store
            .merge_messages(&id, messages, Some(has_more), None)
    } else {
        state
            .store
            .merge_messages(&id, messages, None, Some(has_more))
    };
    // An echo seen by polling confirms a send whose response was lost.
    let mut confirmed_any = false;
    for client_id in confirmed {
        confirmed_any |= remove_outbox_item(state, &client_id);
    }
    let mut commands = if confirmed_any {
        next_sends(state)
    } else {
        Vec::new()
    };
    let changed = older || !was_loaded || confirmed_any || summary.added > 0 || summary.updated > 0;
    if !changed {
        return commands;
    }
    if follow_new {
        // Keep the agent's place when messages arrive below it.
        let grown = thread_height(state).saturating_sub(lines_before);
        state.thread_scroll += grown;
    }
    if !is_open {
        return commands;
    }
    state.store.mark_read(&id);
    state.dirty = true;
    let focus = bring_focus_message_into_view(state);
    if !focus.is_empty() {
        commands.extend(focus);
        return commands;
    }
    let max = max_thread_scroll(state);
    if max == 0 || (older && state.thread_scroll >= max) {
        commands.extend(load_older_if_possible(state));
    }
    commands
}

fn on_send_confirmed(state: &mut AppState, client_id: &str, message: Message) -> Vec<Command> {
    remove_outbox_item(state, client_id);
    let id = message.conversation_id.clone();
    if let Some(entry) = state.store.get(&id).cloned() {
        let mut conversation = entry.conversation;
        conversation.last_message = Some(MessagePreview {
            text: text::sanitize_line(&message.text),
            sender: message.sender,
            kind: message.kind.clone(),
            ack: message.ack,
            created_at: message.created_at,
        });
        conversation.updated_at = conversation.updated_at.max(message.created_at);
        state
            .store
            .upsert_conversations(vec![conversation], state.open.as_ref());
        ensure_selected_visible(state);
    }
    state.store.merge_messages(&id, vec![message], None, None);
    state.dirty = true;
    next_sends(state)
}

fn on_send_failed(state: &mut AppState, client_id: &str, error: &ApiError) -> Vec<Command> {
    let Some(item) = state.outbox.get_mut(client_id) else {
        return Vec::new();
    };
    let attempt = match item.state {
        OutboxState::Sending { attempt } | OutboxState::WaitingRetry { attempt, .. } => attempt,
        OutboxState::Failed { .. } | OutboxState::Queued => return Vec::new(),
    };
    // The server may have stored it before the answer went missing (or
    // came back garbled); a 429 or a refusal says for sure that it did not.
    let ambiguous = matches!(error, ApiError::Decode(_))
        || (error.is_transient() && !matches!(error, ApiError::RateLimited { .. }));
    if ambiguous {
        item.fate_unknown = true;
    }
    state.dirty = true;
    // An outage never turns a reply into a failure: it waits for the
    // connection, however long. Garbled answers are retried a few times.
    let retry = error.is_transient() || (ambiguous && attempt < outbox::MAX_AUTOMATIC_ATTEMPTS);
    if retry {
        let delay = match error {
            ApiError::RateLimited { retry_after } => *retry_after,
            _ => outbox::retry_delay(attempt),
        };
        item.state = OutboxState::WaitingRetry {
            attempt,
            retry_at: state.now + chrono::Duration::from_std(delay).unwrap_or_default(),
            reason: error.to_string(),
        };
        persist_outbox_item(state, client_id);
        return vec![Command::ScheduleRetry {
            client_id: client_id.to_string(),
            after: delay,
        }];
    }
    let reason = if ambiguous {
        format!("{error} (gave up after {attempt} attempts)")
    } else {
        error.to_string()
    };
    item.state = OutboxState::Failed { reason };
    let conversation = item.conversation_id.clone();
    persist_outbox_item(state, client_id);
    let who = state
        .store
        .get(&conversation)
        .map(|e| e.conversation.contact_name.clone())
        .unwrap_or_else(|| "the customer".into());
    state.notify(
        NoticeLevel::Error,
        format!("Reply to {who} not sent: {error}. Its text is kept: R retries, e edits."),
    );
    Vec::new()
}

#[cfg(test)]
#[path = "update_tests.rs"]
mod tests;
