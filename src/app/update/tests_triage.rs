//! Views, actions, undo and the mutation log, driven through `update`.

use crossterm::event::{KeyCode, KeyModifiers};

use super::tests::{key, now, type_text};
use super::update;
use crate::api::ApiError;
use crate::app::command::Command;
use crate::app::event::{Event, SyncEvent};
use crate::app::picker::PickerPurpose;
use crate::app::state::{AppState, Focus, NoticeLevel, Overlay};
use crate::config::SendKey;
use crate::domain::{
    Agent, AgentId, Channel, Conversation, ConversationId, ConversationStatus, SenderKind, Tag,
    TagId,
};
use crate::store::db::DbWrite;
use crate::store::fixtures::{self, conversation, t};
use crate::store::mutations::MutationState;
use crate::store::views::Tab;

fn agent(id: &str, first: &str) -> Agent {
    fixtures::agent(
        id,
        first,
        "Agent",
        &format!("{}@example.test", first.to_lowercase()),
    )
}

fn vip() -> Tag {
    Tag {
        id: TagId::new("t-vip"),
        name: "vip".into(),
        color: None,
    }
}

/// Four conversations: a (mine), b and c (unassigned), d (Bob's); a and c
/// wait on the agent. Deniz is me; the grace period is 5 s.
pub(super) fn inbox() -> AppState {
    let mut state = AppState::new("work", "Qpien", false, SendKey::Enter, now(), (80, 24));
    let mut rows: Vec<Conversation> = vec![
        conversation("a", 900, true),
        conversation("b", 890, false),
        conversation("c", 880, true),
        conversation("d", 870, true),
    ];
    rows[0].assignee = Some(AgentId::new("me"));
    rows[3].assignee = Some(AgentId::new("bob"));
    rows[1].tags = vec![vip()];
    update(
        &mut state,
        Event::Sync(SyncEvent::Agents(vec![
            agent("me", "Deniz"),
            agent("bob", "Bob"),
        ])),
        now(),
    );
    state.me = Some(AgentId::new("me"));
    update(
        &mut state,
        Event::Sync(SyncEvent::Conversations(rows)),
        now(),
    );
    update(&mut state, Event::Sync(SyncEvent::Synced), now());
    state.store.take_journal();
    state
}

fn tick(state: &mut AppState, secs: i64) -> Vec<Command> {
    update(state, Event::Tick, now() + chrono::Duration::seconds(secs))
}

pub(super) fn row<'a>(state: &'a AppState, id: &str) -> &'a Conversation {
    &state
        .store
        .get(&ConversationId::new(id))
        .unwrap()
        .conversation
}

fn rows(state: &AppState) -> Vec<&str> {
    state.rows().iter().map(|id| id.as_str()).collect()
}

fn sent(commands: &[Command]) -> Vec<(String, ConversationId)> {
    commands
        .iter()
        .filter_map(|c| match c {
            Command::UpdateConversation {
                mutation_id,
                conversation_id,
                ..
            } => Some((mutation_id.clone(), conversation_id.clone())),
            _ => None,
        })
        .collect()
}

fn answer(state: &mut AppState, mutation_id: &str, result: Result<Conversation, ApiError>) {
    update(
        state,
        Event::MutationSent {
            mutation_id: mutation_id.into(),
            result: result.map(Box::new),
        },
        now() + chrono::Duration::seconds(6),
    );
}

#[test]
fn resolve_shows_at_once_is_saved_first_and_is_sent_after_the_grace_period() {
    let mut state = inbox();
    assert!(
        key(&mut state, KeyCode::Char('x')).is_empty(),
        "nothing sent yet"
    );
    assert_eq!(row(&state, "a").status, ConversationStatus::Resolved);
    let journal = state.store.take_journal();
    assert!(
        journal.iter().any(|w| matches!(
            w,
            DbWrite::PutMutation {
                kind: "conversation",
                ..
            }
        )),
        "the action is in the log before anything is sent"
    );
    let pending = crate::app::view::labels::pending_actions_text(&state).unwrap();
    assert_eq!(pending, "Resolve — Contact a: sending in 5 s · u undo");
    assert!(sent(&tick(&mut state, 4)).is_empty());
    let commands = tick(&mut state, 5);
    let out = sent(&commands);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].1.as_str(), "a");
    let Some(Command::UpdateConversation {
        update: request, ..
    }) = commands.first()
    else {
        panic!("{commands:?}")
    };
    assert_eq!(request.status, Some(ConversationStatus::Resolved));
    assert_eq!(request.assignee, None, "only the changed field goes out");
    let mut server = row(&state, "a").clone();
    server.updated_at = t(1005);
    answer(&mut state, &out[0].0, Ok(server));
    assert!(state.mutations.is_empty());
    assert!(
        state
            .store
            .take_journal()
            .iter()
            .any(|w| matches!(w, DbWrite::RemoveMutation { .. }))
    );
    assert_eq!(row(&state, "a").status, ConversationStatus::Resolved);
}

