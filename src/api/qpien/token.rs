//! Access-token cache. Tokens come from `generateOAuthToken`, live about an
//! hour and have no refresh token: a new one is simply requested. Refreshes
//! are serialized by holding the state lock across the fetch, so callers that
//! arrive during a refresh wait for it and then use its result. The fetch is
//! bounded by the request timeout and never sits out a 429 (it answers
//! `RateLimited` at once), so the lock is never held for long. A failed fetch
//! is remembered for a backoff with jitter: callers meanwhile get the current
//! token while it lasts, or the same error, without asking again.

use std::time::Duration;

use chrono::Utc;
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::operations::{GenerateOAuthToken, Operation, generate_o_auth_token};
use super::transport::Transport;
use crate::api::{ApiError, ApiResult};
use crate::sync::backoff::Backoff;

/// Documented token lifetime, used when the server does not say.
const DEFAULT_LIFETIME: Duration = Duration::from_secs(3600);
const MAX_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// Refresh this long before expiry: five minutes, or a tenth of the
/// lifetime for short-lived tokens.
pub fn refresh_margin(lifetime: Duration) -> Duration {
    (lifetime / 10).min(Duration::from_secs(300))
}

/// Token lifetime from `expiresIn` (seconds) or `expiresAt`.
pub fn token_lifetime(
    expires_in: Option<i64>,
    expires_at: Option<chrono::DateTime<Utc>>,
    now: chrono::DateTime<Utc>,
) -> Duration {
    let from_in = expires_in
        .filter(|s| *s > 0)
        .map(|s| Duration::from_secs(s as u64));
    let from_at = expires_at
        .map(|at| (at - now).num_milliseconds())
        .filter(|ms| *ms > 0)
        .map(|ms| Duration::from_millis(ms as u64));
    // A server claiming years would overflow the clock arithmetic; a day is
    // plenty, and a token refreshed early costs one request.
    from_in
        .or(from_at)
        .unwrap_or(DEFAULT_LIFETIME)
        .min(MAX_LIFETIME)
}

/// A token handed to a caller; `generation` identifies it for
/// [`TokenManager::refresh_after`].
#[derive(Clone)]
pub struct Token {
    pub value: SecretString,
    pub generation: u64,
}

struct Cached {
    token: Token,
    refresh_at: Instant,
    expires_at: Instant,
}

/// After a failed fetch, nobody asks again before `until`.
struct Failed {
    error: ApiError,
    until: Instant,
}

struct State {
    current: Option<Cached>,
    generation: u64,
    failed: Option<Failed>,
    backoff: Backoff,
}

impl Default for State {
    fn default() -> Self {
        State {
            current: None,
            generation: 0,
            failed: None,
            backoff: Backoff::new(FAILURE_BACKOFF_BASE, FAILURE_BACKOFF_MAX),
        }
    }
}

impl State {
    /// The error of a failed fetch whose backoff still runs.
    fn still_failing(&self, now: Instant) -> Option<ApiError> {
        let failed = self.failed.as_ref().filter(|f| now < f.until)?;
        Some(match &failed.error {
            ApiError::RateLimited { .. } => ApiError::RateLimited {
                retry_after: failed.until - now,
            },
            other => other.clone(),
        })
    }

    /// The cached token while it has not expired.
    fn usable(&self, now: Instant) -> Option<Token> {
        self.current
            .as_ref()
            .filter(|c| now < c.expires_at)
            .map(|c| c.token.clone())
    }
}

/// Waits after failed token fetches: doubling from the base up to the cap,
/// each with jitter.
const FAILURE_BACKOFF_BASE: Duration = Duration::from_secs(2);
const FAILURE_BACKOFF_MAX: Duration = Duration::from_secs(120);

pub struct TokenManager {
    client_id: String,
    client_secret: SecretString,
    state: Mutex<State>,
}

impl std::fmt::Debug for TokenManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenManager")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[REDACTED]")
            .finish_non_exhaustive()
    }
}

impl TokenManager {
    pub fn new(client_id: String, client_secret: SecretString) -> Self {
        TokenManager {
            client_id,
            client_secret,
            state: Mutex::new(State::default()),
        }
    }

    /// A token that is not due for refresh, fetching one if needed.
    pub async fn get(&self, transport: &Transport) -> ApiResult<Token> {
        let mut state = self.state.lock().await;
        let now = Instant::now();
        if let Some(cached) = &state.current
            && now < cached.refresh_at
        {
            return Ok(cached.token.clone());
        }
        if let Some(error) = state.still_failing(now) {
            return state.usable(now).ok_or(error);
        }
        self.fetch_locked(&mut state, transport).await
    }

    /// The server refused token `stale_generation`: fetch a new one, unless
    /// another caller already did (or a fetch failed moments ago).
    pub async fn refresh_after(
        &self,
        transport: &Transport,
        stale_generation: u64,
    ) -> ApiResult<Token> {
        let mut state = self.state.lock().await;
        let now = Instant::now();
        if let Some(cached) = &state.current
            && cached.token.generation != stale_generation
            && now < cached.refresh_at
        {
            return Ok(cached.token.clone());
        }
        if let Some(error) = state.still_failing(now) {
            return Err(error);
        }
        state.current = None;
        self.fetch_locked(&mut state, transport).await
    }

