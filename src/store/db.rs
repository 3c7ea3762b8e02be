//! The durable cache: one SQLite database per account (design §8).
//!
//! Synchronous by design: the writer thread (`store::writer`) owns the
//! read-write connection, and readers open their own connections on
//! blocking threads. Domain objects are stored whole as JSON next to the
//! few columns that queries filter or order on, so adding a field to a
//! domain type needs no migration.
//!
//! A database that cannot be used is never deleted or rewritten here: the
//! error says what is wrong and the app runs from memory.

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, Transaction, params};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::domain::{
    Agent, ChannelInfo, Contact, ContactId, Conversation, ConversationId, Message, MessageId, Tag,
    Template,
};
use crate::store::CachedContact;
use crate::store::search_text;

/// Long enough to ride out a checkpoint or a reader's brief lock, short
/// enough that a database held by another program is reported at once
/// rather than freezing the writer.
const BUSY_TIMEOUT: Duration = Duration::from_millis(250);

/// Search hits show about this many characters of context.
const CONTEXT_GRAPHEMES: usize = 120;

type Backfill = fn(&Transaction<'_>) -> rusqlite::Result<()>;

struct Migration {
    version: u32,
    sql: &'static str,
    /// Work SQL cannot express (folding text for the search index), run in
    /// the same transaction after `sql`.
    then: Option<Backfill>,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        sql: include_str!("migrations/0001_core.sql"),
        then: None,
    },
    Migration {
        version: 2,
        sql: include_str!("migrations/0002_search.sql"),
        then: Some(backfill_search),
    },
    Migration {
        version: 3,
        sql: include_str!("migrations/0003_mutations.sql"),
        then: None,
    },
    Migration {
        version: 4,
        sql: include_str!("migrations/0004_contact_email.sql"),
        then: None,
    },
];

/// The schema version this code writes.
pub const SCHEMA_VERSION: u32 = MIGRATIONS[MIGRATIONS.len() - 1].version;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(
        "the cache {} is corrupt ({detail}); termdesk runs from memory — move it aside or start with --reset-cache",
        path.display()
    )]
    Corrupt { path: PathBuf, detail: String },
    #[error(
        "the cache {} is locked by another program (another termdesk?); termdesk runs from memory until it is free",
        path.display()
    )]
    Locked { path: PathBuf },
    #[error(
        "the cache {} cannot be written (read-only file, folder or disk); termdesk runs from memory — check its permissions",
        path.display()
    )]
    ReadOnly { path: PathBuf },
    #[error(
        "the cache {} was written by a newer termdesk (schema {found}, this one knows up to {supported}); termdesk runs from memory — upgrade termdesk or start with --reset-cache",
        path.display()
    )]
    TooNew {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error("the cache {} cannot be used ({detail}); termdesk runs from memory", path.display())]
    Other { path: PathBuf, detail: String },
}

impl DbError {
    fn from_sqlite(path: &Path, error: rusqlite::Error) -> DbError {
        let path = path.to_path_buf();
        let code = error.sqlite_error_code();
        match code {
            Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => DbError::Corrupt {
                path,
                detail: short_detail(&error),
            },
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => DbError::Locked { path },
            Some(ErrorCode::ReadOnly) => DbError::ReadOnly { path },
            Some(ErrorCode::CannotOpen | ErrorCode::PermissionDenied) if !writable(&path) => {
                DbError::ReadOnly { path }
            }
            Some(ErrorCode::DiskFull) => DbError::Other {
                path,
                detail: "the disk is full".into(),
            },
            _ => DbError::Other {
                path,
                detail: short_detail(&error),
            },
        }
    }

    fn from_io(path: &Path, error: std::io::Error) -> DbError {
        let path = path.to_path_buf();
        match error.kind() {
            std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem => {
                DbError::ReadOnly { path }
            }
            _ => DbError::Other {
                path,
                detail: error.to_string(),
            },
        }
    }

    fn other(path: &Path, detail: impl fmt::Display) -> DbError {
        DbError::Other {
            path: path.to_path_buf(),
            detail: detail.to_string(),
        }
    }
}

fn short_detail(error: &rusqlite::Error) -> String {
    match error {
        rusqlite::Error::SqliteFailure(_, Some(message)) => message.clone(),
        other => other.to_string(),
    }
}

/// Whether the file (or, when it does not exist, its folder) looks writable
/// to us, to tell "cannot open" apart from "not allowed to".
fn writable(path: &Path) -> bool {
    let target = if path.exists() {
        path
    } else {
        match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => return true,
        }
    };
    std::fs::metadata(target).is_ok_and(|m| !m.permissions().readonly())
}

