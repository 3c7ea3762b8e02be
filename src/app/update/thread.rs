//! The open thread's messages: from the cache, from the server, older
//! pages, gaps, and bringing a message into view.

use super::*;

pub(super) fn load_older_if_possible(state: &mut AppState) -> Vec<Command> {
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
    let held_at_anchor = held_at(thread, anchor.created_at);
    let cache_first = thread.gap.is_none();
    thread.loading_older = true;
    vec![Command::LoadMessages {
        conversation_id: id,
        before: Some(before),
        held_at_anchor,
        cache_first,
    }]
}

/// Messages of the thread sent at `at`.
fn held_at(thread: &crate::store::Thread, at: chrono::DateTime<chrono::Utc>) -> usize {
    thread
        .messages
        .iter()
        .filter(|m| m.created_at == at)
        .count()
}

pub(super) fn on_cached_messages(
    state: &mut AppState,
    id: ConversationId,
    messages: Vec<Message>,
    has_older: bool,
    older: bool,
    gap_before: Option<MessageId>,
) -> Vec<Command> {
    let is_open = state.open.as_ref() == Some(&id);
    if !is_open && !state.store.has_thread(&id) {
        // Dropped from memory since it was asked for: read again on opening.
        return Vec::new();
    }
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

pub(super) fn load_older_from_server(state: &mut AppState) -> Vec<Command> {
    let Some(id) = state.open.clone() else {
        return Vec::new();
    };
    let thread = state.store.thread_mut(&id);
    let Some(anchor) = thread.older_anchor() else {
        return Vec::new();
    };
    let before = (anchor.created_at, anchor.id.clone());
    let held_at_anchor = held_at(thread, anchor.created_at);
    thread.loading_older = true;
    vec![Command::LoadMessages {
        conversation_id: id,
        before: Some(before),
        held_at_anchor,
        cache_first: false,
    }]
}

/// After a search opened a thread at a message: scroll so the message shows,
/// loading older pages until it is there.
pub(super) fn bring_focus_message_into_view(state: &mut AppState) -> Vec<Command> {
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

pub(super) fn on_messages(
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
    if !is_open && !state.store.has_thread(&id) {
        // Dropped from memory since it was asked for: kept in the cache
        // only, as a read-ahead would be (older pages are read again).
        if !older {
            state.store.read_ahead(&id, messages, has_more);
        }
        let mut confirmed_any = false;
        for client_id in confirmed {
            confirmed_any |= remove_outbox_item(state, &client_id);
        }
        return if confirmed_any {
            next_sends(state)
        } else {
            Vec::new()
        };
    }
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
