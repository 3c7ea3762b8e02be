//! The text form that the full-text index sees, and the matching query form.
//!
//! SQLite's own tokenizers know neither Turkish casing, nor Arabic harakat,
//! nor languages written without spaces, so the folding happens here and
//! the index (FTS5 `unicode61`, diacritics untouched) only splits on the
//! spaces this module puts in. Indexed text and queries go through the same
//! `fold`, which is what makes the matching consistent.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;
use unicode_segmentation::UnicodeSegmentation;

/// A query never has more words than this: a pasted paragraph would
/// otherwise become a needlessly expensive AND of phrases.
const MAX_QUERY_WORDS: usize = 16;

/// A last word shorter than this matches whole words only: a one- or
/// two-letter prefix matches a large part of the vocabulary, and merging
/// all of it cost ~150 ms on a million messages against ~1 ms otherwise.
const MIN_PREFIX_CHARS: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Letters and digits of a script that separates words with spaces.
    Word,
    /// One character of a script written without spaces (CJK, kana,
    /// hangul, Thai…): each is its own token so that any run of them can be
    /// found as a phrase.
    Unspaced,
    /// An emoji, spelled as `u` + its hex code point.
    Emoji,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Token {
    text: String,
    kind: Kind,
}

/// The indexed form of `text`: folded tokens separated by single spaces.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for token in tokens(text) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&token.text);
    }
    out
}

/// Turns what the agent typed into an FTS5 query: every word becomes a
/// quoted phrase of its folded tokens, the phrases are ANDed, and the last
/// word matches as a prefix (search as you type) once it has three letters. Nothing the agent types is
/// query syntax. `None` when nothing searchable is left.
pub fn fts_query(user_query: &str) -> Option<String> {
    let words: Vec<Vec<Token>> = user_query
        .split_whitespace()
        .map(tokens)
        .filter(|t| !t.is_empty())
        .take(MAX_QUERY_WORDS)
        .collect();
    let mut query = String::new();
    for (i, word) in words.iter().enumerate() {
        if i > 0 {
            query.push(' ');
        }
        query.push('"');
        for (j, token) in word.iter().enumerate() {
            if j > 0 {
                query.push(' ');
            }
            // Tokens hold only letters, digits and marks; the escaping
            // keeps that from mattering if it ever changes.
            query.push_str(&token.text.replace('"', "\"\""));
        }
        query.push('"');
        let last = i + 1 == words.len();
        // An emoji token is complete; as a prefix it could only match
        // unrelated longer code points.
        let prefixable = word
            .last()
            .is_some_and(|t| t.kind == Kind::Word && t.text.chars().count() >= MIN_PREFIX_CHARS);
        if last && prefixable {
            query.push('*');
        }
    }
    (!query.is_empty()).then_some(query)
}

/// One line of `text` of at most about `max_graphemes`, around the first
/// place a word of `user_query` matches, with `…` where it was cut. `None`
/// when no word of the query is found in `text`.
pub fn context(text: &str, user_query: &str, max_graphemes: usize) -> Option<String> {
    let line = one_line(text);
    let wanted: Vec<Token> = user_query.split_whitespace().flat_map(tokens).collect();
    if wanted.is_empty() || line.is_empty() {
        return None;
    }
    // Fold grapheme by grapheme, remembering where each folded piece came
    // from, so a match in the folded form points back into the original.
    let mut folded = String::new();
    let mut origin: Vec<(usize, usize)> = Vec::with_capacity(line.len()); // (folded byte, grapheme index)
    for (index, grapheme) in line.iter().enumerate() {
        let pieces = tokens(grapheme);
        if pieces.is_empty() {
            folded.push(' ');
            continue;
        }
        for piece in pieces {
            if piece.kind != Kind::Word {
                folded.push(' ');
            }
            origin.push((folded.len(), index));
            folded.push_str(&piece.text);
            if piece.kind != Kind::Word {
                folded.push(' ');
            }
        }
    }
    let at = wanted
        .iter()
        .filter_map(|token| find_token_start(&folded, &token.text))
        .min()?;
    let grapheme = match origin.binary_search_by_key(&at, |&(f, _)| f) {
        Ok(i) => origin[i].1,
        Err(0) => 0,
        Err(i) => origin[i - 1].1,
    };
    Some(window(&line, grapheme, max_graphemes))
}

