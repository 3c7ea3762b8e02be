//! The contact editor's model: one value per field, checked as it is typed
//! against the rules of `contact_fields`, compared with the contact as it
//! was when editing began so only what the agent changed is sent.

use ratatui_textarea::TextArea;

use crate::contact_fields::{self, ContactField, ValidPhone};
use crate::domain::{Contact, ContactId, ContactUpdate, Tag};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormMode {
    Edit { contact_id: ContactId },
    Create,
}

#[derive(Debug, Clone)]
pub enum FieldValue {
    /// Typed on one line (boxed: a textarea is large).
    Text(Box<TextArea<'static>>),
    /// Chosen from a picker: a country code, a language tag, a gender.
    Choice(Option<String>),
    /// Yes, no, or never asked.
    Toggle(Option<bool>),
    Tags(Vec<Tag>),
}

#[derive(Debug, Clone)]
pub struct FormField {
    pub field: ContactField,
    pub value: FieldValue,
    /// The value as the editor opened (or as last rebased), to tell what
    /// the agent changed.
    pub initial: String,
    /// Why the value cannot be saved, shown beside the field.
    pub error: Option<String>,
    /// Something worth knowing that does not block saving, e.g. the phone
    /// as it will be saved.
    pub note: Option<String>,
}

impl FormField {
    /// The value in the words the form compares and shows.
    pub fn raw(&self) -> String {
        match &self.value {
            FieldValue::Text(area) => area.lines().join(" "),
            FieldValue::Choice(value) => value.clone().unwrap_or_default(),
            FieldValue::Toggle(value) => toggle_text(*value).to_string(),
            FieldValue::Tags(tags) => tag_key(tags),
        }
    }

    pub fn is_changed(&self) -> bool {
        normalised_raw(self.field, &self.raw()) != normalised_raw(self.field, &self.initial)
    }
}

fn normalised_raw(field: ContactField, raw: &str) -> String {
    if field.is_text() {
        raw.trim().to_string()
    } else {
        raw.to_string()
    }
}

fn tag_key(tags: &[Tag]) -> String {
    let mut ids: Vec<&str> = tags.iter().map(|t| t.id.as_str()).collect();
    ids.sort_unstable();
    ids.join(",")
}

pub fn toggle_text(value: Option<bool>) -> &'static str {
    match value {
        Some(true) => "yes",
        Some(false) => "no",
        None => "not asked",
    }
}

/// One field whose value changed on the server since editing began and
/// that the agent changed too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConflictRow {
    pub field: ContactField,
    pub mine: String,
    pub theirs: String,
    pub keep_mine: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub server: Box<Contact>,
    pub rows: Vec<ConflictRow>,
    pub selected: usize,
}

#[derive(Debug, Clone)]
pub struct ContactForm {
    pub mode: FormMode,
    /// The contact as it was when editing began (or the server's copy the
    /// agent chose against after a conflict).
    pub base: Contact,
    pub fields: Vec<FormField>,
    pub focused: usize,
    /// The account's country, for reading phone numbers typed without `+`.
    pub account_region: Option<String>,
    /// The record of the mutation log being sent.
    pub saving: Option<String>,
    /// The log's record of this edit once saved (a refused or conflicting
    /// save is resumed, and saving again replaces it).
    pub edit_id: Option<String>,
    pub conflict: Option<Conflict>,
    /// Another contact has the phone: its id and name.
    pub duplicate: Option<(ContactId, String)>,
    /// A refusal that names no field, shown under the form.
    pub message: Option<String>,
}

impl PartialEq for ContactForm {
    fn eq(&self, other: &Self) -> bool {
        self.mode == other.mode
            && self.base == other.base
            && self.focused == other.focused
            && self.saving == other.saving
            && self.edit_id == other.edit_id
            && self.conflict == other.conflict
            && self.duplicate == other.duplicate
            && self.message == other.message
            && self.fields.len() == other.fields.len()
            && self
                .fields
                .iter()
                .zip(&other.fields)
                .all(|(a, b)| a.field == b.field && a.raw() == b.raw() && a.error == b.error)
    }
}

