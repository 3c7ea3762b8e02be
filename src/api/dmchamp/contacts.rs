//! Contacts: exact lookups, create (409 → the existing contact), update
//! (PUT for names, e-mail and flags; `POST /tags` for new tags), lists and
//! tags. Every contact touched lands in the book with what termdesk wrote.

use chrono::Utc;
use serde_json::{Map, Value, json};

use super::book::BookEntry;
use super::wire::{ContactIdAnswer, WireTag, map_tag, records};
use super::{DmChampClient, local_page};
use crate::api::http::{HttpRequest, segment};
use crate::api::{ApiError, ApiResult};
use crate::contact_fields::{ContactField, check_email, parse_phone};
use crate::domain::{Contact, ContactId, ContactQuery, ContactUpdate, Page, Tag};

/// How a contact is looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Lookup {
    /// E.164.
    Phone(String),
    Email(String),
}

/// A search that is a phone number or an e-mail address is an exact
/// lookup; anything else filters the book.
pub(super) fn lookup_of(search: &str) -> Option<Lookup> {
    let s = search.trim();
    if s.contains('@') {
        return check_email(s).ok().map(Lookup::Email);
    }
    let phone_like = s.chars().filter(char::is_ascii_digit).count() >= 6
        && s.chars()
            .all(|c| c.is_ascii_digit() || " +-().".contains(c));
    if phone_like {
        return parse_phone(s, &[]).ok().map(|p| Lookup::Phone(p.e164));
    }
    None
}

fn refused(message: impl Into<String>) -> ApiError {
    ApiError::Rejected {
        code: None,
        message: message.into(),
    }
}

/// Fields DM Champ has no place for, as the editor names them.
fn unsupported_fields(update: &ContactUpdate, creating: bool) -> Vec<&'static str> {
    let mut names = Vec::new();
    let mut check = |set: bool, field: ContactField| {
        if set {
            names.push(field.label());
        }
    };
    check(update.username.is_some(), ContactField::Username);
    check(!creating && update.phone.is_some(), ContactField::Phone);
    check(update.country.is_some(), ContactField::Country);
    check(update.gender.is_some(), ContactField::Gender);
    check(update.language.is_some(), ContactField::Language);
    check(
        update.phone_usage_permission.is_some(),
        ContactField::PhonePermission,
    );
    check(
        update.email_usage_permission.is_some(),
        ContactField::EmailPermission,
    );
    names
}

fn refuse_unsupported(update: &ContactUpdate, creating: bool) -> ApiResult<()> {
    let names = unsupported_fields(update, creating);
    if names.is_empty() {
        return Ok(());
    }
    Err(refused(format!(
        "DM Champ has no way to {} {}; nothing was saved",
        if creating { "store" } else { "change" },
        names.join(", ")
    )))
}

