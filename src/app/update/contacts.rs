//! The contact profile, the editor and its save through the mutation log,
//! creating and deleting contacts.
//!
//! A save is a record of the log before it is a request: on disk, sent
//! with the priority of the agent's own actions, retried while the failure
//! is transient, and kept with the server's reason when refused, so what
//! the agent typed is never lost. The editor stays open while the save is
//! on its way; closing it does not stop the save.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::api::ApiError;
use crate::app::command::Command;
use crate::app::contact_form::{ContactForm, FieldValue, FormMode};
use crate::app::event::{ContactSaveError, ContactSaved};
use crate::app::keymap::Action;
use crate::app::picker::{Picker, PickerItem, PickerPurpose};
use crate::app::state::{AppState, DeleteContact, Focus, NoticeLevel, Overlay};
use crate::app::view::{self, layout::ProfilePlacement};
use crate::contact_fields::{self, ContactField};
use crate::domain::{Contact, ContactId, Tag, TagId};
use crate::store::contact_edits::{ContactEdit, ContactOp, EditState, KIND};
use crate::store::db::DbWrite;
use crate::text;

/// Longest wait between automatic retries of a save.
const MAX_RETRY_SECS: i64 = 60;

pub fn on_contact_action(state: &mut AppState, action: Action, fresh_id: String) -> Vec<Command> {
    let _ = fresh_id;
    match action {
        Action::ToggleProfile => toggle_profile(state),
        Action::Contacts => super::directory::open_directory(state),
        Action::EditContact => match view::profile_contact_id(state).cloned() {
            Some(id) => edit_contact(state, &id),
            None => {
                state.notify(
                    NoticeLevel::Info,
                    "No contact here: select a conversation, or open the contacts with C",
                );
                Vec::new()
            }
        },
        Action::NewContact => {
            new_contact(state);
            Vec::new()
        }
        Action::DeleteContact => {
            match view::profile_contact_id(state).cloned() {
                Some(id) => ask_delete(state, &id),
                None => state.notify(NoticeLevel::Info, "No contact here to delete"),
            }
            Vec::new()
        }
        _ => Vec::new(),
    }
}

fn toggle_profile(state: &mut AppState) -> Vec<Command> {
    state.dirty = true;
    if view::profile_placement(state) != ProfilePlacement::Hidden {
        state.profile_shown = Some(false);
        if state.focus == Focus::Profile {
            state.focus = back_from_profile(state);
        }
        return Vec::new();
    }
    if view::profile_contact_id(state).is_none() {
        state.notify(
            NoticeLevel::Info,
            "This conversation has no contact to show",
        );
        return Vec::new();
    }
    state.profile_shown = Some(true);
    state.focus = Focus::Profile;
    state.profile_selected = profile_rows(state)
        .iter()
        .position(|id| Some(id) == state.open.as_ref())
        .unwrap_or(0);
    load_profile(state)
}

fn back_from_profile(state: &AppState) -> Focus {
    if state.open.is_some() {
        Focus::Thread
    } else {
        Focus::List
    }
}

/// The profile's conversations, in the order shown.
fn profile_rows(state: &AppState) -> Vec<crate::domain::ConversationId> {
    view::profile_contact_id(state)
        .map(|id| {
            state
                .store
                .conversations_of(id)
                .into_iter()
                .map(|c| c.id.clone())
                .collect()
        })
        .unwrap_or_default()
}

/// Movement and opening while the profile has the keys.
pub fn on_profile_action(state: &mut AppState, action: Action) -> Vec<Command> {
    let rows = profile_rows(state);
    let last = rows.len().saturating_sub(1);
    match action {
        Action::Up => state.profile_selected = state.profile_selected.saturating_sub(1),
        Action::Down => state.profile_selected = (state.profile_selected + 1).min(last),
        Action::Top => state.profile_selected = 0,
        Action::Bottom => state.profile_selected = last,
        Action::Open => return open_profile_row(state, state.profile_selected),
        Action::Back => state.focus = back_from_profile(state),
        _ => {}
    }
    state.dirty = true;
    Vec::new()
}

/// Keys of the profile the keymap does not bind: `1`–`9` open the
/// contact's conversations.
pub fn on_profile_key(state: &mut AppState, key: KeyEvent) -> Option<Vec<Command>> {
    if view::profile_placement(state) == ProfilePlacement::Hidden {
        state.focus = back_from_profile(state);
        return None;
    }
    if key
        .modifiers
        .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
    {
        return None;
    }
    let KeyCode::Char(digit @ '1'..='9') = key.code else {
        return None;
    };
    if state.keymap.lookup(state.focus.scope(), &key).is_some() {
        return None;
    }
    let index = usize::from(digit as u8 - b'1');
    Some(open_profile_row(state, index))
}

