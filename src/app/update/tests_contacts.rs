//! The profile, the contact editor and its saves, driven through `update`.

use crossterm::event::{KeyCode, KeyModifiers};

use super::tests::{key, key_mod, now, type_text};
use super::update;
use crate::api::ApiError;
use crate::app::command::Command;
use crate::app::contact_form::{ContactForm, FormMode};
use crate::app::event::{ContactSaveError, ContactSaved, Event, SyncEvent};
use crate::app::state::{AppState, Focus, NoticeLevel, Overlay};
use crate::config::SendKey;
use crate::contact_fields::ContactField;
use crate::domain::{Contact, ContactId, ConversationId};
use crate::store::contact_edits::{ContactEdit, ContactEdits, ContactOp, EditState};
use crate::store::db::DbWrite;
use crate::store::fixtures::conversation;

fn ayse() -> Contact {
    let mut contact = Contact::named("c-a", "Ayşe");
    contact.last_name = Some("Yılmaz".into());
    contact.phone = Some("+905321234567".into());
    contact.phone_country_code = Some("90".into());
    contact.country = Some("TR".into());
    contact.email = Some("ayse@example.com".into());
    contact
}

/// Ayşe has conversations a and b; a is open, the thread focused; her
/// full record is at hand.
fn inbox() -> AppState {
    let mut state = AppState::new("work", "Qpien", false, SendKey::Enter, now(), (80, 24));
    let a = conversation("a", 900, true);
    let mut b = conversation("b", 800, true);
    b.contact_id = a.contact_id.clone();
    update(
        &mut state,
        Event::Sync(SyncEvent::Conversations(vec![
            a,
            b,
            conversation("x", 700, true),
        ])),
        now(),
    );
    update(
        &mut state,
        Event::Sync(SyncEvent::Contacts {
            found: vec![ayse()],
            missing: Vec::new(),
        }),
        now(),
    );
    update(&mut state, Event::Sync(SyncEvent::Synced), now());
    state.contact_cards.put(ayse());
    key(&mut state, KeyCode::Enter);
    state.store.take_journal();
    state
}

fn form(state: &AppState) -> &ContactForm {
    state
        .overlays
        .iter()
        .rev()
        .find_map(|o| match o {
            Overlay::ContactForm(form) => Some(form.as_ref()),
            _ => None,
        })
        .expect("the editor is open")
}

fn focus_field(state: &mut AppState, field: ContactField) {
    while form(state).focused_field().map(|f| f.field) != Some(field) {
        key(state, KeyCode::Tab);
    }
}

/// Replaces the focused text field's value.
fn retype(state: &mut AppState, field: ContactField, text: &str) {
    focus_field(state, field);
    let len = form(state).field(field).unwrap().raw().chars().count();
    key(state, KeyCode::End);
    for _ in 0..len {
        key(state, KeyCode::Backspace);
    }
    type_text(state, text);
}

fn ctrl(state: &mut AppState, c: char) -> Vec<Command> {
    key_mod(state, KeyCode::Char(c), KeyModifiers::CONTROL)
}

fn saved_edit(commands: &[Command]) -> (String, ContactOp) {
    commands
        .iter()
        .find_map(|c| match c {
            Command::SaveContact { edit_id, op, .. } => Some((edit_id.clone(), op.clone())),
            _ => None,
        })
        .expect("a save")
}

fn answer(state: &mut AppState, edit_id: &str, result: Result<ContactSaved, ContactSaveError>) {
    update(
        state,
        Event::ContactSaved {
            edit_id: edit_id.to_string(),
            result,
        },
        now(),
    );
}

#[test]
fn e_opens_the_editor_on_the_open_conversations_contact() {
    let mut state = inbox();
    key(&mut state, KeyCode::Char('E'));
    assert_eq!(
        form(&state).mode,
        FormMode::Edit {
            contact_id: ContactId::new("c-a")
        }
    );
    assert!(!form(&state).is_dirty());
    // Typing goes into the first field, not to the panes under it.
    type_text(&mut state, "x");
    assert_eq!(
        form(&state).field(ContactField::FirstName).unwrap().raw(),
        "Ayşex"
    );
    assert!(form(&state).is_dirty());
}