#[test]
fn undo_during_the_grace_period_restores_the_row_and_sends_nothing() {
    let mut state = inbox();
    key(&mut state, KeyCode::Char('x'));
    key(&mut state, KeyCode::Char('u'));
    assert_eq!(row(&state, "a").status, ConversationStatus::Open);
    assert!(state.mutations.is_empty());
    assert!(state.notice.clone().unwrap().text.starts_with("Undone"));
    assert!(sent(&tick(&mut state, 30)).is_empty());
    key(&mut state, KeyCode::Char('u'));
    assert!(
        state
            .notice
            .clone()
            .unwrap()
            .text
            .contains("Nothing to undo")
    );
}

#[test]
fn an_action_already_sent_cannot_be_undone() {
    let mut state = inbox();
    key(&mut state, KeyCode::Char('*'));
    assert!(row(&state, "a").starred);
    assert_eq!(sent(&tick(&mut state, 5)).len(), 1);
    key(&mut state, KeyCode::Char('u'));
    assert!(row(&state, "a").starred, "on its way: undo leaves it");
}

#[test]
fn a_refused_action_is_rolled_back_with_the_reason_and_the_row_refetched() {
    let mut state = inbox();
    key(&mut state, KeyCode::Char('x'));
    let out = sent(&tick(&mut state, 5));
    let commands = update(
        &mut state,
        Event::MutationSent {
            mutation_id: out[0].0.clone(),
            result: Err(ApiError::Rejected {
                code: Some(409),
                message: "Conversation is closed; reopen it first".into(),
            }),
        },
        now(),
    );
    assert_eq!(row(&state, "a").status, ConversationStatus::Open);
    assert!(state.mutations.is_empty());
    let notice = state.notice.clone().unwrap();
    assert_eq!(notice.level, NoticeLevel::Error);
    assert!(notice.text.contains("reopen it first"), "{}", notice.text);
    assert!(commands.contains(&Command::RefreshConversation(ConversationId::new("a"))));
}

#[test]
fn a_transient_failure_is_retried_with_backoff_not_rolled_back() {
    let mut state = inbox();
    key(&mut state, KeyCode::Char('x'));
    let out = sent(&tick(&mut state, 5));
    update(
        &mut state,
        Event::MutationSent {
            mutation_id: out[0].0.clone(),
            result: Err(ApiError::Network("connection reset".into())),
        },
        now() + chrono::Duration::seconds(5),
    );
    assert_eq!(row(&state, "a").status, ConversationStatus::Resolved);
    let record = &state.mutations.items()[0];
    let MutationState::Retrying { retry_at, .. } = record.state else {
        panic!("{:?}", record.state)
    };
    let wait = (retry_at - (now() + chrono::Duration::seconds(5))).num_seconds();
    assert!(sent(&tick(&mut state, 5 + wait - 1)).is_empty());
    assert_eq!(sent(&tick(&mut state, 5 + wait)).len(), 1, "sent again");
}

#[test]
fn bulk_actions_apply_to_every_marked_row_and_undo_as_one() {
    let mut state = inbox();
    key(&mut state, KeyCode::Char(' '));
    key(&mut state, KeyCode::Char(' '));
    assert_eq!(state.marked.len(), 2);
    key(&mut state, KeyCode::Char('x'));
    assert!(state.marked.is_empty(), "marks are used up");
    assert_eq!(row(&state, "a").status, ConversationStatus::Resolved);
    assert_eq!(row(&state, "b").status, ConversationStatus::Resolved);
    assert_eq!(row(&state, "c").status, ConversationStatus::Open);
    assert!(
        crate::app::view::labels::pending_actions_text(&state)
            .unwrap()
            .contains("2 conversations")
    );
    key(&mut state, KeyCode::Char('u'));
    assert_eq!(row(&state, "a").status, ConversationStatus::Open);
    assert_eq!(row(&state, "b").status, ConversationStatus::Open);
}