fn open_profile_row(state: &mut AppState, index: usize) -> Vec<Command> {
    let rows = profile_rows(state);
    let Some(id) = rows.get(index).cloned() else {
        return Vec::new();
    };
    state.profile_selected = index;
    let commands = super::open_conversation(state, id);
    // On a narrow terminal the thread takes the profile's place again.
    state.focus = Focus::Thread;
    commands
}

/// Reads the contact the profile shows when it is not at hand.
pub fn load_profile(state: &mut AppState) -> Vec<Command> {
    if view::profile_placement(state) == ProfilePlacement::Hidden {
        return Vec::new();
    }
    match view::profile_contact_id(state).cloned() {
        Some(id) => load_contact(state, &id),
        None => Vec::new(),
    }
}

/// How long a contact the server could not give is left alone.
const CONTACT_RETRY_AFTER: chrono::Duration = chrono::Duration::seconds(60);
/// Contacts remembered as missing from the cache.
const UNCACHED_LIMIT: usize = 256;

/// Asks for a contact's full record unless it is at hand or on its way:
/// from the cache, or from the server when the cache is known to lack it
/// and the agent is looking at it on purpose.
pub fn load_contact(state: &mut AppState, id: &ContactId) -> Vec<Command> {
    if state.contact_cards.get(id).is_some() || state.contacts_loading.contains(id) {
        return Vec::new();
    }
    let uncached = state.contacts_uncached.contains(id);
    let now = state.now;
    state.contacts_failed.retain(|(_, until)| *until > now);
    if uncached
        && (!worth_a_request(state, id) || state.contacts_failed.iter().any(|(c, _)| c == id))
    {
        return Vec::new();
    }
    state.contacts_loading.push(id.clone());
    vec![Command::LoadContact {
        contact_id: id.clone(),
        from_server: uncached,
    }]
}

pub fn on_contact_loaded(
    state: &mut AppState,
    contact_id: ContactId,
    from_server: bool,
    result: Result<Box<Contact>, ApiError>,
) -> Vec<Command> {
    match result {
        Ok(contact) => {
            state.contacts_loading.retain(|id| id != &contact_id);
            state.contacts_uncached.retain(|id| id != &contact_id);
            if from_server {
                state
                    .store
                    .upsert_contacts(vec![(*contact).clone()], Vec::new());
                super::triage::refresh_list(state);
            }
            rebase_clean_forms(state, &contact);
            state.contact_cards.put(*contact);
            state.dirty = true;
            if state.open_editor_for.as_ref() == Some(&contact_id) {
                state.open_editor_for = None;
                return edit_contact(state, &contact_id);
            }
            Vec::new()
        }
        Err(ApiError::NotFound(_)) if !from_server => {
            // Not in the cache: remembered, and asked of the server when
            // worth a request (the same rule as for the next time).
            state.contacts_loading.retain(|id| id != &contact_id);
            if !state.contacts_uncached.contains(&contact_id) {
                state.contacts_uncached.push(contact_id.clone());
                if state.contacts_uncached.len() > UNCACHED_LIMIT {
                    state.contacts_uncached.remove(0);
                }
            }
            load_contact(state, &contact_id)
        }
        Err(error) => {
            state.contacts_loading.retain(|id| id != &contact_id);
            if from_server {
                state
                    .contacts_failed
                    .push((contact_id.clone(), state.now + CONTACT_RETRY_AFTER));
            }
            if from_server && matches!(error, ApiError::NotFound(_)) {
                state
                    .store
                    .upsert_contacts(Vec::new(), vec![contact_id.clone()]);
            }
            if state.open_editor_for.as_ref() == Some(&contact_id) {
                state.open_editor_for = None;
                state.notify_error("Cannot edit this contact", &error);
            } else {
                tracing::warn!(%error, contact = %contact_id, "reading a contact failed");
            }
            state.dirty = true;
            Vec::new()
        }
    }
}

/// The server is asked for a contact the cache lacks only when the agent
/// is looking at it on purpose — the open conversation's, the editor's,
/// the directory's choice — not for every row the selection passes over:
/// the request budget is shared with the sync.
fn worth_a_request(state: &AppState, id: &ContactId) -> bool {
    let open = state
        .open
        .as_ref()
        .and_then(|c| state.store.get(c))
        .and_then(|e| e.conversation.contact_id.as_ref());
    open == Some(id)
        || state.open_editor_for.as_ref() == Some(id)
        || state
            .overlays
            .iter()
            .any(|o| matches!(o, Overlay::Directory(d) if d.selected_contact() == Some(id)))
}

