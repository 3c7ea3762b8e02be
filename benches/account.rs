//! Figures of a real-sized account, printed against their goals; asserts
//! nothing about time.
//!
//! - `sync`: the real sync of 9,000 conversations and 9,900 contacts from
//!   the in-process sandbox at Qpien's limit of 100 requests a minute;
//! - `cache`: a cache of 50,000 conversations and 1,000,000 messages (built
//!   once into `target/tmp`): first frame, opening a 10,000-message thread,
//!   full-text search, and the real binary's start and peak memory (also
//!   over a cache of 50,000 messages);
//! - `keys`: 1,000 `j` written at once to the real binary over that cache.
//!
//! `cargo bench --bench account` runs all three; `cargo bench --bench
//! account -- cache keys` (or `TERMDESK_BENCH=sync`) runs only those.

#[path = "../tests/common/pty.rs"]
mod pty;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use rand::{Rng, SeedableRng};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use secrecy::SecretString;
use tokio::sync::mpsc;

use pty::{Tty, scratch_home};
use termdesk::api::Provider;
use termdesk::api::qpien::{QpienClient, QpienConfig};
use termdesk::app::update::CACHE_PAGE;
use termdesk::app::{AppState, Command, Env, Event, runtime, startup, update};
use termdesk::config::SendKey;
use termdesk::domain::*;
use termdesk::sandbox::{Sandbox, SandboxOptions};
use termdesk::store::db::{Db, DbWrite};
use termdesk::store::writer::DbWriter;
use termdesk::sync::cursor::{Backfill, ChainCursor, META_KEY};
use termdesk::sync::{SyncCursors, SyncSettings, SyncStart, SyncWorker};

const BINARY: &str = env!("CARGO_BIN_EXE_termdesk");
const TARGET_TMP: &str = env!("CARGO_TARGET_TMPDIR");
const WIDTH: u16 = 120;
const HEIGHT: u16 = 40;
/// `SEARCH_LIMIT` of the executor: what Ctrl-F asks for.
const SEARCH_LIMIT: usize = 200;

// ---------------------------------------------------------------- report

struct Figure {
    what: String,
    value: String,
    goal: String,
    met: Option<bool>,
}

#[derive(Default)]
struct Report(Vec<Figure>);

impl Report {
    /// A timing against an upper bound.
    fn time(&mut self, what: impl Into<String>, value: Option<Duration>, goal: Option<Duration>) {
        let figure = Figure {
            what: what.into(),
            value: value.map_or_else(|| "never".into(), fmt_duration),
            goal: goal.map_or_else(String::new, |g| format!("< {}", fmt_duration(g))),
            met: goal.map(|g| value.is_some_and(|v| v < g)),
        };
        self.push(figure);
    }

    fn note(&mut self, what: impl Into<String>, value: impl Into<String>) {
        self.push(Figure {
            what: what.into(),
            value: value.into(),
            goal: String::new(),
            met: None,
        });
    }

    fn check(
        &mut self,
        what: impl Into<String>,
        value: impl Into<String>,
        goal: impl Into<String>,
        met: bool,
    ) {
        self.push(Figure {
            what: what.into(),
            value: value.into(),
            goal: goal.into(),
            met: Some(met),
        });
    }

    fn push(&mut self, figure: Figure) {
        println!(
            "  {}: {} {}{}",
            figure.what,
            figure.value,
            figure.goal,
            match figure.met {
                Some(true) => " ✓",
                Some(false) => " ✗ MISSED",
                None => "",
            }
        );
        self.0.push(figure);
    }

    fn print(&self) {
        let w0 = self.0.iter().map(|f| width(&f.what)).max().unwrap_or(0);
        let w1 = self.0.iter().map(|f| width(&f.value)).max().unwrap_or(0);
        let w2 = self.0.iter().map(|f| width(&f.goal)).max().unwrap_or(0);
        println!();
        println!(
            "| {} | {} | {} | met |",
            pad("figure", w0),
            pad("measured", w1),
            pad("goal", w2)
        );
        println!(
            "|{}|{}|{}|-----|",
            "-".repeat(w0 + 2),
            "-".repeat(w1 + 2),
            "-".repeat(w2 + 2)
        );
        for f in &self.0 {
            println!(
                "| {} | {} | {} | {} |",
                pad(&f.what, w0),
                pad(&f.value, w1),
                pad(&f.goal, w2),
                match f.met {
                    Some(true) => "yes",
                    Some(false) => "NO ",
                    None => "   ",
                }
            );
        }
    }
}

