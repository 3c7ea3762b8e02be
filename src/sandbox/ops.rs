//! Root operations: auth and scope checks, input decoding, filtering,
//! pagination and the `{success, code, message, data}` envelope.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeZone, Utc};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::schema::RootResolver;
use super::world::{
    Contact, Conversation, MediaItem, Message, Quoted, Sender, World, fmt_date, html_escape, new_id,
};
use super::{Shared, auth, lock};

/// The bearer token of the current HTTP request (absent when the header is).
#[derive(Debug, Clone, Default)]
pub(crate) struct RequestAuth {
    pub bearer: Option<String>,
}

/// What the resolvers decided the HTTP layer must do to this request's
/// answer; shared because resolvers only see the request through `Context`.
#[derive(Debug, Default)]
pub(crate) struct RequestEffects {
    /// A write was stored; answer HTTP 500 instead of the result.
    pub lose_answer: AtomicBool,
    /// `_id`s of list documents to serve malformed.
    pub malformed: Mutex<HashSet<String>>,
}

pub(crate) struct Root(pub Arc<Shared>);

impl RootResolver for Root {
    fn resolve(
        &self,
        ctx: &async_graphql::Context<'_>,
        field: &str,
        args: Value,
    ) -> async_graphql::Result<Value> {
        let shared = &self.0;
        *lock(&shared.operations)
            .entry(field.to_string())
            .or_default() += 1;
        let now = super::world::now_ms();
        let input = args.get("input").cloned().unwrap_or(Value::Null);
        if field == "generateOAuthToken" {
            return generate_token(shared, &input, now);
        }
        let bearer = ctx
            .data_opt::<RequestAuth>()
            .and_then(|a| a.bearer.as_deref());
        lock(&shared.auth)
            .check(bearer, field, now)
            .map_err(auth::AuthError::into_graphql)?;
        let policy = Policy {
            dedup: shared.dedup.load(Ordering::Relaxed),
        };
        let mut world = lock(&shared.world);
        let out = dispatch(&mut world, field, input, now, policy);
        let effects = ctx.data_opt::<Arc<RequestEffects>>();
        let stored = out["success"] == true;
        let is_write = auth::required_scope(field).is_some_and(|s| s.starts_with("write_"));
        if stored
            && is_write
            && let Some(e) = effects
            && lock(&shared.lose).roll()
        {
            e.lose_answer.store(true, Ordering::Relaxed);
        }
        if field == "getConversationList"
            && let Some(e) = effects
        {
            let every = lock(&shared.faults).malformed_conversation_every;
            if let Some(every) = every.filter(|n| *n > 0) {
                let broken = out["data"]["docs"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|d| d["_id"].as_str())
                    .filter(|id| {
                        world
                            .conv_idx
                            .get(*id)
                            .is_some_and(|i| (i + 1) % every == 0)
                    })
                    .map(str::to_string);
                lock(&e.malformed).extend(broken);
            }
        }
        if matches!(field, "getContactList" | "getMessages")
            && let Some(e) = effects
            && let Some(every) = {
                let f = lock(&shared.faults);
                f.malformed_conversation_every.filter(|_| f.malformed_lists)
            }
        {
            // No stable position in the world: every N-th row of the page.
            let broken = out["data"]["docs"]
                .as_array()
                .into_iter()
                .flatten()
                .skip(every.max(1) - 1)
                .step_by(every.max(1))
                .filter_map(|d| d["_id"].as_str())
                .map(str::to_string);
            lock(&e.malformed).extend(broken);
        }
        Ok(out)
    }
}

/// Runtime switches that change what operations do.
#[derive(Debug, Clone, Copy)]
struct Policy {
    dedup: bool,
}

