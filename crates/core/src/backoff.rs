//! When to try again after a sync round failed for a reason that may pass by itself (the
//! network, an overloaded server): exponential backoff with full jitter, capped, and never
//! sooner than the server asked with `Retry-After`.
//!
//! Randomness is passed in (a number in `[0, 1)`), so this stays pure and testable.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backoff {
    first: Duration,
    cap: Duration,
    failures: u32,
}

/// A server asking for longer than this is asked again after this long.
const LONGEST_RETRY_AFTER: Duration = Duration::from_secs(3600);

impl Default for Backoff {
    /// 2 s after the first failure, doubling up to 5 minutes.
    fn default() -> Self {
        Self::new(Duration::from_secs(2), Duration::from_secs(300))
    }
}

impl Backoff {
    pub fn new(first: Duration, cap: Duration) -> Self {
        Self {
            first,
            cap: cap.max(first),
            failures: 0,
        }
    }

    /// Failures in a row since the last success.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// The longest wait after the next failure: `first * 2^failures`, capped.
    pub fn ceiling(&self) -> Duration {
        let factor = 1u32.checked_shl(self.failures.min(31)).unwrap_or(u32::MAX);
        self.first.saturating_mul(factor).min(self.cap)
    }

    /// Counts a failure and says how long to wait: uniformly random up to the ceiling
    /// ("full jitter", so many devices that failed together do not retry together), and at
    /// least what the server asked for.
    pub fn failed(&mut self, retry_after: Option<Duration>, unit_random: f64) -> Duration {
        let ceiling = self.ceiling();
        self.failures = self.failures.saturating_add(1);
        let jittered = ceiling.mul_f64(unit_random.clamp(0.0, 1.0));
        match retry_after {
            Some(asked) => jittered.max(asked.min(LONGEST_RETRY_AFTER)),
            None => jittered,
        }
    }

    /// A round went through: the next failure starts from the beginning again.
    pub fn succeeded(&mut self) {
        self.failures = 0;
    }
}

/// The periodic interval with ±10 % jitter, so devices started together drift apart.
pub fn jittered_interval(interval: Duration, unit_random: f64) -> Duration {
    interval.mul_f64(0.9 + 0.2 * unit_random.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn the_ceiling_doubles_to_the_cap_and_a_success_resets_it() {
        let mut backoff = Backoff::default();
        let mut ceilings = Vec::new();
        for _ in 0..10 {
            ceilings.push(backoff.ceiling().as_secs());
            backoff.failed(None, 0.5);
        }
        assert_eq!(ceilings, [2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
        assert_eq!(backoff.failures(), 10);
        backoff.succeeded();
        assert_eq!((backoff.failures(), backoff.ceiling().as_secs()), (0, 2));
    }

    #[test]
    fn retry_after_is_honoured_even_past_the_cap_within_reason() {
        let mut backoff = Backoff::default();
        assert_eq!(
            backoff
                .failed(Some(Duration::from_secs(120)), 0.0)
                .as_secs(),
            120
        );
        assert_eq!(
            backoff
                .failed(Some(Duration::from_secs(900)), 0.0)
                .as_secs(),
            900
        );
        assert_eq!(
            backoff
                .failed(Some(Duration::from_secs(86_400)), 0.0)
                .as_secs(),
            3600,
            "a server asking for a day is asked again in an hour"
        );
    }

    #[test]
    fn many_failures_do_not_overflow() {
        let mut backoff = Backoff::default();
        for _ in 0..100 {
            backoff.failed(None, 1.0);
        }
        assert_eq!(backoff.ceiling(), Duration::from_secs(300));
    }

    proptest! {
        #[test]
        fn waits_stay_between_zero_and_the_ceiling(
            failures in 0u32..64, random in 0.0f64..1.0, asked in proptest::option::of(0u64..5000)
        ) {
            let mut backoff = Backoff::default();
            for _ in 0..failures {
                backoff.failed(None, random);
            }
            let ceiling = backoff.ceiling();
            let wait = backoff.failed(asked.map(Duration::from_secs), random);
            let floor = asked.map_or(Duration::ZERO, |s| Duration::from_secs(s.min(3600)));
            prop_assert!(wait >= floor);
            prop_assert!(wait <= ceiling.max(floor));
            prop_assert!(ceiling <= Duration::from_secs(300));
        }

        #[test]
        fn intervals_stay_within_ten_percent(secs in 5u64..86_400, random in 0.0f64..1.0) {
            let wait = jittered_interval(Duration::from_secs(secs), random).as_secs_f64();
            #[allow(clippy::cast_precision_loss)]
            let secs = secs as f64;
            prop_assert!(wait >= secs * 0.9 - 1e-6 && wait <= secs * 1.1 + 1e-6);
        }
    }
}
