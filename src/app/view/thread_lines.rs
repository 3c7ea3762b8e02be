//! The open thread as lines: messages oldest to newest, then replies still
//! in the outbox. Built by pure functions that `update` uses to know how
//! tall the thread is and the thread pane uses to draw it.

use chrono::{DateTime, FixedOffset, Utc};
use ratatui::text::{Line, Span};

use crate::app::AppState;
use crate::domain::{Ack, Message, SenderKind};
use crate::store::Thread;
use crate::store::outbox::{OutboxItem, OutboxState};
use crate::text;
use crate::theme;
use crate::timefmt;

const INDENT: &str = "  ";

fn ack_span(ack: Ack) -> Span<'static> {
    match ack {
        Ack::Pending => Span::styled(" ◷", theme::dim()),
        Ack::Sent => Span::styled(" ✓", theme::dim()),
        Ack::Delivered => Span::styled(" ✓✓", theme::dim()),
        Ack::Read => Span::styled(" ✓✓", theme::read_ack()),
        Ack::Failed => Span::styled(" ✗ not delivered", theme::error()),
        Ack::Unknown => Span::raw(""),
    }
}

fn push_wrapped(
    lines: &mut Vec<Line<'static>>,
    body: &str,
    width: usize,
    prefix: &str,
    style: ratatui::style::Style,
) {
    let room = width.saturating_sub(text::width(prefix)).max(1);
    for line in text::wrap(body, room) {
        lines.push(Line::from(vec![
            Span::raw(prefix.to_string()),
            Span::styled(line, style),
        ]));
    }
}

fn message_lines(
    lines: &mut Vec<Line<'static>>,
    message: &Message,
    width: usize,
    now: DateTime<Utc>,
    offset: FixedOffset,
    read_key: Option<&str>,
) {
    let (name, name_style) = match message.sender {
        SenderKind::Contact => (
            message
                .sender_name
                .clone()
                .unwrap_or_else(|| "Customer".into()),
            theme::contact_name(),
        ),
        SenderKind::Agent => (
            message
                .sender_name
                .clone()
                .unwrap_or_else(|| "Agent".into()),
            theme::agent_name(),
        ),
        SenderKind::Bot => (
            message.sender_name.clone().unwrap_or_else(|| "Bot".into()),
            theme::system_name(),
        ),
        SenderKind::System | SenderKind::Unknown => ("System".into(), theme::system_name()),
    };
    let mut header = vec![
        Span::styled(
            text::truncate(&name, width.saturating_sub(16)).into_owned(),
            name_style,
        ),
        Span::styled(
            format!(" · {}", timefmt::clock(now, message.created_at, offset)),
            theme::dim(),
        ),
    ];
    if message.kind == crate::domain::MessageKind::Template {
        header.push(Span::styled(" · template", theme::dim()));
    }
    if message.sender != SenderKind::Contact {
        header.push(ack_span(message.ack));
    }
    lines.push(Line::from(header));
    if let Some(subject) = &message.subject {
        push_wrapped(
            lines,
            &format!("Subject: {}", super::long_text::field(subject)),
            width,
            INDENT,
            theme::title(),
        );
    }
    if let Some(quoted) = &message.quoted {
        let quoted_text =
            text::truncate(&text::sanitize_line(&quoted.text), width.saturating_sub(6))
                .into_owned();
        lines.push(Line::from(vec![
            Span::raw(INDENT),
            Span::styled(format!("┃ {quoted_text}"), theme::quote()),
        ]));
    }
    if !message.text.is_empty() {
        let (head, rest) =
            super::long_text::shown(&message.text, message.conversation_id.as_str(), read_key);
        push_wrapped(lines, head, width, INDENT, ratatui::style::Style::default());
        if let Some(note) = rest {
            push_wrapped(lines, &note, width, INDENT, theme::dim());
        }
    }
    for media in &message.media {
        let mut label = format!("[{}]", media.kind);
        if let Some(name) = &media.file_name {
            label.push(' ');
            label.push_str(name);
        }
        if let Some(caption) = &media.caption {
            label.push_str(" — ");
            label.push_str(caption);
        }
        push_wrapped(
            lines,
            &super::long_text::field(&label),
            width,
            INDENT,
            theme::media(),
        );
        if let Some(url) = &media.url {
            push_wrapped(
                lines,
                &super::long_text::field(url),
                width,
                "    ",
                theme::dim(),
            );
        }
    }
    if message.ack == Ack::Failed
        && let Some(reason) = &message.failed_reason
    {
        let hint = if message.sender == SenderKind::Agent {
            " — R send again · e edit"
        } else {
            ""
        };
        push_wrapped(
            lines,
            &format!("✗ {}{hint}", super::long_text::field(reason)),
            width,
            INDENT,
            theme::error(),
        );
    }
}

