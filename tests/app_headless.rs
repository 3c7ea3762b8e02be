//! The whole app — runtime, sync worker, executor, Qpien client — against
//! the sandbox over HTTP, with a scripted keyboard and an in-memory screen.

mod common;

use std::sync::Arc;
use std::time::Duration;

use crossterm::event::KeyCode;
use secrecy::SecretString;

use common::headless::{RunningApp, wait_until};
use termdesk::api::qpien::{QpienClient, QpienConfig};
use termdesk::domain::ConversationId;
use termdesk::sandbox::{Faults, Sandbox, SandboxOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_replies_and_sees_new_messages_end_to_end() {
    let sandbox = Sandbox::start(([127, 0, 0, 1], 0).into(), SandboxOptions::default())
        .await
        .unwrap();
    let control = sandbox.control();
    let top = control.conversation_ids()[0].clone();
    let provider = Arc::new(
        QpienClient::new(QpienConfig::new(
            sandbox.base_url(),
            "demo",
            SecretString::from("demo"),
        ))
        .unwrap(),
    );
    let app = RunningApp::start(provider);

    wait_until("the first page of conversations", || {
        app.screen().contains("All 320")
    })
    .await;
    assert!(app.screen().contains("DEMO"));
    app.press(KeyCode::Enter);
    wait_until("the thread to load", || {
        let s = app.screen();
        s.contains("start of conversation") || s.contains("older messages")
    })
    .await;

    let reply = "Headless reply ✅ 42";
    app.press(KeyCode::Char('r'));
    app.type_text(reply);
    app.press(KeyCode::Enter);
    wait_until("the sandbox to hold the reply", || {
        control.messages_containing(&top, reply) == 1
    })
    .await;
    wait_until("the confirmed reply on screen", || {
        let s = app.screen();
        s.contains(reply) && !s.contains("sending…")
    })
    .await;

    control.inject_incoming_message(&top, "Customer follow-up 🚚");
    wait_until("the new customer message in the open thread", || {
        app.screen().contains("Customer follow-up")
    })
    .await;

    let state = app.quit().await;
    assert_eq!(
        control.messages_containing(&top, reply),
        1,
        "sent exactly once"
    );
    assert_eq!(state.outbox.in_flight(), 0);
    let thread = state
        .store
        .thread(&ConversationId::new(top.clone()))
        .unwrap();
    assert_eq!(
        thread.messages.iter().filter(|m| m.text == reply).count(),
        1
    );
    assert!(
        thread
            .messages
            .iter()
            .any(|m| m.text.contains("Customer follow-up"))
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn survives_an_outage_and_a_lost_response_without_duplicates() {
    let sandbox = Sandbox::start(([127, 0, 0, 1], 0).into(), SandboxOptions::default())
        .await
        .unwrap();
    let control = sandbox.control();
    let top = control.conversation_ids()[0].clone();
    let mut config = QpienConfig::new(sandbox.base_url(), "demo", SecretString::from("demo"));
    config.request_timeout = Duration::from_millis(700);
    let app = RunningApp::start(Arc::new(QpienClient::new(config).unwrap()));
    wait_until("the conversation list", || app.screen().contains("All 320")).await;

    // The server goes away: the status bar says so, then recovers by itself.
    // (Unreachable until told otherwise: a count of failing requests could
    // be spent by background work the status bar does not report.)
    control.go_offline();
    wait_until("the offline status", || {
        app.screen().contains("offline since")
    })
    .await;
    control.go_online();
    wait_until("the recovery", || app.screen().contains("synced")).await;

    app.press(KeyCode::Enter);
    wait_until("the thread", || {
        let s = app.screen();
        s.contains("Reply to")
            && (s.contains("start of conversation") || s.contains("older messages"))
    })
    .await;

    // Answers now come too late: the reply times out, is kept, and retried.
    control.set_faults(Faults {
        delay: Some(Duration::from_millis(1500)),
        ..Faults::default()
    });
    let reply = "Sent once, whatever happens";
    app.press(KeyCode::Char('r'));
    app.type_text(reply);
    app.press(KeyCode::Enter);
    wait_until("the retry notice", || app.screen().contains("retrying in")).await;
    control.set_faults(Faults::default());
    wait_until("the confirmed reply", || {
        let s = app.screen();
        s.contains(reply) && !s.contains("sending…") && !s.contains("not sent")
    })
    .await;
    // A few more polls of the open thread: the echo must not add a second copy.
    let thread_polls = || {
        control
            .stats()
            .operations
            .get("getMessages")
            .copied()
            .unwrap_or(0)
    };
    let polled = thread_polls();
    wait_until("three more polls of the thread", || {
        thread_polls() >= polled + 3
    })
    .await;

    let state = app.quit().await;
    assert_eq!(
        control.messages_containing(&top, reply),
        1,
        "the server holds exactly one copy"
    );
    let thread = state
        .store
        .thread(&ConversationId::new(top.clone()))
        .unwrap();
    assert_eq!(
        thread.messages.iter().filter(|m| m.text == reply).count(),
        1,
        "and so does the screen"
    );
    sandbox.shutdown().await;
}
