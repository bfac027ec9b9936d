//! The processing-time clock: the system's, or one that tests move by hand.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch, from the system or from a hand-driven value. An enum,
/// not a trait object, so reading it is a static call.
#[derive(Debug, Clone)]
pub enum Clock {
    /// The system's wall clock.
    System,
    /// A clock that moves only when told, shared with whoever drives it.
    Manual(Arc<AtomicI64>),
}

impl Clock {
    /// A hand-driven clock starting at `start`, and the handle that moves it.
    pub fn manual(start: i64) -> (Clock, Arc<AtomicI64>) {
        let handle = Arc::new(AtomicI64::new(start));
        (Clock::Manual(handle.clone()), handle)
    }

    /// The current processing time.
    #[inline]
    pub fn now(&self) -> i64 {
        match self {
            Clock::System => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64),
            Clock::Manual(t) => t.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_when_told() {
        let (clock, hand) = Clock::manual(1_000);
        assert_eq!(clock.now(), 1_000);
        hand.store(5_000, Ordering::Relaxed);
        assert_eq!(clock.now(), 5_000);
        assert!(Clock::System.now() > 1_600_000_000_000);
    }
}
