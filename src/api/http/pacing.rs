//! The `X-RateLimit-*` headers and the wait after a 429. Deciding when a
//! request may go is the account's scheduler's job (`sync::scheduler`).

use std::time::Duration;

use reqwest::header::HeaderMap;

/// No single wait is longer than this.
pub const MAX_WAIT: Duration = Duration::from_secs(60);
/// `Reset` has whole-second resolution; waiting a little longer avoids
/// arriving just before the window actually rolls over.
pub const RESET_MARGIN: Duration = Duration::from_millis(150);
/// First step of the exponential backoff when a 429 carries no hint.
const BACKOFF_BASE: Duration = Duration::from_millis(500);
/// A `Reset` larger than this is an absolute Unix time, not a duration.
const EPOCH_THRESHOLD: f64 = 1_000_000_000.0;

/// The rate-limit headers of one response.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateHeaders {
    pub limit: Option<u32>,
    pub remaining: Option<u32>,
    /// Time until the window resets.
    pub reset: Option<Duration>,
    pub retry_after: Option<Duration>,
}

impl RateHeaders {
    /// `now_unix` (seconds) is only used when a server sends `Reset` as an
    /// absolute time instead of the documented seconds-until-reset.
    pub fn from_headers(headers: &HeaderMap, now_unix: u64) -> Self {
        let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        Self::parse(
            get("x-ratelimit-limit"),
            get("x-ratelimit-remaining"),
            get("x-ratelimit-reset"),
            get("retry-after"),
            now_unix,
        )
    }

    pub fn parse(
        limit: Option<&str>,
        remaining: Option<&str>,
        reset: Option<&str>,
        retry_after: Option<&str>,
        now_unix: u64,
    ) -> Self {
        let count = |v: Option<&str>| {
            v.and_then(|s| s.trim().parse::<u64>().ok())
                .map(|n| n.min(u64::from(u32::MAX)) as u32)
        };
        let reset = reset.and_then(parse_seconds).map(|secs| {
            if secs > EPOCH_THRESHOLD {
                (secs - now_unix as f64).max(0.0)
            } else {
                secs
            }
        });
        RateHeaders {
            limit: count(limit),
            remaining: count(remaining),
            reset: reset.map(to_duration),
            // HTTP-date forms are rare for APIs; they fall back to backoff.
            retry_after: retry_after.and_then(parse_seconds).map(to_duration),
        }
    }
}

fn parse_seconds(s: &str) -> Option<f64> {
    s.trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
}

fn to_duration(secs: f64) -> Duration {
    Duration::from_secs_f64(secs.min(MAX_WAIT.as_secs_f64() * 10.0))
}

/// How long to wait after a 429 before retry number `attempt` (0-based).
/// `jitter` in `0.0..1.0` spreads callers that were refused together.
pub fn retry_delay(headers: &RateHeaders, attempt: u32, jitter: f64) -> Duration {
    let hinted = headers
        .reset
        .filter(|d| !d.is_zero())
        .map(|d| d + RESET_MARGIN)
        .or(headers.retry_after);
    let delay = hinted.unwrap_or_else(|| {
        let exp = BACKOFF_BASE.saturating_mul(1u32 << attempt.min(10));
        exp.mul_f64(1.0 + jitter.clamp(0.0, 1.0))
    });
    delay.min(MAX_WAIT)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(limit: u32, remaining: u32, reset_secs: u64) -> RateHeaders {
        RateHeaders {
            limit: Some(limit),
            remaining: Some(remaining),
            reset: Some(Duration::from_secs(reset_secs)),
            retry_after: None,
        }
    }

    #[test]
    fn parses_headers() {
        let h = RateHeaders::parse(Some("100"), Some(" 42 "), Some("17"), None, 0);
        assert_eq!(h, headers(100, 42, 17));
        let h = RateHeaders::parse(Some("x"), Some("-1"), Some("nan"), Some("3"), 0);
        assert_eq!(h.limit, None);
        assert_eq!(h.remaining, None);
        assert_eq!(h.reset, None);
        assert_eq!(h.retry_after, Some(Duration::from_secs(3)));
    }

    #[test]
    fn absolute_reset_is_converted() {
        let h = RateHeaders::parse(None, None, Some("1700000030"), None, 1_700_000_000);
        assert_eq!(h.reset, Some(Duration::from_secs(30)));
    }

    #[test]
    fn retry_delay_prefers_reset_then_retry_after_then_backoff() {
        let h = headers(100, 0, 7);
        assert_eq!(
            retry_delay(&h, 0, 0.5),
            Duration::from_secs(7) + RESET_MARGIN
        );
        let h = RateHeaders {
            retry_after: Some(Duration::from_secs(4)),
            ..Default::default()
        };
        assert_eq!(retry_delay(&h, 2, 0.5), Duration::from_secs(4));
        let none = RateHeaders::default();
        assert_eq!(retry_delay(&none, 0, 0.0), Duration::from_millis(500));
        assert_eq!(retry_delay(&none, 2, 0.0), Duration::from_secs(2));
        assert_eq!(retry_delay(&none, 2, 0.5), Duration::from_secs(3));
        assert_eq!(retry_delay(&none, 30, 1.0), MAX_WAIT);
        assert_eq!(retry_delay(&headers(1, 0, 3600), 0, 0.0), MAX_WAIT);
    }
}
