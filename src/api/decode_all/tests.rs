//! Hostile text through each provider's wire decoding and mapping: the
//! domain values come out clean, the real text in them intact.

use serde_json::{Value, json};

use super::decode_all;
use crate::text::sanitize;

/// Escapes, bidi overrides and invisibles that must vanish completely.
const HOSTILE: &str = "\u{1b}[2J\u{1b}]0;pwned\u{7}\u{1b}]52;c;Y2F0\u{7}\u{9b}31m\u{202e}\u{2066}\u{200b}\u{61c}\u{feff}\u{0}\u{7f}";
/// Real text of many scripts that must survive unchanged.
const REAL: &str = "Çağrı 👩\u{200d}👩\u{200d}👧\u{200d}👦 🇹🇷 مَرْحَبًا שָׁלוֹם 日本語 é\u{301} ภาษาไทย";

fn dirty() -> String {
    format!("{HOSTILE}{REAL}{HOSTILE}")
}

fn dirty_lines() -> String {
    format!("{HOSTILE}{REAL}\r\n{REAL}{HOSTILE}")
}

/// Every text decoding produced is clean, and `REAL` (one line) and the
/// two-line text appear at least `lines`/`multi` times.
fn check(body: &Value, lines: usize, multi: usize) {
    let texts = decode_all(body.to_string().as_bytes());
    for t in &texts {
        assert_eq!(&sanitize(t), t, "not clean: {t:?}");
        assert!(!t.contains("pwned"), "escape payload leaked: {t:?}");
    }
    let two = format!("{REAL}\n{REAL}");
    let one_line = texts.iter().filter(|t| *t == REAL).count();
    let two_lines = texts.iter().filter(|t| **t == two).count();
    assert!(
        one_line >= lines,
        "{one_line} intact one-line texts: {texts:#?}"
    );
    assert!(two_lines >= multi, "{two_lines} intact texts: {texts:#?}");
}

#[test]
fn qpien_answers_come_out_clean_with_real_text_intact() {
    let d = dirty();
    let messages = json!({"data": {"getMessages": {"success": true, "code": 200, "data": {
        "totalDocs": 1, "hasNextPage": false, "docs": [{
            "_id": "m1", "conversation": "c1", "createdAt": "2025-10-01T00:00:00Z",
            "messageType": "TEXT", "senderType": "CONTACT", "content": dirty_lines(),
            "subject": d, "sender": {"_id": "s", "name": d},
            "media": [{"url": "https://x.test/a", "type": "FILE", "mimeType": d, "fileName": d, "caption": dirty_lines()}],
            "quotedMessage": {"_id": "m0", "content": dirty_lines()},
            "failedReason": {"code": d, "message": d}
        }]
    }}}});
    // Subject, sender, mime type and file name: one line each.
    check(&messages, 4, 3);

    let conversations = json!({"data": {"getConversationList": {"success": true, "code": 200, "data": {
        "totalDocs": 1, "page": 1, "hasNextPage": false, "docs": [{
            "_id": "c1", "status": d, "priority": d, "updatedAt": "2025-10-01T00:00:00Z",
            "lastMessage": {"content": d, "messageType": "TEXT", "createdAt": "2025-10-01T00:00:00Z"},
            "tags": [{"_id": "t1", "name": d, "color": d}],
            "channels": [{"_id": "ch", "name": d, "type": "WHATSAPP"}]
        }]
    }}}});
    check(&conversations, 5, 0);

    let contacts = json!({"data": {"getContactList": {"success": true, "code": 200, "data": {
        "totalDocs": 1, "hasNextPage": false, "docs": [{
            "_id": "p1", "firstName": d, "lastName": d, "username": d, "avatar": d,
            "email": d, "country": d, "language": d, "owner": d,
            "tags": [{"_id": "t1", "name": d}],
            "platforms": [{"channelType": "INSTAGRAM", "externalId": d, "username": d}]
        }]
    }}}});
    check(&contacts, 11, 0);

    let templates = json!({"data": {"getWhatsappBusinessTemplateList": {"success": true, "code": 200, "data": {
        "totalDocs": 1, "hasNextPage": false, "docs": [{
            "_id": "t1", "name": d, "language": d, "category": "MARKETING", "status": "APPROVED",
            "rejectedReason": d,
            "components": [
                {"type": "HEADER", "format": "TEXT", "text": d},
                {"type": "BODY", "text": dirty_lines()},
                {"type": "FOOTER", "text": d},
                {"type": "BUTTONS", "buttons": [{"type": "URL", "text": d, "url": "https://x.test"}]}
            ]
        }]
    }}}});
    check(&templates, 6, 1);

    // An error entry's message reaches the status bar.
    let refused = json!({"errors": [{"message": d}], "data": null});
    let texts = decode_all(refused.to_string().as_bytes());
    assert!(texts.iter().any(|t| t.contains(REAL)), "{texts:#?}");
    texts.iter().for_each(|t| assert_eq!(&sanitize(t), t));
}

