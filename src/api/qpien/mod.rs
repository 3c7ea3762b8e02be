//! Qpien GraphQL provider: a typed client for `https://api.qpien.com/api/v1`
//! (contract: `assets/qpien.graphql`; reconstructed parts are marked there).
//!
//! Layers: `operations` (compile-time checked documents) → `transport`
//! (GraphQL envelope and error decoding over the shared `api::http`) →
//! `token` (access tokens) → this module (the `Provider` methods) → `mapping` (wire → domain).

pub mod mapping;
pub mod operations;
pub mod scalars;
pub mod token;
pub mod transport;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use secrecy::SecretString;
use serde::de::DeserializeOwned;
use serde_json::Value;

use self::mapping::{
    map_agent, map_channel, map_contact, map_conversation, map_message, map_template,
    priority_to_wire, status_to_wire, wire_agent, wire_channel, wire_contact, wire_conversation,
    wire_message, wire_template,
};
use self::operations::Operation;
use self::scalars::WireDate;
use self::token::TokenManager;
use self::transport::{Transport, batch_body, decode_data, prune_rows};
use crate::api::{ApiError, ApiResult, Capabilities, Provider};
use crate::domain::{
    Agent, ChannelInfo, Contact, ContactId, ContactQuery, ContactUpdate, Conversation,
    ConversationId, ConversationQuery, ConversationStatus, ConversationUpdate, Message, MessageId,
    MessageQuery, OutgoingTemplate, OutgoingText, Page, PageCursor, Recipient, Template,
};
use crate::sync::scheduler::Scheduler;

/// Page size used when the caller leaves `limit` at 0.
const DEFAULT_PAGE_SIZE: u32 = 20;
/// The server's page-size cap is unpublished; 100 is the safe maximum.
const MAX_PAGE_SIZE: u32 = 100;
/// Contacts looked up per request (GraphQL aliases). Each alias repeats the
/// full contact selection, so 50 keeps the document near 25 KB and the
/// answer near 50 KB, well inside what GraphQL servers usually accept
/// (query-size and cost limits are unpublished for Qpien), while a page of
/// 100 conversations needs at most two requests for its stragglers.
pub const CONTACT_BATCH: usize = 50;
/// List pages per request: each alias is a full page of up to 100 records,
/// so a few at a time keep one answer a few hundred KB and one slow page
/// from holding up many.
pub const PAGE_BATCH: usize = 5;
/// Threads whose newest messages are fetched in one request.
pub const MESSAGE_BATCH: usize = 10;
/// `ConversationStatusEnum`, in the order a picker offers them.
static QPIEN_STATUSES: [ConversationStatus; 4] = [
    ConversationStatus::Open,
    ConversationStatus::Pending,
    ConversationStatus::Resolved,
    ConversationStatus::Closed,
];
/// Guard against a server that always reports another page.
const MAX_PAGES_FETCH_ALL: i64 = 100;
/// Connection settings of one Qpien API key.
#[derive(Debug, Clone)]
pub struct QpienConfig {
    /// GraphQL endpoint, e.g. `https://api.qpien.com/api/v1`.
    pub base_url: String,
    pub client_id: String,
    pub client_secret: SecretString,
    pub request_timeout: Duration,
    /// The API key's rate limit; the scheduler keeps every request within it.
    pub requests_per_minute: u32,
}

impl QpienConfig {
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);
    pub const DEFAULT_URL: &'static str = "https://api.qpien.com/api/v1";
    /// Qpien's documented limit per API key.
    pub const DEFAULT_REQUESTS_PER_MINUTE: u32 = 100;

    pub fn new(
        base_url: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: SecretString,
    ) -> Self {
        QpienConfig {
            base_url: base_url.into(),
            client_id: client_id.into(),
            client_secret,
            request_timeout: Self::DEFAULT_TIMEOUT,
            requests_per_minute: Self::DEFAULT_REQUESTS_PER_MINUTE,
        }
    }
}

/// The Qpien provider. Cheap to share in an `Arc`; all state (token, rate
/// budget) is internal and synchronized. It never looks up contacts to label
/// conversations: names come from the store's contact directory.
pub struct QpienClient {
    transport: Transport,
    tokens: TokenManager,
    /// Most root fields one request may carry: unknown (unlimited) until
    /// the server refuses a batch as too costly, then learned by halving.
    batch_limit: std::sync::atomic::AtomicUsize,
}

impl std::fmt::Debug for QpienClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QpienClient")
            .field("transport", &self.transport)
            .field("tokens", &self.tokens)
            .finish_non_exhaustive()
    }
}

fn page_size(limit: u32) -> i64 {
    let limit = if limit == 0 { DEFAULT_PAGE_SIZE } else { limit };
    i64::from(limit.clamp(1, MAX_PAGE_SIZE))
}

/// Qpien pages by number: its cursors are the decimal page number.
fn page_number(cursor: Option<&PageCursor>) -> ApiResult<u32> {
    crate::api::http::page_number(cursor, "Qpien")
}

fn next_cursor(page: u32, has_next: bool) -> Option<PageCursor> {
    crate::api::http::next_page(page, has_next)
}

/// A generated GraphQL enum from its wire name (unknown names become the
/// generated `Other(String)` variant).
fn wire_enum<E: DeserializeOwned>(name: &str) -> ApiResult<E> {
    serde_json::from_value(serde_json::Value::String(name.to_string()))
        .map_err(|e| ApiError::Decode(format!("cannot encode enum value {name:?}: {e}")))
}

