//! Every string of `assets/naughty_strings.txt` through the whole pipeline
//! to the drawn buffer: into the Qpien sandbox as a customer message, a
//! contact name and a tag, synced by the headless app, its conversation
//! opened and drawn at 80x24 and 200x50. Nothing harmful may reach a
//! cell, no row may spill, and genuine text must arrive intact.

mod common;
mod naughty;

use crossterm::event::KeyCode;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;

use common::headless::{CacheProbe, RunningApp, roomy, roomy_client, sandbox, wait_until};
use termdesk::api::Provider;
use termdesk::app::{AppState, Event, update};
use termdesk::domain::{ConversationId, MessageQuery};
use termdesk::sandbox::SandboxOptions;
use termdesk::store::db::Db;
use termdesk::text;

const SIZES: [(u16, u16); 2] = [(80, 24), (200, 50)];

/// A cell may hold only what the sanitizer lets through, and no line break.
fn harmless(symbol: &str) -> bool {
    !symbol.chars().any(char::is_control) && text::sanitize(symbol) == symbol
}

/// Checks every cell and that every row is exactly as wide as the screen
/// (a wide character in the last column, or a zero-width symbol in a cell
/// of its own, would break that); returns the rows as text.
fn checked_rows(buffer: &Buffer, what: &str) -> Vec<String> {
    let area = buffer.area;
    let mut rows = Vec::new();
    for y in 0..area.height {
        let mut row = String::new();
        let mut width = 0;
        let mut covered = 0;
        for x in 0..area.width {
            let symbol = buffer[(x, y)].symbol();
            assert!(harmless(symbol), "{what}: cell ({x}, {y}) holds {symbol:?}");
            // The cells a wide character covers follow it.
            if covered > 0 {
                covered -= 1;
                continue;
            }
            let w = text::width(symbol);
            row.push_str(symbol);
            width += w;
            covered = w.saturating_sub(1);
        }
        assert_eq!(
            width,
            usize::from(area.width),
            "{what}: row {y} is {width} cells wide: {row:?}"
        );
        rows.push(row);
    }
    rows
}

