//! `termdesk contacts import FILE.csv [--dry-run]` and `termdesk contacts
//! export`: the file is read and its header checked before any request;
//! progress goes to stderr (a bar at a terminal, plain lines otherwise),
//! the counts to stdout and every row's result to `FILE.report.csv`.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use crate::api::Provider;
use crate::contacts_csv::import::{ImportOptions, Progress, import as run_import};
use crate::contacts_csv::journal::{Journal, journal_path};
use crate::contacts_csv::read::MAX_FILE_BYTES;
use crate::contacts_csv::report::report_path;
use crate::contacts_csv::{CsvFile, export as csv_export, read_csv};

/// Reads and checks the file; says once which columns are ignored.
pub fn load(path: &Path) -> Result<CsvFile, String> {
    let cannot = |err: std::io::Error| format!("cannot read {}: {err}", path.display());
    let size = std::fs::metadata(path).map_err(cannot)?.len();
    if size > MAX_FILE_BYTES as u64 {
        return Err(format!(
            "{}: the file is larger than {} MB; split it into smaller files",
            path.display(),
            MAX_FILE_BYTES / (1024 * 1024)
        ));
    }
    let bytes = std::fs::read(path).map_err(cannot)?;
    let file = read_csv(&bytes).map_err(|err| format!("{}: {err}", path.display()))?;
    for name in &file.unknown_columns {
        eprintln!("termdesk: ignoring the column \"{name}\": it is no contact field");
    }
    Ok(file)
}

/// `termdesk contacts import`. Fails (exit status 1) when a row failed or
/// the import stopped early; the report is written either way.
pub async fn import(
    provider: &dyn Provider,
    path: &Path,
    file: &CsvFile,
    account_country: Option<&str>,
    dry_run: bool,
) -> Result<(), String> {
    let journal = Journal::open(journal_path(path), file.fingerprint);
    let mut progress = progress_for_stderr();
    let report = run_import(
        provider,
        file,
        ImportOptions {
            account_country,
            dry_run,
            journal: Some(journal),
        },
        progress.as_mut(),
    )
    .await;
    for line in report.summary() {
        println!("{line}");
    }
    let report_file = report_path(path);
    report.write_csv(&report_file)?;
    println!("report: {}", report_file.display());
    let counts = report.counts();
    if report.stopped.is_some() {
        return Err(format!(
            "the import stopped before every row was sent; run the same command again to \
             resume ({} keeps what was sent)",
            journal_path(path).display()
        ));
    }
    if counts.failed > 0 {
        return Err(format!(
            "{} row{} not imported; see {}",
            counts.failed,
            if counts.failed == 1 { " was" } else { "s were" },
            report_file.display()
        ));
    }
    Ok(())
}

/// `termdesk contacts export`: CSV on stdout.
pub async fn export(provider: &dyn Provider) -> Result<(), String> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut progress = progress_for_stderr();
    progress.stage("exporting", None);
    let mut shown = 0usize;
    let written = csv_export::export(provider, &mut out, |written| {
        progress.advance((written - shown) as u64);
        shown = written;
    })
    .await;
    progress.finish();
    let written = written?;
    out.flush()
        .map_err(|e| format!("cannot write the contacts: {e}"))?;
    eprintln!("termdesk: exported {written} contacts");
    Ok(())
}

fn progress_for_stderr() -> Box<dyn Progress> {
    if std::io::stderr().is_terminal() {
        Box::new(Bar(None))
    } else {
        Box::new(Lines::default())
    }
}

/// An indicatif bar on stderr.
struct Bar(Option<ProgressBar>);

impl Progress for Bar {
    fn stage(&mut self, what: &str, total: Option<u64>) {
        if let Some(bar) = self.0.take() {
            bar.finish_and_clear();
        }
        let bar = match total {
            Some(total) => ProgressBar::new(total).with_style(
                ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} rows, {eta} left")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            ),
            None => ProgressBar::new_spinner().with_style(
                ProgressStyle::with_template("{spinner} {msg}: {pos} contacts")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            ),
        };
        bar.set_message(what.to_string());
        bar.enable_steady_tick(Duration::from_millis(120));
        self.0 = Some(bar);
    }

    fn advance(&mut self, steps: u64) {
        if let Some(bar) = &self.0 {
            bar.inc(steps);
        }
    }

    fn finish(&mut self) {
        if let Some(bar) = self.0.take() {
            bar.finish_and_clear();
        }
    }
}

/// Plain progress lines on stderr, for logs: one when a stage begins and
/// one each tenth of the way.
#[derive(Default)]
struct Lines {
    what: String,
    total: Option<u64>,
    done: u64,
    said: u64,
}

impl Progress for Lines {
    fn stage(&mut self, what: &str, total: Option<u64>) {
        self.what = what.to_string();
        self.total = total;
        self.done = 0;
        self.said = 0;
        match total {
            Some(1) => eprintln!("termdesk: {what}: 1 row"),
            Some(total) => eprintln!("termdesk: {what}: {total} rows"),
            None => eprintln!("termdesk: {what}"),
        }
    }

    fn advance(&mut self, steps: u64) {
        self.done += steps;
        let step = match self.total {
            Some(total) => (total / 10).max(1),
            None => 1000,
        };
        if self.done >= self.said + step {
            self.said = self.done;
            match self.total {
                Some(total) => eprintln!("termdesk: {}: {}/{total}", self.what, self.done),
                None => eprintln!("termdesk: {}: {}", self.what, self.done),
            }
        }
    }

    fn finish(&mut self) {}
}