#[test]
fn esc_asks_before_throwing_changes_away_and_closes_a_clean_editor_at_once() {
    let mut state = inbox();
    key(&mut state, KeyCode::Char('E'));
    key(&mut state, KeyCode::Esc);
    assert!(state.overlays.is_empty(), "nothing changed: closed");

    key(&mut state, KeyCode::Char('E'));
    retype(&mut state, ContactField::Email, "new@example.com");
    key(&mut state, KeyCode::Esc);
    assert_eq!(state.overlay(), Some(&Overlay::ConfirmDiscard));
    key(&mut state, KeyCode::Char('n'));
    assert_eq!(
        form(&state).field(ContactField::Email).unwrap().raw(),
        "new@example.com"
    );
    key(&mut state, KeyCode::Esc);
    key(&mut state, KeyCode::Char('y'));
    assert!(state.overlays.is_empty());
    assert!(state.contact_edits.items().is_empty());
    assert!(state.store.take_journal().is_empty(), "nothing saved");
}

#[test]
fn errors_show_as_typed_and_ctrl_s_refuses_to_send_them() {
    let mut state = inbox();
    key(&mut state, KeyCode::Char('E'));
    retype(&mut state, ContactField::Phone, "+90 532 12");
    let phone = form(&state).field(ContactField::Phone).unwrap();
    assert!(phone.error.as_deref().unwrap().contains("+90"));
    let commands = ctrl(&mut state, 's');
    assert!(commands.is_empty());
    assert!(
        form(&state)
            .message
            .as_deref()
            .unwrap()
            .starts_with("Phone:")
    );
    retype(&mut state, ContactField::Phone, "0532 765 43 21");
    let phone = form(&state).field(ContactField::Phone).unwrap();
    assert_eq!(phone.error, None);
    assert_eq!(phone.note.as_deref(), Some("saved as +905327654321"));
}

#[test]
fn a_save_sends_only_what_changed_through_the_log_and_closes_on_success() {
    let mut state = inbox();
    key(&mut state, KeyCode::Char('E'));
    retype(&mut state, ContactField::Email, "ayse+vip@örnek.com.tr");
    let commands = ctrl(&mut state, 's');
    let (edit_id, op) = saved_edit(&commands);
    let ContactOp::Update { changes, base, .. } = &op else {
        panic!("an update");
    };
    assert_eq!(changes.fields(), [ContactField::Email]);
    assert_eq!(**base, ayse());
    let journal = state.store.take_journal();
    assert!(journal.iter().any(|w| matches!(w,
        DbWrite::PutMutation { kind: "contact", id, .. } if *id == edit_id)));
    assert_eq!(form(&state).saving.as_deref(), Some(edit_id.as_str()));
    // Keys wait while the save is on its way.
    type_text(&mut state, "zzz");
    assert_eq!(
        form(&state).field(ContactField::Email).unwrap().raw(),
        "ayse+vip@örnek.com.tr"
    );

    let mut saved = ayse();
    saved.email = Some("ayse+vip@örnek.com.tr".into());
    answer(
        &mut state,
        &edit_id,
        Ok(ContactSaved::Saved(Box::new(saved.clone()))),
    );
    assert!(state.overlays.is_empty());
    assert!(state.contact_edits.items().is_empty());
    assert_eq!(state.contact_cards.get(&saved.id), Some(&saved));
    assert!(state.store.take_journal().iter().any(|w| matches!(w,
        DbWrite::RemoveMutation { id } if *id == edit_id)));
    assert!(
        state
            .notice
            .as_ref()
            .unwrap()
            .text
            .contains("Saved Ayşe Yılmaz")
    );
}

