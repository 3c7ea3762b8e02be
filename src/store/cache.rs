//! Opening an account's cache and reading what the first frame needs: the
//! newest rows, contact names, cursors, drafts and the outbox. The rest of
//! the list is read after the first frame (see `app::runtime`).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::domain::{AgentId, ConversationId};
use crate::store::contact_edits::{self, ContactEdit};
use crate::store::db::{Db, DbError};
use crate::store::mutations::{self, ConversationMutation};
use crate::store::outbox::OutboxItem;
use crate::store::template_memory::{self, TemplateMemory};
use crate::store::views::{self, ViewSpec};
use crate::store::{CacheSnapshot, Store};
use crate::sync::SyncCursors;
use crate::sync::cursor::META_KEY;

/// Rows read before the first frame: more than any screen shows.
pub const FIRST_ROWS: usize = 500;

/// Where an inbox of several accounts keeps its cache: ids there carry
/// their account, so it cannot share a file with a single account (no
/// account's file is named with a dot).
pub fn inbox_path() -> Option<PathBuf> {
    let dirs = crate::paths::project_dirs()?;
    Some(dirs.data_dir().join("cache").join("inbox.accounts.sqlite"))
}

/// Where an account's cache lives: one SQLite file per account in the
/// platform data dir.
pub fn cache_path(account: &str) -> Option<PathBuf> {
    let dirs = crate::paths::project_dirs()?;
    Some(
        dirs.data_dir()
            .join("cache")
            .join(format!("{}.sqlite", file_stem(account))),
    )
}

/// An account name made safe as a file name (distinct names stay distinct
/// enough for config files people write by hand).
fn file_stem(account: &str) -> String {
    let stem: String = account
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if stem.is_empty() {
        "account".into()
    } else {
        stem
    }
}

/// Removes an account's cache files, on request (`--reset-cache`) only.
pub fn reset(path: &Path) -> Result<bool, String> {
    let mut removed = false;
    for suffix in ["", "-wal", "-shm", ".lock"] {
        let file = PathBuf::from(format!("{}{suffix}", path.display()));
        match std::fs::remove_file(&file) {
            Ok(()) => removed = true,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => return Err(format!("cannot remove {}: {err}", file.display())),
        }
    }
    Ok(removed)
}

/// What the app starts from.
pub struct CacheStart {
    pub store: Store,
    pub drafts: Vec<(ConversationId, String)>,
    pub outbox: Vec<OutboxItem>,
    /// Actions on conversations not yet confirmed, in the order made.
    pub mutations: Vec<ConversationMutation>,
    /// Changes to contacts not yet confirmed, in the order made.
    pub contact_edits: Vec<ContactEdit>,
    /// The list's tab, filters and sort when termdesk last ran.
    pub view: Option<ViewSpec>,
    /// The agent chosen as "me", when the config names none.
    pub me: Option<AgentId>,
    pub template_memory: TemplateMemory,
    pub rows_loaded: usize,
}

/// An opened cache: a connection for the writer and one for reading.
pub struct OpenCache {
    pub writer_db: Db,
    pub reader: Arc<Mutex<Db>>,
    pub start: CacheStart,
    /// Held while termdesk uses the cache (see [`lock`]).
    pub lock: std::fs::File,
}

/// One termdesk per account cache: two would each resume the other's
/// unsent replies, and could send one twice. The lock is released when the
/// file is closed, also when the process is killed.
pub fn lock(path: &Path) -> Result<std::fs::File, DbError> {
    let lock_path = PathBuf::from(format!("{}.lock", path.display()));
    if let Some(parent) = lock_path.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|err| DbError::Other {
            path: lock_path.clone(),
            detail: err.to_string(),
        })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(DbError::Locked {
            path: path.to_path_buf(),
        }),
        Err(std::fs::TryLockError::Error(err)) => Err(DbError::Other {
            path: lock_path,
            detail: err.to_string(),
        }),
    }
}

pub fn open(path: &Path) -> Result<OpenCache, DbError> {
    let lock = lock(path)?;
    let writer_db = Db::open(path)?;
    let reader_db = Db::open(path)?;
    let start = read_start(&reader_db)?;
    Ok(OpenCache {
        writer_db,
        reader: Arc::new(Mutex::new(reader_db)),
        start,
        lock,
    })
}

