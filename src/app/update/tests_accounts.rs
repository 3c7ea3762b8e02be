//! Several accounts in one inbox: the account filter, actions and pickers
//! that follow the selected row's account, and each account's sync state.

use std::time::Duration;

use crossterm::event::KeyCode;

use super::tests::{key, now, type_text};
use super::update;
use crate::api::{ApiError, Capabilities};
use crate::app::event::{Event, SyncEvent};
use crate::app::keymap::Action;
use crate::app::picker::PickerPurpose;
use crate::app::state::{AccountInfo, AppState, Overlay, SyncStatus};
use crate::config::SendKey;
use crate::domain::{
    ConversationId, ConversationStatus, Tag, TagId, Template, TemplateId, TemplateStatus,
};
use crate::store::db::DbWrite;
use crate::store::fixtures::{agent, conversation};
use crate::sync::SyncCursors;

const ALL_STATUSES: [ConversationStatus; 4] = [
    ConversationStatus::Open,
    ConversationStatus::Pending,
    ConversationStatus::Resolved,
    ConversationStatus::Closed,
];
/// SuperWaba here: no pending, no closed.
const SHOP_STATUSES: [ConversationStatus; 2] =
    [ConversationStatus::Open, ConversationStatus::Resolved];

/// SuperWaba here: no starring, no assigning.
fn shop_capabilities() -> Capabilities {
    Capabilities {
        star: false,
        assign: false,
        agents: false,
        ..Capabilities::all()
    }
}

fn template(id: &str) -> Template {
    Template {
        id: TemplateId::new(id),
        name: format!("template {id}"),
        language: "en".into(),
        category: None,
        status: TemplateStatus::Approved,
        channel_id: None,
        header: None,
        header_format: None,
        body: "Hello".into(),
        footer: None,
        buttons: Vec::new(),
        rejected_reason: None,
    }
}

fn tagged(id: &str, updated: i64, tag: &str) -> crate::domain::Conversation {
    let mut c = conversation(id, updated, true);
    c.tags = vec![Tag {
        id: TagId::new(tag),
        name: tag.rsplit(':').next().unwrap_or(tag).to_string(),
        color: None,
    }];
    c
}

/// `work` (Qpien) and `shop` (SuperWaba), two rows each, interleaved.
fn two_accounts() -> AppState {
    let mut state = AppState::new("work", "Qpien", false, SendKey::Enter, now(), (80, 24));
    state.accounts = vec![
        AccountInfo::new("work", "Qpien", Capabilities::all(), &ALL_STATUSES),
        AccountInfo::new("shop", "SuperWaba", shop_capabilities(), &SHOP_STATUSES),
    ];
    let rows = vec![
        tagged("work:a", 900, "work:vip"),
        tagged("shop:b", 890, "shop:wholesale"),
        conversation("work:c", 880, true),
        conversation("shop:d", 870, true),
    ];
    update(
        &mut state,
        Event::Sync(SyncEvent::Conversations(rows)),
        now(),
    );
    update(
        &mut state,
        Event::Sync(SyncEvent::Agents(vec![
            agent("work:ag1", "Ada", "Work", "ada@work.test"),
            agent("shop:ag2", "Bo", "Shop", "bo@shop.test"),
        ])),
        now(),
    );
    update(
        &mut state,
        Event::Sync(SyncEvent::Templates(vec![
            template("work:tp1"),
            template("shop:tp2"),
        ])),
        now(),
    );
    state
}

fn rows(state: &AppState) -> Vec<String> {
    state.rows().iter().map(|id| id.0.clone()).collect()
}

fn select(state: &mut AppState, id: &str) {
    while state.selected.as_ref().map(|s| s.as_str()) != Some(id) {
        let before = state.selected.clone();
        key(state, KeyCode::Char('j'));
        assert_ne!(before, state.selected, "{id} is not in the list");
    }
}

fn palette_choose(state: &mut AppState, label: &str) {
    key(state, KeyCode::Char(':'));
    type_text(state, label);
    let Some(Overlay::Picker(picker)) = state.overlay() else {
        panic!("the palette is open");
    };
    assert_eq!(picker.current().map(|i| i.label.as_str()), Some(label));
    key(state, KeyCode::Enter);
}

fn picker_keys(state: &AppState) -> Vec<String> {
    match state.overlay() {
        Some(Overlay::Picker(picker)) => picker.items.iter().map(|i| i.key.clone()).collect(),
        other => panic!("expected a picker, got {other:?}"),
    }
}

