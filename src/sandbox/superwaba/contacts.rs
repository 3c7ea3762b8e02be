//! Session API contacts (superwaba.md §5): list, get (id or
//! vendorContactId), create, PATCH with the published snake_case fields,
//! and bulk import with per-row failures.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::world::World;
use super::{Shared, auth, wire};
use crate::sandbox::lock;

const NOT_FOUND: &str = "Contact not found";
const PHONE_REQUIRED: &str = "Phone number (userNumber) is required";

/// Page and page size from the query: `page` ≥ 1, `limit` 1–100.
pub(crate) fn paging(
    query: &HashMap<String, String>,
    default_limit: usize,
) -> Result<(usize, usize), Box<Response>> {
    let number = |key: &str, default: usize| match query.get(key) {
        None => Ok(default),
        Some(v) => v.trim().parse::<usize>().map_err(|_| {
            Box::new(wire::error(
                StatusCode::BAD_REQUEST,
                &format!("{key} must be a positive number"),
            ))
        }),
    };
    let page = number("page", 1)?;
    let limit = number("limit", default_limit)?;
    if page == 0 {
        return Err(Box::new(wire::error(
            StatusCode::BAD_REQUEST,
            "page must be at least 1",
        )));
    }
    if !(1..=100).contains(&limit) {
        return Err(Box::new(wire::error(
            StatusCode::BAD_REQUEST,
            "limit must be between 1 and 100",
        )));
    }
    Ok((page, limit))
}

/// `+` and 7–15 digits.
pub(crate) fn is_e164(phone: &str) -> bool {
    phone
        .strip_prefix('+')
        .is_some_and(|d| (7..=15).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()))
}

fn body_json(body: &Bytes) -> Result<Value, Box<Response>> {
    serde_json::from_slice::<Value>(body)
        .ok()
        .filter(Value::is_object)
        .ok_or_else(|| {
            Box::new(wire::contact_error(
                StatusCode::BAD_REQUEST,
                "Request body must be a JSON object",
            ))
        })
}

fn strings(v: &Value) -> Option<Vec<String>> {
    v.as_array()?
        .iter()
        .map(|s| s.as_str().map(str::to_string))
        .collect()
}

pub(crate) async fn list(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Err(refusal) = auth::session(&shared, &headers) {
        return *refusal;
    }
    let (page, limit) = match paging(&query, 20) {
        Ok(p) => p,
        Err(refusal) => return *refusal,
    };
    let sort_by = query.get("sortBy").map_or("created_at", String::as_str);
    let descending = match query.get("sortOrder").map_or("desc", String::as_str) {
        "desc" => true,
        "asc" => false,
        other => {
            return wire::error(
                StatusCode::BAD_REQUEST,
                &format!("sortOrder must be asc or desc, not {other}"),
            );
        }
    };
    let world = lock(&shared.world);
    let needle = query
        .get("search")
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty());
    let mut rows: Vec<_> = world
        .contacts
        .iter()
        .filter(|c| {
            needle.as_ref().is_none_or(|n| {
                c.name.to_lowercase().contains(n)
                    || c.phone.contains(n.as_str())
                    || c.email
                        .as_ref()
                        .is_some_and(|e| e.to_lowercase().contains(n))
            })
        })
        .collect();
    match sort_by {
        "created_at" => rows.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id))),
        "name" => rows.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id))),
        "last_message_at" => {
            rows.sort_by_cached_key(|c| (world.last_message_at(&c.id), c.id.clone()))
        }
        other => {
            return wire::error(
                StatusCode::BAD_REQUEST,
                &format!("sortBy must be created_at, name or last_message_at, not {other}"),
            );
        }
    }
    if descending {
        rows.reverse();
    }
    let total = rows.len();
    let start = (page - 1).saturating_mul(limit);
    let contacts: Vec<Value> = rows
        .iter()
        .skip(start)
        .take(limit)
        .map(|c| wire::contact(&world, c, false))
        .collect();
    wire::ok(json!({
        "contacts": contacts,
        "total": total,
        "page": page,
        "limit": limit,
        "hasNext": start + limit < total,
    }))
}

pub(crate) async fn get(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(refusal) = auth::session(&shared, &headers) {
        return *refusal;
    }
    let world = lock(&shared.world);
    match world.contact_index(&id) {
        Some(i) => wire::ok(wire::contact(&world, &world.contacts[i], true)),
        None => wire::contact_error(StatusCode::NOT_FOUND, NOT_FOUND),
    }
}

