//! The contact editor and its confirmations: one row per field with what
//! is wrong beside it, or, after a conflict, the agent's values against
//! the server's, field by field.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui_textarea::TextArea;

use crate::app::AppState;
use crate::app::contact_form::{
    ContactForm, FieldValue, FormField, FormMode, display, text_area, toggle_text,
};
use crate::app::state::{DeleteContact, Overlay};
use crate::contact_fields::{ContactField, GENDERS};
use crate::text;
use crate::theme;
use crate::ui::help::{centered, framed};

/// Widest the editor gets on big terminals; wider only spreads it thin.
const MAX_WIDTH: u16 = 90;
/// Cells before a value: the focus marker and the longest label.
const LABEL_WIDTH: usize = 18;
/// Wide enough that the delete question's longest line is not broken.
const QUESTION_WIDTH: u16 = 72;
/// Lines a message under the form may take.
const MESSAGE_LINES: usize = 2;

const FORM_KEYS: &str = "Tab/Shift-Tab move · Enter pick · Space toggle · Ctrl-S save · Esc close";
const CONFLICT_KEYS: &str = "j/k move · ←/→ or Space choose · Enter save · Esc back";

/// Room the editor leaves around itself, as other boxes do.
fn box_width(area: Rect) -> u16 {
    if area.width > 4 {
        (area.width - 4).min(MAX_WIDTH)
    } else {
        area.width
    }
}

fn max_height(area: Rect) -> u16 {
    if area.height > 4 {
        area.height - 2
    } else {
        area.height
    }
}

/// The contact's name as the form began, for titles and questions.
fn form_name(form: &ContactForm) -> String {
    match form.mode {
        FormMode::Create => "the new contact".to_string(),
        FormMode::Edit { .. } => {
            let name = text::sanitize_line(&form.base.display_name());
            if name.is_empty() {
                crate::domain::UNKNOWN_CONTACT.to_string()
            } else {
                name
            }
        }
    }
}

pub fn render(frame: &mut Frame, area: Rect, _state: &AppState, form: &ContactForm) {
    if area.is_empty() {
        return;
    }
    let width = box_width(area);
    let inner_width = usize::from(width.saturating_sub(2));
    let (body, keys) = match &form.conflict {
        Some(conflict) => (conflict_body(conflict, inner_width), CONFLICT_KEYS),
        None => (FormBody::new(form, inner_width), FORM_KEYS),
    };
    let wanted = u16::try_from(body.height())
        .unwrap_or(u16::MAX)
        .saturating_add(2);
    let rect = centered(area, width, wanted.min(max_height(area)));
    let block = form_block(form, inner_width, keys);
    let inner = framed(frame, rect, block);
    if inner.is_empty() {
        return;
    }
    body.draw(frame, inner, form);
}

fn form_block(form: &ContactForm, inner_width: usize, keys: &str) -> Block<'static> {
    let (state_text, state_style) = if form.saving.is_some() {
        (" Saving… ", theme::warning())
    } else if form.is_dirty() {
        (" ●  unsaved ", theme::warning())
    } else {
        ("", Style::default())
    };
    let title = match form.mode {
        FormMode::Create => " New contact ".to_string(),
        FormMode::Edit { .. } => format!(" Edit contact — {} ", form_name(form)),
    };
    let state_text = if text::width(state_text) + 4 <= inner_width {
        state_text
    } else {
        ""
    };
    let title_room = inner_width.saturating_sub(text::width(state_text) + 1);
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme::focused_border())
        .title(Span::styled(
            text::truncate(&title, title_room).into_owned(),
            theme::title(),
        ))
        .title_bottom(Span::styled(
            text::truncate(&format!(" {keys} "), inner_width).into_owned(),
            theme::dim(),
        ));
    if !state_text.is_empty() {
        block = block.title(Line::styled(state_text, state_style).right_aligned());
    }
    block
}

/// A row of the field list: its line, the field it belongs to, and where
/// the focused text field's editor goes on it (offset and width).
struct FieldRow {
    line: Line<'static>,
    field: usize,
    editor: Option<(u16, u16)>,
}

/// What goes inside the editor's box.
enum FormBody {
    Fields {
        rows: Vec<FieldRow>,
        footer: Vec<Line<'static>>,
    },
    Lines(Vec<Line<'static>>),
}

impl FormBody {
    fn new(form: &ContactForm, width: usize) -> FormBody {
        let rows = form
            .fields
            .iter()
            .enumerate()
            .flat_map(|(i, f)| field_rows(f, i, i == form.focused, width))
            .collect();
        FormBody::Fields {
            rows,
            footer: footer_lines(form, width),
        }
    }