#[test]
fn star_on_a_mixed_set_stars_all_and_on_a_starred_set_unstars() {
    let mut state = inbox();
    key(&mut state, KeyCode::Char('*'));
    key(&mut state, KeyCode::Char(' '));
    key(&mut state, KeyCode::Char(' '));
    key(&mut state, KeyCode::Char('*'));
    assert!(row(&state, "a").starred && row(&state, "b").starred);
    key(&mut state, KeyCode::Char('g'));
    key(&mut state, KeyCode::Char(' '));
    key(&mut state, KeyCode::Char(' '));
    assert_eq!(state.marked.len(), 2);
    key(&mut state, KeyCode::Char('*'));
    assert!(!row(&state, "a").starred && !row(&state, "b").starred);
}

#[test]
fn a_sync_page_older_than_a_pending_action_does_not_flip_the_row_back() {
    let mut state = inbox();
    key(&mut state, KeyCode::Char('x'));
    // The server has not seen the action yet: a poll brings the old status
    // with a newer message.
    let mut poll = conversation("a", 950, true);
    poll.assignee = Some(AgentId::new("me"));
    update(
        &mut state,
        Event::Sync(SyncEvent::Conversations(vec![poll])),
        now(),
    );
    assert_eq!(row(&state, "a").status, ConversationStatus::Resolved);
    assert_eq!(
        row(&state, "a").last_message.as_ref().unwrap().created_at,
        t(950)
    );
}

#[test]
fn rolling_back_keeps_a_newer_action_on_the_same_field() {
    let mut state = inbox();
    key(&mut state, KeyCode::Char('x'));
    let first = sent(&tick(&mut state, 5));
    // While the first is on its way the agent sets it pending.
    key(&mut state, KeyCode::Char(':'));
    type_text(&mut state, "set pending");
    key(&mut state, KeyCode::Enter);
    assert_eq!(row(&state, "a").status, ConversationStatus::Pending);
    update(
        &mut state,
        Event::MutationSent {
            mutation_id: first[0].0.clone(),
            result: Err(ApiError::Rejected {
                code: None,
                message: "no".into(),
            }),
        },
        now(),
    );
    assert_eq!(
        row(&state, "a").status,
        ConversationStatus::Pending,
        "the newer choice stands"
    );
}

#[test]
fn tabs_show_mine_unassigned_and_all_with_counts() {
    let mut state = inbox();
    assert_eq!(rows(&state), ["a", "b", "c", "d"]);
    assert_eq!(
        (
            state.list.counts.mine,
            state.list.counts.unassigned,
            state.list.counts.all
        ),
        (1, 2, 4)
    );
    key(&mut state, KeyCode::Char('2'));
    assert_eq!(state.view.tab, Tab::Unassigned);
    assert_eq!(rows(&state), ["b", "c"]);
    key(&mut state, KeyCode::Char('1'));
    assert_eq!(rows(&state), ["a"]);
    // Assigning away takes the row out of Mine once the agent moves on.
    key(&mut state, KeyCode::Char('a'));
    type_text(&mut state, "bob");
    key(&mut state, KeyCode::Enter);
    key(&mut state, KeyCode::Char('j'));
    assert!(rows(&state).is_empty());
    assert_eq!(row(&state, "a").assignee, Some(AgentId::new("bob")));
    let journal = state.store.take_journal();
    assert!(journal.iter().any(|w| matches!(
        w,
        DbWrite::SetMeta { key, .. } if key == crate::store::views::META_KEY
    )));
}

