//! One provider over several accounts: a call carrying an id goes to the
//! account that owns it; account-wide calls go to the account in focus, or
//! are merged across accounts where that makes sense.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use futures::future::join_all;

use super::{AccountProvider, account_of, union};
use crate::api::{ApiError, ApiResult, BulkRowOutcome, Capabilities, Provider};
use crate::domain::{
    Agent, ChannelInfo, Contact, ContactId, ContactQuery, ContactUpdate, Conversation,
    ConversationId, ConversationQuery, ConversationStatus, ConversationUpdate, Message, MessageId,
    MessageQuery, OutgoingTemplate, OutgoingText, Page, PageCursor, Recipient, Template,
};

const NONE: usize = usize::MAX;

/// Which account account-wide actions act on, shared by the router and
/// whoever follows the agent's choices (the executor).
#[derive(Debug)]
pub struct AccountFocus {
    /// The account the agent chose (the list's account filter).
    current: AtomicUsize,
    /// The selected conversation's account, used when none is chosen.
    selected: AtomicUsize,
}

impl Default for AccountFocus {
    fn default() -> Self {
        Self {
            current: AtomicUsize::new(NONE),
            selected: AtomicUsize::new(NONE),
        }
    }
}

fn load(cell: &AtomicUsize) -> Option<usize> {
    Some(cell.load(Ordering::Relaxed)).filter(|i| *i != NONE)
}

impl AccountFocus {
    pub fn set_current(&self, index: Option<usize>) {
        self.current.store(index.unwrap_or(NONE), Ordering::Relaxed);
    }

    pub fn current(&self) -> Option<usize> {
        load(&self.current)
    }

    pub fn set_selected(&self, index: Option<usize>) {
        self.selected
            .store(index.unwrap_or(NONE), Ordering::Relaxed);
    }

    pub fn selected(&self) -> Option<usize> {
        load(&self.selected)
    }
}

pub struct Router {
    accounts: Vec<Arc<AccountProvider>>,
    focus: Arc<AccountFocus>,
    name: String,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router")
            .field("accounts", &self.accounts)
            .field("focus", &self.focus)
            .finish()
    }
}

impl Router {
    pub fn new(accounts: Vec<Arc<AccountProvider>>) -> Self {
        let mut names: Vec<&str> = Vec::new();
        for account in &accounts {
            if !names.contains(&account.name()) {
                names.push(account.name());
            }
        }
        let name = names.join(" + ");
        Self {
            accounts,
            focus: Arc::default(),
            name,
        }
    }

    pub fn accounts(&self) -> &[Arc<AccountProvider>] {
        &self.accounts
    }

    /// The handle that moves the focus; it stays shared with the router.
    pub fn focus(&self) -> Arc<AccountFocus> {
        self.focus.clone()
    }

    /// The account chosen by the agent (`None`: all accounts).
    pub fn set_current(&self, index: Option<usize>) {
        self.focus.set_current(index);
    }

    pub fn current(&self) -> Option<usize> {
        self.focus.current()
    }

    /// Index of the account owning an app id.
    pub fn index_of(&self, id: &str) -> Option<usize> {
        let account = account_of(id)?;
        self.accounts.iter().position(|a| a.account() == account)
    }

    fn owner(&self, id: &str) -> ApiResult<&Arc<AccountProvider>> {
        self.index_of(id)
            .map(|i| &self.accounts[i])
            .ok_or_else(|| not_ours(id))
    }

    fn chosen(&self) -> Option<&Arc<AccountProvider>> {
        self.focus.current().and_then(|i| self.accounts.get(i))
    }

    /// The chosen account, else the selected conversation's.
    fn in_focus(&self) -> Option<&Arc<AccountProvider>> {
        self.chosen()
            .or_else(|| self.focus.selected().and_then(|i| self.accounts.get(i)))
    }

    /// Where an account-wide action that cannot be merged goes: the
    /// account in focus, else the first.
    fn account_wide(&self) -> ApiResult<&Arc<AccountProvider>> {
        self.in_focus()
            .or_else(|| self.accounts.first())
            .ok_or_else(|| ApiError::NotFound("no account is configured".into()))
    }

