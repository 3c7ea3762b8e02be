//! The template picker's keys, and template messages: chosen, filled,
//! then sent through the outbox like replies (client id, exactly once,
//! kept until the server confirms). Canned replies land in the composer.

use crossterm::event::KeyModifiers;

use super::replies::{enqueue, reply_channel};
use super::*;
use crate::app::template_picker::{Fill, FillKind, PickerTab, SendTarget, TemplatePicker};
use crate::domain::{Channel, Contact, ContactId, Template, TemplateStatus};
use crate::store::outbox::{OutboxTemplate, new_conversation_key};
use crate::store::template_memory;
use crate::template_text::{self, Slot};

/// How far back `R` and `e` look for a message the server reported failed.
const FAILED_LOOKBACK: usize = 50;
/// Templates older than this are read again when the picker opens.
const TEMPLATES_STALE: chrono::Duration = chrono::Duration::minutes(10);

/// Opens the picker for the open (or selected) conversation, or for the
/// profile's contact when the profile has the keys.
pub(super) fn open_picker(state: &mut AppState) -> Vec<Command> {
    let target = if state.focus == Focus::Profile {
        match view::profile_contact_id(state).cloned() {
            Some(contact) => target_for_contact(state, &contact),
            None => return nothing_to_send_to(state),
        }
    } else {
        match state.open.clone().or_else(|| state.selected.clone()) {
            Some(id) => SendTarget::Conversation(id),
            None => return nothing_to_send_to(state),
        }
    };
    open_for(state, target)
}

/// Opens the picker to write to `contact`: in their WhatsApp conversation
/// if they have one, else starting one.
pub fn open_for_contact(state: &mut AppState, contact: &ContactId) -> Vec<Command> {
    let target = target_for_contact(state, contact);
    open_for(state, target)
}

fn nothing_to_send_to(state: &mut AppState) -> Vec<Command> {
    state.notify(
        NoticeLevel::Info,
        "Select a conversation (or a contact) to send a template to",
    );
    Vec::new()
}

fn target_for_contact(state: &AppState, contact: &ContactId) -> SendTarget {
    state
        .store
        .conversations_of(contact)
        .into_iter()
        .filter(|c| c.channel == Channel::WhatsApp)
        .max_by_key(|c| c.updated_at)
        .map(|c| SendTarget::Conversation(c.id.clone()))
        .unwrap_or_else(|| SendTarget::Contact(contact.clone()))
}

/// The templates of the account the message goes out on.
fn templates_for(state: &AppState, target: &SendTarget) -> Vec<Template> {
    let anchor = match target {
        SendTarget::Conversation(id) => id.as_str(),
        SendTarget::Contact(id) => id.as_str(),
    };
    state
        .store
        .templates()
        .iter()
        .filter(|t| state.same_account(t.id.as_str(), anchor))
        .cloned()
        .collect()
}

fn open_for(state: &mut AppState, target: SendTarget) -> Vec<Command> {
    let mut picker = TemplatePicker::new(
        target.clone(),
        templates_for(state, &target),
        state.canned.clone(),
        state.canned_error.clone(),
    );
    if let SendTarget::Conversation(id) = &target {
        let whatsapp = state
            .store
            .get(id)
            .is_some_and(|e| e.conversation.channel == Channel::WhatsApp);
        let window = state.store.reply_window(id, state.now);
        if !state.capabilities_of(id.as_str()).templates {
            picker.window_note = Some(format!(
                "{} does not offer WhatsApp templates here; canned replies work as usual.",
                state.provider_of(id.as_str())
            ));
            picker.switch_tab();
        } else if !window.allows_free_text() {
            picker.window_note = window.explanation(state.now);
        } else if !whatsapp {
            // Templates are WhatsApp's; elsewhere the snippets are what helps.
            picker.switch_tab();
        }
    } else {
        picker.window_note = Some(format!(
            "No WhatsApp conversation with {} yet: a template starts one.",
            contact_label(state, &target)
        ));
    }
    state.open_overlay(Overlay::Templates(Box::new(picker)));
    let stale = state.capabilities.templates
        && state
            .templates_fetched_at
            .is_none_or(|at| state.now - at >= TEMPLATES_STALE);
    if stale {
        state.templates_fetched_at = Some(state.now);
        return vec![Command::LoadTemplates];
    }
    Vec::new()
}

