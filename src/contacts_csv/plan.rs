//! What a valid row needs from the server, decided against the account's
//! directory read once: create it, update only the fields that differ, or
//! nothing. Tags named in the file are added to a contact's tags (an import
//! never removes one); a name no contact of the account carries is left
//! out, since the provider has no way to create tags.

use std::collections::HashMap;

use super::validate::ValidRow;
use crate::domain::{Contact, ContactId, ContactUpdate, Tag};
use crate::store::search_text::fold;
use crate::text;

/// The account's contacts by phone, and the tags they carry.
#[derive(Debug, Default)]
pub struct Directory {
    by_phone: HashMap<String, Contact>,
    tags: HashMap<String, Tag>,
}

/// Phones compared by their digits, as the server's lookup does.
fn phone_key(phone: &str) -> String {
    phone.chars().filter(char::is_ascii_digit).collect()
}

impl Directory {
    pub fn add(&mut self, contact: Contact) {
        for tag in &contact.tags {
            self.tags
                .entry(fold(&tag.name))
                .or_insert_with(|| tag.clone());
        }
        if let Some(phone) = contact.phone.as_deref().filter(|p| !p.trim().is_empty()) {
            self.by_phone.insert(phone_key(phone), contact);
        }
    }

    pub fn find(&self, phone: &str) -> Option<&Contact> {
        self.by_phone.get(&phone_key(phone))
    }

    pub fn len(&self) -> usize {
        self.by_phone.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_phone.is_empty()
    }

    /// The tags `names` name, and the names no contact carries.
    pub fn resolve_tags(&self, names: &[String]) -> (Vec<Tag>, Vec<String>) {
        let mut known = Vec::new();
        let mut unknown = Vec::new();
        for name in names {
            match self.tags.get(&fold(name)) {
                Some(tag) => known.push(tag.clone()),
                None => unknown.push(name.clone()),
            }
        }
        (known, unknown)
    }
}

/// What one row needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Create(ContactUpdate),
    Update {
        id: ContactId,
        changes: ContactUpdate,
    },
    Unchanged(ContactId),
    /// Cannot be sent (a new contact without a first name).
    Refuse(String),
}

/// A row planned, with a note for the report (tags left out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub action: Action,
    pub note: Option<String>,
}

pub fn plan_row(row: &ValidRow, directory: &Directory) -> Planned {
    let (tags, unknown) = directory.resolve_tags(&row.tags);
    let note = (!unknown.is_empty()).then(|| {
        let names: Vec<String> = unknown.iter().map(|n| text::sanitize_line(n)).collect();
        format!(
            "tag{} {} left out: no contact of the account has {}",
            if names.len() == 1 { "" } else { "s" },
            names.join(", "),
            if names.len() == 1 { "it" } else { "them" }
        )
    });
    let action = match directory.find(&row.phone.e164) {
        Some(contact) => {
            let changes = changes_for(row, &tags, contact);
            if changes.is_empty() {
                Action::Unchanged(contact.id.clone())
            } else {
                Action::Update {
                    id: contact.id.clone(),
                    changes,
                }
            }
        }
        None => match &row.unverified {
            Some(reason) => Action::Refuse(reason.clone()),
            None => new_contact(row, tags),
        },
    };
    Planned { action, note }
}

/// The fields of a new contact from `row`.
pub fn new_contact(row: &ValidRow, tags: Vec<Tag>) -> Action {
    if row.fields.first_name.is_none() {
        return Action::Refuse(
            "a new contact needs a first name (the phone is not in the account)".into(),
        );
    }
    let mut fields = row.fields.clone();
    if !tags.is_empty() {
        fields.tags = Some(tags);
    }
    Action::Create(fields)
}

