//! The view-model: where panes are and how far lists and threads can
//! scroll, computed the same way for `update` (which moves the selection and
//! the scroll) and for `ui` (which draws them).

pub mod help;
pub mod labels;
pub mod layout;
pub mod long_text;
pub mod thread_lines;

use crate::app::state::{AppState, ThreadLinesKey};
use crate::store::views::Tab;

pub fn current_layout(state: &AppState) -> layout::AppLayout {
    layout::compute(
        state.width,
        state.height,
        thread_lines::composer_lines(state),
        profile_placement(state),
    )
}

/// The conversation whose contact the profile shows: the open one, else
/// the selected one.
pub fn profile_conversation(state: &AppState) -> Option<&crate::domain::Conversation> {
    let id = state.open.as_ref().or(state.selected.as_ref())?;
    state.store.get(id).map(|e| &e.conversation)
}

/// The contact the profile shows.
pub fn profile_contact_id(state: &AppState) -> Option<&crate::domain::ContactId> {
    profile_conversation(state)?.contact_id.as_ref()
}

/// Where the profile goes: beside the thread on wide terminals unless `c`
/// hid it; on narrow ones in the thread's place while it has the keys, so
/// leaving it brings the thread back.
pub fn profile_placement(state: &AppState) -> layout::ProfilePlacement {
    use layout::ProfilePlacement;
    let wide = state.width >= layout::PROFILE_BESIDE_MIN_WIDTH;
    let shown = state.profile_shown.unwrap_or(wide);
    if !shown || profile_contact_id(state).is_none() {
        ProfilePlacement::Hidden
    } else if wide {
        ProfilePlacement::Beside
    } else if state.focus == crate::app::state::Focus::Profile {
        ProfilePlacement::Instead
    } else {
        ProfilePlacement::Hidden
    }
}

/// Lines above the list's rows: the tabs, and the filter bar while a
/// filter is typed or set.
pub fn list_header_rows(state: &AppState) -> u16 {
    let filtering = !state.list_query.is_empty()
        || matches!(state.overlay(), Some(crate::app::state::Overlay::Filter));
    1 + u16::from(filtering)
}

pub fn list_capacity(state: &AppState) -> usize {
    layout::list_capacity(&current_layout(state), list_header_rows(state))
}

/// Rows the list moves on PageUp / PageDown.
pub fn list_page(state: &AppState) -> usize {
    list_capacity(state)
}

/// Lines the thread moves on PageUp / PageDown.
pub fn thread_page(state: &AppState) -> usize {
    usize::from(
        layout::inner(current_layout(state).thread)
            .height
            .saturating_sub(2),
    )
    .max(1)
}

/// Width and height inside the thread pane.
pub fn thread_viewport(state: &AppState) -> (usize, usize) {
    let inner = layout::inner(current_layout(state).thread);
    (usize::from(inner.width), usize::from(inner.height))
}

/// How far up to scroll so that a message's first line sits a few rows
/// under the top of the pane; `None` when the message is not loaded.
pub fn scroll_to_message(state: &mut AppState, target: &crate::domain::MessageId) -> Option<usize> {
    let (width, visible) = thread_viewport(state);
    let below = thread_lines::lines_below(state, width, target)?;
    let offset = below.saturating_sub(visible.saturating_sub(3));
    Some(offset.min(max_thread_scroll(state)))
}

/// Keeps the selected row inside the list viewport as rows move.
pub fn ensure_selected_visible(state: &mut AppState) {
    let capacity = list_capacity(state);
    let len = state.rows().len();
    match state.selected_index() {
        Some(index) => {
            if index < state.list_offset {
                state.list_offset = index;
            } else if index >= state.list_offset + capacity {
                state.list_offset = index + 1 - capacity;
            }
        }
        None => state.list_offset = state.list_offset.min(len.saturating_sub(1)),
    }
    state.list_offset = state.list_offset.min(len.saturating_sub(capacity));
}

/// Lines of the open thread at the current width, cached until the thread,
/// the outbox, the width or the day changes.
pub fn thread_height(state: &mut AppState) -> usize {
    let width = layout::inner(current_layout(state).thread).width;
    let key = ThreadLinesKey {
        conversation: state.open.clone(),
        width,
        thread_revision: state
            .open
            .as_ref()
            .and_then(|id| state.store.thread(id))
            .map(|t| t.revision),
        outbox_revision: state.outbox.revision(),
        day: (state.now + state.utc_offset).date_naive(),
    };
    if let Some((cached, lines)) = &state.thread_lines_cache
        && *cached == key
    {
        return *lines;
    }
    let lines = thread_lines::build_lines(state, usize::from(width)).len();
    state.thread_lines_cache = Some((key, lines));
    lines
}

