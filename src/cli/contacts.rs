//! `termdesk contacts list|show|update|create|delete`: the contact
//! directory and editor from a script. Every value is checked with the
//! editor's own rules before any request is made, and a refusal names the
//! flag and the reason.

use std::io::{BufRead, IsTerminal, Write};

use super::{MAX_ID_LEN, pad, print_json};
use crate::api::{ApiError, Provider};
use crate::app::contact_form::contact_value;
use crate::app::event::{ContactSaveError, ContactSaved};
use crate::app::save_contact::{find_by_phone, is_duplicate_phone, save_contact};
use crate::contact_fields::{self, ContactField};
use crate::domain::{Contact, ContactId, ContactQuery, ContactUpdate};
use crate::store::contact_edits::ContactOp;
use crate::text;

/// What the conversations of a deleted contact become.
const AFTER_DELETE: &str = "its conversations stay, shown as \"Unknown contact\"";

/// The optional fields `contacts update` and `contacts create` share, as
/// typed. An empty value clears the field.
#[derive(Debug, Clone, Default, PartialEq, Eq, clap::Args)]
pub struct ContactFlags {
    /// Last name ("" clears it).
    #[arg(long, value_name = "NAME")]
    pub last_name: Option<String>,
    /// Username or handle ("" clears it).
    #[arg(long, value_name = "NAME")]
    pub username: Option<String>,
    /// E-mail address ("" clears it).
    #[arg(long, value_name = "ADDRESS")]
    pub email: Option<String>,
    /// Country, ISO 3166-1 alpha-2 such as TR ("" clears it).
    #[arg(long, value_name = "CODE")]
    pub country: Option<String>,
    /// Preferred language, a BCP 47 tag such as tr or en-GB ("" clears it).
    #[arg(long, value_name = "TAG")]
    pub language: Option<String>,
    /// female, male or other ("" clears it).
    #[arg(long, value_name = "GENDER")]
    pub gender: Option<String>,
    /// Whether the contact may be called or texted.
    #[arg(long, value_name = "yes|no")]
    pub phone_permission: Option<String>,
    /// Whether the contact may be e-mailed.
    #[arg(long, value_name = "yes|no")]
    pub email_permission: Option<String>,
}

/// A contact id as typed; checked before any request is made.
pub fn contact_id(raw: &str) -> Result<ContactId, String> {
    let id = raw.trim();
    if id.is_empty() {
        return Err("the contact id is empty".into());
    }
    if id.len() > MAX_ID_LEN || id.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "`{}` is not a contact id (see `termdesk contacts list`)",
            text::truncate(&text::sanitize_line(id), 40)
        ));
    }
    Ok(ContactId::new(id))
}

fn refuse(flag: &str, value: &str, reason: impl std::fmt::Display) -> String {
    format!(
        "--{flag} \"{}\": {reason}",
        text::truncate(&text::sanitize_line(value), 60)
    )
}

/// `Some(None)` for an empty value (clear), else the checked value.
fn optional(
    flag: &str,
    value: &Option<String>,
    check: impl Fn(&str) -> Result<String, String>,
) -> Result<Option<Option<String>>, String> {
    match value.as_deref() {
        None => Ok(None),
        Some(v) if v.trim().is_empty() => Ok(Some(None)),
        Some(v) => check(v)
            .map(|ok| Some(Some(ok)))
            .map_err(|reason| refuse(flag, v, reason)),
    }
}

fn plain_text(value: &str) -> Result<String, String> {
    let value = value.trim();
    if value.chars().any(char::is_control) {
        return Err("control characters are not allowed".into());
    }
    Ok(value.to_string())
}

fn gender(value: &str) -> Result<String, String> {
    let wanted = value.trim().to_lowercase();
    contact_fields::GENDERS
        .iter()
        .find(|(wire, label)| *wire == wanted || label.to_lowercase() == wanted)
        .map(|(wire, _)| wire.to_string())
        .ok_or_else(|| "use female, male or other".to_string())
}

fn permission(flag: &str, value: &Option<String>) -> Result<Option<bool>, String> {
    match value.as_deref() {
        None => Ok(None),
        Some(v) => match v.trim().to_lowercase().as_str() {
            "yes" | "y" | "true" => Ok(Some(true)),
            "no" | "n" | "false" => Ok(Some(false)),
            _ => Err(refuse(flag, v, "use yes or no")),
        },
    }
}

