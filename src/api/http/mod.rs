//! What every HTTP provider needs: requests scheduled against the account's
//! rate budget, the server's `X-RateLimit-*` headers taken in, 429 waited
//! out, reads that fail on the way tried again, bodies capped, one deadline
//! over all of it, and errors that never carry a URL's query string or a
//! credential.
//!
//! Rate limiting lives in the account's [`Scheduler`]: it counts every
//! request against its own sliding window and also takes in the server's
//! headers (`observe_server`), the safety net for what our count cannot see
//! (other users of the same key).

mod errors;
pub mod pacing;
mod paging;
mod request;

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rand::Rng;

pub use self::errors::{MAX_ERROR_TEXT, forbidden, rest_error, server_text, status_reason};
use self::errors::{describe, without_queries};
use self::pacing::{RESET_MARGIN, RateHeaders, retry_delay};
pub use self::paging::{next_page, page_number};
pub use self::request::{HttpRequest, HttpResponse, segment};
use crate::api::{ApiError, ApiResult};
use crate::sync::scheduler::{Scheduler, current_priority};
use crate::text;

/// Responses larger than this are refused rather than buffered.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;
/// Retries after HTTP 429 before giving up with `RateLimited`.
pub const MAX_RATE_LIMIT_RETRIES: u32 = 3;
/// Tries of a read that fails on the way, the first included.
pub const READ_ATTEMPTS: u32 = 3;
/// Backoff between read tries: full jitter over a window doubling from
/// this, capped at the maximum.
const READ_BACKOFF_BASE: Duration = Duration::from_millis(200);
const READ_BACKOFF_MAX: Duration = Duration::from_secs(2);

struct Inner {
    http: reqwest::Client,
    base: reqwest::Url,
    timeout: Duration,
    scheduler: Arc<Scheduler>,
    label: &'static str,
}

/// A provider's HTTP client; clones share the connection pool and budget.
#[derive(Clone)]
pub struct HttpClient {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("label", &self.inner.label)
            .field("base", &redacted_url(&self.inner.base))
            .field("timeout", &self.inner.timeout)
            .finish_non_exhaustive()
    }
}

/// Scheme, host, port and path only: a query string could carry secrets.
fn redacted_url(url: &reqwest::Url) -> String {
    let mut shown = url.clone();
    shown.set_query(None);
    shown.set_fragment(None);
    let _ = shown.set_password(None);
    let _ = shown.set_username("");
    shown.to_string()
}

