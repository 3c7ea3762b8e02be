//! Text on screen that depends on the time or on sync progress, shared by
//! the panes that draw it and by `update`, which redraws only when it
//! changes.

use crate::app::AppState;
use crate::app::state::SyncStatus;
use crate::store::ConversationEntry;
use crate::timefmt;

pub fn visible_rows(state: &AppState, capacity: usize) -> impl Iterator<Item = &ConversationEntry> {
    state
        .rows()
        .iter()
        .skip(state.list_offset)
        .take(capacity)
        .filter_map(|id| state.store.get(id))
}

pub fn visible_time_labels(state: &AppState) -> Vec<String> {
    visible_rows(state, crate::app::view::list_capacity(state))
        .map(|entry| {
            let age = timefmt::relative(state.now, entry.conversation.updated_at, state.utc_offset);
            let label = match waiting(state, &entry.conversation) {
                Some(wait) => format!(
                    "{age} {}{}",
                    wait.label,
                    if wait.breached { "!" } else { "" }
                ),
                None => age,
            };
            // The reply window's countdown ticks by the minute.
            match reply_window_badge(state, &entry.conversation.id) {
                Some(badge) => format!("{label} {badge}"),
                None => label,
            }
        })
        .collect()
}

/// A WhatsApp conversation's reply window for its list row: `5h12m`,
/// `closed`; `None` on other channels or while unknown.
pub fn reply_window_badge(state: &AppState, id: &crate::domain::ConversationId) -> Option<String> {
    state.store.reply_window(id, state.now).badge(state.now)
}

/// The open conversation's WhatsApp reply window, for the line above the
/// composer: the sentence, and whether free text is blocked.
pub fn reply_window_note(state: &AppState) -> Option<(String, bool)> {
    let id = state.open.as_ref()?;
    let window = state.store.reply_window(id, state.now);
    window
        .explanation(state.now)
        .map(|text| (text, !window.allows_free_text()))
}

/// How long a customer has waited for an answer, and whether that is past
/// the SLA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    pub label: String,
    pub breached: bool,
}

pub fn waiting(state: &AppState, conversation: &crate::domain::Conversation) -> Option<Waiting> {
    let since = crate::store::views::waiting_since(conversation)?;
    let breached = i64::try_from(state.triage.sla_minutes)
        .ok()
        .and_then(chrono::Duration::try_minutes)
        .is_some_and(|sla| state.now - since > sla);
    Some(Waiting {
        label: timefmt::waited(state.now, since),
        breached,
    })
}

/// Every time-based label currently on screen, joined: when this changes on
/// a tick the screen needs a redraw, otherwise it does not.
pub fn time_labels(state: &AppState) -> String {
    let mut labels = sync_text(state);
    for account in &state.accounts {
        labels.push('|');
        labels.push_str(&account_sync_text(state, &account.sync));
    }
    if let Some(pending) = pending_actions_text(state) {
        labels.push('|');
        labels.push_str(&pending);
    }
    for label in visible_time_labels(state) {
        labels.push('|');
        labels.push_str(&label);
    }
    if let Some((note, _)) = reply_window_note(state) {
        labels.push('|');
        labels.push_str(&note);
    }
    if let Some(id) = &state.open {
        for item in state.outbox.for_conversation(id) {
            if let crate::store::outbox::OutboxState::WaitingRetry { retry_at, .. } = &item.state {
                labels.push_str(&format!("|{}", (*retry_at - state.now).num_seconds()));
            }
        }
    }
    labels
}

/// Actions not yet confirmed, in words: the newest one's countdown while
/// it can be undone, else how many are on their way.
pub fn pending_actions_text(state: &AppState) -> Option<String> {
    if let Some(grace) = state.mutations.grace_summary(state.now) {
        let whom = if grace.conversations == 1 {
            state
                .store
                .get(&grace.conversation)
                .map(|e| crate::text::sanitize_line(&e.conversation.contact_name))
                .unwrap_or_default()
        } else {
            format!("{} conversations", grace.conversations)
        };
        return Some(format!(
            "{} — {whom}: sending in {} s · u undo",
            crate::text::capitalized(&grace.label),
            grace.seconds_left
        ));
    }
    match state.mutations.on_their_way() {
        (0, _) => None,
        (n, Some(retry_at)) => Some(format!(
            "{n} action{} waiting for the server — retrying in {} s",
            if n == 1 { "" } else { "s" },
            (retry_at - state.now).num_seconds().max(0)
        )),
        (n, None) => Some(format!(
            "{n} action{} sending",
            if n == 1 { "" } else { "s" }
        )),
    }
}

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
    let (backfill_done, contacts_complete) = state.store.history_loaded();
    let totals = state.store.totals();
    // Only once the server has said how much there is.
    totals.conversations?;
    if !backfill_done {
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
    if !contacts_complete {
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

/// Cells of the list from which rows name their account in full.
pub const ACCOUNT_NAME_FROM: usize = 44;
/// Cells an account's name takes in a row at most.
const ACCOUNT_NAME_WIDTH: usize = 10;

/// The marker of a row's account, when several accounts share the inbox:
/// its name on wide lists, its first two letters on narrow ones.
pub fn account_tag(state: &AppState, id: &str, width: usize) -> Option<(usize, String)> {
    let index = state.account_of(id)?;
    let name = &state.accounts[index].name;
    let tag = if width >= ACCOUNT_NAME_FROM {
        crate::text::truncate(name, ACCOUNT_NAME_WIDTH).into_owned()
    } else {
        name.chars().take(2).collect()
    };
    Some((index, tag))
}

/// One account's sync state in a few cells: `✓`, `⟳`, `⚠ retry 20s`.
pub fn account_sync_text(state: &AppState, sync: &SyncStatus) -> String {
    let left = |at: &chrono::DateTime<chrono::Utc>| (*at - state.now).num_seconds().max(0);
    match sync {
        SyncStatus::Connecting => "⟳".to_string(),
        SyncStatus::Synced { .. } => "✓".to_string(),
        SyncStatus::Offline { retry_at, .. } => format!("⚠ retry {}s", left(retry_at)),
        SyncStatus::RateLimited { retry_at } => format!("⏸ {}s", left(retry_at)),
    }
}
