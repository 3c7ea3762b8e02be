//! The template picker over 2,000 templates (an account with many
//! numbers and languages): opening it on a WhatsApp conversation, typing
//! its filter, and filling a template's form, each key through `update`
//! and to a frame drawn at 200x50. Nothing is asserted about time.
//!
//! `cargo bench --bench templates` runs them under criterion;
//! `cargo bench --bench templates -- report` times each many times and
//! prints p50 / p99 per step in a table.

use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use criterion::{Criterion, criterion_group};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use termdesk::app::{AppState, Event, SyncEvent, update};
use termdesk::config::SendKey;
use termdesk::domain::*;

#[path = "report/mod.rs"]
mod report;
use report::{figure, print_table};

const TEMPLATES: usize = 2_000;
const WIDTH: u16 = 200;
const HEIGHT: u16 = 50;
const RUNS: usize = 200;

const WORDS: [&str; 12] = [
    "order",
    "shipped",
    "delivery",
    "refund",
    "appointment",
    "payment",
    "invoice",
    "welcome",
    "reminder",
    "code",
    "sale",
    "feedback",
];
const LANGUAGES: [&str; 5] = ["en", "tr", "de", "ar", "es"];

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 15, 9, 0, 0).unwrap()
}

fn templates() -> Vec<Template> {
    (0..TEMPLATES)
        .map(|n| Template {
            id: TemplateId::new(format!("t{n}")),
            name: format!(
                "{}_{}_{n}",
                WORDS[n % WORDS.len()],
                WORDS[(n / WORDS.len()) % WORDS.len()]
            ),
            language: LANGUAGES[n % LANGUAGES.len()].into(),
            category: Some(if n % 3 == 0 { "MARKETING" } else { "UTILITY" }.into()),
            status: if n % 17 == 0 {
                TemplateStatus::Pending
            } else {
                TemplateStatus::Approved
            },
            channel_id: Some(ChannelId::new("wa")),
            header: Some("Order {{1}}".into()),
            header_format: Some("TEXT".into()),
            body: format!(
                "Hi {{{{1}}}}, your {} {{{{2}}}} is ready. Reply {n} to talk to us, or visit our shop for more.",
                WORDS[n % WORDS.len()]
            ),
            footer: Some("Reply STOP to opt out".into()),
            buttons: vec![TemplateButton {
                kind: "URL".into(),
                text: "Track".into(),
                url: Some("https://shop.example/t/{{1}}".into()),
            }],
            rejected_reason: None,
        })
        .collect()
}

/// A WhatsApp conversation open, the customer's message a minute old, the
/// templates loaded.
fn loaded_state() -> AppState {
    let mut state = AppState::new(
        "bench",
        "Qpien",
        false,
        SendKey::Enter,
        now(),
        (WIDTH, HEIGHT),
    );
    let conversation = Conversation {
        id: ConversationId::new("c1"),
        contact_id: Some(ContactId::new("k1")),
        contact_name: "Deniz Yılmaz".into(),
        channel: Channel::WhatsApp,
        reply_channel_id: Some(ChannelId::new("wa")),
        status: ConversationStatus::Open,
        assignee: None,
        starred: false,
        priority: None,
        tags: Vec::new(),
        last_message: Some(MessagePreview {
            text: "Where is my order?".into(),
            sender: SenderKind::Contact,
            kind: MessageKind::Text,
            ack: Ack::Read,
            created_at: now() - chrono::Duration::minutes(1),
        }),
        created_at: Some(now()),
        updated_at: now(),
        unread: None,
    };
    update(
        &mut state,
        Event::Sync(SyncEvent::Conversations(vec![conversation])),
        now(),
    );
    update(
        &mut state,
        Event::Sync(SyncEvent::Templates(templates())),
        now(),
    );
    update(&mut state, Event::Sync(SyncEvent::Synced), now());
    press(&mut state, KeyCode::Enter);
    state.store.take_journal();
    state
}

fn key(state: &mut AppState, code: KeyCode, modifiers: KeyModifiers) {
    update(state, Event::Key(KeyEvent::new(code, modifiers)), now());
}

fn press(state: &mut AppState, code: KeyCode) {
    key(state, code, KeyModifiers::NONE);
}

