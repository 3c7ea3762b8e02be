//! Simulators of the provider APIs.
//!
//! The Qpien sandbox is an in-process GraphQL server built from the contract
//! SDL (`assets/qpien.graphql`), backed by a seeded, mutable world. It serves
//! the same envelopes, auth errors, rate-limit headers and pagination the
//! real API is documented (or reconstructed) to serve, so the client can be
//! developed and tested end to end without credentials.

mod auth;
mod bulk;
mod contact_ops;
mod control;
mod corpus;
mod data;
pub mod dmchamp;
mod fault_control;
mod fault_kit;
mod faults;
mod http;
mod inject;
mod live;
mod net;
mod ops;
mod rate_limit;
pub mod rest;
mod schema;
pub mod superwaba;
mod template_ops;
mod world;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_faults;
#[cfg(test)]
mod tests_sync;
#[cfg(test)]
mod tests_templates;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use self::auth::AuthState;
use self::rate_limit::RateLimiter;
use self::world::World;

/// Start-up settings of a sandbox.
#[derive(Debug, Clone)]
pub struct SandboxOptions {
    pub seed: u64,
    pub live: bool,
    pub live_interval: Duration,
    pub client_id: String,
    pub client_secret: String,
    pub token_ttl: Duration,
    pub rate_limit: u32,
    pub rate_window: Duration,
    pub conversations: usize,
    /// Contacts to generate. With `messages` also 0 (the default), the
    /// hand-written demo mix is generated instead of exact counts; 0 alone
    /// means 10% more contacts than conversations.
    pub contacts: usize,
    /// Messages in total, newest conversations getting the longest threads.
    /// 0 alone means about 11 per conversation (see `contacts`).
    pub messages: usize,
    /// `createMessage` hands back the first message for a repeated
    /// `frontMsgId` instead of storing another copy.
    pub dedup_front_msg_id: bool,
    /// Share (0.0–1.0) of successful writes answered with HTTP 500 after
    /// being stored; decided by an RNG seeded from `seed`.
    pub lose_answer_rate: f64,
}

impl Default for SandboxOptions {
    fn default() -> Self {
        Self {
            seed: 42,
            live: false,
            live_interval: Duration::from_secs(4),
            client_id: "demo".to_string(),
            client_secret: "demo".to_string(),
            token_ttl: Duration::from_secs(3600),
            rate_limit: 100,
            rate_window: Duration::from_secs(60),
            conversations: 320,
            contacts: 0,
            messages: 0,
            dedup_front_msg_id: true,
            lose_answer_rate: 0.0,
        }
    }
}

/// Misbehaviour injected at the HTTP layer, so the GraphQL engine stays honest.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Add `"zzUnknownField": {"x":1}` to every JSON object under `data`.
    pub extra_unknown_fields: bool,
    /// Remove this key from every JSON object under `data`.
    pub drop_field: Option<String>,
    /// The next N requests answer HTTP 503.
    pub fail_next: u32,
    /// Sleep this long before handling a request.
    pub delay: Option<Duration>,
    /// Sleep this long after handling a request, before answering: a write
    /// is stored while its answer is still on its way.
    pub answer_delay: Option<Duration>,
    /// In `getConversationList` pages, serve every conversation whose
    /// 1-based position in creation order is a multiple of N broken as
    /// `malformed` says ([`SandboxControl::malformed_conversation_ids`]
    /// lists them). N = the number of conversations breaks exactly one.
    pub malformed_conversation_every: Option<usize>,
    pub malformed: Malformed,
    /// Also break every N-th document of each `getContactList` and
    /// `getMessages` page (N from `malformed_conversation_every`).
    pub malformed_lists: bool,
    /// Refuse documents with more root fields (aliases) than this, as a
    /// server with a query-cost limit would: a validation error.
    pub max_root_fields: Option<usize>,
}

/// How a malformed conversation document is broken.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Malformed {
    /// `"_id": null`
    #[default]
    NullId,
    /// `"updatedAt": null`
    NullUpdatedAt,
    /// `"updatedAt": true`
    WrongTypeUpdatedAt,
}

