//! Seed corpora: the names and message texts the sandbox generators draw
//! from, kept as human-editable TOML under `assets/sandbox/` and embedded in
//! the binary. Nothing here is specific to one provider.
//!
//! - `en.toml`, `tr.toml`, `ar.toml`, `ja.toml`: one language each (see
//!   [`Lang`]): contact first names (with gender), last names, countries,
//!   ASCII username stems, conversation scripts (topics with a tag, an e-mail
//!   subject and customer/agent lines), filler chatter, the live-chat bot's
//!   greeting, and the lines customers and agents write in live traffic.
//! - `common.toml`: lists shared by every language (see [`Common`]): e-mail
//!   domains and the emoji some people add to their display names.
//!
//! Each file is parsed once, on first use. Generators draw entries by
//! position, so the order and length of every list are part of what a seed
//! produces.

use std::sync::LazyLock;

use serde::Deserialize;

/// A given name and the gender a contact with it may show.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FirstName {
    pub name: String,
    pub gender: String,
}

/// One line of a script, by who says it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum Line {
    Customer(String),
    Agent(String),
}

/// A conversation script. `{name}`, `{order}`, `{date}` and `{amount}` are
/// filled in; `[img]` / `[pdf]` prefixes attach media to the line.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Topic {
    /// The tag a conversation about this topic carries.
    #[serde(default)]
    pub tag: Option<String>,
    /// The e-mail subject of the episode.
    pub subject: String,
    pub lines: Vec<Line>,
}

/// The corpus of one language.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Lang {
    /// ISO 639-1 code; set from the file, not read from it.
    #[serde(skip)]
    pub code: &'static str,
    pub bot_greeting: String,
    pub first_names: Vec<FirstName>,
    pub last_names: Vec<String>,
    /// ISO 3166 codes of the countries contacts live in.
    pub countries: Vec<String>,
    /// ASCII stems of usernames and e-mail addresses.
    pub handles: Vec<String>,
    pub customer_fillers: Vec<String>,
    pub agent_fillers: Vec<String>,
    /// Fresh inbound messages for live traffic.
    pub live_lines: Vec<String>,
    /// Agents' answers in live traffic.
    pub live_replies: Vec<String>,
    pub topics: Vec<Topic>,
}

/// Lists shared by every language.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Common {
    pub email_domains: Vec<String>,
    /// Decorations some people put in their display names.
    pub name_emoji: Vec<String>,
}

fn parse<T: for<'de> Deserialize<'de>>(file: &str, text: &str) -> T {
    match toml::from_str(text) {
        Ok(v) => v,
        Err(e) => panic!("assets/sandbox/{file} is malformed: {e}"),
    }
}

fn load(code: &'static str, text: &str) -> Lang {
    Lang {
        code,
        ..parse(&format!("{code}.toml"), text)
    }
}

static LANGS: LazyLock<[Lang; 4]> = LazyLock::new(|| {
    [
        load("en", include_str!("../../assets/sandbox/en.toml")),
        load("tr", include_str!("../../assets/sandbox/tr.toml")),
        load("ar", include_str!("../../assets/sandbox/ar.toml")),
        load("ja", include_str!("../../assets/sandbox/ja.toml")),
    ]
});

static COMMON: LazyLock<Common> = LazyLock::new(|| {
    parse(
        "common.toml",
        include_str!("../../assets/sandbox/common.toml"),
    )
});

/// Every language, in a fixed order: English, Turkish, Arabic, Japanese.
pub(crate) fn langs() -> [&'static Lang; 4] {
    let [en, tr, ar, ja] = &*LANGS;
    [en, tr, ar, ja]
}

/// The corpus for `code`; English for any other code.
pub(crate) fn lang(code: &str) -> &'static Lang {
    let [en, tr, ar, ja] = langs();
    match code {
        "tr" => tr,
        "ar" => ar,
        "ja" => ja,
        _ => en,
    }
}

pub(crate) fn common() -> &'static Common {
    &COMMON
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_parses_into_usable_lists() {
        for l in langs() {
            let code = l.code;
            assert_eq!(lang(code).code, code);
            assert!(!l.bot_greeting.is_empty(), "{code}");
            for (what, len) in [
                ("first_names", l.first_names.len()),
                ("last_names", l.last_names.len()),
                ("countries", l.countries.len()),
                ("handles", l.handles.len()),
                ("customer_fillers", l.customer_fillers.len()),
                ("agent_fillers", l.agent_fillers.len()),
                ("live_lines", l.live_lines.len()),
                ("live_replies", l.live_replies.len()),
                ("topics", l.topics.len()),
            ] {
                assert!(len > 0, "{code}: {what} is empty");
            }
            assert!(l.topics.iter().all(|t| !t.lines.is_empty()), "{code}");
            assert!(
                l.handles
                    .iter()
                    .all(|h| h.bytes().all(|b| b.is_ascii_lowercase())),
                "{code}: handles are lowercase ASCII"
            );
        }
        assert_eq!(lang("xx").code, "en");
        assert!(!common().email_domains.is_empty());
        assert!(!common().name_emoji.is_empty());
    }
}
