//! The DM Champ REST endpoints under `/v1`, with the reference's
//! per-endpoint success shapes and `{success: false, message}` /
//! `{error}` error bodies.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde_json::{Map, Value, json};

use super::DmShared;
use super::world::{Contact, TemplateSend};
use crate::sandbox::lock;

type Params = Query<HashMap<String, String>>;

pub(crate) fn json(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

/// A refusal in DM Champ's `{success: false, message}` shape.
pub(crate) struct Fail(StatusCode, String);

impl IntoResponse for Fail {
    fn into_response(self) -> Response {
        json(self.0, json!({ "success": false, "message": self.1 }))
    }
}

pub(crate) fn fail(status: StatusCode, message: &str) -> Fail {
    Fail(status, message.to_string())
}

type Answer = Result<Response, Fail>;

fn ok(body: Value) -> Answer {
    Ok(json(StatusCode::OK, body))
}

/// The API routes, behind the key check and the injected server errors.
pub(crate) fn routes(shared: Arc<DmShared>) -> Router {
    Router::new()
        .route("/v1/contacts", get(find_contact).post(create_contact))
        .route("/v1/contacts/{id}", put(update_contact))
        .route(
            "/v1/contacts/lists",
            post(add_to_list).delete(remove_from_list),
        )
        .route("/v1/contacts/tags", get(missing_contact_id))
        .route("/v1/contacts/tags/", get(missing_contact_id))
        .route("/v1/contacts/tags/{id}", get(contact_tags))
        .route("/v1/contacts/messages/{id}", get(contact_messages))
        .route("/v1/tags", get(account_tags).post(tag_contact))
        .route("/v1/whatsapp-templates", get(list_templates))
        .route("/v1/whatsapp-templates/send", post(send_template))
        .route("/v1/send-custom-channel-message", post(send_custom))
        .route_layer(middleware::from_fn_with_state(shared.clone(), guard))
        .with_state(shared)
}

/// `apiKey` on every request; then the 500s the control asked for.
async fn guard(State(shared): State<Arc<DmShared>>, request: Request, next: Next) -> Response {
    let key = Query::<HashMap<String, String>>::try_from_uri(request.uri())
        .ok()
        .and_then(|Query(mut q)| q.remove("apiKey"));
    let rejected = shared.rest.kit().rejecting_credentials();
    if rejected {
        shared.rest.kit().count("reject_credentials");
    }
    if rejected || key.as_deref() != Some(shared.options.api_key.as_str()) {
        // The other documented error shape, so clients read both.
        return json(
            StatusCode::UNAUTHORIZED,
            json!({ "error": "Unauthorized: invalid or missing API key" }),
        );
    }
    let failing = shared
        .server_errors_next
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    if failing {
        return json(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({ "error": "Internal server error" }),
        );
    }
    next.run(request).await
}

/// A JSON object body, or the 400 answer.
fn object(body: &Bytes) -> Result<Map<String, Value>, Fail> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(fail(
            StatusCode::BAD_REQUEST,
            "Invalid request: the body must be a JSON object",
        )),
    }
}

fn string_field(body: &Map<String, Value>, key: &str) -> Result<Option<String>, Fail> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(fail(
            StatusCode::BAD_REQUEST,
            &format!("Invalid request: {key} must be a string"),
        )),
    }
}

fn bool_field(body: &Map<String, Value>, key: &str) -> Result<Option<bool>, Fail> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(fail(
            StatusCode::BAD_REQUEST,
            &format!("Invalid request: {key} must be a boolean"),
        )),
    }
}

fn required(body: &Map<String, Value>, key: &str) -> Result<String, Fail> {
    match string_field(body, key)? {
        Some(s) if !s.trim().is_empty() => Ok(s),
        _ => Err(fail(
            StatusCode::BAD_REQUEST,
            &format!("Invalid request: {key} is required"),
        )),
    }
}

fn valid_email(email: &str) -> bool {
    crate::contact_fields::check_email(email).is_ok()
}

