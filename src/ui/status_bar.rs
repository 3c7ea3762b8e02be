//! The bottom line: demo badge, account, sync state in words, then the
//! latest notice or key hints.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::AppState;
use crate::app::state::{NoticeLevel, SyncStatus};
use crate::text;
use crate::timefmt;
use crate::ui::theme;

pub fn sync_text(state: &AppState) -> String {
    let status = match &state.sync {
        SyncStatus::Connecting if state.store.is_empty() => "connecting…".to_string(),
        SyncStatus::Connecting => "cached · connecting…".to_string(),
        SyncStatus::Synced { at } => format!("synced {}", timefmt::ago(state.now, *at)),
        SyncStatus::Offline {
            since, retry_at, ..
        } => format!(
            "offline since {} — retrying in {} s",
            timefmt::clock(state.now, *since, state.utc_offset),
            (*retry_at - state.now).num_seconds().max(0)
        ),
        SyncStatus::RateLimited { retry_at } => format!(
            "rate-limited — resuming in {} s",
            (*retry_at - state.now).num_seconds().max(0)
        ),
    };
    match history_progress(state) {
        Some(progress) => format!("{status} · {progress}"),
        None => status,
    }
}

/// While the whole account is still loading: how far along, in words.
fn history_progress(state: &AppState) -> Option<String> {
    let cursors = state.store.cursors();
    let totals = state.store.totals();
    // Only once the server has said how much there is.
    totals.conversations?;
    if !cursors.backfill_done() {
        let have = state.store.len() as u64;
        return Some(match totals.conversations {
            Some(total) if total > have => format!(
                "loading history {} of {} conversations",
                thousands(have),
                thousands(total)
            ),
            _ => format!("loading history ({} conversations)", thousands(have)),
        });
    }
    if !cursors.contacts_complete {
        let have = state.store.contact_count() as u64;
        return Some(match totals.contacts {
            Some(total) if total > have => {
                format!("loading names {} of {}", thousands(have), thousands(total))
            }
            _ => "loading names".to_string(),
        });
    }
    None
}

/// 12345 → "12,345": counts the agent reads at a glance.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

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
    let used: usize = spans.iter().map(|s| text::width(&s.content)).sum();
    let room = usize::from(area.width).saturating_sub(used + 3);
    let (message, style) = match &state.notice {
        Some(notice) => (
            notice.text.clone(),
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
