//! Snapshots of the contact profile, the contact editor (its fields, its
//! conflict view) and the questions before discarding or deleting, at
//! 80x24 and 200x50; and the same states at tiny sizes, which must not
//! panic.

mod common;

use ratatui::Terminal;
use ratatui::backend::TestBackend;

use termdesk::app::contact_form::{ContactForm, FieldValue, text_area};
use termdesk::app::state::{DeleteContact, Focus, Overlay};
use termdesk::app::{AppState, Event, SyncEvent, update};
use termdesk::contact_fields::ContactField;
use termdesk::domain::*;
use termdesk::store::contact_edits::{ContactEdit, ContactOp, EditState};
use termdesk::ui;

use common::{at, conversation, now};

const SIZES: [(u16, u16); 2] = [(80, 24), (200, 50)];
const TINY: [(u16, u16); 3] = [(20, 5), (1, 1), (0, 0)];

fn render(state: &AppState, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| ui::draw(frame, state)).unwrap();
    terminal.backend().to_string()
}

/// Draws without reading the screen back: the test backend cannot print
/// a screen with no columns.
fn draw_only(state: &AppState, width: u16, height: u16) {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| ui::draw(frame, state)).unwrap();
}

fn tag(id: &str, name: &str) -> Tag {
    Tag {
        id: TagId::new(id),
        name: name.into(),
        color: None,
    }
}

fn contact_id() -> ContactId {
    ContactId::new("contact-c1")
}

/// Deniz, with everything filled in, owned by Ada.
fn deniz() -> Contact {
    let mut contact = Contact::named("contact-c1", "Deniz");
    contact.last_name = Some("Yılmaz".into());
    contact.username = Some("deniz.yilmaz".into());
    contact.phone = Some("+905321234567".into());
    contact.phone_country_code = Some("90".into());
    contact.email = Some("deniz.yilmaz@example.com.tr".into());
    contact.country = Some("TR".into());
    contact.language = Some("tr".into());
    contact.gender = Some("female".into());
    contact.tags = vec![tag("t-vip", "VIP"), tag("t-ship", "shipping")];
    contact.phone_usage_permission = Some(true);
    contact.email_usage_permission = Some(false);
    contact.owner = Some("agent-1".into());
    contact.platforms = vec![
        ContactPlatform {
            channel: Channel::WhatsApp,
            external_id: Some("905321234567".into()),
            username: None,
        },
        ContactPlatform {
            channel: Channel::Instagram,
            external_id: None,
            username: Some("@deniz.y".into()),
        },
    ];
    contact.created_at = Some(at(-400 * 86_400));
    contact.updated_at = Some(at(-86_400));
    contact
}

/// Deniz's other conversations, older than the open one.
fn older_conversations() -> Vec<Conversation> {
    let mut list = vec![
        conversation(
            "c1-b",
            "Deniz Yılmaz",
            Channel::Email,
            -2 * 86_400,
            "Fatura bilgilerimi güncelleyebilir misiniz? Şirket adı değişti.",
            true,
        ),
        conversation(
            "c1-c",
            "Deniz Yılmaz",
            Channel::Instagram,
            -9 * 86_400,
            "Teşekkürler!",
            false,
        ),
        conversation(
            "c1-d",
            "Deniz Yılmaz",
            Channel::WhatsApp,
            -40 * 86_400,
            "Kargom hasarlı geldi",
            true,
        ),
    ];
    list[0].status = ConversationStatus::Pending;
    list[1].status = ConversationStatus::Resolved;
    list[2].status = ConversationStatus::Closed;
    for c in &mut list {
        c.contact_id = Some(contact_id());
    }
    list
}

/// c1 open with its profile shown (in the thread's place below 160
/// columns), the card loaded unless `loaded` is false.
fn profile_state(width: u16, height: u16, loaded: bool) -> AppState {
    let mut state = common::state(width, height, true);
    update(
        &mut state,
        Event::Sync(SyncEvent::Conversations(older_conversations())),
        now(),
    );
    // The directory knows the name, phone and e-mail before the full
    // record is read.
    let contact = deniz();
    state.store.upsert_contacts(vec![contact.clone()], vec![]);
    if loaded {
        state.contact_cards.put(contact);
    }
    state.profile_shown = Some(true);
    state.focus = Focus::Profile;
    state.profile_selected = 1;
    state
}

fn refused(state: &mut AppState) {
    let mut edit = ContactEdit::new(
        "edit-1".into(),
        ContactOp::Update {
            contact_id: contact_id(),
            base: Box::new(deniz()),
            changes: ContactUpdate {
                email: Some(Some("deniz@yilmaz".into())),
                ..Default::default()
            },
        },
        now(),
    );
    edit.state = EditState::Refused {
        reason: "email must be a valid e-mail address".into(),
        field: Some(ContactField::Email),
    };
    state.contact_edits.push(edit);
}