/// `+` and the country code, then digits: what DM Champ stores.
fn valid_e164(phone: &str) -> bool {
    phone.strip_prefix('+').is_some_and(|digits| {
        (6..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
    })
}

fn not_found_contact() -> Fail {
    fail(StatusCode::NOT_FOUND, "Contact not found")
}

async fn find_contact(State(shared): State<Arc<DmShared>>, Query(q): Params) -> Answer {
    let world = lock(&shared.world);
    let found = match (q.get("phoneNumber"), q.get("email")) {
        // A raw `+` decoded as a space never matches, as on the real server.
        (Some(phone), _) if !phone.is_empty() => world.by_phone(phone),
        (_, Some(email)) if !email.is_empty() => world.by_email(email),
        _ => {
            return Err(fail(
                StatusCode::BAD_REQUEST,
                "Invalid request: phoneNumber or email is required",
            ));
        }
    };
    match found {
        Some(c) => ok(json!({ "success": true, "contactId": c.id })),
        None => Err(not_found_contact()),
    }
}

fn list_ids(body: &Map<String, Value>) -> Result<Vec<String>, Fail> {
    let bad = || {
        fail(
            StatusCode::BAD_REQUEST,
            "Invalid request: listIds must be an array of strings",
        )
    };
    match body.get("listIds") {
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_string).ok_or_else(bad))
            .collect(),
        Some(Value::Null) | None => Ok(string_field(body, "listId")?.into_iter().collect()),
        Some(_) => Err(bad()),
    }
}

async fn create_contact(State(shared): State<Arc<DmShared>>, body: Bytes) -> Answer {
    let body = object(&body)?;
    match create(&shared, &body) {
        Ok(id) => ok(json!({ "success": true, "data": {
                "message": "Successfully created new contact", "contactId": id } })),
        Err(r) => Err(r),
    }
}

fn create(shared: &DmShared, body: &Map<String, Value>) -> Result<String, Fail> {
    let phone = required(body, "phoneNumber")?;
    if !valid_e164(&phone) {
        return Err(fail(
            StatusCode::BAD_REQUEST,
            "Invalid request: phoneNumber must start with + and a valid country code",
        ));
    }
    let first = string_field(body, "firstName")?.unwrap_or_else(|| "Unknown".into());
    let last = string_field(body, "lastName")?.unwrap_or_else(|| "Unknown".into());
    let email = string_field(body, "email")?.unwrap_or_else(|| "unknown@unknown.com".into());
    if !valid_email(&email) {
        return Err(fail(
            StatusCode::BAD_REQUEST,
            "Invalid request: email is not a valid e-mail address",
        ));
    }
    let bot = bool_field(body, "is_bot_active")?.unwrap_or(true);
    let dnd = bool_field(body, "do_not_disturb")?.unwrap_or(false);
    let channel = string_field(body, "channel")?;
    let custom_channel = string_field(body, "customChannel")?;
    let external_id = string_field(body, "externalId")?;
    let lists = list_ids(body)?;
    let mut world = lock(&shared.world);
    if world.by_phone(&phone).is_some() {
        return Err(fail(StatusCode::CONFLICT, "Contact already exists"));
    }
    // Every list is checked before anything is stored: creation is atomic.
    for id in &lists {
        match world.lists.get(id) {
            None => {
                return Err(fail(
                    StatusCode::NOT_FOUND,
                    &format!("List not found: {id}"),
                ));
            }
            Some(l) if !l.permitted => {
                return Err(fail(
                    StatusCode::FORBIDDEN,
                    &format!("Permission denied for list {id}"),
                ));
            }
            Some(_) => {}
        }
    }
    let id = world.fresh_id("c_");
    let channel = channel.unwrap_or_else(|| {
        if custom_channel.is_some() {
            "custom".into()
        } else {
            "whatsapp".into()
        }
    });
    world.insert(Contact {
        id: id.clone(),
        phone: Some(phone),
        first_name: first,
        last_name: last,
        email,
        channel,
        custom_channel,
        external_id,
        is_bot_active: bot,
        do_not_disturb: dnd,
        lists: lists.into_iter().collect(),
        tags: Vec::new(),
        messages: Vec::new(),
    });
    Ok(id)
}

