//! The Session API's sign-in: Supabase password or refresh-token grants,
//! renewed shortly before the access token runs out and once after a 401.
//! Refresh tokens rotate on every grant; the newest is kept in the token
//! file (0600, written atomically) and preferred at the next start.
//! A renewal that fails is not tried again before a backoff with jitter has
//! passed: meanwhile the current token serves while it lasts, and callers
//! without one get the same error without a new request.

use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::SuperWabaLogin;
use super::wire::{self, WireGrant};
use crate::api::http::{HttpClient, HttpRequest, rest_error};
use crate::api::{ApiError, ApiResult};
use crate::domain::{Agent, AgentId};
use crate::sync::backoff::Backoff;
use crate::text::sanitize_line;

const REFRESH_REFUSED: &str = "the refresh token was refused; sign in to SuperWaba again and put a new refresh token (or the password) in the config";

struct Session {
    access: SecretString,
    refresh: SecretString,
    renew_at: Instant,
    expires_at: Instant,
    agent: Agent,
}

struct State {
    session: Option<Session>,
    /// Bumped on every grant, so a 401 renews only a token not renewed since.
    generation: u64,
    /// The token file was tried (it is read once, at the first sign-in).
    file_tried: bool,
    /// The last renewal's error, and when it may be tried again.
    failed: Option<(ApiError, Instant)>,
    backoff: Backoff,
}

impl Default for State {
    fn default() -> Self {
        State {
            session: None,
            generation: 0,
            file_tried: false,
            failed: None,
            backoff: Backoff::new(Duration::from_secs(2), Duration::from_secs(120)),
        }
    }
}

impl State {
    fn still_failing(&self, now: Instant) -> Option<ApiError> {
        let (error, until) = self.failed.as_ref().filter(|(_, until)| now < *until)?;
        Some(match error {
            ApiError::RateLimited { .. } => ApiError::RateLimited {
                retry_after: *until - now,
            },
            other => other.clone(),
        })
    }
}

pub(crate) struct Auth {
    http: HttpClient,
    anon_key: SecretString,
    login: SuperWabaLogin,
    token_file: Option<PathBuf>,
    state: Mutex<State>,
}

/// Renew this long before the access token expires: a tenth of its
/// lifetime, between 5 seconds and 5 minutes (never past its whole life).
fn renew_margin(lifetime: Duration) -> Duration {
    (lifetime / 10)
        .clamp(Duration::from_secs(5), Duration::from_secs(300))
        .min(lifetime)
}

impl Auth {
    pub(crate) fn new(
        http: HttpClient,
        anon_key: SecretString,
        login: SuperWabaLogin,
        token_file: Option<PathBuf>,
    ) -> Self {
        Auth {
            http,
            anon_key,
            login,
            token_file,
            state: Mutex::new(State::default()),
        }
    }

    /// A live access token and its generation (for [`Auth::after_unauthorized`]).
    pub(crate) async fn token(&self) -> ApiResult<(SecretString, u64)> {
        let mut state = self.state.lock().await;
        let now = Instant::now();
        let fresh = state.session.as_ref().is_some_and(|s| now < s.renew_at);
        if !fresh {
            let alive = state.session.as_ref().is_some_and(|s| now < s.expires_at);
            match self.renew_with_backoff(&mut state).await {
                Ok(()) => {}
                // The current token still works: keep using it.
                Err(e) if alive && e.is_transient() => {}
                Err(e) => return Err(e),
            }
        }
        let session = state.session.as_ref().ok_or(ApiError::TokenExpired)?;
        Ok((session.access.clone(), state.generation))
    }