fn generate_token(
    shared: &Shared,
    input: &Value,
    now: DateTime<Utc>,
) -> async_graphql::Result<Value> {
    let id = input.get("clientId").and_then(Value::as_str);
    let secret = input.get("clientSecret").and_then(Value::as_str);
    let rejected = shared.kit.rejecting_credentials();
    if rejected {
        shared.kit.count("reject_credentials");
    }
    if rejected
        || id != Some(shared.options.client_id.as_str())
        || secret != Some(shared.options.client_secret.as_str())
    {
        return Err(auth::AuthError::InvalidClient.into_graphql());
    }
    let (token, info) = lock(&shared.auth).issue(shared.options.token_ttl, now);
    Ok(ok(json!({
        "accessToken": token,
        "tokenType": "Bearer",
        "expiresIn": shared.options.token_ttl.as_secs(),
        "expiresAt": fmt_date(&info.expires_at),
        "scopes": info.scopes,
    })))
}

type OpResult = Result<Value, (i64, String)>;

fn dispatch(
    world: &mut World,
    field: &str,
    input: Value,
    now: DateTime<Utc>,
    policy: Policy,
) -> Value {
    let result = match field {
        "getConversationList" => decode(input).and_then(|i| conversation_list(world, i)),
        "getConversation" => decode(input).and_then(|i: IdInput| {
            let id = i.conversation_id.unwrap_or_default();
            world
                .conversation(&id)
                .map(|(_, c)| to_json(c))
                .ok_or_else(|| not_found("Conversation"))
        }),
        "updateConversation" => decode(input).and_then(|i| update_conversation(world, i, now)),
        "getMessages" => decode(input).and_then(|i| message_list(world, i)),
        "getMessage" => decode(input).and_then(|i: IdInput| {
            let id = i.message_id.unwrap_or_default();
            world
                .message(&id)
                .map(to_json)
                .ok_or_else(|| not_found("Message"))
        }),
        "createMessage" => decode(input).and_then(|i| create_message(world, i, now, policy.dedup)),
        "createMessageByWhatsapp" => {
            super::template_ops::create_by_whatsapp(world, input, now, policy.dedup)
        }
        "sendWhatsappTemplateMessage" => {
            super::template_ops::send_template(world, input, now, policy.dedup)
        }
        "getContact" => decode(input).and_then(|i: IdInput| {
            let id = i.contact_id.unwrap_or_default();
            world
                .contact(&id)
                .map(to_json)
                .ok_or_else(|| not_found("Contact"))
        }),
        "getContactList" => decode(input).and_then(|i| contact_list(world, i)),
        "createContact" => super::contact_ops::create(world, &input, now),
        "updateContact" => super::contact_ops::update(world, &input, now),
        "deleteContact" => super::contact_ops::delete(world, &input),
        "getCustomerPerson" => decode(input).and_then(|i: IdInput| {
            let id = i.customer_person_id.unwrap_or_default();
            world
                .agents
                .iter()
                .find(|a| a.id == id)
                .map(to_json)
                .ok_or_else(|| not_found("Customer person"))
        }),
        "getCustomerPersonList" => decode(input).and_then(|i| agent_list(world, i)),
        "getAllConnectedPlatformList" => decode(input).map(|i: PlatformFilter| {
            let list: Vec<Value> = world
                .platforms
                .iter()
                .filter(|p| {
                    i.channel_type
                        .as_ref()
                        .is_none_or(|t| t.contains(&p.channel_type))
                })
                .filter(|p| i.status.as_ref().is_none_or(|s| s.contains(&p.status)))
                .map(to_json)
                .collect();
            Value::Array(list)
        }),
        "getWhatsappBusinessTemplate" => decode(input).and_then(|i: IdInput| {
            let id = i.template_id.unwrap_or_default();
            world
                .templates
                .iter()
                .find(|t| t.id == id)
                .map(to_json)
                .ok_or_else(|| not_found("Template"))
        }),
        "getWhatsappBusinessTemplateList" => decode(input).and_then(|i| template_list(world, i)),
        _ => Err((501, "not supported by the sandbox".to_string())),
    };
    match result {
        Ok(data) => ok(data),
        Err((code, message)) => {
            json!({ "success": false, "code": code, "message": message, "data": null })
        }
    }
}

