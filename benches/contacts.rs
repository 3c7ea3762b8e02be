//! The contacts directory over 50,000 contacts: opening it (the index
//! built), the filter recomputed for an empty query, one letter, three
//! letters and a phone number's digits, typing a key at a time through
//! `update`, and a key through `update` to a frame drawn at 200x50.
//! Nothing is asserted about time.
//!
//! `cargo bench --bench contacts` runs them under criterion;
//! `cargo bench --bench contacts -- report` times each many times and
//! prints p50 / p99 per step in a table; words after `report` keep only
//! the figures whose names contain them (`-- report phone`).

use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use criterion::{Criterion, criterion_group};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use termdesk::app::directory::Directory;
use termdesk::app::state::Overlay;
use termdesk::app::update::directory::open_directory;
use termdesk::app::{AppState, Event, update};
use termdesk::config::SendKey;
use termdesk::domain::*;

#[path = "report/mod.rs"]
mod report;
use report::{figure, fmt_duration, print_table};

const CONTACTS: usize = 50_000;
const WIDTH: u16 = 200;
const HEIGHT: u16 = 50;
/// The contact whose phone number is typed.
const PHONE_ROW: usize = 31_337;

const FIRST: [&str; 16] = [
    "Deniz", "Ayşe", "Mehmet", "Zeynep", "Liam", "Ava", "Noah", "Emma", "Ahmed", "Fatima", "Yuki",
    "Hana", "Carlos", "Lucía", "Olivia", "Mateo",
];
const LAST: [&str; 13] = [
    "Yılmaz", "Kaya", "Demir", "Şahin", "Chen", "Smith", "García", "Müller", "Al-Harbi", "Sato",
    "Tanaka", "Rossi", "Novak",
];
/// Some names in other scripts, as real accounts have them.
const OTHER: [&str; 4] = ["محمد العلي", "王芳", "Ирина Петрова", "佐藤 花子"];

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 15, 9, 0, 0).unwrap()
}

fn phone(n: usize) -> String {
    let d = (n * 7919) % 10_000_000;
    format!(
        "+90 5{:02} {:03} {:02} {:02}",
        n % 100,
        d / 10_000,
        d / 100 % 100,
        d % 100
    )
}

fn phone_digits() -> String {
    phone(PHONE_ROW)
        .chars()
        .filter(char::is_ascii_digit)
        .skip(2)
        .collect()
}

fn contacts() -> Vec<Contact> {
    (0..CONTACTS)
        .map(|n| {
            let mut contact = if n % 25 == 0 {
                Contact::named(format!("contact-{n}"), OTHER[n / 25 % OTHER.len()])
            } else {
                let mut contact = Contact::named(format!("contact-{n}"), FIRST[n % FIRST.len()]);
                contact.last_name = Some(format!("{} {n}", LAST[n / 16 % LAST.len()]));
                contact
            };
            if n % 5 != 0 {
                contact.phone = Some(phone(n));
            }
            if n % 3 != 0 {
                contact.email = Some(format!("customer{n}@example.com"));
            }
            contact
        })
        .collect()
}

fn loaded_state() -> AppState {
    let mut state = AppState::new(
        "bench",
        "Qpien",
        false,
        SendKey::Enter,
        now(),
        (WIDTH, HEIGHT),
    );
    state.store.upsert_contacts(contacts(), Vec::new());
    state.store.take_journal();
    state
}

fn press(state: &mut AppState, code: KeyCode) {
    update(
        state,
        Event::Key(KeyEvent::new(code, KeyModifiers::NONE)),
        now(),
    );
}

fn clear_query(state: &mut AppState) {
    update(
        state,
        Event::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL)),
        now(),
    );
}

/// Queries whose matches are recomputed from scratch (no earlier query
/// to narrow).
fn queries() -> Vec<(&'static str, String)> {
    vec![
        ("refresh: empty query", String::new()),
        ("refresh: 1 letter (a)", "a".into()),
        ("refresh: 3 letters (yil)", "yil".into()),
        ("refresh: phone digits", phone_digits()),
    ]
}

fn refresh(state: &mut AppState, query: &str) {
    let AppState {
        overlays, store, ..
    } = state;
    let Some(Overlay::Directory(directory)) = overlays.last_mut() else {
        unreachable!()
    };
    // From an empty query, so that nothing narrows.
    directory.set_query(store, String::new());
    let started = Instant::now();
    directory.set_query(store, query.to_string());
    std::hint::black_box(&directory.matches);
    LAST_RUN.with(|t| t.set(started.elapsed()));
}

