//! The editable fields of a contact and the rules each value must meet,
//! shared by the profile editor and the `contacts` commands, so a value is
//! refused the same way before any request wherever it was typed.

use std::str::FromStr;

/// A field of a contact the agent can change.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum ContactField {
    FirstName,
    LastName,
    Username,
    Phone,
    Email,
    Country,
    Language,
    Gender,
    PhonePermission,
    EmailPermission,
    Tags,
}

impl ContactField {
    /// In the order the editor shows them.
    pub const ALL: [ContactField; 11] = [
        ContactField::FirstName,
        ContactField::LastName,
        ContactField::Username,
        ContactField::Phone,
        ContactField::Email,
        ContactField::Country,
        ContactField::Language,
        ContactField::Gender,
        ContactField::PhonePermission,
        ContactField::EmailPermission,
        ContactField::Tags,
    ];

    pub fn label(self) -> &'static str {
        match self {
            ContactField::FirstName => "First name",
            ContactField::LastName => "Last name",
            ContactField::Username => "Username",
            ContactField::Phone => "Phone",
            ContactField::Email => "E-mail",
            ContactField::Country => "Country",
            ContactField::Language => "Language",
            ContactField::Gender => "Gender",
            ContactField::PhonePermission => "May call / text",
            ContactField::EmailPermission => "May e-mail",
            ContactField::Tags => "Tags",
        }
    }

    /// The field's name on the wire (Qpien's input names), also used by
    /// the command line's error messages.
    pub fn wire_name(self) -> &'static str {
        match self {
            ContactField::FirstName => "firstName",
            ContactField::LastName => "lastName",
            ContactField::Username => "username",
            ContactField::Phone => "phone",
            ContactField::Email => "email",
            ContactField::Country => "country",
            ContactField::Language => "language",
            ContactField::Gender => "gender",
            ContactField::PhonePermission => "phoneUsagePermission",
            ContactField::EmailPermission => "emailUsagePermission",
            ContactField::Tags => "tags",
        }
    }

    /// Typed with a textarea; the others are chosen from a list.
    pub fn is_text(self) -> bool {
        matches!(
            self,
            ContactField::FirstName
                | ContactField::LastName
                | ContactField::Username
                | ContactField::Phone
                | ContactField::Email
        )
    }

    /// The field a server's refusal is about, read from its message
    /// ("Invalid phone: …", "email already in use", "firstName is
    /// required"). Servers word these freely, so this looks for the
    /// field's wire name or its usual words; `None` when none is named.
    pub fn named_in(message: &str) -> Option<ContactField> {
        let lower = message.to_lowercase();
        // Longer names first: "phoneUsagePermission" contains "phone".
        let words: [(ContactField, &[&str]); 11] = [
            (
                ContactField::PhonePermission,
                &["phoneusagepermission", "phone usage permission"],
            ),
            (
                ContactField::EmailPermission,
                &["emailusagepermission", "email usage permission"],
            ),
            (ContactField::FirstName, &["firstname", "first name"]),
            (ContactField::LastName, &["lastname", "last name"]),
            (ContactField::Username, &["username", "user name"]),
            (ContactField::Phone, &["phone", "msisdn", "telephone"]),
            (ContactField::Email, &["email", "e-mail"]),
            (ContactField::Country, &["country"]),
            (ContactField::Language, &["language", "locale"]),
            (ContactField::Gender, &["gender"]),
            (ContactField::Tags, &["tag"]),
        ];
        words
            .iter()
            .filter_map(|(field, names)| {
                names
                    .iter()
                    .filter_map(|name| lower.find(name))
                    .min()
                    .map(|at| (at, *field))
            })
            .min_by_key(|(at, _)| *at)
            .map(|(_, field)| field)
    }
}

/// A phone number as it should be stored: E.164, with its calling code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidPhone {
    /// `+905321234567`
    pub e164: String,
    /// The country calling code without `+`: `90`.
    pub calling_code: String,
}

