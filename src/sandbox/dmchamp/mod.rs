//! A simulator of the DM Champ REST API (`/v1`, `apiKey` query auth),
//! following the DM Champ API reference: contact lookup/create/update, lists,
//! tags, contact messages, WhatsApp templates and custom-channel sends,
//! each with its own success shape and the documented error statuses.
//! The world is seeded from the shared corpora; optional live traffic adds
//! customer messages for the demo.

mod handlers;
mod world;

#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::middleware;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;
use tokio::task::JoinHandle;

pub use self::world::TemplateSend;
use self::world::World;
use crate::sandbox::lock;
use crate::sandbox::rest::{
    self, ErrorBodies, Guard, RestConfig, RestFaults, RestServer, RestState, RestStats,
};

/// The API key the sandbox accepts unless told otherwise.
pub const DEMO_API_KEY: &str = "dmk_demo_sandbox";

/// Start-up settings of the DM Champ sandbox.
#[derive(Clone)]
pub struct DmChampSandboxOptions {
    pub seed: u64,
    pub live: bool,
    pub live_interval: Duration,
    pub contacts: usize,
    pub api_key: String,
    pub rate_limit: u32,
    pub rate_window: Duration,
    /// Share (0.0–1.0) of successful writes answered 500 after being stored.
    pub lose_answer_rate: f64,
}

impl std::fmt::Debug for DmChampSandboxOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DmChampSandboxOptions")
            .field("seed", &self.seed)
            .field("live", &self.live)
            .field("contacts", &self.contacts)
            .field("rate_limit", &self.rate_limit)
            .finish_non_exhaustive()
    }
}

impl Default for DmChampSandboxOptions {
    fn default() -> Self {
        Self {
            seed: 42,
            live: false,
            live_interval: Duration::from_secs(5),
            contacts: 120,
            api_key: DEMO_API_KEY.to_string(),
            // DM Champ publishes no limit; this keeps the client's pacing honest.
            rate_limit: 100,
            rate_window: Duration::from_secs(60),
            lose_answer_rate: 0.0,
        }
    }
}

/// State shared by the handlers, the live task and the control handle.
pub(crate) struct DmShared {
    pub(crate) options: DmChampSandboxOptions,
    pub(crate) world: Mutex<World>,
    /// The next N authorized requests answer 500.
    pub(crate) server_errors_next: AtomicU32,
    /// Serve contact messages as a bare array instead of `{success, data}`.
    pub(crate) bare_message_list: AtomicBool,
    pub(crate) rest: Arc<RestState>,
}

/// A seeded contact as tests and the demo look it up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeededContact {
    pub id: String,
    pub phone: Option<String>,
    /// `None` for the placeholder `unknown@unknown.com`.
    pub email: Option<String>,
    pub first_name: String,
    pub last_name: String,
    /// `whatsapp`, `sms`, `instagram` or `custom`.
    pub channel: String,
    pub custom_channel: Option<String>,
    pub external_id: Option<String>,
}

/// A contact as the server holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DmContactState {
    pub id: String,
    pub phone: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub channel: String,
    pub custom_channel: Option<String>,
    pub external_id: Option<String>,
    pub is_bot_active: bool,
    pub do_not_disturb: bool,
    pub lists: Vec<String>,
    pub tags: Vec<String>,
}

/// A stored message, oldest first in [`DmChampControl::messages`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DmMessageState {
    pub id: String,
    pub direction: String,
    pub role: String,
    pub content: String,
    pub message_type: String,
}

/// A WhatsApp template as the server holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DmTemplateState {
    pub id: String,
    pub name: String,
    pub status: String,
    pub language: String,
}

/// A running DM Champ sandbox.
pub struct DmChampSandbox {
    server: RestServer,
    control: DmChampControl,
}

/// DM Champ documents no error bodies; these follow its `{success, message}`
/// shape, with the `{error}` shape for the 500 so clients read both.
fn error_bodies() -> ErrorBodies {
    ErrorBodies {
        rate_limited: json!({ "success": false, "message": "Too many requests, slow down" }),
        retry_after: false,
        unavailable: json!({ "success": false, "message": "Service temporarily unavailable" }),
        lost_answer: json!({ "error": "Internal server error" }),
        malformed_prefix: r#"{"success": true, "data": {"contacts": [{"first"#,
    }
}

