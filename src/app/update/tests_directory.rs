//! The contacts directory driven through `update`: filtering, moving,
//! the server search and the actions on a contact.

use chrono::{DateTime, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::directory::open_directory;
use super::tests::{key, now, type_text};
use super::update;
use crate::api::ApiError;
use crate::app::command::Command;
use crate::app::directory::Directory;
use crate::app::event::{Event, SyncEvent};
use crate::app::state::{AppState, NoticeLevel, Overlay};
use crate::config::SendKey;
use crate::domain::{Contact, ContactId};
use crate::store::fixtures::conversation;

fn contact(id: &str, first: &str, last: &str, phone: &str, email: &str) -> Contact {
    let mut contact = Contact::named(id, first);
    let known = |s: &str| (!s.is_empty()).then(|| s.to_string());
    contact.last_name = known(last);
    contact.phone = known(phone);
    contact.email = known(email);
    contact
}

/// Six contacts; Ayşe (`c-a`) has a conversation, the others none.
fn people() -> Vec<Contact> {
    vec![
        contact(
            "c-a",
            "Ayşe",
            "Yılmaz",
            "+90 532 123 45 67",
            "ayse@example.com",
        ),
        contact(
            "c-2",
            "Mehmet",
            "Kaya",
            "+90 555 000 11 22",
            "mehmet@kaya.net",
        ),
        contact("c-3", "محمد", "", "+966 50 123 4567", ""),
        contact("c-4", "王芳", "", "", "wang.fang@example.cn"),
        contact("c-5", "Ayla", "Demir", "", ""),
        contact("c-6", "kaan", "Yıldız", "", ""),
    ]
}

fn state_with(contacts: Vec<Contact>) -> AppState {
    let mut state = AppState::new("demo", "Qpien", true, SendKey::Enter, now(), (80, 24));
    update(
        &mut state,
        Event::Sync(SyncEvent::Conversations(vec![conversation("a", 900, true)])),
        now(),
    );
    state.store.upsert_contacts(contacts, Vec::new());
    state.store.take_journal();
    state
}

/// The directory open over six contacts.
fn opened() -> AppState {
    let mut state = state_with(people());
    open_directory(&mut state);
    state
}

fn directory(state: &AppState) -> &Directory {
    state
        .overlays
        .iter()
        .rev()
        .find_map(|o| match o {
            Overlay::Directory(directory) => Some(directory.as_ref()),
            _ => None,
        })
        .expect("the directory is open")
}

fn is_open(state: &AppState) -> bool {
    state
        .overlays
        .iter()
        .any(|o| matches!(o, Overlay::Directory(_)))
}

/// Names of the matches, best first.
fn names(state: &AppState) -> Vec<String> {
    let directory = directory(state);
    (0..directory.matches.len())
        .map(|n| {
            let id = directory.contact_at(n).unwrap();
            state.store.contact_label(id).unwrap().to_string()
        })
        .collect()
}

fn selected(state: &AppState) -> Option<String> {
    directory(state).selected_contact().map(|id| id.to_string())
}

fn ctrl(state: &mut AppState, c: char) -> Vec<Command> {
    update(
        state,
        Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)),
        now(),
    )
}

fn tick(state: &mut AppState, at: DateTime<Utc>) -> Vec<Command> {
    update(state, Event::Tick, at)
}

fn ms(n: i64) -> DateTime<Utc> {
    now() + chrono::Duration::milliseconds(n)
}

fn searches(commands: &[Command]) -> Vec<&str> {
    commands
        .iter()
        .filter_map(|c| match c {
            Command::SearchContacts { query } => Some(query.as_str()),
            _ => None,
        })
        .collect()
}

fn loads(commands: &[Command]) -> Vec<String> {
    commands
        .iter()
        .filter_map(|c| match c {
            Command::LoadContact {
                contact_id,
                from_server,
            } => {
                assert!(!from_server, "the cache is asked first");
                Some(contact_id.to_string())
            }
            _ => None,
        })
        .collect()
}

