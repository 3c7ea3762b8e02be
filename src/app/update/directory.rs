//! Keys and answers of the contacts directory.

use chrono::{DateTime, Utc};
use crossterm::event::KeyEvent;

use crate::api::ApiError;
use crate::app::command::Command;
use crate::app::state::AppState;
use crate::domain::Contact;

/// Opens the directory over the panes.
pub fn open_directory(state: &mut AppState) -> Vec<Command> {
    let _ = state;
    Vec::new()
}

pub fn on_directory_key(state: &mut AppState, key: KeyEvent) -> Vec<Command> {
    let _ = (state, key);
    Vec::new()
}

pub fn on_contacts_found(
    state: &mut AppState,
    query: String,
    result: Result<Vec<Contact>, ApiError>,
) {
    let _ = (state, query, result);
}

/// The server is asked once typing pauses.
pub fn on_tick(state: &mut AppState, now: DateTime<Utc>) -> Vec<Command> {
    let _ = (state, now);
    Vec::new()
}
