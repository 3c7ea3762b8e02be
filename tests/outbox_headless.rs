//! What the agent writes is never lost and never doubled: replies whose
//! answers go missing, replies typed while offline, drafts across a
//! restart. The whole app runs headless against the sandbox; every wait is
//! for a condition, with a deadline.

mod common;

use crossterm::event::KeyCode;

use common::headless::{
    CacheProbe, RunningApp, roomy, roomy_client, sandbox, wait_until, wait_until_blocking,
};
use termdesk::domain::ConversationId;
use termdesk::sandbox::SandboxOptions;

/// Whom the composer writes to, as its title says.
fn reply_target(screen: &str) -> Option<String> {
    let start = screen.find("Reply to ")? + "Reply to ".len();
    let end = screen[start..].find(" via ")?;
    Some(screen[start..start + end].to_string())
}

/// From the list: selects the row at `row` and opens it, waiting until its
/// thread shows `marker` (a message only that thread holds).
async fn open_row(app: &RunningApp, row: usize, marker: &str) {
    app.press(KeyCode::Home);
    for _ in 0..row {
        app.press(KeyCode::Down);
    }
    app.press(KeyCode::Enter);
    app.wait_for_screen("the thread of the next conversation", |s| {
        s.contains(marker)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_reply_is_stored_exactly_once_in_typing_order_when_answers_are_lost() {
    // The server stores every copy it is sent, and loses the answer to
    // about four writes in ten (seeded: the same ones on every run).
    let sandbox = sandbox(roomy(SandboxOptions {
        dedup_front_msg_id: false,
        lose_answer_rate: 0.4,
        ..SandboxOptions::default()
    }))
    .await;
    let control = sandbox.control();
    // The three conversations written to get a customer message each to
    // recognise their thread by; that makes them the top three rows.
    let mut markers = std::collections::HashMap::new();
    for (n, id) in control.conversation_ids().iter().take(3).enumerate() {
        let marker = format!("Parcel question number {n}");
        control.inject_incoming_message(id, &marker);
        control.inject_incoming_message(id, "Thanks");
        markers.insert(id.clone(), marker);
    }
    let ids = control.conversation_ids();
    assert!(ids[..3].iter().all(|id| markers.contains_key(id)));
    let app = RunningApp::start(roomy_client(&sandbox));
    app.wait_for_screen("the list with its names", |s| {
        s.contains("All 320") && !s.contains(" contact …")
    })
    .await;

    // Rows 0, 1 and 2 in that order: a reply moves its conversation to the
    // top, which leaves the rows below the ones written to where they were.
    let plan = [(0, 4), (1, 3), (2, 3)];
    let mut typed: Vec<(String, Vec<String>)> = Vec::new();
    for (row, count) in plan {
        open_row(&app, row, &markers[&ids[row]]).await;
        app.press(KeyCode::Char('r'));
        let texts: Vec<String> = (1..=count)
            .map(|n| format!("Reply {n} of {count} to row {row}"))
            .collect();
        // Typed one after the other without waiting: they queue.
        for text in &texts {
            app.type_text(text);
            app.press(KeyCode::Enter);
        }
        typed.push((ids[row].clone(), texts));
        app.press(KeyCode::Esc);
        app.press(KeyCode::Esc);
    }

    let all: Vec<(String, String)> = typed
        .iter()
        .flat_map(|(id, texts)| texts.iter().map(move |t| (id.clone(), t.clone())))
        .collect();
    wait_until("every reply on the server", || {
        all.iter()
            .all(|(id, text)| control.messages_containing(id, text) >= 1)
    })
    .await;
    let probe = CacheProbe::new(&app.cache);
    wait_until_blocking("an empty outbox", move || probe.outbox().is_empty()).await;
    let state = app.quit().await;

    assert!(state.outbox.items().is_empty(), "{:?}", state.outbox);
    let stats = control.stats();
    assert!(
        stats.lost_answers > 0,
        "answers were lost on the way: {stats:?}"
    );
    for (id, texts) in &typed {
        for text in texts {
            assert_eq!(
                control.messages_containing(id, text),
                1,
                "{text:?} is stored exactly once"
            );
        }
        let on_server: Vec<String> = control
            .message_contents(id)
            .into_iter()
            .filter(|c| texts.contains(c))
            .collect();
        assert_eq!(&on_server, texts, "replies arrive in the order typed");
        let thread = state
            .store
            .thread(&ConversationId::new(id.clone()))
            .unwrap();
        for text in texts {
            assert_eq!(
                thread.messages.iter().filter(|m| &m.text == text).count(),
                1,
                "{text:?} shows once"
            );
        }
    }
    eprintln!("{} answers lost on the way", stats.lost_answers);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offline_start_shows_the_cache_and_delivers_a_queued_reply_once() {
    let sandbox = sandbox(roomy(SandboxOptions {
        dedup_front_msg_id: false,
        ..SandboxOptions::default()
    }))
    .await;
    let control = sandbox.control();
    let top = control.conversation_ids()[0].clone();
    // A message to recognise the thread by (the list shows only the last).
    let marker = "Marker: box 7 of 9 arrived";
    control.inject_incoming_message(&top, marker);
    control.inject_incoming_message(&top, "Any news?");

    // A first run leaves the inbox and the open thread in the cache.
    let app = RunningApp::start(roomy_client(&sandbox));
    let probe = CacheProbe::new(&app.cache);
    wait_until_blocking("the whole account in the cache", move || {
        probe.fully_synced()
    })
    .await;
    app.open_selected().await;
    app.wait_for_screen("the thread", |s| s.contains(marker))
        .await;
    let cache = app.cache.clone();
    app.quit().await;

    // Offline: the cached inbox and thread show, and a reply is queued.
    control.go_offline();
    let app = RunningApp::start_with_cache(roomy_client(&sandbox), cache.clone());
    app.wait_for_screen("the cached list while offline", |s| {
        s.contains("All 320") && s.contains("offline since")
    })
    .await;
    app.press(KeyCode::Enter);
    app.wait_for_screen("the cached thread", |s| s.contains(marker))
        .await;
    let reply = "Typed while offline, sent once";
    app.press(KeyCode::Char('r'));
    app.type_text(reply);
    app.press(KeyCode::Enter);
    app.wait_for_screen("the reply waiting to go", |s| {
        s.contains(reply) && (s.contains("retrying in") || s.contains("sending…"))
    })
    .await;
    let probe = CacheProbe::new(&cache);
    let saved = probe.clone();
    wait_until_blocking("the reply saved in the outbox", move || {
        saved.outbox().iter().any(|item| item.text == reply)
    })
    .await;
    assert_eq!(control.messages_containing(&top, reply), 0);

    control.go_online();
    wait_until("the reply on the server", || {
        control.messages_containing(&top, reply) == 1
    })
    .await;
    wait_until_blocking("an empty outbox", move || probe.outbox().is_empty()).await;
    let state = app.quit().await;
    assert_eq!(
        control.messages_containing(&top, reply),
        1,
        "delivered exactly once"
    );
    assert!(state.outbox.items().is_empty());
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draft_survives_a_restart() {
    let sandbox = sandbox(roomy(SandboxOptions::default())).await;
    let control = sandbox.control();
    let top = ConversationId::new(control.conversation_ids()[0].clone());
    let app = RunningApp::start(roomy_client(&sandbox));
    app.wait_for_screen("the list", |s| s.contains("All 320"))
        .await;
    app.open_selected().await;
    let draft = "Half-written answer about the refund 📝";
    app.press(KeyCode::Char('r'));
    app.type_text(draft);
    app.wait_for_screen("the draft in the composer", |s| s.contains(draft))
        .await;
    // Closed at once (SIGTERM, a closed terminal), before the periodic save.
    let cache = app.cache.clone();
    let state = app.stop().await;
    assert_eq!(state.drafts.get(&top).map(String::as_str), Some(draft));
    let probe = CacheProbe::new(&cache);
    assert_eq!(
        probe.drafts(),
        vec![(top.as_str().to_string(), draft.to_string())]
    );

    // Started again: opening the conversation brings the draft back.
    let app = RunningApp::start_with_cache(roomy_client(&sandbox), cache.clone());
    app.wait_for_screen("the cached list", |s| s.contains("All 320"))
        .await;
    app.press(KeyCode::Enter);
    app.wait_for_screen("the draft in the composer again", |s| {
        s.contains(draft) && reply_target(s).is_some()
    })
    .await;
    // Written on, then left with `q`: the longer draft is kept.
    app.press(KeyCode::Char('r'));
    app.type_text(" — and the label");
    let state = app.quit().await;
    let longer = format!("{draft} — and the label");
    assert_eq!(state.open.as_ref(), Some(&top));
    assert_eq!(state.drafts.get(&top), Some(&longer));
    assert_eq!(probe.drafts(), vec![(top.as_str().to_string(), longer)]);
    assert_eq!(
        control.messages_containing(top.as_str(), draft),
        0,
        "a draft is never sent"
    );
    sandbox.shutdown().await;
}