#[test]
fn empty_query_lists_everyone_by_name_ignoring_case() {
    let state = opened();
    assert_eq!(
        names(&state),
        [
            "Ayla Demir",
            "Ayşe Yılmaz",
            "kaan Yıldız",
            "Mehmet Kaya",
            "محمد",
            "王芳"
        ]
    );
    assert_eq!(directory(&state).total(), 6);
}

#[test]
fn opening_reads_the_first_contact_once() {
    let mut state = state_with(people());
    let commands = open_directory(&mut state);
    assert_eq!(loads(&commands), ["c-5"]);
    assert_eq!(state.contacts_loading, [ContactId::new("c-5")]);
}

#[test]
fn filter_narrows_and_ranks() {
    let mut state = opened();
    type_text(&mut state, "ay");
    let found = names(&state);
    // Both names starting with the query first, equal ones by name.
    assert_eq!(found[..2], ["Ayla Demir", "Ayşe Yılmaz"], "{found:?}");
    assert!(!found.contains(&"王芳".to_string()), "{found:?}");
    assert_eq!(selected(&state).as_deref(), Some("c-5"));
    type_text(&mut state, "se");
    assert_eq!(names(&state), ["Ayşe Yılmaz"], "accents need not be typed");
    key(&mut state, KeyCode::Backspace);
    key(&mut state, KeyCode::Backspace);
    key(&mut state, KeyCode::Backspace);
    type_text(&mut state, "yilmaz");
    assert_eq!(names(&state), ["Ayşe Yılmaz"], "a new query starts over");
    ctrl(&mut state, 'u');
    assert_eq!(directory(&state).query, "");
    assert_eq!(names(&state).len(), 6);
}

#[test]
fn capitals_ask_for_case_and_words_match_apart() {
    let mut state = opened();
    type_text(&mut state, "Kaan");
    assert!(names(&state).is_empty(), "{:?}", names(&state));
    ctrl(&mut state, 'u');
    type_text(&mut state, "demir ayla");
    assert_eq!(names(&state), ["Ayla Demir"]);
}

#[test]
fn phone_matches_by_its_digits_and_email_matches() {
    let mut state = opened();
    type_text(&mut state, "532 123");
    assert_eq!(names(&state), ["Ayşe Yılmaz"]);
    ctrl(&mut state, 'u');
    type_text(&mut state, "5321234567");
    assert_eq!(names(&state), ["Ayşe Yılmaz"]);
    ctrl(&mut state, 'u');
    type_text(&mut state, "(532)-123-45");
    assert_eq!(names(&state), ["Ayşe Yılmaz"]);
    ctrl(&mut state, 'u');
    type_text(&mut state, "+966");
    assert_eq!(names(&state), ["محمد"]);
    ctrl(&mut state, 'u');
    type_text(&mut state, "wang.fang");
    assert_eq!(names(&state), ["王芳"]);
    ctrl(&mut state, 'u');
    type_text(&mut state, "王");
    assert_eq!(names(&state), ["王芳"]);
}

#[test]
fn selection_stays_on_its_contact_when_contacts_arrive() {
    let mut state = opened();
    key(&mut state, KeyCode::Down);
    key(&mut state, KeyCode::Down);
    key(&mut state, KeyCode::Down);
    assert_eq!(selected(&state).as_deref(), Some("c-2"));
    // Arrive by sync, sorted before Mehmet.
    state.store.upsert_contacts(
        vec![
            contact("c-7", "Aaron", "Abbott", "", ""),
            contact("c-8", "Berk", "", "", ""),
        ],
        Vec::new(),
    );
    tick(&mut state, now());
    assert_eq!(names(&state).len(), 8);
    assert_eq!(selected(&state).as_deref(), Some("c-2"));
    assert_eq!(directory(&state).selected, 5);
}