/// A text field's value holding `text`, the cursor at its end.
pub fn text_value(text: &str) -> FieldValue {
    FieldValue::Text(Box::new(text_area(text)))
}

pub fn text_area(text: &str) -> TextArea<'static> {
    let mut area = TextArea::new(vec![text.to_string()]);
    area.set_cursor_line_style(ratatui::style::Style::default());
    area.move_cursor(ratatui_textarea::CursorMove::End);
    area
}

fn value_of(contact: &Contact, field: ContactField) -> FieldValue {
    let text = |value: &Option<String>| text_value(value.as_deref().unwrap_or(""));
    match field {
        ContactField::FirstName => text_value(&contact.first_name),
        ContactField::LastName => text(&contact.last_name),
        ContactField::Username => text(&contact.username),
        ContactField::Phone => text(&contact.phone),
        ContactField::Email => text(&contact.email),
        ContactField::Country => FieldValue::Choice(contact.country.clone()),
        ContactField::Language => FieldValue::Choice(contact.language.clone()),
        ContactField::Gender => FieldValue::Choice(contact.gender.clone()),
        ContactField::PhonePermission => FieldValue::Toggle(contact.phone_usage_permission),
        ContactField::EmailPermission => FieldValue::Toggle(contact.email_usage_permission),
        ContactField::Tags => FieldValue::Tags(contact.tags.clone()),
    }
}

fn field_of(contact: &Contact, field: ContactField) -> FormField {
    let value = value_of(contact, field);
    let mut form_field = FormField {
        field,
        value,
        initial: String::new(),
        error: None,
        note: None,
    };
    form_field.initial = form_field.raw();
    form_field
}

impl ContactForm {
    pub fn edit(contact: &Contact, account_region: Option<String>) -> ContactForm {
        let mut form = ContactForm {
            mode: FormMode::Edit {
                contact_id: contact.id.clone(),
            },
            base: contact.clone(),
            fields: ContactField::ALL
                .iter()
                .map(|f| field_of(contact, *f))
                .collect(),
            focused: 0,
            account_region,
            saving: None,
            edit_id: None,
            conflict: None,
            duplicate: None,
            message: None,
        };
        form.validate();
        form
    }

    /// A new contact; the phone is asked first, as it is required.
    pub fn create(account_region: Option<String>) -> ContactForm {
        let blank = Contact::named("", "");
        let mut form = ContactForm::edit(&blank, account_region);
        form.mode = FormMode::Create;
        form.focused = form.index_of(ContactField::Phone).unwrap_or(0);
        form.validate();
        form
    }

    /// Resumes an edit the server has not taken yet (refused, or waiting
    /// for a conflict to be settled): the form shows the agent's values.
    pub fn resume(
        base: &Contact,
        changes: &ContactUpdate,
        account_region: Option<String>,
    ) -> ContactForm {
        let mut form = ContactForm::edit(base, account_region);
        let mut edited = base.clone();
        changes.apply(&mut edited);
        for field in changes.fields() {
            if let Some(index) = form.index_of(field) {
                form.fields[index].value = value_of(&edited, field);
            }
        }
        form.validate();
        form
    }

    pub fn contact_id(&self) -> Option<&ContactId> {
        match &self.mode {
            FormMode::Edit { contact_id } => Some(contact_id),
            FormMode::Create => None,
        }
    }

    pub fn index_of(&self, field: ContactField) -> Option<usize> {
        self.fields.iter().position(|f| f.field == field)
    }

    pub fn field(&self, field: ContactField) -> Option<&FormField> {
        self.fields.iter().find(|f| f.field == field)
    }

    pub fn field_mut(&mut self, field: ContactField) -> Option<&mut FormField> {
        self.fields.iter_mut().find(|f| f.field == field)
    }

