//! Views, marks and actions on conversations: every action becomes a
//! record of the mutation log, shown at once, undoable during its grace
//! period, then sent; refused ones are rolled back with the reason.

use chrono::{DateTime, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::api::ApiError;
use crate::app::command::Command;
use crate::app::keymap::{ACTIONS, Action};
use crate::app::picker::{Picker, PickerItem, PickerPurpose};
use crate::app::state::{AppState, Focus, NoticeLevel, Overlay};
use crate::app::view::ensure_selected_visible;
use crate::domain::{
    AgentId, Channel, Conversation, ConversationId, ConversationStatus, Priority, SenderKind, Tag,
    TagId,
};
use crate::store::db::DbWrite;
use crate::store::mutations::{self, ConversationChange, ConversationMutation, MutationState};
use crate::store::views::{self, Tab};

/// Transient failures are retried this many times before the action is
/// given up and rolled back.
const MAX_ATTEMPTS: u32 = 8;
/// Typing pauses this long before the provider is asked about a filter
/// the cache cannot answer.
const SERVER_SEARCH_PAUSE: chrono::Duration = chrono::Duration::milliseconds(800);
/// A filter this short is answered from the cache only.
const SERVER_SEARCH_MIN_CHARS: usize = 3;

/// Recomputes the list's rows after the store or the view changed, keeping
/// the selection on the same conversation when it is still shown.
pub fn refresh_list(state: &mut AppState) {
    let previous = std::mem::take(&mut state.list.rows);
    state.list = state.view_engine.compute(
        &state.store,
        &state.view,
        &state.list_query,
        state.me.as_ref(),
    );
    // A row the agent just acted on stays where it was until they move on,
    // even if it no longer belongs to the view: the next key (resolve after
    // assign) must not land on another customer.
    if !state.sticky.is_empty() {
        state.list.rows = state.list.rows.keeping(&previous, &state.sticky);
    }
    let still_shown = state
        .selected
        .as_ref()
        .is_some_and(|id| state.list.rows.contains(id));
    if !still_shown {
        // A row that left the view (someone else took it, a filter) leaves
        // the selection where it was, not at the top.
        let index = if state.selection_chosen {
            state
                .selected_hint
                .min(state.list.rows.len().saturating_sub(1))
        } else {
            0
        };
        state.selected = state.list.rows.get(index).cloned();
        state.selected_hint = index;
    }
    state.marked.retain(|id| state.store.get(id).is_some());
    ensure_selected_visible(state);
    state.dirty = true;
}

fn save_view(state: &mut AppState) {
    if let Ok(json) = serde_json::to_string(&state.view) {
        state.store.record(DbWrite::SetMeta {
            key: views::META_KEY.into(),
            value: json,
        });
    }
}

/// Saves the view after a filter changed and shows its rows.
pub(super) fn save_view_and_refresh(state: &mut AppState) {
    save_view(state);
    refresh_list(state);
}

fn switch_tab(state: &mut AppState, tab: Tab) -> Vec<Command> {
    // With `agent` configured, Mine fills in once the agents arrive.
    if tab == Tab::Mine && state.me.is_none() && state.me_hint.is_none() {
        open_choose_me(state, false);
        return Vec::new();
    }
    state.view.tab = tab;
    state.selection_chosen = false;
    state.sticky.clear();
    save_view(state);
    refresh_list(state);
    Vec::new()
}

fn open_choose_me(state: &mut AppState, then_assign: bool) {
    let items: Vec<PickerItem> = agent_items(state);
    if items.is_empty() {
        state.notify(
            NoticeLevel::Warning,
            "Who are you? The agent list has not arrived yet; set `agent` in the account's config to skip this question.",
        );
        return;
    }
    state.open_overlay(Overlay::Picker(Picker::new(
        PickerPurpose::ChooseMe { then_assign },
        "Which agent are you? (remembered)",
        items,
    )));
}

fn agent_items(state: &AppState) -> Vec<PickerItem> {
    let mut agents: Vec<_> = state
        .store
        .agents()
        .filter(|a| a.active && !a.is_bot && state.in_focused_account(a.id.as_str()))
        .collect();
    agents.sort_by_key(|a| a.display_name().to_lowercase());
    agents
        .into_iter()
        .map(|a| PickerItem::new(a.display_name(), a.id.as_str()).detail(a.email.clone()))
        .collect()
}

/// Matches the config's `agent` (e-mail or id) against the agents.
pub fn resolve_me(state: &mut AppState) {
    let Some(hint) = state.me_hint.clone() else {
        return;
    };
    let found = state
        .store
        .agents()
        .find(|a| a.is_named_by(&hint))
        .map(|a| a.id.clone());
    match found {
        Some(id) if state.me.as_ref() != Some(&id) => {
            state.me = Some(id);
            refresh_list(state);
        }
        Some(_) => {}
        None if state.store.agents().next().is_some() => {
            // Said once; picking yourself when opening Mine still works.
            state.me_hint = None;
            state.notify(
                NoticeLevel::Warning,
                format!(
                    "The config's agent `{hint}` matches no agent of this account: pick yourself when you open Mine."
                ),
            );
        }
        None => {}
    }
}

/// A provider without an agent list says who signed in: that agent is
/// known (rows assigned to them show their name) and, unless the config
/// names someone else, is "me".
pub fn signed_in_as(state: &mut AppState, agent: crate::domain::Agent) {
    let id = agent.id.clone();
    if !state.store.agents().any(|known| known.id == id) {
        let mut agents: Vec<_> = state.store.agents().cloned().collect();
        agents.push(agent);
        state.store.set_agents(agents);
    }
    if state.me_hint.is_none() && state.me.is_none() {
        state.me_hint = Some(id.to_string());
    }
    resolve_me(state);
    state.dirty = true;
}

/// The conversations an action applies to: the marked ones, else the one
/// in front of the agent.
fn targets(state: &AppState) -> Vec<ConversationId> {
    if !state.marked.is_empty() {
        return state.marked.iter().cloned().collect();
    }
    let current = match state.focus {
        Focus::List => state.selected.clone(),
        _ => state.open.clone().or_else(|| state.selected.clone()),
    };
    current.into_iter().collect()
}

fn contact_name(state: &AppState, id: &ConversationId) -> String {
    state
        .store
        .get(id)
        .map(|e| e.conversation.contact_name.clone())
        .unwrap_or_else(|| id.to_string())
}

/// Records an action on every target, shows it, and starts its grace
/// period. `change_for` builds the change per conversation (a star toggles,
/// tags add to what each has); `None` skips a conversation.
fn act(
    state: &mut AppState,
    label: &str,
    group: &str,
    targets: Vec<ConversationId>,
    change_for: impl Fn(&Conversation) -> Option<ConversationChange>,
) -> Vec<Command> {
    if targets.is_empty() {
        state.notify(NoticeLevel::Info, "No conversation selected.");
        return Vec::new();
    }
    let grace = chrono::Duration::seconds(state.triage.undo_grace_secs as i64);
    let mut made = 0;
    for (n, id) in targets.iter().enumerate() {
        let Some(entry) = state.store.get(id) else {
            continue;
        };
        let Some(change) = change_for(&entry.conversation) else {
            continue;
        };
        let before = change.inverse(&entry.conversation);
        if change == before {
            continue;
        }
        let record = ConversationMutation {
            id: format!("{group}-{n}"),
            group: group.to_string(),
            conversation_id: id.clone(),
            label: label.to_string(),
            change: change.clone(),
            before,
            created_at: state.now,
            send_at: state.now + grace,
            state: MutationState::Waiting,
        };
        persist(state, &record);
        state.mutations.push(record);
        state.store.apply_local(id, |c| change.apply(c));
        made += 1;
    }
    state.marked.clear();
    state.sticky = targets.clone();
    if made == 0 {
        state.notify(NoticeLevel::Info, "Nothing to change.");
        return Vec::new();
    }
    refresh_list(state);
    // The status bar counts the grace period down; without one, say what
    // went out.
    if state.triage.undo_grace_secs == 0 {
        let whom = if made == 1 {
            contact_name(state, &targets[0])
        } else {
            format!("{made} conversations")
        };
        state.notify(
            NoticeLevel::Info,
            format!("{} — {whom}", crate::text::capitalized(label)),
        );
    } else {
        state.notice = None;
    }
    dispatch_due(state)
}

fn persist(state: &mut AppState, record: &ConversationMutation) {
    state.store.record(DbWrite::PutMutation {
        kind: mutations::KIND,
        id: record.id.clone(),
        conversation_id: record.conversation_id.clone(),
        json: record.to_json(),
    });
}

fn forget(state: &mut AppState, id: &str) {
    state
        .store
        .record(DbWrite::RemoveMutation { id: id.into() });
}

/// Sends the records whose time has come.
pub fn dispatch_due(state: &mut AppState) -> Vec<Command> {
    let mut commands = Vec::new();
    for id in state.mutations.due(state.now) {
        let Some(record) = state.mutations.get_mut(&id) else {
            continue;
        };
        record.state = MutationState::Sending;
        let record = record.clone();
        persist(state, &record);
        commands.push(Command::UpdateConversation {
            mutation_id: record.id.clone(),
            conversation_id: record.conversation_id.clone(),
            update: record.change.to_update(),
        });
    }
    commands
}

/// The server's answer to a record.
pub fn on_mutation_sent(
    state: &mut AppState,
    mutation_id: &str,
    result: Result<Box<Conversation>, ApiError>,
) -> Vec<Command> {
    let Some(record) = state.mutations.get(mutation_id).cloned() else {
        return Vec::new();
    };
    match result {
        Ok(conversation) => {
            state.mutations.remove(mutation_id);
            forget(state, mutation_id);
            let open = state.open.clone();
            state
                .store
                .upsert_conversations(vec![*conversation], open.as_ref());
            reapply_pending(state, std::slice::from_ref(&record.conversation_id));
            refresh_list(state);
        }
        Err(error) if error.is_transient() => {
            let attempts = match &record.state {
                MutationState::Retrying { attempts, .. } => attempts + 1,
                _ => 1,
            };
            if attempts >= MAX_ATTEMPTS {
                roll_back(state, &record, &error);
            } else {
                let delay = crate::store::outbox::retry_delay(attempts);
                let retry_at = state.now + chrono::Duration::from_std(delay).unwrap_or_default();
                if let Some(item) = state.mutations.get_mut(mutation_id) {
                    item.state = MutationState::Retrying {
                        attempts,
                        retry_at,
                        reason: error.to_string(),
                    };
                    let item = item.clone();
                    persist(state, &item);
                }
                state.dirty = true;
            }
        }
        Err(error) => {
            roll_back(state, &record, &error);
            return vec![Command::RefreshConversation(record.conversation_id)];
        }
    }
    Vec::new()
}

/// Puts back what the record changed, except fields a newer record of the
/// same conversation has changed since, and says why.
fn roll_back(state: &mut AppState, record: &ConversationMutation, error: &ApiError) {
    state.mutations.remove(&record.id);
    forget(state, &record.id);
    let mut restore = record.before.clone();
    for later in state.mutations.for_conversation(&record.conversation_id) {
        restore = restore.without(&later.change);
    }
    state
        .store
        .apply_local(&record.conversation_id, |c| restore.apply(c));
    refresh_list(state);
    let name = contact_name(state, &record.conversation_id);
    state.notify(
        NoticeLevel::Error,
        format!("Could not {} — {name}: {error}. Undone.", record.label),
    );
}

/// Rows fresh from the server do not know about actions still on their
/// way: show those on top again.
pub fn reapply_pending(state: &mut AppState, ids: &[ConversationId]) {
    if state.mutations.is_empty() {
        return;
    }
    let pending: Vec<ConversationMutation> = state
        .mutations
        .items()
        .iter()
        .filter(|m| ids.contains(&m.conversation_id))
        .cloned()
        .collect();
    for record in pending {
        state
            .store
            .apply_local(&record.conversation_id, |c| record.change.apply(c));
    }
}

fn undo(state: &mut AppState) {
    let undone = state.mutations.take_last_undoable();
    let Some(first) = undone.first() else {
        state.notify(
            NoticeLevel::Info,
            "Nothing to undo: actions can be undone until they are sent.",
        );
        return;
    };
    let label = first.label.clone();
    for record in &undone {
        forget(state, &record.id);
        state
            .store
            .apply_local(&record.conversation_id, |c| record.before.apply(c));
    }
    refresh_list(state);
    let whom = if undone.len() == 1 {
        contact_name(state, &undone[0].conversation_id)
    } else {
        format!("{} conversations", undone.len())
    };
    state.notify(NoticeLevel::Info, format!("Undone: {label} — {whom}."));
}

fn set_status(
    state: &mut AppState,
    group: &str,
    status: ConversationStatus,
    label: &str,
) -> Vec<Command> {
    let targets = targets(state);
    act(state, label, group, targets, |_| {
        Some(ConversationChange {
            status: Some(status.clone()),
            ..Default::default()
        })
    })
}

fn assign(state: &mut AppState, group: &str, agent: Option<AgentId>) -> Vec<Command> {
    let label = match &agent {
        None => "unassign".to_string(),
        Some(id) if state.me.as_ref() == Some(id) => "assign to me".to_string(),
        Some(id) => format!(
            "assign to {}",
            state
                .store
                .agent(id)
                .map(|a| a.display_name())
                .unwrap_or_else(|| id.to_string())
        ),
    };
    let targets = targets(state);
    act(state, &label, group, targets, |_| {
        Some(ConversationChange {
            assignee: Some(agent.clone()),
            ..Default::default()
        })
    })
}

fn star(state: &mut AppState, group: &str) -> Vec<Command> {
    let targets = targets(state);
    // A mixed set is starred; an all-starred set is unstarred.
    let all_starred = targets
        .iter()
        .all(|id| state.store.get(id).is_some_and(|e| e.conversation.starred));
    let label = if all_starred { "unstar" } else { "star" };
    act(state, label, group, targets, |_| {
        Some(ConversationChange {
            starred: Some(!all_starred),
            ..Default::default()
        })
    })
}

fn set_priority(state: &mut AppState, group: &str, priority: Priority) -> Vec<Command> {
    let label = format!("set priority {}", priority.label());
    let targets = targets(state);
    act(state, &label, group, targets, |_| {
        Some(ConversationChange {
            priority: Some(Some(priority.clone())),
            ..Default::default()
        })
    })
}

/// Tags checked in the picker are added to every target, tags unchecked
/// there are removed; others each conversation has stay.
fn set_tags(state: &mut AppState, group: &str, add: Vec<Tag>, remove: Vec<TagId>) -> Vec<Command> {
    let label = describe_tags(&add, &remove, state);
    let targets = targets(state);
    act(state, &label, group, targets, |c| {
        let mut tags: Vec<Tag> = c
            .tags
            .iter()
            .filter(|t| !remove.contains(&t.id))
            .cloned()
            .collect();
        for tag in &add {
            if !tags.iter().any(|t| t.id == tag.id) {
                tags.push(tag.clone());
            }
        }
        Some(ConversationChange {
            tags: Some(tags),
            ..Default::default()
        })
    })
}

fn describe_tags(add: &[Tag], remove: &[TagId], state: &AppState) -> String {
    let known = known_tags(state);
    let name = |id: &TagId| {
        known
            .iter()
            .find(|t| &t.id == id)
            .map(|t| t.name.clone())
            .unwrap_or_else(|| id.to_string())
    };
    let mut parts: Vec<String> = add.iter().map(|t| format!("+{}", t.name)).collect();
    parts.extend(remove.iter().map(|id| format!("-{}", name(id))));
    format!("tag {}", parts.join(" "))
}

/// Every tag seen on a conversation, by name.
pub(super) fn known_tags(state: &AppState) -> Vec<Tag> {
    let mut tags: Vec<Tag> = Vec::new();
    for id in state.store.order() {
        if let Some(entry) = state.store.get(id) {
            for tag in &entry.conversation.tags {
                if !tags.iter().any(|t| t.id == tag.id) && state.in_focused_account(tag.id.as_str())
                {
                    tags.push(tag.clone());
                }
            }
        }
    }
    tags.sort_by_key(|t| t.name.to_lowercase());
    tags
}

/// The provider's status named `label` (picker keys are labels).
fn offered_status(state: &AppState, label: &str) -> Option<ConversationStatus> {
    state.statuses.iter().find(|s| s.label() == label).cloned()
}

const PRIORITIES: [Priority; 4] = [
    Priority::Urgent,
    Priority::High,
    Priority::Medium,
    Priority::Low,
];
const CHANNELS: [Channel; 7] = [
    Channel::WhatsApp,
    Channel::Instagram,
    Channel::Messenger,
    Channel::Email,
    Channel::LiveChat,
    Channel::Telegram,
    Channel::Sms,
];

fn open_picker(state: &mut AppState, purpose: PickerPurpose, title: &str, items: Vec<PickerItem>) {
    state.open_overlay(Overlay::Picker(Picker::new(purpose, title, items)));
}

fn need_target(state: &mut AppState) -> bool {
    if targets(state).is_empty() {
        state.notify(NoticeLevel::Info, "No conversation selected.");
        return false;
    }
    true
}

fn open_filters(state: &mut AppState) {
    let f = &state.view.filters;
    let mut items = Vec::new();
    for status in &state.statuses {
        let name = status.label();
        items.push(
            PickerItem::new(format!("status: {name}"), format!("status:{name}"))
                .checked(f.statuses.contains(status)),
        );
    }
    for channel in &CHANNELS {
        items.push(
            PickerItem::new(
                format!("channel: {}", channel.label()),
                format!("channel:{}", channel.short()),
            )
            .checked(f.channels.contains(channel)),
        );
    }
    for priority in &PRIORITIES {
        let name = priority.label();
        items.push(
            PickerItem::new(format!("priority: {name}"), format!("priority:{name}"))
                .checked(f.priorities.contains(priority)),
        );
    }
    for tag in known_tags(state) {
        items.push(
            PickerItem::new(format!("tag: {}", tag.name), format!("tag:{}", tag.id))
                .checked(state.view.filters.tags.contains(&tag.id)),
        );
    }
    let f = &state.view.filters;
    items.push(PickerItem::new("starred", "starred").checked(f.starred));
    items.push(PickerItem::new("unread", "unread").checked(f.unread));
    open_picker(
        state,
        PickerPurpose::Filters,
        "Filters (Space toggles, Enter applies)",
        items,
    );
}

fn apply_filters(state: &mut AppState, picker: &Picker) {
    let mut filters = views::Filters::default();
    for item in picker.checked() {
        let (kind, value) = item.key.split_once(':').unwrap_or((item.key.as_str(), ""));
        match kind {
            "status" => {
                if let Some(s) = offered_status(state, value) {
                    filters.statuses.push(s);
                }
            }
            "channel" => {
                if let Some(c) = CHANNELS.iter().find(|c| c.short() == value) {
                    filters.channels.push(c.clone());
                }
            }
            "priority" => {
                if let Some(p) = PRIORITIES.iter().find(|p| p.label() == value) {
                    filters.priorities.push(p.clone());
                }
            }
            "tag" => filters.tags.push(TagId::new(value)),
            "starred" => filters.starred = true,
            "unread" => filters.unread = true,
            _ => {}
        }
    }
    state.view.filters = filters;
    state.selection_chosen = false;
    state.sticky.clear();
    save_view(state);
    refresh_list(state);
}

/// Actions of the triage: views, marks, assignment, status and so on.
pub fn on_triage_action(state: &mut AppState, action: Action, group: String) -> Vec<Command> {
    match action {
        Action::ViewMine => switch_tab(state, Tab::Mine),
        Action::ViewUnassigned => switch_tab(state, Tab::Unassigned),
        Action::ViewAll => switch_tab(state, Tab::All),
        Action::Filter => {
            state.focus = Focus::List;
            state.open_overlay(Overlay::Filter);
            Vec::new()
        }
        Action::FilterMenu => {
            open_filters(state);
            Vec::new()
        }
        Action::CycleSort => {
            state.view.sort = state.view.sort.next();
            state.sticky.clear();
            save_view(state);
            refresh_list(state);
            state.notify(
                NoticeLevel::Info,
                format!("Sorted by {}.", state.view.sort.label()),
            );
            Vec::new()
        }
        Action::Mark => {
            if let Some(id) = state.selected.clone() {
                if !state.marked.remove(&id) {
                    state.marked.insert(id);
                }
                super::move_selection(state, Action::Down);
            }
            Vec::new()
        }
        Action::ClearMarks => {
            state.marked.clear();
            if !state.list_query.is_empty() {
                state.list_query.clear();
                refresh_list(state);
            }
            Vec::new()
        }
        Action::Assign => {
            if need_target(state) {
                let mut items = Vec::new();
                if let Some(me) = state
                    .me
                    .as_ref()
                    .filter(|me| state.in_focused_account(me.as_str()))
                {
                    items.push(PickerItem::new("Me", me.as_str()).detail("assign to me"));
                }
                items.extend(agent_items(state));
                items.push(PickerItem::new("Nobody", "").detail("unassign"));
                open_picker(state, PickerPurpose::Assign, "Assign to", items);
            }
            Vec::new()
        }
        Action::AssignToMe => match state.me.clone() {
            // "Me" is an agent of one account; another account's rows
            // have agents of their own.
            Some(me) if !state.in_focused_account(me.as_str()) => {
                state.notify(
                    NoticeLevel::Warning,
                    "You are known as an agent of another account; choose who gets it with the assign picker.",
                );
                Vec::new()
            }
            Some(me) => assign(state, &group, Some(me)),
            // The config names the agent and the agent list is on its way:
            // asking now would take the next keys into a picker.
            None if state.me_hint.is_some() => {
                state.notify(
                    NoticeLevel::Warning,
                    "The agent list is still loading, so termdesk does not know who you are yet; nothing was assigned.",
                );
                Vec::new()
            }
            None => {
                if need_target(state) {
                    open_choose_me(state, true);
                }
                Vec::new()
            }
        },
        Action::Unassign => assign(state, &group, None),
        Action::Status => {
            if need_target(state) {
                let items = state
                    .statuses_in_focus()
                    .iter()
                    .map(|s| PickerItem::new(s.label(), s.label()))
                    .collect();
                open_picker(state, PickerPurpose::Status, "Status", items);
            }
            Vec::new()
        }
        Action::Resolve => set_status(state, &group, ConversationStatus::Resolved, "resolve"),
        Action::Reopen => set_status(state, &group, ConversationStatus::Open, "reopen"),
        Action::SetPending => set_status(state, &group, ConversationStatus::Pending, "set pending"),
        Action::Star => star(state, &group),
        Action::Priority => {
            if need_target(state) {
                let items = PRIORITIES
                    .iter()
                    .map(|p| PickerItem::new(p.label(), p.label()))
                    .collect();
                open_picker(state, PickerPurpose::Priority, "Priority", items);
            }
            Vec::new()
        }
        Action::Tags => {
            if need_target(state) {
                let targets = targets(state);
                let on_all = |tag: &Tag| {
                    targets.iter().all(|id| {
                        state
                            .store
                            .get(id)
                            .is_some_and(|e| e.conversation.tags.iter().any(|t| t.id == tag.id))
                    })
                };
                let items = known_tags(state)
                    .into_iter()
                    .map(|t| {
                        let checked = on_all(&t);
                        PickerItem::new(t.name.clone(), t.id.as_str()).checked(checked)
                    })
                    .collect();
                open_picker(
                    state,
                    PickerPurpose::Tags,
                    "Tags (Space toggles, Enter applies; type a new name to add it)",
                    items,
                );
            }
            Vec::new()
        }
        Action::NextBest => {
            let skip = state.open.clone();
            match views::next_best(&state.store, state.me.as_ref(), state.now, skip.as_ref()) {
                Some(id) => open_from_list(state, id),
                None => {
                    state.notify(NoticeLevel::Info, "Nobody is waiting for an answer.");
                    Vec::new()
                }
            }
        }
        Action::NextUnread => {
            let rows = &state.list.rows;
            let start = state.selected_index().map(|i| i + 1).unwrap_or(0);
            let found = (0..rows.len())
                .map(|k| &rows[(start + k) % rows.len()])
                .find(|id| state.store.get(id).is_some_and(|e| e.unread > 0))
                .cloned();
            match found {
                Some(id) => open_from_list(state, id),
                None => {
                    state.notify(NoticeLevel::Info, "No unread conversation in this view.");
                    Vec::new()
                }
            }
        }
        Action::Undo => {
            undo(state);
            Vec::new()
        }
        Action::Palette => {
            let items = ACTIONS
                .iter()
                .filter(|(action, _)| !matches!(action, Action::Palette))
                .map(|(action, name)| {
                    let item = PickerItem::new(action.description(), *name);
                    match state.unavailable(*action) {
                        Some(reason) => item.unavailable(reason),
                        None => item.detail(state.keymap.keys_for(*action).join(" ")),
                    }
                })
                .chain(super::accounts::palette_items(state))
                .collect();
            open_picker(state, PickerPurpose::Palette, "Command palette", items);
            Vec::new()
        }
        _ => Vec::new(),
    }
}

/// Opens a conversation chosen by a jump (next best, next unread): it is
/// shown in the list even when the view hides it.
fn open_from_list(state: &mut AppState, id: ConversationId) -> Vec<Command> {
    if let Some(index) = state.list.rows.iter().position(|r| r == &id) {
        state.selected_hint = index;
    }
    state.selected = Some(id.clone());
    let commands = super::open_conversation(state, id);
    state.focus = Focus::Thread;
    ensure_selected_visible(state);
    commands
}

/// Keys while the list's filter is typed: text edits it, arrows move the
/// selection, Enter keeps it, Esc clears it.
pub fn on_filter_key(state: &mut AppState, key: KeyEvent) -> Vec<Command> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    match key.code {
        KeyCode::Esc => {
            state.close_overlay();
            state.list_query.clear();
            refresh_list(state);
        }
        KeyCode::Enter => {
            state.close_overlay();
            return server_search(state);
        }
        KeyCode::Up | KeyCode::Down => {
            let action = if key.code == KeyCode::Up {
                Action::Up
            } else {
                Action::Down
            };
            super::move_selection(state, action);
        }
        KeyCode::Backspace => {
            state.list_query.pop();
            typed(state);
        }
        KeyCode::Char('u') if ctrl => {
            state.list_query.clear();
            typed(state);
        }
        KeyCode::Char('c') if ctrl => return super::request_quit(state),
        KeyCode::Char(c) if !ctrl && !key.modifiers.contains(KeyModifiers::ALT) => {
            state.list_query.push(c);
            typed(state);
        }
        _ => {}
    }
    Vec::new()
}