pub struct Db {
    conn: Connection,
    path: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StoredConversation {
    pub conversation: Conversation,
    pub unread: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub enum DbWrite {
    UpsertConversations(Vec<(Conversation, u32)>),
    /// Read markers.
    SetUnread {
        conversation_id: ConversationId,
        unread: u32,
    },
    /// Keyed by message id. A message with a client id also replaces a
    /// stored row of the same conversation and client id under another id:
    /// the server's copy replaces the local echo.
    UpsertMessages(Vec<Message>),
    UpsertContacts(Vec<Contact>),
    /// A contact deleted on the server.
    DeleteContact(ContactId),
    SetAgents(Vec<Agent>),
    SetChannels(Vec<ChannelInfo>),
    SetTemplates(Vec<Template>),
    UpsertTags(Vec<Tag>),
    SetMeta {
        key: String,
        value: String,
    },
    /// Empty text deletes the draft.
    SetDraft {
        conversation_id: ConversationId,
        text: String,
    },
    /// A record of the mutation log (`kind` is `reply` for the outbox).
    /// An update keeps the record's place in the log.
    PutMutation {
        kind: &'static str,
        id: String,
        conversation_id: ConversationId,
        json: String,
    },
    RemoveMutation {
        id: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum SearchHit {
    Message {
        conversation_id: ConversationId,
        message_id: MessageId,
        created_at: DateTime<Utc>,
        sender_name: Option<String>,
        /// The original text around the first match, one line, `…` where
        /// cut.
        context: String,
    },
    Contact {
        contact_id: ContactId,
        name: String,
    },
}

fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

/// The search-index rowid of a message: creation second in the high 32
/// bits (offset so the whole u32 range of seconds fits a signed rowid, which
/// lasts until 2106), `messages.seq` in the low 32. FTS5 walks rowids in
/// order natively, so "newest first, LIMIT n" touches only n documents.
/// `None` for a seq past 2^32, which only billions of inserts could reach;
/// such a message is simply not searchable.
fn search_rowid(created_at_micros: i64, seq: i64) -> Option<i64> {
    let secs = created_at_micros
        .div_euclid(1_000_000)
        .clamp(0, i64::from(u32::MAX));
    let seq = u32::try_from(seq).ok()?;
    Some((secs - (1 << 31)) * (1 << 32) + i64::from(seq))
}

fn message_search_body(message: &Message) -> String {
    let mut body = search_text::fold(&message.text);
    let extra = message.subject.iter().map(String::as_str).chain(
        message
            .media
            .iter()
            .flat_map(|m| m.caption.iter().chain(m.file_name.iter()))
            .map(String::as_str),
    );
    for part in extra {
        let folded = search_text::fold(part);
        if !folded.is_empty() {
            if !body.is_empty() {
                body.push(' ');
            }
            body.push_str(&folded);
        }
    }
    body
}

fn contact_search_body(contact: &Contact) -> String {
    let parts = [
        Some(contact.display_name()),
        contact.username.clone(),
        contact.email.clone(),
        contact.phone.clone(),
    ];
    parts
        .iter()
        .flatten()
        .map(|p| search_text::fold(p))
        .filter(|f| !f.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn to_json<T: Serialize>(value: &T) -> rusqlite::Result<String> {
    serde_json::to_string(value).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
}

/// Parses a stored row, or logs and skips it: one bad row must not hide the
/// rest of the cache.
fn from_json<T: DeserializeOwned>(table: &str, key: &str, json: &str) -> Option<T> {
    match serde_json::from_str(json) {
        Ok(value) => Some(value),
        Err(error) => {
            tracing::warn!(table, key, %error, "skipping an unreadable cached row");
            None
        }
    }
}

impl Db {
    /// Opens (creating if needed) the cache at `path` and brings its schema
    /// up to date.
    pub fn open(path: &Path) -> Result<Db, DbError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| DbError::from_io(path, e))?;
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn =
            Connection::open_with_flags(path, flags).map_err(|e| DbError::from_sqlite(path, e))?;
        let mut db = Db {
            conn,
            path: Some(path.to_path_buf()),
        };
        db.prepare(false)?;
        Ok(db)
    }

    /// A connection that never writes: for `termdesk search` and background
    /// readers next to the writer. The schema must already be current.
    pub fn open_read_only(path: &Path) -> Result<Db, DbError> {
        if !path.exists() {
            return Err(DbError::other(path, "it does not exist yet"));
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn =
            Connection::open_with_flags(path, flags).map_err(|e| DbError::from_sqlite(path, e))?;
        let mut db = Db {
            conn,
            path: Some(path.to_path_buf()),
        };
        db.prepare(true)?;
        Ok(db)
    }

    pub fn open_in_memory() -> Result<Db, DbError> {
        let path = Path::new(":memory:");
        let conn = Connection::open_in_memory().map_err(|e| DbError::from_sqlite(path, e))?;
        let mut db = Db { conn, path: None };
        db.prepare(false)?;
        Ok(db)
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    fn err_path(&self) -> &Path {
        self.path.as_deref().unwrap_or(Path::new(":memory:"))
    }

    fn map(&self, error: rusqlite::Error) -> DbError {
        DbError::from_sqlite(self.err_path(), error)
    }

    fn prepare(&mut self, read_only: bool) -> Result<(), DbError> {
        self.conn
            .busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| self.map(e))?;
        // Reading the header and the schema is what detects "not a
        // database" and a damaged schema; a full quick_check would cost
        // seconds on a large cache at every start.
        let version = self.schema_version()?;
        self.conn
            .query_row("SELECT count(*) FROM sqlite_master", [], |r| {
                r.get::<_, i64>(0)
            })
            .map_err(|e| self.map(e))?;
        if version > SCHEMA_VERSION {
            return Err(DbError::TooNew {
                path: self.err_path().to_path_buf(),
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        if read_only {
            if version < SCHEMA_VERSION {
                return Err(DbError::other(
                    self.err_path(),
                    "it was written by an older termdesk; start termdesk once to upgrade it",
                ));
            }
            return Ok(());
        }
        if self.conn.is_readonly("main").map_err(|e| self.map(e))? {
            return Err(DbError::ReadOnly {
                path: self.err_path().to_path_buf(),
            });
        }
        // WAL lets background readers run while the writer commits; NORMAL
        // sync is durable across application crashes, which is what a
        // cache of server data needs.
        self.conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0))
            .map_err(|e| self.map(e))?;
        self.conn
            .pragma_update(None, "synchronous", "NORMAL")
            .map_err(|e| self.map(e))?;
        self.migrate(version)
    }

    fn migrate(&mut self, from: u32) -> Result<(), DbError> {
        for migration in MIGRATIONS.iter().filter(|m| m.version > from) {
            let path = self.err_path().to_path_buf();
            let run = |conn: &mut Connection| -> rusqlite::Result<()> {
                let tx =
                    conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                tx.execute_batch(migration.sql)?;
                if let Some(then) = migration.then {
                    then(&tx)?;
                }
                tx.pragma_update(None, "user_version", migration.version)?;
                tx.commit()
            };
            run(&mut self.conn).map_err(|e| DbError::from_sqlite(&path, e))?;
            tracing::info!(version = migration.version, "cache schema upgraded");
        }
        Ok(())
    }

    pub fn schema_version(&self) -> Result<u32, DbError> {
        self.conn
            .query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))
            .map(|v| u32::try_from(v).unwrap_or(u32::MAX))
            .map_err(|e| self.map(e))
    }

    /// Applies the whole batch in one transaction: all of it or none.
    pub fn apply(&mut self, batch: &[DbWrite]) -> Result<(), DbError> {
        if batch.is_empty() {
            return Ok(());
        }
        let path = self.err_path().to_path_buf();
        let run = |conn: &mut Connection| -> rusqlite::Result<()> {
            // IMMEDIATE takes the write lock up front, so a database held by
            // someone else fails here, within the busy timeout, instead of
            // half way through.
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            for write in batch {
                apply_one(&tx, write)?;
            }
            tx.commit()
        };
        run(&mut self.conn).map_err(|e| DbError::from_sqlite(&path, e))
    }

    pub fn conversation_count(&self) -> Result<usize, DbError> {
        self.count("SELECT count(*) FROM conversations")
    }

    pub fn contact_count(&self) -> Result<usize, DbError> {
        self.count("SELECT count(*) FROM contacts")
    }

    /// Total cached messages.
    pub fn message_count(&self) -> Result<usize, DbError> {
        self.count("SELECT count(*) FROM messages")
    }

    fn count(&self, sql: &str) -> Result<usize, DbError> {
        self.conn
            .query_row(sql, [], |r| r.get::<_, i64>(0))
            .map(|n| usize::try_from(n).unwrap_or(0))
            .map_err(|e| self.map(e))
    }

    /// Most recently updated first; ties by id so pages never overlap.
    pub fn load_conversations(
        &self,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<StoredConversation>, DbError> {
        let run = || -> rusqlite::Result<Vec<StoredConversation>> {
            let mut stmt = self.conn.prepare_cached(
                "SELECT id, unread, json FROM conversations
                 ORDER BY updated_at DESC, id ASC LIMIT ?1 OFFSET ?2",
            )?;
            let rows = stmt.query_map(params![to_i64(limit), to_i64(offset)], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (id, unread, json) = row?;
                if let Some(conversation) = from_json("conversations", &id, &json) {
                    out.push(StoredConversation {
                        conversation,
                        unread: u32::try_from(unread).unwrap_or(0),
                    });
                }
            }
            Ok(out)
        };
        run().map_err(|e| self.map(e))
    }

    /// Every contact: the label rows show, phone and e-mail.
    pub fn contact_directory(&self) -> Result<Vec<CachedContact>, DbError> {
        let run = || -> rusqlite::Result<Vec<CachedContact>> {
            let mut stmt = self
                .conn
                .prepare_cached("SELECT id, name, phone, email FROM contacts")?;
            let rows = stmt.query_map([], |r| {
                Ok(CachedContact {
                    id: ContactId(r.get(0)?),
                    label: r.get(1)?,
                    phone: r.get(2)?,
                    email: r.get(3)?,
                })
            })?;
            rows.collect()
        };
        run().map_err(|e| self.map(e))
    }

    pub fn get_contact(&self, id: &ContactId) -> Result<Option<Contact>, DbError> {
        let json: Option<String> = self
            .conn
            .query_row(
                "SELECT json FROM contacts WHERE id = ?1",
                [id.as_str()],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.map(e))?;
        Ok(json.and_then(|j| from_json("contacts", id.as_str(), &j)))
    }

    /// Newest first, strictly older than `before` by (created_at, id): pass
    /// the oldest message of the previous page to get the next one.
    pub fn load_messages(
        &self,
        conversation: &ConversationId,
        before: Option<(DateTime<Utc>, MessageId)>,
        limit: usize,
    ) -> Result<Vec<Message>, DbError> {
        let run = || -> rusqlite::Result<Vec<Message>> {
            let rows: Vec<(String, String)> = match &before {
                None => {
                    let mut stmt = self.conn.prepare_cached(
                        "SELECT id, json FROM messages WHERE conversation_id = ?1
                         ORDER BY created_at DESC, id DESC LIMIT ?2",
                    )?;
                    stmt.query_map(params![conversation.as_str(), to_i64(limit)], |r| {
                        Ok((r.get(0)?, r.get(1)?))
                    })?
                    .collect::<rusqlite::Result<_>>()?
                }
                Some((at, id)) => {
                    let mut stmt = self.conn.prepare_cached(
                        "SELECT id, json FROM messages
                         WHERE conversation_id = ?1 AND (created_at, id) < (?2, ?3)
                         ORDER BY created_at DESC, id DESC LIMIT ?4",
                    )?;
                    stmt.query_map(
                        params![
                            conversation.as_str(),
                            micros(*at),
                            id.as_str(),
                            to_i64(limit)
                        ],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )?
                    .collect::<rusqlite::Result<_>>()?
                }
            };
            Ok(rows
                .iter()
                .filter_map(|(id, json)| from_json("messages", id, json))
                .collect())
        };
        run().map_err(|e| self.map(e))
    }

    pub fn load_drafts(&self) -> Result<Vec<(ConversationId, String)>, DbError> {
        let run = || -> rusqlite::Result<Vec<(ConversationId, String)>> {
            let mut stmt = self.conn.prepare_cached(
                "SELECT conversation_id, text FROM drafts ORDER BY conversation_id",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    ConversationId(r.get::<_, String>(0)?),
                    r.get::<_, String>(1)?,
                ))
            })?;
            rows.collect()
        };
        run().map_err(|e| self.map(e))
    }

    /// The newest customer message since `since` per conversation that has
    /// one: what WhatsApp's reply window needs after a restart, when the
    /// list's previews show only the last message of each.
    pub fn recent_inbound(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Vec<(ConversationId, DateTime<Utc>)>, DbError> {
        let run = || -> rusqlite::Result<Vec<(ConversationId, i64)>> {
            let mut stmt = self.conn.prepare_cached(
                "SELECT conversation_id, MAX(created_at) FROM messages \
                 WHERE created_at >= ?1 AND json LIKE '%\"sender\":\"Contact\"%' \
                 GROUP BY conversation_id",
            )?;
            let rows = stmt.query_map([micros(since)], |r| {
                Ok((ConversationId(r.get::<_, String>(0)?), r.get::<_, i64>(1)?))
            })?;
            rows.collect()
        };
        let rows = run().map_err(|e| self.map(e))?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, at)| Some((id, DateTime::from_timestamp_micros(at)?)))
            .collect())
    }

