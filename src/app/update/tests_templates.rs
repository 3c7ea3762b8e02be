//! The template picker, template sends, WhatsApp's reply window and
//! canned replies, driven through `update`.

use chrono::{DateTime, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::tests::{key, key_mod, now, type_text};
use super::update;
use crate::app::command::Command;
use crate::app::event::{Event, SyncEvent};
use crate::app::state::{AppState, Focus, NoticeLevel, Overlay};
use crate::app::template_picker::{PickerTab, SendTarget, TemplatePicker};
use crate::canned::CannedReply;
use crate::config::SendKey;
use crate::domain::{
    Ack, ChannelId, Contact, ContactId, ConversationId, MessageKind, Recipient, SenderKind,
    Template, TemplateButton, TemplateId, TemplateStatus,
};
use crate::store::db::DbWrite;
use crate::store::fixtures::{conversation, message, t};
use crate::store::outbox::{Outgoing, new_conversation_key};

fn template(name: &str, status: TemplateStatus, body: &str) -> Template {
    Template {
        id: TemplateId::new(format!("tpl-{name}")),
        name: name.into(),
        language: "en".into(),
        category: Some("UTILITY".into()),
        status,
        channel_id: Some(ChannelId::from("wa-1")),
        header: None,
        header_format: None,
        body: body.into(),
        footer: None,
        buttons: vec![TemplateButton {
            kind: "QUICK_REPLY".into(),
            text: "Talk to us".into(),
            url: None,
        }],
        rejected_reason: None,
    }
}

fn templates() -> Vec<Template> {
    let mut rejected = template("winback", TemplateStatus::Rejected, "Come back {{1}}");
    rejected.rejected_reason = Some("Promotional content in a utility template".into());
    vec![
        rejected,
        template(
            "order_shipped",
            TemplateStatus::Approved,
            "Hi {{1}}, your order {{2}} left our warehouse today.",
        ),
    ]
}

fn deniz() -> Contact {
    let mut contact = Contact::named("c-a", "Deniz");
    contact.last_name = Some("Kaya".into());
    contact.phone = Some("+905321234567".into());
    contact
}

/// WhatsApp conversation `a` is open (the customer wrote at t(900)),
/// templates and a canned reply are at hand.
fn inbox() -> AppState {
    let mut state = AppState::new("work", "Qpien", false, SendKey::Enter, now(), (80, 24));
    let mut email = conversation("m", 800, true);
    email.channel = crate::domain::Channel::Email;
    update(
        &mut state,
        Event::Sync(SyncEvent::Conversations(vec![
            conversation("a", 900, true),
            email,
        ])),
        now(),
    );
    update(
        &mut state,
        Event::Sync(SyncEvent::Templates(templates())),
        now(),
    );
    update(&mut state, Event::Sync(SyncEvent::Synced), now());
    state.contact_cards.put(deniz());
    state.canned = vec![CannedReply {
        name: "Order shipped".into(),
        text: "Hi {{contact.first_name}}, order {{order_number}} is on its way.".into(),
        tags: vec!["shipping".into()],
    }];
    key(&mut state, KeyCode::Enter);
    state.store.take_journal();
    state
}

fn picker(state: &AppState) -> &TemplatePicker {
    match state.overlay() {
        Some(Overlay::Templates(picker)) => picker,
        other => panic!("the template picker is not on top: {other:?}"),
    }
}

fn ctrl(state: &mut AppState, c: char) -> Vec<Command> {
    key_mod(state, KeyCode::Char(c), KeyModifiers::CONTROL)
}

fn at(state: &mut AppState, code: KeyCode, time: DateTime<Utc>) -> Vec<Command> {
    update(
        state,
        Event::Key(KeyEvent::new(code, KeyModifiers::NONE)),
        time,
    )
}

fn template_send(commands: &[Command]) -> &crate::domain::OutgoingTemplate {
    commands
        .iter()
        .find_map(|c| match c {
            Command::Send {
                outgoing: Outgoing::Template(t),
                ..
            } => Some(t),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no template send in {commands:?}"))
}

fn notice(state: &AppState) -> String {
    state
        .notice
        .as_ref()
        .map(|n| n.text.clone())
        .unwrap_or_default()
}

#[test]
fn a_template_is_chosen_filled_and_sent_through_the_outbox() {
    let mut state = inbox();
    key(&mut state, KeyCode::Char('t'));
    let names: Vec<_> = picker(&state)
        .list
        .items
        .iter()
        .map(|i| i.label.clone())
        .collect();
    assert_eq!(names, ["order_shipped", "winback"], "approved first");

    // A rejected template says why and stays unchosen.
    key(&mut state, KeyCode::Down);
    key(&mut state, KeyCode::Enter);
    assert!(picker(&state).fill.is_none());
    assert!(notice(&state).contains("rejected"), "{}", notice(&state));
    assert!(notice(&state).contains("Promotional"), "{}", notice(&state));

    key(&mut state, KeyCode::Up);
    key(&mut state, KeyCode::Enter);
    let fill = picker(&state).fill.as_ref().expect("the form is open");
    assert_eq!(fill.fields.len(), 2);
    // The first field's suggestions start with the contact's first name.
    key(&mut state, KeyCode::Down);
    assert_eq!(picker(&state).fill.as_ref().unwrap().value(0), "Deniz");

    // Sending waits for every value, and says which one is missing.
    let commands = ctrl(&mut state, 's');
    assert!(commands.is_empty());
    let fill = picker(&state).fill.as_ref().unwrap();
    assert_eq!(fill.focused, 1);
    assert!(fill.error.as_deref().unwrap().contains("{{2}}"));
    assert!(state.outbox.items().is_empty());

    type_text(&mut state, "A-1042");
    let commands = ctrl(&mut state, 's');
    let sent = template_send(&commands);
    assert_eq!(sent.template_name, "order_shipped");
    assert_eq!(
        sent.recipient,
        Recipient::Conversation(ConversationId::new("a"))
    );
    assert_eq!(sent.channel_id, Some(ChannelId::from("wa-1")));
    let body: Vec<_> = sent.values.body.iter().map(|p| p.value.as_str()).collect();
    assert_eq!(body, ["Deniz", "A-1042"]);
    assert!(state.overlay().is_none());

    // On disk before it goes out, with what the customer will read.
    let item = &state.outbox.items()[0];
    assert_eq!(
        item.text,
        "Hi Deniz, your order A-1042 left our warehouse today.\n[Talk to us]"
    );
    let journal = state.store.take_journal();
    assert!(journal.iter().any(|w| matches!(w,
        DbWrite::PutMutation { id, .. } if *id == item.client_id)));
    assert!(journal.iter().any(|w| matches!(w,
        DbWrite::SetMeta { key, .. } if key == "template_memory")));

    // The next time, the form starts with the values last sent.
    key(&mut state, KeyCode::Char('t'));
    key(&mut state, KeyCode::Enter);
    assert_eq!(
        picker(&state).fill.as_ref().unwrap().values(),
        ["Deniz", "A-1042"]
    );
    key(&mut state, KeyCode::Esc);
    assert!(picker(&state).fill.is_none(), "Esc goes back to the list");
    key(&mut state, KeyCode::Esc);
    assert!(state.overlay().is_none());
}

#[test]
fn the_list_filters_by_typed_text_language_and_category() {
    let mut state = inbox();
    let mut tr = template("siparis", TemplateStatus::Approved, "Merhaba {{1}}");
    tr.language = "tr".into();
    tr.category = Some("MARKETING".into());
    let mut all = templates();
    all.push(tr);
    update(&mut state, Event::Sync(SyncEvent::Templates(all)), now());
    key(&mut state, KeyCode::Char('t'));
    type_text(&mut state, "warehouse");
    assert_eq!(picker(&state).list.matches.len(), 1, "the body is matched");
    ctrl(&mut state, 'u');
    ctrl(&mut state, 'l');
    assert_eq!(picker(&state).language.as_deref(), Some("en"));
    assert_eq!(picker(&state).list.items.len(), 2);
    ctrl(&mut state, 'l');
    assert_eq!(picker(&state).list.items.len(), 1);
    ctrl(&mut state, 'l');
    assert_eq!(picker(&state).language, None);
    ctrl(&mut state, 'g');
    assert_eq!(picker(&state).category.as_deref(), Some("MARKETING"));
    assert_eq!(picker(&state).list.items.len(), 1);
}

#[test]
fn outside_the_window_free_text_is_blocked_and_the_draft_kept() {
    let mut state = inbox();
    let later = t(900 + 24 * 3600);
    at(&mut state, KeyCode::Char('r'), later);
    for c in "Are you there?".chars() {
        at(&mut state, KeyCode::Char(c), later);
    }
    let commands = at(&mut state, KeyCode::Enter, later);
    assert!(
        !commands.iter().any(|c| matches!(c, Command::Send { .. })),
        "{commands:?}"
    );
    assert!(state.outbox.items().is_empty());
    assert_eq!(state.notice.as_ref().unwrap().level, NoticeLevel::Warning);
    assert!(notice(&state).contains("template"), "{}", notice(&state));
    assert_eq!(state.composer.text(), "Are you there?");
    assert_eq!(
        state
            .drafts
            .get(&ConversationId::new("a"))
            .map(String::as_str),
        Some("Are you there?")
    );

    // Ctrl-T from the composer opens the picker, which says why.
    update(
        &mut state,
        Event::Key(KeyEvent::new(KeyCode::Char('t'), KeyModifiers::CONTROL)),
        later,
    );
    let note = picker(&state).window_note.clone().unwrap();
    assert!(note.contains("24 h"), "{note}");

    // Just inside the window it goes out.
    let mut state = inbox();
    let inside = t(900 + 24 * 3600 - 1);
    at(&mut state, KeyCode::Char('r'), inside);
    at(&mut state, KeyCode::Char('x'), inside);
    let commands = at(&mut state, KeyCode::Enter, inside);
    assert!(commands.iter().any(|c| matches!(c, Command::Send { .. })));
}

#[test]
fn other_channels_open_on_canned_replies_and_refuse_templates() {
    let mut state = inbox();
    key(&mut state, KeyCode::Esc);
    key(&mut state, KeyCode::Esc);
    state.focus = Focus::List;
    state.selected = Some(ConversationId::new("m"));
    key(&mut state, KeyCode::Enter);
    key(&mut state, KeyCode::Char('t'));
    assert_eq!(picker(&state).tab, PickerTab::Canned);
    key(&mut state, KeyCode::Tab);
    key(&mut state, KeyCode::Enter);
    assert!(picker(&state).fill.is_none());
    assert!(
        notice(&state).contains("another channel"),
        "{}",
        notice(&state)
    );
}

#[test]
fn a_canned_reply_asks_its_blanks_and_lands_in_the_composer() {
    let mut state = inbox();
    key(&mut state, KeyCode::Char('t'));
    key(&mut state, KeyCode::Tab);
    assert_eq!(picker(&state).tab, PickerTab::Canned);
    key(&mut state, KeyCode::Enter);
    assert_eq!(
        picker(&state).fill.as_ref().unwrap().label(0),
        "order number"
    );
    key(&mut state, KeyCode::Enter);
    assert!(
        picker(&state).fill.as_ref().unwrap().error.is_some(),
        "a blank must be filled"
    );
    type_text(&mut state, "A-7");
    let commands = key(&mut state, KeyCode::Enter);
    assert!(
        !commands.iter().any(|c| matches!(c, Command::Send { .. })),
        "never sent straight away"
    );
    assert!(state.overlay().is_none());
    assert_eq!(state.focus, Focus::Composer);
    assert_eq!(state.composer.text(), "Hi Deniz, order A-7 is on its way.");
}

#[test]
fn a_template_to_a_contact_without_a_conversation_starts_one() {
    let mut state = inbox();
    let contact = ContactId::new("c-new");
    super::templates::open_for_contact(&mut state, &contact);
    assert_eq!(picker(&state).target, SendTarget::Contact(contact.clone()));
    assert!(picker(&state).window_note.is_some());
    key(&mut state, KeyCode::Enter);
    type_text(&mut state, "Ece");
    key(&mut state, KeyCode::Tab);
    type_text(&mut state, "A-9");
    let commands = ctrl(&mut state, 's');
    let sent = template_send(&commands).clone();
    assert_eq!(sent.recipient, Recipient::Contact(contact.clone()));
    assert_eq!(
        state.outbox.items()[0].conversation_id,
        new_conversation_key(&contact)
    );

    // The server names the new conversation; it is read, then opened.
    let mut echo = message("n1", "srv-1", 1000, SenderKind::Agent, "Hi Ece");
    echo.client_id = Some(sent.client_id.clone());
    echo.kind = MessageKind::Template;
    let commands = update(
        &mut state,
        Event::SendConfirmed {
            client_id: sent.client_id.clone(),
            message: Box::new(echo),
            found_echo: false,
        },
        now(),
    );
    assert!(state.outbox.items().is_empty());
    assert!(commands.contains(&Command::RefreshConversation(ConversationId::new("n1"))));
    let mut started = conversation("n1", 1000, false);
    started.contact_id = Some(contact);
    update(
        &mut state,
        Event::Sync(SyncEvent::Conversations(vec![started])),
        now(),
    );
    assert_eq!(state.open, Some(ConversationId::new("n1")));
}

fn server_failed(state: &mut AppState, kind: MessageKind, client_id: &str) {
    let mut failed = message("a", "srv-f", 950, SenderKind::Agent, "Your refund is ready");
    failed.ack = Ack::Failed;
    failed.kind = kind;
    failed.client_id = Some(client_id.into());
    let messages = vec![
        message("a", "in-1", 900, SenderKind::Contact, "Hello"),
        failed,
    ];
    update(
        state,
        Event::MessagesLoaded {
            conversation_id: ConversationId::new("a"),
            page: crate::domain::Page {
                items: messages,
                next: None,
                total: None,
                skipped: 0,
            },
            older: false,
        },
        now(),
    );
}

#[test]
fn retry_and_edit_work_on_a_message_the_server_reported_failed() {
    let mut state = inbox();
    server_failed(&mut state, MessageKind::Text, "old-client-id");
    state.focus = Focus::Thread;
    let commands = key(&mut state, KeyCode::Char('R'));
    let resent = commands
        .iter()
        .find_map(|c| match c {
            Command::Send {
                outgoing: Outgoing::Text(t),
                ..
            } => Some(t),
            _ => None,
        })
        .expect("sent again");
    assert_eq!(resent.text, "Your refund is ready");
    assert_ne!(resent.client_id, "old-client-id", "a new message");

    let mut state = inbox();
    server_failed(&mut state, MessageKind::Text, "old-client-id");
    state.focus = Focus::Thread;
    key(&mut state, KeyCode::Char('e'));
    assert_eq!(state.focus, Focus::Composer);
    assert_eq!(state.composer.text(), "Your refund is ready");

    // Outside the window a failed text is not sent again: templates only.
    let mut state = inbox();
    server_failed(&mut state, MessageKind::Text, "old-client-id");
    state.focus = Focus::Thread;
    let commands = at(&mut state, KeyCode::Char('R'), t(950 + 25 * 3600));
    assert!(!commands.iter().any(|c| matches!(c, Command::Send { .. })));
    assert!(notice(&state).contains("template"), "{}", notice(&state));
}

#[test]
fn a_failed_template_message_is_sent_again_with_its_values() {
    let mut state = inbox();
    key(&mut state, KeyCode::Char('t'));
    key(&mut state, KeyCode::Enter);
    type_text(&mut state, "Deniz");
    key(&mut state, KeyCode::Tab);
    type_text(&mut state, "A-1");
    let commands = ctrl(&mut state, 's');
    let first = template_send(&commands).clone();
    let mut echo = message("a", "srv-t", 1000, SenderKind::Agent, "Hi Deniz");
    echo.client_id = Some(first.client_id.clone());
    echo.kind = MessageKind::Template;
    update(
        &mut state,
        Event::SendConfirmed {
            client_id: first.client_id.clone(),
            message: Box::new(echo.clone()),
            found_echo: false,
        },
        now(),
    );
    echo.ack = Ack::Failed;
    update(
        &mut state,
        Event::MessagesLoaded {
            conversation_id: ConversationId::new("a"),
            page: crate::domain::Page {
                items: vec![echo],
                next: None,
                total: None,
                skipped: 0,
            },
            older: false,
        },
        now(),
    );
    state.focus = Focus::Thread;
    state.overlays.clear();
    let commands = key(&mut state, KeyCode::Char('R'));
    let again = template_send(&commands);
    assert_ne!(again.client_id, first.client_id);
    assert_eq!(again.values, first.values);

    // `e` opens its form with the values instead.
    state.outbox = Default::default();
    key(&mut state, KeyCode::Char('e'));
    assert_eq!(
        picker(&state).fill.as_ref().unwrap().values(),
        ["Deniz", "A-1"]
    );
}

#[test]
fn stale_templates_are_read_again_when_the_picker_opens() {
    let mut state = inbox();
    let commands = key(&mut state, KeyCode::Char('t'));
    assert!(
        !commands.contains(&Command::LoadTemplates),
        "read at start: fresh enough"
    );
    key(&mut state, KeyCode::Esc);
    let later = t(1000 + 11 * 60);
    let commands = at(&mut state, KeyCode::Char('t'), later);
    assert!(commands.contains(&Command::LoadTemplates), "{commands:?}");
    at(&mut state, KeyCode::Esc, later);
    let commands = at(&mut state, KeyCode::Char('t'), later);
    assert!(!commands.contains(&Command::LoadTemplates), "asked once");
    // New templates arriving while choosing replace the list.
    let mut more = templates();
    more.push(template(
        "welcome",
        TemplateStatus::Approved,
        "Welcome {{1}}",
    ));
    update(&mut state, Event::Sync(SyncEvent::Templates(more)), now());
    assert_eq!(picker(&state).list.items.len(), 3);
}

#[test]
fn e_on_a_template_that_failed_in_the_outbox_reopens_its_form() {
    let mut state = inbox();
    key(&mut state, KeyCode::Char('t'));
    key(&mut state, KeyCode::Enter);
    type_text(&mut state, "Deniz");
    key(&mut state, KeyCode::Tab);
    type_text(&mut state, "A-1");
    let commands = ctrl(&mut state, 's');
    let sent = template_send(&commands).clone();
    update(
        &mut state,
        Event::SendFailed {
            client_id: sent.client_id.clone(),
            error: crate::api::ApiError::Rejected {
                code: Some(132000),
                message: "Number of parameters does not match".into(),
            },
        },
        now(),
    );
    assert!(notice(&state).contains("R retries"), "{}", notice(&state));
    state.focus = Focus::Thread;
    key(&mut state, KeyCode::Char('e'));
    assert!(state.outbox.items().is_empty(), "taken out to be edited");
    assert_eq!(
        picker(&state).fill.as_ref().unwrap().values(),
        ["Deniz", "A-1"]
    );
    assert!(state.composer.is_blank(), "a template is not free text");
}

#[test]
fn ctrl_t_in_the_directory_opens_the_picker_for_the_contact() {
    let mut state = inbox();
    update(
        &mut state,
        Event::Sync(SyncEvent::Contacts {
            found: vec![Contact::named("c-new", "Zephyrine")],
            missing: Vec::new(),
        }),
        now(),
    );
    key(&mut state, KeyCode::Esc);
    state.focus = Focus::List;
    key(&mut state, KeyCode::Char('C'));
    type_text(&mut state, "Zephyrine");
    ctrl(&mut state, 't');
    assert_eq!(
        picker(&state).target,
        SendTarget::Contact(ContactId::new("c-new"))
    );
}

#[test]
fn without_templates_the_picker_still_offers_canned_replies() {
    let mut state = inbox();
    state.capabilities.templates = false;
    state.templates_fetched_at = None;
    let commands = key(&mut state, KeyCode::Char('t'));
    assert!(
        !commands.contains(&Command::LoadTemplates),
        "nothing to ask"
    );
    assert_eq!(picker(&state).tab, PickerTab::Canned);
    assert!(
        picker(&state)
            .window_note
            .as_deref()
            .is_some_and(|n| n.contains("does not offer WhatsApp templates")),
        "{:?}",
        picker(&state).window_note
    );
    key(&mut state, KeyCode::Enter);
    type_text(&mut state, "A-7");
    key(&mut state, KeyCode::Enter);
    assert_eq!(state.composer.text(), "Hi Deniz, order A-7 is on its way.");
}

#[test]
fn recent_customer_messages_read_from_the_cache_open_the_window() {
    let mut state = AppState::new("work", "Qpien", false, SendKey::Enter, now(), (80, 24));
    // After a restart: the agent wrote last, the thread is not loaded.
    update(
        &mut state,
        Event::CacheRows(vec![(conversation("a", 900, false), 0)]),
        now(),
    );
    let id = ConversationId::new("a");
    assert_eq!(
        state.store.reply_window(&id, now()),
        crate::whatsapp_window::ReplyWindow::Unknown
    );
    update(
        &mut state,
        Event::RecentInbound(vec![(id.clone(), t(800))]),
        now(),
    );
    assert_eq!(
        state.store.reply_window(&id, now()),
        crate::whatsapp_window::ReplyWindow::Open {
            closes_at: t(800 + 24 * 3600)
        }
    );
}
