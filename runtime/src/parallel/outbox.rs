//! What a worker sends to the others: one stream per receiving worker, in buffers of a
//! page, carrying rows of every exchange edge in the binary row layout and, in their
//! places among the rows, the sender's watermarks and the ends of its edges.
//!
//! One stream per receiver, rather than one per edge, keeps the sender's order across
//! edges: a join's two inputs, read by one worker, reach the join's owner interleaved as
//! they were read, with each watermark where it moved. So a key sees the records and
//! watermarks a single-threaded run would show it.

use serde::{Deserialize, Serialize};

use super::KeyGroups;

/// Bytes a buffer collects before the worker pumps, for a job of `workers` workers under
/// `memory`: whole memory pages (as Flink's network buffers are memory segments), as many
/// as a 64th of `memory` over `workers`² gives, from 1 to 16.
///
/// Each pump is a timely epoch, and timely's progress tracking costs more per epoch the
/// more epochs are outstanding: on 20M events, page-sized buffers made a window job on two
/// workers 3x slower than on one; 16 pages brought it back near one worker's time. Small
/// budgets keep small buffers.
pub fn exchange_buffer(memory: u64, workers: usize) -> usize {
    let page = crate::memory::DEFAULT_PAGE_SIZE as u64;
    let w = workers.max(1) as u64;
    (memory / 64 / (w * w) / page).clamp(1, 16) as usize * page as usize
}

/// Bytes in front of each entry: its kind and edge, its time (or watermark), its length.
const HEADER: usize = 16;
const KIND_SHIFT: u32 = 28;
const EDGE_MASK: u32 = (1 << KIND_SHIFT) - 1;
const ROW: u32 = 0;
const WATERMARK: u32 = 1;
const END: u32 = 2;
const ABORT: u32 = 3;
const SLICE_SCAN: u32 = 4;
const MARKER: u32 = 5;

/// What a batch holds, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry<'b> {
    /// A row on an edge, with its event time.
    Row {
        /// The exchange edge.
        edge: u32,
        /// The row's event time.
        ts: i64,
        /// The row, in the row layout.
        row: &'b [u8],
    },
    /// The sender's watermark on an edge moved.
    Watermark {
        /// The exchange edge.
        edge: u32,
        /// The new watermark.
        wm: i64,
    },
    /// The sender will send nothing more on an edge.
    End {
        /// The exchange edge.
        edge: u32,
    },
    /// The sender's job failed: the receiver stops too. (Threads of one process also share
    /// a flag; this reaches the workers of other processes.)
    Abort,
    /// What the sender's scan of its piece of a slice of the input found, in a round of
    /// scans ([`super::start_after_earlier_slices`]).
    SliceScan {
        /// The slice.
        slice: u32,
        /// The round: 0 with the file cut at line starts, 1 at record starts.
        round: u8,
        /// The largest event time in the piece (`i64::MIN` for none).
        max: i64,
        /// Whether a record of the piece had a line break inside quotes.
        quoted_line_break: bool,
    },
    /// The sender has reached `round` of checkpoint `id`'s cut (`crate::checkpoint`): in
    /// this stream, everything before the marker is before the cut.
    Marker {
        /// The checkpoint.
        id: u64,
        /// The round of the cut.
        round: u8,
        /// In the cut's last round: the length and CRC-32 of the state the sender wrote,
        /// `None` if it could not write it. Empty in the others.
        written: Option<(u64, u32)>,
    },
}

/// One message between workers: a piece of the sender's stream to the receiver.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    /// The sending worker.
    pub from: u32,
    /// Entries, each `[kind << 28 | edge: u32][time: i64][length: u32][row]`,
    /// little-endian.
    #[serde(with = "serde_bytes")]
    pub bytes: Vec<u8>,
}

impl Batch {
    /// The batch's entries, in the order they were sent.
    pub fn entries(&self) -> impl Iterator<Item = Entry<'_>> {
        let bytes = &self.bytes;
        let mut at = 0;
        std::iter::from_fn(move || {
            let header = bytes.get(at..at + HEADER)?;
            let tag = u32::from_le_bytes(header[..4].try_into().expect("4 bytes"));
            let ts = i64::from_le_bytes(header[4..12].try_into().expect("8 bytes"));
            let len = u32::from_le_bytes(header[12..].try_into().expect("4 bytes")) as usize;
            let row = &bytes[at + HEADER..at + HEADER + len];
            at += HEADER + len;
            let edge = tag & EDGE_MASK;
            Some(match tag >> KIND_SHIFT {
                ROW => Entry::Row { edge, ts, row },
                WATERMARK => Entry::Watermark { edge, wm: ts },
                END => Entry::End { edge },
                SLICE_SCAN => Entry::SliceScan {
                    slice: edge,
                    round: row.first().copied().unwrap_or(0),
                    max: ts,
                    quoted_line_break: row.get(1).is_some_and(|&b| b != 0),
                },
                MARKER => marker(edge, ts, row),
                _ => Entry::Abort,
            })
        })
    }
}

