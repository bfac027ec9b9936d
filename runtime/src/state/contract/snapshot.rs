//! The bytes of a keyed state's snapshot: every entry tagged with its key group, so a
//! restore can take the groups it owns (another parallelism takes other ranges), and a
//! digest per group, so the next snapshot knows which groups changed.
//!
//! ```text
//! "WEIRSNAP" | version u32 | groups u32
//! entries:   group u16 | key length u32 | value length u32 | key | value
//! end:       0xFFFF
//! operator:  its bytes | their length u32   (state that is no key's: a window
//!                                            operator's firing point, say)
//! digests:   one u64 per group
//! checksum:  CRC-32 of everything before it, u32
//! ```
//!
//! Entries are in the order the state lists them (an aggregate's in first-seen order), so a
//! restore that takes them in turn rebuilds the same order. All integers little-endian.

use crate::parallel::KeyGroups;
use crate::JobError;

const MAGIC: &[u8; 8] = b"WEIRSNAP";
const VERSION: u32 = 1;
const END: u16 = u16::MAX;

/// Bytes a snapshot streamed into a checkpoint collects before they go on.
const STREAM_AT: usize = 1 << 20;

/// Writes a snapshot of one operator's keyed state: into memory, or streamed into a
/// checkpoint's state as it goes ([`SnapshotWriter::streaming`]).
#[derive(Debug)]
pub struct SnapshotWriter<'o> {
    groups: KeyGroups,
    bytes: Vec<u8>,
    digests: Vec<u64>,
    operator: Vec<u8>,
    /// The CRC-32 of the bytes already streamed.
    crc: crc32fast::Hasher,
    out: Option<&'o mut crate::checkpoint::StateOut>,
}

/// A finished snapshot: its bytes, and each key group's digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// The snapshot as written (what a checkpoint stores).
    pub bytes: Vec<u8>,
    /// Each key group's digest.
    pub digests: GroupDigests,
}

/// A digest of each key group's entries: two snapshots whose digests of a group differ
/// have different entries in it (what an incremental checkpoint writes again).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupDigests(Vec<u64>);

impl GroupDigests {
    /// The groups whose entries differ from `earlier`'s (every group when `earlier` is
    /// `None`, or has another number of groups).
    pub fn changed_since(&self, earlier: Option<&GroupDigests>) -> Vec<usize> {
        match earlier {
            Some(e) if e.0.len() == self.0.len() => {
                (0..self.0.len()).filter(|&g| self.0[g] != e.0[g]).collect()
            }
            _ => (0..self.0.len()).collect(),
        }
    }
}

impl SnapshotWriter<'static> {
    /// An empty snapshot of state keyed into `groups` key groups, in memory.
    pub fn new(groups: usize) -> Self {
        SnapshotWriter::start(groups, None)
    }
}

impl<'o> SnapshotWriter<'o> {
    /// A snapshot of state keyed into `groups` key groups written into `out` as it goes
    /// (a megabyte at a time), ended by [`finish_streamed`](Self::finish_streamed).
    pub fn streaming(out: &'o mut crate::checkpoint::StateOut, groups: usize) -> Self {
        SnapshotWriter::start(groups, Some(out))
    }

    fn start(groups: usize, out: Option<&'o mut crate::checkpoint::StateOut>) -> Self {
        let mut bytes = Vec::with_capacity(4096);
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&VERSION.to_le_bytes());
        bytes.extend_from_slice(&(groups as u32).to_le_bytes());
        SnapshotWriter {
            groups: KeyGroups::new(groups, 1),
            bytes,
            digests: vec![0; groups],
            operator: Vec::new(),
            crc: crc32fast::Hasher::new(),
            out,
        }
    }

    /// The checkpoint folder a streamed snapshot goes into, if any: a state spilled to disk
    /// links its runs there ([`crate::checkpoint::StateOut::folder`]).
    pub fn folder(&self) -> Option<&std::path::Path> {
        self.out.as_ref().and_then(|o| o.folder())
    }

    /// Sets the operator's own state, which belongs to no key: every restore, whatever its
    /// key groups, reads it.
    pub fn operator_state(&mut self, bytes: &[u8]) {
        self.operator = bytes.to_vec();
    }

    /// Adds `key`, whose one key hash (`state::key_hash`) is `hash`, with `value`.
    pub fn push(&mut self, hash: u64, key: &[u8], value: &[u8]) {
        let group = self.groups.group(hash);
        self.bytes.extend_from_slice(&(group as u16).to_le_bytes());
        self.bytes
            .extend_from_slice(&(key.len() as u32).to_le_bytes());
        self.bytes
            .extend_from_slice(&(value.len() as u32).to_le_bytes());
        self.bytes.extend_from_slice(key);
        self.bytes.extend_from_slice(value);
        // Order-sensitive within a group: the same entries in another order are another
        // state (an aggregate's output order is part of it).
        let d = &mut self.digests[group];
        *d = mix(*d ^ crate::state::key_hash(key)) ^ mix(crate::state::key_hash(value) ^ 0x5a);
        if self.bytes.len() >= STREAM_AT {
            if let Some(out) = &mut self.out {
                self.crc.update(&self.bytes);
                out.put(&self.bytes);
                self.bytes.clear();
            }
        }
    }

    /// The end: no more entries, the operator's state, the digests, the checksum.
    fn end(&mut self) {
        self.bytes.extend_from_slice(&END.to_le_bytes());
        self.bytes.extend_from_slice(&self.operator);
        self.bytes
            .extend_from_slice(&(self.operator.len() as u32).to_le_bytes());
        for d in &self.digests {
            self.bytes.extend_from_slice(&d.to_le_bytes());
        }
        self.crc.update(&self.bytes);
        let crc = self.crc.clone().finalize();
        self.bytes.extend_from_slice(&crc.to_le_bytes());
    }

    /// The finished snapshot (of one written in memory; a streamed one's bytes are those
    /// not streamed yet).
    pub fn finish(mut self) -> Snapshot {
        self.end();
        if let Some(out) = &mut self.out {
            out.put(&self.bytes);
            self.bytes.clear();
        }
        Snapshot {
            bytes: self.bytes,
            digests: GroupDigests(self.digests),
        }
    }

    /// Ends a streamed snapshot: the rest goes into its checkpoint's state. Each key
    /// group's digest.
    pub fn finish_streamed(self) -> GroupDigests {
        self.finish().digests
    }
}