#[test]
fn mine_without_an_identity_asks_once_and_remembers() {
    let mut state = inbox();
    state.me = None;
    key(&mut state, KeyCode::Char('1'));
    let Some(Overlay::Picker(picker)) = state.overlay() else {
        panic!("asks who the agent is")
    };
    assert!(matches!(picker.purpose, PickerPurpose::ChooseMe { .. }));
    type_text(&mut state, "deniz");
    key(&mut state, KeyCode::Enter);
    assert_eq!(state.me, Some(AgentId::new("me")));
    assert_eq!(state.view.tab, Tab::Mine);
    assert_eq!(rows(&state), ["a"]);
    assert!(state.store.take_journal().iter().any(|w| matches!(
        w,
        DbWrite::SetMeta { key, value } if key == crate::store::views::ME_KEY && value == "me"
    )));
}

#[test]
fn assign_to_me_without_an_identity_asks_then_assigns() {
    let mut state = inbox();
    state.me = None;
    key(&mut state, KeyCode::Char('j'));
    key(&mut state, KeyCode::Char('A'));
    type_text(&mut state, "deniz");
    key(&mut state, KeyCode::Enter);
    assert_eq!(row(&state, "b").assignee, Some(AgentId::new("me")));
}

#[test]
fn the_typed_filter_takes_every_key_and_esc_clears_it() {
    let mut state = inbox();
    key(&mut state, KeyCode::Char('/'));
    assert!(matches!(state.overlay(), Some(Overlay::Filter)));
    // `x` and `a` are actions elsewhere; here they are text.
    type_text(&mut state, "xa");
    assert_eq!(state.list_query, "xa");
    key(&mut state, KeyCode::Backspace);
    key(&mut state, KeyCode::Backspace);
    // "of c" in the last message: an escaped space keeps the words together.
    type_text(&mut state, "of\\ c");
    assert_eq!(rows(&state), ["c"]);
    assert!(state.mutations.is_empty());
    key(&mut state, KeyCode::Enter);
    assert!(state.overlay().is_none());
    assert_eq!(rows(&state), ["c"], "Enter keeps the filter");
    key(&mut state, KeyCode::Esc);
    assert_eq!(rows(&state).len(), 4, "Esc in the list clears it");
}

#[test]
fn a_filter_typed_before_the_first_page_applies_when_rows_arrive() {
    let mut state = AppState::new("work", "Qpien", false, SendKey::Enter, now(), (80, 24));
    key(&mut state, KeyCode::Char('/'));
    type_text(&mut state, "of b");
    assert_eq!(state.list_query, "of b", "nothing typed is dropped");
    update(
        &mut state,
        Event::Sync(SyncEvent::Conversations(vec![
            conversation("a", 900, true),
            conversation("b", 890, true),
        ])),
        now(),
    );
    assert_eq!(rows(&state), ["b"]);
}

#[test]
fn a_pause_in_typing_asks_the_server_once_for_what_the_cache_lacks() {
    let mut state = inbox();
    key(&mut state, KeyCode::Char('/'));
    type_text(&mut state, "zeynep");
    let commands = tick(&mut state, 1);
    assert!(commands.contains(&Command::SearchConversations {
        query: "zeynep".into()
    }));
    assert!(tick(&mut state, 3).is_empty(), "asked once");
    let mut found = conversation("z", 500, true);
    found.contact_name = "Zeynep Kaya".into();
    update(
        &mut state,
        Event::ConversationsFound {
            query: "zeynep".into(),
            result: Ok(vec![found]),
        },
        now(),
    );
    assert_eq!(rows(&state), ["z"]);
}

#[test]
fn filters_and_sort_combine_and_are_saved() {
    let mut state = inbox();
    key(&mut state, KeyCode::Char('f'));
    type_text(&mut state, "vip");
    key(&mut state, KeyCode::Char(' '));
    key(&mut state, KeyCode::Enter);
    assert_eq!(state.view.filters.tags, vec![TagId::new("t-vip")]);
    assert_eq!(rows(&state), ["b"]);
    key(&mut state, KeyCode::Char('f'));
    type_text(&mut state, "vip");
    key(&mut state, KeyCode::Char(' '));
    key(&mut state, KeyCode::Enter);
    key(&mut state, KeyCode::Char('o'));
    // Longest waiting first: d (870) then c (880) then a (900); b waits on
    // nobody.
    assert_eq!(rows(&state), ["d", "c", "a", "b"]);
    let saved = state
        .store
        .take_journal()
        .into_iter()
        .rev()
        .filter_map(|w| match w {
            DbWrite::SetMeta { key, value } if key == crate::store::views::META_KEY => Some(value),
            _ => None,
        })
        .next()
        .unwrap();
    let spec: crate::store::views::ViewSpec = serde_json::from_str(&saved).unwrap();
    assert_eq!(spec, state.view);
}

