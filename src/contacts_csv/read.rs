//! Reading a contacts CSV as spreadsheets save it: a header row naming the
//! columns, UTF-8 with or without a byte-order mark, CRLF or LF line ends,
//! quoted cells holding commas and line breaks, `,` `;` or tab between
//! cells. A file that cannot be a contacts CSV is refused as a whole,
//! before any request.

use super::Column;
use crate::text;

/// Larger files are refused rather than read into memory.
pub const MAX_FILE_BYTES: usize = 256 * 1024 * 1024;

/// One row under the header, its cells by contact field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvRow {
    /// The line of the file the row starts on (1 is the header).
    pub line: u64,
    cells: [String; Column::ALL.len()],
    /// Why the row cannot be read (more cells than the header has).
    pub problem: Option<String>,
}

impl CsvRow {
    pub fn new(line: u64) -> CsvRow {
        CsvRow {
            line,
            cells: Default::default(),
            problem: None,
        }
    }

    /// The cell of `column`, as written ("" when the file has no such
    /// column or the row is short).
    pub fn get(&self, column: Column) -> &str {
        &self.cells[column.index()]
    }

    pub fn set(&mut self, column: Column, value: impl Into<String>) {
        self.cells[column.index()] = value.into();
    }

    pub fn is_blank(&self) -> bool {
        self.cells.iter().all(|c| c.trim().is_empty())
    }
}

/// A contacts CSV, read and its header understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvFile {
    /// The contact fields the file has columns for.
    pub columns: Vec<Column>,
    /// Header names that are no contact field (made safe to show); their
    /// cells are ignored.
    pub unknown_columns: Vec<String>,
    pub rows: Vec<CsvRow>,
    /// Of the file's bytes: tells a resumed import it reads the same file.
    pub fingerprint: u64,
}

/// FNV-1a: stable across builds and platforms, unlike std's hasher.
pub fn fingerprint(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

const COLUMN_NAMES: &str = "first_name, last_name, phone, email, country, language, gender, tags";

/// Reads the bytes of a CSV file; the error says why it is no contacts CSV.
pub fn read_csv(bytes: &[u8]) -> Result<CsvFile, String> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(format!(
            "the file is larger than {} MB; split it into smaller files",
            MAX_FILE_BYTES / (1024 * 1024)
        ));
    }
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err("the file is UTF-16 text; save it as \"CSV UTF-8\" and try again".into());
    }
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err("the file is empty".into());
    }
    if body.contains(&0) {
        return Err("not a CSV file: it holds binary data".into());
    }
    let content = std::str::from_utf8(body).map_err(|err| {
        let line = 1 + body[..err.valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        format!("line {line} is not UTF-8 text; save the file as \"CSV UTF-8\" and try again")
    })?;
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter(content))
        .flexible(true)
        .has_headers(true)
        .from_reader(content.as_bytes());
    let header = reader
        .headers()
        .map_err(|err| format!("cannot read the header row: {}", csv_error(&err)))?
        .clone();
    let (slots, columns, unknown_columns) = read_header(&header)?;
    let mut rows = Vec::new();
    let mut lines = LineCounter::new(content);
    for record in reader.records() {
        let record = record.map_err(|err| format!("cannot read the file: {}", csv_error(&err)))?;
        let line = record.position().map_or(0, |p| lines.line_at(p.byte()));
        let mut row = CsvRow::new(line);
        for (i, cell) in record.iter().enumerate() {
            match slots.get(i) {
                Some(Some(column)) => row.set(*column, cell),
                Some(None) => {}
                None if cell.trim().is_empty() => {}
                None => {
                    row.problem = Some(format!(
                        "the row has {} cells, the header {}: is a cell with a comma not \
                         quoted?",
                        record.len(),
                        header.len()
                    ));
                    break;
                }
            }
        }
        rows.push(row);
    }
    if rows.is_empty() {
        return Err("no contacts under the header row".into());
    }
    Ok(CsvFile {
        columns,
        unknown_columns,
        rows,
        fingerprint: fingerprint(bytes),
    })
}