fn width(s: &str) -> usize {
    s.chars().count()
}

fn pad(s: &str, w: usize) -> String {
    format!("{s}{}", " ".repeat(w.saturating_sub(width(s))))
}

fn fmt_duration(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.2} ms")
    } else if ms < 10_000.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// min / median / max of a few runs.
fn spread(mut runs: Vec<Duration>) -> (Duration, Duration, Duration) {
    runs.sort();
    (runs[0], runs[runs.len() / 2], runs[runs.len() - 1])
}

fn spread_text(runs: &[Duration]) -> String {
    let (min, median, max) = spread(runs.to_vec());
    format!(
        "min {} · median {} · max {} ({} runs)",
        fmt_duration(min),
        fmt_duration(median),
        fmt_duration(max),
        runs.len()
    )
}

fn median(runs: &[Duration]) -> Duration {
    spread(runs.to_vec()).1
}

// ---------------------------------------------------------------- main

fn main() {
    // `cargo bench` passes flags such as --bench; section names are the rest.
    let mut sections: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if let Ok(from_env) = std::env::var("TERMDESK_BENCH") {
        sections.extend(from_env.split(',').map(|s| s.trim().to_string()));
    }
    let wanted = |name: &str| sections.is_empty() || sections.iter().any(|s| s == name);
    let mut report = Report::default();
    if wanted("sync") {
        sync_section(&mut report);
    }
    if wanted("cache") || wanted("keys") {
        let big = CacheShape::BIG.ensure();
        if wanted("cache") {
            let small = CacheShape::SMALL.ensure();
            cache_section(&mut report, &big, &small);
        }
        if wanted("keys") {
            keys_section(&mut report, &big);
        }
    }
    report.print();
}

// ---------------------------------------------------------------- 1. sync

const SYNC_CONVERSATIONS: usize = 9_000;
const SYNC_CONTACTS: usize = 9_900;
const SYNC_MESSAGES: usize = 27_000;

fn sync_section(report: &mut Report) {
    println!(
        "sync: {SYNC_CONVERSATIONS} conversations, {SYNC_CONTACTS} contacts, 100 requests / 60 s"
    );
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    runtime.block_on(sync_run(report, "sync", None));
    // A real server is not on this machine: every answer takes a while.
    println!("sync again, every answer 250 ms late");
    runtime.block_on(sync_run(
        report,
        "sync, 250 ms answers",
        Some(Duration::from_millis(250)),
    ));
}

