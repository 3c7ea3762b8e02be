//! The full-text search box: the query as typed and the matches from the
//! cache, each with the text around it. `Enter` opens the thread there.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use crate::app::AppState;
use crate::app::state::SearchBox;
use crate::store::db::SearchHit;
use crate::text;
use crate::theme;
use crate::timefmt;
use crate::ui::help::centered;

pub fn render(frame: &mut Frame, area: Rect, state: &AppState, search: &SearchBox) {
    let rect = centered(area, 100, area.height.saturating_sub(2).max(8));
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme::focused_border())
        .title(Span::styled(
            " Search messages and contacts — Enter opens · Esc closes ",
            theme::title(),
        ));
    let inner = crate::ui::help::framed(frame, rect, block);
    let width = usize::from(inner.width);
    let mut lines = vec![crate::ui::help::query_line(&search.query)];
    let status = if let Some(error) = &search.error {
        Line::styled(
            format!("Search failed: {}", text::sanitize_line(error)),
            theme::error(),
        )
    } else if search.query.trim().is_empty() {
        Line::styled(
            "Type a word: any language, accents optional; every synced message counts.",
            theme::dim(),
        )
    } else if search.results_for != search.query {
        Line::styled("searching…", theme::dim())
    } else if search.results.is_empty() {
        Line::styled("No matches in the cache.", theme::dim())
    } else {
        let count = search.results.len();
        let noun = if count == 1 { "match" } else { "matches" };
        Line::styled(format!("{count} {noun} · ↑↓ choose"), theme::dim())
    };
    lines.push(status);
    let room = usize::from(inner.height).saturating_sub(lines.len()) / 2;
    // Keep the selected result in view.
    let first = search.selected.saturating_sub(room.saturating_sub(1));
    for (index, hit) in search.results.iter().enumerate().skip(first).take(room) {
        let selected = index == search.selected;
        let (title, context) = describe(state, hit);
        let style = if selected {
            theme::selected_row()
        } else {
            theme::contact_name()
        };
        let marker = if selected { "▶ " } else { "  " };
        lines.push(Line::from(vec![
            Span::styled(marker, theme::title()),
            Span::styled(
                text::truncate(&title, width.saturating_sub(2)).into_owned(),
                style,
            ),
        ]));
        lines.push(Line::from(vec![
            Span::raw("    "),
            Span::raw(text::truncate(&context, width.saturating_sub(4)).into_owned()),
        ]));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

fn describe(state: &AppState, hit: &SearchHit) -> (String, String) {
    match hit {
        SearchHit::Message {
            conversation_id,
            created_at,
            sender_name,
            context,
            ..
        } => {
            let contact = state
                .store
                .get(conversation_id)
                .map(|e| e.conversation.contact_name.clone())
                .unwrap_or_else(|| "conversation not in the list yet".into());
            let sender = sender_name
                .as_deref()
                .map(|s| format!(" · {}", text::sanitize_line(s)))
                .unwrap_or_default();
            (
                format!(
                    "{} · {}{sender}",
                    text::sanitize_line(&contact),
                    timefmt::clock(state.now, *created_at, state.utc_offset)
                ),
                text::sanitize_line(context),
            )
        }
        SearchHit::Contact { name, .. } => (
            format!("Contact: {}", text::sanitize_line(name)),
            "opens the contact's newest conversation".to_string(),
        ),
    }
}
