//! createContact / updateContact / deleteContact with the rules and
//! refusals of the real service: a first name and an E.164 phone are
//! required, phones and e-mails are unique per account, countries,
//! languages and genders are checked, and only the fields sent change
//! (an explicit `null` clears one).

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::world::{Contact, Tag, World, new_id};

/// `(code, message)` of a refusal, as the envelope carries it.
type Refusal = (i64, String);

/// An input field: `None` when absent, `Some(None)` for an explicit null.
type Sent<T> = Option<Option<T>>;

fn invalid(what: &str) -> Refusal {
    (400, format!("invalid input: {what}"))
}

fn sent_value<'a>(input: &'a Map<String, Value>, key: &str) -> Sent<&'a Value> {
    input
        .get(key)
        .map(|v| if v.is_null() { None } else { Some(v) })
}

fn sent_text(input: &Map<String, Value>, key: &str) -> Result<Sent<String>, Refusal> {
    match sent_value(input, key) {
        None => Ok(None),
        Some(None) => Ok(Some(None)),
        Some(Some(Value::String(s))) => Ok(Some(Some(s.trim().to_string()))),
        Some(Some(_)) => Err(invalid(&format!("{key} must be a string"))),
    }
}

/// Optional text where a blank value means "no value", like `null`.
fn sent_optional(input: &Map<String, Value>, key: &str) -> Result<Sent<String>, Refusal> {
    Ok(sent_text(input, key)?.map(|v| v.filter(|s| !s.is_empty())))
}

fn sent_flag(input: &Map<String, Value>, key: &str) -> Result<Sent<bool>, Refusal> {
    match sent_value(input, key) {
        None => Ok(None),
        Some(None) => Ok(Some(None)),
        Some(Some(Value::Bool(b))) => Ok(Some(Some(*b))),
        Some(Some(_)) => Err(invalid(&format!("{key} must be a boolean"))),
    }
}

/// `^\+[1-9][0-9]{6,14}$`
pub(crate) fn is_e164(phone: &str) -> bool {
    let Some(digits) = phone.strip_prefix('+') else {
        return false;
    };
    (7..=15).contains(&digits.len())
        && digits.chars().all(|c| c.is_ascii_digit())
        && !digits.starts_with('0')
}

/// The calling code of an E.164 number, without `+`.
fn calling_code(e164: &str) -> Option<String> {
    phonenumber::parse(None, e164)
        .ok()
        .map(|n| n.code().value().to_string())
}

fn email_ok(email: &str) -> bool {
    let Some((_, domain)) = email.rsplit_once('@') else {
        return false;
    };
    !email.chars().any(char::is_whitespace)
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && email_address::EmailAddress::is_valid(email)
}

fn country_ok(country: &str) -> bool {
    country.len() == 2
        && country.chars().all(|c| c.is_ascii_uppercase())
        && isocountry::CountryCode::for_alpha2(country).is_ok()
}

fn language_ok(language: &str) -> bool {
    language_tags::LanguageTag::parse(language).is_ok_and(|tag| tag.validate().is_ok())
}

const GENDERS: [&str; 3] = ["female", "male", "other"];

/// Every change an input asks for, checked against the world (`own` is
/// the contact being updated, which may keep its own phone and e-mail).
#[derive(Debug, Default)]
struct Changes {
    first_name: Option<String>,
    last_name: Sent<String>,
    username: Sent<String>,
    avatar: Sent<String>,
    email: Sent<String>,
    phone: Sent<String>,
    phone_country_code: Sent<String>,
    country: Sent<String>,
    gender: Sent<String>,
    language: Sent<String>,
    owner: Sent<String>,
    tags: Sent<Vec<Tag>>,
    phone_usage_permission: Sent<bool>,
    email_usage_permission: Sent<bool>,
}

