//! Several accounts in one inbox: each account's sync state, the list
//! narrowed to one account, and lists that arrive per account.

use crate::api::ApiError;
use crate::app::picker::PickerItem;
use crate::app::state::{AppState, NoticeLevel, SyncStatus};
use crate::domain::Template;
use crate::sync::SyncEvent;

/// Palette keys of the account filter: `account:` (all) or `account:NAME`.
pub const PALETTE_PREFIX: &str = "account:";

/// The account's state after one of its sync events.
pub fn on_account_sync(state: &mut AppState, index: usize, event: &SyncEvent) {
    let now = state.now;
    let Some(account) = state.accounts.get(index) else {
        return;
    };
    let next = match event {
        SyncEvent::Connecting => SyncStatus::Connecting,
        SyncEvent::Synced => SyncStatus::Synced { at: now },
        SyncEvent::Paused(Some(wait)) => SyncStatus::RateLimited {
            retry_at: now + chrono::Duration::from_std(*wait).unwrap_or_default(),
        },
        SyncEvent::Paused(None) => match account.sync {
            SyncStatus::RateLimited { .. } => SyncStatus::Synced { at: now },
            ref other => other.clone(),
        },
        SyncEvent::Failed { error, retry_in } => {
            let retry_at = now + chrono::Duration::from_std(*retry_in).unwrap_or_default();
            if !error.is_transient() {
                let what = format!("Sync of {} failed", account.name);
                state.notify_error(&what, error);
            }
            match error {
                ApiError::RateLimited { .. } => SyncStatus::RateLimited { retry_at },
                other => SyncStatus::Offline {
                    since: match &state.accounts[index].sync {
                        SyncStatus::Offline { since, .. } => *since,
                        _ => now,
                    },
                    retry_at,
                    reason: other.to_string(),
                },
            }
        }
        _ => return,
    };
    let account = &mut state.accounts[index];
    if account.sync != next {
        account.sync = next;
        state.dirty = true;
    }
}

/// Templates read for some accounts replace only those accounts' ones:
/// a refresh asked of one account leaves the others' in place.
pub fn merged_templates(state: &AppState, incoming: Vec<Template>) -> Vec<Template> {
    if !state.multi_account() {
        return incoming;
    }
    let present: Vec<Option<usize>> = incoming
        .iter()
        .map(|t| state.account_of(t.id.as_str()))
        .collect();
    let mut merged: Vec<Template> = state
        .store
        .templates()
        .iter()
        .filter(|t| !present.contains(&state.account_of(t.id.as_str())))
        .cloned()
        .collect();
    merged.extend(incoming);
    merged
}

/// The palette's account filter entries (several accounts only).
pub fn palette_items(state: &AppState) -> Vec<PickerItem> {
    if !state.multi_account() {
        return Vec::new();
    }
    let current = state.filtered_account();
    let mark = |on: bool| if on { "✓ shown" } else { "" };
    let mut items =
        vec![PickerItem::new("account: all", PALETTE_PREFIX).detail(mark(current.is_none()))];
    items.extend(state.accounts.iter().enumerate().map(|(i, account)| {
        let detail = match current == Some(i) {
            true => format!("{} · {}", account.provider, mark(true)),
            false => account.provider.clone(),
        };
        PickerItem::new(
            format!("account: {}", account.name),
            format!("{PALETTE_PREFIX}{}", account.name),
        )
        .detail(detail)
    }));
    items
}

/// Narrows the list to one account (`None`: all); saved with the view.
pub fn filter_account(state: &mut AppState, account: Option<String>) {
    let account = account.filter(|name| state.accounts.iter().any(|a| &a.name == name));
    if state.view.filters.account == account {
        return;
    }
    state.view.filters.account = account.clone();
    state.selection_chosen = false;
    state.sticky.clear();
    super::triage::save_view_and_refresh(state);
    let text = match account {
        Some(name) => {
            format!("Showing only the account {name}; new contacts and templates use it.")
        }
        None => "Showing every account.".to_string(),
    };
    state.notify(NoticeLevel::Info, text);
}