#[test]
fn tags_picker_adds_removes_and_offers_a_typed_name() {
    let mut state = inbox();
    key(&mut state, KeyCode::Char('j'));
    key(&mut state, KeyCode::Char('#'));
    // b has vip: unchecking removes it.
    key(&mut state, KeyCode::Char(' '));
    key(&mut state, KeyCode::Enter);
    assert!(row(&state, "b").tags.is_empty());
    key(&mut state, KeyCode::Char('#'));
    type_text(&mut state, "refund");
    key(&mut state, KeyCode::Enter);
    let names: Vec<&str> = row(&state, "b")
        .tags
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    assert_eq!(names, ["refund"]);
}

#[test]
fn next_best_opens_mine_waiting_then_whatsapp_windows_then_unassigned() {
    let mut state = inbox();
    let mut email = conversation("e", 800, true);
    email.channel = Channel::Email;
    update(
        &mut state,
        Event::Sync(SyncEvent::Conversations(vec![email])),
        now(),
    );
    key(&mut state, KeyCode::Char('n'));
    assert_eq!(state.open.as_ref().unwrap().as_str(), "a");
    assert_eq!(state.focus, Focus::Thread);
    key(&mut state, KeyCode::Char('n'));
    assert_eq!(
        state.open.as_ref().unwrap().as_str(),
        "c",
        "the unassigned WhatsApp chat before the older e-mail"
    );
}

#[test]
fn next_unread_jumps_past_read_rows() {
    let mut state = inbox();
    state.store.mark_read(&ConversationId::new("a"));
    key(&mut state, KeyCode::Char('N'));
    assert_eq!(state.open.as_ref().unwrap().as_str(), "c");
}

#[test]
fn the_palette_runs_an_action_by_name() {
    let mut state = inbox();
    key(&mut state, KeyCode::Char(':'));
    type_text(&mut state, "resolve");
    key(&mut state, KeyCode::Enter);
    assert_eq!(row(&state, "a").status, ConversationStatus::Resolved);
}

#[test]
fn a_customer_writing_in_unassigned_rings_but_not_in_someone_elses() {
    let mut state = inbox();
    state.bell = true;
    let mut c = conversation("c", 990, true);
    c.updated_at = t(990);
    let commands = update(
        &mut state,
        Event::Sync(SyncEvent::Conversations(vec![c])),
        now(),
    );
    assert!(commands.iter().any(|c| matches!(c, Command::Alert { .. })));
    let mut d = conversation("d", 995, true);
    d.assignee = Some(AgentId::new("bob"));
    let commands = update(
        &mut state,
        Event::Sync(SyncEvent::Conversations(vec![d])),
        now(),
    );
    assert!(!commands.iter().any(|c| matches!(c, Command::Alert { .. })));
    let mut b = conversation("b", 996, false);
    b.tags = vec![vip()];
    let commands = update(
        &mut state,
        Event::Sync(SyncEvent::Conversations(vec![b])),
        now(),
    );
    assert!(
        !commands.iter().any(|c| matches!(c, Command::Alert { .. })),
        "our own reply does not ring"
    );
}

#[test]
fn single_letter_keys_type_in_the_composer() {
    let mut state = inbox();
    key(&mut state, KeyCode::Enter);
    key(&mut state, KeyCode::Char('r'));
    assert_eq!(state.focus, Focus::Composer);
    type_text(&mut state, "xau*n");
    assert_eq!(state.composer.text(), "xau*n");
    assert_eq!(row(&state, "a").status, ConversationStatus::Open);
    assert!(state.mutations.is_empty());
}

#[test]
fn actions_in_the_log_survive_a_restart_and_show_again() {
    let mut state = inbox();
    key(&mut state, KeyCode::Char('x'));
    let record = state.mutations.items()[0].clone();
    let mut restarted = AppState::new("work", "Qpien", false, SendKey::Enter, now(), (80, 24));
    restarted.mutations = crate::store::mutations::Mutations::restore(vec![record], now());
    // The cache may hold the row as the server last sent it.
    let mut cached = conversation("a", 900, true);
    cached.assignee = Some(AgentId::new("me"));
    update(&mut restarted, Event::CacheRows(vec![(cached, 1)]), now());
    assert_eq!(row(&restarted, "a").status, ConversationStatus::Resolved);
    assert_eq!(sent(&tick(&mut restarted, 5)).len(), 1);
}

