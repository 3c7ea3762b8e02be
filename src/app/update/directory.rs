//! Keys and answers of the contacts directory.

use chrono::{DateTime, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::api::ApiError;
use crate::app::command::Command;
use crate::app::directory::{self, Directory};
use crate::app::state::{AppState, NoticeLevel, Overlay};
use crate::domain::{Contact, ContactId};
use crate::text;

use super::contacts;

/// Typing pauses this long before the provider is asked about a query.
const SERVER_SEARCH_PAUSE: chrono::Duration = chrono::Duration::milliseconds(800);
/// A shorter query is answered from the cache only while typing; Enter
/// on a query nothing matches asks whatever its length.
const SERVER_SEARCH_MIN_CHARS: usize = 2;
/// Queries remembered as asked of the server; older ones may be asked again.
pub(super) const SERVER_SEARCHES_KEPT: usize = 64;

/// Opens the directory over the panes.
pub fn open_directory(state: &mut AppState) -> Vec<Command> {
    let directory = Directory::new(&state.store);
    state.open_overlay(Overlay::Directory(Box::new(directory)));
    load_selected(state)
}

/// The directory when it gets the keys.
fn top(state: &mut AppState) -> Option<&mut Directory> {
    match state.overlay_mut() {
        Some(Overlay::Directory(directory)) => Some(directory),
        _ => None,
    }
}

/// The directory wherever it is among the overlays.
fn anywhere(state: &mut AppState) -> Option<&mut Directory> {
    state.overlays.iter_mut().rev().find_map(|o| match o {
        Overlay::Directory(directory) => Some(directory.as_mut()),
        _ => None,
    })
}

pub fn on_directory_key(state: &mut AppState, key: KeyEvent) -> Vec<Command> {
    let page = directory::list_height(state.width, state.height);
    let now = state.now;
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let plain = key.modifiers.difference(KeyModifiers::SHIFT).is_empty();
    let AppState {
        overlays, store, ..
    } = state;
    let Some(Overlay::Directory(directory)) = overlays.last_mut() else {
        return Vec::new();
    };
    if std::mem::take(&mut directory.covered) {
        // Back from the editor or a question: contacts may have changed.
        directory.rebuild(store);
    }
    let before = directory.selected_contact().cloned();
    let mut edited = None;
    match key.code {
        KeyCode::Esc => {
            state.close_overlay();
            return Vec::new();
        }
        KeyCode::Char('c') if ctrl => return super::request_quit(state),
        KeyCode::Enter => return on_enter(state),
        KeyCode::Char('e') if ctrl => {
            let Some(id) = before else {
                return Vec::new();
            };
            directory.covered = true;
            return contacts::edit_contact(state, &id);
        }
        KeyCode::Char('n') if ctrl => {
            directory.covered = true;
            contacts::new_contact(state);
            return Vec::new();
        }
        KeyCode::Char('t') if ctrl => {
            let Some(id) = before else {
                return Vec::new();
            };
            directory.covered = true;
            return super::templates::open_for_contact(state, &id);
        }
        KeyCode::Char('d') if ctrl => {
            if let Some(id) = before {
                directory.covered = true;
                contacts::ask_delete(state, &id);
            }
            return Vec::new();
        }
        KeyCode::Char('u') if ctrl => edited = Some(String::new()),
        KeyCode::Char('w') if ctrl => {
            let kept = directory.query.trim_end();
            let cut = kept.rfind(char::is_whitespace).map_or(0, |at| at + 1);
            edited = Some(kept[..cut].to_string());
        }
        KeyCode::Char('k') if ctrl => directory.move_by(-1),
        KeyCode::Char('j') if ctrl => directory.move_by(1),
        KeyCode::Up => directory.move_by(-1),
        KeyCode::Down => directory.move_by(1),
        KeyCode::PageUp => directory.move_by(-(page.max(2) as isize - 1)),
        KeyCode::PageDown => directory.move_by(page.max(2) as isize - 1),
        KeyCode::Home => directory.select(0),
        KeyCode::End => directory.select(usize::MAX),
        KeyCode::Backspace => {
            let mut query = directory.query.clone();
            query.pop();
            edited = Some(query);
        }
        KeyCode::Char(c) if plain && !c.is_control() => {
            edited = Some(format!("{}{c}", directory.query));
        }
        _ => {}
    }
    let typed = edited.is_some();
    if let Some(query) = edited
        && query != directory.query
    {
        directory.set_query(store, query);
        directory.query_changed_at = Some(now);
        directory.searching = false;
        directory.error = None;
    }
    directory.ensure_visible(page);
    let moved = !typed && directory.selected_contact() != before.as_ref();
    if moved {
        load_selected(state)
    } else {
        // Typing waits for the pause before reading the top contact.
        Vec::new()
    }
}

/// Enter: the selected contact's conversations; on a query nothing
/// matches, the server is asked at once.
fn on_enter(state: &mut AppState) -> Vec<Command> {
    let Some(directory) = top(state) else {
        return Vec::new();
    };
    let Some(id) = directory.selected_contact().cloned() else {
        return server_search(state, 1);
    };
    if state.store.conversations_of(&id).is_empty() {
        let name = state
            .store
            .contact_label(&id)
            .map_or_else(|| "This contact".to_string(), text::sanitize_line);
        state.notify(
            NoticeLevel::Info,
            format!("{name} has no conversations yet."),
        );
        return Vec::new();
    }
    state.close_overlay();
    contacts::jump_to_contact(state, &id)
}

/// Asks the provider about the query, once per query.
fn server_search(state: &mut AppState, min_chars: usize) -> Vec<Command> {
    let Some(directory) = anywhere(state) else {
        return Vec::new();
    };
    directory.query_changed_at = None;
    let query = directory.query.trim().to_string();
    if query.chars().count() < min_chars.max(1) || directory.server_searched.contains(&query) {
        return Vec::new();
    }
    directory.server_searched.push(query.clone());
    if directory.server_searched.len() > SERVER_SEARCHES_KEPT {
        directory.server_searched.remove(0);
    }
    directory.searching = true;
    directory.error = None;
    state.dirty = true;
    vec![Command::SearchContacts { query }]
}

/// Reads the selected contact's full record for the profile, unless it is
/// at hand or on its way.
fn load_selected(state: &mut AppState) -> Vec<Command> {
    let Some(id) = anywhere(state).and_then(|d| d.selected_contact().cloned()) else {
        return Vec::new();
    };
    load_contact(state, id)
}

fn load_contact(state: &mut AppState, contact_id: ContactId) -> Vec<Command> {
    if state.contact_cards.get(&contact_id).is_some()
        || state.contacts_loading.contains(&contact_id)
    {
        return Vec::new();
    }
    state.contacts_loading.push(contact_id.clone());
    vec![Command::LoadContact {
        contact_id,
        from_server: false,
    }]
}

pub fn on_contacts_found(
    state: &mut AppState,
    query: String,
    result: Result<Vec<Contact>, ApiError>,
) {
    let Some(directory) = anywhere(state) else {
        return;
    };
    // An answer to a query since changed would reorder what the agent
    // is looking at.
    if directory.query.trim() != query {
        return;
    }
    directory.searching = false;
    match result {
        Ok(found) => {
            state.store.upsert_contacts(found, Vec::new());
            let AppState {
                overlays, store, ..
            } = state;
            if let Some(directory) = overlays.iter_mut().rev().find_map(|o| match o {
                Overlay::Directory(directory) => Some(directory),
                _ => None,
            }) {
                // Found contacts may be renamed ones the cache knew: read
                // them all again rather than only when the count changed.
                let before = directory.selected_contact().cloned();
                directory.rebuild(store);
                directory.ensure_visible(directory::list_height(state.width, state.height));
                directory.load_due |= directory.selected_contact() != before.as_ref();
            }
        }
        Err(error) => {
            directory.error = Some(text::sanitize_line(&format!(
                "Searching the server failed: {error}"
            )));
            // Asking again (Enter) may work.
            directory.server_searched.retain(|q| q != &query);
        }
    }
    state.dirty = true;
}

/// The server is asked once typing pauses; contacts synced meanwhile show
/// up.
pub fn on_tick(state: &mut AppState, now: DateTime<Utc>) -> Vec<Command> {
    let height = directory::list_height(state.width, state.height);
    let on_top = matches!(state.overlay(), Some(Overlay::Directory(_)));
    let AppState {
        overlays, store, ..
    } = state;
    let Some(directory) = overlays.iter_mut().rev().find_map(|o| match o {
        Overlay::Directory(directory) => Some(directory),
        _ => None,
    }) else {
        return Vec::new();
    };
    if on_top {
        let total = directory.total();
        let before = directory.selected_contact().cloned();
        if std::mem::take(&mut directory.covered) {
            directory.rebuild(store);
        } else {
            directory.refresh(store);
        }
        if directory.total() != total {
            directory.ensure_visible(height);
            state.dirty = true;
        }
        directory.load_due |= directory.selected_contact() != before.as_ref();
    }
    let paused = directory
        .query_changed_at
        .is_some_and(|at| now - at >= SERVER_SEARCH_PAUSE);
    let load_due = std::mem::take(&mut directory.load_due);
    let mut commands = Vec::new();
    if paused {
        commands.extend(server_search(state, SERVER_SEARCH_MIN_CHARS));
    }
    if paused || load_due {
        commands.extend(load_selected(state));
    }
    commands
}
