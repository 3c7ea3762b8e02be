//! Overlays: the help (generated from the keymap) and the quit question.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use crate::app::AppState;
use crate::theme;

pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect::new(
        area.x + (area.width - width) / 2,
        area.y + (area.height - height) / 2,
        width,
        height,
    )
}

fn section_lines(sections: &[(&'static str, Vec<(String, &'static str)>)]) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    for (title, rows) in sections {
        if !lines.is_empty() {
            lines.push(Line::raw(""));
        }
        lines.push(Line::styled(title.to_string(), theme::title()));
        for (keys, description) in rows {
            lines.push(Line::from(vec![
                Span::styled(format!(" {keys}  "), theme::contact_name()),
                Span::raw(*description),
            ]));
        }
    }
    lines
}

/// Two columns (global and composer keys left, navigation right) so the
/// whole keymap fits on an 80x24 screen.
pub fn render_help(frame: &mut Frame, area: Rect, state: &AppState) {
    let sections = state.keymap.help();
    let (left, right) = sections.split_at(2.min(sections.len()));
    let (left, right) = (section_lines(left), section_lines(right));
    let rect = centered(
        area,
        110,
        u16::try_from(left.len().max(right.len()) + 4).unwrap_or(u16::MAX),
    );
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme::focused_border())
        .title(Span::styled(" Keys — Esc or ? closes ", theme::title()));
    let inner = block.inner(rect);
    frame.render_widget(Clear, rect);
    frame.render_widget(block, rect);
    let half = inner.width / 2;
    let left_rect = Rect::new(inner.x, inner.y, half.saturating_sub(1), inner.height);
    let right_rect = Rect::new(inner.x + half, inner.y, inner.width - half, inner.height);
    frame.render_widget(Paragraph::new(left).wrap(Wrap { trim: false }), left_rect);
    frame.render_widget(Paragraph::new(right).wrap(Wrap { trim: false }), right_rect);
}

pub fn render_confirm_quit(frame: &mut Frame, area: Rect, state: &AppState) {
    let summary = state
        .unsent_summary()
        .unwrap_or_else(|| "Nothing unsent".into());
    let consequence = if state.persistent {
        " Quit anyway? It is saved and goes out when termdesk runs again."
    } else {
        " Quit anyway? It will be lost (the cache is unavailable)."
    };
    let lines = vec![
        Line::raw(""),
        Line::raw(format!(" {summary}.")),
        Line::raw(consequence),
        Line::raw(""),
        Line::styled(" y quit · n stay", theme::dim()),
    ];
    let rect = centered(area, 56, 8);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme::warning())
        .title(Span::styled(" Quit? ", theme::title()));
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        rect,
    );
}
