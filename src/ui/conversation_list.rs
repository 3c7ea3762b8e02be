//! The conversation list: the tabs with their counts, the filter bar while
//! a filter is typed or set, then two rows per conversation — mark, star,
//! name, priority, unread, channel, age; then how long the customer has
//! waited, status, assignee, tags and the last message. The border's title
//! says which view, filters and sort are on.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::AppState;
use crate::app::keymap::Action;
use crate::app::state::{Focus, Overlay, SyncStatus};
use crate::app::view::labels::{self, thousands, visible_rows, waiting};
use crate::app::view::{self, layout};
use crate::domain::{ConversationStatus, Priority, SenderKind};
use crate::store::ConversationEntry;
use crate::store::views::Tab;
use crate::text;
use crate::theme;
use crate::timefmt;

/// Below this width rows leave out the tags, the assignee and the usual
/// "open", so that the last message still shows.
const COMPACT_BELOW: usize = 40;
/// Tags shown per row at most; the rest are counted.
const TAGS_SHOWN: usize = 2;
/// Cells per tag name at most.
const TAG_WIDTH: usize = 12;
/// The reply window's badge shows only while the name keeps this many
/// cells (or all of itself).
const BADGE_KEEPS_NAME: usize = 16;

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

/// The view, its filters and the sort, for the border:
/// `All · open, WA, ★ · longest waiting`.
fn title(state: &AppState, width: u16) -> String {
    let mut parts = vec![state.view.tab.label().to_string()];
    let filters = filter_summary(state);
    if !filters.is_empty() {
        parts.push(filters);
    }
    parts.push(state.view.sort.label().to_string());
    // Two corners and a space either side.
    let room = usize::from(width).saturating_sub(4);
    format!(" {} ", text::truncate(&parts.join(" · "), room))
}

fn filter_summary(state: &AppState) -> String {
    let f = &state.view.filters;
    let mut parts: Vec<String> = f.statuses.iter().map(|s| s.label().to_string()).collect();
    parts.extend(f.channels.iter().map(|c| c.short().to_string()));
    parts.extend(f.priorities.iter().map(|p| p.label().to_string()));
    parts.extend(f.tags.iter().map(|id| {
        let name = state.view_engine.tag_name(id).unwrap_or(id.as_str());
        format!("#{}", text::sanitize_line(name))
    }));
    if f.starred {
        parts.push("★".into());
    }
    if f.unread {
        parts.push("unread".into());
    }
    if let Some(account) = &f.account {
        parts.push(format!("@{account}"));
    }
    parts.join(", ")
}

fn tabs_line(state: &AppState) -> Line<'static> {
    let mut spans = Vec::new();
    // Drawn from `tab_labels`, where the mouse looks up clicks.
    for (i, (tab, label, _)) in view::tab_labels(state).into_iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled("│", theme::dim()));
        }
        let style = if tab == state.view.tab {
            theme::active_tab()
        } else {
            Style::default()
        };
        spans.push(Span::styled(label, style));
    }
    Line::from(spans)
}

fn filter_line(state: &AppState, width: usize) -> Line<'static> {
    let typing = matches!(state.overlay(), Some(Overlay::Filter));
    let count = match state.rows().len() {
        0 => "no match".to_string(),
        1 => "1 match".to_string(),
        n => format!("{} matches", thousands(n as u64)),
    };
    let right = format!(" {count}");
    let cursor = if typing { "▏" } else { "" };
    // Spaces typed to start the next word stay visible.
    let query = &state.list_query;
    let trailing = query.len() - query.trim_end_matches(' ').len();
    let shown = format!("{}{}", text::sanitize_line(query), " ".repeat(trailing));
    let room = width.saturating_sub(2 + text::width(cursor) + text::width(&right));
    pad_between(
        vec![
            Span::styled("/ ", theme::filter_bar().add_modifier(Modifier::BOLD)),
            Span::styled(text::truncate_start(&shown, room), theme::filter_bar()),
            Span::styled(cursor, theme::filter_bar()),
        ],
        vec![Span::styled(right, theme::dim())],
        width,
    )
}

