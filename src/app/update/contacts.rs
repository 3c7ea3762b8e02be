//! The contact profile, the editor and its save through the mutation log,
//! creating and deleting contacts.

use crossterm::event::KeyEvent;

use crate::api::ApiError;
use crate::app::command::Command;
use crate::app::event::{ContactSaveError, ContactSaved};
use crate::app::keymap::Action;
use crate::app::state::AppState;
use crate::domain::{Contact, ContactId};

pub fn on_contact_action(state: &mut AppState, action: Action, fresh_id: String) -> Vec<Command> {
    let _ = (state, action, fresh_id);
    Vec::new()
}

pub fn on_form_key(state: &mut AppState, key: KeyEvent, fresh_id: String) -> Vec<Command> {
    let _ = (state, key, fresh_id);
    Vec::new()
}

pub fn on_confirm_discard_key(state: &mut AppState, key: KeyEvent) -> Vec<Command> {
    let _ = (state, key);
    Vec::new()
}

pub fn on_confirm_delete_key(
    state: &mut AppState,
    key: KeyEvent,
    fresh_id: String,
) -> Vec<Command> {
    let _ = (state, key, fresh_id);
    Vec::new()
}

/// Keys of the profile the keymap does not bind: `1`–`9` open the
/// contact's conversations.
pub fn on_profile_key(state: &mut AppState, key: KeyEvent) -> Option<Vec<Command>> {
    let _ = (state, key);
    None
}

pub fn on_contact_loaded(
    state: &mut AppState,
    contact_id: ContactId,
    from_server: bool,
    result: Result<Box<Contact>, ApiError>,
) -> Vec<Command> {
    let _ = (state, contact_id, from_server, result);
    Vec::new()
}

pub fn on_contact_saved(
    state: &mut AppState,
    edit_id: &str,
    result: Result<ContactSaved, ContactSaveError>,
) -> Vec<Command> {
    let _ = (state, edit_id, result);
    Vec::new()
}

/// A choice for the editor's field (the picker is already closed; the
/// form is on top again).
pub fn on_contact_picked(state: &mut AppState, picker: crate::app::picker::Picker) {
    let _ = (state, picker);
}

/// Saves waiting for a retry go when their time comes.
pub fn on_tick(state: &mut AppState) -> Vec<Command> {
    let _ = state;
    Vec::new()
}

/// Reads the contact the profile shows when it is not at hand.
pub fn load_profile(state: &mut AppState) -> Vec<Command> {
    let _ = state;
    Vec::new()
}

/// Opens the editor on a contact (resuming an unsaved edit of it).
pub fn edit_contact(state: &mut AppState, contact_id: &ContactId) -> Vec<Command> {
    let _ = (state, contact_id);
    Vec::new()
}

/// Opens the editor for a new contact.
pub fn new_contact(state: &mut AppState) {
    let _ = state;
}

/// Asks before deleting a contact, saying what happens to its
/// conversations.
pub fn ask_delete(state: &mut AppState, contact_id: &ContactId) {
    let _ = (state, contact_id);
}

/// Opens the contact's latest conversation with its profile shown, where
/// the others are one key away.
pub fn jump_to_contact(state: &mut AppState, contact_id: &ContactId) -> Vec<Command> {
    let _ = (state, contact_id);
    Vec::new()
}
