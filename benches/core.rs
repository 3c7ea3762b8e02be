//! Timings of the pure core: key handling through `update`, a full frame,
//! and store upserts. `cargo bench --bench core`.

use chrono::{TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use termdesk::app::{AppState, Event, SyncEvent, update};
use termdesk::config::SendKey;
use termdesk::domain::*;

fn conversations(count: usize) -> Vec<Conversation> {
    let base = Utc.with_ymd_and_hms(2026, 3, 14, 9, 0, 0).unwrap();
    (0..count)
        .map(|i| Conversation {
            id: ConversationId::new(format!("{i:024x}")),
            contact_id: None,
            contact_name: format!("Customer {i} 🙂"),
            channel: Channel::WhatsApp,
            reply_channel_id: None,
            status: ConversationStatus::Open,
            assignee: None,
            starred: i % 7 == 0,
            priority: None,
            tags: Vec::new(),
            last_message: Some(MessagePreview {
                text: "Merhaba, siparişim nerede? 注文はどこですか".into(),
                sender: SenderKind::Contact,
                kind: MessageKind::Text,
                ack: Ack::Unknown,
                created_at: base + chrono::Duration::seconds(i as i64),
            }),
            created_at: None,
            updated_at: base + chrono::Duration::seconds(i as i64),
            unread: None,
        })
        .collect()
}

fn messages(conversation: &str, count: usize) -> Vec<Message> {
    let base = Utc.with_ymd_and_hms(2026, 3, 14, 9, 0, 0).unwrap();
    (0..count)
        .map(|i| Message {
            id: MessageId::new(format!("m{i:08}")),
            conversation_id: ConversationId::new(conversation),
            client_id: None,
            sender: if i % 2 == 0 {
                SenderKind::Contact
            } else {
                SenderKind::Agent
            },
            sender_name: Some("Deniz Yılmaz".into()),
            kind: MessageKind::Text,
            channel: Some(Channel::WhatsApp),
            text:
                "A message of ordinary length, with an emoji 📦 and some Japanese 日本語 to wrap."
                    .into(),
            subject: None,
            media: Vec::new(),
            quoted: None,
            ack: Ack::Read,
            failed_reason: None,
            created_at: base + chrono::Duration::seconds(i as i64),
        })
        .collect()
}

fn loaded_state(conversation_count: usize, thread_len: usize) -> AppState {
    loaded_state_with(conversation_count, thread_len, |_| {})
}

/// Like [`loaded_state`], the thread's messages changed by `tweak` first.
fn loaded_state_with(
    conversation_count: usize,
    thread_len: usize,
    tweak: impl Fn(&mut Vec<Message>),
) -> AppState {
    let now = Utc.with_ymd_and_hms(2026, 3, 15, 9, 0, 0).unwrap();
    let mut state = AppState::new("bench", "Qpien", false, SendKey::Enter, now, (200, 50));
    update(
        &mut state,
        Event::Sync(SyncEvent::Conversations(conversations(conversation_count))),
        now,
    );
    let open = state.store.order()[0].clone();
    update(
        &mut state,
        Event::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
        now,
    );
    update(
        &mut state,
        Event::MessagesLoaded {
            conversation_id: open.clone(),
            page: Page {
                items: {
                    let mut items = messages(open.as_str(), thread_len);
                    tweak(&mut items);
                    items
                },
                next: None,
                total: None,
                skipped: 0,
            },
            older: false,
        },
        now,
    );
    update(
        &mut state,
        Event::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)),
        now,
    );
    state
}

fn bench(c: &mut Criterion) {
    let now = Utc.with_ymd_and_hms(2026, 3, 15, 9, 0, 0).unwrap();
    let mut state = loaded_state(5_000, 600);
    let keys: Vec<Event> = (0..1000)
        .map(|i| {
            let code = if i % 2 == 0 {
                KeyCode::Char('j')
            } else {
                KeyCode::Char('k')
            };
            Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
        })
        .collect();
    c.bench_function("update: 1000 list keys, 5000 conversations", |b| {
        b.iter(|| {
            for key in &keys {
                update(&mut state, key.clone(), now);
            }
        })
    });

    let mut state = loaded_state(5_000, 600);
    update(
        &mut state,
        Event::Key(KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE)),
        now,
    );
    let scroll_keys: Vec<Event> = (0..1000)
        .map(|i| {
            let code = if i % 2 == 0 {
                KeyCode::Char('k')
            } else {
                KeyCode::Char('j')
            };
            Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
        })
        .collect();
    c.bench_function("update: 1000 scroll keys in a 600-message thread", |b| {
        b.iter(|| {
            for key in &scroll_keys {
                update(&mut state, key.clone(), now);
            }
        })
    });

    let state = loaded_state(5_000, 600);
    let mut terminal = Terminal::new(TestBackend::new(200, 50)).unwrap();
    c.bench_function("draw: full frame 200x50, 600-message thread open", |b| {
        b.iter(|| {
            terminal
                .draw(|frame| termdesk::ui::draw(frame, &state))
                .map(|_| ())
                .unwrap()
        })
    });

    // A 1 MB message in the thread, as one line and as 50,000 lines: the
    // thread lays out only its head, the rest stays in the store.
    let one_line = "Ş".repeat(250_000) + &"x".repeat(500_000);
    let many_lines = (0..50_000)
        .map(|i| format!("line {i:05} of many"))
        .collect::<Vec<_>>()
        .join("\n");
    for (name, body) in [("one line", &one_line), ("50,000 lines", &many_lines)] {
        let big = |items: &mut Vec<Message>| {
            let at = items.len() - 3;
            items[at].text = body.clone();
        };
        let mut state = loaded_state_with(5_000, 600, big);
        update(
            &mut state,
            Event::Key(KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE)),
            now,
        );
        c.bench_function(
            &format!("update: 1000 scroll keys past a 1 MB message ({name})"),
            |b| {
                b.iter(|| {
                    for key in &scroll_keys {
                        update(&mut state, key.clone(), now);
                    }
                })
            },
        );
        // Scrolled up so the message fills the pane.
        let mut state = loaded_state_with(5_000, 600, big);
        update(
            &mut state,
            Event::Key(KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE)),
            now,
        );
        for _ in 0..12 {
            update(
                &mut state,
                Event::Key(KeyEvent::new(KeyCode::Char('k'), KeyModifiers::NONE)),
                now,
            );
        }
        c.bench_function(
            &format!("draw: full frame 200x50, a 1 MB message on screen ({name})"),
            |b| {
                b.iter(|| {
                    terminal
                        .draw(|frame| termdesk::ui::draw(frame, &state))
                        .map(|_| ())
                        .unwrap()
                })
            },
        );
        // What every frame would cost if the whole message were laid out.
        c.bench_function(&format!("text: wrap a whole 1 MB message ({name})"), |b| {
            b.iter(|| termdesk::text::wrap(body, 196).len())
        });
    }

    let batch = conversations(5_000);
    c.bench_function("store: upsert 5000 conversations", |b| {
        b.iter(|| {
            let mut store = termdesk::store::Store::default();
            store.upsert_conversations(batch.clone(), None)
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
