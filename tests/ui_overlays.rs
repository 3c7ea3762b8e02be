//! Snapshots of what opens over the panes (the command palette, the
//! pickers, the help) at 80x24 and 200x50, driven by keys through the real
//! `update`.

mod common;

use crossterm::event::KeyCode;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use termdesk::app::state::Overlay;
use termdesk::app::{AppState, Event, SyncEvent, update};
use termdesk::domain::*;
use termdesk::ui;

use common::{empty_state, inbox, key, now};

const SIZES: [(u16, u16); 2] = [(80, 24), (200, 50)];

fn render(state: &AppState, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| ui::draw(frame, state)).unwrap();
    terminal.backend().to_string()
}

fn tag(id: &str, name: &str) -> Tag {
    Tag {
        id: TagId::new(id),
        name: name.into(),
        color: None,
    }
}

fn agent(id: &str, first: &str, last: &str, email: &str) -> Agent {
    Agent {
        id: AgentId::new(id),
        first_name: first.into(),
        last_name: last.into(),
        email: email.into(),
        role: "AGENT".into(),
        active: true,
        is_bot: false,
    }
}

/// The shared inbox with tags on some conversations, four agents, and the
/// agent known as Ada; the list has the focus on Deniz Yılmaz.
fn state(width: u16, height: u16) -> AppState {
    let mut state = empty_state(width, height);
    let mut conversations = inbox();
    conversations[0].tags = vec![tag("t-vip", "VIP"), tag("t-ship", "shipping")];
    conversations[1].tags = vec![tag("t-return", "returns")];
    conversations[2].tags = vec![tag("t-vip", "VIP"), tag("t-urgent", "urgent-callback")];
    update(
        &mut state,
        Event::Sync(SyncEvent::Conversations(conversations)),
        now(),
    );
    update(&mut state, Event::Sync(SyncEvent::Synced), now());
    update(
        &mut state,
        Event::Sync(SyncEvent::Agents(vec![
            agent("agent-1", "Ada", "Agent", "ada@example.com"),
            agent("agent-2", "Burak", "Öztürk", "burak@example.com"),
            agent("agent-3", "Chen", "Wei", "chen.wei@example.com"),
            agent("agent-4", "Resul", "Demir", "resul@example.com"),
        ])),
        now(),
    );
    state.me = Some(AgentId::new("agent-1"));
    state
}

fn type_text(state: &mut AppState, text: &str) {
    for c in text.chars() {
        key(state, KeyCode::Char(c));
    }
}

fn picker_title(state: &AppState) -> &str {
    match state.overlay() {
        Some(Overlay::Picker(picker)) => &picker.title,
        other => panic!("expected a picker, got {other:?}"),
    }
}

#[test]
fn command_palette() {
    for (w, h) in SIZES {
        let mut state = state(w, h);
        key(&mut state, KeyCode::Char(':'));
        assert_eq!(picker_title(&state), "Command palette");
        insta::assert_snapshot!(format!("palette_{w}x{h}"), render(&state, w, h));
        type_text(&mut state, "res");
        insta::assert_snapshot!(format!("palette_res_{w}x{h}"), render(&state, w, h));
    }
}

#[test]
fn assign_picker() {
    for (w, h) in SIZES {
        let mut state = state(w, h);
        key(&mut state, KeyCode::Char('a'));
        assert_eq!(picker_title(&state), "Assign to");
        insta::assert_snapshot!(format!("assign_{w}x{h}"), render(&state, w, h));
    }
}

#[test]
fn tags_picker() {
    for (w, h) in SIZES {
        let mut state = state(w, h);
        key(&mut state, KeyCode::Char('#'));
        // Deniz has shipping and VIP; tick returns as well.
        key(&mut state, KeyCode::Char(' '));
        insta::assert_snapshot!(format!("tags_{w}x{h}"), render(&state, w, h));
        type_text(&mut state, "gift");
        insta::assert_snapshot!(format!("tags_new_{w}x{h}"), render(&state, w, h));
    }
}

