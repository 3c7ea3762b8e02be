//! DM Champ REST provider (`https://api.dmchamp.com/v1`, `apiKey` query auth).
//!
//! DM Champ is contact-centric: no conversation list, no read-back of a
//! contact's fields, lookups by exact phone or e-mail only. The client
//! keeps a local contact book (`book`) of the contacts the agent worked
//! with and serves the inbox from it: one conversation per contact, its
//! thread read with `GET /contacts/messages/{id}`. Layers: `wire` (lenient
//! decoding and mapping) → `contacts` / `threads` (the requests) → this
//! module (options, the key, errors, the `Provider` impl).

pub mod book;
mod contacts;
mod threads;
pub mod wire;

#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use secrecy::SecretString;

use self::book::ContactBook;
use crate::api::http::{HttpClient, HttpRequest, HttpResponse, rest_error};
use crate::api::{ApiError, ApiResult, Capabilities, Provider};
use crate::domain::{
    Contact, ContactId, ContactQuery, ContactUpdate, Conversation, ConversationId,
    ConversationQuery, ConversationStatus, Message, MessageQuery, OutgoingTemplate, OutgoingText,
    Page, PageCursor, Tag, Template,
};
use crate::sync::scheduler::Scheduler;

/// Connection settings of one DM Champ API key.
#[derive(Clone)]
pub struct DmChampOptions {
    /// e.g. `https://api.dmchamp.com/v1`.
    pub base_url: String,
    pub api_key: SecretString,
    /// Where the contact book is kept; `None` keeps it in memory only.
    pub book_file: Option<PathBuf>,
    pub timeout: Duration,
    pub requests_per_minute: u32,
}

impl DmChampOptions {
    pub const DEFAULT_URL: &'static str = "https://api.dmchamp.com/v1";
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);
    /// DM Champ publishes no limit (actions cost credits); stay modest.
    pub const DEFAULT_REQUESTS_PER_MINUTE: u32 = 60;

    pub fn new(base_url: impl Into<String>, api_key: SecretString) -> Self {
        DmChampOptions {
            base_url: base_url.into(),
            api_key,
            book_file: None,
            timeout: Self::DEFAULT_TIMEOUT,
            requests_per_minute: Self::DEFAULT_REQUESTS_PER_MINUTE,
        }
    }
}

impl std::fmt::Debug for DmChampOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DmChampOptions")
            .field("base_url", &self.base_url.split('?').next().unwrap_or(""))
            .field("api_key", &"[redacted]")
            .field("book_file", &self.book_file)
            .field("timeout", &self.timeout)
            .field("requests_per_minute", &self.requests_per_minute)
            .finish()
    }
}

/// The DM Champ provider; cheap to share in an `Arc`.
pub struct DmChampClient {
    http: HttpClient,
    key: SecretString,
    book: Mutex<ContactBook>,
}

impl std::fmt::Debug for DmChampClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DmChampClient")
            .field("http", &self.http)
            .field("contacts_in_book", &self.book().len())
            .finish_non_exhaustive()
    }
}

/// The key travels in the URL, so plain HTTP is allowed only to this
/// machine (the sandbox).
fn check_transport(base_url: &str) -> ApiResult<()> {
    let url = reqwest::Url::parse(base_url.trim()).map_err(|_| {
        ApiError::Network(format!(
            "invalid DM Champ API URL {:?}: expected https://host/path",
            crate::text::sanitize_line(base_url.split('?').next().unwrap_or(""))
        ))
    })?;
    let host = url.host_str().unwrap_or("");
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if url.scheme() == "https" || (url.scheme() == "http" && loopback) {
        Ok(())
    } else {
        Err(ApiError::Network(
            "DM Champ needs an https:// API URL: the API key travels in the URL".into(),
        ))
    }
}

impl DmChampClient {
    pub fn new(options: DmChampOptions) -> ApiResult<Self> {
        check_transport(&options.base_url)?;
        let scheduler = Arc::new(Scheduler::new(options.requests_per_minute.max(1)));
        let http = HttpClient::new(&options.base_url, options.timeout, scheduler, "dmchamp")?;
        let book = match &options.book_file {
            Some(path) => ContactBook::open(path)?,
            None => ContactBook::in_memory(),
        };
        Ok(DmChampClient {
            http,
            key: options.api_key,
            book: Mutex::new(book),
        })
    }

    fn book(&self) -> MutexGuard<'_, ContactBook> {
        self.book.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Saves the book after a change; a failure is logged, not returned:
    /// the server already holds the change.
    fn save_book(&self) {
        if let Err(e) = self.book().save() {
            tracing::warn!(error = %e, "DM Champ contact book not saved");
        }
    }

    /// Sends `request` with the key; a non-2xx answer becomes its error.
    async fn call(&self, request: HttpRequest) -> ApiResult<HttpResponse> {
        let response = self
            .http
            .send(request.secret_query("apiKey", &self.key))
            .await?;
        if response.is_success() {
            Ok(response)
        } else {
            Err(error_of(response.status, &response.body))
        }
    }
}

/// Page size when the caller leaves `limit` at 0.
const DEFAULT_PAGE_SIZE: u32 = 50;

