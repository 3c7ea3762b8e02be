//! The only place state changes. Pure: no IO, no clock reads (the time of
//! each event is passed in), no awaiting. Returns what to do next.

use chrono::{DateTime, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind};

use crate::api::ApiError;
use crate::app::command::Command;
use crate::app::event::{Event, SyncEvent};
use crate::app::keymap::Action;
use crate::app::state::{
    AppState, Composer, Focus, NoticeLevel, Overlay, SyncStatus, ThreadLinesKey,
};
use crate::domain::{ConversationId, Message, MessageId, MessagePreview};
use crate::store::outbox::{self, OutboxItem, OutboxState};
use crate::text;
use crate::ui::{self, layout, thread};

pub fn update(state: &mut AppState, event: Event, now: DateTime<Utc>) -> Vec<Command> {
    state.now = now;
    match event {
        Event::Key(key) => on_key(state, key),
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
            let labels = ui::time_labels(state);
            if labels != state.time_labels {
                state.time_labels = labels;
                state.dirty = true;
            }
            Vec::new()
        }
        Event::Sync(sync) => on_sync(state, sync),
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
        Event::SendConfirmed { client_id, message } => {
            on_send_confirmed(state, &client_id, *message)
        }
        Event::SendFailed { client_id, error } => on_send_failed(state, &client_id, &error),
        Event::RetryDue { client_id } => {
            if already_delivered(state, &client_id) {
                return Vec::new();
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
            vec![Command::Send(item.outgoing())]
        }
        Event::EditorClosed(result) => {
            match result {
                Ok(edited) => {
                    state.composer.set_text(text::sanitize(&edited).trim_end());
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

fn on_key(state: &mut AppState, key: KeyEvent) -> Vec<Command> {
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
    match state.overlay {
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
        if state.focus == Focus::Composer {
            state.composer.textarea.input(key);
        }
        return Vec::new();
    };
    on_action(state, action)
}

fn on_action(state: &mut AppState, action: Action) -> Vec<Command> {
    match action {
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
        Action::EditFailed => {
            edit_failed(state);
            Vec::new()
        }
        Action::Send => try_send(state),
        Action::NewLine => {
            state.composer.textarea.insert_newline();
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

fn current_layout(state: &AppState) -> layout::AppLayout {
    layout::compute(state.width, state.height, thread::composer_lines(state))
}

fn move_selection(state: &mut AppState, action: Action) {
    let len = state.store.len();
    if len == 0 {
        return;
    }
    let page = layout::list_capacity(&current_layout(state));
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
    ensure_selected_visible(state);
}

/// Keeps the selected row inside the list viewport as rows move.
fn ensure_selected_visible(state: &mut AppState) {
    let capacity = layout::list_capacity(&current_layout(state));
    let len = state.store.len();
    match state.selected_index() {
        Some(index) => {
            if index < state.list_offset {
                state.list_offset = index;
            } else if index >= state.list_offset + capacity {
                state.list_offset = index + 1 - capacity;
            }
        }
        None => state.list_offset = state.list_offset.min(len.saturating_sub(1)),
    }
    state.list_offset = state.list_offset.min(len.saturating_sub(capacity));
}

fn scroll_thread(state: &mut AppState, action: Action) -> Vec<Command> {
    if state.open.is_none() {
        return Vec::new();
    }
    let page = usize::from(
        layout::inner(current_layout(state).thread)
            .height
            .saturating_sub(2),
    )
    .max(1);
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
    if !thread.loaded || !thread.has_older || thread.loading_older {
        return Vec::new();
    }
    // One millisecond past the oldest: `before` is strict, and messages
    // sharing the oldest timestamp must not be skipped (duplicates merge).
    let Some(before) = thread
        .oldest_time()
        .map(|t| t + chrono::Duration::milliseconds(1))
    else {
        return Vec::new();
    };
    thread.loading_older = true;
    vec![Command::LoadMessages {
        conversation_id: id,
        before: Some(before),
    }]
}

fn open_conversation(state: &mut AppState, id: ConversationId) -> Vec<Command> {
    if state.open.as_ref() == Some(&id) {
        state.store.mark_read(&id);
        return Vec::new();
    }
    if let Some(previous) = state.open.take() {
        let draft = std::mem::take(&mut state.composer);
        if draft.is_blank() {
            state.drafts.remove(&previous);
        } else {
            state.drafts.insert(previous, draft.text());
        }
    }
    if let Some(draft) = state.drafts.get(&id) {
        state.composer.set_text(draft);
    }
    state.selected = Some(id.clone());
    state.open = Some(id.clone());
    state.thread_scroll = 0;
    state.store.mark_read(&id);
    let mut commands = vec![Command::WatchConversation(Some(id.clone()))];
    if !state.store.thread(&id).is_some_and(|t| t.loaded) {
        commands.push(Command::LoadMessages {
            conversation_id: id,
            before: None,
        });
    }
    commands
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

fn try_send(state: &mut AppState) -> Vec<Command> {
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
    let item = OutboxItem {
        client_id: uuid::Uuid::new_v4().to_string(),
        conversation_id: id.clone(),
        channel_id: state
            .store
            .get(&id)
            .and_then(|e| e.conversation.reply_channel_id.clone()),
        text: state.composer.text().trim_end().to_string(),
        created_at: state.now,
        state: OutboxState::Sending { attempt: 1 },
    };
    let command = Command::Send(item.outgoing());
    state.outbox.push(item);
    state.composer = Composer {
        seen_inbound: newest,
        ..Composer::default()
    };
    state.drafts.remove(&id);
    state.thread_scroll = 0;
    vec![command]
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
        state.outbox.remove(client_id);
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
        return Vec::new();
    }
    let Some(item) = state.outbox.get_mut(&client_id) else {
        return Vec::new();
    };
    item.state = OutboxState::Sending { attempt: 1 };
    vec![Command::Send(item.outgoing())]
}

fn edit_failed(state: &mut AppState) {
    let Some(id) = state.open.clone() else {
        return;
    };
    let Some(client_id) = state.outbox.latest_failed(&id).map(|i| i.client_id.clone()) else {
        state.notify(NoticeLevel::Info, "No failed reply here to edit.");
        return;
    };
    if already_delivered(state, &client_id) {
        return;
    }
    let Some(item) = state.outbox.remove(&client_id) else {
        return;
    };
    let text = if state.composer.is_blank() {
        item.text
    } else {
        format!("{}\n{}", state.composer.text(), item.text)
    };
    state.composer.set_text(&text);
    begin_compose(state);
}

fn on_paste(state: &mut AppState, pasted: &str) {
    if state.focus != Focus::Composer {
        if state.open.is_none() {
            return;
        }
        begin_compose(state);
    }
    state.composer.textarea.insert_str(text::sanitize(pasted));
    state.dirty = true;
}

/// Polls that bring nothing new change nothing on screen: no redraw.
fn on_sync(state: &mut AppState, sync: SyncEvent) -> Vec<Command> {
    let status_before = ui::status_bar::sync_text(state);
    match sync {
        SyncEvent::Connecting => state.sync = SyncStatus::Connecting,
        SyncEvent::Conversations { items, .. } => {
            if state.store.upsert_conversations(items, state.open.as_ref()) > 0 {
                state.dirty = true;
            }
            if state.selected.is_none() {
                state.selected = state.store.order().first().cloned();
            }
            ensure_selected_visible(state);
            state.sync = SyncStatus::Synced { at: state.now };
        }
        SyncEvent::Agents(agents) => {
            state.store.set_agents(agents);
            state.dirty = true;
        }
        SyncEvent::Failed { error, retry_in } => {
            let retry_at = state.now + chrono::Duration::from_std(retry_in).unwrap_or_default();
            state.sync = match error {
                ApiError::RateLimited { .. } => SyncStatus::RateLimited { retry_at },
                ref other => SyncStatus::Offline {
                    retry_at,
                    reason: other.to_string(),
                },
            };
            if !error.is_transient() {
                state.notify_error("Sync failed", &error);
            }
        }
    }
    if ui::status_bar::sync_text(state) != status_before {
        state.dirty = true;
    }
    Vec::new()
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
        confirmed_any |= state.outbox.remove(&client_id).is_some();
    }
    let changed = older || !was_loaded || confirmed_any || summary.added > 0 || summary.updated > 0;
    if !changed {
        return Vec::new();
    }
    if follow_new {
        // Keep the agent's place when messages arrive below it.
        let grown = thread_height(state).saturating_sub(lines_before);
        state.thread_scroll += grown;
    }
    if !is_open {
        return Vec::new();
    }
    state.store.mark_read(&id);
    state.dirty = true;
    let max = max_thread_scroll(state);
    if max == 0 || (older && state.thread_scroll >= max) {
        return load_older_if_possible(state);
    }
    Vec::new()
}

/// Lines of the open thread at the current width, cached until the thread,
/// the outbox, the width or the day changes.
fn thread_height(state: &mut AppState) -> usize {
    let width = layout::inner(current_layout(state).thread).width;
    let key = ThreadLinesKey {
        conversation: state.open.clone(),
        width,
        thread_revision: state
            .open
            .as_ref()
            .and_then(|id| state.store.thread(id))
            .map(|t| t.revision),
        outbox_revision: state.outbox.revision(),
        day: (state.now + state.utc_offset).date_naive(),
    };
    if let Some((cached, lines)) = &state.thread_lines_cache
        && *cached == key
    {
        return *lines;
    }
    let lines = thread::build_lines(state, usize::from(width)).len();
    state.thread_lines_cache = Some((key, lines));
    lines
}

/// How far up the thread can scroll at this size.
fn max_thread_scroll(state: &mut AppState) -> usize {
    let visible = usize::from(layout::inner(current_layout(state).thread).height);
    thread_height(state).saturating_sub(visible)
}

fn on_send_confirmed(state: &mut AppState, client_id: &str, message: Message) -> Vec<Command> {
    state.outbox.remove(client_id);
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
    Vec::new()
}

fn on_send_failed(state: &mut AppState, client_id: &str, error: &ApiError) -> Vec<Command> {
    let Some(item) = state.outbox.get_mut(client_id) else {
        return Vec::new();
    };
    let attempt = match item.state {
        OutboxState::Sending { attempt } | OutboxState::WaitingRetry { attempt, .. } => attempt,
        OutboxState::Failed { .. } => return Vec::new(),
    };
    state.dirty = true;
    if error.is_transient() && attempt < outbox::MAX_AUTOMATIC_ATTEMPTS {
        let delay = match error {
            ApiError::RateLimited { retry_after } => *retry_after,
            _ => outbox::retry_delay(attempt),
        };
        item.state = OutboxState::WaitingRetry {
            attempt,
            retry_at: state.now + chrono::Duration::from_std(delay).unwrap_or_default(),
            reason: error.to_string(),
        };
        return vec![Command::ScheduleRetry {
            client_id: client_id.to_string(),
            after: delay,
        }];
    }
    let reason = if error.is_transient() {
        format!("{error} (gave up after {attempt} attempts)")
    } else {
        error.to_string()
    };
    item.state = OutboxState::Failed { reason };
    let conversation = item.conversation_id.clone();
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