fn read_changes(
    world: &World,
    input: &Map<String, Value>,
    own: Option<&str>,
) -> Result<Changes, Refusal> {
    let others = || world.contacts.iter().filter(|c| Some(c.id.as_str()) != own);
    let first_name = match sent_text(input, "firstName")? {
        None => None,
        Some(Some(name)) if !name.is_empty() => Some(name),
        Some(_) => return Err((422, "firstName is required".into())),
    };
    let phone = sent_optional(input, "phone")?;
    if let Some(Some(phone)) = &phone {
        if !is_e164(phone) {
            return Err((422, "Invalid phone: use E.164, e.g. +905321234567".into()));
        }
        if others().any(|c| c.phone.as_deref() == Some(phone.as_str())) {
            return Err((409, format!("A contact with phone {phone} already exists")));
        }
    }
    let phone_country_code = match sent_optional(input, "phoneCountryCode")? {
        Some(Some(code)) => {
            let code = code.trim_start_matches('+').to_string();
            if code.is_empty() || code.len() > 4 || !code.chars().all(|c| c.is_ascii_digit()) {
                return Err((
                    422,
                    format!("Invalid phoneCountryCode: {code} is not a calling code"),
                ));
            }
            Some(Some(code))
        }
        // Follows the phone unless given.
        None => phone.as_ref().map(|p| p.as_deref().and_then(calling_code)),
        cleared => cleared,
    };
    let email = sent_optional(input, "email")?;
    if let Some(Some(email)) = &email {
        if !email_ok(email) {
            return Err((
                422,
                format!("Invalid email: {email} is not an e-mail address"),
            ));
        }
        if others().any(|c| {
            c.email
                .as_deref()
                .is_some_and(|e| e.eq_ignore_ascii_case(email))
        }) {
            return Err((409, "email already in use by another contact".into()));
        }
    }
    let country = sent_optional(input, "country")?;
    if let Some(Some(country)) = &country
        && !country_ok(country)
    {
        return Err((
            422,
            format!(
                "Invalid country: {country} is not an ISO 3166-1 alpha-2 code (two capital letters, e.g. TR)"
            ),
        ));
    }
    let language = sent_optional(input, "language")?;
    if let Some(Some(language)) = &language
        && !language_ok(language)
    {
        return Err((
            422,
            format!("Invalid language: {language} is not a BCP 47 tag (e.g. tr, en-GB)"),
        ));
    }
    let gender = sent_optional(input, "gender")?;
    if let Some(Some(gender)) = &gender
        && !GENDERS.contains(&gender.as_str())
    {
        return Err((
            422,
            format!("Invalid gender: {gender} (use female, male or other)"),
        ));
    }
    let tags = match sent_value(input, "tags") {
        None => None,
        Some(None) => Some(None),
        Some(Some(Value::Array(ids))) => {
            let mut tags: Vec<Tag> = Vec::new();
            for id in ids {
                let id = id
                    .as_str()
                    .ok_or_else(|| invalid("tags must be a list of ids"))?;
                let tag = world
                    .tags
                    .iter()
                    .find(|t| t.id == id)
                    .ok_or_else(|| (404, format!("Tag {id} not found")))?;
                if !tags.iter().any(|t| t.id == tag.id) {
                    tags.push(tag.clone());
                }
            }
            Some(Some(tags))
        }
        Some(Some(_)) => return Err(invalid("tags must be a list of ids")),
    };
    Ok(Changes {
        first_name,
        last_name: sent_optional(input, "lastName")?,
        username: sent_optional(input, "username")?,
        avatar: sent_text(input, "avatar")?,
        email,
        phone,
        phone_country_code,
        country,
        gender,
        language,
        owner: sent_optional(input, "owner")?,
        tags,
        phone_usage_permission: sent_flag(input, "phoneUsagePermission")?,
        email_usage_permission: sent_flag(input, "emailUsagePermission")?,
    })
}

impl Changes {
    fn apply(self, c: &mut Contact) {
        fn set<T>(target: &mut Option<T>, value: Sent<T>) {
            if let Some(value) = value {
                *target = value;
            }
        }
        if let Some(name) = self.first_name {
            c.first_name = name;
        }
        set(&mut c.last_name, self.last_name);
        set(&mut c.username, self.username);
        if let Some(avatar) = self.avatar {
            c.avatar = avatar.unwrap_or_default();
        }
        set(&mut c.email, self.email);
        set(&mut c.phone, self.phone);
        set(&mut c.phone_country_code, self.phone_country_code);
        set(&mut c.country, self.country);
        set(&mut c.gender, self.gender);
        set(&mut c.language, self.language);
        set(&mut c.owner, self.owner);
        if let Some(tags) = self.tags {
            c.tags = tags.unwrap_or_default();
        }
        if let Some(flag) = self.phone_usage_permission {
            c.phone_usage_permission = flag.unwrap_or(false);
        }
        if let Some(flag) = self.email_usage_permission {
            c.email_usage_permission = flag.unwrap_or(false);
        }
    }
}