fn ok(data: Value) -> Value {
    json!({ "success": true, "code": 200, "message": "OK", "data": data })
}

pub(super) fn not_found(what: &str) -> (i64, String) {
    (404, format!("{what} not found"))
}

pub(super) fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// Decodes an `input` argument; absent/null input means "all defaults".
pub(super) fn decode<T: DeserializeOwned + Default>(input: Value) -> Result<T, (i64, String)> {
    if input.is_null() {
        return Ok(T::default());
    }
    serde_json::from_value(input).map_err(|e| (400, format!("invalid input: {e}")))
}

// ---------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------

/// All single-id inputs; GraphQL validation guarantees the right key is present.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct IdInput {
    conversation_id: Option<String>,
    message_id: Option<String>,
    contact_id: Option<String>,
    customer_person_id: Option<String>,
    template_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SortInput {
    field: String,
    order: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConversationListInput {
    page: Option<i64>,
    limit: Option<i64>,
    status: Option<Vec<String>>,
    #[serde(rename = "joinedCPerson")]
    joined_c_person: Option<String>,
    unassigned: Option<bool>,
    is_starred: Option<bool>,
    priority: Option<Vec<String>>,
    tags: Option<Vec<String>>,
    channel_type: Option<Vec<String>>,
    channel_id: Option<String>,
    #[serde(rename = "type")]
    kind: Option<Vec<String>>,
    contact_id: Option<String>,
    search: Option<String>,
    updated_after: Option<Value>,
    sort: Option<SortInput>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateConversationInput {
    conversation_id: String,
    status: Option<String>,
    is_starred: Option<bool>,
    priority: Option<String>,
    tags: Option<Vec<String>>,
    #[serde(rename = "joinedCPerson")]
    joined_c_person: Option<String>,
    unassign: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct MessagesInput {
    conversation_id: String,
    page: Option<i64>,
    limit: Option<i64>,
    before: Option<Value>,
    after: Option<Value>,
    order: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct MediaInput {
    pub(super) url: String,
    #[serde(rename = "type")]
    pub(super) kind: String,
    pub(super) mime_type: Option<String>,
    pub(super) file_name: Option<String>,
    pub(super) caption: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct CreateMessageInput {
    pub(super) conversation_id: String,
    pub(super) content: Option<String>,
    pub(super) content_html: Option<String>,
    pub(super) subject: Option<String>,
    pub(super) media: Option<Vec<MediaInput>>,
    pub(super) quoted_message_id: Option<String>,
    pub(super) channel_id: Option<String>,
    pub(super) front_msg_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ContactListInput {
    page: Option<i64>,
    limit: Option<i64>,
    search: Option<String>,
    tags: Option<Vec<String>>,
    channel_type: Option<String>,
    phone: Option<String>,
    email: Option<String>,
    created_after: Option<Value>,
    updated_after: Option<Value>,
    sort: Option<SortInput>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AgentListInput {
    page: Option<i64>,
    limit: Option<i64>,
    search: Option<String>,
    #[serde(rename = "type")]
    kind: Option<Vec<String>>,
    status: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PlatformFilter {
    channel_type: Option<Vec<String>>,
    status: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TemplateListInput {
    page: Option<i64>,
    limit: Option<i64>,
    search: Option<String>,
    status: Option<Vec<String>>,
    category: Option<Vec<String>>,
    language: Option<String>,
    channel_id: Option<String>,
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// Parses a `Date` input: ISO-8601 string, or epoch milliseconds as a number
/// or numeric string.
pub(crate) fn parse_date(v: &Value) -> Option<DateTime<Utc>> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().map(|f| f as i64))
            .and_then(|ms| Utc.timestamp_millis_opt(ms).single()),
        Value::String(s) => {
            let s = s.trim();
            if let Ok(ms) = s.parse::<i64>() {
                return Utc.timestamp_millis_opt(ms).single();
            }
            DateTime::parse_from_rfc3339(s)
                .map(|d| d.with_timezone(&Utc))
                .ok()
                .or_else(|| {
                    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
                        .ok()
                        .map(|n| n.and_utc())
                })
                .or_else(|| {
                    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                        .ok()
                        .and_then(|d| d.and_hms_opt(0, 0, 0))
                        .map(|n| n.and_utc())
                })
        }
        _ => None,
    }
}

fn date_arg(v: &Option<Value>, name: &str) -> Result<Option<DateTime<Utc>>, (i64, String)> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(v) => parse_date(v)
            .map(Some)
            .ok_or_else(|| (400, format!("{name} is not a valid date"))),
    }
}

/// mongoose-paginate page; rejects limits over 100 like the real server family.
fn paginate<T: serde::Serialize>(
    items: &[&T],
    page: Option<i64>,
    limit: Option<i64>,
    default_limit: i64,
) -> Result<Value, (i64, String)> {
    let limit = limit.unwrap_or(default_limit);
    if limit > 100 {
        return Err((400, "limit must be between 1 and 100".to_string()));
    }
    let limit = limit.max(1) as usize;
    let page = page.unwrap_or(1).clamp(1, i64::from(u32::MAX)) as usize;
    let total = items.len();
    let total_pages = total.div_ceil(limit).max(1);
    let start = (page - 1).saturating_mul(limit);
    let docs: Vec<Value> = items
        .iter()
        .skip(start)
        .take(limit)
        .map(|t| to_json(*t))
        .collect();
    let has_next = page < total_pages;
    let has_prev = page > 1;
    Ok(json!({
        "docs": docs,
        "totalDocs": total,
        "limit": limit,
        "page": page,
        "totalPages": total_pages,
        "hasNextPage": has_next,
        "hasPrevPage": has_prev,
        "nextPage": if has_next { Some(page + 1) } else { None },
        "prevPage": if has_prev { Some(page - 1) } else { None },
    }))
}

fn desc_order(order: Option<&str>) -> bool {
    order != Some("ASC")
}

/// A search argument as the filters compare it: trimmed, lower-case, and
/// `None` when blank.
fn search_term(search: Option<&str>) -> Option<String> {
    search
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty())
}

fn contains_ci(hay: &str, needle_lower: &str) -> bool {
    hay.to_lowercase().contains(needle_lower)
}

// ---------------------------------------------------------------------------
// Conversations
// ---------------------------------------------------------------------------

fn conversation_list(world: &World, i: ConversationListInput) -> OpResult {
    let updated_after = date_arg(&i.updated_after, "updatedAfter")?;
    let (by_created, desc) = match &i.sort {
        None => (false, true),
        Some(s) => match s.field.as_str() {
            "updatedAt" => (false, desc_order(s.order.as_deref())),
            "createdAt" => (true, desc_order(s.order.as_deref())),
            other => return Err((400, format!("cannot sort conversations by {other}"))),
        },
    };
    let search = search_term(i.search.as_deref());
    let mut hits: Vec<(usize, &Conversation)> = world
        .conversations
        .iter()
        .enumerate()
        .filter(|(_, c)| i.status.as_ref().is_none_or(|s| s.contains(&c.status)))
        .filter(|(_, c)| {
            i.joined_c_person
                .as_ref()
                .is_none_or(|a| c.joined_c_person.as_ref() == Some(a))
        })
        .filter(|(_, c)| i.unassigned != Some(true) || c.joined_c_person.is_none())
        .filter(|(_, c)| i.is_starred.is_none_or(|s| c.is_starred == s))
        .filter(|(_, c)| {
            i.priority
                .as_ref()
                .is_none_or(|p| c.priority.as_ref().is_some_and(|cp| p.contains(cp)))
        })
        .filter(|(_, c)| {
            i.tags
                .as_ref()
                .is_none_or(|t| c.tags.iter().any(|ct| t.contains(&ct.id)))
        })
        .filter(|(_, c)| {
            i.channel_type
                .as_ref()
                .is_none_or(|t| c.channels.iter().any(|ch| t.contains(&ch.kind)))
        })
        .filter(|(_, c)| {
            i.channel_id
                .as_ref()
                .is_none_or(|id| c.channels.iter().any(|ch| &ch.id == id))
        })
        .filter(|(_, c)| i.kind.as_ref().is_none_or(|t| t.contains(&c.kind)))
        .filter(|(_, c)| {
            i.contact_id
                .as_ref()
                .is_none_or(|id| &c.joined_person == id)
        })
        .filter(|(_, c)| updated_after.is_none_or(|t| c.updated_at >= t))
        .filter(|(ci, c)| {
            let Some(q) = &search else { return true };
            let contact_hit = world.contact(&c.joined_person).is_some_and(|ct| {
                contains_ci(&ct.name(), q) || ct.phone.as_deref().is_some_and(|p| contains_ci(p, q))
            });
            contact_hit
                || world.messages[*ci]
                    .iter()
                    .any(|m| m.content.as_deref().is_some_and(|t| contains_ci(t, q)))
        })
        .collect();
    hits.sort_by(|(_, a), (_, b)| {
        let (ka, kb) = if by_created {
            (a.created_at, b.created_at)
        } else {
            (a.updated_at, b.updated_at)
        };
        let ord = ka.cmp(&kb).then_with(|| a.id.cmp(&b.id));
        if desc { ord.reverse() } else { ord }
    });
    let convs: Vec<&Conversation> = hits.into_iter().map(|(_, c)| c).collect();
    paginate(&convs, i.page, i.limit, 20)
}

fn update_conversation(
    world: &mut World,
    i: UpdateConversationInput,
    now: DateTime<Utc>,
) -> OpResult {
    let unassign = i.unassign == Some(true);
    if unassign && i.joined_c_person.is_some() {
        return Err((
            400,
            "invalid input: joinedCPerson and unassign cannot be used together".to_string(),
        ));
    }
    if i.status.is_none()
        && i.is_starred.is_none()
        && i.priority.is_none()
        && i.tags.is_none()
        && i.joined_c_person.is_none()
        && !unassign
    {
        return Err((
            400,
            "invalid input: nothing to update (give status, isStarred, priority, tags, \
             joinedCPerson or unassign)"
                .to_string(),
        ));
    }
    let Some(&ci) = world.conv_idx.get(&i.conversation_id) else {
        return Err(not_found("Conversation"));
    };
    let tags = match &i.tags {
        None => None,
        Some(ids) => {
            let mut tags = Vec::new();
            for id in ids {
                let tag = world.tags.iter().find(|t| &t.id == id);
                match tag {
                    Some(t) if !tags.iter().any(|x: &super::world::Tag| x.id == t.id) => {
                        tags.push(t.clone())
                    }
                    Some(_) => {}
                    None => return Err((404, format!("Tag not found: {id}"))),
                }
            }
            Some(tags)
        }
    };
    if let Some(id) = &i.joined_c_person {
        let Some(agent) = world.agents.iter().find(|a| &a.id == id) else {
            return Err((404, format!("Customer person not found: {id}")));
        };
        // Only people who can work the inbox take conversations: not bots,
        // and not accounts that are invited, switched off or deleted.
        if agent.kind == "ROBOT" {
            return Err((
                422,
                format!("Customer person is a bot and cannot be assigned: {id}"),
            ));
        }
        if agent.status != "ACTIVE" {
            return Err((
                422,
                format!(
                    "Customer person is not active (status {}): {id}",
                    agent.status
                ),
            ));
        }
    }
    // A closed conversation is final until reopened.
    if world.conversations[ci].status == "CLOSED"
        && matches!(i.status.as_deref(), Some("PENDING" | "RESOLVED"))
    {
        return Err((409, "Conversation is closed; reopen it first".to_string()));
    }
    let conv = &mut world.conversations[ci];
    if let Some(s) = i.status {
        conv.status = s;
    }
    if let Some(s) = i.is_starred {
        conv.is_starred = s;
    }
    if let Some(p) = i.priority {
        conv.priority = Some(p);
    }
    if let Some(t) = tags {
        conv.tags = t;
    }
    if let Some(a) = i.joined_c_person {
        conv.joined_c_person = Some(a);
    }
    if unassign {
        conv.joined_c_person = None;
    }
    conv.updated_at = now.max(conv.updated_at);
    Ok(to_json(&*conv))
}

// ---------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------

fn message_list(world: &World, i: MessagesInput) -> OpResult {
    let Some(&ci) = world.conv_idx.get(&i.conversation_id) else {
        return Err(not_found("Conversation"));
    };
    let before = date_arg(&i.before, "before")?;
    let after = date_arg(&i.after, "after")?;
    let mut msgs: Vec<&Message> = world.messages[ci]
        .iter()
        .filter(|m| before.is_none_or(|b| m.created_at < b))
        .filter(|m| after.is_none_or(|a| m.created_at > a))
        .collect();
    // Stored oldest first with strictly increasing timestamps.
    if desc_order(i.order.as_deref()) {
        msgs.reverse();
    }
    paginate(&msgs, i.page, i.limit, 30)
}

/// The API user acts as the account owner: agent messages sent through
/// the API carry the owner as their sender.
pub(super) fn api_sender(world: &World) -> Sender {
    let agent = world
        .agents
        .iter()
        .find(|a| a.kind == "OWNER")
        .or_else(|| world.agents.first());
    Sender {
        id: agent.map(|a| a.id.clone()).unwrap_or_default(),
        name: agent.map(|a| a.name()).unwrap_or_else(|| "API".into()),
        avatar: agent.and_then(|a| a.profile_photo.clone()),
        email: agent.map(|a| a.email.clone()),
        phone: None,
    }
}

pub(super) fn create_message(
    world: &mut World,
    i: CreateMessageInput,
    now: DateTime<Utc>,
    dedup: bool,
) -> OpResult {
    let Some(&ci) = world.conv_idx.get(&i.conversation_id) else {
        return Err(not_found("Conversation"));
    };
    if dedup
        && let Some(front) = i.front_msg_id.as_deref().filter(|f| !f.is_empty())
        && let Some(existing) = world.front_ids.get(front).and_then(|id| world.message(id))
    {
        // Idempotent retry: hand back what was created the first time.
        return Ok(to_json(existing));
    }
    let content = i.content.clone().filter(|c| !c.trim().is_empty());
    let media = i.media.unwrap_or_default();
    if content.is_none()
        && media.is_empty()
        && i.content_html
            .as_deref()
            .is_none_or(|h| h.trim().is_empty())
    {
        return Err((400, "content or media is required".to_string()));
    }
    let conv = &world.conversations[ci];
    let channel = match &i.channel_id {
        Some(id) => match conv.channels.iter().find(|c| &c.id == id) {
            Some(c) => c.clone(),
            None if world.platform(id).is_some() => {
                return Err((
                    400,
                    "channel is not linked to this conversation".to_string(),
                ));
            }
            None => return Err(not_found("Channel")),
        },
        None => conv
            .channels
            .iter()
            .find(|c| c.id == conv.last_received_message_channel)
            .or_else(|| conv.channels.first())
            .cloned()
            .ok_or_else(|| (400, "conversation has no channel".to_string()))?,
    };
    let quoted = match &i.quoted_message_id {
        Some(qid) => {
            let q = world
                .message(qid)
                .filter(|m| m.conversation == i.conversation_id)
                .ok_or_else(|| not_found("Quoted message"))?;
            Some(Quoted {
                id: q.id.clone(),
                content: q.content.clone(),
                message_type: q.message_type.clone(),
                sender_type: q.sender_type.clone(),
                channel_message_id: q.channel_message_id.clone(),
            })
        }
        None => None,
    };
    let is_email = channel.kind == "EMAIL";
    let last_subject = world.messages[ci]
        .iter()
        .rev()
        .find_map(|m| m.subject.clone());
    let sender = api_sender(world);
    let media_items: Vec<MediaItem> = media
        .into_iter()
        .map(|m| MediaItem {
            id: new_id(&mut world.rng),
            url: m.url,
            kind: m.kind,
            mime_type: m.mime_type,
            file_name: m.file_name,
            size: None,
            caption: m.caption,
            thumbnail_url: None,
        })
        .collect();
    let message_type = if is_email {
        "EMAIL".to_string()
    } else {
        match media_items.first().map(|m| m.kind.as_str()) {
            None => "TEXT",
            Some("IMAGE") => "IMAGE",
            Some("VIDEO") => "VIDEO",
            Some("AUDIO") => "AUDIO",
            Some("STICKER") => "STICKER",
            Some(_) => "FILE",
        }
        .to_string()
    };
    let id = new_id(&mut world.rng);
    let channel_message_id = Some(format!("out.{}", new_id(&mut world.rng)));
    let msg = Message {
        id,
        sender,
        conversation: i.conversation_id.clone(),
        message_type,
        channel_type: channel.kind.clone(),
        sender_type: "AGENT".into(),
        content_html: if is_email {
            i.content_html.clone().or_else(|| {
                content
                    .as_deref()
                    .map(|c| format!("<p>{}</p>", html_escape(c)))
            })
        } else {
            i.content_html.clone()
        },
        subject: if is_email {
            i.subject.clone().or_else(|| {
                last_subject.map(|s| {
                    if s.starts_with("Re:") {
                        s
                    } else {
                        format!("Re: {s}")
                    }
                })
            })
        } else {
            i.subject.clone()
        },
        content,
        email_data: None,
        media: media_items,
        channel_message_id,
        ack_status: Some("SENT".into()),
        created_at: now,
        auto_create: false,
        failed_reason: None,
        quoted_message: quoted,
        reactions: None,
        front_msg_id: i.front_msg_id.filter(|f| !f.is_empty()),
    };
    let id = world.push_message(ci, msg);
    world.conversations[ci].updated_at = world.conversations[ci].updated_at.max(now);
    if world.live {
        world.schedule_acks(&id, now);
    }
    Ok(world.message(&id).map(to_json).unwrap_or(Value::Null))
}

// ---------------------------------------------------------------------------
// Contacts, agents, templates
// ---------------------------------------------------------------------------

fn contact_list(world: &World, i: ContactListInput) -> OpResult {
    let created_after = date_arg(&i.created_after, "createdAfter")?;
    let updated_after = date_arg(&i.updated_after, "updatedAfter")?;
    let search = search_term(i.search.as_deref());
    let mut hits: Vec<&Contact> = world
        .contacts
        .iter()
        .filter(|c| {
            let Some(q) = &search else { return true };
            contains_ci(&c.name(), q)
                || [&c.phone, &c.email, &c.username]
                    .iter()
                    .any(|f| f.as_deref().is_some_and(|v| contains_ci(v, q)))
        })
        .filter(|c| i.phone.as_ref().is_none_or(|p| c.phone.as_ref() == Some(p)))
        .filter(|c| {
            i.email.as_ref().is_none_or(|e| {
                c.email
                    .as_deref()
                    .is_some_and(|ce| ce.eq_ignore_ascii_case(e))
            })
        })
        .filter(|c| {
            i.tags
                .as_ref()
                .is_none_or(|t| c.tags.iter().any(|ct| t.contains(&ct.id)))
        })
        .filter(|c| {
            i.channel_type
                .as_ref()
                .is_none_or(|t| c.platforms.iter().any(|p| &p.channel_type == t))
        })
        .filter(|c| created_after.is_none_or(|t| c.created_at >= t))
        .filter(|c| updated_after.is_none_or(|t| c.updated_at >= t))
        .collect();
    let (field, desc) = match &i.sort {
        None => ("createdAt", true),
        Some(s) => (s.field.as_str(), desc_order(s.order.as_deref())),
    };
    match field {
        "createdAt" => hits.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id))),
        "updatedAt" => hits.sort_by(|a, b| a.updated_at.cmp(&b.updated_at).then(a.id.cmp(&b.id))),
        "firstName" => hits.sort_by(|a, b| a.first_name.cmp(&b.first_name).then(a.id.cmp(&b.id))),
        "lastName" => hits.sort_by(|a, b| a.last_name.cmp(&b.last_name).then(a.id.cmp(&b.id))),
        other => return Err((400, format!("cannot sort contacts by {other}"))),
    }
    if desc {
        hits.reverse();
    }
    paginate(&hits, i.page, i.limit, 20)
}

fn agent_list(world: &World, i: AgentListInput) -> OpResult {
    let search = search_term(i.search.as_deref());
    let hits: Vec<_> = world
        .agents
        .iter()
        .filter(|a| i.kind.as_ref().is_none_or(|k| k.contains(&a.kind)))
        .filter(|a| i.status.as_ref().is_none_or(|s| s.contains(&a.status)))
        .filter(|a| {
            search
                .as_ref()
                .is_none_or(|q| contains_ci(&a.name(), q) || contains_ci(&a.email, q))
        })
        .collect();
    paginate(&hits, i.page, i.limit, 50)
}

fn template_list(world: &World, i: TemplateListInput) -> OpResult {
    let search = search_term(i.search.as_deref());
    let hits: Vec<_> = world
        .templates
        .iter()
        .filter(|t| i.status.as_ref().is_none_or(|s| s.contains(&t.status)))
        .filter(|t| i.category.as_ref().is_none_or(|c| c.contains(&t.category)))
        .filter(|t| {
            i.language
                .as_ref()
                .is_none_or(|l| t.language.eq_ignore_ascii_case(l))
        })
        .filter(|t| i.channel_id.as_ref().is_none_or(|c| &t.channel_id == c))
        .filter(|t| search.as_ref().is_none_or(|q| contains_ci(&t.name, q)))
        .collect();
    paginate(&hits, i.page, i.limit, 50)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_accept_iso_and_epoch_ms() {
        let iso = parse_date(&json!("2025-10-02T09:15:00.000Z")).expect("iso");
        assert_eq!(fmt_date(&iso), "2025-10-02T09:15:00.000Z");
        let ms = iso.timestamp_millis();
        assert_eq!(parse_date(&json!(ms)), Some(iso));
        assert_eq!(parse_date(&json!(ms.to_string())), Some(iso));
        assert_eq!(parse_date(&json!("2025-10-02T12:15:00+03:00")), Some(iso));
        assert_eq!(parse_date(&json!("yesterday")), None);
        assert_eq!(parse_date(&json!(true)), None);
    }

    #[test]
    fn paginate_rejects_and_clamps_limits() {
        let items: Vec<u32> = (0..45).collect();
        let refs: Vec<&u32> = items.iter().collect();
        assert_eq!(
            paginate(&refs, None, Some(101), 20).map(|_| ()),
            Err((400, "limit must be between 1 and 100".into()))
        );
        let p = paginate(&refs, Some(3), Some(20), 20).expect("page");
        assert_eq!(p["docs"].as_array().map(Vec::len), Some(5));
        assert_eq!(p["hasNextPage"], false);
        assert_eq!(p["prevPage"], 2);
        let p = paginate(&refs, Some(-4), Some(0), 20).expect("clamped");
        assert_eq!(p["limit"], 1);
        assert_eq!(p["page"], 1);
        assert_eq!(p["totalPages"], 45);
        let p = paginate(&refs, Some(i64::MAX), Some(100), 20).expect("far page");
        assert_eq!(p["docs"].as_array().map(Vec::len), Some(0));
    }
}
