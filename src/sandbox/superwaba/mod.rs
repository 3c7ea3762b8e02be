//! The SuperWaba sandbox: one axum server with the three surfaces an inbox
//! client talks to (superwaba.md) — Supabase Auth (`/auth/v1/token`), the
//! Session API (`/api`, `x-org-id` + Bearer) and the Developer API
//! (`/api/developer/v1`, `x-api-key`) — over a seeded, mutable world, behind
//! the shared REST layer (faults, rate limit, offline, `/__sandbox/…`).

mod auth;
mod bulk;
mod contacts;
mod control;
mod conversations;
mod developer;
mod live;
mod seed;
mod wire;
mod world;

#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::middleware;
use axum::routing::{get, patch, post};
use serde_json::json;

use self::auth::AuthState;
pub use self::control::{
    SuperWabaContactState, SuperWabaControl, SuperWabaConversationState, SuperWabaMessageState,
};
use self::world::World;
use super::rest::{self, ErrorBodies, Guard, RestConfig, RestServer, RestState};

pub const DEMO_ORG_ID: &str = "3f6c2a1e-9b0d-4e57-8c21-5a7d90e4b6f2";
pub const DEMO_EMAIL: &str = "agent@example.org";
pub const DEMO_PASSWORD: &str = "demo";
pub const DEMO_ANON_KEY: &str = "sandbox-anon-key";
pub const DEMO_API_KEY: &str = "sgk_sandbox_demo_key";
/// The signed-in agent's id (`user.id` of every grant).
pub const DEMO_USER_ID: &str = "user_5b1f0c2d-7a3e-4d19-9e60-1c2b3a4d5e6f";

/// Start-up settings of a SuperWaba sandbox.
#[derive(Debug, Clone)]
pub struct SuperWabaSandboxOptions {
    pub seed: u64,
    pub live: bool,
    pub live_interval: Duration,
    pub conversations: usize,
    /// At least `conversations` (each conversation has its own contact).
    pub contacts: usize,
    pub org_id: String,
    pub email: String,
    pub password: String,
    pub anon_key: String,
    pub api_key: String,
    pub token_ttl: Duration,
    /// Session API requests per `rate_window` (documented: 100 a minute).
    pub rate_limit: u32,
    pub rate_window: Duration,
    /// Share (0.0–1.0) of stored writes answered with HTTP 500.
    pub lose_answer_rate: f64,
}

impl Default for SuperWabaSandboxOptions {
    fn default() -> Self {
        Self {
            seed: 42,
            live: false,
            live_interval: Duration::from_secs(4),
            conversations: 120,
            contacts: 200,
            org_id: DEMO_ORG_ID.into(),
            email: DEMO_EMAIL.into(),
            password: DEMO_PASSWORD.into(),
            anon_key: DEMO_ANON_KEY.into(),
            api_key: DEMO_API_KEY.into(),
            token_ttl: Duration::from_secs(3600),
            rate_limit: 100,
            rate_window: Duration::from_secs(60),
            lose_answer_rate: 0.0,
        }
    }
}

pub(crate) struct Shared {
    pub(crate) options: SuperWabaSandboxOptions,
    pub(crate) world: Mutex<World>,
    pub(crate) auth: Mutex<AuthState>,
    pub(crate) rest: Arc<RestState>,
    /// Developer API sends left this month; `None` = unlimited.
    pub(crate) monthly_events_left: Mutex<Option<u32>>,
}

fn bodies() -> ErrorBodies {
    ErrorBodies {
        rate_limited: json!({ "success": false, "message": "Rate limit exceeded" }),
        retry_after: false,
        unavailable: json!({ "success": false, "message": "Service temporarily unavailable" }),
        lost_answer: json!({ "success": false, "message": "Internal server error" }),
        malformed_prefix: r#"{"success": true, "data": [{"id": "conv_"#,
    }
}

fn router(shared: Arc<Shared>) -> Router {
    let guard = |rate_limited| {
        middleware::from_fn_with_state(
            Guard {
                state: shared.rest.clone(),
                rate_limited,
            },
            rest::guard,
        )
    };
    let session = Router::new()
        .route(
            "/api/whatsapp/contacts",
            get(contacts::list).post(contacts::create),
        )
        .route("/api/whatsapp/contacts/bulk", post(contacts::bulk))
        .route(
            "/api/whatsapp/contacts/{id}",
            get(contacts::get).merge(patch(contacts::update)),
        )
        .route("/api/whatsapp/conversations", get(conversations::list))
        .route("/api/whatsapp/conversations/{id}", get(conversations::get))
        .route(
            "/api/whatsapp/conversations/{id}/close",
            post(conversations::close),
        )
        .route(
            "/api/whatsapp/conversations/{id}/assign",
            post(conversations::assign),
        )
        .route(
            "/api/whatsapp/messages",
            get(conversations::messages).post(conversations::send),
        )
        .route_layer(guard(true));
    let others = Router::new()
        .route("/auth/v1/token", post(auth::token))
        .route("/api/developer/v1/templates", get(developer::templates))
        .route(
            "/api/developer/v1/send-message",
            post(developer::send_message),
        )
        .route_layer(guard(false));
    session
        .merge(others)
        .merge(control::router())
        .with_state(shared.clone())
        .merge(rest::control_router(shared.rest.clone()))
}

/// A running SuperWaba sandbox.
pub struct SuperWabaSandbox {
    server: RestServer,
    control: SuperWabaControl,
}

impl SuperWabaSandbox {
    /// Binds `addr` (port 0 allowed), seeds the world and serves it (with
    /// live traffic if enabled) on the current tokio runtime.
    pub async fn start(
        addr: SocketAddr,
        options: SuperWabaSandboxOptions,
    ) -> anyhow::Result<SuperWabaSandbox> {
        let rest = RestState::new(RestConfig {
            seed: options.seed,
            rate_limit: options.rate_limit,
            rate_window: options.rate_window,
            lose_answer_rate: options.lose_answer_rate,
            bodies: bodies(),
        });
        let world = seed::generate(
            options.seed,
            seed::Volume {
                conversations: options.conversations,
                contacts: options.contacts,
            },
            DEMO_USER_ID,
            &options.email,
        );
        let shared = Arc::new(Shared {
            auth: Mutex::new(AuthState::new(options.seed)),
            world: Mutex::new(world),
            monthly_events_left: Mutex::new(None),
            rest: rest.clone(),
            options,
        });
        rest.set_token_faults(Box::new(auth::SessionTokenFaults(Arc::downgrade(&shared))));
        let mut server =
            RestServer::start(addr, router(shared.clone()), rest.clone(), "SuperWaba").await?;
        if shared.options.live {
            server.add_task(live::spawn(shared.clone()));
        }
        Ok(SuperWabaSandbox {
            server,
            control: SuperWabaControl { shared },
        })
    }

    /// The Session API: `http://127.0.0.1:PORT/api`.
    pub fn base_url(&self) -> String {
        format!("{}/api", self.server.origin())
    }

    /// The Developer API without its `/v1`: `http://127.0.0.1:PORT/api/developer`.
    pub fn developer_base_url(&self) -> String {
        format!("{}/api/developer", self.server.origin())
    }

    /// The Supabase project URL: `http://127.0.0.1:PORT`.
    pub fn supabase_url(&self) -> String {
        self.server.origin()
    }

    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    pub fn control(&self) -> SuperWabaControl {
        self.control.clone()
    }

    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }
}

impl std::ops::Deref for SuperWabaSandbox {
    type Target = SuperWabaControl;

    fn deref(&self) -> &SuperWabaControl {
        &self.control
    }
}
