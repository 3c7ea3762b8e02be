//! Snapshots of the list and a thread full of the world's text (emoji
//! sequences, flags, CJK, Arabic and Hebrew with their marks, combining
//! accents, Thai) and of 10,000-character fields, at 80x24 and 200x50:
//! nothing spills out of its cell, no grapheme is split, columns align.

mod common;

use crossterm::event::KeyCode;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;

use termdesk::app::{AppState, Event, SyncEvent, update};
use termdesk::domain::*;
use termdesk::text;

use common::{at, conversation, empty_state, key, message, now};

const SIZES: [(u16, u16); 2] = [(80, 24), (200, 50)];

const FAMILY: &str = "👩\u{200d}👩\u{200d}👧\u{200d}👦";
const ENGLAND: &str = "🏴\u{e0067}\u{e0062}\u{e0065}\u{e006e}\u{e0067}\u{e007f}";

fn tagged(mut c: Conversation, tags: &[&str]) -> Conversation {
    c.tags = tags
        .iter()
        .enumerate()
        .map(|(i, name)| Tag {
            id: TagId::new(format!("t{i}")),
            name: name.to_string(),
            color: None,
        })
        .collect();
    c
}

fn world_inbox() -> Vec<Conversation> {
    let long = "Ü".repeat(10_000);
    vec![
        tagged(
            conversation(
                "w1",
                &format!("{FAMILY} Aile Yılmaz"),
                Channel::WhatsApp,
                3590,
                &format!("Hepimiz geliyoruz {FAMILY} 🇹🇷"),
                true,
            ),
            &["vip 🇹🇷", "aile"],
        ),
        conversation(
            "w2",
            &format!("{ENGLAND} Harry Kane"),
            Channel::Messenger,
            3500,
            "Come on England! ⚽",
            true,
        ),
        conversation(
            "w3",
            "佐藤 花子（さとう）",
            Channel::Instagram,
            3400,
            "返品したいのですが、よろしいですか？",
            true,
        ),
        tagged(
            conversation(
                "w4",
                "مُحَمَّد الْعَرَبِيّ",
                Channel::WhatsApp,
                3300,
                "مَرْحَبًا، هَلْ طَلَبِي جَاهِز؟",
                true,
            ),
            &["عَاجِل"],
        ),
        conversation("w5", "שָׁלוֹם כֹּהֵן", Channel::Sms, 3200, "תּוֹדָה רַבָּה!", true),
        conversation(
            "w6",
            "Rene\u{301}e Cafe\u{301}",
            Channel::Email,
            3100,
            "Ve\u{301}rifie\u{301}, merci",
            false,
        ),
        conversation(
            "w7",
            "สมชาย ใจดี",
            Channel::LiveChat,
            3000,
            "สวัสดีครับ ขอสอบถามหน่อย",
            true,
        ),
        tagged(
            conversation("w8", &long, Channel::Telegram, 2900, &long, true),
            &[&long, "short"],
        ),
    ]
}

fn world_thread() -> Vec<Message> {
    let long_subject = "Konu ".repeat(2_000);
    let mut mail = message(
        "w1",
        "m3",
        3400,
        SenderKind::Contact,
        "Aile Yılmaz",
        "E-posta ile de yazdım.",
    );
    mail.subject = Some(long_subject);
    vec![
        message(
            "w1",
            "m1",
            3000,
            SenderKind::Contact,
            &format!("{FAMILY} Aile Yılmaz"),
            &format!(
                "Merhaba! {FAMILY} dört kişiyiz, {ENGLAND} İngiltere'den ve 🇹🇷 Türkiye'den geliyoruz. 日本語も少し話せます。"
            ),
        ),
        message(
            "w1",
            "m2",
            3200,
            SenderKind::Agent,
            "Deniz",
            "مَرْحَبًا بِكُم! שָׁלוֹם! Rene\u{301}e de gelecek mi? สวัสดีครับ 👋🏽",
        ),
        mail,
        message(
            "w1",
            "m4",
            3500,
            SenderKind::Contact,
            "Aile Yılmaz",
            &"長い行".repeat(60),
        ),
    ]
}

fn world_state(width: u16, height: u16, open: bool) -> AppState {
    let mut state = empty_state(width, height);
    update(
        &mut state,
        Event::Sync(SyncEvent::Conversations(world_inbox())),
        now(),
    );
    update(&mut state, Event::Sync(SyncEvent::Synced), now());
    if open {
        key(&mut state, KeyCode::Enter);
        update(
            &mut state,
            Event::MessagesLoaded {
                conversation_id: ConversationId::new("w1"),
                page: Page {
                    items: world_thread(),
                    next: None,
                    total: None,
                    skipped: 0,
                },
                older: false,
            },
            at(3600),
        );
    }
    state
}

