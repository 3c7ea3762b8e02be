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
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::Value;

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
