//! SuperWaba provider (superwaba.md): the Session API (`x-org-id` + a
//! Supabase session JWT) for conversations, messages and contacts, and the
//! Developer API (`x-api-key`) for templates.
//!
//! Layers: `crate::api::http` (transport, pacing, 429) → `auth` (grants,
//! renewal, the token file) → this module (requests with the session, the
//! `Provider` methods in `conversations`, `contacts`, `templates`) →
//! `wire` (lenient JSON) → `mapping` (wire ↔ domain).

mod auth;
mod contacts;
mod conversations;
pub mod mapping;
mod templates;
pub mod wire;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde_json::Value;

use self::auth::Auth;
use crate::api::http::{HttpClient, HttpRequest, HttpResponse, rest_error};
use crate::api::{ApiError, ApiResult, BulkRowOutcome, Capabilities, Provider};
use crate::domain::{
    Agent, Contact, ContactId, ContactQuery, ContactUpdate, Conversation, ConversationId,
    ConversationQuery, ConversationStatus, ConversationUpdate, Message, MessageId, MessageQuery,
    OutgoingTemplate, OutgoingText, Page, PageCursor, Template,
};
use crate::sync::scheduler::Scheduler;

/// How the agent signs in to the Session API.
#[derive(Debug, Clone)]
pub enum SuperWabaLogin {
    Password {
        email: String,
        password: SecretString,
    },
    /// A Supabase refresh token (it rotates; the newest is kept in the token file).
    RefreshToken(SecretString),
}

/// Connection settings of one SuperWaba organization.
#[derive(Debug, Clone)]
pub struct SuperWabaOptions {
    /// Session API, e.g. `https://app.superwaba.com/api`.
    pub base_url: String,
    /// Developer API without `/v1`, e.g. `https://app.superwaba.com/api/developer`.
    pub developer_base_url: String,
    pub org_id: String,
    /// The Supabase project, e.g. `https://<project>.supabase.co`.
    pub supabase_url: String,
    pub supabase_anon_key: SecretString,
    pub login: SuperWabaLogin,
    /// Developer API key (`sgk_…`); templates need it.
    pub api_key: Option<SecretString>,
    /// Where the rotating refresh token is kept between runs.
    pub token_file: Option<PathBuf>,
    pub timeout: Duration,
    /// Session API budget (documented: 100 a minute per organization).
    pub requests_per_minute: u32,
}

impl SuperWabaOptions {
    pub const DEFAULT_BASE_URL: &'static str = "https://app.superwaba.com/api";
    pub const DEFAULT_DEVELOPER_URL: &'static str = "https://app.superwaba.com/api/developer";
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);
    /// Below the documented 100 a minute, as the reference advises, so
    /// other sessions of the organization keep some room.
    pub const DEFAULT_REQUESTS_PER_MINUTE: u32 = 80;
}

/// The Developer API's budget: it has no per-minute limit, only a
/// monthly event cap, so this only keeps bursts polite.
const DEVELOPER_REQUESTS_PER_MINUTE: u32 = 120;
/// Sign-in requests; a handful an hour in practice.
const AUTH_REQUESTS_PER_MINUTE: u32 = 30;
/// Message ids remembered per `(conversation, time)` for `before` paging.
const CURSOR_MEMORY: usize = 20_000;

pub struct SuperWabaClient {
    session: HttpClient,
    developer: Option<(HttpClient, SecretString)>,
    org_id: String,
    auth: Auth,
    /// SuperWaba pages messages by message id; the app pages by time.
    message_cursors: Mutex<HashMap<(String, DateTime<Utc>), String>>,
}

impl std::fmt::Debug for SuperWabaClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SuperWabaClient")
            .field("org_id", &self.org_id)
            .field("developer_api", &self.developer.is_some())
            .finish_non_exhaustive()
    }
}

/// `…/api/developer` + `/v1`, without doubling a `/v1` already there.
fn developer_v1(base: &str) -> String {
    let base = base.trim().trim_end_matches('/');
    if base.ends_with("/v1") {
        base.to_string()
    } else {
        format!("{base}/v1")
    }
}

