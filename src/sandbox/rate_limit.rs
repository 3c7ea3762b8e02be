//! Fixed-window request limiter (qpien.md §4).

use std::time::{Duration, Instant};

#[derive(Debug)]
pub(crate) struct RateLimiter {
    limit: u32,
    window: Duration,
    started: Option<Instant>,
    count: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Decision {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Whole seconds until the window resets, at least 1.
    pub reset_secs: u64,
}

impl RateLimiter {
    pub fn new(limit: u32, window: Duration) -> Self {
        Self {
            limit,
            window: window.max(Duration::from_millis(1)),
            started: None,
            count: 0,
        }
    }

    pub fn limit(&self) -> u32 {
        self.limit
    }

    pub fn window(&self) -> Duration {
        self.window
    }

    /// Counts one request and says whether it may proceed.
    pub fn hit(&mut self, now: Instant) -> Decision {
        let started = match self.started {
            Some(s) if now.duration_since(s) < self.window => s,
            _ => {
                self.count = 0;
                self.started = Some(now);
                now
            }
        };
        self.count = self.count.saturating_add(1);
        let left = self.window.saturating_sub(now.duration_since(started));
        let reset_secs = left.as_secs() + u64::from(left.subsec_nanos() > 0);
        Decision {
            allowed: self.count <= self.limit,
            limit: self.limit,
            remaining: self.limit.saturating_sub(self.count),
            reset_secs: reset_secs.max(1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_counts_and_resets() {
        let mut rl = RateLimiter::new(2, Duration::from_secs(10));
        let t0 = Instant::now();
        assert!(rl.hit(t0).allowed);
        let d = rl.hit(t0);
        assert!(d.allowed);
        assert_eq!(d.remaining, 0);
        let d = rl.hit(t0 + Duration::from_secs(3));
        assert!(!d.allowed);
        assert_eq!(d.reset_secs, 7);
        let d = rl.hit(t0 + Duration::from_secs(10));
        assert!(d.allowed);
        assert_eq!(d.remaining, 1);
    }
}
