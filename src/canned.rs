//! Canned replies: the team's snippets, kept in `canned_replies.toml` beside
//! the config. A reply may use contact variables (`{{contact.first_name}}`)
//! and fill-in blanks (`{{order_number}}`) the agent is asked for; the
//! result goes into the composer for editing, never straight out.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::domain::{Agent, Contact};
use crate::template_text;

pub const FILE_NAME: &str = "canned_replies.toml";

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CannedReply {
    /// What the picker shows and matches.
    pub name: String,
    pub text: String,
    /// Matched too; e.g. `refund`, `shipping`.
    #[serde(default)]
    pub tags: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CannedFile {
    #[serde(default, rename = "reply")]
    replies: Vec<CannedReply>,
}

/// The file beside `config_path`.
pub fn path_beside(config_path: &Path) -> PathBuf {
    config_path
        .parent()
        .map(|dir| dir.join(FILE_NAME))
        .unwrap_or_else(|| PathBuf::from(FILE_NAME))
}

/// Reads the replies; a missing file is no replies. Errors name the file
/// and, for bad TOML, the line.
pub fn load(path: &Path) -> Result<Vec<CannedReply>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    parse(&text).map_err(|e| format!("{}: {e}", path.display()))
}

pub fn parse(text: &str) -> Result<Vec<CannedReply>, String> {
    let file: CannedFile = toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .map(|span| text[..span.start.min(text.len())].lines().count().max(1));
        match line {
            Some(line) => format!("line {line}: {}", e.message()),
            None => e.message().to_string(),
        }
    })?;
    // The text goes into the composer and onto the screen: a pasted escape
    // sequence must not travel with it.
    let mut replies = file.replies;
    for reply in &mut replies {
        reply.name = crate::text::sanitize_line(&reply.name);
        reply.text = crate::text::sanitize(&reply.text);
        for tag in &mut reply.tags {
            *tag = crate::text::sanitize_line(tag);
        }
    }
    for (i, reply) in replies.iter().enumerate() {
        if reply.name.trim().is_empty() {
            return Err(format!("reply {} has no name", i + 1));
        }
        if reply.text.trim().is_empty() {
            return Err(format!("reply “{}” has no text", reply.name));
        }
    }
    Ok(replies)
}

/// The value of a contact or agent variable; `None` for a key that is
/// not one (a blank) or a field the contact lacks.
pub fn variable(key: &str, contact: Option<&Contact>, agent: Option<&Agent>) -> Option<String> {
    let non_empty = |s: Option<&str>| {
        s.map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    match key {
        "contact.first_name" => non_empty(contact.map(|c| c.first_name.as_str())),
        "contact.last_name" => non_empty(contact.and_then(|c| c.last_name.as_deref())),
        "contact.name" => non_empty(contact.map(|c| c.display_name()).as_deref()),
        "contact.email" => non_empty(contact.and_then(|c| c.email.as_deref())),
        "contact.phone" => non_empty(contact.and_then(|c| c.phone.as_deref())),
        "contact.country" => non_empty(contact.and_then(|c| c.country.as_deref())),
        "agent.first_name" => non_empty(agent.map(|a| a.first_name.as_str())),
        "agent.name" => non_empty(agent.map(|a| a.display_name()).as_deref()),
        _ => None,
    }
}

pub fn is_variable(key: &str) -> bool {
    key.starts_with("contact.") || key.starts_with("agent.")
}

/// What the agent is asked for: blanks, and variables the contact has no
/// value for, each once, in order.
pub fn questions(text: &str, contact: Option<&Contact>, agent: Option<&Agent>) -> Vec<String> {
    template_text::keys(text)
        .into_iter()
        .filter(|key| !is_variable(key) || variable(key, contact, agent).is_none())
        .collect()
}

/// What a blank is called in the form: `order_number` → `order number`.
pub fn question_label(key: &str) -> String {
    key.replace(['_', '.'], " ")
}

/// The reply with variables and answers in place; what is still missing
/// stays as written.
pub fn render(
    text: &str,
    contact: Option<&Contact>,
    agent: Option<&Agent>,
    answers: &[(String, String)],
) -> String {
    template_text::fill(text, |key| {
        answers
            .iter()
            .find(|(k, v)| k == key && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_string())
            .or_else(|| variable(key, contact, agent))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contact() -> Contact {
        let mut c = Contact::named("c1", "Ayşe");
        c.last_name = Some("Yılmaz".into());
        c.phone = Some("+905321234567".into());
        c
    }

    #[test]
    fn the_shipped_example_parses() {
        let replies = parse(include_str!("../assets/canned_replies.example.toml")).unwrap();
        assert!(replies.len() >= 3);
        assert!(
            replies
                .iter()
                .any(|r| !questions(&r.text, None, None).is_empty())
        );
    }

    #[test]
    fn errors_name_the_line() {
        let err = parse("[[reply]]\nname = \"a\"\ntext = \n").unwrap_err();
        assert!(err.starts_with("line 3"), "{err}");
        let err = parse("[[reply]]\nname = \"a\"\ntext = \"x\"\ncolour = 1\n").unwrap_err();
        assert!(err.contains("colour"), "{err}");
        assert!(parse("[[reply]]\nname = \" \"\ntext = \"x\"\n").is_err());
        assert_eq!(parse("").unwrap(), vec![]);
    }

    #[test]
    fn contact_variables_fill_and_blanks_are_asked() {
        let text = "Hi {{contact.first_name}}, order {{order_number}} ships to {{contact.email}}.";
        let c = contact();
        assert_eq!(
            questions(text, Some(&c), None),
            ["order_number", "contact.email"],
            "a variable the contact lacks is asked like a blank"
        );
        assert_eq!(
            render(
                text,
                Some(&c),
                None,
                &[
                    ("order_number".into(), "A-7".into()),
                    ("contact.email".into(), "a@b.co".into())
                ]
            ),
            "Hi Ayşe, order A-7 ships to a@b.co."
        );
        assert_eq!(
            render("{{contact.name}} {{x}}", Some(&c), None, &[]),
            "Ayşe Yılmaz {{x}}"
        );
        assert_eq!(question_label("order_number"), "order number");
    }

    #[test]
    fn escape_sequences_in_the_file_are_dropped() {
        let replies =
            parse("[[reply]]\nname = \"a\\u001b[2Jb\"\ntext = \"x\\u001b]0;title\\u0007y\"\n")
                .unwrap();
        assert_eq!(replies[0].name, "ab");
        assert_eq!(replies[0].text, "xy");
    }

    #[test]
    fn a_missing_file_is_no_replies() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load(&dir.path().join(FILE_NAME)).unwrap(), vec![]);
        std::fs::write(dir.path().join(FILE_NAME), "[[reply]\n").unwrap();
        let err = load(&dir.path().join(FILE_NAME)).unwrap_err();
        assert!(err.contains(FILE_NAME), "{err}");
    }
}
