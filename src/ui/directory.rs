//! The contacts directory: the query and its counts on top, the matching
//! contacts on the left and the selected one's profile on the right (a
//! line under the list on narrow terminals).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use unicode_segmentation::UnicodeSegmentation;

use crate::app::AppState;
use crate::app::directory::{self, Directory, Highlighter};
use crate::app::view::labels::thousands;
use crate::domain::ContactId;
use crate::text;
use crate::theme;

const HINTS: &str = " Enter open · Ctrl-E edit · Ctrl-T template · Ctrl-N new · Ctrl-D delete ";

pub fn render(frame: &mut Frame, area: Rect, state: &AppState, directory: &Directory) {
    let layout = directory::layout(area);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme::focused_border())
        .title(Span::styled(" Contacts ", theme::title()))
        .title_bottom(Span::styled(
            text::truncate(HINTS, usize::from(area.width.saturating_sub(2))).into_owned(),
            theme::dim(),
        ));
    crate::ui::help::framed(frame, layout.frame, block);
    frame.render_widget(
        Paragraph::new(crate::ui::help::query_line(&directory.query)),
        layout.query,
    );
    frame.render_widget(
        Paragraph::new(status_line(directory, usize::from(layout.status.width))),
        layout.status,
    );
    render_list(frame, layout.list, state, directory);
    let selected = directory.selected_contact();
    if !layout.profile.is_empty() {
        let rule: Vec<Line> = (0..layout.divider.height)
            .map(|_| Line::styled("│", theme::border()))
            .collect();
        frame.render_widget(Paragraph::new(rule), layout.divider);
        if let Some(id) = selected {
            crate::ui::profile::render_contact(frame, layout.profile, state, id, false);
        }
    } else if !layout.summary.is_empty() {
        let rule = "─".repeat(usize::from(layout.divider.width));
        frame.render_widget(
            Paragraph::new(Line::styled(rule, theme::border())),
            layout.divider,
        );
        if let Some(id) = selected {
            frame.render_widget(
                Paragraph::new(summary(state, id, usize::from(layout.summary.width))),
                layout.summary,
            );
        }
    }
}

/// "12 of 48,213 contacts", then the server search's progress or failure.
fn status_line(directory: &Directory, width: usize) -> Line<'static> {
    let total = thousands(directory.total() as u64);
    let noun = if directory.total() == 1 {
        "contact"
    } else {
        "contacts"
    };
    let counts = if directory.query.trim().is_empty() {
        format!("{total} {noun}")
    } else {
        format!(
            "{} of {total} {noun}",
            thousands(directory.matches.len() as u64)
        )
    };
    let mut spans = vec![Span::styled(counts, theme::dim())];
    if directory.searching {
        spans.push(Span::styled(" · searching the server…", theme::dim()));
    }
    if let Some(error) = &directory.error {
        spans.push(Span::styled(" · ", theme::dim()));
        spans.push(Span::styled(text::sanitize_line(error), theme::error()));
    }
    fit(spans, width)
}

fn render_list(frame: &mut Frame, area: Rect, state: &AppState, directory: &Directory) {
    if area.is_empty() {
        return;
    }
    let width = usize::from(area.width);
    let height = usize::from(area.height);
    let mut lines = Vec::with_capacity(height);
    if directory.matches.is_empty() {
        let query = directory.query.trim();
        if query.is_empty() {
            lines.push(Line::styled(
                "No contacts yet: they arrive as the account syncs.",
                theme::dim(),
            ));
        } else {
            let shown = text::sanitize_line(query);
            let shown = text::truncate(&shown, width.saturating_sub(24));
            lines.push(Line::raw(format!("No contact matches “{shown}”.")));
            let next = if directory.searching {
                "Asking the server…"
            } else if directory.error.is_some() {
                "Enter asks the server again."
            } else if directory.server_searched.iter().any(|q| q == query) {
                "The server knows none either."
            } else {
                "Enter asks the server."
            };
            lines.push(Line::styled(next, theme::dim()));
        }
    }
    let last = (directory.offset + height).min(directory.matches.len());
    let mut highlighter = directory.highlighter();
    for position in directory.offset..last {
        let Some(id) = directory.contact_at(position) else {
            continue;
        };
        lines.push(row(
            state,
            &mut highlighter,
            id,
            position == directory.selected,
            width,
        ));
    }
    frame.render_widget(Paragraph::new(lines), area);
}