    /// The account in focus alone, or every account's answer concatenated.
    /// One account failing leaves the others' answers; all failing is the
    /// first error.
    async fn merged<T, F, Fut>(&self, call: F) -> ApiResult<Vec<T>>
    where
        F: Fn(Arc<AccountProvider>) -> Fut,
        Fut: std::future::Future<Output = ApiResult<Vec<T>>>,
    {
        if let Some(account) = self.in_focus() {
            return call(account.clone()).await;
        }
        let answers = join_all(self.accounts.iter().map(|a| call(a.clone()))).await;
        merge_answers(answers)
    }

    /// Where a conversation list goes: the account an assignee or a
    /// cursor names, the chosen account, or every account (each from its
    /// own place in a merged cursor).
    fn plan(
        &self,
        query: &ConversationQuery,
    ) -> ApiResult<Vec<(Arc<AccountProvider>, ConversationQuery)>> {
        if let Some(assignee) = &query.assignee {
            return Ok(vec![(
                self.owner(assignee.as_str())?.clone(),
                query.clone(),
            )]);
        }
        match &query.cursor {
            Some(cursor) => match split_cursor(cursor) {
                Some(parts) => parts
                    .into_iter()
                    .map(|part| {
                        let account = self.owner(part.as_str())?.clone();
                        let query = ConversationQuery {
                            cursor: Some(part),
                            ..query.clone()
                        };
                        Ok((account, query))
                    })
                    .collect(),
                None => Ok(vec![(self.owner(cursor.as_str())?.clone(), query.clone())]),
            },
            None => Ok(match self.chosen() {
                Some(account) => vec![(account.clone(), query.clone())],
                None => self
                    .accounts
                    .iter()
                    .map(|a| (a.clone(), query.clone()))
                    .collect(),
            }),
        }
    }

    /// Where a contact list goes: the account its cursor names, else the
    /// account in focus.
    fn contact_target(&self, query: &ContactQuery) -> ApiResult<&Arc<AccountProvider>> {
        match &query.cursor {
            Some(cursor) => self.owner(cursor.as_str()),
            None => self.account_wide(),
        }
    }
}

/// Marks a cursor over several accounts' lists: the JSON list of each
/// account's own (namespaced) cursor, for the accounts that have more.
const MERGED: char = '*';

fn merged_cursor(parts: Vec<PageCursor>) -> Option<PageCursor> {
    if parts.is_empty() {
        return None;
    }
    let raw: Vec<&str> = parts.iter().map(PageCursor::as_str).collect();
    serde_json::to_string(&raw)
        .ok()
        .map(|json| PageCursor::new(format!("{MERGED}{json}")))
}

/// The accounts' cursors inside a merged one; `None` for a plain cursor.
fn split_cursor(cursor: &PageCursor) -> Option<Vec<PageCursor>> {
    let json = cursor.as_str().strip_prefix(MERGED)?;
    // Garbage yields no parts: asked of nobody, it answers an empty page.
    let raw: Vec<String> = serde_json::from_str(json).unwrap_or_default();
    Some(raw.into_iter().map(PageCursor::new).collect())
}

fn not_ours(id: &str) -> ApiError {
    ApiError::NotFound(format!(
        "{} belongs to none of the configured accounts",
        crate::text::sanitize_line(id)
    ))
}

fn merge_answers<T>(answers: Vec<ApiResult<Vec<T>>>) -> ApiResult<Vec<T>> {
    let mut items = Vec::new();
    let mut first_error = None;
    let mut any_ok = false;
    for answer in answers {
        match answer {
            Ok(mut more) => {
                any_ok = true;
                items.append(&mut more);
            }
            Err(error) => {
                tracing::warn!(%error, "one account could not answer");
                first_error.get_or_insert(error);
            }
        }
    }
    match first_error {
        Some(error) if !any_ok => Err(error),
        _ => Ok(items),
    }
}

/// Pages of several accounts as one, newest first (or oldest first).
/// Nothing is cut: what each account sent is where its next page starts.
fn merge_pages(pages: Vec<Page<Conversation>>, query: &ConversationQuery) -> Page<Conversation> {
    let mut items = Vec::new();
    let mut next = Vec::new();
    let mut total = Some(0u64);
    let mut skipped = 0;
    for page in pages {
        next.extend(page.next);
        total = total.zip(page.total).map(|(a, b)| a + b);
        skipped += page.skipped;
        items.extend(page.items);
    }
    items.sort_by(|a: &Conversation, b: &Conversation| {
        let order = b
            .updated_at
            .cmp(&a.updated_at)
            .then_with(|| a.id.cmp(&b.id));
        if query.oldest_first {
            order.reverse()
        } else {
            order
        }
    });
    Page {
        items,
        next: merged_cursor(next),
        total,
        skipped,
    }
}