fn open_picker(state: &mut AppState) {
    press(state, KeyCode::Char('t'));
}

fn close_all(state: &mut AppState) {
    state.overlays.clear();
}

fn draw(terminal: &mut Terminal<TestBackend>, state: &AppState) {
    terminal
        .draw(|frame| termdesk::ui::draw(frame, state))
        .map(|_| ())
        .unwrap();
}

fn bench(c: &mut Criterion) {
    let mut state = loaded_state();
    let mut group = c.benchmark_group("template picker 2k");
    group.sample_size(20);
    group.bench_function("open", |b| {
        b.iter(|| {
            open_picker(&mut state);
            close_all(&mut state);
        })
    });
    group.bench_function("type 'order ship'", |b| {
        b.iter(|| {
            open_picker(&mut state);
            for c in "order ship".chars() {
                press(&mut state, KeyCode::Char(c));
            }
            close_all(&mut state);
        })
    });
    group.finish();
}

criterion_group!(benches, bench);

fn timed(runs: usize, mut setup: impl FnMut(), mut step: impl FnMut()) -> Vec<Duration> {
    (0..runs)
        .map(|_| {
            setup();
            let started = Instant::now();
            step();
            started.elapsed()
        })
        .collect()
}

fn report() {
    println!("template picker over {TEMPLATES} templates, {WIDTH}x{HEIGHT}, {RUNS} runs each");
    let mut figures = Vec::new();
    let state = std::cell::RefCell::new(loaded_state());
    let terminal = std::cell::RefCell::new(Terminal::new(TestBackend::new(WIDTH, HEIGHT)).unwrap());

    figures.push(figure(
        "open the picker (t)",
        timed(
            RUNS,
            || close_all(&mut state.borrow_mut()),
            || open_picker(&mut state.borrow_mut()),
        ),
    ));
    figures.push(figure(
        "open the picker, key → frame",
        timed(
            RUNS,
            || close_all(&mut state.borrow_mut()),
            || {
                open_picker(&mut state.borrow_mut());
                draw(&mut terminal.borrow_mut(), &state.borrow());
            },
        ),
    ));

    // Typing the filter, a key at a time, from an empty query.
    let mut per_key = Vec::new();
    let mut per_frame = Vec::new();
    for _ in 0..RUNS / 10 {
        close_all(&mut state.borrow_mut());
        open_picker(&mut state.borrow_mut());
        for c in "order ship".chars() {
            let started = Instant::now();
            press(&mut state.borrow_mut(), KeyCode::Char(c));
            per_key.push(started.elapsed());
            draw(&mut terminal.borrow_mut(), &state.borrow());
            per_frame.push(started.elapsed());
        }
    }
    figures.push(figure("type the filter (order ship), per key", per_key));

    // The fuzzy match alone, for the same keys.
    let mut refilter = Vec::new();
    for _ in 0..RUNS / 10 {
        close_all(&mut state.borrow_mut());
        open_picker(&mut state.borrow_mut());
        let mut guard = state.borrow_mut();
        let Some(termdesk::app::state::Overlay::Templates(picker)) = guard.overlays.last_mut()
        else {
            unreachable!("the picker is open")
        };
        let mut query = String::new();
        for c in "order ship".chars() {
            query.push(c);
            let started = Instant::now();
            picker.list.set_query(query.clone());
            refilter.push(started.elapsed());
        }
    }
    figures.push(figure("the fuzzy match alone, per key", refilter));
    figures.push(figure("type the filter, key → frame", per_frame));

    // Filling a template's form: the preview follows every key.
    let mut per_frame = Vec::new();
    for _ in 0..RUNS / 10 {
        close_all(&mut state.borrow_mut());
        open_picker(&mut state.borrow_mut());
        press(&mut state.borrow_mut(), KeyCode::Enter);
        for c in "Deniz Yılmaz".chars() {
            let started = Instant::now();
            press(&mut state.borrow_mut(), KeyCode::Char(c));
            draw(&mut terminal.borrow_mut(), &state.borrow());
            per_frame.push(started.elapsed());
        }
    }
    figures.push(figure(
        "fill a value, key → frame (preview redrawn)",
        per_frame,
    ));
    print_table(&figures);
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "report") {
        report();
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
