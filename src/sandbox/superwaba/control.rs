//! Steering and reading back the SuperWaba sandbox: a handle for tests and
//! the demo, and `/__sandbox/superwaba` for a test in another process.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::post;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;

use super::Shared;
use super::world::{now_ms, preview_text};
use crate::sandbox::lock;
use crate::sandbox::rest::{RestFaults, RestStats, json_response};

/// A conversation as the server holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuperWabaConversationState {
    pub contact_id: String,
    pub status: String,
    pub assignee: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// A message as the server holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuperWabaMessageState {
    pub id: String,
    pub wa_message_id: String,
    pub direction: String,
    pub kind: String,
    /// The text, caption or file name.
    pub text: String,
    pub client_message_id: Option<String>,
    pub status: String,
}

/// A contact as the server holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuperWabaContactState {
    pub id: String,
    pub vendor_id: String,
    pub name: String,
    pub phone: String,
    pub email: Option<String>,
    pub country_code: Option<String>,
    pub tags: Vec<String>,
    pub source: String,
    pub opted_in: bool,
    pub is_blocked: bool,
    pub updated_at: DateTime<Utc>,
}

/// Cheap handle to inspect and steer a running sandbox.
#[derive(Clone)]
pub struct SuperWabaControl {
    pub(crate) shared: Arc<Shared>,
}

impl SuperWabaControl {
    pub fn faults(&self) -> RestFaults {
        self.shared.rest.faults()
    }

    pub fn set_faults(&self, faults: RestFaults) {
        self.shared.rest.set_faults(faults);
    }

    /// The next `n` requests answer 503.
    pub fn fail_next(&self, n: u32) {
        self.shared.rest.set_fail_next(n);
    }

    pub fn set_delay(&self, delay: Option<Duration>) {
        self.shared.rest.set_delay(delay);
    }

    /// Session API limit; starts a fresh window.
    pub fn set_rate_limit(&self, limit: u32, window: Duration) {
        self.shared.rest.set_rate_limit(limit, window);
    }

    pub fn set_lose_answer_rate(&self, rate: f64) {
        self.shared.rest.set_lose_answer_rate(rate);
    }

    /// Connections are dropped unanswered until [`go_online`](Self::go_online);
    /// the `/__sandbox/` routes keep working.
    pub fn go_offline(&self) {
        self.shared.rest.set_offline(true);
    }

    pub fn go_online(&self) {
        self.shared.rest.set_offline(false);
    }

    pub fn is_offline(&self) -> bool {
        self.shared.rest.is_offline()
    }

    pub fn stats(&self) -> RestStats {
        self.shared.rest.stats()
    }

    pub fn requests_in_flight(&self) -> u64 {
        self.shared.rest.in_flight()
    }

    /// Every access token issued so far stops working (401).
    pub fn expire_access_tokens(&self) {
        lock(&self.shared.auth).expire_access_tokens();
    }

    /// Every refresh token issued so far is refused.
    pub fn revoke_refresh_tokens(&self) {
        lock(&self.shared.auth).revoke_refresh_tokens();
    }

    /// Every access and refresh token issued so far is refused; the
    /// password grant still works.
    pub fn revoke_tokens(&self) {
        self.shared.rest.revoke_tokens();
    }

    /// While true, the password grant is refused (`invalid_grant`).
    pub fn set_reject_credentials(&self, reject: bool) {
        self.shared
            .rest
            .kit()
            .edit(|s| s.reject_credentials = reject);
    }

    /// The fault switches shared with the other sandboxes.
    pub fn faults_control(&self) -> crate::sandbox::rest::RestFaultControl {
        crate::sandbox::rest::RestFaultControl(self.shared.rest.clone())
    }

    pub fn password_grants(&self) -> u64 {
        lock(&self.shared.auth).password_grants
    }

    pub fn refresh_grants(&self) -> u64 {
        lock(&self.shared.auth).refresh_grants
    }

    /// Developer API sends left before 429 `API_LIMIT_REACHED`; `None` = unlimited.
    pub fn set_monthly_events(&self, left: Option<u32>) {
        *lock(&self.shared.monthly_events_left) = left;
    }

    /// Ids of the organization's users, the signed-in agent first.
    pub fn user_ids(&self) -> Vec<String> {
        lock(&self.shared.world)
            .users
            .iter()
            .map(|u| u.id.clone())
            .collect()
    }

