//! Keys of the template picker, and sending a template through the outbox.

use super::*;

pub(super) fn on_key(state: &mut AppState, key: KeyEvent, fresh_id: String) -> Vec<Command> {
    let _ = (state, key, fresh_id);
    Vec::new()
}

pub(super) fn open_picker(state: &mut AppState) -> Vec<Command> {
    let _ = state;
    Vec::new()
}