fn non_empty(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Maps a page's records; one that cannot be mapped is logged and counted
/// in `skipped` instead of failing the page.
fn map_records<W, T>(
    docs: Vec<W>,
    what: &str,
    skipped: &mut usize,
    map: impl Fn(W) -> ApiResult<T>,
) -> Vec<T> {
    let mut items = Vec::with_capacity(docs.len());
    for doc in docs {
        match map(doc) {
            Ok(item) => items.push(item),
            Err(error) => {
                tracing::warn!(%error, "skipping a malformed {what}");
                *skipped += 1;
            }
        }
    }
    items
}

/// A refusal that a smaller batch may avoid: the document was too costly.
fn refuses_batch(error: &ApiError) -> bool {
    matches!(
        error,
        ApiError::SchemaMismatch(_)
            | ApiError::Rejected { .. }
            | ApiError::Server { status: 413, .. }
    )
}

/// `success: true` with `data: null` on a single-object query.
fn not_found(what: &str, id: &str) -> ApiError {
    ApiError::NotFound(format!("{what} {}", crate::text::sanitize_line(id)))
}

/// What to send, and how the answer comes back.
#[derive(Clone, Copy)]
enum Request {
    Single,
    Batch(usize),
}

enum Answer {
    Single(Value),
    Batch(Vec<ApiResult<Value>>),
}

fn conversation_list_input(
    query: &ConversationQuery,
    page: u32,
) -> ApiResult<operations::conversation_list::GetConversationListInput> {
    use operations::conversation_list as op;
    let status = if query.status.is_empty() {
        None
    } else {
        Some(
            query
                .status
                .iter()
                .map(|s| wire_enum(&status_to_wire(s)))
                .collect::<ApiResult<Vec<_>>>()?,
        )
    };
    Ok(op::GetConversationListInput {
        page: Some(i64::from(page)),
        limit: Some(page_size(query.limit)),
        status,
        joined_c_person: query.assignee.as_ref().map(|a| a.0.clone()),
        unassigned: query.unassigned.then_some(true),
        is_starred: None,
        priority: None,
        tags: None,
        channel_type: None,
        channel_id: None,
        type_: None,
        contact_id: None,
        search: non_empty(query.search.as_deref()),
        updated_after: query.updated_since.map(WireDate),
        sort: Some(op::SortInput {
            field: "updatedAt".into(),
            order: Some(if query.oldest_first {
                op::SortOrder::ASC
            } else {
                op::SortOrder::DESC
            }),
        }),
    })
}

fn contact_list_input(
    query: &ContactQuery,
    page: u32,
) -> operations::contact_list::GetContactListInput {
    use operations::contact_list as op;
    // Oldest change first when syncing incrementally: a saved cursor (the
    // newest `updatedAt` seen) then resumes exactly where the last run
    // stopped, and contacts changing mid-walk move to the end instead of
    // shifting unseen ones onto pages already read.
    let sort = query.updated_since.map(|_| op::SortInput {
        field: "updatedAt".into(),
        order: Some(op::SortOrder::ASC),
    });
    op::GetContactListInput {
        page: Some(i64::from(page)),
        limit: Some(page_size(query.limit)),
        search: non_empty(query.search.as_deref()),
        tags: None,
        channel_type: None,
        phone: non_empty(query.phone.as_deref()),
        email: None,
        created_after: None,
        updated_after: query.updated_since.map(WireDate),
        sort,
    }
}

/// Input fields of a contact that `update` clears: sent as an explicit
/// `null`, which the generated input types (absent when `None`) cannot say.
fn cleared_contact_fields(update: &ContactUpdate) -> Vec<&'static str> {
    let cleared = |field: &Option<Option<String>>| matches!(field, Some(None));
    [
        ("lastName", &update.last_name),
        ("username", &update.username),
        ("email", &update.email),
        ("phone", &update.phone),
        ("phoneCountryCode", &update.phone_country_code),
        ("country", &update.country),
        ("gender", &update.gender),
        ("language", &update.language),
    ]
    .into_iter()
    .filter(|(_, field)| cleared(field))
    .map(|(name, _)| name)
    .collect()
}

fn tag_ids(update: &ContactUpdate) -> Option<Vec<String>> {
    update
        .tags
        .as_ref()
        .map(|tags| tags.iter().map(|t| t.id.0.clone()).collect())
}

/// The request body of `Q` with `input.<field>` set to `null` for each of
/// `nulls`; every other field as the typed variables have it.
fn body_with_nulls<Q: Operation>(variables: Q::Variables, nulls: &[&str]) -> ApiResult<Vec<u8>> {
    let encode = |e: serde_json::Error| ApiError::Decode(format!("cannot encode request: {e}"));
    let mut body = serde_json::to_value(Q::build_query(variables)).map_err(encode)?;
    if let Some(input) = body
        .pointer_mut("/variables/input")
        .and_then(Value::as_object_mut)
    {
        for field in nulls {
            input.insert((*field).to_string(), Value::Null);
        }
    }
    serde_json::to_vec(&body).map_err(encode)
}

fn update_contact_body(id: &ContactId, update: &ContactUpdate) -> ApiResult<Vec<u8>> {
    use operations::update_contact as op;
    let input = op::UpdateContactInput {
        contact_id: id.0.clone(),
        first_name: update.first_name.clone(),
        last_name: update.last_name.clone().flatten(),
        username: update.username.clone().flatten(),
        avatar: None,
        email: update.email.clone().flatten(),
        phone: update.phone.clone().flatten(),
        phone_country_code: update.phone_country_code.clone().flatten(),
        country: update.country.clone().flatten(),
        gender: update.gender.clone().flatten(),
        tags: tag_ids(update),
        phone_usage_permission: update.phone_usage_permission,
        email_usage_permission: update.email_usage_permission,
        language: update.language.clone().flatten(),
        owner: None,
    };
    body_with_nulls::<operations::UpdateContact>(
        op::Variables { input },
        &cleared_contact_fields(update),
    )
}

fn create_contact_variables(
    fields: &ContactUpdate,
) -> ApiResult<operations::create_contact::Variables> {
    use operations::create_contact as op;
    let first_name = fields
        .first_name
        .as_deref()
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .ok_or_else(|| ApiError::Rejected {
            code: None,
            message: "firstName is required".into(),
        })?;
    // A new contact has nothing to clear: cleared fields are simply absent.
    Ok(op::Variables {
        input: op::CreateContactInput {
            first_name: first_name.to_string(),
            last_name: fields.last_name.clone().flatten(),
            username: fields.username.clone().flatten(),
            avatar: None,
            email: fields.email.clone().flatten(),
            phone: fields.phone.clone().flatten(),
            phone_country_code: fields.phone_country_code.clone().flatten(),
            country: fields.country.clone().flatten(),
            gender: fields.gender.clone().flatten(),
            tags: tag_ids(fields),
            phone_usage_permission: fields.phone_usage_permission,
            email_usage_permission: fields.email_usage_permission,
            language: fields.language.clone().flatten(),
            owner: None,
        },
    })
}