async fn update_contact(
    State(shared): State<Arc<DmShared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Answer {
    let body = object(&body)?;
    let parsed = (|| {
        Ok::<_, Fail>((
            string_field(&body, "firstName")?,
            string_field(&body, "lastName")?,
            string_field(&body, "email")?,
            bool_field(&body, "is_bot_active")?,
            bool_field(&body, "do_not_disturb")?,
        ))
    })();
    let (first, last, email, bot, dnd) = match parsed {
        Ok(fields) => fields,
        Err(r) => return Err(r),
    };
    if let Some(email) = &email
        && !valid_email(email)
    {
        return Err(fail(
            StatusCode::BAD_REQUEST,
            "Invalid request: email is not a valid e-mail address",
        ));
    }
    let mut world = lock(&shared.world);
    let Some(c) = world.contact_mut(&id) else {
        return Err(not_found_contact());
    };
    if let Some(v) = first {
        c.first_name = v;
    }
    if let Some(v) = last {
        c.last_name = v;
    }
    if let Some(v) = email {
        c.email = v;
    }
    if let Some(v) = bot {
        c.is_bot_active = v;
    }
    if let Some(v) = dnd {
        c.do_not_disturb = v;
    }
    ok(json!({ "success": true, "message": "Contact updated successfully" }))
}

fn list_request(shared: &DmShared, body: &Bytes, add: bool) -> Answer {
    let body = object(body)?;
    let (contact_id, list_id) = match (required(&body, "contactId"), required(&body, "listId")) {
        (Ok(c), Ok(l)) => (c, l),
        (Err(r), _) | (_, Err(r)) => return Err(r),
    };
    let mut world = lock(&shared.world);
    let Some(list) = world.lists.get(&list_id).cloned() else {
        return Err(fail(
            StatusCode::NOT_FOUND,
            &format!("List not found: {list_id}"),
        ));
    };
    if !list.permitted {
        return Err(fail(
            StatusCode::FORBIDDEN,
            &format!("Permission denied for list {list_id}"),
        ));
    }
    let Some(c) = world.contact_mut(&contact_id) else {
        return Err(not_found_contact());
    };
    let message = if add {
        c.lists.insert(list_id);
        format!("Contact successfully added to list {}", list.name)
    } else {
        c.lists.remove(&list_id);
        "Contact removed from list successfully".to_string()
    };
    ok(json!({ "success": true, "message": message }))
}

async fn add_to_list(State(shared): State<Arc<DmShared>>, body: Bytes) -> Answer {
    list_request(&shared, &body, true)
}

async fn remove_from_list(State(shared): State<Arc<DmShared>>, body: Bytes) -> Answer {
    list_request(&shared, &body, false)
}

async fn missing_contact_id() -> Answer {
    Err(fail(
        StatusCode::BAD_REQUEST,
        "Invalid request: contact id is required",
    ))
}

fn tag_array<'a>(world: &super::world::World, names: impl Iterator<Item = &'a String>) -> Value {
    Value::Array(
        names
            .map(|name| {
                let description = world.tags.get(name).cloned().unwrap_or_default();
                json!({ "name": name, "description": description })
            })
            .collect(),
    )
}

async fn contact_tags(State(shared): State<Arc<DmShared>>, Path(id): Path<String>) -> Answer {
    let world = lock(&shared.world);
    match world.contact(&id) {
        Some(c) => ok(tag_array(&world, c.tags.iter())),
        None => Err(not_found_contact()),
    }
}

async fn account_tags(State(shared): State<Arc<DmShared>>) -> Answer {
    let world = lock(&shared.world);
    ok(tag_array(&world, world.tags.keys()))
}

async fn tag_contact(State(shared): State<Arc<DmShared>>, Query(q): Params) -> Answer {
    let Some(tag) = q.get("tag").map(|t| t.trim()).filter(|t| !t.is_empty()) else {
        return Err(fail(
            StatusCode::BAD_REQUEST,
            "Invalid request: tag is required",
        ));
    };
    let mut world = lock(&shared.world);
    let id = match (q.get("phoneNumber"), q.get("email")) {
        (Some(phone), _) if !phone.is_empty() => {
            // This endpoint wants the number without its `+`.
            if !phone.bytes().all(|b| b.is_ascii_digit()) {
                return Err(fail(
                    StatusCode::BAD_REQUEST,
                    "Invalid request: phoneNumber must be digits with the country code, without +",
                ));
            }
            world.by_phone(&format!("+{phone}")).map(|c| c.id.clone())
        }
        (_, Some(email)) if !email.is_empty() => world.by_email(email).map(|c| c.id.clone()),
        _ => {
            return Err(fail(
                StatusCode::BAD_REQUEST,
                "Invalid request: phoneNumber or email is required",
            ));
        }
    };
    let Some(id) = id else {
        return Err(not_found_contact());
    };
    world.tags.entry(tag.to_string()).or_default();
    if let Some(c) = world.contact_mut(&id)
        && !c.tags.iter().any(|t| t == tag)
    {
        c.tags.push(tag.to_string());
    }
    ok(json!({ "success": true, "message": "Tag added to contact" }))
}

