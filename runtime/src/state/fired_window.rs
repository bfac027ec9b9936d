//! What a window operator's state hands back: the slot a record landed in, whether it
//! re-fires, and a window copied out for emitting. Shared by [`super::FixedWindows`] and
//! [`super::SessionWindows`], so generated code drives both the same way.

/// Where a record's window result lives in the state, until the state changes.
pub type WindowSlot = u64;

/// What adding a record to a window did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowOutcome {
    /// Added; the window fires later.
    Added,
    /// The window's time has passed (it is kept for allowed lateness): emit its updated
    /// result now, with `copy_window`.
    Refire(WindowSlot),
}

/// A window copied out for emitting: the key bytes are `out[..key_len]`, the accumulator
/// block `out[key_len..]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FiredWindow {
    /// Inclusive start (event or processing time).
    pub start: i64,
    /// Exclusive end.
    pub end: i64,
    /// Bytes of key at the front of the copy.
    pub key_len: usize,
}
