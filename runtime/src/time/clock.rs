//! The processing-time clock: the system's, one that follows event time (a replay of
//! recorded input, `--clock replay`), or one that tests move by hand.

use std::cell::Cell;
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
    /// Replayed processing time: the largest event time (of a record or a watermark) that
    /// has reached the worker's operators reading the clock, so that recorded input runs
    /// as if each record arrived at its own time, the same on every run. The operators
    /// move it, not the sources: a source reads ahead of what an operator has received.
    /// Each worker keeps its own (a `Cell`: only the worker's loop moves it).
    Replay(Cell<i64>),
}

/// Which clock a job runs on (`--clock`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClockMode {
    /// The system's wall clock.
    #[default]
    System,
    /// The largest event time an operator has received ([`Clock::Replay`]).
    Replay,
}

impl ClockMode {
    /// The mode named `name` on the command line.
    pub fn from_name(name: &str) -> Option<ClockMode> {
        match name {
            "system" => Some(ClockMode::System),
            "replay" => Some(ClockMode::Replay),
            _ => None,
        }
    }

    /// A fresh clock of this mode (a replayed one starts before any event time).
    pub fn clock(self) -> Clock {
        match self {
            ClockMode::System => Clock::System,
            ClockMode::Replay => Clock::Replay(Cell::new(i64::MIN)),
        }
    }
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
            Clock::Replay(t) => t.get(),
        }
    }

    /// A record (or watermark) with event time `ts` has reached an operator: a replayed
    /// clock moves up to it; the others keep their own time.
    #[inline]
    pub fn follow(&self, ts: i64) {
        if let Clock::Replay(t) = self {
            if ts > t.get() {
                t.set(ts);
            }
        }
    }
}

/// In a checkpoint: a replayed clock's time (the system's needs nothing).
impl crate::checkpoint::Checkpointed for Clock {
    fn save(&mut self, out: &mut crate::checkpoint::StateOut) -> Result<(), crate::JobError> {
        match self {
            Clock::Replay(t) => out.i64(t.get()),
            Clock::System | Clock::Manual(_) => out.i64(i64::MIN),
        }
        Ok(())
    }

    fn load(&mut self, from: &mut crate::checkpoint::StateIn<'_>) -> Result<(), crate::JobError> {
        let t = from.i64()?;
        if let Clock::Replay(now) = self {
            now.set(now.get().max(t));
        }
        Ok(())
    }

    fn load_rescaled(
        &mut self,
        parts: &mut [crate::checkpoint::StateIn<'_>],
        _: &crate::checkpoint::Rescale,
    ) -> Result<(), crate::JobError> {
        for part in parts {
            self.load(part)?;
        }
        Ok(())
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

    #[test]
    fn a_replayed_clock_follows_the_largest_event_time() {
        let clock = ClockMode::Replay.clock();
        assert_eq!(clock.now(), i64::MIN);
        clock.follow(5_000);
        clock.follow(3_000);
        assert_eq!(clock.now(), 5_000);
        let system = ClockMode::System.clock();
        system.follow(5_000);
        assert!(system.now() > 1_600_000_000_000);
        assert_eq!(ClockMode::from_name("replay"), Some(ClockMode::Replay));
        assert_eq!(ClockMode::from_name("wall"), None);
    }
}