/// What the sandbox has served since it started.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SandboxStats {
    /// HTTP requests to the API endpoint, whatever their answer.
    pub requests: u64,
    /// Of those, answered 429.
    pub rate_limited: u64,
    /// Of those, answered 503 by `Faults::fail_next`.
    pub unavailable: u64,
    /// Of those, writes stored and then answered 500.
    pub lost_answers: u64,
    /// Root fields executed, by name: an aliased field counts once per alias,
    /// requests stopped before execution (429, 503) not at all.
    pub operations: BTreeMap<String, u64>,
    /// Injected faults served, by `/__sandbox/faults` key stem (`storm`,
    /// `error_rate`, `truncate`, `hang`, `malformed_json`, …).
    pub faults_served: BTreeMap<String, u64>,
}

/// The seeded stream deciding which writes lose their answer.
pub(crate) struct LoseAnswers {
    pub(crate) rate: f64,
    rng: ChaCha8Rng,
}

impl LoseAnswers {
    fn new(seed: u64, rate: f64) -> Self {
        Self {
            rate: clamp_rate(rate),
            rng: ChaCha8Rng::seed_from_u64(seed ^ 0x5eed_1057_a115_0e55),
        }
    }

    /// Rolls for one stored write.
    pub(crate) fn roll(&mut self) -> bool {
        if self.rate <= 0.0 {
            return false;
        }
        if self.rate >= 1.0 {
            return true;
        }
        self.rng.random::<f64>() < self.rate
    }
}

fn clamp_rate(rate: f64) -> f64 {
    if rate.is_nan() {
        0.0
    } else {
        rate.clamp(0.0, 1.0)
    }
}

/// State shared by the HTTP layer, the GraphQL resolvers and the live task.
pub(crate) struct Shared {
    pub(crate) options: SandboxOptions,
    pub(crate) world: Mutex<World>,
    pub(crate) auth: Mutex<AuthState>,
    pub(crate) rate: Mutex<RateLimiter>,
    pub(crate) faults: Mutex<Faults>,
    pub(crate) dedup: AtomicBool,
    pub(crate) lose: Mutex<LoseAnswers>,
    pub(crate) offline: Arc<AtomicBool>,
    pub(crate) requests: AtomicU64,
    /// API requests received and not yet answered (or abandoned).
    pub(crate) in_flight: AtomicU64,
    pub(crate) rate_limited: AtomicU64,
    pub(crate) unavailable: AtomicU64,
    pub(crate) lost_answers: AtomicU64,
    pub(crate) operations: Mutex<BTreeMap<String, u64>>,
    pub(crate) kit: fault_kit::FaultKit,
}

impl Shared {
    pub(crate) fn new(options: SandboxOptions) -> Self {
        let volume = data::Volume {
            conversations: options.conversations,
            contacts: options.contacts,
            messages: options.messages,
        };
        let mut world = data::generate(options.seed, volume, world::now_ms());
        world.live = options.live;
        Self {
            world: Mutex::new(world),
            auth: Mutex::new(AuthState::default()),
            rate: Mutex::new(RateLimiter::new(options.rate_limit, options.rate_window)),
            faults: Mutex::new(Faults::default()),
            dedup: AtomicBool::new(options.dedup_front_msg_id),
            lose: Mutex::new(LoseAnswers::new(options.seed, options.lose_answer_rate)),
            offline: Arc::new(AtomicBool::new(false)),
            requests: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
            rate_limited: AtomicU64::new(0),
            unavailable: AtomicU64::new(0),
            lost_answers: AtomicU64::new(0),
            operations: Mutex::new(BTreeMap::new()),
            kit: fault_kit::FaultKit::new(options.seed),
            options,
        }
    }

    pub(crate) fn stats(&self) -> SandboxStats {
        SandboxStats {
            requests: self.requests.load(Ordering::Relaxed),
            rate_limited: self.rate_limited.load(Ordering::Relaxed),
            unavailable: self.unavailable.load(Ordering::Relaxed),
            lost_answers: self.lost_answers.load(Ordering::Relaxed),
            operations: lock(&self.operations).clone(),
            faults_served: self.kit.served(),
        }
    }
}

