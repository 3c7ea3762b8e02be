//! `assets/naughty_strings.txt`, decoded: the file keeps its escapes in
//! plain text (`\u{…}`, `\xHH`, `\n`, `\r`, `\t`, `\0`, `\\`).

#![allow(dead_code)]

pub struct Naughty {
    /// Text whose dangerous parts must never reach the screen.
    pub hostile: Vec<String>,
    /// Genuine text that must reach it unchanged.
    pub real: Vec<String>,
}

pub fn load() -> Naughty {
    let mut naughty = Naughty {
        hostile: Vec::new(),
        real: Vec::new(),
    };
    let mut real = false;
    for line in include_str!("../../assets/naughty_strings.txt").lines() {
        match line {
            "" => {}
            "[hostile]" => real = false,
            "[real]" => real = true,
            l if l.starts_with('#') => {}
            l if real => naughty.real.push(decode(l)),
            l => naughty.hostile.push(decode(l)),
        }
    }
    naughty
}

/// Every string of the corpus, hostile first.
pub fn all() -> Vec<String> {
    let n = load();
    n.hostile.into_iter().chain(n.real).collect()
}

pub fn decode(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.peek().copied() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('0') => out.push('\0'),
            Some('\\') => out.push('\\'),
            Some('x') => {
                chars.next();
                let hex: String = chars.by_ref().take(2).collect();
                let c = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32);
                out.push(c.expect("a \\xHH escape"));
                continue;
            }
            Some('u') => {
                chars.next();
                assert_eq!(chars.next(), Some('{'), "\\u needs braces: {line}");
                let hex: String = chars.by_ref().take_while(|c| *c != '}').collect();
                let c = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32);
                out.push(c.expect("a \\u{HEX} escape"));
                continue;
            }
            _ => {
                out.push('\\');
                continue;
            }
        }
        chars.next();
    }
    out
}

#[test]
fn the_corpus_decodes() {
    let n = load();
    assert!(n.hostile.len() > 60 && n.real.len() > 10);
    assert!(n.hostile.iter().any(|s| s.contains('\u{1b}')));
    assert!(n.hostile.iter().any(|s| s.contains('\u{202e}')));
    assert!(n.hostile.iter().any(|s| s.chars().count() >= 10_000));
    assert!(n.hostile.iter().any(|s| s.lines().count() == 1000));
    assert_eq!(decode("a\\x1b[2J\\u{1F600}\\\\n\\n"), "a\u{1b}[2J😀\\n\n");
}
