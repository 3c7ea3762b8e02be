//! `/__sandbox/faults` and `/__sandbox/stats` of a REST sandbox, for a test
//! in another process. Only the fields present in the JSON body change;
//! unknown fields are refused so a typo cannot pass for a setting.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{RestFaults, RestState, json_response};

use crate::sandbox::fault_kit::{SwitchPatch, present, split_patch};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Patch {
    /// Clear the faults (not the rate limit, lost answers or offline) first.
    #[serde(default)]
    reset: bool,
    fail_next: Option<u32>,
    #[serde(default, deserialize_with = "present")]
    delay_ms: Option<Option<u64>>,
    lose_answers: Option<f64>,
    rate_limit: Option<u32>,
    rate_window_ms: Option<u64>,
    offline: Option<bool>,
    /// Access tokens expire (where the provider has any).
    #[serde(default)]
    expire_tokens: bool,
    /// Access and refresh tokens are revoked (where the provider has any).
    #[serde(default)]
    revoke_tokens: bool,
}

fn check(switches: &SwitchPatch) -> Result<(), String> {
    if switches.partial_errors_next.is_some() {
        return Err("partial_errors_next: only the Qpien GraphQL sandbox answers partly; \
             a REST answer here is all or nothing (use error_rate, truncate_next or malformed_json_next)"
            .to_string());
    }
    Ok(())
}

fn apply(state: &RestState, p: Patch, switches: SwitchPatch) {
    if p.reset {
        state.set_faults(RestFaults::default());
        state.kit().set_switches(Default::default());
    }
    state.kit().apply(&switches);
    if p.expire_tokens {
        state.expire_tokens();
    }
    if p.revoke_tokens {
        state.revoke_tokens();
    }
    if let Some(n) = p.fail_next {
        state.set_fail_next(n);
    }
    if let Some(d) = p.delay_ms {
        state.set_delay(d.map(Duration::from_millis));
    }
    if let Some(rate) = p.lose_answers {
        state.set_lose_answer_rate(rate);
    }
    if p.rate_limit.is_some() || p.rate_window_ms.is_some() {
        let (limit, window) = state.rate_limit();
        state.set_rate_limit(
            p.rate_limit.unwrap_or(limit),
            p.rate_window_ms
                .map(Duration::from_millis)
                .unwrap_or(window),
        );
    }
    if let Some(off) = p.offline {
        state.set_offline(off);
    }
}

fn snapshot(state: &RestState) -> Value {
    let f = state.faults();
    let (limit, window) = state.rate_limit();
    json!({
        "faults": {
            "fail_next": f.fail_next,
            "delay_ms": f.delay.map(|d| d.as_millis() as u64),
        },
        "lose_answers": state.lose_answer_rate(),
        "rate_limit": limit,
        "rate_window_ms": window.as_millis() as u64,
        "offline": state.is_offline(),
        "switches": state.kit().describe(),
        "tokens": if state.has_tokens() {
            "expire_tokens and revoke_tokens act on this sandbox's tokens"
        } else {
            "no tokens here (API key only): expire_tokens and revoke_tokens do nothing"
        },
        "stats": state.stats(),
    })
}

/// One request per control connection: it was let through while offline
/// because of its first request, so it must not carry API calls.
pub(crate) fn closing(mut resp: Response) -> Response {
    resp.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    resp
}

async fn set_faults(State(state): State<Arc<RestState>>, body: Bytes) -> Response {
    let parsed = split_patch::<Patch>(&body).and_then(|(p, switches)| {
        check(&switches)?;
        Ok((p, switches))
    });
    match parsed {
        Ok((p, switches)) => {
            apply(&state, p, switches);
            closing(json_response(StatusCode::OK, &snapshot(&state)))
        }
        Err(e) => closing(json_response(
            StatusCode::BAD_REQUEST,
            &json!({ "message": format!("invalid sandbox settings: {e}") }),
        )),
    }
}

async fn stats(State(state): State<Arc<RestState>>) -> Response {
    closing(json_response(StatusCode::OK, &snapshot(&state)))
}

/// The control routes; merge them into the sandbox's router outside the
/// guard, so steering neither counts nor meets the faults it sets.
pub(crate) fn control_router(state: Arc<RestState>) -> Router {
    Router::new()
        .route("/__sandbox/faults", post(set_faults))
        .route("/__sandbox/stats", get(stats))
        .with_state(state)
}
