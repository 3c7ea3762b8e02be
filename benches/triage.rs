//! The list's views over an account of 50,000 conversations with their
//! contacts: switching tab, applying a filter, changing the sort, typing a
//! filter (a name and a phone number, a key at a time), the next
//! conversation that most needs the agent, and a key through `update` to a
//! frame drawn at 200x50. Everything goes through the real `update` and
//! `ui::draw`; nothing is asserted about time.
//!
//! `cargo bench --bench triage` runs them under criterion;
//! `cargo bench --bench triage -- report` times each many times and prints
//! p50 / p99 against the goals in a table; words after `report` keep only
//! the figures whose names contain them (`-- report frame sort`).

use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use criterion::{Criterion, criterion_group};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use termdesk::app::{AppState, Event, SyncEvent, update};
use termdesk::config::SendKey;
use termdesk::domain::*;
use termdesk::store::views;

const CONVERSATIONS: usize = 50_000;
const WIDTH: u16 = 200;
const HEIGHT: u16 = 50;
/// A 6-letter name, typed without its accent: it matches "Yılmaz".
const NAME: &str = "yilmaz";
/// The row whose phone number is typed.
const PHONE_ROW: usize = 31_337;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 15, 9, 0, 0).unwrap()
}

fn me() -> AgentId {
    AgentId::new("agent-1")
}

const FIRST: [&str; 16] = [
    "Deniz", "Ayşe", "Mehmet", "Zeynep", "Liam", "Ava", "Noah", "Emma", "Ahmed", "Fatima", "Yuki",
    "Hana", "Carlos", "Lucía", "Olivia", "Mateo",
];
const LAST: [&str; 13] = [
    "Yılmaz", "Kaya", "Demir", "Şahin", "Chen", "Smith", "García", "Müller", "Al-Harbi", "Sato",
    "Tanaka", "Rossi", "Novak",
];
const TEXTS: [&str; 10] = [
    "Merhaba, siparişim nerede? Kargo takip numarası çalışmıyor.",
    "Can I change my booking for Saturday to Sunday morning instead?",
    "Thanks, that worked!",
    "注文した商品がまだ届いていません。確認していただけますか？",
    "مرحباً، هل يمكنني إرجاع المنتج؟",
    "Hi! The package arrived damaged, the corner of the box was crushed and the glass inside is broken. What can I do?",
    "👍",
    "İade etmek istiyorum, faturam ektedir.",
    "Is the store open on public holidays?",
    "Ok",
];
const TAGS: [&str; 5] = ["vip", "refund", "billing", "shipping", "complaint"];

fn phone(i: usize) -> String {
    format!(
        "+90 5{:02} {:03} {:02} {:02}",
        i % 50,
        (i / 50) % 1000,
        (i / 7) % 100,
        i % 97
    )
}

fn contact(i: usize) -> Contact {
    let (first, last) = (FIRST[i % FIRST.len()], LAST[(i / 3) % LAST.len()]);
    Contact {
        last_name: Some(last.into()),
        email: (!i.is_multiple_of(3)).then(|| format!("customer{i}@example.com")),
        phone: (!i.is_multiple_of(5) || i == PHONE_ROW).then(|| phone(i)),
        ..Contact::named(format!("contact-{i:06}"), first)
    }
}

fn conversation(i: usize) -> Conversation {
    let updated = now() - chrono::Duration::seconds(37 * i as i64 + 20);
    let channels = [
        Channel::WhatsApp,
        Channel::WhatsApp,
        Channel::Instagram,
        Channel::Email,
        Channel::Messenger,
        Channel::LiveChat,
    ];
    Conversation {
        id: ConversationId::new(format!("{i:024x}")),
        contact_id: Some(ContactId::new(format!("contact-{i:06}"))),
        contact_name: String::new(),
        channel: channels[i % channels.len()].clone(),
        reply_channel_id: None,
        status: match i % 20 {
            0..=13 => ConversationStatus::Open,
            14..=16 => ConversationStatus::Pending,
            17 | 18 => ConversationStatus::Resolved,
            _ => ConversationStatus::Closed,
        },
        assignee: match i % 10 {
            0 => Some(me()),
            1..=3 => Some(AgentId::new(format!("agent-{}", 2 + i % 3))),
            _ => None,
        },
        starred: i.is_multiple_of(13),
        priority: match i % 40 {
            0 => Some(Priority::Urgent),
            1..=3 => Some(Priority::High),
            4..=9 => Some(Priority::Medium),
            10..=14 => Some(Priority::Low),
            _ => None,
        },
        tags: (0..i % 3)
            .map(|k| {
                let name = TAGS[(i + k) % TAGS.len()];
                Tag {
                    id: TagId::new(name),
                    name: name.into(),
                    color: None,
                }
            })
            .collect(),
        last_message: Some(MessagePreview {
            text: TEXTS[i % TEXTS.len()].into(),
            sender: if i % 4 == 3 {
                SenderKind::Agent
            } else {
                SenderKind::Contact
            },
            kind: MessageKind::Text,
            ack: Ack::Read,
            created_at: updated,
        }),
        created_at: None,
        updated_at: updated,
        unread: Some(u32::from(i.is_multiple_of(7)) * 2),
    }
}