#[test]
fn rows_waiting_on_the_agent_are_counted_from_the_customers_message() {
    let state = inbox();
    let a = row(&state, "a");
    assert_eq!(crate::store::views::waiting_since(a), Some(t(900)));
    let b = row(&state, "b");
    assert_eq!(crate::store::views::waiting_since(b), None);
    let _ = SenderKind::Contact;
}

#[test]
fn a_row_acted_on_stays_until_the_agent_moves_on() {
    let mut state = inbox();
    key(&mut state, KeyCode::Char('2'));
    assert_eq!(rows(&state), ["b", "c"]);
    key(&mut state, KeyCode::Char('A'));
    assert_eq!(rows(&state), ["b", "c"], "b is mine now but stays in view");
    key(&mut state, KeyCode::Char('x'));
    assert_eq!(row(&state, "b").status, ConversationStatus::Resolved);
    assert_eq!(row(&state, "b").assignee, Some(AgentId::new("me")));
    key(&mut state, KeyCode::Char('j'));
    assert_eq!(rows(&state), ["c"]);
    assert_eq!(state.selected.as_ref().unwrap().as_str(), "c");
}

fn mouse(state: &mut AppState, kind: crossterm::event::MouseEventKind, column: u16, row: u16) {
    update(
        state,
        Event::Mouse(crossterm::event::MouseEvent {
            kind,
            column,
            row,
            modifiers: KeyModifiers::NONE,
        }),
        now(),
    );
}

#[test]
fn the_mouse_selects_opens_scrolls_and_switches_tabs() {
    use crossterm::event::{MouseButton, MouseEventKind};
    let mut state = inbox();
    let panes = crate::app::view::current_layout(&state);
    let rows_area =
        crate::app::view::layout::list_rows(&panes, crate::app::view::list_header_rows(&state));
    // The second conversation's first line.
    let (x, y) = (rows_area.x + 2, rows_area.y + 2);
    mouse(&mut state, MouseEventKind::Down(MouseButton::Left), x, y);
    assert_eq!(state.selected.as_ref().unwrap().as_str(), "b");
    assert!(state.open.is_none());
    mouse(&mut state, MouseEventKind::Down(MouseButton::Left), x, y);
    assert_eq!(
        state.open.as_ref().unwrap().as_str(),
        "b",
        "a second click opens"
    );
    mouse(&mut state, MouseEventKind::ScrollDown, x, y);
    assert_eq!(state.selected.as_ref().unwrap().as_str(), "d");
    // The tab bar is the list's first inner line.
    let tabs_y = crate::app::view::layout::inner(panes.list).y;
    let (_, _, unassigned_x) = crate::app::view::tab_labels(&state)[1].clone();
    mouse(
        &mut state,
        MouseEventKind::Down(MouseButton::Left),
        crate::app::view::layout::inner(panes.list).x + unassigned_x + 1,
        tabs_y,
    );
    assert_eq!(state.view.tab, Tab::Unassigned);
    // Clicks under a box on top do nothing.
    key(&mut state, KeyCode::Char('?'));
    mouse(&mut state, MouseEventKind::Down(MouseButton::Left), x, y);
    assert_eq!(state.view.tab, Tab::Unassigned);
}

#[test]
fn a_configured_agent_is_found_by_email_and_a_wrong_one_is_said_once() {
    let mut state = inbox();
    state.me = None;
    state.me_hint = Some("BOB@example.test".into());
    super::triage::resolve_me(&mut state);
    assert_eq!(state.me, Some(AgentId::new("bob")));
    key(&mut state, KeyCode::Char('1'));
    assert_eq!(rows(&state), ["d"]);
    let mut state = inbox();
    state.me = None;
    state.me_hint = Some("nobody@example.test".into());
    super::triage::resolve_me(&mut state);
    assert_eq!(state.notice.clone().unwrap().level, NoticeLevel::Warning);
    assert!(state.me_hint.is_none());
    key(&mut state, KeyCode::Char('1'));
    assert!(
        matches!(state.overlay(), Some(Overlay::Picker(_))),
        "asks instead"
    );
}