/// Fresh templates while the picker is open replace its list.
pub(super) fn on_templates(state: &mut AppState) {
    state.templates_fetched_at = Some(state.now);
    let target = match state.overlay() {
        Some(Overlay::Templates(picker)) => picker.target.clone(),
        _ => {
            state.dirty = true;
            return;
        }
    };
    let templates = templates_for(state, &target);
    if let Some(Overlay::Templates(picker)) = state.overlay_mut()
        && picker.fill.is_none()
    {
        picker.templates = templates;
        let target = picker.target.clone();
        let tab = picker.tab;
        let query = picker.list.query.clone();
        let note = picker.window_note.clone();
        let (canned, canned_error) = (picker.canned.clone(), picker.canned_error.clone());
        let mut fresh = TemplatePicker::new(target, picker.templates.clone(), canned, canned_error);
        fresh.window_note = note;
        if tab != fresh.tab {
            fresh.switch_tab();
        }
        fresh.list.set_query(query);
        **picker = fresh;
    }
    state.dirty = true;
}

fn contact_label(state: &AppState, target: &SendTarget) -> String {
    match target {
        SendTarget::Conversation(id) => state
            .store
            .get(id)
            .map(|e| e.conversation.contact_name.clone())
            .unwrap_or_else(|| "the customer".into()),
        SendTarget::Contact(id) => state
            .store
            .contact_label(id)
            .map(str::to_string)
            .unwrap_or_else(|| "the contact".into()),
    }
}

fn target_contact(state: &AppState, target: &SendTarget) -> Option<Contact> {
    let id = match target {
        SendTarget::Conversation(id) => state.store.get(id)?.conversation.contact_id.clone()?,
        SendTarget::Contact(id) => id.clone(),
    };
    state.contact_cards.get(&id).cloned().or_else(|| {
        // The directory knows at least the name.
        state
            .store
            .contact_label(&id)
            .map(|label| Contact::named(id.as_str(), label))
    })
}

fn me(state: &AppState) -> Option<crate::domain::Agent> {
    state
        .me
        .as_ref()
        .and_then(|id| state.store.agent(id))
        .cloned()
}

