//! The markers of checkpoints' cuts that have reached one worker (`crate::checkpoint`'s
//! parallel cut): per checkpoint and round, how many workers have sent theirs, and in the
//! last round what each wrote.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A worker and what it said it wrote: its state's length and CRC-32, `None` if it failed.
pub(crate) type Written = (usize, Option<(u64, u32)>);

/// What the markers that arrived say.
#[derive(Debug)]
pub(crate) struct CutMarkers {
    /// The last round of a cut, in which each worker says what it wrote: one round per
    /// exchange of the job drains it (at least one).
    last_round: u8,
    /// Per (checkpoint, round): the markers arrived.
    counts: BTreeMap<(u64, u8), usize>,
    /// Per checkpoint: what each sender of a last-round marker wrote (`None`: it failed).
    written: BTreeMap<u64, Vec<Written>>,
    /// The last checkpoint this worker's cut finished.
    done: u64,
    /// Raised when another worker begins a cut, so that this one joins it at its next
    /// record (the flag its reading loop checks for a due checkpoint).
    request: Option<Arc<AtomicBool>>,
}

impl CutMarkers {
    /// No marker yet, for a job with `exchanges` exchange edges.
    pub(crate) fn new(exchanges: usize) -> Self {
        CutMarkers {
            last_round: u8::try_from(exchanges.max(1)).unwrap_or(u8::MAX),
            counts: BTreeMap::new(),
            written: BTreeMap::new(),
            done: 0,
            request: None,
        }
    }

    /// The round in which workers say what they wrote.
    pub(crate) fn last_round(&self) -> u8 {
        self.last_round
    }

    /// Worker `from` reached `round` of checkpoint `id`. Out of line and cold: it sits in
    /// `pump`'s loop over what arrives, whose rows go to the generated `receive` (inlined
    /// there until this grew the loop: WordCount on two workers ran 1% more instructions).
    #[cold]
    #[inline(never)]
    pub(crate) fn arrived(&mut self, from: usize, id: u64, round: u8, written: Option<(u64, u32)>) {
        *self.counts.entry((id, round)).or_default() += 1;
        if round == self.last_round && id > 0 {
            self.written.entry(id).or_default().push((from, written));
        }
        if round == 0 && id > self.done {
            if let Some(flag) = &self.request {
                flag.store(true, Ordering::Relaxed);
            }
        }
    }

    /// How many workers have reached `round` of checkpoint `id`.
    pub(crate) fn count(&self, id: u64, round: u8) -> usize {
        self.counts.get(&(id, round)).copied().unwrap_or(0)
    }

    /// The checkpoint another worker has begun and this one has not finished, if any.
    pub(crate) fn requested(&self) -> Option<u64> {
        self.counts
            .range((self.done + 1, 0)..)
            .find(|((_, round), n)| *round == 0 && **n > 0)
            .map(|((id, _), _)| *id)
    }

    /// What the senders of checkpoint `id`'s markers with a state wrote, by sender.
    pub(crate) fn written(&self, id: u64) -> &[Written] {
        self.written.get(&id).map_or(&[], Vec::as_slice)
    }

    /// This worker's cut of checkpoint `id` is over: its markers are forgotten.
    pub(crate) fn finish(&mut self, id: u64) {
        self.done = self.done.max(id);
        self.counts.retain(|(c, _), _| *c > id);
        self.written.retain(|c, _| *c > id);
    }

    /// Raises `flag` whenever another worker begins a cut.
    pub(crate) fn request_with(&mut self, flag: Arc<AtomicBool>) {
        self.request = Some(flag);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_are_counted_by_checkpoint_and_round_and_a_new_cut_raises_the_flag() {
        let flag = Arc::new(AtomicBool::new(false));
        let mut m = CutMarkers::new(1);
        m.request_with(flag.clone());
        assert_eq!(m.requested(), None);
        m.arrived(1, 4, 0, None);
        assert!(flag.load(Ordering::Relaxed));
        assert_eq!(m.requested(), Some(4));
        m.arrived(0, 4, 0, None);
        m.arrived(0, 4, 1, Some((10, 7)));
        m.arrived(1, 4, 1, None);
        // A quicker worker already begins the next one.
        m.arrived(1, 5, 0, None);
        assert_eq!((m.count(4, 0), m.count(4, 1), m.count(5, 0)), (2, 2, 1));
        assert_eq!(m.written(4), &[(0, Some((10, 7))), (1, None)]);
        m.finish(4);
        assert_eq!(m.count(4, 0), 0);
        assert_eq!(m.requested(), Some(5));
        m.finish(5);
        assert_eq!(m.requested(), None);
    }
}
