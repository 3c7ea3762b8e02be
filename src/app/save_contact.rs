//! Sends one record of the contact log to the provider, exactly once: an
//! edit is checked against the server's copy first (a field changed there
//! since editing began is a conflict, never overwritten); a create whose
//! earlier answer was lost is looked for by its phone before it is sent
//! again; a delete that finds the contact gone is done.

use crate::api::{ApiError, Provider};
use crate::app::contact_form::field_raw;
use crate::app::event::{ContactSaveError, ContactSaved};
use crate::contact_fields::ContactField;
use crate::domain::{Contact, ContactQuery, ContactUpdate};
use crate::store::contact_edits::ContactOp;
use crate::sync::scheduler::{Priority, with_priority};

pub async fn save_contact(
    provider: &dyn Provider,
    op: &ContactOp,
    attempts: u32,
) -> Result<ContactSaved, ContactSaveError> {
    let api = ContactSaveError::Api;
    match op {
        ContactOp::Update {
            contact_id,
            base,
            changes,
        } => {
            let server = with_priority(Priority::Send, provider.get_contact(contact_id))
                .await
                .map_err(api)?;
            if !conflicting_fields(base, &server, changes).is_empty() {
                return Err(ContactSaveError::Conflict(Box::new(server)));
            }
            let saved = with_priority(Priority::Send, provider.update_contact(contact_id, changes))
                .await
                .map_err(api)?;
            Ok(ContactSaved::Saved(Box::new(saved)))
        }
        ContactOp::Create { fields } => {
            let phone = fields.phone.clone().flatten();
            if attempts > 0
                && let Some(phone) = &phone
                && let Some(found) = find_by_phone(provider, phone).await.map_err(api)?
                && found.first_name.trim() == fields.first_name.as_deref().unwrap_or("").trim()
            {
                // The earlier attempt arrived; its answer was lost.
                return Ok(ContactSaved::Saved(Box::new(found)));
            }
            match with_priority(Priority::Send, provider.create_contact(fields)).await {
                Ok(created) => Ok(ContactSaved::Saved(Box::new(created))),
                Err(error) if is_duplicate_phone(&error) => {
                    let existing = match &phone {
                        Some(phone) => find_by_phone(provider, phone).await.ok().flatten(),
                        None => None,
                    };
                    match existing {
                        Some(existing) => Err(ContactSaveError::Duplicate(Box::new(existing))),
                        None => Err(api(error)),
                    }
                }
                Err(error) => Err(api(error)),
            }
        }
        ContactOp::Delete { contact_id, .. } => {
            match with_priority(Priority::Send, provider.delete_contact(contact_id)).await {
                Ok(()) | Err(ApiError::NotFound(_)) => Ok(ContactSaved::Deleted),
                Err(error) => Err(api(error)),
            }
        }
    }
}

/// Fields `changes` sets whose value on the server is no longer the one
/// editing began from, and is not already the agent's new value.
pub fn conflicting_fields(
    base: &Contact,
    server: &Contact,
    changes: &ContactUpdate,
) -> Vec<ContactField> {
    let mut edited = base.clone();
    changes.apply(&mut edited);
    changes
        .fields()
        .into_iter()
        .filter(|field| {
            let theirs = field_raw(server, *field);
            theirs != field_raw(base, *field) && theirs != field_raw(&edited, *field)
        })
        .collect()
}

/// The server refused a new contact because its phone is taken.
pub fn is_duplicate_phone(error: &ApiError) -> bool {
    let ApiError::Rejected { code, message } = error else {
        return false;
    };
    let lower = message.to_lowercase();
    let duplicate = *code == Some(409)
        || [
            "already exists",
            "duplicate",
            "already in use",
            "already used",
            "taken",
        ]
        .iter()
        .any(|w| lower.contains(w));
    duplicate && ContactField::named_in(message).is_none_or(|f| f == ContactField::Phone)
}

/// The contact with this phone, if the account has one.
pub async fn find_by_phone(
    provider: &dyn Provider,
    phone: &str,
) -> Result<Option<Contact>, ApiError> {
    let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
    let wanted = digits(phone);
    let query = ContactQuery {
        limit: 5,
        phone: Some(phone.to_string()),
        ..ContactQuery::default()
    };
    let page = with_priority(Priority::Send, provider.list_contacts(&query)).await?;
    Ok(page
        .items
        .into_iter()
        .find(|c| c.phone.as_deref().is_some_and(|p| digits(p) == wanted)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_fields_changed_on_both_sides_conflict() {
        let mut base = Contact::named("c1", "Ayşe");
        base.email = Some("old@example.com".into());
        let changes = ContactUpdate {
            email: Some(Some("mine@example.com".into())),
            last_name: Some(Some("Kaya".into())),
            ..Default::default()
        };
        let mut server = base.clone();
        server.username = Some("elsewhere".into());
        assert!(conflicting_fields(&base, &server, &changes).is_empty());
        server.last_name = Some("Kaya".into());
        assert!(
            conflicting_fields(&base, &server, &changes).is_empty(),
            "the server already has the agent's value"
        );
        server.email = Some("theirs@example.com".into());
        assert_eq!(
            conflicting_fields(&base, &server, &changes),
            [ContactField::Email]
        );
    }

    #[test]
    fn duplicate_phones_are_recognised_in_any_wording() {
        let rejected = |code, message: &str| ApiError::Rejected {
            code,
            message: message.into(),
        };
        assert!(is_duplicate_phone(&rejected(Some(409), "conflict")));
        assert!(is_duplicate_phone(&rejected(
            None,
            "A contact with phone +905321234567 already exists"
        )));
        assert!(!is_duplicate_phone(&rejected(None, "email already in use")));
        assert!(!is_duplicate_phone(&rejected(Some(422), "Invalid phone")));
        assert!(!is_duplicate_phone(&ApiError::Network("down".into())));
    }
}
