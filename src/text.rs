//! Untrusted text: everything that came over the network passes through
//! [`sanitize`] or [`sanitize_line`] at the provider edge, before it can reach
//! the terminal. Also width-aware truncation and wrapping for the panes.

use std::borrow::Cow;

use unicode_normalization::char::is_combining_mark;
use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

/// Strips escape sequences and control characters; keeps `\n`, turns tabs
/// into spaces and `\r\n` / lone `\r` into `\n`.
pub fn sanitize(input: &str) -> String {
    clean(input, false)
}

/// "resolve" → "Resolve", for labels that start a sentence.
pub fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Like [`sanitize`] for one-line fields (names, subjects, previews): line
/// breaks become single spaces.
pub fn sanitize_line(input: &str) -> String {
    clean(input, true)
}

fn clean(input: &str, single_line: bool) -> String {
    let mut out = String::with_capacity(input.len());
    let mut chars = input.chars().peekable();
    let mut pending_space = false;
    // Tag characters are kept only inside a subdivision flag (🏴 + tags),
    // where they are the flag; anywhere else they hide text.
    let mut in_flag = false;
    // Once a string sequence finds no terminator, none after it will either:
    // remembering that keeps a message full of introducers linear.
    let mut unterminated = false;
    let mut marks = 0;
    while let Some(c) = chars.next() {
        let flag_part = in_flag && ('\u{e0020}'..='\u{e007f}').contains(&c);
        in_flag = c == '\u{1f3f4}' || (flag_part && c != '\u{e007f}');
        match c {
            c if flag_part => out.push(c),
            '\u{1b}' => skip_escape(&mut chars, &mut unterminated),
            // C1 CSI / OSC / DCS / SOS / PM / APC introducers carry sequences too.
            '\u{9b}' => skip_csi_body(&mut chars),
            '\u{90}' | '\u{9d}' | '\u{98}' | '\u{9e}' | '\u{9f}' => {
                skip_string_body(&mut chars, &mut unterminated)
            }
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    continue;
                }
                push_break(&mut out, single_line, &mut pending_space);
            }
            '\n' | '\u{2028}' | '\u{2029}' | '\u{85}' => {
                push_break(&mut out, single_line, &mut pending_space)
            }
            '\t' => out.push(' '),
            c if is_unsafe(c) => {}
            // A flood of combining marks piles up above and below the line.
            c if is_combining_mark(c) && marks >= MAX_MARKS => {}
            c => {
                marks = if is_combining_mark(c) { marks + 1 } else { 0 };
                if pending_space {
                    if !out.is_empty() && !out.ends_with(' ') && c != ' ' {
                        out.push(' ');
                    }
                    pending_space = false;
                }
                out.push(c);
            }
        }
    }
    if single_line {
        let trimmed = out.trim();
        if trimmed.len() != out.len() {
            return trimmed.to_string();
        }
    }
    out
}

/// Combining marks kept on one character: enough for any script's
/// stacked accents and vowel signs, too few to draw over other lines.
const MAX_MARKS: usize = 8;

fn push_break(out: &mut String, single_line: bool, pending_space: &mut bool) {
    if single_line {
        *pending_space = true;
    } else {
        out.push('\n');
    }
}

/// Characters that move the cursor, change terminal state, reorder text
/// or hide it. Zero-width joiners stay: emoji sequences need them.
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{ad}'                            // soft hyphen
            | '\u{61c}'                         // Arabic letter mark
            | '\u{180e}'                        // Mongolian vowel separator
            | '\u{200b}'                        // zero-width space
            | '\u{200e}' | '\u{200f}'            // LRM / RLM
            | '\u{2060}'..='\u{2064}'          // word joiner, invisible operators
            | '\u{e0000}'..='\u{e007f}'        // tag characters
            | '\u{202a}'..='\u{202e}'          // bidi embeddings and overrides
            | '\u{2066}'..='\u{2069}'          // bidi isolates
            | '\u{feff}'                       // BOM / zero-width no-break space
            | '\u{fff9}'..='\u{fffb}'          // interlinear annotation
            | '\u{115f}' | '\u{1160}' | '\u{3164}' | '\u{ffa0}' // Hangul fillers: blank names
            | '\u{17b4}' | '\u{17b5}'            // Khmer invisible vowels
            | '\u{1bca0}'..='\u{1bca3}'        // shorthand format controls
            | '\u{1d173}'..='\u{1d17a}'        // musical format controls
        )
        || is_noncharacter(c)
}

/// U+FDD0..U+FDEF and the last two code points of every plane: never text.
fn is_noncharacter(c: char) -> bool {
    ('\u{fdd0}'..='\u{fdef}').contains(&c) || (c as u32 & 0xfffe) == 0xfffe
}

fn skip_escape(chars: &mut std::iter::Peekable<std::str::Chars<'_>>, unterminated: &mut bool) {
    match chars.next() {
        Some('[') => skip_csi_body(chars),
        Some(']') | Some('P') | Some('X') | Some('^') | Some('_') => {
            skip_string_body(chars, unterminated)
        }
        // Character-set selection and similar take one more byte.
        Some('(') | Some(')') | Some('*') | Some('+') | Some('#') | Some('%') => {
            chars.next();
        }
        _ => {}
    }
}