/// Locks a mutex, recovering from poisoning: a panicked holder must not take
/// the whole sandbox down with it.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A running sandbox server. It dereferences to its [`SandboxControl`], so
/// `sandbox.stats()`, `sandbox.go_offline()` and the rest work on it directly.
pub struct Sandbox {
    addr: SocketAddr,
    control: SandboxControl,
    stop: Option<oneshot::Sender<()>>,
    server: JoinHandle<()>,
    live: Option<JoinHandle<()>>,
}

impl Sandbox {
    /// Binds `addr` (port 0 allowed), seeds the world, starts the server (and
    /// live traffic if enabled) on the current tokio runtime.
    pub async fn start(addr: SocketAddr, options: SandboxOptions) -> anyhow::Result<Sandbox> {
        let live_enabled = options.live;
        let shared = Arc::new(Shared::new(options));
        let schema = schema::build_schema(Arc::new(ops::Root(shared.clone())))?;
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let listener = net::GatedListener::new(listener, shared.offline.clone());
        let app = http::router(shared.clone(), schema);
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stop_rx.await;
                })
                .await;
            if let Err(e) = served {
                tracing::warn!("sandbox server stopped: {e}");
            }
        });
        let live = live_enabled.then(|| live::spawn(shared.clone()));
        tracing::info!("Qpien sandbox listening on {addr}");
        Ok(Sandbox {
            addr,
            control: SandboxControl { shared },
            stop: Some(stop_tx),
            server,
            live,
        })
    }

    /// `http://127.0.0.1:PORT/api/v1` (the bound IP when it is not unspecified).
    pub fn base_url(&self) -> String {
        let ip = if self.addr.ip().is_unspecified() {
            "127.0.0.1".to_string()
        } else {
            match self.addr {
                SocketAddr::V4(a) => a.ip().to_string(),
                SocketAddr::V6(a) => format!("[{}]", a.ip()),
            }
        };
        format!("http://{ip}:{}/api/v1", self.addr.port())
    }

    pub fn control(&self) -> SandboxControl {
        self.control.clone()
    }

    pub async fn shutdown(mut self) {
        if let Some(live) = self.live.take() {
            live.abort();
            let _ = live.await;
        }
        self.control.shared.kit.stop();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        // Keep-alive connections could hold graceful shutdown open; cap the wait.
        let server = &mut self.server;
        if tokio::time::timeout(Duration::from_secs(5), &mut *server)
            .await
            .is_err()
        {
            server.abort();
        }
    }
}

impl std::ops::Deref for Sandbox {
    type Target = SandboxControl;

    fn deref(&self) -> &SandboxControl {
        &self.control
    }
}

/// What tests read back of a conversation on the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationState {
    /// The contact's id (kept after the contact is deleted).
    pub contact_id: String,
    pub contact_name: String,
    pub status: String,
    pub starred: bool,
    pub assignee: Option<String>,
    pub priority: Option<String>,
    pub tags: Vec<String>,
}

/// What tests read back of a WhatsApp template on the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateState {
    pub id: String,
    pub name: String,
    pub language: String,
    pub category: String,
    pub status: String,
    /// The WhatsApp number (platform id) it belongs to.
    pub channel_id: String,
    pub rejected_reason: Option<String>,
}

/// A WhatsApp conversation as tests look for one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WhatsappConversation {
    pub id: String,
    /// The WhatsApp number (platform id) it is on.
    pub channel_id: String,
    pub contact_id: String,
    pub window_open: bool,
}

/// What tests read back of a message on the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageState {
    pub id: String,
    pub message_type: String,
    pub sender_type: String,
    pub channel_type: String,
    pub content: Option<String>,
    pub front_msg_id: Option<String>,
    pub ack_status: Option<String>,
    /// The code of `failedReason`, e.g. `131047` for a closed window.
    pub failed_code: Option<String>,
}

