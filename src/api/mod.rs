//! The provider abstraction: one async trait speaking domain types, so the
//! app never knows which platform it talks to.

pub mod accounts;
pub mod decode_all;
pub mod dmchamp;
pub mod http;
pub mod qpien;
pub mod superwaba;

use std::time::Duration;

use async_trait::async_trait;

use crate::domain::{
    Agent, ChannelInfo, Contact, ContactId, ContactQuery, ContactUpdate, Conversation,
    ConversationId, ConversationQuery, ConversationStatus, ConversationUpdate, Message, MessageId,
    MessageQuery, OutgoingTemplate, OutgoingText, Page, Template,
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
    /// Many contacts created or updated in one request.
    pub bulk_contact_import: bool,
}

impl Capabilities {
    /// Everything offered.
    pub const fn all() -> Self {
        Self {
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
            bulk_contact_import: true,
        }
    }
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
    #[error("rate-limited: the account's requests for this minute are used up; retrying in {}s", retry_after.as_secs())]
    RateLimited { retry_after: Duration },
    #[error("the credentials were rejected: {0}. Check the account's credentials in the config")]
    InvalidCredentials(String),
    #[error("not authorized: {0}")]
    Unauthorized(String),
    #[error("the access token expired")]
    TokenExpired,
    #[error("the API key lacks the permission {}; grant it to the key in your provider's dashboard", scope.as_deref().unwrap_or("needed for this action"))]
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

/// How the provider answered one row of a bulk contact import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BulkRowOutcome {
    Created(Contact),
    Updated(Contact),
    /// The row was refused; the reason is the server's, made safe to show.
    Failed(String),
}

/// A provider implements what it offers; every other request answers
/// [`ApiError::Unsupported`], and [`Provider::capabilities`] tells the app
/// not to ask.
#[async_trait]
pub trait Provider: Send + Sync {
    /// Short provider name for the status bar, e.g. `Qpien`.
    fn name(&self) -> &str;

    fn capabilities(&self) -> Capabilities;

