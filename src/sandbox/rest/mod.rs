//! What every REST sandbox shares: injected faults (failing requests,
//! latency, answers lost after a write was stored), a fixed-window rate
//! limiter, request statistics, the `/__sandbox/…` control routes and the
//! server's start and shutdown. Each sandbox brings its own routes and the
//! bodies its provider answers 429, 503 and 500 with.

mod control;
mod guard;
mod server;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::Value;

use super::fault_kit::FaultKit;
use super::rate_limit::RateLimiter;
use super::{LoseAnswers, clamp_rate, lock};

pub(crate) use self::control::{closing, control_router};
pub(crate) use self::guard::{Guard, guard};
pub(crate) use self::server::RestServer;

/// The provider's own answers to what the shared layer refuses.
#[derive(Debug, Clone)]
pub struct ErrorBodies {
    /// HTTP 429 from the rate limiter.
    pub rate_limited: Value,
    /// Send `Retry-After` with a 429 (only where the provider documents it).
    pub retry_after: bool,
    /// HTTP 503 from [`RestFaults::fail_next`].
    pub unavailable: Value,
    /// HTTP 500 for a write that was stored but whose answer is lost.
    pub lost_answer: Value,
    /// The start of a plausible answer, cut off, for `malformed_json_next`.
    pub malformed_prefix: &'static str,
}

/// What a sandbox does when asked to expire or revoke its tokens; one
/// without tokens registers none and the switches do nothing.
pub(crate) trait TokenFaults: Send + Sync {
    fn expire_tokens(&self);
    fn revoke_tokens(&self);
}

/// Misbehaviour injected in front of the routes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RestFaults {
    /// The next N requests answer HTTP 503.
    pub fail_next: u32,
    /// Sleep this long before handling a request.
    pub delay: Option<Duration>,
}

/// What the sandbox has served since it started.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct RestStats {
    /// Requests to guarded routes, whatever their answer.
    pub requests: u64,
    /// Of those, answered 429.
    pub rate_limited: u64,
    /// Of those, answered 503 by `fail_next`.
    pub unavailable: u64,
    /// Of those, writes stored and then answered 500.
    pub lost_answers: u64,
    /// Requests by `METHOD /route/pattern`, whatever their answer.
    pub routes: BTreeMap<String, u64>,
    /// Injected faults served, by `/__sandbox/faults` key stem (`storm`,
    /// `error_rate`, `truncate`, `hang`, `malformed_json`, …).
    pub faults_served: BTreeMap<String, u64>,
}

/// Settings a sandbox starts its shared layer with.
#[derive(Debug, Clone)]
pub(crate) struct RestConfig {
    pub seed: u64,
    pub rate_limit: u32,
    pub rate_window: Duration,
    pub lose_answer_rate: f64,
    pub bodies: ErrorBodies,
}

/// The shared layer's state; one per sandbox server.
pub(crate) struct RestState {
    bodies: ErrorBodies,
    faults: Mutex<RestFaults>,
    rate: Mutex<RateLimiter>,
    lose: Mutex<LoseAnswers>,
    offline: Arc<AtomicBool>,
    requests: AtomicU64,
    in_flight: AtomicU64,
    rate_limited: AtomicU64,
    unavailable: AtomicU64,
    lost_answers: AtomicU64,
    routes: Mutex<BTreeMap<String, u64>>,
    kit: FaultKit,
    tokens: OnceLock<Box<dyn TokenFaults>>,
}

impl RestState {
    pub(crate) fn new(config: RestConfig) -> Arc<Self> {
        Arc::new(RestState {
            faults: Mutex::new(RestFaults::default()),
            rate: Mutex::new(RateLimiter::new(config.rate_limit, config.rate_window)),
            lose: Mutex::new(LoseAnswers::new(config.seed, config.lose_answer_rate)),
            offline: Arc::new(AtomicBool::new(false)),
            requests: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
            rate_limited: AtomicU64::new(0),
            unavailable: AtomicU64::new(0),
            lost_answers: AtomicU64::new(0),
            routes: Mutex::new(BTreeMap::new()),
            kit: FaultKit::new(config.seed),
            tokens: OnceLock::new(),
            bodies: config.bodies,
        })
    }

    /// The switch the gated listener reads.
    pub(crate) fn offline_flag(&self) -> Arc<AtomicBool> {
        self.offline.clone()
    }

    pub(crate) fn stats(&self) -> RestStats {
        RestStats {
            requests: self.requests.load(Ordering::Relaxed),
            rate_limited: self.rate_limited.load(Ordering::Relaxed),
            unavailable: self.unavailable.load(Ordering::Relaxed),
            lost_answers: self.lost_answers.load(Ordering::Relaxed),
            routes: lock(&self.routes).clone(),
            faults_served: self.kit.served(),
        }
    }

    /// The switches shared with the GraphQL sandbox.
    pub(crate) fn kit(&self) -> &FaultKit {
        &self.kit
    }