fn draw(state: &mut AppState, width: u16, height: u16) -> Buffer {
    update(state, Event::Resize { width, height }, state.now);
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|frame| termdesk::ui::draw(frame, state))
        .unwrap();
    terminal.backend().buffer().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn naughty_strings_reach_the_screen_harmless_through_qpien() {
    let corpus = naughty::load();
    let strings = naughty::all();
    let sandbox = sandbox(roomy(SandboxOptions::default())).await;
    let control = sandbox.control();
    let ids = control.conversation_ids();
    assert!(ids.len() >= strings.len());
    // One conversation per string: a customer message, the contact's
    // name and a tag.
    for (s, id) in strings.iter().zip(&ids) {
        assert!(!control.inject_incoming_message(id, s).is_empty());
        assert!(control.set_contact_name(id, s, None));
        assert!(control.add_conversation_tag(id, s).is_some());
    }

    let provider = roomy_client(&sandbox);
    let app = RunningApp::start(provider.clone());
    let probe = CacheProbe::new(&app.cache);
    wait_until("the whole account synced", || probe.fully_synced()).await;
    // The live screen too: the list full of hostile names and tags, then
    // the newest thread opened.
    let screen = app
        .wait_for_screen("the list", |s| s.contains("All 320"))
        .await;
    assert_eq!(text::sanitize(&screen), screen);
    app.press(KeyCode::Enter);
    let screen = app
        .wait_for_screen("the open thread", |s| s.contains("Reply to"))
        .await;
    assert_eq!(text::sanitize(&screen), screen);
    assert!(!screen.contains("pwned"), "{screen}");
    let cache = app.cache.clone();
    let mut state = app.quit().await;

    for (i, (s, id)) in strings.iter().zip(&ids).enumerate() {
        let id = ConversationId::new(id.clone());
        let real = corpus.real.contains(s);
        let entry = state.store.get(&id).expect("synced");
        let name_kept = control
            .conversation_state(id.as_str())
            .is_some_and(|c| c.contact_name == *s);
        if name_kept && !text::sanitize_line(s).is_empty() {
            assert_eq!(
                entry.conversation.contact_name,
                text::sanitize_line(s),
                "string {i}: the contact name"
            );
        }
        let tag = text::sanitize_line(s);
        assert!(
            tag.is_empty() || entry.conversation.tags.iter().any(|t| t.name == tag),
            "string {i}: the tag"
        );

        let page = provider
            .list_messages(&MessageQuery {
                conversation_id: id.clone(),
                before: None,
                after: None,
                limit: 20,
            })
            .await
            .unwrap();
        state.selected = Some(id.clone());
        state.open = Some(id.clone());
        state.thread_scroll = 0;
        let now = state.now;
        update(
            &mut state,
            Event::MessagesLoaded {
                conversation_id: id.clone(),
                page,
                older: false,
            },
            now,
        );
        let newest = state.store.thread(&id).unwrap().messages.last().unwrap();
        // Stored whole, cleaned once.
        assert_eq!(newest.text, text::sanitize(s), "string {i}");

        for (width, height) in SIZES {
            let what = format!("string {i} at {width}x{height}");
            let rows = checked_rows(&draw(&mut state, width, height), &what);
            let screen = rows.join("\n");
            assert!(!screen.contains("pwned"), "{what}:\n{screen}");
            if real {
                assert!(
                    rows.iter().any(|r| r.contains(s.as_str())),
                    "{what}: {s:?} is not on screen intact:\n{screen}"
                );
            }
            if s.len() > termdesk::app::view::long_text::SHOWN_BYTES
                || s.lines().count() > termdesk::app::view::long_text::SHOWN_LINES
            {
                assert!(
                    screen.contains("the message continues"),
                    "{what}:\n{screen}"
                );
            }
        }
    }

    // Every thread the app cached (the opened one and those read ahead)
    // holds its string whole and cleaned.
    let db = Db::open_read_only(&cache).unwrap();
    let mut cached_threads = 0;
    for (s, id) in strings.iter().zip(&ids) {
        let cached = db
            .load_messages(&ConversationId::new(id.clone()), None, 5)
            .unwrap();
        if !cached.is_empty() {
            cached_threads += 1;
            assert!(
                cached.iter().any(|m| m.text == text::sanitize(s)),
                "{s:?} was not cached whole"
            );
        }
    }
    assert!(cached_threads >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_megabyte_message_is_stored_whole_and_shown_in_part() {
    let sandbox = sandbox(roomy(SandboxOptions::default())).await;
    let control = sandbox.control();
    let ids = control.conversation_ids();
    let one_line = "é".repeat(500_000) + "END";
    let many_lines = (0..55_000)
        .map(|i| format!("line {i:05} of many"))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(one_line.len() > 1_000_000 && many_lines.len() > 1_000_000);
    control.inject_incoming_message(&ids[0], &one_line);
    control.inject_incoming_message(&ids[1], &many_lines);

    let provider = roomy_client(&sandbox);
    let app = RunningApp::start(provider.clone());
    app.wait_for_screen("the list", |s| s.contains("All 320"))
        .await;
    app.press(KeyCode::Enter);
    app.wait_for_screen("the note under the long message", |s| {
        s.contains("the message continues")
    })
    .await;
    let cache = app.cache.clone();
    let mut state = app.quit().await;

    for (id, body) in [(&ids[0], &one_line), (&ids[1], &many_lines)] {
        let id = ConversationId::new(id.clone());
        let page = provider
            .list_messages(&MessageQuery {
                conversation_id: id.clone(),
                before: None,
                after: None,
                limit: 20,
            })
            .await
            .unwrap();
        state.open = Some(id.clone());
        state.selected = Some(id.clone());
        let now = state.now;
        update(
            &mut state,
            Event::MessagesLoaded {
                conversation_id: id.clone(),
                page,
                older: false,
            },
            now,
        );
        let stored = &state
            .store
            .thread(&id)
            .unwrap()
            .messages
            .last()
            .unwrap()
            .text;
        assert_eq!(stored, body, "the store keeps it whole");
        state.focus = termdesk::app::state::Focus::Thread;
        let commands = update(
            &mut state,
            Event::Key(crossterm::event::KeyEvent::new(
                KeyCode::Char('v'),
                crossterm::event::KeyModifiers::NONE,
            )),
            now,
        );
        assert!(
            commands
                .iter()
                .any(|c| matches!(c, termdesk::app::Command::OpenPager { text } if text == body)),
            "v pages the whole message"
        );
        for (width, height) in SIZES {
            let what = format!("{width}x{height}");
            let rows = checked_rows(&draw(&mut state, width, height), &what);
            let screen = rows.join("\n");
            assert!(
                screen.contains("the message continues"),
                "{what}:\n{screen}"
            );
            assert!(screen.contains("1.0 MB"), "{what}:\n{screen}");
            assert!(!screen.contains("END"), "only the head is shown");
        }
    }
    let db = Db::open_read_only(&cache).unwrap();
    let cached = db
        .load_messages(&ConversationId::new(ids[0].clone()), None, 5)
        .unwrap();
    assert!(
        cached.iter().any(|m| m.text == one_line),
        "the cache keeps it whole"
    );
}

/// Each naughty string as a customer message of `conversation`, read back
/// through `provider`'s client and drawn in its open thread.
async fn messages_through(
    provider: &dyn Provider,
    conversation: termdesk::domain::Conversation,
    inject: impl Fn(&str),
) {
    let corpus = naughty::load();
    let id = conversation.id.clone();
    for (i, s) in naughty::all().iter().enumerate() {
        inject(s);
        let page = provider
            .list_messages(&MessageQuery {
                conversation_id: id.clone(),
                before: None,
                after: None,
                limit: 5,
            })
            .await
            .unwrap();
        assert!(
            page.items.iter().any(|m| m.text == text::sanitize(s)),
            "string {i} did not come back cleaned and whole"
        );
        for (width, height) in SIZES {
            let mut state = common::empty_state(width, height);
            let now = state.now;
            update(
                &mut state,
                Event::Sync(termdesk::app::SyncEvent::Conversations(vec![
                    conversation.clone(),
                ])),
                now,
            );
            common::key(&mut state, KeyCode::Enter);
            update(
                &mut state,
                Event::MessagesLoaded {
                    conversation_id: id.clone(),
                    page: page.clone(),
                    older: false,
                },
                now,
            );
            let what = format!("string {i} at {width}x{height}");
            let rows = checked_rows(&draw(&mut state, width, height), &what);
            let screen = rows.join("\n");
            assert!(!screen.contains("pwned"), "{what}:\n{screen}");
            if corpus.real.contains(s) {
                assert!(
                    rows.iter().any(|r| r.contains(s.as_str())),
                    "{what}: {s:?} is not on screen intact:\n{screen}"
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn naughty_strings_reach_the_screen_harmless_through_superwaba() {
    use termdesk::api::superwaba::{SuperWabaClient, SuperWabaLogin, SuperWabaOptions};
    use termdesk::sandbox::superwaba::{
        DEMO_ANON_KEY, DEMO_API_KEY, DEMO_EMAIL, DEMO_ORG_ID, DEMO_PASSWORD, SuperWabaSandbox,
        SuperWabaSandboxOptions,
    };
    let sandbox = SuperWabaSandbox::start(
        ([127, 0, 0, 1], 0).into(),
        SuperWabaSandboxOptions {
            rate_limit: 100_000,
            ..SuperWabaSandboxOptions::default()
        },
    )
    .await
    .unwrap();
    let client = SuperWabaClient::new(SuperWabaOptions {
        base_url: sandbox.base_url(),
        developer_base_url: sandbox.developer_base_url(),
        org_id: DEMO_ORG_ID.into(),
        supabase_url: sandbox.supabase_url(),
        supabase_anon_key: secrecy::SecretString::from(DEMO_ANON_KEY.to_string()),
        login: SuperWabaLogin::Password {
            email: DEMO_EMAIL.into(),
            password: secrecy::SecretString::from(DEMO_PASSWORD.to_string()),
        },
        api_key: Some(secrecy::SecretString::from(DEMO_API_KEY.to_string())),
        token_file: None,
        timeout: std::time::Duration::from_secs(10),
        requests_per_minute: 100_000,
    })
    .unwrap();
    let control = sandbox.control();
    let target = control.conversation_ids()[0].clone();
    let conversation = client
        .get_conversation(&ConversationId::new(target.clone()))
        .await
        .unwrap();
    messages_through(&client, conversation, |s| {
        control.inject_incoming_message(&target, s).unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn naughty_strings_reach_the_screen_harmless_through_dmchamp() {
    use termdesk::api::dmchamp::{DmChampClient, DmChampOptions};
    use termdesk::sandbox::dmchamp::{DEMO_API_KEY, DmChampSandbox, DmChampSandboxOptions};
    let sandbox = DmChampSandbox::start(
        ([127, 0, 0, 1], 0).into(),
        DmChampSandboxOptions {
            contacts: 10,
            rate_limit: 100_000,
            ..DmChampSandboxOptions::default()
        },
    )
    .await
    .unwrap();
    let mut options = DmChampOptions::new(
        sandbox.base_url(),
        secrecy::SecretString::from(DEMO_API_KEY.to_string()),
    );
    options.requests_per_minute = 100_000;
    let client = DmChampClient::new(options).unwrap();
    let control = sandbox.control();
    let contact = control.sample_contacts(1, Some("whatsapp"))[0].clone();
    let conversation = common::conversation(
        &contact.id,
        &contact.first_name,
        termdesk::domain::Channel::WhatsApp,
        3500,
        "",
        true,
    );
    messages_through(&client, conversation, |s| {
        control.inject_incoming_message(&contact.id, s).unwrap();
    })
    .await;
}