async fn sync_run(report: &mut Report, label: &str, latency: Option<Duration>) {
    let options = SandboxOptions {
        conversations: SYNC_CONVERSATIONS,
        contacts: SYNC_CONTACTS,
        messages: SYNC_MESSAGES,
        ..SandboxOptions::default()
    };
    let (limit, window) = (options.rate_limit, options.rate_window);
    let sandbox = Sandbox::start(([127, 0, 0, 1], 0).into(), options)
        .await
        .expect("sandbox");
    sandbox.set_delay(latency);
    let config = QpienConfig::new(sandbox.base_url(), "demo", SecretString::from("demo"));
    let provider: Arc<dyn Provider> = Arc::new(QpienClient::new(config).expect("client"));

    // The app around the worker, as `runtime::run` has it: events into
    // `update`, the journal to a cache writer, a frame after each batch.
    let dir = tempfile::tempdir().expect("temp dir");
    let writer = DbWriter::spawn(
        Db::open(&dir.path().join("bench.sqlite")).expect("cache"),
        |reason| eprintln!("cache write failed: {reason}"),
    );
    let mut state = AppState::new(
        "bench",
        "Qpien",
        false,
        SendKey::Enter,
        Utc::now(),
        (WIDTH, HEIGHT),
    );
    let mut terminal = Terminal::new(TestBackend::new(WIDTH, HEIGHT)).unwrap();
    let (events, mut events_rx) = mpsc::unbounded_channel();
    let started = Instant::now();
    let _worker = SyncWorker::spawn(
        provider,
        SyncSettings::new(Duration::from_secs(
            termdesk::config::DEFAULT_POLL_INTERVAL_SECS,
        )),
        SyncStart::default(),
        events,
    );
    let (mut first_100, mut first_2000, mut all_rows, mut names, mut complete) =
        (None, None, None, None, None);
    let mut requests_at_complete = 0;
    let mut update_time = Duration::ZERO;
    let mut frames = 0u32;
    let mut last_print = Instant::now();
    let deadline = Duration::from_secs(420);
    while complete.is_none() {
        let Some(left) = deadline.checked_sub(started.elapsed()) else {
            break;
        };
        let Ok(Some(first)) = tokio::time::timeout(left, events_rx.recv()).await else {
            break;
        };
        let busy = Instant::now();
        let mut batch = vec![first];
        while let Ok(more) = events_rx.try_recv() {
            batch.push(more);
        }
        for event in batch {
            if let termdesk::sync::SyncEvent::Failed { error, .. } = &event {
                println!("  sync failed: {error}");
            }
            update(&mut state, Event::Sync(event), Env::new(Utc::now()));
        }
        writer.write(state.store.take_journal());
        runtime::draw_if_dirty(&mut terminal, &mut state).unwrap();
        frames += 1;
        update_time += busy.elapsed();
        let at = started.elapsed();
        let len = state.store.len();
        if first_100.is_none() && len >= 100 {
            first_100 = Some(at);
        }
        if first_2000.is_none() && len >= 2_000 {
            first_2000 = Some(at);
        }
        if all_rows.is_none() && len >= SYNC_CONVERSATIONS {
            all_rows = Some(at);
        }
        let contacts_complete = state.store.cursors().contacts_complete;
        let unnamed = state.store.rows_without_name();
        if names.is_none() && contacts_complete {
            names = Some(at);
        }
        if len >= SYNC_CONVERSATIONS && unnamed == 0 && contacts_complete {
            complete = Some(at);
            requests_at_complete = sandbox.stats().requests;
        }
        if last_print.elapsed() > Duration::from_secs(10) {
            last_print = Instant::now();
            println!(
                "  … {:>5.1} s: {len} rows, {unnamed} without a name, {} contacts, {} requests",
                at.as_secs_f64(),
                state.store.contact_count(),
                sandbox.stats().requests
            );
        }
    }
    let _ = writer.flush().await;
    let stats = sandbox.stats();
    report.time(format!("{label}: first 100 rows"), first_100, Some(secs(1)));
    report.time(format!("{label}: 2,000 rows"), first_2000, Some(secs(45)));
    report.time(
        format!("{label}: all 9,000 rows (names pending)"),
        all_rows,
        None,
    );
    report.time(format!("{label}: contact directory complete"), names, None);
    report.time(
        format!("{label}: complete (9,000 rows, every name)"),
        complete,
        Some(secs(150)),
    );
    report.note(
        format!("{label}: HTTP requests until complete"),
        format!(
            "{requests_at_complete} (budget {limit} per {} s)",
            window.as_secs()
        ),
    );
    for (name, n) in &stats.operations {
        report.note(
            format!("{label}: {name} root fields (one per alias)"),
            n.to_string(),
        );
    }
    report.check(
        format!("{label}: answered 429"),
        stats.rate_limited.to_string(),
        "0",
        stats.rate_limited == 0,
    );
    report.note(
        format!("{label}: app-side work (update + journal + frame)"),
        format!("{} over {frames} batches", fmt_duration(update_time)),
    );
    sandbox.shutdown().await;
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

// ---------------------------------------------------------------- cache data

#[derive(Clone, Copy)]
struct CacheShape {
    name: &'static str,
    conversations: usize,
    messages: usize,
    /// Messages of the first (newest) conversation.
    big_thread: usize,
}

/// A built cache: the data dir to give termdesk and the file in it.
struct BuiltCache {
    shape: CacheShape,
    data_home: PathBuf,
    path: PathBuf,
}

const BUILD_VERSION: &str = "1";

impl CacheShape {
    const BIG: CacheShape = CacheShape {
        name: "1m",
        conversations: 50_000,
        messages: 1_000_000,
        big_thread: 10_000,
    };
    const SMALL: CacheShape = CacheShape {
        name: "50k",
        conversations: 5_000,
        messages: 50_000,
        big_thread: 1_000,
    };

    fn label(&self) -> String {
        format!(
            "{} conversations, {} messages",
            thousands(self.conversations),
            thousands(self.messages)
        )
    }

    /// Builds the cache once; later runs reuse it.
    fn ensure(self) -> BuiltCache {
        let data_home = Path::new(TARGET_TMP)
            .join("account-bench")
            .join(self.name)
            .join("data");
        let path = data_home.join("termdesk/cache/bench.sqlite");
        let marker = data_home.join(format!("built-v{BUILD_VERSION}"));
        if !marker.exists() {
            let _ = std::fs::remove_dir_all(&data_home);
            let started = Instant::now();
            println!("building the cache of {} …", self.label());
            build_cache(&path, self);
            std::fs::write(&marker, "").unwrap();
            println!(
                "  built in {:.1} s: {:.0} MiB",
                started.elapsed().as_secs_f64(),
                std::fs::metadata(&path).unwrap().len() as f64 / 1048576.0
            );
        }
        BuiltCache {
            shape: self,
            data_home,
            path,
        }
    }
}

/// The status bar's number format, for counts that are `usize` here.
fn thousands(n: usize) -> String {
    termdesk::app::view::labels::thousands(n as u64)
}

fn base_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 14, 9, 0, 0).unwrap()
}