/// Line numbers from byte offsets: the csv crate's own count is one short
/// after CRLF line ends.
struct LineCounter<'a> {
    text: &'a [u8],
    offset: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a str) -> Self {
        LineCounter {
            text: text.as_bytes(),
            offset: 0,
            line: 1,
        }
    }

    /// The line a record starting at `byte` (offsets only grow) begins on;
    /// the line end left over before it does not count as its start.
    fn line_at(&mut self, byte: u64) -> u64 {
        let mut start = usize::try_from(byte)
            .unwrap_or(usize::MAX)
            .min(self.text.len());
        while start < self.text.len() && matches!(self.text[start], b'\r' | b'\n') {
            start += 1;
        }
        if start > self.offset {
            let newlines = self.text[self.offset..start]
                .iter()
                .filter(|b| **b == b'\n')
                .count();
            self.line += newlines as u64;
            self.offset = start;
        }
        self.line
    }
}

type Header = (Vec<Option<Column>>, Vec<Column>, Vec<String>);

fn read_header(header: &csv::StringRecord) -> Result<Header, String> {
    let mut slots = Vec::with_capacity(header.len());
    let mut columns: Vec<Column> = Vec::new();
    let mut names: Vec<&str> = Vec::new();
    let mut unknown = Vec::new();
    for (i, name) in header.iter().enumerate() {
        let column = Column::from_header(name);
        if let Some(column) = column {
            if let Some(at) = columns.iter().position(|c| *c == column) {
                return Err(format!(
                    "the columns \"{}\" and \"{}\" both hold the {}; keep one",
                    shown(names[at]),
                    shown(name),
                    column.header().replace('_', " ")
                ));
            }
            columns.push(column);
            names.push(name);
        } else if name.trim().is_empty() {
            unknown.push(format!("column {} (no name)", i + 1));
        } else {
            unknown.push(shown(name));
        }
        slots.push(column);
    }
    if columns.is_empty() {
        return Err(format!(
            "not a contacts CSV: no column of the header row is a contact field \
             (expected {COLUMN_NAMES})"
        ));
    }
    if !columns.contains(&Column::Phone) {
        return Err(
            "the file has no phone column (contacts are matched by phone): name one \
             phone, phone_number or mobile"
                .into(),
        );
    }
    Ok((slots, columns, unknown))
}

fn shown(name: &str) -> String {
    text::truncate(&text::sanitize_line(name.trim()), 40).into_owned()
}

fn csv_error(err: &csv::Error) -> String {
    match err.position() {
        Some(at) => format!("line {}: {err}", at.line()),
        None => err.to_string(),
    }
}