/// A marker entry's fields. Out of line and cold: the entries' loop feeds rows to the
/// generated `receive`, which stays inlined only while the loop is small.
#[cold]
#[inline(never)]
fn marker(round: u32, id: i64, row: &[u8]) -> Entry<'_> {
    Entry::Marker {
        id: id as u64,
        round: round as u8,
        written: (row.len() == 12).then(|| {
            (
                u64::from_le_bytes(row[..8].try_into().expect("8 bytes")),
                u32::from_le_bytes(row[8..].try_into().expect("4 bytes")),
            )
        }),
    }
}

/// A worker's outgoing streams, one per receiving worker. Entries wait here until a
/// buffer is full or the worker pumps its exchange.
#[derive(Debug)]
pub struct Outbox {
    from: u32,
    groups: KeyGroups,
    buffers: Vec<Vec<u8>>,
    /// Buffers that could not take their next entry, with their receivers, in the order
    /// they filled: each is sent before what its receiver's buffer holds now. A buffer is
    /// never grown (growing copies it, and faults in pages twice its size).
    filled: Vec<(usize, Vec<u8>)>,
    /// Emptied buffers to fill again: batches that arrived, once read. Each buffer of a
    /// busy exchange would otherwise be fresh memory, faulted in and zeroed by the kernel
    /// page by page.
    spare: Vec<Vec<u8>>,
    /// Per edge: the last watermark put in the streams, so an unchanged one is not sent.
    sent: Vec<i64>,
    /// A buffer reached `buffer` bytes.
    full: bool,
    /// Bytes a buffer collects before it is sent ([`exchange_buffer`]).
    buffer: usize,
}

impl Outbox {
    /// Bytes waiting to be sent, and what the buffers hold when full: for the live page,
    /// where a worker whose buffers stay full is one whose receivers lag.
    pub fn queued(&self) -> (u64, u64) {
        let queued: usize = self.buffers.iter().map(Vec::len).sum::<usize>()
            + self.filled.iter().map(|(_, b)| b.len()).sum::<usize>();
        (queued as u64, (self.buffers.len() * self.buffer) as u64)
    }

    /// The outbox of worker `from` of `peers`, for `edges` exchange edges, sending
    /// buffers of `buffer` bytes.
    pub fn new(from: usize, peers: usize, edges: usize, groups: KeyGroups, buffer: usize) -> Self {
        Outbox {
            from: from as u32,
            groups,
            buffers: vec![Vec::new(); peers],
            filled: Vec::new(),
            spare: Vec::new(),
            sent: vec![i64::MIN; edges],
            full: false,
            buffer,
        }
    }

    /// Queues `row` (with event time `ts`) on `edge`, for the worker owning the key whose
    /// hash is `key_hash`.
    #[inline]
    pub fn row(&mut self, edge: usize, key_hash: u64, ts: i64, row: &[u8]) {
        let to = self.groups.worker(key_hash);
        self.push(to, (ROW << KIND_SHIFT) | edge as u32, ts, row);
    }

    /// Queues `row` (with event time `ts`) on `edge` for worker `to`, whatever its key.
    pub fn row_to(&mut self, edge: usize, to: usize, ts: i64, row: &[u8]) {
        self.push(to, (ROW << KIND_SHIFT) | edge as u32, ts, row);
    }

    /// Queues the row `head` then `rest` (with event time `ts`) on `edge` for worker `to`:
    /// a row made of two parts, not copied together first.
    pub fn row_of_parts_to(&mut self, edge: usize, to: usize, ts: i64, head: &[u8], rest: &[u8]) {
        self.push_parts(to, (ROW << KIND_SHIFT) | edge as u32, ts, head, rest);
    }

    /// Takes back the bytes of a batch that arrived, once read, to fill again: as many as
    /// there are receivers, the room [`super::exchange_memory`] sets aside for batches in
    /// flight.
    pub fn recycle(&mut self, mut bytes: Vec<u8>) {
        if bytes.capacity() >= self.buffer + HEADER && self.spare.len() < self.buffers.len() {
            bytes.clear();
            self.spare.push(bytes);
        }
    }

    /// This worker's watermark on `edge` moved to `wm`: every receiver gets it after the
    /// rows sent before it.
    #[inline]
    pub fn watermark(&mut self, edge: usize, wm: i64) {
        if wm <= self.sent[edge] {
            return;
        }
        self.sent[edge] = wm;
        for to in 0..self.buffers.len() {
            self.push(to, (WATERMARK << KIND_SHIFT) | edge as u32, wm, &[]);
        }
    }