    /// Outbox items as stored, in the order first queued.
    pub fn load_outbox(&self) -> Result<Vec<String>, DbError> {
        self.load_mutations(crate::store::outbox::KIND)
    }

    /// Records of one kind of the mutation log, in the order first made.
    pub fn load_mutations(&self, kind: &str) -> Result<Vec<String>, DbError> {
        let run = || -> rusqlite::Result<Vec<String>> {
            let mut stmt = self
                .conn
                .prepare_cached("SELECT json FROM mutations WHERE kind = ?1 ORDER BY seq")?;
            let rows = stmt.query_map([kind], |r| r.get::<_, String>(0))?;
            rows.collect()
        };
        run().map_err(|e| self.map(e))
    }

    pub fn get_meta(&self, key: &str) -> Result<Option<String>, DbError> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(|e| self.map(e))
    }

    /// Every metadata entry whose key starts with `prefix`, by key.
    pub fn meta_with_prefix(&self, prefix: &str) -> Result<Vec<(String, String)>, DbError> {
        let run = || -> rusqlite::Result<Vec<(String, String)>> {
            let mut stmt = self.conn.prepare_cached(
                "SELECT key, value FROM meta WHERE substr(key, 1, length(?1)) = ?1 ORDER BY key",
            )?;
            let rows = stmt.query_map([prefix], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect()
        };
        run().map_err(|e| self.map(e))
    }

    pub fn load_agents(&self) -> Result<Vec<Agent>, DbError> {
        self.load_json("agents", "SELECT id, json FROM agents ORDER BY pos")
    }

    pub fn load_channels(&self) -> Result<Vec<ChannelInfo>, DbError> {
        self.load_json("channels", "SELECT id, json FROM channels ORDER BY pos")
    }

    pub fn load_templates(&self) -> Result<Vec<Template>, DbError> {
        self.load_json("templates", "SELECT id, json FROM templates ORDER BY pos")
    }

    /// Tags by name.
    pub fn load_tags(&self) -> Result<Vec<Tag>, DbError> {
        self.load_json("tags", "SELECT id, json FROM tags ORDER BY name, id")
    }

    fn load_json<T: DeserializeOwned>(&self, table: &str, sql: &str) -> Result<Vec<T>, DbError> {
        let run = || -> rusqlite::Result<Vec<T>> {
            let mut stmt = self.conn.prepare_cached(sql)?;
            let rows =
                stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
            let mut out = Vec::new();
            for row in rows {
                let (id, json) = row?;
                out.extend(from_json(table, &id, &json));
            }
            Ok(out)
        };
        run().map_err(|e| self.map(e))
    }

    /// Contacts whose name, username, e-mail or phone match come first (at
    /// most a quarter of `limit`, at least one), then messages, newest
    /// first, up to `limit` hits in all. Every word must match; the last
    /// one may be the start of a word. Nothing in `query` is query syntax.
    pub fn search(&self, query: &str, limit: usize) -> Result<Vec<SearchHit>, DbError> {
        let Some(fts) = search_text::fts_query(query) else {
            return Ok(Vec::new());
        };
        if limit == 0 {
            return Ok(Vec::new());
        }
        let run = || -> rusqlite::Result<Vec<SearchHit>> {
            let mut hits = Vec::new();
            let contact_limit = (limit / 4).max(1);
            let mut stmt = self.conn.prepare_cached(
                "SELECT c.id, c.name FROM contact_search f JOIN contacts c ON c.seq = f.rowid
                 WHERE contact_search MATCH ?1 LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![fts, to_i64(contact_limit)], |r| {
                Ok(SearchHit::Contact {
                    contact_id: ContactId(r.get(0)?),
                    name: r.get(1)?,
                })
            })?;
            for row in rows {
                hits.push(row?);
            }

            let message_limit = limit - hits.len();
            let mut stmt = self.conn.prepare_cached(
                "SELECT m.id, m.json FROM message_search f
                 JOIN messages m ON m.seq = (f.rowid & 4294967295)
                 WHERE message_search MATCH ?1 ORDER BY f.rowid DESC LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![fts, to_i64(message_limit)], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })?;
            let mut messages = Vec::new();
            for row in rows {
                let (id, json) = row?;
                if let Some(message) = from_json::<Message>("messages", &id, &json) {
                    messages.push(message);
                }
            }
            // The index orders by the second; finish the job within it.
            messages.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(a.id.cmp(&b.id)));
            hits.extend(messages.into_iter().map(|m| {
                let context = std::iter::once(&m.text)
                    .chain(m.subject.iter())
                    .chain(
                        m.media
                            .iter()
                            .flat_map(|x| x.caption.iter().chain(x.file_name.iter())),
                    )
                    .find_map(|text| search_text::context(text, query, CONTEXT_GRAPHEMES))
                    .unwrap_or_else(|| search_text::excerpt(&m.text, CONTEXT_GRAPHEMES));
                SearchHit::Message {
                    conversation_id: m.conversation_id,
                    message_id: m.id,
                    created_at: m.created_at,
                    sender_name: m.sender_name,
                    context,
                }
            }));
            Ok(hits)
        };
        run().map_err(|e| self.map(e))
    }

    #[cfg(test)]
    fn conn(&self) -> &Connection {
        &self.conn
    }
}

