//! What a session owns outside its accumulator block, which follows it to disk, into
//! snapshots and into merges: a session window join's records, text aggregates' values.

use crate::JobError;

/// Data a session owns outside its accumulator block, which must follow the session to
/// disk and back (a session window join's records): written after the accumulators when
/// the session spills, and read back when it returns. Merging two sessions merges theirs.
pub trait SessionExtra {
    /// Writes what the session with accumulators `acc` owns to `out`, and lets it go.
    fn spill(&mut self, acc: &[u8], out: &mut Vec<u8>) -> Result<(), JobError>;
    /// Writes what [`spill`](Self::spill) writes, and keeps it (a snapshot).
    fn copy(&self, acc: &[u8], out: &mut Vec<u8>);
    /// Bytes of managed memory taking back `data` needs at most, counting what its storage
    /// wastes (a page per size class, chunks that do not fill a page): checked for every session
    /// of a key before any comes back, so a key comes back whole or not at all.
    fn restore_bytes(&self, data: &[u8]) -> u64;
    /// Takes back what [`spill`](Self::spill) wrote, pointing `acc` at it.
    fn restore(&mut self, acc: &mut [u8], data: &[u8]) -> Result<(), JobError>;
    /// Session `from` merged into `into`: what `from` owned is `into`'s or let go after.
    fn merge(&mut self, into: &mut [u8], from: &[u8]);
    /// Appends what a fired session's results need besides its accumulators (after them,
    /// in the window copied out); nothing unless the owner's results read it from there.
    fn fired(&self, acc: &[u8], out: &mut Vec<u8>) {
        let _ = (acc, out);
    }
    /// Every session has gone to disk ([`spill`](Self::spill) was called for each): what
    /// is still held for them can go back to the pool whole.
    fn all_spilled(&mut self) {}
    /// Lets go what the session with accumulators `acc` owns: it is dropped (fired for
    /// the last time, cleaned up). Sessions whose owner frees their data itself leave it.
    fn release(&mut self, acc: &[u8]) {
        let _ = acc;
    }
}

/// Sessions that own nothing but their accumulators.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoExtra;

impl SessionExtra for NoExtra {
    fn spill(&mut self, _acc: &[u8], _out: &mut Vec<u8>) -> Result<(), JobError> {
        Ok(())
    }

    fn copy(&self, _acc: &[u8], _out: &mut Vec<u8>) {}

    fn restore_bytes(&self, _data: &[u8]) -> u64 {
        0
    }

    fn restore(&mut self, _acc: &mut [u8], _data: &[u8]) -> Result<(), JobError> {
        Ok(())
    }

    fn merge(&mut self, _into: &mut [u8], _from: &[u8]) {}
}