/// A fresher copy of a contact reaches an editor the agent has not typed
/// in yet: it shows the new values instead of saving against old ones.
fn rebase_clean_forms(state: &mut AppState, contact: &Contact) {
    for overlay in &mut state.overlays {
        if let Overlay::ContactForm(form) = overlay
            && form.contact_id() == Some(&contact.id)
            && form.saving.is_none()
            && form.conflict.is_none()
            && !form.is_dirty()
            && form.base != *contact
        {
            form.rebase(contact);
        }
    }
}

/// Opens the editor on a contact, resuming a save the server refused or
/// that met a change on the server.
pub fn edit_contact(state: &mut AppState, contact_id: &ContactId) -> Vec<Command> {
    if state.contact_edits.deleting(contact_id) {
        state.notify(NoticeLevel::Info, "This contact is being deleted");
        return Vec::new();
    }
    if let Some(edit) = state.contact_edits.for_contact(contact_id).cloned() {
        return resume_edit(state, edit);
    }
    let Some(card) = state.contact_cards.get(contact_id).cloned() else {
        state.open_editor_for = Some(contact_id.clone());
        let name = state
            .store
            .contact_label(contact_id)
            .map(text::sanitize_line)
            .unwrap_or_else(|| "the contact".into());
        state.notify(NoticeLevel::Info, format!("Reading {name}'s profile…"));
        let mut commands = load_contact(state, contact_id);
        if commands.is_empty() && !state.contacts_loading.contains(contact_id) {
            commands.push(Command::LoadContact {
                contact_id: contact_id.clone(),
                from_server: true,
            });
        }
        return commands;
    };
    let form = ContactForm::edit(&card, state.account_country.clone());
    state.open_overlay(Overlay::ContactForm(Box::new(form)));
    Vec::new()
}

fn resume_edit(state: &mut AppState, edit: ContactEdit) -> Vec<Command> {
    let region = state.account_country.clone();
    let mut form = match &edit.op {
        ContactOp::Update { base, changes, .. } => ContactForm::resume(base, changes, region),
        ContactOp::Create { fields } => {
            let mut form = ContactForm::resume(&Contact::named("", ""), fields, region);
            form.mode = FormMode::Create;
            form.validate();
            form
        }
        ContactOp::Delete { .. } => return Vec::new(),
    };
    form.edit_id = Some(edit.id.clone());
    match &edit.state {
        EditState::Sending | EditState::Retrying { .. } => {
            state.notify(
                NoticeLevel::Info,
                "A save of this contact is on its way; it can be edited once it is through",
            );
            return Vec::new();
        }
        EditState::Refused { reason, field } => form.show_refusal(reason, *field),
        EditState::Conflict { server } => {
            form.rebase(server);
        }
        EditState::Duplicate { existing } => {
            form.duplicate = Some((existing.id.clone(), existing.label()));
            form.show_refusal(
                &duplicate_text(&existing.label()),
                Some(ContactField::Phone),
            );
        }
    }
    state.open_overlay(Overlay::ContactForm(Box::new(form)));
    Vec::new()
}

fn duplicate_text(name: &str) -> String {
    format!(
        "this phone already belongs to {} (Ctrl-O opens it)",
        text::sanitize_line(name)
    )
}

/// Opens the editor for a new contact (or the one the server refused).
pub fn new_contact(state: &mut AppState) {
    let refused = state
        .contact_edits
        .items()
        .iter()
        .find(|e| matches!(e.op, ContactOp::Create { .. }) && e.needs_agent())
        .cloned();
    if let Some(edit) = refused {
        resume_edit(state, edit);
        return;
    }
    let form = ContactForm::create(state.account_country.clone());
    state.open_overlay(Overlay::ContactForm(Box::new(form)));
}

/// Asks before deleting a contact, saying what happens to its
/// conversations.
pub fn ask_delete(state: &mut AppState, contact_id: &ContactId) {
    let label = state
        .contact_cards
        .get(contact_id)
        .map(Contact::label)
        .or_else(|| state.store.contact_label(contact_id).map(str::to_string))
        .unwrap_or_else(|| "this contact".into());
    let conversations = state.store.conversations_of(contact_id).len();
    state.open_overlay(Overlay::ConfirmDeleteContact(DeleteContact {
        contact_id: contact_id.clone(),
        label,
        conversations,
    }));
}

pub fn on_confirm_delete_key(
    state: &mut AppState,
    key: KeyEvent,
    fresh_id: String,
) -> Vec<Command> {
    let Some(Overlay::ConfirmDeleteContact(delete)) = state.overlay().cloned() else {
        return Vec::new();
    };
    match key.code {
        KeyCode::Char('y') | KeyCode::Char('Y') => {
            state.close_overlay();
            let op = ContactOp::Delete {
                contact_id: delete.contact_id.clone(),
                label: delete.label.clone(),
            };
            state.notify(
                NoticeLevel::Info,
                format!("Deleting {}…", text::sanitize_line(&delete.label)),
            );
            start_save(state, fresh_id, op)
        }
        KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc => {
            state.close_overlay();
            Vec::new()
        }
        KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => {
            super::request_quit(state)
        }
        _ => Vec::new(),
    }
}