/// One page of a list held locally (the book). The cursor is the offset
/// of the page's first item.
fn local_page<T>(items: Vec<T>, cursor: Option<&PageCursor>, limit: u32) -> ApiResult<Page<T>> {
    let limit = if limit == 0 { DEFAULT_PAGE_SIZE } else { limit } as usize;
    let start = match cursor {
        None => 0,
        Some(c) => c
            .as_str()
            .strip_prefix("at:")
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(|| {
                ApiError::Decode("a DM Champ page cursor is unreadable; start from the top".into())
            })?,
    };
    let total = items.len();
    let items: Vec<T> = items.into_iter().skip(start).take(limit).collect();
    let end = start.saturating_add(items.len());
    let mut page = if end < total {
        Page::more(items, PageCursor::new(format!("at:{end}")))
    } else {
        Page::last(items)
    };
    page.total = Some(total as u64);
    Ok(page)
}

/// DM Champ's statuses as the agent should read them.
fn error_of(status: u16, body: &[u8]) -> ApiError {
    match rest_error(status, body) {
        // A static key: a 401 means the configured key is wrong or replaced.
        ApiError::Unauthorized(message) if status == 401 => ApiError::InvalidCredentials(format!(
            "DM Champ refused the API key ({message}); generating a new key invalidates the old one"
        )),
        other => other,
    }
}

#[async_trait]
impl Provider for DmChampClient {
    fn name(&self) -> &str {
        "DM Champ"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            // Served from the contact book, which knows when each changed.
            incremental_sync: true,
            send_text: true,
            contacts: true,
            templates: true,
            ..Capabilities::default()
        }
    }

    /// No statuses: every DM Champ conversation is simply open.
    fn statuses(&self) -> &'static [ConversationStatus] {
        &[]
    }

    fn budget(&self) -> Option<crate::sync::scheduler::SchedulerStatus> {
        Some(self.http.scheduler().status())
    }

    async fn authenticate(&self) -> ApiResult<()> {
        self.call(HttpRequest::get("tags")).await.map(|_| ())
    }

    async fn list_conversations(&self, query: &ConversationQuery) -> ApiResult<Page<Conversation>> {
        self.conversations(query)
    }

    async fn get_conversation(&self, id: &ConversationId) -> ApiResult<Conversation> {
        self.conversation(id)
    }

    async fn list_messages(&self, query: &MessageQuery) -> ApiResult<Page<Message>> {
        self.messages(query, 1).await
    }

    async fn list_messages_page(
        &self,
        query: &MessageQuery,
        page: u32,
    ) -> ApiResult<Page<Message>> {
        self.messages(query, page).await
    }

    async fn send_text(&self, message: &OutgoingText) -> ApiResult<Message> {
        self.send_custom(message).await
    }

    async fn list_contacts(&self, query: &ContactQuery) -> ApiResult<Page<Contact>> {
        self.contacts(query).await
    }

    async fn get_contact(&self, id: &ContactId) -> ApiResult<Contact> {
        self.contact(id).await
    }

    async fn get_contacts(&self, ids: &[ContactId]) -> ApiResult<Vec<Contact>> {
        // From the book alone: one request per contact would be N+1.
        let book = self.book();
        Ok(ids
            .iter()
            .filter_map(|id| book.get(id.as_str()).map(|e| e.contact()))
            .collect())
    }

    async fn create_contact(&self, fields: &ContactUpdate) -> ApiResult<Contact> {
        self.create(fields).await
    }

    async fn update_contact(&self, id: &ContactId, update: &ContactUpdate) -> ApiResult<Contact> {
        self.update(id, update).await
    }

    async fn list_templates(&self) -> ApiResult<Vec<Template>> {
        self.templates().await
    }

    async fn send_template(&self, message: &OutgoingTemplate) -> ApiResult<Message> {
        self.send_whatsapp_template(message).await
    }
}

/// What DM Champ offers beyond the trait.
impl DmChampClient {
    /// Adds the contact to a list (list ids come from DM Champ's dashboard).
    pub async fn add_to_list(&self, contact: &ContactId, list: &str) -> ApiResult<()> {
        self.change_list(contact, list, true).await
    }

    pub async fn remove_from_list(&self, contact: &ContactId, list: &str) -> ApiResult<()> {
        self.change_list(contact, list, false).await
    }

    /// Every tag of the account.
    pub async fn account_tags(&self) -> ApiResult<Vec<Tag>> {
        self.all_tags().await
    }

    /// Switches DM Champ's AI bot on or off for the contact.
    pub async fn set_bot_active(&self, contact: &ContactId, active: bool) -> ApiResult<()> {
        self.set_flag(contact, "is_bot_active", active).await
    }

    pub async fn set_do_not_disturb(&self, contact: &ContactId, dnd: bool) -> ApiResult<()> {
        self.set_flag(contact, "do_not_disturb", dnd).await
    }

    /// Records where a custom-channel contact's replies go (DM Champ never
    /// returns it): its `customChannel` and `externalId`.
    pub fn link_custom_channel(
        &self,
        contact: &ContactId,
        custom_channel: &str,
        external_id: &str,
    ) {
        let now = chrono::Utc::now();
        self.book().upsert(contact.as_str(), now, |e| {
            e.channel = Some("custom".into());
            e.custom_channel = Some(custom_channel.trim().to_string());
            e.external_id = Some(external_id.trim().to_string());
        });
        self.save_book();
    }
}