#[test]
fn filters_picker() {
    for (w, h) in SIZES {
        let mut state = state(w, h);
        key(&mut state, KeyCode::Char('f'));
        // status: open, then channel: WhatsApp.
        key(&mut state, KeyCode::Char(' '));
        for _ in 0..4 {
            key(&mut state, KeyCode::Down);
        }
        key(&mut state, KeyCode::Char(' '));
        insta::assert_snapshot!(format!("filters_{w}x{h}"), render(&state, w, h));
    }
}

#[test]
fn help_overlay() {
    for (w, h) in SIZES {
        let mut state = state(w, h);
        key(&mut state, KeyCode::Char('?'));
        insta::assert_snapshot!(format!("help_{w}x{h}"), render(&state, w, h));
    }
    // 80x24 cannot show it all at once: the end is a scroll away.
    let mut state = state(80, 24);
    key(&mut state, KeyCode::Char('?'));
    key(&mut state, KeyCode::End);
    insta::assert_snapshot!("help_end_80x24", render(&state, 80, 24));
}

#[test]
fn palette_highlights_the_matched_characters() {
    let mut state = state(80, 24);
    key(&mut state, KeyCode::Char(':'));
    type_text(&mut state, "res");
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    terminal.draw(|frame| ui::draw(frame, &state)).unwrap();
    let buffer = terminal.backend().buffer();
    let row = (0..24)
        .find(|&y| {
            let line: String = (0..80).map(|x| buffer[(x, y)].symbol()).collect();
            line.contains("▶ resolve")
        })
        .expect("resolve is listed first");
    let start = (0..80).find(|&x| buffer[(x, row)].symbol() == "▶").unwrap() + 2;
    let matched = termdesk::theme::matched().fg;
    for x in start..start + 3 {
        assert_eq!(buffer[(x, row)].fg, matched.unwrap(), "column {x}");
    }
    assert_ne!(buffer[(start + 3, row)].fg, matched.unwrap());
}

/// As SuperWaba would be: no starring, priorities or conversation tags.
fn state_without_some_actions(width: u16, height: u16) -> AppState {
    let mut state = state(width, height);
    state.provider_name = "SuperWaba".into();
    state.capabilities.star = false;
    state.capabilities.priority = false;
    state.capabilities.conversation_tags = false;
    state
}

/// The row of the screen whose text contains `text`, and its text.
fn find_row(terminal: &Terminal<TestBackend>, text: &str) -> (u16, String) {
    let buffer = terminal.backend().buffer();
    let area = buffer.area;
    (0..area.height)
        .map(|y| {
            let line: String = (0..area.width).map(|x| buffer[(x, y)].symbol()).collect();
            (y, line)
        })
        .find(|(_, line)| line.contains(text))
        .unwrap_or_else(|| panic!("{text} not on screen"))
}

#[test]
fn help_greys_what_the_provider_does_not_offer() {
    let (w, h) = (200, 50);
    let mut state = state_without_some_actions(w, h);
    key(&mut state, KeyCode::Char('?'));
    insta::assert_snapshot!("help_unavailable_200x50", render(&state, w, h));
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal.draw(|frame| ui::draw(frame, &state)).unwrap();
    let dim = termdesk::theme::dim().fg.unwrap();
    let (row, line) = find_row(&terminal, "star / unstar — SuperWaba does not offer");
    let star = u16::try_from(line.find("star / unstar").unwrap()).unwrap();
    let buffer = terminal.backend().buffer();
    assert_eq!(buffer[(star, row)].fg, dim);
    let (row, line) = find_row(&terminal, "mark for a bulk action");
    let mark = u16::try_from(line.find("mark for a bulk action").unwrap()).unwrap();
    assert_ne!(terminal.backend().buffer()[(mark, row)].fg, dim);
}

#[test]
fn palette_greys_what_the_provider_does_not_offer() {
    let (w, h) = (80, 24);
    let mut state = state_without_some_actions(w, h);
    key(&mut state, KeyCode::Char(':'));
    type_text(&mut state, "s");
    insta::assert_snapshot!("palette_unavailable_80x24", render(&state, w, h));
}