async fn contact_messages(State(shared): State<Arc<DmShared>>, Path(id): Path<String>) -> Answer {
    let world = lock(&shared.world);
    let Some(c) = world.contact(&id) else {
        return Err(not_found_contact());
    };
    let items = Value::Array(c.messages.iter().map(|m| m.wire()).collect());
    if shared.bare_message_list.load(Ordering::Relaxed) {
        ok(items)
    } else {
        ok(json!({ "success": true, "data": items }))
    }
}

async fn list_templates(State(shared): State<Arc<DmShared>>) -> Answer {
    let world = lock(&shared.world);
    let data: Vec<Value> = world.templates.iter().map(|t| t.wire()).collect();
    ok(json!({ "success": true, "data": data }))
}

async fn send_template(State(shared): State<Arc<DmShared>>, body: Bytes) -> Answer {
    let body = object(&body)?;
    let (contact_id, template_id) = match (
        required(&body, "contactId"),
        required(&body, "whatsappTemplateId"),
    ) {
        (Ok(c), Ok(t)) => (c, t),
        (Err(r), _) | (_, Err(r)) => return Err(r),
    };
    let mut world = lock(&shared.world);
    if !world.twilio_configured {
        return Err(fail(StatusCode::FORBIDDEN, "Twilio credentials not found"));
    }
    if world.contact(&contact_id).is_none() {
        return Err(fail(
            StatusCode::BAD_REQUEST,
            &format!("Invalid request: contact {contact_id} not found"),
        ));
    }
    let Some(template) = world
        .templates
        .iter()
        .find(|t| t.id == template_id)
        .cloned()
    else {
        return Err(fail(
            StatusCode::BAD_REQUEST,
            &format!("Invalid request: WhatsApp template {template_id} not found"),
        ));
    };
    if template.status != "approved" {
        return Err(fail(
            StatusCode::BAD_REQUEST,
            &format!(
                "Invalid request: template {} is {}, not approved",
                template.name, template.status
            ),
        ));
    }
    world.push_message(
        &contact_id,
        false,
        &template.name,
        "template",
        chrono::Utc::now(),
    );
    world.sends.push(TemplateSend {
        contact_id,
        template_id,
    });
    ok(json!({ "success": true, "data": "WhatsApp template message sent successfully" }))
}

async fn send_custom(State(shared): State<Arc<DmShared>>, body: Bytes) -> Answer {
    let body = object(&body)?;
    let fields = (|| {
        Ok::<_, Fail>((
            required(&body, "customChannel")?,
            required(&body, "externalId")?,
            required(&body, "message")?,
            string_field(&body, "messageType")?.unwrap_or_else(|| "text".into()),
            string_field(&body, "firstName")?,
            string_field(&body, "lastName")?,
        ))
    })();
    let (channel, external_id, message, message_type, first, last) = match fields {
        Ok(f) => f,
        Err(r) => return Err(r),
    };
    let mut world = lock(&shared.world);
    let id = match world.by_custom(&channel, &external_id) {
        Some(c) => c.id.clone(),
        None => {
            // Unknown custom-channel contacts are created first.
            let id = world.fresh_id("c_");
            world.insert(Contact {
                id: id.clone(),
                phone: None,
                first_name: first.unwrap_or_else(|| "Unknown".into()),
                last_name: last.unwrap_or_else(|| "Unknown".into()),
                email: "unknown@unknown.com".into(),
                channel: "custom".into(),
                custom_channel: Some(channel),
                external_id: Some(external_id),
                is_bot_active: true,
                do_not_disturb: false,
                lists: Default::default(),
                tags: Vec::new(),
                messages: Vec::new(),
            })
        }
    };
    let message_id = world.push_message(&id, false, &message, &message_type, chrono::Utc::now());
    ok(json!({ "success": true, "messageId": message_id }))
}