    fn height(&self) -> usize {
        match self {
            FormBody::Fields { rows, footer } => {
                rows.len() + footer.len() + usize::from(!footer.is_empty())
            }
            FormBody::Lines(lines) => lines.len(),
        }
    }

    fn draw(self, frame: &mut Frame, inner: Rect, form: &ContactForm) {
        let (rows, footer) = match self {
            FormBody::Lines(lines) => {
                frame.render_widget(Paragraph::new(lines), inner);
                return;
            }
            FormBody::Fields { rows, footer } => (rows, footer),
        };
        let height = usize::from(inner.height);
        // The footer (a refusal, a duplicate) matters more than seeing
        // every field at once; the fields scroll.
        let footer_room = if footer.is_empty() {
            0
        } else {
            (footer.len() + 1).min(height.saturating_sub(1))
        };
        let body_height = height - footer_room;
        let focused_rows: Vec<usize> = rows
            .iter()
            .enumerate()
            .filter(|(_, r)| r.field == form.focused)
            .map(|(i, _)| i)
            .collect();
        let first_focused = focused_rows.first().copied().unwrap_or(0);
        let last_focused = focused_rows.last().copied().unwrap_or(0);
        let offset = (last_focused + 1)
            .saturating_sub(body_height)
            .min(first_focused)
            .min(rows.len().saturating_sub(body_height));
        for (y, row) in rows.iter().skip(offset).take(body_height).enumerate() {
            let rect = Rect::new(inner.x, inner.y + y as u16, inner.width, 1);
            frame.render_widget(Paragraph::new(row.line.clone()), rect);
            if let Some((x, w)) = row.editor {
                let x = x.min(inner.width);
                let w = w.min(inner.width - x);
                let editor = Rect::new(inner.x + x, rect.y, w, 1);
                if let Some(FieldValue::Text(area)) = form.fields.get(row.field).map(|f| &f.value)
                    && !editor.is_empty()
                {
                    draw_editor(frame, editor, area);
                }
            }
        }
        // On the right border, so no value is covered.
        let border_x = inner.right();
        if offset > 0 && body_height > 0 {
            let rect = Rect::new(border_x, inner.y, 1, 1);
            frame.render_widget(Paragraph::new(Span::styled("▲", theme::dim())), rect);
        }
        if offset + body_height < rows.len() && body_height > 0 {
            let rect = Rect::new(border_x, inner.y + body_height as u16 - 1, 1, 1);
            frame.render_widget(Paragraph::new(Span::styled("▼", theme::dim())), rect);
        }
        if footer_room > 0 {
            let lines: Vec<Line> = footer.into_iter().take(footer_room - 1).collect();
            let rect = Rect::new(
                inner.x,
                inner.y + (body_height + 1) as u16,
                inner.width,
                (footer_room - 1) as u16,
            );
            frame.render_widget(Paragraph::new(lines), rect);
        }
    }
}

/// The typed value in its one-line editor. A value from the server with
/// control characters in it is drawn from a cleaned copy.
pub(crate) fn draw_editor(frame: &mut Frame, rect: Rect, area: &TextArea<'static>) {
    let typed = area.lines().join(" ");
    let clean = text::sanitize_line(&typed);
    if clean == typed {
        frame.render_widget(area, rect);
        return;
    }
    let mut copy = text_area(&clean);
    let column = area.cursor().1.min(clean.chars().count());
    copy.move_cursor(ratatui_textarea::CursorMove::Jump(
        0,
        u16::try_from(column).unwrap_or(u16::MAX),
    ));
    frame.render_widget(&copy, rect);
}

/// The value of a field that is not being typed into, as shown.
fn shown_value(field: &FormField) -> (String, Style) {
    let raw = field.raw();
    let blank = raw.trim().is_empty();
    let text = match (&field.value, field.field) {
        (FieldValue::Toggle(value), _) => {
            return (
                toggle_text(*value).to_string(),
                match value {
                    Some(true) => theme::ok(),
                    Some(false) => theme::warning(),
                    None => theme::dim(),
                },
            );
        }
        (FieldValue::Tags(tags), _) => {
            let names: Vec<String> = tags.iter().map(|t| text::sanitize_line(&t.name)).collect();
            if names.is_empty() {
                "—".to_string()
            } else {
                names.join(", ")
            }
        }
        (FieldValue::Choice(_), ContactField::Gender) if !blank => GENDERS
            .iter()
            .find(|(value, _)| value.eq_ignore_ascii_case(raw.trim()))
            .map_or_else(|| raw.trim().to_string(), |(_, label)| label.to_string()),
        _ => display(field.field, &raw),
    };
    let text = text::sanitize_line(&text);
    let style = if text == "—" {
        theme::dim()
    } else {
        Style::default()
    };
    (text, style)
}

/// A field's row, and a second one for its error when that does not fit
/// beside the value.
fn field_rows(field: &FormField, index: usize, focused: bool, width: usize) -> Vec<FieldRow> {
    let label_width = LABEL_WIDTH.min(width / 2);
    let room = width.saturating_sub(label_width);
    let marker = if focused { "▶ " } else { "  " };
    let label = text::truncate(
        &format!("{marker}{}", field.field.label()),
        label_width.saturating_sub(1),
    )
    .into_owned();
    let label_pad = label_width.saturating_sub(text::width(&label));
    let mut spans = vec![
        Span::styled(
            label,
            if focused {
                theme::title()
            } else {
                theme::dim()
            },
        ),
        Span::raw(" ".repeat(label_pad)),
    ];
    let chooses = matches!(field.value, FieldValue::Choice(_) | FieldValue::Tags(_));
    let typing = focused && matches!(field.value, FieldValue::Text(_));
    // The editor gets a cell more than the text, for the cursor after it.
    let (value, value_style) = if typing {
        (" ".repeat(text::width(&field.raw()) + 1), Style::default())
    } else {
        shown_value(field)
    };
    let suffix = if chooses { " ▾" } else { "" };
    let error = field
        .error
        .as_deref()
        .map(|e| format!("  {}", text::sanitize_line(e)));
    let note = field
        .note
        .as_deref()
        .map(text::sanitize_line)
        // Countries and languages already show their names.
        .filter(|n| !value.contains(n.as_str()));
    let value_width = text::width(&value) + text::width(suffix);
    let error_inline = error
        .as_ref()
        .is_none_or(|e| value_width + text::width(e) <= room);
    let error_width = if error_inline {
        error.as_deref().map_or(0, text::width)
    } else {
        0
    };
    let shown = text::truncate(&value, room.saturating_sub(text::width(suffix)));
    spans.push(Span::styled(shown.clone().into_owned(), value_style));
    spans.push(Span::styled(suffix, theme::dim()));
    let mut used = text::width(&shown) + text::width(suffix);
    if error_inline && let Some(error) = &error {
        spans.push(Span::styled(error.clone(), theme::error()));
        used += error_width;
    }
    if let Some(note) = note {
        let left = room.saturating_sub(used + 2);
        if left >= 8 {
            spans.push(Span::styled(
                format!("  {}", text::truncate(&note, left)),
                theme::dim(),
            ));
        }
    }
    let editor = typing.then(|| {
        let nothing_after = error.is_none() || !error_inline;
        let w = if nothing_after {
            room
        } else {
            text::width(&shown)
        };
        (label_width as u16, w as u16)
    });
    let mut line = Line::from(spans);
    if focused {
        line = line.style(theme::selected_row());
    }
    let mut rows = vec![FieldRow {
        line,
        field: index,
        editor,
    }];
    if !error_inline && let Some(error) = error {
        let error = text::truncate(error.trim_start(), room).into_owned();
        rows.push(FieldRow {
            line: Line::from(vec![
                Span::raw(" ".repeat(label_width)),
                Span::styled(error, theme::error()),
            ]),
            field: index,
            editor: None,
        });
    }
    rows
}

/// Under the fields, lined up with their labels.
fn footer_lines(form: &ContactForm, width: usize) -> Vec<Line<'static>> {
    let indent = if width > 20 { 2 } else { 0 };
    let width = width - indent;
    let mut lines = Vec::new();
    if let Some(message) = &form.message {
        lines.extend(wrapped(
            &text::sanitize_line(message),
            width,
            MESSAGE_LINES,
            theme::error(),
        ));
    }
    if let Some((_, name)) = &form.duplicate {
        let message = format!(
            "Phone already belongs to {} — Ctrl-O opens it",
            text::sanitize_line(name)
        );
        lines.extend(wrapped(&message, width, MESSAGE_LINES, theme::error()));
    }
    lines
        .into_iter()
        .map(|line| {
            let style = line.style;
            let mut spans = vec![Span::raw(" ".repeat(indent))];
            spans.extend(line.spans);
            Line::from(spans).style(style)
        })
        .collect()
}