fn set_text(form: &mut ContactForm, field: ContactField, value: &str) {
    form.set(field, FieldValue::Text(Box::new(text_area(value))));
}

/// An edit with a phone that is too short and a note on the e-mail.
fn form_with_errors() -> ContactForm {
    let mut form = ContactForm::edit(&deniz(), Some("TR".into()));
    set_text(&mut form, ContactField::Phone, "0532 12");
    set_text(&mut form, ContactField::Email, "deniz@yilmaz.com.tr");
    form.field_mut(ContactField::Email).unwrap().note = Some("also on Ava Smith's card".into());
    form.focused = form.index_of(ContactField::Phone).unwrap();
    form
}

/// The agent changed the phone and the e-mail; the server changed both
/// too. The agent keeps their phone and takes the server's e-mail.
fn form_in_conflict() -> ContactForm {
    let mut form = ContactForm::edit(&deniz(), Some("TR".into()));
    set_text(&mut form, ContactField::Phone, "+905329876543");
    set_text(&mut form, ContactField::Email, "deniz@yeni.com.tr");
    let mut server = deniz();
    server.phone = Some("+905551112233".into());
    server.email = Some("d.yilmaz@firma.com.tr".into());
    assert!(form.rebase(&server));
    let conflict = form.conflict.as_mut().unwrap();
    conflict.rows[1].keep_mine = false;
    conflict.selected = 1;
    form
}

fn with_form(width: u16, height: u16, form: ContactForm) -> AppState {
    let mut state = profile_state(width, height, true);
    state.open_overlay(Overlay::ContactForm(Box::new(form)));
    state
}

/// Every state these tests draw, by name.
fn scenarios(width: u16, height: u16) -> Vec<(&'static str, AppState)> {
    let mut refused_state = profile_state(width, height, true);
    refused(&mut refused_state);
    let mut duplicate = form_with_errors();
    duplicate.duplicate = Some((ContactId::new("contact-c4"), "Ava Smith".into()));
    duplicate.message = Some("The server refused the change: try again later".into());
    let mut discard = with_form(width, height, form_with_errors());
    discard.open_overlay(Overlay::ConfirmDiscard);
    let mut delete = profile_state(width, height, true);
    delete.open_overlay(Overlay::ConfirmDeleteContact(DeleteContact {
        contact_id: contact_id(),
        label: "Deniz Yılmaz".into(),
        conversations: 4,
    }));
    vec![
        ("profile", profile_state(width, height, true)),
        ("profile_loading", profile_state(width, height, false)),
        ("profile_refused", refused_state),
        (
            "form",
            with_form(
                width,
                height,
                ContactForm::edit(&deniz(), Some("TR".into())),
            ),
        ),
        ("form_errors", with_form(width, height, form_with_errors())),
        ("form_duplicate", with_form(width, height, duplicate)),
        (
            "form_conflict",
            with_form(width, height, form_in_conflict()),
        ),
        (
            "form_create",
            with_form(width, height, ContactForm::create(Some("TR".into()))),
        ),
        ("confirm_discard", discard),
        ("confirm_delete", delete),
    ]
}

#[test]
fn contact_screens() {
    for (w, h) in SIZES {
        for (name, state) in scenarios(w, h) {
            insta::assert_snapshot!(format!("{name}_{w}x{h}"), render(&state, w, h));
        }
    }
}

#[test]
fn the_profile_takes_the_threads_place_on_narrow_terminals() {
    let screen = render(&profile_state(80, 24, true), 80, 24);
    assert!(screen.contains("Contact"));
    assert!(!screen.contains("Reply to"), "{screen}");
    let wide = render(&profile_state(200, 50, true), 200, 50);
    assert!(wide.contains("Reply to"), "{wide}");
    assert!(wide.contains("Deniz Yılmaz"));
}

#[test]
fn hostile_names_are_cleaned_before_they_are_drawn() {
    let mut state = profile_state(80, 24, true);
    let mut contact = deniz();
    contact.first_name = "Evil\u{1b}]0;pwned\u{7}\u{1b}[2J".into();
    contact.tags = vec![tag("t-x", "x\u{202e}y")];
    state.contact_cards.put(contact.clone());
    state.open_overlay(Overlay::ContactForm(Box::new(ContactForm::edit(
        &contact, None,
    ))));
    let screen = render(&state, 80, 24);
    assert!(!screen.contains('\u{1b}'));
    assert!(!screen.contains('\u{202e}'));
    assert!(screen.contains("Edit contact — Evil Yılmaz"), "{screen}");
}