/// The separator the header row uses most: `,` unless `;` or tab win
/// (spreadsheets in many locales save with `;`).
fn delimiter(content: &str) -> u8 {
    let first = content.lines().next().unwrap_or_default();
    let count = |c: char| {
        let mut quoted = false;
        first
            .chars()
            .filter(|ch| {
                if *ch == '"' {
                    quoted = !quoted;
                }
                !quoted && *ch == c
            })
            .count()
    };
    let (commas, semicolons, tabs) = (count(','), count(';'), count('\t'));
    if semicolons > commas && semicolons >= tabs {
        b';'
    } else if tabs > commas && tabs > semicolons {
        b'\t'
    } else {
        b','
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> CsvFile {
        read_csv(text.as_bytes()).expect("reads")
    }

    fn refused(bytes: &[u8]) -> String {
        read_csv(bytes).expect_err("refused")
    }

    #[test]
    fn rows_are_read_by_header_name() {
        let file = read(
            "First Name,Last Name,Phone,E-mail,Country,Language,Gender,Tags\n\
             Ayşe,Kaya,+90 532 123 45 67,ayse@example.com,TR,tr,female,vip;returning\n\
             Ali,,0532 765 43 21,,,,,\n",
        );
        assert_eq!(file.columns, Column::ALL.to_vec());
        assert!(file.unknown_columns.is_empty());
        assert_eq!(file.rows.len(), 2);
        let first = &file.rows[0];
        assert_eq!(first.line, 2);
        assert_eq!(first.get(Column::FirstName), "Ayşe");
        assert_eq!(first.get(Column::Phone), "+90 532 123 45 67");
        assert_eq!(first.get(Column::Tags), "vip;returning");
        assert_eq!(file.rows[1].line, 3);
        assert_eq!(file.rows[1].get(Column::Email), "");
    }

    #[test]
    fn a_bom_crlf_and_quoted_cells_are_understood() {
        let file = read(
            "\u{feff}name,phone,notes\r\n\
             \"Kaya, Ayşe\",+905321234567,\"two\r\nlines\"\r\n\
             \"Say \"\"hi\"\"\",+905327654321,x\r\n",
        );
        assert_eq!(file.columns, vec![Column::FirstName, Column::Phone]);
        assert_eq!(file.unknown_columns, vec!["notes".to_string()]);
        assert_eq!(file.rows[0].get(Column::FirstName), "Kaya, Ayşe");
        assert_eq!(file.rows[0].line, 2);
        // The quoted line break moved the next row down a line.
        assert_eq!(file.rows[1].line, 4);
        assert_eq!(file.rows[1].get(Column::FirstName), "Say \"hi\"");
    }

    #[test]
    fn non_latin_names_and_semicolon_files_are_read() {
        let file = read("имя;phone;tags\nАнна;+79161234567;vip|new\n佐藤;+819012345678;\n");
        assert_eq!(file.columns, vec![Column::Phone, Column::Tags]);
        assert_eq!(file.unknown_columns, vec!["имя".to_string()]);
        let file =
            read("first_name;phone\nАнна;+79161234567\nمحمد;+971501234567\n佐藤;+819012345678\n");
        let names: Vec<&str> = file.rows.iter().map(|r| r.get(Column::FirstName)).collect();
        assert_eq!(names, ["Анна", "محمد", "佐藤"]);
        let tabs = read("phone\tname\n+905321234567\tAli\n");
        assert_eq!(tabs.rows[0].get(Column::FirstName), "Ali");
    }

    #[test]
    fn short_rows_are_padded_and_long_ones_flagged() {
        let file = read(
            "name,phone,email\nAli,+905321234567\nVeli,+905327654321,v@x.com,oops\nCan,+905320000000,,\n",
        );
        assert_eq!(file.rows[0].get(Column::Email), "");
        assert!(file.rows[0].problem.is_none());
        let problem = file.rows[1].problem.as_deref().unwrap();
        assert!(problem.contains("4 cells, the header 3"), "{problem}");
        assert!(
            file.rows[2].problem.is_none(),
            "trailing empty cells are fine"
        );
    }

    #[test]
    fn files_that_are_no_contacts_csv_are_refused() {
        assert_eq!(refused(b""), "the file is empty");
        assert_eq!(refused(b"\xEF\xBB\xBF \r\n"), "the file is empty");
        assert!(refused(b"\x89PNG\r\n\x1a\n\0\0\0").contains("binary"));
        assert!(refused(b"name,phone\nA\xff\xfe,+90\n").contains("line 2 is not UTF-8"));
        assert!(refused(b"\xFF\xFEn\0").contains("UTF-16"));
        assert!(refused(b"hello world\nthis is prose\n").contains("not a contacts CSV"));
        assert!(refused(b"name,email\nAli,a@x.com\n").contains("no phone column"));
        assert!(refused(b"phone,mobile\n1,2\n").contains("both hold the phone"));
        assert!(refused(b"name,phone\n").contains("no contacts"));
    }

    #[test]
    fn the_fingerprint_tells_files_apart() {
        assert_eq!(fingerprint(b"abc"), fingerprint(b"abc"));
        assert_ne!(fingerprint(b"abc"), fingerprint(b"abd"));
        assert_eq!(
            read("phone\n+905321234567\n").fingerprint,
            fingerprint(b"phone\n+905321234567\n")
        );
    }
}