fn mix(x: u64) -> u64 {
    (x ^ (x >> 31))
        .wrapping_mul(0x9e37_79b9_7f4a_7c15)
        .rotate_left(17)
}

/// Reads the entries of a snapshot, checked whole before the first is handed out.
#[derive(Debug)]
pub struct SnapshotReader<'s> {
    entries: &'s [u8],
    groups: usize,
    operator: &'s [u8],
    /// The mapped checkpoint state the snapshot is in, and the entries read since its
    /// pages were last given back.
    map: Option<&'s crate::checkpoint::store::MappedState>,
    unreleased: &'s [u8],
}

/// One entry of a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotEntry<'s> {
    /// The key group.
    pub group: usize,
    /// The key, in the row layout.
    pub key: &'s [u8],
    /// What the state keeps for it.
    pub value: &'s [u8],
}

impl<'s> SnapshotReader<'s> {
    /// A reader of `bytes`, or why they are not a whole snapshot.
    pub fn new(bytes: &'s [u8]) -> Result<Self, JobError> {
        SnapshotReader::mapped(bytes, None)
    }

    /// A reader of `bytes`, which lie in the mapped checkpoint state `map` if given: their
    /// pages are given back as they are read (checked, then restored).
    pub(crate) fn mapped(
        bytes: &'s [u8],
        map: Option<&'s crate::checkpoint::store::MappedState>,
    ) -> Result<Self, JobError> {
        let corrupt = |problem: &str| JobError::SnapshotCorrupt {
            problem: problem.to_string(),
        };
        if bytes.len() < 8 + 4 + 4 + 2 + 4 || &bytes[..8] != MAGIC {
            return Err(corrupt("not a weir snapshot"));
        }
        let (body, crc) = bytes.split_at(bytes.len() - 4);
        let mut sum = crc32fast::Hasher::new();
        for chunk in body.chunks(crate::checkpoint::store::RELEASE_EVERY) {
            sum.update(chunk);
            if let Some(map) = map {
                map.release(chunk);
            }
        }
        if sum.finalize().to_le_bytes() != crc {
            return Err(corrupt(
                "its checksum does not match: it was changed or cut short",
            ));
        }
        if u32::from_le_bytes(body[8..12].try_into().expect("4")) != VERSION {
            return Err(corrupt("written by another version of weir"));
        }
        let groups = u32::from_le_bytes(body[12..16].try_into().expect("4")) as usize;
        let digests_at = body
            .len()
            .checked_sub(groups.saturating_mul(8))
            .filter(|&at| at >= 16 + 2 + 4)
            .ok_or_else(|| corrupt("too short for its key groups"))?;
        let op_len =
            u32::from_le_bytes(body[digests_at - 4..digests_at].try_into().expect("4")) as usize;
        let op_at = (digests_at - 4)
            .checked_sub(op_len)
            .filter(|&at| at >= 16 + 2)
            .ok_or_else(|| corrupt("its operator state runs past its start"))?;
        Ok(SnapshotReader {
            entries: &body[16..op_at],
            groups,
            operator: &body[op_at..digests_at - 4],
            map,
            unreleased: &body[16..op_at],
        })
    }