/// Row `i` of the list: the newest first, so row 1,000 is "Customer 01000".
fn updated_at(i: usize) -> DateTime<Utc> {
    base_time() - chrono::Duration::seconds(60 * i as i64)
}

fn conversation_id(i: usize) -> ConversationId {
    ConversationId::new(format!("c{i:06}"))
}

fn contact_name(i: usize) -> String {
    format!("Customer {i:05}")
}

const CHANNELS: [Channel; 4] = [
    Channel::WhatsApp,
    Channel::Instagram,
    Channel::Messenger,
    Channel::Email,
];

struct Words {
    vocabulary: Vec<String>,
    rng: rand_chacha::ChaCha8Rng,
}

/// Mostly made-up Latin words (skewed towards the first, as real
/// vocabularies are), with Turkish, Japanese, Arabic and emoji now and then.
const EXTRAS: [&str; 8] = [
    "İstanbul'a",
    "şeker",
    "teşekkürler",
    "東京に行きます",
    "🎉",
    "👍🏽",
    "مرحبا",
    "refund",
];

impl Words {
    fn new() -> Words {
        let syllables = [
            "ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "be", "de", "fo", "gu", "ha", "ji",
            "pe", "zo", "ar", "en", "is", "ou",
        ];
        let vocabulary = (0..20_000)
            .map(|i| {
                let mut w = String::new();
                let mut n = i;
                for _ in 0..(2 + i % 3) {
                    w.push_str(syllables[n % syllables.len()]);
                    n /= syllables.len();
                }
                w
            })
            .collect();
        Words {
            vocabulary,
            rng: rand_chacha::ChaCha8Rng::seed_from_u64(7),
        }
    }

    fn text(&mut self) -> String {
        let words = 6 + self.rng.random_range(0..14);
        let mut text = String::new();
        for _ in 0..words {
            let u: f64 = self.rng.random();
            let n = self.vocabulary.len() as f64;
            text.push_str(&self.vocabulary[(u * u * u * n) as usize]);
            text.push(' ');
        }
        if self.rng.random_range(0..40) == 0 {
            text.push_str(EXTRAS[self.rng.random_range(0..EXTRAS.len())]);
        }
        text.trim_end().to_string()
    }
}