/// The start of `text` as one line of at most about `max_graphemes`.
pub fn excerpt(text: &str, max_graphemes: usize) -> String {
    window(&one_line(text), 0, max_graphemes)
}

fn find_token_start(haystack: &str, needle: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(found) = haystack[from..].find(needle) {
        let at = from + found;
        let boundary = haystack[..at]
            .chars()
            .next_back()
            .is_none_or(|c| c == ' ' || !c.is_alphanumeric());
        if boundary {
            return Some(at);
        }
        from = at + haystack[at..].chars().next().map_or(1, char::len_utf8);
    }
    None
}

/// Graphemes of `text` with every run of whitespace or control characters
/// turned into one space, trimmed.
fn one_line(text: &str) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for grapheme in text.graphemes(true) {
        let blank = grapheme
            .chars()
            .all(|c| c.is_whitespace() || c.is_control());
        if blank {
            if out.last().is_some_and(|last| *last != " ") {
                out.push(" ");
            }
        } else {
            out.push(grapheme);
        }
    }
    if out.last() == Some(&" ") {
        out.pop();
    }
    out
}

fn window(line: &[&str], focus: usize, max: usize) -> String {
    let max = max.max(8);
    if line.len() <= max {
        return line.concat();
    }
    // Leave room for the ellipses, and show a little before the match so
    // it reads as a sentence rather than starting mid-word.
    let room = max - 2;
    let mut start = focus.saturating_sub(room / 3);
    let end = (start + room).min(line.len());
    start = start.min(end.saturating_sub(room));
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    out.push_str(line[start..end].concat().trim());
    if end < line.len() {
        out.push('…');
    }
    out
}

fn tokens(text: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut run = String::new();
    for c in text.chars() {
        match emoji_class(c) {
            EmojiClass::Emoji => {
                fold_run(&run, &mut out);
                run.clear();
                out.push(Token {
                    text: format!("u{:x}", c as u32),
                    kind: Kind::Emoji,
                });
            }
            // Skin tones, tags and joiners only modify the emoji next to
            // them; 👍🏽 is found by 👍 and the other way round.
            EmojiClass::Modifier => {}
            EmojiClass::None => run.push(c),
        }
    }
    fold_run(&run, &mut out);
    out
}

enum EmojiClass {
    Emoji,
    Modifier,
    None,
}

fn emoji_class(c: char) -> EmojiClass {
    match c as u32 {
        0x1F3FB..=0x1F3FF | 0xE0020..=0xE007F | 0x200D | 0xFE0E | 0xFE0F | 0x20E3 => {
            EmojiClass::Modifier
        }
        0x1F000..=0x1FAFF
        | 0x2600..=0x27BF
        | 0x2300..=0x23FF
        | 0x2B00..=0x2BFF
        | 0x2190..=0x21FF
        | 0x25A0..=0x25FF
        | 0x2934..=0x2935
        | 0x3030
        | 0x303D
        | 0x3297
        | 0x3299
        | 0xA9
        | 0xAE
        | 0x203C
        | 0x2049 => EmojiClass::Emoji,
        _ => EmojiClass::None,
    }
}

fn is_kana(c: char) -> bool {
    matches!(c as u32, 0x3040..=0x30FF | 0x31F0..=0x31FF | 0xFF66..=0xFF9F)
}

/// Scripts written without spaces between words.
fn is_unspaced(c: char) -> bool {
    is_kana(c)
        || matches!(c as u32,
            0x3005..=0x3007          // 々 〆 〇
            | 0x3400..=0x4DBF        // CJK extension A
            | 0x4E00..=0x9FFF        // CJK unified
            | 0xF900..=0xFAFF        // CJK compatibility
            | 0x20000..=0x3FFFF      // CJK extensions B…
            | 0xAC00..=0xD7AF        // hangul syllables
            | 0x1100..=0x11FF        // hangul jamo
            | 0x3130..=0x318F        // hangul compatibility jamo
            | 0x0E00..=0x0EFF        // Thai, Lao
            | 0x1000..=0x109F        // Myanmar
            | 0x1780..=0x17FF // Khmer
        )
}