/// What tests read back of a contact on the server (and may change with
/// [`SandboxControl::edit_contact`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactState {
    pub id: String,
    pub first_name: String,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub phone_country_code: Option<String>,
    pub country: Option<String>,
    pub language: Option<String>,
    pub gender: Option<String>,
    /// Tag names.
    pub tags: Vec<String>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl ContactState {
    fn of(c: &world::Contact) -> ContactState {
        ContactState {
            id: c.id.clone(),
            first_name: c.first_name.clone(),
            last_name: c.last_name.clone(),
            email: c.email.clone(),
            phone: c.phone.clone(),
            phone_country_code: c.phone_country_code.clone(),
            country: c.country.clone(),
            language: c.language.clone(),
            gender: c.gender.clone(),
            tags: c.tags.iter().map(|t| t.name.clone()).collect(),
            updated_at: c.updated_at,
        }
    }
}

/// Cheap handle for tests and the demo CLI to inspect and steer the sandbox.
#[derive(Clone)]
pub struct SandboxControl {
    shared: Arc<Shared>,
}

impl SandboxControl {
    pub fn count_messages_with_front_id(&self, front_msg_id: &str) -> usize {
        lock(&self.shared.world).count_front_id(front_msg_id)
    }

    /// Stored copies of the message sent with `front_msg_id` into the conversation.
    pub fn messages_with_front_msg_id(&self, conversation_id: &str, front_msg_id: &str) -> usize {
        lock(&self.shared.world).count_front_id_in(conversation_id, front_msg_id)
    }

    /// Number of messages in the conversation whose content equals `text`.
    pub fn messages_containing(&self, conversation_id: &str, text: &str) -> usize {
        lock(&self.shared.world).count_content(conversation_id, text)
    }

    /// Contents of the conversation's messages, oldest first (empty
    /// strings for messages without text).
    pub fn message_contents(&self, conversation_id: &str) -> Vec<String> {
        lock(&self.shared.world).contents(conversation_id)
    }

    /// Conversation ids, most recently updated first.
    pub fn conversation_ids(&self) -> Vec<String> {
        lock(&self.shared.world).conversation_ids_by_update()
    }

    /// A conversation as the server holds it: status, star, assigned agent,
    /// priority and tag names.
    pub fn conversation_state(&self, conversation_id: &str) -> Option<ConversationState> {
        let world = lock(&self.shared.world);
        let (_, c) = world.conversation(conversation_id)?;
        Some(ConversationState {
            contact_id: c.joined_person.clone(),
            contact_name: world
                .contact(&c.joined_person)
                .map(|contact| contact.name())
                .unwrap_or_default(),
            status: c.status.clone(),
            starred: c.is_starred,
            assignee: c.joined_c_person.clone(),
            priority: c.priority.clone(),
            tags: c.tags.iter().map(|t| t.name.clone()).collect(),
        })
    }

    /// The id of the agent with this e-mail.
    pub fn agent_id(&self, email: &str) -> Option<String> {
        lock(&self.shared.world)
            .agents
            .iter()
            .find(|a| a.email.eq_ignore_ascii_case(email))
            .map(|a| a.id.clone())
    }

    /// Conversations served broken by `Faults::malformed_conversation_every`.
    pub fn malformed_conversation_ids(&self) -> Vec<String> {
        let every = lock(&self.shared.faults).malformed_conversation_every;
        let Some(every) = every.filter(|n| *n > 0) else {
            return Vec::new();
        };
        lock(&self.shared.world)
            .conversations
            .iter()
            .skip(every - 1)
            .step_by(every)
            .map(|c| c.id.clone())
            .collect()
    }

    /// Adds a customer message; returns its id (empty if the conversation is unknown).
    pub fn inject_incoming_message(&self, conversation_id: &str, text: &str) -> String {
        lock(&self.shared.world)
            .add_incoming(conversation_id, text, world::now_ms())
            .unwrap_or_default()
    }

    pub fn expire_all_tokens(&self) {
        lock(&self.shared.auth).expire_all(world::now_ms());
    }

    /// `None` = all scopes; applies to tokens issued afterwards.
    pub fn set_token_scopes(&self, scopes: Option<Vec<String>>) {
        lock(&self.shared.auth).scopes_override = scopes;
    }

    pub fn set_faults(&self, faults: Faults) {
        *lock(&self.shared.faults) = faults;
    }

    pub fn faults(&self) -> Faults {
        lock(&self.shared.faults).clone()
    }

    /// Changes only the delay of the current faults.
    pub fn set_delay(&self, delay: Option<Duration>) {
        lock(&self.shared.faults).delay = delay;
    }

