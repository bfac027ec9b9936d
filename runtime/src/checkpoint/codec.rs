//! The bytes of a job's checkpointed state: a run of named sections, one per field of the
//! generated job and per source, each holding what that part's [`Checkpointed`] impl
//! wrote with the primitives here. Sections are read back in the order they were written,
//! and each is checked by name, so a checkpoint of another pipeline is refused at its
//! first difference rather than read into the wrong field.
//!
//! ```text
//! section: name length u16 | name | body length u64 | body
//! ```
//!
//! [`Checkpointed`]: super::Checkpointed

use crate::JobError;

/// Where a job's parts write their state.
#[derive(Debug, Default)]
pub struct StateOut {
    bytes: Vec<u8>,
}

/// Reads back what a [`StateOut`] wrote.
#[derive(Debug)]
pub struct StateIn<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl StateOut {
    /// An empty writer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Writes section `name`, whose body `write` writes.
    pub fn section(
        &mut self,
        name: &str,
        write: impl FnOnce(&mut StateOut) -> Result<(), JobError>,
    ) -> Result<(), JobError> {
        let name_len = u16::try_from(name.len()).expect("a section name under 64 KiB");
        self.bytes.extend_from_slice(&name_len.to_le_bytes());
        self.bytes.extend_from_slice(name.as_bytes());
        let len_at = self.bytes.len();
        self.bytes.extend_from_slice(&0u64.to_le_bytes());
        write(self)?;
        let len = (self.bytes.len() - len_at - 8) as u64;
        self.bytes[len_at..len_at + 8].copy_from_slice(&len.to_le_bytes());
        Ok(())
    }

    /// Writes `v`.
    pub fn u64(&mut self, v: u64) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }

    /// Writes `v`.
    pub fn i64(&mut self, v: i64) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }

    /// Writes `v`.
    pub fn bool(&mut self, v: bool) {
        self.bytes.push(u8::from(v));
    }

    /// Writes `v` with its length.
    pub fn bytes(&mut self, v: &[u8]) {
        self.u64(v.len() as u64);
        self.bytes.extend_from_slice(v);
    }

    /// Writes `v` with its length.
    pub fn str(&mut self, v: &str) {
        self.bytes(v.as_bytes());
    }

    /// Appends `bytes` another writer wrote (whole sections).
    pub fn raw(&mut self, bytes: &[u8]) {
        self.bytes.extend_from_slice(bytes);
    }

    /// Everything written.
    pub fn finish(self) -> Vec<u8> {
        self.bytes
    }
}