/// Parses a phone number as an agent types it (spaces, dashes,
/// parentheses, a national leading zero, `00` instead of `+`) into E.164.
/// A number without `+` is read in the first of `regions` (ISO 3166-1
/// alpha-2: the contact's country, then the account's) that makes it valid.
pub fn parse_phone(input: &str, regions: &[&str]) -> Result<ValidPhone, String> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err("enter a phone number".into());
    }
    if let Some(bad) = trimmed
        .chars()
        .find(|c| !(c.is_ascii_digit() || " +-().\u{a0}/".contains(*c)))
    {
        return Err(format!("'{bad}' is not part of a phone number"));
    }
    if trimmed.chars().skip(1).any(|c| c == '+') {
        return Err("'+' may only start the number".into());
    }
    let digits = trimmed.chars().filter(char::is_ascii_digit).count();
    if digits < 6 {
        return Err("too short for a phone number".into());
    }
    if digits > 17 {
        return Err("too long for a phone number".into());
    }
    let international = trimmed.starts_with('+');
    // "0090 532 …" is international wherever it was typed from; read it so
    // when the default region's own exit code is something else.
    let compact: String = trimmed.chars().filter(|c| c.is_ascii_digit()).collect();
    let mut candidates: Vec<(Option<&str>, String)> = Vec::new();
    if international {
        candidates.push((None, trimmed.to_string()));
    } else {
        for region in regions {
            candidates.push((Some(region), trimmed.to_string()));
        }
        if let Some(rest) = compact.strip_prefix("00") {
            candidates.push((None, format!("+{rest}")));
        }
    }
    if candidates.is_empty() {
        return Err(
            "start with + and the country code (e.g. +90 532 123 45 67): no country is known to read it in"
                .into(),
        );
    }
    let mut last_error = None;
    for (region, text) in &candidates {
        let region = match region {
            Some(code) => match phonenumber::country::Id::from_str(&code.to_uppercase()) {
                Ok(id) => Some(id),
                Err(_) => continue,
            },
            None => None,
        };
        match phonenumber::parse(region, text) {
            Ok(number) if phonenumber::is_valid(&number) => {
                return Ok(ValidPhone {
                    e164: number.format().mode(phonenumber::Mode::E164).to_string(),
                    calling_code: number.code().value().to_string(),
                });
            }
            Ok(number) => {
                last_error = Some(format!(
                    "not a valid number for +{} (check the number of digits)",
                    number.code().value()
                ));
            }
            Err(_) => {
                last_error.get_or_insert_with(|| "not a phone number".to_string());
            }
        }
    }
    Err(last_error.unwrap_or_else(|| "not a phone number".into()))
}

/// Checks an e-mail address (RFC 5321/5322 syntax, Unicode allowed, as
/// RFC 6531 does) and that its domain has a dot: a customer's address is
/// never on a bare host. Returns it trimmed.
pub fn check_email(input: &str) -> Result<String, String> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err("enter an e-mail address".into());
    }
    let Some((local, domain)) = trimmed.rsplit_once('@') else {
        return Err("an e-mail address needs an @".into());
    };
    if local.is_empty() {
        return Err("nothing before the @".into());
    }
    if domain.is_empty() {
        return Err("nothing after the @".into());
    }
    if trimmed.chars().any(char::is_whitespace) {
        return Err("an e-mail address has no spaces".into());
    }
    if !domain.contains('.') || domain.starts_with('.') || domain.ends_with('.') {
        return Err(format!(
            "'{domain}' is not a full domain (e.g. example.com)"
        ));
    }
    if !email_address::EmailAddress::is_valid(trimmed) {
        return Err("not a valid e-mail address".into());
    }
    Ok(trimmed.to_string())
}

/// An ISO 3166-1 alpha-2 code, upper-cased: `tr` → `TR`.
pub fn check_country(input: &str) -> Result<String, String> {
    let code = input.trim().to_uppercase();
    if code.len() != 2 || !code.chars().all(|c| c.is_ascii_alphabetic()) {
        return Err("a country is two letters (ISO 3166-1, e.g. TR, AE, GB)".into());
    }
    match isocountry::CountryCode::for_alpha2(&code) {
        Ok(_) => Ok(code),
        Err(_) => Err(format!("{code} is not a country code")),
    }
}

