//! Snapshots of the template picker (choosing a template or a canned
//! reply, filling one in), of the WhatsApp reply window above the
//! composer and of the window's badges in the list, at 80x24 and 200x50;
//! and the same states at tiny sizes, which must not panic.

mod common;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui_textarea::{CursorMove, TextArea};

use termdesk::app::state::Overlay;
use termdesk::app::template_picker::{Fill, PickerTab, SendTarget, TemplatePicker};
use termdesk::app::{AppState, Event, SyncEvent, update};
use termdesk::canned::{self, CannedReply};
use termdesk::domain::*;
use termdesk::ui;

use common::{conversation, now, state};

const SIZES: [(u16, u16); 2] = [(80, 24), (200, 50)];
const TINY: [(u16, u16); 4] = [(20, 5), (10, 3), (1, 1), (0, 0)];

fn render(state: &AppState, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| ui::draw(frame, state)).unwrap();
    terminal.backend().to_string()
}

/// Draws without reading the screen back: the test backend cannot print
/// a screen with no columns.
fn draw_only(state: &AppState, width: u16, height: u16) {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| ui::draw(frame, state)).unwrap();
}

fn button(kind: &str, text: &str, url: Option<&str>) -> TemplateButton {
    TemplateButton {
        kind: kind.into(),
        text: text.into(),
        url: url.map(str::to_string),
    }
}

fn template(name: &str, language: &str, category: &str, body: &str) -> Template {
    Template {
        id: TemplateId::new(format!("{name}-{language}")),
        name: name.into(),
        language: language.into(),
        category: Some(category.into()),
        status: TemplateStatus::Approved,
        channel_id: None,
        header: None,
        header_format: None,
        body: body.into(),
        footer: None,
        buttons: Vec::new(),
        rejected_reason: None,
    }
}

fn order_shipped() -> Template {
    let mut t = template(
        "order_shipped",
        "en",
        "UTILITY",
        "Hi {{1}}, your order {{2}} left our warehouse today.\nIt should arrive within 2 days.",
    );
    t.header = Some("Order {{1}} is on its way".into());
    t.header_format = Some("TEXT".into());
    t.footer = Some("Reply STOP to opt out".into());
    t.buttons = vec![
        button("URL", "Track order", Some("https://shop.example/t/{{1}}")),
        button("QUICK_REPLY", "Thanks!", None),
    ];
    t
}

fn receipt() -> Template {
    let mut t = template(
        "payment_receipt",
        "en",
        "UTILITY",
        "Your receipt for order {{1}} is attached. Thank you for shopping with us!",
    );
    t.header_format = Some("DOCUMENT".into());
    t
}

fn winback() -> Template {
    let mut t = template(
        "winback_offer",
        "en",
        "MARKETING",
        "We miss you, {{1}}! Here is 10% off your next order: {{2}}",
    );
    t.status = TemplateStatus::Pending;
    t
}

fn spring_sale() -> Template {
    let mut t = template(
        "spring_sale",
        "tr",
        "MARKETING",
        "Bahar indirimi başladı! Tüm ürünlerde %20 indirim.",
    );
    t.status = TemplateStatus::Rejected;
    t.rejected_reason = Some("Promotional content is not allowed in this category.".into());
    t
}

fn templates() -> Vec<Template> {
    let mut tr = template(
        "order_shipped",
        "tr",
        "UTILITY",
        "Merhaba {{1}}, {{2}} numaralı siparişiniz bugün kargoya verildi.",
    );
    tr.footer = Some("Durdurmak için STOP yazın".into());
    vec![
        winback(),
        order_shipped(),
        spring_sale(),
        tr,
        receipt(),
        template(
            "appointment_reminder",
            "en",
            "UTILITY",
            "Reminder: your appointment is on {{date}} at {{time}}.",
        ),
    ]
}

fn example_canned() -> Vec<CannedReply> {
    canned::parse(include_str!("../assets/canned_replies.example.toml")).unwrap()
}

fn deniz() -> Contact {
    let mut contact = Contact::named("contact-c1", "Deniz");
    contact.last_name = Some("Yılmaz".into());
    contact.phone = Some("+905321234567".into());
    contact
}

/// c1 (Deniz, WhatsApp, wrote 10 s ago) open, Deniz's card loaded and Ada
/// as the agent.
fn base(width: u16, height: u16) -> AppState {
    let mut state = state(width, height, true);
    state.contact_cards.put(deniz());
    state.me = Some(AgentId::new("agent-1"));
    state
}

