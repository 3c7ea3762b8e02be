//! Simulators of the provider APIs.
//!
//! The Qpien sandbox is an in-process GraphQL server built from the contract
//! SDL (`assets/qpien.graphql`), backed by a seeded, mutable world. It serves
//! the same envelopes, auth errors, rate-limit headers and pagination the
//! real API is documented (or reconstructed) to serve, so the client can be
//! developed and tested end to end without credentials.

mod auth;
mod data;
mod faults;
mod http;
mod live;
mod ops;
mod rate_limit;
mod schema;
mod world;

#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

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
    /// Sleep this long before answering.
    pub delay: Option<Duration>,
}

/// State shared by the HTTP layer, the GraphQL resolvers and the live task.
pub(crate) struct Shared {
    pub(crate) options: SandboxOptions,
    pub(crate) world: Mutex<World>,
    pub(crate) auth: Mutex<AuthState>,
    pub(crate) rate: Mutex<RateLimiter>,
    pub(crate) faults: Mutex<Faults>,
    pub(crate) requests: AtomicU64,
    pub(crate) rate_limited: AtomicU64,
}

impl Shared {
    pub(crate) fn new(options: SandboxOptions) -> Self {
        let mut world = data::generate(options.seed, options.conversations, world::now_ms());
        world.live = options.live;
        Self {
            world: Mutex::new(world),
            auth: Mutex::new(AuthState::default()),
            rate: Mutex::new(RateLimiter::new(options.rate_limit, options.rate_window)),
            faults: Mutex::new(Faults::default()),
            requests: AtomicU64::new(0),
            rate_limited: AtomicU64::new(0),
            options,
        }
    }
}

/// Locks a mutex, recovering from poisoning: a panicked holder must not take
/// the whole sandbox down with it.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A running sandbox server.
pub struct Sandbox {
    addr: SocketAddr,
    shared: Arc<Shared>,
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
            shared,
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
        SandboxControl {
            shared: self.shared.clone(),
        }
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
        let server = &mut self.server;
        if tokio::time::timeout(Duration::from_secs(5), &mut *server)
            .await
            .is_err()
        {
            server.abort();
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

    /// Number of messages in the conversation whose content equals `text`.
    pub fn messages_containing(&self, conversation_id: &str, text: &str) -> usize {
        lock(&self.shared.world).count_content(conversation_id, text)
    }

    /// Conversation ids, most recently updated first.
    pub fn conversation_ids(&self) -> Vec<String> {
        lock(&self.shared.world).conversation_ids_by_update()
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

    pub fn request_count(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }

    pub fn rate_limited_count(&self) -> u64 {
        self.shared.rate_limited.load(Ordering::Relaxed)
    }

    pub fn token_count(&self) -> u64 {
        lock(&self.shared.auth).issued
    }
}