    /// [`Auth::renew`] unless a failed one's backoff still runs; a failure
    /// starts the next backoff (and moves a live session's renewal to its
    /// end, never past the token's expiry).
    async fn renew_with_backoff(&self, state: &mut State) -> ApiResult<()> {
        let now = Instant::now();
        if let Some(error) = state.still_failing(now) {
            return Err(error);
        }
        match self.renew(state).await {
            Ok(()) => {
                state.failed = None;
                state.backoff.reset();
                Ok(())
            }
            Err(e) => {
                let jitter = rand::Rng::random_range(&mut rand::rng(), 0.0..=1.0);
                let backoff = state.backoff.next_delay(jitter);
                let wait = match &e {
                    ApiError::RateLimited { retry_after } => (*retry_after).max(backoff),
                    _ => backoff,
                };
                let until = Instant::now() + wait;
                if let Some(session) = state.session.as_mut() {
                    session.renew_at = until.min(session.expires_at);
                }
                tracing::warn!(error = %e, retry_in_ms = wait.as_millis() as u64, "superwaba: session renewal failed");
                state.failed = Some((e.clone(), until));
                Err(e)
            }
        }
    }

    /// After a 401 with the token of `generation`: renews it unless another
    /// request already did, and returns the token to replay with.
    pub(crate) async fn after_unauthorized(&self, generation: u64) -> ApiResult<SecretString> {
        let mut state = self.state.lock().await;
        if state.generation == generation || state.session.is_none() {
            self.renew_with_backoff(&mut state).await?;
        }
        state
            .session
            .as_ref()
            .map(|s| s.access.clone())
            .ok_or(ApiError::TokenExpired)
    }

    /// Makes the session due for renewal.
    #[cfg(test)]
    pub(crate) async fn make_due(&self) {
        if let Some(session) = self.state.lock().await.session.as_mut() {
            session.renew_at = Instant::now();
        }
    }

    /// When the session is next renewed, and when its token expires.
    #[cfg(test)]
    pub(crate) async fn schedule(&self) -> Option<(Instant, Instant)> {
        let state = self.state.lock().await;
        state.session.as_ref().map(|s| (s.renew_at, s.expires_at))
    }

    pub(crate) async fn agent(&self) -> ApiResult<Agent> {
        self.token().await?;
        let state = self.state.lock().await;
        state
            .session
            .as_ref()
            .map(|s| s.agent.clone())
            .ok_or(ApiError::TokenExpired)
    }

    /// The session's refresh token, else the saved one, else the login;
    /// a refused refresh token falls back to the password.
    async fn renew(&self, state: &mut State) -> ApiResult<()> {
        let mut candidate = state.session.as_ref().map(|s| s.refresh.clone());
        if candidate.is_none() && !state.file_tried {
            state.file_tried = true;
            candidate = self.token_file.as_deref().and_then(read_token_file);
        }
        if let Some(token) = &candidate {
            match self.refresh_grant(token).await {
                Ok(grant) => return self.install(state, grant),
                Err(ApiError::InvalidCredentials(_)) => {
                    tracing::info!("superwaba: refresh token refused, signing in again");
                }
                Err(e) => return Err(e),
            }
        }
        let grant = match &self.login {
            SuperWabaLogin::Password { email, password } => {
                self.grant(
                    "password",
                    json!({ "email": email, "password": password.expose_secret() }),
                )
                .await?
            }
            SuperWabaLogin::RefreshToken(token) => {
                let already = candidate
                    .as_ref()
                    .is_some_and(|c| c.expose_secret() == token.expose_secret());
                let result = if already {
                    Err(ApiError::InvalidCredentials(String::new()))
                } else {
                    self.refresh_grant(token).await
                };
                match result {
                    Ok(grant) => grant,
                    Err(ApiError::InvalidCredentials(_)) => {
                        state.session = None;
                        return Err(ApiError::InvalidCredentials(REFRESH_REFUSED.into()));
                    }
                    Err(e) => return Err(e),
                }
            }
        };
        self.install(state, grant)
    }

    async fn refresh_grant(&self, token: &SecretString) -> ApiResult<WireGrant> {
        self.grant(
            "refresh_token",
            json!({ "refresh_token": token.expose_secret() }),
        )
        .await
    }

