//! Snapshots of every pane at 80x24 and 200x50, through the real `update`.

mod common;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;

use termdesk::api::ApiError;
use termdesk::app::{AppState, Event, update};
use termdesk::ui;

use common::{key, now, state};

const SIZES: [(u16, u16); 2] = [(80, 24), (200, 50)];

fn draw(
    state: &AppState,
    width: u16,
    height: u16,
    pane: impl Fn(&mut ratatui::Frame, Rect, &AppState),
) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|frame| {
            let area = frame.area();
            pane(frame, area, state)
        })
        .unwrap();
    terminal
}

fn render(
    state: &AppState,
    width: u16,
    height: u16,
    pane: impl Fn(&mut ratatui::Frame, Rect, &AppState),
) -> String {
    draw(state, width, height, pane).backend().to_string()
}

fn whole(frame: &mut ratatui::Frame, _: Rect, state: &AppState) {
    ui::draw(frame, state);
}

/// c1 open, a reply in flight, another that failed, and a draft.
fn busy_state(width: u16, height: u16) -> AppState {
    let mut state = state(width, height, true);
    key(&mut state, KeyCode::Char('r'));
    for c in "Kargo bugün çıkıyor".chars() {
        key(&mut state, KeyCode::Char(c));
    }
    let commands = update(
        &mut state,
        Event::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
        now(),
    );
    let client_id = match &commands[0] {
        termdesk::app::Command::Send { outgoing: out, .. } => out.client_id.clone(),
        other => panic!("expected a send, got {other:?}"),
    };
    update(
        &mut state,
        Event::SendFailed {
            client_id,
            error: ApiError::Network("connection reset".into()),
        },
        now(),
    );
    for c in "Anything else?".chars() {
        key(&mut state, KeyCode::Char(c));
    }
    update(
        &mut state,
        Event::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
        now(),
    );
    for c in "draft in progress".chars() {
        key(&mut state, KeyCode::Char(c));
    }
    state
}

#[test]
fn whole_screen_with_nothing_open() {
    for (w, h) in SIZES {
        let state = state(w, h, false);
        insta::assert_snapshot!(format!("whole_closed_{w}x{h}"), render(&state, w, h, whole));
    }
}

#[test]
fn whole_screen_connecting() {
    for (w, h) in SIZES {
        let state = AppState::new(
            "demo",
            "Qpien sandbox",
            true,
            termdesk::config::SendKey::Enter,
            now(),
            (w, h),
        );
        insta::assert_snapshot!(
            format!("whole_connecting_{w}x{h}"),
            render(&state, w, h, whole)
        );
    }
}

#[test]
fn conversation_list_pane() {
    for (w, h) in SIZES {
        let state = state(w, h, false);
        insta::assert_snapshot!(
            format!("list_{w}x{h}"),
            render(&state, w, h, ui::conversation_list::render)
        );
    }
}

#[test]
fn thread_pane() {
    for (w, h) in SIZES {
        let state = busy_state(w, h);
        insta::assert_snapshot!(
            format!("thread_{w}x{h}"),
            render(&state, w, h, ui::thread::render)
        );
    }
}

#[test]
fn composer_pane() {
    for (w, h) in SIZES {
        let state = busy_state(w, h);
        insta::assert_snapshot!(
            format!("composer_{w}x{h}"),
            render(&state, w, h, ui::composer::render)
        );
    }
}

#[test]
fn status_bar_pane() {
    for (w, h) in SIZES {
        let mut state = busy_state(w, h);
        insta::assert_snapshot!(
            format!("status_{w}x{h}"),
            render(&state, w, 1, ui::status_bar::render)
        );
        state.notice = None;
        state.is_demo = false;
        state.account_label = "work".into();
        insta::assert_snapshot!(
            format!("status_account_{w}x{h}"),
            render(&state, w, 1, ui::status_bar::render)
        );
    }
}

#[test]
fn whole_screen_replying() {
    for (w, h) in SIZES {
        let state = busy_state(w, h);
        insta::assert_snapshot!(
            format!("whole_replying_{w}x{h}"),
            render(&state, w, h, whole)
        );
    }
}

#[test]
fn help_overlay() {
    for (w, h) in SIZES {
        let mut state = state(w, h, true);
        key(&mut state, KeyCode::Char('?'));
        insta::assert_snapshot!(format!("help_{w}x{h}"), render(&state, w, h, whole));
    }
}

#[test]
fn quit_question() {
    for (w, h) in SIZES {
        let mut state = busy_state(w, h);
        // With the cache, only replies still on their way are worth asking about.
        state.persistent = true;
        key(&mut state, KeyCode::Esc);
        key(&mut state, KeyCode::Char('q'));
        insta::assert_snapshot!(format!("confirm_quit_{w}x{h}"), render(&state, w, h, whole));
    }
}

#[test]
fn tiny_terminals_do_not_panic() {
    for (w, h) in [(0, 0), (1, 1), (10, 3), (30, 8)] {
        let mut state = busy_state(w, h);
        draw(&state, w, h, whole);
        key(&mut state, KeyCode::Char('?'));
        draw(&state, w, h, whole);
    }
}

#[test]
fn search_box_with_results() {
    use termdesk::store::db::SearchHit;
    for (w, h) in SIZES {
        let mut state = state(w, h, false);
        update(
            &mut state,
            Event::Key(KeyEvent::new(KeyCode::Char('f'), KeyModifiers::CONTROL)),
            now(),
        );
        for c in "kargo".chars() {
            key(&mut state, KeyCode::Char(c));
        }
        let open = state.store.order()[0].clone();
        let hits = vec![
            SearchHit::Contact {
                contact_id: "p-kargo".into(),
                name: "Kargo Müşteri Hizmetleri".into(),
            },
            SearchHit::Message {
                conversation_id: open.clone(),
                message_id: "m1".into(),
                created_at: common::at(-3600),
                sender_name: Some("Deniz".into()),
                context: "…siparişim ne zaman kargoya verilecek? Bugün…".into(),
            },
            SearchHit::Message {
                conversation_id: open,
                message_id: "m2".into(),
                created_at: common::at(-7200),
                sender_name: None,
                context: "Kargo takip numaranız: TR123456".into(),
            },
        ];
        update(
            &mut state,
            Event::SearchResults {
                query: "kargo".into(),
                result: Ok(hits),
            },
            now(),
        );
        key(&mut state, KeyCode::Down);
        insta::assert_snapshot!(format!("search_{w}x{h}"), render(&state, w, h, whole));
    }
}
