//! Snapshots of the contacts directory at 80x24 and 200x50: every
//! contact, a typed query, and a query nothing matches after the server
//! search failed.

mod common;

use crossterm::event::KeyCode;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use termdesk::api::ApiError;
use termdesk::app::state::Overlay;
use termdesk::app::update::directory::open_directory;
use termdesk::app::{AppState, Event, SyncEvent, update};
use termdesk::domain::*;
use termdesk::ui;

use common::{empty_state, inbox, key, now};

const SIZES: [(u16, u16); 2] = [(80, 24), (200, 50)];

fn render(state: &AppState, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| ui::draw(frame, state)).unwrap();
    terminal.backend().to_string()
}

fn contact(id: &str, first: &str, last: &str, phone: &str, email: &str) -> Contact {
    let mut contact = Contact::named(id, first);
    let known = |s: &str| (!s.is_empty()).then(|| s.to_string());
    contact.last_name = known(last);
    contact.phone = known(phone);
    contact.email = known(email);
    contact
}

/// The inbox synced, and a handful of contacts in several scripts (one a
/// very long name, one with a control character from the server).
fn state(width: u16, height: u16) -> AppState {
    let mut state = empty_state(width, height);
    let conversations = inbox();
    let first = conversations[0].contact_id.clone().unwrap();
    update(
        &mut state,
        Event::Sync(SyncEvent::Conversations(conversations)),
        now(),
    );
    update(&mut state, Event::Sync(SyncEvent::Synced), now());
    state.store.upsert_contacts(
        vec![
            contact(
                first.as_str(),
                "Ayşe",
                "Yılmaz",
                "+90 532 123 45 67",
                "ayse.yilmaz@example.com",
            ),
            contact("k-2", "محمد", "", "+966 50 123 4567", ""),
            contact(
                "k-3",
                "王芳",
                "",
                "+86 138 0013 8000",
                "wang.fang@example.cn",
            ),
            contact("k-4", "Mehmet", "Kaya", "", "mehmet@kaya.net"),
            contact(
                "k-5",
                "Bartholomew Alexander",
                "Montgomery-Fitzgerald",
                "+1 415 555 0199",
                "bartholomew.montgomery-fitzgerald@example.com",
            ),
            contact("k-6", "Zoë\u{1b}[31m", "Ng", "", "zoe@example.com"),
        ],
        Vec::new(),
    );
    state
}

fn type_text(state: &mut AppState, text: &str) {
    for c in text.chars() {
        key(state, KeyCode::Char(c));
    }
}

fn assert_open(state: &AppState) {
    assert!(
        matches!(state.overlay(), Some(Overlay::Directory(_))),
        "{:?}",
        state.overlay()
    );
}

#[test]
fn every_contact() {
    for (w, h) in SIZES {
        let mut state = state(w, h);
        open_directory(&mut state);
        assert_open(&state);
        insta::assert_snapshot!(format!("directory_{w}x{h}"), render(&state, w, h));
    }
}

#[test]
fn typed_query() {
    for (w, h) in SIZES {
        let mut state = state(w, h);
        open_directory(&mut state);
        type_text(&mut state, "ay");
        key(&mut state, KeyCode::Down);
        insta::assert_snapshot!(format!("directory_ay_{w}x{h}"), render(&state, w, h));
        for _ in 0..2 {
            key(&mut state, KeyCode::Backspace);
        }
        type_text(&mut state, "532 123");
        insta::assert_snapshot!(format!("directory_phone_{w}x{h}"), render(&state, w, h));
    }
}

#[test]
fn nothing_found_and_the_server_failed() {
    for (w, h) in SIZES {
        let mut state = state(w, h);
        open_directory(&mut state);
        type_text(&mut state, "quentin");
        key(&mut state, KeyCode::Enter);
        insta::assert_snapshot!(format!("directory_searching_{w}x{h}"), render(&state, w, h));
        update(
            &mut state,
            Event::ContactsFound {
                query: "quentin".into(),
                result: Err(ApiError::Network("connection reset by peer".into())),
            },
            now(),
        );
        assert_open(&state);
        insta::assert_snapshot!(format!("directory_error_{w}x{h}"), render(&state, w, h));
    }
}
