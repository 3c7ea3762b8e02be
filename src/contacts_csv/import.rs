//! Sending the checked rows. Never one lookup per row: a provider with a
//! bulk import gets the rows in chunks; any other has its directory read
//! once in pages, then each row is created, updated (only the fields that
//! differ) or skipped. A create refused because the phone is taken is
//! looked up and updated instead, never created twice. What was sent is
//! journaled so a re-run after an interruption resumes.

use super::journal::Journal;
use super::plan::{self, Action, Directory};
use super::report::{Outcome, Report, ReportRow};
use super::validate::{ValidRow, check_rows};
use super::{CsvFile, for_each_contact_page};
use crate::api::{ApiError, BulkRowOutcome, Provider};
use crate::app::save_contact::{find_by_phone, is_duplicate_phone};
use crate::domain::{Contact, ContactUpdate, Tag, TagId};
use crate::text;

/// Rows per bulk request.
pub const BULK_CHUNK: usize = 100;

/// Where the import tells how far it is.
pub trait Progress {
    /// A stage of `total` steps begins (`None`: not known ahead).
    fn stage(&mut self, what: &str, total: Option<u64>);
    fn advance(&mut self, steps: u64);
    /// The import is over (the bar, if any, goes away).
    fn finish(&mut self);
}

/// Progress nobody watches.
pub struct Silent;

impl Progress for Silent {
    fn stage(&mut self, _: &str, _: Option<u64>) {}
    fn advance(&mut self, _: u64) {}
    fn finish(&mut self) {}
}

#[derive(Debug, Default)]
pub struct ImportOptions<'a> {
    /// Reads phones written without `+`.
    pub account_country: Option<&'a str>,
    /// Say what would happen; write nothing to the server or the journal.
    pub dry_run: bool,
    /// Rows sent by an earlier run are not sent again.
    pub journal: Option<Journal>,
}

/// Imports the rows of `file`. The report covers every row; when the import
/// had to stop (the network, the credentials), `report.stopped` says why,
/// the rows not sent say so, and the journal stays for a re-run.
pub async fn import(
    provider: &dyn Provider,
    file: &CsvFile,
    options: ImportOptions<'_>,
    progress: &mut dyn Progress,
) -> Report {
    let ImportOptions {
        account_country,
        dry_run,
        mut journal,
    } = options;
    let checked = check_rows(file, account_country);
    let mut report = Report {
        rows: checked.settled,
        dry_run,
        ..Report::default()
    };
    let mut pending: Vec<ValidRow> = Vec::with_capacity(checked.valid.len());
    for row in checked.valid {
        match journal.as_ref().and_then(|j| j.done(row.line)) {
            Some(earlier) => {
                let mut earlier = earlier.clone();
                earlier.reason = match earlier.reason.as_str() {
                    "" => "in an earlier run".into(),
                    reason => format!("in an earlier run: {reason}"),
                };
                report.push(earlier);
            }
            None => pending.push(row),
        }
    }
    if let Some(j) = &journal {
        if dry_run {
            if j.resumed() > 0 && !j.set_aside {
                report.notes.push(format!(
                    "an interrupted import of this file sent {} rows; a real run resumes it",
                    j.resumed()
                ));
            }
        } else if j.set_aside {
            report.notes.push(format!(
                "{} was written for other contents of the file; starting over (phones already \
                 in the account are not created again)",
                j.path().display()
            ));
        } else if j.resumed() > 0 {
            report.notes.push(format!(
                "resuming an interrupted import: {} rows were sent before",
                j.resumed()
            ));
        }
    }
    if dry_run {
        journal = None;
    }
    let mut sender = Sender {
        provider,
        report,
        journal,
    };
    let finished = if pending.is_empty() {
        Ok(())
    } else {
        let bulk = !dry_run && provider.capabilities().bulk_contact_import;
        sender.planned(&pending, dry_run, bulk, progress).await
    };
    progress.finish();
    let Sender {
        mut report,
        journal,
        ..
    } = sender;
    match finished {
        Ok(()) => {
            if let Some(journal) = journal
                && let Err(err) = journal.finish()
            {
                report.notes.push(err);
            }
        }
        Err(why) => {
            let answered: std::collections::HashSet<u64> =
                report.rows.iter().map(|r| r.line).collect();
            let unsent: Vec<ReportRow> = pending
                .iter()
                .filter(|row| !answered.contains(&row.line))
                .map(|row| {
                    ReportRow::new(row.line, row.phone.e164.clone(), Outcome::NotSent)
                        .because("the import stopped before this row; run it again to resume")
                })
                .collect();
            report.rows.extend(unsent);
            report.stopped = Some(why);
        }
    }
    report.sort();
    report
}

