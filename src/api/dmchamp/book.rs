//! The local contact book. DM Champ never returns a contact's fields and
//! has no contact list, so termdesk keeps what it learned: the contacts
//! the agent looked up, created, edited or messaged (and those seen in
//! answers), the fields termdesk wrote, and when each was last active.
//! Kept as JSON at the configured path, written atomically with mode 0600,
//! or only in memory.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::api::{ApiError, ApiResult};
use crate::domain::{Channel, Contact, ContactPlatform, MessagePreview, Tag, TagId};
use crate::text::sanitize_line;

/// DM Champ's defaults for fields nobody gave: shown as empty.
const UNKNOWN_NAME: &str = "Unknown";
const UNKNOWN_EMAIL: &str = "unknown@unknown.com";

/// One contact as termdesk knows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BookEntry {
    pub id: String,
    /// E.164.
    pub phone: Option<String>,
    pub phone_country_code: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub bot_active: Option<bool>,
    pub do_not_disturb: Option<bool>,
    /// List ids termdesk added the contact to.
    pub lists: BTreeSet<String>,
    /// Tag names, as last read or written.
    pub tags: Vec<String>,
    /// The channel its messages travel on, as DM Champ names it.
    pub channel: Option<String>,
    /// For custom-channel contacts: where replies go.
    pub custom_channel: Option<String>,
    pub external_id: Option<String>,
    pub added_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    /// The newest message or change seen.
    pub last_activity: Option<DateTime<Utc>>,
    /// The newest message seen, for the inbox row.
    pub preview: Option<MessagePreview>,
}

/// The book holds what the server sent and may be edited by hand: every
/// field is cleaned again on the way out.
fn known(value: &Option<String>, placeholder: &str) -> Option<String> {
    value
        .as_deref()
        .map(sanitize_line)
        .filter(|v| !v.is_empty() && !v.eq_ignore_ascii_case(placeholder))
}

fn clean(value: &Option<String>) -> Option<String> {
    known(value, "")
}

impl BookEntry {
    pub fn new(id: &str, now: DateTime<Utc>) -> Self {
        BookEntry {
            id: id.to_string(),
            added_at: Some(now),
            updated_at: Some(now),
            ..BookEntry::default()
        }
    }

    /// Moves `last_activity` forward, never back.
    pub fn touch(&mut self, at: DateTime<Utc>) {
        if self.last_activity.is_none_or(|t| t < at) {
            self.last_activity = Some(at);
        }
    }

    /// When it last changed or spoke: what the inbox sorts by.
    pub fn activity(&self) -> DateTime<Utc> {
        [self.last_activity, self.updated_at, self.added_at]
            .into_iter()
            .flatten()
            .max()
            .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
    }

    pub fn is_custom_channel(&self) -> bool {
        self.custom_channel.is_some()
            || self
                .channel
                .as_deref()
                .is_some_and(|c| c.eq_ignore_ascii_case("custom"))
    }

    /// The domain contact; DM Champ's placeholders read as empty.
    pub fn contact(&self) -> Contact {
        let mut c = Contact::named(
            self.id.clone(),
            known(&self.first_name, UNKNOWN_NAME).unwrap_or_default(),
        );
        c.last_name = known(&self.last_name, UNKNOWN_NAME);
        c.email = known(&self.email, UNKNOWN_EMAIL);
        c.phone = clean(&self.phone);
        c.phone_country_code = clean(&self.phone_country_code);
        c.tags = self
            .tags
            .iter()
            .map(|name| sanitize_line(name))
            .filter(|name| !name.is_empty())
            .map(|name| Tag {
                id: TagId(name.clone()),
                name,
                color: None,
            })
            .collect();
        if let Some(channel) = &self.channel {
            c.platforms.push(ContactPlatform {
                channel: super::wire::channel_from_wire(channel),
                external_id: clean(&self.external_id),
                username: None,
            });
        } else if let Some(external) = clean(&self.external_id) {
            c.platforms.push(ContactPlatform {
                channel: Channel::Other("Custom channel".into()),
                external_id: Some(external),
                username: None,
            });
        }
        c.created_at = self.added_at;
        c.updated_at = self.updated_at;
        c
    }

    /// Ids go back to DM Champ as they are, so one that is blank or holds
    /// anything the sanitizer would strip makes the entry unusable.
    pub fn has_usable_id(&self) -> bool {
        !self.id.trim().is_empty() && sanitize_line(&self.id) == self.id
    }