fn typed(state: &mut AppState) {
    state.list_query_changed_at = Some(state.now);
    state.selection_chosen = false;
    state.sticky.clear();
    refresh_list(state);
}

/// Asks the provider for what the cache does not hold, once per filter.
fn server_search(state: &mut AppState) -> Vec<Command> {
    state.list_query_changed_at = None;
    let query = state.list_query.trim().to_string();
    if query.chars().count() < SERVER_SEARCH_MIN_CHARS
        || state.server_searched.as_deref() == Some(query.as_str())
    {
        return Vec::new();
    }
    state.server_searched = Some(query.clone());
    vec![Command::SearchConversations { query }]
}

/// A pause in typing asks the server (see `server_search`).
pub fn on_tick(state: &mut AppState) -> Vec<Command> {
    let mut commands = dispatch_due(state);
    if state
        .list_query_changed_at
        .is_some_and(|at| state.now - at >= SERVER_SEARCH_PAUSE)
    {
        commands.extend(server_search(state));
    }
    commands
}

pub fn on_conversations_found(
    state: &mut AppState,
    query: String,
    result: Result<Vec<Conversation>, ApiError>,
) {
    match result {
        Ok(found) => {
            let ids: Vec<ConversationId> = found.iter().map(|c| c.id.clone()).collect();
            let open = state.open.clone();
            if state.store.upsert_conversations(found, open.as_ref()) > 0 {
                reapply_pending(state, &ids);
                refresh_list(state);
            }
        }
        Err(error) => {
            if state.list_query.trim() == query {
                state.notify_error("Searching the server failed", &error);
            }
            state.server_searched = None;
        }
    }
}