/// Marks that change the letter rather than decorate it: kana voicing
/// (か/が), and the vowel signs of Brahmic scripts. Elsewhere (Latin
/// accents, Arabic harakat, Hebrew points) marks are optional in practice
/// and are dropped so text is found with or without them.
fn keeps_marks(base: char) -> bool {
    is_kana(base)
        || matches!(base as u32,
            0x0900..=0x0DFF     // Devanagari … Sinhala
            | 0x0E00..=0x0EFF   // Thai, Lao
            | 0x0F00..=0x0FFF   // Tibetan
            | 0x1000..=0x109F   // Myanmar
            | 0x1780..=0x17FF // Khmer
        )
}

/// Characters that vanish without splitting a word: joiners, soft hyphen,
/// directional marks, Arabic tatweel.
fn is_ignorable(c: char) -> bool {
    matches!(c as u32, 0x00AD | 0x200B..=0x200F | 0x2060..=0x2064 | 0xFEFF | 0x0640 | 0x202A..=0x202E | 0x2066..=0x2069)
}

fn fold_run(run: &str, out: &mut Vec<Token>) {
    if run.is_empty() {
        return;
    }
    let mut stripped = String::with_capacity(run.len());
    let mut base = ' ';
    for c in run.nfkd() {
        if is_ignorable(c) {
            continue;
        }
        if is_combining_mark(c) {
            if keeps_marks(base) {
                stripped.push(c);
            }
            continue;
        }
        base = c;
        stripped.push(c);
    }
    let mut word = String::new();
    for c in stripped.nfc() {
        if is_combining_mark(c) {
            // A kept mark belongs to the token of its base letter.
            match out.last_mut() {
                Some(last) if word.is_empty() && last.kind == Kind::Unspaced => last.text.push(c),
                _ => word.push(c),
            }
            continue;
        }
        if is_unspaced(c) {
            flush_word(&mut word, out);
            out.push(Token {
                text: c.to_string(),
                kind: Kind::Unspaced,
            });
        } else if c.is_alphanumeric() {
            push_folded(c, &mut word);
        } else {
            flush_word(&mut word, out);
        }
    }
    flush_word(&mut word, out);
}

fn flush_word(word: &mut String, out: &mut Vec<Token>) {
    if !word.is_empty() {
        out.push(Token {
            text: std::mem::take(word),
            kind: Kind::Word,
        });
    }
}

