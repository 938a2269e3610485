//! Time and randomness for the workers, injectable so tests control them.

use std::time::Duration;
use time::OffsetDateTime;

/// The current time (UTC).
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> OffsetDateTime;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A source of jitter: a number in 0..=1000 per call.
pub trait Jitter: Send + Sync + 'static {
    fn permille(&self) -> u32;
}

/// Jitter from the thread's random generator.
#[derive(Debug, Clone, Copy, Default)]
pub struct RandomJitter;

impl Jitter for RandomJitter {
    fn permille(&self) -> u32 {
        use rand::Rng;
        rand::thread_rng().gen_range(0..=1000)
    }
}

/// Exponential backoff with jitter: attempt n waits between half and all of
/// `min(max, base × 2^n)` ("equal jitter"), so retries of many terminals spread out but none
/// retries sooner than half the step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: Duration::from_secs(1),
            max: Duration::from_secs(60),
        }
    }
}

impl Backoff {
    /// The wait after `failures` failed attempts (1 = the first failure), with `permille`
    /// (0..=1000) of jitter.
    pub fn delay(&self, failures: u32, permille: u32) -> Duration {
        let step = self
            .base
            .saturating_mul(1u32 << failures.saturating_sub(1).min(20))
            .min(self.max);
        let half = step / 2;
        half + half.mul_f64(f64::from(permille.min(1000)) / 1000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_and_jitter_stays_within_half_a_step() {
        let b = Backoff::default();
        assert_eq!(b.delay(1, 1000), Duration::from_secs(1));
        assert_eq!(b.delay(1, 0), Duration::from_millis(500));
        assert_eq!(b.delay(2, 1000), Duration::from_secs(2));
        assert_eq!(b.delay(4, 1000), Duration::from_secs(8));
        assert_eq!(b.delay(30, 1000), Duration::from_secs(60), "capped");
        assert_eq!(b.delay(30, 0), Duration::from_secs(30));
        let mid = b.delay(3, 500);
        assert!(mid > Duration::from_secs(2) && mid < Duration::from_secs(4));
    }
}