/// Why the list is empty, and the key that changes that.
fn empty_lines(state: &AppState) -> Vec<Line<'static>> {
    let key = |action: Action| {
        state
            .keymap
            .keys_for(action)
            .into_iter()
            .next()
            .unwrap_or_default()
    };
    let (what, hint) = if !state.list_query.trim().is_empty() {
        let query = text::truncate(&text::sanitize_line(&state.list_query), 40).into_owned();
        (
            format!("No conversations match “{query}”."),
            "Esc clears the filter.".to_string(),
        )
    } else if !state.view.filters.is_empty() {
        (
            "No conversations match the filters.".to_string(),
            format!("{} changes them.", key(Action::FilterMenu)),
        )
    } else {
        match state.view.tab {
            Tab::Mine => (
                "Nobody is assigned to you.".to_string(),
                format!("{} shows the unassigned ones.", key(Action::ViewUnassigned)),
            ),
            Tab::Unassigned => (
                "Every conversation is assigned.".to_string(),
                format!("{} shows all of them.", key(Action::ViewAll)),
            ),
            Tab::All => ("No conversations.".to_string(), String::new()),
        }
    };
    vec![
        Line::from(format!("  {what}")),
        Line::styled(format!("  {hint}"), theme::dim()),
    ]
}

fn first_line(entry: &ConversationEntry, state: &AppState, width: usize) -> Line<'static> {
    let c = &entry.conversation;
    let age = timefmt::relative(state.now, c.updated_at, state.utc_offset);
    let mut right = Vec::new();
    match c.priority {
        Some(Priority::Urgent) => right.push(Span::styled(" !!", theme::urgent())),
        Some(Priority::High) => right.push(Span::styled(" !", theme::warning())),
        _ => {}
    }
    if entry.unread > 0 {
        right.push(Span::raw(" "));
        right.push(Span::styled(
            format!(" {} ", entry.unread.min(999)),
            theme::unread_badge(),
        ));
    }
    right.push(Span::styled(
        format!(" {} {age:>3}", c.channel.short()),
        theme::dim(),
    ));
    let right_width: usize = right.iter().map(|s| text::width(&s.content)).sum();
    let star = if c.starred { "★ " } else { "" };
    let name_room = width.saturating_sub(right_width + 1 + text::width(star));
    let name_style = if entry.unread > 0 {
        theme::contact_name()
    } else {
        Style::default()
    };
    let name = text::sanitize_line(&c.contact_name);
    // WhatsApp's reply window, before the channel; the first thing to go
    // when the name would be cut for it.
    let mut name_room = name_room;
    if let Some(badge) = labels::reply_window_badge(state, &c.id) {
        let (shown, style) = if badge == "closed" {
            (" closed".to_string(), theme::warning())
        } else {
            (format!(" ⏱{badge}"), theme::dim())
        };
        let badge_width = text::width(&shown);
        let keeps = text::width(&name).min(BADGE_KEEPS_NAME);
        if name_room >= badge_width + keeps {
            name_room -= badge_width;
            let at = right.len() - 1;
            right.insert(at, Span::styled(shown, style));
        }
    }
    let mut left = Vec::new();
    if let Some((index, tag)) = labels::account_tag(state, c.id.as_str(), width) {
        let tag = format!("{tag} ");
        name_room = name_room.saturating_sub(text::width(&tag));
        left.push(Span::styled(tag, theme::account(index)));
    }
    left.push(Span::styled(star.to_string(), theme::warning()));
    left.push(Span::styled(
        text::truncate(&name, name_room).into_owned(),
        name_style,
    ));
    pad_between(left, right, width)
}

