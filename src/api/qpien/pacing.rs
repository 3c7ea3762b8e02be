//! Client-side pacing from the `X-RateLimit-*` headers, shared by every call
//! of one client so concurrent requests do not overrun the budget together.

use std::time::Duration;

use reqwest::header::HeaderMap;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// No single wait is longer than this.
pub const MAX_WAIT: Duration = Duration::from_secs(60);
/// `Reset` has whole-second resolution; waiting a little longer avoids
/// arriving just before the window actually rolls over.
const RESET_MARGIN: Duration = Duration::from_millis(150);
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

/// What to do before the next request, judging from the last response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    /// Plenty of budget left.
    Free,
    /// Budget is low: keep this gap between request starts so the rest of
    /// the budget lasts until the window resets.
    Spread(Duration),
    /// Budget used up: wait this long before the next request.
    UntilReset(Duration),
}

/// The pacing decision for one set of headers.
pub fn decide(headers: &RateHeaders) -> Pace {
    match (headers.limit, headers.remaining, headers.reset) {
        (_, Some(0), reset) => {
            let wait = reset.unwrap_or(Duration::from_secs(1)) + RESET_MARGIN;
            Pace::UntilReset(wait.min(MAX_WAIT))
        }
        // "Low" is under a tenth of the limit.
        (Some(limit), Some(remaining), Some(reset))
            if limit > 0 && u64::from(remaining) * 10 < u64::from(limit) =>
        {
            Pace::Spread((reset / remaining).min(MAX_WAIT))
        }
        _ => Pace::Free,
    }
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

#[derive(Debug, Default)]
struct State {
    /// No request starts before this.
    not_before: Option<Instant>,
    /// Minimum gap between request starts while the budget is low.
    spacing: Duration,
    last_start: Option<Instant>,
    limit: Option<u32>,
    /// Budget left in the current window, counting requests already started.
    remaining: Option<u32>,
    window_end: Option<Instant>,
    /// Longest `Reset` seen: an estimate of the window length, used to
    /// predict the next window before its first response arrives.
    window_len: Option<Duration>,
}

impl State {
    /// Reserves a start time for one request.
    fn reserve(&mut self, now: Instant) -> Instant {
        let mut start = now;
        if let Some(nb) = self.not_before {
            start = start.max(nb);
        }
        if let (Some(last), false) = (self.last_start, self.spacing.is_zero()) {
            start = start.max(last + self.spacing);
        }
        if let Some(end) = self.window_end
            && start >= end
        {
            self.roll_window(end);
        }
        if self.remaining == Some(0)
            && let Some(end) = self.window_end
        {
            // Requests already started used the budget up: take a slot in
            // the next window, and make later callers queue behind it.
            start = start.max(end + RESET_MARGIN);
            self.not_before = Some(start);
            self.roll_window(end);
        }
        if let Some(r) = self.remaining.as_mut() {
            *r = r.saturating_sub(1);
        }
        self.last_start = Some(start);
        start
    }

    /// The window ending at `end` is over: assume a full budget until a
    /// response says otherwise.
    fn roll_window(&mut self, end: Instant) {
        self.remaining = self.limit;
        self.spacing = Duration::ZERO;
        self.window_end = self.window_len.map(|len| end + RESET_MARGIN + len);
    }

    fn observe(&mut self, headers: &RateHeaders, now: Instant) {
        let new_end = headers.reset.map(|r| now + r);
        let same_window = match (self.window_end, new_end) {
            (Some(old), Some(new)) => {
                let gap = if old > new { old - new } else { new - old };
                gap < Duration::from_secs(1)
            }
            _ => false,
        };
        if headers.limit.is_some() {
            self.limit = headers.limit;
        }
        if let Some(reset) = headers.reset {
            self.window_len = Some(self.window_len.map_or(reset, |len| len.max(reset)));
        }
        if let Some(server) = headers.remaining {
            // Responses may arrive out of order; within one window the lowest
            // count is the most recent truth.
            self.remaining = match (same_window, self.remaining) {
                (true, Some(local)) => Some(local.min(server)),
                _ => Some(server),
            };
        }
        if new_end.is_some() {
            self.window_end = new_end;
        }
        match decide(headers) {
            Pace::Free => self.spacing = Duration::ZERO,
            Pace::Spread(gap) => self.spacing = gap,
            Pace::UntilReset(wait) => self.block_for(now, wait),
        }
    }

    fn block_for(&mut self, now: Instant, wait: Duration) {
        let until = now + wait.min(MAX_WAIT);
        self.not_before = Some(self.not_before.map_or(until, |nb| nb.max(until)));
    }
}

/// Shared pacing state of one client.
#[derive(Debug, Default)]
pub struct Pacer {
    state: Mutex<State>,
}

impl Pacer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Waits until this request may start.
    pub async fn acquire(&self) {
        let now = Instant::now();
        let start = self.state.lock().await.reserve(now);
        if start > now {
            tracing::debug!(wait_ms = (start - now).as_millis() as u64, "pacing request");
            tokio::time::sleep_until(start).await;
        }
    }

    pub async fn observe(&self, headers: &RateHeaders) {
        self.state.lock().await.observe(headers, Instant::now());
    }

    /// After a 429: hold every caller back for `wait`; the budget of the
    /// window that starts then is shared out as usual.
    pub async fn block_for(&self, wait: Duration) {
        let mut state = self.state.lock().await;
        let now = Instant::now();
        state.block_for(now, wait);
        state.remaining = Some(0);
        state.window_end = Some(now + wait.min(MAX_WAIT));
    }
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
    fn plenty_left_is_free() {
        assert_eq!(decide(&headers(100, 50, 30)), Pace::Free);
        assert_eq!(decide(&headers(100, 10, 30)), Pace::Free);
        assert_eq!(decide(&RateHeaders::default()), Pace::Free);
    }

    #[test]
    fn low_budget_spreads_over_reset() {
        assert_eq!(
            decide(&headers(100, 9, 45)),
            Pace::Spread(Duration::from_secs(5))
        );
        assert_eq!(
            decide(&headers(100, 1, 30)),
            Pace::Spread(Duration::from_secs(30))
        );
        // A tenth of 5 is below 1, so a small limit never spreads.
        assert_eq!(decide(&headers(5, 1, 2)), Pace::Free);
    }

    #[test]
    fn exhausted_waits_for_reset() {
        assert_eq!(
            decide(&headers(100, 0, 12)),
            Pace::UntilReset(Duration::from_secs(12) + RESET_MARGIN)
        );
        assert_eq!(decide(&headers(100, 0, 600)), Pace::UntilReset(MAX_WAIT));
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

    #[test]
    fn concurrent_reservations_respect_local_budget() {
        let now = Instant::now();
        let mut s = State::default();
        s.observe(&headers(5, 2, 2), now);
        // Two left: both start now, the third waits for the window to end.
        assert_eq!(s.reserve(now), now);
        assert_eq!(s.reserve(now), now);
        let third = s.reserve(now);
        assert!(third >= now + Duration::from_secs(2));
        // The next window's budget (5) is shared out from then on.
        for _ in 0..4 {
            assert_eq!(s.reserve(now), third);
        }
        let sixth = s.reserve(now);
        assert!(
            sixth >= third + Duration::from_secs(2),
            "{:?}",
            sixth - third
        );
    }

    #[test]
    fn spacing_applies_between_starts() {
        let now = Instant::now();
        let mut s = State::default();
        s.observe(&headers(100, 5, 10), now);
        let a = s.reserve(now);
        let b = s.reserve(now);
        assert_eq!(b - a, Duration::from_secs(2));
    }
}