/// Opens the contact's latest conversation with its profile shown, where
/// the others are one key away.
pub fn jump_to_contact(state: &mut AppState, contact_id: &ContactId) -> Vec<Command> {
    let Some(latest) = state
        .store
        .conversations_of(contact_id)
        .first()
        .map(|c| c.id.clone())
    else {
        let name = state
            .store
            .contact_label(contact_id)
            .map(text::sanitize_line)
            .unwrap_or_else(|| "This contact".into());
        state.notify(
            NoticeLevel::Info,
            format!("{name} has no conversations yet"),
        );
        return Vec::new();
    };
    let mut commands = super::open_conversation(state, latest);
    state.focus = Focus::Thread;
    state.profile_selected = 0;
    state.profile_shown = Some(true);
    commands.extend(load_profile(state));
    commands
}

fn form_mut(state: &mut AppState) -> Option<&mut ContactForm> {
    match state.overlay_mut() {
        Some(Overlay::ContactForm(form)) => Some(form),
        _ => None,
    }
}

/// The editor for a record of the log, wherever it is in the stack.
fn form_for_edit<'a>(state: &'a mut AppState, edit_id: &str) -> Option<&'a mut ContactForm> {
    state.overlays.iter_mut().rev().find_map(|o| match o {
        Overlay::ContactForm(form)
            if form.saving.as_deref() == Some(edit_id)
                || form.edit_id.as_deref() == Some(edit_id) =>
        {
            Some(form.as_mut())
        }
        _ => None,
    })
}

pub fn on_form_key(state: &mut AppState, key: KeyEvent, fresh_id: String) -> Vec<Command> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl && key.code == KeyCode::Char('c') {
        return super::request_quit(state);
    }
    let Some(form) = form_mut(state) else {
        return Vec::new();
    };
    if form.conflict.is_some() {
        return on_conflict_key(state, key, fresh_id);
    }
    if form.saving.is_some() {
        // The values on their way stay as they are until the answer.
        if key.code == KeyCode::Esc {
            state.close_overlay();
            state.notify(
                NoticeLevel::Info,
                "Still saving; you will be told how it went",
            );
        }
        return Vec::new();
    }
    match key.code {
        KeyCode::Char('s') if ctrl => return save(state, fresh_id),
        KeyCode::Char('u') if ctrl => {
            // Clears the field, as in a shell.
            let index = form.focused;
            if let Some(FieldValue::Text(area)) = form.fields.get_mut(index).map(|f| &mut f.value) {
                **area = crate::app::contact_form::text_area("");
                form.validate();
            }
        }
        KeyCode::Char('o') if ctrl => {
            if let Some((existing, _)) = form.duplicate.clone() {
                return open_existing(state, &existing);
            }
        }
        KeyCode::Esc => {
            if form.is_dirty() {
                state.open_overlay(Overlay::ConfirmDiscard);
            } else {
                discard_form(state);
            }
        }
        KeyCode::Tab | KeyCode::Down => form.focus_next(),
        KeyCode::BackTab | KeyCode::Up => form.focus_prev(),
        KeyCode::Enter => {
            let focused = form.focused_field().map(|f| (f.field, f.value.clone()));
            match focused {
                Some((field, FieldValue::Text(_))) => {
                    let _ = field;
                    form.focus_next();
                }
                Some((field, _)) => open_field_picker(state, field),
                None => {}
            }
        }
        KeyCode::Char(' ')
            if matches!(
                form.focused_field().map(|f| &f.value),
                Some(FieldValue::Toggle(_))
            ) =>
        {
            let field = form.fields[form.focused].field;
            if let FieldValue::Toggle(value) = &form.fields[form.focused].value {
                let next = !value.unwrap_or(false);
                form.set(field, FieldValue::Toggle(Some(next)));
            }
        }
        _ => {
            let index = form.focused;
            if let Some(FieldValue::Text(area)) = form.fields.get_mut(index).map(|f| &mut f.value)
                && !key.modifiers.contains(KeyModifiers::ALT)
                && area.input(key)
            {
                // One line: a pasted or typed line break never splits it.
                if area.lines().len() > 1 {
                    let joined = area.lines().join(" ");
                    **area = crate::app::contact_form::text_area(&joined);
                }
                form.message = None;
                form.duplicate = None;
                form.validate();
            } else if let Some(form_field) = form.fields.get(index)
                && !form_field.field.is_text()
                && let KeyCode::Char(_) = key.code
                && !ctrl
            {
                // Typing on a choice field opens its picker.
                let field = form_field.field;
                open_field_picker(state, field);
                if let KeyCode::Char(c) = key.code
                    && let Some(Overlay::Picker(picker)) = state.overlay_mut()
                {
                    picker.set_query(c.to_string());
                }
            }
        }
    }
    state.dirty = true;
    Vec::new()
}

