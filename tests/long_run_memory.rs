//! A simulated week of traffic through the real update logic and store:
//! thousands of customer messages a day over a fixed set of conversations,
//! the agent opening threads and replying (some replies retried), contacts
//! looked up that do not exist. Live heap bytes are counted by a global
//! allocator (this test binary only); once the caches have filled, the
//! heap must stop growing.
//!
//! `cargo test --test long_run_memory -- --nocapture` prints the figures.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Duration, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use termdesk::api::ApiError;
use termdesk::app::{AppState, Command, Env, Event, SyncEvent, update};
use termdesk::config::SendKey;
use termdesk::domain::{
    Ack, Channel, ContactId, Conversation, ConversationId, ConversationStatus, Message, MessageId,
    MessageKind, MessagePreview, Page, SenderKind,
};
use termdesk::store::outbox::Outgoing;

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            LIVE.fetch_add(new_size, Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const CONVERSATIONS: usize = 2_000;
const INBOUND_PER_DAY: usize = 2_400;
const OPENS_PER_DAY: usize = 60;
/// Changed conversations a poll brings at once.
const POLL_BATCH: usize = 40;
const MISSING_PER_DAY: usize = 25_000;
const THREAD_PAGE: usize = 30;
const DAYS: usize = 7;

/// A fixed-seed generator: the same week every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % below as u64) as usize
    }
}

fn conv_id(n: usize) -> ConversationId {
    ConversationId::new(format!("conv-{n:05}"))
}

fn conversation(n: usize, at: DateTime<Utc>, text: &str) -> Conversation {
    Conversation {
        id: conv_id(n),
        contact_id: Some(ContactId::new(format!("contact-{n:05}"))),
        contact_name: format!("Customer {n}"),
        channel: Channel::WhatsApp,
        reply_channel_id: None,
        status: ConversationStatus::Open,
        assignee: None,
        starred: false,
        priority: None,
        tags: Vec::new(),
        last_message: Some(MessagePreview {
            text: text.to_string(),
            sender: SenderKind::Contact,
            kind: MessageKind::Text,
            ack: Ack::Delivered,
            created_at: at,
        }),
        created_at: Some(at),
        updated_at: at,
        unread: None,
    }
}

fn message(conversation: &ConversationId, id: String, at: DateTime<Utc>, text: &str) -> Message {
    Message {
        id: MessageId::new(id),
        conversation_id: conversation.clone(),
        client_id: None,
        sender: SenderKind::Contact,
        sender_name: Some("Customer".into()),
        kind: MessageKind::Text,
        channel: Some(Channel::WhatsApp),
        text: text.to_string(),
        subject: None,
        media: Vec::new(),
        quoted: None,
        ack: Ack::Delivered,
        failed_reason: None,
        created_at: at,
    }
}

struct Week {
    state: AppState,
    now: DateTime<Utc>,
    ids: u64,
    rng: Lcg,
    sends: usize,
    timers: std::collections::HashSet<String>,
}

impl Week {
    fn fresh_id(&mut self) -> String {
        self.ids += 1;
        format!("id-{}", self.ids)
    }

    fn apply(&mut self, event: Event) -> Vec<Command> {
        self.now += Duration::milliseconds(200);
        let env = Env {
            now: self.now,
            fresh_id: self.fresh_id(),
        };
        let commands = update(&mut self.state, event, env);
        // The runtime hands the journal to the cache writer after each
        // batch; here it is written nowhere.
        drop(self.state.store.take_journal());
        for command in &commands {
            match command {
                Command::ScheduleRetry { client_id, .. } => {
                    self.timers.insert(client_id.clone());
                }
                Command::CancelRetry { client_id } => {
                    self.timers.remove(client_id);
                }
                _ => {}
            }
        }
        commands
    }

