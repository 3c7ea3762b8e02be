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

fn sync_style(sync: &SyncStatus) -> ratatui::style::Style {
    match sync {
        SyncStatus::Synced { .. } => theme::ok(),
        SyncStatus::Connecting => theme::dim(),
        _ => theme::warning(),
    }
}

/// Width from which each account's state names its provider too.
const PROVIDERS_FROM: u16 = 120;

/// Several accounts: the account (and provider) the agent acts in, then
/// each account's state: `work·Qpien ✓  shop·SuperWaba ⟳`.
fn accounts(spans: &mut Vec<Span<'static>>, state: &AppState, width: u16) {
    match state
        .focused_account()
        .and_then(|i| state.accounts.get(i).map(|a| (i, a)))
    {
        Some((index, account)) => {
            spans.push(Span::styled(
                format!(" {} ", account.name),
                theme::account(index),
            ));
            spans.push(Span::raw(format!("{} │ ", account.provider)));
        }
        None => spans.push(Span::styled(" all accounts ", theme::title())),
    }
    for (i, account) in state.accounts.iter().enumerate() {
        if i > 0 {
            spans.push(Span::raw("  "));
        }
        let name = if width >= PROVIDERS_FROM {
            format!("{}·{} ", account.name, account.provider)
        } else {
            format!("{} ", account.name)
        };
        spans.push(Span::styled(name, theme::account(i)));
        spans.push(Span::styled(
            crate::app::view::labels::account_sync_text(state, &account.sync),
            sync_style(&account.sync),
        ));
    }
}

pub fn render(frame: &mut Frame, area: Rect, state: &AppState) {
    if area.height == 0 {
        return;
    }
    let mut spans = Vec::new();
    if state.multi_account() {
        accounts(&mut spans, state, area.width);
    } else if state.is_demo {
        spans.push(Span::styled(" DEMO ", theme::demo_badge()));
        spans.push(Span::raw(" sandbox data · "));
    } else {
        spans.push(Span::styled(
            format!(" {} ", state.account_label),
            theme::title(),
        ));
        spans.push(Span::raw(format!("{} · ", state.provider_name)));
    }
    if !state.multi_account() {
        spans.push(Span::styled(sync_text(state), sync_style(&state.sync)));
    }
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