pub fn country_name(code: &str) -> Option<&'static str> {
    isocountry::CountryCode::for_alpha2_caseless(code.trim())
        .ok()
        .map(|c| c.name())
}

/// Every country: (alpha-2 code, English name), by name.
pub fn countries() -> Vec<(&'static str, &'static str)> {
    let mut all: Vec<_> = isocountry::CountryCode::iter()
        .map(|c| (c.alpha2(), c.name()))
        .collect();
    all.sort_by_key(|(_, name)| *name);
    all
}

/// A well-formed and valid BCP 47 tag in its usual case: `TR-tr` →
/// `tr-TR`; `en_US` is refused with the right spelling.
pub fn check_language(input: &str) -> Result<String, String> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err("enter a language tag (e.g. tr, en-GB)".into());
    }
    if trimmed.contains('_') {
        return Err(format!(
            "language tags use '-', not '_' ({})",
            trimmed.replace('_', "-")
        ));
    }
    let tag = language_tags::LanguageTag::parse(trimmed)
        .map_err(|_| format!("'{trimmed}' is not a language tag (e.g. tr, en-GB, zh-Hant)"))?;
    tag.validate()
        .map_err(|_| format!("'{trimmed}' is not a valid language tag (e.g. tr, en-GB)"))?;
    let primary = tag.primary_language();
    if primary.len() > 3 {
        return Err(format!(
            "'{trimmed}' is not a language tag (e.g. tr, en-GB, zh-Hant)"
        ));
    }
    Ok(canonical_case(tag.as_str()))
}