/// Stores one create request's fields; `Err` is the refusal's status and text.
fn create_one(world: &mut World, row: &Value) -> Result<usize, (StatusCode, String)> {
    let phone = row
        .get("userNumber")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .ok_or((StatusCode::BAD_REQUEST, PHONE_REQUIRED.to_string()))?;
    if !is_e164(phone) {
        return Err((
            StatusCode::BAD_REQUEST,
            "Phone number must be in E.164 format, e.g. +971502468013".into(),
        ));
    }
    if world.contact_by_phone(phone).is_some() {
        return Err((StatusCode::CONFLICT, "Contact already exists".into()));
    }
    let name = row
        .get("userName")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let i = world.new_contact(phone, name, "api");
    let c = &mut world.contacts[i];
    c.email = row.get("email").and_then(Value::as_str).map(str::to_string);
    c.country_code = row
        .get("countryCode")
        .and_then(Value::as_str)
        .map(str::to_string);
    if let Some(tags) = row.get("tags").and_then(strings) {
        c.tags = tags;
    }
    if let Some(params) = row.get("params").and_then(Value::as_object) {
        c.params = params.clone();
    }
    Ok(i)
}

pub(crate) async fn create(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(refusal) = auth::session(&shared, &headers) {
        return *refusal;
    }
    let row = match body_json(&body) {
        Ok(v) => v,
        Err(refusal) => return *refusal,
    };
    let mut world = lock(&shared.world);
    match create_one(&mut world, &row) {
        Ok(i) => wire::created(wire::contact(&world, &world.contacts[i], true)),
        Err((status, _)) if status == StatusCode::CONFLICT => {
            wire::contact_error(status, "Contact with this phone number already exists")
        }
        Err((status, message)) => wire::contact_error(status, &message),
    }
}

/// Applies the recognised PATCH fields; false when there was none.
fn patch_fields(c: &mut super::world::Contact, body: &Map<String, Value>) -> Result<bool, String> {
    let mut any = false;
    for (key, value) in body {
        let wrong = || format!("{key} has the wrong type");
        match key.as_str() {
            "name" => c.name = value.as_str().ok_or_else(wrong)?.to_string(),
            "email" => c.email = value.as_str().map(str::to_string),
            "country_code" => c.country_code = value.as_str().map(str::to_string),
            "tags" => c.tags = strings(value).ok_or_else(wrong)?,
            "params" => c.params = value.as_object().ok_or_else(wrong)?.clone(),
            "is_blocked" => c.is_blocked = value.as_bool().ok_or_else(wrong)?,
            "source" => c.source = value.as_str().ok_or_else(wrong)?.to_string(),
            "opted_in" => c.opted_in = value.as_bool().ok_or_else(wrong)?,
            // Anything else (the phone included) is silently ignored.
            _ => continue,
        }
        any = true;
    }
    Ok(any)
}

pub(crate) async fn update(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(refusal) = auth::session(&shared, &headers) {
        return *refusal;
    }
    let body = match body_json(&body) {
        Ok(Value::Object(map)) => map,
        Ok(_) => Map::new(),
        Err(refusal) => return *refusal,
    };
    let mut world = lock(&shared.world);
    let Some(i) = world.contact_index(&id) else {
        return wire::contact_error(StatusCode::NOT_FOUND, NOT_FOUND);
    };
    let mut changed = world.contacts[i].clone();
    match patch_fields(&mut changed, &body) {
        Ok(true) => {}
        Ok(false) => {
            return wire::contact_error(StatusCode::BAD_REQUEST, "No valid fields to update");
        }
        Err(message) => return wire::contact_error(StatusCode::BAD_REQUEST, &message),
    }
    world.contacts[i] = changed;
    world.touch_contact(i);
    wire::ok(wire::contact_patched(&world.contacts[i]))
}

pub(crate) async fn bulk(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(refusal) = auth::session(&shared, &headers) {
        return *refusal;
    }
    let rows = match body_json(&body) {
        Ok(v) => match v.get("contacts").and_then(Value::as_array) {
            Some(rows) if !rows.is_empty() => rows.clone(),
            _ => {
                return wire::contact_error(
                    StatusCode::BAD_REQUEST,
                    "contacts must be a non-empty array",
                );
            }
        },
        Err(refusal) => return *refusal,
    };
    let mut world = lock(&shared.world);
    let mut errors = Vec::new();
    let mut created = Vec::new();
    for (index, row) in rows.iter().enumerate() {
        match create_one(&mut world, row) {
            Ok(i) => {
                let c = &world.contacts[i];
                created.push(json!({ "id": c.id, "phone": c.phone, "status": "created" }));
            }
            Err((_, message)) => errors.push(json!({
                "index": index,
                "phone": row.get("userNumber"),
                "error": message,
            })),
        }
    }
    wire::ok(json!({
        "imported": created.len(),
        "skipped": errors.len(),
        "errors": errors,
        "contacts": created,
    }))
}