fn object(input: &Value) -> Result<&Map<String, Value>, Refusal> {
    input
        .as_object()
        .ok_or_else(|| invalid("input is required"))
}

fn contact_id(input: &Map<String, Value>) -> String {
    input
        .get("contactId")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn contact_not_found() -> Refusal {
    (404, "Contact not found".into())
}

pub(crate) fn create(
    world: &mut World,
    input: &Value,
    now: DateTime<Utc>,
) -> Result<Value, Refusal> {
    let input = object(input)?;
    if sent_text(input, "firstName")?
        .flatten()
        .is_none_or(|n| n.is_empty())
    {
        return Err((422, "firstName is required".into()));
    }
    if sent_optional(input, "phone")?.flatten().is_none() {
        return Err((422, "phone is required".into()));
    }
    let changes = read_changes(world, input, None)?;
    let mut contact = Contact {
        id: new_id(&mut world.rng),
        customer: world.customer.clone(),
        first_name: String::new(),
        last_name: None,
        username: None,
        avatar: String::new(),
        email: None,
        phone: None,
        phone_country_code: None,
        country: None,
        gender: None,
        tags: Vec::new(),
        created_at: now,
        updated_at: now,
        phone_usage_permission: false,
        email_usage_permission: false,
        language: None,
        platforms: Vec::new(),
        owner: None,
    };
    changes.apply(&mut contact);
    let json = serde_json::to_value(&contact).unwrap_or(Value::Null);
    world
        .contact_idx
        .insert(contact.id.clone(), world.contacts.len());
    world.contacts.push(contact);
    Ok(json)
}

pub(crate) fn update(
    world: &mut World,
    input: &Value,
    now: DateTime<Utc>,
) -> Result<Value, Refusal> {
    let input = object(input)?;
    let id = contact_id(input);
    if input.keys().all(|k| k == "contactId") {
        return Err(invalid(
            "nothing to update (send at least one field besides contactId)",
        ));
    }
    let Some(&i) = world.contact_idx.get(&id) else {
        return Err(contact_not_found());
    };
    let changes = read_changes(world, input, Some(&id))?;
    let contact = &mut world.contacts[i];
    changes.apply(contact);
    // Strictly later, so an incremental sync from the last change sees it.
    contact.updated_at = now.max(contact.updated_at + chrono::Duration::milliseconds(1));
    Ok(serde_json::to_value(&*contact).unwrap_or(Value::Null))
}

/// The contact's conversations stay, still pointing at its id.
pub(crate) fn delete(world: &mut World, input: &Value) -> Result<Value, Refusal> {
    let input = object(input)?;
    let id = contact_id(input);
    let Some(i) = world.contact_idx.remove(&id) else {
        return Err(contact_not_found());
    };
    world.contacts.remove(i);
    for index in world.contact_idx.values_mut() {
        if *index > i {
            *index -= 1;
        }
    }
    Ok(Value::String(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164_is_a_plus_and_7_to_15_digits() {
        assert!(is_e164("+905321234567"));
        assert!(is_e164("+1234567"));
        assert!(!is_e164("+123456"));
        assert!(!is_e164("905321234567"));
        assert!(!is_e164("+0905321234567"));
        assert!(!is_e164("+90 532 123"));
        assert!(!is_e164("+1234567890123456"));
        assert_eq!(calling_code("+905321234567").as_deref(), Some("90"));
        assert_eq!(calling_code("+14155550100").as_deref(), Some("1"));
    }

    #[test]
    fn formats_follow_the_standards() {
        assert!(country_ok("TR") && !country_ok("tr") && !country_ok("XX"));
        assert!(language_ok("tr") && language_ok("en-GB") && !language_ok("en_GB"));
        assert!(email_ok("a@b.co") && !email_ok("a@b") && !email_ok("a b@c.de"));
    }
}
