//! Supabase Auth as the Session API sees it: password and refresh-token
//! grants at `/auth/v1/token` (anon key in `apikey`), access tokens that
//! expire, refresh tokens that rotate on every use; and the checks the
//! Session API (`x-org-id` + Bearer) and the Developer API (`x-api-key`)
//! put in front of their routes.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use chrono::{DateTime, Duration, Utc};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use super::Shared;
use super::wire;
use super::world::{hex, now_ms};
use crate::sandbox::lock;
use crate::sandbox::rest::json_response;

pub(crate) struct AuthState {
    rng: ChaCha8Rng,
    /// Access token → (user id, expiry).
    access: HashMap<String, (String, DateTime<Utc>)>,
    /// Refresh token → user id; a used one is gone (rotation).
    refresh: HashMap<String, String>,
    pub password_grants: u64,
    pub refresh_grants: u64,
}

impl AuthState {
    pub(crate) fn new(seed: u64) -> Self {
        AuthState {
            rng: ChaCha8Rng::seed_from_u64(seed ^ 0xa07_4000),
            access: HashMap::new(),
            refresh: HashMap::new(),
            password_grants: 0,
            refresh_grants: 0,
        }
    }

    fn issue(&mut self, user_id: &str, ttl: std::time::Duration) -> (String, String, i64) {
        let access = format!(
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.{}.{}",
            hex(&mut self.rng, 48),
            hex(&mut self.rng, 16)
        );
        let refresh = format!("r1_{}", hex(&mut self.rng, 20));
        let ttl = Duration::from_std(ttl)
            .unwrap_or(Duration::hours(1))
            .clamp(Duration::seconds(1), Duration::days(365));
        let expires = now_ms() + ttl;
        self.access
            .insert(access.clone(), (user_id.to_string(), expires));
        self.refresh.insert(refresh.clone(), user_id.to_string());
        (access, refresh, ttl.num_seconds().max(1))
    }

    /// The user a live access token belongs to.
    fn user_of(&self, token: &str, now: DateTime<Utc>) -> Option<&str> {
        let (user, expires) = self.access.get(token)?;
        (now < *expires).then_some(user.as_str())
    }

    pub(crate) fn expire_access_tokens(&mut self) {
        let past = now_ms() - Duration::seconds(1);
        for (_, expires) in self.access.values_mut() {
            *expires = past;
        }
    }

    pub(crate) fn revoke_refresh_tokens(&mut self) {
        self.refresh.clear();
    }

    pub(crate) fn revoke_access_tokens(&mut self) {
        self.access.clear();
    }
}

/// `expire_tokens` and `revoke_tokens` of `/__sandbox/faults`; weak, so
/// the shared layer holding it does not keep the sandbox alive.
pub(crate) struct SessionTokenFaults(pub(crate) std::sync::Weak<Shared>);

impl crate::sandbox::rest::TokenFaults for SessionTokenFaults {
    fn expire_tokens(&self) {
        if let Some(shared) = self.0.upgrade() {
            lock(&shared.auth).expire_access_tokens();
        }
    }

    /// Access and refresh tokens both; the password grant still works.
    fn revoke_tokens(&self) {
        if let Some(shared) = self.0.upgrade() {
            let mut auth = lock(&shared.auth);
            auth.revoke_access_tokens();
            auth.revoke_refresh_tokens();
        }
    }
}

fn supabase_error(status: StatusCode, error: &str, description: &str) -> Response {
    json_response(
        status,
        &json!({ "error": error, "error_description": description }),
    )
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name)?.to_str().ok().map(str::trim)
}

/// `POST /auth/v1/token?grant_type=password|refresh_token`.
pub(crate) async fn token(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let options = &shared.options;
    if header_str(&headers, "apikey") != Some(options.anon_key.as_str()) {
        return json_response(
            StatusCode::UNAUTHORIZED,
            &json!({ "message": "Invalid API key", "hint": "Double check your Supabase `anon` or `service_role` API key." }),
        );
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let field = |k: &str| body.get(k).and_then(Value::as_str).unwrap_or_default();
    let mut auth = lock(&shared.auth);
    let user_id = match query.get("grant_type").map(String::as_str) {
        Some("password") => {
            let rejected = shared.rest.kit().rejecting_credentials();
            if rejected {
                shared.rest.kit().count("reject_credentials");
            }
            if rejected
                || !field("email").eq_ignore_ascii_case(&options.email)
                || field("password") != options.password
            {
                return supabase_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "Invalid login credentials",
                );
            }
            auth.password_grants += 1;
            super::DEMO_USER_ID.to_string()
        }
        Some("refresh_token") => match auth.refresh.remove(field("refresh_token")) {
            Some(user) => {
                auth.refresh_grants += 1;
                user
            }
            None => {
                return supabase_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "Invalid Refresh Token: Refresh Token Not Found",
                );
            }
        },
        other => {
            return supabase_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                &format!(
                    "grant_type must be password or refresh_token, not {}",
                    other.unwrap_or("missing")
                ),
            );
        }
    };
    let (access, refresh, expires_in) = auth.issue(&user_id, options.token_ttl);
    drop(auth);
    let (email, name) = lock(&shared.world)
        .user(&user_id)
        .map(|u| (u.email.clone(), u.name.clone()))
        .unwrap_or_default();
    json_response(
        StatusCode::OK,
        &json!({
            "access_token": access,
            "token_type": "bearer",
            "expires_in": expires_in,
            "expires_at": (Utc::now() + Duration::seconds(expires_in)).timestamp(),
            "refresh_token": refresh,
            "user": { "id": user_id, "email": email, "aud": "authenticated", "role": "authenticated",
                "user_metadata": { "full_name": name } },
        }),
    )
}

/// The Session API's check: a live Bearer token and this organization.
/// Returns the signed-in user's id.
pub(crate) fn session(shared: &Shared, headers: &HeaderMap) -> Result<String, Box<Response>> {
    let unauthorized = || Box::new(wire::error(StatusCode::UNAUTHORIZED, "Unauthorized"));
    let token = header_str(headers, header::AUTHORIZATION.as_str())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim())
        .ok_or_else(unauthorized)?;
    let user = lock(&shared.auth)
        .user_of(token, now_ms())
        .map(str::to_string)
        .ok_or_else(unauthorized)?;
    match header_str(headers, "x-org-id") {
        None | Some("") => Err(unauthorized()),
        Some(org) if org == shared.options.org_id => Ok(user),
        Some(_) => Err(Box::new(wire::error(
            StatusCode::FORBIDDEN,
            "Forbidden: you are not a member of this organization",
        ))),
    }
}

/// The Developer API's check: the organization's `x-api-key`.
pub(crate) fn developer(shared: &Shared, headers: &HeaderMap) -> Result<(), Box<Response>> {
    if header_str(headers, "x-api-key") == Some(shared.options.api_key.as_str()) {
        Ok(())
    } else {
        Err(Box::new(wire::developer_error(
            StatusCode::UNAUTHORIZED,
            "Invalid or missing API key",
            "INVALID_API_KEY",
            "Include a valid x-api-key header",
        )))
    }
}
