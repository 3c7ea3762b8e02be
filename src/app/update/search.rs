//! The full-text search box.

use super::*;

pub(super) fn on_search_key(state: &mut AppState, key: KeyEvent) -> Vec<Command> {
    let Some(Overlay::Search(search)) = state.overlay_mut() else {
        return Vec::new();
    };
    let ctrl = key
        .modifiers
        .contains(crossterm::event::KeyModifiers::CONTROL);
    match key.code {
        KeyCode::Esc => {
            state.close_overlay();
            Vec::new()
        }
        // Ctrl-C quits from anywhere; if that needs a question, it is asked
        // over the search box, which is still there after a "no".
        KeyCode::Char('c') if ctrl => request_quit(state),
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
            state.close_overlay();
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

pub(super) fn search_command(search: &mut SearchBox) -> Vec<Command> {
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

pub(super) fn open_search_hit(state: &mut AppState, hit: SearchHit) -> Vec<Command> {
    let (conversation_id, message_id) = match hit {
        SearchHit::Message {
            conversation_id,
            message_id,
            ..
        } => (conversation_id, Some(message_id)),
        SearchHit::Contact { contact_id, .. } => {
            let first = state
                .rows()
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
