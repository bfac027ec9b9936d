//! What a window operator's state hands back: the slot a record landed in, whether it
//! re-fires, and a window copied out for emitting. Shared by [`super::FixedWindows`] and
//! [`super::SessionWindows`], so generated code drives both the same way.

/// Where a record's window result lives in the state, until the state changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowSlot {
    /// The window's start (fixed windows; sessions do not use it).
    pub(crate) window: i64,
    /// The entry in the state (an address, or a session's node).
    pub(crate) entry: u64,
}

impl WindowSlot {
    /// The slot of session node `n`.
    pub(crate) fn session_node(n: u32) -> Self {
        WindowSlot {
            window: 0,
            entry: u64::from(n),
        }
    }

    /// The session node of a slot made by [`WindowSlot::session_node`].
    pub(crate) fn node(self) -> u32 {
        self.entry as u32
    }
}

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
