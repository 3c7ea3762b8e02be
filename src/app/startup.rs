//! Before the first frame: the account's cache is opened and read into the
//! state, so the agent sees the inbox as it was, even offline.

use std::path::Path;

use tokio::sync::mpsc;

use crate::app::executor::CacheAccess;
use crate::app::runtime::Storage;
use crate::app::state::{AppState, NoticeLevel};
use crate::store::cache;
use crate::store::contact_edits::ContactEdits;
use crate::store::db::DbError;
use crate::store::mutations::Mutations;
use crate::store::outbox::Outbox;
use crate::store::writer::DbWriter;

/// Opens the cache at `path` into `state`. A cache that cannot be used
/// (corrupt, locked, read-only, from a newer termdesk) is reported in the
/// status bar and termdesk runs from memory; the file is never touched.
pub fn open_cache(path: &Path, state: &mut AppState) -> Option<Storage> {
    let opened = match cache::open(path) {
        Ok(opened) => opened,
        Err(error) => {
            tracing::error!(%error, "the cache cannot be used");
            state.notify(NoticeLevel::Error, short_notice(&error, path));
            return None;
        }
    };
    let start = opened.start;
    state.store = start.store;
    state.drafts = start.drafts.into_iter().collect();
    state.outbox = Outbox::restore(start.outbox);
    state.mutations = Mutations::restore(start.mutations, state.now);
    state.contact_edits = ContactEdits::restore(start.contact_edits, state.now);
    if let Some(view) = start.view {
        state.view = view;
    }
    state.template_memory = start.template_memory;
    if state.me_hint.is_none() {
        state.me = start.me;
    }
    state.persistent = true;
    let ids: Vec<_> = state
        .mutations
        .items()
        .iter()
        .map(|m| m.conversation_id.clone())
        .collect();
    crate::app::update::triage::reapply_pending(state, &ids);
    crate::app::update::triage::resolve_me(state);
    crate::app::update::triage::refresh_list(state);
    state.selected = state.rows().first().cloned();
    state.dirty = true;
    let (failures_tx, failures) = mpsc::unbounded_channel();
    let writer = DbWriter::spawn(opened.writer_db, move |reason| {
        let _ = failures_tx.send(reason);
    });
    Some(Storage {
        access: CacheAccess {
            writer,
            reader: opened.reader,
        },
        rows_loaded: start.rows_loaded,
        failures,
        lock: Some(opened.lock),
    })
}

/// The status bar has one line: the file's name and what to do come first,
/// the full story goes to the log.
fn short_notice(error: &DbError, path: &Path) -> String {
    let file = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    let what = match error {
        DbError::Corrupt { .. } => "is corrupt: start with --reset-cache to rebuild it",
        DbError::Locked { .. } => "is in use by another termdesk",
        DbError::ReadOnly { .. } => "is read-only: check its permissions",
        DbError::TooNew { .. } => "is from a newer termdesk: update termdesk",
        DbError::Other { .. } => "cannot be opened (details in the log)",
    };
    format!("Running from memory, nothing is saved: the cache {file} {what}.")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SendKey;

    fn state() -> AppState {
        AppState::new(
            "work",
            "Qpien",
            false,
            SendKey::Enter,
            chrono::Utc::now(),
            (80, 24),
        )
    }

    #[test]
    fn a_corrupt_cache_is_named_left_alone_and_termdesk_runs_from_memory() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("work.sqlite");
        let garbage: Vec<u8> = (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect();
        std::fs::write(&path, &garbage).unwrap();
        let mut state = state();
        assert!(open_cache(&path, &mut state).is_none());
        assert!(!state.persistent, "quitting will ask before losing drafts");
        let notice = state.notice.unwrap().text;
        assert!(notice.contains("work.sqlite"), "{notice}");
        assert!(notice.contains("--reset-cache"), "{notice}");
        assert_eq!(
            std::fs::read(&path).unwrap(),
            garbage,
            "the file is untouched"
        );
    }

    #[test]
    fn a_cache_in_use_by_another_termdesk_is_not_shared() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("work.sqlite");
        let mut first = state();
        let storage = open_cache(&path, &mut first);
        assert!(storage.is_some() && first.persistent);
        let mut second = state();
        assert!(open_cache(&path, &mut second).is_none());
        assert!(second.notice.unwrap().text.contains("another termdesk"));
    }
}
