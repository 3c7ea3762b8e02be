//! `/__sandbox/*`: steering a sandbox that runs in another process (an
//! end-to-end test driving `termdesk sandbox`). Only the fields present in
//! the JSON body change; unknown fields are refused so a typo cannot pass
//! for a setting.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use super::http::{App, bad_request, json_response};
use super::rate_limit::RateLimiter;
use super::{Faults, Malformed, SandboxControl, Shared, clamp_rate, lock};

use super::fault_kit::{SwitchPatch, present, split_patch};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Patch {
    /// Clear every fault (not dedup, rate limit or offline) before applying the rest.
    #[serde(default)]
    reset: bool,
    fail_next: Option<u32>,
    #[serde(default, deserialize_with = "present")]
    delay_ms: Option<Option<u64>>,
    #[serde(default, deserialize_with = "present")]
    answer_delay_ms: Option<Option<u64>>,
    extra_unknown_fields: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    drop_field: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    malformed_conversation_every: Option<Option<usize>>,
    malformed: Option<Malformed>,
    #[serde(default, deserialize_with = "present")]
    max_root_fields: Option<Option<usize>>,
    lose_answers: Option<f64>,
    dedup: Option<bool>,
    rate_limit: Option<u32>,
    rate_window_ms: Option<u64>,
    offline: Option<bool>,
    /// Moves this conversation's messages back until the customer's newest
    /// is 25 hours old: its WhatsApp window is closed.
    close_whatsapp_window: Option<String>,
    /// Changes a template's review status.
    template_status: Option<TemplateStatusPatch>,
    /// Every access token issued so far is expired.
    #[serde(default)]
    expire_tokens: bool,
    /// Every access token issued so far is refused as revoked.
    #[serde(default)]
    revoke_tokens: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TemplateStatusPatch {
    name: String,
    language: String,
    status: String,
}

const TEMPLATE_STATUSES: [&str; 7] = [
    "APPROVED",
    "PENDING",
    "REJECTED",
    "PAUSED",
    "DISABLED",
    "IN_APPEAL",
    "DELETED",
];

/// Refuses a patch naming a conversation or template the world lacks,
/// before anything changes.
fn check_world(shared: &Shared, p: &Patch) -> Result<(), String> {
    let world = lock(&shared.world);
    if let Some(id) = &p.close_whatsapp_window
        && world.conversation(id).is_none()
    {
        return Err(format!("close_whatsapp_window: no conversation {id}"));
    }
    if let Some(t) = &p.template_status {
        if !TEMPLATE_STATUSES.contains(&t.status.as_str()) {
            return Err(format!(
                "template_status: unknown status {} (use {})",
                t.status,
                TEMPLATE_STATUSES.join(", ")
            ));
        }
        if !world
            .templates
            .iter()
            .any(|x| x.name == t.name && x.language.eq_ignore_ascii_case(&t.language))
        {
            return Err(format!(
                "template_status: no template {} ({})",
                t.name, t.language
            ));
        }
    }
    Ok(())
}

fn apply_world(shared: &Arc<Shared>, p: &Patch) {
    let control = SandboxControl {
        shared: shared.clone(),
    };
    if let Some(id) = &p.close_whatsapp_window {
        control.close_whatsapp_window(id);
    }
    if let Some(t) = &p.template_status {
        control.set_template_status(&t.name, &t.language, &t.status);
    }
}

fn apply(shared: &Shared, p: Patch, switches: SwitchPatch) {
    if p.reset {
        shared.kit.set_switches(Default::default());
    }
    shared.kit.apply(&switches);
    if p.expire_tokens {
        lock(&shared.auth).expire_all(super::world::now_ms());
        shared.kit.count("expire_tokens");
    }
    if p.revoke_tokens {
        lock(&shared.auth).revoke_all();
        shared.kit.count("revoke_tokens");
    }
    {
        let mut f = lock(&shared.faults);
        if p.reset {
            *f = Faults::default();
        }
        // The GraphQL sandbox's wrong types are its malformed documents.
        if let Some(every) = switches.wrong_type_every {
            f.malformed_conversation_every = every.filter(|n| *n > 0);
            f.malformed = Malformed::WrongTypeUpdatedAt;
            f.malformed_lists = true;
        }
        if let Some(n) = p.fail_next {
            f.fail_next = n;
        }
        if let Some(d) = p.delay_ms {
            f.delay = d.map(Duration::from_millis);
        }
        if let Some(d) = p.answer_delay_ms {
            f.answer_delay = d.map(Duration::from_millis);
        }
        if let Some(x) = p.extra_unknown_fields {
            f.extra_unknown_fields = x;
        }
        if let Some(d) = p.drop_field {
            f.drop_field = d.filter(|k| !k.is_empty());
        }
        if let Some(n) = p.malformed_conversation_every {
            f.malformed_conversation_every = n.filter(|n| *n > 0);
        }
        if let Some(m) = p.malformed {
            f.malformed = m;
        }
        if let Some(n) = p.max_root_fields {
            f.max_root_fields = n.filter(|n| *n > 0);
        }
    }
    if let Some(rate) = p.lose_answers {
        lock(&shared.lose).rate = clamp_rate(rate);
    }
    if let Some(d) = p.dedup {
        shared.dedup.store(d, std::sync::atomic::Ordering::Relaxed);
    }
    if p.rate_limit.is_some() || p.rate_window_ms.is_some() {
        let mut rate = lock(&shared.rate);
        let limit = p.rate_limit.unwrap_or(rate.limit());
        let window = p
            .rate_window_ms
            .map(Duration::from_millis)
            .unwrap_or(rate.window());
        *rate = RateLimiter::new(limit, window);
    }
    if let Some(off) = p.offline {
        shared
            .offline
            .store(off, std::sync::atomic::Ordering::SeqCst);
    }
}

fn state(shared: &Shared) -> Value {
    let f = lock(&shared.faults).clone();
    let (limit, window) = {
        let r = lock(&shared.rate);
        (r.limit(), r.window())
    };
    json!({
        "faults": {
            "fail_next": f.fail_next,
            "delay_ms": f.delay.map(|d| d.as_millis() as u64),
            "answer_delay_ms": f.answer_delay.map(|d| d.as_millis() as u64),
            "extra_unknown_fields": f.extra_unknown_fields,
            "drop_field": f.drop_field,
            "malformed_conversation_every": f.malformed_conversation_every,
            "malformed": f.malformed,
            "malformed_lists": f.malformed_lists,
            "max_root_fields": f.max_root_fields,
        },
        "switches": shared.kit.describe(),
        "lose_answers": lock(&shared.lose).rate,
        "dedup": shared.dedup.load(std::sync::atomic::Ordering::Relaxed),
        "rate_limit": limit,
        "rate_window_ms": window.as_millis() as u64,
        "offline": shared.offline.load(std::sync::atomic::Ordering::SeqCst),
        "stats": shared.stats(),
    })
}

/// One request per control connection: the connection was let through while
/// offline because of its first request, so it must not carry API calls.
fn closing(mut resp: Response) -> Response {
    resp.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    resp
}

pub(crate) async fn set_faults(State(app): State<App>, body: Bytes) -> Response {
    match split_patch::<Patch>(&body) {
        Ok((p, switches)) => {
            if let Err(e) = check_world(&app.shared, &p) {
                return closing(bad_request(&format!("invalid sandbox settings: {e}")));
            }
            apply_world(&app.shared, &p);
            apply(&app.shared, p, switches);
            closing(json_response(StatusCode::OK, &state(&app.shared)))
        }
        Err(e) => closing(bad_request(&format!("invalid sandbox settings: {e}"))),
    }
}

pub(crate) async fn stats(State(app): State<App>) -> Response {
    closing(json_response(StatusCode::OK, &state(&app.shared)))
}