fn agents() -> Vec<Agent> {
    (1..=4)
        .map(|n| Agent {
            id: AgentId::new(format!("agent-{n}")),
            first_name: ["Ada", "Bo", "Cem", "Dee"][n - 1].into(),
            last_name: "Agent".into(),
            email: format!("agent{n}@example.com"),
            role: "AGENT".into(),
            active: true,
            is_bot: false,
        })
        .collect()
}

/// 50,000 conversations and their contacts, synced through `update`, with
/// "me" known.
fn loaded_state() -> AppState {
    let mut state = AppState::new(
        "bench",
        "Qpien",
        false,
        SendKey::Enter,
        now(),
        (WIDTH, HEIGHT),
    );
    state.me = Some(me());
    let sync = |state: &mut AppState, event| update(state, Event::Sync(event), now());
    sync(&mut state, SyncEvent::Agents(agents()));
    sync(
        &mut state,
        SyncEvent::Conversations((0..CONVERSATIONS).map(conversation).collect()),
    );
    sync(
        &mut state,
        SyncEvent::Contacts {
            found: (0..CONVERSATIONS).map(contact).collect(),
            missing: Vec::new(),
        },
    );
    sync(&mut state, SyncEvent::Synced);
    press(&mut state, KeyCode::Char('3'));
    state.store.take_journal();
    assert_eq!(state.rows().len(), CONVERSATIONS);
    state
}

fn press(state: &mut AppState, code: KeyCode) {
    update(
        state,
        Event::Key(KeyEvent::new(code, KeyModifiers::NONE)),
        now(),
    );
}

/// The digits of the phone of `PHONE_ROW`, as an agent types them.
fn phone_digits() -> String {
    phone(PHONE_ROW)
        .chars()
        .filter(char::is_ascii_digit)
        .collect()
}

/// One timed operation on the state; `prepare` runs before it, untimed.
struct Step<'a> {
    name: &'static str,
    prepare: Box<dyn FnMut(&mut AppState) + 'a>,
    run: Box<dyn FnMut(&mut AppState) + 'a>,
}

fn key_step(name: &'static str, keys: &'static [KeyCode]) -> Step<'static> {
    let mut n = 0;
    Step {
        name,
        prepare: Box::new(|state| {
            state.store.take_journal();
        }),
        run: Box::new(move |state| {
            press(state, keys[n % keys.len()]);
            n += 1;
        }),
    }
}

/// Applies the filter picker with "unread" toggled (its Enter key).
fn filter_step() -> Step<'static> {
    Step {
        name: "apply a filter (picker's Enter)",
        prepare: Box::new(|state| {
            state.store.take_journal();
            press(state, KeyCode::Char('f'));
            for c in "unread".chars() {
                press(state, KeyCode::Char(c));
            }
            press(state, KeyCode::Char(' '));
        }),
        run: Box::new(|state| press(state, KeyCode::Enter)),
    }
}

/// Types `text` into the filter a key at a time, timing each key; the
/// filter is opened before the first and cleared after the last.
fn typing_step(name: &'static str, text: String) -> Step<'static> {
    let chars: Vec<char> = text.chars().collect();
    let mut n = 0;
    Step {
        name,
        prepare: Box::new(move |state| {
            if state.list_query.is_empty() {
                press(state, KeyCode::Char('/'));
            }
        }),
        run: Box::new(move |state| {
            press(state, KeyCode::Char(chars[n % chars.len()]));
            n += 1;
            if n % chars.len() == 0 {
                press(state, KeyCode::Esc);
            }
        }),
    }
}

fn next_best_step() -> Step<'static> {
    Step {
        name: "next best (n)",
        prepare: Box::new(|_| {}),
        run: Box::new(|state| {
            std::hint::black_box(views::next_best(
                &state.store,
                state.me.as_ref(),
                now(),
                None,
            ));
        }),
    }
}