    /// Changes only the answer delay of the current faults.
    pub fn set_answer_delay(&self, delay: Option<Duration>) {
        lock(&self.shared.faults).answer_delay = delay;
    }

    pub fn set_dedup_front_msg_id(&self, dedup: bool) {
        self.shared.dedup.store(dedup, Ordering::Relaxed);
    }

    /// Clamped to 0.0–1.0 (NaN = 0); the seeded stream carries on.
    pub fn set_lose_answer_rate(&self, rate: f64) {
        lock(&self.shared.lose).rate = clamp_rate(rate);
    }

    /// Starts a fresh window with the new limit.
    pub fn set_rate_limit(&self, limit: u32, window: Duration) {
        *lock(&self.shared.rate) = RateLimiter::new(limit, window);
    }

    /// Every API request fails at the connection level (accepted, then
    /// closed unanswered; one in flight loses its answer) until
    /// [`go_online`](Self::go_online). The port stays bound, and
    /// connections opened for the control endpoint keep working.
    pub fn go_offline(&self) {
        self.shared.offline.store(true, Ordering::SeqCst);
    }

    pub fn go_online(&self) {
        self.shared.offline.store(false, Ordering::SeqCst);
    }

    pub fn is_offline(&self) -> bool {
        self.shared.offline.load(Ordering::SeqCst)
    }

    pub fn stats(&self) -> SandboxStats {
        self.shared.stats()
    }

    pub fn request_count(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }

    /// API requests the server is still working on (waiting out a delay,
    /// say). A request whose client went away counts until the server has
    /// finished with it or dropped it.
    pub fn requests_in_flight(&self) -> u64 {
        self.shared.in_flight.load(Ordering::SeqCst)
    }

    pub fn rate_limited_count(&self) -> u64 {
        self.shared.rate_limited.load(Ordering::Relaxed)
    }

    pub fn token_count(&self) -> u64 {
        lock(&self.shared.auth).issued
    }

    /// A contact as the server holds it.
    pub fn contact(&self, id: &str) -> Option<ContactState> {
        lock(&self.shared.world).contact(id).map(ContactState::of)
    }

    /// The id of the contact with exactly this phone (E.164).
    pub fn contact_id_by_phone(&self, phone: &str) -> Option<String> {
        lock(&self.shared.world)
            .contacts
            .iter()
            .find(|c| c.phone.as_deref() == Some(phone))
            .map(|c| c.id.clone())
    }

    /// Contacts holding this phone (E.164): more than one means a create
    /// was stored twice.
    pub fn contacts_with_phone(&self, phone: &str) -> usize {
        lock(&self.shared.world)
            .contacts
            .iter()
            .filter(|c| c.phone.as_deref() == Some(phone))
            .count()
    }

    pub fn contact_count(&self) -> usize {
        lock(&self.shared.world).contacts.len()
    }

    /// Changes a contact as another agent would, behind the client's back:
    /// `edit` gets the contact's state, and every field it changes (tags by
    /// name, unknown names dropped; not the id) is stored with a new
    /// `updatedAt`. False when there is no such contact.
    pub fn edit_contact(&self, id: &str, edit: impl FnOnce(&mut ContactState)) -> bool {
        let mut world = lock(&self.shared.world);
        let Some(&i) = world.contact_idx.get(id) else {
            return false;
        };
        let mut state = ContactState::of(&world.contacts[i]);
        edit(&mut state);
        let tags: Vec<world::Tag> = state
            .tags
            .iter()
            .filter_map(|name| world.tags.iter().find(|t| &t.name == name).cloned())
            .collect();
        let c = &mut world.contacts[i];
        c.first_name = state.first_name;
        c.last_name = state.last_name;
        c.email = state.email;
        c.phone = state.phone;
        c.phone_country_code = state.phone_country_code;
        c.country = state.country;
        c.language = state.language;
        c.gender = state.gender;
        c.tags = tags;
        c.updated_at = world::now_ms().max(c.updated_at + chrono::Duration::milliseconds(1));
        true
    }

    /// Sets (or with `None` clears) a contact's e-mail behind the client's back.
    pub fn set_contact_email(&self, id: &str, email: Option<&str>) -> bool {
        self.edit_contact(id, |c| c.email = email.map(str::to_string))
    }