/// Pasted text goes into the focused text field, on one line.
pub fn paste_into_form(state: &mut AppState, pasted: &str) -> bool {
    let Some(form) = form_mut(state) else {
        return false;
    };
    if form.saving.is_some() || form.conflict.is_some() {
        return true;
    }
    let clean = text::sanitize_line(pasted);
    if let Some(FieldValue::Text(area)) = form.fields.get_mut(form.focused).map(|f| &mut f.value) {
        area.insert_str(clean.trim());
        form.validate();
    }
    state.dirty = true;
    true
}

fn open_existing(state: &mut AppState, existing: &ContactId) -> Vec<Command> {
    discard_form(state);
    if state.store.conversations_of(existing).is_empty() {
        edit_contact(state, existing)
    } else {
        close_directory(state);
        jump_to_contact(state, existing)
    }
}

fn close_directory(state: &mut AppState) {
    state
        .overlays
        .retain(|o| !matches!(o, Overlay::Directory(_)));
    state.dirty = true;
}

/// (code, name) pairs as picker items, the current value checked.
fn coded_items<N: Into<String>>(pairs: Vec<(&str, N)>, current: &str) -> Vec<PickerItem> {
    pairs
        .into_iter()
        .map(|(code, name)| {
            PickerItem::new(name, code)
                .detail(code)
                .checked(code.eq_ignore_ascii_case(current))
        })
        .collect()
}

fn open_field_picker(state: &mut AppState, field: ContactField) {
    let Some(form) = form_mut(state) else {
        return;
    };
    let current = form.field(field).map(|f| f.raw()).unwrap_or_default();
    let (title, items): (&str, Vec<PickerItem>) = match field {
        ContactField::Country => (
            "Country",
            coded_items(contact_fields::countries(), &current),
        ),
        ContactField::Language => (
            "Language (or type a tag such as en-GB)",
            coded_items(contact_fields::languages(), &current),
        ),
        ContactField::Gender => (
            "Gender",
            contact_fields::GENDERS
                .iter()
                .map(|(value, label)| PickerItem::new(*label, *value).checked(*value == current))
                .chain(std::iter::once(
                    PickerItem::new("Not set", "").checked(current.is_empty()),
                ))
                .collect(),
        ),
        ContactField::PhonePermission | ContactField::EmailPermission => (
            field.label(),
            [("Yes", "yes"), ("No", "no"), ("Not asked", "not asked")]
                .into_iter()
                .map(|(label, key)| PickerItem::new(label, key).checked(key == current))
                .collect(),
        ),
        ContactField::Tags => {
            let chosen: Vec<Tag> = match form.field(field).map(|f| &f.value) {
                Some(FieldValue::Tags(tags)) => tags.clone(),
                _ => Vec::new(),
            };
            let mut items: Vec<PickerItem> = chosen
                .iter()
                .map(|t| PickerItem::new(text::sanitize_line(&t.name), t.id.as_str()).checked(true))
                .collect();
            for tag in super::triage::known_tags(state) {
                if !chosen.iter().any(|t| t.id == tag.id) {
                    items.push(PickerItem::new(
                        text::sanitize_line(&tag.name),
                        tag.id.as_str(),
                    ));
                }
            }
            let picker = Picker::new(PickerPurpose::ContactTags, "Tags", items);
            state.open_overlay(Overlay::Picker(picker));
            return;
        }
        _ => return,
    };
    let mut picker = Picker::new(PickerPurpose::ContactChoice(field), title, items);
    if let Some(index) = picker.matches.iter().position(|&i| picker.items[i].checked) {
        picker.selected = index;
    }
    state.open_overlay(Overlay::Picker(picker));
}

