//! The provider abstraction: one async trait speaking domain types, so the
//! app never knows which platform it talks to.

pub mod qpien;

use std::time::Duration;

use async_trait::async_trait;

use crate::domain::{
    Agent, ChannelInfo, Contact, ContactId, ContactQuery, ContactUpdate, Conversation,
    ConversationId, ConversationQuery, ConversationUpdate, Message, MessageId, MessageQuery,
    OutgoingTemplate, OutgoingText, Page, Template,
};

/// What a provider offers; the UI hides or greys out the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Capabilities {
    pub incremental_sync: bool,
    pub send_text: bool,
    pub update_status: bool,
    pub assign: bool,
    pub star: bool,
    pub priority: bool,
    pub conversation_tags: bool,
    pub contacts: bool,
    pub agents: bool,
    pub templates: bool,
    pub channels: bool,
    /// Several lists or threads come in one request, so reading ahead
    /// (recent threads for offline use) is cheap.
    pub batched_reads: bool,
}

/// Errors shared by every provider. Messages are written for the agent: they
/// say what went wrong and, where it helps, what to do next. They never carry
/// secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    #[error("network error: {0}")]
    Network(String),
    #[error("the server did not answer within {0:?}")]
    Timeout(Duration),
    #[error("rate-limited by the server; retrying in {}s", retry_after.as_secs())]
    RateLimited { retry_after: Duration },
    #[error("client id or secret rejected: {0}. Check the account's credentials in the config")]
    InvalidCredentials(String),
    #[error("not authorized: {0}")]
    Unauthorized(String),
    #[error("the access token expired")]
    TokenExpired,
    #[error("the API key lacks the scope {}; enable it on the key in the dashboard", scope.as_deref().unwrap_or("needed for this action"))]
    InsufficientScope { scope: Option<String> },
    #[error("not found: {0}")]
    NotFound(String),
    #[error("the server refused: {message}")]
    Rejected { code: Option<i64>, message: String },
    #[error("server error (HTTP {status}): {message}")]
    Server { status: u16, message: String },
    #[error("unexpected response: {0}")]
    Decode(String),
    #[error("the API does not support this request: {0}")]
    SchemaMismatch(String),
    #[error("{0} is not offered by this provider")]
    Unsupported(&'static str),
}

impl ApiError {
    /// Worth retrying later without any change from the agent.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ApiError::Network(_)
                | ApiError::Timeout(_)
                | ApiError::RateLimited { .. }
                | ApiError::TokenExpired
                | ApiError::Server { .. }
        )
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[async_trait]
pub trait Provider: Send + Sync {
    /// Short provider name for the status bar, e.g. `Qpien`.
    fn name(&self) -> &str;

    fn capabilities(&self) -> Capabilities;

    /// The account's request budget, where the provider schedules requests.
    fn budget(&self) -> Option<crate::sync::scheduler::SchedulerStatus> {
        None
    }

    /// Checks the credentials; cheap to call again.
    async fn authenticate(&self) -> ApiResult<()>;

    /// Conversations, most recently updated first.
    async fn list_conversations(&self, query: &ConversationQuery) -> ApiResult<Page<Conversation>>;

    async fn get_conversation(&self, id: &ConversationId) -> ApiResult<Conversation>;

    async fn update_conversation(
        &self,
        id: &ConversationId,
        update: &ConversationUpdate,
    ) -> ApiResult<Conversation>;

    /// Messages newest first.
    async fn list_messages(&self, query: &MessageQuery) -> ApiResult<Page<Message>>;

    async fn get_message(&self, id: &MessageId) -> ApiResult<Message>;

    /// Sends a reply; sending the same `client_id` twice yields one message.
    async fn send_text(&self, message: &OutgoingText) -> ApiResult<Message>;

    async fn list_contacts(&self, query: &ContactQuery) -> ApiResult<Page<Contact>>;

    async fn get_contact(&self, id: &ContactId) -> ApiResult<Contact>;

    /// Creates a contact from `fields` (a first name and a phone at least).
    /// A phone the account already has is refused: the server's answer is
    /// `Rejected`, and the existing contact can be found with
    /// `ContactQuery::phone`.
    async fn create_contact(&self, fields: &ContactUpdate) -> ApiResult<Contact> {
        let _ = fields;
        Err(ApiError::Unsupported("creating contacts"))
    }

    /// Changes only the fields `update` sets; returns the contact after.
    async fn update_contact(&self, id: &ContactId, update: &ContactUpdate) -> ApiResult<Contact> {
        let _ = (id, update);
        Err(ApiError::Unsupported("editing contacts"))
    }

    async fn delete_contact(&self, id: &ContactId) -> ApiResult<()> {
        let _ = id;
        Err(ApiError::Unsupported("deleting contacts"))
    }

    /// Several pages in as few requests as the provider allows. `pages[i]`
    /// answers `queries[i]`; on a failure after the first page the answered
    /// ones come back (fewer than asked) and the rest can be asked again.
    /// This default asks one page at a time.
    async fn list_conversation_pages(
        &self,
        queries: &[ConversationQuery],
    ) -> ApiResult<Vec<Page<Conversation>>> {
        let mut pages = Vec::with_capacity(queries.len());
        for query in queries {
            match self.list_conversations(query).await {
                Ok(page) => pages.push(page),
                Err(e) if pages.is_empty() => return Err(e),
                Err(_) => break,
            }
        }
        Ok(pages)
    }

    /// The newest messages of several threads, one result per query, in as
    /// few requests as the provider allows. This default asks one at a time.
    async fn list_message_batch(&self, queries: &[MessageQuery]) -> Vec<ApiResult<Page<Message>>> {
        let mut results = Vec::with_capacity(queries.len());
        for query in queries {
            results.push(self.list_messages(query).await);
        }
        results
    }

    /// Like [`Provider::list_conversation_pages`], for the contact directory.
    async fn list_contact_pages(&self, queries: &[ContactQuery]) -> ApiResult<Vec<Page<Contact>>> {
        let mut pages = Vec::with_capacity(queries.len());
        for query in queries {
            match self.list_contacts(query).await {
                Ok(page) => pages.push(page),
                Err(e) if pages.is_empty() => return Err(e),
                Err(_) => break,
            }
        }
        Ok(pages)
    }

    /// The contacts among `ids` that exist, in as few requests as the
    /// provider allows; unknown ids are left out. An error means nothing
    /// could be looked up. This default asks one contact at a time.
    async fn get_contacts(&self, ids: &[ContactId]) -> ApiResult<Vec<Contact>> {
        let mut found = Vec::with_capacity(ids.len());
        let mut first_error = None;
        for id in ids {
            match self.get_contact(id).await {
                Ok(contact) => found.push(contact),
                Err(ApiError::NotFound(_)) => {}
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) if found.is_empty() => Err(e),
            _ => Ok(found),
        }
    }

    async fn list_agents(&self) -> ApiResult<Vec<Agent>>;

    async fn list_channels(&self) -> ApiResult<Vec<ChannelInfo>>;

    /// Every template whatever its review status, so a picker can say why
    /// one cannot be sent; only approved ones can be sent.
    async fn list_templates(&self) -> ApiResult<Vec<Template>>;

    /// Sends an approved template; the answer is the message as the
    /// server stored it (its `conversation_id` says where, which matters
    /// when the recipient was a contact).
    async fn send_template(&self, message: &OutgoingTemplate) -> ApiResult<Message> {
        let _ = message;
        Err(ApiError::Unsupported("sending templates"))
    }
}