/// Keys for a picker on top: text filters it, arrows move, Space toggles
/// (several at once), Enter chooses, Esc closes.
pub fn on_picker_key(state: &mut AppState, key: KeyEvent, group: String) -> Vec<Command> {
    let Some(Overlay::Picker(picker)) = state.overlay_mut() else {
        return Vec::new();
    };
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    match key.code {
        KeyCode::Esc => state.close_overlay(),
        KeyCode::Up => picker.move_by(-1),
        KeyCode::Down => picker.move_by(1),
        KeyCode::PageUp => picker.move_by(-10),
        KeyCode::PageDown => picker.move_by(10),
        KeyCode::Char('p') if ctrl => picker.move_by(-1),
        KeyCode::Char('n') if ctrl => picker.move_by(1),
        KeyCode::Char('c') if ctrl => return super::request_quit(state),
        KeyCode::Char(' ') if picker.multi => picker.toggle_current(),
        KeyCode::Backspace => {
            let mut query = picker.query.clone();
            query.pop();
            picker.set_query(query);
        }
        KeyCode::Char(c) if !ctrl && !key.modifiers.contains(KeyModifiers::ALT) => {
            let mut query = picker.query.clone();
            query.push(c);
            picker.set_query(query);
        }
        KeyCode::Enter => {
            let picker = picker.clone();
            state.close_overlay();
            return choose(state, picker, group);
        }
        _ => {}
    }
    Vec::new()
}