#[async_trait]
impl Provider for Router {
    fn name(&self) -> &str {
        &self.name
    }

    fn capabilities(&self) -> Capabilities {
        union(self.accounts.iter().map(|a| a.capabilities()))
    }

    /// The account in focus's statuses; with none in focus the largest
    /// set stands for all (a union could not be `'static`; the app reads
    /// each account's own set).
    fn statuses(&self) -> &'static [ConversationStatus] {
        if let Some(account) = self.in_focus() {
            return account.statuses();
        }
        self.accounts
            .iter()
            .map(|a| a.statuses())
            .max_by_key(|s| s.len())
            .unwrap_or(&[])
    }

    /// The budget of an account the server holds back, else the first's.
    fn budget(&self) -> Option<crate::sync::scheduler::SchedulerStatus> {
        let budgets: Vec<_> = self.accounts.iter().filter_map(|a| a.budget()).collect();
        budgets
            .iter()
            .find(|b| b.paused_until.is_some())
            .or(budgets.first())
            .cloned()
    }

    async fn authenticate(&self) -> ApiResult<()> {
        for result in join_all(self.accounts.iter().map(|a| a.authenticate())).await {
            result?;
        }
        Ok(())
    }

    async fn list_conversations(&self, query: &ConversationQuery) -> ApiResult<Page<Conversation>> {
        let mut plan = self.plan(query)?;
        if plan.len() == 1 {
            let (account, query) = plan.remove(0);
            return account.list_conversations(&query).await;
        }
        let answers = join_all(plan.iter().map(|(account, query)| async move {
            account
                .list_conversations(query)
                .await
                .map(|page| vec![page])
        }))
        .await;
        Ok(merge_pages(merge_answers(answers)?, query))
    }

    async fn get_conversation(&self, id: &ConversationId) -> ApiResult<Conversation> {
        self.owner(id.as_str())?.get_conversation(id).await
    }

    async fn update_conversation(
        &self,
        id: &ConversationId,
        update: &ConversationUpdate,
    ) -> ApiResult<Conversation> {
        self.owner(id.as_str())?
            .update_conversation(id, update)
            .await
    }

    async fn list_messages(&self, query: &MessageQuery) -> ApiResult<Page<Message>> {
        self.owner(query.conversation_id.as_str())?
            .list_messages(query)
            .await
    }

    async fn list_messages_page(
        &self,
        query: &MessageQuery,
        page: u32,
    ) -> ApiResult<Page<Message>> {
        self.owner(query.conversation_id.as_str())?
            .list_messages_page(query, page)
            .await
    }

    async fn get_message(&self, id: &MessageId) -> ApiResult<Message> {
        self.owner(id.as_str())?.get_message(id).await
    }

    async fn send_text(&self, message: &OutgoingText) -> ApiResult<Message> {
        self.owner(message.conversation_id.as_str())?
            .send_text(message)
            .await
    }

    async fn list_contacts(&self, query: &ContactQuery) -> ApiResult<Page<Contact>> {
        self.contact_target(query)?.list_contacts(query).await
    }

    async fn get_contact(&self, id: &ContactId) -> ApiResult<Contact> {
        self.owner(id.as_str())?.get_contact(id).await
    }

    async fn create_contact(&self, fields: &ContactUpdate) -> ApiResult<Contact> {
        self.account_wide()?.create_contact(fields).await
    }

    async fn update_contact(&self, id: &ContactId, update: &ContactUpdate) -> ApiResult<Contact> {
        self.owner(id.as_str())?.update_contact(id, update).await
    }

    async fn delete_contact(&self, id: &ContactId) -> ApiResult<()> {
        self.owner(id.as_str())?.delete_contact(id).await
    }

    async fn list_conversation_pages(
        &self,
        query: &ConversationQuery,
        pages: usize,
    ) -> ApiResult<Vec<Page<Conversation>>> {
        let mut plan = self.plan(query)?;
        if plan.len() == 1 {
            let (account, query) = plan.remove(0);
            return account.list_conversation_pages(&query, pages).await;
        }
        let answers = join_all(plan.iter().map(|(account, query)| async move {
            account
                .list_conversation_pages(query, pages)
                .await
                .map(|pages| vec![pages])
        }))
        .await;
        let mut per_account: Vec<std::vec::IntoIter<Page<Conversation>>> = merge_answers(answers)?
            .into_iter()
            .map(Vec::into_iter)
            .collect();
        let mut merged = Vec::new();
        // Page i of each account that has one, as page i of the whole.
        for _ in 0..pages.max(1) {
            let parts: Vec<Page<Conversation>> =
                per_account.iter_mut().filter_map(Iterator::next).collect();
            if parts.is_empty() {
                break;
            }
            merged.push(merge_pages(parts, query));
        }
        Ok(merged)
    }

    async fn list_message_batch(&self, queries: &[MessageQuery]) -> Vec<ApiResult<Page<Message>>> {
        let mut slots: Vec<Option<ApiResult<Page<Message>>>> = Vec::with_capacity(queries.len());
        let mut groups: Vec<(usize, Vec<usize>)> = Vec::new();
        for (i, query) in queries.iter().enumerate() {
            match self.index_of(query.conversation_id.as_str()) {
                Some(account) => {
                    slots.push(None);
                    match groups.iter_mut().find(|(a, _)| *a == account) {
                        Some((_, members)) => members.push(i),
                        None => groups.push((account, vec![i])),
                    }
                }
                None => slots.push(Some(Err(not_ours(query.conversation_id.as_str())))),
            }
        }
        let answers = join_all(groups.iter().map(|(account, members)| {
            let batch: Vec<MessageQuery> = members.iter().map(|i| queries[*i].clone()).collect();
            let account = self.accounts[*account].clone();
            async move { account.list_message_batch(&batch).await }
        }))
        .await;
        for ((_, members), answers) in groups.iter().zip(answers) {
            let mut answers = answers.into_iter();
            for i in members {
                slots[*i] = Some(answers.next().unwrap_or_else(|| {
                    Err(ApiError::Decode(
                        "the provider answered fewer threads than asked".into(),
                    ))
                }));
            }
        }
        slots
            .into_iter()
            .map(|slot| slot.unwrap_or_else(|| Err(ApiError::Decode("no answer".into()))))
            .collect()
    }

    async fn list_contact_pages(
        &self,
        query: &ContactQuery,
        pages: usize,
    ) -> ApiResult<Vec<Page<Contact>>> {
        self.contact_target(query)?
            .list_contact_pages(query, pages)
            .await
    }

    async fn get_contacts(&self, ids: &[ContactId]) -> ApiResult<Vec<Contact>> {
        let mut groups: Vec<(usize, Vec<ContactId>)> = Vec::new();
        for id in ids {
            // Ids of no account do not exist anywhere: left out.
            let Some(account) = self.index_of(id.as_str()) else {
                continue;
            };
            match groups.iter_mut().find(|(a, _)| *a == account) {
                Some((_, members)) => members.push(id.clone()),
                None => groups.push((account, vec![id.clone()])),
            }
        }
        let answers = join_all(groups.iter().map(|(account, members)| {
            let account = self.accounts[*account].clone();
            async move { account.get_contacts(members).await }
        }))
        .await;
        merge_answers(answers)
    }

    async fn import_contacts(&self, rows: &[ContactUpdate]) -> ApiResult<Vec<BulkRowOutcome>> {
        self.account_wide()?.import_contacts(rows).await
    }

    async fn current_agent(&self) -> ApiResult<Option<Agent>> {
        self.account_wide()?.current_agent().await
    }

    async fn list_agents(&self) -> ApiResult<Vec<Agent>> {
        self.merged(|a| async move { a.list_agents().await }).await
    }

    async fn list_channels(&self) -> ApiResult<Vec<ChannelInfo>> {
        self.merged(|a| async move { a.list_channels().await })
            .await
    }

    async fn list_templates(&self) -> ApiResult<Vec<Template>> {
        self.merged(|a| async move { a.list_templates().await })
            .await
    }

    async fn send_template(&self, message: &OutgoingTemplate) -> ApiResult<Message> {
        let owner = match &message.recipient {
            Recipient::Conversation(id) => id.as_str(),
            Recipient::Contact(id) => id.as_str(),
        };
        self.owner(owner)?.send_template(message).await
    }
}