    pub fn focused_field(&self) -> Option<&FormField> {
        self.fields.get(self.focused)
    }

    pub fn focus_next(&mut self) {
        if !self.fields.is_empty() {
            self.focused = (self.focused + 1) % self.fields.len();
        }
    }

    pub fn focus_prev(&mut self) {
        if !self.fields.is_empty() {
            self.focused = (self.focused + self.fields.len() - 1) % self.fields.len();
        }
    }

    /// Unsaved changes: the dirty marker, and a question before `Esc`
    /// throws them away.
    pub fn is_dirty(&self) -> bool {
        self.fields.iter().any(FormField::is_changed)
    }

    /// Sets a field's value (a picker's choice, a server copy).
    pub fn set(&mut self, field: ContactField, value: FieldValue) {
        if let Some(form_field) = self.field_mut(field) {
            form_field.value = value;
        }
        self.validate();
    }

    fn text(&self, field: ContactField) -> String {
        self.field(field)
            .map(|f| f.raw().trim().to_string())
            .unwrap_or_default()
    }

    fn choice(&self, field: ContactField) -> Option<String> {
        match self.field(field).map(|f| &f.value) {
            Some(FieldValue::Choice(value)) => value.clone(),
            _ => None,
        }
    }

    /// Where a phone typed without `+` is read: the contact's country,
    /// then the account's.
    pub fn phone_regions(&self) -> Vec<String> {
        let mut regions = Vec::new();
        if let Some(country) = self.choice(ContactField::Country)
            && contact_fields::check_country(&country).is_ok()
        {
            regions.push(country.to_uppercase());
        }
        if let Some(account) = &self.account_region
            && !regions.contains(&account.to_uppercase())
        {
            regions.push(account.to_uppercase());
        }
        regions
    }

    fn parsed_phone(&self) -> Option<Result<ValidPhone, String>> {
        let typed = self.text(ContactField::Phone);
        if typed.is_empty() {
            return None;
        }
        let regions = self.phone_regions();
        let regions: Vec<&str> = regions.iter().map(String::as_str).collect();
        Some(contact_fields::parse_phone(&typed, &regions))
    }

    /// Checks every field as typed. A value the agent has not touched is
    /// not held against them (a server may hold "Turkey" as a country):
    /// it gets a note instead of an error.
    pub fn validate(&mut self) {
        let phone = self.parsed_phone();
        let creating = self.mode == FormMode::Create;
        for index in 0..self.fields.len() {
            let form_field = &self.fields[index];
            let field = form_field.field;
            let changed = form_field.is_changed() || creating;
            let raw = form_field.raw();
            let trimmed = raw.trim();
            let mut note = None;
            let problem: Option<String> = match field {
                ContactField::FirstName if trimmed.is_empty() => {
                    Some("a first name is required".into())
                }
                ContactField::Phone => match &phone {
                    None if creating => Some("a phone number is required".into()),
                    None => None,
                    Some(Ok(valid)) => {
                        if valid.e164 != trimmed {
                            note = Some(format!("saved as {}", valid.e164));
                        }
                        None
                    }
                    Some(Err(reason)) => Some(reason.clone()),
                },
                ContactField::Email if !trimmed.is_empty() => {
                    contact_fields::check_email(trimmed).err()
                }
                ContactField::Country if !trimmed.is_empty() => {
                    match contact_fields::check_country(trimmed) {
                        Ok(code) => {
                            note = contact_fields::country_name(&code).map(str::to_string);
                            None
                        }
                        Err(reason) => Some(reason),
                    }
                }
                ContactField::Language if !trimmed.is_empty() => {
                    match contact_fields::check_language(trimmed) {
                        Ok(tag) => {
                            note = contact_fields::language_name(&tag);
                            None
                        }
                        Err(reason) => Some(reason),
                    }
                }
                _ => None,
            };
            let form_field = &mut self.fields[index];
            form_field.note = note;
            form_field.error = match problem {
                Some(reason) if changed => Some(reason),
                Some(reason) => {
                    form_field.note = Some(format!("{reason} (pick a new value to fix)"));
                    None
                }
                None => None,
            };
        }
    }