fn message(conversation: usize, seq: usize, at: DateTime<Utc>, text: String) -> Message {
    let from_contact = seq.is_multiple_of(2);
    Message {
        id: MessageId::new(format!("m{conversation:06}-{seq:05}")),
        conversation_id: conversation_id(conversation),
        client_id: None,
        sender: if from_contact {
            SenderKind::Contact
        } else {
            SenderKind::Agent
        },
        sender_name: Some(if from_contact {
            contact_name(conversation)
        } else {
            "Deniz Yılmaz".into()
        }),
        kind: MessageKind::Text,
        channel: Some(CHANNELS[conversation % CHANNELS.len()].clone()),
        text,
        subject: None,
        media: Vec::new(),
        quoted: None,
        ack: Ack::Read,
        failed_reason: None,
        created_at: at,
    }
}

fn build_cache(path: &Path, shape: CacheShape) {
    let mut db = Db::open(path).expect("create the cache");
    let mut words = Words::new();
    let n = shape.conversations;
    // Messages per conversation: the big thread, the rest spread evenly.
    let rest = shape.messages - shape.big_thread;
    let per = |c: usize| {
        if c == 0 {
            shape.big_thread
        } else {
            rest / (n - 1) + usize::from(c - 1 < rest % (n - 1))
        }
    };
    // Conversations with their last message, contacts, in batches.
    let mut previews = Vec::with_capacity(n);
    let mut batch = Vec::with_capacity(10_000);
    let mut written = 0;
    for c in 0..n {
        let count = per(c);
        let mut last = None;
        for seq in 0..count {
            // Ten minutes apart, the newest at the row's update time.
            let at = updated_at(c) - chrono::Duration::seconds(600 * (count - 1 - seq) as i64);
            let m = message(c, seq, at, words.text());
            if seq + 1 == count {
                last = Some(MessagePreview {
                    text: m.text.clone(),
                    sender: m.sender,
                    kind: MessageKind::Text,
                    ack: Ack::Read,
                    created_at: at,
                });
            }
            batch.push(m);
            if batch.len() == 10_000 {
                written += batch.len();
                db.apply(&[DbWrite::UpsertMessages(std::mem::take(&mut batch))])
                    .unwrap();
                if written % 200_000 == 0 {
                    println!("  {written} messages");
                }
            }
        }
        previews.push(last);
    }
    db.apply(&[DbWrite::UpsertMessages(batch)]).unwrap();
    let statuses = [
        ConversationStatus::Open,
        ConversationStatus::Open,
        ConversationStatus::Pending,
        ConversationStatus::Resolved,
    ];
    let conversations: Vec<(Conversation, u32)> = previews
        .into_iter()
        .enumerate()
        .map(|(i, last_message)| {
            (
                Conversation {
                    id: conversation_id(i),
                    contact_id: Some(ContactId::new(format!("p{i:06}"))),
                    contact_name: String::new(),
                    channel: CHANNELS[i % CHANNELS.len()].clone(),
                    reply_channel_id: None,
                    status: statuses[i % statuses.len()].clone(),
                    assignee: None,
                    starred: i % 11 == 0,
                    priority: None,
                    tags: Vec::new(),
                    last_message,
                    created_at: None,
                    updated_at: updated_at(i),
                    unread: None,
                },
                u32::from(i % 5 == 0),
            )
        })
        .collect();
    let contacts: Vec<Contact> = (0..n)
        .map(|i| Contact {
            id: ContactId::new(format!("p{i:06}")),
            first_name: "Customer".into(),
            last_name: Some(format!("{i:05}")),
            username: None,
            avatar: None,
            email: Some(format!("customer{i}@example.com")),
            phone: Some(format!("+90555{i:07}")),
            phone_country_code: Some("90".into()),
            country: Some("TR".into()),
            gender: None,
            language: Some("tr".into()),
            tags: Vec::new(),
            phone_usage_permission: None,
            email_usage_permission: None,
            owner: None,
            platforms: Vec::new(),
            created_at: Some(updated_at(n)),
            updated_at: Some(updated_at(n)),
        })
        .collect();
    let cursors = SyncCursors {
        conversations: Some(ChainCursor::at(base_time())),
        backfill: Backfill::Done,
        contacts: Some(ChainCursor::at(base_time())),
        contacts_complete: true,
        total_conversations: Some(n as u64),
        total_contacts: Some(n as u64),
    };
    db.apply(&[
        DbWrite::UpsertConversations(conversations),
        DbWrite::UpsertContacts(contacts),
        DbWrite::SetMeta {
            key: META_KEY.into(),
            value: serde_json::to_string(&cursors).unwrap(),
        },
    ])
    .unwrap();
}

