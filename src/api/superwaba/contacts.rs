//! Contacts over the Session API: list and search, get, create (then the
//! opt-in, which create does not take), PATCH with the published fields,
//! and bulk import with per-row outcomes.

use serde_json::{Value, json};

use super::SuperWabaClient;
use super::mapping::{create_body, map_contact, patch_body};
use super::wire::{self, WireBulk, WireContact};
use crate::api::http::{HttpRequest, segment};
use crate::api::{ApiError, ApiResult, BulkRowOutcome};
use crate::domain::{Contact, ContactId, ContactQuery, ContactUpdate, Page};
use crate::text::sanitize_line;

const DEFAULT_LIMIT: u32 = 20;
const MAX_LIMIT: u32 = 100;
/// Rows per bulk request (the maximum is not documented).
const BULK_BATCH: usize = 100;

pub(super) async fn list(
    client: &SuperWabaClient,
    query: &ContactQuery,
) -> ApiResult<Page<Contact>> {
    let limit = match query.limit {
        0 => DEFAULT_LIMIT,
        n => n.min(MAX_LIMIT),
    };
    let page = super::page_number(query.cursor.as_ref())?;
    let search = query
        .phone
        .clone()
        .or_else(|| query.search.clone())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    // Oldest first keeps pages stable while contacts are added; there is
    // no `updatedAfter`, so changes are picked out here.
    let order = if query.updated_since.is_some() {
        "asc"
    } else {
        "desc"
    };
    let data = client
        .session_json(|| {
            let mut r = HttpRequest::get("whatsapp/contacts")
                .query("page", page.to_string())
                .query("limit", limit.to_string())
                .query("sortBy", "created_at")
                .query("sortOrder", order);
            if let Some(s) = &search {
                r = r.query("search", s.clone());
            }
            r
        })
        .await?;
    let (rows, mut skipped) = wire::rows::<WireContact>(&data, "contacts", "contact")?;
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        match map_contact(row) {
            Ok(c) => items.push(c),
            Err(e) => {
                tracing::warn!("superwaba: skipped a contact: {e}");
                skipped += 1;
            }
        }
    }
    if let Some(phone) = &query.phone {
        items.retain(|c| c.phone.as_deref() == Some(phone.trim()));
    }
    if let Some(since) = query.updated_since {
        items.retain(|c| c.updated_at.is_none_or(|u| u >= since));
    }
    Ok(Page {
        items,
        next: super::next_cursor(page, wire::has_next(&data)),
        total: wire::total(&data),
        skipped,
    })
}

pub(super) async fn get(client: &SuperWabaClient, id: &ContactId) -> ApiResult<Contact> {
    let path = format!("whatsapp/contacts/{}", segment(id.as_str()));
    let data = client
        .session_json(|| HttpRequest::get(path.clone()))
        .await?;
    map_contact(wire::decode(&data, "contact")?)
}

async fn patch(client: &SuperWabaClient, id: &str, body: Value) -> ApiResult<Contact> {
    let path = format!("whatsapp/contacts/{}", segment(id));
    let data = client
        .session_json(|| HttpRequest::patch(path.clone()).json(body.clone()))
        .await?;
    map_contact(wire::decode(&data, "updated contact")?)
}

pub(super) async fn create(client: &SuperWabaClient, fields: &ContactUpdate) -> ApiResult<Contact> {
    let (body, opted_in) = create_body(fields)?;
    let data = client
        .session_json(|| HttpRequest::post("whatsapp/contacts").json(body.clone()))
        .await?;
    let mut made = map_contact(wire::decode(&data, "created contact")?)?;
    // New contacts start opted out; the opt-in follows in a PATCH.
    if opted_in == Some(true) && made.phone_usage_permission != Some(true) {
        let after = patch(client, made.id.as_str(), json!({ "opted_in": true })).await?;
        made.phone_usage_permission = after.phone_usage_permission;
        made.updated_at = after.updated_at.or(made.updated_at);
    }
    Ok(made)
}

pub(super) async fn update(
    client: &SuperWabaClient,
    id: &ContactId,
    update: &ContactUpdate,
) -> ApiResult<Contact> {
    if update.is_empty() {
        return get(client, id).await;
    }
    // The name is one field: changing only its last part needs the rest.
    let current = if update.last_name.is_some() && update.first_name.is_none() {
        Some(get(client, id).await?.first_name)
    } else {
        None
    };
    let body = patch_body(update, current.as_deref())?;
    let mut after = patch(client, id.as_str(), body).await?;
    // The PATCH answer is partial: keep what the update said about the rest.
    if after.tags.is_empty()
        && let Some(tags) = &update.tags
    {
        after.tags = tags.clone();
    }
    Ok(after)
}