impl SuperWabaClient {
    pub fn new(options: SuperWabaOptions) -> ApiResult<Self> {
        let org_id = options.org_id.trim().to_string();
        if org_id.is_empty() {
            return Err(ApiError::InvalidCredentials(
                "the SuperWaba organization id (org_id) is empty; find it under Settings › General"
                    .into(),
            ));
        }
        let rpm = options.requests_per_minute.max(1);
        let session = HttpClient::new(
            &options.base_url,
            options.timeout,
            Arc::new(Scheduler::new(rpm)),
            "superwaba",
        )?;
        let developer = match options.api_key {
            Some(key) => Some((
                HttpClient::new(
                    &developer_v1(&options.developer_base_url),
                    options.timeout,
                    Arc::new(Scheduler::new(DEVELOPER_REQUESTS_PER_MINUTE)),
                    "superwaba-developer",
                )?,
                key,
            )),
            None => None,
        };
        let supabase = HttpClient::new(
            &options.supabase_url,
            options.timeout,
            Arc::new(Scheduler::new(AUTH_REQUESTS_PER_MINUTE)),
            "superwaba-auth",
        )?;
        Ok(SuperWabaClient {
            session,
            developer,
            org_id,
            auth: Auth::new(
                supabase,
                options.supabase_anon_key,
                options.login,
                options.token_file,
            ),
            message_cursors: Mutex::new(HashMap::new()),
        })
    }

    /// A Session API request with the session token; after a 401 the token
    /// is renewed once and the request replayed.
    async fn session_send(&self, build: impl Fn() -> HttpRequest) -> ApiResult<HttpResponse> {
        let (token, generation) = self.auth.token().await?;
        let with = |token: &SecretString| {
            build()
                .header("x-org-id", self.org_id.clone())
                .bearer(token)
        };
        let response = self.session.send(with(&token)).await?;
        if response.status != 401 {
            return Ok(response);
        }
        let token = self.auth.after_unauthorized(generation).await?;
        let response = self.session.send(with(&token)).await?;
        if response.status == 401 {
            let text = serde_json::from_slice::<Value>(&response.body)
                .ok()
                .and_then(|v| wire::error_text(&v))
                .unwrap_or_else(|| "Unauthorized".into());
            return Err(ApiError::Unauthorized(format!(
                "{text}: SuperWaba refused a fresh session; check the organization id"
            )));
        }
        Ok(response)
    }

    /// The payload of a Session API answer.
    async fn session_json(&self, build: impl Fn() -> HttpRequest) -> ApiResult<Value> {
        answer(self.session_send(build).await?)
    }

    /// The whole body of a Session API answer (the Messages list keeps its
    /// paging beside `data`, with no `success` wrapper).
    async fn session_body(&self, build: impl Fn() -> HttpRequest) -> ApiResult<Value> {
        let response = self.session_send(build).await?;
        if !response.is_success() {
            return Err(rest_error(response.status, &response.body));
        }
        let body = response.json()?;
        wire::payload(body.clone())?;
        Ok(body)
    }

    /// A Developer API request with the API key.
    async fn developer_json(&self, request: HttpRequest) -> ApiResult<Value> {
        let (http, key) = self.developer.as_ref().ok_or_else(|| {
            ApiError::Unauthorized(
                "the SuperWaba Developer API key is missing; set api_key in the account's config (Settings › Developer › API Keys) to use templates".into(),
            )
        })?;
        answer(http.send(request.secret_header("x-api-key", key)).await?)
    }

    fn remember_cursor(&self, conversation: &str, at: DateTime<Utc>, id: &str) {
        let mut map = self
            .message_cursors
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if map.len() >= CURSOR_MEMORY {
            map.clear();
        }
        map.insert((conversation.to_string(), at), id.to_string());
    }

    fn cursor_at(&self, conversation: &str, at: DateTime<Utc>) -> Option<String> {
        self.message_cursors
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&(conversation.to_string(), at))
            .cloned()
    }
}

/// SuperWaba pages by number: its cursors are the decimal page number.
fn page_number(cursor: Option<&PageCursor>) -> ApiResult<u32> {
    crate::api::http::page_number(cursor, "SuperWaba")
}

fn next_cursor(page: u32, has_next: bool) -> Option<PageCursor> {
    crate::api::http::next_page(page, has_next)
}