/// The changes typed on the command line, checked with the editor's
/// rules. A phone without `+` is read in `--country`, else in the
/// account's country.
pub fn contact_changes(
    first_name: Option<&str>,
    phone: Option<&str>,
    flags: &ContactFlags,
    account_country: Option<&str>,
) -> Result<ContactUpdate, String> {
    let first_name = match first_name {
        None => None,
        Some(name) => {
            let checked = plain_text(name).map_err(|r| refuse("first-name", name, r))?;
            if checked.is_empty() {
                return Err(refuse(
                    "first-name",
                    name,
                    "a contact needs a first name (it cannot be cleared)",
                ));
            }
            Some(checked)
        }
    };
    let country = optional("country", &flags.country, contact_fields::check_country)?;
    let mut regions: Vec<&str> = Vec::new();
    if let Some(Some(code)) = &country {
        regions.push(code);
    }
    if let Some(code) = account_country {
        regions.push(code);
    }
    let (phone, phone_country_code) = match phone {
        None => (None, None),
        Some(p) if p.trim().is_empty() => (Some(None), Some(None)),
        Some(p) => {
            let valid =
                contact_fields::parse_phone(p, &regions).map_err(|r| refuse("phone", p, r))?;
            (Some(Some(valid.e164)), Some(Some(valid.calling_code)))
        }
    };
    Ok(ContactUpdate {
        first_name,
        last_name: optional("last-name", &flags.last_name, plain_text)?,
        username: optional("username", &flags.username, plain_text)?,
        email: optional("email", &flags.email, contact_fields::check_email)?,
        phone,
        phone_country_code,
        country,
        gender: optional("gender", &flags.gender, gender)?,
        language: optional("language", &flags.language, contact_fields::check_language)?,
        tags: None,
        phone_usage_permission: permission("phone-permission", &flags.phone_permission)?,
        email_usage_permission: permission("email-permission", &flags.email_permission)?,
    })
}

/// `contacts update`'s changes: at least one.
pub fn update_changes(
    first_name: Option<&str>,
    phone: Option<&str>,
    flags: &ContactFlags,
    account_country: Option<&str>,
) -> Result<ContactUpdate, String> {
    let changes = contact_changes(first_name, phone, flags, account_country)?;
    if changes.is_empty() {
        return Err(
            "nothing to change: give at least one of --first-name, --last-name, --username, \
             --email, --phone, --country, --language, --gender, --phone-permission, \
             --email-permission"
                .into(),
        );
    }
    Ok(changes)
}

/// `contacts create`'s fields: a first name and a phone at least.
pub fn new_contact(
    first_name: &str,
    phone: &str,
    flags: &ContactFlags,
    account_country: Option<&str>,
) -> Result<ContactUpdate, String> {
    if phone.trim().is_empty() {
        return Err(refuse("phone", phone, "a new contact needs a phone number"));
    }
    let mut fields = contact_changes(Some(first_name), Some(phone), flags, account_country)?;
    // Nothing to clear on a new contact: an empty value means "not given".
    for field in [
        &mut fields.last_name,
        &mut fields.username,
        &mut fields.email,
        &mut fields.country,
        &mut fields.gender,
        &mut fields.language,
    ] {
        if *field == Some(None) {
            *field = None;
        }
    }
    Ok(fields)
}

fn label(contact: &Contact) -> String {
    text::sanitize_line(&contact.label())
}

fn id_of(contact: &Contact) -> String {
    text::sanitize_line(contact.id.as_str())
}

/// `termdesk contacts list`: one page from the server.
pub async fn list(
    provider: &dyn Provider,
    search: Option<&str>,
    limit: u32,
    json: bool,
) -> Result<(), String> {
    let query = ContactQuery {
        limit: limit.clamp(1, 100),
        search: search
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        ..ContactQuery::default()
    };
    let page = provider
        .list_contacts(&query)
        .await
        .map_err(|err| format!("cannot list the contacts: {err}"))?;
    if json {
        return print_json(&page.items);
    }
    println!("{:<24}  {:<28}  {:<16}  E-MAIL", "ID", "NAME", "PHONE");
    for contact in &page.items {
        let field = |v: &Option<String>| text::sanitize_line(v.as_deref().unwrap_or(""));
        println!(
            "{:<24}  {}  {}  {}",
            id_of(contact),
            pad(&label(contact), 28),
            pad(&field(&contact.phone), 16),
            field(&contact.email)
        );
    }
    let total = page.total.map(|t| format!(" of {t}")).unwrap_or_default();
    println!("({} shown{total})", page.items.len());
    Ok(())
}

