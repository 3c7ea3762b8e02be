//! Overlays: the help (generated from the keymap) and the quit question.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use crate::app::AppState;
use crate::app::view::help::{self, HelpLine};
use crate::text;
use crate::theme;

pub use crate::app::view::layout::centered;

/// Draws `block` over whatever is at `rect`; returns the inside.
pub fn framed(frame: &mut Frame, rect: Rect, block: Block) -> Rect {
    let inner = block.inner(rect);
    frame.render_widget(Clear, rect);
    frame.render_widget(block, rect);
    inner
}

/// The first line of a box one types into: `› query▏`.
pub fn query_line(query: &str) -> Line<'static> {
    Line::from(vec![
        Span::styled("› ", theme::title()),
        Span::raw(text::sanitize_line(query)),
        Span::styled("▏", theme::dim()),
    ])
}

/// The keymap in one or two columns; j/k and PgUp/PgDn scroll it when it
/// does not fit (at 80x24 it does not).
pub fn render_help(frame: &mut Frame, area: Rect, state: &AppState, scroll: usize) {
    let layout = help::for_state(state, area);
    let scroll = scroll.min(layout.max_scroll());
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme::focused_border())
        .title(Span::styled(" Keys — Esc or ? closes ", theme::title()));
    if layout.max_scroll() > 0 {
        let last = (scroll + layout.visible).min(layout.total());
        block = block.title_bottom(
            Line::styled(
                format!(" j/k scroll · {}–{last} of {} ", scroll + 1, layout.total()),
                theme::dim(),
            )
            .right_aligned(),
        );
    }
    let inner = block.inner(layout.rect);
    frame.render_widget(Clear, layout.rect);
    frame.render_widget(block, layout.rect);
    let mut x = inner.x;
    for column in &layout.columns {
        let width = layout.column_width.min(inner.right().saturating_sub(x));
        let lines: Vec<Line> = column
            .iter()
            .skip(scroll)
            .take(layout.visible)
            .map(|line| match line {
                HelpLine::Blank => Line::raw(""),
                HelpLine::Title(title) => Line::styled(*title, theme::title()),
                HelpLine::Row {
                    keys,
                    text,
                    unavailable: false,
                } => Line::from(vec![
                    Span::styled(keys.as_str(), theme::contact_name()),
                    Span::raw(text.as_str()),
                ]),
                // Not offered by the provider: greyed, keys and all.
                HelpLine::Row {
                    keys,
                    text,
                    unavailable: true,
                } => Line::from(vec![
                    Span::styled(keys.as_str(), theme::dim()),
                    Span::styled(text.as_str(), theme::dim()),
                ]),
            })
            .collect();
        frame.render_widget(
            Paragraph::new(lines),
            Rect::new(x, inner.y, width, inner.height),
        );
        x = x.saturating_add(layout.column_width + help::COLUMN_GAP);
    }
}

pub fn render_confirm_quit(frame: &mut Frame, area: Rect, state: &AppState) {
    // What was on its way may have arrived while the question was open.
    let (summary, consequence) = match state.unsent_summary() {
        Some(summary) if state.persistent => (
            summary,
            " Quit anyway? It is saved and goes out when termdesk runs again.",
        ),
        Some(summary) => (
            summary,
            " Quit anyway? It will be lost (the cache is unavailable).",
        ),
        None => ("Everything has been sent now".to_string(), " Quit?"),
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