#[test]
fn deleting_says_what_happens_to_the_conversations() {
    for (count, words) in [
        (0, "no conversations"),
        (1, "Their conversation stays"),
        (2, "Their 2 conversations stay"),
    ] {
        let mut state = profile_state(80, 24, true);
        state.open_overlay(Overlay::ConfirmDeleteContact(DeleteContact {
            contact_id: contact_id(),
            label: "Deniz Yılmaz".into(),
            conversations: count,
        }));
        let screen = render(&state, 80, 24);
        assert!(screen.contains(words), "{screen}");
        assert!(screen.contains("cannot be undone"), "{screen}");
    }
}

#[test]
fn discarding_a_new_contact_names_it_so() {
    let mut state = with_form(80, 24, ContactForm::create(None));
    state.open_overlay(Overlay::ConfirmDiscard);
    let screen = render(&state, 80, 24);
    assert!(screen.contains("Discard your changes to the new contact?"));
}

#[test]
fn many_conversations_are_cut_first() {
    let mut state = profile_state(80, 24, true);
    let more: Vec<Conversation> = (0..12)
        .map(|i| {
            let mut c = conversation(
                &format!("old-{i}"),
                "Deniz Yılmaz",
                Channel::Sms,
                -100 * 86_400 - i * 3600,
                "eski",
                true,
            );
            c.contact_id = Some(contact_id());
            c
        })
        .collect();
    update(
        &mut state,
        Event::Sync(SyncEvent::Conversations(more)),
        now(),
    );
    let screen = render(&state, 80, 24);
    assert!(screen.contains("more"), "{screen}");
    assert!(screen.contains("Created"), "{screen}");
    // The selected row stays in view when it is far down.
    state.profile_selected = 14;
    let screen = render(&state, 80, 24);
    assert!(screen.contains("+"), "{screen}");
}

#[test]
fn tiny_terminals_do_not_panic() {
    for (w, h) in TINY {
        for (_, state) in scenarios(w, h) {
            draw_only(&state, w, h);
        }
        // A state laid out for 80x24 drawn on a smaller screen, as
        // between a resize and its event.
        for (_, state) in scenarios(80, 24) {
            draw_only(&state, w, h);
        }
    }
}

#[test]
fn a_short_form_scrolls_to_the_focused_field() {
    let mut form = form_with_errors();
    form.focused = form.index_of(ContactField::Tags).unwrap();
    form.message = Some("The server refused the change".into());
    let state = with_form(80, 12, form);
    let screen = render(&state, 80, 12);
    assert!(screen.contains("▶ Tags"), "{screen}");
    assert!(screen.contains("The server refused"), "{screen}");
    assert!(!screen.contains("First name"), "{screen}");
}

#[test]
fn the_focused_field_shows_its_cursor_after_the_text() {
    let state = with_form(80, 24, form_with_errors());
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    terminal.draw(|frame| ui::draw(frame, &state)).unwrap();
    let buffer = terminal.backend().buffer();
    let row = (0..24)
        .find(|&y| {
            let line: String = (0..80).map(|x| buffer[(x, y)].symbol()).collect();
            line.contains("▶ Phone")
        })
        .expect("the phone row");
    let line: String = (0..80).map(|x| buffer[(x, row)].symbol()).collect();
    let typed_at = line.find("0532 12").unwrap();
    let x = u16::try_from(line[..typed_at].chars().count() + "0532 12".len()).unwrap();
    let cursor = &buffer[(x, row)];
    assert!(
        cursor.modifier.contains(ratatui::style::Modifier::REVERSED),
        "{cursor:?}"
    );
}

#[test]
fn the_profile_says_how_an_unsaved_edit_stands() {
    let mut other = Contact::named("contact-c4", "Ava");
    other.last_name = Some("Smith".into());
    let cases = [
        (EditState::Sending, "Saving…"),
        (
            EditState::Retrying {
                retry_at: at(3600 + 90),
                reason: "server unavailable".into(),
            },
            "Retrying at 10:01: server unavailable",
        ),
        (
            EditState::Conflict {
                server: Box::new(deniz()),
            },
            "Changed on the server too — e to choose",
        ),
        (
            EditState::Duplicate {
                existing: Box::new(other),
            },
            "Phone already belongs to Ava Smith",
        ),
    ];
    for (edit_state, words) in cases {
        let mut state = profile_state(200, 50, true);
        refused(&mut state);
        state.contact_edits.get_mut("edit-1").unwrap().state = edit_state;
        let screen = render(&state, 200, 50);
        assert!(screen.contains(words), "{words}\n{screen}");
    }
}