/// Reads everything the first frame shows. A damaged row is skipped by the
/// database layer; a damaged cursor starts the sync over.
pub fn read_start(db: &Db) -> Result<CacheStart, DbError> {
    let rows = db.load_conversations(0, FIRST_ROWS)?;
    let rows_loaded = rows.len();
    let cursors = match db.get_meta(META_KEY)? {
        Some(json) => match serde_json::from_str::<SyncCursors>(&json) {
            Ok(cursors) => Some(cursors),
            Err(error) => {
                tracing::warn!(%error, "saved sync cursors unreadable; syncing from the start");
                None
            }
        },
        None => None,
    };
    let mut account_cursors = std::collections::HashMap::new();
    for (key, json) in db.meta_with_prefix(&format!("{META_KEY}."))? {
        let Some(account) = crate::sync::cursor::account_of_key(&key) else {
            continue;
        };
        match serde_json::from_str::<SyncCursors>(&json) {
            Ok(cursors) => {
                account_cursors.insert(account.to_string(), cursors);
            }
            Err(error) => {
                tracing::warn!(%error, account, "saved sync cursors unreadable; syncing the account from the start");
            }
        }
    }
    let snapshot = CacheSnapshot {
        conversations: rows
            .into_iter()
            .map(|r| (r.conversation, r.unread))
            .collect(),
        contacts: db.contact_directory()?,
        agents: db.load_agents()?,
        channels: db.load_channels()?,
        templates: db.load_templates()?,
        cursors,
        account_cursors,
    };
    let outbox = db
        .load_outbox()?
        .into_iter()
        .filter_map(|json| match serde_json::from_str::<OutboxItem>(&json) {
            Ok(item) => Some(item),
            Err(error) => {
                tracing::error!(%error, "an unreadable reply in the cached outbox was skipped");
                None
            }
        })
        .collect();
    let mutations = db
        .load_mutations(mutations::KIND)?
        .into_iter()
        .filter_map(
            |json| match serde_json::from_str::<ConversationMutation>(&json) {
                Ok(item) => Some(item),
                Err(error) => {
                    tracing::error!(%error, "an unreadable action in the mutation log was skipped");
                    None
                }
            },
        )
        .collect();
    let contact_edits = db
        .load_mutations(contact_edits::KIND)?
        .into_iter()
        .filter_map(|json| match serde_json::from_str::<ContactEdit>(&json) {
            Ok(item) => Some(item),
            Err(error) => {
                tracing::error!(%error, "an unreadable contact change in the mutation log was skipped");
                None
            }
        })
        .collect();
    let view = db
        .get_meta(views::META_KEY)?
        .and_then(|json| serde_json::from_str::<ViewSpec>(&json).ok());
    let template_memory = db
        .get_meta(template_memory::META_KEY)?
        .map(|json| TemplateMemory::from_json(&json))
        .unwrap_or_default();
    let me = db
        .get_meta(views::ME_KEY)?
        .filter(|id| !id.is_empty())
        .map(AgentId::new);
    Ok(CacheStart {
        store: Store::from_cache(snapshot),
        drafts: db.load_drafts()?,
        outbox,
        mutations,
        contact_edits,
        view,
        me,
        template_memory,
        rows_loaded,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_termdesk_on_the_same_cache_is_refused_until_the_first_leaves() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("work.sqlite");
        let first = open(&path).unwrap();
        let second = open(&path).err().expect("the cache is in use");
        assert!(matches!(second, DbError::Locked { .. }), "{second:?}");
        assert!(second.to_string().contains("another termdesk"));
        drop(first);
        assert!(open(&path).is_ok());
    }

    #[test]
    fn the_filter_finds_a_customer_by_phone_or_email_right_after_a_restart() {
        use crate::domain::{Contact, ContactId};
        use crate::store::db::DbWrite;
        use crate::store::fixtures::conversation;

        let dir = tempfile::tempdir().unwrap();
        let mut db = Db::open(&dir.path().join("work.sqlite")).unwrap();
        let mut row = conversation("a", 10, true);
        row.contact_id = Some(ContactId::new("p1"));
        let contact = Contact {
            email: Some("deniz@example.com".into()),
            phone: Some("+90 555 123 4567".into()),
            ..Contact::named("p1", "Deniz")
        };
        db.apply(&[
            DbWrite::UpsertConversations(vec![(row, 0)]),
            DbWrite::UpsertContacts(vec![contact]),
        ])
        .unwrap();
        let store = read_start(&db).unwrap().store;
        let details = store.contact_details(&ContactId::new("p1")).unwrap();
        assert_eq!(details.phone.as_deref(), Some("+90 555 123 4567"));
        assert_eq!(details.email.as_deref(), Some("deniz@example.com"));
        for query in ["5551234567", "deniz@ex"] {
            let view = views::compute(&store, &ViewSpec::default(), query, None);
            let rows: Vec<&str> = view.rows.iter().map(|id| id.as_str()).collect();
            assert_eq!(rows, ["a"], "{query}");
        }
    }

    #[test]
    fn account_names_become_safe_file_names() {
        assert_eq!(file_stem("work"), "work");
        assert_eq!(file_stem("../../etc/passwd"), "______etc_passwd");
        assert_eq!(file_stem(""), "account");
    }
}