fn picker_for(state: &AppState, canned: Vec<CannedReply>, error: Option<String>) -> TemplatePicker {
    let target = SendTarget::Conversation(state.open.clone().unwrap());
    TemplatePicker::new(target, templates(), canned, error)
}

fn open(state: &mut AppState, picker: TemplatePicker) {
    state.overlays.push(Overlay::Templates(Box::new(picker)));
}

fn typed(value: &str) -> TextArea<'static> {
    let mut area = TextArea::new(vec![value.to_string()]);
    area.set_cursor_line_style(ratatui::style::Style::default());
    area.move_cursor(CursorMove::End);
    area
}

fn select(picker: &mut TemplatePicker, name: &str, language: &str) {
    let position = picker
        .list
        .matches
        .iter()
        .position(|&i| {
            let key: usize = picker.list.items[i].key.parse().unwrap();
            match picker.tab {
                PickerTab::Templates => {
                    picker.templates[key].name == name && picker.templates[key].language == language
                }
                PickerTab::Canned => picker.canned[key].name == name,
            }
        })
        .unwrap_or_else(|| panic!("{name} is not listed"));
    picker.list.selected = position;
}

fn snapshot_and_tiny(name: &str, build: impl Fn(u16, u16) -> AppState) {
    for (w, h) in SIZES {
        let state = build(w, h);
        assert!(matches!(state.overlay(), Some(Overlay::Templates(_))));
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), render(&state, w, h));
    }
    for (w, h) in TINY {
        draw_only(&build(w, h), w, h);
    }
}

#[test]
fn choosing_a_template() {
    snapshot_and_tiny("choosing", |w, h| {
        let mut state = base(w, h);
        let mut picker = picker_for(&state, example_canned(), None);
        select(&mut picker, "order_shipped", "en");
        open(&mut state, picker);
        state
    });
}

#[test]
fn filtered_by_a_query_and_the_language() {
    snapshot_and_tiny("choosing_filtered", |w, h| {
        let mut state = base(w, h);
        let mut picker = picker_for(&state, example_canned(), None);
        // Languages cycle all → en → tr.
        picker.cycle_language();
        picker.cycle_language();
        picker.list.set_query("ship".into());
        open(&mut state, picker);
        state
    });
}

#[test]
fn a_template_that_cannot_be_sent() {
    snapshot_and_tiny("not_approved", |w, h| {
        let mut state = base(w, h);
        let mut picker = picker_for(&state, example_canned(), None);
        select(&mut picker, "spring_sale", "tr");
        open(&mut state, picker);
        state
    });
}

/// Header and first body value filled, the order number missing and the
/// agent told so; the tracking link's value filled.
fn filling(w: u16, h: u16) -> AppState {
    let mut state = base(w, h);
    let mut picker = picker_for(&state, example_canned(), None);
    select(&mut picker, "order_shipped", "en");
    let mut fill = Fill::for_template(order_shipped(), Some(&deniz()), &["A-1042".into()]);
    assert_eq!(fill.fields.len(), 4);
    fill.fields[1] = typed("Deniz");
    fill.fields[3] = typed("A-1042");
    fill.focused = 2;
    fill.error = Some("Fill in {{2}} before sending.".into());
    picker.fill = Some(fill);
    open(&mut state, picker);
    state
}

#[test]
fn filling_a_template_with_a_value_missing() {
    snapshot_and_tiny("filling", filling);
}

#[test]
fn filling_with_the_focused_value_typed_and_suggestions() {
    snapshot_and_tiny("filling_suggestions", |w, h| {
        let mut state = filling(w, h);
        if let Some(Overlay::Templates(picker)) = state.overlays.last_mut() {
            let fill = picker.fill.as_mut().unwrap();
            fill.focused = 1;
            fill.fields[2] = typed("A-1042");
            fill.error = None;
        }
        state
    });
}

#[test]
fn a_media_header_template() {
    snapshot_and_tiny("filling_media", |w, h| {
        let mut state = base(w, h);
        let mut picker = picker_for(&state, example_canned(), None);
        select(&mut picker, "payment_receipt", "en");
        let mut fill = Fill::for_template(receipt(), Some(&deniz()), &[]);
        fill.fields[0] = typed("cdn.shop.example/receipts/A-1042.pdf");
        fill.fields[1] = typed("A-1042");
        fill.error = Some("Header document URL must start with https://".into());
        picker.fill = Some(fill);
        open(&mut state, picker);
        state
    });
}