    /// The first field that blocks saving, with why.
    pub fn first_error(&self) -> Option<(usize, &str)> {
        self.fields
            .iter()
            .enumerate()
            .find_map(|(i, f)| f.error.as_deref().map(|e| (i, e)))
    }

    /// What to send: only the fields the agent changed, normalised (the
    /// phone in E.164 with its calling code). `Err` names the first field
    /// in the way.
    pub fn changes(&self) -> Result<ContactUpdate, (ContactField, String)> {
        if let Some((index, reason)) = self.first_error() {
            return Err((self.fields[index].field, reason.to_string()));
        }
        let creating = self.mode == FormMode::Create;
        let mut update = ContactUpdate::default();
        let optional = |text: String| (!text.is_empty()).then_some(text);
        for form_field in &self.fields {
            if !(form_field.is_changed() || creating && !form_field.raw().trim().is_empty()) {
                continue;
            }
            let text = form_field.raw().trim().to_string();
            match (form_field.field, &form_field.value) {
                (ContactField::FirstName, _) => update.first_name = Some(text),
                (ContactField::LastName, _) => update.last_name = Some(optional(text)),
                (ContactField::Username, _) => update.username = Some(optional(text)),
                (ContactField::Email, _) => update.email = Some(optional(text)),
                (ContactField::Phone, _) => match self.parsed_phone() {
                    Some(Ok(phone)) => {
                        update.phone = Some(Some(phone.e164));
                        update.phone_country_code = Some(Some(phone.calling_code));
                    }
                    Some(Err(reason)) => return Err((ContactField::Phone, reason)),
                    None => {
                        update.phone = Some(None);
                        update.phone_country_code = Some(None);
                    }
                },
                (ContactField::Country, _) => {
                    update.country = Some(optional(text).map(|c| c.to_uppercase()))
                }
                (ContactField::Language, _) => {
                    update.language = Some(match optional(text) {
                        Some(tag) => Some(
                            contact_fields::check_language(&tag)
                                .map_err(|e| (ContactField::Language, e))?,
                        ),
                        None => None,
                    })
                }
                (ContactField::Gender, _) => update.gender = Some(optional(text)),
                (ContactField::PhonePermission, FieldValue::Toggle(Some(value))) => {
                    update.phone_usage_permission = Some(*value)
                }
                (ContactField::EmailPermission, FieldValue::Toggle(Some(value))) => {
                    update.email_usage_permission = Some(*value)
                }
                (ContactField::Tags, FieldValue::Tags(tags)) => update.tags = Some(tags.clone()),
                _ => {}
            }
        }
        if creating && update.phone.as_ref().is_none_or(Option::is_none) {
            return Err((
                ContactField::Phone,
                "a phone number is required".to_string(),
            ));
        }
        Ok(update)
    }

    /// A server refusal shown on the field it names, or under the form.
    pub fn show_refusal(&mut self, reason: &str, field: Option<ContactField>) {
        match field.and_then(|f| self.index_of(f)) {
            Some(index) => {
                self.fields[index].error = Some(reason.to_string());
                self.focused = index;
                self.message = None;
            }
            None => self.message = Some(reason.to_string()),
        }
    }