/// The payload of an answer, or the agent-readable error.
fn answer(response: HttpResponse) -> ApiResult<Value> {
    if !response.is_success() {
        return Err(rest_error(response.status, &response.body));
    }
    if response.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    wire::payload(response.json()?)
}

#[async_trait]
impl Provider for SuperWabaClient {
    fn name(&self) -> &str {
        "SuperWaba"
    }

    /// Filtered by all four; only closing is a change SuperWaba takes.
    fn statuses(&self) -> &'static [ConversationStatus] {
        &mapping::STATUSES
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            incremental_sync: true,
            send_text: true,
            update_status: true,
            assign: true,
            star: false,
            priority: false,
            conversation_tags: false,
            contacts: true,
            agents: false,
            templates: true,
            channels: false,
            batched_reads: false,
            bulk_contact_import: true,
        }
    }

    fn budget(&self) -> Option<crate::sync::scheduler::SchedulerStatus> {
        Some(self.session.scheduler().status())
    }

    /// Signs in and reads one conversation, so a wrong organization id
    /// shows at once.
    async fn authenticate(&self) -> ApiResult<()> {
        self.session_json(|| {
            HttpRequest::get("whatsapp/conversations")
                .query("page", "1")
                .query("limit", "1")
        })
        .await
        .map(|_| ())
    }

    async fn list_conversations(&self, query: &ConversationQuery) -> ApiResult<Page<Conversation>> {
        conversations::list(self, query).await
    }

    async fn get_conversation(&self, id: &ConversationId) -> ApiResult<Conversation> {
        conversations::get(self, id).await
    }

    async fn update_conversation(
        &self,
        id: &ConversationId,
        update: &ConversationUpdate,
    ) -> ApiResult<Conversation> {
        conversations::update(self, id, update).await
    }

    async fn list_messages(&self, query: &MessageQuery) -> ApiResult<Page<Message>> {
        conversations::messages(self, query).await
    }

    async fn list_messages_page(
        &self,
        query: &MessageQuery,
        page: u32,
    ) -> ApiResult<Page<Message>> {
        conversations::messages_page(self, query, page).await
    }

    async fn get_message(&self, id: &MessageId) -> ApiResult<Message> {
        let _ = id;
        Err(ApiError::Unsupported("reading one message by id"))
    }

    async fn send_text(&self, message: &OutgoingText) -> ApiResult<Message> {
        conversations::send_text(self, message).await
    }

    async fn list_contacts(&self, query: &ContactQuery) -> ApiResult<Page<Contact>> {
        contacts::list(self, query).await
    }

    async fn get_contact(&self, id: &ContactId) -> ApiResult<Contact> {
        contacts::get(self, id).await
    }

    async fn create_contact(&self, fields: &ContactUpdate) -> ApiResult<Contact> {
        contacts::create(self, fields).await
    }

    async fn update_contact(&self, id: &ContactId, update: &ContactUpdate) -> ApiResult<Contact> {
        contacts::update(self, id, update).await
    }

    async fn import_contacts(&self, rows: &[ContactUpdate]) -> ApiResult<Vec<BulkRowOutcome>> {
        contacts::import(self, rows).await
    }

    async fn current_agent(&self) -> ApiResult<Option<Agent>> {
        self.auth.agent().await.map(Some)
    }

    async fn list_templates(&self) -> ApiResult<Vec<Template>> {
        templates::list(self).await
    }

    async fn send_template(&self, message: &OutgoingTemplate) -> ApiResult<Message> {
        templates::send(self, message).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_are_page_numbers() {
        assert_eq!(page_number(None), Ok(1));
        assert_eq!(page_number(Some(&PageCursor::new("3"))), Ok(3));
        assert!(page_number(Some(&PageCursor::new("0"))).is_err());
        assert!(page_number(Some(&PageCursor::new("abc"))).is_err());
        assert_eq!(next_cursor(2, true), Some(PageCursor::new("3")));
        assert_eq!(next_cursor(2, false), None);
    }

    #[test]
    fn the_developer_url_gets_one_v1() {
        assert_eq!(
            developer_v1("https://app.superwaba.com/api/developer"),
            "https://app.superwaba.com/api/developer/v1"
        );
        assert_eq!(
            developer_v1("https://app.superwaba.com/api/developer/v1/"),
            "https://app.superwaba.com/api/developer/v1"
        );
    }
}
