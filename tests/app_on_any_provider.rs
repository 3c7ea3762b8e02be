//! The app's core flows on an in-memory provider, once per kind of
//! platform: what one offers works, what it lacks is refused in words
//! before any request, and the app never asks a provider for something its
//! capabilities leave out.

mod common;

use std::sync::Arc;
use std::time::Duration;

use crossterm::event::KeyCode;

use common::fake_provider::FakeProvider;
use common::headless::{RunningApp, fresh_cache, wait_until};
use termdesk::api::{Capabilities, Provider};
use termdesk::domain::ConversationStatus;
use termdesk::sync::SyncSettings;

const CONVERSATIONS: usize = 40;
/// The newest conversation, at the top of the list.
const TOP: &str = "c039";

/// Everything an inbox platform can offer (agents, channels and templates
/// come back empty from the fake).
fn full() -> Capabilities {
    Capabilities {
        batched_reads: false,
        bulk_contact_import: false,
        ..Capabilities::all()
    }
}

/// Conversations with status and assignment but no stars, priorities,
/// conversation tags, agent list or channel list.
fn status_and_assign_only() -> Capabilities {
    Capabilities {
        incremental_sync: true,
        send_text: true,
        update_status: true,
        assign: true,
        contacts: true,
        templates: true,
        ..Capabilities::default()
    }
}

/// Contacts, replies and templates; nothing to change on a conversation.
fn contact_centric() -> Capabilities {
    Capabilities {
        send_text: true,
        contacts: true,
        templates: true,
        ..Capabilities::default()
    }
}

async fn run_core_flows(name: &str, capabilities: Capabilities) {
    let provider = Arc::new(FakeProvider::new(name, capabilities, CONVERSATIONS));
    let shown_name = name.to_string();
    let statuses = provider.statuses().to_vec();
    let app = RunningApp::start_configured(
        provider.clone(),
        fresh_cache(),
        SyncSettings::new(Duration::from_millis(200)),
        move |state| {
            state.capabilities = capabilities;
            state.statuses = statuses;
            state.provider_name = shown_name;
            state.triage.undo_grace_secs = 0;
        },
    );
    app.wait_for_screen("the newest conversation", |s| s.contains("Customer039"))
        .await;
    app.open_selected().await;

    let reply = format!("Hello from the {name} inbox");
    app.press(KeyCode::Char('r'));
    app.type_text(&reply);
    app.press(KeyCode::Enter);
    wait_until("the reply to arrive once", || {
        provider.messages_with_text(TOP, &reply) == 1
    })
    .await;
    app.press(KeyCode::Esc);

    app.press(KeyCode::Char('*'));
    if capabilities.star {
        wait_until("the star to arrive", || provider.conversation(TOP).starred).await;
    } else {
        app.wait_for_screen("starring refused in words", |s| {
            s.contains(&format!("{name} does not offer starring"))
        })
        .await;
    }

    app.press(KeyCode::Char('x'));
    if capabilities.update_status {
        wait_until("the conversation to be resolved", || {
            provider.conversation(TOP).status == ConversationStatus::Resolved
        })
        .await;
    } else {
        app.wait_for_screen("resolving refused in words", |s| {
            s.contains(&format!("{name} does not offer"))
        })
        .await;
        assert_eq!(provider.conversation(TOP).status, ConversationStatus::Open);
    }
    let state = app.quit().await;
    assert!(state.outbox.items().is_empty(), "every reply went out");
    assert_eq!(
        provider.unsupported(),
        0,
        "the app asked {name} for something it does not offer"
    );
    assert_eq!(provider.messages_with_text(TOP, &reply), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_platform_offering_everything() {
    run_core_flows("Fullhouse", full()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_platform_with_status_and_assignment_only() {
    run_core_flows("Statusonly", status_and_assign_only()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contact_centric_platform() {
    run_core_flows("Contactish", contact_centric()).await;
}
