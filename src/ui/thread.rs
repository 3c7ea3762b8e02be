//! The open conversation pane: the bottom of the thread's lines (see
//! `app::view::thread_lines`), scrolled as the agent asks.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::AppState;
use crate::app::state::Focus;
use crate::app::view::thread_lines::tail_lines;
use crate::text;
use crate::theme;

pub fn render(frame: &mut Frame, area: Rect, state: &AppState) {
    // The profile takes this place on narrow terminals.
    if area.is_empty() {
        return;
    }
    let focused = state.focus == Focus::Thread;
    let title = match state.open.as_ref().and_then(|id| state.store.get(id)) {
        Some(entry) => {
            let c = &entry.conversation;
            format!(
                " {} · {} · {} ",
                text::sanitize_line(&c.contact_name),
                text::sanitize_line(c.channel.label()),
                text::sanitize_line(c.status.label())
            )
        }
        None => " Conversation ".to_string(),
    };
    let inner_width = usize::from(area.width.saturating_sub(2));
    let block = crate::ui::pane_block(focused).title(Span::styled(
        text::truncate(&title, inner_width).into_owned(),
        theme::title(),
    ));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if state.open.is_none() {
        let hint = Paragraph::new(vec![
            Line::raw(""),
            Line::styled("  Select a conversation and press Enter.", theme::dim()),
            Line::styled("  ? shows every key.", theme::dim()),
        ]);
        frame.render_widget(hint, inner);
        return;
    }
    // Only the messages on screen (and above it, up to the scroll offset)
    // are laid out, however long the thread is.
    let height = usize::from(inner.height);
    let lines = tail_lines(
        state,
        usize::from(inner.width),
        height + state.thread_scroll,
    );
    let scroll = state.thread_scroll.min(lines.len().saturating_sub(height));
    let visible: Vec<Line> = lines.into_iter().take(height).collect();
    frame.render_widget(Paragraph::new(visible), inner);
    if scroll > 0 && inner.height > 0 {
        let marker = Span::styled(format!(" ↓ {scroll} more lines "), theme::warning());
        let w = u16::try_from(text::width(&marker.content))
            .unwrap_or(0)
            .min(inner.width);
        let rect = Rect::new(inner.x + inner.width - w, inner.y + inner.height - 1, w, 1);
        frame.render_widget(Paragraph::new(Line::from(marker)), rect);
    }
}