/// An error that every further row would meet too: stop, keep the journal.
fn stops_the_import(error: &ApiError) -> bool {
    error.is_transient()
        || matches!(
            error,
            ApiError::InvalidCredentials(_)
                | ApiError::Unauthorized(_)
                | ApiError::Rejected {
                    code: Some(403),
                    ..
                }
                | ApiError::InsufficientScope { .. }
                | ApiError::Unsupported(_)
                | ApiError::SchemaMismatch(_)
        )
}

struct Sender<'a> {
    provider: &'a dyn Provider,
    report: Report,
    journal: Option<Journal>,
}

impl Sender<'_> {
    /// Settles rows: in the report, and in the journal before the next is sent.
    fn settle(&mut self, rows: Vec<ReportRow>) {
        if let Some(journal) = &mut self.journal
            && let Err(err) = journal.record(&rows)
        {
            // The phone check still keeps a re-run from creating twice.
            self.report
                .notes
                .push(format!("{err}; a re-run checks every row again"));
            self.journal = None;
        }
        self.report.rows.extend(rows);
    }

    async fn bulk(&mut self, rows: &[ValidRow], progress: &mut dyn Progress) -> Result<(), String> {
        progress.stage("importing", Some(rows.len() as u64));
        // Without the directory a doubted number cannot be matched: refused.
        let (doubted, rows): (Vec<&ValidRow>, Vec<&ValidRow>) =
            rows.iter().partition(|row| row.unverified.is_some());
        let refused: Vec<ReportRow> = doubted
            .into_iter()
            .map(|row| failed(row, row.unverified.clone().unwrap_or_default()))
            .collect();
        progress.advance(refused.len() as u64);
        self.settle(refused);
        for chunk in rows.chunks(BULK_CHUNK) {
            let fields: Vec<ContactUpdate> = chunk.iter().map(|row| bulk_fields(row)).collect();
            let outcomes = match self.provider.import_contacts(&fields).await {
                Ok(outcomes) => outcomes,
                Err(err) if stops_the_import(&err) => {
                    return Err(format!("{err} (line {} and after not sent)", chunk[0].line));
                }
                Err(err) => {
                    let reason = text::sanitize_line(&err.to_string());
                    let failed = chunk
                        .iter()
                        .map(|row| failed(row, reason.clone()))
                        .collect();
                    self.settle(failed);
                    progress.advance(chunk.len() as u64);
                    continue;
                }
            };
            let answered = outcomes.len().min(chunk.len());
            let settled = chunk
                .iter()
                .zip(outcomes)
                .map(|(row, outcome)| match outcome {
                    BulkRowOutcome::Created(c) => done(row, Outcome::Created, &c),
                    BulkRowOutcome::Updated(c) => done(row, Outcome::Updated, &c),
                    BulkRowOutcome::Failed(reason) => failed(row, text::sanitize_line(&reason)),
                })
                .collect();
            self.settle(settled);
            progress.advance(answered as u64);
            if answered < chunk.len() {
                return Err(format!(
                    "the server answered {answered} of {} rows (line {} and after not sent)",
                    chunk.len(),
                    chunk[answered].line
                ));
            }
        }
        Ok(())
    }

    /// Reads the directory once, then settles each row by its plan:
    /// unchanged rows cost nothing, changed ones one update each, and new
    /// ones one create each — or, with `bulk`, go in chunks through the
    /// provider's bulk endpoint (a re-run sends nothing twice).
    async fn planned(
        &mut self,
        rows: &[ValidRow],
        dry_run: bool,
        bulk: bool,
        progress: &mut dyn Progress,
    ) -> Result<(), String> {
        progress.stage("reading the contacts of the account", None);
        let mut directory = Directory::default();
        for_each_contact_page(self.provider, |page| {
            progress.advance(page.len() as u64);
            for contact in page {
                directory.add(contact);
            }
            Ok(())
        })
        .await?;
        progress.stage(
            if dry_run { "checking" } else { "importing" },
            Some(rows.len() as u64),
        );
        let mut creates = Vec::new();
        for row in rows {
            let planned = plan::plan_row(row, &directory);
            // Tags go by name in bulk, so a note about unknown tags does not apply.
            if bulk && matches!(planned.action, Action::Create(_)) {
                creates.push(row.clone());
                continue;
            }
            let note = planned.note.unwrap_or_default();
            let settled = if dry_run {
                rehearse(row, planned.action)
            } else {
                self.send(row, planned.action, &mut directory)
                    .await
                    .map_err(|err| format!("{err} (line {} and after not sent)", row.line))?
            };
            let settled = with_note(settled, &note);
            // A dry run has nothing to journal.
            if dry_run {
                self.report.push(settled);
            } else {
                self.settle(vec![settled]);
            }
            progress.advance(1);
        }
        if !creates.is_empty() {
            self.bulk(&creates, progress).await?;
        }
        Ok(())
    }

    /// One row's request; `Err` when the import has to stop.
    async fn send(
        &mut self,
        row: &ValidRow,
        action: Action,
        directory: &mut Directory,
    ) -> Result<ReportRow, ApiError> {
        let provider = self.provider;
        match action {
            Action::Refuse(reason) => Ok(failed(row, reason)),
            Action::Unchanged(id) => Ok(skipped_unchanged(row, id.as_str(), "")),
            Action::Update { id, changes } => match provider.update_contact(&id, &changes).await {
                Ok(contact) => {
                    let settled = done(row, Outcome::Updated, &contact);
                    directory.add(contact);
                    Ok(settled)
                }
                Err(err) => refused(row, err),
            },
            Action::Create(fields) => match provider.create_contact(&fields).await {
                Ok(contact) => {
                    let settled = done(row, Outcome::Created, &contact);
                    directory.add(contact);
                    Ok(settled)
                }
                Err(err) if is_duplicate_phone(&err) => {
                    // Created meanwhile (or missed by the directory read):
                    // bring the existing contact up to date instead.
                    let Some(existing) = find_by_phone(provider, &row.phone.e164).await? else {
                        return refused(row, err);
                    };
                    let tags: Vec<Tag> = fields.tags.clone().unwrap_or_default();
                    let changes = plan::changes_for(row, &tags, &existing);
                    directory.add(existing.clone());
                    if changes.is_empty() {
                        return Ok(skipped_unchanged(
                            row,
                            existing.id.as_str(),
                            " (already in the account)",
                        ));
                    }
                    match provider.update_contact(&existing.id, &changes).await {
                        Ok(contact) => {
                            let settled = done(row, Outcome::Updated, &contact)
                                .because("the phone was already in the account");
                            directory.add(contact);
                            Ok(settled)
                        }
                        Err(err) => refused(row, err),
                    }
                }
                Err(err) => refused(row, err),
            },
        }
    }
}

