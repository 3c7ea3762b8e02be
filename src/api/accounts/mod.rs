//! Several accounts behind one provider. In a run with more than one
//! account every id the app sees is `"{account}:{provider id}"`: account
//! names are limited to `[A-Za-z0-9_-]`, so the first `:` splits. An
//! [`AccountProvider`] rewrites ids in both directions for one account; the
//! [`Router`] sends each call to the account that owns its ids.

mod ids;
mod router;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_router;

use std::sync::Arc;

use async_trait::async_trait;

use crate::api::{ApiError, ApiResult, BulkRowOutcome, Capabilities, Provider};
use crate::domain::{
    Agent, ChannelInfo, Contact, ContactId, ContactQuery, ContactUpdate, Conversation,
    ConversationId, ConversationQuery, ConversationStatus, ConversationUpdate, Message, MessageId,
    MessageQuery, OutgoingTemplate, OutgoingText, Page, Template,
};
use ids::Ids;
pub use ids::{account_of, qualify};
pub use router::{AccountFocus, Router};

/// One account's provider as the app sees it in a multi-account run.
pub struct AccountProvider {
    ids: Ids,
    inner: Arc<dyn Provider>,
}

impl AccountProvider {
    pub fn new(account: impl Into<String>, inner: Arc<dyn Provider>) -> Self {
        Self {
            ids: Ids::new(account.into()),
            inner,
        }
    }

    /// The account's name, the prefix of its ids.
    pub fn account(&self) -> &str {
        self.ids.account()
    }

    /// Whether `id` (as the app sees it) belongs to this account.
    pub fn owns(&self, id: &str) -> bool {
        account_of(id) == Some(self.account())
    }

    pub fn inner(&self) -> &Arc<dyn Provider> {
        &self.inner
    }

    fn wrap_page<T>(&self, page: Page<T>, f: impl Fn(&Ids, T) -> T) -> Page<T> {
        Page {
            items: page.items.into_iter().map(|t| f(&self.ids, t)).collect(),
            next: page.next.map(|c| self.ids.cursor(c)),
            total: page.total,
            skipped: page.skipped,
        }
    }
}

impl std::fmt::Debug for AccountProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountProvider")
            .field("account", &self.account())
            .field("provider", &self.inner.name())
            .finish()
    }
}

