//! Contacts in and out as CSV: reading a file (`read`), checking its rows
//! with the editor's rules (`validate`), deciding per row what the server
//! needs (`plan`), sending it (`import`), remembering what was sent so an
//! interrupted import resumes (`journal`), the per-row report (`report`)
//! and the export (`export`).

pub mod export;
pub mod import;
pub mod journal;
pub mod plan;
pub mod read;
pub mod report;
pub mod validate;

use std::collections::HashSet;

use crate::api::Provider;
use crate::domain::{Contact, ContactQuery};

pub use read::{CsvFile, CsvRow, read_csv};
pub use report::{Outcome, Report, ReportRow};

/// A contact field a column can hold; import and export share them, so an
/// export reads back in unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    FirstName,
    LastName,
    Phone,
    Email,
    Country,
    Language,
    Gender,
    Tags,
}

impl Column {
    /// In the order the export writes them.
    pub const ALL: [Column; 8] = [
        Column::FirstName,
        Column::LastName,
        Column::Phone,
        Column::Email,
        Column::Country,
        Column::Language,
        Column::Gender,
        Column::Tags,
    ];

    /// The header the export writes.
    pub fn header(self) -> &'static str {
        match self {
            Column::FirstName => "first_name",
            Column::LastName => "last_name",
            Column::Phone => "phone",
            Column::Email => "email",
            Column::Country => "country",
            Column::Language => "language",
            Column::Gender => "gender",
            Column::Tags => "tags",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }

    /// The field a header names: case, spaces, `_`, `-` and `.` ignored,
    /// with the names spreadsheets and other tools commonly use.
    pub fn from_header(name: &str) -> Option<Column> {
        let key: String = name
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '_' | '-' | '.'))
            .flat_map(char::to_lowercase)
            .collect();
        Some(match key.as_str() {
            "firstname" | "name" | "givenname" | "first" => Column::FirstName,
            "lastname" | "surname" | "familyname" | "last" => Column::LastName,
            "phone" | "phonenumber" | "mobile" | "mobilephone" | "mobilenumber" | "telephone"
            | "tel" | "msisdn" => Column::Phone,
            "email" | "emailaddress" | "mail" => Column::Email,
            "country" | "countrycode" => Column::Country,
            "language" | "lang" | "locale" => Column::Language,
            "gender" | "sex" => Column::Gender,
            "tags" | "tag" | "labels" => Column::Tags,
            _ => return None,
        })
    }
}

/// Contacts asked for per page: the most the providers serve.
const PAGE_SIZE: u32 = 100;
/// Pages asked for at once: as many as one Qpien request carries.
const PAGES_PER_CALL: usize = 5;
/// Guard against a server that always reports another page (10 million
/// contacts).
const MAX_PAGES: usize = 100_000;

/// Every contact of the account, page by page, each handed to `on_page`
/// once (a contact seen on an earlier page is left out). The one place
/// that knows how the directory is paged. Stops at the first error of the
/// server or of `on_page`; the error is ready to show.
pub async fn for_each_contact_page(
    provider: &dyn Provider,
    mut on_page: impl FnMut(Vec<Contact>) -> Result<(), String>,
) -> Result<usize, String> {
    let mut seen: HashSet<String> = HashSet::new();
    let mut query = ContactQuery {
        limit: PAGE_SIZE,
        ..ContactQuery::default()
    };
    let mut asked = 0;
    while asked < MAX_PAGES {
        let pages = provider
            .list_contact_pages(&query, PAGES_PER_CALL)
            .await
            .map_err(|err| format!("cannot read the contacts: {err}"))?;
        if pages.is_empty() {
            return Err("cannot read the contacts: the server answered no page".into());
        }
        asked += pages.len();
        for page in pages {
            // An empty page, or one pointing back at itself, ends the walk
            // whatever the server says.
            let last = page.items.is_empty() || page.next.is_none() || page.next == query.cursor;
            query.cursor = page.next;
            let fresh: Vec<Contact> = page
                .items
                .into_iter()
                .filter(|c| seen.insert(c.id.0.clone()))
                .collect();
            on_page(fresh)?;
            if last {
                return Ok(seen.len());
            }
        }
    }
    Ok(seen.len())
}

/// Spreadsheets run a cell that starts with `=`, `+`, `-` or `@` as a
/// formula: such a cell is written with a leading `'`, which they show as
/// text. Phone numbers (`+90…`) are left as they are.
pub fn guard_cell(column: Column, value: &str) -> String {
    let risky = value.starts_with(['=', '+', '-', '@']);
    if risky && !(column == Column::Phone && looks_like_phone(value)) {
        format!("'{value}")
    } else {
        value.to_string()
    }
}

/// Undoes [`guard_cell`] on a cell read back, and the `'` spreadsheet users
/// type to keep a leading `+`.
pub fn unguard_cell(value: &str) -> &str {
    match value.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@']) => rest,
        _ => value,
    }
}