    /// The last watermark this worker sent on `edge`: its own watermark there.
    #[inline]
    pub fn sent_watermark(&self, edge: usize) -> i64 {
        self.sent[edge]
    }

    /// This worker will send nothing more on `edge`.
    pub fn end(&mut self, edge: usize) {
        for to in 0..self.buffers.len() {
            self.push(to, (END << KIND_SHIFT) | edge as u32, 0, &[]);
        }
    }

    /// What this worker's scan of its piece of `slice` of the input found in `round`:
    /// every worker gets it (each checks every cut it reads by).
    pub fn slice_scan(&mut self, slice: usize, round: u8, scan: super::PieceScan) {
        let flags = [round, u8::from(scan.quoted_line_break)];
        for to in 0..self.buffers.len() {
            self.push(
                to,
                (SLICE_SCAN << KIND_SHIFT) | slice as u32,
                scan.max,
                &flags,
            );
        }
    }

    /// This worker has reached `round` of checkpoint `id`'s cut, having written a state of
    /// `written` bytes and CRC-32 in the last round: every receiver gets the marker after
    /// everything sent before it.
    pub fn marker(&mut self, id: u64, round: u8, written: Option<(u64, u32)>) {
        let mut sum = [0u8; 12];
        let row: &[u8] = match written {
            Some((bytes, crc)) => {
                sum[..8].copy_from_slice(&bytes.to_le_bytes());
                sum[8..].copy_from_slice(&crc.to_le_bytes());
                &sum
            }
            None => &[],
        };
        for to in 0..self.buffers.len() {
            self.push(
                to,
                (MARKER << KIND_SHIFT) | u32::from(round),
                id as i64,
                row,
            );
        }
    }

    /// The watermark last sent on each edge, for a checkpoint.
    pub(crate) fn sent_watermarks(&mut self) -> &mut Vec<i64> {
        &mut self.sent
    }

    /// This worker's job failed: what waits is dropped, and every receiver is told to stop.
    pub fn abort(&mut self) {
        self.filled.clear();
        for to in 0..self.buffers.len() {
            self.buffers[to].clear();
            self.push(to, ABORT << KIND_SHIFT, 0, &[]);
        }
    }

    #[inline]
    fn push(&mut self, to: usize, tag: u32, ts: i64, row: &[u8]) {
        self.push_parts(to, tag, ts, &[], row);
    }

    #[inline]
    fn push_parts(&mut self, to: usize, tag: u32, ts: i64, head: &[u8], rest: &[u8]) {
        let len = head.len() + rest.len();
        if self.buffers[to].capacity() - self.buffers[to].len() < HEADER + len {
            self.next_buffer(to, HEADER + len);
        }
        let buffer = &mut self.buffers[to];
        buffer.extend_from_slice(&tag.to_le_bytes());
        buffer.extend_from_slice(&ts.to_le_bytes());
        buffer.extend_from_slice(&(len as u32).to_le_bytes());
        buffer.extend_from_slice(head);
        buffer.extend_from_slice(rest);
        self.full |= buffer.len() >= self.buffer;
    }

    /// Gives receiver `to` an empty buffer with room for an entry of `bytes` (a spare one
    /// when there is one), the one it had waiting to be sent first.
    #[cold]
    fn next_buffer(&mut self, to: usize, bytes: usize) {
        let mut next = self.spare.pop().unwrap_or_default();
        next.reserve(bytes.max(self.buffer + HEADER));
        let last = std::mem::replace(&mut self.buffers[to], next);
        if !last.is_empty() {
            self.filled.push((to, last));
            self.full = true;
        }
    }

    /// Whether a buffer is full: time to pump.
    #[inline]
    pub fn is_full(&self) -> bool {
        self.full
    }

