//! Before the first frame: the account's cache is opened and read into the
//! state, so the agent sees the inbox as it was, even offline.

use std::path::Path;

use tokio::sync::mpsc;

use crate::app::executor::CacheAccess;
use crate::app::runtime::Storage;
use crate::app::state::{AppState, NoticeLevel};
use crate::store::cache;
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
            state.notify(NoticeLevel::Error, error.to_string());
            return None;
        }
    };
    let start = opened.start;
    state.store = start.store;
    state.drafts = start.drafts.into_iter().collect();
    state.outbox = Outbox::restore(start.outbox);
    state.persistent = true;
    state.selected = state.store.order().first().cloned();
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