// ---------------------------------------------------------------- 2. cache

fn fresh_state() -> AppState {
    AppState::new(
        "bench",
        "Qpien",
        false,
        SendKey::Enter,
        Utc::now(),
        (WIDTH, HEIGHT),
    )
}

fn cache_section(report: &mut Report, big: &BuiltCache, small: &BuiltCache) {
    println!("cache: {}", big.shape.label());
    // A runtime for the writer's async parts; nothing here awaits.
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let _guard = runtime.enter();

    // The first frame, as `main` paints it before connecting.
    let mut runs = Vec::new();
    for _ in 0..7 {
        let started = Instant::now();
        let mut state = fresh_state();
        let storage = startup::open_cache(&big.path, &mut state).expect("open the cache");
        let mut terminal = Terminal::new(TestBackend::new(WIDTH, HEIGHT)).unwrap();
        runtime::draw_if_dirty(&mut terminal, &mut state).unwrap();
        runs.push(started.elapsed());
        drop(storage);
    }
    report.time(
        "cache 1M: first frame (open + read + draw), median",
        Some(median(&runs)),
        Some(ms(150)),
    );
    report.note("cache 1M: first frame runs", spread_text(&runs));
    first_frame_parts(report, &big.path);
    background_list(report, &big.path);

    // Opening the 10,000-message thread (the newest row, selected at start).
    let mut runs = Vec::new();
    for _ in 0..7 {
        let mut state = fresh_state();
        let storage = startup::open_cache(&big.path, &mut state).expect("open the cache");
        let mut terminal = Terminal::new(TestBackend::new(WIDTH, HEIGHT)).unwrap();
        runtime::draw_if_dirty(&mut terminal, &mut state).unwrap();
        let started = Instant::now();
        let commands = update(
            &mut state,
            Event::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
            Utc::now(),
        );
        for command in commands {
            if let Command::LoadCachedThread { conversation_id } = command {
                let mut messages = storage
                    .access
                    .reader
                    .lock()
                    .unwrap()
                    .load_messages(&conversation_id, None, CACHE_PAGE)
                    .unwrap();
                messages.reverse();
                let event = Event::CachedMessages {
                    conversation_id,
                    has_older: messages.len() >= CACHE_PAGE,
                    messages,
                    older: false,
                    gap_before: None,
                };
                update(&mut state, event, Utc::now());
            }
        }
        runtime::draw_if_dirty(&mut terminal, &mut state).unwrap();
        runs.push(started.elapsed());
        let open = state.open.clone().expect("a thread is open");
        let thread = state.store.thread(&open).expect("the thread");
        assert!(thread.messages.len() >= CACHE_PAGE.min(big.shape.big_thread));
        drop(storage);
    }
    report.time(
        "cache 1M: open the 10,000-message thread (Enter → frame), median",
        Some(median(&runs)),
        Some(ms(30)),
    );
    report.note("cache 1M: thread runs", spread_text(&runs));

    search_figures(report, &big.path);
    drop(_guard);
    drop(runtime);

    for built in [big, small] {
        binary_figures(report, built);
    }
}

/// Where the first frame's time goes.
fn first_frame_parts(report: &mut Report, path: &Path) {
    let mut open = Vec::new();
    let mut read = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let db = Db::open(path).unwrap();
        let _reader = Db::open(path).unwrap();
        open.push(started.elapsed());
        let started = Instant::now();
        let start = termdesk::store::cache::read_start(&db).unwrap();
        read.push(started.elapsed());
        drop(start);
    }
    let db = Db::open(path).unwrap();
    let rows = db.load_conversations(0, termdesk::store::cache::FIRST_ROWS);
    let started = Instant::now();
    for _ in 0..5 {
        let _ = db.load_conversations(0, termdesk::store::cache::FIRST_ROWS);
    }
    let rows_time = started.elapsed() / 5;
    let started = Instant::now();
    for _ in 0..5 {
        let _ = db.contact_directory();
    }
    let names_time = started.elapsed() / 5;
    drop(rows);
    report.note(
        "cache 1M: first frame parts (medians)",
        format!(
            "open 2 connections {} · read_start {} (first 500 rows {}, contact names {})",
            fmt_duration(median(&open)),
            fmt_duration(median(&read)),
            fmt_duration(rows_time),
            fmt_duration(names_time)
        ),
    );
}

