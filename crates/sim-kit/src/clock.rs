//! The simulator clock: wall-clock UTC plus an offset that tests move forward, so codes and
//! tokens expire without sleeping.

use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, Duration, Utc};

/// A clock that only moves forward faster than real time when told to.
#[derive(Debug, Default)]
pub struct SimClock {
    offset: Mutex<Duration>,
}

impl SimClock {
    /// The simulated now.
    pub fn now(&self) -> DateTime<Utc> {
        // A panic while holding the lock leaves a plain duration behind; keep going.
        Utc::now() + *self.offset.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Moves the clock forward by `by` (saturating at chrono's limit).
    pub fn advance(&self, by: std::time::Duration) {
        let by = Duration::from_std(by).unwrap_or(Duration::MAX);
        let mut offset = self.offset.lock().unwrap_or_else(PoisonError::into_inner);
        *offset = offset.checked_add(&by).unwrap_or(Duration::MAX);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_moves_now_forward_by_at_least_the_step() {
        let clock = SimClock::default();
        let before = clock.now();
        clock.advance(std::time::Duration::from_secs(3600));
        assert!(clock.now() - before >= Duration::seconds(3600));
    }
}