fn outbox_lines(
    lines: &mut Vec<Line<'static>>,
    item: &OutboxItem,
    width: usize,
    now: DateTime<Utc>,
    offset: FixedOffset,
) {
    let (state_text, style) = match &item.state {
        OutboxState::Queued if item.fate_unknown => (
            "sending… (checking whether an earlier attempt arrived)".to_string(),
            theme::dim(),
        ),
        OutboxState::Queued => ("queued after the reply above".to_string(), theme::dim()),
        OutboxState::Sending { attempt: 1 } => ("sending…".to_string(), theme::dim()),
        OutboxState::Sending { attempt } => (format!("sending… (attempt {attempt})"), theme::dim()),
        OutboxState::WaitingRetry {
            retry_at, reason, ..
        } => {
            let secs = (*retry_at - now).num_seconds().max(0);
            (
                format!("not sent: {reason}; retrying in {secs} s"),
                theme::warning(),
            )
        }
        OutboxState::Failed { reason } => (
            format!("✗ failed: {reason} — R retry · e edit"),
            theme::error(),
        ),
    };
    let mut header = vec![
        Span::styled("You", theme::agent_name()),
        Span::styled(
            format!(" · {}", timefmt::clock(now, item.created_at, offset)),
            theme::dim(),
        ),
    ];
    if let Some(template) = &item.template {
        header.push(Span::styled(
            format!(
                " · template {}",
                text::truncate(&template.template_name, width.saturating_sub(24))
            ),
            theme::dim(),
        ));
    }
    lines.push(Line::from(header));
    push_wrapped(
        lines,
        &item.text,
        width,
        INDENT,
        ratatui::style::Style::default(),
    );
    push_wrapped(lines, &state_text, width, INDENT, style);
}

fn header_line(thread: &Thread) -> Option<Line<'static>> {
    if thread.loading_older {
        Some(Line::styled("  loading older messages…", theme::dim()))
    } else if thread.has_older {
        Some(Line::styled(
            "  ↑ older messages load when you scroll up",
            theme::dim(),
        ))
    } else if thread.loaded {
        Some(Line::styled("  — start of conversation —", theme::dim()))
    } else {
        None
    }
}

/// The open thread as blocks, newest first: outbox items, then messages,
/// then the header. Each block carries the blank line that separates it
/// from the one above, so the caller can stop as soon as the screen is full.
fn blocks_newest_first<'a>(
    state: &'a AppState,
    width: usize,
) -> impl Iterator<Item = Vec<Line<'static>>> + 'a {
    let id = state.open.as_ref();
    let thread = id.and_then(|id| state.store.thread(id));
    let header = thread.and_then(header_line);
    let has_header = header.is_some();
    let messages = thread.map(|t| t.messages.as_slice()).unwrap_or_default();
    let outbox: Vec<&OutboxItem> = id
        .map(|id| state.outbox.for_conversation(id).collect())
        .unwrap_or_default();
    let outbox_blocks = outbox.into_iter().rev().map(move |item| {
        let mut lines = vec![Line::raw("")];
        outbox_lines(&mut lines, item, width, state.now, state.utc_offset);
        lines
    });
    let gap = thread.and_then(|t| t.gap).map(|g| g.index);
    // The key the note under a long message names, as the agent bound it.
    let read_key = state
        .keymap
        .keys_for(crate::app::keymap::Action::ReadMessage)
        .into_iter()
        .next();
    let message_blocks = messages
        .iter()
        .enumerate()
        .rev()
        .map(move |(index, message)| {
            let mut lines = Vec::new();
            if index > 0 || has_header {
                lines.push(Line::raw(""));
            }
            // The hole left by an outage sits above the first message after it.
            if gap == Some(index) && index > 0 {
                lines.push(Line::styled(
                    "  ⋯ messages missed while offline load when you scroll up ⋯",
                    theme::warning(),
                ));
                lines.push(Line::raw(""));
            }
            message_lines(
                &mut lines,
                message,
                width,
                state.now,
                state.utc_offset,
                read_key.as_deref(),
            );
            lines
        });
    outbox_blocks
        .chain(message_blocks)
        .chain(header.map(|line| vec![line]))
}