    /// The folder of the checkpoint the snapshot was read from, if it was (runs a spilled
    /// state linked there).
    pub fn folder(&self) -> Option<&'s std::path::Path> {
        self.map.map(|m| m.folder())
    }

    /// The operator's own state ([`SnapshotWriter::operator_state`]).
    pub fn operator_state(&self) -> &'s [u8] {
        self.operator
    }

    /// The number of key groups the state was keyed into.
    pub fn groups(&self) -> usize {
        self.groups
    }

    /// The next entry whose key group is in `groups` (a restore's share), or `None` after
    /// the last.
    pub fn next_in(
        &mut self,
        groups: &std::ops::Range<usize>,
    ) -> Result<Option<SnapshotEntry<'s>>, JobError> {
        while let Some(entry) = self.next()? {
            if groups.contains(&entry.group) {
                return Ok(Some(entry));
            }
        }
        Ok(None)
    }

    /// The next entry, or `None` after the last.
    #[allow(clippy::should_implement_trait)] // fallible
    pub fn next(&mut self) -> Result<Option<SnapshotEntry<'s>>, JobError> {
        let corrupt = || JobError::SnapshotCorrupt {
            problem: "an entry runs past the end".to_string(),
        };
        let e = self.entries;
        let group = u16::from_le_bytes(e.get(..2).ok_or_else(corrupt)?.try_into().expect("2"));
        if group == END {
            return Ok(None);
        }
        let head = e.get(2..10).ok_or_else(corrupt)?;
        let key_len = u32::from_le_bytes(head[..4].try_into().expect("4")) as usize;
        let value_len = u32::from_le_bytes(head[4..].try_into().expect("4")) as usize;
        let end = 10usize
            .checked_add(key_len)
            .and_then(|k| k.checked_add(value_len))
            .filter(|&end| end <= e.len())
            .ok_or_else(corrupt)?;
        self.entries = &e[end..];
        if let Some(map) = self.map {
            let read = self.unreleased.len() - self.entries.len();
            if read >= crate::checkpoint::store::RELEASE_EVERY {
                // The entry handed out now is in the part kept.
                map.release(&self.unreleased[..read - end]);
                self.unreleased = &self.unreleased[read - end..];
            }
        }
        Ok(Some(SnapshotEntry {
            group: usize::from(group),
            key: &e[10..10 + key_len],
            value: &e[10 + key_len..end],
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(entries: &[(&str, &str)]) -> Snapshot {
        let mut w = SnapshotWriter::new(128);
        for (k, v) in entries {
            w.push(
                crate::state::key_hash(k.as_bytes()),
                k.as_bytes(),
                v.as_bytes(),
            );
        }
        w.finish()
    }

    #[test]
    fn entries_read_back_in_order_with_their_groups() {
        let s = snapshot(&[("a", "1"), ("bb", ""), ("a", "2")]);
        let mut r = SnapshotReader::new(&s.bytes).unwrap();
        let groups = KeyGroups::new(128, 1);
        let mut got = Vec::new();
        while let Some(e) = r.next().unwrap() {
            assert_eq!(e.group, groups.group(crate::state::key_hash(e.key)));
            got.push((e.key.to_vec(), e.value.to_vec()));
        }
        let want: Vec<(Vec<u8>, Vec<u8>)> = [("a", "1"), ("bb", ""), ("a", "2")]
            .iter()
            .map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec()))
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn only_the_groups_whose_entries_changed_are_changed() {
        let before = snapshot(&[("a", "1"), ("b", "1")]);
        let after = snapshot(&[("a", "1"), ("b", "2")]);
        let groups = KeyGroups::new(128, 1);
        let b = groups.group(crate::state::key_hash(b"b"));
        assert_eq!(after.digests.changed_since(Some(&before.digests)), vec![b]);
        assert_eq!(after.digests.changed_since(None).len(), 128);
    }

    #[test]
    fn the_operator_state_reads_back_beside_the_entries() {
        let mut w = SnapshotWriter::new(4);
        w.push(crate::state::key_hash(b"k"), b"k", b"v");
        w.operator_state(b"fire from 10");
        let s = w.finish();
        let mut r = SnapshotReader::new(&s.bytes).unwrap();
        assert_eq!(r.operator_state(), b"fire from 10");
        assert_eq!(r.next().unwrap().unwrap().key, b"k");
        assert!(r.next().unwrap().is_none());
    }

    #[test]
    fn a_changed_or_cut_snapshot_is_refused() {
        let s = snapshot(&[("a", "1")]);
        let mut flipped = s.bytes.clone();
        flipped[20] ^= 1;
        for bad in [&flipped[..], &s.bytes[..s.bytes.len() - 1], b"nonsense"] {
            let e = SnapshotReader::new(bad).unwrap_err();
            assert!(matches!(e, JobError::SnapshotCorrupt { .. }), "{e}");
        }
    }
}