#[test]
fn the_canned_tab_with_a_reply_and_its_blanks() {
    snapshot_and_tiny("canned", |w, h| {
        let mut state = base(w, h);
        let mut picker = picker_for(&state, example_canned(), None);
        picker.switch_tab();
        select(&mut picker, "Order shipped", "");
        open(&mut state, picker);
        state
    });
}

#[test]
fn filling_the_blanks_of_a_canned_reply() {
    snapshot_and_tiny("canned_filling", |w, h| {
        let mut state = base(w, h);
        let mut picker = picker_for(&state, example_canned(), None);
        picker.switch_tab();
        select(&mut picker, "Order shipped", "");
        let reply = picker.current_canned().unwrap().clone();
        let contact = deniz();
        let mut fill = Fill::for_canned(reply, Some(&contact), None);
        assert_eq!(fill.fields.len(), 2, "order number and tracking link");
        fill.fields[0] = typed("A-1042");
        fill.focused = 1;
        picker.fill = Some(fill);
        open(&mut state, picker);
        state
    });
}

#[test]
fn no_canned_replies_and_the_file_could_not_be_read() {
    snapshot_and_tiny("canned_empty", |w, h| {
        let mut state = base(w, h);
        let mut picker = picker_for(
            &state,
            Vec::new(),
            Some(
                "/home/deniz/.config/termdesk/canned_replies.toml: line 3: \
                 expected `=`, found newline"
                    .into(),
            ),
        );
        picker.switch_tab();
        open(&mut state, picker);
        state
    });
}

#[test]
fn window_closed_templates_only() {
    snapshot_and_tiny("window_note", |w, h| {
        let mut state = base(w, h);
        let mut picker = picker_for(&state, example_canned(), None);
        picker.window_note = Some(
            "More than 24 h since the customer last wrote: WhatsApp allows only an approved \
             template."
                .into(),
        );
        open(&mut state, picker);
        state
    });
}

/// WhatsApp conversations in every state of the reply window, at a fixed
/// time: just written, closing in 5h12m, closing in 42m, closed, and one
/// whose customer's last message is not known (no badge).
fn windows(width: u16, height: u16) -> AppState {
    let mut state = state(width, height, false);
    let hour = 3600;
    let wrote = |minutes_left: i64| 3600 - 24 * hour + minutes_left * 60;
    let items = vec![
        conversation(
            "w1",
            "Selin Acar",
            Channel::WhatsApp,
            wrote(5 * 60 + 12),
            "Kargo ne zaman gelir?",
            true,
        ),
        conversation(
            "w2",
            "Burak Öztürk",
            Channel::WhatsApp,
            wrote(42),
            "Tamam, teşekkürler",
            true,
        ),
        conversation(
            "w3",
            "Elif Şahin",
            Channel::WhatsApp,
            3600 - 30 * hour,
            "İade nasıl yapılır?",
            true,
        ),
        conversation(
            "w4",
            "Can Demir",
            Channel::WhatsApp,
            3000,
            "We'll get back to you shortly.",
            false,
        ),
    ];
    update(
        &mut state,
        Event::Sync(SyncEvent::Conversations(items)),
        now(),
    );
    state
}

#[test]
fn list_rows_show_the_reply_window() {
    for (w, h) in SIZES.into_iter().chain([(120, 30)]) {
        let state = windows(w, h);
        insta::assert_snapshot!(format!("badges_{w}x{h}"), render(&state, w, h));
    }
    for (w, h) in TINY {
        draw_only(&windows(w, h), w, h);
    }
}

/// Conversation `id` open with its thread loaded.
fn open_conversation(state: &mut AppState, id: &str) {
    state.open = Some(ConversationId::new(id));
    update(
        state,
        Event::MessagesLoaded {
            conversation_id: ConversationId::new(id),
            page: Page {
                items: vec![common::message(
                    id,
                    &format!("{id}-m1"),
                    3600 - 30 * 3600,
                    SenderKind::Contact,
                    "Elif Şahin",
                    "İade nasıl yapılır?",
                )],
                next: None,
                total: None,
                skipped: 0,
            },
            older: false,
        },
        now(),
    );
}