/// Lines from the top of a message to the bottom of the thread: how far up
/// to scroll to bring it into view.
pub fn lines_below(
    state: &AppState,
    width: usize,
    target: &crate::domain::MessageId,
) -> Option<usize> {
    let id = state.open.as_ref()?;
    let thread = state.store.thread(id)?;
    let position = thread.messages.iter().rposition(|m| &m.id == target)?;
    let outbox_items = state.outbox.for_conversation(id).count();
    let newer_blocks = outbox_items + (thread.messages.len() - position);
    let lines = blocks_newest_first(state, width)
        .take(newer_blocks)
        .map(|block| block.len())
        .sum();
    Some(lines)
}

/// Every line of the open thread at `width`, oldest first.
pub fn build_lines(state: &AppState, width: usize) -> Vec<Line<'static>> {
    let blocks: Vec<_> = blocks_newest_first(state, width).collect();
    blocks.into_iter().rev().flatten().collect()
}

/// The last `count` lines of the thread (fewer if it is shorter), oldest
/// first, building only the messages needed to fill them.
pub fn tail_lines(state: &AppState, width: usize, count: usize) -> Vec<Line<'static>> {
    let mut blocks = Vec::new();
    let mut collected = 0;
    for block in blocks_newest_first(state, width) {
        collected += block.len();
        blocks.push(block);
        if collected >= count {
            break;
        }
    }
    let lines: Vec<_> = blocks.into_iter().rev().flatten().collect();
    let skip = lines.len().saturating_sub(count);
    lines.into_iter().skip(skip).collect()
}

/// Lines the composer's place needs besides its border: the text's, and
/// one above the box for the WhatsApp reply window when that applies.
pub fn composer_lines(state: &AppState) -> usize {
    state.composer.textarea.lines().len()
        + usize::from(crate::app::view::labels::reply_window_note(state).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::{Event, update};
    use crate::config::SendKey;
    use crate::domain::{Page, SenderKind};
    use crate::store::fixtures::{conversation, message, t};

    fn text_of(lines: &[Line]) -> Vec<String> {
        lines.iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn the_drawn_tail_matches_the_full_layout_at_every_scroll() {
        let mut state = AppState::new("t", "Qpien", false, SendKey::Enter, t(9999), (80, 24));
        let items = vec![conversation("a", 10, true)];
        update(
            &mut state,
            Event::Sync(crate::app::SyncEvent::Conversations(items)),
            t(9999),
        );
        state.open = Some("a".into());
        let messages = (0..40)
            .map(|i| {
                message(
                    "a",
                    &format!("m{i:02}"),
                    i,
                    SenderKind::Contact,
                    &format!("message number {i} with some words to wrap around"),
                )
            })
            .collect();
        update(
            &mut state,
            Event::MessagesLoaded {
                conversation_id: "a".into(),
                page: Page {
                    items: messages,
                    next: Some(crate::domain::PageCursor::new("2")),
                    total: None,
                    skipped: 0,
                },
                older: false,
            },
            t(9999),
        );
        let full = build_lines(&state, 30);
        let height = 10;
        for scroll in [0, 1, 7, 50, full.len() - height, 10_000] {
            let scroll_clamped = scroll.min(full.len() - height);
            let start = full.len() - height - scroll_clamped;
            let expected = text_of(&full[start..start + height]);
            let tail = tail_lines(&state, 30, height + scroll);
            assert_eq!(text_of(&tail[..height]), expected, "scroll {scroll}");
        }
    }
}