fn messages_variables(query: &MessageQuery, page: u32) -> operations::messages::Variables {
    use operations::messages as op;
    op::Variables {
        input: op::GetMessagesInput {
            conversation_id: query.conversation_id.0.clone(),
            page: Some(i64::from(page.max(1))),
            limit: Some(page_size(query.limit)),
            before: query.before.map(WireDate),
            after: query.after.map(WireDate),
            order: Some(op::SortOrder::DESC),
        },
    }
}

/// A message page from checked `data`, newest first; malformed records are
/// skipped (and logged).
pub(crate) fn message_page(mut data: Value, conversation_id: &str) -> ApiResult<Page<Message>> {
    use operations::messages as op;
    let mut skipped = prune_rows::<op::MessagesGetMessagesDataDocs>(
        &mut data,
        "/getMessages/data/docs",
        "message",
    );
    let data: op::ResponseData = decode_data(&data)?;
    let page = data
        .get_messages
        .data
        .ok_or_else(|| ApiError::Decode("missing field `data` at data.getMessages".into()))?;
    let items = map_records(page.docs, "message", &mut skipped, |doc| {
        map_message(wire_message!(doc), Some(conversation_id))
    });
    // Threads page by time (`before`); the cursor only says there is more.
    Ok(Page {
        items,
        next: next_cursor(1, page.has_next_page),
        total: u64::try_from(page.total_docs).ok(),
        skipped,
    })
}

/// A conversation page from checked `data`: records that fail to decode or
/// to map are skipped (and logged), never failing the page.
pub(crate) fn conversation_page(mut data: Value, number: u32) -> ApiResult<Page<Conversation>> {
    use operations::conversation_list as op;
    let mut skipped = prune_rows::<op::ConversationListGetConversationListDataDocs>(
        &mut data,
        "/getConversationList/data/docs",
        "conversation",
    );
    let data: op::ResponseData = decode_data(&data)?;
    let page = data.get_conversation_list.data.ok_or_else(|| {
        ApiError::Decode("missing field `data` at data.getConversationList".into())
    })?;
    let items = map_records(page.docs, "conversation", &mut skipped, |doc| {
        map_conversation(wire_conversation!(doc))
    });
    Ok(Page {
        items,
        next: next_cursor(number, page.has_next_page),
        total: u64::try_from(page.total_docs).ok(),
        skipped,
    })
}

pub(crate) fn contact_page(mut data: Value, number: u32) -> ApiResult<Page<Contact>> {
    use operations::contact_list as op;
    let skipped = prune_rows::<op::ContactListGetContactListDataDocs>(
        &mut data,
        "/getContactList/data/docs",
        "contact",
    );
    let data: op::ResponseData = decode_data(&data)?;
    let page = data
        .get_contact_list
        .data
        .ok_or_else(|| ApiError::Decode("missing field `data` at data.getContactList".into()))?;
    Ok(Page {
        items: page
            .docs
            .into_iter()
            .map(|c| map_contact(wire_contact!(c)))
            .collect(),
        next: next_cursor(number, page.has_next_page),
        total: u64::try_from(page.total_docs).ok(),
        skipped,
    })
}

/// Pages answered in order until the last page of the list or the first
/// failure. Nothing answered is the first failure itself; a later one is
/// logged and left for the caller to ask again (it sees fewer pages than it
/// asked for).
fn leading_pages<T>(results: Vec<ApiResult<Page<T>>>) -> ApiResult<Vec<Page<T>>> {
    let mut pages = Vec::with_capacity(results.len());
    for (i, result) in results.into_iter().enumerate() {
        match result {
            Ok(page) => {
                let last = !page.has_more();
                pages.push(page);
                if last {
                    break;
                }
            }
            Err(e) if i == 0 => return Err(e),
            Err(e) => {
                tracing::warn!(error = %e, index = i, "a page of the batch failed");
                break;
            }
        }
    }
    Ok(pages)
}

/// The kind of media a header URL points at, when the template's header
/// format is unknown: by the file extension, else an image.
fn media_kind_from_url(url: &str) -> &'static str {
    let path = url
        .split(['?', '#'])
        .next()
        .unwrap_or(url)
        .to_ascii_lowercase();
    let ext = path.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    match ext {
        "mp4" | "3gp" | "mov" | "m4v" => "VIDEO",
        "pdf" | "doc" | "docx" | "xls" | "xlsx" | "ppt" | "pptx" | "txt" | "csv" => "DOCUMENT",
        _ => "IMAGE",
    }
}

/// `sendWhatsappTemplateMessage`'s input: the full `components` form, one
/// component per part that has values, body values named when the
/// template names its placeholders. `header_format` is the template's
/// (`IMAGE`, `VIDEO`, `DOCUMENT`) when known.
fn send_template_input(
    message: &OutgoingTemplate,
) -> ApiResult<operations::send_template::SendWhatsappTemplateMessageInput> {
    use operations::send_template as op;
    let refuse = |message: &str| ApiError::Rejected {
        code: None,
        message: message.to_string(),
    };
    let channel_id = message
        .channel_id
        .as_ref()
        .map(|c| c.0.trim().to_string())
        .filter(|c| !c.is_empty())
        .ok_or_else(|| refuse("no WhatsApp number to send from"))?;
    let template_id = non_empty(Some(message.template_id.as_str()));
    let (template_name, language) = match template_id {
        Some(_) => (None, None),
        None => (
            Some(
                non_empty(Some(&message.template_name))
                    .ok_or_else(|| refuse("no template to send"))?,
            ),
            Some(
                non_empty(Some(&message.language))
                    .ok_or_else(|| refuse("the template's language is missing"))?,
            ),
        ),
    };
    let (conversation_id, contact_id) = match &message.recipient {
        Recipient::Conversation(id) => (Some(id.0.clone()), None),
        Recipient::Contact(id) => (None, Some(id.0.clone())),
    };
    let text = |value: &str, name: Option<String>| op::TemplateParameterInput {
        type_: op::TemplateParameterType::TEXT,
        text: Some(value.to_string()),
        url: None,
        file_name: None,
        parameter_name: name,
    };
    let values = &message.values;
    let mut components = Vec::new();
    if let Some(url) = &values.header_media_url {
        let kind = match values.header_media_format.as_deref() {
            Some(f @ ("IMAGE" | "VIDEO" | "DOCUMENT")) => f,
            _ => media_kind_from_url(url),
        };
        components.push(op::TemplateComponentParametersInput {
            type_: op::WhatsappTemplateComponentType::HEADER,
            index: None,
            parameters: vec![op::TemplateParameterInput {
                type_: wire_enum(kind)?,
                text: None,
                url: Some(url.clone()),
                file_name: None,
                parameter_name: None,
            }],
        });
    } else if let Some(value) = &values.header_text {
        components.push(op::TemplateComponentParametersInput {
            type_: op::WhatsappTemplateComponentType::HEADER,
            index: None,
            parameters: vec![text(value, None)],
        });
    }
    if !values.body.is_empty() {
        components.push(op::TemplateComponentParametersInput {
            type_: op::WhatsappTemplateComponentType::BODY,
            index: None,
            parameters: values
                .body
                .iter()
                .map(|p| {
                    let named = !p.key.chars().all(|c| c.is_ascii_digit());
                    text(&p.value, named.then(|| p.key.clone()))
                })
                .collect(),
        });
    }
    for (index, value) in &values.buttons {
        components.push(op::TemplateComponentParametersInput {
            type_: op::WhatsappTemplateComponentType::BUTTONS,
            index: Some(i64::from(*index)),
            parameters: vec![text(value, None)],
        });
    }
    Ok(op::SendWhatsappTemplateMessageInput {
        channel_id,
        template_id,
        template_name,
        language,
        conversation_id,
        contact_id,
        phone: None,
        body_parameters: None,
        header_text: None,
        header_media: None,
        components: (!components.is_empty()).then_some(components),
        front_msg_id: Some(message.client_id.clone()),
    })
}