/// The contact as the profile shows it: one `Label: value` line a field.
fn profile(contact: &Contact) -> Vec<(String, String)> {
    let mut lines = vec![
        ("Id".to_string(), id_of(contact)),
        ("Name".to_string(), label(contact)),
    ];
    for field in ContactField::ALL {
        lines.push((
            field.label().to_string(),
            text::sanitize_line(&contact_value(contact, field)),
        ));
    }
    if !contact.platforms.is_empty() {
        let known: Vec<String> = contact
            .platforms
            .iter()
            .map(|p| {
                let who = p
                    .external_id
                    .as_deref()
                    .or(p.username.as_deref())
                    .unwrap_or("");
                text::sanitize_line(&format!("{} {who}", p.channel.short()))
                    .trim()
                    .to_string()
            })
            .collect();
        lines.push(("Channels".to_string(), known.join(", ")));
    }
    let when = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_else(|| "—".into())
    };
    lines.push(("Created".to_string(), when(contact.created_at)));
    lines.push(("Updated".to_string(), when(contact.updated_at)));
    lines
}

fn print_profile(contact: &Contact) {
    let lines = profile(contact);
    let width = lines.iter().map(|(l, _)| text::width(l)).max().unwrap_or(0);
    for (label, value) in lines {
        println!("{}  {value}", pad(&format!("{label}:"), width + 1));
    }
}

/// `termdesk contacts show`.
pub async fn show(provider: &dyn Provider, id: &ContactId, json: bool) -> Result<(), String> {
    let contact = get(provider, id).await?;
    if json {
        return print_json(&contact);
    }
    print_profile(&contact);
    Ok(())
}

async fn get(provider: &dyn Provider, id: &ContactId) -> Result<Contact, String> {
    provider.get_contact(id).await.map_err(|err| match err {
        ApiError::NotFound(_) => format!(
            "no contact {} (see `termdesk contacts list`)",
            text::sanitize_line(id.as_str())
        ),
        err => format!(
            "cannot read contact {}: {err}",
            text::sanitize_line(id.as_str())
        ),
    })
}

/// Who has `phone`, for a refusal that says so.
async fn holder(provider: &dyn Provider, phone: &str) -> String {
    match find_by_phone(provider, phone).await {
        Ok(Some(c)) => format!(
            "{} already belongs to {} (id {})",
            text::sanitize_line(phone),
            label(&c),
            id_of(&c)
        ),
        _ => format!(
            "{} already belongs to another contact",
            text::sanitize_line(phone)
        ),
    }
}

/// `termdesk contacts update`: prints each changed field, before → after.
pub async fn update(
    provider: &dyn Provider,
    id: &ContactId,
    changes: &ContactUpdate,
    json: bool,
) -> Result<(), String> {
    let before = get(provider, id).await?;
    let after = match provider.update_contact(id, changes).await {
        Ok(after) => after,
        Err(err) if is_duplicate_phone(&err) => {
            let phone = changes.phone.clone().flatten().unwrap_or_default();
            return Err(format!(
                "cannot update {}: {}",
                text::sanitize_line(id.as_str()),
                holder(provider, &phone).await
            ));
        }
        Err(err) => {
            return Err(format!(
                "cannot update {}: {err}",
                text::sanitize_line(id.as_str())
            ));
        }
    };
    if json {
        return print_json(&after);
    }
    println!("updated {} ({})", id_of(&after), label(&after));
    for field in changes.fields() {
        let old = text::sanitize_line(&contact_value(&before, field));
        let new = text::sanitize_line(&contact_value(&after, field));
        if old == new {
            println!("  {}: {new} (unchanged)", field.label());
        } else {
            println!("  {}: {old} → {new}", field.label());
        }
    }
    Ok(())
}

/// `termdesk contacts create`: a phone another contact has is refused,
/// naming that contact.
pub async fn create(
    provider: &dyn Provider,
    fields: &ContactUpdate,
    json: bool,
) -> Result<(), String> {
    let op = ContactOp::Create {
        fields: fields.clone(),
    };
    match save_contact(provider, &op, 0).await {
        Ok(ContactSaved::Saved(contact)) => {
            if json {
                return print_json(&contact);
            }
            println!("created {} ({})", id_of(&contact), label(&contact));
            Ok(())
        }
        Ok(ContactSaved::Deleted) => Err("the server answered a create with a delete".into()),
        Err(ContactSaveError::Duplicate(existing)) => Err(format!(
            "cannot create the contact: {} already belongs to {} (id {})",
            text::sanitize_line(existing.phone.as_deref().unwrap_or("the phone")),
            label(&existing),
            id_of(&existing)
        )),
        Err(ContactSaveError::Conflict(_)) => Err("cannot create the contact: a conflict".into()),
        Err(ContactSaveError::Api(err)) if is_duplicate_phone(&err) => {
            let phone = fields.phone.clone().flatten().unwrap_or_default();
            Err(format!(
                "cannot create the contact: {}",
                holder(provider, &phone).await
            ))
        }
        Err(ContactSaveError::Api(err)) => Err(format!("cannot create the contact: {err}")),
    }
}