fn choose(state: &mut AppState, picker: Picker, group: String) -> Vec<Command> {
    let current = picker.current().cloned();
    match &picker.purpose {
        PickerPurpose::ContactChoice(_) | PickerPurpose::ContactTags => {
            super::contacts::on_contact_picked(state, picker);
            Vec::new()
        }
        // Chosen inside the template picker, never from here.
        PickerPurpose::Templates | PickerPurpose::CannedReplies => Vec::new(),
        PickerPurpose::Palette => {
            if let Some(account) = current
                .as_ref()
                .and_then(|item| item.key.strip_prefix(super::accounts::PALETTE_PREFIX))
            {
                let account = (!account.is_empty()).then(|| account.to_string());
                super::accounts::filter_account(state, account);
                return Vec::new();
            }
            match current.and_then(|item| Action::from_name(&item.key)) {
                Some(action) => super::on_action(state, action, group),
                None => Vec::new(),
            }
        }
        PickerPurpose::ChooseMe { then_assign } => {
            let Some(item) = current else {
                return Vec::new();
            };
            let me = AgentId::new(item.key);
            state.me = Some(me.clone());
            state.store.record(DbWrite::SetMeta {
                key: views::ME_KEY.into(),
                value: me.as_str().to_string(),
            });
            state.notify(
                NoticeLevel::Info,
                format!("You are {}; \"Mine\" shows your conversations.", item.label),
            );
            if *then_assign {
                assign(state, &group, Some(me))
            } else {
                switch_tab(state, Tab::Mine)
            }
        }
        PickerPurpose::Assign => match current {
            Some(item) if item.key.is_empty() => assign(state, &group, None),
            Some(item) => assign(state, &group, Some(AgentId::new(item.key))),
            None => Vec::new(),
        },
        PickerPurpose::Status => match current.and_then(|item| offered_status(state, &item.key)) {
            Some(status) => {
                let label = match &status {
                    ConversationStatus::Resolved => "resolve".to_string(),
                    ConversationStatus::Open => "reopen".to_string(),
                    other => format!("set {}", other.label()),
                };
                set_status(state, &group, status, &label)
            }
            None => Vec::new(),
        },
        PickerPurpose::Priority => {
            match current.and_then(|item| PRIORITIES.iter().find(|p| p.label() == item.key)) {
                Some(priority) => set_priority(state, &group, priority.clone()),
                None => Vec::new(),
            }
        }
        PickerPurpose::Tags => {
            let mut add: Vec<Tag> = picker
                .checked()
                .filter(|item| !item.was_checked)
                .map(|item| Tag {
                    id: TagId::new(item.key.clone()),
                    name: item.label.clone(),
                    color: None,
                })
                .collect();
            let remove: Vec<TagId> = picker
                .items
                .iter()
                .filter(|item| item.was_checked && !item.checked)
                .map(|item| TagId::new(item.key.clone()))
                .collect();
            // A name typed that matches no tag is offered as a new one; the
            // provider decides whether it may exist.
            let typed = picker.query.trim();
            if picker.free_entry && !typed.is_empty() && picker.matches.is_empty() {
                // A new tag belongs to the conversation's account.
                let id = match state.focused_account() {
                    Some(i) => crate::api::accounts::qualify(&state.accounts[i].name, typed),
                    None => typed.to_string(),
                };
                add.push(Tag {
                    id: TagId::new(id),
                    name: typed.to_string(),
                    color: None,
                });
            }
            // Only what differs from the current tags is an action.
            set_tags(state, &group, add, remove)
        }
        PickerPurpose::Filters => {
            apply_filters(state, &picker);
            Vec::new()
        }
    }
}

/// Whether `conversation` calls for the bell: a customer wrote (newer than
/// what was shown) in Mine or Unassigned.
pub fn wants_attention(
    before: Option<&Conversation>,
    after: &Conversation,
    me: Option<&AgentId>,
    now: DateTime<Utc>,
) -> bool {
    let Some(last) = after
        .last_message
        .as_ref()
        .filter(|m| m.sender == SenderKind::Contact)
    else {
        return false;
    };
    let newer = match before.and_then(|b| b.last_message.as_ref()) {
        Some(old) => last.created_at > old.created_at,
        // First sight of a conversation: only a fresh message rings.
        None => now - last.created_at < chrono::Duration::minutes(2),
    };
    newer && (views::in_tab(Tab::Unassigned, after, me) || views::in_tab(Tab::Mine, after, me))
}
