//! The contact profile pane: who the customer is, what the agent may do
//! with their phone and e-mail, their other conversations, and how an edit
//! the server has not taken yet stands.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::AppState;
use crate::app::contact_form::{contact_value, toggle_text};
use crate::app::state::Focus;
use crate::app::view;
use crate::contact_fields::{ContactField, GENDERS};
use crate::domain::{AgentId, Contact, ContactId, Conversation, ConversationStatus};
use crate::store::contact_edits::EditState;
use crate::text;
use crate::theme;
use crate::timefmt;

/// Cells of the label column ("May e-mail" and a space).
const LABEL_WIDTH: usize = 11;
/// Conversations reachable by a digit key.
const NUMBERED: usize = 9;
/// Lines a pending edit's reason may take; servers can be wordy.
const STATUS_LINES: usize = 2;

pub fn render(frame: &mut Frame, area: Rect, state: &AppState) {
    if area.is_empty() {
        return;
    }
    let focused = state.focus == Focus::Profile;
    let hint = " e edit · D delete · 1-9 open · c hide ";
    let room = usize::from(area.width.saturating_sub(2));
    let block = crate::ui::pane_block(focused)
        .title(Span::styled(
            text::truncate(" Contact ", room).into_owned(),
            theme::title(),
        ))
        .title_bottom(Span::styled(
            text::truncate(hint, room).into_owned(),
            theme::dim(),
        ));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if let Some(id) = view::profile_contact_id(state) {
        render_contact(frame, inner, state, id, focused);
    }
}

/// One contact's profile in `area`: the pane beside the thread and the
/// directory's right half both draw through here. Draws no border, so each
/// caller frames it its own way. `focused` highlights the selected
/// conversation row (`state.profile_selected`).
pub fn render_contact(
    frame: &mut Frame,
    area: Rect,
    state: &AppState,
    contact_id: &ContactId,
    focused: bool,
) {
    if area.is_empty() {
        return;
    }
    let width = usize::from(area.width);
    let height = usize::from(area.height);
    let mut lines = Vec::new();
    match state.contact_cards.get(contact_id) {
        Some(contact) => {
            lines.push(name_line(&contact.display_name(), width));
            lines.extend(edit_lines(state, contact_id, width));
            lines.extend(field_lines(state, contact, width));
        }
        None => {
            let name = state
                .store
                .contact_label(contact_id)
                .map(str::to_string)
                .or_else(|| view::profile_conversation(state).map(|c| c.contact_name.clone()))
                .unwrap_or_else(|| crate::domain::UNKNOWN_CONTACT.to_string());
            lines.push(name_line(&name, width));
            lines.extend(edit_lines(state, contact_id, width));
            let details = state.store.contact_details(contact_id);
            let phone = details.and_then(|d| d.phone.as_deref());
            let email = details.and_then(|d| d.email.as_deref());
            lines.push(row("Phone", &optional(phone), width));
            lines.push(row("E-mail", &optional(email), width));
            lines.push(Line::styled(
                text::truncate("loading…", width).into_owned(),
                theme::dim(),
            ));
        }
    }
    let conversations = state.store.conversations_of(contact_id);
    // Fields first: the conversations give way when the pane is short.
    let left = height.saturating_sub(lines.len());
    if left >= 3 {
        lines.push(Line::raw(""));
        lines.push(Line::styled(
            text::truncate(&format!("Conversations ({})", conversations.len()), width).into_owned(),
            theme::title(),
        ));
        lines.extend(conversation_lines(
            state,
            &conversations,
            focused,
            left - 2,
            width,
        ));
    }
    lines.truncate(height);
    frame.render_widget(Paragraph::new(lines), area);
}

fn name_line(name: &str, width: usize) -> Line<'static> {
    let name = text::sanitize_line(name);
    let name = if name.is_empty() {
        crate::domain::UNKNOWN_CONTACT.to_string()
    } else {
        name
    };
    Line::styled(
        text::truncate(&name, width).into_owned(),
        theme::contact_name(),
    )
}

fn optional(value: Option<&str>) -> String {
    match value.map(str::trim) {
        Some(v) if !v.is_empty() => v.to_string(),
        _ => "—".to_string(),
    }
}