fn skip_csi_body(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    // Parameters and intermediates, then one final byte in 0x40..=0x7e. A
    // malformed sequence ends before the first character that fits neither,
    // which stays as text.
    while let Some(&c) = chars.peek() {
        if ('\u{40}'..='\u{7e}').contains(&c) {
            chars.next();
            break;
        }
        if !('\u{20}'..='\u{3f}').contains(&c) {
            break;
        }
        chars.next();
    }
}

fn skip_string_body(chars: &mut std::iter::Peekable<std::str::Chars<'_>>, unterminated: &mut bool) {
    // Ends at BEL, ST (ESC \) or the C1 ST. Without one, only the
    // introducer goes: the rest of the message stays, cleaned as text.
    *unterminated = *unterminated
        || !chars
            .clone()
            .any(|c| matches!(c, '\u{7}' | '\u{9c}' | '\u{1b}'));
    if *unterminated {
        return;
    }
    while let Some(c) = chars.next() {
        match c {
            '\u{7}' | '\u{9c}' => break,
            '\u{1b}' => {
                if chars.peek() == Some(&'\\') {
                    chars.next();
                }
                break;
            }
            _ => {}
        }
    }
}

/// Converts an HTML body to readable text, then sanitizes it.
pub fn html_to_text(html: &str, width: usize) -> String {
    let rendered = html2text::config::plain()
        .string_from_read(html.as_bytes(), width.max(20))
        .unwrap_or_else(|_| html.to_string());
    let text = sanitize(&rendered);
    let trimmed: Vec<&str> = text.lines().map(str::trim_end).collect();
    trimmed.join("\n").trim().to_string()
}

/// Display width in terminal cells.
pub fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// The end of `s` in at most `max` cells, starting with `…` when cut:
/// the part of a filter being typed is its end.
pub fn truncate_start(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let mut kept = Vec::new();
    let mut used = 0;
    for g in s.graphemes(true).rev() {
        let w = width(g);
        if used + w > max - 1 {
            break;
        }
        kept.push(g);
        used += w;
    }
    let mut out = String::from("…");
    out.extend(kept.into_iter().rev());
    out
}

/// Cuts `s` to at most `max` cells, ending in `…` when cut. Never splits a
/// grapheme cluster.
pub fn truncate(s: &str, max: usize) -> Cow<'_, str> {
    if width(s) <= max {
        return Cow::Borrowed(s);
    }
    if max == 0 {
        return Cow::Borrowed("");
    }
    let mut out = String::new();
    let mut used = 0;
    for g in s.graphemes(true) {
        let w = width(g);
        if used + w > max - 1 {
            break;
        }
        out.push_str(g);
        used += w;
    }
    out.push('…');
    Cow::Owned(out)
}

/// The words of `s` between spaces. A space that a combining mark or
/// joiner follows is part of that grapheme, not a break.
fn words(s: &str) -> impl Iterator<Item = &str> {
    let mut start = 0;
    let mut bounds = s
        .grapheme_indices(true)
        .filter(|(_, g)| *g == " ")
        .map(|(i, _)| i)
        .chain(std::iter::once(s.len()));
    std::iter::from_fn(move || {
        loop {
            let end = bounds.next()?;
            let word = &s[start..end];
            start = (end + 1).min(s.len());
            if !word.is_empty() {
                return Some(word);
            }
        }
    })
}

