//! Overlays: the help (generated from the keymap) and the quit question.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use crate::app::AppState;
use crate::text;
use crate::ui::theme;

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect::new(
        area.x + (area.width - width) / 2,
        area.y + (area.height - height) / 2,
        width,
        height,
    )
}

pub fn render_help(frame: &mut Frame, area: Rect, state: &AppState) {
    let sections = state.keymap.help();
    let key_width = sections
        .iter()
        .flat_map(|(_, rows)| rows.iter().map(|(keys, _)| text::width(keys)))
        .max()
        .unwrap_or(8);
    let mut lines = Vec::new();
    for (title, rows) in sections {
        if !lines.is_empty() {
            lines.push(Line::raw(""));
        }
        lines.push(Line::styled(title.to_string(), theme::title()));
        for (keys, description) in rows {
            let pad = " ".repeat(key_width.saturating_sub(text::width(&keys)));
            lines.push(Line::from(vec![
                Span::styled(format!("  {keys}{pad}  "), theme::contact_name()),
                Span::raw(description),
            ]));
        }
    }
    let height = u16::try_from(lines.len() + 2).unwrap_or(u16::MAX);
    let width = u16::try_from(key_width + 52).unwrap_or(u16::MAX);
    let rect = centered(area, width, height);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme::focused_border())
        .title(Span::styled(" Keys — Esc or ? closes ", theme::title()));
    frame.render_widget(Clear, rect);
    frame.render_widget(Paragraph::new(lines).block(block).wrap(Wrap { trim: false }), rect);
}

pub fn render_confirm_quit(frame: &mut Frame, area: Rect, state: &AppState) {
    let count = state.outbox.in_flight();
    let noun = if count == 1 { "reply is" } else { "replies are" };
    let lines = vec![
        Line::raw(""),
        Line::raw(format!(" {count} {noun} still sending.")),
        Line::raw(" Quit anyway? Unsent text is lost."),
        Line::raw(""),
        Line::styled(" y quit · n stay", theme::dim()),
    ];
    let rect = centered(area, 44, 7);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme::warning())
        .title(Span::styled(" Quit? ", theme::title()));
    frame.render_widget(Clear, rect);
    frame.render_widget(Paragraph::new(lines).block(block).wrap(Wrap { trim: false }), rect);
}