#[test]
fn moving_reads_only_the_contact_moved_to() {
    let mut state = opened();
    state.contacts_loading.clear();
    let commands = key(&mut state, KeyCode::Down);
    assert_eq!(loads(&commands), ["c-a"]);
    let commands = key(&mut state, KeyCode::End);
    assert_eq!(loads(&commands), ["c-4"], "not the rows passed over");
    // Already on its way.
    key(&mut state, KeyCode::Up);
    let commands = key(&mut state, KeyCode::Down);
    assert!(loads(&commands).is_empty(), "{commands:?}");
    // Already read.
    state.contacts_loading.clear();
    let card = state.store.contact_label(&ContactId::new("c-3")).unwrap();
    assert_eq!(card, "محمد");
    state
        .contact_cards
        .put(contact("c-3", "محمد", "", "+966 50 123 4567", ""));
    let commands = key(&mut state, KeyCode::Up);
    assert!(loads(&commands).is_empty(), "{commands:?}");
    // Nowhere to move: nothing read.
    let commands = key(&mut state, KeyCode::Home);
    assert_eq!(loads(&commands), ["c-5"]);
    let commands = key(&mut state, KeyCode::Up);
    assert!(loads(&commands).is_empty(), "{commands:?}");
    // Ctrl-K and Ctrl-J move too.
    let commands = ctrl(&mut state, 'j');
    assert_eq!(loads(&commands), ["c-a"]);
    ctrl(&mut state, 'k');
    assert_eq!(selected(&state).as_deref(), Some("c-5"));
}

#[test]
fn typing_reads_the_top_contact_once_typing_pauses() {
    let mut state = opened();
    state.contacts_loading.clear();
    type_text(&mut state, "meh");
    assert!(state.contacts_loading.is_empty());
    let commands = tick(&mut state, ms(800));
    assert_eq!(loads(&commands), ["c-2"]);
}

#[test]
fn the_list_scrolls_to_keep_the_selection_shown() {
    let many = (0..40)
        .map(|n| contact(&format!("c-{n:02}"), &format!("Person {n:02}"), "", "", ""))
        .collect();
    let mut state = state_with(many);
    open_directory(&mut state);
    let height = crate::app::directory::list_height(80, 24);
    assert!(height >= 10, "{height}");
    key(&mut state, KeyCode::End);
    let d = directory(&state);
    assert_eq!(d.selected, 39);
    assert_eq!(d.offset, 40 - height);
    key(&mut state, KeyCode::PageUp);
    let d = directory(&state);
    assert_eq!(d.selected, 39 - (height - 1));
    assert!(d.offset <= d.selected && d.selected < d.offset + height);
    key(&mut state, KeyCode::Home);
    assert_eq!(directory(&state).offset, 0);
    key(&mut state, KeyCode::PageDown);
    assert_eq!(directory(&state).selected, height - 1);
    assert_eq!(directory(&state).offset, 0);
    // Narrowing brings the offset back.
    key(&mut state, KeyCode::End);
    type_text(&mut state, "39");
    assert_eq!(directory(&state).offset, 0);
    assert_eq!(names(&state), ["Person 39"]);
}

#[test]
fn the_server_is_asked_once_typing_pauses_and_never_twice() {
    let mut state = opened();
    type_text(&mut state, "zey");
    assert!(searches(&tick(&mut state, ms(500))).is_empty(), "too early");
    // Typing on restarts the wait.
    update(
        &mut state,
        Event::Key(KeyEvent::new(KeyCode::Char('n'), KeyModifiers::NONE)),
        ms(600),
    );
    assert!(
        searches(&tick(&mut state, ms(1200))).is_empty(),
        "too early"
    );
    assert_eq!(searches(&tick(&mut state, ms(1400))), ["zeyn"]);
    assert!(directory(&state).searching);
    assert!(
        searches(&tick(&mut state, ms(3000))).is_empty(),
        "asked once"
    );
    // The same query again is not asked again, even on Enter.
    update(
        &mut state,
        Event::Key(KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE)),
        ms(3000),
    );
    update(
        &mut state,
        Event::Key(KeyEvent::new(KeyCode::Char('n'), KeyModifiers::NONE)),
        ms(3100),
    );
    assert!(searches(&tick(&mut state, ms(5000))).is_empty());
    assert!(searches(&key(&mut state, KeyCode::Enter)).is_empty());
}