#[test]
fn a_refusal_lands_on_its_field_and_the_edit_is_kept_until_discarded() {
    let mut state = inbox();
    key(&mut state, KeyCode::Char('E'));
    retype(&mut state, ContactField::Email, "taken@example.com");
    let (edit_id, _) = saved_edit(&ctrl(&mut state, 's'));
    answer(
        &mut state,
        &edit_id,
        Err(ContactSaveError::Api(ApiError::Rejected {
            code: Some(409),
            message: "email already in use by another contact".into(),
        })),
    );
    let email = form(&state).field(ContactField::Email).unwrap();
    assert!(email.error.as_deref().unwrap().contains("already in use"));
    assert_eq!(
        form(&state).focused_field().unwrap().field,
        ContactField::Email
    );
    assert!(form(&state).saving.is_none());
    assert!(matches!(
        state.contact_edits.get(&edit_id).unwrap().state,
        EditState::Refused {
            field: Some(ContactField::Email),
            ..
        }
    ));

    // Closed without fixing: the edit stays; E brings the agent's values back.
    key(&mut state, KeyCode::Esc);
    key(&mut state, KeyCode::Char('n'));
    state.overlays.clear();
    key(&mut state, KeyCode::Char('E'));
    assert_eq!(
        form(&state).field(ContactField::Email).unwrap().raw(),
        "taken@example.com"
    );
    assert!(
        form(&state)
            .field(ContactField::Email)
            .unwrap()
            .error
            .is_some()
    );
    // Saving again reuses the same record of the log.
    retype(&mut state, ContactField::Email, "free@example.com");
    let (again, _) = saved_edit(&ctrl(&mut state, 's'));
    assert_eq!(again, edit_id);
    assert_eq!(state.contact_edits.items().len(), 1);

    // Discarding after a refusal takes it out of the log.
    answer(
        &mut state,
        &edit_id,
        Err(ContactSaveError::Api(ApiError::Rejected {
            code: Some(422),
            message: "Invalid email".into(),
        })),
    );
    key(&mut state, KeyCode::Esc);
    key(&mut state, KeyCode::Char('y'));
    assert!(state.contact_edits.items().is_empty());
}

#[test]
fn a_transient_failure_keeps_the_edit_and_sends_it_again_later() {
    let mut state = inbox();
    key(&mut state, KeyCode::Char('E'));
    retype(&mut state, ContactField::LastName, "Kaya");
    let (edit_id, _) = saved_edit(&ctrl(&mut state, 's'));
    answer(
        &mut state,
        &edit_id,
        Err(ContactSaveError::Api(ApiError::Network(
            "connection refused".into(),
        ))),
    );
    assert!(form(&state).message.as_deref().unwrap().contains("kept"));
    assert!(matches!(
        state.contact_edits.get(&edit_id).unwrap().state,
        EditState::Retrying { .. }
    ));
    assert!(update(&mut state, Event::Tick, now()).is_empty(), "not yet");
    let later = now() + chrono::Duration::seconds(61);
    let commands = update(&mut state, Event::Tick, later);
    let resent = commands.iter().find_map(|c| match c {
        Command::SaveContact {
            edit_id: id,
            attempts,
            ..
        } => Some((id.clone(), *attempts)),
        _ => None,
    });
    assert_eq!(resent, Some((edit_id.clone(), 1)));
}