    /// Registers how `expire_tokens` and `revoke_tokens` act; once.
    pub(crate) fn set_token_faults(&self, tokens: Box<dyn TokenFaults>) {
        let _ = self.tokens.set(tokens);
    }

    /// Whether this sandbox has tokens to expire or revoke.
    pub(crate) fn has_tokens(&self) -> bool {
        self.tokens.get().is_some()
    }

    pub(crate) fn expire_tokens(&self) {
        if let Some(t) = self.tokens.get() {
            t.expire_tokens();
            self.kit.count("expire_tokens");
        }
    }

    pub(crate) fn revoke_tokens(&self) {
        if let Some(t) = self.tokens.get() {
            t.revoke_tokens();
            self.kit.count("revoke_tokens");
        }
    }

    /// Requests on guarded routes received and not yet answered.
    pub(crate) fn in_flight(&self) -> u64 {
        self.in_flight.load(Ordering::SeqCst)
    }

    pub(crate) fn faults(&self) -> RestFaults {
        lock(&self.faults).clone()
    }

    pub(crate) fn set_faults(&self, faults: RestFaults) {
        *lock(&self.faults) = faults;
    }

    pub(crate) fn set_fail_next(&self, n: u32) {
        lock(&self.faults).fail_next = n;
    }

    pub(crate) fn set_delay(&self, delay: Option<Duration>) {
        lock(&self.faults).delay = delay;
    }

    /// Starts a fresh window with the new limit.
    pub(crate) fn set_rate_limit(&self, limit: u32, window: Duration) {
        *lock(&self.rate) = RateLimiter::new(limit, window);
    }

    pub(crate) fn rate_limit(&self) -> (u32, Duration) {
        let r = lock(&self.rate);
        (r.limit(), r.window())
    }

    /// Clamped to 0.0–1.0 (NaN = 0); the seeded stream carries on.
    pub(crate) fn set_lose_answer_rate(&self, rate: f64) {
        lock(&self.lose).rate = clamp_rate(rate);
    }

    pub(crate) fn lose_answer_rate(&self) -> f64 {
        lock(&self.lose).rate
    }

    pub(crate) fn set_offline(&self, offline: bool) {
        self.offline.store(offline, Ordering::SeqCst);
    }

    pub(crate) fn is_offline(&self) -> bool {
        self.offline.load(Ordering::SeqCst)
    }
}

/// The fault switches of a REST sandbox, for tests in the same process
/// (the same vocabulary as `/__sandbox/faults`).
#[derive(Clone)]
pub struct RestFaultControl(pub(crate) Arc<RestState>);

impl RestFaultControl {
    /// Share (0.0–1.0, NaN = 0) of API requests answered 503 before
    /// anything is done; seeded from the sandbox seed.
    pub fn set_error_rate(&self, rate: f64) {
        self.0.kit.edit(|s| s.error_rate = clamp_rate(rate));
    }

    /// The next `n` API requests answer 429 with `Retry-After: retry_after_s`.
    pub fn storm_next(&self, n: u32, retry_after_s: u64) {
        self.0.kit.edit(|s| {
            s.storm_next = n;
            s.storm_retry_after_s = retry_after_s.max(1);
        });
    }

    /// The next `n` answers are HTTP 200 with a body that is not JSON.
    pub fn malformed_json_next(&self, n: u32) {
        self.0.kit.edit(|s| s.malformed_json_next = n);
    }

    /// The next `n` answers declare their full length and stop halfway.
    pub fn truncate_next(&self, n: u32) {
        self.0.kit.edit(|s| s.truncate_next = n);
    }

    /// The next `n` answers send headers and half the body, then hang until
    /// the client gives up or the sandbox shuts down.
    pub fn hang_next(&self, n: u32) {
        self.0.kit.edit(|s| s.hang_next = n);
    }

    /// Every `n`-th row of list answers gets a field of the wrong type;
    /// `None` (or 0) = off.
    pub fn set_wrong_type_every(&self, n: Option<usize>) {
        self.0
            .kit
            .edit(|s| s.wrong_type_every = n.filter(|n| *n > 0));
    }

    /// While true, sign-in is refused (SuperWaba: password grant; DM Champ:
    /// every API key).
    pub fn set_reject_credentials(&self, reject: bool) {
        self.0.kit.edit(|s| s.reject_credentials = reject);
    }

    /// Access tokens expire (nothing where the provider has none).
    pub fn expire_tokens(&self) {
        self.0.expire_tokens();
    }

    /// Access and refresh tokens are revoked (nothing where there are none).
    pub fn revoke_tokens(&self) {
        self.0.revoke_tokens();
    }

    /// Injected faults served, by kind.
    pub fn faults_served(&self) -> BTreeMap<String, u64> {
        self.0.kit.served()
    }
}

/// A JSON answer; `Connection: close` is up to the caller.
pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    let mut resp = Response::new(Body::from(bytes));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}
