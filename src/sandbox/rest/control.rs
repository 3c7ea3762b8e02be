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
use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};

use super::{RestFaults, RestState, json_response};

/// Tells "absent" (leave as is) from `null` (clear).
fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

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
}

fn apply(state: &RestState, p: Patch) {
    if p.reset {
        state.set_faults(RestFaults::default());
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
    let patch = if body.iter().all(u8::is_ascii_whitespace) {
        Ok(Patch::default())
    } else {
        serde_json::from_slice::<Patch>(&body)
    };
    match patch {
        Ok(p) => {
            apply(&state, p);
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