#[test]
fn a_change_on_the_server_is_shown_beside_the_agents_and_they_choose() {
    let mut state = inbox();
    key(&mut state, KeyCode::Char('E'));
    retype(&mut state, ContactField::Email, "mine@example.com");
    retype(&mut state, ContactField::LastName, "Kaya");
    let (edit_id, _) = saved_edit(&ctrl(&mut state, 's'));
    let mut server = ayse();
    server.email = Some("theirs@example.com".into());
    server.last_name = Some("Demir".into());
    answer(
        &mut state,
        &edit_id,
        Err(ContactSaveError::Conflict(Box::new(server.clone()))),
    );
    let conflict = form(&state).conflict.clone().expect("both values shown");
    assert_eq!(conflict.rows.len(), 2);
    assert_eq!(conflict.rows[1].theirs, "theirs@example.com");
    assert_eq!(conflict.rows[1].mine, "mine@example.com");
    // Keep the server's e-mail, the agent's last name.
    key(&mut state, KeyCode::Down);
    key(&mut state, KeyCode::Right);
    let commands = key(&mut state, KeyCode::Enter);
    let (again, op) = saved_edit(&commands);
    assert_eq!(again, edit_id);
    let ContactOp::Update { changes, base, .. } = op else {
        panic!("an update");
    };
    assert_eq!(*base, server, "saved against the server's copy");
    assert_eq!(changes.last_name, Some(Some("Kaya".into())));
    assert!(changes.email.is_none());
}

#[test]
fn a_conflict_met_after_the_editor_closed_waits_for_the_agent() {
    let mut state = inbox();
    key(&mut state, KeyCode::Char('E'));
    retype(&mut state, ContactField::Email, "mine@example.com");
    let (edit_id, _) = saved_edit(&ctrl(&mut state, 's'));
    key(&mut state, KeyCode::Esc);
    assert!(state.overlays.is_empty(), "closing does not stop the save");
    let mut server = ayse();
    server.email = Some("theirs@example.com".into());
    answer(
        &mut state,
        &edit_id,
        Err(ContactSaveError::Conflict(Box::new(server))),
    );
    assert_eq!(state.notice.as_ref().unwrap().level, NoticeLevel::Warning);
    key(&mut state, KeyCode::Char('E'));
    assert_eq!(form(&state).conflict.as_ref().unwrap().rows.len(), 1);
}

#[test]
fn a_new_contact_needs_a_phone_and_a_duplicate_leads_to_the_existing_one() {
    let mut state = inbox();
    state.account_country = Some("TR".into());
    key(&mut state, KeyCode::Char(':'));
    type_text(&mut state, "new contact");
    key(&mut state, KeyCode::Enter);
    assert_eq!(form(&state).mode, FormMode::Create);
    assert_eq!(
        form(&state).focused_field().unwrap().field,
        ContactField::Phone
    );
    type_text(&mut state, "0532 123 45 67");
    assert!(ctrl(&mut state, 's').is_empty(), "a name is needed too");
    assert_eq!(
        form(&state).focused_field().unwrap().field,
        ContactField::FirstName,
        "the field in the way gets the focus"
    );
    type_text(&mut state, "Ayşe");
    let commands = ctrl(&mut state, 's');
    let (edit_id, op) = saved_edit(&commands);
    let ContactOp::Create { fields } = op else {
        panic!("a create");
    };
    // Typed without +: read in the account's country.
    assert_eq!(fields.phone, Some(Some("+905321234567".into())));
    answer(
        &mut state,
        &edit_id,
        Err(ContactSaveError::Duplicate(Box::new(ayse()))),
    );
    let phone = form(&state).field(ContactField::Phone).unwrap();
    assert!(
        phone
            .error
            .as_deref()
            .unwrap()
            .contains("already belongs to Ayşe")
    );
    assert!(form(&state).duplicate.is_some());
    let commands = ctrl(&mut state, 'o');
    assert!(state.overlays.is_empty());
    assert_eq!(
        state.open,
        Some(ConversationId::new("a")),
        "her latest conversation"
    );
    let _ = commands;
}