/// A delete needs `--yes`, or a `y` typed at a terminal. Checked before
/// connecting, so a script without `--yes` makes no request.
pub fn check_delete_confirmation(yes: bool) -> Result<(), String> {
    if yes || std::io::stdin().is_terminal() {
        return Ok(());
    }
    Err(format!(
        "refusing to delete without confirmation: pass --yes ({AFTER_DELETE})"
    ))
}

fn confirm(contact: &Contact) -> Result<bool, String> {
    let mut err = std::io::stderr();
    write!(
        err,
        "Delete contact {} ({})? {}. [y/N] ",
        label(contact),
        id_of(contact),
        capitalised(AFTER_DELETE)
    )
    .and_then(|_| err.flush())
    .map_err(|e| e.to_string())?;
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| e.to_string())?;
    Ok(matches!(answer.trim().to_lowercase().as_str(), "y" | "yes"))
}

fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// `termdesk contacts delete`.
pub async fn delete(provider: &dyn Provider, id: &ContactId, yes: bool) -> Result<(), String> {
    let contact = get(provider, id).await?;
    if !yes && !confirm(&contact)? {
        return Err("not deleted".into());
    }
    provider.delete_contact(id).await.map_err(|err| match err {
        ApiError::NotFound(_) => format!(
            "no contact {} (already deleted?)",
            text::sanitize_line(id.as_str())
        ),
        err => format!("cannot delete {}: {err}", text::sanitize_line(id.as_str())),
    })?;
    println!(
        "deleted {} ({}); {AFTER_DELETE}",
        id_of(&contact),
        label(&contact)
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags() -> ContactFlags {
        ContactFlags::default()
    }

    #[test]
    fn values_are_checked_naming_the_flag() {
        let err = update_changes(None, Some("+90 532 123"), &flags(), Some("TR")).unwrap_err();
        assert_eq!(
            err,
            "--phone \"+90 532 123\": not a valid number for +90 (check the number of digits)"
        );
        let bad = |f: ContactFlags| update_changes(None, None, &f, None).unwrap_err();
        assert!(
            bad(ContactFlags {
                email: Some("a@b".into()),
                ..flags()
            })
            .starts_with("--email \"a@b\": ")
        );
        assert!(
            bad(ContactFlags {
                country: Some("XX".into()),
                ..flags()
            })
            .starts_with("--country \"XX\": ")
        );
        assert!(
            bad(ContactFlags {
                language: Some("en_GB".into()),
                ..flags()
            })
            .contains("en-GB")
        );
        assert!(
            bad(ContactFlags {
                gender: Some("robot".into()),
                ..flags()
            })
            .contains("female, male or other")
        );
        assert!(
            bad(ContactFlags {
                phone_permission: Some("maybe".into()),
                ..flags()
            })
            .starts_with("--phone-permission \"maybe\"")
        );
        assert!(bad(flags()).starts_with("nothing to change"));
        assert!(
            update_changes(Some(" "), None, &flags(), None)
                .unwrap_err()
                .contains("cannot be cleared")
        );
    }

    #[test]
    fn phones_are_read_in_the_country_given_and_empty_values_clear() {
        let changes = update_changes(
            None,
            Some("0532 123 45 67"),
            &ContactFlags {
                last_name: Some(String::new()),
                gender: Some("Female".into()),
                country: Some("tr".into()),
                email_permission: Some("no".into()),
                ..flags()
            },
            None,
        )
        .unwrap();
        assert_eq!(changes.phone, Some(Some("+905321234567".into())));
        assert_eq!(changes.phone_country_code, Some(Some("90".into())));
        assert_eq!(changes.country, Some(Some("TR".into())));
        assert_eq!(changes.last_name, Some(None));
        assert_eq!(changes.gender, Some(Some("female".into())));
        assert_eq!(changes.email_usage_permission, Some(false));
        let by_account =
            update_changes(None, Some("0532 123 45 67"), &flags(), Some("TR")).unwrap();
        assert_eq!(by_account.phone, Some(Some("+905321234567".into())));
        let cleared = update_changes(None, Some(""), &flags(), None).unwrap();
        assert_eq!(
            (cleared.phone, cleared.phone_country_code),
            (Some(None), Some(None))
        );
        let created = new_contact(
            "Ali",
            "+905321234567",
            &ContactFlags {
                email: Some(String::new()),
                ..flags()
            },
            None,
        )
        .unwrap();
        assert_eq!(created.email, None, "nothing to clear on a new contact");
        assert!(new_contact("Ali", " ", &flags(), None).is_err());
    }

    #[test]
    fn contact_ids_are_checked() {
        assert!(contact_id(" ").unwrap_err().contains("empty"));
        assert!(contact_id("a b").unwrap_err().contains("not a contact id"));
        assert_eq!(contact_id(" c1 ").unwrap().as_str(), "c1");
    }
}