#[test]
fn a_row_taken_by_someone_else_leaves_the_selection_in_place() {
    let mut state = inbox();
    key(&mut state, KeyCode::Char('2'));
    key(&mut state, KeyCode::Char('j'));
    assert_eq!(state.selected.as_ref().unwrap().as_str(), "c");
    let mut c = conversation("c", 995, true);
    c.assignee = Some(AgentId::new("bob"));
    let mut e = conversation("e", 100, true);
    e.channel = Channel::Email;
    update(
        &mut state,
        Event::Sync(SyncEvent::Conversations(vec![c, e])),
        now(),
    );
    assert_eq!(rows(&state), ["b", "e"]);
    assert_eq!(state.selected.as_ref().unwrap().as_str(), "e");
}

#[test]
fn assign_to_me_before_the_agents_arrive_says_so_and_takes_no_keys() {
    let mut state = inbox();
    state.me = None;
    state.me_hint = Some("deniz@example.test".into());
    state.store.set_agents(Vec::new());
    key(&mut state, KeyCode::Char('A'));
    assert!(state.overlay().is_none());
    assert_eq!(state.notice.clone().unwrap().level, NoticeLevel::Warning);
    assert!(state.mutations.is_empty());
}

#[test]
fn a_refusal_reason_with_terminal_escapes_is_drawn_clean() {
    let mut state = inbox();
    key(&mut state, KeyCode::Char('x'));
    let out = sent(&tick(&mut state, 5));
    answer(
        &mut state,
        &out[0].0,
        Err(ApiError::Rejected {
            code: None,
            message: "no\u{1b}]52;c;aGk=\u{7}\u{1b}[2J way".into(),
        }),
    );
    update(
        &mut state,
        Event::Resize {
            width: 200,
            height: 50,
        },
        now(),
    );
    let backend = ratatui::backend::TestBackend::new(200, 50);
    let mut terminal = ratatui::Terminal::new(backend).unwrap();
    terminal
        .draw(|frame| crate::ui::draw(frame, &state))
        .unwrap();
    let screen: String = terminal
        .backend()
        .buffer()
        .content()
        .iter()
        .map(|cell| cell.symbol())
        .collect();
    assert!(!screen.contains('\u{1b}') && !screen.contains('\u{7}'));
    assert!(
        !screen.contains("52;c;") && !screen.contains("[2J"),
        "whole sequences are removed, not just their first byte"
    );
    assert!(
        screen.contains("Could not resolve") && screen.contains("way"),
        "{screen}"
    );
}

#[test]
fn quitting_while_an_action_waits_asks_and_says_when_it_goes_out() {
    let mut state = inbox();
    state.persistent = true;
    key(&mut state, KeyCode::Char('x'));
    let commands = key(&mut state, KeyCode::Char('q'));
    assert!(!commands.contains(&Command::Quit));
    assert!(matches!(state.overlay(), Some(Overlay::ConfirmQuit)));
    let summary = state.unsent_summary().unwrap();
    assert!(summary.contains("1 action not sent yet"), "{summary}");
    assert!(key(&mut state, KeyCode::Char('y')).contains(&Command::Quit));
}

/// The inbox of a provider without starring, status changes or contacts.
fn inbox_without_some_actions() -> AppState {
    let mut state = inbox();
    state.capabilities.star = false;
    state.capabilities.update_status = false;
    state.capabilities.contacts = false;
    state
}

#[test]
fn a_key_the_provider_does_not_offer_says_why_and_sends_nothing() {
    let mut state = inbox_without_some_actions();
    let commands = key(&mut state, KeyCode::Char('*'));
    assert!(commands.is_empty(), "{commands:?}");
    assert!(!row(&state, "a").starred);
    let notice = state.notice.clone().unwrap();
    assert_eq!(notice.level, NoticeLevel::Info);
    assert_eq!(notice.text, "Qpien does not offer starring.");
    assert!(sent(&tick(&mut state, 5)).is_empty());
    assert!(state.store.take_journal().is_empty(), "nothing recorded");
    key(&mut state, KeyCode::Char('x'));
    assert_eq!(row(&state, "a").status, ConversationStatus::Open);
    assert_eq!(
        state.notice.clone().unwrap().text,
        "Qpien does not offer status changes."
    );
    key(&mut state, KeyCode::Char('C'));
    assert!(state.overlay().is_none(), "no contacts directory");
    assert_eq!(
        state.notice.clone().unwrap().text,
        "Qpien does not offer contacts."
    );
    // What the provider offers still works.
    key(&mut state, KeyCode::Char(' '));
    assert!(state.marked.contains(&ConversationId::new("a")));
}