impl HttpClient {
    /// `label` names the provider in log lines (e.g. `"superwaba"`).
    pub fn new(
        base_url: &str,
        timeout: Duration,
        scheduler: Arc<Scheduler>,
        label: &'static str,
    ) -> ApiResult<Self> {
        let base = reqwest::Url::parse(base_url.trim())
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
            .ok_or_else(|| {
                let shown = base_url.split('?').next().unwrap_or_default();
                ApiError::Network(format!(
                    "invalid API URL {:?}: expected http(s)://host/path",
                    text::sanitize_line(&without_queries(shown))
                ))
            })?;
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("termdesk/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                ApiError::Network(format!("cannot set up HTTP client: {}", describe(&e)))
            })?;
        Ok(HttpClient {
            inner: Arc::new(Inner {
                http,
                base,
                timeout,
                scheduler,
                label,
            }),
        })
    }

    pub fn scheduler(&self) -> &Arc<Scheduler> {
        &self.inner.scheduler
    }

    /// One request through the scheduler, at the priority of the calling
    /// task, within one deadline (the client's timeout) that covers the
    /// scheduler's wait, 429 waits, read retries and the exchange itself.
    /// A wait that would not end before the deadline is `RateLimited` at
    /// once. HTTP 429 is retried here (the server did not process the
    /// request); a read that fails on the way (5xx, timeout, connection
    /// lost, an answer cut off or not JSON) is sent again a few times with
    /// backoff; a write never is. Every other status is returned as `Ok`.
    pub async fn send(&self, request: HttpRequest) -> ApiResult<HttpResponse> {
        self.send_within(request, Instant::now() + self.inner.timeout)
            .await
    }

    /// [`HttpClient::send`] with the caller's deadline.
    pub async fn send_within(
        &self,
        request: HttpRequest,
        deadline: Instant,
    ) -> ApiResult<HttpResponse> {
        let inner = &self.inner;
        let priority = current_priority();
        let mut limited = 0;
        let mut failures = 0;
        loop {
            if let Err(wait) = inner.scheduler.acquire_within(priority, deadline).await {
                tracing::info!(
                    provider = inner.label,
                    op = request.log_name(),
                    wait_ms = wait.as_millis() as u64,
                    "the rate budget frees too late for this request"
                );
                return Err(ApiError::RateLimited { retry_after: wait });
            }
            let started = Instant::now();
            let outcome = match self.send_once(&request, deadline).await {
                Ok((status, rate, body, json_expected)) => {
                    if let (Some(remaining), Some(reset)) = (rate.remaining, rate.reset) {
                        inner
                            .scheduler
                            .observe_server(remaining, reset + RESET_MARGIN);
                    }
                    tracing::debug!(
                        provider = inner.label,
                        op = request.log_name(),
                        method = %request.method(),
                        ?priority,
                        status,
                        ms = started.elapsed().as_millis() as u64,
                        remaining = rate.remaining,
                        "request"
                    );
                    if status == 429 {
                        let jitter = rand::rng().random_range(0.0..1.0);
                        let wait = retry_delay(&rate, limited, jitter);
                        inner.scheduler.pause_until(Instant::now() + wait);
                        if limited >= MAX_RATE_LIMIT_RETRIES
                            || request.fails_fast_when_limited()
                            || Instant::now() + wait > deadline
                        {
                            return Err(ApiError::RateLimited { retry_after: wait });
                        }
                        tracing::info!(
                            provider = inner.label,
                            op = request.log_name(),
                            wait_ms = wait.as_millis() as u64,
                            "rate-limited (429), pausing the account"
                        );
                        limited += 1;
                        continue;
                    }
                    let response = HttpResponse { status, body };
                    match unreadable(&response, json_expected) {
                        Some(error) => Err(error),
                        None => Ok(response),
                    }
                }
                Err(error) => Err(error),
            };
            let retry = match &outcome {
                Ok(response) => response.status >= 500,
                Err(error) => error.is_transient(),
            };
            failures += 1;
            if !retry || !request.is_read() || failures >= READ_ATTEMPTS {
                return outcome;
            }
            let window = READ_BACKOFF_BASE
                .saturating_mul(1 << failures.min(8))
                .min(READ_BACKOFF_MAX);
            let delay = window.mul_f64(rand::rng().random_range(0.0..1.0));
            if Instant::now() + delay >= deadline {
                return outcome;
            }
            tracing::info!(
                provider = inner.label,
                op = request.log_name(),
                attempt = failures,
                delay_ms = delay.as_millis() as u64,
                why = %match &outcome {
                    Ok(response) => format!("HTTP {}", response.status),
                    Err(error) => error.to_string(),
                },
                "read failed on the way; trying again"
            );
            tokio::time::sleep(delay).await;
        }
    }

    /// One exchange, cut short at `deadline`. The flag says whether the
    /// answer claims to be JSON.
    async fn send_once(
        &self,
        request: &HttpRequest,
        deadline: Instant,
    ) -> ApiResult<(u16, RateHeaders, Vec<u8>, bool)> {
        let inner = &self.inner;
        let builder = request.build(&inner.http, &inner.base)?;
        let exchange = async {
            let mut response = builder.send().await.map_err(|e| self.transport_error(&e))?;
            let status = response.status().as_u16();
            let now_unix = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or_default();
            let rate = RateHeaders::from_headers(response.headers(), now_unix);
            let json_expected = response
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(claims_json);
            if response
                .content_length()
                .is_some_and(|len| len > MAX_BODY_BYTES as u64)
            {
                return Err(too_large());
            }
            let mut bytes = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(|e| {
                if e.is_timeout() {
                    self.transport_error(&e)
                } else {
                    cut_off()
                }
            })? {
                if bytes.len() + chunk.len() > MAX_BODY_BYTES {
                    return Err(too_large());
                }
                bytes.extend_from_slice(&chunk);
            }
            Ok((status, rate, bytes, json_expected))
        };
        // reqwest's own timeout covers one exchange; this one also holds
        // the exchange to what is left of the call's deadline.
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(ApiError::Timeout(inner.timeout));
        }
        match tokio::time::timeout(left.min(inner.timeout), exchange).await {
            Ok(result) => result,
            Err(_) => Err(ApiError::Timeout(inner.timeout)),
        }
    }

    fn transport_error(&self, err: &reqwest::Error) -> ApiError {
        if err.is_timeout() {
            return ApiError::Timeout(self.inner.timeout);
        }
        let host = self.inner.base.host_str().unwrap_or("the server");
        ApiError::Network(format!("cannot reach {host}: {}", describe(err)))
    }
}

/// Whether a `Content-Type` says JSON; other kinds of answer are the
/// caller's to judge.
fn claims_json(content_type: &str) -> bool {
    content_type.to_ascii_lowercase().contains("json")
}

/// A successful answer that cannot be what the server meant to send: its
/// body was cut off, or is not JSON at all. Both are passing troubles.
fn unreadable(response: &HttpResponse, json_expected: bool) -> Option<ApiError> {
    if !json_expected || !response.is_success() || response.body.iter().all(u8::is_ascii_whitespace)
    {
        return None;
    }
    match serde_json::from_slice::<serde::de::IgnoredAny>(&response.body) {
        Ok(_) => None,
        Err(e) if e.is_eof() => Some(cut_off()),
        Err(_) => Some(ApiError::Server {
            status: response.status,
            message: "the server answered with something that is not JSON".into(),
        }),
    }
}

fn cut_off() -> ApiError {
    ApiError::Network("the server's answer was cut off".into())
}

fn too_large() -> ApiError {
    ApiError::Decode(format!(
        "response larger than {} MiB refused",
        MAX_BODY_BYTES / (1024 * 1024)
    ))
}

#[cfg(test)]
pub(crate) mod test_server;
#[cfg(test)]
mod tests;