fn to_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn apply_one(tx: &Transaction<'_>, write: &DbWrite) -> rusqlite::Result<()> {
    match write {
        DbWrite::UpsertConversations(items) => {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO conversations (id, updated_at, contact_id, unread, json)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (id) DO UPDATE SET updated_at = excluded.updated_at,
                   contact_id = excluded.contact_id, unread = excluded.unread, json = excluded.json",
            )?;
            for (conversation, unread) in items {
                stmt.execute(params![
                    conversation.id.as_str(),
                    micros(conversation.updated_at),
                    conversation.contact_id.as_ref().map(|c| c.as_str()),
                    unread,
                    to_json(conversation)?,
                ])?;
            }
        }
        DbWrite::SetUnread {
            conversation_id,
            unread,
        } => {
            tx.prepare_cached("UPDATE conversations SET unread = ?2 WHERE id = ?1")?
                .execute(params![conversation_id.as_str(), unread])?;
        }
        DbWrite::UpsertMessages(messages) => {
            for message in messages {
                upsert_message(tx, message)?;
            }
        }
        DbWrite::UpsertContacts(contacts) => {
            for contact in contacts {
                upsert_contact(tx, contact)?;
            }
        }
        DbWrite::DeleteContact(id) => {
            tx.prepare_cached(
                "DELETE FROM contact_search WHERE rowid = (SELECT seq FROM contacts WHERE id = ?1)",
            )?
            .execute([id.as_str()])?;
            tx.prepare_cached("DELETE FROM contacts WHERE id = ?1")?
                .execute([id.as_str()])?;
        }
        DbWrite::SetAgents(agents) => {
            replace_directory(tx, "agents", agents.iter().map(|a| (a.id.as_str(), a)))?
        }
        DbWrite::SetChannels(channels) => {
            replace_directory(tx, "channels", channels.iter().map(|c| (c.id.as_str(), c)))?
        }
        DbWrite::SetTemplates(templates) => replace_directory(
            tx,
            "templates",
            templates.iter().map(|t| (t.id.as_str(), t)),
        )?,
        DbWrite::UpsertTags(tags) => {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO tags (id, name, json) VALUES (?1, ?2, ?3)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, json = excluded.json",
            )?;
            for tag in tags {
                stmt.execute(params![tag.id.as_str(), tag.name, to_json(tag)?])?;
            }
        }
        DbWrite::SetMeta { key, value } => {
            tx.prepare_cached(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )?
            .execute(params![key, value])?;
        }
        DbWrite::SetDraft {
            conversation_id,
            text,
        } => {
            if text.is_empty() {
                tx.prepare_cached("DELETE FROM drafts WHERE conversation_id = ?1")?
                    .execute([conversation_id.as_str()])?;
            } else {
                tx.prepare_cached(
                    "INSERT INTO drafts (conversation_id, text) VALUES (?1, ?2)
                     ON CONFLICT (conversation_id) DO UPDATE SET text = excluded.text",
                )?
                .execute(params![conversation_id.as_str(), text])?;
            }
        }
        DbWrite::PutMutation {
            kind,
            id,
            conversation_id,
            json,
        } => {
            tx.prepare_cached(
                "INSERT INTO mutations (kind, client_id, conversation_id, json) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (client_id) DO UPDATE SET conversation_id = excluded.conversation_id,
                   json = excluded.json",
            )?
            .execute(params![kind, id, conversation_id.as_str(), json])?;
        }
        DbWrite::RemoveMutation { id } => {
            tx.prepare_cached("DELETE FROM mutations WHERE client_id = ?1")?
                .execute([id])?;
        }
    }
    Ok(())
}

fn replace_directory<'a, T: Serialize + 'a>(
    tx: &Transaction<'_>,
    table: &str,
    items: impl Iterator<Item = (&'a str, &'a T)>,
) -> rusqlite::Result<()> {
    tx.execute(&format!("DELETE FROM {table}"), [])?;
    let mut stmt = tx.prepare_cached(&format!(
        "INSERT OR REPLACE INTO {table} (id, pos, json) VALUES (?1, ?2, ?3)"
    ))?;
    for (pos, (id, item)) in items.enumerate() {
        stmt.execute(params![id, to_i64(pos), to_json(item)?])?;
    }
    Ok(())
}

fn delete_message_row(tx: &Transaction<'_>, seq: i64, created_at: i64) -> rusqlite::Result<()> {
    if let Some(rowid) = search_rowid(created_at, seq) {
        tx.prepare_cached("DELETE FROM message_search WHERE rowid = ?1")?
            .execute([rowid])?;
    }
    tx.prepare_cached("DELETE FROM messages WHERE seq = ?1")?
        .execute([seq])?;
    Ok(())
}