#[test]
fn the_palette_greys_what_the_provider_does_not_offer_and_explains_it() {
    let mut state = inbox_without_some_actions();
    key(&mut state, KeyCode::Char(':'));
    let Some(Overlay::Picker(picker)) = state.overlay() else {
        panic!("no palette");
    };
    assert_eq!(picker.purpose, PickerPurpose::Palette);
    let item = |name: &str| picker.items.iter().find(|i| i.key == name).unwrap().clone();
    let star = item("star");
    assert!(star.unavailable);
    assert_eq!(star.detail, "Qpien does not offer starring");
    assert!(item("resolve").unavailable);
    assert!(item("contacts").unavailable);
    let assign = item("assign");
    assert!(!assign.unavailable);
    assert_eq!(assign.detail, "a");
    type_text(&mut state, "star / unstar");
    let commands = key(&mut state, KeyCode::Enter);
    assert!(commands.is_empty(), "{commands:?}");
    assert!(state.overlay().is_none(), "{:?}", state.overlay());
    assert!(!row(&state, "a").starred);
    assert_eq!(
        state.notice.clone().unwrap().text,
        "Qpien does not offer starring."
    );
    assert!(sent(&tick(&mut state, 5)).is_empty());
}

#[test]
fn the_help_greys_what_the_provider_does_not_offer() {
    use crate::app::view::help::{self, HelpLine};
    let state = inbox_without_some_actions();
    let area = ratatui::layout::Rect::new(0, 0, 200, 60);
    let rows: Vec<(String, bool)> = help::for_state(&state, area)
        .columns
        .iter()
        .flatten()
        .filter_map(|line| match line {
            HelpLine::Row {
                text, unavailable, ..
            } => Some((text.clone(), *unavailable)),
            _ => None,
        })
        .collect();
    let greyed = |wanted: bool| {
        rows.iter()
            .filter(|(_, unavailable)| *unavailable == wanted)
            .map(|(text, _)| text.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert!(
        greyed(true).contains("star / unstar — Qpien does not offer starring"),
        "{rows:?}"
    );
    assert!(greyed(true).contains("resolve — Qpien does not offer status changes"));
    assert!(greyed(false).contains("mark for a bulk action"));
    assert!(!greyed(false).contains("does not offer"));
    let full = help::layout(&state.keymap, area);
    assert!(
        full.columns.iter().flatten().all(|line| !matches!(
            line,
            HelpLine::Row {
                unavailable: true,
                ..
            }
        )),
        "with every capability nothing is greyed"
    );
}

#[test]
fn the_signed_in_agent_is_me_unless_the_config_names_someone() {
    let mut state = inbox();
    state.me = None;
    state.me_hint = None;
    update(
        &mut state,
        Event::Sync(SyncEvent::SignedIn(agent("bob", "Bob"))),
        now(),
    );
    assert_eq!(state.me, Some(AgentId::new("bob")), "no question asked");
    assert_eq!(
        state
            .store
            .agents()
            .filter(|a| a.id.as_str() == "bob")
            .count(),
        1
    );
    key(&mut state, KeyCode::Char('1'));
    assert_eq!(rows(&state), ["d"], "Mine shows Bob's rows");

    let mut state = inbox();
    state.me = None;
    state.me_hint = Some("deniz@example.test".into());
    update(
        &mut state,
        Event::Sync(SyncEvent::SignedIn(agent("sam", "Sam"))),
        now(),
    );
    assert_eq!(
        state.me,
        Some(AgentId::new("me")),
        "the config's agent wins"
    );
    assert!(
        state.store.agents().any(|a| a.id.as_str() == "sam"),
        "Sam is known by name"
    );
}