/// `▶ Name  phone · e-mail`, the name first to be kept whole.
fn row(
    state: &AppState,
    highlighter: &mut Highlighter,
    id: &ContactId,
    selected: bool,
    width: usize,
) -> Line<'static> {
    let raw_label = state.store.contact_label(id).unwrap_or("");
    let details = state.store.contact_details(id);
    let raw_phone = details.and_then(|d| d.phone.as_deref()).unwrap_or("");
    let raw_email = details.and_then(|d| d.email.as_deref()).unwrap_or("");
    let highlight = highlighter.highlight(raw_label, raw_phone, raw_email);
    // Positions count the contact's own text: none where sanitizing
    // changed it.
    let marks = |shown: &str, raw: &str, marks: Vec<usize>| {
        if shown == raw { marks } else { Vec::new() }
    };
    let label = text::sanitize_line(raw_label);
    let phone = text::sanitize_line(raw_phone);
    let email = text::sanitize_line(raw_email);
    let label_marks = marks(&label, raw_label, highlight.label);
    let phone_marks = marks(&phone, raw_phone, highlight.phone);
    let email_marks = marks(&email, raw_email, highlight.email);

    let marker = if selected { "▶ " } else { "  " };
    let room = width.saturating_sub(text::width(marker));
    let shown_label = text::truncate(&label, room).into_owned();
    let mut spans = vec![Span::raw(marker)];
    marked(&mut spans, &shown_label, &label_marks, Style::default());
    let mut left = room.saturating_sub(text::width(&shown_label) + 2);
    let mut details = Vec::new();
    for (value, value_marks) in [(phone, phone_marks), (email, email_marks)] {
        if value.is_empty() || left < 4 {
            continue;
        }
        let separator = if details.is_empty() { "  " } else { " · " };
        if !details.is_empty() {
            left = left.saturating_sub(3);
        }
        let shown = text::truncate(&value, left).into_owned();
        if shown.is_empty() {
            continue;
        }
        left = left.saturating_sub(text::width(&shown));
        details.push(Span::styled(separator, theme::dim()));
        marked(&mut details, &shown, &value_marks, theme::dim());
    }
    spans.extend(details);
    let line = Line::from(spans);
    if selected {
        line.style(theme::selected_row())
    } else {
        line
    }
}

/// The selected contact in one line: name, phone, e-mail, conversations.
fn summary(state: &AppState, id: &ContactId, width: usize) -> Line<'static> {
    let label = text::sanitize_line(state.store.contact_label(id).unwrap_or(""));
    let details = state.store.contact_details(id);
    let conversations = state.store.conversations_of(id).len();
    let mut spans = vec![Span::styled(label, theme::contact_name())];
    for value in [
        details.and_then(|d| d.phone.as_deref()),
        details.and_then(|d| d.email.as_deref()),
    ]
    .into_iter()
    .flatten()
    {
        spans.push(Span::styled(
            format!(" · {}", text::sanitize_line(value)),
            theme::dim(),
        ));
    }
    let count = match conversations {
        0 => "no conversations".to_string(),
        1 => "1 conversation".to_string(),
        n => format!("{} conversations", thousands(n as u64)),
    };
    spans.push(Span::styled(format!(" · {count}"), theme::dim()));
    fit(spans, width)
}

/// The spans cut to `width` cells, the last one shown ending in `…`.
fn fit(spans: Vec<Span<'static>>, width: usize) -> Line<'static> {
    let mut left = width;
    let mut fitted = Vec::with_capacity(spans.len());
    for span in spans {
        if left == 0 {
            break;
        }
        let shown = text::truncate(&span.content, left).into_owned();
        left = left.saturating_sub(text::width(&shown));
        let cut = shown != span.content;
        fitted.push(Span::styled(shown, span.style));
        if cut {
            break;
        }
    }
    Line::from(fitted)
}

/// Spans of `text` with the grapheme clusters at `marks` (sorted) in the
/// match style; a closing `…` (truncation) matched nothing.
fn marked(spans: &mut Vec<Span<'static>>, text: &str, marks: &[usize], style: Style) {
    let count = text.graphemes(true).count();
    let eligible = if text.ends_with('…') {
        count.saturating_sub(1)
    } else {
        count
    };
    let mut run = String::new();
    let mut run_marked = false;
    let mut marks = marks.iter().peekable();
    for (index, grapheme) in text.graphemes(true).enumerate() {
        while marks.next_if(|&&m| m < index).is_some() {}
        let is_marked = index < eligible && marks.peek().is_some_and(|&&m| m == index);
        if is_marked != run_marked && !run.is_empty() {
            spans.push(styled_run(std::mem::take(&mut run), run_marked, style));
        }
        run_marked = is_marked;
        run.push_str(grapheme);
    }
    if !run.is_empty() {
        spans.push(styled_run(run, run_marked, style));
    }
}

fn styled_run(text: String, is_marked: bool, style: Style) -> Span<'static> {
    if is_marked {
        Span::styled(text, style.patch(theme::matched()))
    } else {
        Span::styled(text, style)
    }
}