impl QpienClient {
    pub fn new(config: QpienConfig) -> Result<Self, ApiError> {
        let scheduler = Arc::new(Scheduler::new(config.requests_per_minute));
        Self::with_scheduler(config, scheduler)
    }

    /// A client drawing on an existing rate budget: clients sharing one API
    /// key must share one scheduler (tests also use this for short windows).
    pub fn with_scheduler(
        config: QpienConfig,
        scheduler: Arc<Scheduler>,
    ) -> Result<Self, ApiError> {
        if config.client_id.trim().is_empty() {
            return Err(ApiError::InvalidCredentials(
                "the client id is empty".into(),
            ));
        }
        if config.requests_per_minute == 0 {
            return Err(ApiError::Rejected {
                code: None,
                message: "requests_per_minute must be at least 1".into(),
            });
        }
        Ok(QpienClient {
            transport: Transport::new(&config.base_url, config.request_timeout, scheduler)?,
            tokens: TokenManager::new(config.client_id, config.client_secret),
            batch_limit: std::sync::atomic::AtomicUsize::new(usize::MAX),
        })
    }

    /// The account's request scheduler (rate budget and priorities).
    pub fn scheduler(&self) -> Arc<Scheduler> {
        self.transport.scheduler().clone()
    }

    /// Sends an authenticated request. A token the server calls expired or
    /// invalid is replaced once and the request replayed once; the server did
    /// not process the first attempt, so this is safe for mutations too.
    async fn send(&self, body: &[u8], root: &'static str, request: Request) -> ApiResult<Answer> {
        let attempt = |token: SecretString| async move {
            match request {
                Request::Single => self
                    .transport
                    .post_data(body, root, Some(&token))
                    .await
                    .map(Answer::Single),
                Request::Batch(count) => self
                    .transport
                    .post_batch(body, root, count, Some(&token))
                    .await
                    .map(Answer::Batch),
            }
        };
        let token = self.tokens.get(&self.transport).await?;
        match attempt(token.value.clone()).await {
            Err(ApiError::TokenExpired | ApiError::Unauthorized(_)) => {
                tracing::info!(op = root, "access token refused; getting a new one");
                let fresh = self
                    .tokens
                    .refresh_after(&self.transport, token.generation)
                    .await?;
                attempt(fresh.value).await
            }
            other => other,
        }
    }

    /// Runs one operation; the `data` object with its envelope checked.
    async fn call_data<Q: Operation>(&self, variables: Q::Variables) -> ApiResult<Value> {
        let body = Transport::body::<Q>(variables)?;
        match self.send(&body, Q::ROOT, Request::Single).await? {
            Answer::Single(data) => Ok(data),
            Answer::Batch(_) => Err(ApiError::Decode("unexpected batch answer".into())),
        }
    }

    async fn call<Q: Operation>(&self, variables: Q::Variables) -> ApiResult<Q::ResponseData> {
        decode_data(&self.call_data::<Q>(variables).await?)
    }

    /// Runs `Q` with a body already encoded (see [`body_with_nulls`]).
    async fn call_body<Q: Operation>(&self, body: &[u8]) -> ApiResult<Q::ResponseData> {
        match self.send(body, Q::ROOT, Request::Single).await? {
            Answer::Single(data) => decode_data(&data),
            Answer::Batch(_) => Err(ApiError::Decode("unexpected batch answer".into())),
        }
    }

    /// Runs `Q` once per variable set in as few requests as `chunk` allows
    /// (GraphQL aliases). Results are in input order; one failing does not
    /// fail the others, a failed request fails its whole chunk.
    /// `count` operations, `chunk` per request at most. A server that
    /// refuses a batch as too costly (its query-cost limit is unpublished)
    /// gets half as many from then on, down to one per request.
    async fn call_batch<Q: Operation>(
        &self,
        count: usize,
        variables: impl Fn(usize) -> ApiResult<Q::Variables>,
        chunk: usize,
    ) -> ApiResult<Vec<ApiResult<Value>>> {
        use std::sync::atomic::Ordering;
        let mut results = Vec::with_capacity(count);
        while results.len() < count {
            let start = results.len();
            let size = chunk
                .min(self.batch_limit.load(Ordering::Relaxed))
                .clamp(1, count - start);
            let part = (start..start + size)
                .map(&variables)
                .collect::<ApiResult<Vec<_>>>()?;
            let body = batch_body::<Q>(part)?;
            match self.send(&body, Q::ROOT, Request::Batch(size)).await {
                Ok(Answer::Batch(answers)) if answers.len() == size => results.extend(answers),
                Ok(_) => return Err(ApiError::Decode("the batch answer does not match".into())),
                Err(error) if size > 1 && refuses_batch(&error) => {
                    tracing::warn!(%error, size, "batch refused; sending smaller ones");
                    self.batch_limit.fetch_min(size / 2, Ordering::Relaxed);
                }
                Err(error) => return Err(error),
            }
        }
        Ok(results)
    }