/// `Label      value`, the value sanitized and cut to the pane.
fn row(label: &str, value: &str, width: usize) -> Line<'static> {
    row_styled(label, value, width, Style::default())
}

fn row_styled(label: &str, value: &str, width: usize, style: Style) -> Line<'static> {
    let label = text::truncate(label, LABEL_WIDTH.saturating_sub(1).min(width));
    let pad = LABEL_WIDTH.min(width).saturating_sub(text::width(&label));
    let value = text::sanitize_line(value);
    let room = width.saturating_sub(LABEL_WIDTH);
    let style = if value == "—" { theme::dim() } else { style };
    Line::from(vec![
        Span::styled(format!("{label}{}", " ".repeat(pad)), theme::dim()),
        Span::styled(text::truncate(&value, room).into_owned(), style),
    ])
}

fn field_lines(state: &AppState, contact: &Contact, width: usize) -> Vec<Line<'static>> {
    let value = |field| contact_value(contact, field);
    let phone = match (
        contact
            .phone
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty()),
        contact
            .phone_country_code
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty()),
    ) {
        (Some(phone), Some(code)) => format!("{phone} (+{})", code.trim_start_matches('+')),
        (Some(phone), None) => phone.to_string(),
        (None, _) => "—".to_string(),
    };
    let gender = match contact.gender.as_deref().map(str::trim) {
        Some(g) if !g.is_empty() => GENDERS
            .iter()
            .find(|(value, _)| value.eq_ignore_ascii_case(g))
            .map_or_else(|| g.to_string(), |(_, label)| label.to_string()),
        _ => "—".to_string(),
    };
    let mut lines = vec![
        row("Username", &value(ContactField::Username), width),
        row("Phone", &phone, width),
        row("E-mail", &value(ContactField::Email), width),
        row("Country", &value(ContactField::Country), width),
        row("Language", &value(ContactField::Language), width),
        row("Gender", &gender, width),
        row_styled("Tags", &value(ContactField::Tags), width, theme::tag()),
        permission_row("May call", contact.phone_usage_permission, width),
        permission_row("May e-mail", contact.email_usage_permission, width),
    ];
    if contact.platforms.is_empty() {
        lines.push(row("Platforms", "—", width));
    }
    for (i, platform) in contact.platforms.iter().enumerate() {
        let who = platform
            .username
            .as_deref()
            .or(platform.external_id.as_deref())
            .unwrap_or("");
        let label = if i == 0 { "Platforms" } else { "" };
        let channel = text::sanitize_line(platform.channel.label());
        lines.push(row(label, &format!("{channel} {who}"), width));
    }
    let owner = contact
        .owner
        .as_deref()
        .map(str::trim)
        .filter(|o| !o.is_empty());
    let owner = match owner {
        Some(id) => match state.store.agent(&AgentId::new(id)) {
            Some(agent) => format!("{} {}", agent.first_name, agent.last_name),
            None => id.to_string(),
        },
        None => "—".to_string(),
    };
    lines.push(row("Owner", owner.trim(), width));
    let created = contact
        .created_at
        .map(|at| {
            at.with_timezone(&state.utc_offset)
                .format("%d %b %Y")
                .to_string()
        })
        .unwrap_or_else(|| "—".to_string());
    lines.push(row("Created", &created, width));
    lines
}

fn permission_row(label: &str, value: Option<bool>, width: usize) -> Line<'static> {
    let style = match value {
        Some(true) => theme::ok(),
        Some(false) => theme::warning(),
        None => theme::dim(),
    };
    row_styled(label, toggle_text(value), width, style)
}