    /// The server's copy changed while the agent edited. Fields the agent
    /// did not touch take the server's values; fields only the agent
    /// changed keep theirs; fields both changed (to different values)
    /// become conflict rows for the agent to settle. Returns whether any
    /// conflict is left.
    pub fn rebase(&mut self, server: &Contact) -> bool {
        let mut rows = Vec::new();
        for form_field in &mut self.fields {
            let field = form_field.field;
            let theirs = field_of(server, field);
            let server_changed = theirs.initial != form_field.initial;
            if !form_field.is_changed() {
                *form_field = theirs;
            } else if server_changed
                && normalised_raw(field, &theirs.initial)
                    != normalised_raw(field, &form_field.raw())
            {
                rows.push(ConflictRow {
                    field,
                    mine: display(field, &form_field.raw()),
                    theirs: display(field, &theirs.initial),
                    keep_mine: true,
                });
                form_field.initial = theirs.initial;
            } else {
                form_field.initial = theirs.initial;
            }
        }
        self.base = server.clone();
        self.conflict = (!rows.is_empty()).then(|| Conflict {
            server: Box::new(server.clone()),
            rows,
            selected: 0,
        });
        self.validate();
        self.conflict.is_some()
    }

    /// Applies the agent's choices: rows keeping the server's value take
    /// it. What is left changed is what the next save sends.
    pub fn settle_conflict(&mut self) {
        let Some(conflict) = self.conflict.take() else {
            return;
        };
        for row in conflict.rows.iter().filter(|r| !r.keep_mine) {
            let theirs = field_of(&conflict.server, row.field);
            if let Some(form_field) = self.field_mut(row.field) {
                *form_field = theirs;
            }
        }
        self.validate();
    }
}

/// A field's value as a line of text: a profile row, a conflict's two
/// sides. `raw` is `FormField::raw`'s form.
pub fn display(field: ContactField, raw: &str) -> String {
    let raw = raw.trim();
    if raw.is_empty() {
        return "—".to_string();
    }
    match field {
        ContactField::Country => match contact_fields::country_name(raw) {
            Some(name) => format!("{raw} · {name}"),
            None => raw.to_string(),
        },
        ContactField::Language => match contact_fields::language_name(raw) {
            Some(name) => format!("{raw} · {name}"),
            None => raw.to_string(),
        },
        _ => raw.to_string(),
    }
}

/// A contact's value of a field in the form's terms, to compare copies.
pub fn field_raw(contact: &Contact, field: ContactField) -> String {
    normalised_raw(field, &field_of(contact, field).raw())
}