fn push_folded(c: char, word: &mut String) {
    match c {
        // Turkish: I, İ, ı and i are one letter for search (İ arrives here
        // as I, its dot having been dropped as a mark).
        'ı' => word.push('i'),
        'ß' | 'ẞ' => word.push_str("ss"),
        'ł' | 'Ł' => word.push('l'),
        'đ' | 'Đ' => word.push('d'),
        'ø' | 'Ø' => word.push('o'),
        'ħ' | 'Ħ' => word.push('h'),
        'æ' | 'Æ' => word.push_str("ae"),
        'œ' | 'Œ' => word.push_str("oe"),
        'ς' => word.push('σ'),
        // Arabic and Persian letters that people type interchangeably.
        'ى' | 'ی' => word.push('ي'),
        'ة' => word.push('ه'),
        'ک' => word.push('ك'),
        'ٱ' => word.push('ا'),
        _ => word.extend(c.to_lowercase()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin_accents_and_case_fold_away() {
        assert_eq!(fold("Crème Brûlée, São Paulo!"), "creme brulee sao paulo");
        assert_eq!(fold("Straße Łódź Ørsted"), "strasse lodz orsted");
        assert_eq!(fold("ＡＢＣ１２３"), "abc123");
    }

    #[test]
    fn turkish_i_variants_are_one_letter() {
        for s in ["İstanbul", "istanbul", "ISTANBUL", "ıstanbul", "İSTANBUL"] {
            assert_eq!(fold(s), "istanbul", "{s}");
        }
        assert_eq!(fold("şeker ÇĞÖÜ"), "seker cgou");
    }

    #[test]
    fn arabic_harakat_tatweel_and_hamza_fold_away() {
        assert_eq!(fold("مُحَمَّد"), fold("محمد"));
        assert_eq!(fold("مـــحـمـد"), fold("محمد"));
        assert_eq!(fold("أحمد"), fold("احمد"));
        assert_eq!(fold("مدرسة"), fold("مدرسه"));
    }

    #[test]
    fn japanese_is_one_token_per_character_and_keeps_dakuten() {
        assert_eq!(fold("明日東京に行きます"), "明 日 東 京 に 行 き ま す");
        assert_ne!(fold("が"), fold("か"));
        // Decomposed and half-width forms reach the same token.
        assert_eq!(fold("か\u{3099}"), "が");
        assert_eq!(fold("ｶﾞ"), "ガ");
        assert_eq!(fold("東京tower"), "東 京 tower");
    }

    #[test]
    fn emoji_become_ascii_tokens_and_modifiers_vanish() {
        assert_eq!(fold("party🎉time"), "party u1f389 time");
        assert_eq!(fold("👍🏽"), "u1f44d");
        assert_eq!(fold("👨\u{200d}👩\u{200d}👧"), "u1f468 u1f469 u1f467");
        assert_eq!(fold("❤️"), "u2764");
        assert_eq!(fold("🇹🇷"), "u1f1f9 u1f1f7");
    }

    #[test]
    fn punctuation_and_symbols_split_words() {
        assert_eq!(fold("don't — stop; a+b=c"), "don t stop a b c");
        assert_eq!(fold(""), "");
        assert_eq!(fold("   ...   "), "");
    }

    #[test]
    fn queries_are_quoted_phrases_with_a_prefix_last_word() {
        assert_eq!(
            fts_query("hello wor").as_deref(),
            Some("\"hello\" \"wor\"*")
        );
        assert_eq!(fts_query("東京").as_deref(), Some("\"東 京\""));
        assert_eq!(fts_query("🎉").as_deref(), Some("\"u1f389\""));
        assert_eq!(fts_query("İstanbul").as_deref(), Some("\"istanbul\"*"));
        assert_eq!(fts_query("re ab").as_deref(), Some("\"re\" \"ab\""));
        assert_eq!(fts_query("re abc").as_deref(), Some("\"re\" \"abc\"*"));
    }

    #[test]
    fn query_syntax_from_the_agent_is_data() {
        for hostile in ["\"", "*", "'", "-", "(", ")", "^", ":", "\"\"", "", "  "] {
            assert_eq!(fts_query(hostile), None, "{hostile:?}");
        }
        assert_eq!(fts_query("-x").as_deref(), Some("\"x\""));
        assert_eq!(fts_query("NEAR(").as_deref(), Some("\"near\"*"));
        assert_eq!(fts_query("it's").as_deref(), Some("\"it s\""));
        assert_eq!(fts_query("NEAR(a b)").as_deref(), Some("\"near a\" \"b\""));
        assert_eq!(fts_query("a OR b").as_deref(), Some("\"a\" \"or\" \"b\""));
        assert_eq!(fts_query("col:x").as_deref(), Some("\"col x\""));
    }

    #[test]
    fn context_points_at_the_match_in_the_original_text() {
        let text = format!(
            "{}Meet me in İstanbul tomorrow.\nBring şeker",
            "filler ".repeat(40)
        );
        let got = context(&text, "istanbul", 40).unwrap();
        assert!(got.starts_with('…') && got.ends_with('…'), "{got}");
        assert!(got.contains("İstanbul"), "{got}");
        assert!(!got.contains('\n'));
        assert!(got.chars().count() <= 42, "{got}");

        assert_eq!(context("a\n\nb  seker", "ŞEKER", 120).unwrap(), "a b seker");
        assert_eq!(
            context("明日東京に行きます", "東京", 120).unwrap(),
            "明日東京に行きます"
        );
        assert_eq!(context("nothing here", "absent", 120), None);
        assert_eq!(excerpt("line one\nline two", 120), "line one line two");
    }
}