#[test]
fn delete_asks_saying_what_happens_and_the_rows_lose_the_name() {
    let mut state = inbox();
    state.profile_shown = Some(true);
    state.focus = Focus::Profile;
    key(&mut state, KeyCode::Char('D'));
    let Some(Overlay::ConfirmDeleteContact(delete)) = state.overlay().cloned() else {
        panic!("asks first");
    };
    assert_eq!(delete.conversations, 2);
    assert_eq!(delete.label, "Ayşe Yılmaz");
    let commands = key(&mut state, KeyCode::Char('y'));
    let (edit_id, op) = saved_edit(&commands);
    assert!(matches!(op, ContactOp::Delete { .. }));
    assert_eq!(
        state
            .store
            .get(&ConversationId::new("a"))
            .unwrap()
            .conversation
            .contact_name,
        "Ayşe Yılmaz",
        "nothing changes before the server agrees"
    );
    answer(&mut state, &edit_id, Ok(ContactSaved::Deleted));
    let row = &state
        .store
        .get(&ConversationId::new("b"))
        .unwrap()
        .conversation;
    assert_eq!(row.contact_name, crate::domain::UNKNOWN_CONTACT);
    assert!(state.contact_edits.items().is_empty());
}

#[test]
fn the_profile_opens_the_contacts_other_conversations_one_key_away() {
    let mut state = inbox();
    key(&mut state, KeyCode::Char('c'));
    assert_eq!(state.focus, Focus::Profile);
    let commands = key(&mut state, KeyCode::Char('2'));
    assert_eq!(state.open, Some(ConversationId::new("b")));
    assert!(
        commands
            .iter()
            .any(|c| matches!(c, Command::WatchConversation(Some(_))))
    );
    assert_eq!(state.focus, Focus::Thread);
}

#[test]
fn the_profile_reads_its_contact_once_from_the_cache_then_the_server() {
    let mut state = inbox();
    state.contact_cards = Default::default();
    let commands = key(&mut state, KeyCode::Char('c'));
    let asked: Vec<_> = commands
        .iter()
        .filter(|c| {
            matches!(
                c,
                Command::LoadContact {
                    from_server: false,
                    ..
                }
            )
        })
        .collect();
    assert_eq!(asked.len(), 1);
    assert!(
        key(&mut state, KeyCode::Char('j'))
            .iter()
            .all(|c| !matches!(c, Command::LoadContact { .. })),
        "not asked again"
    );
    let commands = update(
        &mut state,
        Event::ContactLoaded {
            contact_id: ContactId::new("c-a"),
            from_server: false,
            result: Err(ApiError::NotFound("not in the cache".into())),
        },
        now(),
    );
    assert!(matches!(
        commands[..],
        [Command::LoadContact {
            from_server: true,
            ..
        }]
    ));
    update(
        &mut state,
        Event::ContactLoaded {
            contact_id: ContactId::new("c-a"),
            from_server: true,
            result: Ok(Box::new(ayse())),
        },
        now(),
    );
    assert!(state.contact_cards.get(&ContactId::new("c-a")).is_some());
    assert!(state.contacts_loading.is_empty());
}

#[test]
fn a_save_cut_off_by_a_restart_goes_again() {
    let mut state = inbox();
    let mut edit = ContactEdit::new(
        "e1".into(),
        ContactOp::Update {
            contact_id: ContactId::new("c-a"),
            base: Box::new(ayse()),
            changes: crate::domain::ContactUpdate {
                last_name: Some(Some("Kaya".into())),
                ..Default::default()
            },
        },
        now(),
    );
    edit.state = EditState::Sending;
    state.contact_edits = ContactEdits::restore(vec![edit], now());
    let commands = update(&mut state, Event::Tick, now());
    assert!(
        matches!(&commands[..], [Command::SaveContact { edit_id, attempts: 1, .. }] if edit_id == "e1")
    );
    assert!(state.unsent_summary().unwrap().contains("contact change"));
}

