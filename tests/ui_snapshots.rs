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
        termdesk::app::Command::Send { outgoing: out, .. } => out.client_id().to_string(),
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

/// Ada (agent-1) is "me", so Mine has a count of its own.
fn triage_state(width: u16, height: u16) -> AppState {
    let mut state = state(width, height, false);
    state.me = Some(termdesk::domain::AgentId::new("agent-1"));
    key(&mut state, KeyCode::Char('3'));
    state
}

fn type_filter(state: &mut AppState, query: &str) {
    key(state, KeyCode::Char('/'));
    for c in query.chars() {
        key(state, KeyCode::Char(c));
    }
}

#[test]
fn tabs_with_counts_and_the_filter_being_typed() {
    for (w, h) in SIZES {
        let mut state = triage_state(w, h);
        type_filter(&mut state, "nerede");
        insta::assert_snapshot!(
            format!("list_filtering_{w}x{h}"),
            render(&state, w, h, whole)
        );
        // Enter keeps the filter: the bar stays, without the cursor.
        key(&mut state, KeyCode::Enter);
        insta::assert_snapshot!(
            format!("list_filtered_{w}x{h}"),
            render(&state, w, h, whole)
        );
    }
}

#[test]
fn a_marked_row_and_filters_in_the_title() {
    for (w, h) in SIZES {
        let mut state = triage_state(w, h);
        key(&mut state, KeyCode::Char(' '));
        key(&mut state, KeyCode::Char(' '));
        state.view.filters.statuses = vec![termdesk::domain::ConversationStatus::Open];
        state.view.filters.channels = vec![
            termdesk::domain::Channel::WhatsApp,
            termdesk::domain::Channel::Instagram,
        ];
        key(&mut state, KeyCode::Char('3'));
        insta::assert_snapshot!(format!("list_marked_{w}x{h}"), render(&state, w, h, whole));
    }
}

#[test]
fn customers_waiting_longest_first_with_the_sla_passed() {
    for (w, h) in SIZES {
        let mut state = triage_state(w, h);
        let tag = |name: &str| termdesk::domain::Tag {
            id: termdesk::domain::TagId::new(name),
            name: name.into(),
            color: None,
        };
        state.store.apply_local(&"c5".into(), |c| {
            c.priority = Some(termdesk::domain::Priority::Urgent);
            c.tags = vec![tag("vip"), tag("refund"), tag("billing")];
        });
        state.store.apply_local(&"c3".into(), |c| {
            c.priority = Some(termdesk::domain::Priority::High);
            c.tags = vec![tag("returns")];
        });
        key(&mut state, KeyCode::Char('o'));
        insta::assert_snapshot!(
            format!("list_longest_waiting_{w}x{h}"),
            render(&state, w, h, whole)
        );
    }
}

#[test]
fn empty_views_say_why_and_what_to_press() {
    for (w, h) in SIZES {
        let mut state = triage_state(w, h);
        type_filter(&mut state, "zzzz");
        insta::assert_snapshot!(
            format!("list_no_match_{w}x{h}"),
            render(&state, w, h, ui::conversation_list::render)
        );
        key(&mut state, KeyCode::Esc);
        // Nobody is unassigned once everything is assigned.
        state.view.filters.statuses = vec![termdesk::domain::ConversationStatus::Closed];
        key(&mut state, KeyCode::Char('2'));
        let screen = render(&state, w, h, ui::conversation_list::render);
        assert!(
            screen.contains("No conversations match the filters."),
            "{screen}"
        );
        assert!(screen.contains("f changes them."), "{screen}");
        state.view.filters = Default::default();
        state.me = Some(termdesk::domain::AgentId::new("agent-2"));
        key(&mut state, KeyCode::Char('1'));
        let screen = render(&state, w, h, ui::conversation_list::render);
        assert!(screen.contains("Nobody is assigned to you."), "{screen}");
        assert!(screen.contains("2 shows the unassigned ones."), "{screen}");
    }
}

/// Where `needle` starts on screen, by cell.
fn find_on_screen(terminal: &Terminal<TestBackend>, needle: &str) -> Option<(u16, u16)> {
    let buffer = terminal.backend().buffer();
    let area = buffer.area;
    for y in 0..area.height {
        let mut line = String::new();
        let mut columns = Vec::new();
        let mut hidden = 0;
        for x in 0..area.width {
            // Cells covered by a wide symbol on their left.
            if hidden > 0 {
                hidden -= 1;
                continue;
            }
            let symbol = buffer[(x, y)].symbol();
            hidden = unicode_width::UnicodeWidthStr::width(symbol).saturating_sub(1);
            for _ in symbol.chars() {
                columns.push(x);
            }
            line.push_str(symbol);
        }
        if let Some(at) = line.find(needle) {
            let chars = line[..at].chars().count();
            return Some((columns[chars], y));
        }
    }
    None
}

#[test]
fn a_customer_waiting_past_the_sla_is_highlighted() {
    for (w, h) in SIZES {
        let state = triage_state(w, h);
        let terminal = draw(&state, w, h, whole);
        let buffer = terminal.backend().buffer();
        // Liam has waited 50 minutes; the SLA is 15.
        let (x, y) = find_on_screen(&terminal, "⏳ 50m").expect("Liam's wait is shown");
        assert_eq!(buffer[(x, y)].bg, ratatui::style::Color::Red);
        assert!(
            buffer[(x, y)]
                .modifier
                .contains(ratatui::style::Modifier::BOLD)
        );
        // Ahmed's 10 minutes are within it.
        let (x, y) = find_on_screen(&terminal, "⏳ 10m").expect("Ahmed's wait is shown");
        assert_ne!(buffer[(x, y)].bg, ratatui::style::Color::Red);
        assert_eq!(buffer[(x, y)].fg, ratatui::style::Color::Yellow);
    }
}

#[test]
fn clicks_land_on_the_tab_and_the_row_drawn_there() {
    use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
    let click = |state: &mut AppState, (column, row): (u16, u16)| {
        update(
            state,
            Event::Mouse(MouseEvent {
                kind: MouseEventKind::Down(MouseButton::Left),
                column,
                row,
                modifiers: KeyModifiers::NONE,
            }),
            now(),
        );
    };
    for (w, h) in SIZES {
        let mut state = triage_state(w, h);
        // With the filter bar, rows start a line lower.
        type_filter(&mut state, "a");
        key(&mut state, KeyCode::Enter);
        let terminal = draw(&state, w, h, whole);
        let at = find_on_screen(&terminal, "Liam Chen").expect("Liam is on screen");
        click(&mut state, at);
        assert_eq!(state.selected.as_ref().map(|id| id.as_str()), Some("c5"));
        // The second line of the row is the same row.
        click(&mut state, (at.0, at.1 + 1));
        assert_eq!(state.open.as_ref().map(|id| id.as_str()), Some("c5"));
        key(&mut state, KeyCode::Esc);
        let terminal = draw(&state, w, h, whole);
        let at = find_on_screen(&terminal, "Unassigned")
            .or_else(|| find_on_screen(&terminal, "Unasg."))
            .expect("the tab is on screen");
        click(&mut state, at);
        assert_eq!(state.view.tab, termdesk::store::views::Tab::Unassigned);
    }
}