fn text(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// First name, last name and e-mail of `update` as DM Champ's body fields.
fn name_and_email(
    update: &ContactUpdate,
    creating: bool,
    body: &mut Map<String, Value>,
) -> ApiResult<()> {
    if let Some(first) = &update.first_name {
        body.insert("firstName".into(), json!(first.trim()));
    }
    if let Some(last) = &update.last_name {
        body.insert("lastName".into(), json!(text(last).unwrap_or_default()));
    }
    match &update.email {
        None => {}
        Some(Some(email)) if !email.trim().is_empty() => {
            let email = check_email(email).map_err(|why| refused(format!("e-mail: {why}")))?;
            body.insert("email".into(), json!(email));
        }
        // A new contact without one gets DM Champ's placeholder.
        Some(_) if creating => {}
        Some(_) => {
            return Err(refused(
                "DM Champ cannot clear an e-mail address; enter another one instead",
            ));
        }
    }
    Ok(())
}

impl DmChampClient {
    pub(super) async fn lookup(&self, key: &Lookup) -> ApiResult<Option<ContactId>> {
        let request = match key {
            Lookup::Phone(phone) => HttpRequest::get("contacts").query("phoneNumber", phone),
            Lookup::Email(email) => HttpRequest::get("contacts").query("email", email),
        };
        match self.call(request).await {
            Ok(response) => response.decode::<ContactIdAnswer>()?.contact_id().map(Some),
            Err(ApiError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub(super) async fn fetch_tags(&self, id: &ContactId) -> ApiResult<Vec<String>> {
        let response = self
            .call(HttpRequest::get(format!(
                "contacts/tags/{}",
                segment(id.as_str())
            )))
            .await?;
        let (tags, _) = records::<WireTag>(response.json()?, "tag")?;
        Ok(tags
            .into_iter()
            .filter_map(map_tag)
            .map(|t| t.name)
            .collect())
    }

    /// Looks up, records in the book and answers the contact (with its tags).
    async fn find(&self, key: &Lookup) -> ApiResult<Option<Contact>> {
        let Some(id) = self.lookup(key).await? else {
            return Ok(None);
        };
        let tags = self.fetch_tags(&id).await.ok();
        let now = Utc::now();
        let contact = self
            .book()
            .upsert(id.as_str(), now, |e| {
                match key {
                    Lookup::Phone(p) => e.phone = Some(p.clone()),
                    Lookup::Email(m) => e.email = Some(m.clone()),
                }
                if let Some(tags) = tags {
                    e.tags = tags;
                }
            })
            .contact();
        self.save_book();
        Ok(Some(contact))
    }

    pub(super) async fn contacts(&self, query: &ContactQuery) -> ApiResult<Page<Contact>> {
        let search = query.search.as_deref().map(str::trim).unwrap_or("");
        let exact = match &query.phone {
            Some(phone) => Some(Lookup::Phone(
                parse_phone(phone, &[])
                    .map(|p| p.e164)
                    .map_err(|why| refused(format!("phone: {why}")))?,
            )),
            None => lookup_of(search),
        };
        if let Some(key) = exact {
            let found: Vec<Contact> = self.find(&key).await?.into_iter().collect();
            return local_page(found, query.cursor.as_ref(), query.limit);
        }
        let book = self.book();
        let mut entries: Vec<&BookEntry> = book
            .by_activity()
            .into_iter()
            .filter(|e| e.matches(search))
            .collect();
        if let Some(since) = query.updated_since {
            // Oldest change first, so a directory sync resumes where it stopped.
            entries.retain(|e| e.updated_at.unwrap_or(e.activity()) >= since);
            entries.sort_by_key(|e| (e.updated_at.unwrap_or(e.activity()), e.id.clone()));
        }
        let contacts = entries.into_iter().map(BookEntry::contact).collect();
        local_page(contacts, query.cursor.as_ref(), query.limit)
    }

    /// From the book, with the tags the server has now.
    pub(super) async fn contact(&self, id: &ContactId) -> ApiResult<Contact> {
        let tags = match self.fetch_tags(id).await {
            Ok(tags) => Some(tags),
            Err(ApiError::NotFound(_)) => {
                return Err(ApiError::NotFound(format!(
                    "DM Champ has no contact {}",
                    crate::text::sanitize_line(id.as_str())
                )));
            }
            Err(e) if e.is_transient() && self.book().get(id.as_str()).is_some() => {
                tracing::debug!(error = %e, "contact tags not refreshed");
                None
            }
            Err(e) => return Err(e),
        };
        let contact = self
            .book()
            .upsert(id.as_str(), Utc::now(), |e| {
                if let Some(tags) = tags {
                    e.tags = tags;
                }
            })
            .contact();
        self.save_book();
        Ok(contact)
    }

    pub(super) async fn create(&self, fields: &ContactUpdate) -> ApiResult<Contact> {
        let raw_phone = fields.phone.clone().flatten().unwrap_or_default();
        if raw_phone.trim().is_empty() {
            return Err(refused(
                "DM Champ needs a phone number (with its country code) to create a contact",
            ));
        }
        refuse_unsupported(fields, true)?;
        let phone = parse_phone(&raw_phone, &[]).map_err(|why| refused(format!("phone: {why}")))?;
        let mut body = Map::new();
        body.insert("phoneNumber".into(), json!(phone.e164));
        name_and_email(fields, true, &mut body)?;
        let created = self
            .call(HttpRequest::post("contacts").json(Value::Object(body)))
            .await;
        let id = match created {
            Ok(response) => response.decode::<ContactIdAnswer>()?.contact_id()?,
            Err(ApiError::Rejected {
                code: Some(409), ..
            }) => return Err(self.already_exists(&phone.e164).await),
            Err(e) => return Err(e),
        };
        let now = Utc::now();
        self.book().upsert(id.as_str(), now, |e| {
            e.phone = Some(phone.e164.clone());
            e.phone_country_code = Some(phone.calling_code.clone());
            e.first_name = fields.first_name.clone();
            e.last_name = fields.last_name.clone().flatten();
            e.email = fields
                .email
                .clone()
                .flatten()
                .filter(|m| !m.trim().is_empty());
            e.updated_at = Some(now);
        });
        self.save_book();
        if let Some(tags) = &fields.tags {
            for tag in tags {
                self.tag(&id, &tag.name).await?;
            }
        }
        Ok(self.book_contact(&id))
    }

    /// The 409 answer: the existing contact goes into the book so the app
    /// finds it with `ContactQuery::phone`.
    async fn already_exists(&self, e164: &str) -> ApiError {
        let existing = match self.lookup(&Lookup::Phone(e164.to_string())).await {
            Ok(Some(id)) => {
                self.book().upsert(id.as_str(), Utc::now(), |e| {
                    e.phone = Some(e164.to_string());
                });
                self.save_book();
                format!(" ({id})")
            }
            _ => String::new(),
        };
        ApiError::Rejected {
            code: Some(409),
            message: format!(
                "a contact with the phone {e164} already exists in DM Champ{existing}; open it instead"
            ),
        }
    }

    fn book_contact(&self, id: &ContactId) -> Contact {
        self.book()
            .get(id.as_str())
            .map(BookEntry::contact)
            .unwrap_or_else(|| Contact::named(id.as_str(), ""))
    }

    /// `POST /tags` (which creates unknown tags); the contact is named by
    /// its phone without `+`, or its e-mail.
    async fn tag(&self, id: &ContactId, tag: &str) -> ApiResult<()> {
        let (phone, email) = {
            let book = self.book();
            let entry = book.get(id.as_str());
            (
                entry.and_then(|e| e.phone.clone()),
                entry.and_then(|e| e.email.clone()),
            )
        };
        let request = HttpRequest::post("tags").query("tag", tag.trim());
        let request = match (phone, email) {
            (Some(phone), _) => request.query("phoneNumber", phone.trim_start_matches('+')),
            (None, Some(email)) => request.query("email", email),
            (None, None) => {
                return Err(refused(
                    "DM Champ tags a contact by phone or e-mail, and termdesk knows neither for this one; look it up by phone first",
                ));
            }
        };
        self.call(request).await?;
        let now = Utc::now();
        self.book().upsert(id.as_str(), now, |e| {
            if !e.tags.iter().any(|t| t == tag.trim()) {
                e.tags.push(tag.trim().to_string());
            }
            e.updated_at = Some(now);
        });
        self.save_book();
        Ok(())
    }

    /// Names and e-mail by PUT, new tags by `POST /tags`. Anything DM Champ
    /// cannot do (other fields, removing a tag) refuses the whole update
    /// before any request, so nothing is half saved.
    pub(super) async fn update(
        &self,
        id: &ContactId,
        update: &ContactUpdate,
    ) -> ApiResult<Contact> {
        refuse_unsupported(update, false)?;
        let mut body = Map::new();
        name_and_email(update, false, &mut body)?;
        let new_tags = match &update.tags {
            None => Vec::new(),
            Some(wanted) => {
                let current = self.fetch_tags(id).await?;
                let removed: Vec<&str> = current
                    .iter()
                    .filter(|t| !wanted.iter().any(|w| w.name.trim() == t.as_str()))
                    .map(String::as_str)
                    .collect();
                if !removed.is_empty() {
                    return Err(refused(format!(
                        "DM Champ cannot remove tags ({}); nothing was saved",
                        removed.join(", ")
                    )));
                }
                wanted
                    .iter()
                    .map(|t| t.name.trim().to_string())
                    .filter(|t| !t.is_empty() && !current.contains(t))
                    .collect()
            }
        };
        if !body.is_empty() {
            self.call(
                HttpRequest::put(format!("contacts/{}", segment(id.as_str())))
                    .json(Value::Object(body)),
            )
            .await?;
            let now = Utc::now();
            self.book().upsert(id.as_str(), now, |e| {
                if let Some(first) = &update.first_name {
                    e.first_name = Some(first.trim().to_string());
                }
                if let Some(last) = &update.last_name {
                    e.last_name = text(last);
                }
                if let Some(Some(email)) = &update.email {
                    e.email = Some(email.trim().to_string());
                }
                e.updated_at = Some(now);
            });
            self.save_book();
        }
        for tag in &new_tags {
            self.tag(id, tag).await?;
        }
        Ok(self.book_contact(id))
    }

    pub(super) async fn set_flag(&self, id: &ContactId, field: &str, value: bool) -> ApiResult<()> {
        self.call(
            HttpRequest::put(format!("contacts/{}", segment(id.as_str())))
                .json(json!({ field: value })),
        )
        .await?;
        let now = Utc::now();
        self.book().upsert(id.as_str(), now, |e| {
            match field {
                "is_bot_active" => e.bot_active = Some(value),
                _ => e.do_not_disturb = Some(value),
            }
            e.updated_at = Some(now);
        });
        self.save_book();
        Ok(())
    }

    pub(super) async fn change_list(&self, id: &ContactId, list: &str, add: bool) -> ApiResult<()> {
        let list = list.trim();
        if list.is_empty() {
            return Err(refused(
                "name a DM Champ list id (from DM Champ's dashboard)",
            ));
        }
        let body = json!({ "contactId": id.as_str(), "listId": list });
        let request = if add {
            HttpRequest::post("contacts/lists")
        } else {
            HttpRequest::delete("contacts/lists")
        };
        self.call(request.json(body)).await?;
        let now = Utc::now();
        self.book().upsert(id.as_str(), now, |e| {
            if add {
                e.lists.insert(list.to_string());
            } else {
                e.lists.remove(list);
            }
            e.updated_at = Some(now);
        });
        self.save_book();
        Ok(())
    }

    pub(super) async fn all_tags(&self) -> ApiResult<Vec<Tag>> {
        let response = self.call(HttpRequest::get("tags")).await?;
        let (tags, _) = records::<WireTag>(response.json()?, "tag")?;
        Ok(tags.into_iter().filter_map(map_tag).collect())
    }
}