#[test]
fn one_letter_is_answered_from_the_cache() {
    let mut state = opened();
    type_text(&mut state, "z");
    assert!(searches(&tick(&mut state, ms(2000))).is_empty());
}

#[test]
fn enter_on_no_match_asks_the_server_at_once() {
    let mut state = opened();
    type_text(&mut state, "q");
    assert!(names(&state).is_empty());
    assert_eq!(searches(&key(&mut state, KeyCode::Enter)), ["q"]);
    assert!(is_open(&state));
    assert!(searches(&tick(&mut state, ms(2000))).is_empty());
}

#[test]
fn found_contacts_appear_and_stale_answers_are_dropped() {
    let mut state = opened();
    type_text(&mut state, "zeynep");
    assert_eq!(searches(&tick(&mut state, ms(900))), ["zeynep"]);
    update(
        &mut state,
        Event::ContactsFound {
            query: "zeynep".into(),
            result: Ok(vec![contact("c-z", "Zeynep", "Şahin", "", "z@example.com")]),
        },
        ms(1000),
    );
    assert_eq!(names(&state), ["Zeynep Şahin"]);
    assert_eq!(selected(&state).as_deref(), Some("c-z"));
    assert!(!directory(&state).searching);
    assert_eq!(directory(&state).total(), 7);
    assert!(
        !state.store.take_journal().is_empty(),
        "found contacts go to the cache"
    );
    // The contact the selection landed on is read on the next tick, once.
    assert_eq!(loads(&tick(&mut state, ms(1100))), ["c-z"]);
    assert!(loads(&tick(&mut state, ms(1200))).is_empty());

    // An answer for a query since changed.
    ctrl(&mut state, 'u');
    type_text(&mut state, "burak");
    assert_eq!(searches(&tick(&mut state, ms(3000))), ["burak"]);
    ctrl(&mut state, 'u');
    type_text(&mut state, "can");
    update(
        &mut state,
        Event::ContactsFound {
            query: "burak".into(),
            result: Ok(vec![contact("c-b", "Burak", "Öztürk", "", "")]),
        },
        ms(3100),
    );
    assert!(state.store.contact_label(&ContactId::new("c-b")).is_none());
    assert_eq!(directory(&state).total(), 7);
    assert!(!directory(&state).searching);
}

#[test]
fn a_failed_search_is_shown_sanitized_and_may_be_asked_again() {
    let mut state = opened();
    type_text(&mut state, "zeynep");
    tick(&mut state, ms(900));
    update(
        &mut state,
        Event::ContactsFound {
            query: "zeynep".into(),
            result: Err(ApiError::Network("reset\u{1b}[2J by peer".into())),
        },
        ms(1000),
    );
    let d = directory(&state);
    assert!(!d.searching);
    let error = d.error.as_deref().unwrap();
    assert!(error.contains("reset"), "{error}");
    assert!(!error.contains('\u{1b}'), "{error}");
    assert_eq!(searches(&key(&mut state, KeyCode::Enter)), ["zeynep"]);
    // Typing clears it.
    type_text(&mut state, "x");
    assert!(directory(&state).error.is_none());
}

#[test]
fn enter_on_a_contact_with_conversations_leaves_the_directory() {
    let mut state = opened();
    type_text(&mut state, "ayse");
    assert_eq!(selected(&state).as_deref(), Some("c-a"));
    key(&mut state, KeyCode::Enter);
    assert!(!is_open(&state));
    assert!(state.notice.is_none());
}