/// What a dry run says of a planned row.
fn rehearse(row: &ValidRow, action: Action) -> ReportRow {
    let phone = row.phone.e164.clone();
    match action {
        Action::Create(_) => ReportRow::new(row.line, phone, Outcome::Created),
        Action::Update { id, changes } => {
            let fields: Vec<&str> = changes.fields().iter().map(|f| f.label()).collect();
            ReportRow::new(row.line, phone, Outcome::Updated)
                .because(format!("changes {}", fields.join(", ")))
                .contact(id.as_str())
        }
        Action::Unchanged(id) => skipped_unchanged(row, id.as_str(), ""),
        Action::Refuse(reason) => failed(row, reason),
    }
}

/// A refusal fails the row; anything that would fail every row stops.
fn refused(row: &ValidRow, err: ApiError) -> Result<ReportRow, ApiError> {
    if stops_the_import(&err) {
        return Err(err);
    }
    Ok(failed(row, text::sanitize_line(&err.to_string())))
}

fn done(row: &ValidRow, outcome: Outcome, contact: &Contact) -> ReportRow {
    ReportRow::new(row.line, row.phone.e164.clone(), outcome)
        .contact(text::sanitize_line(contact.id.as_str()))
}

fn failed(row: &ValidRow, reason: String) -> ReportRow {
    ReportRow::new(row.line, row.phone.e164.clone(), Outcome::Failed).because(reason)
}

fn skipped_unchanged(row: &ValidRow, id: &str, detail: &str) -> ReportRow {
    ReportRow::new(row.line, row.phone.e164.clone(), Outcome::Skipped)
        .because(format!("unchanged{detail}"))
        .contact(text::sanitize_line(id))
}

fn with_note(mut row: ReportRow, note: &str) -> ReportRow {
    if !note.is_empty() {
        row.reason = match row.reason.as_str() {
            "" => note.to_string(),
            reason => format!("{reason}; {note}"),
        };
    }
    row
}

/// A row as a bulk import takes it. Bulk importers name tags rather than
/// know their ids, so each tag goes by its name.
fn bulk_fields(row: &ValidRow) -> ContactUpdate {
    let mut fields = row.fields.clone();
    if !row.tags.is_empty() {
        fields.tags = Some(
            row.tags
                .iter()
                .map(|name| Tag {
                    id: TagId::new(name.as_str()),
                    name: name.clone(),
                    color: None,
                })
                .collect(),
        );
    }
    fields
}
