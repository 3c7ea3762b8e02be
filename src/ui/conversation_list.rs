//! The conversation list: two rows per conversation — name, channel, age,
//! unread; then status, assignee and the last message.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use crate::app::AppState;
use crate::app::state::Focus;
use crate::app::view::labels::visible_rows;
use crate::app::view::layout;
use crate::domain::{ConversationStatus, SenderKind};
use crate::store::ConversationEntry;
use crate::text;
use crate::theme;
use crate::timefmt;

fn pad_between(left: Vec<Span<'static>>, right: Vec<Span<'static>>, width: usize) -> Line<'static> {
    let used: usize = left
        .iter()
        .chain(right.iter())
        .map(|s| text::width(&s.content))
        .sum();
    let mut spans = left;
    spans.push(Span::raw(" ".repeat(width.saturating_sub(used))));
    spans.extend(right);
    Line::from(spans)
}

fn rows(entry: &ConversationEntry, state: &AppState, width: usize) -> [Line<'static>; 2] {
    let c = &entry.conversation;
    let age = timefmt::relative(state.now, c.updated_at, state.utc_offset);
    let mut right = vec![Span::styled(
        format!(" {} {age:>3}", c.channel.short()),
        theme::dim(),
    )];
    if entry.unread > 0 {
        right.insert(
            0,
            Span::styled(
                format!(" {} ", entry.unread.min(999)),
                theme::unread_badge(),
            ),
        );
    }
    let right_width: usize = right.iter().map(|s| text::width(&s.content)).sum();
    let star = if c.starred { "★ " } else { "" };
    let name_room = width.saturating_sub(right_width + 1 + text::width(star));
    let name_style = if entry.unread > 0 {
        theme::contact_name()
    } else {
        theme::title()
    };
    let first = pad_between(
        vec![
            Span::raw(" "),
            Span::styled(star.to_string(), theme::warning()),
            Span::styled(
                text::truncate(&c.contact_name, name_room.saturating_sub(1)).into_owned(),
                name_style,
            ),
        ],
        right,
        width,
    );
    let status_style = match c.status {
        ConversationStatus::Open => theme::ok(),
        ConversationStatus::Pending => theme::warning(),
        _ => theme::dim(),
    };
    let assignee = match &c.assignee {
        Some(id) => state
            .store
            .agent(id)
            .map(|a| a.first_name.clone())
            .unwrap_or_else(|| "assigned".into()),
        None => "unassigned".into(),
    };
    let preview = c
        .last_message
        .as_ref()
        .map(|m| {
            let who = if m.sender == SenderKind::Contact {
                ""
            } else {
                "You: "
            };
            format!("{who}{}", text::sanitize_line(&m.text))
        })
        .unwrap_or_default();
    let meta = format!(" {} · {} · ", c.status.label(), assignee);
    let preview_room = width.saturating_sub(text::width(&meta));
    let second = Line::from(vec![
        Span::styled(format!(" {}", c.status.label()), status_style),
        Span::styled(format!(" · {assignee} · "), theme::dim()),
        Span::raw(text::truncate(&preview, preview_room).into_owned()),
    ]);
    [first, second]
}

pub fn render(frame: &mut Frame, area: Rect, state: &AppState) {
    let focused = state.focus == Focus::List;
    let total = state.store.len();
    let title = if total == 0 {
        " Conversations ".to_string()
    } else {
        format!(" Conversations ({total}) ")
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(if focused {
            theme::focused_border()
        } else {
            theme::border()
        })
        .title(Span::styled(title, theme::title()));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if total == 0 {
        let message = match state.sync {
            crate::app::state::SyncStatus::Connecting => "  Loading conversations…",
            _ => "  No conversations.",
        };
        frame.render_widget(Paragraph::new(Line::styled(message, theme::dim())), inner);
        return;
    }
    let capacity = usize::from((inner.height / layout::LIST_ROW_HEIGHT).max(1));
    let width = usize::from(inner.width);
    let mut lines = Vec::with_capacity(capacity * 2);
    for entry in visible_rows(state, capacity) {
        let selected = state.selected.as_ref() == Some(&entry.conversation.id);
        let is_open = state.open.as_ref() == Some(&entry.conversation.id);
        for mut line in rows(entry, state, width) {
            if selected {
                line = line.style(theme::selected_row());
            } else if is_open {
                line = line.style(Style::default().bg(ratatui::style::Color::Rgb(35, 35, 45)));
            }
            lines.push(line);
        }
    }
    frame.render_widget(Paragraph::new(lines), inner);
}
