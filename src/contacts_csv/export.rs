//! Every contact of the account as CSV, with the columns the import reads,
//! so an export imports back cleanly. Remote text is made safe to show and
//! guarded against spreadsheet formulas.

use std::io::Write;

use super::{Column, for_each_contact_page, guard_cell};
use crate::api::Provider;
use crate::domain::Contact;
use crate::text;

/// One contact's cells, in [`Column::ALL`] order.
pub fn contact_record(contact: &Contact) -> Vec<String> {
    Column::ALL
        .iter()
        .map(|column| {
            let value = match column {
                Column::FirstName => contact.first_name.clone(),
                Column::LastName => contact.last_name.clone().unwrap_or_default(),
                Column::Phone => contact.phone.clone().unwrap_or_default(),
                Column::Email => contact.email.clone().unwrap_or_default(),
                Column::Country => contact.country.clone().unwrap_or_default(),
                Column::Language => contact.language.clone().unwrap_or_default(),
                Column::Gender => contact.gender.clone().unwrap_or_default(),
                Column::Tags => contact
                    .tags
                    .iter()
                    .map(|t| t.name.replace([';', '|'], " "))
                    .collect::<Vec<_>>()
                    .join("; "),
            };
            guard_cell(*column, text::sanitize_line(&value).trim())
        })
        .collect()
}

/// Writes the header and every contact to `out`, page by page; the number
/// of contacts written.
pub async fn export(
    provider: &dyn Provider,
    out: &mut dyn Write,
    mut on_page: impl FnMut(usize),
) -> Result<usize, String> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(out);
    let fail = |e: csv::Error| format!("cannot write the contacts: {e}");
    writer
        .write_record(Column::ALL.iter().map(|c| c.header()))
        .map_err(fail)?;
    let mut written = 0;
    for_each_contact_page(provider, |page| {
        for contact in &page {
            writer.write_record(contact_record(contact)).map_err(fail)?;
        }
        writer
            .flush()
            .map_err(|e| format!("cannot write the contacts: {e}"))?;
        written += page.len();
        on_page(written);
        Ok(())
    })
    .await?;
    writer
        .flush()
        .map_err(|e| format!("cannot write the contacts: {e}"))?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Tag, TagId};

    #[test]
    fn a_contact_becomes_safe_cells() {
        let mut contact = Contact::named("c1", "=cmd|' /C calc'!A0");
        contact.last_name = Some("Kaya\u{1b}[31m\nred".into());
        contact.phone = Some("+905321234567".into());
        contact.email = Some("@evil.example.com".into());
        contact.country = Some("TR".into());
        contact.tags = vec![
            Tag {
                id: TagId::new("t1"),
                name: "vip".into(),
                color: None,
            },
            Tag {
                id: TagId::new("t2"),
                name: "a;b".into(),
                color: None,
            },
        ];
        assert_eq!(
            contact_record(&contact),
            [
                "'=cmd|' /C calc'!A0",
                "Kaya red",
                "+905321234567",
                "'@evil.example.com",
                "TR",
                "",
                "",
                "vip; a b"
            ]
        );
    }
}
