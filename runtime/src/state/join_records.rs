//! A join's kept records: which side a record came from, a key's records of one side
//! followed through the links in their headers ([`KeptRecords`]), and one key of a fired
//! window ([`JoinGroup`]). Shared by [`super::WindowJoin`] and the interval join's
//! [`super::KeyedBuckets`].

use super::storage::chunk_pages::ChunkPages;

/// A kept record's header: the next record of its key and side (`address + 1`), then its
/// length in the low half of the second word (a window join keeps its key's length and
/// side above it, `window_join.rs`).
pub(in crate::state) const RECORD_HEADER: usize = 16;

/// Which input of the join a record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinSide {
    /// Input port 0, the stream the join is applied to.
    Left,
    /// Input port 1, the stream named in `join(...)`.
    Right,
}

/// One key of a fired window: its records from each side in arrival order, read where they
/// are in the state's pages.
#[derive(Debug, Clone, Copy)]
pub struct JoinGroup<'a> {
    /// The window's start.
    pub start: i64,
    /// The window's end (exclusive).
    pub end: i64,
    pages: &'a ChunkPages,
    left: u64,
    right: u64,
}

impl<'a> JoinGroup<'a> {
    /// The group of window `[start, end)` whose key's records start at `left` and `right`
    /// (`address + 1` in `pages`, 0: none).
    pub(in crate::state) fn new(
        start: i64,
        end: i64,
        pages: &'a ChunkPages,
        left: u64,
        right: u64,
    ) -> Self {
        JoinGroup {
            start,
            end,
            pages,
            left,
            right,
        }
    }

    /// The key's left records, in arrival order.
    pub fn left(&self) -> KeptRecords<'a> {
        KeptRecords::new(self.pages, self.left)
    }

    /// The key's right records, in arrival order.
    pub fn right(&self) -> KeptRecords<'a> {
        KeptRecords::new(self.pages, self.right)
    }

    /// Whether the key has no left record in the window.
    pub fn no_left(&self) -> bool {
        self.left == 0
    }

    /// Whether the key has no right record in the window.
    pub fn no_right(&self) -> bool {
        self.right == 0
    }
}

/// The records of one key and side, following their links.
#[derive(Debug, Clone)]
pub struct KeptRecords<'a> {
    pages: &'a ChunkPages,
    /// The next record's address + 1; 0 at the end.
    at: u64,
}

impl<'a> KeptRecords<'a> {
    /// The records in `pages` from the one at `at - 1` on (`at` 0: none).
    pub(in crate::state) fn new(pages: &'a ChunkPages, at: u64) -> Self {
        KeptRecords { pages, at }
    }
}

impl<'a> Iterator for KeptRecords<'a> {
    type Item = &'a [u8];

    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        if self.at == 0 {
            return None;
        }
        let addr = self.at - 1;
        let header = self.pages.bytes(addr, RECORD_HEADER);
        let (next, len) = (word(header, 0), (word(header, 8) & 0xFFFF_FFFF) as usize);
        self.at = next;
        Some(self.pages.bytes(addr + RECORD_HEADER as u64, len))
    }
}

#[inline]
pub(in crate::state) fn word(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().expect("eight bytes"))
}