/// The rest of the list after the first frame, as `runtime` reads it:
/// chunks from the cache, each merged into the store by `update`.
fn background_list(report: &mut Report, path: &Path) {
    const CHUNK: usize = 2_000;
    let mut state = fresh_state();
    let storage = startup::open_cache(path, &mut state).expect("open the cache");
    let (mut read, mut merge, mut longest) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let mut offset = storage.rows_loaded;
    loop {
        let started = Instant::now();
        let rows = storage
            .access
            .reader
            .lock()
            .unwrap()
            .load_conversations(offset, CHUNK)
            .unwrap();
        read += started.elapsed();
        if rows.is_empty() {
            break;
        }
        offset += rows.len();
        let done = rows.len() < CHUNK;
        let rows = rows
            .into_iter()
            .map(|r| (r.conversation, r.unread))
            .collect();
        let started = Instant::now();
        update(&mut state, Event::CacheRows(rows), Utc::now());
        let spent = started.elapsed();
        merge += spent;
        longest = longest.max(spent);
        if done {
            break;
        }
    }
    report.note(
        format!(
            "cache 1M: rest of the list ({} rows, chunks of {CHUNK})",
            thousands(state.store.len())
        ),
        format!(
            "read + decode {} · merge into the store {} (longest chunk {}, the loop waits for it)",
            fmt_duration(read),
            fmt_duration(merge),
            fmt_duration(longest)
        ),
    );
}

fn search_figures(report: &mut Report, path: &Path) {
    let db = Db::open_read_only(path).unwrap();
    let words = Words::new();
    let queries = [
        ("Latin, common word", words.vocabulary[0].clone()),
        ("Latin, rare word", words.vocabulary[19_000].clone()),
        (
            "Latin, two words",
            format!("{} {}", words.vocabulary[0], words.vocabulary[1]),
        ),
        ("Latin, prefix", "kal".to_string()),
        ("Turkish", "şeker".to_string()),
        ("Turkish, unaccented", "istanbul".to_string()),
        ("Japanese", "東京".to_string()),
        ("emoji", "🎉".to_string()),
        ("no match", "zzzzq".to_string()),
    ];
    for (kind, query) in queries {
        let mut runs = Vec::new();
        let mut hits = 0;
        for _ in 0..7 {
            let started = Instant::now();
            hits = db.search(&query, SEARCH_LIMIT).unwrap().len();
            runs.push(started.elapsed());
        }
        report.time(
            format!("cache 1M: search {kind} {query:?} ({hits} hits), median"),
            Some(median(&runs)),
            Some(ms(50)),
        );
    }
}

fn config_file(home: &Path) -> PathBuf {
    let config = home.join("bench.toml");
    std::fs::write(
        &config,
        "[[accounts]]\nname = \"bench\"\nprovider = \"qpien\"\n\
         base_url = \"http://127.0.0.1:9/api/v1\"\nclient_id = \"demo\"\n\
         client_secret_env = \"TERMDESK_BENCH_SECRET\"\n",
    )
    .unwrap();
    config
}

/// The real binary over a cache, offline.
fn spawn_over(built: &BuiltCache, home: &Path) -> Tty {
    let config = config_file(home);
    Tty::spawn(
        BINARY.as_ref(),
        &["--config", &config.to_string_lossy()],
        home,
        &[
            ("TERMDESK_BENCH_SECRET", "demo"),
            ("XDG_DATA_HOME", &built.data_home.to_string_lossy()),
        ],
        WIDTH,
        HEIGHT,
    )
}

