//! The middleware in front of a sandbox's API routes: counts, rate-limits,
//! fails and delays requests, and loses the answers of stored writes.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use super::{RestState, json_response};
use crate::sandbox::lock;

/// How one group of routes is guarded. Install with
/// `router.route_layer(axum::middleware::from_fn_with_state(guard, rest::guard))`
/// so the route pattern is known for the statistics.
#[derive(Clone)]
pub(crate) struct Guard {
    pub(crate) state: Arc<RestState>,
    /// Whether these routes count against the rate limit.
    pub(crate) rate_limited: bool,
}

/// Counts a request as in flight until it is answered or dropped.
struct InFlight<'a>(&'a RestState);

impl<'a> InFlight<'a> {
    fn enter(state: &'a RestState) -> Self {
        state.in_flight.fetch_add(1, Ordering::SeqCst);
        InFlight(state)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

pub(crate) async fn guard(State(guard): State<Guard>, req: Request, next: Next) -> Response {
    let state = &*guard.state;
    state.requests.fetch_add(1, Ordering::Relaxed);
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| req.uri().path().to_string());
    *lock(&state.routes)
        .entry(format!("{} {route}", req.method()))
        .or_default() += 1;
    let _in_flight = InFlight::enter(state);

    if guard.rate_limited {
        let decision = lock(&state.rate).hit(Instant::now());
        if !decision.allowed {
            state.rate_limited.fetch_add(1, Ordering::Relaxed);
            let mut resp = json_response(StatusCode::TOO_MANY_REQUESTS, &state.bodies.rate_limited);
            if state.bodies.retry_after {
                resp.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(decision.reset_secs));
            }
            return resp;
        }
    }

    let faults = {
        let mut f = lock(&state.faults);
        let snapshot = f.clone();
        f.fail_next = f.fail_next.saturating_sub(1);
        snapshot
    };
    if let Some(delay) = faults.delay {
        tokio::time::sleep(delay).await;
    }
    if faults.fail_next > 0 {
        state.unavailable.fetch_add(1, Ordering::Relaxed);
        return json_response(StatusCode::SERVICE_UNAVAILABLE, &state.bodies.unavailable);
    }

    let write = req.method() != Method::GET && req.method() != Method::HEAD;
    let resp = next.run(req).await;
    if write && resp.status().is_success() && lock(&state.lose).roll() {
        state.lost_answers.fetch_add(1, Ordering::Relaxed);
        return json_response(StatusCode::INTERNAL_SERVER_ERROR, &state.bodies.lost_answer);
    }
    resp
}