    fn key(&mut self, code: KeyCode) -> Vec<Command> {
        self.apply(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)))
    }

    /// One poll: the conversations changed since the last, and the open
    /// thread's new messages.
    fn poll(&mut self, changed: &[usize], text: &str) {
        let at = self.now;
        let rows = changed.iter().map(|&n| conversation(n, at, text)).collect();
        self.apply(Event::Sync(SyncEvent::Conversations(rows)));
        if let Some(open) = self.state.open.clone()
            && changed.iter().any(|&n| conv_id(n) == open)
        {
            let m = message(&open, self.fresh_id(), at, text);
            self.apply(Event::Sync(SyncEvent::Messages {
                conversation_id: open,
                page: Page {
                    items: vec![m],
                    next: None,
                    total: None,
                    skipped: 0,
                },
            }));
        }
    }

    /// The agent opens the top row, reads it and replies.
    fn open_and_reply(&mut self) {
        self.key(KeyCode::Esc);
        self.key(KeyCode::Esc);
        self.key(KeyCode::Char('g'));
        self.key(KeyCode::Enter);
        let Some(id) = self.state.open.clone() else {
            return;
        };
        let at = self.now;
        let page: Vec<Message> = (0..THREAD_PAGE)
            .map(|i| {
                let text = format!("Hello, about my order number {i}, any news?");
                message(
                    &id,
                    self.fresh_id(),
                    at - Duration::minutes(i as i64),
                    &text,
                )
            })
            .collect();
        self.apply(Event::MessagesLoaded {
            conversation_id: id.clone(),
            page: Page {
                items: page,
                next: Some(termdesk::domain::PageCursor::new("2")),
                total: None,
                skipped: 0,
            },
            older: false,
        });
        self.key(KeyCode::Char('r'));
        self.apply(Event::Paste("Thanks, I am looking into it now.".into()));
        let commands = self.key(KeyCode::Enter);
        let Some(client_id) = commands.iter().find_map(|c| match c {
            Command::Send {
                outgoing: Outgoing::Text(text),
                ..
            } => Some(text.client_id.clone()),
            _ => None,
        }) else {
            return;
        };
        self.sends += 1;
        if self.sends.is_multiple_of(5) {
            // Held back by the rate limit: retried, then sent.
            self.apply(Event::SendFailed {
                client_id: client_id.clone(),
                error: ApiError::RateLimited {
                    retry_after: std::time::Duration::from_secs(3),
                },
            });
            self.apply(Event::RetryDue {
                client_id: client_id.clone(),
            });
            self.timers.remove(&client_id);
        }
        let mut sent = message(
            &id,
            self.fresh_id(),
            self.now,
            "Thanks, I am looking into it now.",
        );
        sent.sender = SenderKind::Agent;
        sent.client_id = Some(client_id.clone());
        self.apply(Event::SendConfirmed {
            client_id,
            message: Box::new(sent),
            found_echo: false,
        });
    }

    fn day(&mut self, day: usize) {
        let polls = INBOUND_PER_DAY / POLL_BATCH;
        let opens_every = (polls / OPENS_PER_DAY).max(1);
        for k in 0..polls {
            let changed: Vec<usize> = (0..POLL_BATCH)
                .map(|_| self.rng.next(CONVERSATIONS))
                .collect();
            self.poll(
                &changed,
                &format!("Day {day}: message {k}, where is my parcel?"),
            );
            if k % opens_every == 0 {
                self.open_and_reply();
            }
        }
        // Contacts asked for by id that the server no longer has.
        let missing: Vec<ContactId> = (0..MISSING_PER_DAY)
            .map(|i| ContactId::new(format!("gone-{day}-{i}")))
            .collect();
        self.apply(Event::Sync(SyncEvent::Contacts {
            found: Vec::new(),
            missing,
        }));
    }
}

#[test]
fn a_week_of_traffic_leaves_the_heap_where_the_first_day_did() {
    let start = Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 0).unwrap();
    let mut week = Week {
        state: AppState::new("work", "Qpien", false, SendKey::Enter, start, (160, 48)),
        now: start,
        ids: 0,
        rng: Lcg(42),
        sends: 0,
        timers: Default::default(),
    };
    // The inbox itself: every conversation, there from the start.
    let rows: Vec<Conversation> = (0..CONVERSATIONS)
        .map(|n| conversation(n, start - Duration::days(30), "Hello"))
        .collect();
    week.apply(Event::Sync(SyncEvent::Conversations(rows)));
    week.apply(Event::Sync(SyncEvent::Synced));

    // A first day fills the caches to their limits (threads, missing
    // contacts, the list's change log); the week is measured after it.
    week.day(0);
    println!(
        "day 0 (filling the caches): {} live bytes",
        LIVE.load(Ordering::Relaxed)
    );
    let mut live = Vec::with_capacity(DAYS);
    let started = std::time::Instant::now();
    for day in 1..=DAYS {
        week.day(day);
        let bytes = LIVE.load(Ordering::Relaxed);
        println!(
            "day {day}: {bytes} live bytes ({:.1} MiB), {} threads in memory, {} retry timers",
            bytes as f64 / (1024.0 * 1024.0),
            week.state.store.thread_count(),
            week.timers.len(),
        );
        println!("  {:?} so far", started.elapsed());
        live.push(bytes);
    }
    assert!(week.sends >= OPENS_PER_DAY * DAYS / 2, "the agent replied");
    assert!(week.state.outbox.items().is_empty(), "every reply went out");
    assert!(week.timers.is_empty(), "no retry timer outlives its reply");
    assert!(week.state.store.thread_count() <= termdesk::store::THREADS_KEPT + 1);
    let first = live[0];
    let last = live[DAYS - 1];
    // After the first day only the inbox's own rows change, and they are
    // replaced, not added; what is left is noise (the list's change log
    // fills and halves, maps settle their capacity). A thread cache or a
    // missing-contact set without a limit would add megabytes a day.
    let bound = first + first / 4;
    assert!(
        last <= bound,
        "live bytes grew from {first} on day 1 to {last} on day {DAYS} (bound {bound})"
    );
    let middle = live[DAYS / 2];
    assert!(
        last <= middle + middle / 10,
        "still growing at the end of the week: {middle} mid-week, {last} on day {DAYS}"
    );
}
