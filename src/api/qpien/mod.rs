//! Qpien GraphQL provider: a typed client for `https://api.qpien.com/api/v1`
//! (contract: `assets/qpien.graphql`; reconstructed parts are marked there).
//!
//! Layers: `operations` (compile-time checked documents) → `transport`
//! (HTTP, pacing, envelope and error decoding) → `token` (access tokens) →
//! this module (the `Provider` methods) → `mapping` (wire → domain).

pub mod mapping;
pub mod operations;
pub mod pacing;
pub mod scalars;
pub mod token;
pub mod transport;

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use futures::stream::{self, StreamExt};
use secrecy::SecretString;
use serde::de::DeserializeOwned;

use self::mapping::{
    contact_label, map_agent, map_channel, map_contact, map_conversation, map_message,
    map_template, priority_to_wire, status_to_wire, wire_agent, wire_channel, wire_contact,
    wire_conversation, wire_message, wire_template,
};
use self::operations::Operation;
use self::scalars::WireDate;
use self::token::TokenManager;
use self::transport::Transport;
use crate::api::{ApiError, ApiResult, Capabilities, Provider};
use crate::domain::{
    Agent, ChannelInfo, Contact, ContactId, ContactQuery, Conversation, ConversationId,
    ConversationQuery, ConversationUpdate, Message, MessageId, MessageQuery, OutgoingText, Page,
    Template,
};

/// Page size used when the caller leaves `limit` at 0.
const DEFAULT_PAGE_SIZE: u32 = 20;
/// The server's page-size cap is unpublished; 100 is the safe maximum.
const MAX_PAGE_SIZE: u32 = 100;
/// More unknown contacts than this on one conversation page → warm the
/// cache with contact-list pages first instead of one request per contact.
const WARM_THRESHOLD: usize = 5;
const WARM_MAX_PAGES: i64 = 5;
const CONTACT_FETCH_CONCURRENCY: usize = 8;
/// Guard against a server that always reports another page.
const MAX_PAGES_FETCH_ALL: i64 = 100;
/// The contact cache is dropped when it grows past this many entries.
const CONTACT_CACHE_CAP: usize = 50_000;

/// Connection settings of one Qpien API key.
#[derive(Debug, Clone)]
pub struct QpienConfig {
    /// GraphQL endpoint, e.g. `https://api.qpien.com/api/v1`.
    pub base_url: String,
    pub client_id: String,
    pub client_secret: SecretString,
    pub request_timeout: Duration,
}

impl QpienConfig {
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);
    pub const DEFAULT_URL: &'static str = "https://api.qpien.com/api/v1";

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
        }
    }
}

/// The Qpien provider. Cheap to share in an `Arc`; all state (token, pacing,
/// contact names) is internal and synchronized.
pub struct QpienClient {
    transport: Transport,
    tokens: TokenManager,
    contacts: Mutex<ContactCache>,
}

impl std::fmt::Debug for QpienClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QpienClient")
            .field("transport", &self.transport)
            .field("tokens", &self.tokens)
            .finish_non_exhaustive()
    }
}

/// Contacts seen so far, for labelling conversations.
#[derive(Default)]
struct ContactCache {
    by_id: HashMap<String, Contact>,
    /// Ids the server said do not exist: not looked up again on every poll.
    missing: HashSet<String>,
}

fn page_size(limit: u32) -> i64 {
    let limit = if limit == 0 { DEFAULT_PAGE_SIZE } else { limit };
    i64::from(limit.clamp(1, MAX_PAGE_SIZE))
}