    /// The header format of the template `message` sends, when it has a
    /// media header: from the templates listed so far, else from a fresh
    /// listing.
    async fn fetch_all_pages<T, F, Fut>(&self, fetch: F) -> ApiResult<Vec<T>>
    where
        F: Fn(i64) -> Fut,
        Fut: std::future::Future<Output = ApiResult<(Vec<T>, bool)>>,
    {
        let mut all = Vec::new();
        for page in 1..=MAX_PAGES_FETCH_ALL {
            let (items, has_more) = fetch(page).await?;
            let empty = items.is_empty();
            all.extend(items);
            if !has_more || empty {
                break;
            }
        }
        Ok(all)
    }
}

#[async_trait]
impl Provider for QpienClient {
    fn statuses(&self) -> &'static [ConversationStatus] {
        &QPIEN_STATUSES
    }

    fn name(&self) -> &str {
        "Qpien"
    }

    fn budget(&self) -> Option<crate::sync::scheduler::SchedulerStatus> {
        Some(self.scheduler().status())
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            incremental_sync: true,
            send_text: true,
            update_status: true,
            assign: true,
            star: true,
            priority: true,
            conversation_tags: true,
            contacts: true,
            agents: true,
            templates: true,
            channels: true,
            batched_reads: true,
            bulk_contact_import: false,
        }
    }

    async fn authenticate(&self) -> ApiResult<()> {
        self.tokens.force_refresh(&self.transport).await.map(|_| ())
    }

    async fn list_conversations(&self, query: &ConversationQuery) -> ApiResult<Page<Conversation>> {
        use operations::conversation_list as op;
        let page = page_number(query.cursor.as_ref())?;
        let input = conversation_list_input(query, page)?;
        let data = self
            .call_data::<operations::ConversationList>(op::Variables { input: Some(input) })
            .await?;
        conversation_page(data, page)
    }

    /// The pages in aliased requests of [`PAGE_BATCH`], asked all at once:
    /// page numbers are known in advance.
    async fn list_conversation_pages(
        &self,
        query: &ConversationQuery,
        pages: usize,
    ) -> ApiResult<Vec<Page<Conversation>>> {
        use operations::conversation_list as op;
        let first = page_number(query.cursor.as_ref())?;
        let number = |i: usize| first.saturating_add(u32::try_from(i).unwrap_or(u32::MAX));
        let variables = |i: usize| {
            conversation_list_input(query, number(i))
                .map(|input| op::Variables { input: Some(input) })
        };
        let count = pages.max(1);
        let results = self
            .call_batch::<operations::ConversationList>(count, variables, PAGE_BATCH)
            .await?;
        leading_pages(
            results
                .into_iter()
                .enumerate()
                .map(|(i, r)| r.and_then(|data| conversation_page(data, number(i))))
                .collect(),
        )
    }

    async fn get_conversation(&self, id: &ConversationId) -> ApiResult<Conversation> {
        use operations::conversation as op;
        let data = self
            .call::<operations::Conversation>(op::Variables {
                input: op::GetConversationInput {
                    conversation_id: id.0.clone(),
                },
            })
            .await?;
        let wire = data
            .get_conversation
            .data
            .ok_or_else(|| not_found("conversation", &id.0))?;
        map_conversation(wire_conversation!(wire))
    }

    async fn update_conversation(
        &self,
        id: &ConversationId,
        update: &ConversationUpdate,
    ) -> ApiResult<Conversation> {
        use operations::update_conversation as op;
        // The server refuses an update that changes nothing; the caller
        // still gets the conversation as it stands.
        if update.is_empty() {
            return self.get_conversation(id).await;
        }
        let (joined_c_person, unassign) = match &update.assignee {
            Some(Some(agent)) => (Some(agent.0.clone()), None),
            Some(None) => (None, Some(true)),
            None => (None, None),
        };
        let input = op::UpdateConversationInput {
            conversation_id: id.0.clone(),
            status: update
                .status
                .as_ref()
                .map(|s| wire_enum(&status_to_wire(s)))
                .transpose()?,
            is_starred: update.starred,
            priority: update
                .priority
                .as_ref()
                .map(|p| wire_enum(&priority_to_wire(p)))
                .transpose()?,
            tags: update
                .tags
                .as_ref()
                .map(|tags| tags.iter().map(|t| t.0.clone()).collect()),
            joined_c_person,
            unassign,
        };
        let data = self
            .call::<operations::UpdateConversation>(op::Variables { input })
            .await?;
        let wire = data
            .update_conversation
            .data
            .ok_or_else(|| not_found("conversation", &id.0))?;
        map_conversation(wire_conversation!(wire))
    }

    async fn list_messages(&self, query: &MessageQuery) -> ApiResult<Page<Message>> {
        let data = self
            .call_data::<operations::Messages>(messages_variables(query, 1))
            .await?;
        message_page(data, query.conversation_id.as_str())
    }

    async fn list_messages_page(
        &self,
        query: &MessageQuery,
        page: u32,
    ) -> ApiResult<Page<Message>> {
        let data = self
            .call_data::<operations::Messages>(messages_variables(query, page))
            .await?;
        message_page(data, query.conversation_id.as_str())
    }

    async fn list_message_batch(&self, queries: &[MessageQuery]) -> Vec<ApiResult<Page<Message>>> {
        let variables = |i: usize| Ok(messages_variables(&queries[i], 1));
        match self
            .call_batch::<operations::Messages>(queries.len(), variables, MESSAGE_BATCH)
            .await
        {
            Ok(results) => results
                .into_iter()
                .zip(queries)
                .map(|(result, query)| {
                    result.and_then(|data| message_page(data, query.conversation_id.as_str()))
                })
                .collect(),
            Err(error) => queries.iter().map(|_| Err(error.clone())).collect(),
        }
    }

    async fn get_message(&self, id: &MessageId) -> ApiResult<Message> {
        use operations::message as op;
        let data = self
            .call::<operations::Message>(op::Variables {
                input: op::GetMessageInput {
                    message_id: id.0.clone(),
                },
            })
            .await?;
        let wire = data
            .get_message
            .data
            .ok_or_else(|| not_found("message", &id.0))?;
        map_message(wire_message!(wire), None)
    }

    async fn send_text(&self, message: &OutgoingText) -> ApiResult<Message> {
        use operations::create_message as op;
        if message.text.trim().is_empty() {
            return Err(ApiError::Rejected {
                code: None,
                message: "the message is empty".into(),
            });
        }
        let input = op::CreateMessageInput {
            conversation_id: message.conversation_id.0.clone(),
            content: Some(message.text.clone()),
            content_html: None,
            subject: None,
            media: None,
            quoted_message_id: None,
            channel_id: message.channel_id.as_ref().map(|c| c.0.clone()),
            front_msg_id: Some(message.client_id.clone()),
        };
        let data = self
            .call::<operations::CreateMessage>(op::Variables { input })
            .await?;
        let wire = data
            .create_message
            .data
            .ok_or_else(|| ApiError::Decode("missing field `data` at data.createMessage".into()))?;
        map_message(wire_message!(wire), Some(message.conversation_id.as_str()))
    }

    async fn list_contacts(&self, query: &ContactQuery) -> ApiResult<Page<Contact>> {
        use operations::contact_list as op;
        let page = page_number(query.cursor.as_ref())?;
        let data = self
            .call_data::<operations::ContactList>(op::Variables {
                input: Some(contact_list_input(query, page)),
            })
            .await?;
        contact_page(data, page)
    }

    async fn list_contact_pages(
        &self,
        query: &ContactQuery,
        pages: usize,
    ) -> ApiResult<Vec<Page<Contact>>> {
        use operations::contact_list as op;
        let first = page_number(query.cursor.as_ref())?;
        let number = |i: usize| first.saturating_add(u32::try_from(i).unwrap_or(u32::MAX));
        let variables = |i: usize| {
            Ok(op::Variables {
                input: Some(contact_list_input(query, number(i))),
            })
        };
        let count = pages.max(1);
        let results = self
            .call_batch::<operations::ContactList>(count, variables, PAGE_BATCH)
            .await?;
        leading_pages(
            results
                .into_iter()
                .enumerate()
                .map(|(i, r)| r.and_then(|data| contact_page(data, number(i))))
                .collect(),
        )
    }

    async fn get_contact(&self, id: &ContactId) -> ApiResult<Contact> {
        use operations::contact as op;
        let data = self
            .call::<operations::Contact>(op::Variables {
                input: op::GetContactInput {
                    contact_id: id.0.clone(),
                },
            })
            .await?;
        data.get_contact
            .data
            .map(|c| map_contact(wire_contact!(c)))
            .ok_or_else(|| not_found("contact", &id.0))
    }

    async fn create_contact(&self, fields: &ContactUpdate) -> ApiResult<Contact> {
        let variables = create_contact_variables(fields)?;
        let data = self.call::<operations::CreateContact>(variables).await?;
        let wire = data
            .create_contact
            .data
            .ok_or_else(|| ApiError::Decode("missing field `data` at data.createContact".into()))?;
        Ok(map_contact(wire_contact!(wire)))
    }

    async fn update_contact(&self, id: &ContactId, update: &ContactUpdate) -> ApiResult<Contact> {
        // The server refuses an update that changes nothing; the caller
        // still gets the contact as it stands.
        if update.is_empty() {
            return self.get_contact(id).await;
        }
        let body = update_contact_body(id, update)?;
        let data = self.call_body::<operations::UpdateContact>(&body).await?;
        let wire = data
            .update_contact
            .data
            .ok_or_else(|| not_found("contact", &id.0))?;
        Ok(map_contact(wire_contact!(wire)))
    }

    async fn delete_contact(&self, id: &ContactId) -> ApiResult<()> {
        use operations::delete_contact as op;
        self.call::<operations::DeleteContact>(op::Variables {
            input: op::DeleteContactInput {
                contact_id: id.0.clone(),
            },
        })
        .await
        .map(|_| ())
    }

    async fn get_contacts(&self, ids: &[ContactId]) -> ApiResult<Vec<Contact>> {
        use operations::contact as op;
        let mut seen = HashSet::new();
        let wanted: Vec<&ContactId> = ids
            .iter()
            .filter(|id| !id.0.trim().is_empty() && seen.insert(id.0.as_str()))
            .collect();
        let variables = |i: usize| {
            Ok(op::Variables {
                input: op::GetContactInput {
                    contact_id: wanted[i].0.clone(),
                },
            })
        };
        let results = self
            .call_batch::<operations::Contact>(wanted.len(), variables, CONTACT_BATCH)
            .await?;
        let mut found = Vec::with_capacity(results.len());
        let mut first_error = None;
        for (id, result) in wanted.iter().zip(results) {
            let contact = result.and_then(|data| {
                decode_data::<op::ResponseData>(&data)?
                    .get_contact
                    .data
                    .map(|c| map_contact(wire_contact!(c)))
                    .ok_or_else(|| not_found("contact", &id.0))
            });
            match contact {
                Ok(contact) => found.push(contact),
                Err(ApiError::NotFound(_)) => {}
                Err(e) => {
                    tracing::warn!(error = %e, id = %crate::text::sanitize_line(&id.0), "contact lookup failed");
                    first_error.get_or_insert(e);
                }
            }
        }
        // Only a batch where nothing came back reports its failure; otherwise
        // the missing ones are simply absent and can be asked for again.
        match first_error {
            Some(e) if found.is_empty() => Err(e),
            _ => Ok(found),
        }
    }

    async fn list_agents(&self) -> ApiResult<Vec<Agent>> {
        use operations::agents as op;
        self.fetch_all_pages(|page| async move {
            let data = self
                .call::<operations::Agents>(op::Variables {
                    input: Some(op::GetCustomerPersonListInput {
                        page: Some(page),
                        limit: Some(i64::from(MAX_PAGE_SIZE)),
                        search: None,
                        type_: None,
                        status: None,
                    }),
                })
                .await?;
            let page = data.get_customer_person_list.data.ok_or_else(|| {
                ApiError::Decode("missing field `data` at data.getCustomerPersonList".into())
            })?;
            let items = page
                .docs
                .into_iter()
                .map(|a| map_agent(wire_agent!(a)))
                .collect();
            Ok((items, page.has_next_page))
        })
        .await
    }

    async fn list_channels(&self) -> ApiResult<Vec<ChannelInfo>> {
        use operations::channels as op;
        let data = self
            .call::<operations::Channels>(op::Variables { input: None })
            .await?;
        Ok(data
            .get_all_connected_platform_list
            .data
            .unwrap_or_default()
            .into_iter()
            .map(|c| map_channel(wire_channel!(c)))
            .collect())
    }

    async fn list_templates(&self) -> ApiResult<Vec<Template>> {
        use operations::templates as op;
        let templates = self
            .fetch_all_pages(|page| async move {
                let data = self
                    .call::<operations::Templates>(op::Variables {
                        input: Some(op::GetWhatsappBusinessTemplateListInput {
                            page: Some(page),
                            limit: Some(i64::from(MAX_PAGE_SIZE)),
                            search: None,
                            // Every status, so the picker can say why one
                            // cannot be sent.
                            status: Some(vec![
                                op::WhatsappTemplateStatus::APPROVED,
                                op::WhatsappTemplateStatus::PENDING,
                                op::WhatsappTemplateStatus::REJECTED,
                                op::WhatsappTemplateStatus::PAUSED,
                                op::WhatsappTemplateStatus::DISABLED,
                            ]),
                            category: None,
                            language: None,
                            channel_id: None,
                        }),
                    })
                    .await?;
                let page = data
                    .get_whatsapp_business_template_list
                    .data
                    .ok_or_else(|| {
                        ApiError::Decode(
                            "missing field `data` at data.getWhatsappBusinessTemplateList".into(),
                        )
                    })?;
                let items = page
                    .docs
                    .into_iter()
                    .map(|t| map_template(wire_template!(t)))
                    .collect();
                Ok((items, page.has_next_page))
            })
            .await?;
        Ok(templates)
    }

    async fn send_template(&self, message: &OutgoingTemplate) -> ApiResult<Message> {
        use operations::send_template as op;
        let input = send_template_input(message)?;
        let data = self
            .call::<operations::SendTemplate>(op::Variables { input })
            .await?;
        let result = data.send_whatsapp_template_message.data.ok_or_else(|| {
            ApiError::Decode("missing field `data` at data.sendWhatsappTemplateMessage".into())
        })?;
        let wire = result.message.ok_or_else(|| {
            ApiError::Decode(
                "missing field `message` at data.sendWhatsappTemplateMessage.data".into(),
            )
        })?;
        let conversation = result.conversation_id.or(match &message.recipient {
            Recipient::Conversation(id) => Some(id.0.clone()),
            Recipient::Contact(_) => None,
        });
        map_message(wire_message!(wire), conversation.as_deref())
    }
}