fn upsert_message(tx: &Transaction<'_>, message: &Message) -> rusqlite::Result<()> {
    let created_at = micros(message.created_at);
    if let Some(client_id) = &message.client_id {
        let echoes: Vec<(i64, i64)> = tx
            .prepare_cached(
                "SELECT seq, created_at FROM messages
                 WHERE conversation_id = ?1 AND client_id = ?2 AND id <> ?3",
            )?
            .query_map(
                params![
                    message.conversation_id.as_str(),
                    client_id,
                    message.id.as_str()
                ],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?
            .collect::<rusqlite::Result<_>>()?;
        for (seq, at) in echoes {
            delete_message_row(tx, seq, at)?;
        }
    }
    let json = to_json(message)?;
    let existing: Option<(i64, i64)> = tx
        .prepare_cached("SELECT seq, created_at FROM messages WHERE id = ?1")?
        .query_row([message.id.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let seq = match existing {
        Some((seq, old_created_at)) => {
            if let Some(rowid) = search_rowid(old_created_at, seq) {
                tx.prepare_cached("DELETE FROM message_search WHERE rowid = ?1")?
                    .execute([rowid])?;
            }
            tx.prepare_cached(
                "UPDATE messages SET conversation_id = ?2, client_id = ?3, created_at = ?4, json = ?5
                 WHERE seq = ?1",
            )?
            .execute(params![
                seq,
                message.conversation_id.as_str(),
                message.client_id,
                created_at,
                json
            ])?;
            seq
        }
        None => {
            tx.prepare_cached(
                "INSERT INTO messages (id, conversation_id, client_id, created_at, json)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                message.id.as_str(),
                message.conversation_id.as_str(),
                message.client_id,
                created_at,
                json
            ])?;
            tx.last_insert_rowid()
        }
    };
    index_message(tx, seq, created_at, message)
}

fn index_message(
    tx: &Transaction<'_>,
    seq: i64,
    created_at: i64,
    message: &Message,
) -> rusqlite::Result<()> {
    let body = message_search_body(message);
    if body.is_empty() {
        return Ok(());
    }
    match search_rowid(created_at, seq) {
        Some(rowid) => {
            tx.prepare_cached("INSERT INTO message_search (rowid, body) VALUES (?1, ?2)")?
                .execute(params![rowid, body])?;
        }
        None => tracing::warn!(seq, "message past the searchable range; not indexed"),
    }
    Ok(())
}

fn upsert_contact(tx: &Transaction<'_>, contact: &Contact) -> rusqlite::Result<()> {
    let json = to_json(contact)?;
    let label = contact.label();
    let seq: i64 = tx
        .prepare_cached(
            "INSERT INTO contacts (id, updated_at, name, phone, email, json)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (id) DO UPDATE SET updated_at = excluded.updated_at,
               name = excluded.name, phone = excluded.phone, email = excluded.email,
               json = excluded.json
             RETURNING seq",
        )?
        .query_row(
            params![
                contact.id.as_str(),
                contact.updated_at.map(micros),
                label,
                contact.phone,
                contact.email,
                json
            ],
            |r| r.get(0),
        )?;
    index_contact(tx, seq, contact)
}

fn index_contact(tx: &Transaction<'_>, seq: i64, contact: &Contact) -> rusqlite::Result<()> {
    tx.prepare_cached("DELETE FROM contact_search WHERE rowid = ?1")?
        .execute([seq])?;
    let body = contact_search_body(contact);
    if !body.is_empty() {
        tx.prepare_cached("INSERT INTO contact_search (rowid, body) VALUES (?1, ?2)")?
            .execute(params![seq, body])?;
    }
    Ok(())
}

/// Migration 2: index what version 1 had cached. Unreadable rows are logged
/// and left out of the index rather than failing the upgrade.
fn backfill_search(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    let mut skipped = HashSet::new();
    {
        let mut stmt = tx.prepare("SELECT seq, id, created_at, json FROM messages")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let (seq, id, created_at, json): (i64, String, i64, String) =
                (row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?);
            match from_json::<Message>("messages", &id, &json) {
                Some(message) => index_message(tx, seq, created_at, &message)?,
                None => {
                    skipped.insert(id);
                }
            }
        }
    }
    let mut stmt = tx.prepare("SELECT seq, id, json FROM contacts")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let (seq, id, json): (i64, String, String) = (row.get(0)?, row.get(1)?, row.get(2)?);
        match from_json::<Contact>("contacts", &id, &json) {
            Some(contact) => index_contact(tx, seq, &contact)?,
            None => {
                skipped.insert(id);
            }
        }
    }
    if !skipped.is_empty() {
        tracing::warn!(count = skipped.len(), "rows left out of the search index");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{
        Ack, AgentId, Channel, ChannelId, ConversationStatus, MessageKind, SenderKind, TagId,
        TemplateId, TemplateStatus,
    };
    use chrono::TimeZone;

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000 + secs, 0).unwrap()
    }

    fn conversation(id: &str, updated: i64) -> Conversation {
        Conversation {
            id: ConversationId::from(id),
            contact_id: Some(ContactId::from(format!("contact-{id}").as_str())),
            contact_name: format!("Customer {id}"),
            channel: Channel::WhatsApp,
            reply_channel_id: None,
            status: ConversationStatus::Open,
            assignee: None,
            starred: false,
            priority: None,
            tags: vec![],
            last_message: None,
            created_at: None,
            updated_at: at(updated),
            unread: None,
        }
    }

    fn message(conversation: &str, id: &str, secs: i64, text: &str) -> Message {
        Message {
            id: MessageId::from(id),
            conversation_id: ConversationId::from(conversation),
            client_id: None,
            sender: SenderKind::Contact,
            sender_name: Some("Ayşe".into()),
            kind: MessageKind::Text,
            channel: None,
            text: text.into(),
            subject: None,
            media: vec![],
            quoted: None,
            ack: Ack::Delivered,
            failed_reason: None,
            created_at: at(secs),
        }
    }

    fn contact(id: &str, first: &str, last: Option<&str>, phone: Option<&str>) -> Contact {
        Contact {
            id: ContactId::from(id),
            first_name: first.into(),
            last_name: last.map(Into::into),
            username: None,
            avatar: None,
            email: None,
            phone: phone.map(Into::into),
            phone_country_code: None,
            country: None,
            gender: None,
            language: None,
            tags: vec![],
            phone_usage_permission: None,
            email_usage_permission: None,
            owner: None,
            platforms: vec![],
            created_at: None,
            updated_at: Some(at(0)),
        }
    }

    fn agent(id: &str) -> Agent {
        Agent {
            id: AgentId::from(id),
            first_name: "Ada".into(),
            last_name: id.into(),
            email: format!("{id}@example.com"),
            role: "ADMIN".into(),
            active: true,
            is_bot: false,
        }
    }

    fn ids(messages: &[Message]) -> Vec<&str> {
        messages.iter().map(|m| m.id.as_str()).collect()
    }

    fn message_ids(hits: &[SearchHit]) -> Vec<&str> {
        hits.iter()
            .filter_map(|h| match h {
                SearchHit::Message { message_id, .. } => Some(message_id.as_str()),
                SearchHit::Contact { .. } => None,
            })
            .collect()
    }

    fn db_with(messages: Vec<Message>) -> Db {
        let mut db = Db::open_in_memory().unwrap();
        db.apply(&[DbWrite::UpsertMessages(messages)]).unwrap();
        db
    }

    #[test]
    fn recent_inbound_is_the_newest_customer_message_per_conversation() {
        let mut agent = message("a", "a3", 300, "our answer");
        agent.sender = SenderKind::Agent;
        let db = db_with(vec![
            message("a", "a1", 100, "old question"),
            message("a", "a2", 200, "newer question"),
            agent,
            message("b", "b1", 50, "too old"),
        ]);
        let mut recent = db.recent_inbound(at(60)).unwrap();
        recent.sort();
        assert_eq!(recent, vec![(ConversationId::from("a"), at(200))]);
    }

    #[test]
    fn a_new_database_is_at_the_current_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/deeper/account.sqlite");
        let db = Db::open(&path).unwrap();
        assert_eq!(db.schema_version().unwrap(), SCHEMA_VERSION);
        assert_eq!(db.path(), Some(path.as_path()));
        assert!(path.exists());
        let mode: String = db
            .conn()
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        assert_eq!(Db::open_in_memory().unwrap().path(), None);
    }

    #[test]
    fn conversations_round_trip_in_recency_order_with_unread() {
        let mut db = Db::open_in_memory().unwrap();
        db.apply(&[DbWrite::UpsertConversations(vec![
            (conversation("b", 10), 1),
            (conversation("a", 10), 0),
            (conversation("c", 30), 5),
            (conversation("d", 20), 2),
        ])])
        .unwrap();
        let mut newer = conversation("d", 40);
        newer.starred = true;
        db.apply(&[
            DbWrite::UpsertConversations(vec![(newer.clone(), 3)]),
            DbWrite::SetUnread {
                conversation_id: ConversationId::from("c"),
                unread: 0,
            },
            DbWrite::SetUnread {
                conversation_id: ConversationId::from("missing"),
                unread: 9,
            },
        ])
        .unwrap();
        assert_eq!(db.conversation_count().unwrap(), 4);
        let all = db.load_conversations(0, 10).unwrap();
        let order: Vec<_> = all.iter().map(|s| s.conversation.id.as_str()).collect();
        assert_eq!(order, ["d", "c", "a", "b"]);
        assert_eq!(all[0].conversation, newer);
        assert_eq!(
            all.iter().map(|s| s.unread).collect::<Vec<_>>(),
            [3, 0, 0, 1]
        );
        let page: Vec<_> = db
            .load_conversations(2, 1)
            .unwrap()
            .into_iter()
            .map(|s| s.conversation.id.0)
            .collect();
        assert_eq!(page, ["a"]);
    }

    #[test]
    fn messages_page_backwards_by_time_then_id() {
        let db = db_with(vec![
            message("c", "m1", 1, "one"),
            message("c", "m3", 3, "three"),
            message("c", "m2b", 2, "two b"),
            message("c", "m2a", 2, "two a"),
            message("other", "x", 5, "elsewhere"),
        ]);
        let c = ConversationId::from("c");
        let first = db.load_messages(&c, None, 2).unwrap();
        assert_eq!(ids(&first), ["m3", "m2b"]);
        let last = first.last().unwrap();
        let next = db
            .load_messages(&c, Some((last.created_at, last.id.clone())), 10)
            .unwrap();
        assert_eq!(ids(&next), ["m2a", "m1"]);
        assert_eq!(next[1], message("c", "m1", 1, "one"));
    }

    #[test]
    fn the_servers_copy_replaces_the_local_echo() {
        let mut echo = message("c", "local-1", 5, "on its way");
        echo.client_id = Some("front-1".into());
        echo.ack = Ack::Pending;
        let mut db = db_with(vec![echo]);
        let mut server = message("c", "srv-9", 6, "on its way");
        server.client_id = Some("front-1".into());
        server.ack = Ack::Sent;
        db.apply(&[DbWrite::UpsertMessages(vec![server.clone()])])
            .unwrap();
        let c = ConversationId::from("c");
        assert_eq!(
            db.load_messages(&c, None, 10).unwrap(),
            vec![server.clone()]
        );
        // The echo's text is no longer found twice.
        assert_eq!(message_ids(&db.search("way", 10).unwrap()), ["srv-9"]);

        // The same id again updates in place, and its new text is what is
        // found.
        server.text = "edited".into();
        server.created_at = at(7);
        db.apply(&[DbWrite::UpsertMessages(vec![server.clone()])])
            .unwrap();
        assert_eq!(db.load_messages(&c, None, 10).unwrap(), vec![server]);
        assert!(db.search("way", 10).unwrap().is_empty());
        assert_eq!(message_ids(&db.search("edited", 10).unwrap()), ["srv-9"]);
    }

    #[test]
    fn contacts_round_trip_with_labels() {
        let mut db = Db::open_in_memory().unwrap();
        let mut ayse = contact("1", "Ayşe", Some("Yılmaz"), Some("+90 555"));
        ayse.email = Some("ayse@example.com".into());
        let nameless = contact("2", "", None, Some("+81 3 1234"));
        db.apply(&[DbWrite::UpsertContacts(vec![ayse.clone(), nameless])])
            .unwrap();
        let mut renamed = ayse.clone();
        renamed.last_name = Some("Kaya".into());
        db.apply(&[DbWrite::UpsertContacts(vec![renamed.clone()])])
            .unwrap();
        assert_eq!(db.contact_count().unwrap(), 2);
        assert_eq!(
            db.get_contact(&ContactId::from("1")).unwrap(),
            Some(renamed)
        );
        assert_eq!(db.get_contact(&ContactId::from("nope")).unwrap(), None);
        let mut directory = db.contact_directory().unwrap();
        directory.sort_by(|a, b| a.id.cmp(&b.id));
        assert_eq!(
            directory,
            vec![
                CachedContact {
                    id: ContactId::from("1"),
                    label: "Ayşe Kaya".into(),
                    phone: Some("+90 555".into()),
                    email: Some("ayse@example.com".into()),
                },
                CachedContact {
                    id: ContactId::from("2"),
                    label: "+81 3 1234".into(),
                    phone: Some("+81 3 1234".into()),
                    email: None,
                },
            ]
        );
        let hits = db.search("ayse kaya", 10).unwrap();
        assert_eq!(
            hits,
            vec![SearchHit::Contact {
                contact_id: ContactId::from("1"),
                name: "Ayşe Kaya".into()
            }]
        );
        assert!(db.search("yilmaz", 10).unwrap().is_empty());
    }

    #[test]
    fn directories_meta_drafts_round_trip() {
        let mut db = Db::open_in_memory().unwrap();
        let channel = ChannelInfo {
            id: ChannelId::from("ch"),
            name: "Support line".into(),
            channel: Channel::WhatsApp,
            connected: true,
            address: Some("+90".into()),
        };
        let template = Template {
            id: TemplateId::from("t"),
            name: "welcome".into(),
            language: "tr".into(),
            category: None,
            status: TemplateStatus::Approved,
            channel_id: None,
            header: None,
            header_format: None,
            body: "Merhaba {{1}}".into(),
            footer: None,
            buttons: vec![],
            rejected_reason: None,
        };
        let tag = |id: &str, name: &str| Tag {
            id: TagId::from(id),
            name: name.into(),
            color: None,
        };
        db.apply(&[
            DbWrite::SetAgents(vec![agent("z"), agent("a")]),
            DbWrite::SetChannels(vec![channel.clone()]),
            DbWrite::SetTemplates(vec![template.clone()]),
            DbWrite::UpsertTags(vec![tag("1", "vip"), tag("2", "angry")]),
            DbWrite::SetMeta {
                key: "cursor".into(),
                value: "1".into(),
            },
            DbWrite::SetMeta {
                key: "cursor".into(),
                value: "2".into(),
            },
            DbWrite::SetDraft {
                conversation_id: ConversationId::from("c1"),
                text: "half a reply".into(),
            },
            DbWrite::SetDraft {
                conversation_id: ConversationId::from("c2"),
                text: "gone soon".into(),
            },
        ])
        .unwrap();
        db.apply(&[
            DbWrite::SetAgents(vec![agent("b")]),
            DbWrite::UpsertTags(vec![tag("1", "VIP")]),
            DbWrite::SetDraft {
                conversation_id: ConversationId::from("c2"),
                text: String::new(),
            },
        ])
        .unwrap();
        assert_eq!(db.load_agents().unwrap(), vec![agent("b")]);
        assert_eq!(db.load_channels().unwrap(), vec![channel]);
        assert_eq!(db.load_templates().unwrap(), vec![template]);
        assert_eq!(
            db.load_tags().unwrap(),
            vec![tag("1", "VIP"), tag("2", "angry")]
        );
        assert_eq!(db.get_meta("cursor").unwrap().as_deref(), Some("2"));
        assert_eq!(db.get_meta("absent").unwrap(), None);
        assert_eq!(
            db.load_drafts().unwrap(),
            vec![(ConversationId::from("c1"), "half a reply".to_string())]
        );
    }

    #[test]
    fn outbox_keeps_first_queued_order() {
        let mut db = Db::open_in_memory().unwrap();
        let item = |client: &str, json: &str| DbWrite::PutMutation {
            kind: crate::store::outbox::KIND,
            id: client.into(),
            conversation_id: ConversationId::from("c"),
            json: json.into(),
        };
        db.apply(&[item("a", "a1"), item("b", "b1"), item("c", "c1")])
            .unwrap();
        db.apply(&[
            item("a", "a2"),
            DbWrite::RemoveMutation { id: "b".into() },
            item("d", "d1"),
        ])
        .unwrap();
        assert_eq!(db.load_outbox().unwrap(), ["a2", "c1", "d1"]);
        db.apply(&[DbWrite::RemoveMutation { id: "d".into() }])
            .unwrap();
        db.apply(&[item("e", "e1")]).unwrap();
        assert_eq!(db.load_outbox().unwrap(), ["a2", "c1", "e1"]);
    }

    #[test]
    fn a_batch_is_all_or_nothing() {
        let mut db = Db::open_in_memory().unwrap();
        db.conn()
            .execute_batch("CREATE TRIGGER refuse BEFORE INSERT ON meta WHEN NEW.key = 'bad' BEGIN SELECT RAISE(ABORT, 'refused'); END;")
            .unwrap();
        let result = db.apply(&[
            DbWrite::SetDraft {
                conversation_id: ConversationId::from("c"),
                text: "x".into(),
            },
            DbWrite::SetMeta {
                key: "bad".into(),
                value: "v".into(),
            },
        ]);
        assert!(matches!(result, Err(DbError::Other { .. })), "{result:?}");
        assert!(db.load_drafts().unwrap().is_empty());
    }

    #[test]
    fn unreadable_rows_are_skipped() {
        let mut db = Db::open_in_memory().unwrap();
        db.apply(&[
            DbWrite::UpsertConversations(vec![(conversation("good", 1), 0)]),
            DbWrite::UpsertMessages(vec![message("c", "ok", 1, "fine text")]),
        ])
        .unwrap();
        db.conn()
            .execute_batch(
                "INSERT INTO conversations (id, updated_at, unread, json) VALUES ('bad', 99, 0, '{oops');
                 INSERT INTO messages (id, conversation_id, created_at, json) VALUES ('bad', 'c', 99, 'null');
                 INSERT INTO agents (id, pos, json) VALUES ('x', 0, '[]');",
            )
            .unwrap();
        let convs = db.load_conversations(0, 10).unwrap();
        assert_eq!(convs.len(), 1);
        assert_eq!(db.conversation_count().unwrap(), 2);
        assert_eq!(
            ids(&db
                .load_messages(&ConversationId::from("c"), None, 10)
                .unwrap()),
            ["ok"]
        );
        assert!(db.load_agents().unwrap().is_empty());
    }

    // ---- search ----

    fn found(db: &Db, query: &str) -> Vec<String> {
        message_ids(&db.search(query, 50).unwrap())
            .into_iter()
            .map(String::from)
            .collect()
    }

    #[test]
    fn search_turkish() {
        let db = db_with(vec![
            message("c", "ist", 1, "Yarın İstanbul'a gidiyorum"),
            message("c", "seker", 2, "Bir kilo şeker lütfen"),
            message("c", "kapi", 3, "KAPIDA ödeme"),
        ]);
        for q in ["istanbul", "İstanbul", "ISTANBUL", "ıstanbul", "istan"] {
            assert_eq!(found(&db, q), ["ist"], "{q}");
        }
        assert_eq!(found(&db, "seker"), ["seker"]);
        assert_eq!(found(&db, "ŞEKER"), ["seker"]);
        assert_eq!(found(&db, "kapıda"), ["kapi"]);
        assert_eq!(found(&db, "odeme"), ["kapi"]);
    }

    #[test]
    fn search_arabic_with_or_without_harakat() {
        let db = db_with(vec![
            message("c", "plain", 1, "مرحبا محمد"),
            message("c", "vowelled", 2, "شُكْرًا جَزِيلًا"),
            message("c", "tatweel", 3, "الســـلام عليكم"),
        ]);
        assert_eq!(found(&db, "مُحَمَّد"), ["plain"]);
        assert_eq!(found(&db, "محمد"), ["plain"]);
        assert_eq!(found(&db, "شكرا"), ["vowelled"]);
        assert_eq!(found(&db, "السلام"), ["tatweel"]);
        assert_eq!(found(&db, "السـلام"), ["tatweel"]);
    }

    #[test]
    fn search_japanese_without_spaces() {
        let db = db_with(vec![
            message("c", "tokyo", 1, "明日東京に行きます"),
            message("c", "kyoto", 2, "京都は暑い"),
            message("c", "ga", 3, "ありがとう"),
            message("c", "ka", 4, "ありかとう"),
        ]);
        assert_eq!(found(&db, "東京"), ["tokyo"]);
        assert_eq!(found(&db, "京"), ["kyoto", "tokyo"]);
        assert_eq!(found(&db, "行きます"), ["tokyo"]);
        assert_eq!(found(&db, "京東"), Vec::<String>::new());
        assert_eq!(found(&db, "ありがとう"), ["ga"]);
        assert_eq!(found(&db, "ありかとう"), ["ka"]);
        let hits = db.search("東京", 5).unwrap();
        match &hits[0] {
            SearchHit::Message { context, .. } => assert_eq!(context, "明日東京に行きます"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn search_emoji() {
        let db = db_with(vec![
            message("c", "party", 1, "We did it🎉!"),
            message("c", "thumbs", 2, "ok 👍🏽"),
            message("c", "family", 3, "👨‍👩‍👧 all here"),
            message("c", "heart", 4, "thanks ❤️"),
        ]);
        assert_eq!(found(&db, "🎉"), ["party"]);
        assert_eq!(found(&db, "👍"), ["thumbs"]);
        assert_eq!(found(&db, "👍🏽"), ["thumbs"]);
        assert_eq!(found(&db, "👨‍👩‍👧"), ["family"]);
        assert_eq!(found(&db, "❤"), ["heart"]);
        assert_eq!(found(&db, "did 🎉"), ["party"]);
    }

    #[test]
    fn search_accents_subjects_and_captions() {
        let mut email = message("c", "mail", 1, "body text");
        email.subject = Some("Facture impayée".into());
        let db = db_with(vec![
            message("c", "creme", 2, "Crème brûlée for two"),
            email,
        ]);
        assert_eq!(found(&db, "creme brulee"), ["creme"]);
        assert_eq!(found(&db, "CRÈME"), ["creme"]);
        assert_eq!(found(&db, "impayee"), ["mail"]);
        match &db.search("impayee", 5).unwrap()[0] {
            SearchHit::Message { context, .. } => assert_eq!(context, "Facture impayée"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn search_is_newest_first_and_honours_the_limit() {
        let db = db_with(
            (0..30)
                .map(|i| {
                    message(
                        "c",
                        &format!("m{i:02}"),
                        (i * 7919) % 30 * 100,
                        "refund please",
                    )
                })
                .collect(),
        );
        let hits = db.search("refund", 5).unwrap();
        assert_eq!(hits.len(), 5);
        let times: Vec<_> = hits
            .iter()
            .map(|h| match h {
                SearchHit::Message { created_at, .. } => *created_at,
                SearchHit::Contact { .. } => panic!(),
            })
            .collect();
        assert_eq!(
            times,
            (25..30).rev().map(|s| at(s * 100)).collect::<Vec<_>>()
        );
        match &hits[0] {
            SearchHit::Message { sender_name, .. } => {
                assert_eq!(sender_name.as_deref(), Some("Ayşe"))
            }
            SearchHit::Contact { .. } => panic!(),
        }
        assert!(db.search("refund", 0).unwrap().is_empty());
    }

    #[test]
    fn hostile_queries_are_plain_text() {
        let db = db_with(vec![
            message("c", "quote", 1, r#"he said "NEAR(x) -y* 'z'" OR AND NOT"#),
            message("c", "other", 2, "nothing to see"),
        ]);
        for q in [
            "\"", "*", "'", "-", "NEAR(", "(", ")", "", "   ", "^", ":", "\"\"", "AND", "OR",
        ] {
            let result = db.search(q, 10);
            assert!(result.is_ok(), "{q:?}: {result:?}");
        }
        assert_eq!(found(&db, "-x"), ["quote"]);
        assert_eq!(found(&db, "NEAR(x"), ["quote"]);
        assert_eq!(found(&db, "\"said"), ["quote"]);
        assert_eq!(found(&db, "'z'"), ["quote"]);
        assert_eq!(found(&db, "y*"), ["quote"]);
        assert_eq!(found(&db, "OR AND NOT"), ["quote"]);
        assert!(found(&db, "").is_empty());
    }

    // ---- migrations and failures ----

    /// A cache as version 1 of termdesk left it: core tables only.
    fn build_v1(path: &Path) {
        let conn = Connection::open(path).unwrap();
        conn.execute_batch(MIGRATIONS[0].sql).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        let insert_message = |m: &Message| {
            conn.execute(
                "INSERT INTO messages (id, conversation_id, client_id, created_at, json) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![m.id.as_str(), m.conversation_id.as_str(), m.client_id, micros(m.created_at), serde_json::to_string(m).unwrap()],
            )
            .unwrap();
        };
        insert_message(&message("c", "old1", 1, "İstanbul'dan selamlar"));
        insert_message(&message("c", "old2", 2, "明日東京に行きます 🎉"));
        conn.execute(
            "INSERT INTO messages (id, conversation_id, created_at, json) VALUES ('broken', 'c', 3, '{')",
            [],
        )
        .unwrap();
        let mut c = contact("k1", "Şule", None, None);
        c.email = Some("sule@example.com".into());
        conn.execute(
            "INSERT INTO contacts (id, updated_at, name, phone, json) VALUES (?1, NULL, ?2, NULL, ?3)",
            params![c.id.as_str(), "Şule", serde_json::to_string(&c).unwrap()],
        )
        .unwrap();
        let conv = conversation("c", 1);
        conn.execute(
            "INSERT INTO conversations (id, updated_at, contact_id, unread, json) VALUES ('c', 1, NULL, 4, ?1)",
            [serde_json::to_string(&conv).unwrap()],
        )
        .unwrap();
    }

    #[test]
    fn version_1_upgrades_with_data_and_search() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v1.sqlite");
        build_v1(&path);
        let mut db = Db::open(&path).unwrap();
        assert_eq!(db.schema_version().unwrap(), SCHEMA_VERSION);
        assert_eq!(db.load_conversations(0, 10).unwrap()[0].unread, 4);
        assert_eq!(
            ids(&db
                .load_messages(&ConversationId::from("c"), None, 10)
                .unwrap()),
            ["old2", "old1"]
        );
        assert_eq!(found(&db, "istanbul"), ["old1"]);
        assert_eq!(found(&db, "東京"), ["old2"]);
        assert_eq!(found(&db, "🎉"), ["old2"]);
        assert_eq!(
            db.search("sule", 10).unwrap(),
            vec![SearchHit::Contact {
                contact_id: ContactId::from("k1"),
                name: "Şule".into()
            }]
        );
        // The e-mail column is filled from what was cached before it existed.
        assert_eq!(
            db.contact_directory().unwrap()[0].email.as_deref(),
            Some("sule@example.com")
        );
        // New writes after the upgrade are indexed too.
        db.apply(&[DbWrite::UpsertMessages(vec![message(
            "c",
            "new",
            9,
            "istanbul again",
        )])])
        .unwrap();
        assert_eq!(found(&db, "istanbul"), ["new", "old1"]);
        drop(db);
        // Opening again does not migrate twice.
        assert_eq!(
            Db::open(&path).unwrap().schema_version().unwrap(),
            SCHEMA_VERSION
        );
    }

    #[test]
    fn a_newer_schema_is_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("future.sqlite");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch("CREATE TABLE future (x); PRAGMA user_version = 99;")
                .unwrap();
        }
        let before = std::fs::read(&path).unwrap();
        let error = Db::open(&path).err().unwrap();
        assert!(
            matches!(
                error,
                DbError::TooNew {
                    found: 99,
                    supported: SCHEMA_VERSION,
                    ..
                }
            ),
            "{error:?}"
        );
        let text = error.to_string();
        assert!(
            text.contains(&path.display().to_string()) && text.contains("newer"),
            "{text}"
        );
        assert_eq!(std::fs::read(&path).unwrap(), before);
        assert!(matches!(
            Db::open_read_only(&path),
            Err(DbError::TooNew { .. })
        ));
    }

    #[test]
    fn a_corrupt_file_is_reported_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("garbage.sqlite");
        let garbage: Vec<u8> = (0..8192u32).map(|i| (i * 31 % 251) as u8).collect();
        std::fs::write(&path, &garbage).unwrap();
        for result in [Db::open(&path), Db::open_read_only(&path)] {
            let error = result.err().unwrap();
            assert!(matches!(error, DbError::Corrupt { .. }), "{error:?}");
            let text = error.to_string();
            assert!(text.contains(&path.display().to_string()), "{text}");
            assert!(
                text.contains("corrupt") && text.contains("--reset-cache"),
                "{text}"
            );
        }
        assert_eq!(std::fs::read(&path).unwrap(), garbage);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, [std::ffi::OsString::from("garbage.sqlite")]);
    }

    #[test]
    fn a_damaged_page_is_reported_as_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("damaged.sqlite");
        {
            let mut db = Db::open(&path).unwrap();
            db.apply(&[DbWrite::UpsertConversations(vec![(
                conversation("c", 1),
                0,
            )])])
            .unwrap();
            db.conn()
                .execute_batch("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode = DELETE;")
                .unwrap();
        }
        // Smash the schema page (page 1 after its 100-byte header).
        let mut bytes = std::fs::read(&path).unwrap();
        for b in &mut bytes[100..4096] {
            *b = 0xA5;
        }
        std::fs::write(&path, &bytes).unwrap();
        let error = Db::open(&path).err().unwrap();
        assert!(matches!(error, DbError::Corrupt { .. }), "{error:?}");
        assert_eq!(std::fs::read(&path).unwrap(), bytes);
    }

    #[test]
    fn read_only_databases_say_so() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ro.sqlite");
        Db::open(&path).unwrap();
        let mut reader = Db::open_read_only(&path).unwrap();
        let error = reader
            .apply(&[DbWrite::SetMeta {
                key: "k".into(),
                value: "v".into(),
            }])
            .unwrap_err();
        assert!(matches!(error, DbError::ReadOnly { .. }), "{error:?}");
        assert!(error.to_string().contains("cannot be written"));

        // File permissions only bind when not running as root.
        use std::os::unix::fs::PermissionsExt;
        let locked_dir = dir.path().join("locked");
        std::fs::create_dir(&locked_dir).unwrap();
        std::fs::set_permissions(&locked_dir, std::fs::Permissions::from_mode(0o555)).unwrap();
        let enforced = std::fs::File::create(locked_dir.join("probe")).is_err();
        if enforced {
            let error = Db::open(&locked_dir.join("a.sqlite")).err().unwrap();
            assert!(matches!(error, DbError::ReadOnly { .. }), "{error:?}");
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).unwrap();
            let error = Db::open(&path).err().unwrap();
            assert!(matches!(error, DbError::ReadOnly { .. }), "{error:?}");
        }
        std::fs::set_permissions(&locked_dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn a_database_held_by_another_program_is_locked_not_hung() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("busy.sqlite");
        let mut db = Db::open(&path).unwrap();
        let other = Connection::open(&path).unwrap();
        other
            .execute_batch("BEGIN EXCLUSIVE; INSERT INTO meta VALUES ('x', 'y');")
            .unwrap();
        let started = std::time::Instant::now();
        let error = db
            .apply(&[DbWrite::SetMeta {
                key: "k".into(),
                value: "v".into(),
            }])
            .unwrap_err();
        assert!(matches!(error, DbError::Locked { .. }), "{error:?}");
        assert!(error.to_string().contains("locked"));
        assert!(started.elapsed() < Duration::from_secs(5));
        other.execute_batch("COMMIT").unwrap();
        db.apply(&[DbWrite::SetMeta {
            key: "k".into(),
            value: "v".into(),
        }])
        .unwrap();

        // A rollback-journal database held exclusively cannot even be read.
        let path = dir.path().join("exclusive.sqlite");
        let holder = Connection::open(&path).unwrap();
        holder
            .execute_batch("PRAGMA locking_mode = EXCLUSIVE; CREATE TABLE t (x); BEGIN EXCLUSIVE; INSERT INTO t VALUES (1);")
            .unwrap();
        let error = Db::open(&path).err().unwrap();
        assert!(matches!(error, DbError::Locked { .. }), "{error:?}");
    }

    #[test]
    fn search_rowids_order_by_time_then_seq() {
        let a = search_rowid(0, 5).unwrap();
        let b = search_rowid(1_000_000, 1).unwrap();
        let c = search_rowid(1_000_000, 2).unwrap();
        let far = search_rowid(i64::from(u32::MAX) * 1_000_000, i64::from(u32::MAX)).unwrap();
        assert!(a < b && b < c && c < far);
        assert_eq!(far, i64::MAX);
        assert_eq!(search_rowid(-5, 1), search_rowid(0, 1));
        assert_eq!(search_rowid(0, 1 << 32), None);
        assert_eq!(b & 0xFFFF_FFFF, 1);
    }
}