/// How far up the thread can scroll at this size.
pub fn max_thread_scroll(state: &mut AppState) -> usize {
    let visible = usize::from(layout::inner(current_layout(state).thread).height);
    thread_height(state).saturating_sub(visible)
}

/// The tab bar's labels and where each starts, shared by drawing and the
/// mouse: ` Mine 12 │ Unassigned 40 │ All 320 `, or shorter forms while
/// that does not fit the list's width (the active tab keeps its count).
pub fn tab_labels(state: &AppState) -> Vec<(Tab, String, u16)> {
    let room = usize::from(layout::inner(current_layout(state).list).width);
    let count = |tab: Tab| labels::thousands(state.list.counts.get(tab) as u64);
    let active = state.view.tab;
    let forms: [&dyn Fn(Tab) -> String; 5] = [
        &|tab| format!(" {} {} ", tab.label(), count(tab)),
        &|tab| format!("{} {}", tab.label(), count(tab)),
        &|tab| format!("{} {}", tab.short_label(), count(tab)),
        &|tab| {
            if tab == active {
                format!("{} {}", tab.short_label(), count(tab))
            } else {
                tab.short_label().to_string()
            }
        },
        &|tab| {
            if tab == active {
                format!("{} {}", tab.initial(), count(tab))
            } else {
                tab.initial().to_string()
            }
        },
    ];
    let mut chosen = Vec::new();
    for form in forms {
        chosen = Tab::ALL.map(|tab| (tab, form(tab))).to_vec();
        let used: usize = chosen.iter().map(|(_, l)| crate::text::width(l)).sum();
        if used + chosen.len() - 1 <= room {
            break;
        }
    }
    let mut x = 0u16;
    chosen
        .into_iter()
        .map(|(tab, label)| {
            let start = x;
            x = x.saturating_add(crate::text::width(&label) as u16 + 1);
            (tab, label, start)
        })
        .collect()
}

/// The tab under column `x` of the tab bar.
pub fn tab_at(state: &AppState, x: u16) -> Option<Tab> {
    tab_labels(state)
        .into_iter()
        .find(|(_, label, start)| x >= *start && x < start + crate::text::width(label) as u16)
        .map(|(tab, _, _)| tab)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::views::TabCounts;

    fn state(width: u16) -> AppState {
        let mut state = AppState::new(
            "demo",
            "demo",
            true,
            crate::config::SendKey::Enter,
            chrono::Utc::now(),
            (width, 24),
        );
        state.list.counts = TabCounts {
            mine: 1_204,
            unassigned: 31_002,
            all: 50_000,
        };
        state
    }

    #[test]
    fn tab_labels_shorten_to_fit_and_clicks_find_them() {
        let room = |state: &AppState| usize::from(layout::inner(current_layout(state).list).width);
        for width in [200, 100, 80, 60, 30] {
            let state = state(width);
            let labels = tab_labels(&state);
            let (_, last, start) = labels.last().unwrap();
            let end = usize::from(*start) + crate::text::width(last);
            assert!(end <= room(&state), "{width}: {labels:?}");
            for (tab, label, start) in &labels {
                assert_eq!(tab_at(&state, *start), Some(*tab), "{label}");
                let last_cell = start + crate::text::width(label) as u16 - 1;
                assert_eq!(tab_at(&state, last_cell), Some(*tab), "{label}");
                // The separator after a label is no tab.
                assert_eq!(tab_at(&state, last_cell + 1), None, "{label}");
            }
        }
        let wide: Vec<String> = tab_labels(&state(200)).into_iter().map(|l| l.1).collect();
        assert_eq!(
            wide,
            [" Mine 1,204 ", " Unassigned 31,002 ", " All 50,000 "]
        );
        // The active tab (All) keeps its count when the others cannot.
        let narrow: Vec<String> = tab_labels(&state(80)).into_iter().map(|l| l.1).collect();
        assert_eq!(narrow, ["Mine", "Unasg.", "All 50,000"]);
    }
}