/// A choice for the editor's field (the picker is already closed; the
/// form is on top again).
pub fn on_contact_picked(state: &mut AppState, picker: Picker) {
    let current = picker.current().cloned();
    let query = picker.query.trim().to_string();
    let Some(form) = form_mut(state) else {
        return;
    };
    match picker.purpose {
        PickerPurpose::ContactChoice(field) => {
            let value = match (current, field) {
                (Some(item), _) => item.key,
                // Typed rather than listed: a language tag with a region.
                (None, ContactField::Language) if !query.is_empty() => {
                    match contact_fields::check_language(&query) {
                        Ok(tag) => tag,
                        Err(reason) => {
                            form.show_refusal(&reason, Some(ContactField::Language));
                            return;
                        }
                    }
                }
                (None, _) => return,
            };
            let value = match field {
                ContactField::PhonePermission | ContactField::EmailPermission => {
                    FieldValue::Toggle(match value.as_str() {
                        "yes" => Some(true),
                        "no" => Some(false),
                        _ => None,
                    })
                }
                _ => FieldValue::Choice((!value.is_empty()).then_some(value)),
            };
            form.set(field, value);
        }
        PickerPurpose::ContactTags => {
            let mut tags: Vec<Tag> = picker
                .items
                .iter()
                .filter(|i| i.checked)
                .map(|i| Tag {
                    id: TagId::new(i.key.clone()),
                    name: i.label.clone(),
                    color: None,
                })
                .collect();
            if tags.is_empty()
                && let Some(item) = &current
                && !picker.items.iter().any(|i| i.checked != i.was_checked)
            {
                // Enter on an unchecked tag without Space: that one.
                tags.push(Tag {
                    id: TagId::new(item.key.clone()),
                    name: item.label.clone(),
                    color: None,
                });
            }
            form.set(ContactField::Tags, FieldValue::Tags(tags));
        }
        _ => {}
    }
    state.dirty = true;
}

fn on_conflict_key(state: &mut AppState, key: KeyEvent, fresh_id: String) -> Vec<Command> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let Some(form) = form_mut(state) else {
        return Vec::new();
    };
    let Some(conflict) = form.conflict.as_mut() else {
        return Vec::new();
    };
    let last = conflict.rows.len().saturating_sub(1);
    match key.code {
        KeyCode::Up | KeyCode::Char('k') => conflict.selected = conflict.selected.saturating_sub(1),
        KeyCode::Down | KeyCode::Char('j') | KeyCode::Tab => {
            conflict.selected = (conflict.selected + 1).min(last)
        }
        KeyCode::Left | KeyCode::Char('h') => {
            if let Some(row) = conflict.rows.get_mut(conflict.selected) {
                row.keep_mine = true;
            }
        }
        KeyCode::Right | KeyCode::Char('l') => {
            if let Some(row) = conflict.rows.get_mut(conflict.selected) {
                row.keep_mine = false;
            }
        }
        KeyCode::Char(' ') => {
            if let Some(row) = conflict.rows.get_mut(conflict.selected) {
                row.keep_mine = !row.keep_mine;
            }
        }
        KeyCode::Enter => {
            form.settle_conflict();
            return save(state, fresh_id);
        }
        KeyCode::Char('s') if ctrl => {
            form.settle_conflict();
            return save(state, fresh_id);
        }
        KeyCode::Esc => form.settle_conflict(),
        _ => {}
    }
    state.dirty = true;
    Vec::new()
}

pub fn on_confirm_discard_key(state: &mut AppState, key: KeyEvent) -> Vec<Command> {
    match key.code {
        KeyCode::Char('y') | KeyCode::Char('Y') => {
            state.close_overlay();
            discard_form(state);
        }
        KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc => state.close_overlay(),
        KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => {
            return super::request_quit(state);
        }
        _ => {}
    }
    Vec::new()
}

/// Closes the editor on top. A refused save it was resuming leaves the
/// log: discarding is the agent's choice.
fn discard_form(state: &mut AppState) {
    let Some(Overlay::ContactForm(form)) = state.overlay().cloned() else {
        return;
    };
    state.close_overlay();
    if let Some(edit_id) = &form.edit_id
        && state
            .contact_edits
            .get(edit_id)
            .is_some_and(ContactEdit::needs_agent)
    {
        state.contact_edits.remove(edit_id);
        state.store.record(DbWrite::RemoveMutation {
            id: edit_id.clone(),
        });
    }
}

/// `Ctrl-S`: what the agent changed becomes a record of the log, then a
/// request.
fn save(state: &mut AppState, fresh_id: String) -> Vec<Command> {
    let Some(form) = form_mut(state) else {
        return Vec::new();
    };
    let changes = match form.changes() {
        Ok(changes) => changes,
        Err((field, reason)) => {
            if let Some(index) = form.index_of(field) {
                form.focused = index;
            }
            form.message = Some(format!("{}: {reason}", field.label()));
            state.dirty = true;
            return Vec::new();
        }
    };
    let op = match &form.mode {
        FormMode::Edit { contact_id } => {
            if changes.is_empty() {
                let edit_id = form.edit_id.clone();
                state.close_overlay();
                if let Some(edit_id) = edit_id {
                    forget_edit(state, &edit_id);
                }
                state.notify(NoticeLevel::Info, "Nothing changed");
                return Vec::new();
            }
            ContactOp::Update {
                contact_id: contact_id.clone(),
                base: Box::new(form.base.clone()),
                changes,
            }
        }
        FormMode::Create => ContactOp::Create { fields: changes },
    };
    let edit_id = form.edit_id.clone().unwrap_or(fresh_id);
    form.edit_id = Some(edit_id.clone());
    form.saving = Some(edit_id.clone());
    form.message = None;
    form.duplicate = None;
    start_save(state, edit_id, op)
}