    /// The statuses conversations can be filtered by and set to, in the
    /// order a picker shows them; empty when the provider has none.
    fn statuses(&self) -> &'static [ConversationStatus] {
        &[]
    }

    /// The account's request budget, where the provider schedules requests.
    fn budget(&self) -> Option<crate::sync::scheduler::SchedulerStatus> {
        None
    }

    /// Checks the credentials; cheap to call again.
    async fn authenticate(&self) -> ApiResult<()>;

    /// Conversations, most recently updated first.
    async fn list_conversations(&self, query: &ConversationQuery) -> ApiResult<Page<Conversation>> {
        let _ = query;
        Err(ApiError::Unsupported("listing conversations"))
    }

    async fn get_conversation(&self, id: &ConversationId) -> ApiResult<Conversation> {
        let _ = id;
        Err(ApiError::Unsupported("reading a conversation"))
    }

    async fn update_conversation(
        &self,
        id: &ConversationId,
        update: &ConversationUpdate,
    ) -> ApiResult<Conversation> {
        let _ = (id, update);
        Err(ApiError::Unsupported("changing conversations"))
    }

    /// Messages newest first.
    async fn list_messages(&self, query: &MessageQuery) -> ApiResult<Page<Message>> {
        let _ = query;
        Err(ApiError::Unsupported("reading messages"))
    }

    /// Page `page` (from 1) of the messages `query` selects, newest first:
    /// how a thread pages back through more messages sharing one time than
    /// a page holds, which `before` alone cannot step past. This default
    /// reads the pages up to `page` in one request where the size allows.
    async fn list_messages_page(
        &self,
        query: &MessageQuery,
        page: u32,
    ) -> ApiResult<Page<Message>> {
        if page <= 1 {
            return self.list_messages(query).await;
        }
        let limit = query.limit.max(1);
        let through = limit.saturating_mul(page);
        if through > MAX_MESSAGE_PAGE {
            return Err(ApiError::Unsupported(
                "reading this far back through messages sent at the same moment",
            ));
        }
        let mut wide = query.clone();
        wide.limit = through;
        let mut all = self.list_messages(&wide).await?;
        let skip = (limit * (page - 1)) as usize;
        all.items = all.items.into_iter().skip(skip).collect();
        Ok(all)
    }

    async fn get_message(&self, id: &MessageId) -> ApiResult<Message> {
        let _ = id;
        Err(ApiError::Unsupported("reading a message"))
    }

    /// Sends a reply; sending the same `client_id` twice yields one message.
    async fn send_text(&self, message: &OutgoingText) -> ApiResult<Message> {
        let _ = message;
        Err(ApiError::Unsupported("sending replies"))
    }

    async fn list_contacts(&self, query: &ContactQuery) -> ApiResult<Page<Contact>> {
        let _ = query;
        Err(ApiError::Unsupported("listing contacts"))
    }

    async fn get_contact(&self, id: &ContactId) -> ApiResult<Contact> {
        let _ = id;
        Err(ApiError::Unsupported("reading contacts"))
    }

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

    /// Up to `pages` (at least one) consecutive pages starting at
    /// `query.cursor`, in as few requests as the provider allows. Fewer come
    /// back at the end of the list, or on a failure after the first page
    /// (the answered ones come back and the rest can be asked again from the
    /// last `next`). This default follows `next` one page at a time.
    async fn list_conversation_pages(
        &self,
        query: &ConversationQuery,
        pages: usize,
    ) -> ApiResult<Vec<Page<Conversation>>> {
        let mut query = query.clone();
        let mut answered = Vec::with_capacity(pages.min(16));
        while answered.len() < pages.max(1) {
            match self.list_conversations(&query).await {
                Ok(page) => {
                    query.cursor = page.next.clone();
                    answered.push(page);
                    if query.cursor.is_none() {
                        break;
                    }
                }
                Err(e) if answered.is_empty() => return Err(e),
                Err(_) => break,
            }
        }
        Ok(answered)
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
    async fn list_contact_pages(
        &self,
        query: &ContactQuery,
        pages: usize,
    ) -> ApiResult<Vec<Page<Contact>>> {
        let mut query = query.clone();
        let mut answered = Vec::with_capacity(pages.min(16));
        while answered.len() < pages.max(1) {
            match self.list_contacts(&query).await {
                Ok(page) => {
                    query.cursor = page.next.clone();
                    answered.push(page);
                    if query.cursor.is_none() {
                        break;
                    }
                }
                Err(e) if answered.is_empty() => return Err(e),
                Err(_) => break,
            }
        }
        Ok(answered)
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

    /// Creates or updates (matched by phone) many contacts in as few
    /// requests as the provider allows: one outcome per row, in order. A
    /// row the server refuses does not fail the others.
    async fn import_contacts(&self, rows: &[ContactUpdate]) -> ApiResult<Vec<BulkRowOutcome>> {
        let _ = rows;
        Err(ApiError::Unsupported("importing contacts in bulk"))
    }

    /// The agent the credentials belong to, where the sign-in says so
    /// (used for "assign to me" without asking).
    async fn current_agent(&self) -> ApiResult<Option<Agent>> {
        Ok(None)
    }

    async fn list_agents(&self) -> ApiResult<Vec<Agent>> {
        Err(ApiError::Unsupported("listing agents"))
    }

    async fn list_channels(&self) -> ApiResult<Vec<ChannelInfo>> {
        Err(ApiError::Unsupported("listing channels"))
    }

    /// Every template whatever its review status, so a picker can say why
    /// one cannot be sent; only approved ones can be sent.
    async fn list_templates(&self) -> ApiResult<Vec<Template>> {
        Err(ApiError::Unsupported("listing templates"))
    }

    /// Sends an approved template; the answer is the message as the
    /// server stored it (its `conversation_id` says where, which matters
    /// when the recipient was a contact).
    async fn send_template(&self, message: &OutgoingTemplate) -> ApiResult<Message> {
        let _ = message;
        Err(ApiError::Unsupported("sending templates"))
    }
}

/// The largest page of messages any provider is asked for.
pub const MAX_MESSAGE_PAGE: u32 = 100;

#[cfg(test)]
mod tests {
    use super::*;

    /// A provider that offers nothing beyond signing in.
    struct Bare;

    #[async_trait]
    impl Provider for Bare {
        fn name(&self) -> &str {
            "Bare"
        }

        fn capabilities(&self) -> Capabilities {
            Capabilities::default()
        }

        async fn authenticate(&self) -> ApiResult<()> {
            Ok(())
        }
    }

    fn unsupported<T: std::fmt::Debug>(result: ApiResult<T>) -> &'static str {
        match result {
            Err(ApiError::Unsupported(what)) => what,
            other => panic!("expected Unsupported, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_provider_implements_only_what_it_offers() {
        let p = Bare;
        assert!(p.authenticate().await.is_ok());
        assert!(p.statuses().is_empty());
        assert_eq!(
            unsupported(p.list_conversations(&ConversationQuery::default()).await),
            "listing conversations"
        );
        let conversation = ConversationId::new("c1");
        assert_eq!(
            unsupported(p.get_conversation(&conversation).await),
            "reading a conversation"
        );
        assert_eq!(
            unsupported(
                p.update_conversation(&conversation, &ConversationUpdate::default())
                    .await
            ),
            "changing conversations"
        );
        let messages = MessageQuery {
            conversation_id: conversation.clone(),
            before: None,
            after: None,
            limit: 10,
        };
        assert_eq!(
            unsupported(p.list_messages(&messages).await),
            "reading messages"
        );
        assert_eq!(
            unsupported(p.get_message(&MessageId::new("m1")).await),
            "reading a message"
        );
        assert_eq!(unsupported(p.list_agents().await), "listing agents");
        assert_eq!(
            unsupported(p.import_contacts(&[ContactUpdate::default()]).await),
            "importing contacts in bulk"
        );
        assert_eq!(p.current_agent().await, Ok(None));
        assert_eq!(unsupported(p.list_channels().await), "listing channels");
        assert_eq!(unsupported(p.list_templates().await), "listing templates");
        let contact = ContactId::new("k1");
        assert_eq!(
            unsupported(p.get_contact(&contact).await),
            "reading contacts"
        );
        assert_eq!(
            unsupported(p.list_contacts(&ContactQuery::default()).await),
            "listing contacts"
        );
        assert_eq!(
            unsupported(p.delete_contact(&contact).await),
            "deleting contacts"
        );
        // The batched defaults pass the answer on.
        assert_eq!(
            unsupported(
                p.list_conversation_pages(&ConversationQuery::default(), 3)
                    .await
            ),
            "listing conversations"
        );
        assert_eq!(
            unsupported(p.get_contacts(std::slice::from_ref(&contact)).await),
            "reading contacts"
        );
        let batch = p.list_message_batch(&[messages]).await;
        assert!(matches!(batch[..], [Err(ApiError::Unsupported(_))]));
        assert_eq!(
            ApiError::Unsupported("listing agents").to_string(),
            "listing agents is not offered by this provider"
        );
    }

    /// Seven contacts, two per page; the cursor is the offset. Reading
    /// from offset `fail_at` fails.
    struct Paged {
        fail_at: Option<usize>,
    }

    #[async_trait]
    impl Provider for Paged {
        fn name(&self) -> &str {
            "Paged"
        }

        fn capabilities(&self) -> Capabilities {
            Capabilities::default()
        }

        async fn authenticate(&self) -> ApiResult<()> {
            Ok(())
        }

        async fn list_contacts(&self, query: &ContactQuery) -> ApiResult<Page<Contact>> {
            let from: usize = query
                .cursor
                .as_ref()
                .map_or(0, |c| c.as_str().parse().unwrap());
            if self.fail_at == Some(from) {
                return Err(ApiError::Timeout(Duration::from_secs(1)));
            }
            let items: Vec<Contact> = (from..(from + 2).min(7))
                .map(|i| Contact::named(i.to_string(), "x"))
                .collect();
            Ok(if from + 2 < 7 {
                Page::more(
                    items,
                    crate::domain::PageCursor::new((from + 2).to_string()),
                )
            } else {
                Page::last(items)
            })
        }
    }

    fn ids(pages: &[Page<Contact>]) -> Vec<&str> {
        pages
            .iter()
            .flat_map(|p| &p.items)
            .map(|c| c.id.as_str())
            .collect()
    }

    #[tokio::test]
    async fn the_default_batch_follows_the_cursors() {
        let p = Paged { fail_at: None };
        let first = ContactQuery::default();
        let pages = p.list_contact_pages(&first, 2).await.unwrap();
        assert_eq!(ids(&pages), ["0", "1", "2", "3"]);
        let next = ContactQuery {
            cursor: pages[1].next.clone(),
            ..first
        };
        // Fewer pages than asked at the end of the list.
        let pages = p.list_contact_pages(&next, 5).await.unwrap();
        assert_eq!(ids(&pages), ["4", "5", "6"]);
        assert!(!pages.last().unwrap().has_more());
        // A failure after the first page returns what was answered.
        let p = Paged { fail_at: Some(4) };
        let pages = p
            .list_contact_pages(&ContactQuery::default(), 3)
            .await
            .unwrap();
        assert_eq!(ids(&pages), ["0", "1", "2", "3"]);
        assert!(pages[1].has_more());
        assert!(p.list_contact_pages(&next, 3).await.is_err());
    }

    #[test]
    fn shared_error_texts_name_no_provider() {
        let scope = ApiError::InsufficientScope {
            scope: Some("contact:write".into()),
        }
        .to_string();
        assert_eq!(
            scope,
            "the API key lacks the permission contact:write; grant it to the key in your provider's dashboard"
        );
        assert!(!scope.contains("Qpien"));
    }
}