/// `message` in at most `max` lines of `width`, the last cut with `…`.
fn wrapped(message: &str, width: usize, max: usize, style: Style) -> Vec<Line<'static>> {
    let mut lines = text::wrap_words(message, width);
    if lines.len() > max && max > 0 {
        let rest = lines.split_off(max - 1).join(" ");
        lines.push(text::truncate(&rest, width).into_owned());
    }
    lines
        .into_iter()
        .map(|line| Line::styled(line, style))
        .collect()
}

/// The agent's values against the server's, one row per field both
/// changed; the side kept is ticked.
fn conflict_body(conflict: &crate::app::contact_form::Conflict, width: usize) -> FormBody {
    let mut lines = wrapped(
        "Changed on the server since you began editing. Choose per field:",
        width,
        MESSAGE_LINES,
        theme::warning(),
    );
    lines.push(Line::raw(""));
    let label_width = 16.min(width / 3);
    let column = width.saturating_sub(label_width) / 2;
    let cell = |s: &str, w: usize| {
        let cut = text::truncate(s, w.saturating_sub(1)).into_owned();
        let pad = w.saturating_sub(text::width(&cut));
        format!("{cut}{}", " ".repeat(pad))
    };
    lines.push(Line::from(vec![
        Span::styled(cell("Field", label_width), theme::dim()),
        Span::styled(cell("Yours", column), theme::title()),
        Span::styled(cell("On the server", column), theme::title()),
    ]));
    for (i, row) in conflict.rows.iter().enumerate() {
        let side = |value: &str, kept: bool| {
            let mark = if kept { "✓ " } else { "  " };
            let style = if kept {
                theme::ok().add_modifier(Modifier::BOLD)
            } else {
                theme::dim()
            };
            Span::styled(
                cell(&format!("{mark}{}", text::sanitize_line(value)), column),
                style,
            )
        };
        let mut line = Line::from(vec![
            Span::raw(cell(row.field.label(), label_width)),
            side(&row.mine, row.keep_mine),
            side(&row.theirs, !row.keep_mine),
        ]);
        if i == conflict.selected {
            line = line.style(theme::selected_row());
        }
        lines.push(line);
    }
    FormBody::Lines(lines)
}

