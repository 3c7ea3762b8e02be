//! Retry timers follow the outbox, and threads held in memory stay bounded
//! without losing the open one or those with replies on their way.

use crossterm::event::KeyCode;

use super::tests::{key, load, now, open_with_messages, send_reply, state_with};
use super::update;
use crate::api::ApiError;
use crate::app::command::Command;
use crate::app::event::Event;
use crate::domain::{ConversationId, SenderKind};
use crate::store::THREADS_KEPT;
use crate::store::fixtures::message;

fn fail_transiently(state: &mut crate::app::state::AppState, client_id: &str) -> Vec<Command> {
    update(
        state,
        Event::SendFailed {
            client_id: client_id.to_string(),
            error: ApiError::Network("connection reset".into()),
        },
        now(),
    )
}

#[test]
fn a_waiting_reply_whose_echo_arrives_stops_its_timer() {
    let mut state = open_with_messages(&["a"], "a");
    let client_id = send_reply(&mut state, "hello");
    let commands = fail_transiently(&mut state, &client_id);
    assert!(matches!(&commands[..], [Command::ScheduleRetry { .. }]));
    let mut echo = message("a", "m3", 300, SenderKind::Agent, "hello");
    echo.client_id = Some(client_id.clone());
    let commands = load(&mut state, "a", vec![echo], false);
    assert!(state.outbox.get(&client_id).is_none());
    assert!(
        commands.contains(&Command::CancelRetry {
            client_id: client_id.clone()
        }),
        "{commands:?}"
    );
    // Its timer firing anyway changes nothing.
    let commands = update(&mut state, Event::RetryDue { client_id }, now());
    assert!(commands.is_empty());
}

#[test]
fn a_reply_that_is_not_waiting_needs_no_cancel() {
    let mut state = open_with_messages(&["a"], "a");
    let client_id = send_reply(&mut state, "hello");
    let mut echo = message("a", "m3", 300, SenderKind::Agent, "hello");
    echo.client_id = Some(client_id);
    let commands = load(&mut state, "a", vec![echo], false);
    assert!(
        !commands
            .iter()
            .any(|c| matches!(c, Command::CancelRetry { .. })),
        "{commands:?}"
    );
}

fn conv(n: usize) -> String {
    format!("c{n:03}")
}

#[test]
fn threads_opened_over_a_day_stay_bounded_but_the_ones_in_use_stay() {
    let names: Vec<String> = (0..THREADS_KEPT * 3).map(conv).collect();
    let ids: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut state = state_with(&ids);
    // A reply waits in the first conversation.
    super::open_conversation(&mut state, ConversationId::new(conv(0)));
    load(
        &mut state,
        &conv(0),
        vec![message(&conv(0), "m0", 100, SenderKind::Contact, "hi")],
        false,
    );
    let waiting = send_reply(&mut state, "on it");
    fail_transiently(&mut state, &waiting);
    key(&mut state, KeyCode::Esc);
    for n in 1..names.len() {
        super::open_conversation(&mut state, ConversationId::new(conv(n)));
        load(
            &mut state,
            &conv(n),
            vec![message(
                &conv(n),
                &format!("m{n}"),
                100,
                SenderKind::Contact,
                "hi",
            )],
            false,
        );
        assert!(state.store.thread_count() <= THREADS_KEPT);
    }
    let open = ConversationId::new(conv(names.len() - 1));
    assert!(state.store.has_thread(&open));
    assert!(state.store.has_thread(&ConversationId::new(conv(0))));
    let dropped = ConversationId::new(conv(1));
    assert!(!state.store.has_thread(&dropped));
    // A late answer for a dropped thread does not bring it back.
    load(
        &mut state,
        &conv(1),
        vec![message(&conv(1), "late", 200, SenderKind::Contact, "late")],
        false,
    );
    assert!(!state.store.has_thread(&dropped));
    // Opened again, it is read from the cache.
    let commands = super::open_conversation(&mut state, dropped.clone());
    assert!(
        commands.contains(&Command::LoadCachedThread {
            conversation_id: dropped
        }),
        "{commands:?}"
    );
}
