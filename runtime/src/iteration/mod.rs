//! Iterations (`iterate` in `.pipe`): what the generated rounds run over. The records
//! arrive into [`WordRows`] while the input lasts; at its end a graph iteration builds its
//! [`Graph`] from them (compressed sparse rows), and every round visits each element (a
//! record, or a vertex) in order. Vertex values and messages ([`Messages`]) are arrays in
//! page runs: an element's state is an index away, as in a hand-written loop. Everything
//! counts against the operator's budget; an iteration does not spill (each round reads
//! all of it), so a budget too small is an error that names the `--memory` that fits.

mod channel;
mod graph;
mod messages;
mod numbering;
mod partitioned;
mod rows;
mod sorted_map;

pub use channel::{JobChannel, RoundChannel, RoundInbox};
pub use graph::Graph;
pub use messages::Messages;
pub use rows::WordRows;
pub use sorted_map::{MapKey, SortedMap};

/// A number kept in a 64-bit word of an iteration's state.
pub trait Word: Copy {
    /// The word holding `self`.
    fn to_word(self) -> u64;
    /// The value a word holds.
    fn from_word(w: u64) -> Self;
}

impl Word for f64 {
    #[inline]
    fn to_word(self) -> u64 {
        self.to_bits()
    }
    #[inline]
    fn from_word(w: u64) -> Self {
        f64::from_bits(w)
    }
}

impl Word for u64 {
    #[inline]
    fn to_word(self) -> u64 {
        self
    }
    #[inline]
    fn from_word(w: u64) -> Self {
        w
    }
}

impl Word for i64 {
    #[inline]
    fn to_word(self) -> u64 {
        self as u64
    }
    #[inline]
    fn from_word(w: u64) -> Self {
        w as i64
    }
}

impl Word for bool {
    #[inline]
    fn to_word(self) -> u64 {
        u64::from(self)
    }
    #[inline]
    fn from_word(w: u64) -> Self {
        w != 0
    }
}
