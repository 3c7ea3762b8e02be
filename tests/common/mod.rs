//! Fixtures shared by the integration tests.
#![allow(dead_code)]

pub mod fake_provider;
pub mod headless;
pub mod logs;
pub mod pty;

use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use termdesk::app::{AppState, Event, SyncEvent, update};
use termdesk::config::SendKey;
use termdesk::domain::*;

pub fn at(secs: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 14, 9, 0, 0).unwrap() + chrono::Duration::seconds(secs)
}

pub fn now() -> DateTime<Utc> {
    at(3600)
}

pub fn conversation(
    id: &str,
    name: &str,
    channel: Channel,
    updated: i64,
    last: &str,
    from_contact: bool,
) -> Conversation {
    Conversation {
        id: ConversationId::new(id),
        contact_id: Some(ContactId::new(format!("contact-{id}"))),
        contact_name: name.to_string(),
        channel,
        reply_channel_id: None,
        status: ConversationStatus::Open,
        assignee: None,
        starred: false,
        priority: None,
        tags: Vec::new(),
        last_message: Some(MessagePreview {
            text: last.to_string(),
            sender: if from_contact {
                SenderKind::Contact
            } else {
                SenderKind::Agent
            },
            kind: MessageKind::Text,
            ack: Ack::Read,
            created_at: at(updated),
        }),
        created_at: Some(at(0)),
        updated_at: at(updated),
        unread: None,
    }
}

pub fn message(
    conv: &str,
    id: &str,
    secs: i64,
    sender: SenderKind,
    name: &str,
    text: &str,
) -> Message {
    Message {
        id: MessageId::new(id),
        conversation_id: ConversationId::new(conv),
        client_id: None,
        sender,
        sender_name: Some(name.to_string()),
        kind: MessageKind::Text,
        channel: Some(Channel::WhatsApp),
        text: text.to_string(),
        subject: None,
        media: Vec::new(),
        quoted: None,
        ack: if sender == SenderKind::Agent {
            Ack::Read
        } else {
            Ack::Unknown
        },
        failed_reason: None,
        created_at: at(secs),
    }
}

pub fn inbox() -> Vec<Conversation> {
    let mut items = vec![
        conversation(
            "c1",
            "Deniz Yılmaz",
            Channel::WhatsApp,
            3590,
            "Siparişim nerede? 📦",
            true,
        ),
        conversation(
            "c2",
            "佐藤 花子",
            Channel::Instagram,
            3400,
            "返品したいのですが",
            true,
        ),
        conversation(
            "c3",
            "أحمد الحربي",
            Channel::WhatsApp,
            3000,
            "مرحباً، هل أنتم هنا؟",
            true,
        ),
        conversation(
            "c4",
            "Ava Smith",
            Channel::Email,
            2400,
            "Thanks, that worked!",
            false,
        ),
        conversation(
            "c5",
            "Liam Chen",
            Channel::LiveChat,
            600,
            "Can I change my booking?",
            true,
        ),
        conversation("c6", "Mehmet Kaya", Channel::Messenger, 100, "👍", false),
    ];
    items[1].starred = true;
    items[3].status = ConversationStatus::Pending;
    items[3].assignee = Some(AgentId::new("agent-1"));
    items[5].status = ConversationStatus::Resolved;
    items
}

pub fn thread_c1() -> Vec<Message> {
    let mut photo = message(
        "c1",
        "m2",
        700,
        SenderKind::Contact,
        "Deniz Yılmaz",
        "Here is the box 👇",
    );
    photo.kind = MessageKind::Image;
    photo.media = vec![Media {
        kind: "image".into(),
        url: Some("https://cdn.sandbox.qpien.test/media/box.jpg".into()),
        file_name: Some("box.jpg".into()),
        mime_type: Some("image/jpeg".into()),
        caption: Some("damaged corner".into()),
    }];
    let mut quoted = message(
        "c1",
        "m3",
        900,
        SenderKind::Agent,
        "Ada Agent",
        "Sorry about that! A replacement ships today.",
    );
    quoted.quoted = Some(QuotedMessage {
        id: Some(MessageId::new("m2")),
        text: "Here is the box 👇".into(),
    });
    let mut failed = message(
        "c1",
        "m4",
        1000,
        SenderKind::Agent,
        "Ada Agent",
        "Tracking: A-1042",
    );
    failed.ack = Ack::Failed;
    failed.failed_reason = Some("131047: more than 24 hours have passed".into());
    vec![
        message(
            "c1",
            "m1",
            600,
            SenderKind::Contact,
            "Deniz Yılmaz",
            "Merhaba, siparişim A-1042 hâlâ gelmedi. Kontrol edebilir misiniz? 🙏",
        ),
        photo,
        quoted,
        failed,
        message(
            "c1",
            "m5",
            3590,
            SenderKind::Contact,
            "Deniz Yılmaz",
            "Siparişim nerede? 📦",
        ),
    ]
}

pub fn key(state: &mut AppState, code: KeyCode) {
    update(
        state,
        Event::Key(KeyEvent::new(code, KeyModifiers::NONE)),
        now(),
    );
}

/// The demo's state before anything arrived, with times shown in UTC.
pub fn empty_state(width: u16, height: u16) -> AppState {
    let mut state = AppState::new(
        "demo",
        "Qpien sandbox",
        true,
        SendKey::Enter,
        now(),
        (width, height),
    );
    state.utc_offset = FixedOffset::east_opt(0).unwrap();
    state
}

/// A state with the inbox synced and, when `open`, conversation c1 open
/// with its thread loaded.
pub fn state(width: u16, height: u16, open: bool) -> AppState {
    let mut state = empty_state(width, height);
    update(
        &mut state,
        Event::Sync(SyncEvent::Conversations(inbox())),
        now(),
    );
    update(&mut state, Event::Sync(SyncEvent::Synced), now());
    update(
        &mut state,
        Event::Sync(SyncEvent::Agents(vec![Agent {
            id: AgentId::new("agent-1"),
            first_name: "Ada".into(),
            last_name: "Agent".into(),
            email: "ada@example.com".into(),
            role: "ADMIN".into(),
            active: true,
            is_bot: false,
        }])),
        now(),
    );
    if open {
        key(&mut state, KeyCode::Enter);
        update(
            &mut state,
            Event::MessagesLoaded {
                conversation_id: ConversationId::new("c1"),
                page: Page {
                    items: thread_c1(),
                    next: None,
                    total: None,
                    skipped: 0,
                },
                older: false,
            },
            now(),
        );
    }
    state
}
