//! `collect_list`'s values: a chain of parts in the [`BlobStore`], one per value, so that
//! adding a value and joining two sessions' lists take no copy of the list so far, and a
//! merge takes no memory (it only links). A part is `[next part's handle][its length]
//! [value]`; the slot's five words are the first part's handle, the joined text's length
//! (`NONE`: no value yet), the last part's handle, and the first and last parts' lengths.
//! The separator goes between parts when the list is written out.

use super::NONE;
use crate::state::storage::{acc_get, acc_set, BlobStore};
use crate::JobError;

/// Accumulator words a list takes.
pub(crate) const WORDS: usize = 5;
/// A part's header: the next part's handle and length.
const LINK: usize = 16;
/// The next handle of the last part.
const END: u64 = u64::MAX;

const HEAD: usize = 0;
const TOTAL: usize = 8;
const TAIL: usize = 16;
const HEAD_LEN: usize = 24;
const TAIL_LEN: usize = 32;

/// Adds `value` to the list at `off` of `acc`, after `separator` unless it is the first.
pub(super) fn push(
    store: &mut BlobStore,
    scratch: &mut Vec<u8>,
    acc: &mut [u8],
    off: usize,
    separator: &[u8],
    value: &[u8],
) -> Result<(), JobError> {
    let part = new_part(store, scratch, value)?;
    append_part(store, acc, off, separator, part);
    Ok(())
}

/// Writes `value` as a part of no list yet: its handle and length, for [`append_part`].
pub(super) fn new_part(
    store: &mut BlobStore,
    scratch: &mut Vec<u8>,
    value: &[u8],
) -> Result<(u64, u64), JobError> {
    scratch.clear();
    scratch.extend_from_slice(&END.to_le_bytes());
    scratch.extend_from_slice(&0u64.to_le_bytes());
    scratch.extend_from_slice(value);
    Ok((store.put(scratch)?, scratch.len() as u64))
}

/// Links `part` (from [`new_part`]) to the end of the list at `off` of `acc`, after
/// `separator` unless it is the first. Takes no memory.
pub(super) fn append_part(
    store: &mut BlobStore,
    acc: &mut [u8],
    off: usize,
    separator: &[u8],
    part: (u64, u64),
) {
    let value_len = part.1 - LINK as u64;
    let total = acc_get::<u64>(acc, off + TOTAL);
    if total == NONE {
        acc_set(acc, off + HEAD, part.0);
        acc_set(acc, off + HEAD_LEN, part.1);
        acc_set(acc, off + TOTAL, value_len);
    } else {
        let tail = (acc_get(acc, off + TAIL), acc_get(acc, off + TAIL_LEN));
        link(store, tail, part);
        acc_set(acc, off + TOTAL, total + separator.len() as u64 + value_len);
    }
    acc_set(acc, off + TAIL, part.0);
    acc_set(acc, off + TAIL_LEN, part.1);
}

/// Appends the list at `off` of `from` to the one of `into` (both with values): `into`
/// owns every part after.
pub(super) fn join(
    store: &mut BlobStore,
    into: &mut [u8],
    from: &[u8],
    off: usize,
    separator: &[u8],
) {
    let tail = (acc_get(into, off + TAIL), acc_get(into, off + TAIL_LEN));
    link(
        store,
        tail,
        (acc_get(from, off + HEAD), acc_get(from, off + HEAD_LEN)),
    );
    let total = acc_get::<u64>(into, off + TOTAL)
        + separator.len() as u64
        + acc_get::<u64>(from, off + TOTAL);
    acc_set(into, off + TOTAL, total);
    acc_set(into, off + TAIL, acc_get::<u64>(from, off + TAIL));
    acc_set(into, off + TAIL_LEN, acc_get::<u64>(from, off + TAIL_LEN));
}

/// Writes the joined text of the list at `off` of `acc` to `out`; frees its parts when
/// `free`.
pub(super) fn write(
    store: &BlobStore,
    scratch: &mut Vec<u8>,
    acc: &[u8],
    off: usize,
    separator: &[u8],
    out: &mut Vec<u8>,
) {
    let mut at = (
        acc_get::<u64>(acc, off + HEAD),
        acc_get::<u64>(acc, off + HEAD_LEN),
    );
    let mut first = true;
    while at.0 != END {
        let part = store.get(at.0, at.1 as usize, scratch);
        if !first {
            out.extend_from_slice(separator);
        }
        first = false;
        out.extend_from_slice(&part[LINK..]);
        at = next_of(part);
    }
}

/// Frees the parts of the list at `off` of `acc`.
pub(super) fn free(store: &mut BlobStore, scratch: &mut Vec<u8>, acc: &[u8], off: usize) {
    let mut at = (
        acc_get::<u64>(acc, off + HEAD),
        acc_get::<u64>(acc, off + HEAD_LEN),
    );
    while at.0 != END {
        let next = next_of(store.get(at.0, at.1 as usize, scratch));
        store.free(at.0, at.1 as usize);
        at = next;
    }
}

/// Makes the list at `off` of `acc` one part holding `joined`, as written out.
pub(super) fn restore(
    store: &mut BlobStore,
    scratch: &mut Vec<u8>,
    acc: &mut [u8],
    off: usize,
    joined: &[u8],
) -> Result<(), JobError> {
    acc_set(acc, off + TOTAL, NONE);
    push(store, scratch, acc, off, &[], joined)
}

/// Bytes the parts of a list written out as `joined` take back: one part.
pub(super) fn restore_len(joined: &[u8]) -> usize {
    LINK + joined.len()
}

/// Points part `tail` at part `next`.
fn link(store: &mut BlobStore, tail: (u64, u64), next: (u64, u64)) {
    let mut header = [0u8; LINK];
    header[..8].copy_from_slice(&next.0.to_le_bytes());
    header[8..].copy_from_slice(&next.1.to_le_bytes());
    store.overwrite_head(tail.0, tail.1 as usize, &header);
}

fn next_of(part: &[u8]) -> (u64, u64) {
    let word = |at: usize| u64::from_le_bytes(part[at..at + 8].try_into().expect("eight bytes"));
    (word(0), word(8))
}