    /// Conversation ids, most recently updated first.
    pub fn conversation_ids(&self) -> Vec<String> {
        let world = lock(&self.shared.world);
        let mut rows: Vec<_> = world.conversations.iter().collect();
        rows.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then(b.id.cmp(&a.id)));
        rows.into_iter().map(|c| c.id.clone()).collect()
    }

    pub fn conversation_state(&self, id: &str) -> Option<SuperWabaConversationState> {
        let world = lock(&self.shared.world);
        let c = &world.conversations[world.conversation_index(id)?];
        Some(SuperWabaConversationState {
            contact_id: c.contact_id.clone(),
            status: c.status.clone(),
            assignee: c.assignee_id.clone(),
            updated_at: c.updated_at,
        })
    }

    /// Sets a conversation's status behind the client's back.
    pub fn set_conversation_status(&self, id: &str, status: &str) -> bool {
        let mut world = lock(&self.shared.world);
        let Some(i) = world.conversation_index(id) else {
            return false;
        };
        world.conversations[i].status = status.to_string();
        world.touch_conversation(i);
        true
    }

    /// The conversation's messages, oldest first.
    pub fn messages(&self, conversation_id: &str) -> Vec<SuperWabaMessageState> {
        lock(&self.shared.world)
            .messages_of(conversation_id)
            .iter()
            .map(|m| SuperWabaMessageState {
                id: m.id.clone(),
                wa_message_id: m.wa_message_id.clone(),
                direction: m.direction.clone(),
                kind: m.kind.clone(),
                text: preview_text(m),
                client_message_id: m.client_message_id.clone(),
                status: m.status.clone(),
            })
            .collect()
    }

    /// Whether the customer's 24-hour window is open; `None` for an unknown conversation.
    pub fn window_open(&self, conversation_id: &str) -> Option<bool> {
        let world = lock(&self.shared.world);
        world.conversation_index(conversation_id)?;
        Some(world.window_open(conversation_id, now_ms()))
    }

    /// A customer writes; returns the message id (`None` for an unknown conversation).
    pub fn inject_incoming_message(&self, conversation_id: &str, text: &str) -> Option<String> {
        lock(&self.shared.world).add_inbound(conversation_id, text)
    }

    pub fn contact(&self, id: &str) -> Option<SuperWabaContactState> {
        let world = lock(&self.shared.world);
        let c = &world.contacts[world.contact_index(id)?];
        Some(SuperWabaContactState {
            id: c.id.clone(),
            vendor_id: c.vendor_id.clone(),
            name: c.name.clone(),
            phone: c.phone.clone(),
            email: c.email.clone(),
            country_code: c.country_code.clone(),
            tags: c.tags.clone(),
            source: c.source.clone(),
            opted_in: c.opted_in,
            is_blocked: c.is_blocked,
            updated_at: c.updated_at,
        })
    }

    pub fn contact_id_by_phone(&self, phone: &str) -> Option<String> {
        let world = lock(&self.shared.world);
        world
            .contact_by_phone(phone)
            .map(|i| world.contacts[i].id.clone())
    }

    pub fn contact_count(&self) -> usize {
        lock(&self.shared.world).contacts.len()
    }
}

/// Tells "absent" (leave as is) from `null`.
fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Patch {
    #[serde(default)]
    expire_access_tokens: bool,
    #[serde(default)]
    revoke_refresh_tokens: bool,
    /// `null` = unlimited.
    #[serde(default, deserialize_with = "present")]
    monthly_events: Option<Option<u32>>,
    inject_message: Option<Inject>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Inject {
    conversation_id: String,
    text: String,
}

async fn steer(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let control = SuperWabaControl { shared };
    let patch = if body.iter().all(u8::is_ascii_whitespace) {
        Ok(Patch::default())
    } else {
        serde_json::from_slice::<Patch>(&body)
    };
    let p = match patch {
        Ok(p) => p,
        Err(e) => {
            return crate::sandbox::rest::closing(json_response(
                StatusCode::BAD_REQUEST,
                &json!({ "message": format!("invalid sandbox settings: {e}") }),
            ));
        }
    };
    let mut injected = None;
    if let Some(inject) = &p.inject_message {
        match control.inject_incoming_message(&inject.conversation_id, &inject.text) {
            Some(id) => injected = Some(id),
            None => {
                return crate::sandbox::rest::closing(json_response(
                    StatusCode::BAD_REQUEST,
                    &json!({ "message": format!("inject_message: no conversation {}", inject.conversation_id) }),
                ));
            }
        }
    }
    if p.expire_access_tokens {
        control.expire_access_tokens();
    }
    if p.revoke_refresh_tokens {
        control.revoke_refresh_tokens();
    }
    if let Some(left) = p.monthly_events {
        control.set_monthly_events(left);
    }
    crate::sandbox::rest::closing(json_response(
        StatusCode::OK,
        &json!({
            "injected_message_id": injected,
            "password_grants": control.password_grants(),
            "refresh_grants": control.refresh_grants(),
        }),
    ))
}

/// `/__sandbox/superwaba`: tokens, the monthly cap, customer messages.
pub(crate) fn router() -> Router<Arc<Shared>> {
    Router::new().route("/__sandbox/superwaba", post(steer))
}