#[test]
fn the_palette_narrows_the_list_to_one_account_and_saves_it_with_the_view() {
    let mut state = two_accounts();
    assert_eq!(rows(&state), ["work:a", "shop:b", "work:c", "shop:d"]);
    state.store.take_journal();
    palette_choose(&mut state, "account: shop");
    assert_eq!(rows(&state), ["shop:b", "shop:d"]);
    assert_eq!(state.filtered_account(), Some(1));
    assert_eq!(state.selected.as_ref().unwrap().as_str(), "shop:b");
    let saved = state
        .store
        .take_journal()
        .into_iter()
        .find_map(|w| match w {
            DbWrite::SetMeta { key, value } if key == crate::store::views::META_KEY => Some(value),
            _ => None,
        });
    let saved: crate::store::views::ViewSpec =
        serde_json::from_str(&saved.expect("the view is saved")).unwrap();
    assert_eq!(saved.filters.account.as_deref(), Some("shop"));

    palette_choose(&mut state, "account: all");
    assert_eq!(rows(&state).len(), 4);
    assert_eq!(state.filtered_account(), None);
}

#[test]
fn the_account_entries_are_offered_only_with_several_accounts() {
    let mut state = two_accounts();
    key(&mut state, KeyCode::Char(':'));
    let keys = picker_keys(&state);
    assert!(keys.contains(&"account:".to_string()));
    assert!(keys.contains(&"account:work".to_string()));
    assert!(keys.contains(&"account:shop".to_string()));

    let mut single = AppState::new("work", "Qpien", false, SendKey::Enter, now(), (80, 24));
    key(&mut single, KeyCode::Char(':'));
    assert!(
        !picker_keys(&single)
            .iter()
            .any(|k| k.starts_with("account:"))
    );
}

#[test]
fn actions_answer_for_the_selected_rows_account() {
    let mut state = two_accounts();
    select(&mut state, "work:a");
    assert_eq!(state.unavailable(Action::Star), None);
    select(&mut state, "shop:b");
    let reason = state
        .unavailable(Action::Star)
        .expect("SuperWaba cannot star");
    assert!(reason.starts_with("SuperWaba does not offer"), "{reason}");
    assert!(state.unavailable(Action::Assign).is_some());

    // The key explains instead of acting.
    let commands = key(&mut state, KeyCode::Char('*'));
    assert!(commands.is_empty());
    assert!(state.mutations.items().is_empty());
    assert!(
        state
            .notice
            .as_ref()
            .is_some_and(|n| n.text.contains("SuperWaba")),
        "{:?}",
        state.notice
    );
    assert!(
        !state
            .store
            .get(&ConversationId::new("shop:b"))
            .unwrap()
            .conversation
            .starred
    );

    // The palette greys it on this row, not on a Qpien row.
    key(&mut state, KeyCode::Char(':'));
    let star = |state: &AppState| match state.overlay() {
        Some(Overlay::Picker(p)) if p.purpose == PickerPurpose::Palette => p
            .items
            .iter()
            .find(|i| i.key == "star")
            .map(|i| i.unavailable)
            .expect("the palette lists starring"),
        _ => panic!("the palette is open"),
    };
    assert!(star(&state));
    key(&mut state, KeyCode::Esc);
    select(&mut state, "work:c");
    key(&mut state, KeyCode::Char(':'));
    assert!(!star(&state));
    key(&mut state, KeyCode::Esc);
    key(&mut state, KeyCode::Char('*'));
    assert_eq!(
        state.mutations.items().len(),
        1,
        "starring a Qpien row works"
    );
}

#[test]
fn pickers_offer_only_the_conversations_account() {
    let mut state = two_accounts();
    select(&mut state, "work:a");
    key(&mut state, KeyCode::Char('a'));
    assert_eq!(picker_keys(&state), ["work:ag1", ""]);
    key(&mut state, KeyCode::Esc);
    key(&mut state, KeyCode::Char('#'));
    assert_eq!(picker_keys(&state), ["work:vip"]);
    key(&mut state, KeyCode::Esc);

    select(&mut state, "shop:b");
    key(&mut state, KeyCode::Char('#'));
    assert_eq!(picker_keys(&state), ["shop:wholesale"]);
    // A new tag typed here belongs to the shop account.
    type_text(&mut state, "fresh");
    key(&mut state, KeyCode::Enter);
    let tags = &state
        .store
        .get(&ConversationId::new("shop:b"))
        .unwrap()
        .conversation
        .tags;
    assert!(
        tags.iter().any(|t| t.id.as_str() == "shop:fresh"),
        "{tags:?}"
    );

    key(&mut state, KeyCode::Char('t'));
    match state.overlay() {
        Some(Overlay::Templates(picker)) => {
            let ids: Vec<&str> = picker.templates.iter().map(|t| t.id.as_str()).collect();
            assert_eq!(ids, ["shop:tp2"]);
        }
        other => panic!("expected the template picker, got {other:?}"),
    }
}

#[test]
fn templates_read_for_one_account_leave_the_others() {
    let mut state = two_accounts();
    update(
        &mut state,
        Event::Sync(SyncEvent::Templates(vec![template("shop:tp3")])),
        now(),
    );
    let ids: Vec<&str> = state
        .store
        .templates()
        .iter()
        .map(|t| t.id.as_str())
        .collect();
    assert_eq!(ids, ["work:tp1", "shop:tp3"]);
}