#[async_trait]
impl Provider for AccountProvider {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }

    fn statuses(&self) -> &'static [ConversationStatus] {
        self.inner.statuses()
    }

    fn budget(&self) -> Option<crate::sync::scheduler::SchedulerStatus> {
        self.inner.budget()
    }

    async fn authenticate(&self) -> ApiResult<()> {
        self.inner.authenticate().await
    }

    async fn list_conversations(&self, query: &ConversationQuery) -> ApiResult<Page<Conversation>> {
        let query = self.ids.conversation_query(query)?;
        let page = self.inner.list_conversations(&query).await?;
        Ok(self.wrap_page(page, Ids::conversation))
    }

    async fn get_conversation(&self, id: &ConversationId) -> ApiResult<Conversation> {
        let id = self.ids.inner(id)?;
        let conversation = self.inner.get_conversation(&id).await?;
        Ok(self.ids.conversation(conversation))
    }

    async fn update_conversation(
        &self,
        id: &ConversationId,
        update: &ConversationUpdate,
    ) -> ApiResult<Conversation> {
        let id = self.ids.inner(id)?;
        let update = self.ids.conversation_update(update)?;
        let conversation = self.inner.update_conversation(&id, &update).await?;
        Ok(self.ids.conversation(conversation))
    }

    async fn list_messages(&self, query: &MessageQuery) -> ApiResult<Page<Message>> {
        let query = self.ids.message_query(query)?;
        let page = self.inner.list_messages(&query).await?;
        Ok(self.wrap_page(page, Ids::message))
    }

    async fn list_messages_page(
        &self,
        query: &MessageQuery,
        page: u32,
    ) -> ApiResult<Page<Message>> {
        let query = self.ids.message_query(query)?;
        let page = self.inner.list_messages_page(&query, page).await?;
        Ok(self.wrap_page(page, Ids::message))
    }

    async fn get_message(&self, id: &MessageId) -> ApiResult<Message> {
        let id = self.ids.inner(id)?;
        let message = self.inner.get_message(&id).await?;
        Ok(self.ids.message(message))
    }

    async fn send_text(&self, message: &OutgoingText) -> ApiResult<Message> {
        let message = OutgoingText {
            conversation_id: self.ids.inner(&message.conversation_id)?,
            channel_id: self.ids.inner_opt(message.channel_id.as_ref())?,
            ..message.clone()
        };
        let sent = self.inner.send_text(&message).await?;
        Ok(self.ids.message(sent))
    }

    async fn list_contacts(&self, query: &ContactQuery) -> ApiResult<Page<Contact>> {
        let query = self.ids.contact_query(query)?;
        let page = self.inner.list_contacts(&query).await?;
        Ok(self.wrap_page(page, Ids::contact))
    }

    async fn get_contact(&self, id: &ContactId) -> ApiResult<Contact> {
        let id = self.ids.inner(id)?;
        let contact = self.inner.get_contact(&id).await?;
        Ok(self.ids.contact(contact))
    }

    async fn create_contact(&self, fields: &ContactUpdate) -> ApiResult<Contact> {
        let fields = self.ids.contact_update(fields)?;
        let contact = self.inner.create_contact(&fields).await?;
        Ok(self.ids.contact(contact))
    }

    async fn update_contact(&self, id: &ContactId, update: &ContactUpdate) -> ApiResult<Contact> {
        let id = self.ids.inner(id)?;
        let update = self.ids.contact_update(update)?;
        let contact = self.inner.update_contact(&id, &update).await?;
        Ok(self.ids.contact(contact))
    }

    async fn delete_contact(&self, id: &ContactId) -> ApiResult<()> {
        let id = self.ids.inner(id)?;
        self.inner.delete_contact(&id).await
    }

    async fn list_conversation_pages(
        &self,
        query: &ConversationQuery,
        pages: usize,
    ) -> ApiResult<Vec<Page<Conversation>>> {
        let query = self.ids.conversation_query(query)?;
        let pages = self.inner.list_conversation_pages(&query, pages).await?;
        Ok(pages
            .into_iter()
            .map(|page| self.wrap_page(page, Ids::conversation))
            .collect())
    }

    async fn list_message_batch(&self, queries: &[MessageQuery]) -> Vec<ApiResult<Page<Message>>> {
        // Foreign ids answer NotFound in their slot; the rest go in one batch.
        let mapped: Vec<ApiResult<MessageQuery>> =
            queries.iter().map(|q| self.ids.message_query(q)).collect();
        let valid: Vec<MessageQuery> = mapped.iter().filter_map(|q| q.clone().ok()).collect();
        let mut answers = if valid.is_empty() {
            Vec::new()
        } else {
            self.inner.list_message_batch(&valid).await
        }
        .into_iter();
        mapped
            .into_iter()
            .map(|query| {
                query?;
                let page = answers.next().unwrap_or_else(|| {
                    Err(ApiError::Decode(
                        "the provider answered fewer threads than asked".into(),
                    ))
                })?;
                Ok(self.wrap_page(page, Ids::message))
            })
            .collect()
    }

    async fn list_contact_pages(
        &self,
        query: &ContactQuery,
        pages: usize,
    ) -> ApiResult<Vec<Page<Contact>>> {
        let query = self.ids.contact_query(query)?;
        let pages = self.inner.list_contact_pages(&query, pages).await?;
        Ok(pages
            .into_iter()
            .map(|page| self.wrap_page(page, Ids::contact))
            .collect())
    }

    async fn get_contacts(&self, ids: &[ContactId]) -> ApiResult<Vec<Contact>> {
        // Ids of other accounts do not exist here: left out, like unknown ones.
        let own: Vec<ContactId> = ids
            .iter()
            .filter_map(|id| self.ids.inner(id).ok())
            .collect();
        if own.is_empty() {
            return Ok(Vec::new());
        }
        let found = self.inner.get_contacts(&own).await?;
        Ok(found.into_iter().map(|c| self.ids.contact(c)).collect())
    }

    async fn import_contacts(&self, rows: &[ContactUpdate]) -> ApiResult<Vec<BulkRowOutcome>> {
        let rows = rows
            .iter()
            .map(|r| self.ids.contact_update(r))
            .collect::<ApiResult<Vec<_>>>()?;
        let outcomes = self.inner.import_contacts(&rows).await?;
        Ok(outcomes
            .into_iter()
            .map(|outcome| match outcome {
                BulkRowOutcome::Created(c) => BulkRowOutcome::Created(self.ids.contact(c)),
                BulkRowOutcome::Updated(c) => BulkRowOutcome::Updated(self.ids.contact(c)),
                BulkRowOutcome::Failed(reason) => BulkRowOutcome::Failed(reason),
            })
            .collect())
    }

    async fn current_agent(&self) -> ApiResult<Option<Agent>> {
        Ok(self.inner.current_agent().await?.map(|a| self.ids.agent(a)))
    }

    async fn list_agents(&self) -> ApiResult<Vec<Agent>> {
        let agents = self.inner.list_agents().await?;
        Ok(agents.into_iter().map(|a| self.ids.agent(a)).collect())
    }

    async fn list_channels(&self) -> ApiResult<Vec<ChannelInfo>> {
        let channels = self.inner.list_channels().await?;
        Ok(channels.into_iter().map(|c| self.ids.channel(c)).collect())
    }

    async fn list_templates(&self) -> ApiResult<Vec<Template>> {
        let templates = self.inner.list_templates().await?;
        Ok(templates
            .into_iter()
            .map(|t| self.ids.template(t))
            .collect())
    }

    async fn send_template(&self, message: &OutgoingTemplate) -> ApiResult<Message> {
        let message = self.ids.outgoing_template(message)?;
        let sent = self.inner.send_template(&message).await?;
        Ok(self.ids.message(sent))
    }
}

/// Every status any of `all` has, in the order first seen.
pub fn statuses_of<'a>(
    all: impl IntoIterator<Item = &'a [ConversationStatus]>,
) -> Vec<ConversationStatus> {
    let mut union: Vec<ConversationStatus> = Vec::new();
    for status in all.into_iter().flatten() {
        if !union.contains(status) {
            union.push(status.clone());
        }
    }
    union
}

/// Everything any of `all` offers.
pub fn union(all: impl IntoIterator<Item = Capabilities>) -> Capabilities {
    all.into_iter()
        .fold(Capabilities::default(), |a, b| Capabilities {
            incremental_sync: a.incremental_sync || b.incremental_sync,
            send_text: a.send_text || b.send_text,
            update_status: a.update_status || b.update_status,
            assign: a.assign || b.assign,
            star: a.star || b.star,
            priority: a.priority || b.priority,
            conversation_tags: a.conversation_tags || b.conversation_tags,
            contacts: a.contacts || b.contacts,
            agents: a.agents || b.agents,
            templates: a.templates || b.templates,
            channels: a.channels || b.channels,
            batched_reads: a.batched_reads || b.batched_reads,
            bulk_contact_import: a.bulk_contact_import || b.bulk_contact_import,
        })
}
