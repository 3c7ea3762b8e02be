//! The reply box. Its title names who the reply goes to and through which
//! channel, so nobody answers the wrong customer.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Span;

use crate::app::AppState;
use crate::app::state::Focus;
use crate::text;
use crate::theme;

pub fn title(state: &AppState) -> String {
    match state.open.as_ref().and_then(|id| state.store.get(id)) {
        Some(entry) => format!(
            " Reply to {} via {} ",
            text::sanitize_line(&entry.conversation.contact_name),
            text::sanitize_line(entry.conversation.channel.label())
        ),
        None => " Reply ".to_string(),
    }
}

pub fn render(frame: &mut Frame, area: Rect, state: &AppState) {
    // The profile takes this place on narrow terminals.
    if area.is_empty() {
        return;
    }
    let focused = state.focus == Focus::Composer;
    let hint = if focused {
        let send = state
            .keymap
            .help()
            .into_iter()
            .find(|(scope, _)| *scope == "Composer")
            .and_then(|(_, rows)| rows.into_iter().find(|(_, d)| *d == "send the reply"))
            .map(|(keys, _)| keys)
            .unwrap_or_else(|| "Enter".into());
        format!(" {send} send · Ctrl-E editor · Esc leave ")
    } else {
        String::new()
    };
    let width = usize::from(area.width.saturating_sub(2));
    // The hint sits on the bottom border, so the title gets the full width.
    let title = text::truncate(&title(state), width).into_owned();
    let block = crate::ui::pane_block(focused)
        .title(Span::styled(title, theme::title()))
        .title_bottom(Span::styled(hint, theme::dim()));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    frame.render_widget(&state.composer.textarea, inner);
    if focused && inner.width > 0 && inner.height > 0 {
        let cursor = state.composer.textarea.screen_cursor();
        let x = inner.x + u16::try_from(cursor.col).unwrap_or(0).min(inner.width - 1);
        let y = inner.y + u16::try_from(cursor.row).unwrap_or(0).min(inner.height - 1);
        frame.set_cursor_position((x, y));
    }
}