impl DmChampSandbox {
    /// Binds `addr` (port 0 allowed), seeds the world and serves on the
    /// current tokio runtime.
    pub async fn start(addr: SocketAddr, options: DmChampSandboxOptions) -> anyhow::Result<Self> {
        let world = world::generate(options.seed, options.contacts, chrono::Utc::now());
        let live_enabled = options.live;
        let rest_state = RestState::new(RestConfig {
            seed: options.seed,
            rate_limit: options.rate_limit,
            rate_window: options.rate_window,
            lose_answer_rate: options.lose_answer_rate,
            bodies: error_bodies(),
        });
        let shared = Arc::new(DmShared {
            options,
            world: Mutex::new(world),
            server_errors_next: AtomicU32::new(0),
            bare_message_list: AtomicBool::new(false),
            rest: rest_state.clone(),
        });
        let app = handlers::routes(shared.clone())
            .route_layer(middleware::from_fn_with_state(
                Guard {
                    state: rest_state.clone(),
                    rate_limited: true,
                },
                rest::guard,
            ))
            .merge(rest::control_router(rest_state.clone()));
        let mut server = RestServer::start(addr, app, rest_state.clone(), "DM Champ").await?;
        if live_enabled {
            server.add_task(spawn_live(shared.clone()));
        }
        Ok(Self {
            server,
            control: DmChampControl {
                shared,
                rest: rest_state,
            },
        })
    }

    /// `http://127.0.0.1:PORT/v1`.
    pub fn base_url(&self) -> String {
        format!("{}/v1", self.server.origin())
    }

    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    pub fn control(&self) -> DmChampControl {
        self.control.clone()
    }

    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }
}

fn spawn_live(shared: Arc<DmShared>) -> JoinHandle<()> {
    let interval = shared.options.live_interval.max(Duration::from_millis(50));
    let mut rng = ChaCha8Rng::seed_from_u64(shared.options.seed ^ 0x11fe);
    tokio::spawn(async move {
        let langs = crate::sandbox::corpus::langs();
        loop {
            tokio::time::sleep(interval).await;
            let mut world = lock(&shared.world);
            if world.contacts.is_empty() {
                continue;
            }
            let i = rng.random_range(0..world.contacts.len());
            let id = world.contacts[i].id.clone();
            let bot = world.contacts[i].is_bot_active;
            let lang = langs[rng.random_range(0..langs.len())];
            let line = &lang.live_lines[rng.random_range(0..lang.live_lines.len())];
            let now = chrono::Utc::now();
            world.push_message(&id, true, line, "text", now);
            if bot {
                let reply = &lang.live_replies[rng.random_range(0..lang.live_replies.len())];
                world.push_message(&id, false, reply, "text", now);
                if let Some(m) = world.contact_mut(&id).and_then(|c| c.messages.last_mut()) {
                    m.role = "assistant";
                }
            }
        }
    })
}

/// Cheap handle to steer and inspect the sandbox.
#[derive(Clone)]
pub struct DmChampControl {
    shared: Arc<DmShared>,
    rest: Arc<RestState>,
}

fn state_of(c: &world::Contact) -> DmContactState {
    DmContactState {
        id: c.id.clone(),
        phone: c.phone.clone(),
        first_name: c.first_name.clone(),
        last_name: c.last_name.clone(),
        email: c.email.clone(),
        channel: c.channel.clone(),
        custom_channel: c.custom_channel.clone(),
        external_id: c.external_id.clone(),
        is_bot_active: c.is_bot_active,
        do_not_disturb: c.do_not_disturb,
        lists: c.lists.iter().cloned().collect(),
        tags: c.tags.clone(),
    }
}

impl DmChampControl {
    pub fn set_faults(&self, faults: RestFaults) {
        self.rest.set_faults(faults);
    }

    /// The next `n` API requests answer 503.
    pub fn fail_next(&self, n: u32) {
        self.rest.set_fail_next(n);
    }

    /// Latency before each API request is handled.
    pub fn set_delay(&self, delay: Option<Duration>) {
        self.rest.set_delay(delay);
    }

    /// Starts a fresh window with the new limit.
    pub fn set_rate_limit(&self, limit: u32, window: Duration) {
        self.rest.set_rate_limit(limit, window);
    }

    /// Clamped to 0.0–1.0; stored writes then answer 500 at this rate.
    pub fn set_lose_answer_rate(&self, rate: f64) {
        self.rest.set_lose_answer_rate(rate);
    }