fn start_save(state: &mut AppState, edit_id: String, op: ContactOp) -> Vec<Command> {
    let attempts = state
        .contact_edits
        .remove(&edit_id)
        .map(|old| old.attempts)
        .unwrap_or(0);
    let mut edit = ContactEdit::new(edit_id.clone(), op.clone(), state.now);
    edit.attempts = attempts;
    persist(state, &edit);
    state.contact_edits.push(edit);
    state.dirty = true;
    vec![Command::SaveContact {
        edit_id,
        op,
        attempts,
    }]
}

fn persist(state: &mut AppState, edit: &ContactEdit) {
    state.store.record(DbWrite::PutMutation {
        kind: KIND,
        id: edit.id.clone(),
        conversation_id: crate::domain::ConversationId::new(
            edit.op
                .contact_id()
                .map(|c| c.as_str().to_string())
                .unwrap_or_default(),
        ),
        json: edit.to_json(),
    });
}

fn forget_edit(state: &mut AppState, edit_id: &str) {
    if state.contact_edits.remove(edit_id).is_some() {
        state.store.record(DbWrite::RemoveMutation {
            id: edit_id.to_string(),
        });
    }
}

fn close_form_of(state: &mut AppState, edit_id: &str) {
    state.overlays.retain(|o| {
        !matches!(o, Overlay::ContactForm(form)
            if form.saving.as_deref() == Some(edit_id) || form.edit_id.as_deref() == Some(edit_id))
    });
    // A discard question about a closed form has nothing left to ask.
    if matches!(state.overlay(), Some(Overlay::ConfirmDiscard))
        && !state
            .overlays
            .iter()
            .any(|o| matches!(o, Overlay::ContactForm(_)))
    {
        state.close_overlay();
    }
    state.dirty = true;
}

pub fn on_contact_saved(
    state: &mut AppState,
    edit_id: &str,
    result: Result<ContactSaved, ContactSaveError>,
) -> Vec<Command> {
    let Some(mut edit) = state.contact_edits.get(edit_id).cloned() else {
        return Vec::new();
    };
    state.dirty = true;
    let name = op_label(state, &edit.op);
    match result {
        Ok(ContactSaved::Saved(contact)) => {
            forget_edit(state, edit_id);
            close_form_of(state, edit_id);
            let created = matches!(edit.op, ContactOp::Create { .. });
            state
                .store
                .upsert_contacts(vec![(*contact).clone()], Vec::new());
            super::triage::refresh_list(state);
            let label = text::sanitize_line(&contact.label());
            if created {
                select_in_directory(state, &contact.id);
            }
            state.contact_cards.put(*contact);
            let verb = if created { "Created" } else { "Saved" };
            state.notify(NoticeLevel::Info, format!("{verb} {label}"));
            Vec::new()
        }
        Ok(ContactSaved::Deleted) => {
            forget_edit(state, edit_id);
            if let Some(id) = edit.op.contact_id().cloned() {
                state.store.remove_contact(&id);
                state.contact_cards.remove(&id);
                super::triage::refresh_list(state);
            }
            state.notify(
                NoticeLevel::Info,
                format!("Deleted {name}; their conversations stay, as “Unknown contact”"),
            );
            Vec::new()
        }
        Err(ContactSaveError::Api(error)) if error.is_transient() => {
            edit.attempts += 1;
            let wait = (1i64 << edit.attempts.min(6)).min(MAX_RETRY_SECS);
            let retry_at = state.now + chrono::Duration::seconds(wait);
            let reason = error.to_string();
            edit.state = EditState::Retrying {
                retry_at,
                reason: reason.clone(),
            };
            settle(state, edit);
            let when = crate::timefmt::clock(state.now, retry_at, state.utc_offset);
            let message = format!(
                "Not saved yet ({}). Your changes are kept and sent again at {when}.",
                text::sanitize_line(&reason)
            );
            match form_for_edit(state, edit_id) {
                Some(form) => {
                    form.message = Some(message);
                }
                None => state.notify(NoticeLevel::Warning, format!("{name}: {message}")),
            }
            Vec::new()
        }
        Err(ContactSaveError::Api(error)) => {
            let reason = text::sanitize_line(&refusal_text(&error));
            if matches!(edit.op, ContactOp::Delete { .. }) {
                forget_edit(state, edit_id);
                state.notify(
                    NoticeLevel::Error,
                    format!("Could not delete {name}: {reason}"),
                );
                return Vec::new();
            }
            let field = match &error {
                ApiError::Rejected { message, .. } => ContactField::named_in(message),
                _ => None,
            };
            edit.state = EditState::Refused {
                reason: reason.clone(),
                field,
            };
            settle(state, edit);
            match form_for_edit(state, edit_id) {
                Some(form) => {
                    form.saving = None;
                    form.show_refusal(&reason, field);
                }
                None => state.notify(
                    NoticeLevel::Error,
                    format!("Not saved: {name}: {reason}. Your changes are kept: press E on the contact to fix them"),
                ),
            }
            Vec::new()
        }
        Err(ContactSaveError::Conflict(server)) => {
            edit.state = EditState::Conflict {
                server: server.clone(),
            };
            settle(state, edit);
            state.contact_cards.put((*server).clone());
            match form_for_edit(state, edit_id) {
                Some(form) => {
                    form.saving = None;
                    if !form.rebase(&server) {
                        form.message =
                            Some("The contact changed on the server; save again to apply yours".into());
                    }
                }
                None => state.notify(
                    NoticeLevel::Warning,
                    format!("{name} changed on the server while you edited: press E on the contact to choose"),
                ),
            }
            Vec::new()
        }
        Err(ContactSaveError::Duplicate(existing)) => {
            let existing_name = existing.label();
            edit.state = EditState::Duplicate {
                existing: existing.clone(),
            };
            settle(state, edit);
            state
                .store
                .upsert_contacts(vec![(*existing).clone()], Vec::new());
            state.contact_cards.put((*existing).clone());
            let text = duplicate_text(&existing_name);
            match form_for_edit(state, edit_id) {
                Some(form) => {
                    form.saving = None;
                    form.duplicate = Some((existing.id.clone(), existing_name));
                    form.show_refusal(&text, Some(ContactField::Phone));
                }
                None => state.notify(NoticeLevel::Error, format!("Not created: {text}")),
            }
            Vec::new()
        }
    }
}

