//! The status picker, the status filter and the status shortcuts follow the
//! provider's status set.

use crossterm::event::KeyCode;

use super::tests::{key, type_text};
use super::tests_triage::{inbox, row};
use crate::app::keymap::Action;
use crate::app::picker::PickerPurpose;
use crate::app::state::{AppState, Overlay};
use crate::domain::ConversationStatus;

fn picker_keys(state: &AppState, purpose: PickerPurpose) -> Vec<String> {
    let Some(Overlay::Picker(picker)) = state.overlay() else {
        panic!("no picker: {:?}", state.overlay());
    };
    assert_eq!(picker.purpose, purpose);
    picker.items.iter().map(|i| i.key.clone()).collect()
}

/// A provider with open, closed and a status of its own.
fn two_and_a_custom() -> AppState {
    let mut state = inbox();
    state.statuses = vec![
        ConversationStatus::Open,
        ConversationStatus::Closed,
        ConversationStatus::Unknown("escalated".into()),
    ];
    state
}

#[test]
fn the_picker_offers_only_the_providers_statuses() {
    let mut state = two_and_a_custom();
    key(&mut state, KeyCode::Char('s'));
    assert_eq!(
        picker_keys(&state, PickerPurpose::Status),
        ["open", "closed", "escalated"]
    );
    type_text(&mut state, "escalated");
    key(&mut state, KeyCode::Enter);
    assert_eq!(
        row(&state, "a").status,
        ConversationStatus::Unknown("escalated".into())
    );
}

#[test]
fn the_filter_offers_only_the_providers_statuses() {
    let mut state = two_and_a_custom();
    key(&mut state, KeyCode::Char('f'));
    let statuses: Vec<String> = picker_keys(&state, PickerPurpose::Filters)
        .into_iter()
        .filter(|k| k.starts_with("status:"))
        .collect();
    assert_eq!(
        statuses,
        ["status:open", "status:closed", "status:escalated"]
    );
    type_text(&mut state, "closed");
    key(&mut state, KeyCode::Char(' '));
    key(&mut state, KeyCode::Enter);
    assert_eq!(state.view.filters.statuses, [ConversationStatus::Closed]);
}

#[test]
fn a_shortcut_to_a_status_the_provider_lacks_says_so() {
    let state = two_and_a_custom();
    assert_eq!(
        state.unavailable(Action::Resolve).as_deref(),
        Some("Qpien has no \"resolved\" status")
    );
    assert_eq!(
        state.unavailable(Action::SetPending).as_deref(),
        Some("Qpien has no \"pending\" status")
    );
    assert_eq!(state.unavailable(Action::Reopen), None);
    assert_eq!(state.unavailable(Action::Status), None);
    let mut state = state;
    key(&mut state, KeyCode::Char('x'));
    assert_eq!(row(&state, "a").status, ConversationStatus::Open);
    assert_eq!(
        state.notice.clone().unwrap().text,
        "Qpien has no \"resolved\" status."
    );
}

#[test]
fn without_statuses_every_status_action_is_greyed_with_the_reason() {
    let mut state = inbox();
    state.statuses.clear();
    for action in [
        Action::Status,
        Action::Resolve,
        Action::Reopen,
        Action::SetPending,
    ] {
        assert_eq!(
            state.unavailable(action).as_deref(),
            Some("Qpien does not offer conversation statuses"),
            "{action:?}"
        );
    }
    key(&mut state, KeyCode::Char('s'));
    assert!(state.overlay().is_none(), "no picker opens");
    key(&mut state, KeyCode::Char(':'));
    let Some(Overlay::Picker(palette)) = state.overlay() else {
        panic!("no palette");
    };
    let status = palette.items.iter().find(|i| i.key == "status").unwrap();
    assert!(status.unavailable);
    assert_eq!(status.detail, "Qpien does not offer conversation statuses");
    key(&mut state, KeyCode::Esc);
    key(&mut state, KeyCode::Char('f'));
    assert!(
        picker_keys(&state, PickerPurpose::Filters)
            .iter()
            .all(|k| !k.starts_with("status:")),
        "no status filters"
    );
}

#[test]
fn the_default_set_is_the_full_one() {
    let state = inbox();
    for action in [
        Action::Status,
        Action::Resolve,
        Action::Reopen,
        Action::SetPending,
    ] {
        assert_eq!(state.unavailable(action), None, "{action:?}");
    }
}
