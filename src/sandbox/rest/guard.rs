//! The middleware in front of a sandbox's API routes: counts, rate-limits,
//! fails and delays requests, and loses the answers of stored writes.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use super::{RestState, json_response};
use crate::sandbox::fault_kit::{list_rows, wrong_type_rows};
use crate::sandbox::lock;

/// Largest answer buffered to break its rows.
const MAX_BODY: usize = 64 * 1024 * 1024;

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

    if let Some(secs) = state.kit().take_storm() {
        state.rate_limited.fetch_add(1, Ordering::Relaxed);
        let mut resp = json_response(StatusCode::TOO_MANY_REQUESTS, &state.bodies.rate_limited);
        storm_headers(&mut resp, lock(&state.rate).limit(), secs);
        return resp;
    }

    let faults = {
        let mut f = lock(&state.faults);
        let snapshot = f.clone();
        f.fail_next = f.fail_next.saturating_sub(1);
        snapshot
    };
    if let Some(delay) = faults.delay {
        state.kit().count("delay");
        tokio::time::sleep(delay).await;
    }
    let failing = faults.fail_next > 0;
    if failing {
        state.kit().count("fail_next");
    }
    if failing || state.kit().roll_error() {
        state.unavailable.fetch_add(1, Ordering::Relaxed);
        return json_response(StatusCode::SERVICE_UNAVAILABLE, &state.bodies.unavailable);
    }

    let read = req.method() == Method::GET;
    let write = !read && req.method() != Method::HEAD;
    let mut resp = next.run(req).await;
    if write && resp.status().is_success() && lock(&state.lose).roll() {
        state.lost_answers.fetch_add(1, Ordering::Relaxed);
        state.kit().count("lose_answers");
        return json_response(StatusCode::INTERNAL_SERVER_ERROR, &state.bodies.lost_answer);
    }
    if read
        && resp.status().is_success()
        && let Some(every) = state.kit().wrong_type_every()
    {
        resp = wrong_types(resp, state, every).await;
    }
    if let Some(how) = state.kit().take_broken_answer() {
        resp = state
            .kit()
            .break_answer(resp, how, state.bodies.malformed_prefix)
            .await;
    }
    resp
}

/// A storm's 429: `Retry-After`, and the rate headers with nothing left
/// and `Reset` as a Unix time (neither provider documents the headers; the
/// epoch form is the common one for REST APIs).
fn storm_headers(resp: &mut Response, limit: u32, secs: u64) {
    let reset = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
        + secs;
    let headers = resp.headers_mut();
    headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
    headers.insert("x-ratelimit-limit", HeaderValue::from(limit));
    headers.insert("x-ratelimit-remaining", HeaderValue::from(0u32));
    headers.insert("x-ratelimit-reset", HeaderValue::from(reset));
}

/// Every N-th row of a list answer with a field of the wrong type.
async fn wrong_types(resp: Response, state: &RestState, every: usize) -> Response {
    let (mut parts, body) = resp.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return json_response(StatusCode::INTERNAL_SERVER_ERROR, &state.bodies.lost_answer);
    };
    let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    let broken: u64 = list_rows(&mut v)
        .into_iter()
        .map(|rows| wrong_type_rows(rows, every))
        .sum();
    if broken == 0 {
        return Response::from_parts(parts, Body::from(bytes));
    }
    state.kit().count("wrong_type");
    parts.headers.remove(header::CONTENT_LENGTH);
    let out = serde_json::to_vec(&v).map(Bytes::from).unwrap_or(bytes);
    Response::from_parts(parts, Body::from(out))
}