impl<'a> StateIn<'a> {
    /// A reader of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        StateIn { bytes, at: 0 }
    }

    /// Reads section `name` with `read`, which must read all of its body: a section of
    /// another name, or one read short or past its end, means the checkpoint is not of
    /// this job.
    pub fn section(
        &mut self,
        name: &str,
        read: impl FnOnce(&mut StateIn<'a>) -> Result<(), JobError>,
    ) -> Result<(), JobError> {
        let mut inner = self.open_section(name)?;
        read(&mut inner)?;
        inner.read_whole(name)
    }

    /// Reads the same section `name` of each of `parts` (the states of the workers that
    /// wrote a checkpoint) with `read`, which must read all of each.
    pub fn sections(
        parts: &mut [StateIn<'a>],
        name: &str,
        read: impl FnOnce(&mut [StateIn<'a>]) -> Result<(), JobError>,
    ) -> Result<(), JobError> {
        let mut inner = parts
            .iter_mut()
            .map(|p| p.open_section(name))
            .collect::<Result<Vec<_>, _>>()?;
        read(&mut inner)?;
        inner.iter().try_for_each(|i| i.read_whole(name))
    }

    /// The body of section `name`, next.
    fn open_section(&mut self, name: &str) -> Result<StateIn<'a>, JobError> {
        let found_len = u16::from_le_bytes(self.array()?) as usize;
        let found = self.take(found_len)?;
        if found != name.as_bytes() {
            return Err(JobError::CheckpointMismatch(format!(
                "it holds `{}` where this job has `{name}`",
                String::from_utf8_lossy(found)
            )));
        }
        let len = usize::try_from(self.u64()?).map_err(|_| corrupt("a section's length"))?;
        Ok(StateIn::new(self.take(len)?))
    }

    /// Whether section `name`'s body was read to its end.
    fn read_whole(&self, name: &str) -> Result<(), JobError> {
        if self.at != self.bytes.len() {
            return Err(JobError::CheckpointMismatch(format!(
                "the state of `{name}` has {} bytes this job does not read: it was written by another version of the operator",
                self.bytes.len() - self.at
            )));
        }
        Ok(())
    }

    /// The next section, whatever its name: its name and body (for a report of what a
    /// checkpoint holds).
    pub fn any_section(&mut self) -> Result<(&'a str, &'a [u8]), JobError> {
        let name_len = u16::from_le_bytes(self.array()?) as usize;
        let name = std::str::from_utf8(self.take(name_len)?).map_err(|_| corrupt("a name"))?;
        let len = usize::try_from(self.u64()?).map_err(|_| corrupt("a section's length"))?;
        Ok((name, self.take(len)?))
    }

    /// Passes over what is left unread: a part with nothing to restore into.
    pub fn skip_rest(&mut self) {
        self.at = self.bytes.len();
    }

    /// Bytes read so far.
    pub fn consumed(&self) -> usize {
        self.at
    }

    /// Whether everything was read.
    pub fn at_end(&self) -> bool {
        self.at == self.bytes.len()
    }

    /// Reads a `u64`.
    pub fn u64(&mut self) -> Result<u64, JobError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    /// Reads an `i64`.
    pub fn i64(&mut self) -> Result<i64, JobError> {
        Ok(i64::from_le_bytes(self.array()?))
    }

    /// Reads a `bool`.
    pub fn bool(&mut self) -> Result<bool, JobError> {
        match self.take(1)?[0] {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(corrupt("a flag")),
        }
    }

    /// Reads bytes written with their length.
    pub fn bytes(&mut self) -> Result<&'a [u8], JobError> {
        let len = usize::try_from(self.u64()?).map_err(|_| corrupt("a length"))?;
        self.take(len)
    }

    /// Reads a string written with its length.
    pub fn str(&mut self) -> Result<&'a str, JobError> {
        std::str::from_utf8(self.bytes()?).map_err(|_| corrupt("a name"))
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], JobError> {
        Ok(self.take(N)?.try_into().expect("N bytes"))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], JobError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| corrupt("its end"))?;
        let taken = &self.bytes[self.at..end];
        self.at = end;
        Ok(taken)
    }
}

/// The error for a checkpoint cut short or garbled where `what` was expected. (The files'
/// checksums catch damage first; this is what a checksum that matched garbage would give.)
pub(crate) fn corrupt(what: &str) -> JobError {
    JobError::SnapshotCorrupt {
        problem: format!("the checkpoint's state ends or breaks off at {what}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_read_back_in_order_and_a_wrong_name_or_length_is_refused() {
        let mut out = StateOut::new();
        out.section("a", |o| {
            o.u64(7);
            o.str("x");
            Ok(())
        })
        .unwrap();
        out.section("b", |o| {
            o.i64(-3);
            o.bool(true);
            Ok(())
        })
        .unwrap();
        let bytes = out.finish();
        let mut input = StateIn::new(&bytes);
        input
            .section("a", |i| {
                assert_eq!((i.u64()?, i.str()?), (7, "x"));
                Ok(())
            })
            .unwrap();
        input
            .section("b", |i| {
                assert_eq!((i.i64()?, i.bool()?), (-3, true));
                Ok(())
            })
            .unwrap();
        assert!(input.at_end());

        let err = StateIn::new(&bytes)
            .section("c", |_| Ok(()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("holds `a` where this job has `c`"), "{err}");
        let err = StateIn::new(&bytes)
            .section("a", |i| i.u64().map(drop))
            .unwrap_err()
            .to_string();
        assert!(err.contains("bytes this job does not read"), "{err}");
        let err = StateIn::new(&bytes[..5])
            .section("a", |_| Ok(()))
            .unwrap_err();
        assert!(matches!(err, JobError::SnapshotCorrupt { .. }), "{err}");
    }
}
