//! The writer owns the read-write connection on a thread of its own, so the
//! UI loop never touches disk. Whatever is queued when it wakes is applied
//! as one transaction: a burst of sync pages costs one commit, not one each.

use std::collections::HashSet;
use std::sync::mpsc;
use std::thread;

use tokio::sync::oneshot;

use crate::store::db::{Db, DbWrite};

enum Reply {
    Async(oneshot::Sender<Result<(), String>>),
    Blocking(mpsc::Sender<Result<(), String>>),
}

impl Reply {
    fn send(self, result: Result<(), String>) {
        // The caller may have stopped waiting; nothing to do then.
        match self {
            Reply::Async(tx) => {
                let _ = tx.send(result);
            }
            Reply::Blocking(tx) => {
                let _ = tx.send(result);
            }
        }
    }
}

enum Command {
    Write(Vec<DbWrite>),
    Flush(Reply),
}

#[derive(Clone)]
pub struct DbWriter {
    tx: mpsc::Sender<Command>,
}

const GONE: &str = "the cache writer has stopped";

impl DbWriter {
    /// Starts the writer thread. Errors go to `on_error` in plain words,
    /// once until a write succeeds again, and the writer keeps going: the
    /// app runs from memory meanwhile. A batch that failed is dropped (the
    /// state it carried is still in memory and is written again by later
    /// changes or the next sync).
    pub fn spawn(db: Db, on_error: impl Fn(String) + Send + 'static) -> DbWriter {
        let (tx, rx) = mpsc::channel();
        let spawned = thread::Builder::new()
            .name("termdesk-db-writer".into())
            .spawn(move || run(db, rx, on_error));
        if let Err(error) = spawned {
            // Without a thread the receiver is gone and every write and
            // flush reports that the writer stopped.
            tracing::warn!(%error, "could not start the cache writer");
        }
        DbWriter { tx }
    }

    pub fn write(&self, batch: Vec<DbWrite>) {
        if batch.is_empty() {
            return;
        }
        if self.tx.send(Command::Write(batch)).is_err() {
            tracing::warn!("{GONE}; write dropped");
        }
    }

    /// Resolves once everything written before it is committed, or with the
    /// error that kept some of it from being committed.
    pub async fn flush(&self) -> Result<(), String> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Command::Flush(Reply::Async(tx)))
            .map_err(|_| GONE.to_string())?;
        rx.await.map_err(|_| GONE.to_string())?
    }

    /// `flush` for shutdown paths outside the runtime.
    pub fn flush_blocking(&self) -> Result<(), String> {
        let (tx, rx) = mpsc::channel();
        self.tx
            .send(Command::Flush(Reply::Blocking(tx)))
            .map_err(|_| GONE.to_string())?;
        rx.recv().map_err(|_| GONE.to_string())?
    }
}

fn run(mut db: Db, rx: mpsc::Receiver<Command>, on_error: impl Fn(String)) {
    let mut last_reported: Option<String> = None;
    // The first error since the last flush answered: a flush must not
    // report success for writes that were lost before it.
    let mut unflushed_error: Option<String> = None;
    while let Ok(first) = rx.recv() {
        let mut writes = Vec::new();
        let mut flushes = Vec::new();
        let mut next = Some(first);
        while let Some(command) = next {
            match command {
                Command::Write(batch) => writes.extend(batch),
                Command::Flush(reply) => flushes.push(reply),
            }
            next = rx.try_recv().ok();
        }
        let writes = coalesce(writes);
        // A flush alone has nothing to apply, and must not count as the
        // successful write that lets the same error be reported again.
        let applied = if writes.is_empty() {
            Ok(())
        } else {
            db.apply(&writes)
        };
        match applied {
            Ok(()) if writes.is_empty() => {}
            Ok(()) => last_reported = None,
            Err(error) => {
                let message = error.to_string();
                tracing::warn!(%message, writes = writes.len(), "cache write failed");
                if last_reported.as_deref() != Some(message.as_str()) {
                    on_error(message.clone());
                    last_reported = Some(message.clone());
                }
                unflushed_error.get_or_insert(message);
            }
        }
        if !flushes.is_empty() {
            let result = match unflushed_error.take() {
                Some(message) => Err(message),
                None => Ok(()),
            };
            for reply in flushes {
                reply.send(result.clone());
            }
        }
    }
}