#[cfg(test)]
mod tests_auth;

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn conversation_data(docs: Value) -> Value {
        json!({"getConversationList": {"success": true, "code": 200, "data": {
            "totalDocs": 9, "page": 1, "hasNextPage": true, "docs": docs
        }}})
    }

    #[test]
    fn a_malformed_conversation_costs_only_itself() {
        let page = conversation_page(
            conversation_data(json!([
                {"_id": "c1", "updatedAt": "2025-10-01T00:00:00Z"},
                // Decodes, but has no time to order it by.
                {"_id": "c2"},
                // Does not decode: a tag without its required name.
                {"_id": "c3", "updatedAt": "2025-10-01T00:00:00Z", "tags": [{"_id": "t"}]},
                {"_id": "c4", "updatedAt": "2025-10-01T00:00:00Z"}
            ])),
            3,
        )
        .unwrap();
        let ids: Vec<&str> = page.items.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, vec!["c1", "c4"]);
        assert_eq!(page.skipped, 2);
        assert_eq!(page.next, Some(PageCursor::new("4")));
        assert_eq!(page.total, Some(9));
        assert!(page.items.iter().all(|c| c.contact_name.is_empty()));
    }

    #[test]
    fn pages_stop_at_the_first_failure_or_the_last_page() {
        let ok = |n: usize| -> ApiResult<Page<u8>> {
            Ok(Page::more(vec![0; n], PageCursor::new(n.to_string())))
        };
        let err = || -> ApiResult<Page<u8>> { Err(ApiError::Timeout(Duration::from_secs(1))) };
        let pages = leading_pages(vec![ok(1), ok(2), err(), ok(3)]).unwrap();
        assert_eq!(pages.len(), 2);
        assert!(leading_pages(vec![err(), ok(1)]).is_err());
        assert!(leading_pages::<u8>(vec![]).unwrap().is_empty());
        let pages = leading_pages(vec![ok(1), Ok(Page::last(vec![7])), ok(3)]).unwrap();
        assert_eq!(pages.len(), 2);
        assert!(!pages[1].has_more());
    }

    #[test]
    fn every_offered_status_is_a_wire_status() {
        assert_eq!(QPIEN_STATUSES.len(), 4);
        for status in &QPIEN_STATUSES {
            let wire = mapping::status_to_wire(status);
            assert_eq!(&mapping::status_from_wire(&wire), status, "{wire}");
        }
    }

    #[test]
    fn cursors_are_page_numbers() {
        assert_eq!(page_number(None), Ok(1));
        assert_eq!(page_number(Some(&PageCursor::new("7"))), Ok(7));
        for foreign in ["0", "-1", "abc", "", "99999999999", "\u{1b}[2J"] {
            let error = page_number(Some(&PageCursor::new(foreign))).unwrap_err();
            assert!(
                matches!(&error, ApiError::Decode(m) if m.contains("not issued by Qpien") && !m.contains('\u{1b}')),
                "{error:?}"
            );
        }
        assert_eq!(next_cursor(1, true), Some(PageCursor::new("2")));
        assert_eq!(next_cursor(1, false), None);
        assert_eq!(
            next_cursor(u32::MAX, true),
            Some(PageCursor::new(u32::MAX.to_string()))
        );
        let input = conversation_list_input(&ConversationQuery::default(), 4).unwrap();
        assert_eq!(input.page, Some(4));
    }

    #[test]
    fn incremental_contact_queries_sort_oldest_change_first() {
        let input = contact_list_input(
            &ContactQuery {
                updated_since: Some(chrono::Utc::now()),
                ..ContactQuery::default()
            },
            1,
        );
        let sort = input.sort.expect("sorted");
        assert_eq!(sort.field, "updatedAt");
        assert!(matches!(
            sort.order,
            Some(operations::contact_list::SortOrder::ASC)
        ));
        assert!(input.updated_after.is_some());
        assert!(
            contact_list_input(&ContactQuery::default(), 1)
                .sort
                .is_none()
        );
    }

    fn sent_input(body: &[u8]) -> serde_json::Map<String, Value> {
        let body: Value = serde_json::from_slice(body).expect("JSON body");
        body["variables"]["input"]
            .as_object()
            .cloned()
            .expect("an input object")
    }

    #[test]
    fn contact_updates_send_only_what_changes_and_null_to_clear() {
        let update = ContactUpdate {
            first_name: Some("Ayşe".into()),
            last_name: Some(None),
            email: Some(Some("ayse@example.com".into())),
            phone: Some(Some("+905321234567".into())),
            phone_country_code: Some(Some("90".into())),
            tags: Some(vec![crate::domain::Tag {
                id: crate::domain::TagId::new("t1"),
                name: "VIP".into(),
                color: None,
            }]),
            email_usage_permission: Some(false),
            ..ContactUpdate::default()
        };
        let input = sent_input(&update_contact_body(&ContactId::new("c1"), &update).unwrap());
        assert_eq!(input["contactId"], "c1");
        assert_eq!(input["firstName"], "Ayşe");
        assert_eq!(
            input["lastName"],
            Value::Null,
            "a cleared field is sent as null"
        );
        assert_eq!(input["email"], "ayse@example.com");
        assert_eq!(input["phone"], "+905321234567");
        assert_eq!(input["phoneCountryCode"], "90");
        assert_eq!(input["tags"], json!(["t1"]));
        assert_eq!(input["emailUsagePermission"], false);
        let mut keys: Vec<&str> = input.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "contactId",
                "email",
                "emailUsagePermission",
                "firstName",
                "lastName",
                "phone",
                "phoneCountryCode",
                "tags"
            ],
            "fields not changed are absent"
        );
        let body: Value = serde_json::from_slice(
            &update_contact_body(&ContactId::new("c1"), &ContactUpdate::default()).unwrap(),
        )
        .unwrap();
        assert!(
            body["query"]
                .as_str()
                .is_some_and(|q| q.contains("updateContact"))
        );
        assert_eq!(body["variables"]["input"], json!({"contactId": "c1"}));
    }

    #[test]
    fn new_contacts_need_a_first_name_and_send_no_nulls() {
        let fields = ContactUpdate {
            first_name: Some(" Ali ".into()),
            phone: Some(Some("+905321234567".into())),
            email: Some(None),
            ..ContactUpdate::default()
        };
        let variables = create_contact_variables(&fields).unwrap();
        let input = serde_json::to_value(&variables.input).unwrap();
        assert_eq!(input, json!({"firstName": "Ali", "phone": "+905321234567"}));
        let err = create_contact_variables(&ContactUpdate::default()).unwrap_err();
        assert!(matches!(err, ApiError::Rejected { .. }), "{err:?}");
    }

    fn outgoing_template(values: crate::domain::TemplateValues) -> OutgoingTemplate {
        OutgoingTemplate {
            client_id: "c-1".into(),
            recipient: Recipient::Conversation(ConversationId::new("conv")),
            channel_id: Some(crate::domain::ChannelId::new("wa")),
            template_id: crate::domain::TemplateId::new("t1"),
            template_name: "order_confirmation".into(),
            language: "en".into(),
            values,
        }
    }

    #[test]
    fn templates_go_in_the_full_components_form() {
        use crate::domain::{TemplateParam, TemplateValues};
        let message = outgoing_template(TemplateValues {
            header_text: None,
            header_media_url: Some("https://cdn.example/clip.mp4".into()),
            header_media_format: None,
            body: vec![
                TemplateParam {
                    key: "first_name".into(),
                    value: "Ayşe".into(),
                },
                TemplateParam {
                    key: "2".into(),
                    value: "A-1".into(),
                },
            ],
            buttons: vec![(1, "A-1".into())],
        });
        let input = serde_json::to_value(send_template_input(&message).unwrap()).unwrap();
        assert_eq!(
            input,
            json!({
                "channelId": "wa",
                "templateId": "t1",
                "conversationId": "conv",
                "frontMsgId": "c-1",
                "components": [
                    {"type": "HEADER", "parameters": [{"type": "VIDEO", "url": "https://cdn.example/clip.mp4"}]},
                    {"type": "BODY", "parameters": [
                        {"type": "TEXT", "text": "Ayşe", "parameterName": "first_name"},
                        {"type": "TEXT", "text": "A-1"}]},
                    {"type": "BUTTONS", "index": 1, "parameters": [{"type": "TEXT", "text": "A-1"}]}
                ]
            })
        );
        // The template's own format wins over the file name.
        let mut message = message;
        message.values.header_media_format = Some("DOCUMENT".into());
        let input = serde_json::to_value(send_template_input(&message).unwrap()).unwrap();
        assert_eq!(input["components"][0]["parameters"][0]["type"], "DOCUMENT");
    }

    #[test]
    fn a_template_needs_a_number_to_send_from() {
        let mut message = outgoing_template(crate::domain::TemplateValues::default());
        message.channel_id = None;
        assert_eq!(
            send_template_input(&message).unwrap_err(),
            ApiError::Rejected {
                code: None,
                message: "no WhatsApp number to send from".into()
            }
        );
        message.channel_id = Some(crate::domain::ChannelId::new("wa"));
        message.template_id = crate::domain::TemplateId::new("");
        message.recipient = Recipient::Contact(ContactId::new("k"));
        let input = serde_json::to_value(send_template_input(&message).unwrap()).unwrap();
        assert_eq!(input["templateName"], "order_confirmation");
        assert_eq!(input["language"], "en");
        assert_eq!(input["contactId"], "k");
        assert!(input.get("components").is_none(), "nothing to fill");
    }

    #[test]
    fn media_kinds_from_file_names() {
        assert_eq!(media_kind_from_url("https://x/a.MP4?x=1"), "VIDEO");
        assert_eq!(media_kind_from_url("https://x/invoice.pdf"), "DOCUMENT");
        assert_eq!(media_kind_from_url("https://x/photo"), "IMAGE");
    }

    #[test]
    fn a_phone_query_filters_by_phone() {
        let input = contact_list_input(
            &ContactQuery {
                phone: Some("+905321234567".into()),
                ..ContactQuery::default()
            },
            1,
        );
        assert_eq!(input.phone.as_deref(), Some("+905321234567"));
        assert!(
            contact_list_input(&ContactQuery::default(), 1)
                .phone
                .is_none()
        );
    }
}
