//! What became of each row: counted on stdout, and written row by row as
//! `FILE.report.csv` beside the input (line, phone, outcome, reason,
//! contact id).

use std::path::{Path, PathBuf};

use super::{Column, guard_cell};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    Created,
    Updated,
    Skipped,
    Failed,
    /// The import stopped before the row was sent; a re-run sends it.
    NotSent,
}

impl Outcome {
    pub fn label(self, dry_run: bool) -> &'static str {
        match (self, dry_run) {
            (Outcome::Created, false) => "created",
            (Outcome::Created, true) => "would create",
            (Outcome::Updated, false) => "updated",
            (Outcome::Updated, true) => "would update",
            (Outcome::Skipped, _) => "skipped",
            (Outcome::Failed, _) => "failed",
            (Outcome::NotSent, _) => "not sent",
        }
    }

    /// Read back from a journal.
    pub fn from_label(label: &str) -> Option<Outcome> {
        Some(match label {
            "created" => Outcome::Created,
            "updated" => Outcome::Updated,
            "skipped" => Outcome::Skipped,
            "failed" => Outcome::Failed,
            _ => return None,
        })
    }
}

/// One row's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportRow {
    pub line: u64,
    /// E.164 when the phone was valid, else the cell as written.
    pub phone: String,
    pub outcome: Outcome,
    /// Why, for every outcome but a plain create or update; safe to show.
    pub reason: String,
    pub contact_id: Option<String>,
}

impl ReportRow {
    pub fn new(line: u64, phone: impl Into<String>, outcome: Outcome) -> ReportRow {
        ReportRow {
            line,
            phone: phone.into(),
            outcome,
            reason: String::new(),
            contact_id: None,
        }
    }

    pub fn because(mut self, reason: impl Into<String>) -> ReportRow {
        self.reason = reason.into();
        self
    }

    pub fn contact(mut self, id: impl Into<String>) -> ReportRow {
        self.contact_id = Some(id.into());
        self
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub created: usize,
    pub updated: usize,
    pub skipped: usize,
    pub failed: usize,
    pub not_sent: usize,
}

/// The whole import's result.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub rows: Vec<ReportRow>,
    pub dry_run: bool,
    /// Why the import stopped before every row was sent.
    pub stopped: Option<String>,
    /// Said once, above the counts (tags left out, a journal resumed…).
    pub notes: Vec<String>,
}

/// Failed and duplicate rows listed on stdout; the rest are in the file.
const LISTED: usize = 50;

impl Report {
    pub fn push(&mut self, row: ReportRow) {
        self.rows.push(row);
    }

    pub fn counts(&self) -> Counts {
        let mut counts = Counts::default();
        for row in &self.rows {
            match row.outcome {
                Outcome::Created => counts.created += 1,
                Outcome::Updated => counts.updated += 1,
                Outcome::Skipped => counts.skipped += 1,
                Outcome::Failed => counts.failed += 1,
                Outcome::NotSent => counts.not_sent += 1,
            }
        }
        counts
    }

    /// In the order of the file.
    pub fn sort(&mut self) {
        self.rows.sort_by_key(|r| r.line);
    }

    /// The summary printed on stdout.
    pub fn summary(&self) -> Vec<String> {
        let counts = self.counts();
        let mut lines: Vec<String> = self.notes.clone();
        let mut total = if self.dry_run {
            format!(
                "dry run, nothing was written: would create {}, would update {}, skipped {}, failed {}",
                counts.created, counts.updated, counts.skipped, counts.failed
            )
        } else {
            format!(
                "created {}, updated {}, skipped {}, failed {}",
                counts.created, counts.updated, counts.skipped, counts.failed
            )
        };
        if counts.not_sent > 0 {
            total.push_str(&format!(", not sent {}", counts.not_sent));
        }
        lines.push(total);
        let mut reasons: Vec<(&str, usize)> = Vec::new();
        for row in self.rows.iter().filter(|r| r.outcome == Outcome::Skipped) {
            let key = reason_kind(&row.reason);
            match reasons.iter_mut().find(|(k, _)| *k == key) {
                Some((_, n)) => *n += 1,
                None => reasons.push((key, 1)),
            }
        }
        if !reasons.is_empty() {
            let parts: Vec<String> = reasons.iter().map(|(k, n)| format!("{n} {k}")).collect();
            lines.push(format!("skipped: {}", parts.join(", ")));
        }
        let listed: Vec<&ReportRow> = self
            .rows
            .iter()
            .filter(|r| {
                r.outcome == Outcome::Failed
                    || (r.outcome == Outcome::Skipped && r.reason.starts_with("duplicate"))
            })
            .collect();
        for row in listed.iter().take(LISTED) {
            lines.push(format!(
                "  line {} ({}): {}: {}",
                row.line,
                if row.phone.is_empty() {
                    "no phone"
                } else {
                    &row.phone
                },
                row.outcome.label(self.dry_run),
                row.reason
            ));
        }
        if listed.len() > LISTED {
            lines.push(format!(
                "  … and {} more in the report",
                listed.len() - LISTED
            ));
        }
        if let Some(why) = &self.stopped {
            lines.push(format!("stopped early: {why}"));
        }
        lines
    }