/// The goals, by step name prefix.
fn goal(name: &str) -> Option<Duration> {
    if name.starts_with("switch") || name.starts_with("apply") || name.starts_with("change") {
        Some(Duration::from_millis(5))
    } else if name.starts_with("type") {
        Some(Duration::from_millis(10))
    } else if name.starts_with("key → frame") {
        Some(Duration::from_millis(5))
    } else {
        None
    }
}

fn steps() -> Vec<Step<'static>> {
    vec![
        key_step(
            "switch tab (1 2 3)",
            &[KeyCode::Char('1'), KeyCode::Char('2'), KeyCode::Char('3')],
        ),
        filter_step(),
        key_step("change sort (o)", &[KeyCode::Char('o')]),
        typing_step("type a name (yilmaz), per key", NAME.to_string()),
        typing_step("type a phone number, per key", phone_digits()),
        next_best_step(),
    ]
}

/// Keys through `update` and a frame drawn after each.
fn frame_steps() -> Vec<(&'static str, Vec<KeyCode>)> {
    let mut typing: Vec<KeyCode> = vec![KeyCode::Char('/')];
    typing.extend(NAME.chars().map(KeyCode::Char));
    typing.push(KeyCode::Esc);
    vec![
        (
            "key → frame: j/k in the list",
            vec![KeyCode::Char('j'), KeyCode::Char('k')],
        ),
        ("key → frame: typing the filter", typing),
        (
            "key → frame: switching tab",
            vec![KeyCode::Char('1'), KeyCode::Char('2'), KeyCode::Char('3')],
        ),
    ]
}

fn draw(terminal: &mut Terminal<TestBackend>, state: &AppState) {
    terminal
        .draw(|frame| termdesk::ui::draw(frame, state))
        .map(|_| ())
        .unwrap();
}

fn bench(c: &mut Criterion) {
    let mut state = loaded_state();
    let mut group = c.benchmark_group("triage 50k");
    group.sample_size(30);
    for mut step in steps() {
        group.bench_function(step.name, |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    (step.prepare)(&mut state);
                    let started = Instant::now();
                    (step.run)(&mut state);
                    total += started.elapsed();
                }
                total
            })
        });
        // Leave no filter or picker behind for the next step.
        state.overlays.clear();
        state.list_query.clear();
        state.view = Default::default();
        press(&mut state, KeyCode::Char('3'));
    }
    let mut terminal = Terminal::new(TestBackend::new(WIDTH, HEIGHT)).unwrap();
    for (name, keys) in frame_steps() {
        let mut n = 0;
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let started = Instant::now();
                for _ in 0..iters {
                    press(&mut state, keys[n % keys.len()]);
                    draw(&mut terminal, &state);
                    n += 1;
                }
                started.elapsed()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);

// ---------------------------------------------------------------- report

/// How many times each step is timed in the report.
const RUNS: usize = 600;

struct Figure {
    what: String,
    p50: Duration,
    p99: Duration,
    max: Duration,
    goal: Option<Duration>,
}

fn fmt_duration(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.2} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

fn figure(what: &str, mut runs: Vec<Duration>) -> Figure {
    runs.sort();
    let at = |q: f64| runs[((runs.len() - 1) as f64 * q).round() as usize];
    let figure = Figure {
        what: what.to_string(),
        p50: at(0.5),
        p99: at(0.99),
        max: runs[runs.len() - 1],
        goal: goal(what),
    };
    println!(
        "  {}: p50 {} · p99 {} · max {} ({} runs)",
        figure.what,
        fmt_duration(figure.p50),
        fmt_duration(figure.p99),
        fmt_duration(figure.max),
        runs.len()
    );
    figure
}

fn pad(s: &str, w: usize) -> String {
    format!("{s}{}", " ".repeat(w.saturating_sub(s.chars().count())))
}

