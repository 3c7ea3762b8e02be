//! Snapshots of a multi-account inbox at 80x24 and 200x50: rows marked
//! with their account, the account filter in the list's title, and the
//! status bar naming the account in focus and each account's state.

mod common;

use std::time::Duration;

use crossterm::event::KeyCode;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use termdesk::api::{ApiError, Capabilities};
use termdesk::app::state::AccountInfo;
use termdesk::app::{AppState, Event, SyncEvent, update};
use termdesk::domain::{AgentId, ConversationId};
use termdesk::ui;

use common::{empty_state, inbox, key, now};

const SIZES: [(u16, u16); 2] = [(80, 24), (200, 50)];

fn render(state: &AppState, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| ui::draw(frame, state)).unwrap();
    terminal.backend().to_string()
}

/// The demo inbox split over `work` (Qpien), `shop` (SuperWaba) and
/// `dm` (DM Champ): `shop` synced, `dm` offline, `work` connecting.
fn three_accounts(width: u16, height: u16) -> AppState {
    let mut state = empty_state(width, height);
    state.is_demo = false;
    state.account_label = "work".into();
    let statuses = state.statuses.clone();
    state.accounts = vec![
        AccountInfo::new("work", "Qpien", Capabilities::all(), &statuses),
        AccountInfo::new("shop", "SuperWaba", Capabilities::default(), &statuses),
        AccountInfo::new("dm", "DM Champ", Capabilities::default(), &statuses),
    ];
    let owners = ["work", "shop", "dm", "work", "shop", "dm"];
    let rows = inbox()
        .into_iter()
        .zip(owners)
        .map(|(mut c, account)| {
            c.id = ConversationId::new(format!("{account}:{}", c.id));
            c.assignee = c.assignee.map(|a| AgentId::new(format!("{account}:{a}")));
            c
        })
        .collect();
    update(
        &mut state,
        Event::Sync(SyncEvent::Conversations(rows)),
        now(),
    );
    update(&mut state, Event::Sync(SyncEvent::Synced), now());
    let account = |index, event| {
        Event::Sync(SyncEvent::Account {
            index,
            state: Box::new(event),
        })
    };
    update(&mut state, account(1, SyncEvent::Synced), now());
    update(
        &mut state,
        account(
            2,
            SyncEvent::Failed {
                error: ApiError::Timeout(Duration::from_secs(5)),
                retry_in: Duration::from_secs(20),
            },
        ),
        now(),
    );
    state
}

#[test]
fn rows_are_marked_with_their_account_and_the_bar_shows_every_account() {
    for (w, h) in SIZES {
        let state = three_accounts(w, h);
        insta::assert_snapshot!(format!("accounts_inbox_{w}x{h}"), render(&state, w, h));
    }
}

#[test]
fn the_status_bar_follows_the_selected_rows_account() {
    for (w, h) in SIZES {
        let mut state = three_accounts(w, h);
        key(&mut state, KeyCode::Char('j'));
        let screen = render(&state, w, h);
        let bar = screen.lines().last().unwrap().to_string();
        assert!(bar.contains(" shop SuperWaba"), "{bar}");
        insta::assert_snapshot!(format!("accounts_status_bar_{w}x{h}"), bar);
    }
}

#[test]
fn the_account_filter_narrows_the_list_and_names_itself() {
    for (w, h) in SIZES {
        let mut state = three_accounts(w, h);
        key(&mut state, KeyCode::Char(':'));
        for c in "account: dm".chars() {
            key(&mut state, KeyCode::Char(c));
        }
        key(&mut state, KeyCode::Enter);
        assert_eq!(state.rows().len(), 2);
        insta::assert_snapshot!(format!("accounts_filtered_{w}x{h}"), render(&state, w, h));
    }
}