/// A small question box: the lines wrapped to fit, then its keys.
fn question(
    frame: &mut Frame,
    area: Rect,
    title: &str,
    border: Style,
    lines: &[(String, Style)],
    keys: &str,
) {
    if area.is_empty() {
        return;
    }
    let width = QUESTION_WIDTH.min(area.width);
    let inner_width = usize::from(width.saturating_sub(4)).max(1);
    let mut content = vec![Line::raw("")];
    for (text, style) in lines {
        for line in text::wrap_words(text, inner_width) {
            content.push(Line::styled(format!(" {line}"), *style));
        }
    }
    content.push(Line::raw(""));
    content.push(Line::styled(format!(" {keys}"), theme::dim()));
    let wanted = u16::try_from(content.len() + 2).unwrap_or(u16::MAX);
    let rect = centered(area, width, wanted.min(area.height));
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(border)
        .title(Span::styled(
            text::truncate(title, usize::from(width.saturating_sub(2))).into_owned(),
            theme::title(),
        ));
    let inner = framed(frame, rect, block);
    frame.render_widget(Paragraph::new(content), inner);
}

pub fn render_confirm_discard(frame: &mut Frame, area: Rect, state: &AppState) {
    let name = state
        .overlays
        .iter()
        .rev()
        .find_map(|overlay| match overlay {
            Overlay::ContactForm(form) => Some(form_name(form)),
            _ => None,
        })
        .unwrap_or_else(|| "the new contact".to_string());
    question(
        frame,
        area,
        " Discard changes? ",
        theme::warning(),
        &[(format!("Discard your changes to {name}?"), Style::default())],
        "y discard · n keep editing",
    );
}

pub fn render_confirm_delete(
    frame: &mut Frame,
    area: Rect,
    _state: &AppState,
    delete: &DeleteContact,
) {
    let name = text::sanitize_line(&delete.label);
    let name = if name.is_empty() {
        crate::domain::UNKNOWN_CONTACT.to_string()
    } else {
        name
    };
    let unknown = crate::domain::UNKNOWN_CONTACT;
    let consequence = match delete.conversations {
        0 => "They have no conversations in the inbox.".to_string(),
        1 => format!("Their conversation stays in the inbox, shown as “{unknown}”."),
        n => format!("Their {n} conversations stay in the inbox, shown as “{unknown}”."),
    };
    question(
        frame,
        area,
        " Delete contact? ",
        theme::error(),
        &[
            (format!("Delete {name}?"), theme::title()),
            (consequence, Style::default()),
            ("This cannot be undone.".to_string(), theme::error()),
        ],
        "y delete · n keep",
    );
}

#[cfg(test)]
mod tests {
    use crate::text::wrap_words;

    #[test]
    fn words_keep_their_punctuation_and_long_ones_break() {
        assert_eq!(
            wrap_words("Discard your changes to Deniz Yılmaz?", 30),
            ["Discard your changes to Deniz", "Yılmaz?"]
        );
        assert_eq!(wrap_words("abcdefghij x", 4), ["abcd", "efgh", "ij x"]);
        assert_eq!(wrap_words("", 4), [""]);
    }
}