fn looks_like_phone(value: &str) -> bool {
    let rest = value.strip_prefix('+').unwrap_or(value);
    rest.chars().any(|c| c.is_ascii_digit())
        && rest
            .chars()
            .all(|c| c.is_ascii_digit() || " -().\u{a0}/".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{ApiResult, Capabilities};
    use crate::domain::{Page, PageCursor};

    /// Serves `pages` (contact ids), the cursor being the page's index,
    /// saying another follows on every one, and counts the requests.
    struct Paged {
        pages: Vec<Vec<&'static str>>,
        calls: std::sync::atomic::AtomicUsize,
    }

    #[async_trait::async_trait]
    impl Provider for Paged {
        fn name(&self) -> &str {
            "Paged"
        }
        fn capabilities(&self) -> Capabilities {
            Capabilities::default()
        }
        async fn authenticate(&self) -> ApiResult<()> {
            Ok(())
        }
        async fn list_contact_pages(
            &self,
            query: &ContactQuery,
            pages: usize,
        ) -> ApiResult<Vec<Page<Contact>>> {
            self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let from: usize = query
                .cursor
                .as_ref()
                .map_or(0, |c| c.as_str().parse().unwrap());
            Ok((from..from + pages)
                .map(|i| {
                    let items = self
                        .pages
                        .get(i)
                        .map(|ids| ids.iter().map(|id| Contact::named(*id, "x")).collect())
                        .unwrap_or_default();
                    Page::more(items, PageCursor::new((i + 1).to_string()))
                })
                .collect())
        }
    }

    #[tokio::test]
    async fn the_directory_is_read_in_batches_of_pages_each_contact_once() {
        let mut pages: Vec<Vec<&'static str>> = vec![vec!["a", "b"], vec!["b", "c"]];
        pages.extend(std::iter::repeat_n(vec!["d"], 6));
        let provider = Paged {
            pages,
            calls: Default::default(),
        };
        let mut seen = Vec::new();
        let total = for_each_contact_page(&provider, |page| {
            seen.extend(page.into_iter().map(|c| c.id.0));
            Ok(())
        })
        .await
        .unwrap();
        // An empty page ends the walk even though the server says more.
        assert_eq!(seen, ["a", "b", "c", "d"]);
        assert_eq!(total, 4);
        assert_eq!(provider.calls.into_inner(), 2, "five pages a request");
        let stopped = for_each_contact_page(
            &Paged {
                pages: vec![vec!["a"]],
                calls: Default::default(),
            },
            |_| Err("disk full".into()),
        )
        .await;
        assert_eq!(stopped, Err("disk full".to_string()));
    }

    #[test]
    fn headers_are_read_with_their_usual_names() {
        let col = Column::from_header;
        assert_eq!(col("First Name"), Some(Column::FirstName));
        assert_eq!(col("first_name"), Some(Column::FirstName));
        assert_eq!(col("FIRSTNAME"), Some(Column::FirstName));
        assert_eq!(col("name"), Some(Column::FirstName));
        assert_eq!(col(" last-name "), Some(Column::LastName));
        assert_eq!(col("Phone_Number"), Some(Column::Phone));
        assert_eq!(col("mobile"), Some(Column::Phone));
        assert_eq!(col("E-mail"), Some(Column::Email));
        assert_eq!(col("Tags"), Some(Column::Tags));
        assert_eq!(col("notes"), None);
        for column in Column::ALL {
            assert_eq!(col(column.header()), Some(column));
        }
    }

    #[test]
    fn formula_cells_are_guarded_and_phones_are_not() {
        assert_eq!(
            guard_cell(Column::FirstName, "=HYPERLINK(1)"),
            "'=HYPERLINK(1)"
        );
        assert_eq!(guard_cell(Column::LastName, "-2+3"), "'-2+3");
        assert_eq!(guard_cell(Column::Email, "@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(guard_cell(Column::Tags, "+vip"), "'+vip");
        assert_eq!(guard_cell(Column::FirstName, "Ayşe"), "Ayşe");
        assert_eq!(guard_cell(Column::Phone, "+905321234567"), "+905321234567");
        assert_eq!(
            guard_cell(Column::Phone, "+cmd|' /C calc'!A0"),
            "'+cmd|' /C calc'!A0"
        );
        assert_eq!(guard_cell(Column::Phone, "=1+1"), "'=1+1");
        for risky in ["=1+1", "-x", "@a", "+vip"] {
            assert_eq!(unguard_cell(&guard_cell(Column::FirstName, risky)), risky);
        }
        assert_eq!(unguard_cell("'+90 532 123 45 67"), "+90 532 123 45 67");
        assert_eq!(unguard_cell("'quoted'"), "'quoted'");
    }
}
