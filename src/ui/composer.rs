//! The reply box. Its title names who the reply goes to and through which
//! channel, so nobody answers the wrong customer. Above it, for WhatsApp,
//! how long free text may still be sent, or that only a template may.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

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

/// What the composer shows while empty and free text is blocked.
pub const BLOCKED_PLACEHOLDER: &str = "Templates only here: t (Ctrl-T) picks one";
/// After the closed window's sentence.
const TEMPLATES_KEY: &str = " t: templates";

/// The reply window's line: dim while open, in the warning colour with
/// the templates key once closed (the key stays when the sentence is cut).
fn window_line(note: &str, closed: bool, width: usize) -> Line<'static> {
    let note = text::sanitize_line(note);
    if !closed {
        return Line::styled(text::truncate(&note, width).into_owned(), theme::dim());
    }
    let key_width = text::width(TEMPLATES_KEY);
    let (key, room) = if key_width + 10 <= width {
        (TEMPLATES_KEY, width - key_width)
    } else {
        ("", width)
    };
    Line::from(vec![
        Span::styled(text::truncate(&note, room).into_owned(), theme::warning()),
        Span::styled(
            key,
            theme::warning().add_modifier(ratatui::style::Modifier::BOLD),
        ),
    ])
}

pub fn render(frame: &mut Frame, area: Rect, state: &AppState) {
    // The profile takes this place on narrow terminals.
    if area.is_empty() {
        return;
    }
    let window = crate::app::view::labels::reply_window_note(state);
    // The line needs the box's three rows left under it.
    let area = match &window {
        Some((note, closed)) if area.height >= 4 => {
            frame.render_widget(
                Paragraph::new(window_line(note, *closed, usize::from(area.width))),
                Rect::new(area.x, area.y, area.width, 1),
            );
            Rect::new(area.x, area.y + 1, area.width, area.height - 1)
        }
        _ => area,
    };
    let blocked = window.as_ref().is_some_and(|(_, closed)| *closed);
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
    let textarea = &state.composer.textarea;
    if blocked && textarea.is_empty() {
        let mut blocked = textarea.clone();
        blocked.set_placeholder_text(BLOCKED_PLACEHOLDER);
        frame.render_widget(&blocked, inner);
    } else {
        frame.render_widget(textarea, inner);
    }
    if focused && inner.width > 0 && inner.height > 0 {
        let cursor = state.composer.textarea.screen_cursor();
        let x = inner.x + u16::try_from(cursor.col).unwrap_or(0).min(inner.width - 1);
        let y = inner.y + u16::try_from(cursor.row).unwrap_or(0).min(inner.height - 1);
        frame.set_cursor_position((x, y));
    }
}
