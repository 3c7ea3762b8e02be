//! Exponential backoff with jitter, reset on success. The random part is
//! passed in so the arithmetic is testable.

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    failures: u32,
}

impl Backoff {
    pub fn new(base: Duration, max: Duration) -> Self {
        Self {
            base,
            max,
            failures: 0,
        }
    }

    /// The wait after one more failure. `jitter` in `0.0..=1.0` picks a
    /// point in the upper half of the window, so clients that failed
    /// together do not retry together.
    pub fn next_delay(&mut self, jitter: f64) -> Duration {
        let exponent = self.failures.min(16);
        self.failures = self.failures.saturating_add(1);
        let window = self.base.saturating_mul(1u32 << exponent).min(self.max);
        window.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
    }

    pub fn reset(&mut self) {
        self.failures = 0;
    }

    pub fn failures(&self) -> u32 {
        self.failures
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_caps_and_resets() {
        let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(30));
        assert_eq!(backoff.next_delay(1.0), Duration::from_secs(1));
        assert_eq!(backoff.next_delay(1.0), Duration::from_secs(2));
        assert_eq!(backoff.next_delay(0.0), Duration::from_secs(2));
        for _ in 0..10 {
            assert!(backoff.next_delay(1.0) <= Duration::from_secs(30));
        }
        assert_eq!(backoff.next_delay(1.0), Duration::from_secs(30));
        backoff.reset();
        assert_eq!(backoff.next_delay(1.0), Duration::from_secs(1));
    }
}