pub(super) fn on_key(state: &mut AppState, key: KeyEvent, fresh_id: String) -> Vec<Command> {
    state.dirty = true;
    let Some(Overlay::Templates(picker)) = state.overlay_mut() else {
        return Vec::new();
    };
    if picker.fill.is_some() {
        return on_fill_key(state, key, fresh_id);
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let alt = key.modifiers.contains(KeyModifiers::ALT);
    match key.code {
        KeyCode::Esc => {
            state.close_overlay();
            return Vec::new();
        }
        KeyCode::Tab | KeyCode::BackTab => picker.switch_tab(),
        KeyCode::Char('l') if ctrl => picker.cycle_language(),
        KeyCode::Char('g') if ctrl => picker.cycle_category(),
        KeyCode::Char('u') if ctrl => picker.list.set_query(String::new()),
        KeyCode::Char('p') if ctrl => picker.list.move_by(-1),
        KeyCode::Char('n') if ctrl => picker.list.move_by(1),
        KeyCode::Up => picker.list.move_by(-1),
        KeyCode::Down => picker.list.move_by(1),
        KeyCode::PageUp => picker.list.move_by(-10),
        KeyCode::PageDown => picker.list.move_by(10),
        KeyCode::Backspace => {
            let mut query = picker.list.query.clone();
            query.pop();
            picker.list.set_query(query);
        }
        KeyCode::Char(c) if !ctrl && !alt => {
            let query = format!("{}{c}", picker.list.query);
            picker.list.set_query(query);
        }
        KeyCode::Enter => return choose(state),
        _ => {}
    }
    Vec::new()
}

fn choose(state: &mut AppState) -> Vec<Command> {
    let Some(Overlay::Templates(picker)) = state.overlay() else {
        return Vec::new();
    };
    let target = picker.target.clone();
    let contact = target_contact(state, &target);
    match picker.tab {
        PickerTab::Templates => {
            let Some(template) = picker.current_template().cloned() else {
                return Vec::new();
            };
            if let Some(why) = template.status.why_not_sendable() {
                let reason = template
                    .rejected_reason
                    .as_deref()
                    .map(|r| format!(" ({})", text::sanitize_line(r)))
                    .unwrap_or_default();
                state.notify(
                    NoticeLevel::Warning,
                    format!("{} cannot be sent: {why}{reason}", template.name),
                );
                return Vec::new();
            }
            if let SendTarget::Conversation(id) = &target
                && state
                    .store
                    .get(id)
                    .is_some_and(|e| e.conversation.channel != Channel::WhatsApp)
            {
                state.notify(
                    NoticeLevel::Warning,
                    "Templates are sent on WhatsApp; this conversation is on another channel",
                );
                return Vec::new();
            }
            let last = state.template_memory.values_for(&template.id).to_vec();
            let fill = Fill::for_template(template, contact.as_ref(), &last);
            set_fill(state, fill);
        }
        PickerTab::Canned => {
            let Some(reply) = picker.current_canned().cloned() else {
                return Vec::new();
            };
            let fill = Fill::for_canned(reply, contact.as_ref(), me(state).as_ref());
            if fill.slots.is_empty() {
                return insert_canned(state, &fill);
            }
            set_fill(state, fill);
        }
    }
    Vec::new()
}

fn set_fill(state: &mut AppState, fill: Fill) {
    if let Some(Overlay::Templates(picker)) = state.overlay_mut() {
        picker.fill = Some(fill);
    }
    state.dirty = true;
}

fn on_fill_key(state: &mut AppState, key: KeyEvent, fresh_id: String) -> Vec<Command> {
    state.dirty = true;
    let Some(Overlay::Templates(picker)) = state.overlay_mut() else {
        return Vec::new();
    };
    let Some(fill) = picker.fill.as_mut() else {
        return Vec::new();
    };
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let canned = matches!(fill.kind, FillKind::Canned(_));
    let last_field = fill.focused + 1 >= fill.fields.len();
    match key.code {
        KeyCode::Esc => {
            picker.fill = None;
        }
        KeyCode::Tab => fill.move_focus(1),
        KeyCode::BackTab => fill.move_focus(-1),
        KeyCode::Down => step_suggestion(fill, 1),
        KeyCode::Up => step_suggestion(fill, -1),
        KeyCode::Char('s') if ctrl => return finish(state, fresh_id),
        KeyCode::Enter if last_field || canned && ctrl => return finish(state, fresh_id),
        KeyCode::Enter => fill.move_focus(1),
        _ => {
            if key.modifiers.contains(KeyModifiers::ALT) {
                return Vec::new();
            }
            let focused = fill.focused;
            if let Some(area) = fill.fields.get_mut(focused)
                && area.input(key)
            {
                fill.error = None;
            }
        }
    }
    Vec::new()
}

/// Up/Down walk the focused field's suggestions, from the value it holds.
fn step_suggestion(fill: &mut Fill, delta: isize) {
    let Some(list) = fill.suggestions.get(fill.focused) else {
        return;
    };
    if list.is_empty() {
        return;
    }
    let current = fill.value(fill.focused);
    let next = match list.iter().position(|s| s.value == current) {
        Some(at) => (at as isize + delta).rem_euclid(list.len() as isize) as usize,
        None if delta > 0 => 0,
        None => list.len() - 1,
    };
    fill.accept_suggestion(next);
}

/// Ctrl-S (or Enter on the last field): send the template, or put the
/// canned reply in the composer.
fn finish(state: &mut AppState, fresh_id: String) -> Vec<Command> {
    let Some(Overlay::Templates(picker)) = state.overlay_mut() else {
        return Vec::new();
    };
    let Some(fill) = picker.fill.as_mut() else {
        return Vec::new();
    };
    if let Some(missing) = fill.first_missing() {
        fill.error = Some(format!("{} needs a value", fill.label(missing)));
        fill.focused = missing;
        state.dirty = true;
        return Vec::new();
    }
    if let Some(index) = fill.slots.iter().position(|s| *s == Slot::HeaderMedia)
        && let Err(problem) = template_text::check_media_url(&fill.value(index))
    {
        fill.error = Some(format!("{} {problem}", fill.label(index)));
        fill.focused = index;
        state.dirty = true;
        return Vec::new();
    }
    let fill = fill.clone();
    let target = picker.target.clone();
    match &fill.kind {
        FillKind::Canned(_) => insert_canned(state, &fill),
        FillKind::Template(template) => {
            let template = (**template).clone();
            send_template(state, target, &template, &fill, fresh_id)
        }
    }
}

fn insert_canned(state: &mut AppState, fill: &Fill) -> Vec<Command> {
    let FillKind::Canned(reply) = &fill.kind else {
        return Vec::new();
    };
    let target = match state.overlay() {
        Some(Overlay::Templates(picker)) => picker.target.clone(),
        _ => return Vec::new(),
    };
    let SendTarget::Conversation(id) = &target else {
        state.notify(
            NoticeLevel::Info,
            "A canned reply goes into a conversation's composer; this contact has none yet",
        );
        return Vec::new();
    };
    let contact = target_contact(state, &target);
    let answers: Vec<(String, String)> = fill
        .slots
        .iter()
        .zip(fill.values())
        .filter_map(|(slot, value)| match slot {
            Slot::Body(key) => Some((key.clone(), value)),
            _ => None,
        })
        .collect();
    let text = crate::canned::render(&reply.text, contact.as_ref(), me(state).as_ref(), &answers);
    let text = text.trim_end().to_string();
    state.close_overlay();
    let mut commands = Vec::new();
    if state.open.as_ref() != Some(id) {
        commands.extend(open_conversation(state, id.clone()));
    }
    let combined = if state.composer.is_blank() {
        text
    } else {
        format!("{}\n{text}", state.composer.text())
    };
    state.composer.set_text(&combined);
    state.draft_changed_at = Some(state.now);
    begin_compose(state);
    state.dirty = true;
    commands
}

fn send_template(
    state: &mut AppState,
    target: SendTarget,
    template: &Template,
    fill: &Fill,
    client_id: String,
) -> Vec<Command> {
    let fields = fill.values();
    let values = template_text::values(template, &fill.slots, &fields);
    let (conversation_id, contact_id) = match &target {
        SendTarget::Conversation(id) => (id.clone(), None),
        SendTarget::Contact(contact) => (new_conversation_key(contact), Some(contact.clone())),
    };
    // The conversation's own number keeps the thread together; a new
    // conversation goes out from the template's number.
    let channel_id = reply_channel(state, &conversation_id).or_else(|| template.channel_id.clone());
    let outbox_template = OutboxTemplate {
        template_id: template.id.clone(),
        template_name: template.name.clone(),
        language: template.language.clone(),
        values: values.clone(),
        contact_id,
    };
    let sends = enqueue(
        state,
        client_id.clone(),
        conversation_id,
        channel_id,
        template_text::rendered(template, &values),
        Some(outbox_template.clone()),
    );
    state
        .template_memory
        .remember(&client_id, &outbox_template, fields);
    state.store.record(DbWrite::SetMeta {
        key: template_memory::META_KEY.into(),
        value: state.template_memory.to_json(),
    });
    state.close_overlay();
    // Sent from the directory: the conversation is what matters now.
    if matches!(state.overlay(), Some(Overlay::Directory(_))) {
        state.close_overlay();
    }
    let who = contact_label(state, &target);
    state.notify(
        NoticeLevel::Info,
        format!("Sending template {} to {who}…", template.name),
    );
    let mut commands = Vec::new();
    if let SendTarget::Conversation(id) = &target
        && state.open.as_ref() != Some(id)
        && state.store.get(id).is_some()
    {
        commands.extend(open_conversation(state, id.clone()));
        state.focus = Focus::Thread;
    }
    state.thread_scroll = 0;
    commands.extend(sends);
    commands
}

/// A template that started a conversation was confirmed: the new
/// conversation is read and opened.
pub(super) fn on_conversation_started(
    state: &mut AppState,
    contact: &ContactId,
    conversation: &ConversationId,
) -> Vec<Command> {
    let who = state
        .store
        .contact_label(contact)
        .map(str::to_string)
        .unwrap_or_else(|| "the contact".into());
    state.notify(
        NoticeLevel::Info,
        format!("Conversation with {who} started on WhatsApp"),
    );
    state.open_when_loaded = Some(conversation.clone());
    vec![Command::RefreshConversation(conversation.clone())]
}

/// Free text is refused where WhatsApp allows only templates: said plainly,
/// with the key that helps. The draft stays.
pub(super) fn blocked_by_window(state: &mut AppState, id: &ConversationId) -> bool {
    let window = state.store.reply_window(id, state.now);
    if window.allows_free_text() {
        return false;
    }
    let why = window
        .explanation(state.now)
        .unwrap_or_else(|| "WhatsApp allows only an approved template here.".into());
    state.notify(
        NoticeLevel::Warning,
        format!("Not sent: {why} Ctrl-T picks a template; your text stays as a draft."),
    );
    true
}

/// `R` on a message the server accepted and later reported as failed:
/// sends it again as a new message (a template with the same values).
pub(super) fn resend_failed_message(
    state: &mut AppState,
    message: &Message,
    fresh_id: String,
) -> Vec<Command> {
    let id = message.conversation_id.clone();
    let remembered = message
        .client_id
        .as_deref()
        .and_then(|c| state.template_memory.sent_as(c))
        .cloned();
    if let Some(sent) = remembered {
        let template = template_by_id(state, &sent.template_id);
        let Some(template) = template else {
            state.notify(
                NoticeLevel::Warning,
                format!(
                    "Template {} is no longer offered; pick another with t",
                    sent.template_name
                ),
            );
            return Vec::new();
        };
        if template.status != TemplateStatus::Approved {
            let why = template.status.why_not_sendable().unwrap_or_default();
            state.notify(
                NoticeLevel::Warning,
                format!("{} cannot be sent again: {why}", template.name),
            );
            return Vec::new();
        }
        let slots = template_text::slots(&template);
        let fields = template_text::fields_from_values(&slots, &sent.values);
        let mut fill = Fill::for_template(template.clone(), None, &fields);
        if fill.first_missing().is_some() {
            // The template changed since: let the agent check the values.
            return open_template_form(state, id, template, &fields);
        }
        fill.error = None;
        return send_template(
            state,
            SendTarget::Conversation(id),
            &template,
            &fill,
            fresh_id,
        );
    }
    if message.kind == crate::domain::MessageKind::Template {
        state.notify(
            NoticeLevel::Info,
            "That template message is not one termdesk remembers sending; pick it again with t",
        );
        return Vec::new();
    }
    if blocked_by_window(state, &id) {
        return Vec::new();
    }
    let channel_id = reply_channel(state, &id);
    state.notify(NoticeLevel::Info, "Sending the failed message again…");
    enqueue(state, fresh_id, id, channel_id, message.text.clone(), None)
}

/// `e` on a message the server reported as failed: its text goes into the
/// composer, or its template's form opens with the values it had.
pub(super) fn edit_failed_message(state: &mut AppState, message: &Message) -> Vec<Command> {
    let remembered = message
        .client_id
        .as_deref()
        .and_then(|c| state.template_memory.sent_as(c))
        .cloned();
    if let Some(sent) = remembered {
        let template = template_by_id(state, &sent.template_id);
        return match template {
            Some(template) => {
                let fields = template_text::fields_from_values(
                    &template_text::slots(&template),
                    &sent.values,
                );
                open_template_form(state, message.conversation_id.clone(), template, &fields)
            }
            None => {
                state.notify(
                    NoticeLevel::Warning,
                    format!("Template {} is no longer offered", sent.template_name),
                );
                Vec::new()
            }
        };
    }
    let text = if state.composer.is_blank() {
        message.text.clone()
    } else {
        format!("{}\n{}", state.composer.text(), message.text)
    };
    state.composer.set_text(&text);
    state.draft_changed_at = Some(state.now);
    begin_compose(state);
    state.dirty = true;
    Vec::new()
}

/// `e` on a template in the outbox that failed: it leaves the outbox and
/// its form opens with the values it had.
pub(super) fn edit_failed_template(state: &mut AppState, client_id: &str) -> Vec<Command> {
    let Some(item) = state.outbox.get(client_id).cloned() else {
        return Vec::new();
    };
    let Some(sent) = item.template else {
        return Vec::new();
    };
    let template = template_by_id(state, &sent.template_id);
    let Some(template) = template else {
        state.notify(
            NoticeLevel::Warning,
            format!(
                "Template {} is no longer offered; R retries it as it was",
                sent.template_name
            ),
        );
        return Vec::new();
    };
    super::remove_outbox_item(state, client_id);
    let fields = template_text::fields_from_values(&template_text::slots(&template), &sent.values);
    let target = match sent.contact_id {
        Some(contact) => SendTarget::Contact(contact),
        None => SendTarget::Conversation(item.conversation_id.clone()),
    };
    let contact = target_contact(state, &target);
    let mut picker = TemplatePicker::new(
        target.clone(),
        templates_for(state, &target),
        state.canned.clone(),
        state.canned_error.clone(),
    );
    picker.fill = Some(Fill::for_template(template, contact.as_ref(), &fields));
    state.open_overlay(Overlay::Templates(Box::new(picker)));
    super::next_sends(state)
}

fn template_by_id(state: &AppState, id: &crate::domain::TemplateId) -> Option<Template> {
    state
        .store
        .templates()
        .iter()
        .find(|t| &t.id == id)
        .cloned()
}

fn open_template_form(
    state: &mut AppState,
    id: ConversationId,
    template: Template,
    fields: &[String],
) -> Vec<Command> {
    let target = SendTarget::Conversation(id);
    let contact = target_contact(state, &target);
    let mut picker = TemplatePicker::new(
        target.clone(),
        templates_for(state, &target),
        state.canned.clone(),
        state.canned_error.clone(),
    );
    picker.fill = Some(Fill::for_template(template, contact.as_ref(), fields));
    state.open_overlay(Overlay::Templates(Box::new(picker)));
    Vec::new()
}

/// The newest message of the open conversation that the server accepted
/// and then reported as failed, if it is ours.
pub(super) fn latest_server_failed(state: &AppState) -> Option<Message> {
    let id = state.open.as_ref()?;
    state
        .store
        .thread(id)?
        .messages
        .iter()
        .rev()
        .take(FAILED_LOOKBACK)
        .find(|m| {
            m.ack == crate::domain::Ack::Failed && m.sender == crate::domain::SenderKind::Agent
        })
        .cloned()
}