fn draw(state: &AppState, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|frame| termdesk::ui::draw(frame, state))
        .unwrap();
    terminal
}

/// Every row is exactly as wide as the screen, counting each grapheme's
/// cells once, and every cell holds one whole, clean grapheme.
fn assert_aligned(buffer: &Buffer, what: &str) {
    for y in 0..buffer.area.height {
        let mut width = 0;
        let mut covered = 0;
        let mut row = String::new();
        for x in 0..buffer.area.width {
            let symbol = buffer[(x, y)].symbol();
            assert_eq!(text::sanitize(symbol), symbol, "{what}: ({x}, {y})");
            if covered > 0 {
                covered -= 1;
                continue;
            }
            use unicode_segmentation::UnicodeSegmentation;
            assert!(
                symbol.graphemes(true).count() == 1,
                "{what}: cell ({x}, {y}) holds {symbol:?}"
            );
            let w = text::width(symbol);
            width += w;
            covered = w.saturating_sub(1);
            row.push_str(symbol);
        }
        assert_eq!(
            width,
            usize::from(buffer.area.width),
            "{what}: row {y}: {row}"
        );
    }
}

#[test]
fn the_list_of_the_worlds_names_aligns() {
    for (w, h) in SIZES {
        let state = world_state(w, h, false);
        let terminal = draw(&state, w, h);
        assert_aligned(terminal.backend().buffer(), &format!("list {w}x{h}"));
        insta::assert_snapshot!(
            format!("world_list_{w}x{h}"),
            terminal.backend().to_string()
        );
    }
}

#[test]
fn a_thread_of_the_worlds_text_wraps_without_splitting() {
    for (w, h) in SIZES {
        let state = world_state(w, h, true);
        let terminal = draw(&state, w, h);
        let buffer = terminal.backend().buffer();
        assert_aligned(buffer, &format!("thread {w}x{h}"));
        let screen = terminal.backend().to_string();
        // The family is whole in the title and the list.
        assert!(screen.contains(FAMILY), "{screen}");
        insta::assert_snapshot!(format!("world_thread_{w}x{h}"), screen);
    }
}

#[test]
fn the_profile_of_a_ten_thousand_character_name_fits() {
    let (w, h) = (200, 50);
    let mut state = world_state(w, h, false);
    // Down to the conversation with the long name, then the profile.
    for _ in 0..7 {
        key(&mut state, KeyCode::Char('j'));
    }
    key(&mut state, KeyCode::Enter);
    let terminal = draw(&state, w, h);
    assert_aligned(terminal.backend().buffer(), "profile");
    let screen = terminal.backend().to_string();
    assert!(screen.contains("ÜÜÜ…"), "{screen}");
    // The store keeps the name whole.
    let entry = state.store.get(&ConversationId::new("w8")).unwrap();
    assert_eq!(entry.conversation.contact_name.chars().count(), 10_000);
}

#[test]
fn the_directory_of_the_worlds_names_aligns() {
    let long = "Ğ".repeat(10_000);
    let long_mail = format!("{}@example.com", "a".repeat(10_000));
    let named = |id: &str, first: &str, phone: &str| {
        let mut c = Contact::named(id, first);
        c.phone = Some(phone.to_string());
        c
    };
    let mut with_mail = named("d8", &long, "+90 532 000 00 08");
    with_mail.email = Some(long_mail);
    let contacts = vec![
        named("d1", &format!("{FAMILY} Aile"), "+90 532 000 00 01"),
        named("d2", &format!("{ENGLAND} Harry"), "+44 7700 900001"),
        named("d3", "مُحَمَّد الْعَرَبِيّ", "+966 50 000 0003"),
        named("d4", "שָׁלוֹם כֹּהֵן", "+972 50 000 0004"),
        named("d5", "Rene\u{301}e", "+33 6 00 00 00 05"),
        named("d6", "สมชาย ใจดี", "+66 80 000 0006"),
        named("d7", "佐藤 花子（さとう）", "+81 90 0000 0007"),
        with_mail,
    ];
    for (w, h) in SIZES {
        let mut state = world_state(w, h, false);
        state.store.upsert_contacts(contacts.clone(), Vec::new());
        termdesk::app::update::directory::open_directory(&mut state);
        let terminal = draw(&state, w, h);
        assert_aligned(terminal.backend().buffer(), &format!("directory {w}x{h}"));
        insta::assert_snapshot!(
            format!("world_directory_{w}x{h}"),
            terminal.backend().to_string()
        );
    }
}