/// The All tab's count once every cached row is in the list.
fn full_title(built: &BuiltCache) -> String {
    format!("All {}", thousands(built.shape.conversations))
}

fn memory_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn binary_figures(report: &mut Report, built: &BuiltCache) {
    let tag = built.shape.name.to_uppercase();
    println!("termdesk over the cache of {}", built.shape.label());
    let home = scratch_home();
    let mut tty = spawn_over(built, &home);
    let first = tty.wait_for("the cached list", secs(30), |s| {
        s.contains(&contact_name(0))
    });
    let title = full_title(built);
    let whole = tty.wait_for("the whole cached list", secs(60), |s| s.contains(&title));
    std::thread::sleep(secs(2));
    let pid = tty.child.process_id().expect("pid");
    let hwm = memory_kib(pid, "VmHWM:");
    let rss = memory_kib(pid, "VmRSS:");
    report.time(
        format!("binary {tag}: spawn → cached list on screen"),
        Some(first),
        None,
    );
    report.time(
        format!("binary {tag}: spawn → all rows loaded ({title})"),
        Some(whole),
        None,
    );
    let goal_mib = if built.shape.messages >= 1_000_000 {
        200.0
    } else {
        50.0
    };
    let mib = |kib: Option<u64>| kib.map_or(f64::NAN, |k| k as f64 / 1024.0);
    report.check(
        format!("binary {tag}: peak memory (VmHWM) showing the list"),
        format!("{:.1} MiB (now {:.1} MiB)", mib(hwm), mib(rss)),
        format!("< {goal_mib:.0} MiB"),
        mib(hwm) < goal_mib,
    );
    // And with the biggest thread open.
    tty.send("\r");
    tty.wait_for("the thread", secs(10), |s| s.contains("Deniz Yılmaz"));
    std::thread::sleep(secs(2));
    let hwm = memory_kib(pid, "VmHWM:");
    report.note(
        format!(
            "binary {tag}: peak memory after opening the {}-message thread",
            thousands(built.shape.big_thread)
        ),
        format!("{:.1} MiB", mib(hwm)),
    );
    tty.send("q");
    let _ = tty.wait_exit(secs(10));
    let _ = std::fs::remove_dir_all(home);
}

// ---------------------------------------------------------------- 3. keys

fn keys_section(report: &mut Report, built: &BuiltCache) {
    const KEYS: usize = 1_000;
    const RUNS: usize = 7;
    println!("keys: {KEYS} × j over {}", built.shape.label());
    let home = scratch_home();
    let mut tty = spawn_over(built, &home);
    let title = full_title(built);
    tty.wait_for("the whole cached list", secs(60), |s| s.contains(&title));
    let target = contact_name(KEYS);
    let beyond = contact_name(KEYS + 1);
    let burst = vec![b'j'; KEYS];
    let mut runs = Vec::new();
    let mut wrong = 0;
    for _ in 0..RUNS {
        // Back to the top, and let the screen settle.
        tty.send("g");
        tty.wait_for("the top", secs(10), |s| {
            s.contains(&contact_name(0)) && !s.contains(&target)
        });
        std::thread::sleep(ms(300));
        let started = Instant::now();
        tty.write_now(&burst);
        let deadline = started + secs(10);
        loop {
            if tty.screen().contains(&target) {
                runs.push(started.elapsed());
                break;
            }
            if Instant::now() > deadline {
                panic!("the 1,000th row never showed:\n{}", tty.screen());
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        // The selection stops there: nothing further comes.
        std::thread::sleep(ms(200));
        let screen = tty.screen();
        if !screen.contains(&target) || screen.contains(&beyond) {
            wrong += 1;
        }
    }
    report.time(
        format!("keys: {KEYS} queued j → row 1,000 on screen, median"),
        Some(median(&runs)),
        Some(ms(30)),
    );
    report.note("keys: runs", spread_text(&runs));
    report.check(
        "keys: final screen shows row 1,000 selected",
        format!("{} of {RUNS}", RUNS - wrong),
        format!("{RUNS} of {RUNS}"),
        wrong == 0,
    );
    tty.send("q");
    let _ = tty.wait_exit(secs(10));
    let _ = std::fs::remove_dir_all(home);
}