#[test]
fn the_composer_says_when_free_text_is_blocked() {
    for (w, h) in SIZES {
        let mut state = windows(w, h);
        open_conversation(&mut state, "w3");
        assert!(
            !state
                .store
                .reply_window(&ConversationId::new("w3"), state.now)
                .allows_free_text()
        );
        insta::assert_snapshot!(format!("composer_closed_{w}x{h}"), render(&state, w, h));
    }
    for (w, h) in TINY {
        let mut state = windows(w, h);
        open_conversation(&mut state, "w3");
        draw_only(&state, w, h);
    }
}

#[test]
fn the_composer_counts_down_the_open_window() {
    for (w, h) in SIZES {
        let mut state = windows(w, h);
        state.open = Some(ConversationId::new("w1"));
        insta::assert_snapshot!(format!("composer_open_{w}x{h}"), render(&state, w, h));
    }
}

#[test]
fn nothing_to_fill_nothing_matching_and_hostile_text() {
    let mut hostile = template(
        "promo\u{1b}[31m",
        "en",
        "MARKETING\u{7}",
        "Hi {{1}}\u{1b}[2J, \u{1b}]0;pwned\u{7}welcome",
    );
    hostile.footer = Some("foot\u{9b}31mer".into());
    hostile.buttons = vec![button(
        "URL",
        "Go\u{1b}[1m",
        Some("https://x.example/{{1}}"),
    )];
    for (w, h) in SIZES {
        let mut state = base(w, h);
        let target = SendTarget::Conversation(state.open.clone().unwrap());
        let mut picker = TemplatePicker::new(target, vec![hostile.clone()], Vec::new(), None);
        let screen = {
            open(&mut state, picker.clone());
            render(&state, w, h)
        };
        assert!(!screen.contains('\u{1b}') && !screen.contains('\u{7}'));
        assert!(screen.contains("Hi {{1}}, welcome"), "{screen}");

        picker.list.set_query("zzz".into());
        state.overlays.pop();
        open(&mut state, picker.clone());
        assert!(render(&state, w, h).contains("Nothing matches “zzz”."));

        let mut plain = template("thanks", "en", "UTILITY", "Thank you for your order!");
        plain.buttons.clear();
        picker.fill = Some(Fill::for_template(plain, None, &[]));
        state.overlays.pop();
        open(&mut state, picker);
        let screen = render(&state, w, h);
        assert!(screen.contains("No values to fill"), "{screen}");
        assert!(screen.contains("Ctrl-S send · Esc back"), "{screen}");
    }
}

/// Where ASCII `needle` starts on the screen, last match first.
fn find(terminal: &Terminal<TestBackend>, needle: &str) -> Option<(u16, u16)> {
    let buffer = terminal.backend().buffer();
    let area = buffer.area;
    let chars: Vec<String> = needle.chars().map(|c| c.to_string()).collect();
    for y in (0..area.height).rev() {
        for x in 0..area.width.saturating_sub(chars.len() as u16 - 1) {
            if chars
                .iter()
                .enumerate()
                .all(|(i, c)| buffer[(x + i as u16, y)].symbol() == c)
            {
                return Some((x, y));
            }
        }
    }
    None
}

#[test]
fn missing_values_filled_values_and_closed_windows_stand_out() {
    use ratatui::style::Color;
    let state = filling(200, 50);
    let mut terminal = Terminal::new(TestBackend::new(200, 50)).unwrap();
    terminal.draw(|frame| ui::draw(frame, &state)).unwrap();
    let buffer = terminal.backend().buffer().clone();
    let (x, y) = find(&terminal, "{{2}} left").expect("the missing value in the preview");
    assert_eq!(buffer[(x, y)].bg, Color::Yellow);
    assert_ne!(
        buffer[(x + 6, y)].bg,
        Color::Yellow,
        "the text after it is plain"
    );
    let (x, y) = find(&terminal, "Deniz, your").expect("the filled value");
    assert_eq!(buffer[(x, y)].fg, Color::LightCyan);

    let state = windows(120, 30);
    let mut terminal = Terminal::new(TestBackend::new(120, 30)).unwrap();
    terminal.draw(|frame| ui::draw(frame, &state)).unwrap();
    let (x, y) = find(&terminal, "closed WA").expect("the closed badge");
    assert_eq!(terminal.backend().buffer()[(x, y)].fg, Color::Yellow);
}
