//! Contact edits through the whole app against the sandbox: an edit saved
//! offline survives a restart and arrives once; an edit that meets a change
//! made on the server meanwhile shows both values instead of overwriting.
//! Every wait is for a condition, with a deadline.

mod common;

use std::time::Duration;

use crossterm::event::{KeyCode, KeyModifiers};

use common::headless::{RunningApp, fresh_cache, roomy, roomy_client, sandbox, wait_until};
use termdesk::sandbox::{Sandbox, SandboxControl, SandboxOptions};
use termdesk::store::contact_edits;
use termdesk::store::db::Db;
use termdesk::sync::SyncSettings;

/// A conversation whose customer's name is plain letters and no one
/// else's, with its contact's id and name.
fn target(control: &SandboxControl) -> (String, String) {
    let states: Vec<_> = control
        .conversation_ids()
        .into_iter()
        .filter_map(|id| control.conversation_state(&id))
        .collect();
    states
        .iter()
        .find(|s| {
            !s.contact_name.is_empty()
                && control.contact(&s.contact_id).is_some()
                && s.contact_name
                    .chars()
                    .all(|c| c.is_alphabetic() || c == ' ')
                && states
                    .iter()
                    .filter(|o| o.contact_name == s.contact_name)
                    .count()
                    == 1
        })
        .map(|s| (s.contact_id.clone(), s.contact_name.clone()))
        .expect("a conversation with a named contact")
}

fn start(sandbox: &Sandbox, cache: std::path::PathBuf) -> RunningApp {
    RunningApp::start_configured(
        roomy_client(sandbox),
        cache,
        SyncSettings::new(Duration::from_millis(300)),
        |_| {},
    )
}

/// Filters the list to `name`, then opens the editor on its contact.
async fn edit_contact_of(app: &RunningApp, name: &str) {
    app.wait_for_screen("the customer's row", |s| s.contains(name))
        .await;
    app.press(KeyCode::Char('3'));
    app.press(KeyCode::Char('/'));
    app.type_text(name);
    app.press(KeyCode::Enter);
    app.press(KeyCode::Char('E'));
    app.wait_for_screen("the editor", |s| s.contains("Edit contact"))
        .await;
}

fn pending_edits(cache: &std::path::Path) -> usize {
    Db::open_read_only(cache)
        .and_then(|db| db.load_mutations(contact_edits::KIND))
        .map(|log| log.len())
        .unwrap_or(usize::MAX)
}

/// Replaces the value of the field `tabs` Tabs below the first name.
fn retype(app: &RunningApp, tabs: usize, text: &str) {
    for _ in 0..tabs {
        app.press(KeyCode::Tab);
    }
    app.press_with(KeyCode::Char('u'), KeyModifiers::CONTROL);
    app.type_text(text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_saved_offline_survives_a_restart_and_arrives_once() {
    let sandbox = sandbox(roomy(SandboxOptions::default())).await;
    let control = sandbox.control();
    let (contact, name) = target(&control);
    let phone = "+971509876500";
    assert_eq!(control.contacts_with_phone(phone), 0);
    let cache = fresh_cache();
    let app = start(&sandbox, cache.clone());
    edit_contact_of(&app, &name).await;
    // First name, last name, username, then the phone.
    retype(&app, 3, "+971 50 987 6500");
    control.go_offline();
    app.press_with(KeyCode::Char('s'), KeyModifiers::CONTROL);
    wait_until("the edit to be in the log", || pending_edits(&cache) == 1).await;
    app.wait_for_screen("the edit kept for a retry", |s| s.contains("kept"))
        .await;
    // Killed while offline: the edit is all that is left of it.
    app.stop().await;
    assert_eq!(control.contacts_with_phone(phone), 0);

    control.go_online();
    let app = start(&sandbox, cache.clone());
    wait_until("the server to hold the new phone", || {
        control
            .contact(&contact)
            .is_some_and(|c| c.phone.as_deref() == Some(phone))
    })
    .await;
    wait_until("the log to empty", || pending_edits(&cache) == 0).await;
    assert_eq!(control.contacts_with_phone(phone), 1);
    app.stop().await;
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_made_on_the_server_meanwhile_is_shown_not_overwritten() {
    let sandbox = sandbox(roomy(SandboxOptions::default())).await;
    let control = sandbox.control();
    let (contact, name) = target(&control);
    let cache = fresh_cache();
    let app = start(&sandbox, cache.clone());
    edit_contact_of(&app, &name).await;
    // The e-mail is the fifth field.
    retype(&app, 4, "mine@example.com");
    app.wait_for_screen("the change typed", |s| s.contains("mine@example.com"))
        .await;
    assert!(control.set_contact_email(&contact, Some("theirs@example.com")));
    app.press_with(KeyCode::Char('s'), KeyModifiers::CONTROL);
    app.wait_for_screen("both values side by side", |s| {
        s.contains("mine@example.com") && s.contains("theirs@example.com")
    })
    .await;
    assert_eq!(
        control.contact(&contact).unwrap().email.as_deref(),
        Some("theirs@example.com"),
        "nothing overwritten before the agent chose"
    );
    // Keep theirs for the e-mail: nothing left to send.
    app.press(KeyCode::Right);
    app.press(KeyCode::Enter);
    wait_until("the log to empty", || pending_edits(&cache) == 0).await;
    assert_eq!(
        control.contact(&contact).unwrap().email.as_deref(),
        Some("theirs@example.com")
    );
    app.stop().await;
    sandbox.shutdown().await;
}