/// The contact a created bulk row stands for, from what was sent.
fn from_row(id: &str, row: &ContactUpdate) -> Contact {
    let mut contact = Contact::named(id, "");
    row.apply(&mut contact);
    contact.first_name = super::mapping::display_name(
        row.first_name.as_deref().unwrap_or_default(),
        row.last_name.clone().flatten().as_deref(),
    );
    contact.last_name = None;
    contact
}

fn already_exists(error: &str) -> bool {
    let e = error.to_lowercase();
    e.contains("exist") || e.contains("duplicate")
}

/// Finds the contact with exactly this phone.
async fn by_phone(client: &SuperWabaClient, phone: &str) -> ApiResult<Option<Contact>> {
    let query = ContactQuery {
        limit: 10,
        phone: Some(phone.to_string()),
        ..ContactQuery::default()
    };
    Ok(list(client, &query).await?.items.into_iter().next())
}

pub(super) async fn import(
    client: &SuperWabaClient,
    rows: &[ContactUpdate],
) -> ApiResult<Vec<BulkRowOutcome>> {
    let mut outcomes: Vec<Option<BulkRowOutcome>> = vec![None; rows.len()];
    // Rows refused before sending keep their place.
    let mut sendable = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        match create_body(row) {
            Ok((body, _)) => sendable.push((i, body)),
            Err(e) => outcomes[i] = Some(BulkRowOutcome::Failed(refusal_text(&e))),
        }
    }
    let mut first_batch = true;
    for batch in sendable.chunks(BULK_BATCH) {
        let body = json!({ "contacts": batch.iter().map(|(_, b)| b.clone()).collect::<Vec<_>>() });
        let data = match client
            .session_json(|| HttpRequest::post("whatsapp/contacts/bulk").json(body.clone()))
            .await
        {
            Ok(data) => data,
            // Nothing stored yet: the whole import failed.
            Err(e) if first_batch => return Err(e),
            Err(e) => {
                for (i, _) in batch {
                    outcomes[*i] = Some(BulkRowOutcome::Failed(refusal_text(&e)));
                }
                continue;
            }
        };
        first_batch = false;
        let answer: WireBulk = wire::decode(&data, "bulk import answer")?;
        let mut duplicates = Vec::new();
        for error in &answer.errors {
            let Some(&(i, _)) = error
                .index
                .and_then(|n| usize::try_from(n).ok())
                .and_then(|n| batch.get(n))
            else {
                continue;
            };
            let text = error
                .error
                .as_deref()
                .map(sanitize_line)
                .unwrap_or_else(|| "refused".into());
            if already_exists(&text) {
                duplicates.push(i);
            }
            outcomes[i] = Some(BulkRowOutcome::Failed(text));
        }
        for made in &answer.contacts {
            let (Some(id), Some(phone)) = (made.id.as_deref(), made.phone.as_deref()) else {
                continue;
            };
            let row = batch.iter().find(|(i, body)| {
                outcomes[*i].is_none()
                    && body.get("userNumber").and_then(Value::as_str) == Some(phone)
            });
            if let Some(&(i, _)) = row {
                outcomes[i] = Some(BulkRowOutcome::Created(from_row(id, &rows[i])));
            }
        }
        // A phone SuperWaba already has is updated instead (import = upsert).
        for i in duplicates {
            let row = &rows[i];
            let phone = row.phone.clone().flatten().unwrap_or_default();
            let mut fields = row.clone();
            fields.phone = None;
            fields.phone_country_code = None;
            let updated = match by_phone(client, phone.trim()).await {
                Ok(Some(existing)) if fields.is_empty() => Ok(existing),
                Ok(Some(existing)) => update(client, &existing.id, &fields).await,
                Ok(None) => continue,
                Err(e) => Err(e),
            };
            outcomes[i] = Some(match updated {
                Ok(contact) => BulkRowOutcome::Updated(contact),
                Err(e) => BulkRowOutcome::Failed(refusal_text(&e)),
            });
        }
    }
    Ok(outcomes
        .into_iter()
        .map(|o| {
            o.unwrap_or_else(|| BulkRowOutcome::Failed("SuperWaba did not report this row".into()))
        })
        .collect())
}

fn refusal_text(e: &ApiError) -> String {
    match e {
        ApiError::Rejected { message, .. } => message.clone(),
        other => other.to_string(),
    }
}