    /// API connections are cut (accepted, closed unanswered) until
    /// [`go_online`](Self::go_online); the control routes keep working.
    pub fn go_offline(&self) {
        self.rest.set_offline(true);
    }

    pub fn go_online(&self) {
        self.rest.set_offline(false);
    }

    pub fn is_offline(&self) -> bool {
        self.rest.is_offline()
    }

    pub fn stats(&self) -> RestStats {
        self.rest.stats()
    }

    /// API requests received and not yet answered.
    pub fn requests_in_flight(&self) -> u64 {
        self.rest.in_flight()
    }

    /// The fault switches shared with the other sandboxes.
    pub fn faults_control(&self) -> crate::sandbox::rest::RestFaultControl {
        crate::sandbox::rest::RestFaultControl(self.rest.clone())
    }

    /// The next `n` authorized API requests answer 500.
    pub fn fail_next_with_server_error(&self, n: u32) {
        self.shared.server_errors_next.store(n, Ordering::SeqCst);
    }

    /// Without a WhatsApp sender, template sends answer 403.
    pub fn set_whatsapp_sender_configured(&self, configured: bool) {
        lock(&self.shared.world).twilio_configured = configured;
    }

    /// Serve contact messages as a bare array (the other shape clients must read).
    pub fn set_bare_message_list(&self, bare: bool) {
        self.shared.bare_message_list.store(bare, Ordering::Relaxed);
    }

    /// The first `n` seeded contacts (creation order) on `channel`, or on
    /// any channel when `None`.
    pub fn sample_contacts(&self, n: usize, channel: Option<&str>) -> Vec<SeededContact> {
        lock(&self.shared.world)
            .contacts
            .iter()
            .filter(|c| channel.is_none_or(|ch| c.channel == ch))
            .take(n)
            .map(|c| SeededContact {
                id: c.id.clone(),
                phone: c.phone.clone(),
                email: (c.email != "unknown@unknown.com").then(|| c.email.clone()),
                first_name: c.first_name.clone(),
                last_name: c.last_name.clone(),
                channel: c.channel.clone(),
                custom_channel: c.custom_channel.clone(),
                external_id: c.external_id.clone(),
            })
            .collect()
    }

    pub fn contact(&self, id: &str) -> Option<DmContactState> {
        lock(&self.shared.world).contact(id).map(state_of)
    }

    pub fn contact_id_by_phone(&self, phone: &str) -> Option<String> {
        lock(&self.shared.world)
            .by_phone(phone)
            .map(|c| c.id.clone())
    }

    pub fn contact_count(&self) -> usize {
        lock(&self.shared.world).contacts.len()
    }

    /// The contact's messages, oldest first.
    pub fn messages(&self, contact_id: &str) -> Vec<DmMessageState> {
        lock(&self.shared.world)
            .contact(contact_id)
            .map(|c| {
                c.messages
                    .iter()
                    .map(|m| DmMessageState {
                        id: m.id.clone(),
                        direction: m.direction.to_string(),
                        role: m.role.to_string(),
                        content: m.content.clone(),
                        message_type: m.message_type.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Adds a customer message; its id, or `None` for an unknown contact.
    pub fn inject_incoming_message(&self, contact_id: &str, text: &str) -> Option<String> {
        lock(&self.shared.world).push_message(contact_id, true, text, "text", chrono::Utc::now())
    }

    /// Account tag names, sorted.
    pub fn account_tags(&self) -> Vec<String> {
        lock(&self.shared.world).tags.keys().cloned().collect()
    }

    /// List ids the API key may use, and one it may not.
    pub fn list_ids(&self) -> (Vec<String>, Vec<String>) {
        let world = lock(&self.shared.world);
        let (ok, denied): (Vec<_>, Vec<_>) = world.lists.iter().partition(|(_, l)| l.permitted);
        (
            ok.into_iter().map(|(id, _)| id.clone()).collect(),
            denied.into_iter().map(|(id, _)| id.clone()).collect(),
        )
    }

    pub fn templates(&self) -> Vec<DmTemplateState> {
        lock(&self.shared.world)
            .templates
            .iter()
            .map(|t| DmTemplateState {
                id: t.id.clone(),
                name: t.name.clone(),
                status: t.status.clone(),
                language: t.language.clone(),
            })
            .collect()
    }

    /// Template sends the server accepted, in order.
    pub fn template_sends(&self) -> Vec<TemplateSend> {
        lock(&self.shared.world).sends.clone()
    }
}
