//! Each row checked with the contact editor's own rules before anything is
//! sent: the phone becomes E.164 (read in the row's country, else the
//! account's, when written without `+`), the e-mail, country, language and
//! gender are checked. A bad row is reported with its line and reason and
//! never sent; a row repeating a phone seen earlier in the file is
//! skipped. An empty cell leaves the field as the server has it.

use std::collections::HashMap;

use super::report::{Outcome, ReportRow};
use super::{Column, CsvFile, CsvRow, unguard_cell};
use crate::contact_fields::{self, ValidPhone};
use crate::domain::ContactUpdate;
use crate::store::search_text::fold;
use crate::text;

/// Longest name accepted; longer is a column mix-up, not a name.
const MAX_NAME_CHARS: usize = 200;

/// A row fit to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidRow {
    pub line: u64,
    pub phone: ValidPhone,
    /// The fields the row gives (phone included; tags are in `tags`).
    pub fields: ContactUpdate,
    /// Tag names as written, without repeats.
    pub tags: Vec<String>,
    /// Why the phone rules refuse a number written in E.164: the row may
    /// still name a contact the account holds with that very number (the
    /// rules' metadata lags behind new and test ranges), never a new one.
    pub unverified: Option<String>,
}

/// The rows fit to send, and the results of those that are not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checked {
    pub valid: Vec<ValidRow>,
    pub settled: Vec<ReportRow>,
}

pub fn check_rows(file: &CsvFile, account_country: Option<&str>) -> Checked {
    let mut checked = Checked::default();
    let mut first_line: HashMap<String, u64> = HashMap::new();
    for row in &file.rows {
        let phone_cell = text::sanitize_line(unguard_cell(row.get(Column::Phone).trim()));
        let settle = |outcome, reason: String| {
            ReportRow::new(row.line, phone_cell.clone(), outcome).because(reason)
        };
        if let Some(problem) = &row.problem {
            checked
                .settled
                .push(settle(Outcome::Failed, problem.clone()));
            continue;
        }
        if row.is_blank() {
            checked
                .settled
                .push(settle(Outcome::Skipped, "empty row".into()));
            continue;
        }
        if phone_cell.is_empty() {
            checked.settled.push(settle(
                Outcome::Skipped,
                "no phone number (contacts are matched by phone)".into(),
            ));
            continue;
        }
        match check_row(row, account_country) {
            Err(reason) => checked.settled.push(settle(Outcome::Failed, reason)),
            Ok(valid) => match first_line.get(&valid.phone.e164) {
                Some(first) => checked.settled.push(
                    ReportRow::new(row.line, valid.phone.e164.clone(), Outcome::Skipped)
                        .because(format!("duplicate of line {first}")),
                ),
                None => {
                    first_line.insert(valid.phone.e164.clone(), row.line);
                    checked.valid.push(valid);
                }
            },
        }
    }
    checked
}

/// One row's fields, or why it cannot be sent (naming the column).
pub fn check_row(row: &CsvRow, account_country: Option<&str>) -> Result<ValidRow, String> {
    let cell = |column: Column| unguard_cell(row.get(column).trim());
    let checked = |column: Column, check: &dyn Fn(&str) -> Result<String, String>| {
        let value = cell(column);
        if value.is_empty() {
            return Ok(None);
        }
        check(value)
            .map(Some)
            .map_err(|reason| refuse(column, value, reason))
    };
    let country = checked(Column::Country, &contact_fields::check_country)?;
    let mut regions: Vec<&str> = Vec::new();
    regions.extend(country.as_deref());
    regions.extend(account_country);
    let (phone, unverified) = match contact_fields::parse_phone(cell(Column::Phone), &regions) {
        Ok(phone) => (phone, None),
        Err(reason) => {
            let reason = refuse(Column::Phone, cell(Column::Phone), reason);
            match strict_e164(cell(Column::Phone)) {
                Some(phone) => (phone, Some(reason)),
                None => return Err(reason),
            }
        }
    };
    let email = checked(Column::Email, &contact_fields::check_email)?;
    let language = checked(Column::Language, &contact_fields::check_language)?;
    let gender = checked(Column::Gender, &gender)?;
    let first_name = checked(Column::FirstName, &name)?;
    let last_name = checked(Column::LastName, &name)?;
    let tags = tags(cell(Column::Tags)).map_err(|r| refuse(Column::Tags, cell(Column::Tags), r))?;
    Ok(ValidRow {
        line: row.line,
        fields: ContactUpdate {
            first_name,
            last_name: last_name.map(Some),
            email: email.map(Some),
            phone: Some(Some(phone.e164.clone())),
            phone_country_code: Some(Some(phone.calling_code.clone())),
            country: country.map(Some),
            gender: gender.map(Some),
            language: language.map(Some),
            ..ContactUpdate::default()
        },
        phone,
        tags,
        unverified,
    })
}

