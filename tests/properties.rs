//! Properties of the text pipeline: the sanitizer, truncation and
//! wrapping, and every provider's decoding of arbitrary answers.

mod naughty;

use proptest::prelude::*;
use serde_json::{Map, Value};
use unicode_segmentation::UnicodeSegmentation;

use termdesk::api::decode_all::decode_all;
use termdesk::text::{sanitize, sanitize_line, truncate, truncate_start, width, wrap, wrap_words};

/// What the sanitizer must never let through, besides C0/C1 controls.
fn forbidden(c: char) -> bool {
    matches!(c,
        '\u{ad}' | '\u{61c}' | '\u{180e}' | '\u{200b}' | '\u{200e}' | '\u{200f}'
        | '\u{2060}'..='\u{2064}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        | '\u{feff}' | '\u{fff9}'..='\u{fffb}' | '\u{fffe}' | '\u{ffff}'
        | '\u{3164}' | '\u{ffa0}')
}

/// Checks `out` as the sanitizer's output; tag characters are allowed only
/// right after a black flag or another tag (a subdivision flag).
fn assert_clean(out: &str, keep_newlines: bool) {
    let mut previous = None;
    for c in out.chars() {
        assert!(c != '\u{1b}', "ESC in {out:?}");
        if c == '\n' {
            assert!(keep_newlines, "a line break in a one-line field: {out:?}");
        } else {
            assert!(!c.is_control(), "control {c:?} in {out:?}");
        }
        assert!(!forbidden(c), "{c:?} in {out:?}");
        if ('\u{e0000}'..='\u{e007f}').contains(&c) {
            let in_flag = matches!(previous, Some('\u{1f3f4}'))
                || previous.is_some_and(|p: char| ('\u{e0020}'..='\u{e007e}').contains(&p));
            assert!(in_flag, "a tag character outside a flag in {out:?}");
        }
        previous = Some(c);
    }
}

/// Text with plenty of what strangers send: escapes, controls, bidi,
/// invisibles, tags, flags, combining marks, wide characters.
fn hostile_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        any::<char>().prop_map(String::from),
        Just("\u{1b}".to_string()),
        Just("\u{1b}[".to_string()),
        Just("\u{1b}]".to_string()),
        Just("\u{7}".to_string()),
        Just("\u{1b}\\".to_string()),
        Just("\u{9b}".to_string()),
        Just("\u{9d}".to_string()),
        Just("\u{9c}".to_string()),
        Just("\r\n".to_string()),
        Just("\n".to_string()),
        Just("\t".to_string()),
        Just("\u{202e}".to_string()),
        Just("\u{2066}".to_string()),
        Just("\u{200b}".to_string()),
        Just("\u{200d}".to_string()),
        Just("\u{301}".to_string()),
        Just("\u{1f3f4}".to_string()),
        Just("\u{e0067}".to_string()),
        Just("\u{e007f}".to_string()),
        Just("🇹🇷".to_string()),
        Just("👩\u{200d}👩\u{200d}👧".to_string()),
        Just("日本".to_string()),
        Just("مَ".to_string()),
        Just(" ".to_string()),
        "[a-z0-9;?]{1,4}",
    ];
    prop::collection::vec(piece, 0..40).prop_map(|p| p.concat())
}

/// Ordinary printable text of a few scripts, one line, no edge spaces.
fn plain_line() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9çğıöşüÇĞİÖŞÜéàñ日本語中文한국어абвгдΩλ.,!?'()\\-]([a-zA-Z0-9 çğıöşüÇĞİÖŞÜéàñ日本語中文한국어абвгдΩλ.,!?'()\\-]{0,40}[a-zA-Z0-9çğıöşüé日本語.!?])?"
}

/// Graphemes of `line` that take cells.
fn drawn(line: &str) -> usize {
    line.graphemes(true).filter(|g| width(g) > 0).count()
}

