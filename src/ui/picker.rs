//! A picker over the panes: the filter as typed, then the matching items
//! (checked ones marked where several can be chosen).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use crate::app::AppState;
use crate::app::picker::Picker;
use crate::text;
use crate::theme;
use crate::ui::help::centered;
use unicode_segmentation::UnicodeSegmentation;

pub fn render(frame: &mut Frame, area: Rect, _state: &AppState, picker: &Picker) {
    let wanted = u16::try_from(picker.items.len())
        .unwrap_or(u16::MAX)
        .saturating_add(4);
    let rect = centered(area, 72, wanted.min(area.height.saturating_sub(2)).max(6));
    let hint = if picker.multi {
        "Space toggles · Enter applies · Esc closes"
    } else {
        "Enter chooses · Esc closes"
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme::focused_border())
        .title(Span::styled(format!(" {} ", picker.title), theme::title()))
        .title_bottom(Span::styled(format!(" {hint} "), theme::dim()));
    let inner = crate::ui::help::framed(frame, rect, block);
    let width = usize::from(inner.width);
    let mut lines = vec![crate::ui::help::query_line(&picker.query)];
    if picker.matches.is_empty() {
        let message = if picker.free_entry && !picker.query.trim().is_empty() {
            format!("Enter adds “{}”", text::sanitize_line(picker.query.trim()))
        } else {
            "No match.".to_string()
        };
        lines.push(Line::styled(message, theme::dim()));
    }
    let room = usize::from(inner.height).saturating_sub(1);
    let first = picker.selected.saturating_sub(room.saturating_sub(1));
    for (position, &index) in picker.matches.iter().enumerate().skip(first).take(room) {
        let item = &picker.items[index];
        let selected = position == picker.selected;
        let check = match (picker.multi, item.checked) {
            (false, _) => "",
            (true, true) => "[x] ",
            (true, false) => "[ ] ",
        };
        let marker = if selected { "▶ " } else { "  " };
        let prefix = format!("{marker}{check}");
        let label = text::sanitize_line(&item.label);
        let detail = text::sanitize_line(&item.detail);
        // Positions count the item's own text: skip them where sanitizing
        // changed it.
        let highlight = picker.highlight(position);
        let label_marks = highlight
            .filter(|_| label == item.label)
            .map_or(&[][..], |h| &h.label[..]);
        let detail_marks = highlight
            .filter(|_| detail == item.detail)
            .map_or(&[][..], |h| &h.detail[..]);
        let room_for_label = width.saturating_sub(text::width(&detail) + 1);
        let shown = text::truncate(&label, room_for_label.saturating_sub(text::width(&prefix)));
        let used = text::width(&prefix) + text::width(&shown);
        let pad = width.saturating_sub(used + text::width(&detail));
        let style = match (selected, item.unavailable) {
            (true, false) => theme::selected_row(),
            (true, true) => theme::selected_row().patch(theme::dim()),
            (false, true) => theme::dim(),
            (false, false) => Style::default(),
        };
        let mut spans = vec![Span::raw(prefix)];
        // Truncation ends the label in `…`, which matched nothing.
        let cut = matches!(shown, std::borrow::Cow::Owned(_));
        let eligible = if cut {
            shown.graphemes(true).count().saturating_sub(1)
        } else {
            usize::MAX
        };
        marked(&mut spans, &shown, label_marks, eligible, Style::default());
        spans.push(Span::raw(" ".repeat(pad)));
        marked(&mut spans, &detail, detail_marks, usize::MAX, theme::dim());
        lines.push(Line::from(spans).style(style));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

/// Spans of `text` with the grapheme clusters at `marks` (sorted, below
/// `eligible`) in the match style.
pub(crate) fn marked(
    spans: &mut Vec<Span<'static>>,
    text: &str,
    marks: &[usize],
    eligible: usize,
    style: Style,
) {
    let mut run = String::new();
    let mut run_marked = false;
    let mut marks = marks.iter().peekable();
    for (index, grapheme) in text.graphemes(true).enumerate() {
        while marks.next_if(|&&m| m < index).is_some() {}
        let is_marked = index < eligible && marks.peek().is_some_and(|&&m| m == index);
        if is_marked != run_marked && !run.is_empty() {
            spans.push(run_span(std::mem::take(&mut run), run_marked, style));
        }
        run_marked = is_marked;
        run.push_str(grapheme);
    }
    if !run.is_empty() {
        spans.push(run_span(run, run_marked, style));
    }
}

fn run_span(text: String, is_marked: bool, style: Style) -> Span<'static> {
    if is_marked {
        Span::styled(text, style.patch(theme::matched()))
    } else {
        Span::styled(text, style)
    }
}
