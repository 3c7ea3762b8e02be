//! The bottom line: demo badge, account, sync state in words, then the
//! latest notice or key hints.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::AppState;
use crate::app::state::{NoticeLevel, SyncStatus};
use crate::app::view::labels::sync_text;
use crate::text;
use crate::theme;

pub fn render(frame: &mut Frame, area: Rect, state: &AppState) {
    if area.height == 0 {
        return;
    }
    let mut spans = Vec::new();
    if state.is_demo {
        spans.push(Span::styled(" DEMO ", theme::demo_badge()));
        spans.push(Span::raw(" sandbox data · "));
    } else {
        spans.push(Span::styled(
            format!(" {} ", state.account_label),
            theme::title(),
        ));
        spans.push(Span::raw(format!("{} · ", state.provider_name)));
    }
    let sync_style = match state.sync {
        SyncStatus::Synced { .. } => theme::ok(),
        SyncStatus::Connecting => theme::dim(),
        _ => theme::warning(),
    };
    spans.push(Span::styled(sync_text(state), sync_style));
    let in_flight = state.outbox.in_flight();
    if in_flight > 0 {
        spans.push(Span::styled(
            format!(" · {in_flight} sending"),
            theme::warning(),
        ));
    }
    let pending = crate::app::view::labels::pending_actions_text(state);
    if let Some(pending) = &pending {
        spans.push(Span::raw(" │ "));
        spans.push(Span::styled(pending.clone(), theme::warning()));
    }
    let used: usize = spans.iter().map(|s| text::width(&s.content)).sum();
    let room = usize::from(area.width).saturating_sub(used + 3);
    let (message, style) = match &state.notice {
        // Notices quote servers and customers (refusal reasons, names).
        Some(notice) => (
            text::sanitize_line(&notice.text),
            match notice.level {
                NoticeLevel::Info => theme::ok(),
                NoticeLevel::Warning => theme::warning(),
                NoticeLevel::Error => theme::error(),
            },
        ),
        None => ("? help · q quit".to_string(), theme::dim()),
    };
    spans.push(Span::raw(" │ "));
    spans.push(Span::styled(
        text::truncate(&message, room).into_owned(),
        style,
    ));
    frame.render_widget(
        Paragraph::new(Line::from(spans)).style(theme::status_bar()),
        area,
    );
}