proptest! {
    #[test]
    fn sanitized_text_is_clean_and_stable(s in hostile_text()) {
        let out = sanitize(&s);
        assert_clean(&out, true);
        prop_assert_eq!(sanitize(&out), out.clone());
        let line = sanitize_line(&s);
        assert_clean(&line, false);
        prop_assert_eq!(sanitize_line(&line), line.clone());
        prop_assert_eq!(line.trim(), line.as_str());
    }

    #[test]
    fn any_string_at_all_sanitizes_clean(s in any::<String>()) {
        let out = sanitize(&s);
        assert_clean(&out, true);
        prop_assert_eq!(sanitize(&out), out.clone());
        assert_clean(&sanitize_line(&s), false);
    }

    #[test]
    fn plain_text_is_unchanged(a in plain_line(), b in plain_line()) {
        prop_assert_eq!(sanitize_line(&a), a.clone());
        let two = format!("{a}\n{b}");
        prop_assert_eq!(sanitize(&two), two.clone());
    }

    #[test]
    fn truncation_fits_and_keeps_graphemes_whole(s in hostile_text(), max in 0usize..30) {
        let s = sanitize_line(&s);
        let cut = truncate(&s, max);
        prop_assert!(width(&cut) <= max, "{:?} is wider than {}", cut, max);
        let kept = cut.strip_suffix('…').unwrap_or(&cut);
        prop_assert!(s.starts_with(kept));
        prop_assert!(kept.is_empty() || s.grapheme_indices(true).any(|(i, _)| i == kept.len()) || kept.len() == s.len());

        let end = truncate_start(&s, max);
        prop_assert!(width(&end) <= max, "{:?} is wider than {}", end, max);
        let kept = end.strip_prefix('…').unwrap_or(&end);
        prop_assert!(s.ends_with(kept));
        let start = s.len() - kept.len();
        prop_assert!(start == 0 || start == s.len() || s.grapheme_indices(true).any(|(i, _)| i == start));
    }

    #[test]
    fn wrapping_fits_and_loses_nothing(s in hostile_text(), max in 1usize..30) {
        let s = sanitize(&s);
        let visible = |t: &str| -> Vec<String> {
            t.graphemes(true)
                .filter(|g| !g.trim().is_empty())
                .map(str::to_string)
                .collect()
        };
        let lines = wrap(&s, max);
        for line in &lines {
            // A single grapheme wider than the line cannot be split.
            prop_assert!(
                width(line) <= max || drawn(line) == 1,
                "{:?} is wider than {}", line, max
            );
        }
        let joined: Vec<String> = lines.iter().flat_map(|l| visible(l)).collect();
        prop_assert_eq!(joined, visible(&s));

        let line = sanitize_line(&s);
        let words = wrap_words(&line, max);
        for w in &words {
            prop_assert!(width(w) <= max || drawn(w) == 1, "{:?}", w);
        }
        let joined: Vec<String> = words.iter().flat_map(|l| visible(l)).collect();
        prop_assert_eq!(joined, visible(&line));
    }

    #[test]
    fn arbitrary_bytes_decode_to_clean_text(body in prop::collection::vec(any::<u8>(), 0..400)) {
        for text in decode_all(&body) {
            prop_assert_eq!(sanitize(&text), text.clone());
        }
    }

    #[test]
    fn arbitrary_json_decodes_to_clean_text(value in json()) {
        let body = serde_json::to_vec(&value).unwrap();
        for text in decode_all(&body) {
            prop_assert_eq!(sanitize(&text), text.clone());
        }
    }
}

/// Field names the decoders look for, so arbitrary JSON reaches them.
const KEYS: &[&str] = &[
    "data",
    "docs",
    "_id",
    "id",
    "content",
    "message",
    "messages",
    "success",
    "errors",
    "code",
    "name",
    "text",
    "tags",
    "contacts",
    "conversations",
    "templates",
    "type",
    "createdAt",
    "updatedAt",
    "timestamp",
    "status",
    "firstName",
    "lastName",
    "contact",
    "lastMessage",
    "components",
    "buttons",
    "getMessages",
    "getConversationList",
    "getContactList",
    "getCustomerPersonList",
    "getWhatsappBusinessTemplateList",
    "getAllConnectedPlatformList",
    "hasNextPage",
    "totalDocs",
    "path",
    "extensions",
    "contactId",
    "messageId",
    "first_name",
    "email",
    "phone",
    "channel",
    "direction",
];

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        hostile_text().prop_map(Value::String),
        Just(Value::String("2025-10-01T00:00:00Z".into())),
        Just(Value::Bool(true)),
    ];
    leaf.prop_recursive(5, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..8).prop_map(|fields| {
                Value::Object(
                    fields
                        .into_iter()
                        .map(|(k, v)| (k.to_string(), v))
                        .collect::<Map<_, _>>(),
                )
            }),
        ]
    })
}

#[test]
fn every_naughty_string_sanitizes_clean_and_real_text_survives() {
    let corpus = naughty::load();
    for s in corpus.hostile.iter().chain(&corpus.real) {
        let out = sanitize(s);
        assert_clean(&out, true);
        assert_eq!(sanitize(&out), out);
        assert_clean(&sanitize_line(s), false);
        assert!(!out.contains("pwned"), "{s:?}");
    }
    for s in &corpus.real {
        assert_eq!(&sanitize(s), s);
        assert_eq!(&sanitize_line(s), s);
    }
    for s in corpus.hostile.iter().chain(&corpus.real) {
        for text in decode_all(serde_json::json!({ "message": s }).to_string().as_bytes()) {
            assert_eq!(sanitize(&text), text);
        }
    }
}