#[test]
fn rows_passed_over_cost_no_requests_and_a_failed_read_waits_a_minute() {
    let mut state = inbox();
    state.width = 200;
    state.contact_cards = Default::default();
    // With nothing open, the profile beside the thread follows the
    // selection, and asks the cache for each contact it passes.
    state.open = None;
    state.focus = Focus::List;
    key(&mut state, KeyCode::Char('j'));
    key(&mut state, KeyCode::Char('j'));
    let x = ContactId::new("c-x");
    assert!(state.contacts_loading.contains(&x));
    let commands = update(
        &mut state,
        Event::ContactLoaded {
            contact_id: x.clone(),
            from_server: false,
            result: Err(ApiError::NotFound("not in the cache".into())),
        },
        now(),
    );
    assert!(
        commands.is_empty(),
        "only selected: the server is not asked"
    );
    assert!(
        update(&mut state, Event::Tick, now()).is_empty(),
        "nor later"
    );
    // Opened: now it is worth a request.
    let commands = key(&mut state, KeyCode::Enter);
    assert!(commands.iter().any(|c| matches!(
        c,
        Command::LoadContact {
            from_server: true,
            ..
        }
    )));
    update(
        &mut state,
        Event::ContactLoaded {
            contact_id: x.clone(),
            from_server: true,
            result: Err(ApiError::Network("down".into())),
        },
        now(),
    );
    let asks = |commands: Vec<Command>| {
        commands
            .iter()
            .any(|c| matches!(c, Command::LoadContact { .. }))
    };
    assert!(!asks(update(&mut state, Event::Tick, now())), "not at once");
    let later = now() + chrono::Duration::seconds(61);
    assert!(
        asks(update(&mut state, Event::Tick, later)),
        "after a minute"
    );
}

#[test]
fn choice_fields_are_picked_with_a_fuzzy_filter_and_a_language_may_be_typed() {
    let mut state = inbox();
    key(&mut state, KeyCode::Char('E'));
    focus_field(&mut state, ContactField::Country);
    // Typing on a choice field opens its picker with what was typed.
    type_text(&mut state, "emirates");
    let Some(Overlay::Picker(picker)) = state.overlay() else {
        panic!("the country picker");
    };
    assert_eq!(picker.query, "emirates");
    key(&mut state, KeyCode::Enter);
    assert_eq!(
        form(&state).field(ContactField::Country).unwrap().raw(),
        "AE"
    );
    focus_field(&mut state, ContactField::Language);
    key(&mut state, KeyCode::Enter);
    type_text(&mut state, "en-GB");
    key(&mut state, KeyCode::Enter);
    assert_eq!(
        form(&state).field(ContactField::Language).unwrap().raw(),
        "en-GB"
    );
    focus_field(&mut state, ContactField::EmailPermission);
    key(&mut state, KeyCode::Char(' '));
    let update = {
        let (_, op) = saved_edit(&ctrl(&mut state, 's'));
        match op {
            ContactOp::Update { changes, .. } => changes,
            _ => panic!("an update"),
        }
    };
    assert_eq!(update.country, Some(Some("AE".into())));
    assert_eq!(update.language, Some(Some("en-GB".into())));
    assert_eq!(update.email_usage_permission, Some(true));
    assert!(update.phone.is_none());
}

#[test]
fn a_contact_made_from_the_directory_is_selected_there() {
    let mut state = inbox();
    state.account_country = Some("TR".into());
    key(&mut state, KeyCode::Char('C'));
    ctrl(&mut state, 'n');
    type_text(&mut state, "0532 999 88 77");
    focus_field(&mut state, ContactField::FirstName);
    type_text(&mut state, "Zafer");
    let (edit_id, _) = saved_edit(&ctrl(&mut state, 's'));
    let mut made = Contact::named("c-new", "Zafer");
    made.phone = Some("+905329998877".into());
    answer(
        &mut state,
        &edit_id,
        Ok(ContactSaved::Saved(Box::new(made))),
    );
    let Some(Overlay::Directory(directory)) = state.overlay() else {
        panic!("back in the directory");
    };
    assert_eq!(directory.selected_contact(), Some(&ContactId::new("c-new")));
    assert!(
        state
            .notice
            .as_ref()
            .unwrap()
            .text
            .contains("Created Zafer")
    );
}
