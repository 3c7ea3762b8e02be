//! The agent's writes under faults, through the whole app: the outbox
//! retries a reply the server failed, and it lands exactly once. (A lost
//! answer after a stored write, found again by its echo, is
//! `outbox_headless::every_reply_is_stored_exactly_once_in_typing_order_when_answers_are_lost`.)

use crossterm::event::KeyCode;
use termdesk::sandbox::SandboxOptions;

use super::common::headless::{
    CacheProbe, RunningApp, roomy, roomy_client, sandbox, wait_until, wait_until_blocking,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_5xx_before_a_write_is_retried_by_the_outbox_and_delivered_once() {
    let sandbox = sandbox(roomy(SandboxOptions {
        dedup_front_msg_id: false,
        ..SandboxOptions::default()
    }))
    .await;
    let control = sandbox.control();
    let top = control.conversation_ids()[0].clone();
    let marker = "Marker: the crate with the blue lid";
    control.inject_incoming_message(&top, marker);
    control.inject_incoming_message(&top, "Where is it?");
    let app = RunningApp::start(roomy_client(&sandbox));
    app.wait_for_screen("the list", |s| s.contains("All 320"))
        .await;
    app.open_selected().await;
    app.wait_for_screen("the thread", |s| s.contains(marker))
        .await;

    // Every request fails before the server does anything.
    control.set_error_rate(1.0);
    let reply = "Sent through a failing server, stored once";
    app.press(KeyCode::Char('r'));
    app.type_text(reply);
    app.press(KeyCode::Enter);
    app.wait_for_screen("the reply refused and waiting to go again", |s| {
        s.contains(reply) && s.contains("retrying in")
    })
    .await;
    assert_eq!(control.messages_containing(&top, reply), 0);

    control.set_error_rate(0.0);
    wait_until("the reply on the server", || {
        control.messages_containing(&top, reply) == 1
    })
    .await;
    let probe = CacheProbe::new(&app.cache);
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