    fn install(&self, state: &mut State, grant: WireGrant) -> ApiResult<()> {
        // A month at most: an absurd lifetime must not overflow the clock.
        let lifetime = Duration::from_secs(grant.expires_in.unwrap_or(3600).clamp(1, 30 * 86_400));
        let refresh = grant.refresh_token;
        if let Some(path) = &self.token_file
            && let Err(e) = write_token_file(path, &refresh)
        {
            tracing::warn!("superwaba: cannot save the refresh token: {e}");
        }
        let email = grant
            .user
            .email
            .as_deref()
            .map(sanitize_line)
            .unwrap_or_default();
        let name = ["full_name", "name"]
            .iter()
            .find_map(|k| grant.user.user_metadata.get(*k).and_then(Value::as_str))
            .map(sanitize_line)
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| email.split('@').next().unwrap_or_default().to_string());
        state.session = Some(Session {
            access: grant.access_token,
            refresh,
            renew_at: Instant::now() + lifetime - renew_margin(lifetime),
            expires_at: Instant::now() + lifetime,
            agent: Agent {
                id: AgentId(grant.user.id),
                first_name: name,
                last_name: String::new(),
                email,
                role: "agent".into(),
                active: true,
                is_bot: false,
            },
        });
        state.generation += 1;
        Ok(())
    }

    async fn grant(&self, grant_type: &'static str, body: Value) -> ApiResult<WireGrant> {
        let request = HttpRequest::post("auth/v1/token")
            .query("grant_type", grant_type)
            .secret_header("apikey", &self.anon_key)
            .fail_fast_when_limited()
            .json(body);
        let response = self.http.send(request).await?;
        if !response.is_success() {
            let json: Value = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
            let text = wire::error_text(&json);
            return Err(match response.status {
                400 | 401 | 403 | 422 => ApiError::InvalidCredentials(match response.status {
                    401 => format!(
                        "the Supabase anon key was refused ({})",
                        text.unwrap_or_else(|| "401".into())
                    ),
                    _ => text.unwrap_or_else(|| "sign-in refused".into()),
                }),
                status => rest_error(status, &response.body),
            });
        }
        wire::decode_quiet(&response.json()?, "the sign-in answer")
    }
}

/// The saved refresh token, if the file holds one.
fn read_token_file(path: &Path) -> Option<SecretString> {
    let text = std::fs::read_to_string(path).ok()?;
    let token = serde_json::from_str::<Value>(&text)
        .ok()
        .and_then(|v| v.get("refresh_token")?.as_str().map(str::to_string))?;
    (!token.trim().is_empty()).then(|| SecretString::from(token.trim().to_string()))
}