#[test]
fn enter_on_a_contact_without_conversations_says_so_and_stays() {
    let mut state = opened();
    type_text(&mut state, "mehmet");
    let commands = key(&mut state, KeyCode::Enter);
    assert!(commands.is_empty(), "{commands:?}");
    assert!(is_open(&state));
    let notice = state.notice.as_ref().unwrap();
    assert_eq!(notice.level, NoticeLevel::Info);
    assert!(notice.text.contains("Mehmet Kaya"), "{}", notice.text);
}

#[test]
fn esc_closes_and_ctrl_c_quits() {
    let mut state = opened();
    type_text(&mut state, "ay");
    key(&mut state, KeyCode::Esc);
    assert!(!is_open(&state));
    assert!(state.overlays.is_empty());

    let mut state = opened();
    let commands = ctrl(&mut state, 'c');
    assert!(state.quitting);
    assert!(commands.contains(&Command::Quit));
}

#[test]
fn keys_with_modifiers_do_not_type() {
    let mut state = opened();
    update(
        &mut state,
        Event::Key(KeyEvent::new(KeyCode::Char('x'), KeyModifiers::ALT)),
        now(),
    );
    ctrl(&mut state, 'z');
    assert_eq!(directory(&state).query, "");
    update(
        &mut state,
        Event::Key(KeyEvent::new(KeyCode::Char('A'), KeyModifiers::SHIFT)),
        now(),
    );
    assert_eq!(directory(&state).query, "A");
    type_text(&mut state, "yla dem");
    ctrl(&mut state, 'w');
    assert_eq!(directory(&state).query, "Ayla ");
}

#[test]
fn a_deleted_contact_leaves_the_list() {
    let mut state = opened();
    key(&mut state, KeyCode::Down);
    assert_eq!(selected(&state).as_deref(), Some("c-a"));
    // Ctrl-D asks first; "no" keeps everything.
    ctrl(&mut state, 'd');
    assert!(matches!(
        state.overlay(),
        Some(Overlay::ConfirmDeleteContact(delete)) if delete.contact_id == ContactId::new("c-a")
    ));
    key(&mut state, KeyCode::Char('n'));
    tick(&mut state, now());
    assert_eq!(names(&state).len(), 6);
    // A contact deleted elsewhere leaves the list; the selection stays.
    state.store.remove_contact(&ContactId::new("c-5"));
    tick(&mut state, now());
    assert_eq!(names(&state).len(), 5);
    assert_eq!(selected(&state).as_deref(), Some("c-a"));
}

#[test]
fn a_contact_renamed_by_the_sync_moves_to_its_new_place() {
    let mut state = opened();
    let before = names(&state);
    assert_eq!(before.first().map(String::as_str), Some("Ayla Demir"));
    update(
        &mut state,
        Event::Sync(SyncEvent::Contacts {
            found: vec![contact("c-5", "Zeynep", "Demir", "", "")],
            missing: Vec::new(),
        }),
        now(),
    );
    tick(&mut state, now());
    let after = names(&state);
    assert_eq!(after.len(), before.len());
    let at = |name: &str| after.iter().position(|n| n == name);
    assert_eq!(at("Ayla Demir"), None);
    assert!(at("Zeynep Demir") > at("Mehmet Kaya"), "{after:?}");
}

#[test]
fn queries_remembered_as_asked_are_bounded() {
    let mut state = opened();
    let limit = super::directory::SERVER_SEARCHES_KEPT;
    let mut at = 0;
    for n in 0..limit + 10 {
        let query = format!("zz{n}");
        for c in query.chars() {
            at += 10;
            update(
                &mut state,
                Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)),
                ms(at),
            );
        }
        at += 2000;
        assert_eq!(searches(&tick(&mut state, ms(at))), [query.as_str()]);
        for _ in query.chars() {
            update(
                &mut state,
                Event::Key(KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE)),
                ms(at),
            );
        }
        tick(&mut state, ms(at));
    }
    assert_eq!(directory(&state).server_searched.len(), limit);
    assert_eq!(directory(&state).server_searched[0], "zz10");
}