/// How an edit the server has not taken yet stands, and the key that
/// moves it on.
fn edit_lines(state: &AppState, contact_id: &ContactId, width: usize) -> Vec<Line<'static>> {
    let (message, style) = if state.contact_edits.deleting(contact_id) {
        ("Deleting…".to_string(), theme::warning())
    } else {
        let Some(edit) = state.contact_edits.for_contact(contact_id) else {
            return Vec::new();
        };
        match &edit.state {
            EditState::Sending => ("Saving…".to_string(), theme::warning()),
            EditState::Retrying { retry_at, reason } => (
                format!(
                    "Retrying at {}: {}",
                    timefmt::clock(state.now, *retry_at, state.utc_offset),
                    text::sanitize_line(reason)
                ),
                theme::warning(),
            ),
            EditState::Refused { reason, .. } => (
                format!("Not saved: {} — e to fix", text::sanitize_line(reason)),
                theme::error(),
            ),
            EditState::Conflict { .. } => (
                "Changed on the server too — e to choose".to_string(),
                theme::warning(),
            ),
            EditState::Duplicate { existing } => (
                format!(
                    "Phone already belongs to {}",
                    text::sanitize_line(&existing.display_name())
                ),
                theme::error(),
            ),
        }
    };
    let mut wrapped = text::wrap(&message, width.max(1));
    if wrapped.len() > STATUS_LINES {
        let rest = wrapped.split_off(STATUS_LINES - 1).join(" ");
        wrapped.push(text::truncate(&rest, width).into_owned());
    }
    wrapped
        .into_iter()
        .map(|line| Line::styled(line, style.add_modifier(Modifier::BOLD)))
        .collect()
}

/// At most `room` lines: the rows that fit around the selected one, and
/// `+N more` for the rest.
fn conversation_lines(
    state: &AppState,
    conversations: &[&Conversation],
    focused: bool,
    room: usize,
    width: usize,
) -> Vec<Line<'static>> {
    if conversations.is_empty() {
        return vec![Line::styled(
            text::truncate("None in the inbox.", width).into_owned(),
            theme::dim(),
        )];
    }
    let selected = state
        .profile_selected
        .min(conversations.len().saturating_sub(1));
    let (first, shown) = if conversations.len() <= room {
        (0, conversations.len())
    } else {
        let shown = room.saturating_sub(1);
        let first = if focused {
            (selected + 1).saturating_sub(shown)
        } else {
            0
        };
        (first, shown)
    };
    let open = state.open.as_ref();
    let ages: Vec<String> = conversations
        .iter()
        .map(|c| timefmt::relative(state.now, c.updated_at, state.utc_offset))
        .collect();
    let age_width = ages[first..first + shown]
        .iter()
        .map(|a| text::width(a))
        .max()
        .unwrap_or(0);
    let mut lines = Vec::with_capacity(room);
    for (index, conversation) in conversations.iter().enumerate().skip(first).take(shown) {
        let key = if index < NUMBERED {
            format!("{} ", index + 1)
        } else {
            "  ".to_string()
        };
        let is_open = open == Some(&conversation.id);
        let status_style = match conversation.status {
            ConversationStatus::Open => theme::ok(),
            ConversationStatus::Pending => theme::warning(),
            _ => theme::dim(),
        };
        let status = text::sanitize_line(conversation.status.label());
        let mut spans = vec![
            Span::styled(key, theme::title()),
            Span::styled(if is_open { "● " } else { "  " }, theme::read_ack()),
            Span::styled(format!("{} ", conversation.channel.short()), theme::dim()),
            Span::styled(padded(&status, 8), status_style),
            Span::styled(format!("{:>age_width$} ", ages[index]), theme::dim()),
        ];
        let used: usize = spans.iter().map(|s| text::width(&s.content)).sum();
        let preview = conversation
            .last_message
            .as_ref()
            .map(|m| text::sanitize_line(&m.text))
            .unwrap_or_default();
        spans.push(Span::raw(
            text::truncate(&preview, width.saturating_sub(used)).into_owned(),
        ));
        let mut line = Line::from(spans);
        if focused && index == selected {
            line = line.style(theme::selected_row());
        }
        lines.push(line);
    }
    let hidden = conversations.len() - shown;
    if hidden > 0 {
        lines.push(Line::styled(
            text::truncate(&format!("+{hidden} more"), width).into_owned(),
            theme::dim(),
        ));
    }
    lines
}

/// `s` cut or padded to `cells` display cells, then a space.
fn padded(s: &str, cells: usize) -> String {
    let cut = text::truncate(s, cells);
    format!(
        "{cut}{} ",
        " ".repeat(cells.saturating_sub(text::width(&cut)))
    )
}
