//! How much of a long message the thread shows. The store and the cache
//! keep every message whole; the thread lays out only its head, so a
//! megabyte-long message neither stalls a frame nor buries the thread.

use unicode_segmentation::UnicodeSegmentation;

/// Bytes of a message body the thread shows at most.
pub const SHOWN_BYTES: usize = 8 * 1024;
/// Lines of a message body the thread shows at most.
pub const SHOWN_LINES: usize = 60;
/// Cells of a one-line field (subject, file name, caption) the thread
/// shows at most: a few wrapped lines.
pub const FIELD_CELLS: usize = 400;

/// A one-line field cut for the thread.
pub fn field(value: &str) -> std::borrow::Cow<'_, str> {
    crate::text::truncate(value, FIELD_CELLS)
}

/// The head of `body` the thread shows, cut between graphemes, and the
/// note that says what was left out and how to read it all (`None` when
/// nothing was); `conversation` names the thread in that note.
pub fn shown<'a>(
    body: &'a str,
    conversation: &str,
    read_key: Option<&str>,
) -> (&'a str, Option<String>) {
    let mut end = body.len().min(SHOWN_BYTES);
    if let Some((i, _)) = body.match_indices('\n').nth(SHOWN_LINES - 1) {
        end = end.min(i);
    }
    if end >= body.len() {
        return (body, None);
    }
    // Back to the start of the grapheme that `end` falls in, so no flag,
    // family or accented letter is halved.
    let mut cut = 0;
    for (i, g) in body.grapheme_indices(true) {
        if i + g.len() > end {
            break;
        }
        cut = i + g.len();
    }
    let head = body[..cut].trim_end();
    let rest = &body[cut..];
    let read = match read_key {
        Some(key) => format!("{key} reads it whole in $PAGER"),
        None => "\"read a long message\" in the palette (:) shows it whole in $PAGER".to_string(),
    };
    let note = format!(
        "… the message continues: {} more of {} ({} lines in all); {read}, `termdesk messages {}` prints it",
        size(rest.len()),
        size(body.len()),
        body.lines().count(),
        crate::text::sanitize_line(conversation),
    );
    (head, Some(note))
}

/// Whether the thread shows only the head of `body`.
pub fn is_cut(body: &str) -> bool {
    body.len() > SHOWN_BYTES || body.match_indices('\n').nth(SHOWN_LINES - 1).is_some()
}

/// A byte count as people read it: "840 bytes", "12 KB", "1.0 MB".
pub fn size(bytes: usize) -> String {
    const KB: f64 = 1000.0;
    let b = bytes as f64;
    if b < KB {
        format!("{bytes} bytes")
    } else if b < KB * KB {
        format!("{:.0} KB", b / KB)
    } else {
        format!("{:.1} MB", b / (KB * KB))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_bodies_are_whole() {
        assert_eq!(
            shown("hello\nthere", "c1", Some("v")),
            ("hello\nthere", None)
        );
        let exactly = "x".repeat(SHOWN_BYTES);
        assert_eq!(shown(&exactly, "c1", Some("v")).1, None);
    }

    #[test]
    fn a_megabyte_line_shows_its_head_and_says_how_much_is_left() {
        let body = "ab".repeat(500_000);
        let (head, note) = shown(&body, "c1", Some("v"));
        assert_eq!(head.len(), SHOWN_BYTES);
        let note = note.unwrap();
        assert!(note.contains("of 1.0 MB"), "{note}");
        assert!(note.contains("992 KB more"), "{note}");
        assert!(note.contains("termdesk messages c1"), "{note}");
        assert!(note.contains("v reads it whole"), "{note}");
        let rebound = shown(&body, "c1", Some("Ctrl-R")).1.unwrap();
        assert!(rebound.contains("Ctrl-R reads it whole"), "{rebound}");
        let unbound = shown(&body, "c1", None).1.unwrap();
        assert!(unbound.contains("in the palette (:)"), "{unbound}");
    }

    #[test]
    fn many_lines_stop_at_the_line_limit() {
        let body = "line\n".repeat(100_000);
        let (head, note) = shown(&body, "c1", Some("v"));
        assert_eq!(head.lines().count(), SHOWN_LINES);
        assert!(note.unwrap().contains("100000 lines in all"));
    }

    #[test]
    fn the_cut_never_halves_a_grapheme() {
        let family = "👩\u{200d}👩\u{200d}👧\u{200d}👦";
        let body = family.repeat(SHOWN_BYTES);
        let (head, _) = shown(&body, "c1", Some("v"));
        assert!(head.len() <= SHOWN_BYTES);
        assert_eq!(head.len() % family.len(), 0);
        let accents = "e\u{301}".repeat(SHOWN_BYTES);
        let (head, _) = shown(&accents, "c1", Some("v"));
        assert!(head.ends_with('\u{301}'));
    }

    #[test]
    fn v_pages_the_newest_cut_message_and_a_failed_pager_is_reported() {
        use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

        use crate::app::state::{Focus, NoticeLevel};
        use crate::app::{AppState, Command, Event, SyncEvent, update};
        use crate::config::SendKey;
        use crate::domain::{Page, SenderKind};
        use crate::store::fixtures::{conversation, message, t};

        let now = t(9999);
        let mut state = AppState::new("t", "Qpien", false, SendKey::Enter, now, (80, 24));
        let conversations = vec![conversation("a", 10, true)];
        update(
            &mut state,
            Event::Sync(SyncEvent::Conversations(conversations)),
            now,
        );
        state.open = Some("a".into());
        state.focus = Focus::Thread;
        let v = || Event::Key(KeyEvent::new(KeyCode::Char('v'), KeyModifiers::NONE));
        let load = |items| Event::MessagesLoaded {
            conversation_id: "a".into(),
            page: Page::last(items),
            older: false,
        };

        update(
            &mut state,
            load(vec![message("a", "m0", 1, SenderKind::Contact, "short")]),
            now,
        );
        assert!(update(&mut state, v(), now).is_empty());
        assert_eq!(state.notice.as_ref().unwrap().level, NoticeLevel::Info);

        let long = "word ".repeat(5_000);
        update(
            &mut state,
            load(vec![
                message("a", "m1", 2, SenderKind::Contact, &long),
                message("a", "m2", 3, SenderKind::Contact, "short"),
            ]),
            now,
        );
        let commands = update(&mut state, v(), now);
        assert!(
            matches!(&commands[..], [Command::OpenPager { text }] if *text == long),
            "{commands:?}"
        );
        update(
            &mut state,
            Event::PagerClosed(Err("less exited with 1".into())),
            now,
        );
        assert_eq!(state.notice.as_ref().unwrap().level, NoticeLevel::Error);
    }

    #[test]
    fn sizes_read_plainly() {
        assert_eq!(size(840), "840 bytes");
        assert_eq!(size(12_345), "12 KB");
        assert_eq!(size(1_048_576), "1.0 MB");
    }
}
