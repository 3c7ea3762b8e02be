//! What every HTTP provider needs: requests scheduled against the account's
//! rate budget, the server's `X-RateLimit-*` headers taken in, 429 waited
//! out, bodies capped, one timeout over the whole exchange, and errors that
//! never carry a URL's query string or a credential.
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

pub use self::errors::{MAX_ERROR_TEXT, rest_error, server_text, status_reason};
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
    /// task. HTTP 429 is retried here (the server did not process the
    /// request) after pausing the whole account until the server's reset;
    /// every other status is returned as `Ok`.
    pub async fn send(&self, request: HttpRequest) -> ApiResult<HttpResponse> {
        let inner = &self.inner;
        let priority = current_priority();
        let mut attempt = 0;
        loop {
            inner.scheduler.acquire(priority).await;
            let started = Instant::now();
            let (status, rate, body) = self.send_once(&request).await?;
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
                let wait = retry_delay(&rate, attempt, jitter);
                if attempt >= MAX_RATE_LIMIT_RETRIES {
                    return Err(ApiError::RateLimited { retry_after: wait });
                }
                tracing::info!(
                    provider = inner.label,
                    op = request.log_name(),
                    wait_ms = wait.as_millis() as u64,
                    "rate-limited (429), pausing the account"
                );
                inner.scheduler.pause_until(Instant::now() + wait);
                attempt += 1;
                continue;
            }
            return Ok(HttpResponse { status, body });
        }
    }

    async fn send_once(&self, request: &HttpRequest) -> ApiResult<(u16, RateHeaders, Vec<u8>)> {
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
            if response
                .content_length()
                .is_some_and(|len| len > MAX_BODY_BYTES as u64)
            {
                return Err(too_large());
            }
            let mut bytes = Vec::new();
            while let Some(chunk) = response
                .chunk()
                .await
                .map_err(|e| self.transport_error(&e))?
            {
                if bytes.len() + chunk.len() > MAX_BODY_BYTES {
                    return Err(too_large());
                }
                bytes.extend_from_slice(&chunk);
            }
            Ok((status, rate, bytes))
        };
        // reqwest's own timeout covers the same span; this one also bounds
        // slow body streaming regardless of how the client was built.
        match tokio::time::timeout(inner.timeout, exchange).await {
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

fn too_large() -> ApiError {
    ApiError::Decode(format!(
        "response larger than {} MiB refused",
        MAX_BODY_BYTES / (1024 * 1024)
    ))
}

#[cfg(test)]
mod tests;
