//! Contacts CSV import and export: against the Qpien sandbox over HTTP
//! (the library and the binary), and the bulk path against a fake
//! provider.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use secrecy::SecretString;
use termdesk::api::qpien::{QpienClient, QpienConfig};
use termdesk::api::{ApiError, ApiResult, BulkRowOutcome, Capabilities, Provider};
use termdesk::contacts_csv::import::{BULK_CHUNK, ImportOptions, Silent, import};
use termdesk::contacts_csv::journal::{Journal, journal_path};
use termdesk::contacts_csv::{Outcome, Report, export, read_csv};
use termdesk::domain::{Contact, ContactId, ContactQuery, ContactUpdate, Page};
use termdesk::sandbox::{Sandbox, SandboxOptions};

const BINARY: &str = env!("CARGO_BIN_EXE_termdesk");
const SECRET_ENV: &str = "TERMDESK_CSV_TEST_SECRET";

async fn start() -> Sandbox {
    Sandbox::start(
        "127.0.0.1:0".parse().unwrap(),
        SandboxOptions {
            conversations: 40,
            rate_limit: 100_000,
            ..SandboxOptions::default()
        },
    )
    .await
    .expect("sandbox starts")
}

fn client(sandbox: &Sandbox) -> QpienClient {
    QpienClient::new(QpienConfig::new(
        sandbox.base_url(),
        "demo",
        SecretString::from("demo".to_string()),
    ))
    .expect("client builds")
}

fn operations(sandbox: &Sandbox, name: &str) -> u64 {
    let stats = sandbox.control().stats();
    stats.operations.get(name).copied().unwrap_or(0)
}

fn contact_writes(sandbox: &Sandbox) -> u64 {
    ["createContact", "updateContact", "deleteContact"]
        .iter()
        .map(|op| operations(sandbox, op))
        .sum()
}

/// A CSV file in a scratch directory.
fn csv_file(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("contacts.csv");
    std::fs::write(&path, text).expect("csv written");
    path
}

/// Imports the file at `path` with its journal, reading phones in Turkey.
async fn run(provider: &dyn Provider, path: &Path, dry_run: bool) -> Report {
    let bytes = std::fs::read(path).unwrap();
    let file = read_csv(&bytes).expect("a contacts CSV");
    let options = ImportOptions {
        account_country: Some("TR"),
        dry_run,
        journal: Some(Journal::open(journal_path(path), file.fingerprint)),
    };
    import(provider, &file, options, &mut Silent).await
}

fn row(report: &Report, line: u64) -> (Outcome, String) {
    let row = report
        .rows
        .iter()
        .find(|r| r.line == line)
        .unwrap_or_else(|| panic!("line {line} in {:?}", report.rows));
    (row.outcome, row.reason.clone())
}

async fn create(client: &QpienClient, first_name: &str, phone: &str) -> Contact {
    client
        .create_contact(&ContactUpdate {
            first_name: Some(first_name.into()),
            phone: Some(Some(phone.into())),
            ..ContactUpdate::default()
        })
        .await
        .expect("created")
}

const MIXED: &str = "first_name,last_name,phone,email,notes\n\
    Deniz,Aydın,0532 111 22 33,deniz@example.com,x\n\
    Kerem,Yeni,+90 532 222 33 44,,\n\
    Selin,,+905323334455,,\n\
    Bad,,+90 532 123,,\n\
    Deniz again,,+90 532 111 22 33,,\n\
    ,,+905324445566,,\n\
    Taken,,+905325556677,kerem@example.com,\n";