thread_local! {
    static LAST_RUN: std::cell::Cell<Duration> = const { std::cell::Cell::new(Duration::ZERO) };
}

fn draw(terminal: &mut Terminal<TestBackend>, state: &AppState) {
    terminal
        .draw(|frame| termdesk::ui::draw(frame, state))
        .map(|_| ())
        .unwrap();
}

fn bench(c: &mut Criterion) {
    let mut state = loaded_state();
    let mut group = c.benchmark_group("directory 50k");
    group.sample_size(20);
    group.bench_function("open (index built)", |b| {
        b.iter(|| std::hint::black_box(Directory::new(&state.store)))
    });
    open_directory(&mut state);
    for (name, query) in queries() {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    refresh(&mut state, &query);
                    total += LAST_RUN.with(|t| t.get());
                }
                total
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);

// ---------------------------------------------------------------- report

/// How many times each step is timed in the report.
const RUNS: usize = 200;

/// Each key of `text` typed through `update`, timed apart; the query is
/// cleared between runs.
fn typing(state: &mut AppState, text: &str, runs: usize) -> (Vec<Duration>, Vec<Vec<Duration>>) {
    let mut all = Vec::new();
    let mut by_key = vec![Vec::new(); text.chars().count()];
    for _ in 0..runs {
        clear_query(state);
        for (n, c) in text.chars().enumerate() {
            let started = Instant::now();
            press(state, KeyCode::Char(c));
            let took = started.elapsed();
            all.push(took);
            by_key[n].push(took);
        }
    }
    clear_query(state);
    (all, by_key)
}

fn report(only: &[String]) {
    let wanted = |name: &str| only.is_empty() || only.iter().any(|o| name.contains(o.as_str()));
    println!("contacts directory over {CONTACTS} contacts, {WIDTH}x{HEIGHT}, {RUNS} runs each");
    let started = Instant::now();
    let mut state = loaded_state();
    println!(
        "  (loading the contacts into the store: {})",
        fmt_duration(started.elapsed())
    );
    let mut figures = Vec::new();
    if wanted("open") {
        let mut runs = Vec::new();
        for _ in 0..RUNS / 10 {
            let started = Instant::now();
            open_directory(&mut state);
            runs.push(started.elapsed());
            state.overlays.clear();
        }
        figures.push(figure("open (index built)", runs));
    }
    open_directory(&mut state);
    for (name, query) in queries().into_iter().filter(|(name, _)| wanted(name)) {
        let mut runs = Vec::with_capacity(RUNS);
        for _ in 0..RUNS {
            refresh(&mut state, &query);
            runs.push(LAST_RUN.with(|t| t.get()));
        }
        figures.push(figure(name, runs));
    }
    clear_query(&mut state);
    for (what, text) in [
        ("a name (yilmaz)", "yilmaz".to_string()),
        ("a phone number", phone_digits()),
    ] {
        let name = format!("type {what}, per key");
        if !wanted(&name) {
            continue;
        }
        let (all, by_key) = typing(&mut state, &text, RUNS / 8);
        let medians: Vec<String> = text
            .chars()
            .zip(by_key)
            .map(|(c, mut runs)| {
                runs.sort();
                format!("{c} {}", fmt_duration(runs[runs.len() / 2]))
            })
            .collect();
        println!("  type {what} by key (medians): {}", medians.join(" · "));
        figures.push(figure(&name, all));
    }
    let mut terminal = Terminal::new(TestBackend::new(WIDTH, HEIGHT)).unwrap();
    if wanted("frame") {
        let mut runs = Vec::with_capacity(RUNS);
        for n in 0..RUNS {
            let started = Instant::now();
            press(&mut state, [KeyCode::Down, KeyCode::Up][n % 2]);
            draw(&mut terminal, &state);
            runs.push(started.elapsed());
        }
        figures.push(figure("key → frame: Down/Up in the list", runs));
        let keys: Vec<KeyCode> = "yil".chars().map(KeyCode::Char).collect();
        let mut runs = Vec::with_capacity(RUNS);
        for n in 0..RUNS {
            if n % keys.len() == 0 {
                clear_query(&mut state);
            }
            let started = Instant::now();
            press(&mut state, keys[n % keys.len()]);
            draw(&mut terminal, &state);
            runs.push(started.elapsed());
        }
        figures.push(figure("key → frame: typing yil", runs));
    }
    print_table(&figures);
}

fn main() {
    // `cargo bench` passes flags such as --bench; `report` asks for the table.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if args.first().is_some_and(|a| a == "report") {
        report(&args[1..]);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