/// A contact field as the profile shows it.
pub fn contact_value(contact: &Contact, field: ContactField) -> String {
    match field {
        ContactField::Tags if !contact.tags.is_empty() => contact
            .tags
            .iter()
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        _ => display(field, &field_of(contact, field).raw()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ayse() -> Contact {
        let mut contact = Contact::named("c1", "Ayşe");
        contact.last_name = Some("Yılmaz".into());
        contact.phone = Some("+905321234567".into());
        contact.phone_country_code = Some("90".into());
        contact.country = Some("TR".into());
        contact
    }

    fn type_into(form: &mut ContactForm, field: ContactField, text: &str) {
        form.set(field, text_value(text));
    }

    #[test]
    fn only_changed_fields_are_sent_and_the_phone_is_normalised() {
        let mut form = ContactForm::edit(&ayse(), Some("AE".into()));
        assert!(!form.is_dirty());
        assert_eq!(form.changes().unwrap(), ContactUpdate::default());
        type_into(&mut form, ContactField::Phone, "0532 765 43 21");
        type_into(&mut form, ContactField::Email, " ayse+shop@örnek.com.tr ");
        assert!(form.is_dirty());
        let phone = form.field(ContactField::Phone).unwrap();
        assert_eq!(phone.note.as_deref(), Some("saved as +905327654321"));
        let update = form.changes().unwrap();
        assert_eq!(update.phone, Some(Some("+905327654321".into())));
        assert_eq!(update.phone_country_code, Some(Some("90".into())));
        assert_eq!(update.email, Some(Some("ayse+shop@örnek.com.tr".into())));
        assert_eq!(update.fields().len(), 2, "phone (with its code), e-mail");
        assert!(update.first_name.is_none() && update.country.is_none());
    }

    #[test]
    fn errors_show_as_typed_and_block_saving() {
        let mut form = ContactForm::edit(&ayse(), None);
        type_into(&mut form, ContactField::Email, "ayse@");
        let email = form.field(ContactField::Email).unwrap();
        assert!(email.error.as_deref().unwrap().contains("after the @"));
        assert_eq!(form.changes().unwrap_err().0, ContactField::Email);
        type_into(&mut form, ContactField::FirstName, "  ");
        assert!(form.field(ContactField::FirstName).unwrap().error.is_some());
        type_into(&mut form, ContactField::Email, "");
        type_into(&mut form, ContactField::FirstName, "Ayşe");
        assert!(form.first_error().is_none());
        assert!(!form.is_dirty() || form.changes().is_ok());
    }

    #[test]
    fn a_bad_value_from_the_server_is_a_note_until_touched() {
        let mut contact = ayse();
        contact.country = Some("Turkey".into());
        let form = ContactForm::edit(&contact, None);
        let country = form.field(ContactField::Country).unwrap();
        assert!(country.error.is_none());
        assert!(
            country
                .note
                .as_deref()
                .unwrap()
                .contains("pick a new value")
        );
    }

    #[test]
    fn a_new_contact_needs_a_valid_phone() {
        let mut form = ContactForm::create(Some("TR".into()));
        assert_eq!(form.focused_field().unwrap().field, ContactField::Phone);
        assert_eq!(form.changes().unwrap_err().0, ContactField::FirstName);
        type_into(&mut form, ContactField::FirstName, "Deniz");
        assert_eq!(form.changes().unwrap_err().0, ContactField::Phone);
        type_into(&mut form, ContactField::Phone, "0532 111 22 33");
        let fields = form.changes().unwrap();
        assert_eq!(fields.first_name.as_deref(), Some("Deniz"));
        assert_eq!(fields.phone, Some(Some("+905321112233".into())));
        assert!(fields.email.is_none(), "empty fields are not sent");
    }

    #[test]
    fn rebase_keeps_the_agents_values_and_asks_only_about_real_conflicts() {
        let mut form = ContactForm::edit(&ayse(), None);
        type_into(&mut form, ContactField::Email, "mine@example.com");
        type_into(&mut form, ContactField::LastName, "Kaya");
        let mut server = ayse();
        server.email = Some("theirs@example.com".into());
        server.last_name = Some("Kaya".into());
        server.username = Some("ayse_k".into());
        assert!(form.rebase(&server));
        let conflict = form.conflict.clone().unwrap();
        assert_eq!(conflict.rows.len(), 1, "the same last name is no conflict");
        assert_eq!(conflict.rows[0].field, ContactField::Email);
        assert_eq!(conflict.rows[0].mine, "mine@example.com");
        assert_eq!(conflict.rows[0].theirs, "theirs@example.com");
        assert_eq!(
            form.field(ContactField::Username).unwrap().raw(),
            "ayse_k",
            "untouched fields take the server's value"
        );
        form.settle_conflict();
        let update = form.changes().unwrap();
        assert_eq!(update.email, Some(Some("mine@example.com".into())));
        assert!(update.username.is_none() && update.last_name.is_none());

        let mut form = ContactForm::edit(&ayse(), None);
        type_into(&mut form, ContactField::Email, "mine@example.com");
        form.rebase(&server);
        form.conflict.as_mut().unwrap().rows[0].keep_mine = false;
        form.settle_conflict();
        assert!(!form.is_dirty(), "the server's value kept: nothing to send");
    }

    #[test]
    fn a_refused_edit_resumes_with_the_agents_values() {
        let changes = ContactUpdate {
            email: Some(Some("taken@example.com".into())),
            ..Default::default()
        };
        let mut form = ContactForm::resume(&ayse(), &changes, None);
        assert!(form.is_dirty());
        form.show_refusal("email already in use", Some(ContactField::Email));
        assert_eq!(form.focused_field().unwrap().field, ContactField::Email);
        assert_eq!(form.changes().unwrap_err().0, ContactField::Email);
    }
}