/// The contacts `MIXED` meets in the account: Kerem (to be updated, and
/// holding an e-mail another row asks for) and Selin (unchanged).
async fn seed_mixed(client: &QpienClient) {
    create(client, "Kerem", "+905322223344").await;
    create(client, "Selin", "+905323334455").await;
    let kerem = client
        .list_contacts(&ContactQuery {
            limit: 5,
            phone: Some("+905322223344".into()),
            ..ContactQuery::default()
        })
        .await
        .unwrap()
        .items
        .remove(0);
    client
        .update_contact(
            &kerem.id,
            &ContactUpdate {
                email: Some(Some("kerem@example.com".into())),
                ..ContactUpdate::default()
            },
        )
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_creates_updates_skips_and_reports_failures() {
    let sandbox = start().await;
    let control = sandbox.control();
    let client = client(&sandbox);
    seed_mixed(&client).await;
    let dir = tempfile::tempdir().unwrap();
    let path = csv_file(dir.path(), MIXED);
    let before = control.contact_count();
    let lists_before = operations(&sandbox, "getContactList");

    let report = run(&client, &path, false).await;

    assert_eq!(report.stopped, None);
    let counts = report.counts();
    assert_eq!(
        (
            counts.created,
            counts.updated,
            counts.skipped,
            counts.failed
        ),
        (1, 1, 2, 3),
        "{:?}",
        report.rows
    );
    assert_eq!(row(&report, 2).0, Outcome::Created);
    assert_eq!(row(&report, 3).0, Outcome::Updated);
    assert_eq!(row(&report, 4), (Outcome::Skipped, "unchanged".into()));
    assert_eq!(
        row(&report, 5),
        (
            Outcome::Failed,
            "phone \"+90 532 123\": not a valid number for +90 (check the number of digits)".into()
        )
    );
    assert_eq!(
        row(&report, 6),
        (Outcome::Skipped, "duplicate of line 2".into())
    );
    assert!(row(&report, 7).1.contains("needs a first name"));
    let (outcome, reason) = row(&report, 8);
    assert_eq!(outcome, Outcome::Failed);
    assert!(reason.contains("email already in use"), "{reason}");

    // The server has what the report says, each phone once.
    assert_eq!(control.contact_count(), before + 1);
    let deniz = control
        .contact_id_by_phone("+905321112233")
        .and_then(|id| control.contact(&id))
        .expect("Deniz created");
    assert_eq!(deniz.last_name.as_deref(), Some("Aydın"));
    assert_eq!(deniz.email.as_deref(), Some("deniz@example.com"));
    assert_eq!(deniz.phone_country_code.as_deref(), Some("90"));
    let kerem = control
        .contact(&control.contact_id_by_phone("+905322223344").unwrap())
        .unwrap();
    assert_eq!(kerem.last_name.as_deref(), Some("Yeni"));
    assert_eq!(control.contacts_with_phone("+905325556677"), 0);
    // One directory read, not one lookup per row; the journal is gone.
    // (Five pages are asked in one request.)
    assert!(operations(&sandbox, "getContactList") - lists_before <= 5);
    assert_eq!(operations(&sandbox, "getContact"), 0);
    assert!(!journal_path(&path).exists());

    // Again: everything is there now.
    let again = run(&client, &path, false).await;
    let counts = again.counts();
    assert_eq!((counts.created, counts.updated), (0, 0), "{:?}", again.rows);
    assert_eq!(row(&again, 2), (Outcome::Skipped, "unchanged".into()));
    assert_eq!(control.contact_count(), before + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_says_what_would_happen_and_writes_nothing() {
    let sandbox = start().await;
    let control = sandbox.control();
    let client = client(&sandbox);
    seed_mixed(&client).await;
    let dir = tempfile::tempdir().unwrap();
    let path = csv_file(dir.path(), MIXED);
    let before = control.contact_count();
    let writes = contact_writes(&sandbox);

    let report = run(&client, &path, true).await;

    assert!(report.dry_run);
    let counts = report.counts();
    assert_eq!(
        (
            counts.created,
            counts.updated,
            counts.skipped,
            counts.failed
        ),
        // The e-mail taken by another contact is the server's to refuse.
        (2, 1, 2, 2),
        "{:?}",
        report.rows
    );
    assert_eq!(
        row(&report, 3),
        (Outcome::Updated, "changes Last name".into())
    );
    assert!(report.summary()[0].starts_with("dry run, nothing was written: would create 2"));
    assert_eq!(contact_writes(&sandbox), writes);
    assert_eq!(control.contact_count(), before);
    assert!(!journal_path(&path).exists());
}

/// The real client, until `writes` contacts have been written; the next
/// write reaches the server but its answer is lost, and so is every later
/// request.
struct Interrupted {
    inner: QpienClient,
    writes: AtomicUsize,
}

impl Interrupted {
    fn lost() -> ApiError {
        ApiError::Network("connection reset".into())
    }

    fn write(&self) -> Result<bool, ApiError> {
        match self
            .writes
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        {
            Ok(_) => Ok(true),
            Err(_) => Ok(false),
        }
    }
}

#[async_trait]
impl Provider for Interrupted {
    fn name(&self) -> &str {
        "Interrupted"
    }
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
    async fn authenticate(&self) -> ApiResult<()> {
        self.inner.authenticate().await
    }
    async fn list_contacts(&self, query: &ContactQuery) -> ApiResult<Page<Contact>> {
        self.inner.list_contacts(query).await
    }
    async fn list_contact_pages(
        &self,
        query: &ContactQuery,
        pages: usize,
    ) -> ApiResult<Vec<Page<Contact>>> {
        self.inner.list_contact_pages(query, pages).await
    }
    async fn create_contact(&self, fields: &ContactUpdate) -> ApiResult<Contact> {
        let answered = self.write()?;
        let created = self.inner.create_contact(fields).await?;
        if answered {
            Ok(created)
        } else {
            Err(Self::lost())
        }
    }
    async fn update_contact(&self, id: &ContactId, update: &ContactUpdate) -> ApiResult<Contact> {
        let answered = self.write()?;
        let updated = self.inner.update_contact(id, update).await?;
        if answered {
            Ok(updated)
        } else {
            Err(Self::lost())
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_import_resumes_without_duplicates() {
    let sandbox = start().await;
    let control = sandbox.control();
    let dir = tempfile::tempdir().unwrap();
    let phones: Vec<String> = (0..6).map(|i| format!("+90532700000{i}")).collect();
    let mut text = String::from("first_name,phone\n");
    for (i, phone) in phones.iter().enumerate() {
        text.push_str(&format!("Müşteri {i},{phone}\n"));
    }
    let path = csv_file(dir.path(), &text);
    let before = control.contact_count();

    let flaky = Interrupted {
        inner: client(&sandbox),
        writes: AtomicUsize::new(3),
    };
    let first = run(&flaky, &path, false).await;
    let why = first.stopped.clone().expect("stopped");
    assert!(
        why.contains("connection reset") && why.contains("line 5"),
        "{why}"
    );
    let counts = first.counts();
    assert_eq!(
        (counts.created, counts.not_sent),
        (3, 3),
        "{:?}",
        first.rows
    );
    assert!(journal_path(&path).exists(), "kept for the re-run");
    // The fourth create arrived; only its answer was lost.
    assert_eq!(control.contact_count(), before + 4);

    // A dry run in between changes nothing, the journal included.
    let writes = contact_writes(&sandbox);
    let dry = run(&client(&sandbox), &path, true).await;
    assert!(
        dry.notes[0].contains("a real run resumes it"),
        "{:?}",
        dry.notes
    );
    assert_eq!(dry.counts().created, 3 + 2, "{:?}", dry.rows);
    assert_eq!(contact_writes(&sandbox), writes);
    assert!(journal_path(&path).exists());

    let creates = operations(&sandbox, "createContact");
    let second = run(&client(&sandbox), &path, false).await;
    assert_eq!(second.stopped, None);
    assert_eq!(
        row(&second, 2),
        (Outcome::Created, "in an earlier run".into())
    );
    assert_eq!(row(&second, 5), (Outcome::Skipped, "unchanged".into()));
    assert_eq!(row(&second, 6).0, Outcome::Created);
    assert!(second.notes[0].contains("resuming"), "{:?}", second.notes);
    assert_eq!(
        operations(&sandbox, "createContact") - creates,
        2,
        "only the unsent rows"
    );
    for phone in &phones {
        assert_eq!(control.contacts_with_phone(phone), 1, "{phone}");
    }
    assert_eq!(control.contact_count(), before + 6);
    assert!(!journal_path(&path).exists(), "removed once complete");
}

/// Hides one contact from the directory, as a read made just before
/// someone else created it would.
struct StaleDirectory {
    inner: QpienClient,
    hidden: String,
}

#[async_trait]
impl Provider for StaleDirectory {
    fn name(&self) -> &str {
        "Stale"
    }
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
    async fn authenticate(&self) -> ApiResult<()> {
        Ok(())
    }
    async fn list_contacts(&self, query: &ContactQuery) -> ApiResult<Page<Contact>> {
        self.inner.list_contacts(query).await
    }
    async fn list_contact_pages(
        &self,
        query: &ContactQuery,
        pages: usize,
    ) -> ApiResult<Vec<Page<Contact>>> {
        let mut pages = self.inner.list_contact_pages(query, pages).await?;
        for page in &mut pages {
            page.items
                .retain(|c| c.phone.as_deref() != Some(self.hidden.as_str()));
        }
        Ok(pages)
    }
    async fn create_contact(&self, fields: &ContactUpdate) -> ApiResult<Contact> {
        self.inner.create_contact(fields).await
    }
    async fn update_contact(&self, id: &ContactId, update: &ContactUpdate) -> ApiResult<Contact> {
        self.inner.update_contact(id, update).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_refused_as_a_duplicate_updates_the_existing_contact() {
    let sandbox = start().await;
    let control = sandbox.control();
    let real = client(&sandbox);
    create(&real, "Zeynep", "+905327770001").await;
    create(&real, "Emre", "+905327770002").await;
    let dir = tempfile::tempdir().unwrap();
    let path = csv_file(
        dir.path(),
        "first_name,last_name,phone\nZeynep,Kurt,+905327770001\nEmre,,+905327770002\n",
    );
    let mut report = run(
        &StaleDirectory {
            inner: client(&sandbox),
            hidden: "+905327770001".into(),
        },
        &path,
        false,
    )
    .await;
    assert_eq!(
        row(&report, 2),
        (
            Outcome::Updated,
            "the phone was already in the account".into()
        )
    );
    let zeynep = control
        .contact(&control.contact_id_by_phone("+905327770001").unwrap())
        .unwrap();
    assert_eq!(zeynep.last_name.as_deref(), Some("Kurt"));
    assert_eq!(control.contacts_with_phone("+905327770001"), 1);

    // Hidden and already as the file has it: skipped.
    report = run(
        &StaleDirectory {
            inner: client(&sandbox),
            hidden: "+905327770002".into(),
        },
        &path,
        false,
    )
    .await;
    assert_eq!(
        row(&report, 3),
        (
            Outcome::Skipped,
            "unchanged (already in the account)".into()
        )
    );
    assert_eq!(control.contacts_with_phone("+905327770002"), 1);
}

/// A provider that imports in bulk: records every chunk, fails rows whose
/// first name is "Refused", and loses the connection on chunk `fail_at`.
#[derive(Default)]
struct Bulk {
    chunks: Mutex<Vec<Vec<ContactUpdate>>>,
    /// What the account holds: the contacts the imports made.
    directory: Mutex<Vec<Contact>>,
    directory_reads: AtomicUsize,
    fail_at: Option<usize>,
    calls: AtomicUsize,
}

#[async_trait]
impl Provider for Bulk {
    fn name(&self) -> &str {
        "Bulk"
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            contacts: true,
            bulk_contact_import: true,
            ..Capabilities::default()
        }
    }
    async fn authenticate(&self) -> ApiResult<()> {
        Ok(())
    }
    async fn list_contacts(&self, _: &ContactQuery) -> ApiResult<Page<Contact>> {
        self.directory_reads.fetch_add(1, Ordering::SeqCst);
        Ok(Page::last(self.directory.lock().unwrap().clone()))
    }
    async fn import_contacts(&self, rows: &[ContactUpdate]) -> ApiResult<Vec<BulkRowOutcome>> {
        let call = self.calls.fetch_add(1, Ordering::SeqCst);
        if Some(call) == self.fail_at {
            return Err(ApiError::Timeout(std::time::Duration::from_secs(30)));
        }
        self.chunks.lock().unwrap().push(rows.to_vec());
        Ok(rows
            .iter()
            .map(|row| {
                let name = row.first_name.clone().unwrap_or_default();
                let mut contact = Contact::named(format!("id-{name}"), name.clone());
                contact.phone = row.phone.clone().flatten();
                contact.tags = row.tags.clone().unwrap_or_default();
                if name != "Refused" {
                    self.directory.lock().unwrap().push(contact.clone());
                }
                match name.as_str() {
                    "Refused" => BulkRowOutcome::Failed("phone \u{1b}[31mblocked".into()),
                    n if n.ends_with('0') => BulkRowOutcome::Updated(contact),
                    _ => BulkRowOutcome::Created(contact),
                }
            })
            .collect())
    }
}

fn bulk_csv(rows: usize) -> String {
    let mut text = String::from("name,phone,tags\n");
    for i in 0..rows {
        let name = if i == 7 {
            "Refused".to_string()
        } else {
            format!("N{i}")
        };
        text.push_str(&format!("{name},+90533{:07},vip|new\n", 1_000_000 + i));
    }
    text
}

#[tokio::test]
async fn a_bulk_provider_gets_the_rows_in_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let path = csv_file(dir.path(), &bulk_csv(250));
    let provider = Bulk::default();
    let report = run(&provider, &path, false).await;
    let chunks = provider.chunks.lock().unwrap().clone();
    let sizes: Vec<usize> = chunks.iter().map(Vec::len).collect();
    assert_eq!(sizes, [BULK_CHUNK, BULK_CHUNK, 50]);
    let first = &chunks[0][0];
    assert_eq!(first.phone, Some(Some("+905331000000".into())));
    let tags: Vec<String> = first
        .tags
        .clone()
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(tags, ["vip", "new"]);
    let counts = report.counts();
    assert_eq!(
        (counts.created, counts.updated, counts.failed),
        (224, 25, 1),
        "{:?}",
        report.summary()
    );
    assert_eq!(row(&report, 9), (Outcome::Failed, "phone blocked".into()));
    assert_eq!(report.rows[0].contact_id.as_deref(), Some("id-N0"));
    assert!(!journal_path(&path).exists());
    // Run again: the directory read shows the rows that are there already,
    // so only the refused one goes to the bulk endpoint again.
    let again = run(&provider, &path, false).await;
    let chunks = provider.chunks.lock().unwrap().clone();
    let sizes: Vec<usize> = chunks.iter().map(Vec::len).collect();
    assert_eq!(
        sizes,
        [BULK_CHUNK, BULK_CHUNK, 50, 1],
        "only the refused row again"
    );
    assert_eq!(chunks[3][0].first_name.as_deref(), Some("Refused"));
    assert_eq!(
        provider.directory_reads.load(Ordering::SeqCst),
        2,
        "one read per run"
    );
    let counts = again.counts();
    assert_eq!(
        (
            counts.created,
            counts.updated,
            counts.skipped,
            counts.failed
        ),
        (0, 0, 249, 1),
        "{:?}",
        again.summary()
    );
}

#[tokio::test]
async fn an_interrupted_bulk_import_sends_only_the_rest_again() {
    let dir = tempfile::tempdir().unwrap();
    let path = csv_file(dir.path(), &bulk_csv(250));
    let failing = Bulk {
        fail_at: Some(1),
        ..Bulk::default()
    };
    let first = run(&failing, &path, false).await;
    assert!(
        first.stopped.as_deref().unwrap().contains("line 102"),
        "{:?}",
        first.stopped
    );
    assert_eq!(first.counts().not_sent, 150);
    assert!(journal_path(&path).exists());

    let provider = Bulk::default();
    let second = run(&provider, &path, false).await;
    let sent: usize = provider.chunks.lock().unwrap().iter().map(Vec::len).sum();
    assert_eq!(sent, 150);
    assert_eq!(second.counts().not_sent, 0);
    assert_eq!(second.rows.len(), 250);
    assert!(!journal_path(&path).exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_imports_back_unchanged() {
    let sandbox = start().await;
    let control = sandbox.control();
    let client = client(&sandbox);
    let mut out: Vec<u8> = Vec::new();
    let written = export::export(&client, &mut out, |_| {})
        .await
        .expect("exported");
    assert_eq!(written, control.contact_count());
    let text = String::from_utf8(out).unwrap();
    assert!(text.starts_with("first_name,last_name,phone,email,country,language,gender,tags\n"));
    assert_eq!(text.lines().count(), written + 1);

    let dir = tempfile::tempdir().unwrap();
    let path = csv_file(dir.path(), &text);
    let writes = contact_writes(&sandbox);
    let report = run(&client, &path, false).await;
    let counts = report.counts();
    assert_eq!(
        (counts.created, counts.updated, counts.failed),
        (0, 0, 0),
        "{:?}",
        report.summary()
    );
    assert_eq!(counts.skipped, written);
    assert_eq!(contact_writes(&sandbox), writes);
}

fn config(dir: &Path, base_url: &str) -> PathBuf {
    let config = dir.join("termdesk.toml");
    std::fs::write(
        &config,
        format!(
            "[[accounts]]\nname = \"csv\"\nprovider = \"qpien\"\nbase_url = \"{base_url}\"\n\
             client_id = \"demo\"\nclient_secret_env = \"{SECRET_ENV}\"\n\
             requests_per_minute = 100000\ncountry = \"TR\"\n"
        ),
    )
    .expect("config written");
    config
}

async fn termdesk(dir: &Path, config: &Path, args: &[&str]) -> Output {
    let mut command = Command::new(BINARY);
    command
        .arg("--config")
        .arg(config)
        .args(args)
        .env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .env("XDG_DATA_HOME", dir.join("data"))
        .env("XDG_STATE_HOME", dir.join("state"))
        .env(SECRET_ENV, "demo");
    tokio::task::spawn_blocking(move || command.output().expect("termdesk runs"))
        .await
        .expect("the wait finishes")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_commands_import_export_and_refuse_bad_files_before_any_request() {
    let sandbox = start().await;
    let control = sandbox.control();
    seed_mixed(&client(&sandbox)).await;
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), &sandbox.base_url());
    let path = csv_file(dir.path(), MIXED);
    let file = path.to_str().unwrap();

    // A file that is no contacts CSV costs no request.
    let requests = control.request_count();
    let prose = dir.path().join("notes.csv");
    std::fs::write(&prose, "name,email\nAli,a@x.com\n").unwrap();
    let out = termdesk(
        dir.path(),
        &config,
        &["contacts", "import", prose.to_str().unwrap()],
    )
    .await;
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("no phone column"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(control.request_count(), requests);

    let out = termdesk(
        dir.path(),
        &config,
        &["contacts", "import", file, "--dry-run"],
    )
    .await;
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("dry run, nothing was written: would create 2"),
        "{stdout}"
    );
    let stderr = text(&out.stderr);
    assert!(stderr.contains("ignoring the column \"notes\""), "{stderr}");
    assert_eq!(stderr.matches("ignoring the column").count(), 1);

    let before = control.contact_count();
    let out = termdesk(dir.path(), &config, &["contacts", "import", file]).await;
    assert!(!out.status.success(), "three rows failed");
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("created 1, updated 1, skipped 2, failed 3"),
        "{stdout}"
    );
    assert!(
        stdout.contains("line 6 (+905321112233): skipped: duplicate of line 2"),
        "{stdout}"
    );
    assert!(
        text(&out.stderr).contains("3 rows were not imported"),
        "{}",
        text(&out.stderr)
    );
    assert!(text(&out.stderr).contains("termdesk: importing: 5 rows"));
    assert_eq!(control.contact_count(), before + 1);
    let report = std::fs::read_to_string(dir.path().join("contacts.report.csv")).unwrap();
    let lines: Vec<&str> = report.lines().collect();
    assert_eq!(lines[0], "line,phone,outcome,reason,contact_id");
    let deniz = control.contact_id_by_phone("+905321112233").unwrap();
    assert_eq!(lines[1], format!("2,+905321112233,created,,{deniz}"));
    assert_eq!(lines.len(), 8);

    let out = termdesk(dir.path(), &config, &["contacts", "export"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let csv = text(&out.stdout);
    assert_eq!(csv.lines().count(), control.contact_count() + 1);
    assert!(
        csv.contains("Deniz,Aydın,+905321112233,deniz@example.com,,,,\n"),
        "{csv}"
    );
    assert!(text(&out.stderr).contains(&format!("exported {} contacts", control.contact_count())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags_are_added_by_name_and_unknown_ones_left_out() {
    let sandbox = start().await;
    let control = sandbox.control();
    let client = client(&sandbox);
    let page = client
        .list_contacts(&ContactQuery {
            limit: 100,
            ..ContactQuery::default()
        })
        .await
        .unwrap();
    let tag = page
        .items
        .iter()
        .flat_map(|c| c.tags.iter())
        .next()
        .expect("a seeded contact with a tag")
        .name
        .clone();
    create(&client, "Selin", "+905328880002").await;
    let dir = tempfile::tempdir().unwrap();
    let path = csv_file(
        dir.path(),
        &format!(
            "name,phone,tags\nEce,+905328880001,{} | no-such-tag\nSelin,+905328880002,{tag}\n",
            tag.to_uppercase()
        ),
    );
    let report = run(&client, &path, false).await;
    let (outcome, reason) = row(&report, 2);
    assert_eq!(outcome, Outcome::Created);
    assert_eq!(
        reason,
        "tag no-such-tag left out: no contact of the account has it"
    );
    assert_eq!(row(&report, 3).0, Outcome::Updated);
    for phone in ["+905328880001", "+905328880002"] {
        let state = control
            .contact(&control.contact_id_by_phone(phone).unwrap())
            .unwrap();
        assert_eq!(state.tags, std::slice::from_ref(&tag), "{phone}");
    }
    // Already tagged: nothing to send the second time.
    let again = run(&client, &path, false).await;
    assert_eq!(row(&again, 3), (Outcome::Skipped, "unchanged".into()));
}