#[test]
fn each_account_keeps_its_sync_state_and_cursors() {
    let mut state = two_accounts();
    update(
        &mut state,
        Event::Sync(SyncEvent::Account {
            index: 1,
            state: Box::new(SyncEvent::Failed {
                error: ApiError::Timeout(Duration::from_secs(5)),
                retry_in: Duration::from_secs(20),
            }),
        }),
        now(),
    );
    update(
        &mut state,
        Event::Sync(SyncEvent::Account {
            index: 0,
            state: Box::new(SyncEvent::Synced),
        }),
        now(),
    );
    assert!(matches!(state.accounts[0].sync, SyncStatus::Synced { .. }));
    assert!(matches!(
        state.accounts[1].sync,
        SyncStatus::Offline { retry_at, .. } if retry_at == now() + chrono::Duration::seconds(20)
    ));
    // An index no account has is ignored.
    update(
        &mut state,
        Event::Sync(SyncEvent::Account {
            index: 9,
            state: Box::new(SyncEvent::Synced),
        }),
        now(),
    );

    state.store.take_journal();
    let mut cursors = SyncCursors::fresh();
    cursors.contacts_complete = true;
    update(
        &mut state,
        Event::Sync(SyncEvent::AccountCursors {
            account: "shop".into(),
            cursors: cursors.clone(),
        }),
        now(),
    );
    assert_eq!(state.store.account_cursors("shop"), cursors);
    assert_eq!(state.store.account_cursors("work"), SyncCursors::fresh());
    assert_eq!(
        state.store.cursors(),
        &SyncCursors::fresh(),
        "the single-account key is untouched"
    );
    let keys: Vec<String> = state
        .store
        .take_journal()
        .into_iter()
        .filter_map(|w| match w {
            DbWrite::SetMeta { key, .. } => Some(key),
            _ => None,
        })
        .collect();
    assert_eq!(keys, ["sync.cursors.shop"]);
}

#[test]
fn one_account_sees_no_account_anything() {
    let mut state = AppState::new("work", "Qpien", false, SendKey::Enter, now(), (80, 24));
    state.accounts = vec![AccountInfo::new(
        "work",
        "Qpien",
        Capabilities::all(),
        &ALL_STATUSES,
    )];
    update(
        &mut state,
        Event::Sync(SyncEvent::Conversations(vec![conversation("a", 900, true)])),
        now(),
    );
    assert!(!state.multi_account());
    assert_eq!(state.account_of("a"), None);
    assert_eq!(state.focused_account(), None);
    assert!(state.same_account("x:1", "y:2"));
}

#[test]
fn a_refusal_names_the_account_it_happened_to() {
    let mut state = two_accounts();
    let error = ApiError::InvalidCredentials("wrong secret".into());
    let failed = SyncEvent::Failed {
        error,
        retry_in: Duration::from_secs(60),
    };
    update(
        &mut state,
        Event::Sync(SyncEvent::Account {
            index: 1,
            state: Box::new(failed.clone()),
        }),
        now(),
    );
    // The fan-in forwards the overall event too; it must not hide the name.
    update(&mut state, Event::Sync(failed), now());
    let notice = state.notice.expect("a notice").text;
    assert!(
        notice.starts_with("Sync of shop failed: the credentials were rejected"),
        "{notice}"
    );
}

#[test]
fn the_status_picker_offers_the_rows_account_statuses() {
    let mut state = two_accounts();
    select(&mut state, "work:a");
    key(&mut state, KeyCode::Char('s'));
    assert_eq!(
        picker_keys(&state),
        ["open", "pending", "resolved", "closed"]
    );
    key(&mut state, KeyCode::Esc);
    select(&mut state, "shop:b");
    key(&mut state, KeyCode::Char('s'));
    assert_eq!(picker_keys(&state), ["open", "resolved"]);
    key(&mut state, KeyCode::Esc);
    let reason = state
        .unavailable(Action::SetPending)
        .expect("the shop has no pending");
    assert!(reason.contains("SuperWaba"), "{reason}");
}

#[test]
fn assigning_to_me_stays_within_my_account() {
    let mut state = two_accounts();
    state.capabilities = Capabilities::all();
    state.accounts[1].capabilities = Capabilities::all();
    state.me = Some(crate::domain::AgentId::new("work:ag1"));
    select(&mut state, "shop:b");
    key(&mut state, KeyCode::Char('A'));
    assert!(state.mutations.items().is_empty());
    assert!(
        state
            .notice
            .as_ref()
            .is_some_and(|n| n.text.contains("another account")),
        "{:?}",
        state.notice
    );
    select(&mut state, "work:c");
    key(&mut state, KeyCode::Char('A'));
    assert_eq!(state.mutations.items().len(), 1);
}
