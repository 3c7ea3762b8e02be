//! Template messages are sent exactly once, whatever happens to the
//! server's answers: into a conversation, and to a contact with no
//! conversation yet. The whole app runs headless against the sandbox;
//! every wait is for a condition, with a deadline.

mod common;

use crossterm::event::{KeyCode, KeyModifiers};

use common::headless::{
    CacheProbe, RunningApp, roomy, roomy_client, sandbox, wait_until, wait_until_blocking,
};
use termdesk::api::Provider;
use termdesk::domain::ContactUpdate;
use termdesk::sandbox::SandboxOptions;

/// Every write's answer is lost after the server stored it, and the
/// server stores every copy it is sent.
fn forgetful() -> SandboxOptions {
    roomy(SandboxOptions {
        dedup_front_msg_id: false,
        lose_answer_rate: 1.0,
        ..SandboxOptions::default()
    })
}

fn template_messages(control: &termdesk::sandbox::SandboxControl, conversation: &str) -> usize {
    control
        .messages(conversation)
        .iter()
        .filter(|m| m.message_type == "TEMPLATE")
        .count()
}

/// Picks `appointment_reminder` (en) in the open picker and fills its
/// three values.
async fn fill_appointment_reminder(app: &RunningApp) {
    app.type_text("appointment");
    app.wait_for_screen("the English reminder previewed", |s| {
        s.contains("Reply 1 to confirm")
    })
    .await;
    app.press(KeyCode::Enter);
    for value in ["Deniz", "12 May", "15:00"] {
        app.type_text(value);
        app.press(KeyCode::Tab);
    }
    app.press_with(KeyCode::Char('s'), KeyModifiers::CONTROL);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_template_whose_answer_is_lost_arrives_once() {
    let sandbox = sandbox(forgetful()).await;
    let control = sandbox.control();
    // The customer writes now: their conversation is the top row.
    let target = control.whatsapp_conversations()[0].id.clone();
    control.inject_incoming_message(&target, "Can I move my appointment?");
    let before = template_messages(&control, &target);
    let app = RunningApp::start(roomy_client(&sandbox));
    app.wait_for_screen("the list", |s| s.contains("All 320"))
        .await;
    app.open_selected().await;
    app.wait_for_screen("the customer's message", |s| {
        s.contains("Can I move my appointment?")
    })
    .await;
    app.press(KeyCode::Char('t'));
    app.wait_for_screen("the picker", |s| s.contains("Templates"))
        .await;
    fill_appointment_reminder(&app).await;

    wait_until("the template on the server", || {
        template_messages(&control, &target) > before
    })
    .await;
    let probe = CacheProbe::new(&app.cache);
    wait_until_blocking("an empty outbox", move || probe.outbox().is_empty()).await;
    app.wait_for_screen("the template in the thread", |s| {
        s.contains("Hi Deniz, this is a reminder")
    })
    .await;
    let state = app.quit().await;
    assert!(state.outbox.items().is_empty());
    assert_eq!(
        template_messages(&control, &target),
        before + 1,
        "delivered exactly once although every answer was lost"
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_template_to_a_contact_starts_one_conversation() {
    let sandbox = sandbox(roomy(SandboxOptions {
        dedup_front_msg_id: false,
        ..SandboxOptions::default()
    }))
    .await;
    let control = sandbox.control();
    // A new customer has no conversation: the directory's Ctrl-T starts
    // one with a template.
    let client = roomy_client(&sandbox);
    let contact = client
        .create_contact(&ContactUpdate {
            first_name: Some("Zephyrine".into()),
            phone: Some(Some("+905329990011".into())),
            phone_country_code: Some(Some("90".into())),
            ..ContactUpdate::default()
        })
        .await
        .expect("the contact is made")
        .id
        .as_str()
        .to_string();
    control.set_lose_answer_rate(1.0);
    let app = RunningApp::start(client);
    app.wait_for_screen("the list", |s| s.contains("All 320"))
        .await;
    app.press(KeyCode::Char('C'));
    app.wait_for_screen("the directory", |s| s.contains("Contacts"))
        .await;
    app.type_text("Zephyrine");
    // Typed in the filter, and listed (once the directory has synced).
    app.wait_for_screen("the new contact listed", |s| s.contains("+905329990011"))
        .await;
    app.press_with(KeyCode::Char('t'), KeyModifiers::CONTROL);
    app.wait_for_screen("the picker, starting a conversation", |s| {
        s.contains("a template starts one")
    })
    .await;
    fill_appointment_reminder(&app).await;

    wait_until("a conversation with the contact", || {
        !control.conversations_of_contact(&contact).is_empty()
    })
    .await;
    let probe = CacheProbe::new(&app.cache);
    wait_until_blocking("an empty outbox", move || probe.outbox().is_empty()).await;
    app.wait_for_screen("the new conversation opened", |s| {
        s.contains("Hi Deniz, this is a reminder") && s.contains("Zephyrine")
    })
    .await;
    app.quit().await;
    let conversations = control.conversations_of_contact(&contact);
    assert_eq!(conversations.len(), 1, "one conversation started");
    assert_eq!(
        template_messages(&control, &conversations[0]),
        1,
        "one template, although every answer was lost"
    );
    sandbox.shutdown().await;
}