    /// The templates as the server holds them, in the order it lists them.
    pub fn templates(&self) -> Vec<TemplateState> {
        lock(&self.shared.world)
            .templates
            .iter()
            .map(|t| TemplateState {
                id: t.id.clone(),
                name: t.name.clone(),
                language: t.language.clone(),
                category: t.category.clone(),
                status: t.status.clone(),
                channel_id: t.channel_id.clone(),
                rejected_reason: t.rejected_reason.clone(),
            })
            .collect()
    }

    /// Changes a template's review status (`APPROVED`, `PAUSED`…) as Meta
    /// would; a rejection gets a reason. False when there is no such template.
    pub fn set_template_status(&self, name: &str, language: &str, status: &str) -> bool {
        let mut world = lock(&self.shared.world);
        let now = world::now_ms();
        let Some(t) = world
            .templates
            .iter_mut()
            .find(|t| t.name == name && t.language.eq_ignore_ascii_case(language))
        else {
            return false;
        };
        t.status = status.to_string();
        t.rejected_reason = (status == "REJECTED").then(|| {
            t.rejected_reason
                .clone()
                .unwrap_or_else(|| "INVALID_FORMAT: rejected in review".to_string())
        });
        t.updated_at = now.max(t.updated_at);
        true
    }

    /// WhatsApp conversations: id, the number (platform id) they are on,
    /// and whether the customer's 24-hour window is open now.
    pub fn whatsapp_conversations(&self) -> Vec<WhatsappConversation> {
        let world = lock(&self.shared.world);
        let now = world::now_ms();
        world
            .conversations
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                let channel = c.channels.iter().find(|ch| ch.kind == "WHATSAPP")?;
                Some(WhatsappConversation {
                    id: c.id.clone(),
                    channel_id: channel.id.clone(),
                    contact_id: c.joined_person.clone(),
                    window_open: world.whatsapp_window_open(i, now),
                })
            })
            .collect()
    }

    /// Whether the customer's 24-hour WhatsApp window is open; `None` for
    /// an unknown conversation.
    pub fn whatsapp_window_open(&self, conversation_id: &str) -> Option<bool> {
        let world = lock(&self.shared.world);
        let (i, _) = world.conversation(conversation_id)?;
        Some(world.whatsapp_window_open(i, world::now_ms()))
    }

    /// Closes the conversation's WhatsApp window: its messages move back in
    /// time until the customer's newest is 25 hours old. False when the
    /// conversation is unknown.
    pub fn close_whatsapp_window(&self, conversation_id: &str) -> bool {
        let mut world = lock(&self.shared.world);
        let Some((i, _)) = world.conversation(conversation_id) else {
            return false;
        };
        world.close_whatsapp_window(i, world::now_ms())
    }

    /// The conversation's messages as the server holds them, oldest first.
    pub fn messages(&self, conversation_id: &str) -> Vec<MessageState> {
        let world = lock(&self.shared.world);
        let Some((i, _)) = world.conversation(conversation_id) else {
            return Vec::new();
        };
        world.messages[i]
            .iter()
            .map(|m| MessageState {
                id: m.id.clone(),
                message_type: m.message_type.clone(),
                sender_type: m.sender_type.clone(),
                channel_type: m.channel_type.clone(),
                content: m.content.clone(),
                front_msg_id: m.front_msg_id.clone(),
                ack_status: m.ack_status.clone(),
                failed_code: m.failed_reason.as_ref().map(|f| f.code.clone()),
            })
            .collect()
    }

    /// Ids of the contact's conversations.
    pub fn conversations_of_contact(&self, contact_id: &str) -> Vec<String> {
        lock(&self.shared.world)
            .conversations
            .iter()
            .filter(|c| c.joined_person == contact_id)
            .map(|c| c.id.clone())
            .collect()
    }

    /// Total conversations, contacts and messages in the world right now.
    pub fn counts(&self) -> (usize, usize, usize) {
        let w = lock(&self.shared.world);
        (
            w.conversations.len(),
            w.contacts.len(),
            w.messages.iter().map(Vec::len).sum(),
        )
    }
}