/// Wraps at spaces only, so punctuation stays with its word ("Yılmaz?");
/// a word wider than the line is broken as `wrap` breaks it.
pub fn wrap_words(message: &str, max: usize) -> Vec<String> {
    let max = max.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in words(message) {
        let needed = width(&line) + usize::from(!line.is_empty()) + width(word);
        if needed <= max {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        if width(word) <= max {
            line.push_str(word);
        } else {
            let mut pieces = wrap(word, max);
            line = pieces.pop().unwrap_or_default();
            lines.extend(pieces);
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// Wraps text to `max` cells per line: at spaces where possible, inside a
/// word (by grapheme) when a word is wider than the line. Explicit line
/// breaks are kept; empty lines survive.
pub fn wrap(s: &str, max: usize) -> Vec<String> {
    let max = max.max(1);
    let mut lines = Vec::new();
    for paragraph in s.split('\n') {
        let mut line = String::new();
        let mut line_width = 0;
        for word in paragraph.split_word_bounds() {
            let w = width(word);
            if line_width + w <= max {
                line.push_str(word);
                line_width += w;
                continue;
            }
            if word.trim().is_empty() {
                // A space at the break point is dropped, not carried over.
                lines.push(std::mem::take(&mut line).trim_end().to_string());
                line_width = 0;
                continue;
            }
            if line_width > 0 && w <= max {
                lines.push(std::mem::take(&mut line).trim_end().to_string());
                line.push_str(word);
                line_width = w;
                continue;
            }
            for g in word.graphemes(true) {
                let gw = width(g);
                if line_width + gw > max && line_width > 0 {
                    lines.push(std::mem::take(&mut line));
                    line_width = 0;
                }
                line.push_str(g);
                line_width += gw;
            }
        }
        lines.push(line.trim_end().to_string());
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_csi_osc_and_c0() {
        let hostile = "hi\u{1b}[2J\u{1b}[31mred\u{1b}[0m\u{7}\u{1b}]0;pwned\u{7} \u{1b}]8;;http://x\u{1b}\\link\u{0}";
        assert_eq!(sanitize(hostile), "hired link");
    }

    #[test]
    fn strips_c1_and_bidi_overrides() {
        assert_eq!(sanitize("a\u{9b}31mb\u{202e}c\u{2066}d"), "abcd");
        assert_eq!(sanitize("x\u{9d}title\u{9c}y"), "xy");
    }

    #[test]
    fn keeps_newlines_and_normalizes_returns_and_tabs() {
        assert_eq!(sanitize("a\r\nb\rc\td"), "a\nb\nc d");
    }

    #[test]
    fn single_line_joins_lines() {
        assert_eq!(sanitize_line("  Deniz\nYılmaz\r\n "), "Deniz Yılmaz");
    }

    #[test]
    fn keeps_emoji_cjk_arabic_and_zwj() {
        let s = "👩‍💻 こんにちは مرحبا 🇹🇷";
        assert_eq!(sanitize(s), s);
    }

    #[test]
    fn invisible_and_disguising_characters_go() {
        let hidden = "a\u{61c}b\u{200b}c\u{2060}d\u{2064}e\u{ad}f\u{180e}g\u{e0041}\u{e007f}h";
        assert_eq!(sanitize(hidden), "abcdefgh");
    }

    #[test]
    fn blank_fillers_and_noncharacters_go() {
        let hidden =
            "a\u{3164}b\u{ffa0}c\u{115f}d\u{fffe}e\u{ffff}f\u{fdd0}g\u{10ffff}h\u{17b4}i\u{1d173}j";
        assert_eq!(sanitize(hidden), "abcdefghij");
        // Hangul syllables themselves stay.
        assert_eq!(sanitize("한국어"), "한국어");
    }

    #[test]
    fn a_flood_of_combining_marks_is_cut_and_real_accents_stay() {
        let zalgo = format!("z{}algo", "\u{336}\u{321}".repeat(50));
        assert_eq!(
            sanitize(&zalgo),
            format!("z{}algo", "\u{336}\u{321}".repeat(4))
        );
        for real in ["e\u{301}", "مَرْحَبًا", "ภาษาไทย", "שָׁלוֹם", "Việt Nam ở đây"]
        {
            assert_eq!(sanitize(real), real);
        }
    }

    #[test]
    fn many_unterminated_introducers_stay_linear() {
        // Each scan for a terminator would otherwise read to the end.
        let flood = "\u{9d}x".repeat(200_000);
        assert_eq!(sanitize(&flood), "x".repeat(200_000));
    }

    #[test]
    fn a_subdivision_flag_keeps_its_tags() {
        let england = "🏴\u{e0067}\u{e0062}\u{e0065}\u{e006e}\u{e0067}\u{e007f}";
        assert_eq!(
            sanitize(&format!("go {england}!")),
            format!("go {england}!")
        );
        // Tags after the flag's cancel tag are hidden text again.
        assert_eq!(
            sanitize(&format!("{england}\u{e0041}x")),
            format!("{england}x")
        );
    }

    #[test]
    fn an_unterminated_osc_takes_only_itself_and_a_bad_csi_no_text() {
        assert_eq!(
            sanitize("a\u{1b}]0;title and the rest"),
            "a0;title and the rest"
        );
        assert_eq!(sanitize("a\u{9d}rest"), "arest");
        assert_eq!(sanitize("a\u{1b}]0;t\u{7}b"), "ab");
        assert_eq!(sanitize("a\u{1b}[12;€bc"), "a€bc");
        assert_eq!(sanitize("a\u{9b}1;ñb"), "añb");
    }

    #[test]
    fn unterminated_sequences_do_not_eat_forever_past_csi_final() {
        assert_eq!(sanitize("a\u{1b}[12;34Hb"), "ab");
        assert_eq!(sanitize("a\u{1b}"), "a");
    }

    #[test]
    fn truncates_by_cells_not_bytes() {
        assert_eq!(truncate("こんにちは", 5), "こん…");
        assert_eq!(truncate("hello", 5), "hello");
        assert_eq!(truncate("hello!", 5), "hell…");
    }

    #[test]
    fn wraps_words_and_breaks_long_ones() {
        assert_eq!(
            wrap("the quick brown fox", 10),
            vec!["the quick", "brown fox"]
        );
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(wrap("a\n\nb", 4), vec!["a", "", "b"]);
        for line in wrap("日本語のテキストを折り返す", 6) {
            assert!(width(&line) <= 6, "{line}");
        }
    }

    #[test]
    fn html_becomes_text() {
        let text = html_to_text("<p>Hello <b>there</b></p><script>\u{1b}[2J</script>", 80);
        assert!(text.contains("Hello"));
        assert!(!text.contains('\u{1b}'));
        assert!(!text.contains('<'));
    }
}