fn second_line(entry: &ConversationEntry, state: &AppState, width: usize) -> Line<'static> {
    let c = &entry.conversation;
    let mut spans = Vec::new();
    if let Some(wait) = waiting(state, c) {
        let style = if wait.breached {
            theme::sla_breached()
        } else {
            theme::waiting()
        };
        spans.push(Span::styled(format!("⏳ {}", wait.label), style));
        spans.push(Span::styled(" · ", theme::dim()));
    }
    let compact = width < COMPACT_BELOW;
    let status_style = match c.status {
        ConversationStatus::Open => theme::ok(),
        ConversationStatus::Pending => theme::warning(),
        _ => theme::dim(),
    };
    if !(compact && c.status == ConversationStatus::Open) {
        spans.push(Span::styled(c.status.label().to_string(), status_style));
        spans.push(Span::styled(" · ", theme::dim()));
    }
    // Mine and Unassigned say who has it already.
    if state.view.tab == Tab::All && !compact {
        let assignee = match &c.assignee {
            Some(id) if state.me.as_ref() == Some(id) => "mine".to_string(),
            Some(id) => state
                .store
                .agent(id)
                .map(|a| text::sanitize_line(&a.first_name))
                .unwrap_or_else(|| "assigned".into()),
            None => "unassigned".into(),
        };
        spans.push(Span::styled(format!("{assignee} · "), theme::dim()));
    }
    if !compact && !c.tags.is_empty() {
        let mut tags: Vec<String> = c
            .tags
            .iter()
            .take(TAGS_SHOWN)
            .map(|tag| {
                format!(
                    "#{}",
                    text::truncate(&text::sanitize_line(&tag.name), TAG_WIDTH)
                )
            })
            .collect();
        if c.tags.len() > TAGS_SHOWN {
            tags.push(format!("+{}", c.tags.len() - TAGS_SHOWN));
        }
        spans.push(Span::styled(tags.join(" "), theme::tag()));
        spans.push(Span::styled(" · ", theme::dim()));
    }
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
    let used: usize = spans.iter().map(|s| text::width(&s.content)).sum();
    let preview_style = if entry.unread > 0 {
        Style::default().add_modifier(Modifier::BOLD)
    } else {
        Style::default()
    };
    spans.push(Span::styled(
        text::truncate(&preview, width.saturating_sub(used)).into_owned(),
        preview_style,
    ));
    Line::from(spans)
}

/// The two lines of a row, after the mark column.
fn rows(entry: &ConversationEntry, state: &AppState, width: usize) -> [Line<'static>; 2] {
    let marked = state.marked.contains(&entry.conversation.id);
    let width = width.saturating_sub(1);
    [
        first_line(entry, state, width),
        second_line(entry, state, width),
    ]
    .map(|line| {
        let mark = if marked {
            Span::styled("▌", theme::marked())
        } else {
            Span::raw(" ")
        };
        let mut spans = vec![mark];
        spans.extend(line.spans);
        Line::from(spans)
    })
}

pub fn render(frame: &mut Frame, area: Rect, state: &AppState) {
    let focused = state.focus == Focus::List;
    let block = crate::ui::pane_block(focused)
        .title(Span::styled(title(state, area.width), theme::title()));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if state.store.is_empty() {
        let message = match state.sync {
            SyncStatus::Connecting => "  Loading conversations…",
            _ => "  No conversations.",
        };
        frame.render_widget(Paragraph::new(Line::styled(message, theme::dim())), inner);
        return;
    }
    let width = usize::from(inner.width);
    let header = view::list_header_rows(state);
    let mut header_lines = vec![tabs_line(state)];
    if header > 1 {
        header_lines.push(filter_line(state, width));
    }
    frame.render_widget(
        Paragraph::new(header_lines),
        Rect {
            height: header.min(inner.height),
            ..inner
        },
    );
    // The same rows the mouse maps clicks to (`layout::list_rows`).
    let rows_area = layout::rows_below_header(area, header);
    if state.rows().is_empty() {
        frame.render_widget(Paragraph::new(empty_lines(state)), rows_area);
        return;
    }
    let capacity = usize::from((rows_area.height / layout::LIST_ROW_HEIGHT).max(1));
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
    frame.render_widget(Paragraph::new(lines), rows_area);
}
