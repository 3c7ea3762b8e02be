use std::time::Duration;

use chrono::{DateTime, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::update;
use crate::api::ApiError;
use crate::app::command::Command;
use crate::app::event::{Event, SyncEvent};
use crate::app::state::{AppState, Focus, NoticeLevel, Overlay, SyncStatus};
use crate::config::SendKey;
use crate::domain::{ConversationId, Page, SenderKind};
use crate::store::fixtures::{conversation, message, t};
use crate::store::outbox::OutboxState;
use crate::store::outbox::Outgoing;

pub(super) fn now() -> DateTime<Utc> {
    t(1000)
}

pub(super) fn state_with(ids: &[&str]) -> AppState {
    let mut state = AppState::new("demo", "Qpien", true, SendKey::Enter, now(), (80, 24));
    let items = ids
        .iter()
        .enumerate()
        .map(|(i, id)| conversation(id, 900 - i as i64 * 10, true))
        .collect();
    update(
        &mut state,
        Event::Sync(SyncEvent::Conversations(items)),
        now(),
    );
    update(&mut state, Event::Sync(SyncEvent::Synced), now());
    state
}

pub(super) fn key(state: &mut AppState, code: KeyCode) -> Vec<Command> {
    update(
        state,
        Event::Key(KeyEvent::new(code, KeyModifiers::NONE)),
        now(),
    )
}

pub(super) fn key_mod(
    state: &mut AppState,
    code: KeyCode,
    modifiers: KeyModifiers,
) -> Vec<Command> {
    update(state, Event::Key(KeyEvent::new(code, modifiers)), now())
}

pub(super) fn type_text(state: &mut AppState, text: &str) {
    for c in text.chars() {
        key(state, KeyCode::Char(c));
    }
}

pub(super) fn load(
    state: &mut AppState,
    conv: &str,
    messages: Vec<crate::domain::Message>,
    has_more: bool,
) -> Vec<Command> {
    update(
        state,
        Event::MessagesLoaded {
            conversation_id: ConversationId::new(conv),
            page: Page {
                items: messages,
                next: has_more.then(|| crate::domain::PageCursor::new("2")),
                total: None,
                skipped: 0,
            },
            older: false,
        },
        now(),
    )
}

pub(super) fn sent_text(commands: &[Command]) -> Option<(String, String)> {
    commands.iter().find_map(|c| match c {
        Command::Send {
            outgoing: Outgoing::Text(out),
            ..
        } => Some((out.client_id.clone(), out.text.clone())),
        _ => None,
    })
}

fn selected(state: &AppState) -> &str {
    state.selected.as_ref().map(|id| id.as_str()).unwrap_or("")
}

/// `count` customer messages in conversation "a", one a second from t(100).
fn long_thread(count: i64) -> Vec<crate::domain::Message> {
    (0..count)
        .map(|i| {
            message(
                "a",
                &format!("m{i:03}"),
                100 + i,
                SenderKind::Contact,
                &format!("text {i}"),
            )
        })
        .collect()
}

/// Focuses the composer, types `text` and sends it; returns its client id.
pub(super) fn send_reply(state: &mut AppState, text: &str) -> String {
    key(state, KeyCode::Char('r'));
    type_text(state, text);
    sent_text(&key(state, KeyCode::Enter))
        .expect("a send command")
        .0
}

/// Opens `conv` (selected by moving down) with two loaded messages.
pub(super) fn open_with_messages(ids: &[&str], conv: &str) -> AppState {
    let mut state = state_with(ids);
    while selected(&state) != conv {
        key(&mut state, KeyCode::Char('j'));
    }
    key(&mut state, KeyCode::Enter);
    load(
        &mut state,
        conv,
        vec![
            message(conv, "m1", 100, SenderKind::Contact, "Where is my order?"),
            message(conv, "m2", 200, SenderKind::Agent, "Checking."),
        ],
        false,
    );
    state
}

#[test]
fn first_sync_selects_the_top_conversation_and_reports_synced() {
    let state = state_with(&["a", "b", "c"]);
    assert_eq!(selected(&state), "a");
    assert_eq!(state.sync, SyncStatus::Synced { at: now() });
}

#[test]
fn moves_with_vim_keys_and_arrows_and_stays_in_bounds() {
    let mut state = state_with(&["a", "b", "c"]);
    key(&mut state, KeyCode::Char('j'));
    key(&mut state, KeyCode::Down);
    assert_eq!(selected(&state), "c");
    key(&mut state, KeyCode::Char('j'));
    assert_eq!(selected(&state), "c");
    key(&mut state, KeyCode::Char('g'));
    assert_eq!(selected(&state), "a");
    key(&mut state, KeyCode::Up);
    assert_eq!(selected(&state), "a");
    key_mod(&mut state, KeyCode::Char('G'), KeyModifiers::SHIFT);
    assert_eq!(selected(&state), "c");
}

#[test]
fn selection_follows_the_conversation_when_rows_move() {
    let mut state = state_with(&["a", "b", "c"]);
    key(&mut state, KeyCode::Char('j'));
    assert_eq!(selected(&state), "b");
    // "c" gets a new message and jumps to the top.
    let items = vec![conversation("c", 950, true)];
    update(
        &mut state,
        Event::Sync(SyncEvent::Conversations(items)),
        now(),
    );
    assert_eq!(state.store.order()[0].as_str(), "c");
    assert_eq!(selected(&state), "b");
}

#[test]
fn list_scrolls_to_keep_the_selection_visible() {
    let ids: Vec<String> = (0..40).map(|i| format!("c{i:02}")).collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let mut state = state_with(&refs);
    key(&mut state, KeyCode::PageDown);
    key(&mut state, KeyCode::PageDown);
    let index = state.selected_index().unwrap();
    assert!(index >= state.list_offset);
    let capacity = crate::app::view::list_capacity(&state);
    assert!(index < state.list_offset + capacity);
    assert!(state.list_offset > 0);
}

#[test]
fn enter_opens_the_conversation_and_asks_for_its_messages() {
    let mut state = state_with(&["a", "b"]);
    key(&mut state, KeyCode::Char('j'));
    let commands = key(&mut state, KeyCode::Enter);
    assert_eq!(state.open.as_ref().unwrap().as_str(), "b");
    assert_eq!(state.focus, Focus::Thread);
    assert_eq!(state.store.get(&"b".into()).unwrap().unread, 0);
    assert!(commands.contains(&Command::WatchConversation(Some("b".into()))));
    assert!(commands.contains(&Command::LoadMessages {
        conversation_id: "b".into(),
        before: None,
        held_at_anchor: 0,
        cache_first: false,
    }));
    assert!(commands.contains(&Command::LoadCachedThread {
        conversation_id: "b".into(),
    }));
    key(&mut state, KeyCode::Esc);
    assert_eq!(state.focus, Focus::List);
}

#[test]
fn reply_sends_through_the_outbox_and_clears_the_composer() {
    let mut state = open_with_messages(&["a", "b"], "a");
    key(&mut state, KeyCode::Char('r'));
    assert_eq!(state.focus, Focus::Composer);
    type_text(&mut state, "It ships today");
    key_mod(&mut state, KeyCode::Enter, KeyModifiers::ALT);
    type_text(&mut state, "qj?");
    let commands = key(&mut state, KeyCode::Enter);
    let (client_id, text) = sent_text(&commands).expect("a send command");
    assert_eq!(text, "It ships today\nqj?");
    assert!(state.composer.is_blank());
    let item = state.outbox.get(&client_id).unwrap();
    assert_eq!(item.state, OutboxState::Sending { attempt: 1 });
    assert_eq!(state.outbox.in_flight(), 1);
}

#[test]
fn an_empty_reply_is_not_sent() {
    let mut state = open_with_messages(&["a"], "a");
    key(&mut state, KeyCode::Char('r'));
    type_text(&mut state, "   ");
    let commands = key(&mut state, KeyCode::Enter);
    assert!(sent_text(&commands).is_none());
    assert_eq!(state.notice.as_ref().unwrap().level, NoticeLevel::Warning);
}

#[test]
fn new_customer_messages_while_typing_hold_the_first_enter() {
    let mut state = open_with_messages(&["a"], "a");
    key(&mut state, KeyCode::Char('r'));
    type_text(&mut state, "Sure");
    load(
        &mut state,
        "a",
        vec![message(
            "a",
            "m3",
            300,
            SenderKind::Contact,
            "Actually, cancel it",
        )],
        false,
    );
    let first = key(&mut state, KeyCode::Enter);
    assert!(
        sent_text(&first).is_none(),
        "first Enter must only show the new message"
    );
    let notice = state.notice.clone().unwrap();
    assert!(notice.text.contains("1 new message"), "{}", notice.text);
    assert_eq!(state.composer.text(), "Sure");
    let second = key(&mut state, KeyCode::Enter);
    assert_eq!(sent_text(&second).unwrap().1, "Sure");
}

#[test]
fn transient_failures_retry_with_the_same_client_id() {
    let mut state = open_with_messages(&["a"], "a");
    let client_id = send_reply(&mut state, "hello");
    let commands = update(
        &mut state,
        Event::SendFailed {
            client_id: client_id.clone(),
            error: ApiError::Network("connection reset".into()),
        },
        now(),
    );
    assert_eq!(
        commands,
        vec![Command::ScheduleRetry {
            client_id: client_id.clone(),
            after: Duration::from_secs(1)
        }]
    );
    assert!(matches!(
        state.outbox.get(&client_id).unwrap().state,
        OutboxState::WaitingRetry { attempt: 1, .. }
    ));
    let commands = update(
        &mut state,
        Event::RetryDue {
            client_id: client_id.clone(),
        },
        now(),
    );
    assert_eq!(sent_text(&commands).unwrap().0, client_id);
    assert_eq!(
        state.outbox.get(&client_id).unwrap().state,
        OutboxState::Sending { attempt: 2 }
    );
}

#[test]
fn rate_limited_sends_wait_as_long_as_the_server_says() {
    let mut state = open_with_messages(&["a"], "a");
    let client_id = send_reply(&mut state, "hello");
    let commands = update(
        &mut state,
        Event::SendFailed {
            client_id: client_id.clone(),
            error: ApiError::RateLimited {
                retry_after: Duration::from_secs(17),
            },
        },
        now(),
    );
    assert_eq!(
        commands,
        vec![Command::ScheduleRetry {
            client_id: client_id.clone(),
            after: Duration::from_secs(17)
        }]
    );
    assert!(matches!(
        &state.outbox.get(&client_id).unwrap().state,
        OutboxState::WaitingRetry { reason, .. } if reason == "rate-limited"
    ));
}

#[test]
fn permanent_failure_keeps_the_text_for_retry_or_edit() {
    let mut state = open_with_messages(&["a"], "a");
    let client_id = send_reply(&mut state, "refund approved");
    update(
        &mut state,
        Event::SendFailed {
            client_id: client_id.clone(),
            error: ApiError::Rejected {
                code: Some(400),
                message: "outside the 24-hour window".into(),
            },
        },
        now(),
    );
    let item = state.outbox.get(&client_id).unwrap();
    assert!(matches!(&item.state, OutboxState::Failed { reason } if reason.contains("24-hour")));
    assert_eq!(item.text, "refund approved");
    assert_eq!(state.outbox.in_flight(), 0);
    assert_eq!(state.notice.as_ref().unwrap().level, NoticeLevel::Error);

    key(&mut state, KeyCode::Esc);
    let commands = key_mod(&mut state, KeyCode::Char('R'), KeyModifiers::SHIFT);
    assert_eq!(
        sent_text(&commands).unwrap(),
        (client_id.clone(), "refund approved".to_string())
    );

    update(
        &mut state,
        Event::SendFailed {
            client_id: client_id.clone(),
            error: ApiError::Rejected {
                code: None,
                message: "no".into(),
            },
        },
        now(),
    );
    key(&mut state, KeyCode::Char('e'));
    assert_eq!(state.focus, Focus::Composer);
    assert_eq!(state.composer.text(), "refund approved");
    assert!(state.outbox.get(&client_id).is_none());
}

#[test]
fn an_outage_never_fails_a_reply_and_the_reconnect_resends_it_at_once() {
    let mut state = open_with_messages(&["a"], "a");
    let client_id = send_reply(&mut state, "hi");
    for _ in 0..crate::store::outbox::MAX_AUTOMATIC_ATTEMPTS * 2 {
        update(
            &mut state,
            Event::SendFailed {
                client_id: client_id.clone(),
                error: ApiError::Timeout(Duration::from_secs(15)),
            },
            now(),
        );
        update(
            &mut state,
            Event::RetryDue {
                client_id: client_id.clone(),
            },
            now(),
        );
    }
    let item = state.outbox.get(&client_id).unwrap();
    assert!(matches!(item.state, OutboxState::Sending { .. }));
    assert!(item.fate_unknown, "a timeout may have delivered it");
    update(
        &mut state,
        Event::SendFailed {
            client_id: client_id.clone(),
            error: ApiError::Network("down".into()),
        },
        now(),
    );
    update(
        &mut state,
        Event::Sync(SyncEvent::Failed {
            error: ApiError::Network("down".into()),
            retry_in: Duration::from_secs(30),
        }),
        now(),
    );
    let commands = update(&mut state, Event::Sync(SyncEvent::Synced), now());
    assert!(
        commands.iter().any(|c| matches!(
            c,
            Command::Send { outgoing, check_echo: true, .. } if outgoing.client_id() == client_id
        )),
        "back online: sent at once, after looking for its echo: {commands:?}"
    );
}

#[test]
fn a_garbled_answer_is_retried_a_few_times_then_kept_as_failed() {
    let mut state = open_with_messages(&["a"], "a");
    let client_id = send_reply(&mut state, "hi");
    for _ in 0..crate::store::outbox::MAX_AUTOMATIC_ATTEMPTS {
        update(
            &mut state,
            Event::SendFailed {
                client_id: client_id.clone(),
                error: ApiError::Decode("truncated".into()),
            },
            now(),
        );
        update(
            &mut state,
            Event::RetryDue {
                client_id: client_id.clone(),
            },
            now(),
        );
    }
    let item = state.outbox.get(&client_id).unwrap();
    assert!(matches!(item.state, OutboxState::Failed { .. }));
    assert!(item.fate_unknown);
    // Editing it first asks the server whether it arrived.
    key(&mut state, KeyCode::Esc);
    let commands = key(&mut state, KeyCode::Char('e'));
    assert!(
        matches!(&commands[..], [Command::CheckEcho { .. }]),
        "{commands:?}"
    );
    update(
        &mut state,
        Event::EchoChecked {
            client_id: client_id.clone(),
            result: Ok(None),
        },
        now(),
    );
    assert_eq!(state.composer.text(), "hi");
    assert!(state.outbox.get(&client_id).is_none());
}

#[test]
fn confirmation_replaces_the_outbox_item_with_the_server_message() {
    let mut state = open_with_messages(&["a"], "a");
    let client_id = send_reply(&mut state, "done");
    let mut echo = message("a", "srv-1", 400, SenderKind::Agent, "done");
    echo.client_id = Some(client_id.clone());
    update(
        &mut state,
        Event::SendConfirmed {
            client_id: client_id.clone(),
            message: Box::new(echo.clone()),
            found_echo: false,
        },
        now(),
    );
    assert!(state.outbox.get(&client_id).is_none());
    // The same echo arriving again by polling adds nothing.
    load(&mut state, "a", vec![echo], false);
    let thread = state.store.thread(&"a".into()).unwrap();
    assert_eq!(
        thread.messages.iter().filter(|m| m.text == "done").count(),
        1
    );
    assert_eq!(
        state
            .store
            .get(&"a".into())
            .unwrap()
            .conversation
            .last_message
            .as_ref()
            .unwrap()
            .text,
        "done"
    );
}

#[test]
fn quitting_with_a_send_in_flight_asks_first() {
    let mut state = open_with_messages(&["a"], "a");
    key(&mut state, KeyCode::Char('r'));
    type_text(&mut state, "wait");
    key(&mut state, KeyCode::Enter);
    let commands = key_mod(&mut state, KeyCode::Char('c'), KeyModifiers::CONTROL);
    assert!(commands.is_empty());
    assert_eq!(state.overlay(), Some(&Overlay::ConfirmQuit));
    key(&mut state, KeyCode::Char('n'));
    assert_eq!(state.overlay(), None);
    key(&mut state, KeyCode::Esc);
    key(&mut state, KeyCode::Char('q'));
    assert_eq!(key(&mut state, KeyCode::Char('y')), vec![Command::Quit]);
}

#[test]
fn q_types_in_the_composer_and_quits_at_once_when_nothing_is_unsent() {
    let mut state = open_with_messages(&["a"], "a");
    key(&mut state, KeyCode::Char('r'));
    assert!(key(&mut state, KeyCode::Char('q')).is_empty());
    assert_eq!(state.composer.text(), "q");
    key(&mut state, KeyCode::Backspace);
    key(&mut state, KeyCode::Esc);
    assert_eq!(key(&mut state, KeyCode::Char('q')), vec![Command::Quit]);
}

#[test]
fn quitting_with_a_draft_or_a_failed_reply_asks_and_says_what_is_lost() {
    let mut state = open_with_messages(&["a", "b"], "a");
    key(&mut state, KeyCode::Char('r'));
    type_text(&mut state, "not finished");
    key(&mut state, KeyCode::Esc);
    assert!(key(&mut state, KeyCode::Char('q')).is_empty());
    assert_eq!(state.overlay(), Some(&Overlay::ConfirmQuit));
    assert_eq!(state.unsent_summary().unwrap(), "1 unsent draft");
    key(&mut state, KeyCode::Esc);

    key(&mut state, KeyCode::Char('r'));
    let (client_id, _) = sent_text(&key(&mut state, KeyCode::Enter)).unwrap();
    update(
        &mut state,
        Event::SendFailed {
            client_id,
            error: ApiError::Rejected {
                code: None,
                message: "no".into(),
            },
        },
        now(),
    );
    key(&mut state, KeyCode::Esc);
    key(&mut state, KeyCode::Char('q'));
    assert_eq!(state.overlay(), Some(&Overlay::ConfirmQuit));
    assert_eq!(state.unsent_summary().unwrap(), "1 failed reply");
}

#[test]
fn retrying_a_reply_whose_echo_arrived_does_not_send_it_again() {
    let mut state = open_with_messages(&["a"], "a");
    let client_id = send_reply(&mut state, "maybe lost");
    update(
        &mut state,
        Event::SendFailed {
            client_id: client_id.clone(),
            error: ApiError::Rejected {
                code: None,
                message: "no".into(),
            },
        },
        now(),
    );
    // The echo shows up, yet the outbox item is still marked failed
    // (e.g. the page arrived before the failure was recorded).
    let mut echo = message("a", "srv", 500, SenderKind::Agent, "maybe lost");
    echo.client_id = Some(client_id.clone());
    state
        .store
        .merge_messages(&"a".into(), vec![echo], None, None);
    key(&mut state, KeyCode::Esc);
    let commands = key_mod(&mut state, KeyCode::Char('R'), KeyModifiers::SHIFT);
    assert!(sent_text(&commands).is_none());
    assert!(state.outbox.get(&client_id).is_none());
}

#[test]
fn composing_while_scrolled_up_keeps_unseen_messages_unseen() {
    let mut state = open_with_messages(&["a"], "a");
    key(&mut state, KeyCode::Char('r'));
    type_text(&mut state, "Sure");
    key(&mut state, KeyCode::Esc);
    state.thread_scroll = 3;
    load(
        &mut state,
        "a",
        vec![message("a", "m3", 300, SenderKind::Contact, "Cancel it")],
        false,
    );
    key(&mut state, KeyCode::Char('r'));
    let first = key(&mut state, KeyCode::Enter);
    assert!(
        sent_text(&first).is_none(),
        "the unseen message holds the send"
    );
    assert_eq!(state.thread_scroll, 0, "and is brought into view");
}

#[test]
fn drafts_survive_leaving_the_composer_and_switching_conversations() {
    let mut state = open_with_messages(&["a", "b"], "a");
    key(&mut state, KeyCode::Char('r'));
    type_text(&mut state, "half a reply");
    key(&mut state, KeyCode::Esc);
    assert_eq!(state.composer.text(), "half a reply");
    key(&mut state, KeyCode::Esc);
    key(&mut state, KeyCode::Char('j'));
    key(&mut state, KeyCode::Enter);
    assert_eq!(state.open.as_ref().unwrap().as_str(), "b");
    assert!(state.composer.is_blank());
    key(&mut state, KeyCode::Esc);
    key(&mut state, KeyCode::Char('k'));
    key(&mut state, KeyCode::Enter);
    assert_eq!(state.composer.text(), "half a reply");
}

#[test]
fn scrolling_to_the_top_loads_older_messages_once() {
    let mut state = state_with(&["a"]);
    key(&mut state, KeyCode::Enter);
    let many = long_thread(60);
    let commands = load(&mut state, "a", many, true);
    assert!(
        commands.is_empty(),
        "the page fills the screen: no automatic load"
    );
    let commands = key(&mut state, KeyCode::Char('g'));
    assert_eq!(
        commands,
        vec![Command::LoadMessages {
            conversation_id: "a".into(),
            before: Some((t(100), "m000".into())),
            held_at_anchor: 1,
            cache_first: true,
        }]
    );
    assert!(
        key(&mut state, KeyCode::PageUp).is_empty(),
        "no second request while one is loading"
    );
}

#[test]
fn older_messages_do_not_move_the_view() {
    let mut state = state_with(&["a"]);
    key(&mut state, KeyCode::Enter);
    let many = long_thread(60);
    load(&mut state, "a", many, true);
    key(&mut state, KeyCode::Char('k'));
    key(&mut state, KeyCode::Char('k'));
    let before = state.thread_scroll;
    let older: Vec<_> = (0..10)
        .map(|i| message("a", &format!("o{i:03}"), 10 + i, SenderKind::Contact, "old"))
        .collect();
    update(
        &mut state,
        Event::MessagesLoaded {
            conversation_id: "a".into(),
            page: Page {
                items: older,
                next: None,
                total: None,
                skipped: 0,
            },
            older: true,
        },
        now(),
    );
    assert_eq!(
        state.thread_scroll, before,
        "scroll is measured from the bottom"
    );
    // New messages below keep the agent's place when scrolled up.
    load(
        &mut state,
        "a",
        vec![message("a", "new", 999, SenderKind::Contact, "new one")],
        false,
    );
    assert!(state.thread_scroll > before);
}

#[test]
fn resize_relayouts_and_keeps_the_selection_visible() {
    let ids: Vec<String> = (0..40).map(|i| format!("c{i:02}")).collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let mut state = state_with(&refs);
    key_mod(&mut state, KeyCode::Char('G'), KeyModifiers::SHIFT);
    state.dirty = false;
    update(
        &mut state,
        Event::Resize {
            width: 200,
            height: 50,
        },
        now(),
    );
    assert!(state.dirty);
    assert_eq!((state.width, state.height), (200, 50));
    let capacity = crate::app::view::list_capacity(&state);
    assert!(state.selected_index().unwrap() < state.list_offset + capacity);
}

#[test]
fn ticks_redraw_only_when_a_time_label_changes() {
    let mut state = state_with(&["a"]);
    state.time_labels = crate::app::view::labels::time_labels(&state);
    state.dirty = false;
    update(&mut state, Event::Tick, now());
    assert!(!state.dirty, "same second: nothing to redraw");
    update(
        &mut state,
        Event::Tick,
        now() + chrono::Duration::seconds(5),
    );
    assert!(
        !state.dirty,
        "\"synced just now\" and minute-level ages have not changed"
    );
    update(
        &mut state,
        Event::Tick,
        now() + chrono::Duration::seconds(15),
    );
    assert!(state.dirty);
}

#[test]
fn sync_failures_show_offline_or_rate_limited() {
    let mut state = state_with(&["a"]);
    update(
        &mut state,
        Event::Sync(SyncEvent::Failed {
            error: ApiError::Network("down".into()),
            retry_in: Duration::from_secs(8),
        }),
        now(),
    );
    assert!(matches!(state.sync, SyncStatus::Offline { .. }));
    assert_eq!(
        crate::app::view::labels::sync_text(&state),
        "offline since 09:10 — retrying in 8 s"
    );
    update(
        &mut state,
        Event::Sync(SyncEvent::Failed {
            error: ApiError::RateLimited {
                retry_after: Duration::from_secs(30),
            },
            retry_in: Duration::from_secs(30),
        }),
        now(),
    );
    assert_eq!(
        crate::app::view::labels::sync_text(&state),
        "rate-limited — resuming in 30 s"
    );
    assert!(
        state.notice.is_none(),
        "transient sync errors stay in the status bar"
    );
    update(
        &mut state,
        Event::Sync(SyncEvent::Failed {
            error: ApiError::InvalidCredentials("bad".into()),
            retry_in: Duration::from_secs(8),
        }),
        now(),
    );
    assert_eq!(state.notice.as_ref().unwrap().level, NoticeLevel::Error);
}

#[test]
fn pasted_text_is_sanitized_into_the_composer() {
    let mut state = open_with_messages(&["a"], "a");
    update(
        &mut state,
        Event::Paste("line one\r\nline\u{1b}[31m two".into()),
        now(),
    );
    assert_eq!(state.focus, Focus::Composer);
    assert_eq!(state.composer.text(), "line one\nline two");
}

#[test]
fn help_opens_and_closes() {
    let mut state = state_with(&["a"]);
    key(&mut state, KeyCode::Char('?'));
    assert_eq!(state.overlay(), Some(&Overlay::Help { scroll: 0 }));
    assert!(key(&mut state, KeyCode::Char('j')).is_empty());
    assert_eq!(
        selected(&state),
        "a",
        "keys do not leak through the overlay"
    );
    key(&mut state, KeyCode::Esc);
    assert_eq!(state.overlay(), None);
}

#[test]
fn help_scrolls_within_its_length_at_80x24() {
    let mut state = state_with(&["a"]);
    key(&mut state, KeyCode::Char('?'));
    let area = ratatui::layout::Rect::new(0, 0, 80, 24);
    let max = crate::app::view::help::layout(&state.keymap, area).max_scroll();
    assert!(max > 1, "the help is taller than 80x24");
    let scroll = |state: &AppState| match state.overlay() {
        Some(Overlay::Help { scroll }) => *scroll,
        other => panic!("help closed: {other:?}"),
    };
    key(&mut state, KeyCode::Char('j'));
    key(&mut state, KeyCode::Down);
    assert_eq!(scroll(&state), 2);
    key(&mut state, KeyCode::Char('k'));
    assert_eq!(scroll(&state), 1);
    key(&mut state, KeyCode::End);
    assert_eq!(scroll(&state), max);
    key(&mut state, KeyCode::Char('j'));
    key(&mut state, KeyCode::PageDown);
    assert_eq!(scroll(&state), max, "never past the end");
    key(&mut state, KeyCode::PageUp);
    assert!(scroll(&state) < max);
    key(&mut state, KeyCode::Char('g'));
    assert_eq!(scroll(&state), 0);
    key(&mut state, KeyCode::Char('?'));
    assert_eq!(state.overlay(), None);
}

#[test]
fn editor_result_replaces_the_draft() {
    let mut state = open_with_messages(&["a"], "a");
    key(&mut state, KeyCode::Char('r'));
    type_text(&mut state, "draft");
    let commands = key_mod(&mut state, KeyCode::Char('e'), KeyModifiers::CONTROL);
    assert_eq!(
        commands,
        vec![Command::OpenEditor {
            initial: "draft".into()
        }]
    );
    update(
        &mut state,
        Event::EditorClosed(Ok("edited\nreply\n".into())),
        now(),
    );
    assert_eq!(state.composer.text(), "edited\nreply");
    update(
        &mut state,
        Event::EditorClosed(Err("vi exited with 1".into())),
        now(),
    );
    assert_eq!(state.composer.text(), "edited\nreply");
    assert_eq!(state.notice.as_ref().unwrap().level, NoticeLevel::Error);
}

#[test]
fn a_second_reply_right_after_the_first_is_not_held_back_and_goes_out_in_order() {
    let mut state = open_with_messages(&["a"], "a");
    key(&mut state, KeyCode::Char('r'));
    type_text(&mut state, "one");
    let (first, _) = sent_text(&key(&mut state, KeyCode::Enter)).unwrap();
    type_text(&mut state, "two");
    assert!(
        sent_text(&key(&mut state, KeyCode::Enter)).is_none(),
        "queued behind the first, not sent beside it"
    );
    assert_eq!(state.outbox.items().len(), 2);
    let mut echo = message("a", "srv-1", 300, SenderKind::Agent, "one");
    echo.client_id = Some(first.clone());
    let commands = update(
        &mut state,
        Event::SendConfirmed {
            client_id: first,
            message: Box::new(echo),
            found_echo: false,
        },
        now(),
    );
    assert_eq!(sent_text(&commands).unwrap().1, "two");
}

#[test]
fn drafts_are_saved_a_moment_after_typing_stops() {
    use crate::store::db::DbWrite;
    let mut state = open_with_messages(&["a"], "a");
    state.store.take_journal();
    key(&mut state, KeyCode::Char('r'));
    type_text(&mut state, "half a reply");
    let drafts = |state: &mut AppState| {
        state
            .store
            .take_journal()
            .into_iter()
            .filter(|w| matches!(w, DbWrite::SetDraft { .. }))
            .count()
    };
    update(&mut state, Event::Tick, now());
    assert_eq!(drafts(&mut state), 0, "not while the agent is still typing");
    update(
        &mut state,
        Event::Tick,
        now() + chrono::Duration::seconds(2),
    );
    assert_eq!(drafts(&mut state), 1);
    assert_eq!(state.drafts.get(&"a".into()).unwrap(), "half a reply");
    assert!(state.draft_changed_at.is_none());
    // Quitting saves whatever changed since.
    type_text(&mut state, "!");
    super::persist_before_exit(&mut state);
    assert_eq!(drafts(&mut state), 1);
    assert_eq!(state.drafts.get(&"a".into()).unwrap(), "half a reply!");
}

#[test]
fn ctrl_f_searches_and_enter_opens_the_thread_at_the_message() {
    use crate::store::db::SearchHit;
    let mut state = state_with(&["a", "b"]);
    key_mod(&mut state, KeyCode::Char('f'), KeyModifiers::CONTROL);
    assert!(matches!(state.overlay(), Some(Overlay::Search(_))));
    key(&mut state, KeyCode::Char('o'));
    let commands = key(&mut state, KeyCode::Char('r'));
    assert_eq!(commands, vec![Command::Search { query: "or".into() }]);
    // An answer to an older query is dropped.
    update(
        &mut state,
        Event::SearchResults {
            query: "o".into(),
            result: Ok(Vec::new()),
        },
        now(),
    );
    let Some(Overlay::Search(search)) = state.overlay() else {
        panic!("the search box stays open");
    };
    assert_eq!(search.results_for, "");
    let hit = SearchHit::Message {
        conversation_id: "b".into(),
        message_id: "m1".into(),
        created_at: t(100),
        sender_name: Some("Deniz".into()),
        context: "Where is my order?".into(),
    };
    update(
        &mut state,
        Event::SearchResults {
            query: "or".into(),
            result: Ok(vec![hit]),
        },
        now(),
    );
    let commands = key(&mut state, KeyCode::Enter);
    assert_eq!(state.overlay(), None);
    assert_eq!(state.open.as_ref().unwrap().as_str(), "b");
    assert_eq!(state.focus, Focus::Thread);
    assert!(commands.contains(&Command::LoadCachedThread {
        conversation_id: "b".into()
    }));
    assert_eq!(state.focus_message.as_ref().unwrap().as_str(), "m1");
    // A long thread: the message is far above the bottom; when it arrives
    // the view scrolls to it.
    let mut messages = long_thread(80);
    for m in &mut messages {
        m.conversation_id = "b".into();
    }
    messages[0].id = "m1".into();
    load(&mut state, "b", messages, false);
    assert!(state.focus_message.is_none());
    assert!(state.thread_scroll > 0, "scrolled up to the old message");
}

#[test]
fn esc_closes_the_search_box_and_keys_no_longer_reach_the_list() {
    let mut state = state_with(&["a", "b"]);
    key_mod(&mut state, KeyCode::Char('f'), KeyModifiers::CONTROL);
    key(&mut state, KeyCode::Char('j'));
    assert_eq!(selected(&state), "a", "typed into the box, not a move");
    key(&mut state, KeyCode::Esc);
    assert_eq!(state.overlay(), None);
    key(&mut state, KeyCode::Char('j'));
    assert_eq!(selected(&state), "b");
}

#[test]
fn replies_restored_after_a_crash_look_for_their_echo_before_sending() {
    let mut state = open_with_messages(&["a"], "a");
    let client_id = send_reply(&mut state, "hi");
    let saved: Vec<_> = state.outbox.items().to_vec();
    let mut restarted = open_with_messages(&["a"], "a");
    restarted.outbox = crate::store::outbox::Outbox::restore(saved);
    let commands = super::next_sends(&mut restarted);
    assert!(matches!(
        &commands[..],
        [Command::Send { outgoing, check_echo: true, .. }] if outgoing.client_id() == client_id
    ));
}

#[test]
fn editing_a_refused_reply_lets_the_replies_queued_behind_it_go() {
    let mut state = open_with_messages(&["a"], "a");
    let first = send_reply(&mut state, "one");
    type_text(&mut state, "two");
    assert!(sent_text(&key(&mut state, KeyCode::Enter)).is_none());
    update(
        &mut state,
        Event::SendFailed {
            client_id: first.clone(),
            error: ApiError::Rejected {
                code: None,
                message: "outside the 24-hour window".into(),
            },
        },
        now(),
    );
    assert!(matches!(
        state.outbox.get(&first).unwrap().state,
        OutboxState::Failed { .. }
    ));
    assert_eq!(
        state.outbox.ready_heads(),
        Vec::<String>::new(),
        "held behind the failure"
    );
    key(&mut state, KeyCode::Esc);
    let commands = key(&mut state, KeyCode::Char('e'));
    assert_eq!(state.composer.text(), "one");
    assert_eq!(sent_text(&commands).unwrap().1, "two");
}

#[test]
fn overlays_stack_and_closing_the_top_one_uncovers_the_one_below() {
    let mut state = open_with_messages(&["a"], "a");
    send_reply(&mut state, "still sending");
    key(&mut state, KeyCode::Esc);
    key_mod(&mut state, KeyCode::Char('f'), KeyModifiers::CONTROL);
    type_text(&mut state, "kargo");
    // Quitting with a reply on its way asks first, over the search box.
    key_mod(&mut state, KeyCode::Char('c'), KeyModifiers::CONTROL);
    assert_eq!(state.overlay(), Some(&Overlay::ConfirmQuit));
    assert_eq!(state.overlays.len(), 2);
    key(&mut state, KeyCode::Char('n'));
    let Some(Overlay::Search(search)) = state.overlay() else {
        panic!("the search box is back");
    };
    assert_eq!(search.query, "kargo");
    key(&mut state, KeyCode::Esc);
    assert!(state.overlays.is_empty());
}
