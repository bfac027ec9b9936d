//! What the closures of an inline `process` step are given: the key's state (the user's
//! own type, kept encoded with [`StateValue`] between records), a [`ProcessContext`] to
//! emit records, read the key and the clocks and set timers, and inside `on_timer` the
//! [`Timer`] firing. It is Flink's `KeyedProcessFunction` with its `Context`.
//!
//! ```ignore
//! #[derive(Debug, Clone, Default, PartialEq, weir::StateValue)]
//! struct Flag { flagged: bool }
//!
//! |> process(
//!     on_record(|t: &Txn, st: &mut Flag, ctx: &mut ProcessContext<String, Alert>| { ... }),
//!     on_timer(|timer: Timer, st: &mut Flag, ctx: &mut ProcessContext<String, Alert>| { ... }),
//! )
//! ```

use crate::error::JobError;
use crate::state::ProcessState;
use crate::time::Clock;

pub use crate::state::{StateValue, TimeDomain};

/// A timer firing: its time, and which clock it followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timer {
    /// When it was set for, in milliseconds.
    pub time: i64,
    /// The watermark's (event time) or the job clock's (processing time).
    pub domain: TimeDomain,
}

/// The context of one call of a process closure, for the key being processed: the key,
/// the times, the records emitted so far and the key's timers. `K` is the key's type and
/// `O` that of the records emitted.
pub struct ProcessContext<'a, K, O> {
    state: &'a mut ProcessState,
    key_bytes: &'a [u8],
    key: &'a K,
    timestamp: i64,
    emit_ts: i64,
    watermark: i64,
    clock: &'a Clock,
    out: &'a mut Vec<(O, i64)>,
    /// The first failure of a timer operation (a spill that could not be written): the
    /// job stops with it once the closure returns.
    error: Option<JobError>,
}

/// What a context is made of, in generated code.
pub struct ContextParts<'a, K, O> {
    /// The operator's state, where timers go.
    pub state: &'a mut ProcessState,
    /// The key as the state stores it.
    pub key_bytes: &'a [u8],
    /// The key.
    pub key: &'a K,
    /// The record's event time, or the timer's time.
    pub timestamp: i64,
    /// The event time emitted records carry.
    pub emit_ts: i64,
    /// The operator's watermark.
    pub watermark: i64,
    /// The job's clock.
    pub clock: &'a Clock,
    /// Where emitted records go, in order.
    pub out: &'a mut Vec<(O, i64)>,
}

impl<'a, K, O> ProcessContext<'a, K, O> {
    /// A context over `parts` (generated code makes one per call).
    #[inline]
    pub fn new(parts: ContextParts<'a, K, O>) -> Self {
        ProcessContext {
            state: parts.state,
            key_bytes: parts.key_bytes,
            key: parts.key,
            timestamp: parts.timestamp,
            emit_ts: parts.emit_ts,
            watermark: parts.watermark,
            clock: parts.clock,
            out: parts.out,
            error: None,
        }
    }

    /// The key being processed.
    #[inline]
    pub fn key(&self) -> &K {
        self.key
    }

    /// The record's event time in `on_record`; the timer's time in `on_timer`.
    #[inline]
    pub fn timestamp(&self) -> i64 {
        self.timestamp
    }

    /// The operator's current watermark (`i64::MIN` before the first; `i64::MAX` at the
    /// end of input).
    #[inline]
    pub fn watermark(&self) -> i64 {
        self.watermark
    }

    /// The job's clock (`--clock system` or `replay`), in milliseconds.
    #[inline]
    pub fn processing_time(&self) -> i64 {
        self.clock.now()
    }

    /// Emits `record` downstream. It carries the record's event time in `on_record`, the
    /// timer's time from an event-time timer, and the watermark from a processing-time
    /// one, so that it is never late downstream.
    #[inline]
    pub fn emit(&mut self, record: O) {
        self.out.push((record, self.emit_ts));
    }

    /// Sets an event-time timer for this key at `time`: it fires when the watermark
    /// reaches it. A key's timers at one time fire once.
    #[inline]
    pub fn timer_at(&mut self, time: i64) {
        self.timer(TimeDomain::EventTime, time, false);
    }

    /// Deletes this key's event-time timer at `time`, if it is set.
    #[inline]
    pub fn delete_timer_at(&mut self, time: i64) {
        self.timer(TimeDomain::EventTime, time, true);
    }

    /// Sets a processing-time timer for this key at `time` on the job's clock.
    #[inline]
    pub fn processing_timer_at(&mut self, time: i64) {
        self.timer(TimeDomain::ProcessingTime, time, false);
    }

    /// Sets a processing-time timer `millis` after the job clock's now.
    #[inline]
    pub fn processing_timer_after(&mut self, millis: i64) {
        let at = self.processing_time().saturating_add(millis);
        self.timer(TimeDomain::ProcessingTime, at, false);
    }

    /// Deletes this key's processing-time timer at `time`, if it is set.
    #[inline]
    pub fn delete_processing_timer_at(&mut self, time: i64) {
        self.timer(TimeDomain::ProcessingTime, time, true);
    }

    fn timer(&mut self, domain: TimeDomain, time: i64, delete: bool) {
        if self.error.is_some() {
            return;
        }
        let done = if delete {
            self.state.delete_timer(domain, self.key_bytes, time)
        } else {
            self.state.register_timer(domain, self.key_bytes, time)
        };
        if let Err(e) = done {
            self.error = Some(e);
        }
    }

    /// Ends the call: the first timer operation that failed, if one did.
    #[inline]
    pub fn finish(self) -> Result<(), JobError> {
        match self.error {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}