/// Drops drafts and meta values overwritten later in the same transaction:
/// typing saves a draft per keystroke, and only the last one matters. Other
/// writes keep their order.
fn coalesce(writes: Vec<DbWrite>) -> Vec<DbWrite> {
    let mut seen_drafts = HashSet::new();
    let mut seen_meta = HashSet::new();
    let mut kept: Vec<DbWrite> = writes
        .into_iter()
        .rev()
        .filter(|write| match write {
            DbWrite::SetDraft {
                conversation_id, ..
            } => seen_drafts.insert(conversation_id.clone()),
            DbWrite::SetMeta { key, .. } => seen_meta.insert(key.clone()),
            _ => true,
        })
        .collect();
    kept.reverse();
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ConversationId;
    use std::sync::{Arc, Mutex};

    fn draft(conversation: &str, text: &str) -> DbWrite {
        DbWrite::SetDraft {
            conversation_id: ConversationId::from(conversation),
            text: text.into(),
        }
    }

    #[test]
    fn drafts_coalesce_to_the_last_per_conversation() {
        let writes = vec![
            draft("a", "h"),
            draft("b", "x"),
            draft("a", "he"),
            DbWrite::RemoveMutation { id: "c".into() },
            draft("a", "hey"),
        ];
        assert_eq!(
            coalesce(writes),
            vec![
                draft("b", "x"),
                DbWrite::RemoveMutation { id: "c".into() },
                draft("a", "hey"),
            ]
        );
    }

    #[tokio::test]
    async fn flush_resolves_after_earlier_writes_are_readable_elsewhere() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("account.sqlite");
        let writer = DbWriter::spawn(Db::open(&path).unwrap(), |_| {});
        for i in 0..200 {
            writer.write(vec![
                DbWrite::SetMeta {
                    key: format!("k{i}"),
                    value: format!("v{i}"),
                },
                draft("c1", &format!("draft {i}")),
            ]);
        }
        writer.flush().await.unwrap();
        let reader = Db::open_read_only(&path).unwrap();
        assert_eq!(reader.get_meta("k199").unwrap().as_deref(), Some("v199"));
        assert_eq!(
            reader.load_drafts().unwrap(),
            vec![(ConversationId::from("c1"), "draft 199".to_string())]
        );
        writer.flush_blocking().unwrap();
    }

    #[test]
    fn errors_are_reported_once_and_flush_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("account.sqlite");
        Db::open(&path).unwrap();
        // A read-only connection makes every write fail the same way.
        let reported = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&reported);
        let writer = DbWriter::spawn(Db::open_read_only(&path).unwrap(), move |e| {
            sink.lock().unwrap().push(e)
        });
        for i in 0..3 {
            writer.write(vec![draft("c", &i.to_string())]);
            let error = writer.flush_blocking().unwrap_err();
            assert!(error.contains("cannot be written"), "{error}");
        }
        // Nothing queued since: the next flush has nothing to complain of.
        writer.flush_blocking().unwrap();
        let reported = reported.lock().unwrap();
        assert_eq!(reported.len(), 1, "{reported:?}");
        assert!(reported[0].contains(&path.display().to_string()));
    }

    #[test]
    fn the_writer_stops_when_every_handle_is_gone() {
        let writer = DbWriter::spawn(Db::open_in_memory().unwrap(), |_| {});
        let clone = writer.clone();
        writer.write(vec![draft("c", "x")]);
        drop(writer);
        clone.flush_blocking().unwrap();
    }
}