fn print_table(figures: &[Figure]) {
    let rows: Vec<[String; 6]> = figures
        .iter()
        .map(|f| {
            [
                f.what.clone(),
                fmt_duration(f.p50),
                fmt_duration(f.p99),
                fmt_duration(f.max),
                f.goal
                    .map_or_else(String::new, |g| format!("p99 < {}", fmt_duration(g))),
                match f.goal {
                    Some(g) if f.p99 < g => "yes".into(),
                    Some(_) => "NO".into(),
                    None => String::new(),
                },
            ]
        })
        .collect();
    let header = ["figure", "p50", "p99", "max", "goal", "met"].map(String::from);
    let widths: Vec<usize> = (0..6)
        .map(|i| {
            rows.iter()
                .chain(std::iter::once(&header))
                .map(|r| r[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[String; 6]| {
        let cells: Vec<String> = cells.iter().zip(&widths).map(|(c, w)| pad(c, *w)).collect();
        format!("| {} |", cells.join(" | "))
    };
    println!();
    println!("{}", line(&header));
    println!(
        "|{}|",
        widths
            .iter()
            .map(|w| "-".repeat(w + 2))
            .collect::<Vec<_>>()
            .join("|")
    );
    for row in &rows {
        println!("{}", line(row));
    }
}

fn report(only: &[String]) {
    let wanted = |name: &str| only.is_empty() || only.iter().any(|o| name.contains(o.as_str()));
    println!(
        "triage over {CONVERSATIONS} conversations and contacts, {WIDTH}x{HEIGHT}, {RUNS} runs each"
    );
    let started = Instant::now();
    let mut state = loaded_state();
    println!(
        "  (loading the account through update: {})",
        fmt_duration(started.elapsed())
    );
    let mut figures = Vec::new();
    for mut step in steps().into_iter().filter(|s| wanted(s.name)) {
        let mut runs = Vec::with_capacity(RUNS);
        for _ in 0..RUNS {
            (step.prepare)(&mut state);
            let started = Instant::now();
            (step.run)(&mut state);
            runs.push(started.elapsed());
        }
        figures.push(figure(step.name, runs));
        state.overlays.clear();
        state.list_query.clear();
        state.view = Default::default();
        press(&mut state, KeyCode::Char('3'));
    }
    // The first key of a filter matches every row; later keys only narrow.
    let mut first = Vec::with_capacity(RUNS / 4);
    for _ in 0..RUNS / 4 * usize::from(wanted("first key")) {
        press(&mut state, KeyCode::Char('/'));
        let started = Instant::now();
        press(&mut state, KeyCode::Char('y'));
        first.push(started.elapsed());
        press(&mut state, KeyCode::Esc);
    }
    if !first.is_empty() {
        figures.push(figure("type: the first key of a filter", first));
    }
    for (what, text) in [("name", NAME.to_string()), ("phone", phone_digits())] {
        if !wanted("by key") {
            break;
        }
        let mut by_key = vec![Vec::new(); text.chars().count()];
        for _ in 0..RUNS / 8 {
            press(&mut state, KeyCode::Char('/'));
            for (n, c) in text.chars().enumerate() {
                let started = Instant::now();
                press(&mut state, KeyCode::Char(c));
                by_key[n].push(started.elapsed());
            }
            press(&mut state, KeyCode::Esc);
        }
        let medians: Vec<String> = text
            .chars()
            .zip(by_key)
            .map(|(c, mut runs)| {
                runs.sort();
                format!("{c} {}", fmt_duration(runs[runs.len() / 2]))
            })
            .collect();
        println!(
            "  type the {what} by key (medians): {}",
            medians.join(" · ")
        );
    }
    // What a restart (or a view that fell behind the store) costs once.
    let mut builds = Vec::new();
    for _ in 0..10 * usize::from(wanted("scratch")) {
        let started = Instant::now();
        std::hint::black_box(views::compute(
            &state.store,
            &state.view,
            "",
            state.me.as_ref(),
        ));
        builds.push(started.elapsed());
    }
    if !builds.is_empty() {
        figures.push(figure("views built from scratch (once per start)", builds));
    }
    let mut terminal = Terminal::new(TestBackend::new(WIDTH, HEIGHT)).unwrap();
    for (name, keys) in frame_steps().into_iter().filter(|(name, _)| wanted(name)) {
        let mut runs = Vec::with_capacity(RUNS);
        for n in 0..RUNS {
            state.store.take_journal();
            let started = Instant::now();
            press(&mut state, keys[n % keys.len()]);
            draw(&mut terminal, &state);
            runs.push(started.elapsed());
        }
        figures.push(figure(name, runs));
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