    /// The report as CSV; every cell but the phone guarded against formulas.
    pub fn to_csv(&self) -> Result<Vec<u8>, String> {
        let mut out = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(Vec::new());
        let fail = |e: csv::Error| format!("cannot write the report: {e}");
        out.write_record(["line", "phone", "outcome", "reason", "contact_id"])
            .map_err(fail)?;
        for row in &self.rows {
            out.write_record([
                row.line.to_string(),
                guard_cell(Column::Phone, &row.phone),
                row.outcome.label(self.dry_run).to_string(),
                guard_cell(Column::FirstName, &row.reason),
                guard_cell(Column::FirstName, row.contact_id.as_deref().unwrap_or("")),
            ])
            .map_err(fail)?;
        }
        out.into_inner()
            .map_err(|e| format!("cannot write the report: {e}"))
    }

    pub fn write_csv(&self, path: &Path) -> Result<(), String> {
        std::fs::write(path, self.to_csv()?)
            .map_err(|e| format!("cannot write the report {}: {e}", path.display()))
    }
}

/// The report beside the input: `contacts.csv` → `contacts.report.csv`.
pub fn report_path(input: &Path) -> PathBuf {
    let stem = match input.extension() {
        Some(ext) if ext.eq_ignore_ascii_case("csv") => input.with_extension(""),
        _ => input.to_path_buf(),
    };
    let mut name = stem.file_name().unwrap_or_default().to_os_string();
    name.push(".report.csv");
    stem.with_file_name(name)
}

/// A skipped row's reason without its details, for the counts.
fn reason_kind(reason: &str) -> &str {
    if reason.starts_with("duplicate") {
        "duplicates"
    } else if reason.starts_with("unchanged") {
        "unchanged"
    } else if reason.starts_with("no phone") {
        "without a phone"
    } else if reason.starts_with("empty") {
        "empty"
    } else {
        "other"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> Report {
        let mut report = Report::default();
        report.push(ReportRow::new(2, "+905321234567", Outcome::Created).contact("c1"));
        report.push(
            ReportRow::new(3, "+905327654321", Outcome::Skipped)
                .because("unchanged")
                .contact("c2"),
        );
        report.push(
            ReportRow::new(4, "+905321234567", Outcome::Skipped).because("duplicate of line 2"),
        );
        report.push(
            ReportRow::new(5, "0532", Outcome::Failed)
                .because("phone \"0532\": too short for a phone number"),
        );
        report.push(ReportRow::new(6, "+905320000000", Outcome::Updated).contact("=c3"));
        report
    }

    #[test]
    fn the_summary_counts_and_names_the_failures() {
        let lines = report().summary();
        assert_eq!(lines[0], "created 1, updated 1, skipped 2, failed 1");
        assert_eq!(lines[1], "skipped: 1 unchanged, 1 duplicates");
        assert!(
            lines.contains(&"  line 4 (+905321234567): skipped: duplicate of line 2".to_string())
        );
        assert!(lines.contains(
            &"  line 5 (0532): failed: phone \"0532\": too short for a phone number".to_string()
        ));
        let mut dry = report();
        dry.dry_run = true;
        dry.stopped = Some("network error".into());
        let lines = dry.summary();
        assert!(
            lines[0].starts_with("dry run, nothing was written: would create 1, would update 1")
        );
        assert_eq!(lines.last().unwrap(), "stopped early: network error");
    }

    #[test]
    fn the_report_file_has_a_row_per_line() {
        let text = String::from_utf8(report().to_csv().unwrap()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "line,phone,outcome,reason,contact_id");
        assert_eq!(lines[1], "2,+905321234567,created,,c1");
        assert_eq!(lines[3], "4,+905321234567,skipped,duplicate of line 2,");
        assert_eq!(
            lines[4],
            "5,0532,failed,\"phone \"\"0532\"\": too short for a phone number\","
        );
        assert_eq!(lines[5], "6,+905320000000,updated,,'=c3", "formula guarded");
        assert_eq!(lines.len(), 6);
    }

    #[test]
    fn the_report_sits_beside_the_input() {
        assert_eq!(
            report_path(Path::new("/d/contacts.csv")),
            Path::new("/d/contacts.report.csv")
        );
        assert_eq!(
            report_path(Path::new("/d/list.CSV")),
            Path::new("/d/list.report.csv")
        );
        assert_eq!(
            report_path(Path::new("/d/export.txt")),
            Path::new("/d/export.txt.report.csv")
        );
        assert_eq!(report_path(Path::new("a.csv")), Path::new("a.report.csv"));
    }
}