    /// Whether a free-text search matches what is known of it.
    pub fn matches(&self, needle: &str) -> bool {
        let needle = needle.trim().to_lowercase();
        if needle.is_empty() {
            return true;
        }
        let contact = self.contact();
        [
            Some(contact.display_name()),
            contact.email,
            contact.phone,
            Some(self.id.clone()),
            self.external_id.clone(),
        ]
        .into_iter()
        .flatten()
        .chain(self.tags.iter().cloned())
        .any(|field| field.to_lowercase().contains(&needle))
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct BookFile {
    version: u32,
    contacts: Vec<BookEntry>,
}

const VERSION: u32 = 1;

/// The contacts termdesk knows, by id.
#[derive(Debug, Default)]
pub struct ContactBook {
    path: Option<PathBuf>,
    entries: BTreeMap<String, BookEntry>,
}

impl ContactBook {
    pub fn in_memory() -> Self {
        Self::default()
    }

    /// Reads the book at `path`; a missing file is an empty book. A file
    /// that cannot be read as a book is set aside (`.unreadable`) so the
    /// start never fails on it and nothing is overwritten unseen.
    pub fn open(path: &Path) -> ApiResult<Self> {
        let mut book = ContactBook {
            path: Some(path.to_path_buf()),
            entries: BTreeMap::new(),
        };
        let text = match std::fs::read(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(book),
            Err(e) => {
                return Err(ApiError::Rejected {
                    code: None,
                    message: format!(
                        "cannot read the DM Champ contact book {}: {e}",
                        path.display()
                    ),
                });
            }
        };
        match serde_json::from_slice::<BookFile>(&text) {
            Ok(file) => {
                book.entries = file
                    .contacts
                    .into_iter()
                    .filter(BookEntry::has_usable_id)
                    .map(|e| (e.id.clone(), e))
                    .collect();
            }
            Err(e) => {
                let aside = path.with_extension("unreadable");
                tracing::warn!(
                    "the DM Champ contact book {} is unreadable ({e}); moved to {} and starting empty",
                    path.display(),
                    aside.display()
                );
                let _ = std::fs::rename(path, &aside);
            }
        }
        Ok(book)
    }

    pub fn get(&self, id: &str) -> Option<&BookEntry> {
        self.entries.get(id)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn find_phone(&self, e164: &str) -> Option<&BookEntry> {
        self.entries
            .values()
            .find(|e| e.phone.as_deref() == Some(e164))
    }

    /// Changes (or first adds) the entry for `id`.
    pub fn upsert(
        &mut self,
        id: &str,
        now: DateTime<Utc>,
        change: impl FnOnce(&mut BookEntry),
    ) -> &BookEntry {
        let entry = self
            .entries
            .entry(id.to_string())
            .or_insert_with(|| BookEntry::new(id, now));
        change(entry);
        entry
    }

    /// Every entry, most recently active first.
    pub fn by_activity(&self) -> Vec<&BookEntry> {
        let mut all: Vec<&BookEntry> = self.entries.values().collect();
        all.sort_by(|a, b| b.activity().cmp(&a.activity()).then(a.id.cmp(&b.id)));
        all
    }

    /// Writes the book if it has a file: a temporary file beside it (0600)
    /// renamed over the old one, so a crash leaves the old or the new.
    pub fn save(&self) -> ApiResult<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let fail = |e: std::io::Error| ApiError::Rejected {
            code: None,
            message: format!(
                "cannot save the DM Champ contact book {}: {e}",
                path.display()
            ),
        };
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(fail)?;
        let file = BookFile {
            version: VERSION,
            contacts: self.entries.values().cloned().collect(),
        };
        let bytes = serde_json::to_vec_pretty(&file)
            .map_err(|e| ApiError::Decode(format!("cannot encode the contact book: {e}")))?;
        // NamedTempFile is created 0600 on unix.
        let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(fail)?;
        tmp.write_all(&bytes).map_err(fail)?;
        tmp.as_file().sync_all().map_err(fail)?;
        tmp.persist(path).map_err(|e| fail(e.error))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn placeholders_read_as_empty_and_fields_map() {
        let mut e = BookEntry::new("c_1", at("2026-03-01T00:00:00Z"));
        e.first_name = Some("Unknown".into());
        e.last_name = Some("Unknown".into());
        e.email = Some("unknown@unknown.com".into());
        e.phone = Some("+31612345678".into());
        e.tags = vec!["vip".into()];
        e.channel = Some("whatsapp".into());
        let c = e.contact();
        assert_eq!(c.first_name, "");
        assert_eq!((&c.last_name, &c.email), (&None, &None));
        assert_eq!(c.label(), "+31612345678");
        assert_eq!(c.tags[0].name, "vip");
        assert_eq!(c.platforms[0].channel, Channel::WhatsApp);
        e.first_name = Some("Sanne".into());
        assert!(e.matches("san"));
        assert!(e.matches("VIP"));
        assert!(e.matches("3161234"));
        assert!(!e.matches("bakker"));
    }

    #[test]
    fn activity_only_moves_forward_and_orders_the_book() {
        let mut book = ContactBook::in_memory();
        let t0 = at("2026-03-01T00:00:00Z");
        book.upsert("old", t0, |_| {});
        book.upsert("new", t0, |e| e.touch(at("2026-03-05T00:00:00Z")));
        book.upsert("new", t0, |e| e.touch(at("2026-03-02T00:00:00Z")));
        assert_eq!(
            book.get("new").unwrap().last_activity,
            Some(at("2026-03-05T00:00:00Z"))
        );
        let ids: Vec<&str> = book.by_activity().iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["new", "old"]);
    }

    #[test]
    fn saves_atomically_private_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested").join("book.json");
        let mut book = ContactBook::open(&path).unwrap();
        assert!(book.is_empty());
        book.upsert("c_1", at("2026-03-01T00:00:00Z"), |e| {
            e.phone = Some("+31612345678".into());
            e.lists.insert("lst_vip".into());
        });
        book.save().unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let again = ContactBook::open(&path).unwrap();
        assert_eq!(again.get("c_1"), book.get("c_1"));
        assert_eq!(
            again.find_phone("+31612345678").map(|e| e.id.as_str()),
            Some("c_1")
        );
        let leftovers = std::fs::read_dir(path.parent().unwrap()).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary file left behind");
    }

    #[test]
    fn an_unreadable_book_is_set_aside_not_fatal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("book.json");
        std::fs::write(&path, b"{ not json").unwrap();
        let book = ContactBook::open(&path).unwrap();
        assert!(book.is_empty());
        assert!(path.with_extension("unreadable").exists());
        assert!(ContactBook::in_memory().save().is_ok());
    }
}