/// `+` and 7 to 15 digits, the first not 0: the form the server stores.
fn strict_e164(value: &str) -> Option<ValidPhone> {
    let digits = value.strip_prefix('+')?;
    let ok = (7..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0');
    if !ok {
        return None;
    }
    let calling_code = phonenumber::parse(None, value)
        .map(|n| n.code().value().to_string())
        .unwrap_or_default();
    Some(ValidPhone {
        e164: value.to_string(),
        calling_code,
    })
}

fn refuse(column: Column, value: &str, reason: impl std::fmt::Display) -> String {
    format!(
        "{} \"{}\": {reason}",
        column.header().replace('_', " "),
        text::truncate(&text::sanitize_line(value), 60)
    )
}

fn name(value: &str) -> Result<String, String> {
    if value.chars().any(char::is_control) {
        return Err("control characters or line breaks are not allowed".into());
    }
    if value.chars().count() > MAX_NAME_CHARS {
        return Err(format!("longer than {MAX_NAME_CHARS} characters"));
    }
    Ok(value.to_string())
}

fn gender(value: &str) -> Result<String, String> {
    let wanted = value.to_lowercase();
    let short = |wire: &str| wanted.len() == 1 && wire.starts_with(&wanted);
    contact_fields::GENDERS
        .iter()
        .find(|(wire, label)| *wire == wanted || label.to_lowercase() == wanted || short(wire))
        .map(|(wire, _)| wire.to_string())
        .ok_or_else(|| "use female, male or other".to_string())
}

/// Names separated by `;` or `|`; the first spelling of a repeated name
/// (case and accents ignored) is kept.
fn tags(value: &str) -> Result<Vec<String>, String> {
    let mut names: Vec<String> = Vec::new();
    for name in value
        .split([';', '|'])
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        if name.chars().any(char::is_control) {
            return Err("control characters or line breaks are not allowed".into());
        }
        if !names.iter().any(|n| fold(n) == fold(name)) {
            names.push(name.to_string());
        }
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contacts_csv::read_csv;

    fn check(text: &str, country: Option<&str>) -> Checked {
        check_rows(&read_csv(text.as_bytes()).expect("reads"), country)
    }

    fn reasons(checked: &Checked) -> Vec<(u64, Outcome, String)> {
        checked
            .settled
            .iter()
            .map(|r| (r.line, r.outcome, r.reason.clone()))
            .collect()
    }

    #[test]
    fn good_rows_become_the_fields_to_send() {
        let checked = check(
            "first_name,last_name,phone,email,country,language,gender,tags\n\
             Ayşe,Kaya,0532 123 45 67,ayse@example.com,tr,TR-tr,F,vip; Returning |VIP\n\
             Ali,,+971 50 123 4567,,,,,\n",
            Some("TR"),
        );
        assert!(checked.settled.is_empty(), "{:?}", checked.settled);
        let ayse = &checked.valid[0];
        assert_eq!(ayse.line, 2);
        assert_eq!(ayse.phone.e164, "+905321234567");
        assert_eq!(ayse.fields.first_name.as_deref(), Some("Ayşe"));
        assert_eq!(ayse.fields.last_name, Some(Some("Kaya".into())));
        assert_eq!(ayse.fields.phone_country_code, Some(Some("90".into())));
        assert_eq!(ayse.fields.country, Some(Some("TR".into())));
        assert_eq!(ayse.fields.language, Some(Some("tr-TR".into())));
        assert_eq!(ayse.fields.gender, Some(Some("female".into())));
        assert_eq!(ayse.tags, ["vip", "Returning"]);
        let ali = &checked.valid[1];
        assert_eq!(ali.phone.e164, "+971501234567");
        assert_eq!(ali.fields.last_name, None, "an empty cell changes nothing");
        assert_eq!(ali.fields.email, None);
        assert!(ali.tags.is_empty());
    }

    #[test]
    fn the_rows_country_reads_the_phone_before_the_accounts() {
        let checked = check("name,phone,country\nMona,050 123 4567,AE\n", Some("TR"));
        assert_eq!(checked.valid[0].phone.e164, "+971501234567");
    }

    #[test]
    fn bad_rows_say_which_column_and_why() {
        let checked = check(
            "name,phone,email,country,language,gender\n\
             A,+90 532 123,,,,\n\
             B,0532 123 45 67,,,,\n\
             C,+905321234567,c@localhost,,,\n\
             D,+905321234568,,XX,,\n\
             E,+905321234569,,,en_GB,\n\
             F,+905321234570,,,,robot\n\
             G,abc,,,,\n",
            None,
        );
        assert!(checked.valid.is_empty());
        let got = reasons(&checked);
        assert_eq!(
            got[0],
            (
                2,
                Outcome::Failed,
                "phone \"+90 532 123\": not a valid number for +90 (check the number of digits)"
                    .into()
            )
        );
        assert!(
            got[1]
                .2
                .starts_with("phone \"0532 123 45 67\": start with +"),
            "{}",
            got[1].2
        );
        assert!(
            got[2].2.starts_with("email \"c@localhost\": "),
            "{}",
            got[2].2
        );
        assert_eq!(got[3].2, "country \"XX\": XX is not a country code");
        assert!(got[4].2.contains("en-GB"), "{}", got[4].2);
        assert_eq!(got[5].2, "gender \"robot\": use female, male or other");
        assert_eq!(got[6].2, "phone \"abc\": 'a' is not part of a phone number");
        assert_eq!(checked.settled[0].phone, "+90 532 123");
    }

    #[test]
    fn an_e164_number_the_rules_refuse_waits_for_the_directory() {
        let checked = check("name,phone\nA,+447700900108\nB,+90532123\n", None);
        let row = &checked.valid[0];
        assert_eq!(row.phone.e164, "+447700900108");
        assert_eq!(row.phone.calling_code, "44");
        assert!(
            row.unverified
                .as_deref()
                .unwrap()
                .starts_with("phone \"+447700900108\": ")
        );
        assert!(checked.valid[1].unverified.is_some());
        assert!(check("name,phone\nA,+9053\n", None).valid.is_empty());
    }

    #[test]
    fn repeated_phones_and_empty_rows_are_skipped() {
        let checked = check(
            "name,phone\n\
             Ali,+90 532 123 45 67\n\
             ,\n\
             Veli,\n\
             Ali again,0532 123 45 67\n\
             Bad,+90 1\n\
             Bad again,+90 1\n",
            Some("TR"),
        );
        assert_eq!(checked.valid.len(), 1);
        let got = reasons(&checked);
        assert_eq!(got[0], (3, Outcome::Skipped, "empty row".into()));
        assert_eq!(
            got[1],
            (
                4,
                Outcome::Skipped,
                "no phone number (contacts are matched by phone)".into()
            )
        );
        assert_eq!(got[2], (5, Outcome::Skipped, "duplicate of line 2".into()));
        assert_eq!(checked.settled[2].phone, "+905321234567");
        // Only a valid phone counts as seen.
        assert_eq!(got[3].1, Outcome::Failed);
        assert_eq!(got[4].1, Outcome::Failed);
    }

    #[test]
    fn guarded_cells_read_back_and_names_stay_as_written() {
        let checked = check(
            "first_name,last_name,phone\n'=Ayşe,'-Kaya,'+905321234567\n\"Ann\nMarie\",x,+905327654321\n",
            None,
        );
        assert_eq!(checked.valid[0].fields.first_name.as_deref(), Some("=Ayşe"));
        assert_eq!(
            checked.valid[0].fields.last_name,
            Some(Some("-Kaya".into()))
        );
        assert_eq!(checked.valid[0].phone.e164, "+905321234567");
        assert!(checked.settled[0].reason.contains("line breaks"));
    }
}