    /// Every non-empty stream's waiting entries, with its receiving worker.
    pub fn take(&mut self) -> Vec<(u32, Batch)> {
        self.full = false;
        let from = self.from;
        let batch = |to: usize, bytes: Vec<u8>| (to as u32, Batch { from, bytes });
        let mut batches: Vec<(u32, Batch)> = self
            .filled
            .drain(..)
            .map(|(to, bytes)| batch(to, bytes))
            .collect();
        for (to, b) in self.buffers.iter_mut().enumerate() {
            if !b.is_empty() {
                batches.push(batch(to, std::mem::take(b)));
            }
        }
        batches
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_that_does_not_fit_starts_a_buffer_sent_after_the_full_one() {
        let groups = KeyGroups::new(128, 2);
        let mut out = Outbox::new(0, 2, 1, groups, 64);
        out.row_to(0, 1, 1, &[1; 40]);
        assert!(!out.is_full());
        out.row_of_parts_to(0, 1, 2, &[2; 4], &[3; 36]);
        assert!(out.is_full(), "the first buffer waits to be sent");
        out.row_to(0, 0, 3, b"to the other");
        let batches = out.take();
        let rows: Vec<(u32, Vec<Entry<'_>>)> = batches
            .iter()
            .map(|(to, b)| (*to, b.entries().collect()))
            .collect();
        let mut second = vec![2; 4];
        second.extend([3; 36]);
        assert_eq!(
            rows,
            vec![
                (
                    1,
                    vec![Entry::Row {
                        edge: 0,
                        ts: 1,
                        row: &[1; 40]
                    }]
                ),
                (
                    0,
                    vec![Entry::Row {
                        edge: 0,
                        ts: 3,
                        row: b"to the other"
                    }]
                ),
                (
                    1,
                    vec![Entry::Row {
                        edge: 0,
                        ts: 2,
                        row: &second
                    }]
                ),
            ],
            "each receiver's entries in the order they were queued"
        );
        assert!(batches
            .iter()
            .all(|(_, b)| b.bytes.capacity() == 64 + HEADER));
        let read: Vec<*const u8> = batches.iter().map(|(_, b)| b.bytes.as_ptr()).collect();
        for (_, batch) in batches {
            out.recycle(batch.bytes);
        }
        out.row_to(0, 1, 4, b"x");
        let again = out.take();
        assert!(
            read.contains(&again[0].1.bytes.as_ptr()),
            "a batch read is filled again"
        );
        out.row_to(0, 1, 5, &[9; 200]);
        let big = out.take();
        assert_eq!(
            big[0].1.entries().collect::<Vec<_>>(),
            vec![Entry::Row {
                edge: 0,
                ts: 5,
                row: &[9; 200]
            }],
            "a row larger than a buffer still goes"
        );
    }

    #[test]
    fn entries_come_back_in_order_and_watermarks_and_ends_reach_everyone() {
        let groups = KeyGroups::new(128, 3);
        let key = (0u64..).find(|k| groups.worker(*k) == 2).unwrap();
        let mut out = Outbox::new(1, 3, 2, groups, exchange_buffer(1 << 20, 3));
        out.row(1, key, -5, b"abc");
        out.watermark(0, 40);
        out.watermark(0, 40);
        out.row(0, key, 7, b"");
        out.end(1);
        let scan = super::super::PieceScan {
            max: 99,
            quoted_line_break: true,
        };
        out.slice_scan(1, 1, scan);
        out.marker(7, 2, Some((300, 0xdead_beef)));
        out.marker(7, 0, None);
        let batches = out.take();
        let scanned = Entry::SliceScan {
            slice: 1,
            round: 1,
            max: 99,
            quoted_line_break: true,
        };
        assert_eq!(
            batches.iter().map(|(to, _)| *to).collect::<Vec<_>>(),
            vec![0, 1, 2]
        );
        assert!(batches.iter().all(|(_, b)| b.from == 1));
        let to2: Vec<Entry<'_>> = batches[2].1.entries().collect();
        assert_eq!(
            to2,
            vec![
                Entry::Row {
                    edge: 1,
                    ts: -5,
                    row: b"abc"
                },
                Entry::Watermark { edge: 0, wm: 40 },
                Entry::Row {
                    edge: 0,
                    ts: 7,
                    row: b""
                },
                Entry::End { edge: 1 },
                scanned,
                Entry::Marker {
                    id: 7,
                    round: 2,
                    written: Some((300, 0xdead_beef))
                },
                Entry::Marker {
                    id: 7,
                    round: 0,
                    written: None
                },
            ],
            "in order, an unchanged watermark sent once"
        );
        let to0: Vec<Entry<'_>> = batches[0].1.entries().collect();
        assert_eq!(
            to0,
            vec![
                Entry::Watermark { edge: 0, wm: 40 },
                Entry::End { edge: 1 },
                scanned,
                Entry::Marker {
                    id: 7,
                    round: 2,
                    written: Some((300, 0xdead_beef))
                },
                Entry::Marker {
                    id: 7,
                    round: 0,
                    written: None
                },
            ],
            "what a slice's scan found and a cut's markers go to every worker"
        );
        assert!(out.take().is_empty(), "nothing is sent twice");
        out.row(1, key, 3, b"dropped");
        out.abort();
        let aborts = out.take();
        assert_eq!(aborts.len(), 3, "every worker is told");
        for (_, batch) in aborts {
            assert_eq!(batch.entries().collect::<Vec<_>>(), vec![Entry::Abort]);
        }
    }
}
