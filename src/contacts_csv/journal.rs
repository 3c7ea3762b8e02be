//! The rows an import has sent, kept beside the input as
//! `FILE.csv.termdesk-import` while it runs, so a re-run after an
//! interruption does not send them again; removed once every row has its
//! answer. It belongs to one version of the file: a journal written for
//! other content is set aside.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::report::{Outcome, ReportRow};

const MAGIC: &str = "termdesk-import 1";

/// `contacts.csv` → `contacts.csv.termdesk-import`.
pub fn journal_path(input: &Path) -> PathBuf {
    let mut name = input.file_name().unwrap_or_default().to_os_string();
    name.push(".termdesk-import");
    input.with_file_name(name)
}

/// One journal line: `line TAB outcome TAB contact id TAB reason`.
pub fn entry(row: &ReportRow) -> String {
    let clean = |s: &str| s.replace(['\t', '\n', '\r'], " ");
    format!(
        "{}\t{}\t{}\t{}\t{}\n",
        row.line,
        row.outcome.label(false),
        clean(&row.phone),
        clean(row.contact_id.as_deref().unwrap_or("")),
        clean(&row.reason)
    )
}

/// The rows a journal of this file's `fingerprint` records; `None` when it
/// was written for other content. Unreadable lines are left out.
pub fn parse(text: &str, fingerprint: u64) -> Option<HashMap<u64, ReportRow>> {
    let mut lines = text.lines();
    if lines.next()? != header(fingerprint).trim_end() {
        return None;
    }
    let mut done = HashMap::new();
    for line in lines {
        let mut parts = line.splitn(5, '\t');
        let (Some(number), Some(outcome), Some(phone), Some(id), Some(reason)) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            continue;
        };
        let (Ok(number), Some(outcome)) = (number.parse::<u64>(), Outcome::from_label(outcome))
        else {
            continue;
        };
        let mut row = ReportRow::new(number, phone, outcome).because(reason);
        if !id.is_empty() {
            row = row.contact(id);
        }
        done.insert(number, row);
    }
    Some(done)
}

fn header(fingerprint: u64) -> String {
    format!("{MAGIC} {fingerprint:016x}\n")
}

/// An open journal.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    fingerprint: u64,
    file: Option<File>,
    done: HashMap<u64, ReportRow>,
    /// A journal of other content was found (and will be replaced).
    pub set_aside: bool,
}

impl Journal {
    /// Reads the journal at `path` if there is one for this content.
    pub fn open(path: PathBuf, fingerprint: u64) -> Journal {
        let (done, set_aside) = match std::fs::read_to_string(&path) {
            Ok(text) => match parse(&text, fingerprint) {
                Some(done) => (done, false),
                None => (HashMap::new(), true),
            },
            Err(_) => (HashMap::new(), false),
        };
        Journal {
            path,
            fingerprint,
            file: None,
            done,
            set_aside,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What an earlier run recorded for the row on `line`.
    pub fn done(&self, line: u64) -> Option<&ReportRow> {
        self.done.get(&line)
    }

    pub fn resumed(&self) -> usize {
        self.done.len()
    }

    /// Appends the rows and flushes them to disk before returning.
    pub fn record(&mut self, rows: &[ReportRow]) -> Result<(), String> {
        let fail = |e: std::io::Error| format!("cannot write {}: {e}", self.path.display());
        if self.file.is_none() {
            let keep = !self.done.is_empty() && !self.set_aside;
            let mut file = OpenOptions::new()
                .create(true)
                .write(true)
                .append(keep)
                .truncate(!keep)
                .open(&self.path)
                .map_err(fail)?;
            if !keep {
                file.write_all(header(self.fingerprint).as_bytes())
                    .map_err(fail)?;
            }
            self.file = Some(file);
        }
        let text: String = rows.iter().map(entry).collect();
        let Some(file) = self.file.as_mut() else {
            return Ok(());
        };
        file.write_all(text.as_bytes()).map_err(fail)?;
        file.sync_data().map_err(fail)?;
        for row in rows {
            self.done.insert(row.line, row.clone());
        }
        Ok(())
    }

    /// Every row has its answer: the journal is no longer needed.
    pub fn finish(self) -> Result<(), String> {
        drop(self.file);
        match std::fs::remove_file(&self.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(format!("cannot remove {}: {e}", self.path.display())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_journal_reads_back_what_it_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let path = journal_path(&dir.path().join("contacts.csv"));
        assert_eq!(path.file_name().unwrap(), "contacts.csv.termdesk-import");
        let mut journal = Journal::open(path.clone(), 7);
        assert_eq!(journal.resumed(), 0);
        let created = ReportRow::new(2, "+905321234567", Outcome::Created).contact("c1");
        let failed =
            ReportRow::new(3, "+905327654321", Outcome::Failed).because("bad\tthing\nhere");
        journal.record(std::slice::from_ref(&created)).unwrap();
        journal.record(&[failed]).unwrap();
        drop(journal);

        let again = Journal::open(path.clone(), 7);
        assert_eq!(again.resumed(), 2);
        assert_eq!(again.done(2), Some(&created));
        assert_eq!(again.done(3).unwrap().reason, "bad thing here");
        assert!(again.done(4).is_none());
        let mut more = again;
        more.record(&[ReportRow::new(4, "+1", Outcome::Updated).contact("c4")])
            .unwrap();
        drop(more);
        assert_eq!(Journal::open(path.clone(), 7).resumed(), 3, "appended");

        let other = Journal::open(path.clone(), 8);
        assert!(other.set_aside && other.resumed() == 0);
        other.finish().unwrap();
        assert!(!path.exists());
    }

    #[test]
    fn damaged_lines_are_left_out() {
        let text = format!(
            "{}2\tcreated\t+90\tc1\t\nnonsense\n3\tweird\t+90\t\t\nx\tcreated\t+90\t\t\n",
            header(1)
        );
        let done = parse(&text, 1).unwrap();
        assert_eq!(done.len(), 1);
        assert!(parse("", 1).is_none());
        assert!(parse(&text, 2).is_none());
    }
}