/// BCP 47's customary case: language lower, script title, region upper.
fn canonical_case(tag: &str) -> String {
    tag.split('-')
        .enumerate()
        .map(|(i, part)| match (i, part.len()) {
            (0, _) => part.to_lowercase(),
            (_, 2) => part.to_uppercase(),
            (_, 4) if part.chars().all(|c| c.is_ascii_alphabetic()) => {
                let mut chars = part.chars();
                let first = chars.next().map(|c| c.to_ascii_uppercase());
                first
                    .into_iter()
                    .chain(chars.map(|c| c.to_ascii_lowercase()))
                    .collect()
            }
            _ => part.to_lowercase(),
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// "Turkish (Türkçe)" for `tr` or `tr-TR`; `None` for an unknown language.
pub fn language_name(tag: &str) -> Option<String> {
    let primary = tag.trim().split(['-', '_']).next()?.to_lowercase();
    let language = match primary.len() {
        2 => isolang::Language::from_639_1(&primary),
        3 => isolang::Language::from_639_3(&primary),
        _ => None,
    }?;
    let english = language.to_name();
    Some(match language.to_autonym() {
        Some(own) if own != english => format!("{english} ({own})"),
        _ => english.to_string(),
    })
}

/// Languages with a two-letter code: (code, "English (own name)"), by name.
pub fn languages() -> Vec<(&'static str, String)> {
    let mut all: Vec<_> = isolang::languages()
        .filter_map(|l| {
            let code = l.to_639_1()?;
            Some((code, language_name(code)?))
        })
        .collect();
    all.sort_by(|a, b| a.1.cmp(&b.1));
    all
}

/// The genders offered: (value sent, label).
pub const GENDERS: [(&str, &str); 3] = [("female", "Female"), ("male", "Male"), ("other", "Other")];

#[cfg(test)]
mod tests {
    use super::*;

    fn e164(input: &str, regions: &[&str]) -> Result<String, String> {
        parse_phone(input, regions).map(|p| p.e164)
    }

    #[test]
    fn phones_as_agents_type_them_become_e164() {
        assert_eq!(e164("+971 50 123 4567", &[]).unwrap(), "+971501234567");
        assert_eq!(
            e164("0090 532 123 45 67", &["TR"]).unwrap(),
            "+905321234567"
        );
        // Typed with the international prefix from a country that dials 011.
        assert_eq!(
            e164("0090 532 123 45 67", &["US"]).unwrap(),
            "+905321234567"
        );
        assert_eq!(e164("0532 123 45 67", &["TR"]).unwrap(), "+905321234567");
        assert_eq!(e164("(0532) 123-45-67", &["tr"]).unwrap(), "+905321234567");
        assert_eq!(e164("532.123.45.67", &["TR"]).unwrap(), "+905321234567");
        assert_eq!(e164("+1 (415) 555-2671", &[]).unwrap(), "+14155552671");
        assert_eq!(e164("  +44 20 7946 0958 ", &[]).unwrap(), "+442079460958");
        // The contact's country first, the account's after.
        assert_eq!(
            e164("050 123 4567", &["AE", "TR"]).unwrap(),
            "+971501234567"
        );
        assert_eq!(
            e164("0532 123 45 67", &["AE", "TR"]).unwrap(),
            "+905321234567"
        );
        let phone = parse_phone("+971501234567", &[]).unwrap();
        assert_eq!(phone.calling_code, "971");
    }

    #[test]
    fn wrong_phones_say_why() {
        assert!(e164("+90 532 123", &[]).unwrap_err().contains("+90"));
        assert!(e164("+905321234567999", &[]).is_err());
        assert!(e164("12345", &["TR"]).unwrap_err().contains("short"));
        assert!(e164("0532 123 45 67", &[]).unwrap_err().contains("+"));
        assert!(e164("+90 532 abc", &[]).unwrap_err().contains("'a'"));
        assert!(e164("+90+532", &[]).is_err());
        assert!(e164("", &["TR"]).is_err());
        assert!(
            e164("+1 234 567 890 123 456 789", &[])
                .unwrap_err()
                .contains("long")
        );
        assert!(e164("000000000", &["TR"]).is_err());
    }

    #[test]
    fn e_mails_follow_the_rfcs() {
        assert_eq!(check_email(" a+b@example.com ").unwrap(), "a+b@example.com");
        assert!(check_email("ayşe@örnek.com.tr").is_ok());
        assert!(check_email("user@münchen.de").is_ok());
        assert!(check_email("\"quoted\"@example.com").is_ok());
        assert!(check_email("x@localhost").unwrap_err().contains("domain"));
        assert!(check_email("bad@").unwrap_err().contains("after"));
        assert!(check_email("@x.com").unwrap_err().contains("before"));
        assert!(check_email("a b@x.com").unwrap_err().contains("spaces"));
        assert!(check_email("no-at.example.com").unwrap_err().contains("@"));
        assert!(check_email("a@b..com").is_err());
        assert!(check_email("a@.com").is_err());
    }

    #[test]
    fn countries_and_languages_are_checked_and_named() {
        assert_eq!(check_country(" tr ").unwrap(), "TR");
        assert!(check_country("XX").unwrap_err().contains("XX"));
        assert!(check_country("TUR").is_err());
        assert_eq!(country_name("ae"), Some("United Arab Emirates"));
        assert!(countries().len() > 240);
        assert_eq!(check_language("TR-tr").unwrap(), "tr-TR");
        assert_eq!(check_language("zh-hant-tw").unwrap(), "zh-Hant-TW");
        assert!(check_language("en_US").unwrap_err().contains("en-US"));
        assert!(check_language("english").is_err());
        assert!(check_language("xx-!!").is_err());
        assert_eq!(language_name("tr-TR").unwrap(), "Turkish (Türkçe)");
        assert_eq!(language_name("en").unwrap(), "English");
        assert!(languages().iter().any(|(code, _)| *code == "ar"));
    }

    #[test]
    fn server_messages_name_their_field() {
        let named = ContactField::named_in;
        assert_eq!(named("Invalid phone: use E.164"), Some(ContactField::Phone));
        assert_eq!(named("email already in use"), Some(ContactField::Email));
        assert_eq!(
            named("firstName is required"),
            Some(ContactField::FirstName)
        );
        assert_eq!(
            named("phoneUsagePermission must be a boolean"),
            Some(ContactField::PhonePermission)
        );
        assert_eq!(named("Duplicate e-mail"), Some(ContactField::Email));
        assert_eq!(named("something broke"), None);
    }
}