/// Replaces the token file atomically, readable by the owner only.
pub(crate) fn write_token_file(path: &Path, refresh: &SecretString) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    // NamedTempFile is created 0600 on Unix.
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    let body = json!({ "refresh_token": refresh.expose_secret() });
    file.write_all(body.to_string().as_bytes())?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_margin_stays_within_the_lifetime() {
        assert_eq!(
            renew_margin(Duration::from_secs(3600)),
            Duration::from_secs(300)
        );
        assert_eq!(
            renew_margin(Duration::from_secs(120)),
            Duration::from_secs(12)
        );
        assert_eq!(renew_margin(Duration::from_secs(2)), Duration::from_secs(2));
    }

    #[test]
    fn the_token_file_is_private_and_replaced_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/dir/superwaba.json");
        write_token_file(&path, &SecretString::from("r1_one".to_string())).unwrap();
        write_token_file(&path, &SecretString::from("r1_two".to_string())).unwrap();
        let read = read_token_file(&path).unwrap();
        assert_eq!(read.expose_secret(), "r1_two");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, "not json").unwrap();
        assert!(read_token_file(&path).is_none());
    }

    mod renewal {
        use std::net::SocketAddr;
        use std::sync::Arc;
        use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

        use axum::Router;
        use axum::extract::State;
        use axum::http::StatusCode;
        use axum::response::{IntoResponse, Response};
        use axum::routing::post;

        use super::super::*;
        use crate::sync::scheduler::Scheduler;

        /// `mode` 0 grants a session.
        #[derive(Default)]
        struct Server {
            mode: AtomicU8,
            grants: AtomicUsize,
        }

        const DOWN: u8 = 1;
        const LIMITED: u8 = 2;
        const REFUSED: u8 = 3;

        async fn token(State(server): State<Arc<Server>>) -> Response {
            let n = server.grants.fetch_add(1, Ordering::SeqCst);
            match server.mode.load(Ordering::SeqCst) {
                DOWN => (StatusCode::SERVICE_UNAVAILABLE, "down").into_response(),
                LIMITED => (
                    StatusCode::TOO_MANY_REQUESTS,
                    [("retry-after", "30")],
                    "slow down",
                )
                    .into_response(),
                REFUSED => (
                    StatusCode::BAD_REQUEST,
                    axum::Json(json!({"error_description": "Invalid login credentials"})),
                )
                    .into_response(),
                _ => axum::Json(json!({
                    "access_token": format!("access-{n}"),
                    "refresh_token": format!("refresh-{n}"),
                    "expires_in": 3600,
                    "user": {"id": "u1", "email": "agent@example.com"}
                }))
                .into_response(),
            }
        }

        fn serve() -> (SocketAddr, Arc<Server>) {
            let server = Arc::new(Server::default());
            let app = Router::new()
                .route("/auth/v1/token", post(token))
                .with_state(server.clone());
            let addr = crate::api::http::test_server::serve_in_background(app);
            (addr, server)
        }

        fn auth(addr: SocketAddr) -> Auth {
            let http = HttpClient::new(
                &format!("http://{addr}"),
                Duration::from_secs(10),
                Arc::new(Scheduler::new(1000)),
                "superwaba-auth",
            )
            .unwrap();
            Auth::new(
                http,
                SecretString::from("anon"),
                SuperWabaLogin::Password {
                    email: "agent@example.com".into(),
                    password: SecretString::from("pw"),
                },
                None,
            )
        }

        #[tokio::test]
        async fn a_failing_renewal_keeps_the_live_token_and_backs_off() {
            let (addr, server) = serve();
            let auth = auth(addr);
            let (first, _) = auth.token().await.unwrap();
            server.mode.store(DOWN, Ordering::SeqCst);
            auth.make_due().await;
            for _ in 0..5 {
                let (token, _) = auth.token().await.unwrap();
                assert_eq!(token.expose_secret(), first.expose_secret());
            }
            assert_eq!(
                server.grants.load(Ordering::SeqCst),
                2,
                "one failed renewal"
            );
            let (renew_at, expires_at) = auth.schedule().await.unwrap();
            assert!(renew_at > Instant::now() && renew_at <= expires_at);
        }

        #[tokio::test]
        async fn a_rate_limited_sign_in_answers_at_once_and_only_once() {
            let (addr, server) = serve();
            let auth = Arc::new(auth(addr));
            server.mode.store(LIMITED, Ordering::SeqCst);
            let calls: Vec<_> = (0..4)
                .map(|_| {
                    let auth = auth.clone();
                    tokio::spawn(async move { auth.token().await })
                })
                .collect();
            for call in calls {
                let error = call.await.unwrap().unwrap_err();
                assert!(
                    matches!(error, ApiError::RateLimited { retry_after } if retry_after > Duration::from_secs(10)),
                    "{error:?}"
                );
            }
            assert_eq!(server.grants.load(Ordering::SeqCst), 1);
        }

        #[tokio::test]
        async fn refused_credentials_are_not_asked_again_at_once() {
            let (addr, server) = serve();
            let auth = auth(addr);
            server.mode.store(REFUSED, Ordering::SeqCst);
            for _ in 0..5 {
                let error = auth.token().await.unwrap_err();
                assert_eq!(
                    error,
                    ApiError::InvalidCredentials("Invalid login credentials".into())
                );
            }
            assert_eq!(server.grants.load(Ordering::SeqCst), 1);
        }
    }
}