/// The fields of `row` whose value `contact` does not already have; the
/// phone is how they were matched, so it is never among them.
pub fn changes_for(row: &ValidRow, tags: &[Tag], contact: &Contact) -> ContactUpdate {
    let wanted = &row.fields;
    let differs = |theirs: Option<&str>, ours: &str, any_case: bool| {
        let theirs = theirs.unwrap_or("").trim();
        if any_case {
            !theirs.eq_ignore_ascii_case(ours)
        } else {
            theirs != ours
        }
    };
    let pick = |ours: &Option<Option<String>>, theirs: Option<&str>, any_case: bool| match ours {
        Some(Some(value)) if differs(theirs, value, any_case) => Some(Some(value.clone())),
        _ => None,
    };
    // A platform with one name field (SuperWaba) keeps "first last" in
    // the first name: the same full name is no change.
    let same_full_name = wanted.first_name.as_ref().is_some_and(|first| {
        let last = wanted.last_name.clone().flatten().unwrap_or_default();
        format!("{first} {last}").trim() == contact.display_name().trim()
    });
    let mut changes = ContactUpdate {
        first_name: wanted
            .first_name
            .clone()
            .filter(|name| !same_full_name && differs(Some(&contact.first_name), name, false)),
        last_name: pick(&wanted.last_name, contact.last_name.as_deref(), false)
            .filter(|_| !same_full_name),
        email: pick(&wanted.email, contact.email.as_deref(), true),
        country: pick(&wanted.country, contact.country.as_deref(), true),
        language: pick(&wanted.language, contact.language.as_deref(), true),
        gender: pick(&wanted.gender, contact.gender.as_deref(), true),
        ..ContactUpdate::default()
    };
    let added: Vec<&Tag> = tags
        .iter()
        .filter(|tag| !contact.tags.iter().any(|t| t.id == tag.id))
        .collect();
    if !added.is_empty() {
        let mut all = contact.tags.clone();
        all.extend(added.into_iter().cloned());
        changes.tags = Some(all);
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_full_name_in_one_field_is_no_change() {
        let file = crate::contacts_csv::read::read_csv(
            "first_name,last_name,phone\nZeynep,\"Kaya, Jr\",+905324000001\n".as_bytes(),
        )
        .unwrap();
        let checked = crate::contacts_csv::validate::check_rows(&file, None);
        let row = &checked.valid[0];
        let mut one_field = Contact::named("k1", "Zeynep Kaya, Jr");
        one_field.phone = Some("+905324000001".into());
        assert!(changes_for(row, &[], &one_field).is_empty());
        let mut split = Contact::named("k1", "Zeynep");
        split.last_name = Some("Kaya, Jr".into());
        assert!(changes_for(row, &[], &split).is_empty());
        let renamed = Contact::named("k1", "Zeynep Demir");
        let changes = changes_for(row, &[], &renamed);
        assert_eq!(changes.first_name.as_deref(), Some("Zeynep"));
        assert_eq!(changes.last_name, Some(Some("Kaya, Jr".into())));
    }
    use crate::contact_fields::ValidPhone;
    use crate::domain::TagId;

    fn tag(id: &str, name: &str) -> Tag {
        Tag {
            id: TagId::new(id),
            name: name.into(),
            color: None,
        }
    }

    fn row(first: Option<&str>, phone: &str, tags: &[&str]) -> ValidRow {
        ValidRow {
            line: 2,
            phone: ValidPhone {
                e164: phone.into(),
                calling_code: "90".into(),
            },
            fields: ContactUpdate {
                first_name: first.map(str::to_string),
                phone: Some(Some(phone.into())),
                phone_country_code: Some(Some("90".into())),
                ..ContactUpdate::default()
            },
            tags: tags.iter().map(|t| t.to_string()).collect(),
            unverified: None,
        }
    }

    fn directory() -> Directory {
        let mut ayse = Contact::named("c1", "Ayşe");
        ayse.phone = Some("+90 532 123 45 67".into());
        ayse.email = Some("Ayse@Example.com".into());
        ayse.country = Some("TR".into());
        ayse.tags = vec![tag("t1", "VIP")];
        let mut other = Contact::named("c2", "Mona");
        other.phone = Some("+971501234567".into());
        other.tags = vec![tag("t2", "Geri arama")];
        let mut directory = Directory::default();
        directory.add(ayse);
        directory.add(other);
        directory.add(Contact::named("c3", "No phone"));
        directory
    }

    #[test]
    fn a_phone_not_in_the_account_is_created_with_known_tags() {
        let planned = plan_row(
            &row(Some("Can"), "+905320000000", &["vip", "new"]),
            &directory(),
        );
        let Action::Create(fields) = planned.action else {
            panic!("expected a create: {planned:?}");
        };
        assert_eq!(fields.first_name.as_deref(), Some("Can"));
        assert_eq!(fields.tags, Some(vec![tag("t1", "VIP")]));
        assert_eq!(
            planned.note.as_deref(),
            Some("tag new left out: no contact of the account has it")
        );
        let nameless = plan_row(&row(None, "+905320000000", &[]), &directory());
        assert!(matches!(nameless.action, Action::Refuse(r) if r.contains("first name")));
    }

    #[test]
    fn only_differing_fields_are_updated() {
        let directory = directory();
        let mut same = row(Some("Ayşe"), "+905321234567", &["VIP"]);
        same.fields.email = Some(Some("ayse@example.com".into()));
        same.fields.country = Some(Some("TR".into()));
        assert_eq!(
            plan_row(&same, &directory).action,
            Action::Unchanged(ContactId::new("c1"))
        );
        let mut changed = same.clone();
        changed.fields.last_name = Some(Some("Kaya".into()));
        changed.tags = vec!["geri ARAMA".into()];
        let Action::Update { id, changes } = plan_row(&changed, &directory).action else {
            panic!("expected an update");
        };
        assert_eq!(id.as_str(), "c1");
        assert_eq!(
            changes,
            ContactUpdate {
                last_name: Some(Some("Kaya".into())),
                tags: Some(vec![tag("t1", "VIP"), tag("t2", "Geri arama")]),
                ..ContactUpdate::default()
            }
        );
        // A number the phone rules doubt names a contact the account has.
        let mut doubted = row(Some("Mona"), "+971501234567", &[]);
        doubted.unverified = Some("phone: not valid".into());
        assert!(matches!(
            plan_row(&doubted, &directory).action,
            Action::Unchanged(_)
        ));
        doubted.phone.e164 = "+971500000000".into();
        assert_eq!(
            plan_row(&doubted, &directory).action,
            Action::Refuse("phone: not valid".into())
        );
        // No first name in the file: an existing contact keeps its own.
        assert!(matches!(
            plan_row(&row(None, "+971501234567", &[]), &directory).action,
            Action::Unchanged(_)
        ));
    }
}
