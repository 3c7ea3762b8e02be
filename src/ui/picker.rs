//! A picker over the panes: the filter as typed, then the matching items
//! (checked ones marked where several can be chosen).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use crate::app::AppState;
use crate::app::picker::Picker;
use crate::text;
use crate::theme;
use crate::ui::help::centered;

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
    let inner = block.inner(rect);
    frame.render_widget(Clear, rect);
    frame.render_widget(block, rect);
    let width = usize::from(inner.width);
    let mut lines = vec![Line::from(vec![
        Span::styled("› ", theme::title()),
        Span::raw(text::sanitize_line(&picker.query)),
        Span::styled("▏", theme::dim()),
    ])];
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
        let label = format!("{marker}{check}{}", text::sanitize_line(&item.label));
        let detail = text::sanitize_line(&item.detail);
        let room_for_label = width.saturating_sub(text::width(&detail) + 1);
        let label = text::truncate(&label, room_for_label).into_owned();
        let pad = width.saturating_sub(text::width(&label) + text::width(&detail));
        let style = if selected {
            theme::selected_row()
        } else {
            ratatui::style::Style::default()
        };
        lines.push(
            Line::from(vec![
                Span::raw(label),
                Span::raw(" ".repeat(pad)),
                Span::styled(detail, theme::dim()),
            ])
            .style(style),
        );
    }
    frame.render_widget(Paragraph::new(lines), inner);
}