    /// Fetches a new token regardless of the cache (but not while a failed
    /// fetch's backoff runs).
    pub async fn force_refresh(&self, transport: &Transport) -> ApiResult<Token> {
        let mut state = self.state.lock().await;
        if let Some(error) = state.still_failing(Instant::now()) {
            return Err(error);
        }
        self.fetch_locked(&mut state, transport).await
    }

    async fn fetch_locked(&self, state: &mut State, transport: &Transport) -> ApiResult<Token> {
        match self.fetch(transport).await {
            Ok((value, lifetime)) => {
                let now = Instant::now();
                state.generation += 1;
                state.failed = None;
                state.backoff.reset();
                let token = Token {
                    value,
                    generation: state.generation,
                };
                state.current = Some(Cached {
                    token: token.clone(),
                    refresh_at: now + lifetime.saturating_sub(refresh_margin(lifetime)),
                    expires_at: now + lifetime,
                });
                tracing::debug!(
                    lifetime_s = lifetime.as_secs(),
                    "obtained Qpien access token"
                );
                Ok(token)
            }
            Err(e) => {
                let now = Instant::now();
                let jitter = rand::Rng::random_range(&mut rand::rng(), 0.0..=1.0);
                let backoff = state.backoff.next_delay(jitter);
                let wait = match &e {
                    ApiError::RateLimited { retry_after } => (*retry_after).max(backoff),
                    _ => backoff,
                };
                state.failed = Some(Failed {
                    error: e.clone(),
                    until: now + wait,
                });
                match state.current.as_mut() {
                    // A proactive refresh that hit a passing problem: the old
                    // token still works until it expires; try again after the
                    // backoff, never later than that.
                    Some(cached) if e.is_transient() && now < cached.expires_at => {
                        cached.refresh_at = (now + wait).min(cached.expires_at);
                        tracing::warn!(
                            error = %e,
                            retry_in_ms = wait.as_millis() as u64,
                            "token refresh failed; using the current token"
                        );
                        Ok(cached.token.clone())
                    }
                    _ => {
                        state.current = None;
                        tracing::warn!(error = %e, retry_in_ms = wait.as_millis() as u64, "no access token");
                        Err(e)
                    }
                }
            }
        }
    }

    /// Makes the cached token due for a proactive refresh.
    #[cfg(test)]
    pub(crate) async fn make_due(&self) {
        if let Some(cached) = self.state.lock().await.current.as_mut() {
            cached.refresh_at = Instant::now();
        }
    }

    /// When the cached token is next refreshed, and when it expires.
    #[cfg(test)]
    pub(crate) async fn schedule(&self) -> Option<(Instant, Instant)> {
        let state = self.state.lock().await;
        state.current.as_ref().map(|c| (c.refresh_at, c.expires_at))
    }

    async fn fetch(&self, transport: &Transport) -> ApiResult<(SecretString, Duration)> {
        let variables = generate_o_auth_token::Variables {
            input: generate_o_auth_token::GenerateOAuthTokenInput {
                client_id: self.client_id.clone(),
                client_secret: self.client_secret.expose_secret().to_string(),
            },
        };
        // The body holds the secret: it is built, sent and dropped here.
        let body = Transport::body::<GenerateOAuthToken>(variables)?;
        let response: generate_o_auth_token::ResponseData = transport
            .post(&body, GenerateOAuthToken::ROOT, None)
            .await
            .map_err(credentials_error)?;
        let data = response.generate_o_auth_token.data.ok_or_else(|| {
            ApiError::Decode("missing field `data` at data.generateOAuthToken".into())
        })?;
        if data.access_token.trim().is_empty() {
            return Err(ApiError::Decode(
                "empty `accessToken` at data.generateOAuthToken.data".into(),
            ));
        }
        let lifetime = token_lifetime(data.expires_in, data.expires_at.map(|d| d.0), Utc::now());
        Ok((SecretString::from(data.access_token), lifetime))
    }
}

/// On the token call, "unauthorized" can only mean the credentials.
fn credentials_error(err: ApiError) -> ApiError {
    match err {
        ApiError::Unauthorized(message) => ApiError::InvalidCredentials(message),
        ApiError::Rejected {
            code: Some(400 | 401 | 403),
            message,
        } => ApiError::InvalidCredentials(message),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn margin_is_five_minutes_or_a_tenth() {
        assert_eq!(
            refresh_margin(Duration::from_secs(3600)),
            Duration::from_secs(300)
        );
        assert_eq!(
            refresh_margin(Duration::from_secs(60)),
            Duration::from_secs(6)
        );
        assert_eq!(
            refresh_margin(Duration::from_secs(3000)),
            Duration::from_secs(300)
        );
    }

    #[test]
    fn lifetime_sources() {
        let now = Utc::now();
        assert_eq!(
            token_lifetime(Some(120), None, now),
            Duration::from_secs(120)
        );
        assert_eq!(
            token_lifetime(None, Some(now + chrono::Duration::seconds(90)), now),
            Duration::from_secs(90)
        );
        assert_eq!(token_lifetime(None, None, now), DEFAULT_LIFETIME);
        assert_eq!(token_lifetime(Some(-5), None, now), DEFAULT_LIFETIME);
    }

    #[test]
    fn debug_hides_the_secret() {
        let m = TokenManager::new("id".into(), SecretString::from("s3cr3t-value"));
        assert!(!format!("{m:?}").contains("s3cr3t"));
    }
}