/// A contact just made is selected in the directory it was made from.
fn select_in_directory(state: &mut AppState, id: &ContactId) {
    let height = crate::app::directory::list_height(state.width, state.height);
    let AppState {
        overlays, store, ..
    } = state;
    for overlay in overlays.iter_mut() {
        if let Overlay::Directory(directory) = overlay {
            directory.rebuild(store);
            if let Some(position) =
                (0..directory.matches.len()).position(|n| directory.contact_at(n) == Some(id))
            {
                directory.select(position);
                directory.ensure_visible(height);
            }
        }
    }
}

/// A record that now waits for the agent, saved with why.
fn settle(state: &mut AppState, edit: ContactEdit) {
    persist(state, &edit);
    let id = edit.id.clone();
    if let Some(slot) = state.contact_edits.get_mut(&id) {
        *slot = edit;
    }
}

fn refusal_text(error: &ApiError) -> String {
    match error {
        ApiError::Rejected { message, .. } => message.clone(),
        ApiError::NotFound(_) => "the contact no longer exists on the server".into(),
        other => other.to_string(),
    }
}

fn op_label(state: &AppState, op: &ContactOp) -> String {
    let label = match op {
        ContactOp::Update { base, .. } => base.label(),
        ContactOp::Create { fields } => fields
            .first_name
            .clone()
            .unwrap_or_else(|| "the new contact".into()),
        ContactOp::Delete { label, contact_id } => state
            .store
            .contact_label(contact_id)
            .map(str::to_string)
            .unwrap_or_else(|| label.clone()),
    };
    text::sanitize_line(&label)
}

/// Saves waiting for a retry go when their time comes.
pub fn on_tick(state: &mut AppState) -> Vec<Command> {
    let mut commands = Vec::new();
    for id in state.contact_edits.due(state.now) {
        let Some(edit) = state.contact_edits.get_mut(&id) else {
            continue;
        };
        edit.state = EditState::Sending;
        let edit = edit.clone();
        persist(state, &edit);
        commands.push(Command::SaveContact {
            edit_id: edit.id.clone(),
            op: edit.op.clone(),
            attempts: edit.attempts,
        });
    }
    commands
}

/// A contact changed on the server (sync): the profile shows it.
pub fn on_contacts_synced(state: &mut AppState, found: &[Contact]) {
    for contact in found {
        if state.contact_cards.get(&contact.id).is_some() {
            rebase_clean_forms(state, contact);
            state.contact_cards.put(contact.clone());
        }
    }
}