fn page_number(page: u32) -> i64 {
    i64::from(page.max(1))
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

/// `success: true` with `data: null` on a single-object query.
fn not_found(what: &str, id: &str) -> ApiError {
    ApiError::NotFound(format!("{what} {}", crate::text::sanitize_line(id)))
}

impl QpienClient {
    pub fn new(config: QpienConfig) -> Result<Self, ApiError> {
        if config.client_id.trim().is_empty() {
            return Err(ApiError::InvalidCredentials(
                "the client id is empty".into(),
            ));
        }
        Ok(QpienClient {
            transport: Transport::new(&config.base_url, config.request_timeout)?,
            tokens: TokenManager::new(config.client_id, config.client_secret),
            contacts: Mutex::new(ContactCache::default()),
        })
    }

    /// Runs an authenticated operation. A token the server calls expired or
    /// invalid is replaced once and the request replayed once; the server did
    /// not process the first attempt, so this is safe for mutations too.
    async fn call<Q: Operation>(&self, variables: Q::Variables) -> ApiResult<Q::ResponseData> {
        let body = Transport::body::<Q>(variables)?;
        let token = self.tokens.get(&self.transport).await?;
        match self
            .transport
            .post::<Q::ResponseData>(&body, Q::ROOT, Some(&token.value))
            .await
        {
            Err(ApiError::TokenExpired | ApiError::Unauthorized(_)) => {
                tracing::info!(op = Q::ROOT, "access token refused; getting a new one");
                let fresh = self
                    .tokens
                    .refresh_after(&self.transport, token.generation)
                    .await?;
                self.transport
                    .post::<Q::ResponseData>(&body, Q::ROOT, Some(&fresh.value))
                    .await
            }
            other => other,
        }
    }

    fn cache_contacts(&self, contacts: impl IntoIterator<Item = Contact>) {
        let Ok(mut cache) = self.contacts.lock() else {
            return;
        };
        if cache.by_id.len() > CONTACT_CACHE_CAP {
            cache.by_id.clear();
        }
        for contact in contacts {
            cache.missing.remove(&contact.id.0);
            cache.by_id.insert(contact.id.0.clone(), contact);
        }
    }

    fn cached_contact_ids(&self, ids: &[String]) -> HashSet<String> {
        match self.contacts.lock() {
            Ok(cache) => ids
                .iter()
                .filter(|id| cache.by_id.contains_key(id.as_str()) || cache.missing.contains(*id))
                .cloned()
                .collect(),
            Err(_) => HashSet::new(),
        }
    }

    async fn fetch_contact(&self, id: &str) -> ApiResult<Contact> {
        use operations::contact as op;
        let data = self
            .call::<operations::Contact>(op::Variables {
                input: op::GetContactInput {
                    contact_id: id.to_string(),
                },
            })
            .await?;
        let contact = data
            .get_contact
            .data
            .map(|c| map_contact(wire_contact!(c)))
            .ok_or_else(|| not_found("contact", id))?;
        self.cache_contacts([contact.clone()]);
        Ok(contact)
    }

    async fn fetch_contact_page(
        &self,
        page: i64,
        limit: i64,
        search: Option<String>,
    ) -> ApiResult<Page<Contact>> {
        use operations::contact_list as op;
        let data = self
            .call::<operations::ContactList>(op::Variables {
                input: Some(op::GetContactListInput {
                    page: Some(page),
                    limit: Some(limit),
                    search,
                    tags: None,
                    channel_type: None,
                    phone: None,
                    email: None,
                    created_after: None,
                    updated_after: None,
                    sort: None,
                }),
            })
            .await?;
        let page = data.get_contact_list.data.ok_or_else(|| {
            ApiError::Decode("missing field `data` at data.getContactList".into())
        })?;
        let items: Vec<Contact> = page
            .docs
            .into_iter()
            .map(|c| map_contact(wire_contact!(c)))
            .collect();
        self.cache_contacts(items.iter().cloned());
        Ok(Page {
            items,
            has_more: page.has_next_page,
            total: u64::try_from(page.total_docs).ok(),
        })
    }

    /// Fills `contact_name` from the contact cache, fetching unknown contacts
    /// first. Lookup failures only cost the name, never the list.
    async fn fill_contact_names(&self, conversations: &mut [Conversation]) {
        let mut wanted: Vec<String> = Vec::new();
        for conv in conversations.iter() {
            if let Some(id) = &conv.contact_id
                && !wanted.contains(&id.0)
            {
                wanted.push(id.0.clone());
            }
        }
        let known = self.cached_contact_ids(&wanted);
        let mut unknown: Vec<String> = wanted
            .into_iter()
            .filter(|id| !known.contains(id))
            .collect();

        if unknown.len() > WARM_THRESHOLD {
            for page in 1..=WARM_MAX_PAGES {
                match self
                    .fetch_contact_page(page, i64::from(MAX_PAGE_SIZE), None)
                    .await
                {
                    Ok(result) => {
                        let known = self.cached_contact_ids(&unknown);
                        unknown.retain(|id| !known.contains(id));
                        if unknown.is_empty() || !result.has_more {
                            break;
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "could not warm the contact cache");
                        break;
                    }
                }
            }
        }

        if !unknown.is_empty() {
            stream::iter(unknown)
                .for_each_concurrent(CONTACT_FETCH_CONCURRENCY, |id| async move {
                    match self.fetch_contact(&id).await {
                        Ok(_) => {}
                        Err(ApiError::NotFound(_)) => {
                            if let Ok(mut cache) = self.contacts.lock() {
                                cache.missing.insert(id);
                            }
                        }
                        Err(e) => tracing::debug!(error = %e, "contact lookup failed"),
                    }
                })
                .await;
        }

        let Ok(cache) = self.contacts.lock() else {
            return;
        };
        for conv in conversations.iter_mut() {
            let contact = conv
                .contact_id
                .as_ref()
                .and_then(|id| cache.by_id.get(&id.0));
            conv.contact_name = contact_label(contact);
        }
    }

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
    fn name(&self) -> &str {
        "Qpien"
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
        }
    }

    async fn authenticate(&self) -> ApiResult<()> {
        self.tokens.force_refresh(&self.transport).await.map(|_| ())
    }

    async fn list_conversations(&self, query: &ConversationQuery) -> ApiResult<Page<Conversation>> {
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
        let input = op::GetConversationListInput {
            page: Some(page_number(query.page)),
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
                order: Some(op::SortOrder::DESC),
            }),
        };
        let data = self
            .call::<operations::ConversationList>(op::Variables { input: Some(input) })
            .await?;
        let page = data.get_conversation_list.data.ok_or_else(|| {
            ApiError::Decode("missing field `data` at data.getConversationList".into())
        })?;
        let mut items = page
            .docs
            .into_iter()
            .map(|c| map_conversation(wire_conversation!(c)))
            .collect::<ApiResult<Vec<_>>>()?;
        self.fill_contact_names(&mut items).await;
        Ok(Page {
            items,
            has_more: page.has_next_page,
            total: u64::try_from(page.total_docs).ok(),
        })
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
        let mut conv = [map_conversation(wire_conversation!(wire))?];
        self.fill_contact_names(&mut conv).await;
        let [conv] = conv;
        Ok(conv)
    }

    async fn update_conversation(
        &self,
        id: &ConversationId,
        update: &ConversationUpdate,
    ) -> ApiResult<Conversation> {
        use operations::update_conversation as op;
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
        let mut conv = [map_conversation(wire_conversation!(wire))?];
        self.fill_contact_names(&mut conv).await;
        let [conv] = conv;
        Ok(conv)
    }

    async fn list_messages(&self, query: &MessageQuery) -> ApiResult<Page<Message>> {
        use operations::messages as op;
        let input = op::GetMessagesInput {
            conversation_id: query.conversation_id.0.clone(),
            page: Some(1),
            limit: Some(page_size(query.limit)),
            before: query.before.map(WireDate),
            after: query.after.map(WireDate),
            order: Some(op::SortOrder::DESC),
        };
        let data = self
            .call::<operations::Messages>(op::Variables { input })
            .await?;
        let page = data
            .get_messages
            .data
            .ok_or_else(|| ApiError::Decode("missing field `data` at data.getMessages".into()))?;
        let conv_id = query.conversation_id.as_str();
        let items = page
            .docs
            .into_iter()
            .map(|m| map_message(wire_message!(m), Some(conv_id)))
            .collect::<ApiResult<Vec<_>>>()?;
        Ok(Page {
            items,
            has_more: page.has_next_page,
            total: u64::try_from(page.total_docs).ok(),
        })
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
        self.fetch_contact_page(
            page_number(query.page),
            page_size(query.limit),
            non_empty(query.search.as_deref()),
        )
        .await
    }

    async fn get_contact(&self, id: &ContactId) -> ApiResult<Contact> {
        self.fetch_contact(&id.0).await
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
        self.fetch_all_pages(|page| async move {
            let data = self
                .call::<operations::Templates>(op::Variables {
                    input: Some(op::GetWhatsappBusinessTemplateListInput {
                        page: Some(page),
                        limit: Some(i64::from(MAX_PAGE_SIZE)),
                        search: None,
                        status: Some(vec![
                            op::WhatsappTemplateStatus::APPROVED,
                            op::WhatsappTemplateStatus::PENDING,
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
        .await
    }
}
