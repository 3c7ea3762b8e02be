//! Actions on conversations through the whole app against the sandbox:
//! they reach the server after the grace period, survive an outage and a
//! restart, and a refusal is undone on screen. Every wait is for a
//! condition, with a deadline.

mod common;

use std::time::Duration;

use crossterm::event::KeyCode;

use common::headless::{
    CacheProbe, RunningApp, fresh_cache, roomy, roomy_client, sandbox, wait_until,
};
use termdesk::launch::DEMO_AGENT;
use termdesk::sandbox::{SandboxControl, SandboxOptions};
use termdesk::sync::SyncSettings;

/// The newest unassigned conversation whose customer's name no other
/// conversation shares, and that name.
fn unassigned_target(control: &SandboxControl) -> (String, String) {
    let states: Vec<_> = control
        .conversation_ids()
        .into_iter()
        .map(|id| {
            let state = control.conversation_state(&id).unwrap();
            (id, state)
        })
        .collect();
    states
        .iter()
        .find(|(_, s)| {
            s.assignee.is_none()
                && s.status == "OPEN"
                && !s.contact_name.is_empty()
                && s.contact_name
                    .chars()
                    .all(|c| c.is_alphabetic() || c == ' ')
                && states
                    .iter()
                    .filter(|(_, o)| o.contact_name == s.contact_name)
                    .count()
                    == 1
        })
        .map(|(id, s)| (id.clone(), s.contact_name.clone()))
        .expect("an unassigned conversation")
}

fn start(sandbox: &termdesk::sandbox::Sandbox, cache: std::path::PathBuf) -> RunningApp {
    RunningApp::start_configured(
        roomy_client(sandbox),
        cache,
        SyncSettings::new(Duration::from_millis(300)),
        |state| {
            state.triage.undo_grace_secs = 1;
            state.me_hint = Some(DEMO_AGENT.to_string());
        },
    )
}

/// Filters the list down to `name` so the selection is on its row.
async fn select_by_name(app: &RunningApp, name: &str) {
    app.wait_for_screen("the customer's row", |s| s.contains(name))
        .await;
    app.press(KeyCode::Char('/'));
    app.type_text(name);
    app.press(KeyCode::Enter);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assign_to_me_and_resolve_reach_the_server_after_the_grace_period() {
    let sandbox = sandbox(roomy(SandboxOptions::default())).await;
    let control = sandbox.control();
    let me = control.agent_id(DEMO_AGENT).unwrap();
    let (target, name) = unassigned_target(&control);
    let mine = control
        .conversation_ids()
        .iter()
        .filter(|id| {
            control.conversation_state(id).unwrap().assignee.as_deref() == Some(me.as_str())
        })
        .count();
    let app = start(&sandbox, fresh_cache());
    // "Assign to me" needs the agents, which arrive after the first rows:
    // then "Mine" counts the agent's conversations.
    app.wait_for_screen("the agent known", |s| s.contains(&format!("Mine {mine}")))
        .await;
    app.press(KeyCode::Char('2'));
    select_by_name(&app, &name).await;
    app.press(KeyCode::Char('A'));
    app.press(KeyCode::Char('x'));
    wait_until("the server to hold both changes", || {
        control
            .conversation_state(&target)
            .is_some_and(|s| s.assignee.as_deref() == Some(me.as_str()) && s.status == "RESOLVED")
    })
    .await;
    let probe = CacheProbe::new(&app.cache);
    wait_until("the log to empty", || probe.pending_actions().is_empty()).await;
    app.quit().await;
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_action_taken_offline_survives_a_restart_and_arrives_once_back_online() {
    let sandbox = sandbox(roomy(SandboxOptions::default())).await;
    let control = sandbox.control();
    let (target, name) = unassigned_target(&control);
    let cache = fresh_cache();
    let app = start(&sandbox, cache.clone());
    select_by_name(&app, &name).await;
    control.go_offline();
    app.press(KeyCode::Char('*'));
    let probe = CacheProbe::new(&cache);
    wait_until("the star to be in the log", || {
        probe.pending_actions().len() == 1
    })
    .await;
    app.wait_for_screen("the wait for the server", |s| {
        s.contains("waiting for the server")
    })
    .await;
    app.stop().await;
    assert!(!control.conversation_state(&target).unwrap().starred);
    assert_eq!(probe.pending_actions().len(), 1, "kept across the restart");
    control.go_online();
    let app = start(&sandbox, cache.clone());
    wait_until("the star on the server", || {
        control.conversation_state(&target).unwrap().starred
    })
    .await;
    wait_until("the log to empty", || probe.pending_actions().is_empty()).await;
    app.quit().await;
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_action_is_undone_on_screen_with_the_servers_reason() {
    let sandbox = sandbox(roomy(SandboxOptions::default())).await;
    let control = sandbox.control();
    let (target, name) = unassigned_target(&control);
    let before = control.conversation_state(&target).unwrap();
    let app = start(&sandbox, fresh_cache());
    select_by_name(&app, &name).await;
    app.press(KeyCode::Char('#'));
    app.type_text("no-such-tag");
    app.press(KeyCode::Enter);
    let screen = app
        .wait_for_screen("the refusal", |s| s.contains("Could not tag"))
        .await;
    assert!(screen.contains("not found"), "{screen}");
    let probe = CacheProbe::new(&app.cache);
    wait_until("the log to empty", || probe.pending_actions().is_empty()).await;
    assert_eq!(control.conversation_state(&target).unwrap(), before);
    app.quit().await;
    sandbox.shutdown().await;
}
