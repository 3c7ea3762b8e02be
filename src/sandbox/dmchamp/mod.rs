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

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use self::world::TemplateSend;
use self::world::World;
use crate::sandbox::lock;

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
    addr: SocketAddr,
    control: DmChampControl,
    stop: Option<oneshot::Sender<()>>,
    server: JoinHandle<()>,
    live: Option<JoinHandle<()>>,
}

impl DmChampSandbox {
    /// Binds `addr` (port 0 allowed), seeds the world and serves on the
    /// current tokio runtime.
    pub async fn start(addr: SocketAddr, options: DmChampSandboxOptions) -> anyhow::Result<Self> {
        let world = world::generate(options.seed, options.contacts, chrono::Utc::now());
        let live_enabled = options.live;
        let shared = Arc::new(DmShared {
            options,
            world: Mutex::new(world),
            server_errors_next: AtomicU32::new(0),
            bare_message_list: AtomicBool::new(false),
        });
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let app = handlers::routes(shared.clone());
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stop_rx.await;
                })
                .await;
            if let Err(e) = served {
                tracing::warn!("DM Champ sandbox stopped: {e}");
            }
        });
        let live = live_enabled.then(|| spawn_live(shared.clone()));
        tracing::info!("DM Champ sandbox listening on {addr}");
        Ok(Self {
            addr,
            control: DmChampControl { shared },
            stop: Some(stop_tx),
            server,
            live,
        })
    }

    /// `http://127.0.0.1:PORT/v1`.
    pub fn base_url(&self) -> String {
        let ip = if self.addr.ip().is_unspecified() {
            "127.0.0.1".to_string()
        } else {
            match self.addr {
                SocketAddr::V4(a) => a.ip().to_string(),
                SocketAddr::V6(a) => format!("[{}]", a.ip()),
            }
        };
        format!("http://{ip}:{}/v1", self.addr.port())
    }

    pub fn control(&self) -> DmChampControl {
        self.control.clone()
    }

    pub async fn shutdown(mut self) {
        if let Some(live) = self.live.take() {
            live.abort();
            let _ = live.await;
        }
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        // Keep-alive connections could hold graceful shutdown open; cap the wait.
        if tokio::time::timeout(Duration::from_secs(5), &mut self.server)
            .await
            .is_err()
        {
            self.server.abort();
        }
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