#[test]
fn a_qpien_id_that_hides_text_is_no_id() {
    let conversations = json!({"data": {"getConversationList": {"success": true, "code": 200, "data": {
        "totalDocs": 1, "page": 1, "hasNextPage": false, "docs": [
            {"_id": "c\u{202e}1", "updatedAt": "2025-10-01T00:00:00Z"},
            {"_id": "c2", "updatedAt": "2025-10-01T00:00:00Z"}
        ]
    }}}});
    let texts = decode_all(conversations.to_string().as_bytes());
    assert!(texts.iter().any(|t| t == "c2"));
    assert!(!texts.iter().any(|t| t.contains("c\u{202e}1") || t == "c1"));
}

#[test]
fn superwaba_answers_come_out_clean_with_real_text_intact() {
    let d = dirty();
    let conversations = json!({"success": true, "data": {"conversations": [{
        "id": "c1", "status": d, "channel": d, "updatedAt": "2025-10-01T00:00:00Z",
        "contact": {"id": "p1", "name": d, "phone": "+905551112233"},
        "lastMessage": {"text": d, "timestamp": "2025-10-01T00:00:00Z", "direction": "inbound"}
    }]}});
    check(&conversations, 4, 0);

    let messages = json!({"success": true, "data": [
        {"id": "m1", "type": "text", "direction": "inbound", "timestamp": "2025-10-01T00:00:00Z",
         "content": {"text": dirty_lines()}},
        {"id": "m2", "type": "document", "direction": "inbound", "timestamp": "2025-10-01T00:00:00Z",
         "content": {"url": "https://x.test/f", "filename": d, "mimeType": d, "caption": dirty_lines()}},
        {"id": "m3", "type": "location", "timestamp": "2025-10-01T00:00:00Z",
         "content": {"name": d}},
        {"id": "m4", "type": d, "timestamp": "2025-10-01T00:00:00Z", "content": {"text": d}}
    ]});
    check(&messages, 4, 2);

    let contacts = json!({"success": true, "data": {"contacts": [{
        "id": "p1", "name": d, "email": d, "phone": d, "tags": [d, d]
    }]}});
    check(&contacts, 4, 0);

    let templates = json!({"success": true, "data": {"templates": [{
        "name": d, "language": d, "category": d, "status": d, "rejectedReason": d,
        "components": [
            {"type": "HEADER", "format": d, "text": d},
            {"type": "BODY", "text": dirty_lines()},
            {"type": "FOOTER", "text": d},
            {"type": "BUTTONS", "buttons": [{"type": "URL", "text": d, "url": d}]}
        ]
    }]}});
    check(&templates, 8, 1);

    let refused = json!({"success": false, "message": d});
    let texts = decode_all(refused.to_string().as_bytes());
    assert!(texts.iter().any(|t| t.contains(REAL)), "{texts:#?}");
    texts.iter().for_each(|t| assert_eq!(&sanitize(t), t));
}

#[test]
fn dmchamp_answers_and_its_book_come_out_clean_with_real_text_intact() {
    let d = dirty();
    let messages = json!({"success": true, "data": [
        {"id": "m1", "direction": "inbound", "content": dirty_lines(), "channel": d,
         "type": d, "createdAt": "2025-10-01T00:00:00Z"}
    ]});
    check(&messages, 2, 1);

    let tags = json!([{"name": d}, {"name": HOSTILE}]);
    check(&tags, 2, 0);

    let templates =
        json!({"templates": [{"id": "t1", "name": d, "status": d, "language": d, "category": d}]});
    check(&templates, 4, 0);

    // What the book file holds, as the server or a hand edit left it.
    let entry = json!({"id": "p1", "first_name": d, "last_name": d, "email": d,
        "phone": d, "tags": [d], "channel": d, "external_id": d});
    check(&entry, 7, 0);

    let refused = json!({"message": d});
    let texts = decode_all(refused.to_string().as_bytes());
    assert!(texts.iter().any(|t| t.contains(REAL)), "{texts:#?}");
    texts.iter().for_each(|t| assert_eq!(&sanitize(t), t));
}

#[test]
fn bytes_that_are_not_json_give_clean_errors() {
    for body in [
        &b"\x1b[2J<html>\xff\xfe"[..],
        b"",
        b"null",
        b"\"\\u001b]0;x\\u0007\"",
        b"{\"data\": 5}",
    ] {
        let texts = decode_all(body);
        assert!(!texts.is_empty());
        texts
            .iter()
            .for_each(|t| assert_eq!(&sanitize(t), t, "{body:?}"));
    }
}
